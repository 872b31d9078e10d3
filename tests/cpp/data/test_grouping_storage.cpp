#include <crmkit/data/grouping.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace cd = crmkit::data;
using crmkit::data::period_unit;

namespace {

struct period_log {
  std::vector<std::int64_t> customer, timestamp;
  std::vector<double> amount;
};

/**
 * `customers` customers with 1..`max_rows` rows each at `spacing`-second steps (several rows per
 * period for short spacings), keys spread over `key_step` so that both the direct and the hashed
 * numbering of keys occur, rows shuffled.
 */
period_log make_log(std::size_t customers, int max_rows, std::int64_t spacing,
                    std::int64_t key_step, unsigned seed) {
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> rows(1, max_rows);
  std::uniform_int_distribution<std::int64_t> step(0, 40);
  std::uniform_int_distribution<int> cents(1, 100'000);
  period_log log;
  for (std::size_t c = 0; c < customers; ++c) {
    const std::int64_t key = 7 + static_cast<std::int64_t>(c) * key_step;
    std::int64_t time = 915'148'800 + step(random) * spacing;  // 1999-01-01 on
    for (int r = rows(random); r > 0; --r) {
      log.customer.push_back(key);
      log.timestamp.push_back(time);
      log.amount.push_back(cents(random) / 100.0);
      time += step(random) * spacing;
    }
  }
  std::vector<std::size_t> order(log.customer.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), random);
  period_log shuffled;
  for (const std::size_t i : order) {
    shuffled.customer.push_back(log.customer[i]);
    shuffled.timestamp.push_back(log.timestamp[i]);
    shuffled.amount.push_back(log.amount[i]);
  }
  return shuffled;
}

/**
 * Checks customer_periods against an independent grouping with std::map: per customer, each
 * distinct period relative to the log's first, with its amounts added in ascending order from 0
 * (one amount: itself), as period_totals documents.
 */
void check_against_maps(const period_log& log, period_unit unit, std::int64_t last_tick) {
  const cd::checked_log checked =
      cd::check_log("test", log.customer, log.timestamp, log.amount, unit, 1);
  const cd::customer_periods grouped(log.customer, log.timestamp, log.amount, checked, last_tick);
  std::map<std::int64_t, std::map<std::int64_t, std::vector<double>>> expected;
  std::map<std::int64_t, bool> seen;
  std::size_t rows_used = 0;
  for (std::size_t i = 0; i < log.customer.size(); ++i) {
    seen.emplace(log.customer[i], false);
    if (log.timestamp[i] > last_tick) continue;
    ++rows_used;
    seen[log.customer[i]] = true;
    const std::int64_t period = checked.calendar.period(log.timestamp[i]) - checked.first_period;
    expected[log.customer[i]][period].push_back(log.amount[i]);
  }
  std::size_t after_end_only = 0;
  for (const auto& [key, used] : seen) after_end_only += used ? 0 : 1;
  REQUIRE(grouped.customers() == expected.size());
  CHECK(grouped.rows_used() == rows_used);
  CHECK(grouped.rows() == log.customer.size());
  CHECK(grouped.customers_after_end() == after_end_only);
  std::size_t j = 0, mismatches = 0;
  for (auto& [key, periods] : expected) {
    CHECK(grouped.keys()[j] == key);
    const auto got_periods = grouped.periods(j);
    const auto got_totals = grouped.totals(j);
    REQUIRE(got_periods.size() == periods.size());
    REQUIRE(got_totals.size() == periods.size());
    std::size_t k = 0;
    for (auto& [period, amounts] : periods) {
      std::sort(amounts.begin(), amounts.end());
      double total = amounts.front();
      if (amounts.size() > 1) {
        total = 0;
        for (const double a : amounts) total += a;
      }
      mismatches += got_periods[k] != static_cast<std::uint32_t>(period) ? 1 : 0;
      mismatches += got_totals[k] != total ? 1 : 0;
      ++k;
    }
    ++j;
  }
  CHECK(mismatches == 0);
}

}  // namespace

// customer_periods writes each bucket's periods and totals over the bucket's own grouped rows
// (grouping.cpp); buckets of odd sizes, narrow (12-byte) and wide (16-byte) rows, and customers
// whose rows all come after the end must all give the independent grouping's values.
TEST_CASE("customer_periods over the grouping's storage: the map grouping's periods and totals") {
  SUBCASE("days, narrow rows, keys indexed directly, several buckets") {
    const period_log log = make_log(30'001, 9, 3'600 * 5, 1, 3);
    const std::int64_t end = *std::max_element(log.timestamp.begin(), log.timestamp.end());
    check_against_maps(log, period_unit::day, end);
    check_against_maps(log, period_unit::day, end - 86'400 * 30);
  }
  SUBCASE("days, keys numbered through the hash set") {
    const period_log log = make_log(20'003, 7, 86'400, 1'000'003, 4);
    const std::int64_t end = *std::max_element(log.timestamp.begin(), log.timestamp.end());
    check_against_maps(log, period_unit::day, end - 86'400 * 37);
  }
  SUBCASE("hours over centuries: wide rows") {
    // Steps of up to 40 x 3 years: the last period is ~10^7 hours, beyond narrow rows' 2^21.
    const period_log log = make_log(25'007, 8, 86'400 * 365 * 3, 1, 5);
    const std::int64_t end = *std::max_element(log.timestamp.begin(), log.timestamp.end());
    check_against_maps(log, period_unit::hour, end);
    check_against_maps(log, period_unit::hour, end / 2);
  }
}
