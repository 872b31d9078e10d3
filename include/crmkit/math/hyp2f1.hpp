#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

/**
 * Gauss's hypergeometric function ₂F₁(a, b; c; z) by its power series, for the parameter
 * ranges of the buy-till-you-die models: real a, b; c > 0; 0 ≤ z < 1.
 *
 *   ₂F₁(a, b; c; z) = Σ_{k≥0} t_k,  t_0 = 1,  t_{k+1} = t_k · (a+k)(b+k) / ((c+k)(k+1)) · z
 *
 * (Abramowitz & Stegun 15.1.1). Convergence bound: once the term ratio ρ_k has settled
 * (k > 2(|a|+|b|+|c|) + 2, after which the ratio approaches z monotonically), the tail after
 * term k is bounded by |t_k|·R/(1 − R) with R = max(ρ_k, z) < 1, and the sum stops when that
 * bound is below `tolerance`·|sum|. The number of terms needed grows like ln(ε)/ln z, so
 * z → 1 is slow: callers compare `predicted_terms` with their budget and switch to another
 * representation when it is too large. `max_terms` caps the work (default 100,000); a series
 * stopped by the cap reports `converged = false`.
 */
namespace crmkit::math {

/** A series sum with its bookkeeping. */
struct series_result {
  double value = 0;        ///< the sum
  std::size_t terms = 0;   ///< terms added
  bool converged = false;  ///< tail bound met before the cap
};

/** Default cap on the number of series terms. */
inline constexpr std::size_t hyp2f1_default_max_terms = 100'000;

namespace detail {

inline series_result hypergeometric_tail(double a, double b, double c, double z, std::size_t k,
                                         double term, double tolerance, std::size_t max_terms) {
  series_result result;
  double sum = 0;
  const double settled = 2 * (std::fabs(a) + std::fabs(b) + std::fabs(c)) + 2;
  for (; k < max_terms; ++k) {
    sum += term;
    const double kd = static_cast<double>(k);
    const double ratio = (a + kd) * (b + kd) / ((c + kd) * (kd + 1)) * z;
    const double next = term * ratio;
    if (next == 0) {
      result.converged = true;
      ++k;
      break;
    }
    if (kd > settled) {
      const double bound_ratio = std::max(std::fabs(ratio), z);
      if (bound_ratio < 1 && std::fabs(next) <= tolerance * std::fabs(sum) * (1 - bound_ratio)) {
        sum += next;
        k += 2;
        result.converged = true;
        break;
      }
    }
    term = next;
  }
  result.value = sum;
  result.terms = k;
  return result;
}

}  // namespace detail

/** Terms the series needs for relative accuracy `tolerance` (an estimate, for budgeting). */
inline double hyp2f1_predicted_terms(double a, double b, double c, double z,
                                     double tolerance = std::numeric_limits<double>::epsilon()) {
  const double settled = 2 * (std::fabs(a) + std::fabs(b) + std::fabs(c)) + 2;
  if (z <= 0) return 1;
  if (z >= 1) return std::numeric_limits<double>::infinity();
  return settled + std::log(tolerance * (1 - z)) / std::log(z);
}

/** ₂F₁(a, b; c; z) for c > 0, 0 ≤ z < 1, by the series above. */
inline series_result hyp2f1(double a, double b, double c, double z,
                            double tolerance = std::numeric_limits<double>::epsilon(),
                            std::size_t max_terms = hyp2f1_default_max_terms) {
  return detail::hypergeometric_tail(a, b, c, z, 0, 1.0, tolerance, max_terms);
}

/**
 * (₂F₁(a, b; c; z) − 1)/b, continuous through b = 0 (where it equals
 * Σ_{k≥1} (a)_k (k−1)! / ((c)_k k!) z^k). Its terms are those of ₂F₁ with the factor b removed
 * from every term: u_k = (a)_k (b+1)_{k−1} / ((c)_k k!) z^k, starting from u_1 = a·z/c.
 */
inline series_result hyp2f1_minus_one_over_b(
    double a, double b, double c, double z,
    double tolerance = std::numeric_limits<double>::epsilon(),
    std::size_t max_terms = hyp2f1_default_max_terms) {
  return detail::hypergeometric_tail(a, b, c, z, 1, a * z / c, tolerance, max_terms);
}

}  // namespace crmkit::math
