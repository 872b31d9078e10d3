#include "crmkit/clv/observations.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>
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

/**
 * The distinct rows of K columns, numbered in order of first occurrence (a hash table on the
 * values' bits, −0 taken as +0): each distinct row's bits and each input row's number.
 */
template <std::size_t K>
struct distinct_rows {
  std::vector<std::array<std::uint64_t, K>> keys;
  std::vector<std::uint32_t> of_row;
};

template <std::size_t K>
distinct_rows<K> group_rows(std::string_view function, const std::array<std::span<const double>, K>& columns) {
  const std::size_t n = columns[0].size();
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    check::fail(function, "more than 2^32 - 1 customers to group");
  }
  const auto hash = [](const std::array<std::uint64_t, K>& key) {
    std::uint64_t h = hash_pair(key[0], key[1]);
    for (std::size_t k = 2; k < K; ++k) h = hash_pair(h, key[k]);
    return h;
  };
  constexpr auto empty = std::numeric_limits<std::uint32_t>::max();
  distinct_rows<K> out;
  out.of_row.resize(n);
  auto& keys = out.keys;
  std::vector<std::uint32_t> slots(std::size_t{1} << 12, empty);
  std::size_t mask = slots.size() - 1;
  auto place = [&](std::uint32_t group) {
    std::size_t slot = hash(keys[group]) & mask;
    while (slots[slot] != empty) slot = (slot + 1) & mask;
    slots[slot] = group;
  };
  for (std::size_t i = 0; i < n; ++i) {
    std::array<std::uint64_t, K> key;
    for (std::size_t k = 0; k < K; ++k) key[k] = bits_of(columns[k][i]);
    std::size_t slot = hash(key) & mask;
    for (;;) {
      const std::uint32_t group = slots[slot];
      if (group == empty) {
        const auto added = static_cast<std::uint32_t>(keys.size());
        keys.push_back(key);
        slots[slot] = added;
        out.of_row[i] = added;
        if (2 * keys.size() > slots.size()) {
          slots.assign(2 * slots.size(), empty);
          mask = slots.size() - 1;
          for (std::uint32_t g = 0; g < keys.size(); ++g) place(g);
        }
        break;
      }
      bool same = true;
      for (std::size_t k = 0; k < K; ++k) same = same && keys[group][k] == key[k];
      if (same) {
        out.of_row[i] = group;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return out;
}

template <std::size_t K>
std::vector<double> column_of(const distinct_rows<K>& rows, std::size_t k) {
  std::vector<double> out;
  out.reserve(rows.keys.size());
  for (const auto& key : rows.keys) out.push_back(std::bit_cast<double>(key[k]));
  return out;
}

}  // namespace

frequency_age_groups group_by_frequency_and_age(std::span<const double> frequency,
                                                std::span<const double> age) {
  constexpr std::string_view function = "group_by_frequency_and_age";
  check::same_size(function, "frequency", frequency.size(), "T", age.size());
  auto rows = group_rows<2>(function, {frequency, age});
  frequency_age_groups groups;
  groups.frequency = column_of(rows, 0);
  groups.age = column_of(rows, 1);
  groups.of_customer = std::move(rows.of_row);
  return groups;
}

history_groups group_by_history(std::span<const double> frequency, std::span<const double> recency,
                                std::span<const double> age) {
  constexpr std::string_view function = "group_by_history";
  check::same_size(function, "frequency", frequency.size(), "recency", recency.size());
  check::same_size(function, "frequency", frequency.size(), "T", age.size());
  auto rows = group_rows<3>(function, {frequency, recency, age});
  history_groups groups;
  groups.frequency = column_of(rows, 0);
  groups.recency = column_of(rows, 1);
  groups.age = column_of(rows, 2);
  groups.of_customer = std::move(rows.of_row);
  return groups;
}

}  // namespace crmkit::clv
