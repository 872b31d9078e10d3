#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/data/date_parse.hpp"
#include "crmkit/lifecycle/cohort.hpp"
#include "crmkit/lifecycle/migration.hpp"
#include "crmkit/lifecycle/stage.hpp"
#include "crmkit/pipeline/steps.hpp"

namespace crmkit::pipeline {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string day_label(std::int64_t seconds) {
  return data::iso_date(data::floor_div(seconds, data::seconds_per_day));
}

std::string month_label(std::int64_t seconds) {
  const auto date = data::civil_from_days(data::floor_div(seconds, data::seconds_per_day));
  return fmt::format("{:04d}-{:02d}", date.year, date.month);
}

data::table stage_counts(const std::vector<std::int32_t>& stage,
                         const std::vector<std::string>& names,
                         const customer_predictions& predictions,
                         const customer_summaries& customers) {
  const std::size_t stages = names.size();
  std::vector<double> count(stages, 0), alive(stages, 0), value(stages, 0), revenue(stages, 0);
  for (std::size_t i = 0; i < stage.size(); ++i) {
    if (stage[i] < 0) continue;
    const auto s = static_cast<std::size_t>(stage[i]);
    count[s] += 1;
    alive[s] += predictions.p_alive[i];
    value[s] += predictions.clv[i];
    revenue[s] += customers.revenue[i];
  }
  std::vector<std::int64_t> customers_in(stages);
  std::vector<double> share(stages), mean_alive(stages), mean_value(stages);
  std::vector<std::int32_t> codes(stages);
  for (std::size_t s = 0; s < stages; ++s) {
    codes[s] = static_cast<std::int32_t>(s);
    customers_in[s] = static_cast<std::int64_t>(count[s]);
    share[s] = count[s] / static_cast<double>(stage.size());
    mean_alive[s] = count[s] > 0 ? alive[s] / count[s] : nan;
    mean_value[s] = count[s] > 0 ? value[s] / count[s] : nan;
  }
  data::table table;
  table.index_columns = 1;
  table.add_text("stage", codes, names)
      .add("customers", std::move(customers_in))
      .add("share", std::move(share))
      .add("p_alive", std::move(mean_alive))
      .add("clv", std::move(mean_value))
      .add("total_clv", std::move(value))
      .add("revenue", std::move(revenue));
  return table;
}

data::table migration_table(const lifecycle::migration_matrix& matrix,
                            const std::vector<std::string>& names, std::int64_t from) {
  std::vector<std::string> rows(names);
  rows.emplace_back("unobserved");
  std::vector<std::int32_t> codes(rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) codes[r] = static_cast<std::int32_t>(r);
  data::table table;
  table.index_columns = 1;
  table.add_text(fmt::format("stage on {}", day_label(from)), codes, rows);
  for (std::size_t to = 0; to < names.size(); ++to) {
    std::vector<std::int64_t> counts(rows.size());
    for (std::size_t r = 0; r < rows.size(); ++r) {
      counts[r] = static_cast<std::int64_t>(matrix.counts[r][to]);
    }
    table.add(names[to], std::move(counts));
  }
  return table;
}

data::table cohort_table(const lifecycle::cohort_table& cohorts) {
  std::vector<std::size_t> kept;
  for (std::size_t c = 0; c < cohorts.cohort.size(); ++c) {
    for (std::size_t k = 0; k < cohorts.offsets; ++k) {
      if (!std::isnan(cohorts.rate(c, k))) {
        kept.push_back(c);
        break;
      }
    }
  }
  std::vector<std::string> labels;
  std::vector<std::int32_t> codes;
  for (const auto c : kept) {
    codes.push_back(static_cast<std::int32_t>(labels.size()));
    labels.push_back(month_label(cohorts.cohort[c]));
  }
  data::table table;
  table.index_columns = 1;
  table.add_text("cohort", std::move(codes), std::move(labels));
  for (std::size_t k = 0; k < cohorts.offsets; ++k) {
    std::vector<double> rates;
    for (const auto c : kept) rates.push_back(cohorts.rate(c, k));
    table.add(fmt::format("{}", k), std::move(rates));
  }
  return table;
}

}  // namespace

std::optional<lifecycle_tables> lifecycle(const data::transaction_log& log,
                                          const customer_summaries& customers,
                                          const model_fits& models,
                                          const customer_predictions& predictions,
                                          const analysis_options& options,
                                          std::vector<note>& notes) {
  lifecycle::stage_options settings;
  lifecycle::alive_model model;
  model.params = models.purchases;
  model.time_unit = options.days_per_period;
  settings.model = model;
  const auto view = lifecycle::log_view::of(log);
  const std::int64_t end = customers.last_timestamp;
  const std::int64_t from =
      end - static_cast<std::int64_t>(std::llround(options.migration_periods *
                                                   options.days_per_period * data::seconds_per_day));
  try {
    // One classification at both dates: the stages at the end and the migration into them.
    const std::int64_t dates[] = {from, end};
    const auto history = customers.days
                             ? lifecycle::classify_history(*customers.days, dates, settings)
                             : lifecycle::classify_history(view, dates, settings);
    const auto migration = lifecycle::migration_between(history, 0, 1);
    const auto cohorts =
        customers.days ? lifecycle::cohort_retention(*customers.days, data::period_unit::month)
                       : lifecycle::cohort_retention(view, data::period_unit::month, end);
    for (const auto& warning : history.warnings) {
      notes.push_back({note_code::lifecycle_warning, warning.message});
    }
    lifecycle_tables out;
    for (std::size_t s = 0; s < lifecycle::stage_count; ++s) {
      out.names.emplace_back(lifecycle::stage_name(static_cast<lifecycle::stage>(s)));
    }
    out.stage.assign(customers.size(), -1);
    std::size_t at = 0;
    for (std::size_t i = 0; i < history.customer.size(); ++i) {
      while (at < customers.size() && customers.customer[at] < history.customer[i]) ++at;
      if (at < customers.size() && customers.customer[at] == history.customer[i] &&
          history.is_present(1, i)) {
        out.stage[at] = static_cast<std::int32_t>(history.at(1, i));
      }
    }
    out.stages = stage_counts(out.stage, out.names, predictions, customers);
    out.migration = migration_table(migration, out.names, from);
    out.cohort_retention = cohort_table(cohorts);
    return out;
  } catch (const invalid_input& failure) {
    notes.push_back({note_code::lifecycle_unavailable,
                     fmt::format("no lifecycle stages: {}", failure.what())});
    return std::nullopt;
  }
}

}  // namespace crmkit::pipeline
