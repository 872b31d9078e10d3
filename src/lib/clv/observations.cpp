#include "crmkit/clv/observations.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "crmkit/core/check.hpp"

#include "crmkit/core/memory.hpp"

namespace crmkit::clv {

std::vector<pattern> group_by_frequency(std::span<const double> x, std::span<const double> u,
                                        std::span<const double> v,
                                        std::span<const double> weights) {
  const std::size_t n = x.size();
  auto weight = [&](std::size_t i) { return weights.empty() ? 1.0 : weights[i]; };
  const double largest = n == 0 ? 0.0 : *std::max_element(x.begin(), x.end());
  std::vector<std::size_t> start(static_cast<std::size_t>(largest) + 2, 0);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (weight(i) == 0) continue;
    ++start[static_cast<std::size_t>(x[i]) + 1];
    ++kept;
  }
  for (std::size_t k = 1; k < start.size(); ++k) start[k] += start[k - 1];
  auto rows = memory::large_vector<pattern>(kept);
  for (std::size_t i = 0; i < n; ++i) {
    if (weight(i) == 0) continue;
    rows[start[static_cast<std::size_t>(x[i])]++] = {x[i], u[i], v[i], weight(i)};
  }
  return rows;
}

namespace {

std::uint64_t bits_of(double value) { return std::bit_cast<std::uint64_t>(value == 0 ? 0.0 : value); }

std::uint64_t hash_pair(std::uint64_t a, std::uint64_t b) {
  std::uint64_t h = a * 0x9E3779B97F4A7C15ull ^ b;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

}  // namespace

frequency_age_groups group_by_frequency_and_age(std::span<const double> frequency,
                                                std::span<const double> age) {
  const std::size_t n = frequency.size();
  check::same_size("group_by_frequency_and_age", "frequency", n, "T", age.size());
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    check::fail("group_by_frequency_and_age", "more than 2^32 - 1 customers to group");
  }
  constexpr auto empty = std::numeric_limits<std::uint32_t>::max();
  frequency_age_groups groups;
  groups.of_customer.resize(n);
  std::vector<std::uint64_t> x_bits, age_bits;
  std::vector<std::uint32_t> slots(std::size_t{1} << 12, empty);
  std::size_t mask = slots.size() - 1;
  auto place = [&](std::uint32_t group) {
    std::size_t slot = hash_pair(x_bits[group], age_bits[group]) & mask;
    while (slots[slot] != empty) slot = (slot + 1) & mask;
    slots[slot] = group;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t x = bits_of(frequency[i]);
    const std::uint64_t t = bits_of(age[i]);
    std::size_t slot = hash_pair(x, t) & mask;
    for (;;) {
      const std::uint32_t group = slots[slot];
      if (group == empty) {
        const auto added = static_cast<std::uint32_t>(x_bits.size());
        x_bits.push_back(x);
        age_bits.push_back(t);
        slots[slot] = added;
        groups.of_customer[i] = added;
        if (2 * x_bits.size() > slots.size()) {
          slots.assign(2 * slots.size(), empty);
          mask = slots.size() - 1;
          for (std::uint32_t g = 0; g < x_bits.size(); ++g) place(g);
        }
        break;
      }
      if (x_bits[group] == x && age_bits[group] == t) {
        groups.of_customer[i] = group;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  groups.frequency.reserve(x_bits.size());
  groups.age.reserve(x_bits.size());
  for (std::size_t g = 0; g < x_bits.size(); ++g) {
    groups.frequency.push_back(std::bit_cast<double>(x_bits[g]));
    groups.age.push_back(std::bit_cast<double>(age_bits[g]));
  }
  return groups;
}

}  // namespace crmkit::clv
