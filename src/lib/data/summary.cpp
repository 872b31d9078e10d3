#include "crmkit/data/summary.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"
#include "huge_pages.hpp"

namespace crmkit::data {
namespace {

using std::int64_t;
using std::size_t;
using std::uint32_t;
using std::uint64_t;

// Row indices and row counts are 32-bit.
constexpr size_t max_rows = std::numeric_limits<uint32_t>::max();
// About 317,000 years either side of 1970: far beyond any calendar a log uses, and small enough
// that no period arithmetic can overflow.
constexpr int64_t max_abs_seconds = 10'000'000'000'000;

/** Periods of timestamps counted in ticks (one runtime division per timestamp). */
struct tick_calendar {
  period_unit unit;
  int64_t ticks_per_second;

  [[nodiscard]] int64_t seconds(int64_t ticks) const noexcept {
    return floor_div(ticks, ticks_per_second);
  }
  [[nodiscard]] int64_t period(int64_t ticks) const noexcept {
    if (unit == period_unit::hour) return floor_div(ticks, 3600 * ticks_per_second);
    return period_index_of_day(floor_div(ticks, seconds_per_day * ticks_per_second), unit);
  }
  /** Start of period `index`, in ticks, saturated to the int64 range. */
  [[nodiscard]] int64_t start(int64_t index) const noexcept {
    const int64_t seconds = period_start(index, unit);
    int64_t ticks = 0;
    if (__builtin_mul_overflow(seconds, ticks_per_second, &ticks)) {
      return seconds < 0 ? std::numeric_limits<int64_t>::min()
                         : std::numeric_limits<int64_t>::max();
    }
    return ticks;
  }
  /** Last tick of period `index`. */
  [[nodiscard]] int64_t last_tick(int64_t index) const noexcept {
    const int64_t next = start(index + 1);
    return next == std::numeric_limits<int64_t>::max() ? next : next - 1;
  }
  [[nodiscard]] std::string text(int64_t ticks) const { return format_timestamp(seconds(ticks)); }
};

struct row_extent {
  int64_t min_key = std::numeric_limits<int64_t>::max();
  int64_t max_key = std::numeric_limits<int64_t>::min();
  int64_t first_tick = std::numeric_limits<int64_t>::max();
  int64_t last_tick = std::numeric_limits<int64_t>::min();

  static row_extent merge(row_extent a, const row_extent& b) noexcept {
    a.min_key = std::min(a.min_key, b.min_key);
    a.max_key = std::max(a.max_key, b.max_key);
    a.first_tick = std::min(a.first_tick, b.first_tick);
    a.last_tick = std::max(a.last_tick, b.last_tick);
    return a;
  }
};

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
  customer_slots(std::span<const int64_t> customer, const row_extent& extent)
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
  void prefetch(size_t row) const noexcept {
    __builtin_prefetch(row_slot_.empty() ? static_cast<const void*>(customer_.data() + row)
                                         : static_cast<const void*>(row_slot_.data() + row));
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

constexpr int64_t period_of(uint64_t packed) noexcept {
  return static_cast<int64_t>(packed >> 32);
}

struct scan_settings {
  int64_t calibration_end;  // relative period of the calibration end (= end without holdout)
  double freq_multiplier;
  bool include_first_transaction;
  bool holdout;
};

/** The summary columns, customers in ascending key order; `*_holdout` only when asked for. */
struct summary_columns {
  std::vector<int64_t> customer;
  std::vector<double> frequency, recency, T, monetary_value, frequency_holdout,
      monetary_value_holdout;
  std::vector<uint32_t> calibration_rows,
      holdout_rows;  // holdout only; 0 calibration rows: excluded
  size_t rows_used = 0;
  size_t customers_after_end = 0;

  summary_columns(size_t customers, bool has_amount, bool holdout) {
    customer = detail::large_vector<int64_t>(customers);
    for (auto* column : {&frequency, &recency, &T})
      *column = detail::large_vector<double>(customers);
    if (has_amount) monetary_value = detail::large_vector<double>(customers);
    if (!holdout) return;
    frequency_holdout = detail::large_vector<double>(customers);
    if (has_amount) monetary_value_holdout = detail::large_vector<double>(customers);
    calibration_rows = detail::large_vector<uint32_t>(customers);
    holdout_rows = detail::large_vector<uint32_t>(customers);
  }
};

/** A row inside the per-bucket pass: its (period, row) key and its amount. */
struct keyed_row {
  uint64_t key;
  double amount;

  friend bool operator<(const keyed_row& a, const keyed_row& b) noexcept { return a.key < b.key; }
};

/**
 * Sums a customer's rows period by period. The amounts of one period are added in ascending
 * order of value so the total does not depend on the order of the input rows.
 */
class period_totals {
 public:
  /** Calls `visit(period, total)` for each period of `rows` (sorted by key), in order. */
  template <class Visit>
  void each(std::span<const keyed_row> rows, Visit&& visit) {
    for (size_t begin = 0; begin < rows.size();) {
      const int64_t period = period_of(rows[begin].key);
      size_t end = begin + 1;
      while (end < rows.size() && period_of(rows[end].key) == period) ++end;
      visit(period, total(rows.subspan(begin, end - begin)));
      begin = end;
    }
  }

 private:
  double total(std::span<const keyed_row> group) {
    if (group.size() == 1) return group[0].amount;
    values_.clear();
    for (const keyed_row& row : group) values_.push_back(row.amount);
    std::sort(values_.begin(), values_.end());
    double sum = 0;
    for (const double value : values_) sum += value;
    return sum;
  }

  std::vector<double> values_;
};

/** Computes customer `j`'s statistics from its rows, sorted by (period, row). */
void scan_customer(std::span<const keyed_row> rows, size_t j, const scan_settings& settings,
                   period_totals& totals, summary_columns& out) {
  const int64_t end = settings.calibration_end;
  const int64_t first = period_of(rows.front().key);
  int64_t last = first, periods = 0, holdout_periods = 0;
  double spend = 0, holdout_spend = 0;
  totals.each(rows, [&](int64_t period, double total) {
    if (period > end) {
      ++holdout_periods;
      holdout_spend += total;
      return;
    }
    last = period;
    if (++periods > 1 || settings.include_first_transaction) spend += total;
  });
  const bool with_amount = !out.monetary_value.empty();
  if (settings.holdout) {
    const auto calibration_rows = static_cast<uint32_t>(
        std::partition_point(rows.begin(), rows.end(),
                             [&](const keyed_row& row) { return period_of(row.key) <= end; }) -
        rows.begin());
    out.calibration_rows[j] = calibration_rows;
    out.holdout_rows[j] = static_cast<uint32_t>(rows.size()) - calibration_rows;
    out.frequency_holdout[j] = static_cast<double>(holdout_periods);
    if (with_amount) {
      out.monetary_value_holdout[j] =
          holdout_periods > 0 ? holdout_spend / static_cast<double>(holdout_periods) : 0.0;
    }
    if (first > end) return;
  }
  const int64_t counted = settings.include_first_transaction ? periods : periods - 1;
  const int64_t recency = settings.include_first_transaction ? end - last : last - first;
  out.frequency[j] = static_cast<double>(counted);
  out.recency[j] = static_cast<double>(recency) / settings.freq_multiplier;
  out.T[j] = static_cast<double>(end - first) / settings.freq_multiplier;
  if (with_amount) out.monetary_value[j] = counted > 0 ? spend / static_cast<double>(counted) : 0.0;
}

/**
 * Slots are cut into buckets of 2^shift consecutive slots, about 2^14 rows each, so that one
 * bucket's rows and counters stay in cache while they are sorted.
 */
struct bucket_layout {
  unsigned shift;
  size_t count;

  bucket_layout(size_t slots, size_t rows) {
    const size_t slots_per_bucket = std::max<size_t>(1, (slots << 14) / std::max<size_t>(rows, 1));
    shift = std::min(16u, static_cast<unsigned>(std::bit_width(slots_per_bucket)) - 1);
    while ((slots >> shift) >= (size_t{1} << 16)) ++shift;
    count = (slots >> shift) + 1;
  }
  [[nodiscard]] size_t of(uint32_t slot) const noexcept { return slot >> shift; }
  [[nodiscard]] size_t first_slot(size_t bucket) const noexcept { return bucket << shift; }
};

/**
 * Summarises the rows at or before `last_tick` per customer. A deterministic two-level counting
 * sort: rows are partitioned stably into buckets of consecutive customer slots (per-chunk
 * histograms, so no atomics and no dependence on the thread count), then each bucket is
 * counting-sorted by slot in cache, each customer's few rows sorted by (period, row) and scanned.
 */
summary_columns summarize_rows(std::span<const int64_t> customer,
                               std::span<const int64_t> timestamp, std::span<const double> amount,
                               const row_extent& extent, const tick_calendar& calendar,
                               int64_t first_period, int64_t last_tick,
                               const scan_settings& settings) {
  const size_t n = customer.size();
  const customer_slots slots(customer, extent);
  const bucket_layout buckets(slots.size(), n);
  const size_t B = buckets.count;
  constexpr size_t grain = size_t{1} << 16;
  const size_t chunks = chunk_count(n, grain);

  // Pass 1: per-chunk bucket histograms, and which slots have rows in and after the window.
  // The byte flags are written with relaxed atomic stores: plain moves, no locked instructions.
  auto cursor = detail::large_vector<uint32_t>(chunks * B, 0);
  auto in_window = detail::large_vector<uint8_t>(slots.size(), 0);
  auto after_end = detail::large_vector<uint8_t>(slots.size(), 0);
  parallel_chunks(n, grain, [&](size_t chunk, size_t begin, size_t end) {
    uint32_t* histogram = cursor.data() + chunk * B;
    for (size_t i = begin; i < end; ++i) {
      const uint32_t slot = slots.of_row(i);
      if (timestamp[i] <= last_tick) {
        ++histogram[buckets.of(slot)];
        std::atomic_ref<uint8_t>(in_window[slot]).store(1, std::memory_order_relaxed);
      } else {
        std::atomic_ref<uint8_t>(after_end[slot]).store(1, std::memory_order_relaxed);
      }
    }
  });
  // Bucket b's rows go to [bucket_begin[b], bucket_begin[b + 1]), chunk by chunk in order.
  std::vector<uint32_t> bucket_begin(B + 1);
  uint32_t running = 0;
  for (size_t b = 0; b < B; ++b) {
    bucket_begin[b] = running;
    for (size_t c = 0; c < chunks; ++c) running += std::exchange(cursor[c * B + b], running);
  }
  bucket_begin[B] = running;

  // Customers (slots with rows in the window) per bucket, numbered in slot order.
  std::vector<size_t> customer_begin(B + 1, 0), after_end_only(B, 0);
  parallel_for(
      B,
      [&](size_t begin, size_t end) {
        for (size_t b = begin; b < end; ++b) {
          const size_t stop = std::min(slots.size(), buckets.first_slot(b + 1));
          for (size_t slot = buckets.first_slot(b); slot < stop; ++slot) {
            customer_begin[b + 1] += in_window[slot];
            after_end_only[b] += after_end[slot] & (in_window[slot] ^ 1);
          }
        }
      },
      64);
  for (size_t b = 0; b < B; ++b) customer_begin[b + 1] += customer_begin[b];
  after_end = {};

  summary_columns out(customer_begin[B], !amount.empty(), settings.holdout);
  out.rows_used = running;
  for (const size_t count : after_end_only) out.customers_after_end += count;

  // Pass 2: stable scatter of the rows into the buckets.
  detail::huge_buffer<uint32_t> bucket_rows(running);
  parallel_chunks(n, grain, [&](size_t chunk, size_t begin, size_t end) {
    uint32_t* next = cursor.data() + chunk * B;
    for (size_t i = begin; i < end; ++i) {
      if (timestamp[i] <= last_tick)
        bucket_rows[next[buckets.of(slots.of_row(i))]++] = static_cast<uint32_t>(i);
    }
  });
  cursor = {};
  in_window = {};

  // Pass 3, per bucket: gather each row's slot, period and amount, counting-sort by slot, then
  // sort each customer's rows by (period, row) and scan them.
  parallel_for(
      B,
      [&](size_t begin, size_t end) {
        std::vector<uint32_t> local_slot, slot_start;
        std::vector<keyed_row> local, sorted;
        period_totals totals;
        for (size_t b = begin; b < end; ++b) {
          const std::span<const uint32_t> rows(bucket_rows.data() + bucket_begin[b],
                                               bucket_begin[b + 1] - bucket_begin[b]);
          const size_t first_slot = buckets.first_slot(b);
          const size_t width = std::min(slots.size(), buckets.first_slot(b + 1)) - first_slot;
          local_slot.resize(rows.size());
          local.resize(rows.size());
          slot_start.assign(width + 1, 0);
          // The gathers are independent cache misses; prefetching keeps many in flight.
          constexpr size_t ahead = 64;
          for (size_t k = 0; k < rows.size(); ++k) {
            if (k + ahead < rows.size()) {
              const uint32_t later = rows[k + ahead];
              slots.prefetch(later);
              __builtin_prefetch(timestamp.data() + later);
              if (!amount.empty()) __builtin_prefetch(amount.data() + later);
            }
            const uint32_t row = rows[k];
            local_slot[k] = slots.of_row(row) - static_cast<uint32_t>(first_slot);
            const auto period =
                static_cast<uint64_t>(calendar.period(timestamp[row]) - first_period);
            local[k] = {period << 32 | row, amount.empty() ? 0.0 : amount[row]};
            ++slot_start[local_slot[k] + 1];
          }
          for (size_t s = 0; s < width; ++s) slot_start[s + 1] += slot_start[s];
          sorted.resize(rows.size());
          for (size_t k = 0; k < rows.size(); ++k) sorted[slot_start[local_slot[k]]++] = local[k];
          size_t j = customer_begin[b];
          for (size_t s = 0, from = 0; s < width; ++s) {
            const size_t to = slot_start[s];  // the counting sort left each start at its end
            if (to == from) continue;
            std::sort(sorted.begin() + static_cast<std::ptrdiff_t>(from),
                      sorted.begin() + static_cast<std::ptrdiff_t>(to));
            out.customer[j] = slots.key(first_slot + s);
            scan_customer(std::span<const keyed_row>(sorted).subspan(from, to - from), j, settings,
                          totals, out);
            ++j;
            from = to;
          }
        }
      },
      4);
  return out;
}

/** Keeps the entries of `column` whose `keep` is nonzero (no-op on an empty column). */
template <class T>
void keep_where(std::vector<T>& column, const std::vector<uint32_t>& keep) {
  if (column.empty()) return;
  size_t kept = 0;
  for (size_t j = 0; j < column.size(); ++j) {
    if (keep[j] != 0) column[kept++] = column[j];
  }
  column.resize(kept);
}

/** The shared validation and preparation of both entry points. */
struct prepared_log {
  row_extent extent;
  tick_calendar calendar;
  int64_t first_period;
};

bool in_range(int64_t ticks, const tick_calendar& calendar) noexcept {
  const int64_t seconds = calendar.seconds(ticks);
  return seconds >= -max_abs_seconds && seconds <= max_abs_seconds;
}

[[noreturn]] void fail_range(std::string_view function, std::string_view argument, int64_t ticks,
                             const tick_calendar& calendar) {
  check::fail(function, fmt::format("{} = {} is out of range (more than 300,000 years from 1970 "
                                    "at {} ticks per second)",
                                    argument, ticks, calendar.ticks_per_second));
}

prepared_log prepare(std::string_view function, std::span<const int64_t> customer,
                     std::span<const int64_t> timestamp, std::span<const double> amount,
                     period_unit freq, double freq_multiplier, int64_t ticks_per_second) {
  const size_t n = customer.size();
  check::same_size(function, "customer", n, "timestamp", timestamp.size());
  if (!amount.empty()) check::same_size(function, "customer", n, "amount", amount.size());
  check::not_empty(function, "the transaction log", n);
  if (n > max_rows) {
    check::fail(function,
                fmt::format("the log has {} rows; at most {} are supported", n, max_rows));
  }
  check::positive(function, "freq_multiplier", freq_multiplier);
  if (ticks_per_second < 1 || ticks_per_second > 1'000'000'000) {
    check::fail(function,
                fmt::format("ticks_per_second = {} must be in 1..1000000000", ticks_per_second));
  }
  const tick_calendar calendar{freq, ticks_per_second};
  const row_extent extent = parallel_reduce(
      n, row_extent{},
      [&](size_t begin, size_t end) {
        row_extent part;
        for (size_t i = begin; i < end; ++i) {
          part.min_key = std::min(part.min_key, customer[i]);
          part.max_key = std::max(part.max_key, customer[i]);
          part.first_tick = std::min(part.first_tick, timestamp[i]);
          part.last_tick = std::max(part.last_tick, timestamp[i]);
        }
        for (size_t i = begin; i < end && !amount.empty(); ++i) {
          if (!std::isfinite(amount[i])) {
            check::fail_at(function, "amount", i, amount[i], "must be finite");
          }
        }
        return part;
      },
      row_extent::merge);
  for (const int64_t extreme : {extent.first_tick, extent.last_tick}) {
    if (!in_range(extreme, calendar)) {
      const auto row = std::find(timestamp.begin(), timestamp.end(), extreme) - timestamp.begin();
      fail_range(function, fmt::format("timestamp[{}]", row), extreme, calendar);
    }
  }
  return {extent, calendar, calendar.period(extent.first_tick)};
}

/** The end's period (relative to the first period), after checking it can be represented. */
int64_t relative_end(std::string_view function, std::string_view argument, int64_t end_tick,
                     const prepared_log& log) {
  if (!in_range(end_tick, log.calendar)) fail_range(function, argument, end_tick, log.calendar);
  const int64_t end = log.calendar.period(end_tick) - log.first_period;
  if (end < 0) {
    check::fail(function,
                fmt::format("{} = {} is before every purchase (the first is on {})", argument,
                            log.calendar.text(end_tick), log.calendar.text(log.extent.first_tick)));
  }
  if (end > std::numeric_limits<uint32_t>::max()) {
    check::fail(function, fmt::format("{} = {} is {} periods after the first purchase ({}); at "
                                      "most 4294967295 are supported",
                                      argument, log.calendar.text(end_tick), end,
                                      log.calendar.text(log.extent.first_tick)));
  }
  return end;
}

customer_summary make_summary(summary_columns& columns, int64_t end_tick) {
  customer_summary summary;
  summary.customer = std::move(columns.customer);
  summary.frequency = std::move(columns.frequency);
  summary.recency = std::move(columns.recency);
  summary.T = std::move(columns.T);
  summary.monetary_value = std::move(columns.monetary_value);
  summary.observation_period_end = end_tick;
  return summary;
}

void check_seconds_log(std::string_view function, int64_t ticks_per_second) {
  if (ticks_per_second != 1) {
    check::fail(function, fmt::format("options.ticks_per_second = {} must be 1 for a "
                                      "transaction_log (its timestamps are seconds)",
                                      ticks_per_second));
  }
}

}  // namespace

customer_summary summarize(std::span<const int64_t> customer, std::span<const int64_t> timestamp,
                           std::span<const double> amount, const summary_options& options) {
  constexpr std::string_view function = "summarize";
  const prepared_log log = prepare(function, customer, timestamp, amount, options.freq,
                                   options.freq_multiplier, options.ticks_per_second);
  const int64_t end =
      relative_end(function, "observation_period_end",
                   options.observation_period_end.value_or(log.extent.last_tick), log);
  summary_columns columns =
      summarize_rows(customer, timestamp, amount, log.extent, log.calendar, log.first_period,
                     log.calendar.last_tick(log.first_period + end),
                     {end, options.freq_multiplier, options.include_first_transaction, false});
  customer_summary summary = make_summary(columns, log.calendar.start(log.first_period + end));
  summary.rows_used = columns.rows_used;
  summary.rows_after_end = customer.size() - columns.rows_used;
  summary.customers_after_end = columns.customers_after_end;
  return summary;
}

customer_summary summarize(const transaction_log& log, const summary_options& options) {
  check_seconds_log("summarize", options.ticks_per_second);
  return summarize(log.customer, log.timestamp, log.amount, options);
}

calibration_holdout_summary calibration_and_holdout(std::span<const int64_t> customer,
                                                    std::span<const int64_t> timestamp,
                                                    std::span<const double> amount,
                                                    const holdout_options& options) {
  constexpr std::string_view function = "calibration_and_holdout";
  const prepared_log log = prepare(function, customer, timestamp, amount, options.freq,
                                   options.freq_multiplier, options.ticks_per_second);
  const int64_t calibration_end =
      relative_end(function, "calibration_period_end", options.calibration_period_end, log);
  const int64_t end_tick = options.observation_period_end.value_or(log.extent.last_tick);
  const int64_t end = relative_end(function, "observation_period_end", end_tick, log);
  if (end <= calibration_end) {
    check::fail(function, fmt::format("observation_period_end = {} must be in a period after "
                                      "calibration_period_end = {} (freq {})",
                                      log.calendar.text(end_tick),
                                      log.calendar.text(options.calibration_period_end),
                                      period_code(options.freq)));
  }
  summary_columns columns = summarize_rows(
      customer, timestamp, amount, log.extent, log.calendar, log.first_period,
      log.calendar.last_tick(log.first_period + end),
      {calibration_end, options.freq_multiplier, options.include_first_transaction, true});

  size_t rows_calibration = 0, rows_holdout = 0, first_seen_in_holdout = 0;
  for (size_t j = 0; j < columns.customer.size(); ++j) {
    if (columns.calibration_rows[j] == 0) {
      ++first_seen_in_holdout;
    } else {
      rows_calibration += columns.calibration_rows[j];
      rows_holdout += columns.holdout_rows[j];
    }
  }
  if (first_seen_in_holdout != 0) {
    const auto& keep = columns.calibration_rows;
    keep_where(columns.customer, keep);
    for (auto* column : {&columns.frequency, &columns.recency, &columns.T, &columns.monetary_value,
                         &columns.frequency_holdout, &columns.monetary_value_holdout}) {
      keep_where(*column, keep);
    }
  }

  calibration_holdout_summary result;
  result.rows_after_end = customer.size() - columns.rows_used;
  result.frequency_holdout = std::move(columns.frequency_holdout);
  result.monetary_value_holdout = std::move(columns.monetary_value_holdout);
  result.calibration =
      make_summary(columns, log.calendar.start(log.first_period + calibration_end));
  result.calibration.rows_used = rows_calibration;
  result.calibration.rows_after_end = customer.size() - rows_calibration;
  result.calibration.customers_after_end = columns.customers_after_end + first_seen_in_holdout;
  result.duration_holdout = static_cast<double>(end - calibration_end) / options.freq_multiplier;
  result.observation_period_end = log.calendar.start(log.first_period + end);
  result.rows_holdout = rows_holdout;
  return result;
}

calibration_holdout_summary calibration_and_holdout(const transaction_log& log,
                                                    const holdout_options& options) {
  check_seconds_log("calibration_and_holdout", options.ticks_per_second);
  return calibration_and_holdout(log.customer, log.timestamp, log.amount, options);
}

}  // namespace crmkit::data
