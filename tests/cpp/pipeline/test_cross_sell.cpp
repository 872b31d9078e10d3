#include <crmkit/basket/simulate.hpp>
#include <crmkit/core/error.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/data/csv_writer.hpp>
#include <crmkit/pipeline/cross_sell.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace crmkit;
using pipeline::offer_group;

namespace {

/**
 * Four orders of two customers: o0, o1 (customer 0) {p9, p10}; o2 (customer 1) {p9, p2};
 * o3 (customer 1) {p10}. Product codes 0, 1, 2 are p9, p10, p2: code order is not text order.
 */
struct four_orders {
  std::vector<std::int64_t> order{0, 0, 1, 1, 2, 2, 3};
  std::vector<std::uint32_t> item{0, 1, 0, 1, 0, 2, 1};
  std::vector<std::int64_t> customer{0, 0, 0, 0, 1, 1, 1};
  std::vector<std::int64_t> day{0, 0, 5, 5, 1, 1, 9};
  std::vector<std::string> products{"p9", "p10", "p2"};

  [[nodiscard]] pipeline::cross_sell_lines lines() const {
    return {.lines = {.order = order, .item = item, .customer = customer, .timestamp = day},
            .products = products};
  }
};

std::vector<std::string> texts(const data::table& table, std::string_view column) {
  const auto& values = table.get<data::text_values>(column);
  std::vector<std::string> out;
  for (std::size_t row = 0; row < values.codes.size(); ++row) {
    out.emplace_back(data::text_at(values, row));
  }
  return out;
}

pipeline::cross_sell_options quarter_support() {
  pipeline::cross_sell_options options;
  options.min_support = 0.25;
  options.offers_per_customer = 2;
  return options;
}

}  // namespace

TEST_CASE("cross_sell: rules with lift >= 1, products in text order, each pair once") {
  const four_orders input;
  const auto tables = pipeline::cross_sell(input.lines(), nullptr, quarter_support());
  REQUIRE(tables.size() == 3);
  CHECK(tables[0].name == "cross_sell_rules");
  CHECK(tables[1].name == "cross_sell_pairs");
  CHECK(tables[2].name == "offers");
  const auto& rules = tables[0].table;
  // s(p9) = s(p10) = 3/4, s(p2) = 1/4, s(p9 p10) = 1/2, s(p9 p2) = 1/4: p9 <-> p10 has lift
  // (1/2) / (9/16) = 8/9 < 1 and is dropped; p9 <-> p2 has lift (1/4) / (3/16) = 4/3.
  CHECK(rules.rows() == 2);
  CHECK(texts(rules, "antecedents") == std::vector<std::string>{"p9", "p2"});
  CHECK(texts(rules, "consequents") == std::vector<std::string>{"p2", "p9"});
  for (const auto lift : rules.get<std::vector<double>>("lift")) CHECK(lift == doctest::Approx(4.0 / 3.0));
  CHECK(rules.get<std::vector<double>>("support") == std::vector<double>{0.25, 0.25});
  const auto& pairs = tables[1].table;
  CHECK(texts(pairs, "pair") == std::vector<std::string>{"p2 & p9"});  // text order, not codes
  CHECK(pairs.columns.size() == 4);
}

TEST_CASE("cross_sell: rules strongest first (lift, then support), pairs single and distinct") {
  // Ten products, orders of three consecutive products (mod 10) and a few singles.
  std::vector<std::int64_t> order, customer, day;
  std::vector<std::uint32_t> item;
  for (std::int64_t o = 0; o < 60; ++o) {
    const auto size = o % 7 == 0 ? 1 : 3;
    for (std::int64_t j = 0; j < size; ++j) {
      order.push_back(o);
      item.push_back(static_cast<std::uint32_t>((o * 3 + j * (1 + o % 2)) % 10));
      customer.push_back(o % 6);
      day.push_back(o);
    }
  }
  std::vector<std::string> products;
  for (int p = 0; p < 10; ++p) products.push_back("item" + std::to_string(p));
  const pipeline::cross_sell_lines input{
      .lines = {.order = order, .item = item, .customer = customer, .timestamp = day},
      .products = products};
  pipeline::cross_sell_options options;
  options.min_support = 0.02;
  const auto tables = pipeline::cross_sell(input, nullptr, options);
  const auto& rules = tables[0].table;
  REQUIRE(rules.rows() > 5);
  const auto& lift = rules.get<std::vector<double>>("lift");
  const auto& support = rules.get<std::vector<double>>("support");
  for (std::size_t r = 1; r < lift.size(); ++r) {
    CHECK(lift[r - 1] >= lift[r]);
    if (lift[r - 1] == lift[r]) CHECK(support[r - 1] >= support[r]);
  }
  for (const auto value : lift) CHECK(value >= 1.0);
  const auto pairs = texts(tables[1].table, "pair");
  REQUIRE(!pairs.empty());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    CHECK(pairs[i].find(" & ") != std::string::npos);
    CHECK(pairs[i].find(" & ") == pairs[i].rfind(" & "));  // one product to one product
    for (std::size_t j = 0; j < i; ++j) CHECK(pairs[i] != pairs[j]);
  }
}

TEST_CASE("cross_sell: offers follow the targets; a customer listed twice keeps its first group") {
  const four_orders input;
  const pipeline::offer_targets targets{
      .customer = {1, 7, 0, 1},
      .group = {offer_group::slipping_away, offer_group::slipping_away, offer_group::top_value,
                offer_group::top_value}};
  const auto offers = pipeline::cross_sell(input.lines(), &targets, quarter_support())[2].table;
  std::vector<std::string> names;
  for (const auto& column : offers.columns) names.push_back(column.name);
  CHECK(names == std::vector<std::string>{"customer_id", "who", "rank", "product_id", "score",
                                          "reason", "because"});
  CHECK(offers.get<std::vector<std::int64_t>>("customer_id") ==
        std::vector<std::int64_t>{1, 1, 0, 0});  // customer 7 has no order lines
  CHECK(texts(offers, "who") == std::vector<std::string>{"slipping away", "slipping away",
                                                         "top value", "top value"});
  CHECK(offers.get<std::vector<std::int64_t>>("rank") == std::vector<std::int64_t>{1, 2, 1, 2});

  const auto everyone = pipeline::cross_sell(input.lines(), nullptr, quarter_support())[2].table;
  CHECK(everyone.find("who") == nullptr);
  CHECK(everyone.get<std::vector<std::int64_t>>("customer_id") ==
        std::vector<std::int64_t>{0, 0, 1, 1});
  const pipeline::offer_targets none{};
  CHECK(pipeline::cross_sell(input.lines(), &none, quarter_support())[2].table.rows() == 0);
}

TEST_CASE("cross_sell: bad input is named") {
  four_orders input;
  auto lines = input.lines();
  lines.lines.customer = {};
  CHECK_THROWS_WITH_AS(pipeline::cross_sell(lines, nullptr),
                       doctest::Contains("need customer and date"), invalid_input);
  lines = input.lines();
  lines.products = std::span<const std::string>(input.products).first(2);
  CHECK_THROWS_WITH_AS(pipeline::cross_sell(lines, nullptr),
                       doctest::Contains("item[5] = 2 is a product code without text"),
                       invalid_input);
  const pipeline::offer_targets bad{.customer = {0}, .group = {static_cast<offer_group>(9)}};
  CHECK_THROWS_WITH_AS(pipeline::cross_sell(input.lines(), &bad),
                       doctest::Contains("targets.group[0] = 9"), invalid_input);
  pipeline::cross_sell_options options;
  options.min_support = 0;
  CHECK_THROWS_WITH_AS(pipeline::cross_sell(input.lines(), nullptr, options),
                       doctest::Contains("min_support"), invalid_input);
  lines = input.lines();
  lines.lines.order = {};
  CHECK_THROWS_WITH_AS(pipeline::cross_sell(lines, nullptr), doctest::Contains("no order lines"),
                       invalid_input);
}

TEST_CASE("cross_sell: the same tables at any thread count") {
  const auto saved = num_threads();
  const auto sim = basket::simulate_baskets({.customers = 600, .seed = 4});
  std::vector<std::string> products;
  for (std::uint32_t p = 0; p < sim.item_count; ++p) products.push_back(std::to_string(p));
  const pipeline::cross_sell_lines input{
      .lines = {.order = sim.order, .item = sim.item, .customer = sim.customer,
                .timestamp = sim.day},
      .products = products};
  const pipeline::offer_targets targets{
      .customer = {17, 3, 250, 3, 599},
      .group = {offer_group::slipping_away, offer_group::slipping_away, offer_group::top_value,
                offer_group::top_value, offer_group::top_value}};
  std::vector<std::string> written[2];
  for (const std::size_t threads : {std::size_t{1}, std::size_t{3}}) {
    set_num_threads(threads);
    for (const auto& table : pipeline::cross_sell(input, &targets)) {
      written[threads == 1 ? 0 : 1].push_back(data::format_csv(table.table));
    }
  }
  set_num_threads(saved);
  REQUIRE(written[0].size() == 3);
  CHECK(written[0] == written[1]);
}
