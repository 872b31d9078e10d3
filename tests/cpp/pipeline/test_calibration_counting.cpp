// count_calibration (crmkit/pipeline/calibration.hpp) against a straightforward count written
// here from its definition: each customer's distinct purchase days, the births and repeat days
// per day, and the histogram of (frequency, recency, age) with customer counts and holdout days
// of the customers born by the calibration day, kept in a std::map. Random logs, plus the edge
// cases: customers first seen in the holdout, holdout days without purchases, rows exactly on
// either side of the split, several rows on one day, and spans too long for packed keys.
#include <crmkit/data/period.hpp>
#include <crmkit/pipeline/calibration.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <vector>

namespace pl = crmkit::pipeline;
namespace data = crmkit::data;

namespace {

constexpr std::int64_t day_seconds = data::seconds_per_day;

pl::calibration_counts straightforward(const data::transaction_log& log,
                                       const pl::calibration_split& split) {
  std::map<std::int64_t, std::set<std::int64_t>> days;  // customer → days since first_day
  for (std::size_t i = 0; i < log.size(); ++i) {
    days[log.customer[i]].insert(data::floor_div(log.timestamp[i], day_seconds) - split.first_day);
  }
  const auto span = static_cast<std::size_t>(split.last_day - split.first_day + 1);
  pl::calibration_counts out;
  out.births.assign(span, 0);
  out.repeats.assign(span, 0);
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::pair<std::int64_t, std::int64_t>>
      histogram;
  for (const auto& [customer, own] : days) {
    ++out.births[static_cast<std::size_t>(*own.begin())];
    for (auto d = std::next(own.begin()); d != own.end(); ++d) ++out.repeats[static_cast<std::size_t>(*d)];
    const std::int64_t first = *own.begin();
    if (first > split.calibration_day) continue;
    std::int64_t purchases = 0, last = first, holdout = 0;
    for (const auto d : own) {
      if (d <= split.calibration_day) {
        ++purchases;
        last = d;
      } else {
        ++holdout;
      }
    }
    auto& row = histogram[{purchases - 1, last - first, split.calibration_day - first}];
    row.first += 1;
    row.second += holdout;
  }
  for (const auto& [key, row] : histogram) {
    out.frequency.push_back(std::get<0>(key));
    out.recency.push_back(std::get<1>(key));
    out.age.push_back(std::get<2>(key));
    out.customers.push_back(row.first);
    out.holdout.push_back(row.second);
  }
  return out;
}

void check_same(const pl::calibration_counts& found, const pl::calibration_counts& expected) {
  CHECK(found.frequency == expected.frequency);
  CHECK(found.recency == expected.recency);
  CHECK(found.age == expected.age);
  CHECK(found.customers == expected.customers);
  CHECK(found.holdout == expected.holdout);
  CHECK(found.births == expected.births);
  CHECK(found.repeats == expected.repeats);
}

/** The split from the log's own first and last days, calibration ending on `calibration_day`. */
pl::calibration_split split_of(const data::transaction_log& log, std::int64_t calibration_day) {
  const auto [low, high] = std::minmax_element(log.timestamp.begin(), log.timestamp.end());
  return {data::floor_div(*low, day_seconds), data::floor_div(*high, day_seconds), calibration_day};
}

void add(data::transaction_log& log, std::int64_t customer, std::int64_t timestamp) {
  log.customer.push_back(customer);
  log.timestamp.push_back(timestamp);
  log.amount.push_back(1.0);
}

}  // namespace

TEST_CASE("count_calibration equals a straightforward count on random logs") {
  std::mt19937_64 random(20261206);
  const std::int64_t start = 19'000 * day_seconds;
  for (int trial = 0; trial < 40; ++trial) {
    CAPTURE(trial);
    const int customers = 1 + static_cast<int>(random() % 300);
    const std::int64_t span_days = 30 + static_cast<std::int64_t>(random() % 700);
    const int most_rows = 1 + static_cast<int>(random() % 25);
    data::transaction_log log;
    for (int c = 0; c < customers; ++c) {
      const std::int64_t born = static_cast<std::int64_t>(random() % span_days);
      const int rows = 1 + static_cast<int>(random() % most_rows);
      for (int r = 0; r < rows; ++r) {
        // Bunched: several rows on one day, and long gaps (holdout days without purchases).
        const std::int64_t day = born + static_cast<std::int64_t>(random() % (1 + (span_days - born) / (1 + random() % 4)));
        add(log, static_cast<std::int64_t>(random() % 100'000) * 7 + c % 7,
            start + day * day_seconds + static_cast<std::int64_t>(random() % day_seconds));
      }
    }
    const auto split_at = split_of(log, 0);
    const std::int64_t days = split_at.last_day - split_at.first_day;
    if (days < 1) continue;
    for (const std::int64_t calibration_day : {std::int64_t{0}, days / 3, days * 2 / 3, days - 1}) {
      CAPTURE(calibration_day);
      const auto split = split_of(log, calibration_day);
      check_same(pl::count_calibration(log, split), straightforward(log, split));
    }
  }
}

TEST_CASE("count_calibration: rows on the split, customers born in the holdout, empty weeks") {
  const std::int64_t first = 20'000;
  const std::int64_t calibration_day = 40;
  data::transaction_log log;
  add(log, 1, first * day_seconds);                                          // the first day
  add(log, 1, (first + calibration_day) * day_seconds + day_seconds - 1);   // the split's last second
  add(log, 1, (first + calibration_day + 1) * day_seconds);                 // the holdout's first second
  add(log, 1, (first + calibration_day + 1) * day_seconds + 5);             // the same day again
  add(log, 2, (first + calibration_day) * day_seconds);                     // born on the split day
  add(log, 3, (first + calibration_day + 1) * day_seconds);                 // born in the holdout
  add(log, 3, (first + 90) * day_seconds);
  add(log, 4, (first + 3) * day_seconds);                                   // no holdout purchase
  add(log, 4, (first + 3) * day_seconds + 7);
  add(log, 4, (first + 10) * day_seconds);
  const auto split = split_of(log, calibration_day);
  REQUIRE(split.last_day == first + 90);
  const auto counts = pl::count_calibration(log, split);
  check_same(counts, straightforward(log, split));
  // By hand: (frequency, recency, age, customers, holdout) of customers 2, 4 and 1, in order.
  CHECK(counts.frequency == std::vector<std::int64_t>{0, 1, 1});
  CHECK(counts.recency == std::vector<std::int64_t>{0, 7, 40});
  CHECK(counts.age == std::vector<std::int64_t>{0, 37, 40});
  CHECK(counts.customers == std::vector<std::int64_t>{1, 1, 1});
  CHECK(counts.holdout == std::vector<std::int64_t>{0, 0, 1});
  CHECK(counts.births[static_cast<std::size_t>(calibration_day + 1)] == 1);  // customer 3
  CHECK(counts.repeats[static_cast<std::size_t>(calibration_day + 1)] == 1);  // customer 1, once

  // A part whose customers are all born in the holdout: births only, no histogram row.
  data::transaction_log late;
  add(late, 3, (first + calibration_day + 1) * day_seconds);
  add(late, 3, (first + 90) * day_seconds);
  const auto part = pl::count_calibration(late, split);
  check_same(part, straightforward(late, split));
  CHECK(part.frequency.empty());
}

TEST_CASE("count_calibration: a span too long for packed keys is counted the same") {
  // 300 years of days: frequency, recency and age need 17 bits each and the holdout 15: 66 bits.
  const std::int64_t first = -50'000;
  const std::int64_t calibration_day = 80'000;
  data::transaction_log log;
  add(log, 1, first * day_seconds);
  add(log, 1, (first + 5) * day_seconds);
  add(log, 1, (first + 70'000) * day_seconds);
  add(log, 1, (first + 100'000) * day_seconds);
  add(log, 2, (first + 1000) * day_seconds);
  add(log, 2, (first + 1000) * day_seconds + 1);
  add(log, 3, (first + 109'000) * day_seconds);
  add(log, 4, (first + 79'000) * day_seconds);
  add(log, 4, (first + calibration_day) * day_seconds);
  add(log, 4, (first + 109'500) * day_seconds);
  const auto split = split_of(log, calibration_day);
  const auto counts = pl::count_calibration(log, split);
  check_same(counts, straightforward(log, split));
  CHECK(counts.frequency == std::vector<std::int64_t>{0, 1, 2});
  CHECK(counts.holdout == std::vector<std::int64_t>{0, 1, 1});
}
