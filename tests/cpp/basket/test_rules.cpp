#include <crmkit/basket/rules.hpp>
#include <crmkit/core/error.hpp>
#include <crmkit/core/parallel.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "basket/random_baskets.hpp"

using namespace crmkit::basket;

namespace {

using items_t = std::vector<std::uint32_t>;

std::uint32_t mask_of(std::span<const std::uint32_t> items) {
  std::uint32_t mask = 0;
  for (const auto item : items) mask |= 1u << item;
  return mask;
}

// The measures straight from counts of baskets (brute force), by their textbook definitions.
struct reference {
  double s_a, s_c, s_ac;
};

reference brute_supports(const basket_matrix& baskets, std::uint32_t a, std::uint32_t c) {
  const auto n = static_cast<double>(baskets.size());
  return {basket_test::brute_count(baskets, a) / n, basket_test::brute_count(baskets, c) / n,
          basket_test::brute_count(baskets, a | c) / n};
}

}  // namespace

TEST_CASE("every rule of every frequent itemset, with measures from a brute-force count") {
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    CAPTURE(seed);
    const auto baskets = basket_test::random_baskets(seed, 80 + 7 * seed, 9, 0.4);
    const auto itemsets = frequent_itemsets(baskets, {.min_count = 4});
    const auto rules = association_rules(itemsets, {.metric = rule_metric::support,
                                                     .min_threshold = 0.0});
    // All rules: Σ over itemsets of size k of (2^k − 2).
    std::size_t expected = 0;
    for (std::size_t i = 0; i < itemsets.size(); ++i) {
      const auto k = itemsets.itemset(i).size();
      if (k >= 2) expected += (std::size_t{1} << k) - 2;
    }
    REQUIRE(rules.size() == expected);
    std::map<std::pair<std::uint32_t, std::uint32_t>, int> seen;
    for (std::size_t r = 0; r < rules.size(); ++r) {
      const auto a = mask_of(rules.antecedent(r)), c = mask_of(rules.consequent(r));
      CHECK((a & c) == 0);
      CHECK(++seen[{a, c}] == 1);
      const auto ref = brute_supports(baskets, a, c);
      const double confidence = ref.s_ac / ref.s_a;
      CHECK(rules.antecedent_support[r] == doctest::Approx(ref.s_a).epsilon(1e-15));
      CHECK(rules.consequent_support[r] == doctest::Approx(ref.s_c).epsilon(1e-15));
      CHECK(rules.support[r] == doctest::Approx(ref.s_ac).epsilon(1e-15));
      CHECK(rules.confidence[r] == doctest::Approx(confidence).epsilon(1e-14));
      CHECK(rules.lift[r] == doctest::Approx(confidence / ref.s_c).epsilon(1e-14));
      CHECK(rules.leverage[r] == doctest::Approx(ref.s_ac - ref.s_a * ref.s_c).epsilon(1e-14));
      if (confidence == 1.0) {
        CHECK(std::isinf(rules.conviction[r]));
      } else {
        CHECK(rules.conviction[r] ==
              doctest::Approx((1 - ref.s_c) / (1 - confidence)).epsilon(1e-12));
      }
      // Zhang (2000): (P(AC) − P(A)P(C)) / max(P(AC)(1 − P(A)), P(A)(P(C) − P(AC))).
      const double denominator =
          std::max(ref.s_ac * (1 - ref.s_a), ref.s_a * (ref.s_c - ref.s_ac));
      CHECK(rules.zhangs_metric[r] ==
            doctest::Approx(denominator == 0 ? 0.0
                                             : (ref.s_ac - ref.s_a * ref.s_c) / denominator)
                .epsilon(1e-12));
    }
  }
}

TEST_CASE("the filter keeps exactly the rules at or above the threshold") {
  const auto baskets = basket_test::random_baskets(8, 150, 10, 0.4);
  const auto itemsets = frequent_itemsets(baskets, {.min_count = 5});
  const auto all = association_rules(itemsets, {.metric = rule_metric::support, .min_threshold = 0});
  for (const auto metric : {rule_metric::confidence, rule_metric::lift, rule_metric::leverage,
                            rule_metric::conviction, rule_metric::zhangs_metric}) {
    const double threshold = metric == rule_metric::leverage ? 0.01 : 0.6;
    const auto kept = association_rules(itemsets, {.metric = metric, .min_threshold = threshold});
    std::size_t expected = 0;
    for (std::size_t r = 0; r < all.size(); ++r) expected += metric_value(all, r, metric) >= threshold;
    CHECK(kept.size() == expected);
    for (std::size_t r = 0; r < kept.size(); ++r) CHECK(metric_value(kept, r, metric) >= threshold);
  }
}

TEST_CASE("rules for a fixed antecedent or consequent") {
  const auto baskets = basket_test::random_baskets(9, 200, 8, 0.45);
  const auto itemsets = frequent_itemsets(baskets, {.min_count = 10});
  const auto all = association_rules(itemsets, {.metric = rule_metric::support, .min_threshold = 0});
  const auto given = association_rules(
      itemsets, {.metric = rule_metric::support, .min_threshold = 0, .antecedent = {2}});
  std::size_t expected = 0;
  for (std::size_t r = 0; r < all.size(); ++r) {
    expected += all.antecedent(r).size() == 1 && all.antecedent(r)[0] == 2;
  }
  REQUIRE(expected > 0);
  CHECK(given.size() == expected);
  const auto to = association_rules(
      itemsets, {.metric = rule_metric::support, .min_threshold = 0, .consequent = {5, 1}});
  for (std::size_t r = 0; r < to.size(); ++r) {
    CHECK(items_t(to.consequent(r).begin(), to.consequent(r).end()) == items_t{1, 5});
  }
}

TEST_CASE("a missing subset is an error naming the itemset, unless support_only") {
  itemset_table table;
  table.items = {0, 1};
  table.offsets = {0, 1, 2};  // {0}, {1}
  table.support = {0.5, 0.4};
  table.items.insert(table.items.end(), {0, 1, 2});
  table.offsets.push_back(5);  // {0, 1, 2} without its pairs
  table.support.push_back(0.2);
  CHECK_THROWS_AS(association_rules(table), crmkit::invalid_input);
  const auto rules = association_rules(table, {.min_threshold = 0.1, .support_only = true});
  CHECK(rules.size() == 6);
  CHECK(std::isnan(rules.confidence[0]));
  CHECK(rules.support[0] == 0.2);
}

TEST_CASE("the same rules at 1 and 3 threads") {
  const std::size_t saved = crmkit::num_threads();
  const auto itemsets =
      frequent_itemsets(basket_test::random_baskets(10, 2000, 60, 0.06), {.min_count = 3});
  crmkit::set_num_threads(1);
  const auto one = association_rules(itemsets, {.metric = rule_metric::lift, .min_threshold = 1});
  crmkit::set_num_threads(3);
  const auto three = association_rules(itemsets, {.metric = rule_metric::lift, .min_threshold = 1});
  crmkit::set_num_threads(saved);
  REQUIRE(one.size() > 100);
  CHECK(one.antecedent_items == three.antecedent_items);
  CHECK(one.consequent_offsets == three.consequent_offsets);
  CHECK(one.lift == three.lift);
}
