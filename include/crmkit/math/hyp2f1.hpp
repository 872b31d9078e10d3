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
 * (Abramowitz & Stegun 15.1.1). Convergence bound: the ratio ρ_j = t_{j+1}/t_j is
 * z·(a+j)(b+j)/((c+j)(j+1)). Once a+k, b+k and c+k are positive, its supremum R_k over j ≥ k is
 * found exactly (detail::ratio_bound); when R_k < 1 the tail after term k is at most
 * |t_k|·R_k/(1 − R_k), and the sum stops when that bound is below `tolerance`·|sum|. R_k only
 * falls with k, so it is recomputed each time k doubles. (The bound holds from the first terms
 * even when c is in the tens of thousands, as for BG/NBD fits with a huge b.) The number of terms
 * needed grows like ln(ε)/ln z, so z → 1 is slow: callers compare `predicted_terms` with their
 * budget and switch to another representation when it is too large. `max_terms` caps the work
 * (default 100,000); a series stopped by the cap reports `converged = false`.
 */
namespace crmkit::math {

/** A series sum with its bookkeeping. */
struct series_result {
  double value = 0;        ///< the sum
  double magnitude = 0;    ///< ≥ Σ|term| up to rounding: value's rounding error is about ε·magnitude
  std::size_t terms = 0;   ///< terms added
  bool converged = false;  ///< tail bound met before the cap
};

/** Default cap on the number of series terms. */
inline constexpr std::size_t hyp2f1_default_max_terms = 100'000;

namespace detail {

/**
 * R_k of the convergence bound above: z · sup_{j≥k} h(j), h(j) = (a+j)(b+j) / ((c+j)(j+1)), or +∞
 * before the factors are positive. h tends to 1 and h' vanishes only where
 * (c+1−a−b) j² + 2(c−ab) j + (a+b)c − ab(c+1) = 0, so the supremum is the largest of h(k), 1 and
 * h at those roots beyond k.
 */
inline double ratio_bound(double a, double b, double c, double z, double k) {
  if (!(a + k > 0 && b + k > 0 && c + k > 0)) return std::numeric_limits<double>::infinity();
  const auto h = [&](double j) { return (a + j) * (b + j) / ((c + j) * (j + 1)); };
  double sup = std::max(h(k), 1.0);
  const double quadratic = c + 1 - a - b;
  const double linear = 2 * (c - a * b);
  const double constant = (a + b) * c - a * b * (c + 1);
  const auto consider = [&](double j) {
    if (j > k && std::isfinite(j)) sup = std::max(sup, h(j));
  };
  if (quadratic == 0) {
    if (linear != 0) consider(-constant / linear);
  } else {
    const double discriminant = linear * linear - 4 * quadratic * constant;
    if (discriminant >= 0) {
      const double root = std::sqrt(discriminant);
      consider((-linear + root) / (2 * quadratic));
      consider((-linear - root) / (2 * quadratic));
    }
  }
  return sup * z;
}

/** The first index j ≥ k from which a + j, b + j and c + j are all positive (capped at `cap`). */
inline std::size_t first_positive_factors(double a, double b, double c, std::size_t k,
                                          std::size_t cap) {
  const double from = static_cast<double>(k);
  const auto first = [&](double p) { return p + from > 0 ? from : std::floor(-p) + 1; };
  return static_cast<std::size_t>(
      std::min({std::max({first(a), first(b), first(c)}), static_cast<double>(cap)}));
}

/**
 * The series from term k. Σ|term| is summed only while terms can change sign; from the index
 * where a + j, b + j and c + j are positive (z ≥ 0) every term has the sign of the first, so the
 * rest of Σ|term| is the magnitude of their sum.
 */
inline series_result hypergeometric_tail(double a, double b, double c, double z, std::size_t k,
                                         double term, double tolerance, std::size_t max_terms) {
  series_result result;
  double sum = 0;
  double mixed_sign_sum = 0;
  double mixed_sign_magnitude = 0;
  const std::size_t same_sign_from = first_positive_factors(a, b, c, k, max_terms);
  double bound_ratio = std::numeric_limits<double>::infinity();
  std::size_t refresh_at = k + 1;
  for (; k < max_terms; ++k) {
    sum += term;
    if (k < same_sign_from) {
      mixed_sign_sum += term;
      mixed_sign_magnitude += std::fabs(term);
    }
    const double kd = static_cast<double>(k);
    const double ratio = (a + kd) * (b + kd) / ((c + kd) * (kd + 1)) * z;
    const double next = term * ratio;
    if (next == 0) {
      result.converged = true;
      ++k;
      break;
    }
    if (k + 1 >= refresh_at) {
      bound_ratio = ratio_bound(a, b, c, z, kd + 1);
      refresh_at = 2 * (k + 1);
    }
    if (bound_ratio < 1 && std::fabs(next) <= tolerance * std::fabs(sum) * (1 - bound_ratio)) {
      sum += next;
      k += 2;
      result.converged = true;
      break;
    }
    term = next;
  }
  result.value = sum;
  result.magnitude = mixed_sign_magnitude + std::fabs(sum - mixed_sign_sum);
  result.terms = k;
  return result;
}

}  // namespace detail

/** Terms the series needs for relative accuracy `tolerance` (an estimate, for budgeting). */
inline double hyp2f1_predicted_terms(double a, double b, double c, double z,
                                     double tolerance = std::numeric_limits<double>::epsilon()) {
  if (z <= 0) return 1;
  if (z >= 1) return std::numeric_limits<double>::infinity();
  // Terms until the bound is within (1 + z)/2 (found by doubling k), then decay at the rate z.
  double k = std::max({1.0, std::ceil(-a) + 1, std::ceil(-b) + 1, std::ceil(-c) + 1});
  for (int doubling = 0; !(detail::ratio_bound(a, b, c, z, k) <= 0.5 * (1 + z)); ++doubling) {
    if (doubling == 64) return std::numeric_limits<double>::infinity();
    k *= 2;
  }
  return k + std::log(tolerance * (1 - z)) / std::log(z);
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
