#pragma once

#include <boost/math/distributions/normal.hpp>

#include "crmkit/core/check.hpp"

namespace crmkit::math {

/** The standard normal quantile Φ⁻¹(p) for 0 < p < 1 (Boost.Math, full double precision). */
inline double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) check::fail("normal_quantile", fmt::format("p = {} must be in (0, 1)", p));
  return boost::math::quantile(boost::math::normal_distribution<double>(), p);
}

/** z such that a two-sided interval ±z·se has coverage `level` (1.959963984540054 at 0.95). */
inline double two_sided_critical_value(double level) {
  return normal_quantile(0.5 + 0.5 * level);
}

}  // namespace crmkit::math
