#include <crmkit/basket/baskets.hpp>
#include <crmkit/basket/item_index.hpp>
#include <crmkit/core/error.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace crmkit::basket;

TEST_CASE("order lines become sorted, distinct baskets; returns net out; empty baskets drop") {
  //                                 order 7: a, b, a again, c returned in full
  //                                 order 3: b; order 9: d bought and returned (empty)
  const std::vector<std::int64_t> order{7, 3, 7, 7, 9, 7, 9, 7};
  const std::vector<std::uint32_t> item{0, 1, 1, 0, 3, 2, 3, 2};
  const std::vector<double> quantity{1, 2, 1, 2, 1, 1, -1, -1};
  const auto baskets = make_baskets({.order = order, .item = item, .quantity = quantity});
  REQUIRE(baskets.size() == 2);
  CHECK(baskets.key == std::vector<std::int64_t>{3, 7});
  CHECK(std::vector(baskets.basket(0).begin(), baskets.basket(0).end()) ==
        std::vector<std::uint32_t>{1});
  CHECK(std::vector(baskets.basket(1).begin(), baskets.basket(1).end()) ==
        std::vector<std::uint32_t>{0, 1});
  CHECK(baskets.duplicate_lines == 3);  // a twice in 7, c twice in 7, d twice in 9
  CHECK(baskets.return_lines == 2);
  CHECK(baskets.dropped_items == 2);  // c in 7, d in 9
  CHECK(baskets.empty_baskets == 1);
  CHECK(baskets.item_count == 4);
}

TEST_CASE("customer-day baskets join a customer's orders of one day") {
  const std::vector<std::int64_t> order{1, 2, 3, 4};
  const std::vector<std::uint32_t> item{0, 1, 2, 0};
  const std::vector<std::int64_t> customer{5, 5, 5, 6};
  const std::vector<std::int64_t> time{100, 86'000, 86'500, 50};  // day 0, day 0, day 1, day 0
  const auto baskets = make_baskets(
      {.order = order, .item = item, .customer = customer, .timestamp = time},
      {.by = basket_by::customer_day});
  REQUIRE(baskets.size() == 3);
  CHECK(baskets.key == std::vector<std::int64_t>{5, 5, 6});
  CHECK(baskets.time == std::vector<std::int64_t>{100, 86'500, 50});
  CHECK(baskets.basket(0).size() == 2);
  CHECK_THROWS_AS(make_baskets({.order = order, .item = item}, {.by = basket_by::customer_day}),
                  crmkit::invalid_input);
}

TEST_CASE("bad order lines name the column and the line") {
  const std::vector<std::int64_t> order{1, 2};
  const std::vector<std::uint32_t> item{0, 1};
  const std::vector<double> quantity{1, std::nan("")};
  try {
    (void)make_baskets({.order = order, .item = item, .quantity = quantity});
    FAIL("no error");
  } catch (const crmkit::invalid_input& error) {
    CHECK(std::string(error.what()).find("quantity[1]") != std::string::npos);
  }
  const std::vector<std::uint32_t> short_item{0};
  CHECK_THROWS_AS(make_baskets({.order = order, .item = short_item}), crmkit::invalid_input);
}

TEST_CASE("a CSR matrix keeps empty rows and checks item codes") {
  const std::vector<std::uint64_t> offsets{0, 2, 2, 4};
  const std::vector<std::uint32_t> items{3, 1, 2, 2};
  const auto baskets = baskets_from_csr(offsets, items, 4);
  CHECK(baskets.size() == 3);
  CHECK(baskets.items == std::vector<std::uint32_t>{1, 3, 2});
  CHECK(baskets.duplicate_lines == 1);
  CHECK_THROWS_AS(baskets_from_csr(offsets, items, 3), crmkit::invalid_input);
  const std::vector<std::uint64_t> bad{0, 3, 2, 4};
  CHECK_THROWS_AS(baskets_from_csr(bad, items, 4), crmkit::invalid_input);
}

TEST_CASE("product ids of any type map once to dense codes") {
  item_index<std::string> index;
  const std::vector<std::string> ids{"milk", "bread", "milk", "eggs"};
  CHECK(index.encode(ids) == std::vector<std::uint32_t>{0, 1, 0, 2});
  CHECK(index.ids() == std::vector<std::string>{"milk", "bread", "eggs"});
  CHECK(index.at("eggs") == 2);
  CHECK(!index.find("tea"));
  CHECK_THROWS_AS((void)index.at("tea"), crmkit::invalid_input);
}
