#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/core/memory.hpp"
#include "crmkit/data/date_parse.hpp"
#include "crmkit/data/period.hpp"

/**
 * A transaction log grouped by customer: its validation, the periods of its timestamps, and a
 * deterministic parallel counting sort that hands every customer's rows, ordered by
 * (period, amount), to a visitor. The per-customer summary (summary.hpp) and the lifecycle stages
 * are built on it.
 */
namespace crmkit::data {

/** Periods of timestamps counted in ticks of 1 / ticks_per_second seconds since 1970-01-01. */
struct tick_calendar {
  period_unit unit = period_unit::day;
  std::int64_t ticks_per_second = 1;

  [[nodiscard]] std::int64_t seconds(std::int64_t ticks) const noexcept {
    return floor_div(ticks, ticks_per_second);
  }
  /** Index of the period containing `ticks` (see `period_index`). */
  [[nodiscard]] std::int64_t period(std::int64_t ticks) const noexcept {
    if (unit == period_unit::hour) return floor_div(ticks, 3600 * ticks_per_second);
    return period_index_of_day(floor_div(ticks, seconds_per_day * ticks_per_second), unit);
  }
  /** Start of period `index`, in ticks, saturated to the int64 range. */
  [[nodiscard]] std::int64_t start(std::int64_t index) const noexcept {
    const std::int64_t seconds = period_start(index, unit);
    std::int64_t ticks = 0;
    if (__builtin_mul_overflow(seconds, ticks_per_second, &ticks)) {
      return seconds < 0 ? std::numeric_limits<std::int64_t>::min()
                         : std::numeric_limits<std::int64_t>::max();
    }
    return ticks;
  }
  /** Last tick of period `index`. */
  [[nodiscard]] std::int64_t last_tick(std::int64_t index) const noexcept {
    const std::int64_t next = start(index + 1);
    return next == std::numeric_limits<std::int64_t>::max() ? next : next - 1;
  }
  /** The timestamp as ISO text, for messages. */
  [[nodiscard]] std::string text(std::int64_t ticks) const {
    return format_timestamp(seconds(ticks));
  }
};

/** Smallest and largest customer key and timestamp of a log. */
struct log_extent {
  std::int64_t min_key = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_key = std::numeric_limits<std::int64_t>::min();
  std::int64_t first_tick = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_tick = std::numeric_limits<std::int64_t>::min();
};

/**
 * The log's rows counted per chunk of `chunk_rows` consecutive rows and per bin of 2^bin_log2
 * consecutive customer keys (bin = key >> bin_log2) while check_log reads it, so that the grouping
 * of a log with dense keys need not read the keys once more to size its buckets. Chunk c counts
 * the bins `first_bin[c]` to `first_bin[c] + bins - 1`, the rows of bin `first_bin[c] + b` in
 * `rows[c * bins + b]`.
 */
struct key_counts {
  static constexpr unsigned bin_log2 = 12;
  static constexpr std::size_t bins = 4096;
  static constexpr std::size_t chunk_rows = std::size_t{1} << 16;
  std::vector<std::int64_t> first_bin;
  memory::column<std::uint32_t> rows;
};

/** A log that passed `check_log`: its extent, calendar and the period of its first timestamp. */
struct checked_log {
  log_extent extent;
  tick_calendar calendar;
  std::int64_t first_period = 0;
  /** Null unless check_log was asked to count keys and every chunk's keys fit its bins. */
  std::shared_ptr<const key_counts> keys;
};

/**
 * Validates a log given as columns and measures it (one parallel pass).
 *
 * @param amount empty for a log without amounts
 * @param count_keys also count the rows per chunk and key bin (checked_log::keys), when every
 *        chunk's keys are within 2^23 of its first row's
 * @throw invalid_input, naming `function`, when the sizes differ, the log is empty or longer than
 *        2^32 - 1 rows, an amount is not finite (naming the row), ticks_per_second is outside
 *        1..10^9, a timestamp is numpy's missing date (INT64_MIN, NaT) or more than 300,000 years
 *        from 1970 (naming the row).
 */
checked_log check_log(std::string_view function, std::span<const std::int64_t> customer,
                      std::span<const std::int64_t> timestamp, std::span<const double> amount,
                      period_unit freq, std::int64_t ticks_per_second, bool count_keys = false);

/**
 * Periods from the log's first period to the period of `end_tick` (an observation end or as-of
 * date, named `argument` in messages).
 * @throw invalid_input when `end_tick` is out of range, before every purchase, or more than
 *        2^32 - 1 periods after the first.
 */
std::int64_t periods_after_first(std::string_view function, std::string_view argument,
                                 std::int64_t end_tick, const checked_log& log);

/** One row of a customer's group: its period (relative to the log's first) and amount. */
struct keyed_row {
  std::uint64_t key;  ///< relative period << 32 | the customer's slot in its bucket
  double amount;      ///< 0 for a log without amounts

  [[nodiscard]] std::int64_t period() const noexcept {
    return static_cast<std::int64_t>(key >> 32);
  }
  friend bool operator<(const keyed_row& a, const keyed_row& b) noexcept { return a.key < b.key; }
};

/**
 * Sums a customer's rows period by period. The rows come sorted by (period, amount), so the
 * amounts of one period are added in ascending order of value and the total does not depend on
 * the order of the input rows.
 */
struct period_totals {
  /**
   * Calls `visit(period, total)` for each period of `rows` (one customer's, sorted by
   * (period, amount)), in order.
   */
  template <class Visit>
  static void each(std::span<const keyed_row> rows, Visit&& visit) {
    for (std::size_t begin = 0; begin < rows.size();) {
      const std::uint64_t key = rows[begin].key;
      double total = rows[begin].amount;
      std::size_t end = begin + 1;
      if (end < rows.size() && rows[end].key == key) {
        total = 0;
        for (end = begin; end < rows.size() && rows[end].key == key; ++end)
          total += rows[end].amount;
      }
      visit(rows[begin].period(), total);
      begin = end;
    }
  }
};

/**
 * A run of consecutive customers (in ascending key order) with their rows: customer `first + k`
 * has key `keys[k]` and rows `rows[offsets[k] .. offsets[k + 1])`, sorted by (period, amount).
 */
struct customer_batch {
  std::size_t first = 0;
  std::size_t first_row = 0;  ///< position of rows[0] among all the grouped rows
  std::span<const std::int64_t> keys;
  std::span<const std::uint32_t> offsets;
  std::span<const keyed_row> rows;

  [[nodiscard]] std::size_t size() const noexcept { return keys.size(); }
  [[nodiscard]] std::span<const keyed_row> rows_of(std::size_t k) const noexcept {
    return rows.subspan(offsets[k], offsets[k + 1] - offsets[k]);
  }
};

/**
 * The rows of a log at or before a last tick, grouped by customer key. Construction makes two
 * parallel passes over the rows (per-chunk histograms, then a stable scatter of each row's
 * period and amount into buckets of consecutive customers, 12 bytes per row, 16 when the periods
 * span more than 2^16, so that no later pass reads the log at random; the storage is kept for
 * the next grouping, see grouping.cpp) and one over the grouped rows, bucket by bucket in cache,
 * that counts the customers; `for_each_batch` then counting-sorts each bucket by customer in
 * cache and sorts each customer's rows by (period, amount). Nothing depends on the thread count.
 * Customers with no row at or before the last tick are absent.
 */
class customer_groups {
 public:
  /** Groups the rows whose timestamp is at most `last_tick`; the spans must outlive the groups. */
  customer_groups(std::span<const std::int64_t> customer, std::span<const std::int64_t> timestamp,
                  std::span<const double> amount, const checked_log& log, std::int64_t last_tick);
  customer_groups(customer_groups&&) noexcept;
  customer_groups& operator=(customer_groups&&) noexcept;
  ~customer_groups();

  /** Customers with at least one row at or before the last tick. */
  [[nodiscard]] std::size_t customers() const noexcept;
  /** Rows at or before the last tick. */
  [[nodiscard]] std::size_t rows_used() const noexcept;
  /** Customers whose every row is after the last tick. */
  [[nodiscard]] std::size_t customers_after_end() const noexcept;

  /**
   * Calls `visit(batch)` for consecutive runs of customers covering them all, each once, in
   * parallel (so `visit` must only write state of its own batch's customers). Can be called
   * repeatedly.
   */
  void for_each_batch(const std::function<void(const customer_batch&)>& visit) const;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

/**
 * A log's rows at or before a last tick, grouped by customer once and kept for any number of
 * passes (the per-customer summary, the lifecycle stages, cohorts, a calibration split): customer
 * j (keys ascending) has the distinct purchase periods `periods(j)`, relative to the log's first
 * period and ascending, with their totals `totals(j)` (period_totals' order-free sums; zeros for
 * a log without amounts). Built in one `customer_groups` pass; the periods and totals are
 * written over the grouping's own row storage, bucket by bucket (each bucket's periods take no
 * more room than its rows), so the grouping costs no second array. A pass over it reads memory
 * in order, with nothing to sort or gather.
 */
class customer_periods {
 public:
  /** Groups the rows whose timestamp is at most `last_tick`. */
  customer_periods(std::span<const std::int64_t> customer, std::span<const std::int64_t> timestamp,
                   std::span<const double> amount, const checked_log& log, std::int64_t last_tick);

  /** The log's extent and calendar (the periods' unit). */
  [[nodiscard]] const checked_log& log() const noexcept { return log_; }
  /** The last tick grouped. */
  [[nodiscard]] std::int64_t last_tick() const noexcept { return last_tick_; }
  [[nodiscard]] bool has_amount() const noexcept { return has_amount_; }
  /** Rows of the log, grouped or not. */
  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  /** Rows at or before the last tick. */
  [[nodiscard]] std::size_t rows_used() const noexcept { return rows_used_; }
  /** Customers whose every row is after the last tick (absent). */
  [[nodiscard]] std::size_t customers_after_end() const noexcept { return customers_after_end_; }
  /** Customers with at least one row at or before the last tick. */
  [[nodiscard]] std::size_t customers() const noexcept { return keys_.size(); }
  /** Their keys, ascending. */
  [[nodiscard]] std::span<const std::int64_t> keys() const noexcept { return keys_; }
  [[nodiscard]] std::span<const std::uint32_t> periods(std::size_t j) const noexcept {
    return {reinterpret_cast<const std::uint32_t*>(base_) + period_at_[j], count_[j]};
  }
  [[nodiscard]] std::span<const double> totals(std::size_t j) const noexcept {
    return {reinterpret_cast<const double*>(base_) + total_at_[j], count_[j]};
  }

 private:
  checked_log log_;
  std::int64_t last_tick_;
  bool has_amount_;
  std::size_t rows_ = 0, rows_used_ = 0, customers_after_end_ = 0;
  std::vector<std::int64_t> keys_;
  // Customer j's periods start at uint32 index period_at_[j] of base_, its totals at double
  // index total_at_[j]; count_[j] of each.
  std::vector<std::uint64_t> period_at_, total_at_;
  std::vector<std::uint32_t> count_;
  std::unique_ptr<void, void (*)(void*)> storage_{nullptr, nullptr};  // the grouping's rows
  const std::byte* base_ = nullptr;
};

}  // namespace crmkit::data
