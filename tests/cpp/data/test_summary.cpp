#include <crmkit/core/parallel.hpp>
#include <crmkit/data/grouping.hpp>
#include <crmkit/data/summary.hpp>

#include <doctest/doctest.h>

#include "summary_checks.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <numeric>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace cd = crmkit::data;
using cd::period_unit;

namespace {

std::int64_t at(int year, unsigned month, unsigned day, int hour = 0) {
  using namespace std::chrono;
  const sys_days date =
      year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
  return date.time_since_epoch().count() * 86'400 + hour * 3600;
}

/**
 * The hand-worked log. 2024-01-01 is a Monday; the observation end is Sunday 2024-06-30 12:00.
 *   customer 7: Wed 01-03 10:00 10.0, Wed 01-03 15:00 5.0, Fri 01-05 09:00 20.0,
 *               Wed 02-14 12:00 -4.0 (a refund)
 *   customer 3: Sat 03-30 08:00 0.0 (a free order still counts), Tue 04-02 00:00 12.0
 *   customer 5: Sun 06-30 23:00 8.0 (same day and week as the end, but a later hour)
 *   customer 11: Mon 07-01 99.0 (after the end in every unit)
 * Rows are deliberately out of order.
 */
struct hand_log {
  std::vector<std::int64_t> customer{3, 7, 11, 7, 5, 7, 3, 7};
  std::vector<std::int64_t> timestamp{at(2024, 4, 2),     at(2024, 1, 5, 9),   at(2024, 7, 1),
                                      at(2024, 1, 3, 15), at(2024, 6, 30, 23), at(2024, 2, 14, 12),
                                      at(2024, 3, 30, 8), at(2024, 1, 3, 10)};
  std::vector<double> amount{12.0, 20.0, 99.0, 5.0, 8.0, -4.0, 0.0, 10.0};
  std::int64_t end = at(2024, 6, 30, 12);

  [[nodiscard]] cd::customer_summary summarize(period_unit unit, double multiplier = 1,
                                               bool include_first = false) const {
    return cd::summarize(customer, timestamp, amount,
                         {.freq = unit,
                          .freq_multiplier = multiplier,
                          .observation_period_end = end,
                          .include_first_transaction = include_first});
  }
};

struct expected_row {
  std::int64_t customer;
  double frequency, recency, T, monetary_value;
};

void check_rows(const cd::customer_summary& summary, const std::vector<expected_row>& rows) {
  REQUIRE(summary.size() == rows.size());
  for (std::size_t j = 0; j < rows.size(); ++j) {
    CAPTURE(rows[j].customer);
    CHECK(summary.customer[j] == rows[j].customer);
    CHECK(summary.frequency[j] == rows[j].frequency);
    CHECK(summary.recency[j] == doctest::Approx(rows[j].recency).epsilon(1e-15));
    CHECK(summary.T[j] == doctest::Approx(rows[j].T).epsilon(1e-15));
    CHECK(summary.monetary_value[j] == doctest::Approx(rows[j].monetary_value).epsilon(1e-15));
  }
}

using summary_test::check_identical;

/** A random log: `customers` keys with 1..20 rows each over 1997..1999, shuffled. */
struct random_log {
  std::vector<std::int64_t> customer, timestamp;
  std::vector<double> amount;

  random_log(std::size_t customers, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> rows(1, 20);
    std::uniform_int_distribution<std::int64_t> when(at(1997, 1, 1), at(1999, 12, 31, 23));
    std::uniform_real_distribution<double> spend(-5.0, 100.0);
    for (std::size_t c = 0; c < customers; ++c) {
      const int count = rows(rng);
      for (int r = 0; r < count; ++r) {
        customer.push_back(static_cast<std::int64_t>(c * 3 + 1));
        timestamp.push_back(when(rng));
        amount.push_back(std::round(spend(rng) * 100) / 100);
      }
    }
    permute(rng);
  }

  template <class Rng>
  void permute(Rng& rng) {
    std::vector<std::size_t> order(customer.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    auto apply = [&](auto& column) {
      auto copy = column;
      for (std::size_t i = 0; i < order.size(); ++i) column[i] = copy[order[i]];
    };
    apply(customer);
    apply(timestamp);
    apply(amount);
  }
};

}  // namespace

TEST_CASE("days: the hand-worked log") {
  const hand_log log;
  const auto summary = log.summarize(period_unit::day);
  // Customer 3: days 03-30 and 04-02 -> frequency 1, recency 3 days; 03-30 to 06-30 is
  //   1 + 30 + 31 + 30 = 92 days; the one repeat day spent 12.
  // Customer 5: one purchase on the end day (the end is floored to its day, so 23:00 counts).
  // Customer 7: days 01-03 (10 + 5 = 15), 01-05 (20), 02-14 (-4) -> frequency 2;
  //   01-03 to 02-14 is 31 + 11 = 42 days; 01-03 to 06-30 is 31+29+31+30+31 + 27 = 179;
  //   monetary = mean of the repeat days (20 - 4) / 2 = 8.
  check_rows(summary, {{3, 1, 3, 92, 12}, {5, 0, 0, 0, 0}, {7, 2, 42, 179, 8}});
  CHECK(summary.customers_after_end == 1);  // customer 11
  CHECK(summary.rows_used == 7);
  CHECK(summary.rows_after_end == 1);
  CHECK(summary.observation_period_end == at(2024, 6, 30));
}

TEST_CASE("days with freq_multiplier 7 give exact weeks") {
  const hand_log log;
  check_rows(log.summarize(period_unit::day, 7),
             {{3, 1, 3 / 7.0, 92 / 7.0, 12}, {5, 0, 0, 0, 0}, {7, 2, 6, 179 / 7.0, 8}});
}

TEST_CASE("hours: the hand-worked log") {
  const hand_log log;
  const auto summary = log.summarize(period_unit::hour);
  // The end hour is 06-30 12:00, so customer 5 (23:00) is after the end and absent.
  // Customer 3: 03-30 08:00 to 04-02 00:00 is 2 days 16 h = 64 h; to 06-30 12:00 is
  //   92 days 4 h = 2212 h.
  // Customer 7: four distinct hours -> frequency 3; 01-03 10:00 to 02-14 12:00 is
  //   42 days 2 h = 1010 h; to 06-30 12:00 is 179 days 2 h = 4298 h; (5 + 20 - 4) / 3 = 7.
  check_rows(summary, {{3, 1, 64, 2212, 12}, {7, 3, 1010, 4298, 7}});
  CHECK(summary.customers_after_end == 2);
  CHECK(summary.rows_after_end == 2);
  CHECK(summary.observation_period_end == at(2024, 6, 30, 12));
}

TEST_CASE("weeks (Monday to Sunday): the hand-worked log, and a multiplier") {
  const hand_log log;
  // Week indices from Monday 2024-01-01: 01-03 and 01-05 -> week 0; 02-14 -> Monday 02-12,
  // 42 days on -> week 6; 03-30 (Sat) -> Monday 03-25, 84 days -> week 12; 04-02 -> Monday
  // 04-01 -> week 13; the end (Sunday 06-30) -> Monday 06-24, 175 days -> week 25.
  // Customer 7: week 0 (10 + 5 + 20 = 35) and week 6 (-4): frequency 1, recency 6, T 25, and
  //   the only repeat week is the refund, so monetary = -4.
  check_rows(log.summarize(period_unit::week),
             {{3, 1, 1, 13, 12}, {5, 0, 0, 0, 0}, {7, 1, 6, 25, -4}});
  check_rows(log.summarize(period_unit::week, 2),
             {{3, 1, 0.5, 6.5, 12}, {5, 0, 0, 0, 0}, {7, 1, 3, 12.5, -4}});
}

TEST_CASE("months, quarters and years: the hand-worked log") {
  const hand_log log;
  // Months: customer 3 March, April (end June): recency 1, T 3; customer 7 January (35),
  //   February (-4): recency 1, T 5, monetary -4.
  check_rows(log.summarize(period_unit::month),
             {{3, 1, 1, 3, 12}, {5, 0, 0, 0, 0}, {7, 1, 1, 5, -4}});
  // Quarters: customer 3 Q1 (0.0), Q2 (12): recency 1, T 1; customer 7 has every row in Q1
  //   (one purchase of 31): frequency 0, T 1 (Q1 to Q2).
  check_rows(log.summarize(period_unit::quarter),
             {{3, 1, 1, 1, 12}, {5, 0, 0, 0, 0}, {7, 0, 0, 1, 0}});
  // Years: the end is floored to 2024-01-01, and rows are kept through the end of the end's
  // period (all of 2024), so customer 11 (07-01) is in; everyone bought in one year only.
  const auto years = log.summarize(period_unit::year);
  check_rows(years, {{3, 0, 0, 0, 0}, {5, 0, 0, 0, 0}, {7, 0, 0, 0, 0}, {11, 0, 0, 0, 0}});
  CHECK(years.customers_after_end == 0);
  // Likewise a quarter end keeps the whole quarter: with end 2024-06-30 12:00 and freq Q,
  // customer 5 (06-30 23:00) is in, and customer 11 (07-01, next quarter) is not.
  CHECK(log.summarize(period_unit::quarter).customers_after_end == 1);
}

TEST_CASE("include_first_transaction gives the RFM view") {
  const hand_log log;
  // Days. Customer 3: 2 purchase days; time since the last (04-02 to 06-30) = 92 - 3 = 89;
  //   monetary = (0 + 12) / 2 = 6. Customer 5: one purchase of 8 on the end day.
  //   Customer 7: 3 days; 179 - 42 = 137 days since the last; (15 + 20 - 4) / 3.
  check_rows(log.summarize(period_unit::day, 1, true),
             {{3, 2, 89, 92, 6}, {5, 1, 0, 0, 8}, {7, 3, 137, 179, 31 / 3.0}});
  // Weeks with a multiplier: customer 7 weeks 0 and 6 of 25: recency (25 - 6) / 2.
  check_rows(log.summarize(period_unit::week, 2, true),
             {{3, 2, 6, 6.5, 6}, {5, 1, 0, 0, 8}, {7, 2, 9.5, 12.5, 15.5}});
}

TEST_CASE("the default observation end is the last timestamp") {
  hand_log log;
  const auto summary = cd::summarize(log.customer, log.timestamp, log.amount, {});
  REQUIRE(summary.size() == 4);
  CHECK(summary.customer.back() == 11);
  CHECK(summary.observation_period_end == at(2024, 7, 1));
  CHECK(summary.T[0] == 93);  // customer 3: 03-30 to 07-01 is 92 + 1 days
  CHECK(summary.customers_after_end == 0);
}

TEST_CASE("without amounts there is no monetary value") {
  const hand_log log;
  const auto summary =
      cd::summarize(log.customer, log.timestamp, {}, {.observation_period_end = log.end});
  CHECK(summary.monetary_value.empty());
  CHECK(summary.frequency == std::vector<double>{1, 0, 2});
}

TEST_CASE("duplicate rows merge into their period and double its amount") {
  hand_log log;
  log.customer.push_back(3);
  log.timestamp.push_back(at(2024, 4, 2));
  log.amount.push_back(12.0);
  const auto summary = log.summarize(period_unit::day);
  CHECK(summary.frequency[0] == 1);
  CHECK(summary.monetary_value[0] == 24);
}

TEST_CASE("transaction_log overload and calibration/holdout on the hand-worked log") {
  const hand_log hand;
  cd::transaction_log log;
  log.customer = hand.customer;
  log.timestamp = hand.timestamp;
  log.amount = hand.amount;
  check_identical(cd::summarize(log, {.observation_period_end = hand.end}),
                  hand.summarize(period_unit::day));
  CHECK_THROWS_WITH_AS(cd::summarize(log, {.ticks_per_second = 1000}),
                       "summarize: options.ticks_per_second = 1000 must be 1 for a "
                       "transaction_log (its timestamps are seconds)",
                       crmkit::invalid_input);

  // Calibration to 2024-02-01, observation to 06-30 12:00 (days). Customer 7's calibration
  // days 01-03 (15) and 01-05 (20): frequency 1, recency 2, T 29 (01-03 to 02-01), monetary 20;
  // its holdout: 02-14 (-4) -> 1 period, mean -4. Customers 3 and 5 first buy in the holdout
  // and are excluded; 11 is after the end. duration = 02-01 to 06-30 = 29+31+30+31+29 = 150.
  const auto split = cd::calibration_and_holdout(
      log, {.calibration_period_end = at(2024, 2, 1), .observation_period_end = hand.end});
  check_rows(split.calibration, {{7, 1, 2, 29, 20}});
  CHECK(split.frequency_holdout == std::vector<double>{1});
  CHECK(split.monetary_value_holdout == std::vector<double>{-4});
  CHECK(split.duration_holdout == 150);
  CHECK(split.calibration.customers_after_end == 3);
  CHECK(split.calibration.rows_used == 3);
  CHECK(split.rows_holdout == 1);
  CHECK(split.rows_after_end == 1);
  CHECK(split.observation_period_end == at(2024, 6, 30));
  CHECK(split.calibration.observation_period_end == at(2024, 2, 1));

  // Months, multiplier 2, RFM view, calibration to the end of March: customer 7 January (35),
  // February (-4): 2 periods, recency (2 - 1) / 2, T (2 - 0) / 2, mean 31 / 2; customer 3
  // March (0.0): 1 period, recency 0, T 0, monetary 0, holdout April (12).
  const auto months = cd::calibration_and_holdout(log, {.freq = period_unit::month,
                                                        .freq_multiplier = 2,
                                                        .calibration_period_end = at(2024, 3, 15),
                                                        .observation_period_end = hand.end,
                                                        .include_first_transaction = true});
  check_rows(months.calibration, {{3, 1, 0, 0, 0}, {7, 2, 0.5, 1, 15.5}});
  CHECK(months.frequency_holdout == std::vector<double>{1, 0});
  CHECK(months.monetary_value_holdout == std::vector<double>{12, 0});
  CHECK(months.duration_holdout == 1.5);  // March to June
}

TEST_CASE("unsorted input, key layout and thread count do not change a single bit") {
  random_log log(20'000, 42);
  const cd::summary_options options{
      .freq = period_unit::week, .freq_multiplier = 1, .observation_period_end = at(1999, 6, 30)};
  const std::size_t saved = crmkit::num_threads();
  crmkit::set_num_threads(1);
  const auto one = cd::summarize(log.customer, log.timestamp, log.amount, options);
  crmkit::set_num_threads(4);
  const auto four = cd::summarize(log.customer, log.timestamp, log.amount, options);
  std::mt19937_64 rng(7);
  log.permute(rng);
  const auto shuffled = cd::summarize(log.customer, log.timestamp, log.amount, options);
  check_identical(one, four);
  check_identical(one, shuffled);
  CHECK(one.size() > 19'000);
  CHECK(one.customers_after_end > 0);

  // Sparse keys (negative and positive, 2^40 apart) take the hash path; the statistics must not
  // change.
  auto spread = [](std::int64_t key) { return (key - 30'000) * (std::int64_t{1} << 40) + 12'345; };
  std::vector<std::int64_t> sparse(log.customer.size());
  for (std::size_t i = 0; i < sparse.size(); ++i) {
    sparse[i] = spread(log.customer[i]);
  }
  const auto hashed = cd::summarize(sparse, log.timestamp, log.amount, options);
  crmkit::set_num_threads(1);
  const auto hashed_one = cd::summarize(sparse, log.timestamp, log.amount, options);
  crmkit::set_num_threads(saved);
  check_identical(hashed, hashed_one);
  REQUIRE(hashed.size() == one.size());
  for (std::size_t j = 0; j < one.size(); ++j) {
    REQUIRE(hashed.customer[j] == spread(one.customer[j]));
  }
  CHECK(hashed.frequency == one.frequency);
  CHECK(hashed.recency == one.recency);
  CHECK(hashed.T == one.T);
  CHECK(hashed.monetary_value == one.monetary_value);
}

TEST_CASE("ticks_per_second reads nanosecond timestamps") {
  const hand_log log;
  std::vector<std::int64_t> nanoseconds(log.timestamp.size());
  std::transform(log.timestamp.begin(), log.timestamp.end(), nanoseconds.begin(),
                 [](std::int64_t s) { return s * 1'000'000'000; });
  const auto summary = cd::summarize(log.customer, nanoseconds, log.amount,
                                     {.freq = period_unit::month,
                                      .observation_period_end = log.end * 1'000'000'000,
                                      .ticks_per_second = 1'000'000'000});
  check_rows(summary, {{3, 1, 1, 3, 12}, {5, 0, 0, 0, 0}, {7, 1, 1, 5, -4}});
  CHECK(summary.observation_period_end == at(2024, 6, 1) * 1'000'000'000);
}

TEST_CASE("bad input gets a clear error") {
  const hand_log log;
  const std::vector<std::int64_t> one_id{1};
  CHECK_THROWS_WITH_AS(cd::summarize(one_id, log.timestamp, {}),
                       "summarize: customer has 1 elements but timestamp has 8; they must match",
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(cd::summarize(log.customer, log.timestamp, std::vector<double>{1.0}),
                       "summarize: customer has 8 elements but amount has 1; they must match",
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(cd::summarize({}, {}, {}), "summarize: the transaction log is empty",
                       crmkit::invalid_input);
  auto amount = log.amount;
  amount[5] = std::numeric_limits<double>::infinity();
  amount[6] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(cd::summarize(log.customer, log.timestamp, amount),
                       "summarize: amount[5] = inf must be finite", crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(
      cd::summarize(log.customer, log.timestamp, log.amount, {.freq_multiplier = 0}),
      "summarize: freq_multiplier = 0 must be positive and finite", crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(
      cd::summarize(log.customer, log.timestamp, log.amount,
                    {.observation_period_end = at(2023, 12, 31, 22)}),
      "summarize: observation_period_end = 2023-12-31T22:00:00 is before every purchase (the "
      "first is on 2024-01-03T10:00:00)",
      crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(
      cd::summarize(log.customer, log.timestamp, log.amount, {.ticks_per_second = 0}),
      "summarize: ticks_per_second = 0 must be in 1..1000000000", crmkit::invalid_input);
  auto far = log.timestamp;
  far[4] = std::numeric_limits<std::int64_t>::max();
  CHECK_THROWS_WITH_AS(cd::summarize(log.customer, far, log.amount),
                       "summarize: timestamp[4] = 9223372036854775807 is out of range (more than "
                       "300,000 years from 1970 at 1 ticks per second)",
                       crmkit::invalid_input);
  // numpy's NaT, at nanoseconds the valid-looking 1677-09-21: rejected at any tick rate.
  auto missing = log.timestamp;
  missing[3] = missing[5] = std::numeric_limits<std::int64_t>::min();
  for (const std::int64_t ticks_per_second : {1, 1'000'000'000}) {
    CHECK_THROWS_WITH_AS(cd::summarize(log.customer, missing, log.amount,
                                       {.ticks_per_second = ticks_per_second}),
                         "summarize: timestamp[3] = -9223372036854775808 is a missing date "
                         "(numpy's NaT)",
                         crmkit::invalid_input);
  }
  CHECK_THROWS_WITH_AS(
      cd::calibration_and_holdout(
          log.customer, log.timestamp, log.amount,
          {.calibration_period_end = at(2024, 6, 30, 1), .observation_period_end = log.end}),
      "calibration_and_holdout: observation_period_end = 2024-06-30T12:00:00 must be in a period "
      "after calibration_period_end = 2024-06-30T01:00:00 (freq D)",
      crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(
      cd::calibration_and_holdout(log.customer, log.timestamp, log.amount,
                                  {.calibration_period_end = at(2023, 1, 1)}),
      "calibration_and_holdout: calibration_period_end = 2023-01-01 is before every purchase (the "
      "first is on 2024-01-03T10:00:00)",
      crmkit::invalid_input);
}

// Issue 13, defect 3: amounts whose sum passes the double range made monetary_value inf.
TEST_CASE("large finite amounts: the mean stays finite, a period total beyond the range is an error") {
  constexpr std::int64_t day = 86400;
  const double big = 1.5e308;  // two of them sum past DBL_MAX ≈ 1.797e308; their mean does not
  const std::vector<std::int64_t> customer{7, 7, 7, 8, 8};
  const std::vector<std::int64_t> timestamp{0, day, 2 * day, 0, day};
  const std::vector<double> amount{1, big, big, 2, 3};
  const auto summary = cd::summarize(customer, timestamp, amount, {});
  REQUIRE(summary.size() == 2);
  CHECK(summary.monetary_value[0] == big);  // (big + big) / 2 term by term, exact
  CHECK(summary.monetary_value[1] == 3);
  cd::summary_options rfm;
  rfm.include_first_transaction = true;
  CHECK(cd::summarize(customer, timestamp, amount, rfm).monetary_value[0] ==
        doctest::Approx(big / 3 * 2 + 1.0 / 3).epsilon(1e-15));

  const std::vector<std::int64_t> same_day{0, day, day};
  CHECK_THROWS_WITH_AS(
      static_cast<void>(cd::summarize(std::vector<std::int64_t>{7, 7, 7}, same_day,
                                      std::vector<double>{1, big, big}, {})),
      "summarize: the purchases of customer 7 in one period sum to inf (beyond the largest "
      "double, about 1.8e308)",
      crmkit::invalid_input);
}

// Issue 13, defect 6: freq_multiplier 1e-320 (subnormal) made every duration inf.
TEST_CASE("freq_multiplier outside its documented limits is refused by name") {
  const std::vector<std::int64_t> customer{1, 1};
  const std::vector<std::int64_t> timestamp{0, 86400};
  const std::vector<double> no_amount;
  CHECK_THROWS_WITH_AS(
      static_cast<void>(cd::summarize(customer, timestamp, no_amount, {.freq_multiplier = 1e-320})),
      "summarize: freq_multiplier = 1e-320 must lie in [1e-06, 1000000] (see docs/limits.md)",
      crmkit::invalid_input);
  CHECK_THROWS_AS(
      static_cast<void>(cd::summarize(customer, timestamp, no_amount, {.freq_multiplier = 1e7})),
      crmkit::invalid_input);
  CHECK(cd::summarize(customer, timestamp, no_amount, {.freq_multiplier = 1e-6}).recency[0] == 1e6);
}

TEST_CASE("a log grouped once summarises bit for bit as the log itself, in both views") {
  // The reference is summarize over the rows (tested above); customer_periods keeps each
  // customer's period totals, so both views and several passes share one grouping.
  const random_log log(20'000, 11);
  const cd::checked_log checked =
      cd::check_log("test", log.customer, log.timestamp, log.amount, period_unit::day, 1);
  const std::int64_t last_tick = checked.calendar.last_tick(checked.calendar.period(at(1999, 6, 30)));
  const cd::customer_periods grouped(log.customer, log.timestamp, log.amount, checked, last_tick);
  for (const bool include_first : {false, true}) {
    const cd::summary_options options{.freq = period_unit::day,
                                      .freq_multiplier = 7,
                                      .observation_period_end = at(1999, 6, 30, 5),
                                      .include_first_transaction = include_first};
    const auto direct = cd::summarize(log.customer, log.timestamp, log.amount, options);
    const auto shared = cd::summarize(grouped, options);
    CHECK(shared.customer == direct.customer);
    CHECK(shared.frequency == direct.frequency);
    CHECK(shared.recency == direct.recency);
    CHECK(shared.T == direct.T);
    CHECK(shared.monetary_value == direct.monetary_value);
    CHECK(shared.observation_period_end == direct.observation_period_end);
    CHECK(shared.rows_used == direct.rows_used);
    CHECK(shared.rows_after_end == direct.rows_after_end);
    CHECK(shared.customers_after_end == direct.customers_after_end);
  }
  CHECK(grouped.rows_used() < grouped.rows());  // rows after the grouping's end are left out
  CHECK_THROWS_WITH_AS(cd::summarize(grouped, {.freq = period_unit::week}),
                       doctest::Contains("must be the grouping's"), crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(cd::summarize(grouped, {.observation_period_end = at(1999, 7, 1)}),
                       doctest::Contains("must be in the grouping's last period"),
                       crmkit::invalid_input);
}

namespace {

/**
 * A log with many same-day purchases (1..12 rows per customer within 40 days of 1999-06-10,
 * so that pairs and triples of rows fall on one day, some after the end used below), with
 * whole-cent amounts including 0, -0 and refunds, rows shuffled.
 */
random_log busy_log(std::size_t customers, std::uint64_t seed) {
  random_log log(0, seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> rows(1, 12), day(0, 39), hour(0, 23);
  std::uniform_int_distribution<int> cents(-500, 10'000);
  for (std::size_t c = 0; c < customers; ++c) {
    const int count = rows(rng);
    for (int r = 0; r < count; ++r) {
      log.customer.push_back(static_cast<std::int64_t>(c * 2 + 5));
      log.timestamp.push_back(at(1999, 6, 10) + day(rng) * 86'400 + hour(rng) * 3600);
      const int value = cents(rng);
      log.amount.push_back(value % 97 == 0 ? -0.0 : value / 100.0);
    }
  }
  log.permute(rng);
  return log;
}

/** The log's rows reordered by `before` (a strict weak order on row indices), stably. */
template <class Before>
random_log reordered(const random_log& log, Before before) {
  std::vector<std::size_t> order(log.customer.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), before);
  random_log out(0, 0);
  for (const std::size_t i : order) {
    out.customer.push_back(log.customer[i]);
    out.timestamp.push_back(log.timestamp[i]);
    out.amount.push_back(log.amount[i]);
  }
  return out;
}

cd::customer_summary summarize_log(const random_log& log, const cd::summary_options& options,
                                   bool with_amount = true) {
  const std::vector<double> none;
  return cd::summarize(log.customer, log.timestamp, with_amount ? log.amount : none, options);
}

}  // namespace

// Logs in customer order (as a customer-sorted export, or simulate_transactions, writes them)
// are summarised run by run without a sort; a customer with a third row in one period or rows
// out of time order is summarised from its sorted rows. The reference throughout is the
// shuffled log, whose customers are nearly all summarised from sorted rows (the streaming pass
// below gives up on it after a bucket): every path must give the same bits. The log has
// more rows than one chunk of the run pass (2^16), so that runs cross chunk boundaries.
TEST_CASE("customer-ordered, time-ordered and unordered logs summarise bit for bit alike") {
  const random_log shuffled = busy_log(12'000, 3);
  REQUIRE(shuffled.customer.size() > (std::size_t{1} << 16));
  const auto by_customer_then_time = [&](std::size_t a, std::size_t b) {
    return std::pair(shuffled.customer[a], shuffled.timestamp[a]) <
           std::pair(shuffled.customer[b], shuffled.timestamp[b]);
  };
  const random_log grouped = reordered(shuffled, by_customer_then_time);
  // Grouped by customer, rows in shuffled order within: nearly every customer is out of order.
  const random_log grouped_unordered = reordered(
      shuffled, [&](std::size_t a, std::size_t b) { return shuffled.customer[a] < shuffled.customer[b]; });
  const random_log time_ordered = reordered(
      shuffled, [&](std::size_t a, std::size_t b) { return shuffled.timestamp[a] < shuffled.timestamp[b]; });
  // Grouped and time-ordered except for a few customers whose first two rows are swapped.
  random_log few_unordered = grouped;
  std::size_t swapped = 0;
  for (std::size_t i = 0; i + 1 < few_unordered.customer.size() && swapped < 20; i += 97) {
    if (few_unordered.customer[i] == few_unordered.customer[i + 1] &&
        few_unordered.timestamp[i] / 86'400 != few_unordered.timestamp[i + 1] / 86'400) {
      std::swap(few_unordered.timestamp[i], few_unordered.timestamp[i + 1]);
      std::swap(few_unordered.amount[i], few_unordered.amount[i + 1]);
      ++swapped;
    }
  }
  REQUIRE(swapped == 20);

  const std::size_t saved = crmkit::num_threads();
  for (const bool include_first : {false, true}) {
    for (const bool with_amount : {true, false}) {
      CAPTURE(include_first);
      CAPTURE(with_amount);
      const cd::summary_options options{.freq = period_unit::day,
                                        .freq_multiplier = 7,
                                        .observation_period_end = at(1999, 7, 10, 5),
                                        .include_first_transaction = include_first};
      crmkit::set_num_threads(1);
      const auto reference = summarize_log(shuffled, options, with_amount);
      CHECK(reference.customers_after_end > 0);
      CHECK(reference.rows_used < shuffled.customer.size());
      for (const std::size_t threads : {1, 2, 3}) {
        CAPTURE(threads);
        crmkit::set_num_threads(threads);
        for (const random_log* log : std::initializer_list<const random_log*>{
                 &shuffled, &grouped, &grouped_unordered, &time_ordered, &few_unordered}) {
          check_identical(summarize_log(*log, options, with_amount), reference);
        }
      }
    }
  }
  crmkit::set_num_threads(saved);

  // The per-day totals of two and of three rows are order-free sums (see period_totals); the
  // shuffled log has both.
  std::size_t pairs = 0, triples = 0;
  for (std::size_t i = 0; i + 2 < grouped.customer.size(); ++i) {
    const auto same_day = [&](std::size_t a, std::size_t b) {
      return grouped.customer[a] == grouped.customer[b] &&
             grouped.timestamp[a] / 86'400 == grouped.timestamp[b] / 86'400;
    };
    pairs += same_day(i, i + 1);
    triples += same_day(i, i + 1) && same_day(i, i + 2);
  }
  CHECK(pairs > 1'000);
  CHECK(triples > 100);

  // Sparse keys (the hash slots), in ascending order: the same statistics.
  auto spread = [](std::int64_t key) { return (key - 9'000) * (std::int64_t{1} << 40) + 7; };
  random_log sparse_grouped = grouped, sparse_shuffled = shuffled;
  for (auto* log : {&sparse_grouped, &sparse_shuffled}) {
    for (auto& key : log->customer) key = spread(key);
  }
  const cd::summary_options options{.freq = period_unit::day,
                                    .observation_period_end = at(1999, 7, 10, 5)};
  check_identical(summarize_log(sparse_grouped, options), summarize_log(sparse_shuffled, options));
}

TEST_CASE("small customer-ordered logs: one row, one customer, one day, rows after the end") {
  constexpr std::int64_t day = 86'400;
  const auto both_orders = [](std::vector<std::int64_t> customer, std::vector<std::int64_t> timestamp,
                              std::vector<double> amount, const cd::summary_options& options) {
    const auto forward = cd::summarize(customer, timestamp, amount, options);
    std::reverse(customer.begin(), customer.end());
    std::reverse(timestamp.begin(), timestamp.end());
    std::reverse(amount.begin(), amount.end());
    check_identical(forward, cd::summarize(customer, timestamp, amount, options));
    return forward;
  };
  // One row.
  auto one = both_orders({4}, {3 * day}, {2.5}, {});
  REQUIRE(one.size() == 1);
  CHECK(one.customer[0] == 4);
  CHECK(one.frequency[0] == 0);
  CHECK(one.T[0] == 0);
  CHECK(one.monetary_value[0] == 0);

  // One customer, every row on one day: one purchase period whose total is ((0 + 1) + 2) + 4
  // added in ascending order; no repeat purchase, so monetary_value 0, and in the RFM view the
  // mean of the single period total, 7.
  const std::vector<std::int64_t> same_day{day + 5, day + 9, day + 1};
  auto lone = both_orders({9, 9, 9}, same_day, {4, 1, 2}, {});
  CHECK(lone.frequency[0] == 0);
  CHECK(lone.monetary_value[0] == 0);
  auto rfm = both_orders({9, 9, 9}, same_day, {4, 1, 2}, {.include_first_transaction = true});
  CHECK(rfm.frequency[0] == 1);
  CHECK(rfm.monetary_value[0] == 7);

  // One customer over three days with two rows on the last: frequency 2, mean (3 + (5 + 6)) / 2.
  auto three_days = both_orders({2, 2, 2, 2}, {0, day, 2 * day, 2 * day + 60}, {1, 3, 5, 6}, {});
  CHECK(three_days.frequency[0] == 2);
  CHECK(three_days.recency[0] == 2);
  CHECK(three_days.monetary_value[0] == 7);

  // -0 and +0 on one day: the total is +0 whichever comes first.
  auto zeros = both_orders({1, 1, 1}, {0, day, day}, {5, -0.0, 0.0}, {});
  CHECK(zeros.monetary_value[0] == 0);
  CHECK(!std::signbit(zeros.monetary_value[0]));

  // Rows after the observation end: customer 3 has one row before and one after, customer 8
  // only rows after (absent, counted), customer 1 none after.
  auto ended = both_orders({1, 1, 3, 3, 8, 8}, {0, day, day, 9 * day, 8 * day, 9 * day},
                           {1, 2, 3, 4, 5, 6}, {.observation_period_end = 2 * day});
  REQUIRE(ended.size() == 2);
  CHECK(ended.customer == std::vector<std::int64_t>{1, 3});
  CHECK(ended.frequency == std::vector<double>{1, 0});
  CHECK(ended.T == std::vector<double>{2, 1});
  CHECK(ended.monetary_value == std::vector<double>{2, 0});
  CHECK(ended.rows_used == 3);
  CHECK(ended.rows_after_end == 3);
  CHECK(ended.customers_after_end == 1);
}

namespace {

/**
 * The sorting path's summary of a log: customer_periods sorts every customer's rows by
 * (period, amount) and keeps its period totals (customer_groups::for_each_batch); summarize over
 * it scans them. The reference for the streaming pass below.
 */
cd::customer_summary sorted_reference(const random_log& log, const cd::summary_options& options,
                                      bool with_amount) {
  const std::vector<double> none;
  const std::span<const double> amount = with_amount ? std::span<const double>(log.amount) : none;
  const cd::checked_log checked =
      cd::check_log("test", log.customer, log.timestamp, amount, options.freq, 1);
  const std::int64_t end = options.observation_period_end.value_or(checked.extent.last_tick);
  const cd::customer_periods grouped(log.customer, log.timestamp, amount, checked,
                                     checked.calendar.last_tick(checked.calendar.period(end)));
  return cd::summarize(grouped, options);
}

}  // namespace

// A log in no customer order is grouped by a stable scatter into buckets of customers, and each
// customer's periods are added up as its rows stream by when they come in period order (a
// time-ordered log), keeping up to four rows of a period to add them in ascending order; the
// other customers are sorted. Every mixture must give the sorting path's bits.
TEST_CASE("time-ordered and mixed logs: the streaming pass gives the sorting path's bits") {
  random_log log = busy_log(12'000, 5);
  constexpr std::int64_t day = 86'400;
  // Customers with 3..7 rows on one day (beyond the four kept rows from 5 on), amounts whose
  // sum depends on the order (below). Their even keys lie among busy_log's odd ones, in a bucket
  // with many rows, which is streamed.
  for (std::int64_t k = 3; k <= 7; ++k) {
    const std::int64_t key = 2 * k;
    log.customer.push_back(key);
    log.timestamp.push_back(at(1999, 6, 12));
    log.amount.push_back(3.0);
    for (std::int64_t r = 0; r < k; ++r) {
      log.customer.push_back(key);
      log.timestamp.push_back(at(1999, 6, 20) + r);
      log.amount.push_back(r == 1 ? 1e16 : 1.0);
    }
  }
  const auto by_time = [&](std::size_t a, std::size_t b) { return log.timestamp[a] < log.timestamp[b]; };
  const random_log time_ordered = reordered(log, by_time);
  // Time-ordered except for a few customers whose rows on two days are swapped: those are sorted,
  // their bucket's other customers streamed.
  random_log few_unordered = time_ordered;
  std::size_t swapped = 0;
  for (std::size_t i = 0; i < few_unordered.customer.size() && swapped < 20; i += 1'003) {
    for (std::size_t k = i + 1; k < few_unordered.customer.size() && k < i + 5'000; ++k) {
      if (few_unordered.customer[k] == few_unordered.customer[i] &&
          few_unordered.timestamp[k] / day != few_unordered.timestamp[i] / day) {
        std::swap(few_unordered.timestamp[i], few_unordered.timestamp[k]);
        std::swap(few_unordered.amount[i], few_unordered.amount[k]);
        ++swapped;
        break;
      }
    }
  }
  REQUIRE(swapped == 20);

  const std::size_t saved = crmkit::num_threads();
  for (const bool include_first : {false, true}) {
    for (const bool with_amount : {true, false}) {
      for (const bool all_rows : {false, true}) {
        CAPTURE(include_first);
        CAPTURE(with_amount);
        CAPTURE(all_rows);
        cd::summary_options options{.freq = period_unit::day,
                                    .freq_multiplier = 7,
                                    .include_first_transaction = include_first};
        if (!all_rows) options.observation_period_end = at(1999, 7, 10, 5);
        crmkit::set_num_threads(1);
        const auto reference = sorted_reference(log, options, with_amount);
        CHECK((reference.customers_after_end == 0) == all_rows);
        for (const std::size_t threads : {1, 2, 3}) {
          CAPTURE(threads);
          crmkit::set_num_threads(threads);
          for (const random_log* each :
               std::initializer_list<const random_log*>{&log, &time_ordered, &few_unordered}) {
            check_identical(summarize_log(*each, options, with_amount), reference);
          }
        }
      }
    }
  }
  crmkit::set_num_threads(saved);

  // The order-sensitive day of customer 8 (3 on 06-12, then 1, 1e16, 1, 1 on 06-20): its
  // one repeat period totals (((0 + 1) + 1) + 1) + 1e16 in ascending order. Doubles near 1e16
  // are 2 apart, so 3 + 1e16 rounds to the even neighbour 1e16 + 4 (mantissa 5e15 + 2); added
  // left to right, each 1e16 + 1 would round back to 1e16.
  const auto summary = summarize_log(time_ordered, {.freq = period_unit::day});
  const auto at_key = std::find(summary.customer.begin(), summary.customer.end(), 8);
  REQUIRE(at_key != summary.customer.end());
  const auto j = static_cast<std::size_t>(at_key - summary.customer.begin());
  CHECK(summary.frequency[j] == 1);
  CHECK(summary.monetary_value[j] == 1e16 + 4);
}

// The streaming pass keeps a period's second to fourth amounts in a per-bucket list of at most
// 65,535 entries; a customer whose period needs an entry once the list is full is sorted.
TEST_CASE("time-ordered logs: more two-row periods in a bucket than the streaming pass keeps") {
  constexpr std::int64_t day = 86'400;
  constexpr std::int64_t days = 70'000;  // > 65,535 periods of two or three rows
  random_log log(0, 0);
  const auto add = [&](std::int64_t key, std::int64_t when, double amount) {
    log.customer.push_back(key);
    log.timestamp.push_back(when);
    log.amount.push_back(amount);
  };
  const std::int64_t start = at(1900, 1, 1);
  for (std::int64_t d = 0; d < days; ++d) {
    const std::int64_t when = start + d * day;
    if (d % 1'000 == 7) {  // 1, 1e16, 1: 1e16 + 2 added ascending, 1e16 in row order
      add(3, when, 1.0);
      add(3, when + 1, 1e16);
      add(3, when + 2, 1.0);
    } else {
      add(3, when, 2.0);
      add(3, when + 1, 0.5 * static_cast<double>(d % 13));
    }
    if (d % 5'000 == 0) add(9, when + 3, static_cast<double>(d));
  }
  const auto by_key = [&](std::size_t a, std::size_t b) { return log.customer[a] < log.customer[b]; };
  const random_log customer_ordered = reordered(log, by_key);
  random_log shuffled = log;
  std::mt19937_64 rng(11);
  shuffled.permute(rng);

  const std::size_t saved = crmkit::num_threads();
  for (const bool include_first : {false, true}) {
    CAPTURE(include_first);
    const cd::summary_options options{.freq = period_unit::day,
                                      .include_first_transaction = include_first};
    crmkit::set_num_threads(1);
    const auto reference = sorted_reference(log, options, true);
    REQUIRE(reference.size() == 2);
    CHECK(reference.frequency[0] == (include_first ? days : days - 1));
    for (const std::size_t threads : {1, 2, 3}) {
      CAPTURE(threads);
      crmkit::set_num_threads(threads);
      for (const random_log* each :
           std::initializer_list<const random_log*>{&log, &customer_ordered, &shuffled}) {
        check_identical(summarize_log(*each, options), reference);
      }
    }
  }
  crmkit::set_num_threads(saved);
}

TEST_CASE("time-ordered logs: sums beyond the double range as in the sorting path") {
  constexpr std::int64_t day = 86'400;
  const double big = 1.5e308;
  // Customers 7 and 8 interleaved by day (not in customer order): 7 buys 1, big, big on three
  // days, so its repeat spend overflows and the mean is taken term by term, (big + big) / 2.
  const std::vector<std::int64_t> customer{7, 8, 7, 8, 7};
  const std::vector<std::int64_t> timestamp{0, 0, day, day, 2 * day};
  const std::vector<double> amount{1, 2, big, 3, big};
  const auto summary = cd::summarize(customer, timestamp, amount, {});
  REQUIRE(summary.size() == 2);
  CHECK(summary.monetary_value[0] == big);
  CHECK(summary.monetary_value[1] == 3);
  // Two of them in one period: a total beyond the range is an error naming the customer.
  CHECK_THROWS_WITH_AS(
      static_cast<void>(cd::summarize(std::vector<std::int64_t>{7, 8, 7, 7},
                                      std::vector<std::int64_t>{0, 0, day, day},
                                      std::vector<double>{1, 2, big, big}, {})),
      "summarize: the purchases of customer 7 in one period sum to inf (beyond the largest "
      "double, about 1.8e308)",
      crmkit::invalid_input);
}
