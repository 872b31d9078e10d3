#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/basket/baskets.hpp"
#include "crmkit/basket/rules.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/pipeline/result.hpp"

/**
 * The report's "what to offer whom" step: from order lines to the rules, the top cross-sell
 * pairs and the offers for the customers the report names (crmkit::basket under one call, the
 * same tables for the Python report and the command-line tool).
 */
namespace crmkit::pipeline {

/** The step's constants (the report's defaults). */
struct cross_sell_options {
  double min_support = 0.005;   ///< itemsets in at least this share of baskets (orders)
  std::size_t max_len = 3;      ///< largest itemset
  std::uint64_t max_itemsets = 10'000'000;  ///< more itemsets: invalid_input naming the count
  basket::rule_metric metric = basket::rule_metric::lift;  ///< rules kept: metric >= ...
  double min_threshold = 1.0;                              ///< ... this
  std::size_t offers_per_customer = 5;  ///< k of basket::recommend
  std::int64_t horizon = 30;            ///< days the offers' scores look ahead
  double min_lift = 1.5;                ///< recommend: least lift of a cross-sell pair ...
  std::uint64_t min_pair_count = 5;     ///< ... and least number of orders holding it
};

constexpr auto description(std::type_identity<cross_sell_options>) {
  using s = cross_sell_options;
  return std::tuple{
      describe::field{"min_support", &s::min_support,
                      "cross-sell: least support of an itemset, as a share of orders"},
      describe::field{"max_len", &s::max_len, "cross-sell: largest itemset"},
      describe::field{"max_itemsets", &s::max_itemsets,
                      "cross-sell: more frequent itemsets than this stop with an error"},
      describe::field{"metric", &s::metric, "cross-sell: the measure rules are filtered on"},
      describe::field{"min_threshold", &s::min_threshold,
                      "cross-sell: keep rules whose metric is >= this"},
      describe::field{"offers_per_customer", &s::offers_per_customer,
                      "cross-sell: offers per customer"},
      describe::field{"horizon", &s::horizon, "cross-sell: days the offers' scores look ahead"},
      describe::field{"min_lift", &s::min_lift,
                      "cross-sell: least lift of a product pair behind an offer"},
      describe::field{"min_pair_count", &s::min_pair_count,
                      "cross-sell: least number of orders of a product pair behind an offer"}};
}

/**
 * Order lines as the step takes them: `lines` as basket::make_baskets takes them (order,
 * item codes, optional quantity; customer and timestamp required, timestamps in whole days).
 * `products[code]` is the text of each item code (what the tables show); `customers[key]` the
 * text of each customer key when the keys are codes (empty: the keys are the customer ids).
 * Item codes order products: ties in the offers go to the smaller code.
 */
struct cross_sell_lines {
  basket::order_lines lines;
  std::span<const std::string> products = {};
  std::span<const std::string> customers = {};
  std::string customer_column = "customer_id";  ///< name of the offers' customer column
  std::string product_column = "product_id";    ///< ... and of its product column
};

/** The groups of customers the report makes offers to. */
enum class offer_group : std::uint8_t { slipping_away, top_value };

constexpr auto description(std::type_identity<offer_group>) {
  return describe::enum_table<offer_group, 2>{
      "who",
      {{{offer_group::slipping_away, "slipping away"}, {offer_group::top_value, "top value"}}}};
}

/**
 * The report's table naming each group's customers, in group order: early_warning (slipping
 * away) first, so a customer in both lists is offered to as slipping away.
 */
inline constexpr std::array<std::string_view, 2> offer_group_tables{"early_warning",
                                                                    "top_customers"};

/** Customers to make offers to, in order (keys as cross_sell_lines' customers), and their group. */
struct offer_targets {
  std::vector<std::int64_t> customer;
  std::vector<offer_group> group;
};

/**
 * The targets of a finished analysis: the customers of each table of offer_group_tables that
 * `result` holds (its customer_id index: integer ids, or codes into the log's labels), in order.
 */
offer_targets report_offer_targets(const analysis_result& result);

/**
 * The "what to offer whom" tables (docs/pipeline.md, docs/basket.md), in this order:
 * - cross_sell_rules: antecedents, consequents (products joined by " & " in text order),
 *   antecedent support, consequent support, support, confidence, lift, leverage, conviction,
 *   zhangs_metric — basket::association_rules of the frequent itemsets of the orders
 *   (min_support, max_len), those with metric >= min_threshold, by lift, then support,
 *   descending (ties in the rules' own order);
 * - cross_sell_pairs: pair, support, confidence, lift — the rules of one product to one product
 *   in that order, each unordered pair once (its first, strongest rule);
 * - offers: <customer_column>, who, rank, <product_column>, score, reason, because —
 *   basket::recommend (k = offers_per_customer, as of the day after the last line, horizon,
 *   min_lift, min_pair_count; only the targets are ranked) for each target with history,
 *   targets in order (a customer listed twice keeps its first group); every customer with
 *   history (customers ascending, no `who` column) when `targets` is null.
 * Every table has index_columns = 0.
 * @throw invalid_input for lines without customers or timestamps, mismatched columns, a product
 *        code without text, a target group out of range, offers_per_customer or horizon not
 *        positive, or (from crmkit::basket) a non-finite
 *        quantity, a min_support outside (0, 1] or more than max_itemsets itemsets.
 */
std::vector<named_table> cross_sell(const cross_sell_lines& lines, const offer_targets* targets,
                                    const cross_sell_options& options = {});

}  // namespace crmkit::pipeline
