#include "crmkit/clv/observations.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "crmkit/core/check.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/core/radix_sort.hpp"

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

std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

/**
 * Ids 0, 1, ... for distinct keys in order of first appearance: open addressing with linear
 * probing, kept at most half full.
 */
template <class Key>
class id_table {
 public:
  template <class Hash>
  std::uint32_t id_of(const Key& key, Hash&& hash) {
    std::size_t slot = hash(key) & mask_;
    for (;;) {
      const std::uint32_t id = slots_[slot];
      if (id == empty) break;
      if (keys_[id] == key) return id;
      slot = (slot + 1) & mask_;
    }
    const auto added = static_cast<std::uint32_t>(keys_.size());
    keys_.push_back(key);
    slots_[slot] = added;
    if (2 * keys_.size() > slots_.size()) {
      slots_.assign(2 * slots_.size(), empty);
      mask_ = slots_.size() - 1;
      for (std::uint32_t id = 0; id < keys_.size(); ++id) {
        std::size_t free = hash(keys_[id]) & mask_;
        while (slots_[free] != empty) free = (free + 1) & mask_;
        slots_[free] = id;
      }
    }
    return added;
  }

  [[nodiscard]] const std::vector<Key>& keys() const noexcept { return keys_; }

 private:
  static constexpr auto empty = std::numeric_limits<std::uint32_t>::max();
  std::vector<Key> keys_;
  std::vector<std::uint32_t> slots_ = std::vector<std::uint32_t>(std::size_t{1} << 10, empty);
  std::size_t mask_ = slots_.size() - 1;
};

/** The bits of a value with −0 taken as +0 (the two compare equal). */
std::uint64_t bits_of(double value) {
  return std::bit_cast<std::uint64_t>(value == 0 ? 0.0 : value);
}

/** A column's values as dense ranks 0..D−1 in increasing order, with the distinct values. */
struct ranked_column {
  std::vector<std::uint32_t> rank;
  std::vector<double> values;
  int bits = 0;  ///< bits needed for a rank
};

ranked_column rank_column(std::span<const double> column) {
  id_table<std::uint64_t> ids;
  ranked_column out;
  out.rank.resize(column.size());
  std::vector<double> first;
  for (std::size_t i = 0; i < column.size(); ++i) {
    const std::uint32_t id = ids.id_of(radix_key(column[i]), mix);
    if (id == first.size()) first.push_back(column[i]);
    out.rank[i] = id;
  }
  const auto& keys = ids.keys();
  std::vector<std::uint32_t> by_key(keys.size());
  std::iota(by_key.begin(), by_key.end(), 0u);
  std::sort(by_key.begin(), by_key.end(),
            [&](std::uint32_t a, std::uint32_t b) { return keys[a] < keys[b]; });
  std::vector<std::uint32_t> rank_of_id(keys.size());
  out.values.resize(keys.size());
  for (std::uint32_t r = 0; r < by_key.size(); ++r) rank_of_id[by_key[r]] = r;
  for (std::uint32_t id = 0; id < first.size(); ++id) out.values[rank_of_id[id]] = first[id];
  for (std::size_t i = 0; i < column.size(); ++i) out.rank[i] = rank_of_id[out.rank[i]];
  out.bits = keys.size() <= 1 ? 0 : std::bit_width(keys.size() - 1);
  return out;
}

/** Whether compress can rank the columns: no NaN (never equal to itself) and no −0 (its
 * pattern must keep a +0 row's bits, or the reverse, as the reference sort does). */
bool rankable(std::span<const double> column) {
  return std::none_of(column.begin(), column.end(), [](double value) {
    return std::isnan(value) || (value == 0 && std::signbit(value));
  });
}

/** compress by sorting on the values themselves (any doubles, NaN and −0 included). */
std::vector<pattern> compress_by_values(std::span<const double> x, std::span<const double> u,
                                        std::span<const double> v,
                                        std::span<const double> weights) {
  const std::size_t n = x.size();
  auto weight = [&](std::size_t i) { return weights.empty() ? 1.0 : weights[i]; };
  radix_sorter sorter(n);
  if (n > 1) {
    if (v.data() != u.data()) sorter.sort_by([&](std::size_t i) { return radix_key(v[i]); });
    sorter.sort_by([&](std::size_t i) { return radix_key(u[i]); });
    sorter.sort_by([&](std::size_t i) { return radix_key(x[i]); });
  }
  const auto& order = sorter.order();
  auto same = [&](std::size_t i, std::size_t j) {
    return x[i] == x[j] && u[i] == u[j] && v[i] == v[j];
  };
  std::size_t unique = 0;
  for (std::size_t k = 0; k < n; ++k) unique += k == 0 || !same(order[k], order[k - 1]);
  std::vector<pattern> merged;
  merged.reserve(unique);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    if (weight(i) == 0) continue;
    if (!merged.empty() && merged.back().x == x[i] && merged.back().u == u[i] &&
        merged.back().v == v[i]) {
      merged.back().weight += weight(i);
    } else {
      merged.push_back({x[i], u[i], v[i], weight(i)});
    }
  }
  return merged;
}

}  // namespace

std::vector<pattern> compress(std::span<const double> x, std::span<const double> u,
                              std::span<const double> v, std::span<const double> weights) {
  const std::size_t n = x.size();
  const bool shared = v.data() == u.data();
  if (n <= 1 || !rankable(x) || !rankable(u) || (!shared && !rankable(v))) {
    return compress_by_values(x, u, v, weights);
  }
  const auto rx = rank_column(x);
  const auto ru = rank_column(u);
  const auto rv = shared ? ranked_column{} : rank_column(v);
  const int low_bits = ru.bits + rv.bits;
  if (rx.bits + low_bits > 63) return compress_by_values(x, u, v, weights);
  radix_sorter sorter(n);
  sorter.sort_by([&](std::size_t i) {
    return std::uint64_t{rx.rank[i]} << low_bits | std::uint64_t{ru.rank[i]} << rv.bits |
           (shared ? 0 : std::uint64_t{rv.rank[i]});
  });
  const auto& order = sorter.order();
  const auto& keys = sorter.sorted_keys();
  std::size_t unique = 0;
  for (std::size_t k = 0; k < n; ++k) unique += k == 0 || keys[k] != keys[k - 1];
  const std::uint64_t u_mask = (std::uint64_t{1} << ru.bits) - 1;
  const std::uint64_t v_mask = (std::uint64_t{1} << rv.bits) - 1;
  std::vector<pattern> merged;
  merged.reserve(unique);
  std::size_t last = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const double w = weights.empty() ? 1.0 : weights[order[k]];
    if (w == 0) continue;
    const std::uint64_t key = keys[k];
    if (!merged.empty() && key == keys[last]) {
      merged.back().weight += w;
      continue;
    }
    const double u_value = ru.values[(key >> rv.bits) & u_mask];
    merged.push_back({rx.values[key >> low_bits], u_value,
                      shared ? u_value : rv.values[key & v_mask], w});
    last = k;
  }
  return merged;
}

frequency_age_groups group_by_frequency_and_age(std::span<const double> frequency,
                                                std::span<const double> age) {
  const std::size_t n = frequency.size();
  check::same_size("group_by_frequency_and_age", "frequency", n, "T", age.size());
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    check::fail("group_by_frequency_and_age", "more than 2^32 - 1 customers to group");
  }
  using key = std::pair<std::uint64_t, std::uint64_t>;
  id_table<key> ids;
  auto hash = [](const key& k) { return mix(k.first * 0x9E3779B97F4A7C15ull ^ k.second); };
  frequency_age_groups groups;
  groups.of_customer.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    groups.of_customer[i] = ids.id_of(key{bits_of(frequency[i]), bits_of(age[i])}, hash);
  }
  groups.frequency.reserve(ids.keys().size());
  groups.age.reserve(ids.keys().size());
  for (const auto& [x, t] : ids.keys()) {
    groups.frequency.push_back(std::bit_cast<double>(x));
    groups.age.push_back(std::bit_cast<double>(t));
  }
  return groups;
}

}  // namespace crmkit::clv
