#include "crmkit/pipeline/cross_sell.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <unordered_map>
#include <variant>

#include <fmt/format.h>

#include "crmkit/basket/itemsets.hpp"
#include "crmkit/basket/recommend.hpp"
#include "crmkit/core/check.hpp"

namespace crmkit::pipeline {

namespace {

constexpr std::string_view function = "cross_sell";

/** Texts interned once per column: the codes and labels of a data::table text column. */
class text_column {
 public:
  void push(std::string text) {
    const auto [place, added] =
        codes_.try_emplace(std::move(text), static_cast<std::int32_t>(labels_.size()));
    if (added) labels_.push_back(place->first);
    codes_of_rows_.push_back(place->second);
  }
  void push_missing() { codes_of_rows_.push_back(-1); }
  void add_to(data::table& table, std::string name) {
    table.add_text(std::move(name), std::move(codes_of_rows_), std::move(labels_));
  }

 private:
  std::unordered_map<std::string, std::int32_t> codes_;
  std::vector<std::string> labels_;
  std::vector<std::int32_t> codes_of_rows_;
};

/** The products of one itemset side in text order, joined by " & ". */
std::string itemset_text(std::span<const std::uint32_t> items,
                         std::span<const std::string> products) {
  std::vector<std::string_view> texts;
  texts.reserve(items.size());
  for (const auto item : items) texts.emplace_back(products[item]);
  std::sort(texts.begin(), texts.end());
  std::string out;
  for (const auto text : texts) {
    if (!out.empty()) out += " & ";
    out += text;
  }
  return out;
}

/** Rule positions by lift, then support, descending; equal rules keep their order. */
std::vector<std::size_t> strongest_first(const basket::rule_table& rules) {
  std::vector<std::size_t> order(rules.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (rules.lift[a] != rules.lift[b]) return rules.lift[a] > rules.lift[b];
    return rules.support[a] > rules.support[b];
  });
  return order;
}

template <class T>
std::vector<T> picked(const std::vector<T>& values, const std::vector<std::size_t>& rows) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (const auto row : rows) out.push_back(values[row]);
  return out;
}

data::table rules_table(const basket::rule_table& rules, const std::vector<std::size_t>& order,
                        std::span<const std::string> products) {
  text_column antecedents, consequents;
  for (const auto r : order) {
    antecedents.push(itemset_text(rules.antecedent(r), products));
    consequents.push(itemset_text(rules.consequent(r), products));
  }
  data::table table;
  antecedents.add_to(table, "antecedents");
  consequents.add_to(table, "consequents");
  table.add("antecedent support", picked(rules.antecedent_support, order))
      .add("consequent support", picked(rules.consequent_support, order))
      .add("support", picked(rules.support, order))
      .add("confidence", picked(rules.confidence, order))
      .add("lift", picked(rules.lift, order))
      .add("leverage", picked(rules.leverage, order))
      .add("conviction", picked(rules.conviction, order))
      .add("zhangs_metric", picked(rules.zhangs_metric, order));
  return table;
}

data::table pairs_table(const basket::rule_table& rules, const std::vector<std::size_t>& order,
                        std::span<const std::string> products) {
  std::vector<std::size_t> kept;
  std::vector<std::string> texts;
  std::unordered_map<std::string, bool> seen;
  for (const auto r : order) {
    if (rules.antecedent(r).size() != 1 || rules.consequent(r).size() != 1) continue;
    const std::array both{rules.antecedent(r)[0], rules.consequent(r)[0]};
    auto text = itemset_text(both, products);
    if (!seen.try_emplace(text, true).second) continue;
    kept.push_back(r);
    texts.push_back(std::move(text));
  }
  data::table table;
  table.add_strings("pair", texts)
      .add("support", picked(rules.support, kept))
      .add("confidence", picked(rules.confidence, kept))
      .add("lift", picked(rules.lift, kept));
  return table;
}

/** Rows of `offers` per target in order (first group of a customer listed twice). */
std::pair<std::vector<std::size_t>, std::vector<offer_group>> target_rows(
    const basket::recommendation_table& offers, const offer_targets& targets) {
  check::same_size(function, "targets.customer", targets.customer.size(), "targets.group",
                   targets.group.size());
  std::unordered_map<std::int64_t, std::pair<std::size_t, std::size_t>> rows_of;
  for (std::size_t row = 0; row < offers.size();) {
    auto end = row;
    while (end < offers.size() && offers.customer[end] == offers.customer[row]) ++end;
    rows_of.emplace(offers.customer[row], std::pair{row, end});
    row = end;
  }
  std::vector<std::size_t> rows;
  std::vector<offer_group> groups;
  std::unordered_map<std::int64_t, bool> listed;
  for (std::size_t t = 0; t < targets.customer.size(); ++t) {
    if (describe::name_of(targets.group[t]).empty()) {
      check::fail_at(function, "targets.group", t, static_cast<int>(targets.group[t]),
                     "is not an offer group");
    }
    if (!listed.try_emplace(targets.customer[t], true).second) continue;
    const auto found = rows_of.find(targets.customer[t]);
    if (found == rows_of.end()) continue;
    for (auto row = found->second.first; row < found->second.second; ++row) {
      rows.push_back(row);
      groups.push_back(targets.group[t]);
    }
  }
  return {std::move(rows), std::move(groups)};
}

data::table offers_table(const basket::recommendation_table& offers, const cross_sell_lines& input,
                         const offer_targets* targets) {
  std::vector<std::size_t> rows(offers.size());
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  std::vector<offer_group> groups;
  if (targets != nullptr) std::tie(rows, groups) = target_rows(offers, *targets);

  data::table table;
  const auto customers = picked(offers.customer, rows);
  if (input.customers.empty()) {
    table.add(input.customer_column, customers);
  } else {
    std::vector<std::string> labels(input.customers.begin(), input.customers.end());
    std::vector<std::int32_t> codes(customers.begin(), customers.end());
    table.add_text(input.customer_column, std::move(codes), std::move(labels));
  }
  if (targets != nullptr) {
    std::vector<std::int32_t> codes;
    for (const auto group : groups) codes.push_back(static_cast<std::int32_t>(group));
    std::vector<std::string> names;
    for (const auto name : describe::names<offer_group>()) names.emplace_back(name);
    table.add_text("who", std::move(codes), std::move(names));
  }
  std::vector<std::int64_t> ranks;
  std::vector<std::int32_t> items, reasons, because;
  for (const auto row : rows) {
    ranks.push_back(offers.rank[row]);
    items.push_back(static_cast<std::int32_t>(offers.item[row]));
    reasons.push_back(static_cast<std::int32_t>(offers.reason[row]));
    because.push_back(static_cast<std::int32_t>(offers.because[row]));
  }
  const std::vector<std::string> products(input.products.begin(), input.products.end());
  std::vector<std::string> reason_names;
  for (const auto name : describe::names<basket::offer_reason>()) reason_names.emplace_back(name);
  table.add("rank", std::move(ranks))
      .add_text(input.product_column, std::move(items), products)
      .add("score", picked(offers.score, rows))
      .add_text("reason", std::move(reasons), std::move(reason_names))
      .add_text("because", std::move(because), products);
  return table;
}

void check_input(const cross_sell_lines& input) {
  const auto& lines = input.lines;
  if (lines.order.empty()) check::fail(function, "no order lines");
  if (lines.customer.empty() || lines.timestamp.empty()) {
    check::fail(function, "the order lines need customer and date (timestamp) columns");
  }
  check::same_size(function, "order", lines.order.size(), "customer", lines.customer.size());
  check::same_size(function, "order", lines.order.size(), "timestamp", lines.timestamp.size());
  for (std::size_t i = 0; i < lines.item.size(); ++i) {
    if (lines.item[i] >= input.products.size()) {
      check::fail_at(function, "item", i, lines.item[i],
                     fmt::format("is a product code without text ({} products)",
                                 input.products.size()));
    }
  }
  if (!input.customers.empty()) {
    for (std::size_t i = 0; i < lines.customer.size(); ++i) {
      if (lines.customer[i] < 0 ||
          static_cast<std::uint64_t>(lines.customer[i]) >= input.customers.size()) {
        check::fail_at(function, "customer", i, lines.customer[i],
                       fmt::format("is a customer code without text ({} customers)",
                                   input.customers.size()));
      }
    }
  }
}

}  // namespace

offer_targets report_offer_targets(const analysis_result& result) {
  offer_targets targets;
  for (std::size_t g = 0; g < offer_group_tables.size(); ++g) {
    const auto* table = result.find(offer_group_tables[g]);
    if (table == nullptr) continue;
    const auto& ids = table->column("customer_id").values;
    std::vector<std::int64_t> keys;
    if (const auto* integers = std::get_if<std::vector<std::int64_t>>(&ids)) {
      keys = *integers;
    } else {
      const auto& codes = std::get<data::text_values>(ids).codes;
      keys.assign(codes.begin(), codes.end());
    }
    targets.customer.insert(targets.customer.end(), keys.begin(), keys.end());
    targets.group.insert(targets.group.end(), keys.size(), static_cast<offer_group>(g));
  }
  return targets;
}

std::vector<named_table> cross_sell(const cross_sell_lines& input, const offer_targets* targets,
                                    const cross_sell_options& options) {
  check_input(input);
  check::positive(function, "offers_per_customer", options.offers_per_customer);
  check::positive(function, "horizon", options.horizon);
  const auto baskets = basket::make_baskets(input.lines);
  const auto itemsets = basket::frequent_itemsets(
      baskets, {.min_support = options.min_support,
                .max_len = options.max_len,
                .max_itemsets = options.max_itemsets});
  const auto rules = basket::association_rules(
      itemsets, {.metric = options.metric, .min_threshold = options.min_threshold});
  const auto order = strongest_first(rules);

  const auto last_day = *std::max_element(input.lines.timestamp.begin(),
                                          input.lines.timestamp.end());
  const std::span<const std::int64_t> only =
      targets == nullptr ? std::span<const std::int64_t>{} : targets->customer;
  const auto offers = targets != nullptr && targets->customer.empty()
                          ? basket::recommendation_table{}
                          : basket::recommend(baskets,
                                              {.k = options.offers_per_customer,
                                               .as_of = last_day + 1,
                                               .horizon = options.horizon,
                                               .min_lift = options.min_lift,
                                               .min_pair_count = options.min_pair_count},
                                              {}, only);
  std::vector<named_table> tables;
  tables.push_back({"cross_sell_rules", rules_table(rules, order, input.products)});
  tables.push_back({"cross_sell_pairs", pairs_table(rules, order, input.products)});
  tables.push_back({"offers", offers_table(offers, input, targets)});
  return tables;
}

}  // namespace crmkit::pipeline
