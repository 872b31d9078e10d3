#include <crmkit/lifecycle.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "lifecycle/random_log.hpp"

namespace lc = crmkit::lifecycle;

using lifecycle_test::day;
using lifecycle_test::random_log;

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
