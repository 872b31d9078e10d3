#include <crmkit/core/check.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/data/summary.hpp>

#include <doctest/doctest.h>

#include "summary_checks.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace cd = crmkit::data;

namespace {

/**
 * 3,000 customers with 4 purchases each, 5 days apart, in time order (customer c buys on days
 * c % 50 + 5 k); amounts 1 + row / 1000. Enough rows and customers for the grouping's buckets.
 */
struct time_ordered_log {
  std::vector<std::int64_t> customer, timestamp;
  std::vector<double> amount;

  time_ordered_log() {
    constexpr std::int64_t customers = 3000, purchases = 4, day = 86'400;
    for (std::int64_t k = 0; k < purchases; ++k) {
      for (std::int64_t first = 0; first < 50; ++first) {
        for (std::int64_t c = first; c < customers; c += 50) {
          customer.push_back(c);
          timestamp.push_back((first + 5 * k) * day);
        }
      }
    }
    amount.resize(customer.size());
    for (std::size_t i = 0; i < amount.size(); ++i) amount[i] = 1.0 + static_cast<double>(i) / 1000;
  }
};

using summary_test::error_of;

}  // namespace

// The amounts are checked while the rows are grouped when every row is in the window: the error
// must still name the first non-finite amount in row order, at any thread count, in each of the
// summary's paths (streamed buckets, customer runs, rows after the observation end).
TEST_CASE("a non-finite amount is named by its first row in every summary path") {
  time_ordered_log log;
  const std::size_t bad = log.amount.size() - 7, worse = 11;  // worse comes first in row order
  log.amount[bad] = std::numeric_limits<double>::quiet_NaN();
  for (const std::size_t threads : {1, 2, 3}) {
    crmkit::set_num_threads(threads);
    CHECK(error_of(log) == "summarize: amount[" + std::to_string(bad) + "] = nan must be finite");
    log.amount[worse] = -std::numeric_limits<double>::infinity();
    CHECK(error_of(log) == "summarize: amount[11] = -inf must be finite");
    log.amount[worse] = 1.0;
  }
  crmkit::set_num_threads(0);

  // A row after the observation end is not grouped, but its amount is checked all the same.
  const std::int64_t last = log.timestamp.back();
  const auto before_end = static_cast<std::size_t>(
      std::find(log.timestamp.begin(), log.timestamp.end(), last) - log.timestamp.begin());
  REQUIRE(before_end < bad);
  CHECK(error_of(log, {.observation_period_end = last - 86'400}) ==
        "summarize: amount[" + std::to_string(bad) + "] = nan must be finite");

  // The same log sorted by customer (each customer's run summarised in place).
  std::vector<std::size_t> order(log.customer.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return log.customer[a] < log.customer[b]; });
  time_ordered_log by_customer;
  for (std::size_t i = 0; i < order.size(); ++i) {
    by_customer.customer[i] = log.customer[order[i]];
    by_customer.timestamp[i] = log.timestamp[order[i]];
    by_customer.amount[i] = log.amount[order[i]];
  }
  const auto moved =
      static_cast<std::size_t>(std::find(order.begin(), order.end(), bad) - order.begin());
  CHECK(error_of(by_customer) ==
        "summarize: amount[" + std::to_string(moved) + "] = nan must be finite");
  // A non-finite amount in a customer's first period, which the lifetimes view leaves out of
  // every sum, is named all the same (customer 1234's rows are 4 * 1234 to 4 * 1234 + 3).
  by_customer.amount[moved] = 1.0;
  by_customer.amount[4 * 1234] = std::numeric_limits<double>::infinity();
  CHECK(error_of(by_customer) == "summarize: amount[4936] = inf must be finite");

  // Finite amounts: no error, and every customer is summarised.
  log.amount[bad] = 2.5;
  const auto summary = cd::summarize(log.customer, log.timestamp, log.amount);
  CHECK(summary.customer.size() == 3000);
  CHECK(summary.frequency[0] == 3.0);
}
