#include "crmkit/pipeline/calibration.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <cmath>
#include <numeric>
#include <string_view>
#include <tuple>
#include <variant>

#include <fmt/format.h>

#include "crmkit/clv/diagnostics.hpp"
#include "crmkit/clv/pareto_nbd.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/exact_sum.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/radix_sort.hpp"
#include "crmkit/data/period.hpp"
#include "transaction_fit.hpp"
#include "whole_periods.hpp"

namespace crmkit::pipeline {

namespace {

/** One histogram row: (frequency, recency, age) and the customers' count and holdout sum. */
struct histogram_row {
  std::int64_t frequency, recency, age, customers, holdout;

  [[nodiscard]] auto key() const noexcept { return std::tie(frequency, recency, age); }
};

/**
 * Appends to `out` the rows `row(i)`, i < n, sorted by (frequency, recency, age) with equal rows
 * merged (counts and holdout sums added). Rows must be non-negative.
 */
template <class Row>
void add_compressed(std::size_t n, Row&& row, calibration_counts& out) {
  std::uint64_t largest_frequency = 0, largest_recency = 0, largest_age = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const histogram_row r = row(i);
    largest_frequency = std::max(largest_frequency, static_cast<std::uint64_t>(r.frequency));
    largest_recency = std::max(largest_recency, static_cast<std::uint64_t>(r.recency));
    largest_age = std::max(largest_age, static_cast<std::uint64_t>(r.age));
  }
  const int age_bits = std::bit_width(largest_age), recency_bits = std::bit_width(largest_recency);
  const auto emit = [&](const auto& order) {
    bool open = false;
    histogram_row last{};
    const auto flush = [&] {
      if (!open) return;
      out.frequency.push_back(last.frequency);
      out.recency.push_back(last.recency);
      out.age.push_back(last.age);
      out.customers.push_back(last.customers);
      out.holdout.push_back(last.holdout);
    };
    for (const auto i : order) {
      const histogram_row r = row(i);
      if (open && r.key() == last.key()) {
        last.customers += r.customers;
        last.holdout += r.holdout;
        continue;
      }
      flush();
      last = r;
      open = true;
    }
    flush();
  };
  if (n < std::numeric_limits<std::uint32_t>::max() &&
      std::bit_width(largest_frequency) + recency_bits + age_bits <= 64) {
    radix_sorter sorter(n);
    // A field of width 0 is 0: its shift (up to 64) is skipped, never taken.
    const auto shifted = [](std::int64_t value, int bits) {
      return value == 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(value) << bits;
    };
    sorter.sort_by([&](std::size_t i) {
      const histogram_row r = row(i);
      return shifted(r.frequency, recency_bits + age_bits) | shifted(r.recency, age_bits) |
             static_cast<std::uint64_t>(r.age);
    });
    emit(sorter.order());
  } else {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return row(a).key() < row(b).key(); });
    emit(order);
  }
}

/** How count_calibration packs a customer's histogram row and holdout days into 64 bits. */
struct packed_rows {
  int field_bits = 0;  ///< bits of frequency, recency and age (each at most the end period)
  int later_bits = 0;  ///< bits of the holdout purchase periods

  [[nodiscard]] bool fits() const noexcept { return 3 * field_bits + later_bits <= 64; }

  /** Bits (frequency, recency, age, later) from the highest down: sorted keys are sorted rows. */
  [[nodiscard]] std::uint64_t key(const detail::whole_period_summary& row) const noexcept {
    if (field_bits == 0) return row.later;  // frequency, recency and age are all 0
    const int age_shift = later_bits, recency_shift = age_shift + field_bits;
    return (std::uint64_t{row.frequency} << (recency_shift + field_bits)) |
           (std::uint64_t{row.recency} << recency_shift) |
           (std::uint64_t{row.age} << age_shift) | row.later;
  }

  /** The key's (frequency, recency, age) as one number. */
  [[nodiscard]] std::uint64_t row_of(std::uint64_t key) const noexcept {
    return field_bits == 0 ? 0 : key >> later_bits;
  }

  [[nodiscard]] std::int64_t later_of(std::uint64_t key) const noexcept {
    return later_bits == 0 ? 0 : static_cast<std::int64_t>(key & (~std::uint64_t{0} >> (64 - later_bits)));
  }
};

/**
 * add_compressed of the customers' packed keys (customers 1, holdout `later`): the keys alone
 * are sorted, so equal histogram rows are adjacent runs, with their holdout periods in the low
 * bits (no gather of the customers' columns in sorted order).
 */
void add_packed_histogram(std::span<const std::uint64_t> customers, const packed_rows& packing,
                          calibration_counts& out) {
  const std::size_t n = customers.size();
  if (n == 0) return;
  radix_sorter sorter(n);
  sorter.sort_by([&](std::size_t i) { return customers[i]; });
  const auto keys = sorter.sorted_keys();
  std::size_t rows = 0;
  for (std::size_t k = 0; k < n; ++k) {
    rows += k == 0 || packing.row_of(keys[k]) != packing.row_of(keys[k - 1]);
  }
  const std::size_t first = out.frequency.size();
  for (auto* column : {&out.frequency, &out.recency, &out.age, &out.customers, &out.holdout}) {
    column->resize(first + rows);
  }
  const std::uint64_t mask = (std::uint64_t{1} << packing.field_bits) - 1;
  std::size_t at = first;
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint64_t row = packing.row_of(keys[k]);
    if (k == 0 || row != packing.row_of(keys[k - 1])) {
      out.frequency[at] = static_cast<std::int64_t>((row >> packing.field_bits) >> packing.field_bits);
      out.recency[at] = static_cast<std::int64_t>((row >> packing.field_bits) & mask);
      out.age[at] = static_cast<std::int64_t>(row & mask);
      ++at;
    }
    out.customers[at - 1] += 1;
    out.holdout[at - 1] += packing.later_of(keys[k]);
  }
}

std::size_t days_of(const calibration_split& split) {
  return static_cast<std::size_t>(split.last_day - split.first_day + 1);
}

calibration_counts no_customers(const calibration_split& split) {
  calibration_counts out;
  out.births.assign(days_of(split), 0);
  out.repeats.assign(days_of(split), 0);
  return out;
}

/** invalid_input unless `counts` is well formed for `split` (`what` names it in the message). */
void check_counts(const calibration_counts& counts, const calibration_split& split,
                  std::string_view function, std::string_view what) {
  const std::size_t rows = counts.frequency.size();
  const std::tuple<std::string_view, const std::vector<std::int64_t>*> columns[] = {
      {"frequency", &counts.frequency}, {"recency", &counts.recency},
      {"age", &counts.age},             {"customers", &counts.customers},
      {"holdout", &counts.holdout},     {"births", &counts.births},
      {"repeats", &counts.repeats}};
  for (const auto& [name, column] : columns) {
    const bool daily = name == "births" || name == "repeats";
    const std::size_t wanted = daily ? days_of(split) : rows;
    if (column->size() != wanted) {
      throw invalid_input(fmt::format("{}: {} has {} {} in column '{}', expected {}{}", function,
                                      what, column->size(), daily ? "days" : "rows", name, wanted,
                                      daily ? " (one per day of the split)" : ""));
    }
    const auto negative = std::find_if(column->begin(), column->end(),
                                       [](std::int64_t value) { return value < 0; });
    if (negative != column->end()) {
      throw invalid_input(fmt::format("{}: {} has the negative count {} in column '{}' at row {}",
                                      function, what, *negative, name,
                                      negative - column->begin()));
    }
  }
}

/** cumulative_transactions from the merged daily counts (see calibration_tables_of). */
data::table tracking_curve(const calibration_counts& counts,
                           const clv::transaction_model_params& model,
                           const analysis_options& options) {
  const std::size_t days = counts.births.size();
  const auto step = static_cast<std::size_t>(options.days_per_period);
  std::vector<double> birth, born;
  for (std::size_t d = 0; d < days; ++d) {
    if (counts.births[d] > 0) {
      birth.push_back(static_cast<double>(d) / options.days_per_period);
      born.push_back(static_cast<double>(counts.births[d]));
    }
  }
  std::vector<std::int64_t> week;
  std::vector<double> times, actual;
  std::int64_t running = 0;
  std::size_t counted = 0;
  for (std::size_t end = step; end <= days; end += step) {
    for (; counted < end; ++counted) running += counts.repeats[counted];
    week.push_back(static_cast<std::int64_t>(week.size()));
    times.push_back(static_cast<double>(end) / options.days_per_period);
    actual.push_back(static_cast<double>(running));
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

/** calibration_vs_holdout from the histogram and the refitted model (see calibration_tables_of). */
data::table holdout_table(const calibration_counts& counts,
                          const clv::transaction_model_params& model, double duration,
                          const analysis_options& options) {
  const std::size_t rows = counts.frequency.size();
  const double per = options.days_per_period;
  std::vector<double> frequency_cal(rows), recency_cal(rows), age_cal(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    frequency_cal[i] = static_cast<double>(counts.frequency[i]);
    recency_cal[i] = static_cast<double>(counts.recency[i]) / per;
    age_cal[i] = static_cast<double>(counts.age[i]) / per;
  }
  // Whole-day histories share few (x, T) pairs: the forecast then evaluates E[Y | alive, x, T]
  // once per pair, bit-identical to the scalar CET. Were the ages too spread to share (judged as
  // the forecast judges), its interpolation would not be: those stay scalar.
  const bool grouped = clv::detail::merging_pays(frequency_cal, age_cal);
  std::vector<double> predicted(rows);
  std::visit(
      [&](const auto& params) {
        if (grouped) {
          const clv::customer_forecast forecast("calibration_vs_holdout", params, frequency_cal,
                                                recency_cal, age_cal);
          predicted = forecast.expected_purchases(duration);
          return;
        }
        parallel_for(rows, [&](std::size_t begin, std::size_t end) {
          for (std::size_t i = begin; i < end; ++i) {
            predicted[i] = clv::conditional_expected_number_of_purchases_up_to_time(
                params, duration, frequency_cal[i], recency_cal[i], age_cal[i]);
          }
        });
      },
      model);
  const std::size_t groups = options.calibration_max_frequency + 1;
  std::vector<std::int64_t> customers(groups, 0), holdout(groups, 0);
  std::vector<full_range_sum> expected(groups);
  for (std::size_t i = 0; i < rows; ++i) {
    if (!std::isfinite(predicted[i])) {
      throw numerical_error(fmt::format(
          "calibration_vs_holdout: the expected holdout purchases of the customers with "
          "frequency {}, recency {} and age {} days are {}",
          counts.frequency[i], counts.recency[i], counts.age[i], predicted[i]));
    }
    const auto k = std::min(static_cast<std::size_t>(counts.frequency[i]), groups - 1);
    customers[k] += counts.customers[i];
    holdout[k] += counts.holdout[i];
    expected[k].add_product(predicted[i], counts.customers[i]);
  }
  std::vector<std::int64_t> frequency, count;
  std::vector<double> actual, model_predictions;
  for (std::size_t k = 0; k < groups; ++k) {
    if (customers[k] == 0) continue;
    const auto n = static_cast<double>(customers[k]);
    frequency.push_back(static_cast<std::int64_t>(k));
    count.push_back(customers[k]);
    actual.push_back(static_cast<double>(holdout[k]) / n);
    model_predictions.push_back(expected[k].value() / n);
  }
  data::table table;
  table.index_columns = 1;
  table.add("frequency_cal", std::move(frequency))
      .add("customers", std::move(count))
      .add("frequency_holdout", std::move(actual))
      .add("model_predictions", std::move(model_predictions));
  return table;
}

}  // namespace

std::optional<calibration_split> split_for_calibration(std::int64_t first_day,
                                                       std::int64_t last_day,
                                                       std::int64_t last_timestamp,
                                                       const analysis_options& options,
                                                       std::vector<note>& notes) {
  const double span = static_cast<double>(last_day - first_day) / options.days_per_period;
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
  const std::int64_t calibration_end = last_timestamp - holdout_seconds;
  const std::int64_t calibration_day =
      data::floor_div(calibration_end, data::seconds_per_day) - first_day;
  if (calibration_day < 0 || calibration_day >= last_day - first_day) {
    notes.push_back(
        {note_code::calibration_failed,
         fmt::format("no calibration/holdout check: calibration_check: the calibration end {} "
                     "leaves no calibration or no holdout day (the log runs from {} to {})",
                     data::iso_date(calibration_day + first_day), data::iso_date(first_day),
                     data::iso_date(last_day))});
    return std::nullopt;
  }
  return calibration_split{first_day, last_day, calibration_day};
}

calibration_counts count_calibration(const data::customer_periods& grouped,
                                     const calibration_split& split) {
  constexpr std::string_view function = "count_calibration";
  if (grouped.log().calendar.unit != data::period_unit::day) {
    throw invalid_input(fmt::format("{}: the log must be grouped by day", function));
  }
  const std::size_t days = days_of(split);
  calibration_counts out = no_customers(split);
  if (grouped.customers() == 0) return out;
  const std::int64_t offset = grouped.log().first_period - split.first_day;
  const auto outside = [&](std::size_t j, std::int64_t day) {
    return invalid_input(fmt::format("{}: customer {} bought on {}, outside the split's days {} to {}",
                                     function, grouped.keys()[j], data::iso_date(day),
                                     data::iso_date(split.first_day),
                                     data::iso_date(split.last_day)));
  };
  if (offset < 0) {
    throw invalid_input(fmt::format("{}: the log's first purchase day {} is before the split's "
                                    "first day {}",
                                    function, data::iso_date(grouped.log().first_period),
                                    data::iso_date(split.first_day)));
  }
  const std::int64_t end = split.calibration_day - offset;
  // frequency, recency and age are at most `end`; the holdout periods at most the days after it.
  const auto bits = [](std::int64_t largest) {
    return largest <= 0 ? 0 : static_cast<int>(std::bit_width(static_cast<std::uint64_t>(largest)));
  };
  const packed_rows packing{
      bits(end), bits(static_cast<std::int64_t>(days) - 1 - offset - std::max<std::int64_t>(end, 0))};
  const bool packed = end >= 0 && packing.fits() &&
                      grouped.customers() < std::numeric_limits<std::uint32_t>::max();
  auto keys = memory::large_vector<std::uint64_t>(packed ? grouped.customers() : 0);
  std::size_t kept = 0;
  for (std::size_t j = 0; j < grouped.customers(); ++j) {
    const auto periods = grouped.periods(j);
    if (periods.back() + offset >= static_cast<std::int64_t>(days)) {
      throw outside(j, split.first_day + periods.back() + offset);
    }
    ++out.births[static_cast<std::size_t>(periods.front() + offset)];
    for (const auto day : periods.subspan(1)) ++out.repeats[static_cast<std::size_t>(day + offset)];
    if (packed && periods.front() <= end) {
      keys[kept++] = packing.key(detail::summary_at(periods, static_cast<std::uint32_t>(end)));
    }
  }
  if (end < 0) return out;
  if (packed) {
    add_packed_histogram(std::span<const std::uint64_t>(keys).first(kept), packing, out);
    return out;
  }
  const auto whole = detail::summaries_at(grouped, end);
  add_compressed(
      whole.size(),
      [&](std::size_t i) {
        return histogram_row{whole.frequency[i], whole.recency[i], whole.age[i], 1,
                             whole.later[i]};
      },
      out);
  return out;
}

calibration_counts count_calibration(const data::transaction_log& log,
                                     const calibration_split& split) {
  if (log.size() == 0) return no_customers(split);
  const auto checked = data::check_log("calibration_check", log.customer, log.timestamp, {},
                                       data::period_unit::day, 1);
  const data::customer_periods grouped(
      log.customer, log.timestamp, std::span<const double>{}, checked,
      checked.calendar.last_tick(checked.calendar.period(checked.extent.last_tick)));
  return count_calibration(grouped, split);
}

calibration_counts merge_calibration_counts(std::span<const calibration_counts> parts,
                                            const calibration_split& split) {
  std::vector<histogram_row> rows;
  calibration_counts out = no_customers(split);
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const auto& part = parts[p];
    check_counts(part, split, "merge_calibration_counts", fmt::format("part {}", p));
    for (std::size_t i = 0; i < part.frequency.size(); ++i) {
      rows.push_back({part.frequency[i], part.recency[i], part.age[i], part.customers[i],
                      part.holdout[i]});
    }
    for (std::size_t d = 0; d < out.births.size(); ++d) {
      out.births[d] += part.births[d];
      out.repeats[d] += part.repeats[d];
    }
  }
  add_compressed(rows.size(), [&](std::size_t i) { return rows[i]; }, out);
  return out;
}

std::optional<calibration_tables> calibration_tables_of(const calibration_counts& counts,
                                                        const calibration_split& split,
                                                        const analysis_options& options,
                                                        std::vector<note>& notes) {
  check_counts(counts, split, "calibration_tables_of", "the counts");
  try {
    const double per = options.days_per_period;
    std::vector<clv::pattern> patterns(counts.frequency.size());
    std::size_t customers = 0;
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      patterns[i] = {static_cast<double>(counts.frequency[i]),
                     static_cast<double>(counts.recency[i]) / per,
                     static_cast<double>(counts.age[i]) / per,
                     static_cast<double>(counts.customers[i])};
      customers += static_cast<std::size_t>(counts.customers[i]);
    }
    clv::fit_options settings;
    settings.tolerance = 1e-7;
    const auto fit = detail::fit_transaction_model(options.transaction_model, std::move(patterns),
                                                   settings, customers);
    const double duration =
        static_cast<double>(split.last_day - split.first_day - split.calibration_day) / per;
    calibration_tables out;
    out.calibration_vs_holdout = holdout_table(counts, fit.params, duration, options);
    out.cumulative_transactions = tracking_curve(counts, fit.params, options);
    out.calibration_period = static_cast<double>(split.calibration_day) / per;
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
