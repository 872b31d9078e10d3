#include "crmkit/lifecycle/cohort.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/grouping.hpp"

namespace crmkit::lifecycle {

double cohort_table::rate(std::size_t c, std::size_t k) const noexcept {
  const std::size_t cell = c * offsets + k;
  if (size[c] == 0 || observed[cell] == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(active[cell]) / static_cast<double>(size[c]);
}

namespace {

/** The cohorts from period `first` of `calendar` on, every count zero. */
cohort_table empty_table(const data::tick_calendar& calendar, std::int64_t first,
                         std::size_t periods) {
  cohort_table table;
  table.offsets = periods;
  for (std::size_t c = 0; c < periods; ++c) {
    table.cohort.push_back(calendar.start(first + static_cast<std::int64_t>(c)));
  }
  table.size.assign(periods, 0);
  table.active.assign(periods * periods, 0);
  table.observed.assign(periods * periods, 0);
  for (std::size_t c = 0; c < periods; ++c) {
    for (std::size_t k = 0; c + k < periods; ++k) table.observed[c * periods + k] = 1;
  }
  return table;
}

/**
 * The `freq` period, counted from `first`, of each of the grouping's periods (relative to its
 * first) up to `last`: no longer than the table's periods² cells (a `freq` period holds at least
 * one of the grouping's).
 */
std::vector<std::uint32_t> period_of(const data::checked_log& log,
                                     const data::tick_calendar& calendar, std::int64_t first,
                                     std::int64_t last) {
  std::vector<std::uint32_t> of(static_cast<std::size_t>(last) + 1);
  std::int64_t period = 0;
  std::int64_t next = log.calendar.period(calendar.start(first + 1)) - log.first_period;
  for (std::int64_t p = 0; p <= last; ++p) {
    while (p >= next) {
      ++period;
      next = log.calendar.period(calendar.start(first + period + 1)) - log.first_period;
    }
    of[static_cast<std::size_t>(p)] = static_cast<std::uint32_t>(period);
  }
  return of;
}

}  // namespace

cohort_table cohort_retention(const data::customer_periods& grouped, data::period_unit freq) {
  constexpr std::string_view function = "cohort_retention";
  const data::checked_log& log = grouped.log();
  const data::period_unit unit = log.calendar.unit;
  if (unit != freq && (unit != data::period_unit::day || freq == data::period_unit::hour)) {
    check::fail(function, fmt::format("freq = '{}' is not the grouping's period unit '{}' nor "
                                      "made of its days",
                                      data::period_code(freq), data::period_code(unit)));
  }
  const data::tick_calendar calendar{freq, log.calendar.ticks_per_second};
  const std::int64_t first = calendar.period(log.extent.first_tick);
  const auto periods =
      static_cast<std::size_t>(calendar.period(grouped.last_tick()) - first) + 1;
  cohort_table table = empty_table(calendar, first, periods);
  const auto of = period_of(log, calendar, first,
                            log.calendar.period(grouped.last_tick()) - log.first_period);
  std::mutex lock;
  parallel_for(
      grouped.customers(),
      [&](std::size_t begin, std::size_t end) {
        std::vector<std::uint64_t> size(periods, 0), active(periods * periods, 0);
        for (std::size_t j = begin; j < end; ++j) {
          const auto own = grouped.periods(j);
          // Each `freq` period the customer bought in counts once; they ascend with its periods.
          const std::uint32_t cohort = of[own.front()];
          ++size[cohort];
          std::uint64_t* row = active.data() + std::size_t{cohort} * periods - cohort;
          std::uint32_t previous = cohort;
          ++row[cohort];
          for (const std::uint32_t relative : own.subspan(1)) {
            const std::uint32_t period = of[relative];
            row[period] += period != previous;
            previous = period;
          }
        }
        const std::scoped_lock guard(lock);
        for (std::size_t c = 0; c < periods; ++c) table.size[c] += size[c];
        for (std::size_t cell = 0; cell < active.size(); ++cell) table.active[cell] += active[cell];
      },
      std::size_t{1} << 14);
  return table;
}

cohort_table cohort_retention(const log_view& log, data::period_unit freq,
                              std::optional<std::int64_t> as_of) {
  constexpr std::string_view function = "cohort_retention";
  const data::checked_log checked = data::check_log(function, log.customer, log.timestamp,
                                                    log.amount, freq, log.ticks_per_second);
  const std::int64_t end = data::periods_after_first(
      function, "as_of", as_of.value_or(checked.extent.last_tick), checked);
  const data::customer_groups groups(log.customer, log.timestamp, log.amount, checked,
                                     checked.calendar.last_tick(checked.first_period + end));
  const auto periods = static_cast<std::size_t>(end) + 1;
  const bool with_amount = !log.amount.empty();

  cohort_table table = empty_table(checked.calendar, checked.first_period, periods);

  // Each batch's counts, and its revenue cells in customer order, kept by the batch's first
  // customer and added up in that order so the sums do not depend on the threads.
  std::mutex lock;
  std::map<std::size_t, std::vector<std::pair<std::size_t, double>>> batch_revenue;
  groups.for_each_batch([&](const data::customer_batch& batch) {
    data::period_totals totals;
    std::vector<std::uint64_t> size(periods, 0), active(periods * periods, 0);
    std::vector<std::pair<std::size_t, double>> revenue;
    for (std::size_t k = 0; k < batch.size(); ++k) {
      std::int64_t cohort = -1;
      totals.each(batch.rows_of(k), [&](std::int64_t period, double total) {
        if (cohort < 0) {
          cohort = period;
          ++size[static_cast<std::size_t>(cohort)];
        }
        const auto cell =
            static_cast<std::size_t>(cohort) * periods + static_cast<std::size_t>(period - cohort);
        ++active[cell];
        if (with_amount) revenue.emplace_back(cell, total);
      });
    }
    std::stable_sort(revenue.begin(), revenue.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const std::scoped_lock guard(lock);
    for (std::size_t c = 0; c < periods; ++c) table.size[c] += size[c];
    for (std::size_t cell = 0; cell < active.size(); ++cell) table.active[cell] += active[cell];
    batch_revenue.emplace(batch.first, std::move(revenue));
  });
  if (with_amount) {
    table.revenue.assign(periods * periods, 0.0);
    for (const auto& [first, cells] : batch_revenue) {
      for (const auto& [cell, value] : cells) table.revenue[cell] += value;
    }
    table.cohort_revenue.assign(periods, 0.0);
    for (std::size_t c = 0; c < periods; ++c) {
      for (std::size_t k = 0; c + k < periods; ++k) {
        table.cohort_revenue[c] += table.revenue[c * periods + k];
      }
    }
  }
  return table;
}

}  // namespace crmkit::lifecycle
