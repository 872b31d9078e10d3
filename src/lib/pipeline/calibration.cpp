#include <algorithm>
#include <cmath>
#include <mutex>
#include <string_view>

#include <fmt/format.h>

#include "crmkit/clv/diagnostics.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/data/grouping.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/data/summary.hpp"
#include "crmkit/pipeline/steps.hpp"

namespace crmkit::pipeline {

namespace {

/**
 * Daily counts of the tracking curve: customers born (first purchase) on each day since the
 * first day, and repeat purchase days on each day (a customer's purchases on one day count once).
 * The counts are whole numbers, exact in any order of addition.
 */
struct daily_counts {
  std::vector<double> births;
  std::vector<double> repeats;
};

daily_counts count_days(const data::transaction_log& log, std::size_t days) {
  constexpr std::string_view function = "calibration_check";
  const auto checked =
      data::check_log(function, log.customer, log.timestamp, {}, data::period_unit::day, 1);
  const data::customer_groups groups(log.customer, log.timestamp, {}, checked,
                                     checked.extent.last_tick);
  daily_counts total{std::vector<double>(days, 0.0), std::vector<double>(days, 0.0)};
  std::mutex adding;
  groups.for_each_batch([&](const data::customer_batch& batch) {
    daily_counts part{std::vector<double>(days, 0.0), std::vector<double>(days, 0.0)};
    for (std::size_t k = 0; k < batch.size(); ++k) {
      const auto rows = batch.rows_of(k);
      auto day = rows.front().period();
      part.births[static_cast<std::size_t>(day)] += 1;
      for (const auto& row : rows.subspan(1)) {
        if (row.period() == day) continue;
        day = row.period();
        part.repeats[static_cast<std::size_t>(day)] += 1;
      }
    }
    const std::lock_guard lock(adding);
    for (std::size_t d = 0; d < days; ++d) {
      total.births[d] += part.births[d];
      total.repeats[d] += part.repeats[d];
    }
  });
  return total;
}

data::table tracking_curve(const data::transaction_log& log, const customer_summaries& customers,
                           const clv::bg_nbd_params& model, const analysis_options& options) {
  const auto days = static_cast<std::size_t>(customers.last_day - customers.first_day + 1);
  const auto step = static_cast<std::size_t>(options.days_per_period);
  const daily_counts counts = count_days(log, days);
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
  auto predicted = clv::expected_cumulative_transactions(model, birth, born, times);
  data::table table;
  table.index_columns = 1;
  table.add("week", std::move(week)).add("actual", std::move(actual)).add("predicted",
                                                                          std::move(predicted));
  return table;
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
  try {
    data::holdout_options split_options;
    split_options.freq = data::period_unit::day;
    split_options.freq_multiplier = options.days_per_period;
    split_options.calibration_period_end = calibration_end;
    split_options.observation_period_end = customers.last_timestamp;
    const auto split = data::calibration_and_holdout(log, split_options);
    const auto& cal = split.calibration;
    clv::fit_options settings;
    settings.tolerance = 1e-7;
    const auto fit = clv::fit_bg_nbd(cal.frequency, cal.recency, cal.T, {}, settings);
    const std::vector<double> duration{split.duration_holdout};
    const auto rows = clv::calibration_vs_holdout(fit.params, cal.frequency, cal.recency, cal.T,
                                                  split.frequency_holdout, duration,
                                                  options.calibration_max_frequency);
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
    out.cumulative_transactions = tracking_curve(log, customers, fit.params, options);
    out.calibration_period =
        static_cast<double>(data::floor_div(calibration_end, data::seconds_per_day) -
                            customers.first_day) /
        options.days_per_period;
    for (const auto& warning : fit.warnings) {
      notes.push_back({fit.converged ? note_code::fit_warning : note_code::fit_not_converged,
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
