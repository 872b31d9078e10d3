#include "crmkit/segment/tiers.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/radix_sort.hpp"

namespace crmkit::segment {

tier_result value_tiers(std::span<const double> values, std::span<const double> cuts,
                        tier_basis basis) {
  constexpr std::string_view function = "value_tiers";
  check::not_empty(function, "values", values.size());
  check::all_nonnegative(function, "values", values);
  for (std::size_t j = 0; j < cuts.size(); ++j) {
    const bool inside = cuts[j] > 0 && cuts[j] < 1;
    if (!inside || (j > 0 && !(cuts[j] > cuts[j - 1]))) {
      check::fail(function, fmt::format("cuts[{}] = {} must lie in (0, 1) and exceed the cut "
                                        "before it",
                                        j, cuts[j]));
    }
  }
  const std::size_t n = values.size();
  // Shares do not depend on the unit: values whose sum passes the double range are scaled by
  // 1 / (largest value) first.
  double scale = 1;
  double total = 0;
  for (double v : values) total += v;
  if (!std::isfinite(total)) {
    scale = 1 / *std::max_element(values.begin(), values.end());
    total = 0;
    for (double v : values) total += v * scale;
  }
  if (basis == tier_basis::value_share && !(total > 0)) {
    check::fail(function,
                "the values sum to 0; value shares are undefined (use population "
                "shares)");
  }

  const auto order = stable_order(values, true);

  const std::size_t count = cuts.size() + 1;
  tier_result result{std::vector<std::int32_t>(n), std::vector<std::size_t>(count, 0),
                     std::vector<double>(count, 0.0), std::vector<double>(count, std::nan(""))};
  double above = 0;  // value held by the customers ranked above the current one
  std::size_t tier = 0;
  for (std::size_t position = 0; position < n; ++position) {
    const std::size_t i = order[position];
    const bool starts_group = position == 0 || values[i] != values[order[position - 1]];
    if (starts_group) {
      const double share = basis == tier_basis::value_share
                               ? above / total
                               : static_cast<double>(position) / static_cast<double>(n);
      while (tier < cuts.size() && share >= cuts[tier]) ++tier;
    }
    result.tiers[i] = static_cast<std::int32_t>(tier);
    ++result.counts[tier];
    result.value_shares[tier] += values[i] * scale;
    result.lowest_values[tier] = values[i];
    above += values[i] * scale;
  }
  for (auto& share : result.value_shares) share = total > 0 ? share / total : std::nan("");
  return result;
}

}  // namespace crmkit::segment
