#include <crmkit/lifecycle.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace lc = crmkit::lifecycle;

namespace {

constexpr std::int64_t base_day = 19'723;  // 2024-01-01
std::int64_t day(std::int64_t n) { return (base_day + n) * 86'400 + 12 * 3600; }

/**
 * 400 customers over 600 days: bursts of purchases a few days apart separated by pauses of up to
 * 250 days (so that many purchases win a customer back, judged by its own median or, early on,
 * by G), some customers buying only once.
 */
struct random_log {
  std::vector<std::int64_t> customer, timestamp;
  std::vector<double> amount;

  random_log() {
    std::mt19937_64 random(20261206);
    std::uniform_int_distribution<int> short_gap(1, 12), pause(30, 250), start(0, 400),
        burst(1, 6);
    std::uniform_real_distribution<double> spend(0.5, 80);
    for (std::int64_t id = 0; id < 400; ++id) {
      int on = start(random);
      const int bursts = static_cast<int>(id % 5);
      for (int b = 0; b <= bursts && on < 600; ++b) {
        for (int k = burst(random); k > 0 && on < 600; --k) {
          customer.push_back(id);
          timestamp.push_back(day(on));
          amount.push_back(spend(random));
          on += short_gap(random);
        }
        on += pause(random);
      }
    }
  }
  [[nodiscard]] lc::log_view view() const { return {customer, timestamp, amount, 1}; }
};

}  // namespace

TEST_CASE("a history at several dates equals classify at each date, whatever the rules") {
  // The reference is classify at one date (tested against hand-built stages in test_stage.cpp);
  // the history evaluates every date of a customer in one pass, reusing the earlier date's spend
  // and win-back search.
  const random_log log;
  const std::vector<std::int64_t> dates{day(150), day(151), day(300), day(420), day(599)};
  for (const std::size_t own_min : {std::size_t{2}, std::size_t{3}, std::size_t{5}}) {
    for (const double churn_gaps : {1.5, 3.0}) {
      CAPTURE(own_min);
      CAPTURE(churn_gaps);
      lc::stage_options options;
      options.rules.own_gap_min_purchases = own_min;
      options.rules.churn_gaps = churn_gaps;
      options.rules.at_risk_gaps = 1.0;
      const auto history = lc::classify_history(log.view(), dates, options);
      std::size_t reactivated = 0;
      for (std::size_t d = 0; d < dates.size(); ++d) {
        const auto table = lc::classify(log.view(), options, dates[d]);
        std::map<std::int64_t, std::size_t> row;
        for (std::size_t i = 0; i < table.customer.size(); ++i) row[table.customer[i]] = i;
        std::size_t present = 0;
        for (std::size_t j = 0; j < history.customer.size(); ++j) {
          if (!history.is_present(d, j)) continue;
          ++present;
          const std::size_t i = row.at(history.customer[j]);
          CHECK(history.at(d, j) == table.stages[i]);
          reactivated += table.stages[i] == lc::stage::reactivated;
        }
        CHECK(present == table.size());
      }
      // The log exercises the win-back rule.
      CHECK(reactivated > 10);

      // Early warning's value of a listed customer is its spend up to as_of (the later date).
      const auto warnings =
          lc::early_warning(log.view(), dates[2], dates[4], {}, {}, options);
      const auto now = lc::classify(log.view(), options, dates[4]);
      std::map<std::int64_t, std::size_t> row;
      for (std::size_t i = 0; i < now.customer.size(); ++i) row[now.customer[i]] = i;
      CHECK(warnings.size() > 0);
      for (std::size_t w = 0; w < warnings.size(); ++w) {
        CHECK(warnings.value_at_risk[w] == now.total_spend[row.at(warnings.customer[w])]);
      }
    }
  }
}
