#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "crmkit/clv/diagnostics.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/data/summary.hpp"
#include "crmkit/pipeline/steps.hpp"

namespace crmkit::pipeline {

namespace {

/** Each row's customer as an index into the (ascending) summary keys. */
std::vector<std::uint32_t> customer_indices(const data::transaction_log& log,
                                            const std::vector<std::int64_t>& keys) {
  std::vector<std::uint32_t> index(log.size());
  const std::int64_t low = keys.front();
  const auto range = static_cast<std::uint64_t>(keys.back() - low) + 1;
  if (range <= 4 * keys.size() + (std::size_t{1} << 20)) {
    std::vector<std::uint32_t> table(range);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      table[static_cast<std::size_t>(keys[i] - low)] = static_cast<std::uint32_t>(i);
    }
    parallel_for(log.size(), [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        index[i] = table[static_cast<std::size_t>(log.customer[i] - low)];
      }
    });
  } else {
    parallel_for(log.size(), [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        index[i] = static_cast<std::uint32_t>(
            std::lower_bound(keys.begin(), keys.end(), log.customer[i]) - keys.begin());
      }
    });
  }
  return index;
}

/**
 * Daily counts of the tracking curve: customers born (first purchase) on each day since the
 * first day, and repeat purchase days on each day (a customer's purchases on one day count once).
 */
struct daily_counts {
  std::vector<double> births;
  std::vector<double> repeats;
};

daily_counts count_days(const data::transaction_log& log, const customer_summaries& customers,
                        std::size_t days) {
  const auto index = customer_indices(log, customers.customer);
  const std::size_t n = customers.size();
  std::vector<std::size_t> starts(n + 1, 0);
  for (const auto i : index) ++starts[i + 1];
  for (std::size_t c = 0; c < n; ++c) starts[c + 1] += starts[c];
  std::vector<std::uint32_t> day(log.size());
  {
    std::vector<std::size_t> next(starts.begin(), starts.end() - 1);
    for (std::size_t i = 0; i < log.size(); ++i) {
      day[next[index[i]]++] = static_cast<std::uint32_t>(
          data::floor_div(log.timestamp[i], data::seconds_per_day) - customers.first_day);
    }
  }
  return parallel_reduce(
      n, daily_counts{std::vector<double>(days, 0.0), std::vector<double>(days, 0.0)},
      [&](std::size_t begin, std::size_t end) {
        daily_counts part{std::vector<double>(days, 0.0), std::vector<double>(days, 0.0)};
        for (std::size_t c = begin; c < end; ++c) {
          const auto first = day.begin() + static_cast<std::ptrdiff_t>(starts[c]);
          const auto last = day.begin() + static_cast<std::ptrdiff_t>(starts[c + 1]);
          std::sort(first, last);
          const auto unique_end = std::unique(first, last);
          part.births[*first] += 1;
          for (auto it = first + 1; it < unique_end; ++it) part.repeats[*it] += 1;
        }
        return part;
      },
      [&](daily_counts total, const daily_counts& part) {
        for (std::size_t d = 0; d < days; ++d) {
          total.births[d] += part.births[d];
          total.repeats[d] += part.repeats[d];
        }
        return total;
      },
      std::size_t{1} << 14);
}

data::table tracking_curve(const data::transaction_log& log, const customer_summaries& customers,
                           const clv::bg_nbd_params& model, const analysis_options& options) {
  const auto days = static_cast<std::size_t>(customers.last_day - customers.first_day + 1);
  const auto step = static_cast<std::size_t>(options.days_per_period);
  const daily_counts counts = count_days(log, customers, days);
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
