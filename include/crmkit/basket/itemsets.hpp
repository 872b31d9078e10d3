#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/basket/baskets.hpp"
#include "crmkit/core/describe.hpp"

/** Frequent itemsets: every item set bought together in at least a given number of baskets. */
namespace crmkit::basket {

/**
 * Options of frequent_itemsets. The threshold is `min_count` baskets when it is > 0, else the
 * share `min_support` of all baskets: the smallest count c with c / baskets >= min_support in
 * double arithmetic (so the result holds exactly the itemsets whose support, as a share, is
 * >= min_support).
 */
struct itemset_options {
  double min_support = 0.5;
  std::uint64_t min_count = 0;      ///< > 0: threshold as a count (min_support is then ignored)
  std::size_t max_len = 0;          ///< largest itemset size; 0 = no limit
  std::uint64_t max_itemsets = 10'000'000;  ///< stop with invalid_input beyond this many
};

constexpr auto description(std::type_identity<itemset_options>) {
  using s = itemset_options;
  return std::tuple{
      describe::field{"min_support", &s::min_support, "minimum support as a share of baskets"},
      describe::field{"min_count", &s::min_count,
                      "minimum support as a count of baskets (> 0 overrides min_support)"},
      describe::field{"max_len", &s::max_len, "largest itemset size (0: no limit)"},
      describe::field{"max_itemsets", &s::max_itemsets,
                      "more frequent itemsets than this stop with an error"}};
}

/**
 * Frequent itemsets: itemset i holds the item codes `items[offsets[i] .. offsets[i + 1])`,
 * ascending. Ordered by size, then lexicographically by item codes, whatever the thread count.
 */
struct itemset_table {
  std::vector<std::uint64_t> offsets{0};
  std::vector<std::uint32_t> items;
  std::vector<std::uint64_t> count;  ///< baskets containing the itemset
  std::vector<double> support;       ///< count / basket_count
  std::uint64_t basket_count = 0;
  std::uint64_t min_count = 0;  ///< the threshold applied, as a count

  [[nodiscard]] std::size_t size() const noexcept { return offsets.size() - 1; }
  [[nodiscard]] std::span<const std::uint32_t> itemset(std::size_t i) const noexcept {
    return {items.data() + offsets[i], items.data() + offsets[i + 1]};
  }
};

constexpr auto description(std::type_identity<itemset_table>) {
  using s = itemset_table;
  return std::tuple{
      describe::field{"offsets", &s::offsets, "itemset i holds items[offsets[i]:offsets[i+1]]"},
      describe::field{"items", &s::items, "item codes, ascending within an itemset"},
      describe::field{"count", &s::count, "baskets containing the itemset"},
      describe::field{"support", &s::support, "count / basket_count"},
      describe::field{"basket_count", &s::basket_count, "number of baskets"},
      describe::field{"min_count", &s::min_count, "the threshold applied, as a count"}};
}

/** The count threshold `options` gives for `baskets` baskets (see itemset_options). */
std::uint64_t support_threshold(const itemset_options& options, std::uint64_t baskets);

/**
 * All itemsets contained in at least the threshold number of baskets (up to `max_len` items).
 *
 * Method: items below the threshold are dropped and the rest ranked by ascending frequency; each
 * basket becomes the sorted list of its frequent ranks. Depth first from every frequent item
 * (in parallel over the first item, outputs joined in item order), the occurrences of a prefix P
 * — (basket, position of P's last item) — are delivered to the items after that position
 * ("occurrence deliver", Uno, Kiyomi & Arimura 2004, LCM ver. 2, FIMI'04), which counts every
 * extension P ∪ {j} exactly with one counter per item. At the last allowed level (max_len) this
 * is direct counting of the pairs / triples in each basket, with no candidate structure. The
 * result is exact: equal to counting every itemset in every basket.
 *
 * @throw invalid_input for min_support outside (0, 1], or naming `max_itemsets` and its value
 *        when the itemsets would exceed it.
 */
itemset_table frequent_itemsets(const basket_matrix& baskets, const itemset_options& options = {});

}  // namespace crmkit::basket
