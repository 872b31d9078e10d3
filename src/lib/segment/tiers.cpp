#include "crmkit/segment/tiers.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/exact_sum.hpp"
#include "crmkit/segment/tier_buckets.hpp"

namespace crmkit::segment {

namespace {

constexpr std::string_view function = "value_tiers";

/** A double ≥ 0 as significand · 2^(low_bit − 1074). */
struct split_value {
  std::uint64_t significand;
  int low_bit;
};

split_value split(double value) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(value);
  const auto biased = static_cast<int>(bits >> 52);
  const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
  if (biased == 0) return {fraction, 0};
  return {fraction | (std::uint64_t{1} << 52), biased - 1};
}

/** What the walk needs of a run of ranked values: one distinct value or a bucket of several. */
struct run {
  std::int64_t count;
  uint128 significands;
  int low_bit;
  double lowest;
  double highest;
};

void check_cuts(std::span<const double> cuts) {
  for (std::size_t j = 0; j < cuts.size(); ++j) {
    const bool inside = cuts[j] > 0 && cuts[j] < 1;
    if (!inside || (j > 0 && !(cuts[j] > cuts[j - 1]))) {
      check::fail(function, fmt::format("cuts[{}] = {} must lie in (0, 1) and exceed the cut "
                                        "before it",
                                        j, cuts[j]));
    }
  }
}

/** Adds a run's significands · 2^(low_bit − 1074) exactly. */
void add_run(full_range_sum& sum, const run& r) noexcept { sum.add_wide(r.significands, r.low_bit - 1074); }

/**
 * The tiers of runs ranked highest first. Every sum is exact (full_range_sum) and rounded once where
 * it is used, so nothing depends on how the values were grouped into runs or tallied: a
 * customer's share is round(Σ values ranked above) / round(Σ values), the tier's value share
 * round(Σ its values) / round(Σ values); when Σ values passes the double range both are taken
 * in units of 2^ilogb(largest value). A run of several distinct values whose tier could change
 * inside it is reported in `to_split` (its tier then means nothing).
 */
template <class Runs>
tier_result walk(std::size_t size, const Runs& run_at, std::span<const double> cuts,
                 tier_basis basis, std::vector<std::size_t>& to_split) {
  check::not_empty(function, "values", size);
  check_cuts(cuts);
  full_range_sum total;
  std::int64_t n = 0;
  for (std::size_t k = 0; k < size; ++k) {
    const run r = run_at(k);
    add_run(total, r);
    n += r.count;
  }
  int shift = 0;
  double total_value = total.value();
  if (!std::isfinite(total_value)) {
    shift = std::ilogb(run_at(0).highest);
    total_value = total.scaled_value(shift);
  }
  if (basis == tier_basis::value_share && !(total_value > 0)) {
    check::fail(function,
                "the values sum to 0; value shares are undefined (use population "
                "shares)");
  }
  const std::size_t tier_count = cuts.size() + 1;
  tier_result result{std::vector<std::int32_t>(size), std::vector<std::size_t>(tier_count, 0),
                     std::vector<double>(tier_count, 0.0),
                     std::vector<double>(tier_count, std::nan(""))};
  std::vector<full_range_sum> tier_sums(tier_count);
  const auto tier_of = [&](const full_range_sum& above, std::int64_t position) {
    const double share = basis == tier_basis::value_share
                             ? above.scaled_value(shift) / total_value
                             : static_cast<double>(position) / static_cast<double>(n);
    std::size_t tier = 0;
    while (tier < cuts.size() && share >= cuts[tier]) ++tier;
    return tier;
  };
  full_range_sum above;       // the values ranked above the current run
  std::int64_t position = 0;  // customers ranked above the current run
  for (std::size_t k = 0; k < size; ++k) {
    const run r = run_at(k);
    const std::size_t tier = tier_of(above, position);
    if (r.lowest < r.highest) {
      // The run's last value has at most `above + run` above it.
      full_range_sum after = above;
      add_run(after, r);
      if (tier_of(after, position + r.count) != tier) to_split.push_back(k);
    }
    result.tiers[k] = static_cast<std::int32_t>(tier);
    result.counts[tier] += static_cast<std::size_t>(r.count);
    result.lowest_values[tier] = r.lowest;
    add_run(tier_sums[tier], r);
    add_run(above, r);
    position += r.count;
  }
  for (std::size_t t = 0; t < tier_count; ++t) {
    result.value_shares[t] = total_value > 0 ? tier_sums[t].scaled_value(shift) / total_value : std::nan("");
  }
  return result;
}

std::uint64_t pattern(double value) noexcept {
  return value == 0 ? 0 : std::bit_cast<std::uint64_t>(value);
}

std::uint64_t key_of(std::uint64_t bits, int width) noexcept {
  return width >= 64 ? bits : bits >> (64 - width);
}

}  // namespace

tier_result value_tiers_of_histogram(std::span<const double> values,
                                     std::span<const std::int64_t> counts,
                                     std::span<const double> cuts, tier_basis basis) {
  check::not_empty(function, "values", values.size());
  check::same_size(function, "values", values.size(), "counts", counts.size());
  check::all_nonnegative(function, "values", values);
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k > 0 && !(values[k] < values[k - 1])) {
      check::fail(function, fmt::format("values[{}] = {} must be below values[{}] = {} (a "
                                        "histogram's values strictly decrease)",
                                        k, values[k], k - 1, values[k - 1]));
    }
    if (counts[k] < 1) {
      check::fail(function, fmt::format("counts[{}] = {} must be at least 1", k, counts[k]));
    }
  }
  std::vector<std::size_t> to_split;
  return walk(
      values.size(),
      [&](std::size_t k) {
        const auto [significand, low_bit] = split(values[k]);
        return run{counts[k], static_cast<uint128>(significand) * static_cast<uint128>(counts[k]),
                   low_bit, values[k], values[k]};
      },
      cuts, basis, to_split);
}

std::vector<tier_result> value_tiers(std::span<const double> values,
                                     std::span<const tier_split> splits) {
  check::not_empty(function, "values", values.size());
  check::all_nonnegative(function, "values", values);
  // First walk: runs of the values sharing their top 16 bits (one exponent, so a run's sum is
  // its significands' 128-bit sum), highest first.
  std::uint64_t low = ~std::uint64_t{0}, high = 0;
  for (const double value : values) {
    const std::uint64_t key = pattern(value) >> 48;
    low = std::min(low, key);
    high = std::max(high, key);
  }
  std::vector<run> buckets(high - low + 1, run{0, 0, 0, 0, 0});
  for (const double raw : values) {
    const double value = raw == 0 ? 0.0 : raw;
    run& b = buckets[(pattern(value) >> 48) - low];
    if (b.count++ == 0) b.lowest = b.highest = value;
    b.significands += split(value).significand;
    b.lowest = std::min(b.lowest, value);
    b.highest = std::max(b.highest, value);
  }
  std::vector<run> ranked;
  std::vector<std::size_t> bucket_of;
  for (std::size_t k = buckets.size(); k-- > 0;) {
    if (buckets[k].count == 0) continue;
    buckets[k].low_bit = split(buckets[k].highest).low_bit;
    ranked.push_back(buckets[k]);
    bucket_of.push_back(k);
  }
  std::vector<std::size_t> to_split;
  for (const auto& each : splits) {
    walk(
        ranked.size(), [&](std::size_t k) { return ranked[k]; }, each.cuts, each.basis, to_split);
  }
  // Second walk: the buckets a tier changes in, cut into their distinct values.
  if (!to_split.empty()) {
    std::vector<std::uint8_t> open(buckets.size(), 0);
    for (const std::size_t k : to_split) open[bucket_of[k]] = 1;
    std::vector<double> inside;
    for (const double raw : values) {
      const double value = raw == 0 ? 0.0 : raw;
      if (open[(pattern(value) >> 48) - low] != 0) inside.push_back(value);
    }
    std::sort(inside.begin(), inside.end(), std::greater<>());
    std::vector<run> refined;
    std::size_t next = 0;
    for (std::size_t k = 0; k < ranked.size(); ++k) {
      if (open[bucket_of[k]] == 0) {
        refined.push_back(ranked[k]);
        continue;
      }
      const std::size_t end = next + static_cast<std::size_t>(ranked[k].count);
      while (next < end) {
        const double value = inside[next];
        std::size_t stop = next + 1;
        while (stop < end && inside[stop] == value) ++stop;
        const auto count = static_cast<std::int64_t>(stop - next);
        const auto [significand, low_bit] = split(value);
        refined.push_back({count, static_cast<uint128>(significand) * static_cast<uint128>(count),
                           low_bit, value, value});
        next = stop;
      }
    }
    ranked = std::move(refined);
  }
  // Tiers are ranges of values, so a customer's tier is the first whose lowest value is not
  // above theirs (an empty tier's lowest value is NaN).
  std::vector<tier_result> out;
  out.reserve(splits.size());
  for (const auto& each : splits) {
    std::vector<std::size_t> unused;
    tier_result result = walk(
        ranked.size(), [&](std::size_t k) { return ranked[k]; }, each.cuts, each.basis, unused);
    const std::size_t last = result.lowest_values.size() - 1;
    std::vector<std::int32_t> tiers(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::size_t tier = 0;
      while (tier < last && !(values[i] >= result.lowest_values[tier])) ++tier;
      tiers[i] = static_cast<std::int32_t>(tier);
    }
    result.tiers = std::move(tiers);
    out.push_back(std::move(result));
  }
  return out;
}

tier_result value_tiers(std::span<const double> values, std::span<const double> cuts,
                        tier_basis basis) {
  const tier_split split{{cuts.begin(), cuts.end()}, basis};
  return std::move(value_tiers(values, std::span<const tier_split>(&split, 1)).front());
}

std::vector<value_bucket> value_buckets(std::span<const double> values,
                                        std::span<const std::int32_t> parent_widths,
                                        std::span<const std::uint64_t> parent_keys) {
  check::same_size(function, "parent_widths", parent_widths.size(), "parent_keys",
                   parent_keys.size());
  check::all_nonnegative(function, "values", values);
  std::set<std::pair<std::int32_t, std::uint64_t>> parents;
  std::vector<std::int32_t> widths;
  for (std::size_t k = 0; k < parent_widths.size(); ++k) {
    const std::int32_t width = parent_widths[k];
    if (width != 16 && width != 32 && width != 48) {
      check::fail_at(function, "parent_widths", k, width, "must be 16, 32 or 48");
    }
    parents.insert({width, parent_keys[k]});
    if (std::find(widths.begin(), widths.end(), width) == widths.end()) widths.push_back(width);
  }
  std::map<std::pair<std::int32_t, std::uint64_t>, value_bucket> found;
  const auto tally = [&](std::int32_t width, std::uint64_t bits, double value) {
    auto [at, fresh] = found.try_emplace({width, key_of(bits, width)});
    value_bucket& b = at->second;
    if (fresh) {
      b.width = width;
      b.key = key_of(bits, width);
      b.lowest = b.highest = value;
    }
    ++b.count;
    const uint128 sum = ((static_cast<uint128>(b.significands_high) << 64) | b.significands_low) +
                        split(value).significand;
    b.significands_low = static_cast<std::uint64_t>(sum);
    b.significands_high = static_cast<std::uint64_t>(sum >> 64);
    b.lowest = std::min(b.lowest, value);
    b.highest = std::max(b.highest, value);
  };
  for (const double raw : values) {
    const double value = raw == 0 ? 0.0 : raw;
    const std::uint64_t bits = pattern(value);
    if (widths.empty()) {
      tally(16, bits, value);
      continue;
    }
    for (const std::int32_t width : widths) {
      if (parents.count({width, key_of(bits, width)}) != 0) {
        tally(width + 16, bits, value);
        break;
      }
    }
  }
  std::vector<value_bucket> out;
  out.reserve(found.size());
  for (auto& [where, b] : found) out.push_back(b);
  std::sort(out.begin(), out.end(),
            [](const value_bucket& a, const value_bucket& b) { return a.highest > b.highest; });
  return out;
}

bucket_tiers value_tiers_of_buckets(std::span<const value_bucket> buckets,
                                    std::span<const double> cuts, tier_basis basis) {
  std::map<std::pair<std::int32_t, std::uint64_t>, value_bucket> merged;
  for (const auto& b : buckets) {
    if (b.count < 1) continue;
    auto [at, fresh] = merged.try_emplace({b.width, b.key}, b);
    if (fresh) continue;
    value_bucket& into = at->second;
    into.count += b.count;
    const uint128 sum = ((static_cast<uint128>(into.significands_high) << 64) | into.significands_low) +
                        ((static_cast<uint128>(b.significands_high) << 64) | b.significands_low);
    into.significands_low = static_cast<std::uint64_t>(sum);
    into.significands_high = static_cast<std::uint64_t>(sum >> 64);
    into.lowest = std::min(into.lowest, b.lowest);
    into.highest = std::max(into.highest, b.highest);
  }
  std::vector<value_bucket> ranked;
  ranked.reserve(merged.size());
  for (auto& [where, b] : merged) ranked.push_back(b);
  std::sort(ranked.begin(), ranked.end(),
            [](const value_bucket& a, const value_bucket& b) { return a.highest > b.highest; });
  for (std::size_t k = 1; k < ranked.size(); ++k) {
    if (!(ranked[k].highest < ranked[k - 1].lowest)) {
      check::fail(function, fmt::format("buckets (width {}, key {}) and (width {}, key {}) "
                                        "overlap",
                                        ranked[k - 1].width, ranked[k - 1].key, ranked[k].width,
                                        ranked[k].key));
    }
  }
  bucket_tiers out;
  std::vector<std::size_t> to_split;
  out.result = walk(
      ranked.size(),
      [&](std::size_t k) {
        const value_bucket& b = ranked[k];
        return run{b.count, (static_cast<uint128>(b.significands_high) << 64) | b.significands_low,
                   split(b.highest).low_bit, b.lowest, b.highest};
      },
      cuts, basis, to_split);
  for (const std::size_t k : to_split) out.split.push_back(ranked[k]);
  return out;
}

}  // namespace crmkit::segment
