#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "crmkit/core/check.hpp"
#include "crmkit/core/memory.hpp"

/**
 * crmkit's one sort of large columns: a stable least-significant-digit radix sort of an index
 * permutation by 64-bit keys. O(n) per key, and, being stable, it gives exactly the permutation
 * `std::stable_sort` would, so results never depend on the sort's internals or the thread count.
 */
namespace crmkit {

/**
 * The order-preserving 64-bit image of a double: the sign bit flipped for positives, all bits
 * flipped for negatives, −0 mapped to +0. Keys compare as unsigned integers exactly as the values
 * compare as doubles.
 */
[[nodiscard]] inline std::uint64_t radix_key(double value) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(value == 0 ? 0.0 : value);
  return (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
}

/**
 * Stable LSD radix sorts of an index permutation 0..n−1 by 64-bit keys (8-bit digits, all digit
 * histograms counted in one pass; a digit on which every key agrees, such as shared exponent
 * bits, is skipped). Successive `sort_by` calls refine the order (sort by the least significant
 * column first). The buffers are reused across keys and sit on huge pages: fresh memory is
 * what large sorts pay for most.
 */
class radix_sorter {
 public:
  explicit radix_sorter(std::size_t n)
      : order_(memory::large_vector<std::uint32_t>(n)),
        order_out_(memory::large_vector<std::uint32_t>(n)),
        keys_(memory::large_vector<std::uint64_t>(n)),
        keys_out_(memory::large_vector<std::uint64_t>(n)),
        count_(((64 + bits - 1) / bits) << bits) {
    if (n > std::numeric_limits<std::uint32_t>::max()) {
      check::fail("radix sort", "more than 2^32 - 1 values to rank");
    }
    std::iota(order_.begin(), order_.end(), 0u);
  }

  /** Stable-sorts the current order by key(i) for original index i. */
  template <class Key>
  void sort_by(Key&& key) {
    constexpr int digits = (64 + bits - 1) / bits;
    constexpr std::size_t radix = std::size_t{1} << bits;
    constexpr std::uint64_t mask = radix - 1;
    const std::size_t n = order_.size();
    if (n == 0) return;
    std::fill(count_.begin(), count_.end(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t k = key(order_[i]);
      keys_[i] = k;
      for (int d = 0; d < digits; ++d)
        ++count_[static_cast<std::size_t>(d) * radix + ((k >> (d * bits)) & mask)];
    }
    for (int d = 0; d < digits; ++d) {
      auto* count = count_.data() + static_cast<std::size_t>(d) * radix;
      const int shift = d * bits;
      if (count[(keys_[0] >> shift) & mask] == n) continue;
      std::size_t total = 0;
      for (std::size_t c = 0; c < radix; ++c) total += std::exchange(count[c], total);
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t slot = count[(keys_[i] >> shift) & mask]++;
        keys_out_[slot] = keys_[i];
        order_out_[slot] = order_[i];
      }
      keys_.swap(keys_out_);
      order_.swap(order_out_);
    }
  }

  [[nodiscard]] const std::vector<std::uint32_t>& order() const noexcept { return order_; }

  /** The keys of the last `sort_by`, in the sorted order. */
  [[nodiscard]] std::span<const std::uint64_t> sorted_keys() const noexcept { return keys_; }

  /** The permutation, moved out (the sorter is spent). */
  [[nodiscard]] std::vector<std::uint32_t> take_order() noexcept { return std::move(order_); }

 private:
  static constexpr int bits = 8;
  std::vector<std::uint32_t> order_, order_out_;
  std::vector<std::uint64_t> keys_, keys_out_;
  std::vector<std::size_t> count_;
};

/**
 * Positions 0..n−1 ordered by value, ascending (or descending), equal values in position order:
 * the permutation `std::stable_sort` would give.
 */
[[nodiscard]] inline std::vector<std::uint32_t> stable_order(std::span<const double> values,
                                                             bool descending = false) {
  radix_sorter sorter(values.size());
  if (descending) {
    sorter.sort_by([&](std::size_t i) { return ~radix_key(values[i]); });
  } else {
    sorter.sort_by([&](std::size_t i) { return radix_key(values[i]); });
  }
  return sorter.take_order();
}

}  // namespace crmkit
