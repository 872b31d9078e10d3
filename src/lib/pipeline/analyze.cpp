#include "crmkit/pipeline/analyze.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/data/simulate.hpp"
#include "crmkit/pipeline/demo.hpp"
#include "crmkit/pipeline/steps.hpp"

namespace crmkit::pipeline {

std::string_view note_code_name(note_code code) noexcept { return describe::name_of(code); }

const data::table* analysis_result::find(std::string_view name) const noexcept {
  for (const auto& each : tables) {
    if (each.name == name) return &each.table;
  }
  return nullptr;
}

const data::table& analysis_result::table(std::string_view name) const {
  if (const auto* found = find(name)) return *found;
  std::string names;
  for (const auto& each : tables) names += (names.empty() ? "" : ", ") + each.name;
  throw invalid_input(fmt::format("analysis_result: no table '{}' (tables: {})", name, names));
}

namespace {


std::vector<std::int64_t> as_integers(const std::vector<std::int32_t>& values) {
  return {values.begin(), values.end()};
}

/**
 * The customers table from the steps' outputs: each column moved out of an rvalue argument,
 * copied from an lvalue one (`std::forward<A>(a).member` is an rvalue only when `a` is).
 */
template <class Summaries, class Predictions, class Segments, class Rfm, class Tiers>
data::table build_customer_table(Summaries&& customers, Predictions&& predictions,
                                 Segments&& segments, Rfm&& rfm, Tiers&& tiers,
                                 const lifecycle_tables* stages, const analysis_options& options) {
  data::table table;
  table.index_columns = 1;
  if (customers.labels.empty()) {
    table.add("customer_id", std::forward<Summaries>(customers).customer);
  } else {
    std::vector<std::int32_t> codes(customers.customer.begin(), customers.customer.end());
    table.add_text("customer_id", std::move(codes), std::forward<Summaries>(customers).labels);
  }
  table.add("frequency", std::forward<Summaries>(customers).frequency)
      .add("recency", std::forward<Summaries>(customers).recency)
      .add("T", std::forward<Summaries>(customers).T)
      .add("monetary_value", std::forward<Summaries>(customers).monetary_value)
      .add("purchases", std::forward<Summaries>(customers).purchases)
      .add("weeks_since_last", std::forward<Summaries>(customers).periods_since_last)
      .add("mean_spend", std::forward<Summaries>(customers).mean_spend)
      .add("revenue", std::forward<Summaries>(customers).revenue)
      .add("p_alive", std::forward<Predictions>(predictions).p_alive)
      .add(fmt::format("expected_purchases_{:g}w", options.prediction_periods),
           std::forward<Predictions>(predictions).expected_purchases)
      .add("expected_spend", std::forward<Predictions>(predictions).expected_spend)
      .add("clv", std::forward<Predictions>(predictions).clv);
  if (!predictions.clv_lower.empty()) {
    table.add("clv_lower", std::forward<Predictions>(predictions).clv_lower)
        .add("clv_upper", std::forward<Predictions>(predictions).clv_upper);
  }
  table
      .add_text("segment", std::forward<Segments>(segments).segment,
                std::forward<Segments>(segments).names)
      .add("r_score", as_integers(rfm.r_score))
      .add("f_score", as_integers(rfm.f_score))
      .add("m_score", as_integers(rfm.m_score))
      .add_text("rfm_segment", std::forward<Rfm>(rfm).segment, std::forward<Rfm>(rfm).names)
      .add_text("value_tier", std::forward<Tiers>(tiers).tier, {"A", "B", "C"})
      .add_text("value_level", std::forward<Tiers>(tiers).level, {"high", "medium", "low"});
  if (stages != nullptr) table.add_text("stage", stages->stage, stages->names);
  return table;
}

}  // namespace

data::table customer_table(customer_summaries&& customers, customer_predictions&& predictions,
                           kmeans_segments&& segments, rfm_assignment&& rfm,
                           tier_assignment&& tiers, const lifecycle_tables* stages,
                           const analysis_options& options) {
  return build_customer_table(std::move(customers), std::move(predictions), std::move(segments),
                              std::move(rfm), std::move(tiers), stages, options);
}

data::table customer_table(const customer_summaries& customers,
                           const customer_predictions& predictions,
                           const kmeans_segments& segments, const rfm_assignment& rfm,
                           const tier_assignment& tiers, const lifecycle_tables* stages,
                           const analysis_options& options) {
  return build_customer_table(customers, predictions, segments, rfm, tiers, stages, options);
}

data::table early_warning(const data::table& customers, const customer_summaries& summaries,
                          const analysis_options& options) {
  const auto& purchases = customers.get<std::vector<double>>("purchases");
  const auto& p_alive = customers.get<std::vector<double>>("p_alive");
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < purchases.size(); ++i) {
    if (purchases[i] >= static_cast<double>(options.early_warning_min_purchases) &&
        p_alive[i] < options.at_risk_p_alive && p_alive[i] >= options.gone_p_alive) {
      rows.push_back(i);
    }
  }
  const auto& revenue = customers.get<std::vector<double>>("revenue");
  std::vector<double> at_risk(purchases.size(), 0.0);
  for (const auto i : rows) at_risk[i] = revenue[i] * (1.0 - p_alive[i]);
  std::stable_sort(rows.begin(), rows.end(),
                   [&](std::size_t a, std::size_t b) { return at_risk[a] > at_risk[b]; });
  data::table table = data::take_rows(customers, rows,
                                      {"customer_id", "rfm_segment", "segment", "value_tier",
                                       "purchases", "revenue", "weeks_since_last", "p_alive",
                                       "clv"});
  table.index_columns = 1;
  const auto& since = table.get<std::vector<double>>("weeks_since_last");
  data::date_values last;
  for (const double periods : since) {
    last.days.push_back(summaries.last_day -
                        static_cast<std::int64_t>(std::llround(periods * options.days_per_period)));
  }
  table.columns.insert(table.columns.begin() + 6, {"last_purchase", std::move(last)});
  std::vector<double> value;
  for (const auto i : rows) value.push_back(at_risk[i]);
  table.add("value_at_risk", std::move(value));
  return table;
}

data::table top_customers(const data::table& customers, const analysis_options& options) {
  const auto& clv = customers.get<std::vector<double>>("clv");
  std::vector<std::size_t> order(clv.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const std::size_t count = std::min(options.top_customers, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count), order.end(),
                    [&](std::size_t a, std::size_t b) {
                      return clv[a] > clv[b] || (clv[a] == clv[b] && a < b);
                    });
  order.resize(count);
  return data::take_rows(customers, order);
}

namespace {

/** The headline numbers of the customers and predictions (the tables' ones left as they are). */
headline_numbers customer_headline(const customer_summaries& customers,
                                   const customer_predictions& predictions,
                                   const analysis_options& options) {
  headline_numbers out;
  const std::size_t n = customers.size();
  out.customers = n;
  out.transactions = customers.transactions;
  out.first_day = customers.first_day;
  out.last_day = customers.last_day;
  out.revenue = customers.total_amount;
  std::size_t repeat = 0, active = 0;
  for (std::size_t i = 0; i < n; ++i) {
    repeat += customers.frequency[i] > 0 ? 1 : 0;
    active += predictions.p_alive[i] >= options.at_risk_p_alive ? 1 : 0;
  }
  out.repeat_share = static_cast<double>(repeat) / static_cast<double>(n);
  out.active_share = static_cast<double>(active) / static_cast<double>(n);
  out.expected_purchases = std::accumulate(predictions.expected_purchases.begin(),
                                           predictions.expected_purchases.end(), 0.0);
  out.expected_value = std::accumulate(predictions.clv.begin(), predictions.clv.end(), 0.0);
  if (out.expected_value > 0) {
    std::vector<double> sorted(predictions.clv);
    const std::size_t top = std::max<std::size_t>(1, n / 5);
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(top - 1),
                     sorted.end(), std::greater<>());
    std::sort(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(top), std::greater<>());
    out.top_fifth_value_share =
        std::accumulate(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(top), 0.0) /
        out.expected_value;
  }
  return out;
}

/** Adds the headline numbers read from the finished tables. */
void add_table_headline(headline_numbers& out, const std::vector<named_table>& tables) {
  const auto table = [&](std::string_view name) -> const data::table* {
    for (const auto& each : tables) {
      if (each.name == name) return &each.table;
    }
    return nullptr;
  };
  if (const auto* tiers = table("value_tiers")) {
    out.tier_a_customer_share = tiers->get<std::vector<double>>("customer_share").front();
  }
  if (const auto* warning = table("early_warning")) out.slipping_away = warning->rows();
  if (const auto* overall = table("nps_overall")) {
    out.nps = overall->get<std::vector<double>>("nps").front();
    out.nps_lower = overall->get<std::vector<double>>("lower").front();
    out.nps_upper = overall->get<std::vector<double>>("upper").front();
    out.nps_answers = static_cast<std::size_t>(overall->get<std::vector<std::int64_t>>("n").front());
  }
}

}  // namespace

headline_numbers headline(const customer_summaries& customers,
                          const customer_predictions& predictions,
                          const std::vector<named_table>& tables,
                          const analysis_options& options) {
  headline_numbers out = customer_headline(customers, predictions, options);
  add_table_headline(out, tables);
  return out;
}

analysis_result analyze(const data::transaction_log& log, const survey_answers* survey,
                        const analysis_options& options) {
  builtin_rfm_rule_set(options.rfm_rules);  // an unknown name fails before any work
  analysis_result result;
  auto& notes = result.notes;
  auto customers = summarize_customers(log, options);
  const auto models = fit_models(customers, options, notes);
  auto predictions = predict_customers(customers, models, options);
  clv_intervals(customers, models, predictions, options, notes);
  // The steps after the CLV intervals are independent of each other: they run side by side as
  // whole tasks, the longest first (each worker then takes the next), each keeping its own notes
  // and exception. A parallel loop inside a running task is serial with the same fixed chunks,
  // so no table depends on the thread count; notes are appended, and the first exception
  // rethrown, in step order. (The CLV intervals, the longest step, run before them on every
  // thread: alongside the others they would hold their working memory at the peak.)
  std::optional<calibration_tables> calibration;
  std::optional<kmeans_segments> segments;
  std::optional<rfm_assignment> rfm;
  std::optional<tier_assignment> tiers;
  std::optional<lifecycle_tables> stages;
  data::table repeat;
  enum step : std::size_t { calibrate, cluster, score, tier, stage, repeats, headlines, steps };
  std::array<std::vector<note>, steps> step_notes;
  std::array<std::exception_ptr, steps> failures;
  constexpr std::array<step, steps> longest_first{stage, calibrate, cluster, score,
                                                  repeats, tier, headlines};
  parallel_chunks(steps, 1, [&](std::size_t task, std::size_t, std::size_t) {
    const step which = longest_first[task];
    auto& own = step_notes[which];
    try {
      switch (which) {
        case calibrate: calibration = calibration_check(log, customers, options, own); break;
        case cluster: segments.emplace(segment_customers(customers, predictions, options, own)); break;
        case score: rfm.emplace(rfm_segments(customers, predictions, options)); break;
        case tier: tiers.emplace(value_tiers(customers, predictions, options)); break;
        case stage: stages = lifecycle(log, customers, models, predictions, options, own); break;
        case repeats: repeat = repeat_purchases(customers, models, options); break;
        case headlines: result.headline = customer_headline(customers, predictions, options); break;
        case steps: break;
      }
    } catch (...) {
      failures[which] = std::current_exception();
    }
  });
  for (const auto& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
  for (auto& each : step_notes) notes.insert(notes.end(), each.begin(), each.end());
  customers.days.reset();  // the shared grouping is no longer needed: free it before the tables
  auto quality = std::move(segments->quality);
  auto profiles = std::move(segments->profiles);
  auto rfm_table = std::move(rfm->table);
  auto tier_table = std::move(tiers->table);
  // The per-customer columns move into the customers table (the summaries keep their scalars).
  auto table = customer_table(std::move(customers), std::move(predictions), std::move(*segments),
                              std::move(*rfm), std::move(*tiers), stages ? &*stages : nullptr,
                              options);
  // The tables read from the customers table are independent of each other, as above; only the
  // survey's adds notes, and parallel_chunks rethrows the first failure in task order.
  data::table warning, top;
  std::vector<named_table> answers;
  parallel_chunks(survey != nullptr ? 3 : 2, 1, [&](std::size_t task, std::size_t, std::size_t) {
    switch (task) {
      case 0: warning = early_warning(table, customers, options); break;
      case 1: top = top_customers(table, options); break;
      default: answers = survey_tables(*survey, table, options, notes); break;
    }
  });

  auto& tables = result.tables;
  tables.push_back({"customers", std::move(table)});
  tables.push_back({"model_parameters", model_parameters(models)});
  if (calibration) {
    tables.push_back({"calibration_vs_holdout", std::move(calibration->calibration_vs_holdout)});
    tables.push_back({"cumulative_transactions", std::move(calibration->cumulative_transactions)});
    result.calibration_period = calibration->calibration_period;
  }
  tables.push_back({"kmeans_quality", std::move(quality)});
  tables.push_back({"segments", std::move(profiles)});
  tables.push_back({"rfm_segments", std::move(rfm_table)});
  tables.push_back({"value_tiers", std::move(tier_table)});
  tables.push_back({"early_warning", std::move(warning)});
  if (stages) {
    tables.push_back({"lifecycle_stages", std::move(stages->stages)});
    tables.push_back({"stage_migration", std::move(stages->migration)});
    tables.push_back({"cohort_retention", std::move(stages->cohort_retention)});
  }
  tables.push_back({"repeat_purchases", std::move(repeat)});
  tables.push_back({"top_customers", std::move(top)});
  for (auto& each : answers) tables.push_back(std::move(each));
  add_table_headline(result.headline, tables);
  const auto& g = models.spend;
  result.transaction_params = models.purchases;
  result.transaction_log_likelihood = models.purchase_fit.log_likelihood;
  result.transaction_fit = models.purchase_fit;
  result.gamma_gamma_fit = models.spend_fit;
  result.gamma_gamma_p = g.p;
  result.gamma_gamma_q = g.q;
  result.gamma_gamma_v = g.v;
  return result;
}

data::transaction_log demo_log(const demo_options& options) {
  data::simulation_options settings;
  settings.customers = options.customers;
  settings.seed = options.seed;
  settings.acquisition_periods = options.acquisition_weeks;
  settings.horizon = options.horizon_weeks;
  const auto simulated = data::simulate_transactions(settings);
  data::transaction_log log;
  log.customer = simulated.customer;
  log.amount = simulated.amount;
  log.timestamp.resize(simulated.size());
  const std::int64_t origin = options.start_day * data::seconds_per_day;
  constexpr double seconds_per_week = 7.0 * 86'400;
  for (std::size_t i = 0; i < simulated.size(); ++i) {
    log.timestamp[i] =
        origin + static_cast<std::int64_t>(std::floor(simulated.time[i] * seconds_per_week));
  }
  return log;
}

}  // namespace crmkit::pipeline
