#include "basket_command.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "crmkit/basket.hpp"
#include "crmkit/core/error.hpp"
#include "input.hpp"

namespace crmkit::cli {

namespace {

constexpr column_choice order_col{"order-col", "order id column", "order_id"};
constexpr column_choice item_col{"item-col", "product id column", "product_id"};
constexpr column_choice quantity_col{"quantity-col", "quantity column (returns negative)", ""};

/** Item sets as text, items joined by " & ". */
std::vector<std::string> itemset_texts(std::span<const std::uint64_t> offsets,
                                       std::span<const std::uint32_t> items,
                                       const std::vector<std::string>& labels) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
    std::string text;
    for (auto k = offsets[i]; k < offsets[i + 1]; ++k) {
      if (k > offsets[i]) text += " & ";
      text += labels[items[k]];
    }
    out.push_back(std::move(text));
  }
  return out;
}

std::vector<std::int64_t> as_int64(std::uint64_t value) {
  return {static_cast<std::int64_t>(value)};
}

}  // namespace

std::vector<option_spec> basket_options() {
  return {order_col.spec(),
          item_col.spec(),
          quantity_col.spec(),
          {"min-support", "S", "least support of an itemset, as a share of orders", "0.01"},
          {"min-count", "N", "least support as a number of orders (overrides --min-support)", ""},
          {"max-len", "N", "largest itemset", "no limit"},
          {"max-itemsets", "N", "stop with an error beyond this many itemsets", "10000000"},
          {"metric", "M",
           "rule filter: support, confidence, lift, leverage, conviction or zhangs_metric",
           "confidence"},
          {"min-threshold", "X", "keep rules with metric >= X", "0.5"},
          {"antecedent", "ID", "only rules whose antecedent is this product", ""},
          delimiter_option()};
}

command_output run_basket(const parsed_args& args) {
  const text_table table = read_table(args.input(), delimiter_of(args));
  basket::item_index<std::string> orders, products;
  std::vector<std::int64_t> order;
  for (const auto& id : table.texts(order_col.in(table, args))) order.push_back(orders.code(id));
  const auto item = products.encode(table.texts(item_col.in(table, args)));
  std::vector<double> quantity;
  if (quantity_col.name(args)) quantity = table.numbers(quantity_col.in(table, args));
  const auto baskets = basket::make_baskets({.order = order, .item = item, .quantity = quantity});

  basket::itemset_options itemset_options;
  itemset_options.min_support = args.number("min-support", 0.01);
  itemset_options.min_count = args.count("min-count", 0);
  itemset_options.max_len = args.count("max-len", 0);
  itemset_options.max_itemsets = args.count("max-itemsets", itemset_options.max_itemsets);
  const auto itemsets = basket::frequent_itemsets(baskets, itemset_options);

  basket::rule_options rule_options;
  rule_options.metric =
      describe::parse<basket::rule_metric>(args.get_or("metric", "confidence"), "--metric");
  rule_options.min_threshold = args.number("min-threshold", 0.5);
  if (const auto given = args.get("antecedent")) {
    const auto code = products.find(*given);
    if (!code) {
      throw invalid_input(fmt::format("--antecedent: product '{}' is not in column '{}' of {}",
                                      *given, table.header[item_col.in(table, args)], table.file));
    }
    rule_options.antecedent = {*code};
  }
  const auto rules = basket::association_rules(itemsets, rule_options);

  const auto& labels = products.ids();
  command_output output;
  output.main.name = "rules";
  output.main.columns = {
      {"antecedents", itemset_texts(rules.antecedent_offsets, rules.antecedent_items, labels)},
      {"consequents", itemset_texts(rules.consequent_offsets, rules.consequent_items, labels)}};
  describe::for_each_field<basket::rule_table>([&](const auto& field) {
    if constexpr (std::is_same_v<typename std::decay_t<decltype(field)>::member_type,
                                 std::vector<double>>) {
      std::string name(field.name);
      if (name == "antecedent_support" || name == "consequent_support") name[10] = ' ';
      output.main.columns.push_back({name, field.get(rules)});
    }
  });
  output.extras.push_back(
      {"itemsets",
       {{"itemset", itemset_texts(itemsets.offsets, itemsets.items, labels)},
        {"count", std::vector<std::int64_t>(itemsets.count.begin(), itemsets.count.end())},
        {"support", itemsets.support}}});
  output.extras.push_back({"baskets",
                           {{"baskets", as_int64(baskets.size())},
                            {"min_count", as_int64(itemsets.min_count)},
                            {"duplicate_lines", as_int64(baskets.duplicate_lines)},
                            {"return_lines", as_int64(baskets.return_lines)},
                            {"dropped_items", as_int64(baskets.dropped_items)},
                            {"empty_baskets", as_int64(baskets.empty_baskets)}}});
  return output;
}

}  // namespace crmkit::cli
