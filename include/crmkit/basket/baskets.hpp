#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/core/describe.hpp"

/** Order lines into baskets: a sparse basket × item matrix (CSR), memory in order lines only. */
namespace crmkit::basket {

/** What makes one basket: an order, or all of a customer's lines on one day. */
enum class basket_by : std::uint8_t { order, customer_day };

constexpr auto description(std::type_identity<basket_by>) {
  return describe::enum_table<basket_by, 3>{
      "basket_by",
      {{{basket_by::order, "order"},
        {basket_by::customer_day, "customer_day"},
        {basket_by::customer_day, "customer-day"}}}};
}

/**
 * Order lines as columns (one element per line). `order` and `item` are required; `quantity`,
 * `customer` and `timestamp` may be empty. Grouping by customer-day needs `customer` and
 * `timestamp`.
 */
struct order_lines {
  std::span<const std::int64_t> order = {};
  std::span<const std::uint32_t> item = {};  ///< item codes (see item_index)
  std::span<const double> quantity = {};
  std::span<const std::int64_t> customer = {};
  std::span<const std::int64_t> timestamp = {};  ///< ticks
};

struct basket_options {
  basket_by by = basket_by::order;
  std::int64_t ticks_per_day = 86'400;  ///< for customer-day baskets
};

constexpr auto description(std::type_identity<basket_options>) {
  using s = basket_options;
  return std::tuple{describe::field{"by", &s::by, "order or customer_day"},
                    describe::field{"ticks_per_day", &s::ticks_per_day,
                                    "timestamp ticks in one day (customer-day baskets)"}};
}

/**
 * Baskets as a compressed sparse row matrix: basket b holds the item codes
 * `items[offsets[b] .. offsets[b + 1])`, ascending and distinct. Memory is O(order lines).
 *
 * Policy for awkward lines, applied per (basket, item):
 * - duplicate lines of an item in a basket are one item (the basket is a set; quantities add);
 * - returns (negative quantity) reduce the net quantity; an item whose net quantity is <= 0
 *   (fully returned, or quantity 0) is dropped from the basket;
 * - a basket left with no item is dropped (counted in `empty_baskets`), so supports are shares
 *   of baskets that bought something.
 * Baskets are ordered by key (order id; or customer, then day).
 */
struct basket_matrix {
  std::vector<std::uint64_t> offsets{0};
  std::vector<std::uint32_t> items;
  std::vector<std::int64_t> key;       ///< order id, or customer id for customer-day baskets
  std::vector<std::int64_t> customer;  ///< per basket (first line's), empty without customers
  std::vector<std::int64_t> time;      ///< earliest timestamp per basket, empty without times
  std::uint32_t item_count = 0;        ///< 1 + the largest item code (columns)
  std::uint64_t duplicate_lines = 0;   ///< lines merged into an earlier line of the same item
  std::uint64_t return_lines = 0;      ///< lines with negative quantity
  std::uint64_t dropped_items = 0;     ///< (basket, item) pairs with net quantity <= 0
  std::uint64_t empty_baskets = 0;     ///< baskets dropped for having no item left

  [[nodiscard]] std::size_t size() const noexcept { return offsets.size() - 1; }
  [[nodiscard]] std::span<const std::uint32_t> basket(std::size_t b) const noexcept {
    return {items.data() + offsets[b], items.data() + offsets[b + 1]};
  }
};

constexpr auto description(std::type_identity<basket_matrix>) {
  using s = basket_matrix;
  return std::tuple{
      describe::field{"offsets", &s::offsets, "basket b holds items[offsets[b]:offsets[b+1]]"},
      describe::field{"items", &s::items, "item codes, ascending and distinct per basket"},
      describe::field{"key", &s::key, "order id (or customer id for customer-day baskets)"},
      describe::field{"customer", &s::customer, "customer of each basket",
                      describe::absent_when_empty},
      describe::field{"time", &s::time, "earliest timestamp of each basket",
                      describe::absent_when_empty},
      describe::field{"item_count", &s::item_count, "number of item codes (columns)"},
      describe::field{"duplicate_lines", &s::duplicate_lines,
                      "lines merged into an earlier line of the same item"},
      describe::field{"return_lines", &s::return_lines, "lines with negative quantity"},
      describe::field{"dropped_items", &s::dropped_items,
                      "(basket, item) pairs dropped for a net quantity <= 0"},
      describe::field{"empty_baskets", &s::empty_baskets, "baskets dropped for having no item"}};
}

/**
 * Groups order lines into baskets (see basket_matrix for the policy). O(lines) time and memory
 * (a stable radix sort by basket key).
 * @throw invalid_input for mismatched column lengths, a non-finite quantity (naming the line),
 *        or customer-day baskets without customers and timestamps.
 */
basket_matrix make_baskets(const order_lines& lines, const basket_options& options = {});

/**
 * Baskets from a CSR matrix given by the caller (e.g. a one-hot table's nonzeros): items per row
 * are sorted and made distinct, empty rows are kept (a one-hot row with no item is a basket).
 * @throw invalid_input for offsets that are not a non-decreasing sequence from 0 to items.size()
 *        or an item code >= item_count.
 */
basket_matrix baskets_from_csr(std::span<const std::uint64_t> offsets,
                               std::span<const std::uint32_t> items, std::uint32_t item_count);

}  // namespace crmkit::basket
