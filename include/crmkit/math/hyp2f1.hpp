#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>

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

/** sup_{j≥k} h(j) of ratio_bound, and whether a + k, b + k and c + k are positive (when not,
 * `sup` is meaningless and the bound is +∞). It does not depend on z, so evaluations of one
 * (a, b, c) at several z share it. */
struct ratio_supremum {
  bool positive = false;
  double sup = 0;
};

/**
 * The supremum of h(j) = (a+j)(b+j) / ((c+j)(j+1)) over j ≥ k. h tends to 1 and h' vanishes only
 * where (c+1−a−b) j² + 2(c−ab) j + (a+b)c − ab(c+1) = 0, so the supremum is the largest of h(k),
 * 1 and h at those roots beyond k.
 */
inline ratio_supremum ratio_supremum_from(double a, double b, double c, double k) {
  if (!(a + k > 0 && b + k > 0 && c + k > 0)) return {};
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
  return {true, sup};
}

/** R_k = z · sup_{j≥k} h(j) at one z, from its supremum (+∞ before the factors are positive). */
inline double ratio_bound_at(const ratio_supremum& supremum, double z) {
  return supremum.positive ? supremum.sup * z : std::numeric_limits<double>::infinity();
}

/** R_k of the convergence bound above: z · sup_{j≥k} h(j), or +∞ before the factors are
 * positive. */
inline double ratio_bound(double a, double b, double c, double z, double k) {
  return ratio_bound_at(ratio_supremum_from(a, b, c, k), z);
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

/** Lanes evaluated side by side by the batched forms below (larger spans run in blocks). */
inline constexpr std::size_t hyp2f1_lane_block = 16;

namespace detail {

/**
 * hypergeometric_tail of one (a, b, c) at every z[i], from term k with first term
 * first_term(z[i]), into out[i]. The lanes share what does not depend on z — the term ratio
 * h(k) = (a+k)(b+k)/((c+k)(k+1)), the index of same-sign terms and the suprema of the bound —
 * and each lane performs the scalar form's operations on its own z in the same order and
 * stops by the same rule (a finished lane leaves the block), so out[i] is hypergeometric_tail's
 * result bit for bit.
 */
template <class FirstTerm>
void hypergeometric_tail_lanes(double a, double b, double c, std::span<const double> z,
                               std::size_t from, FirstTerm first_term, double tolerance,
                               std::size_t max_terms, std::span<series_result> out) {
  constexpr std::size_t block = hyp2f1_lane_block;
  const std::size_t same_sign_from = first_positive_factors(a, b, c, from, max_terms);
  for (std::size_t start = 0; start < z.size(); start += block) {
    const std::size_t width = std::min(block, z.size() - start);
    std::array<double, block> lane_z, term, sum, mixed_sign_sum, mixed_sign_magnitude, bound;
    std::array<std::size_t, block> lane;
    for (std::size_t j = 0; j < width; ++j) {
      lane[j] = start + j;
      lane_z[j] = z[start + j];
      term[j] = first_term(lane_z[j]);
      sum[j] = mixed_sign_sum[j] = mixed_sign_magnitude[j] = 0;
      bound[j] = std::numeric_limits<double>::infinity();
    }
    const auto finish = [&](std::size_t j, std::size_t terms, bool converged) {
      out[lane[j]] = {sum[j], mixed_sign_magnitude[j] + std::fabs(sum[j] - mixed_sign_sum[j]),
                      terms, converged};
    };
    std::size_t active = width;
    std::size_t refresh_at = from + 1;
    std::size_t k = from;
    for (; k < max_terms && active > 0; ++k) {
      const bool mixed = k < same_sign_from;
      const double kd = static_cast<double>(k);
      const double h = (a + kd) * (b + kd) / ((c + kd) * (kd + 1));
      const bool refresh = k + 1 >= refresh_at;
      ratio_supremum supremum;
      if (refresh) {
        supremum = ratio_supremum_from(a, b, c, kd + 1);
        refresh_at = 2 * (k + 1);
      }
      for (std::size_t j = 0; j < active;) {
        sum[j] += term[j];
        if (mixed) {
          mixed_sign_sum[j] += term[j];
          mixed_sign_magnitude[j] += std::fabs(term[j]);
        }
        const double next = term[j] * (h * lane_z[j]);
        std::size_t terms = 0;
        if (next == 0) {
          terms = k + 1;
        } else {
          if (refresh) bound[j] = ratio_bound_at(supremum, lane_z[j]);
          if (bound[j] < 1 &&
              std::fabs(next) <= tolerance * std::fabs(sum[j]) * (1 - bound[j])) {
            sum[j] += next;
            terms = k + 2;
          }
        }
        if (terms == 0) {
          term[j] = next;
          ++j;
          continue;
        }
        finish(j, terms, true);
        --active;
        lane[j] = lane[active];
        lane_z[j] = lane_z[active];
        term[j] = term[active];
        sum[j] = sum[active];
        mixed_sign_sum[j] = mixed_sign_sum[active];
        mixed_sign_magnitude[j] = mixed_sign_magnitude[active];
        bound[j] = bound[active];
      }
    }
    for (std::size_t j = 0; j < active; ++j) finish(j, k, false);
  }
}

}  // namespace detail

namespace detail {

/** The suprema of the bound at k₀, 2k₀, 4k₀, … (hyp2f1_predicted_terms' doubling), found as
 * evaluations at several z first need them. */
class doubling_suprema {
 public:
  doubling_suprema(double a, double b, double c)
      : a_(a), b_(b), c_(c),
        first_(std::max({1.0, std::ceil(-a) + 1, std::ceil(-b) + 1, std::ceil(-c) + 1})) {}

  /** hyp2f1_predicted_terms' k at z ∈ (0, 1) into k; false where it gives up (+∞ terms). */
  bool start(double z, double& k) {
    k = first_;
    for (std::size_t doubling = 0;; ++doubling) {
      if (doubling == known_) suprema_[known_++] = ratio_supremum_from(a_, b_, c_, k);
      if (ratio_bound_at(suprema_[doubling], z) <= 0.5 * (1 + z)) return true;
      if (doubling == most_doublings) return false;
      k *= 2;
    }
  }

 private:
  static constexpr std::size_t most_doublings = 64;
  double a_, b_, c_, first_;
  std::array<ratio_supremum, most_doublings + 1> suprema_;
  std::size_t known_ = 0;
};

}  // namespace detail

/**
 * hyp2f1_predicted_terms of one (a, b, c) at every z[i] into out[i], bit for bit: the suprema
 * of the bound at k, 2k, 4k, … are found once for all z.
 */
inline void hyp2f1_predicted_terms_lanes(
    double a, double b, double c, std::span<const double> z, std::span<double> out,
    double tolerance = std::numeric_limits<double>::epsilon()) {
  detail::doubling_suprema suprema(a, b, c);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double zi = z[i];
    double k = 0;
    if (zi <= 0) {
      out[i] = 1;
    } else if (zi >= 1 || !suprema.start(zi, k)) {
      out[i] = std::numeric_limits<double>::infinity();
    } else {
      out[i] = k + std::log(tolerance * (1 - zi)) / std::log(zi);
    }
  }
}

/**
 * Whether hyp2f1_predicted_terms(a, b, c, z[i], tolerance) ≤ budget, into within[i], for every
 * i: the same decision, with the suprema shared as above and the logarithms only near the
 * budget. With y = 1 − z and L = ln(1/tolerance) ≥ 0 the estimate's last part
 * ln(tolerance·y)/ln z = (L + ln(1/y))/ln(1/z) is at most (L + z/y)/y (ln(1/y) ≤ 1/y − 1,
 * ln(1/z) ≥ 1 − z), so k + 2(L + z/y)/y + 1 ≤ budget settles it without them.
 */
inline void hyp2f1_within_budget_lanes(
    double a, double b, double c, std::span<const double> z, double budget,
    std::span<bool> within, double tolerance = std::numeric_limits<double>::epsilon()) {
  detail::doubling_suprema suprema(a, b, c);
  const double inverse_log = -std::log(tolerance);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double zi = z[i];
    double k = 0;
    if (zi <= 0) {
      within[i] = !(1 > budget);
    } else if (zi >= 1 || !suprema.start(zi, k)) {
      within[i] = !(std::numeric_limits<double>::infinity() > budget);
    } else {
      const double y = 1 - zi;
      within[i] = (inverse_log >= 0 && k + 2 * (inverse_log + zi / y) / y + 1 <= budget) ||
                  !(k + std::log(tolerance * (1 - zi)) / std::log(zi) > budget);
    }
  }
}

/** hyp2f1_minus_one_over_b of one (a, b, c) at every z[i] into out[i], bit for bit, the
 * evaluations side by side (detail::hypergeometric_tail_lanes). */
inline void hyp2f1_minus_one_over_b_lanes(
    double a, double b, double c, std::span<const double> z, std::span<series_result> out,
    double tolerance = std::numeric_limits<double>::epsilon(),
    std::size_t max_terms = hyp2f1_default_max_terms) {
  detail::hypergeometric_tail_lanes(
      a, b, c, z, 1, [&](double zi) { return a * zi / c; }, tolerance, max_terms, out);
}

}  // namespace crmkit::math
