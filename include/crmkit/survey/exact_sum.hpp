#pragma once

#include "crmkit/core/exact_sum.hpp"

namespace crmkit::survey {

/**
 * Survey weights must be 0 or lie in [min_weight, max_weight] = [2^-40, 2^40] (about 9.1e-13 to
 * 1.1e12). Within these bounds every weighted sum crmkit keeps is exact (see
 * `detail::exact_sum`), so accumulators merged in any order equal a single pass bit for bit.
 */
inline constexpr double min_weight = 0x1.0p-40;
/** Largest accepted survey weight; see `min_weight`. */
inline constexpr double max_weight = 0x1.0p40;

/** True for a weight crmkit accepts: 0, or finite within [min_weight, max_weight]. */
[[nodiscard]] constexpr bool is_valid_weight(double weight) noexcept {
  return weight == 0.0 || (weight >= min_weight && weight <= max_weight);
}

namespace detail {

/** The exact accumulator of every survey sum (crmkit/core/exact_sum.hpp). */
using crmkit::exact_sum;

}  // namespace detail
}  // namespace crmkit::survey
