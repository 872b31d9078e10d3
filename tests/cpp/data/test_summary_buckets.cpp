#include <crmkit/core/check.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/data/grouping.hpp>
#include <crmkit/data/summary.hpp>

#include <doctest/doctest.h>

#include "summary_checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

// The summary of a log in no customer order groups its rows into buckets of up to 2^14 customer
// slots of about 2^18 rows (grouping.cpp's for_each_bucket), larger than the sorting path's
// buckets of about 2^14 rows (customer_periods). The reference throughout is that sorting path:
// customer_periods groups and sorts every customer's rows, and summarize(grouped) adds them up,
// so the two share no bucket layout. Every log here is summarised in time order, shuffled and in
// customer order at 1, 2 and 3 threads, and must give the reference's bits.
namespace cd = crmkit::data;

namespace {

constexpr std::int64_t day = 86'400;

struct log_columns {
  std::vector<std::int64_t> customer, timestamp;
  std::vector<double> amount;

  void add(std::int64_t key, std::int64_t when, double value) {
    customer.push_back(key);
    timestamp.push_back(when);
    amount.push_back(value);
  }

  /** The rows reordered by `before` (a strict weak order on row indices), stably. */
  template <class Before>
  [[nodiscard]] log_columns reordered(Before before) const {
    std::vector<std::size_t> order(customer.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), before);
    log_columns out;
    for (const std::size_t i : order) out.add(customer[i], timestamp[i], amount[i]);
    return out;
  }
  [[nodiscard]] log_columns by_time() const {
    return reordered([&](std::size_t a, std::size_t b) { return timestamp[a] < timestamp[b]; });
  }
  [[nodiscard]] log_columns by_customer() const {
    return reordered([&](std::size_t a, std::size_t b) { return customer[a] < customer[b]; });
  }
  [[nodiscard]] log_columns shuffled(std::uint64_t seed) const {
    std::vector<std::size_t> order(customer.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    log_columns out;
    for (const std::size_t i : order) out.add(customer[i], timestamp[i], amount[i]);
    return out;
  }
};

/**
 * `keys` customers, each with 1..2 * mean_rows - 1 rows on random days of 2000..2001 (some
 * days twice or three times, amounts whose sums depend on the order of addition), in time order.
 */
log_columns random_log(const std::vector<std::int64_t>& keys, int mean_rows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> rows(1, 2 * mean_rows - 1);
  std::uniform_int_distribution<std::int64_t> when(946'684'800, 946'684'800 + 730 * day);
  std::uniform_int_distribution<int> copies(0, 9);
  std::uniform_real_distribution<double> spend(-5.0, 100.0);
  log_columns log;
  for (const std::int64_t key : keys) {
    for (int r = rows(rng); r > 0; --r) {
      const std::int64_t t = when(rng);
      const int same_day = copies(rng) == 0 ? 3 : 1;
      for (int k = 0; k < same_day; ++k) log.add(key, t + k, k == 1 ? 1e16 : spend(rng));
    }
  }
  return log.by_time();
}

cd::customer_summary reference(const log_columns& log, const cd::summary_options& options) {
  const cd::checked_log checked =
      cd::check_log("test", log.customer, log.timestamp, log.amount, options.freq, 1);
  const std::int64_t end = options.observation_period_end.value_or(checked.extent.last_tick);
  const cd::customer_periods grouped(log.customer, log.timestamp, log.amount, checked,
                                     checked.calendar.last_tick(checked.calendar.period(end)));
  return cd::summarize(grouped, options);
}

using summary_test::check_identical;

/** Checks the log in time, shuffled and customer order at 1, 2, 3 threads against the reference. */
void check_all_orders(const log_columns& time_ordered, const cd::summary_options& options) {
  const auto expected = reference(time_ordered, options);
  const log_columns shuffled = time_ordered.shuffled(17);
  const log_columns by_customer = time_ordered.by_customer();
  const std::size_t saved = crmkit::num_threads();
  for (const std::size_t threads : {1, 2, 3}) {
    CAPTURE(threads);
    crmkit::set_num_threads(threads);
    for (const log_columns* log : {&time_ordered, &shuffled, &by_customer}) {
      check_identical(cd::summarize(log->customer, log->timestamp, log->amount, options), expected);
    }
  }
  crmkit::set_num_threads(saved);
}

std::vector<std::int64_t> consecutive_keys(std::int64_t first, std::size_t count) {
  std::vector<std::int64_t> keys(count);
  std::iota(keys.begin(), keys.end(), first);
  return keys;
}

using summary_test::error_of;

}  // namespace

// 20,000 customers with about 40 rows each: buckets of 2^12 slots (2^18 rows / 40 rows a
// customer, rounded down to a power of two), five of them; the sorting path's are 2^8 slots.
TEST_CASE("summary buckets: many buckets, every row in the window and some after the end") {
  const log_columns log = random_log(consecutive_keys(5, 20'000), 40, 1);
  REQUIRE(log.customer.size() > 700'000);
  for (const bool include_first : {false, true}) {
    CAPTURE(include_first);
    check_all_orders(log, {.freq_multiplier = 7, .include_first_transaction = include_first});
  }
  const auto late = cd::summarize(log.customer, log.timestamp, log.amount,
                                  {.observation_period_end = 946'684'800 + 300 * day});
  CHECK(late.rows_used < log.customer.size());
  check_all_orders(log, {.observation_period_end = 946'684'800 + 300 * day});
}

// 300 customers with about 5 rows each: a single bucket (its 300 slots are fewer than 2^14).
TEST_CASE("summary buckets: one bucket") {
  const log_columns log = random_log(consecutive_keys(-150, 300), 5, 2);
  check_all_orders(log, {});
  check_all_orders(log, {.freq = cd::period_unit::week, .include_first_transaction = true});
}

// The streaming pass keeps a period's amounts after the first three to an entry of its extra
// list, the entries chained: periods of 1 to 40 rows (up to 14 entries), amounts whose sum depends
// on the order of addition, must add up as the sorting path adds them.
TEST_CASE("summary buckets: periods of many rows, their amounts chained") {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> rows_in_period(1, 40);
  std::uniform_int_distribution<int> periods(1, 12);
  std::uniform_int_distribution<std::int64_t> gap(1, 60);
  std::uniform_real_distribution<double> spend(-5.0, 100.0);
  log_columns log;
  for (std::int64_t key = 0; key < 3'000; ++key) {
    std::int64_t when = 946'684'800 + gap(rng) * day;
    for (int p = periods(rng); p > 0; --p) {
      const int rows = key % 3 == 0 ? rows_in_period(rng) : 1 + rows_in_period(rng) % 3;
      for (int r = 0; r < rows; ++r) log.add(key, when + r, r % 7 == 3 ? 1e16 : spend(rng));
      when += gap(rng) * day;
    }
  }
  const log_columns time_ordered = log.by_time();
  check_all_orders(time_ordered, {});
  check_all_orders(time_ordered, {.freq_multiplier = 7, .include_first_transaction = true});
}

// With every row in the window and 4 rows or more per key slot, the streaming pass numbers
// customers by slot and closes the gaps of unused slots at the end (summary.cpp's
// close_slot_gaps). Keys here leave two slots of three unused, and one run of 100,000 unused slots
// makes whole buckets empty; buckets of 2^14 slots, 10 of them. The reference numbers customers
// by counting them (customer_periods).
TEST_CASE("summary buckets: customers numbered by slot, with unused slots and empty buckets") {
  std::vector<std::int64_t> keys;
  for (std::int64_t k = 0; k < 25'000; ++k) keys.push_back(-40'000 + 3 * k);
  for (std::int64_t k = 0; k < 25'000; ++k) keys.push_back(135'000 + 3 * k);
  const log_columns log = random_log(keys, 20, 6);
  REQUIRE((keys.back() - keys.front() + 1) * 4 <= static_cast<std::int64_t>(log.customer.size()));
  const auto summary = cd::summarize(log.customer, log.timestamp, log.amount);
  CHECK(summary.customer == keys);
  check_all_orders(log, {.freq_multiplier = 7});
  check_all_orders(log, {.include_first_transaction = true});
}

// The streaming pass keeps periods plus one (summary.cpp's stream_state), so the last of the
// 2^32 periods an observation window may span would wrap to 0; there it leaves every bucket to
// the sorting path. Hours from 2^32 - 1 hours before the last row (both within the 300,000 years
// check_log allows): customer 3's only row and customer 1's second are in that last period.
TEST_CASE("summary buckets: rows in the last of 2^32 periods") {
  constexpr std::int64_t hour = 3'600;
  constexpr std::int64_t last_period = 4'294'967'295;
  constexpr std::int64_t first = -2'777'777'777 * hour;  // -9,999,999,997,200 s, an hour's start
  constexpr std::int64_t last = first + last_period * hour;
  log_columns log;  // in time order, keys not ascending (the customer runs decline it)
  log.add(2, first, 4.0);
  log.add(1, first + 1, 8.0);
  log.add(1, last, 16.0);
  log.add(3, last + 1, 32.0);
  const cd::summary_options hours{.freq = cd::period_unit::hour};
  const auto summary = cd::summarize(log.customer, log.timestamp, log.amount, hours);
  const auto periods = static_cast<double>(last_period);
  CHECK(summary.customer == std::vector<std::int64_t>{1, 2, 3});
  CHECK(summary.frequency == std::vector<double>{1, 0, 0});
  CHECK(summary.recency == std::vector<double>{periods, 0, 0});
  CHECK(summary.T == std::vector<double>{periods, periods, 0});
  CHECK(summary.monetary_value == std::vector<double>{16, 0, 0});
  check_all_orders(log, hours);
  check_all_orders(log, {.freq = cd::period_unit::hour, .include_first_transaction = true});
}

// Keys spanning the whole int64 range are numbered through a hash set (slots in key order).
TEST_CASE("summary buckets: keys at the extremes of int64") {
  constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t highest = std::numeric_limits<std::int64_t>::max();
  std::vector<std::int64_t> keys{lowest, lowest + 1, -1, 0, 1, highest - 1, highest};
  std::mt19937_64 rng(3);
  for (int k = 0; k < 30'000; ++k) keys.push_back(static_cast<std::int64_t>(rng()));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const log_columns log = random_log(keys, 12, 4);
  const auto summary = cd::summarize(log.customer, log.timestamp, log.amount);
  REQUIRE(summary.size() == keys.size());
  CHECK(summary.customer.front() == lowest);
  CHECK(summary.customer.back() == highest);
  check_all_orders(log, {.freq_multiplier = 7});
}

// A non-finite amount is named by its first row in row order whichever pass meets it: the
// grouping's scatter, the rescan of rows after the observation end, the customer runs.
TEST_CASE("summary buckets: the first bad amount is named in every pass") {
  log_columns log = random_log(consecutive_keys(0, 20'000), 40, 5);
  const std::size_t n = log.customer.size();
  const std::size_t first = n / 3, second = n - 5;
  log.amount[second] = std::numeric_limits<double>::quiet_NaN();
  log.amount[first] = std::numeric_limits<double>::infinity();
  const std::string named = "summarize: amount[" + std::to_string(first) + "] = inf must be finite";
  const std::size_t saved = crmkit::num_threads();
  for (const std::size_t threads : {1, 2, 3}) {
    CAPTURE(threads);
    crmkit::set_num_threads(threads);
    CHECK(error_of(log) == named);
    CHECK(error_of(log, {.observation_period_end = 946'684'800 + 300 * day}) == named);
  }
  // In customer order the rows move: the first bad row is the one that comes first there.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return log.customer[a] < log.customer[b]; });
  const auto at_first = std::find(order.begin(), order.end(), first) - order.begin();
  const auto at_second = std::find(order.begin(), order.end(), second) - order.begin();
  const log_columns by_customer = log.by_customer();
  const auto moved = static_cast<std::size_t>(std::min(at_first, at_second));
  const std::string value = at_first < at_second ? "inf" : "nan";
  for (const std::size_t threads : {1, 2, 3}) {
    CAPTURE(threads);
    crmkit::set_num_threads(threads);
    CHECK(error_of(by_customer) ==
          "summarize: amount[" + std::to_string(moved) + "] = " + value + " must be finite");
  }
  crmkit::set_num_threads(saved);
}

// check_log's key counts (checked_log::keys) size the summary's buckets in place of a pass over
// the keys: each chunk of key_counts::chunk_rows rows counts its rows per bin of 2^bin_log2 keys,
// in a table of bins around its first row's bin; a log whose chunk spreads wider gets none.
TEST_CASE("summary buckets: rows counted per key bin while the log is checked") {
  using cd::key_counts;
  const auto check_counts = [](const log_columns& log) {
    const cd::checked_log checked = cd::check_log("test", log.customer, log.timestamp, log.amount,
                                                  cd::period_unit::day, 1, true);
    REQUIRE(checked.keys != nullptr);
    const key_counts& keys = *checked.keys;
    const std::size_t chunks =
        (log.customer.size() + key_counts::chunk_rows - 1) / key_counts::chunk_rows;
    REQUIRE(keys.first_bin.size() == chunks);
    for (std::size_t c = 0; c < chunks; ++c) {
      CAPTURE(c);
      std::vector<std::uint32_t> expected(key_counts::bins, 0);
      const std::size_t end = std::min(log.customer.size(), (c + 1) * key_counts::chunk_rows);
      for (std::size_t i = c * key_counts::chunk_rows; i < end; ++i) {
        // floor(key / 2^bin_log2), written as a division
        const std::int64_t key = log.customer[i];
        const std::int64_t bin_keys = std::int64_t{1} << key_counts::bin_log2;
        const std::int64_t bin = key >= 0 ? key / bin_keys : -((-key + bin_keys - 1) / bin_keys);
        const std::int64_t at = bin - keys.first_bin[c];
        REQUIRE(at >= 0);
        REQUIRE(at < static_cast<std::int64_t>(key_counts::bins));
        ++expected[static_cast<std::size_t>(at)];
      }
      const std::vector<std::uint32_t> counted(keys.rows.begin() + c * key_counts::bins,
                                               keys.rows.begin() + (c + 1) * key_counts::bins);
      CHECK(counted == expected);
    }
  };
  // Negative keys, the smallest not on a bin's edge; four chunks.
  const log_columns negative = random_log(consecutive_keys(-6'001, 15'000), 12, 3);
  REQUIRE(negative.customer.size() > 3 * key_counts::chunk_rows);
  check_counts(negative);
  check_counts(negative.shuffled(5));
  check_all_orders(negative, {.observation_period_end = negative.timestamp.back()});
  CHECK(cd::check_log("test", negative.customer, negative.timestamp, negative.amount,
                      cd::period_unit::day, 1)
            .keys == nullptr);

  // Keys 2^23 + 2^12 apart in one chunk: beyond its table, so no counts; the grouping counts
  // the keys itself and the summary is the same.
  std::vector<std::int64_t> wide_keys = consecutive_keys(100, 3'000);
  wide_keys.push_back(100 + (std::int64_t{1} << 23) + 4096);
  const log_columns wide = random_log(wide_keys, 10, 4);
  CHECK(cd::check_log("test", wide.customer, wide.timestamp, wide.amount, cd::period_unit::day, 1,
                      true)
            .keys == nullptr);
  check_all_orders(wide, {});
}
