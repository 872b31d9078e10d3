#include "crmkit/data/grouping.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <mutex>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "bucket_rows.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"
#include "finite_amounts.hpp"
#include "huge_pages.hpp"
#include "log_measure.hpp"
#include "relative_period.hpp"
#include "row_writers.hpp"

namespace crmkit::data {
namespace {

using detail::line_writer;
using detail::narrow_row;
using detail::period_then_amount;
using detail::plain_writer;
using detail::relative_period;
using detail::wide_row;
using std::int64_t;
using std::size_t;
using std::uint32_t;
using std::uint64_t;

// Row indices and row counts are 32-bit.
constexpr size_t max_rows = std::numeric_limits<uint32_t>::max();
// About 317,000 years either side of 1970: far beyond any calendar a log uses, and small enough
// that no period arithmetic can overflow.
constexpr int64_t max_abs_seconds = 10'000'000'000'000;
// numpy's and pandas' missing date, NaT, in any unit: never a valid timestamp.
constexpr int64_t missing_tick = std::numeric_limits<int64_t>::min();

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
 * range index directly (slot = key - origin, with unused slots; the origin is the smallest key
 * rounded down to a key bin, so that key_counts' bins fall into whole buckets); otherwise a hash
 * set numbers the distinct keys and each row's slot is stored.
 */
class customer_slots {
 public:
  customer_slots(std::span<const int64_t> customer, const log_extent& extent)
      : customer_(customer),
        origin_(extent.min_key >> key_counts::bin_log2 << key_counts::bin_log2) {
    const uint64_t span = static_cast<uint64_t>(extent.max_key) - static_cast<uint64_t>(origin_);
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
    return row_slot_.empty() ? static_cast<uint32_t>(customer_[row] - origin_) : row_slot_[row];
  }
  /**
   * Calls `f(slot_of)` with a function object giving a row's slot (as of_row), specialised for
   * directly indexed and numbered keys so that hot loops keep its pointers in registers.
   */
  template <class F>
  decltype(auto) with_row_slots(F&& f) const {
    if (row_slot_.empty()) {
      return f([customer = customer_.data(), origin = origin_](size_t row) noexcept {
        return static_cast<uint32_t>(customer[row] - origin);
      });
    }
    return f([row_slot = row_slot_.data()](size_t row) noexcept { return row_slot[row]; });
  }
  /** Releases the per-row slots once the rows are grouped (keys stay available). */
  void forget_rows() noexcept {
    customer_ = {};
    row_slot_ = {};
  }
  [[nodiscard]] int64_t key(size_t slot) const noexcept {
    return sorted_keys_.empty() ? origin_ + static_cast<int64_t>(slot) : sorted_keys_[slot];
  }
  /** The key of slot 0 when slots index keys directly. */
  [[nodiscard]] int64_t origin() const noexcept { return origin_; }
  /** The keys by slot when they were numbered; empty when slot = key - origin. */
  [[nodiscard]] std::span<const int64_t> sorted_keys() const noexcept { return sorted_keys_; }

 private:
  std::span<const int64_t> customer_;
  int64_t origin_;
  size_t slot_count_ = 0;
  std::vector<int64_t> sorted_keys_;
  std::vector<uint32_t> row_slot_;
};

/** The size of the grouping's buckets (bucket_layout). */
struct bucket_size {
  unsigned rows_log2;
  unsigned max_shift;
};

/**
 * Sorting in cache (each_batch): about 2^14 rows a bucket, so that one bucket's rows and
 * counters stay in the first-level cache while they are sorted.
 */
constexpr bucket_size sorting_buckets{14, 16};

/**
 * Slots are cut into buckets of 2^shift consecutive slots, about 2^rows_log2 rows each and at
 * most 2^max_shift slots (unless that makes more than 2^16 buckets).
 */
struct bucket_layout {
  unsigned shift;
  size_t count;

  bucket_layout(size_t slots, size_t rows, const bucket_size& size) {
    const size_t slots_per_bucket =
        std::max<size_t>(1, (slots << size.rows_log2) / std::max<size_t>(rows, 1));
    shift = std::min(size.max_shift, static_cast<unsigned>(std::bit_width(slots_per_bucket)) - 1);
    while ((slots >> shift) >= (size_t{1} << 16)) ++shift;
    count = (slots >> shift) + 1;
  }
  [[nodiscard]] size_t of(uint32_t slot) const noexcept { return slot >> shift; }
  [[nodiscard]] size_t first_slot(size_t bucket) const noexcept { return bucket << shift; }
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

}  // namespace

checked_log check_log(std::string_view function, std::span<const int64_t> customer,
                      std::span<const int64_t> timestamp, std::span<const double> amount,
                      period_unit freq, int64_t ticks_per_second, bool count_keys) {
  const size_t n = customer.size();
  check::same_size(function, "customer", n, "timestamp", timestamp.size());
  if (!amount.empty()) check::same_size(function, "customer", n, "amount", amount.size());
  check::not_empty(function, "the transaction log", n);
  if (n > max_rows) {
    check::fail(function,
                fmt::format("the log has {} rows; at most {} are supported", n, max_rows));
  }
  if (ticks_per_second < 1 || ticks_per_second > 1'000'000'000) {
    check::fail(function,
                fmt::format("ticks_per_second = {} must be in 1..1000000000", ticks_per_second));
  }
  const tick_calendar calendar{freq, ticks_per_second};
  const size_t chunks = chunk_count(n, key_counts::chunk_rows);
  std::shared_ptr<key_counts> keys;
  if (count_keys) {
    keys = std::make_shared<key_counts>();
    keys->first_bin.resize(chunks);
    keys->rows.resize(chunks * key_counts::bins);
  }
  std::vector<uint8_t> counted(chunks, 1);
  const math::simd_isa isa = math::fastest_simd_isa();
  const log_extent extent = parallel_reduce(
      n, log_extent{},
      [&](size_t begin, size_t end) {
        const size_t chunk = begin / key_counts::chunk_rows;
        log_extent part;
        const int64_t* const keys_from = customer.data() + begin;
        const int64_t* const ticks_from = timestamp.data() + begin;
        if (keys) {
          // Bins around the first row's: the bin offsets of keys within 2^23 of it.
          const int64_t first_bin = (customer[begin] >> key_counts::bin_log2) -
                                    static_cast<int64_t>(key_counts::bins / 2);
          uint32_t* const rows = keys->rows.data() + chunk * key_counts::bins;
          std::fill_n(rows, key_counts::bins, 0);
          counted[chunk] =
              detail::measure_chunk(isa, keys_from, ticks_from, end - begin, first_bin, rows, part);
          keys->first_bin[chunk] = first_bin;
        } else {
          detail::measure_chunk(isa, keys_from, ticks_from, end - begin, 0, nullptr, part);
        }
        if (!amount.empty()) detail::check_finite_amounts(function, amount, begin, end);
        return part;
      },
      detail::merge, key_counts::chunk_rows);
  if (std::find(counted.begin(), counted.end(), 0) != counted.end()) keys.reset();
  if (extent.first_tick == missing_tick) {
    const auto row =
        std::find(timestamp.begin(), timestamp.end(), missing_tick) - timestamp.begin();
    check::fail(function, fmt::format("timestamp[{}] = {} is a missing date (numpy's NaT)", row,
                                      missing_tick));
  }
  for (const int64_t extreme : {extent.first_tick, extent.last_tick}) {
    if (!in_range(extreme, calendar)) {
      const auto row = std::find(timestamp.begin(), timestamp.end(), extreme) - timestamp.begin();
      fail_range(function, fmt::format("timestamp[{}]", row), extreme, calendar);
    }
  }
  return {extent, calendar, calendar.period(extent.first_tick), std::move(keys)};
}

int64_t periods_after_first(std::string_view function, std::string_view argument, int64_t end_tick,
                            const checked_log& log) {
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

namespace {

/**
 * Storage for grouped rows, kept between groupings: the first touch of fresh memory costs a page
 * fault and the kernel's zeroing of every page, which took as long as the rest of a grouping of
 * 10^7 rows. One released buffer, the largest, is kept for the process and lent to the next
 * grouping that fits in it (a concurrent grouping allocates its own).
 */
class row_storage {
 public:
  explicit row_storage(size_t bytes) {
    {
      const std::scoped_lock guard(kept_lock());
      if (kept().size() >= bytes) buffer_ = std::exchange(kept(), {});
    }
    if (buffer_.size() < bytes) buffer_ = detail::huge_buffer<std::byte>(bytes);
  }
  row_storage() = default;
  row_storage(row_storage&& other) noexcept : buffer_(std::exchange(other.buffer_, {})) {}
  row_storage& operator=(row_storage&& other) noexcept {
    give_back();
    buffer_ = std::exchange(other.buffer_, {});
    return *this;
  }
  row_storage(const row_storage&) = delete;
  row_storage& operator=(const row_storage&) = delete;
  ~row_storage() { give_back(); }

  template <class Row>
  [[nodiscard]] Row* rows() noexcept {
    return reinterpret_cast<Row*>(buffer_.data());
  }
  template <class Row>
  [[nodiscard]] const Row* rows() const noexcept {
    return reinterpret_cast<const Row*>(buffer_.data());
  }

 private:
  static std::mutex& kept_lock() {
    static std::mutex lock;
    return lock;
  }
  static detail::huge_buffer<std::byte>& kept() {
    static detail::huge_buffer<std::byte> buffer;
    return buffer;
  }
  void give_back() noexcept {
    if (buffer_.size() == 0) return;
    const std::scoped_lock guard(kept_lock());
    if (kept().size() < buffer_.size()) kept() = std::exchange(buffer_, {});
    buffer_ = {};
  }

  detail::huge_buffer<std::byte> buffer_;
};

}  // namespace

namespace {

/**
 * Pass 1 of the grouping: per-chunk bucket histograms and, when some rows are after the window
 * (`after_end` not empty), which slots have such rows. The byte flags are written with relaxed
 * atomic stores: plain moves, no locked instructions. When every row is in the window, the
 * timestamps are not read and no flag is written (the customers are counted from the buckets,
 * count_customers: flags written at random by two threads cost more than the whole pass).
 */
template <bool every_row_in_window>
void count_rows(const customer_slots& slots, const bucket_layout& buckets,
                std::span<const int64_t> timestamp, int64_t last_tick, std::span<uint32_t> cursor,
                std::span<uint8_t> after_end, size_t grain) {
  slots.with_row_slots([&](const auto slot_of) {
    parallel_chunks(timestamp.size(), grain, [&](size_t chunk, size_t begin, size_t end) {
      // Counted apart from `cursor`, whose neighbouring chunks' rows share cache lines.
      std::vector<uint32_t> counts(buckets.count, 0);
      uint32_t* const histogram = counts.data();
      uint8_t* const late = after_end.data();
      const int64_t* const ticks = timestamp.data();
      const unsigned shift = buckets.shift;
      for (size_t i = begin; i < end; ++i) {
        const uint32_t slot = slot_of(i);
        if (every_row_in_window || ticks[i] <= last_tick) {
          ++histogram[slot >> shift];
        } else {
          std::atomic_ref<uint8_t>(late[slot]).store(1, std::memory_order_relaxed);
        }
      }
      std::copy(counts.begin(), counts.end(), cursor.begin() + chunk * buckets.count);
    });
  });
}

/**
 * Pass 1 from the counts check_log made (every row in the window, slots indexing keys directly,
 * buckets of whole key bins): each chunk's bins added into its buckets.
 */
void count_from_key_bins(const key_counts& keys, int64_t origin, const bucket_layout& buckets,
                         std::span<uint32_t> cursor) {
  const int64_t origin_bin = origin >> key_counts::bin_log2;
  const unsigned bins_per_bucket_log2 = buckets.shift - key_counts::bin_log2;
  parallel_for(
      keys.first_bin.size(),
      [&](size_t begin, size_t end) {
        for (size_t chunk = begin; chunk < end; ++chunk) {
          const uint32_t* const rows = keys.rows.data() + chunk * key_counts::bins;
          uint32_t* const counts = cursor.data() + chunk * buckets.count;
          const int64_t first = keys.first_bin[chunk] - origin_bin;
          for (size_t b = 0; b < key_counts::bins; ++b) {
            if (rows[b] != 0)
              counts[(first + static_cast<int64_t>(b)) >> bins_per_bucket_log2] += rows[b];
          }
        }
      },
      16);
}

/** What the scatter does with the amounts: none to read (rows get 0), copy, or copy and see
 * whether every one is finite (for amounts check_log did not check). */
enum class amount_pass { none, copy, copy_and_check };

/**
 * Pass 2: the stable scatter of every used row's period, slot and amount into its bucket, staged
 * by line_writer when a chunk's run in a bucket is four staged blocks long or more on average.
 * Returns whether no used row's amount was seen non-finite (seen on the way with
 * copy_and_check, so that no later pass has to look).
 */
template <bool every_row_in_window, amount_pass amounts_used, class Row>
bool scatter_rows(const customer_slots& slots, const bucket_layout& buckets,
                  std::span<const int64_t> timestamp, std::span<const double> amount,
                  const relative_period& period_of, int64_t last_tick, std::span<uint32_t> cursor,
                  Row* bucket_rows, size_t grain) {
  std::atomic<bool> finite{true};
  const bool staged = buckets.count * line_writer::block * 4 <= grain * sizeof(Row);
  slots.with_row_slots([&](const auto slot_of) {
    const auto scatter_chunk = [&](auto& writer, size_t begin, size_t end) {
      // Copies, not references: the writer's byte stores could alias what a reference reaches.
      const auto slot_of_row = slot_of;
      const int64_t* const ticks = timestamp.data();
      const double* const amounts = amount.data();
      const relative_period period = period_of;
      const unsigned shift = buckets.shift;
      const uint32_t mask = (uint32_t{1} << shift) - 1;
      relative_period::recent last = period.first();
      auto period_bits = Row::period_bits(0, shift);
      detail::amount_exponents exponents;
      for (size_t i = begin; i < end; ++i) {
        const int64_t ticks_i = ticks[i];
        if (!every_row_in_window && ticks_i > last_tick) continue;
        if (!period.holds(ticks_i, last)) [[unlikely]] {
          period.move_to(ticks_i, last);
          period_bits = Row::period_bits(last.period, shift);
        }
        const uint32_t slot = slot_of_row(i);
        const double value = amounts_used == amount_pass::none ? 0.0 : amounts[i];
        if constexpr (amounts_used == amount_pass::copy_and_check) exponents.see(value);
        writer.put(slot >> shift, Row::make(period_bits, slot & mask, value));
      }
      writer.finish();
      if (!exponents.finite()) finite.store(false, std::memory_order_relaxed);
    };
    parallel_chunks(timestamp.size(), grain, [&](size_t chunk, size_t begin, size_t end) {
      uint32_t* const first = cursor.data() + chunk * buckets.count;
      if (staged) {
        line_writer writer(buckets.count);
        writer.start(reinterpret_cast<std::byte*>(bucket_rows), first, sizeof(Row));
        scatter_chunk(writer, begin, end);
      } else {
        plain_writer<Row> writer{bucket_rows, first};
        scatter_chunk(writer, begin, end);
      }
    });
  });
  return finite.load();
}

/** The rows of a log at or before a last tick, scattered into buckets (see customer_groups). */
struct grouping_state {
  customer_slots slots;
  bucket_layout buckets;
  std::vector<uint32_t> bucket_begin;  // bucket b's rows: [bucket_begin[b], bucket_begin[b + 1])
  std::vector<size_t> customer_begin;  // bucket b's first customer
  // Each used row as a narrow_row (when its periods fit) or a wide_row, bucket by bucket: bucket
  // b's rows from row row_start[b] on, which is even so that every bucket starts 8-byte aligned.
  std::vector<size_t> row_start;
  row_storage bucket_rows;
  bool narrow_rows = false;
  size_t customers_after_end = 0;
  // Customers numbered by slot (customer_begin[b] = bucket b's first slot), not counted.
  bool by_slot = false;
  bool amounts_finite = true;  // no used row's amount seen non-finite (see check_amounts)

  /** `by_slot_allowed`: numbers the customers by slot when every row is in the window and there
   * are 4 rows or more per slot (see bucket_counts); `check_amounts`: as for_each_bucket's. */
  grouping_state(std::span<const int64_t> customer, std::span<const int64_t> timestamp,
                 std::span<const double> amount, const checked_log& log, int64_t last_tick,
                 const bucket_size& size = sorting_buckets, bool by_slot_allowed = false,
                 bool check_amounts = false);
};

/**
 * Numbers the customers (slots with rows in the window) bucket by bucket in slot order, from a
 * bitmap of each bucket's slots marked by its rows, in cache; counts the customers whose every
 * row is after the window (`after_end`: slots with such rows; empty when there are none).
 */
template <class Row>
void count_customers(grouping_state& s, std::span<const Row> rows,
                     std::span<const uint8_t> after_end) {
  const size_t B = s.buckets.count;
  s.customer_begin.assign(B + 1, 0);
  std::vector<size_t> after_end_only(B, 0);
  parallel_for(
      B,
      [&](size_t begin, size_t end) {
        std::vector<uint64_t> seen;
        for (size_t b = begin; b < end; ++b) {
          const size_t first_slot = s.buckets.first_slot(b);
          const size_t width = std::min(s.slots.size(), s.buckets.first_slot(b + 1)) - first_slot;
          seen.assign((width + 63) / 64, 0);
          const unsigned shift = s.buckets.shift;
          for (const Row& row :
               rows.subspan(s.row_start[b], s.bucket_begin[b + 1] - s.bucket_begin[b])) {
            const uint32_t w = row.slot(shift);
            seen[w / 64] |= uint64_t{1} << (w % 64);
          }
          size_t customers = 0;
          for (const uint64_t word : seen) customers += static_cast<size_t>(std::popcount(word));
          s.customer_begin[b + 1] = customers;
          if (after_end.empty()) continue;
          for (size_t w = 0; w < width; ++w)
            after_end_only[b] += after_end[first_slot + w] & ((seen[w / 64] >> (w % 64) & 1) ^ 1);
        }
      },
      4);
  for (size_t b = 0; b < B; ++b) s.customer_begin[b + 1] += s.customer_begin[b];
  for (const size_t count : after_end_only) s.customers_after_end += count;
}

}  // namespace

grouping_state::grouping_state(std::span<const int64_t> customer,
                               std::span<const int64_t> timestamp, std::span<const double> amount,
                               const checked_log& log, int64_t last_tick, const bucket_size& size,
                               bool by_slot_allowed, bool check_amounts)
    : slots(customer, log.extent), buckets(slots.size(), customer.size(), size) {
  grouping_state& s = *this;
  const size_t n = customer.size();
  const size_t B = s.buckets.count;
  constexpr size_t grain = key_counts::chunk_rows;
  const size_t chunks = chunk_count(n, grain);
  const bool every_row_in_window = log.extent.last_tick <= last_tick;
  s.by_slot = by_slot_allowed && every_row_in_window && s.slots.size() * 4 <= n;

  auto cursor = detail::large_vector<uint32_t>(chunks * B, 0);
  auto after_end = detail::large_vector<uint8_t>(every_row_in_window ? 0 : s.slots.size(), 0);
  if (every_row_in_window && log.keys && s.slots.sorted_keys().empty() &&
      s.buckets.shift >= key_counts::bin_log2) {
    count_from_key_bins(*log.keys, s.slots.origin(), s.buckets, cursor);
  } else {
    (every_row_in_window ? count_rows<true> : count_rows<false>)(s.slots, s.buckets, timestamp,
                                                                 last_tick, cursor, after_end,
                                                                 grain);
  }
  // Bucket b's rows go to [bucket_begin[b], bucket_begin[b + 1]), chunk by chunk in order.
  s.bucket_begin.assign(B + 1, 0);
  uint32_t running = 0;
  for (size_t b = 0; b < B; ++b) {
    s.bucket_begin[b] = running;
    for (size_t c = 0; c < chunks; ++c) running += std::exchange(cursor[c * B + b], running);
  }
  s.bucket_begin[B] = running;

  const relative_period period_of(log.calendar, log.first_period);
  const uint64_t last_period = period_of(std::min(last_tick, log.extent.last_tick));
  s.narrow_rows = last_period < (uint64_t{1} << (32 - s.buckets.shift));
  s.row_start.resize(B + 1);
  size_t start = 0;
  for (size_t b = 0; b <= B; ++b) {
    s.row_start[b] = start;
    if (b == B) break;
    const size_t shift = start - s.bucket_begin[b];
    for (size_t c = 0; c < chunks; ++c) cursor[c * B + b] += static_cast<uint32_t>(shift);
    start += s.bucket_begin[b + 1] - s.bucket_begin[b];
    if (s.narrow_rows) start += start & 1;
  }
  if (start > max_rows) {
    check::fail("grouping", fmt::format("{} rows with one row of padding per bucket of customers "
                                        "are more than the {} supported",
                                        start, max_rows));
  }
  const auto scatter = [&]<class Row>(std::type_identity<Row>) {
    s.bucket_rows = row_storage(start * sizeof(Row));
    Row* rows = s.bucket_rows.rows<Row>();
    const auto pass_for = [&]<bool in_window>(std::bool_constant<in_window>) {
      if (amount.empty()) return scatter_rows<in_window, amount_pass::none, Row>;
      return check_amounts ? scatter_rows<in_window, amount_pass::copy_and_check, Row>
                           : scatter_rows<in_window, amount_pass::copy, Row>;
    };
    const auto pass =
        every_row_in_window ? pass_for(std::true_type{}) : pass_for(std::false_type{});
    s.amounts_finite =
        pass(s.slots, s.buckets, timestamp, amount, period_of, last_tick, cursor, rows, grain);
    if (s.by_slot) {
      s.customer_begin.resize(B + 1);
      for (size_t b = 0; b <= B; ++b)
        s.customer_begin[b] = std::min(s.slots.size(), s.buckets.first_slot(b));
    } else {
      count_customers(s, std::span<const Row>(rows, start), after_end);
    }
  };
  if (s.narrow_rows) {
    scatter(std::type_identity<narrow_row>{});
  } else {
    scatter(std::type_identity<wide_row>{});
  }
  s.slots.forget_rows();
}

struct customer_groups::state : grouping_state {
  using grouping_state::grouping_state;
};

customer_groups::customer_groups(std::span<const int64_t> customer,
                                 std::span<const int64_t> timestamp, std::span<const double> amount,
                                 const checked_log& log, int64_t last_tick)
    : state_(std::make_unique<state>(customer, timestamp, amount, log, last_tick)) {}

customer_groups::customer_groups(customer_groups&&) noexcept = default;
customer_groups& customer_groups::operator=(customer_groups&&) noexcept = default;
customer_groups::~customer_groups() = default;

size_t customer_groups::customers() const noexcept {
  return state_->customer_begin.back();
}
size_t customer_groups::rows_used() const noexcept {
  return state_->bucket_begin.back();
}
size_t customer_groups::customers_after_end() const noexcept {
  return state_->customers_after_end;
}

namespace {

/**
 * Calls `visit(batch, b)` for each bucket b with customers, in parallel; per bucket, in cache:
 * counting-sorts the rows by slot, then sorts each customer's rows by (period, amount). The
 * bucket's stored rows are all read before `visit` is called, so it may overwrite them.
 */
template <class Visit>
void each_batch(const grouping_state& s, const Visit& visit) {
  const auto each_bucket = [&]<class Row>(std::type_identity<Row>) {
    parallel_for(
        s.buckets.count,
        [&](size_t begin, size_t end) {
          std::vector<uint32_t> slot_start, offsets;
          std::vector<keyed_row> sorted;
          std::vector<int64_t> keys;
          for (size_t b = begin; b < end; ++b) {
            const std::span<const Row> rows(s.bucket_rows.rows<Row>() + s.row_start[b],
                                            s.bucket_begin[b + 1] - s.bucket_begin[b]);
            const unsigned shift = s.buckets.shift;
            const size_t first_slot = s.buckets.first_slot(b);
            const size_t width = std::min(s.slots.size(), s.buckets.first_slot(b + 1)) - first_slot;
            slot_start.assign(width + 1, 0);
            for (const Row& row : rows) ++slot_start[row.slot(shift) + 1];
            for (size_t w = 0; w < width; ++w) slot_start[w + 1] += slot_start[w];
            sorted.resize(rows.size());
            for (const Row& row : rows) sorted[slot_start[row.slot(shift)]++] = row.unpack(shift);
            keys.clear();
            offsets.assign(1, 0);
            for (size_t w = 0, from = 0; w < width; ++w) {
              const size_t to = slot_start[w];  // the counting sort left each start at its end
              if (to == from) continue;
              const auto first = sorted.begin() + static_cast<std::ptrdiff_t>(from);
              const auto last = sorted.begin() + static_cast<std::ptrdiff_t>(to);
              // A log in time order leaves most customers' rows in order already.
              if (!std::is_sorted(first, last, period_then_amount))
                std::sort(first, last, period_then_amount);
              keys.push_back(s.slots.key(first_slot + w));
              offsets.push_back(static_cast<uint32_t>(to));
              from = to;
            }
            if (!keys.empty())
              visit(customer_batch{s.customer_begin[b], s.bucket_begin[b], keys, offsets, sorted},
                    b);
          }
        },
        4);
  };
  if (s.narrow_rows) {
    each_bucket(std::type_identity<narrow_row>{});
  } else {
    each_bucket(std::type_identity<wide_row>{});
  }
}

}  // namespace

void customer_groups::for_each_batch(
    const std::function<void(const customer_batch&)>& visit) const {
  each_batch(*state_, [&](const customer_batch& batch, size_t) { visit(batch); });
}

customer_periods::customer_periods(std::span<const int64_t> customer,
                                   std::span<const int64_t> timestamp,
                                   std::span<const double> amount, const checked_log& log,
                                   int64_t last_tick)
    : log_(log), last_tick_(last_tick), has_amount_(!amount.empty()), rows_(customer.size()) {
  grouping_state groups(customer, timestamp, amount, log, last_tick);
  const size_t customers = groups.customer_begin.back();
  rows_used_ = groups.bucket_begin.back();
  customers_after_end_ = groups.customers_after_end;
  keys_ = detail::large_vector<int64_t>(customers);
  period_at_ = detail::large_vector<uint64_t>(customers);
  total_at_ = detail::large_vector<uint64_t>(customers);
  count_ = detail::large_vector<uint32_t>(customers);
  // Bucket b's m periods are written over its own rows (8-byte aligned, at least 12 bytes a row,
  // all read before the batch is visited): m totals, then m periods. Only written entries are
  // ever read.
  auto* const base = groups.bucket_rows.rows<std::byte>();
  const size_t row_bytes = groups.narrow_rows ? sizeof(narrow_row) : sizeof(wide_row);
  each_batch(groups, [&](const customer_batch& batch, size_t b) {
    size_t entries = 0;
    for (size_t i = 0; i < batch.rows.size(); ++i)
      entries += i == 0 || batch.rows[i].key != batch.rows[i - 1].key;
    const size_t first_byte = groups.row_start[b] * row_bytes;
    const size_t first_total = first_byte / sizeof(double);
    const size_t first_period = (first_byte + entries * sizeof(double)) / sizeof(uint32_t);
    auto* const totals = reinterpret_cast<double*>(base + first_byte);
    auto* const periods = reinterpret_cast<uint32_t*>(base + first_byte + entries * sizeof(double));
    size_t at = 0;
    for (size_t k = 0; k < batch.size(); ++k) {
      const size_t j = batch.first + k;
      keys_[j] = batch.keys[k];
      total_at_[j] = first_total + at;
      period_at_[j] = first_period + at;
      const size_t begin = at;
      period_totals::each(batch.rows_of(k), [&](int64_t period, double total) {
        periods[at] = static_cast<uint32_t>(period);
        totals[at] = total;
        ++at;
      });
      count_[j] = static_cast<uint32_t>(at - begin);
    }
  });
  base_ = base;
  storage_ = {new row_storage(std::move(groups.bucket_rows)),
              [](void* storage) { delete static_cast<row_storage*>(storage); }};
}

void detail::for_each_bucket(std::span<const int64_t> customer, std::span<const int64_t> timestamp,
                             std::span<const double> amount, const checked_log& log,
                             int64_t last_tick, bool check_amounts,
                             const std::function<void(const bucket_counts&)>& prepare,
                             const std::function<void(const bucket_view&)>& visit) {
  // A visit keeps a state per slot of its bucket (the summary's 32 bytes: 512 KiB at 2^14
  // slots, in the second-level cache) and reads the rows once, in order: buckets 16 times the
  // sorting ones leave the scatter a sixteenth of the write streams.
  const grouping_state s(customer, timestamp, amount, log, last_tick, bucket_size{18, 14}, true,
                         check_amounts);
  prepare({s.customer_begin.back(), s.bucket_begin.back(), s.customers_after_end, s.buckets.count,
           s.by_slot, s.amounts_finite});
  const size_t row_bytes = s.narrow_rows ? sizeof(narrow_row) : sizeof(wide_row);
  const auto* storage = s.bucket_rows.rows<std::byte>();
  parallel_for(
      s.buckets.count,
      [&](size_t begin, size_t end) {
        for (size_t b = begin; b < end; ++b) {
          const size_t rows = s.bucket_begin[b + 1] - s.bucket_begin[b];
          if (rows == 0) continue;
          const size_t first_slot = s.buckets.first_slot(b);
          visit({.index = b,
                 .first_customer = s.customer_begin[b],
                 .first_slot = first_slot,
                 .width = std::min(s.slots.size(), s.buckets.first_slot(b + 1)) - first_slot,
                 .shift = s.buckets.shift,
                 .narrow = s.narrow_rows,
                 .rows = storage + s.row_start[b] * row_bytes,
                 .size = rows,
                 .key_origin = s.slots.origin(),
                 .sorted_keys = s.slots.sorted_keys()});
        }
      },
      1);
}

}  // namespace crmkit::data
