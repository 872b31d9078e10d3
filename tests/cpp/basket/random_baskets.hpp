#pragma once

#include <crmkit/basket/baskets.hpp>
#include <crmkit/core/random.hpp>

#include <cstdint>
#include <vector>

namespace basket_test {

/** Random baskets: each of `items` items is in each basket with its own probability. */
inline crmkit::basket::basket_matrix random_baskets(std::uint64_t seed, std::size_t baskets,
                                                    std::uint32_t items, double density) {
  crmkit::rng::simulation_stream stream(seed, 0);
  std::vector<double> share(items);
  for (auto& s : share) s = density * (0.2 + 1.6 * stream.uniform());
  crmkit::basket::basket_matrix out;
  out.item_count = items;
  for (std::size_t b = 0; b < baskets; ++b) {
    for (std::uint32_t i = 0; i < items; ++i) {
      if (stream.uniform() < share[i]) out.items.push_back(i);
    }
    out.offsets.push_back(out.items.size());
    out.key.push_back(static_cast<std::int64_t>(b));
  }
  return out;
}

/** Baskets (of at most 32 items) containing every item of `mask`, counted one by one. */
inline std::uint64_t brute_count(const crmkit::basket::basket_matrix& baskets, std::uint32_t mask) {
  std::uint64_t count = 0;
  for (std::size_t b = 0; b < baskets.size(); ++b) {
    std::uint32_t bits = 0;
    for (const auto item : baskets.basket(b)) bits |= 1u << item;
    count += (bits & mask) == mask;
  }
  return count;
}

}  // namespace basket_test
