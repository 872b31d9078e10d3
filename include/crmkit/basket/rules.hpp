#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/basket/itemsets.hpp"
#include "crmkit/core/describe.hpp"

/** Association rules A → C from frequent itemsets, with the measures of mlxtend's table. */
namespace crmkit::basket {

/** The measure a rule filter applies to. */
enum class rule_metric : std::uint8_t {
  antecedent_support,
  consequent_support,
  support,
  confidence,
  lift,
  leverage,
  conviction,
  zhangs_metric
};

constexpr auto description(std::type_identity<rule_metric>) {
  return describe::enum_table<rule_metric, 10>{
      "metric",
      {{{rule_metric::antecedent_support, "antecedent support"},
        {rule_metric::consequent_support, "consequent support"},
        {rule_metric::support, "support"},
        {rule_metric::confidence, "confidence"},
        {rule_metric::lift, "lift"},
        {rule_metric::leverage, "leverage"},
        {rule_metric::conviction, "conviction"},
        {rule_metric::zhangs_metric, "zhangs_metric"},
        {rule_metric::antecedent_support, "antecedent_support"},
        {rule_metric::consequent_support, "consequent_support"}}}};
}

/**
 * Options of association_rules: keep rules whose `metric` is >= `min_threshold`; with a
 * non-empty `antecedent` (`consequent`) only rules whose antecedent (consequent) is exactly that
 * item set ("given product A, what to offer"). `support_only`: subsets missing from the table
 * are not an error; their supports and every measure but support are NaN (mlxtend's option).
 */
struct rule_options {
  rule_metric metric = rule_metric::confidence;
  double min_threshold = 0.8;
  std::vector<std::uint32_t> antecedent = {};
  std::vector<std::uint32_t> consequent = {};
  bool support_only = false;
};

constexpr auto description(std::type_identity<rule_options>) {
  using s = rule_options;
  return std::tuple{
      describe::field{"metric", &s::metric, "the measure filtered on"},
      describe::field{"min_threshold", &s::min_threshold, "keep rules with metric >= this"},
      describe::field{"antecedent", &s::antecedent, "only rules with exactly this antecedent"},
      describe::field{"consequent", &s::consequent, "only rules with exactly this consequent"},
      describe::field{"support_only", &s::support_only,
                      "missing subsets give NaN measures instead of an error"}};
}

/**
 * Rules A → C, A and C disjoint non-empty, A ∪ C a frequent itemset; with s(X) the support share:
 * - confidence = s(AC) / s(A);  lift = confidence / s(C);  leverage = s(AC) − s(A)·s(C)
 *   (Piatetsky-Shapiro 1991);
 * - conviction = (1 − s(C)) / (1 − confidence), +inf when confidence = 1 (Brin et al. 1997);
 * - Zhang's metric = leverage / max(s(AC)·(1 − s(A)), s(A)·(s(C) − s(AC))), 0 when that is 0
 *   (Zhang 2000; Yan, Zhang & Zhang 2009) — mlxtend's definitions and conventions.
 * Rule r has antecedent `antecedent_items[antecedent_offsets[r] ..]` and consequent likewise.
 */
struct rule_table {
  std::vector<std::uint64_t> antecedent_offsets{0};
  std::vector<std::uint32_t> antecedent_items;
  std::vector<std::uint64_t> consequent_offsets{0};
  std::vector<std::uint32_t> consequent_items;
  std::vector<double> antecedent_support, consequent_support, support, confidence, lift, leverage,
      conviction, zhangs_metric;

  [[nodiscard]] std::size_t size() const noexcept { return support.size(); }
  [[nodiscard]] std::span<const std::uint32_t> antecedent(std::size_t r) const noexcept {
    return {antecedent_items.data() + antecedent_offsets[r],
            antecedent_items.data() + antecedent_offsets[r + 1]};
  }
  [[nodiscard]] std::span<const std::uint32_t> consequent(std::size_t r) const noexcept {
    return {consequent_items.data() + consequent_offsets[r],
            consequent_items.data() + consequent_offsets[r + 1]};
  }
};

constexpr auto description(std::type_identity<rule_table>) {
  using s = rule_table;
  return std::tuple{
      describe::field{"antecedent_offsets", &s::antecedent_offsets, "CSR offsets of antecedents"},
      describe::field{"antecedent_items", &s::antecedent_items, "item codes of antecedents"},
      describe::field{"consequent_offsets", &s::consequent_offsets, "CSR offsets of consequents"},
      describe::field{"consequent_items", &s::consequent_items, "item codes of consequents"},
      describe::field{"antecedent_support", &s::antecedent_support, "s(A)"},
      describe::field{"consequent_support", &s::consequent_support, "s(C)"},
      describe::field{"support", &s::support, "s(A ∪ C)"},
      describe::field{"confidence", &s::confidence, "s(AC) / s(A)"},
      describe::field{"lift", &s::lift, "confidence / s(C)"},
      describe::field{"leverage", &s::leverage, "s(AC) - s(A) s(C)"},
      describe::field{"conviction", &s::conviction, "(1 - s(C)) / (1 - confidence)"},
      describe::field{"zhangs_metric", &s::zhangs_metric, "Zhang's metric"}};
}

/** The value of `metric` for rule `r` of `rules`. */
double metric_value(const rule_table& rules, std::size_t r, rule_metric metric);

/**
 * The rules of `itemsets` (any table with offsets, items and support; counts may be empty) that
 * pass `options`. Rules of itemset i come before those of itemset i + 1; within an itemset, larger
 * antecedents first, then antecedents in lexicographic order of positions. Deterministic at any
 * thread count.
 * @throw invalid_input when a subset of an itemset is missing from the table (unless
 *        support_only), naming the itemset; for a non-finite min_threshold.
 */
rule_table association_rules(const itemset_table& itemsets, const rule_options& options = {});

}  // namespace crmkit::basket
