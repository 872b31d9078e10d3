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

namespace lc = crmkit::lifecycle;

namespace {

/** Twice the median of values[0..count), by sorting a copy: the straightforward reference. */
std::int64_t doubled_median_by_sorting(const std::vector<std::int64_t>& values, std::size_t count) {
  std::vector<std::int64_t> sorted(values.begin(), values.begin() + static_cast<long>(count));
  std::sort(sorted.begin(), sorted.end());
  return count % 2 == 1 ? 2 * sorted[count / 2] : sorted[count / 2 - 1] + sorted[count / 2];
}

constexpr std::int64_t base_day = 19'723;  // 2024-01-01
std::int64_t day(std::int64_t n) { return (base_day + n) * 86'400 + 12 * 3600; }

}  // namespace

TEST_CASE("compute_medians: every prefix's doubled median equals the sorted prefix's") {
  // Lengths around every switch of the kernel (8, 16, 32, 64, 128 gaps, the heaps beyond), gaps
  // small (many ties), wide, and past 2^15 (the 16-bit lanes' limit), each checked against
  // sorting the prefix.
  std::mt19937_64 random(20261206);
  const lc::stage_rules rules;
  lc::detail::customer_history history(rules, nullptr, false);
  const std::vector<std::size_t> lengths{0,  1,  2,  3,  7,  8,  9,   15,  16,  17,  31, 32,
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
  std::mt19937_64 random(7);
  std::vector<std::int64_t> customer, timestamp;
  std::vector<double> amount;
  std::uniform_int_distribution<int> short_gap(1, 15), pause(20, 200), start(0, 400), burst(1, 8);
  std::uniform_real_distribution<double> spend(1, 90);
  for (std::int64_t id = 0; id < 600; ++id) {
    int on = start(random);
    for (int b = 0; b <= static_cast<int>(id % 4) && on < 600; ++b) {
      for (int k = burst(random); k > 0 && on < 600; --k) {
        customer.push_back(id);
        timestamp.push_back(day(on));
        amount.push_back(spend(random));
        on += short_gap(random);
      }
      on += pause(random);
    }
  }
  const lc::log_view log{customer, timestamp, amount, 1};
  lc::stage_options options;
  lc::alive_model model;
  model.params = crmkit::clv::bg_nbd_params{1.5, 10.0, 4.0, 0.8};
  model.unit_tolerance = 1e4;  // the unit check is not under test here
  options.model = model;
  options.rules.p_alive_at_risk = 0.8;
  options.rules.p_alive_churned = 0.5;
  const std::vector<std::int64_t> dates{day(200), day(450), day(599)};
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
  CHECK(compared > 1000);
  CHECK(by_model > 20);
}
