#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "crmkit/data/grouping.hpp"

// The grouping's buckets as they come out of its scatter (grouping.cpp), rows still in input
// order: for passes that need no sorted rows, such as the summary's streaming pass (summary.cpp).
namespace crmkit::data::detail {

/** A grouped row in the scatter's storage, for any period: {period << 32 | slot, amount}. */
struct wide_row {
  std::uint64_t key;
  double amount;

  /** The key's bits of a period (rows of one period share them). */
  static std::uint64_t period_bits(std::uint64_t period, unsigned) noexcept { return period << 32; }
  static wide_row make(std::uint64_t period_bits, std::uint32_t slot, double amount) noexcept {
    return {period_bits | slot, amount};
  }
  [[nodiscard]] std::uint32_t slot(unsigned) const noexcept {
    return static_cast<std::uint32_t>(key);
  }
  [[nodiscard]] std::uint32_t period(unsigned) const noexcept {
    return static_cast<std::uint32_t>(key >> 32);
  }
  [[nodiscard]] keyed_row unpack(unsigned) const noexcept { return {key, amount}; }
};

/** The same in 12 bytes when every period is below 2^(32 - shift): {period << shift | slot}. */
struct [[gnu::packed]] narrow_row {
  std::uint32_t key;
  double amount;

  static std::uint32_t period_bits(std::uint64_t period, unsigned shift) noexcept {
    return static_cast<std::uint32_t>(period << shift);
  }
  static narrow_row make(std::uint32_t period_bits, std::uint32_t slot, double amount) noexcept {
    return {period_bits | slot, amount};
  }
  [[nodiscard]] std::uint32_t slot(unsigned shift) const noexcept {
    return key & ((std::uint32_t{1} << shift) - 1);
  }
  [[nodiscard]] std::uint32_t period(unsigned shift) const noexcept { return key >> shift; }
  [[nodiscard]] keyed_row unpack(unsigned shift) const noexcept {
    return {static_cast<std::uint64_t>(period(shift)) << 32 | slot(shift), amount};
  }
};
static_assert(sizeof(narrow_row) == 12);

/**
 * One bucket of consecutive customer slots with its rows in the order of the input (the scatter
 * is stable). Slot w of the bucket has key `key(w)`; the bucket's slots with rows are customers
 * `first_customer`, `first_customer + 1`, ... in slot order.
 */
struct bucket_view {
  std::size_t index = 0;  ///< the bucket's number, from 0 in slot order
  std::size_t first_customer = 0;
  std::size_t first_slot = 0;
  std::size_t width = 0;  ///< slots in the bucket
  unsigned shift = 0;
  bool narrow = false;
  const void* rows = nullptr;
  std::size_t size = 0;                       ///< rows in the bucket
  std::int64_t key_origin = 0;                ///< slot 0's key, when slots index keys directly
  std::span<const std::int64_t> sorted_keys;  ///< empty: slot = key - key_origin

  [[nodiscard]] std::int64_t key(std::size_t w) const noexcept {
    return sorted_keys.empty() ? key_origin + static_cast<std::int64_t>(first_slot + w)
                               : sorted_keys[first_slot + w];
  }
  /** Calls `f(rows)` with the rows as a span of narrow_row or wide_row (`row.slot(shift)`...). */
  template <class F>
  void with_rows(F&& f) const {
    if (narrow) {
      f(std::span<const narrow_row>(static_cast<const narrow_row*>(rows), size));
    } else {
      f(std::span<const wide_row>(static_cast<const wide_row*>(rows), size));
    }
  }
};

/**
 * The counts of a grouping, as customer_groups reports them; or, when `by_slot`, customers
 * numbered by slot: `customers` is the number of slots, a bucket's customers are numbered from
 * its first slot on, and the slots without rows leave gaps (each visit learns its own).
 */
struct bucket_counts {
  std::size_t customers = 0;
  std::size_t rows_used = 0;
  std::size_t customers_after_end = 0;
  std::size_t buckets = 0;
  bool by_slot = false;
  /** No used row's amount is non-finite: seen only when asked (for_each_bucket's
   * `check_amounts`), else true. */
  bool amounts_finite = true;
};

/**
 * Groups the rows at or before `last_tick` as customer_groups does, in larger buckets (up to
 * 2^14 slots, about 2^18 rows: a visit's per-slot state stays in the second-level cache),
 * calls `prepare(counts)` once, then `visit(bucket)` for every bucket with rows, in parallel (so
 * `visit` must only write state of its own bucket's customers). When every row is in the window
 * and there are 4 rows or more per slot, customers are numbered by slot (`by_slot`): the grouping
 * then makes no pass to count them, and the gaps cost at most 10 bytes a row. With
 * `check_amounts` (amounts that check_log did not check), the scatter sees whether every used
 * row's amount is finite (`bucket_counts::amounts_finite`).
 */
void for_each_bucket(std::span<const std::int64_t> customer,
                     std::span<const std::int64_t> timestamp, std::span<const double> amount,
                     const checked_log& log, std::int64_t last_tick, bool check_amounts,
                     const std::function<void(const bucket_counts&)>& prepare,
                     const std::function<void(const bucket_view&)>& visit);

}  // namespace crmkit::data::detail
