#include <crmkit/core/error.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/data/grouping.hpp>
#include <crmkit/data/simulate.hpp>
#include <crmkit/lifecycle.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace lc = crmkit::lifecycle;
using lc::stage;
using lc::stage_rule;

namespace {

// Day 0 is 2024-01-01 (19723 days after 1970-01-01); timestamps are seconds.
constexpr std::int64_t base_day = 19'723;
std::int64_t day(std::int64_t n, std::int64_t hour = 12) {
  return (base_day + n) * 86'400 + hour * 3600;
}

/**
 * Hand-built histories, one customer per stage and rule, as of day 200 with G = 10 days and
 * min_window = 30 (so W = 3g = 30 days for g = 10). Expected stage, with the reasoning:
 *   1 every 10 days 0..200, 10 each: r = 0, windows (170,200] and (140,170] hold 3 and 3 -> stable
 *   2 one purchase on day 195: n = 1 -> new (few purchases)
 *   3 every 10 days 150..200: tenure 50, 51 < 2W = 60 so no trend; 50 >= 2G -> developing
 *   4 every 10 days 0..180: r = 20 > 1.5 g = 15 -> at risk (recency)
 *   5 every 10 days 0..100: r = 100 > 3 g = 30 -> churned (recency)
 *   6 every 10 days 0..80, then day 195: the gap 115 - 1 > 3 g -> won back; 1 purchase since
 *     -> reactivated
 *   7 every 5 days 0..170, then 185 and 200: g = 5, W = 30, windows hold 2 and 6:
 *     (2 - 6) / 6 <= -0.5 -> at risk (rate trend)
 *   8 as 1 but 100 each up to day 170 and 10 after: spend 30 vs 300 -> at risk (spend trend)
 *   9 as 1 but 10 each up to day 170 and 100 after: spend 300 vs 30 -> developing (rising spend)
 *  10 days 195 and 198: tenure 5 < 2G = 20 -> new (short tenure)
 *  11 every 10 days 0..170, then every 5 days 175..200: g = 10, windows 6 and 3:
 *     (6 - 3) / 6 = 0.5 >= 0.5 -> developing (rising rate)
 *  12 one purchase on day 0: r = 200 > 3G -> churned
 *  20 a prospect (no purchase)
 * Rows after day 200 (customer 5 returns on day 230) are ignored. Rows are shuffled.
 */
struct hand_log {
  std::vector<std::int64_t> customer, timestamp;
  std::vector<double> amount;

  void buy(std::int64_t id, std::int64_t on, double spend = 10) {
    customer.push_back(id);
    timestamp.push_back(day(on));
    amount.push_back(spend);
  }

  hand_log() {
    for (int d = 0; d <= 200; d += 10) buy(1, d);
    buy(2, 195);
    for (int d = 150; d <= 200; d += 10) buy(3, d);
    for (int d = 0; d <= 180; d += 10) buy(4, d);
    for (int d = 0; d <= 100; d += 10) buy(5, d);
    buy(5, 230);
    for (int d = 0; d <= 80; d += 10) buy(6, d);
    buy(6, 195);
    for (int d = 0; d <= 170; d += 5) buy(7, d, 1);
    buy(7, 185, 1);
    buy(7, 200, 1);
    for (int d = 0; d <= 200; d += 10) buy(8, d, d <= 170 ? 100 : 10);
    for (int d = 0; d <= 200; d += 10) buy(9, d, d <= 170 ? 10 : 100);
    buy(10, 195);
    buy(10, 198);
    for (int d = 0; d <= 170; d += 10) buy(11, d);
    for (int d = 175; d <= 200; d += 5) buy(11, d);
    buy(12, 0);
    shuffle(7);
  }

  void shuffle(unsigned seed) {
    std::vector<std::size_t> order(customer.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    auto permute = [&](auto& column) {
      auto copy = column;
      for (std::size_t i = 0; i < order.size(); ++i) column[i] = copy[order[i]];
    };
    permute(customer);
    permute(timestamp);
    permute(amount);
  }

  [[nodiscard]] lc::log_view view() const { return {customer, timestamp, amount, 1}; }
};

const std::vector<std::int64_t> prospects{20, 3};

lc::stage_options hand_options() {
  lc::stage_options options;
  options.rules.population_gap = 10;
  options.rules.min_window = 30;
  options.prospects = prospects;
  return options;
}

std::map<std::int64_t, std::size_t> rows_by_key(const std::vector<std::int64_t>& keys) {
  std::map<std::int64_t, std::size_t> rows;
  for (std::size_t j = 0; j < keys.size(); ++j) rows[keys[j]] = j;
  return rows;
}

struct expectation {
  std::int64_t id;
  stage value;
  stage_rule rule;
};

void check_stages(const lc::stage_table& table, const std::vector<expectation>& expected) {
  const auto rows = rows_by_key(table.customer);
  for (const auto& e : expected) {
    CAPTURE(e.id);
    REQUIRE(rows.count(e.id) == 1);
    const std::size_t j = rows.at(e.id);
    CHECK(lc::stage_name(table.stages[j]) == lc::stage_name(e.value));
    CHECK(lc::stage_rule_name(table.rules[j]) == lc::stage_rule_name(e.rule));
  }
}

const std::vector<expectation> hand_expected{
    {1, stage::stable, stage_rule::stable_steady},
    {2, stage::new_customer, stage_rule::new_few_purchases},
    {3, stage::developing, stage_rule::developing_short_history},
    {4, stage::at_risk, stage_rule::at_risk_recency},
    {5, stage::churned, stage_rule::churned_recency},
    {6, stage::reactivated, stage_rule::reactivated_win_back},
    {7, stage::at_risk, stage_rule::at_risk_rate_trend},
    {8, stage::at_risk, stage_rule::at_risk_spend_trend},
    {9, stage::developing, stage_rule::developing_rising_spend},
    {10, stage::new_customer, stage_rule::new_short_tenure},
    {11, stage::developing, stage_rule::developing_rising_rate},
    {12, stage::churned, stage_rule::churned_recency},
    {20, stage::prospect, stage_rule::no_purchase},
};

}  // namespace

TEST_CASE("each hand-built history gets its documented stage and rule") {
  const hand_log log;
  const auto table = lc::classify(log.view(), hand_options(), day(200));
  REQUIRE(table.size() == 13);  // 12 customers and prospect 20 (3 has purchases)
  CHECK(std::is_sorted(table.customer.begin(), table.customer.end()));
  check_stages(table, hand_expected);
  CHECK(table.rows_after == 1);
  CHECK(table.as_of == day(200, 0));

  const auto rows = rows_by_key(table.customer);
  // Customer 7: g is its own median gap 5 (35 gaps of 5, two of 15); W = max(30, 15) = 30.
  const std::size_t seven = rows.at(7);
  CHECK(table.typical_gap[seven] == 5.0);
  CHECK(table.own_gap[seven] == 1);
  CHECK(table.window[seven] == 30.0);
  CHECK(table.rate_trend[seven] == doctest::Approx(-4.0 / 6.0));
  // Customer 6's win-back purchase is day 195; 10 purchase days, total 100.
  CHECK(table.last_win_back[rows.at(6)] == day(195, 0));
  CHECK(table.purchases[rows.at(6)] == 10);
  CHECK(table.total_spend[rows.at(6)] == 100.0);
  // Customer 10 has two purchases: g falls back to G.
  CHECK(table.own_gap[rows.at(10)] == 0);
  CHECK(table.typical_gap[rows.at(10)] == 10.0);
  CHECK(table.tenure[rows.at(10)] == 5.0);
  CHECK(table.recency[rows.at(10)] == 2.0);
  // The prospect has no measurements.
  CHECK(std::isnan(table.tenure[rows.at(20)]));
  CHECK(table.purchases[rows.at(20)] == 0);
  // No model: no P(alive).
  CHECK(std::isnan(table.p_alive[rows.at(1)]));
}

TEST_CASE("a date in the past ignores later purchases") {
  const hand_log log;
  const auto options = hand_options();
  // Day 100: customer 5 bought that day and every 10 days before: stable. Customer 6 had been
  // silent since day 80 (r = 20 > 15): at risk. Customer 2 (first purchase day 195) is absent.
  const auto table = lc::classify(log.view(), options, day(100));
  check_stages(table, {{5, stage::stable, stage_rule::stable_steady},
                       {6, stage::at_risk, stage_rule::at_risk_recency},
                       {3, stage::prospect, stage_rule::no_purchase}});
  const auto rows = rows_by_key(table.customer);
  CHECK(rows.count(2) == 0);
  // Day 150: customer 6 is churned (r = 70 > 30) before it returns on day 195.
  check_stages(lc::classify(log.view(), options, day(150)),
               {{6, stage::churned, stage_rule::churned_recency}});
  // Day 230: customer 5 returns after a 130-day silence: won back.
  check_stages(lc::classify(log.view(), options, day(230)),
               {{5, stage::reactivated, stage_rule::reactivated_win_back}});
}

TEST_CASE("threshold changes move customers as documented") {
  const hand_log log;
  auto options = hand_options();
  SUBCASE("a laxer at-risk recency leaves customer 4 to the rate-trend rule") {
    // r = 20 <= 2.5 g; windows (170,200] and (140,170] hold 1 and 3: (1 - 3) / 3 <= -0.5.
    options.rules.at_risk_gaps = 2.5;
    check_stages(lc::classify(log.view(), options, day(200)),
                 {{4, stage::at_risk, stage_rule::at_risk_rate_trend}});
  }
  SUBCASE("a later churn threshold makes customer 5 at risk") {
    options.rules.churn_gaps = 12;  // r = 100 <= 120
    check_stages(lc::classify(log.view(), options, day(200)),
                 {{5, stage::at_risk, stage_rule::at_risk_recency},
                  {6, stage::developing, stage_rule::developing_rising_rate}});
    // With churn at 12 g the gap of 115 days no longer churned customer 6; its windows
    // (170,200] and (140,170] hold 1 and 0 purchases: rising.
  }
  SUBCASE("stable needs more purchases than customer 1 has") {
    options.rules.stable_min_purchases = 30;  // it has 21
    check_stages(lc::classify(log.view(), options, day(200)),
                 {{1, stage::developing, stage_rule::developing_few_purchases}});
  }
  SUBCASE("a stricter trend threshold makes customers 8 and 9 stable") {
    options.rules.trend_threshold = 0.95;  // customer 8's spend trend is -0.9, 9's +0.9
    check_stages(lc::classify(log.view(), options, day(200)),
                 {{8, stage::stable, stage_rule::stable_steady},
                  {9, stage::stable, stage_rule::stable_steady}});
  }
  SUBCASE("a longer exploration keeps customer 3 new") {
    options.rules.new_tenure_gaps = 6;  // tenure 50 < 60
    check_stages(lc::classify(log.view(), options, day(200)),
                 {{3, stage::new_customer, stage_rule::new_short_tenure}});
  }
  SUBCASE("a longer minimum window makes customer 11 stable") {
    // W = 90: windows (110,200] and (20,110] hold 12 and 9 purchases: (12 - 9) / 12 < 0.5.
    options.rules.min_window = 90;
    check_stages(lc::classify(log.view(), options, day(200)),
                 {{11, stage::stable, stage_rule::stable_steady},
                  {1, stage::stable, stage_rule::stable_steady}});
  }
}

TEST_CASE("the population gap is the median of the customers' median gaps") {
  const hand_log log;
  auto options = hand_options();
  options.rules.population_gap.reset();
  const auto table = lc::classify(log.view(), options, day(200));
  // Own median gaps of the customers with two or more purchase days (by hand): 1: 10, 3: 10,
  // 4: 10, 5: 10, 6: 10 (gaps 10 x8, 115), 7: 5, 8: 10, 9: 10, 10: 3, 11: 10 (17 tens, 6 fives).
  // Sorted: 3, 5, 10 x8: the median of 10 values is 10.
  CHECK(table.population_gap == 10.0);
  check_stages(table, hand_expected);
  // As of day 100 (customers 1, 4, 5, 6, 7, 8, 9, 11 with gaps 10, 10, 10, 10, 5, 10, 10, 10):
  // median 10.
  CHECK(lc::classify(log.view(), options, day(100)).population_gap == 10.0);
}

TEST_CASE("row order and thread count do not change the table") {
  hand_log log;
  const auto options = hand_options();
  crmkit::set_num_threads(1);
  const auto one = lc::classify(log.view(), options, day(200));
  log.shuffle(99);
  crmkit::set_num_threads(4);
  const auto four = lc::classify(log.view(), options, day(200));
  crmkit::set_num_threads(0);
  CHECK(one.customer == four.customer);
  CHECK(one.stages == four.stages);
  CHECK(one.rules == four.rules);
  CHECK(one.total_spend == four.total_spend);
  // Bitwise, so that the prospects' NaN compare equal.
  auto bits = [](const std::vector<double>& values) {
    std::vector<std::uint64_t> out;
    for (const double value : values) out.push_back(std::bit_cast<std::uint64_t>(value));
    return out;
  };
  CHECK(bits(one.typical_gap) == bits(four.typical_gap));
  CHECK(bits(one.rate_trend) == bits(four.rate_trend));
}

TEST_CASE("bad input: dates before the data, one-day logs, thresholds, sizes") {
  const hand_log log;
  const auto options = hand_options();
  CHECK_THROWS_WITH_AS(lc::classify(log.view(), options, day(-5)),
                       doctest::Contains("as_of = 2023-12-27"), crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(lc::classify(log.view(), options, day(-5)),
                       doctest::Contains("before every purchase"), crmkit::invalid_input);

  // Every purchase on one day: G is undefined unless given.
  const std::vector<std::int64_t> ids{1, 2, 3}, when{day(0, 9), day(0, 10), day(0, 11)};
  const lc::log_view one_day{ids, when, {}, 1};
  CHECK_THROWS_WITH_AS(lc::classify(one_day, {}, day(0)), doctest::Contains("population_gap"),
                       crmkit::invalid_input);
  lc::stage_options given;
  given.rules.population_gap = 7;
  const auto table = lc::classify(one_day, given, day(0));
  for (const auto value : table.stages) CHECK(value == stage::new_customer);
  // Ten days later: r = 10 <= 1.5 * 7 = 10.5, still new; 11 days: at risk.
  for (const auto value : lc::classify(one_day, given, day(10)).stages) {
    CHECK(value == stage::new_customer);
  }
  for (const auto value : lc::classify(one_day, given, day(11)).stages) {
    CHECK(value == stage::at_risk);
  }

  auto bad = options;
  bad.rules.churn_gaps = 1;
  CHECK_THROWS_WITH_AS(lc::classify(log.view(), bad, day(200)),
                       doctest::Contains("churn_gaps = 1 must be >= at_risk_gaps = 1.5"),
                       crmkit::invalid_input);
  bad = options;
  bad.rules.trend_threshold = 0;
  CHECK_THROWS_WITH_AS(lc::classify(log.view(), bad, day(200)),
                       doctest::Contains("trend_threshold"), crmkit::invalid_input);
  bad = options;
  bad.rules.own_gap_min_purchases = 1;
  CHECK_THROWS_AS(lc::classify(log.view(), bad, day(200)), crmkit::invalid_input);
  const std::vector<std::int64_t> short_time{day(0)};
  CHECK_THROWS_WITH_AS(lc::classify({ids, short_time, {}, 1}, options),
                       doctest::Contains("timestamp"), crmkit::invalid_input);
  const std::vector<double> amounts{1.0, NAN, 2.0};
  CHECK_THROWS_WITH_AS(lc::classify({ids, when, amounts, 1}, given),
                       doctest::Contains("amount[1] = nan"), crmkit::invalid_input);
}

namespace {

/** A simulated log in days (BG/NBD with daily rates), 2000 customers over a year. */
struct simulated_log {
  std::vector<std::int64_t> customer, timestamp;
  crmkit::data::simulation_options settings;

  simulated_log() {
    settings.customers = 2000;
    settings.r = 0.243;
    settings.alpha = 4.414 * 7;  // the CDNOW weekly rates expressed per day
    settings.acquisition_periods = 90;
    settings.horizon = 365;
    settings.seed = 5;
    const auto simulated = crmkit::data::simulate_transactions(settings);
    customer = simulated.customer;
    for (const double t : simulated.time) {
      timestamp.push_back(day(0, 0) + static_cast<std::int64_t>(std::floor(t * 86'400)));
    }
  }
  [[nodiscard]] lc::log_view view() const { return {customer, timestamp, {}, 1}; }
};

}  // namespace

TEST_CASE("a model fitted in other time units is refused; the right unit is accepted") {
  const simulated_log log;
  lc::stage_options options;
  const crmkit::clv::bg_nbd_params weekly{0.243, 4.414, 0.793, 2.426};
  SUBCASE("weekly parameters declared as daily") {
    options.model = lc::alive_model{weekly, 1};
    CHECK_THROWS_WITH_AS(lc::classify(log.view(), options), doctest::Contains("time unit"),
                         crmkit::invalid_input);
  }
  SUBCASE("weekly parameters declared as weekly") {
    options.model = lc::alive_model{weekly, 7};
    const auto table = lc::classify(log.view(), options);
    CHECK(table.model_time_scale >= 1 / 3.0);
    CHECK(table.model_time_scale <= 3.0);
    CHECK(table.warnings.empty());
  }
  SUBCASE("daily parameters declared as weekly") {
    const crmkit::clv::bg_nbd_params daily{0.243, 4.414 * 7, 0.793, 2.426};
    options.model = lc::alive_model{daily, 7};
    CHECK_THROWS_AS(lc::classify(log.view(), options), crmkit::invalid_input);
  }
}

TEST_CASE("P(alive) refines churn and decline, with the BG/NBD formula") {
  const hand_log log;
  auto options = hand_options();
  // a/b large makes P(alive) small right after a purchase: P = 1 / (1 + a / (b + x - 1) *
  // ((alpha + T) / (alpha + t_x))^(r + x)) (Fader, Hardie & Lee 2005, note 021).
  const crmkit::clv::bg_nbd_params params{1.0, 10.0, 4.0, 1.0};
  options.model = lc::alive_model{params, 1};
  const auto table = lc::classify(log.view(), options, day(200));
  REQUIRE(table.warnings.size() == 1);  // 10 repeat buyers: the unit check is skipped
  CHECK(table.warnings[0].code == crmkit::warning_code::unchecked_model);
  CHECK(std::isnan(table.model_time_scale));
  const auto rows = rows_by_key(table.customer);
  auto p_alive = [&](double x, double t_x, double T) {
    if (x == 0) return 1.0;
    return 1 / (1 + params.a / (params.b + x - 1) *
                        std::pow((params.alpha + T) / (params.alpha + t_x), params.r + x));
  };
  // Customer 10: x = 1, t_x = 3, T = 5: P = 1 / (1 + 4 * (15/13)^2) ~ 0.158 < 0.2: churned.
  CHECK(table.p_alive[rows.at(10)] == doctest::Approx(p_alive(1, 3, 5)).epsilon(1e-12));
  check_stages(table, {{10, stage::churned, stage_rule::churned_model}});
  // Customer 1: x = 20, t_x = T = 200: P = 1 / (1 + 4/20) = 0.833, no change: stable.
  CHECK(table.p_alive[rows.at(1)] == doctest::Approx(p_alive(20, 200, 200)).epsilon(1e-12));
  check_stages(table, {{1, stage::stable, stage_rule::stable_steady}});
  // Customer 3: x = 5, T = t_x = 50: P = 1 / (1 + 4/5) = 0.556 >= 0.5: developing still; with
  // the at-risk bound at 0.6 it is at risk by the model.
  CHECK(table.p_alive[rows.at(3)] == doctest::Approx(p_alive(5, 50, 50)).epsilon(1e-12));
  options.rules.p_alive_at_risk = 0.6;
  check_stages(lc::classify(log.view(), options, day(200)),
               {{3, stage::at_risk, stage_rule::at_risk_model}});
  // Expected purchases are reported and positive.
  CHECK(table.expected_purchases[rows.at(1)] > 0);
}

TEST_CASE("history, migration rows and time in stage") {
  const hand_log log;
  const auto options = hand_options();
  const std::vector<std::int64_t> dates{day(100), day(150), day(200)};
  const auto history = lc::classify_history(log.view(), dates, options);
  // Each date of the history equals classify at that date.
  for (std::size_t d = 0; d < dates.size(); ++d) {
    const auto table = lc::classify(log.view(), options, dates[d]);
    const auto rows = rows_by_key(table.customer);
    std::size_t present = 0;
    for (std::size_t j = 0; j < history.customer.size(); ++j) {
      if (!history.is_present(d, j)) continue;
      ++present;
      CHECK(history.at(d, j) == table.stages[rows.at(history.customer[j])]);
    }
    CHECK(present == table.size());
  }
  const auto matrix = lc::migration_between(history, 0, 2);
  const auto from = lc::classify(log.view(), options, day(100));
  const auto to = lc::classify(log.view(), options, day(200));
  for (std::size_t s = 0; s < lc::stage_count; ++s) {
    const auto count = static_cast<std::uint64_t>(
        std::count(from.stages.begin(), from.stages.end(), static_cast<stage>(s)));
    CHECK(matrix.row_total(s) == count);
    std::uint64_t column = 0;
    for (std::size_t r = 0; r <= lc::unobserved_row; ++r) column += matrix.counts[r][s];
    CHECK(column == static_cast<std::uint64_t>(
                        std::count(to.stages.begin(), to.stages.end(), static_cast<stage>(s))));
  }
  // Absent at day 100: customers 2, 3 (a prospect, so it has a row), 10 -> 2 and 10 are
  // unobserved; both are new at day 200.
  CHECK(matrix.row_total(lc::unobserved_row) == 2);
  CHECK(matrix.counts[lc::unobserved_row][static_cast<std::size_t>(stage::new_customer)] == 2);
  // Customer 6: at risk at 100, churned at 150, reactivated at 200.
  const std::size_t at_risk = static_cast<std::size_t>(stage::at_risk);
  CHECK(matrix.rate(at_risk, static_cast<std::size_t>(stage::reactivated)) ==
        doctest::Approx(1.0 / static_cast<double>(matrix.row_total(at_risk))));
  const auto same = lc::stage_migration(log.view(), day(100), day(200), options);
  CHECK(same.counts == matrix.counts);

  const auto days = lc::time_in_stage(history);
  const auto rows = rows_by_key(history.customer);
  const std::size_t six = rows.at(6) * lc::stage_count;
  CHECK(days[six + at_risk] == 50.0);
  CHECK(days[six + static_cast<std::size_t>(stage::churned)] == 50.0);
  CHECK(days[rows.at(2) * lc::stage_count + static_cast<std::size_t>(stage::new_customer)] == 0);

  CHECK_THROWS_WITH_AS(
      lc::classify_history(log.view(), std::vector<std::int64_t>{day(5), day(1)}, options),
      doctest::Contains("dates[1]"), crmkit::invalid_input);
}

TEST_CASE("early warning lists the customers who moved into decline, by value") {
  const hand_log log;
  const auto options = hand_options();
  // At risk on day 200: 4, 7, 8; all were stable on day 100 (7: windows (70,100] and (40,70]
  // hold 6 and 6 purchases). Historical value: 8 spent 18*100 + 3*10 = 1830, 4 spent 190, 7
  // spent 37 * 1.
  const auto list = lc::early_warning(log.view(), day(100), day(200), {}, {}, options);
  CHECK(list.customer == std::vector<std::int64_t>{8, 4, 7});
  CHECK(list.value_at_risk == std::vector<double>{1830, 190, 37});
  for (const auto before : list.before) CHECK(before == stage::stable);
  CHECK(list.rule == std::vector<stage_rule>{stage_rule::at_risk_spend_trend,
                                             stage_rule::at_risk_recency,
                                             stage_rule::at_risk_rate_trend});
  // Predicted values reorder them; a customer without a value goes last.
  const std::vector<std::int64_t> keys{7, 4};
  const std::vector<double> predicted{500, 20};
  const auto ranked = lc::early_warning(log.view(), day(100), day(200), keys, predicted, options);
  CHECK(ranked.customer == std::vector<std::int64_t>{7, 4, 8});
  CHECK(ranked.missing_values == 1);
  CHECK_THROWS_AS(lc::early_warning(log.view(), day(200), day(100), {}, {}, options),
                  crmkit::invalid_input);
}

// Issue 13, defect 3: a total spend past the double range was reported as inf.
TEST_CASE("a total spend beyond the double range is an error, not inf") {
  hand_log log;
  log.buy(11, 10, 1e308);
  log.buy(11, 20, 1e308);
  CHECK_THROWS_WITH_AS(static_cast<void>(lc::classify(log.view(), hand_options(), day(200))),
                       doctest::Contains("a customer's total spend is inf (beyond the largest "
                                         "double"),
                       crmkit::invalid_input);
  hand_log fine;
  fine.buy(11, 10, 8e307);
  fine.buy(11, 20, 8e307);
  const auto table = lc::classify(fine.view(), hand_options(), day(200));
  const auto rows = rows_by_key(table.customer);
  CHECK(table.total_spend[rows.at(11)] == 1.6e308);
}

TEST_CASE("a long history: the typical gap is the median of the gaps so far at every date") {
  // 300 purchase days with gaps drawn from 1..40 days (seed fixed), so the running median runs
  // far past the length where it keeps its values sorted; then a 1000-day pause and one more
  // purchase, a win-back. The reference: the median of the gaps up to each date, by sorting.
  std::mt19937_64 random(11);
  std::uniform_int_distribution<std::int64_t> gap(1, 40);
  std::vector<std::int64_t> days{0};
  for (int k = 1; k < 300; ++k) days.push_back(days.back() + gap(random));
  const std::int64_t pause_end = days.back() + 1000;
  days.push_back(pause_end);
  crmkit::data::transaction_log log;
  for (const auto d : days) {
    log.customer.push_back(1);
    log.timestamp.push_back(day(d));
    log.amount.push_back(1.0);
  }
  // A second customer so that G is defined at every date.
  for (const auto d : {std::int64_t{0}, std::int64_t{5}, std::int64_t{10}}) {
    log.customer.push_back(2);
    log.timestamp.push_back(day(d));
    log.amount.push_back(1.0);
  }
  lc::stage_options options;
  const auto view = lc::log_view::of(log);
  for (const std::size_t n : {std::size_t{3}, std::size_t{40}, std::size_t{64}, std::size_t{65},
                              std::size_t{66}, std::size_t{67}, std::size_t{150}, std::size_t{300},
                              std::size_t{301}}) {
    CAPTURE(n);
    const auto table = lc::classify(view, options, day(days[n - 1]));
    std::vector<std::int64_t> gaps;
    for (std::size_t k = 1; k < n; ++k) gaps.push_back(days[k] - days[k - 1]);
    std::sort(gaps.begin(), gaps.end());
    const std::size_t m = gaps.size();
    const double median = m % 2 == 1 ? static_cast<double>(gaps[m / 2])
                                     : static_cast<double>(gaps[m / 2 - 1] + gaps[m / 2]) / 2;
    REQUIRE(table.customer.front() == 1);
    CHECK(table.purchases[0] == n);
    CHECK(table.own_gap[0] == (n >= options.rules.own_gap_min_purchases ? 1 : 0));
    if (table.own_gap[0] != 0) CHECK(table.typical_gap[0] == median);
    if (n == days.size()) {
      CHECK(table.last_win_back[0] == day(pause_end, 0));
      CHECK(table.stages[0] == stage::reactivated);
    }
  }
}

TEST_CASE("a log grouped once gives the same history and cohort counts as the log") {
  // The references are classify_history and cohort_retention over the rows (tested above and in
  // the pipeline); the grouped overloads only skip grouping the rows again.
  const hand_log log;
  const auto options = hand_options();
  const std::vector<std::int64_t> dates{day(100), day(150), day(200)};
  const auto view = log.view();
  const auto checked = crmkit::data::check_log("test", view.customer, view.timestamp, view.amount,
                                               options.rules.freq, 1);
  const crmkit::data::customer_periods grouped(
      view.customer, view.timestamp, view.amount, checked,
      checked.calendar.last_tick(checked.calendar.period(dates.back())));
  const auto direct = lc::classify_history(view, dates, options);
  const auto shared = lc::classify_history(grouped, dates, options);
  CHECK(shared.customer == direct.customer);
  CHECK(shared.stages == direct.stages);
  CHECK(shared.present == direct.present);
  CHECK(shared.population_gap == direct.population_gap);

  const auto cohorts = lc::cohort_retention(view, crmkit::data::period_unit::month, dates.back());
  const auto counted = lc::cohort_retention(grouped, crmkit::data::period_unit::month);
  CHECK(counted.cohort == cohorts.cohort);
  CHECK(counted.offsets == cohorts.offsets);
  CHECK(counted.size == cohorts.size);
  CHECK(counted.active == cohorts.active);
  CHECK(counted.observed == cohorts.observed);
  CHECK(counted.revenue.empty());
  // (Not coarser than months: the rows' overload counts every row of the last date's period, and
  // customer 5's day 230 is in day 200's quarter.)
  for (const auto freq : {crmkit::data::period_unit::day, crmkit::data::period_unit::week}) {
    CAPTURE(crmkit::data::period_code(freq));
    const auto by_rows = lc::cohort_retention(view, freq, dates.back());
    const auto by_groups = lc::cohort_retention(grouped, freq);
    CHECK(by_groups.cohort == by_rows.cohort);
    CHECK(by_groups.size == by_rows.size);
    CHECK(by_groups.active == by_rows.active);
    CHECK(by_groups.observed == by_rows.observed);
  }

  const std::vector<std::int64_t> earlier{day(100), day(150)};
  CHECK_THROWS_WITH_AS(lc::classify_history(grouped, earlier, options),
                       doctest::Contains("must be in the grouping's last period"),
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(lc::cohort_retention(grouped, crmkit::data::period_unit::hour),
                       doctest::Contains("is not the grouping's period unit"),
                       crmkit::invalid_input);
}
