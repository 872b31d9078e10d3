#include <algorithm>
#include <cmath>
#include <memory>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "crmkit/clv/diagnostics.hpp"
#include "crmkit/clv/pareto_nbd.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/data/grouping.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/pipeline/steps.hpp"
#include "transaction_fit.hpp"
#include "whole_periods.hpp"

namespace crmkit::pipeline {

namespace {

/**
 * Daily counts of the tracking curve: customers born (first purchase) on each day since the
 * first day, and repeat purchase days on each day (a customer's purchases on one day count once).
 */
struct daily_counts {
  std::vector<double> births;
  std::vector<double> repeats;
};

daily_counts count_days(const data::customer_periods& grouped, std::size_t days) {
  std::vector<std::uint32_t> births(days, 0), repeats(days, 0);
  for (std::size_t j = 0; j < grouped.customers(); ++j) {
    const auto periods = grouped.periods(j);
    ++births[periods.front()];
    for (const auto day : periods.subspan(1)) ++repeats[day];
  }
  return {{births.begin(), births.end()}, {repeats.begin(), repeats.end()}};
}

data::table tracking_curve(const data::customer_periods& grouped,
                           const customer_summaries& customers,
                           const clv::transaction_model_params& model,
                           const analysis_options& options) {
  const auto days = static_cast<std::size_t>(customers.last_day - customers.first_day + 1);
  const auto step = static_cast<std::size_t>(options.days_per_period);
  const daily_counts counts = count_days(grouped, days);
  std::vector<double> birth, born;
  for (std::size_t d = 0; d < days; ++d) {
    if (counts.births[d] > 0) {
      birth.push_back(static_cast<double>(d) / options.days_per_period);
      born.push_back(counts.births[d]);
    }
  }
  std::vector<std::int64_t> week;
  std::vector<double> times, actual;
  double running = 0;
  std::size_t counted = 0;
  for (std::size_t end = step; end <= days; end += step) {
    for (; counted < end; ++counted) running += counts.repeats[counted];
    week.push_back(static_cast<std::int64_t>(week.size()));
    times.push_back(static_cast<double>(end) / options.days_per_period);
    actual.push_back(running);
  }
  auto predicted = std::visit(
      [&](const auto& params) {
        return clv::expected_cumulative_transactions(params, birth, born, times);
      },
      model);
  data::table table;
  table.index_columns = 1;
  table.add("week", std::move(week)).add("actual", std::move(actual)).add("predicted",
                                                                          std::move(predicted));
  return table;
}

/** The summaries' grouping, or (summaries built without one) the log grouped here. */
std::shared_ptr<const data::customer_periods> grouping_of(const data::transaction_log& log,
                                                          const customer_summaries& customers) {
  if (customers.days) return customers.days;
  const auto checked =
      data::check_log("calibration_check", log.customer, log.timestamp, {}, data::period_unit::day, 1);
  return std::make_shared<const data::customer_periods>(
      log.customer, log.timestamp, std::span<const double>{}, checked,
      checked.calendar.last_tick(checked.calendar.period(checked.extent.last_tick)));
}

/** The calibration part in the models' units: whole periods divided by days_per_period. */
struct calibration_columns {
  std::vector<double> frequency, recency, T, frequency_holdout;
};

calibration_columns scaled(const detail::whole_period_summaries& whole, double days_per_period) {
  calibration_columns out;
  const std::size_t n = whole.size();
  for (auto* column : {&out.frequency, &out.recency, &out.T, &out.frequency_holdout}) {
    *column = memory::large_vector<double>(n);
  }
  for (std::size_t i = 0; i < n; ++i) {
    out.frequency[i] = static_cast<double>(whole.frequency[i]);
    out.recency[i] = static_cast<double>(whole.recency[i]) / days_per_period;
    out.T[i] = static_cast<double>(whole.age[i]) / days_per_period;
    out.frequency_holdout[i] = static_cast<double>(whole.later[i]);
  }
  return out;
}

}  // namespace

std::optional<calibration_tables> calibration_check(const data::transaction_log& log,
                                                    const customer_summaries& customers,
                                                    const analysis_options& options,
                                                    std::vector<note>& notes) {
  const double span = static_cast<double>(customers.last_day - customers.first_day) /
                      options.days_per_period;
  const double holdout = std::min(options.max_holdout_periods, std::floor(span / 3));
  if (span - holdout < options.min_calibration_periods || holdout < options.min_holdout_periods) {
    notes.push_back(
        {note_code::log_too_short_for_calibration,
         fmt::format("the log covers {:.1f} periods of {:g} days: too short for a "
                     "calibration/holdout check (needs {:g} or more)",
                     span, options.days_per_period,
                     options.min_calibration_periods + options.min_holdout_periods)});
    return std::nullopt;
  }
  const auto holdout_seconds = static_cast<std::int64_t>(
      std::llround(holdout * options.days_per_period * data::seconds_per_day));
  const std::int64_t calibration_end = customers.last_timestamp - holdout_seconds;
  // Days since the first day: the grouping's relative periods.
  const std::int64_t calibration_day =
      data::floor_div(calibration_end, data::seconds_per_day) - customers.first_day;
  const std::int64_t end_day = customers.last_day - customers.first_day;
  try {
    if (calibration_day < 0 || calibration_day >= end_day) {
      throw invalid_input(fmt::format(
          "calibration_check: the calibration end {} leaves no calibration or no holdout day "
          "(the log runs from {} to {})",
          data::iso_date(calibration_day + customers.first_day),
          data::iso_date(customers.first_day), data::iso_date(customers.last_day)));
    }
    const auto grouped = grouping_of(log, customers);
    const auto whole = detail::summaries_at(*grouped, calibration_day);
    const auto cal = scaled(whole, options.days_per_period);
    clv::fit_options settings;
    settings.tolerance = 1e-7;
    const auto fit = detail::fit_transaction_model(
        options.transaction_model,
        detail::fitting_patterns(detail::fit_function(options.transaction_model), whole,
                                 options.days_per_period, cal.frequency, cal.recency, cal.T),
        settings, whole.size());
    const std::vector<double> duration{static_cast<double>(end_day - calibration_day) /
                                       options.days_per_period};
    const auto rows = std::visit(
        [&](const auto& params) {
          return clv::calibration_vs_holdout(params, cal.frequency, cal.recency, cal.T,
                                             cal.frequency_holdout, duration,
                                             options.calibration_max_frequency);
        },
        fit.params);
    calibration_tables out;
    std::vector<std::int64_t> frequency, count;
    std::vector<double> actual, predicted;
    for (const auto& row : rows) {
      frequency.push_back(static_cast<std::int64_t>(row.frequency));
      count.push_back(static_cast<std::int64_t>(row.customers));
      actual.push_back(row.actual_holdout);
      predicted.push_back(row.predicted_holdout);
    }
    out.calibration_vs_holdout.index_columns = 1;
    out.calibration_vs_holdout.add("frequency_cal", std::move(frequency))
        .add("customers", std::move(count))
        .add("frequency_holdout", std::move(actual))
        .add("model_predictions", std::move(predicted));
    out.cumulative_transactions = tracking_curve(*grouped, customers, fit.params, options);
    out.calibration_period = static_cast<double>(calibration_day) / options.days_per_period;
    for (const auto& warning : fit.warnings) {
      notes.push_back({fit.fit.converged ? note_code::fit_warning : note_code::fit_not_converged,
                       "calibration: " + warning.message});
    }
    return out;
  } catch (const error& failure) {
    notes.push_back({note_code::calibration_failed,
                     fmt::format("no calibration/holdout check: {}", failure.what())});
    return std::nullopt;
  }
}

}  // namespace crmkit::pipeline
