#include <crmkit/basket/itemsets.hpp>
#include <crmkit/core/error.hpp>
#include <crmkit/core/parallel.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <map>
#include <string>
#include <vector>

#include "basket/random_baskets.hpp"

using namespace crmkit::basket;

namespace {

struct thread_count_guard {
  std::size_t saved = crmkit::num_threads();
  ~thread_count_guard() { crmkit::set_num_threads(saved); }
};

std::map<std::vector<std::uint32_t>, std::uint64_t> as_map(const itemset_table& table) {
  std::map<std::vector<std::uint32_t>, std::uint64_t> out;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto items = table.itemset(i);
    out[{items.begin(), items.end()}] = table.count[i];
  }
  return out;
}

// Every subset of the items counted in every basket: the definition of a frequent itemset.
std::map<std::vector<std::uint32_t>, std::uint64_t> brute_force(const basket_matrix& baskets,
                                                                std::uint64_t min_count,
                                                                std::size_t max_len) {
  std::map<std::vector<std::uint32_t>, std::uint64_t> out;
  for (std::uint32_t mask = 1; mask < (1u << baskets.item_count); ++mask) {
    const auto size = static_cast<std::size_t>(std::popcount(mask));
    if (max_len != 0 && size > max_len) continue;
    const auto count = basket_test::brute_count(baskets, mask);
    if (count < min_count) continue;
    std::vector<std::uint32_t> items;
    for (std::uint32_t i = 0; i < baskets.item_count; ++i) {
      if (mask >> i & 1) items.push_back(i);
    }
    out[items] = count;
  }
  return out;
}

}  // namespace

TEST_CASE("frequent itemsets equal a brute-force count of every subset") {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const auto baskets = basket_test::random_baskets(seed, 40 + 13 * seed, 10, 0.45);
    for (const std::size_t max_len : {0, 1, 2, 3, 5}) {
      for (const std::uint64_t min_count : {1, 3, 9}) {
        CAPTURE(seed);
        CAPTURE(max_len);
        CAPTURE(min_count);
        itemset_options options;
        options.min_count = min_count;
        options.max_len = max_len;
        const auto table = frequent_itemsets(baskets, options);
        CHECK(as_map(table) == brute_force(baskets, min_count, max_len));
        CHECK(table.basket_count == baskets.size());
        for (std::size_t i = 0; i < table.size(); ++i) {
          CHECK(table.support[i] == static_cast<double>(table.count[i]) / baskets.size());
        }
      }
    }
  }
}

TEST_CASE("itemsets come in canonical order: by size, then lexicographically") {
  const auto table = frequent_itemsets(basket_test::random_baskets(3, 200, 12, 0.4),
                                       {.min_support = 0.05});
  REQUIRE(table.size() > 50);
  for (std::size_t i = 1; i < table.size(); ++i) {
    const auto a = table.itemset(i - 1), b = table.itemset(i);
    CHECK((a.size() < b.size() ||
           (a.size() == b.size() &&
            std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end()))));
  }
}

TEST_CASE("a share threshold keeps exactly the itemsets with support >= min_support") {
  const auto baskets = basket_test::random_baskets(5, 30, 9, 0.5);
  // 0.1 * 30 is 3.0000000000000004 in double; support 3/30 = 0.1 passes `support >= 0.1`.
  const itemset_options options{.min_support = 0.1};
  CHECK(support_threshold(options, 30) == 3);
  CHECK(support_threshold({.min_support = 0.005}, 33'841) == 170);  // 169.205 rounded up
  CHECK(support_threshold({.min_support = 1.0}, 7) == 7);
  const auto table = frequent_itemsets(baskets, options);
  CHECK(as_map(table) == brute_force(baskets, 3, 0));
  CHECK_THROWS_AS(frequent_itemsets(baskets, {.min_support = 0.0}), crmkit::invalid_input);
  CHECK_THROWS_AS(frequent_itemsets(baskets, {.min_support = 1.5}), crmkit::invalid_input);
}

TEST_CASE("the same itemsets at 1, 2 and 7 threads") {
  thread_count_guard guard;
  const auto baskets = basket_test::random_baskets(11, 3000, 300, 0.02);
  std::vector<itemset_table> tables;
  for (const std::size_t threads : {1, 2, 7}) {
    crmkit::set_num_threads(threads);
    tables.push_back(frequent_itemsets(baskets, {.min_count = 2}));
  }
  REQUIRE(tables[0].size() > 1000);
  for (const auto& t : tables) {
    CHECK(t.offsets == tables[0].offsets);
    CHECK(t.items == tables[0].items);
    CHECK(t.count == tables[0].count);
  }
}

TEST_CASE("more itemsets than max_itemsets stop with an error naming the option and the count") {
  const auto baskets = basket_test::random_baskets(2, 100, 12, 0.5);
  const auto all = frequent_itemsets(baskets, {.min_count = 1});
  itemset_options options{.min_count = 1, .max_itemsets = all.size() - 1};
  try {
    (void)frequent_itemsets(baskets, options);
    FAIL("no error");
  } catch (const crmkit::invalid_input& error) {
    const std::string message = error.what();
    CHECK(message.find("max_itemsets = " + std::to_string(all.size() - 1)) != std::string::npos);
  }
  options.max_itemsets = all.size();
  CHECK(frequent_itemsets(baskets, options).size() == all.size());
}

TEST_CASE("no baskets or no frequent item give an empty table") {
  basket_matrix none;
  CHECK(frequent_itemsets(none, {.min_support = 0.5}).size() == 0);
  const auto baskets = basket_test::random_baskets(4, 20, 5, 0.1);
  CHECK(frequent_itemsets(baskets, {.min_count = 21}).size() == 0);
}
