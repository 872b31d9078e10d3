#include "crmkit/segment/tiers.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/radix_sort.hpp"

namespace crmkit::segment {

tier_result value_tiers_of_histogram(std::span<const double> values,
                                     std::span<const std::int64_t> counts,
                                     std::span<const double> cuts, tier_basis basis) {
  constexpr std::string_view function = "value_tiers";
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
  for (std::size_t j = 0; j < cuts.size(); ++j) {
    const bool inside = cuts[j] > 0 && cuts[j] < 1;
    if (!inside || (j > 0 && !(cuts[j] > cuts[j - 1]))) {
      check::fail(function, fmt::format("cuts[{}] = {} must lie in (0, 1) and exceed the cut "
                                        "before it",
                                        j, cuts[j]));
    }
  }
  // Every sum adds the customers' values one by one, highest first, as a row-by-row pass over
  // the ranked customers would, so the result does not depend on how they were tallied.
  const auto sum = [&](double scale) {
    double total = 0;
    for (std::size_t k = 0; k < values.size(); ++k) {
      for (std::int64_t c = 0; c < counts[k]; ++c) total += values[k] * scale;
    }
    return total;
  };
  // Shares do not depend on the unit: values whose sum passes the double range are scaled by
  // 1 / (largest value) first.
  double scale = 1;
  double total = sum(scale);
  if (!std::isfinite(total)) {
    scale = 1 / values[0];
    total = sum(scale);
  }
  if (basis == tier_basis::value_share && !(total > 0)) {
    check::fail(function,
                "the values sum to 0; value shares are undefined (use population "
                "shares)");
  }
  std::int64_t n = 0;
  for (const auto count : counts) n += count;

  const std::size_t tier_count = cuts.size() + 1;
  tier_result result{std::vector<std::int32_t>(values.size()),
                     std::vector<std::size_t>(tier_count, 0), std::vector<double>(tier_count, 0.0),
                     std::vector<double>(tier_count, std::nan(""))};
  double above = 0;           // value held by the customers ranked above the current group
  std::int64_t position = 0;  // customers ranked above the current group
  std::size_t tier = 0;
  for (std::size_t k = 0; k < values.size(); ++k) {
    const double share = basis == tier_basis::value_share
                             ? above / total
                             : static_cast<double>(position) / static_cast<double>(n);
    while (tier < cuts.size() && share >= cuts[tier]) ++tier;
    result.tiers[k] = static_cast<std::int32_t>(tier);
    result.counts[tier] += static_cast<std::size_t>(counts[k]);
    result.lowest_values[tier] = values[k];
    for (std::int64_t c = 0; c < counts[k]; ++c) {
      result.value_shares[tier] += values[k] * scale;
      above += values[k] * scale;
    }
    position += counts[k];
  }
  for (auto& share : result.value_shares) share = total > 0 ? share / total : std::nan("");
  return result;
}

tier_result value_tiers(std::span<const double> values, std::span<const double> cuts,
                        tier_basis basis) {
  check::not_empty("value_tiers", "values", values.size());
  check::all_nonnegative("value_tiers", "values", values);
  const auto order = stable_order(values, true);
  std::vector<double> distinct;
  std::vector<std::int64_t> counts;
  std::vector<std::size_t> group(values.size());
  for (std::size_t position = 0; position < order.size(); ++position) {
    const double value = values[order[position]];
    if (distinct.empty() || value != distinct.back()) {
      distinct.push_back(value);
      counts.push_back(0);
    }
    ++counts.back();
    group[order[position]] = distinct.size() - 1;
  }
  tier_result result = value_tiers_of_histogram(distinct, counts, cuts, basis);
  std::vector<std::int32_t> tiers(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) tiers[i] = result.tiers[group[i]];
  result.tiers = std::move(tiers);
  return result;
}

}  // namespace crmkit::segment
