#include "crmkit/basket/baskets.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/core/radix_sort.hpp"
#include "sort_key.hpp"

namespace crmkit::basket {

namespace {

using detail::signed_key;

constexpr std::string_view function = "make_baskets";

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const auto q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void check_lines(const order_lines& lines, const basket_options& options) {
  const auto n = lines.order.size();
  if (n >= std::numeric_limits<std::uint32_t>::max()) {
    check::fail(function, fmt::format("{} order lines; at most 2^32 - 2 are supported", n));
  }
  check::same_size(function, "order", n, "item", lines.item.size());
  if (!lines.quantity.empty()) check::same_size(function, "order", n, "quantity", lines.quantity.size());
  if (!lines.customer.empty()) check::same_size(function, "order", n, "customer", lines.customer.size());
  if (!lines.timestamp.empty()) {
    check::same_size(function, "order", n, "timestamp", lines.timestamp.size());
  }
  for (std::size_t i = 0; i < lines.quantity.size(); ++i) {
    if (!std::isfinite(lines.quantity[i])) {
      check::fail_at(function, "quantity", i, lines.quantity[i], "must be finite");
    }
  }
  if (options.by == basket_by::customer_day) {
    if (lines.customer.empty() || lines.timestamp.empty()) {
      check::fail(function, "basket_by = 'customer_day' needs customer and timestamp columns");
    }
    check::positive(function, "ticks_per_day", options.ticks_per_day);
  }
}

/** Sorts a basket's (item, quantity) lines by item, equal items in line order: insertion sort
 * for the few lines of most baskets (no buffer to allocate), stable_sort beyond. */
void sort_by_item(std::vector<std::pair<std::uint32_t, double>>& basket) {
  constexpr std::size_t small = 32;
  if (basket.size() > small) {
    std::stable_sort(basket.begin(), basket.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    return;
  }
  for (std::size_t k = 1; k < basket.size(); ++k) {
    const auto line = basket[k];
    auto j = k;
    for (; j > 0 && basket[j - 1].first > line.first; --j) basket[j] = basket[j - 1];
    basket[j] = line;
  }
}

}  // namespace

basket_matrix make_baskets(const order_lines& lines, const basket_options& options) {
  check_lines(lines, options);
  const std::size_t n = lines.order.size();
  const bool by_day = options.by == basket_by::customer_day;
  auto day = [&](std::size_t i) { return floor_div(lines.timestamp[i], options.ticks_per_day); };

  std::vector<std::uint32_t> order;
  if (!by_day && std::is_sorted(lines.order.begin(), lines.order.end())) {
    order.resize(n);  // lines already grouped by order, as most exports are: no sort needed
    std::iota(order.begin(), order.end(), 0u);
  } else {
    radix_sorter sorter(n);
    if (by_day) {
      sorter.sort_by([&](std::size_t i) { return signed_key(day(i)); });
      sorter.sort_by([&](std::size_t i) { return signed_key(lines.customer[i]); });
    } else {
      sorter.sort_by([&](std::size_t i) { return signed_key(lines.order[i]); });
    }
    order = sorter.take_order();
  }
  auto same_basket = [&](std::uint32_t a, std::uint32_t b) {
    if (!by_day) return lines.order[a] == lines.order[b];
    return lines.customer[a] == lines.customer[b] && day(a) == day(b);
  };

  basket_matrix out;
  const bool has_customer = !lines.customer.empty(), has_time = !lines.timestamp.empty();
  // At most n items and n baskets (huge pages, touched only as they fill).
  memory::reserve_large(out.items, n);
  memory::reserve_large(out.offsets, n + 1);
  memory::reserve_large(out.key, n);
  if (has_customer) memory::reserve_large(out.customer, n);
  if (has_time) memory::reserve_large(out.time, n);
  std::vector<std::pair<std::uint32_t, double>> basket;
  for (std::size_t begin = 0; begin < n;) {
    std::size_t end = begin + 1;
    while (end < n && same_basket(order[begin], order[end])) ++end;
    basket.clear();
    std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
    for (std::size_t k = begin; k < end; ++k) {
      const auto line = order[k];
      const double quantity = lines.quantity.empty() ? 1.0 : lines.quantity[line];
      out.return_lines += quantity < 0;
      basket.emplace_back(lines.item[line], quantity);
      out.item_count = std::max(out.item_count, lines.item[line] + 1);
      if (has_time) earliest = std::min(earliest, lines.timestamp[line]);
    }
    sort_by_item(basket);
    const auto first_item = out.items.size();
    for (std::size_t k = 0; k < basket.size();) {
      std::size_t next = k + 1;
      double net = basket[k].second;
      while (next < basket.size() && basket[next].first == basket[k].first) net += basket[next++].second;
      out.duplicate_lines += next - k - 1;
      if (net > 0) {
        out.items.push_back(basket[k].first);
      } else {
        ++out.dropped_items;
      }
      k = next;
    }
    if (out.items.size() == first_item) {
      ++out.empty_baskets;
    } else {
      const auto line = order[begin];
      out.offsets.push_back(out.items.size());
      out.key.push_back(by_day ? lines.customer[line] : lines.order[line]);
      if (has_customer) out.customer.push_back(lines.customer[line]);
      if (has_time) out.time.push_back(earliest);
    }
    begin = end;
  }
  return out;
}

basket_matrix baskets_from_csr(std::span<const std::uint64_t> offsets,
                               std::span<const std::uint32_t> items, std::uint32_t item_count) {
  constexpr std::string_view name = "baskets_from_csr";
  if (offsets.empty() || offsets.front() != 0 || offsets.back() != items.size()) {
    check::fail(name, fmt::format("offsets must run from 0 to the number of items ({})",
                                  items.size()));
  }
  basket_matrix out;
  out.item_count = item_count;
  out.offsets.reserve(offsets.size());
  out.items.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i] >= item_count) {
      check::fail_at(name, "items", i, items[i], fmt::format("must be < item_count = {}", item_count));
    }
  }
  std::vector<std::uint32_t> row;
  for (std::size_t b = 0; b + 1 < offsets.size(); ++b) {
    if (offsets[b + 1] < offsets[b]) check::fail_at(name, "offsets", b + 1, offsets[b + 1], "decreases");
    row.assign(items.begin() + static_cast<std::ptrdiff_t>(offsets[b]),
               items.begin() + static_cast<std::ptrdiff_t>(offsets[b + 1]));
    std::sort(row.begin(), row.end());
    const auto last = std::unique(row.begin(), row.end());
    out.duplicate_lines += static_cast<std::uint64_t>(row.end() - last);
    out.items.insert(out.items.end(), row.begin(), last);
    out.offsets.push_back(out.items.size());
    out.key.push_back(static_cast<std::int64_t>(b));
  }
  return out;
}

}  // namespace crmkit::basket
