#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "crmkit/core/parallel.hpp"
#include "crmkit/data/grouping.hpp"
#include "huge_pages.hpp"

// Customer slots and relative periods, shared by the grouping (grouping.cpp) and the summary's
// streaming pass (summary.cpp).
namespace crmkit::data::detail {

using std::int64_t;
using std::size_t;
using std::uint32_t;
using std::uint64_t;

/**
 * Open-addressing hash set of int64 keys (linear probing, load <= 1/2) whose entries, once every
 * key is in, are numbered by ascending key.
 */
class sorted_key_set {
 public:
  explicit sorted_key_set(size_t expected) {
    rehash(std::bit_ceil(std::max<size_t>(64, expected)));
  }

  void insert(int64_t key) {
    const size_t at = find(key);
    if (rank_[at] != 0) return;
    keys_[at] = key;
    rank_[at] = 1;
    if (++size_ * 2 > keys_.size()) rehash(keys_.size() * 2);
  }

  /** Numbers the keys 0, 1, ... in ascending order; returns them in that order. */
  std::vector<int64_t> number_in_order() {
    std::vector<int64_t> sorted;
    sorted.reserve(size_);
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (rank_[i] != 0) sorted.push_back(keys_[i]);
    }
    std::sort(sorted.begin(), sorted.end());
    for (size_t r = 0; r < sorted.size(); ++r)
      rank_[find(sorted[r])] = static_cast<uint32_t>(r + 1);
    return sorted;
  }

  /** Rank of a key that was inserted. */
  [[nodiscard]] uint32_t rank(int64_t key) const noexcept { return rank_[find(key)] - 1; }

 private:
  [[nodiscard]] size_t find(int64_t key) const noexcept {
    uint64_t hash = static_cast<uint64_t>(key);  // murmur3's 64-bit finaliser
    hash = (hash ^ (hash >> 33)) * 0xff51afd7ed558ccdULL;
    hash = (hash ^ (hash >> 33)) * 0xc4ceb9fe1a85ec53ULL;
    hash ^= hash >> 33;
    const size_t mask = keys_.size() - 1;
    for (size_t at = hash & mask;; at = (at + 1) & mask) {
      if (rank_[at] == 0 || keys_[at] == key) return at;
    }
  }

  void rehash(size_t capacity) {
    auto old_keys = detail::large_vector<int64_t>(capacity);
    auto old_rank = detail::large_vector<uint32_t>(capacity, 0);
    old_keys.swap(keys_);
    old_rank.swap(rank_);
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (old_rank[i] != 0) {
        const size_t at = find(old_keys[i]);
        keys_[at] = old_keys[i];
        rank_[at] = old_rank[i];
      }
    }
  }

  std::vector<int64_t> keys_;
  std::vector<uint32_t> rank_;  // 0: empty; else 1 + rank once numbered
  size_t size_ = 0;
};

/**
 * Maps every row's customer key to a slot, slots in ascending key order. Keys spanning a small
 * range index directly (slot = key - min key, with unused slots); otherwise a hash set numbers
 * the distinct keys and each row's slot is stored.
 */
class customer_slots {
 public:
  customer_slots(std::span<const int64_t> customer, const log_extent& extent)
      : customer_(customer), min_key_(extent.min_key) {
    const uint64_t span = static_cast<uint64_t>(extent.max_key) - static_cast<uint64_t>(min_key_);
    if (span < std::max<uint64_t>(customer.size(), uint64_t{1} << 20)) {
      slot_count_ = static_cast<size_t>(span) + 1;
      return;
    }
    sorted_key_set keys(customer.size() / 8);
    for (const int64_t key : customer) keys.insert(key);
    sorted_keys_ = keys.number_in_order();
    slot_count_ = sorted_keys_.size();
    row_slot_ = detail::large_vector<uint32_t>(customer.size());
    parallel_for(customer.size(), [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) row_slot_[i] = keys.rank(customer[i]);
    });
  }

  [[nodiscard]] size_t size() const noexcept { return slot_count_; }
  [[nodiscard]] uint32_t of_row(size_t row) const noexcept {
    return row_slot_.empty() ? static_cast<uint32_t>(customer_[row] - min_key_) : row_slot_[row];
  }
  /** Releases the per-row slots once the rows are grouped (keys stay available). */
  void forget_rows() noexcept {
    customer_ = {};
    row_slot_ = {};
  }
  [[nodiscard]] int64_t key(size_t slot) const noexcept {
    return sorted_keys_.empty() ? min_key_ + static_cast<int64_t>(slot) : sorted_keys_[slot];
  }

 private:
  std::span<const int64_t> customer_;
  int64_t min_key_;
  size_t slot_count_ = 0;
  std::vector<int64_t> sorted_keys_;
  std::vector<uint32_t> row_slot_;
};

/**
 * Periods of timestamps relative to the log's first period. Hours and days (fixed lengths) are
 * counted from the first period's start by multiplying with the reciprocal of the period's
 * length and correcting the quotient by its remainder, which is exact and avoids a 64-bit
 * division per row; other units go through the calendar.
 */
class relative_period {
 public:
  relative_period(const tick_calendar& calendar, int64_t first_period)
      : calendar_(calendar), first_period_(first_period) {
    if (calendar.unit != period_unit::hour && calendar.unit != period_unit::day) return;
    const int64_t origin = calendar.start(first_period);
    if (origin == std::numeric_limits<int64_t>::min()) return;  // saturated
    origin_ = static_cast<uint64_t>(origin);
    length_ = (calendar.unit == period_unit::hour ? 3600 : seconds_per_day) *
              static_cast<uint64_t>(calendar.ticks_per_second);
    reciprocal_ = 1.0 / static_cast<double>(length_);
  }

  /** The period of `ticks` (at or after the log's first tick) minus the first period. */
  [[nodiscard, gnu::always_inline]] uint64_t operator()(int64_t ticks) const noexcept {
    if (length_ == 0) [[unlikely]] return through_calendar(ticks);
    const uint64_t since = static_cast<uint64_t>(ticks) - origin_;
    auto quotient = static_cast<uint64_t>(static_cast<double>(since) * reciprocal_);
    // |since - quotient * length| < 4 length: exact in wrapping arithmetic, read as signed.
    auto remainder = static_cast<int64_t>(since - quotient * length_);
    const auto length = static_cast<int64_t>(length_);
    while (remainder < 0) {
      --quotient;
      remainder += length;
    }
    while (remainder >= length) {
      ++quotient;
      remainder -= length;
    }
    return quotient;
  }

 private:
  [[nodiscard, gnu::noinline]] uint64_t through_calendar(int64_t ticks) const noexcept {
    return static_cast<uint64_t>(calendar_.period(ticks) - first_period_);
  }

  tick_calendar calendar_;
  int64_t first_period_;
  uint64_t origin_ = 0;
  uint64_t length_ = 0;  // 0: through the calendar
  double reciprocal_ = 0;
};

/** Rows of one customer by period, the amounts of a period ascending. */
inline constexpr auto period_then_amount = [](const keyed_row& a, const keyed_row& b) noexcept {
  return a.key < b.key || (a.key == b.key && a.amount < b.amount);
};


}  // namespace crmkit::data::detail
