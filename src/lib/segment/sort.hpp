#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "crmkit/core/check.hpp"

namespace crmkit::segment::detail {

/**
 * Positions 0..n-1 ordered by value, ascending (or descending), equal values in position order:
 * the permutation std::stable_sort would give. A least-significant-digit radix sort on the
 * order-preserving 64-bit image of each double (sign bit flipped for positives, all bits for
 * negatives; -0 counts as +0), 11 bits per pass; passes whose digit is the same for every value
 * are skipped, which removes most of them for integer-valued data (days, counts).
 */
inline std::vector<std::uint32_t> stable_order(std::span<const double> values,
                                               bool descending = false) {
  constexpr int digit_bits = 11;
  constexpr int passes = (64 + digit_bits - 1) / digit_bits;
  constexpr std::uint64_t mask = (std::uint64_t{1} << digit_bits) - 1;
  const std::size_t n = values.size();
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    check::fail("stable_order", "more than 2^32 - 1 values to rank");
  }
  std::vector<std::uint64_t> keys(n);
  std::vector<std::uint32_t> order(n);
  std::array<std::array<std::size_t, mask + 1>, passes> counts{};
  for (std::size_t i = 0; i < n; ++i) {
    const double value = values[i] == 0 ? 0.0 : values[i];
    const auto bits = std::bit_cast<std::uint64_t>(value);
    std::uint64_t key = (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
    if (descending) key = ~key;
    keys[i] = key;
    order[i] = static_cast<std::uint32_t>(i);
    for (int p = 0; p < passes; ++p) ++counts[p][(key >> (p * digit_bits)) & mask];
  }
  std::vector<std::uint64_t> key_buffer(n);
  std::vector<std::uint32_t> order_buffer(n);
  for (int p = 0; p < passes; ++p) {
    auto& count = counts[p];
    if (n == 0 || count[(keys[0] >> (p * digit_bits)) & mask] == n) continue;  // constant digit
    std::size_t start = 0;
    for (auto& c : count) {
      const std::size_t size = c;
      c = start;
      start += size;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t slot = count[(keys[i] >> (p * digit_bits)) & mask]++;
      key_buffer[slot] = keys[i];
      order_buffer[slot] = order[i];
    }
    keys.swap(key_buffer);
    order.swap(order_buffer);
  }
  return order;
}

}  // namespace crmkit::segment::detail
