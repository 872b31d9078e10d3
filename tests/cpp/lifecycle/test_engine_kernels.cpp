// The stage engine's private kernels (src/lib/lifecycle/engine.hpp): the running median of a
// customer's gaps, and P(alive) computed only where a rule reads it.
#include <crmkit/lifecycle.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "lifecycle/engine.hpp"
#include "lifecycle/random_log.hpp"

namespace lc = crmkit::lifecycle;

namespace {

/** Twice the median of values[0..count), by sorting a copy: the straightforward reference. */
std::int64_t doubled_median_by_sorting(const std::vector<std::int64_t>& values, std::size_t count) {
  std::vector<std::int64_t> sorted(values.begin(), values.begin() + static_cast<long>(count));
  std::sort(sorted.begin(), sorted.end());
  return count % 2 == 1 ? 2 * sorted[count / 2] : sorted[count / 2 - 1] + sorted[count / 2];
}

}  // namespace

TEST_CASE("compute_medians: every prefix's doubled median equals the sorted prefix's") {
  // Lengths around every switch of the kernel (8, 16, 32, 64, 128 gaps, the heaps beyond), gaps
  // small (many ties), wide, and past 2^15 (the 16-bit lanes' limit), each checked against
  // sorting the prefix.
  std::mt19937_64 random(20261206);
  const lc::stage_rules rules;
  lc::detail::customer_history history(rules, nullptr, false);
  const std::vector<std::size_t> lengths{0,  1,  2,  3,  7,   8,   9,   15,  16,  17,  31, 32,
                                         33, 63, 64, 65, 100, 127, 128, 129, 130, 200, 400};
  const std::vector<std::uint32_t> widths{1, 3, 40, 1000, 32'767, 40'000, 1'000'000};
  std::size_t checked = 0;
  for (const auto width : widths) {
    for (const auto length : lengths) {
      for (int repeat = 0; repeat < 3; ++repeat) {
        std::uniform_int_distribution<std::uint32_t> gap(1, width);
        std::vector<std::uint32_t> periods;
        std::uint32_t at = 5;
        for (std::size_t k = 0; k < length; ++k) {
          periods.push_back(at);
          at += gap(random);
        }
        std::vector<std::int64_t> gaps;
        for (std::size_t k = 0; k + 1 < periods.size(); ++k) {
          gaps.push_back(std::int64_t{periods[k + 1]} - std::int64_t{periods[k]});
        }
        std::vector<std::int64_t> medians(gaps.size(), -1);
        history.compute_medians(periods, medians);
        for (std::size_t k = 0; k < gaps.size(); ++k) {
          CAPTURE(width);
          CAPTURE(length);
          CAPTURE(k);
          CHECK(medians[k] == doubled_median_by_sorting(gaps, k + 1));
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 10'000);
}

TEST_CASE("classify_history with a model: the stages classify gives at each date") {
  // classify puts P(alive) in every state; classify_history computes it only where the recency
  // rule has not already decided, so both must agree on every stage, including the ones the
  // model rules decide (counted below, so the comparison covers them).
  const lifecycle_test::random_log random_log;
  const lc::log_view log = random_log.view();
  lc::stage_options options;
  lc::alive_model model;
  model.params = crmkit::clv::bg_nbd_params{1.5, 10.0, 4.0, 0.8};
  model.unit_tolerance = 1e4;  // the unit check is not under test here
  options.model = model;
  options.rules.p_alive_at_risk = 0.8;
  options.rules.p_alive_churned = 0.5;
  const std::vector<std::int64_t> dates{lifecycle_test::day(200), lifecycle_test::day(450),
                                        lifecycle_test::day(599)};
  const auto history = lc::classify_history(log, dates, options);
  std::size_t by_model = 0, compared = 0;
  for (std::size_t d = 0; d < dates.size(); ++d) {
    const auto table = lc::classify(log, options, dates[d]);
    std::map<std::int64_t, std::size_t> row;
    for (std::size_t i = 0; i < table.customer.size(); ++i) row[table.customer[i]] = i;
    for (std::size_t j = 0; j < history.customer.size(); ++j) {
      if (!history.is_present(d, j)) continue;
      const std::size_t i = row.at(history.customer[j]);
      CHECK(history.at(d, j) == table.stages[i]);
      ++compared;
      by_model += table.rules[i] == lc::stage_rule::churned_model ||
                  table.rules[i] == lc::stage_rule::at_risk_model;
    }
  }
  CHECK(compared > 900);  // 400 customers at three dates, those with a purchase by each
  CHECK(by_model > 20);
}
