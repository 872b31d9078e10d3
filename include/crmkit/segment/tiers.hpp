#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"

/**
 * Value tiers (ABC / Pareto analysis) over any non-negative value per customer: monetary value,
 * predicted lifetime value, margin.
 *
 * Customers are ranked by value, highest first, and cut into tiers 0 (top, "A" or "high"),
 * 1, 2, ... at cumulative fractions c_1 < c_2 < ... < 1:
 *
 * - value_share: a customer enters the first tier whose cut exceeds the share of total value
 *   held by the customers ranked above them, so the customer who crosses a cut still belongs
 *   to the higher tier and tier A holds at least c_1 of the value (80 / 95 % by default:
 *   the classic ABC split).
 * - population_share: by the share of customers ranked above them instead (20 / 50 % cuts,
 *   i.e. 20 / 30 / 50 % of customers, by default; SAP HANA PAL abc_analysis' example).
 *
 * Customers with equal value always share a tier: a group of ties takes the tier of its first
 * member.
 *
 * Sums are exact: the value above a customer, a tier's value and the total are summed without
 * rounding (over the whole double range) and rounded once where a share is formed, share =
 * round(Σ above) / round(Σ all); when Σ all passes the double range both sums are taken in units
 * of 2^ilogb(largest value). So the tiers do not depend on how the values were grouped or
 * tallied, which lets a cluster find them from bucket sums (tier_buckets.hpp).
 */
namespace crmkit::segment {

/** What the cumulative cuts measure. */
enum class tier_basis { value_share, population_share };

constexpr auto description(std::type_identity<tier_basis>) {
  return describe::enum_table<tier_basis, 2>{
      "by", {{{tier_basis::value_share, "value"}, {tier_basis::population_share, "population"}}}};
}

/** Parses "value" or "population" (describe::parse). */
inline tier_basis parse_tier_basis(std::string_view name) {
  return describe::parse<tier_basis>(name);
}

/** Tiers of every customer and what each tier holds. */
struct tier_result {
  std::vector<std::int32_t> tiers;    ///< 0 = top tier
  std::vector<std::size_t> counts;    ///< customers per tier
  std::vector<double> value_shares;   ///< share of total value per tier
  std::vector<double> lowest_values;  ///< smallest value in each tier (NaN when empty)
};

constexpr auto description(std::type_identity<tier_result>) {
  using s = tier_result;
  return std::tuple{
      describe::field{"tiers", &s::tiers, "0 = top tier"},
      describe::field{"counts", &s::counts, "customers per tier"},
      describe::field{"value_shares", &s::value_shares, "share of total value per tier"},
      describe::field{"lowest_values", &s::lowest_values,
                      "smallest value in each tier (NaN when empty)"}};
}

/**
 * Cuts customers into cuts.size() + 1 tiers.
 *
 * @param cuts strictly increasing cumulative fractions in (0, 1).
 * @throw invalid_input for empty input, a negative or non-finite value (naming the row), a total
 *        value of 0 with basis value_share, or bad cuts.
 */
tier_result value_tiers(std::span<const double> values, std::span<const double> cuts,
                        tier_basis basis);

/** One way of cutting the same values into tiers: value_tiers' `cuts` and `basis`. */
struct tier_split {
  std::vector<double> cuts;
  tier_basis basis = tier_basis::value_share;
};

/**
 * `value_tiers` of the same values for several splits, the values grouped once (by their top 16
 * bits; only the groups where a tier boundary falls are sorted): result k is
 * value_tiers(values, splits[k].cuts, splits[k].basis), bit for bit.
 * @throw invalid_input as `value_tiers`.
 */
std::vector<tier_result> value_tiers(std::span<const double> values,
                                     std::span<const tier_split> splits);

/**
 * `value_tiers` of a histogram: `counts[k]` customers hold `values[k]`, the values strictly
 * decreasing (e.g. per-partition histograms merged on a cluster). `tiers[k]` is the tier of
 * value k; counts, value shares and lowest values are those of `value_tiers` over the customers,
 * bit for bit (`value_tiers` is this on its sorted values).
 * @throw invalid_input as `value_tiers`, for values not strictly decreasing, for a count below 1,
 *        or for mismatched sizes.
 */
tier_result value_tiers_of_histogram(std::span<const double> values,
                                     std::span<const std::int64_t> counts,
                                     std::span<const double> cuts, tier_basis basis);

}  // namespace crmkit::segment
