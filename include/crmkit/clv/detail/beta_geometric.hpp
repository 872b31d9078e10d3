#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <boost/math/special_functions/beta.hpp>

#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/math/hyp2f1.hpp"
#include "crmkit/math/quadrature.hpp"
#include "crmkit/math/special.hpp"
#include "crmkit/math/vector_exp_log.hpp"

/**
 * The computations BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam et al. 2007) share.
 * They differ only in whether a customer can drop out at time 0: `Offset` = 0 for BG/NBD (drop
 * out only after a repeat purchase) and 1 for MBG/NBD (also right after the first purchase).
 * With B_x = b + x + Offset − 1 and ν = r + x:
 *
 *   ℓ = lnΓ(r+x) − lnΓ(r) + ln B(a, b+x+Offset) − ln B(a, b) + r ln α − ν ln(α+T)
 *       + 1[x+Offset > 0] · log1pexp(s),    s = ln a − ln B_x + ν ln((α+T)/(α+t_x)),
 *
 * which is lifetimes' and pymc-marketing's logaddexp form rearranged so that no term can
 * overflow; P(alive) = expit(−s). Conditional on being alive the customer's purchase rate is
 * Gamma(ν, α+T) and the dropout probability p ~ Beta(a, β), β = b + x + Offset, so with
 * τ = t/(α+T), z = τ/(1+τ), λ = ln(1+τ) = −ln(1−z) and C = a + β − 1 the expected purchases in
 * (T, T+t] are, in three equal forms,
 *
 *   (Q)  E[Y(t) | alive] = E_p[h(p)],  h(p) = (1 − (1 + pτ)^{−ν})/p   (h(0) = ντ)
 *   (O)                  = C/(a−1) · [1 − (1−z)^ν ₂F₁(ν, β; C; z)]
 *   (E)                  = C/(a−1) · [1 − (1−z)^{a−1} ₂F₁(C−ν, a−1; C; z)].
 *
 * (O) is FHL 2005 eq. (10) (Batislam et al. 2007 for MBG/NBD); (E) is its Euler transformation
 * (CLV-NOTES §2), whose upper parameters do not grow with x. Neither is evaluated as written:
 * with ₂F₁ = 1 + u·S, u its second upper parameter and S = math::hyp2f1_minus_one_over_b,
 *
 *   (E)  C · [−expm1(−ελ)/ε − S·e^{−ελ}],  ε = a − 1   (exact through the removable a = 1),
 *   (O)  C/(a−1) · [−expm1(−νλ) − β·S·e^{−νλ}],
 *
 * so that 1 − (…) never cancels by itself. A series form is used only when it is well
 * conditioned: it converged within `series_term_budget` terms and (first + Σ|terms of the
 * second|)/|difference| ≤ `cancellation_limit` (at most ~4.5 of 16 digits lost). (E) is tried first
 * when p is mostly small (a − 1 ≤ β), (O) first when p is mostly near 1: as a → ∞ with b fixed
 * (E)'s terms grow like (εz)^k/k! and overflow, while (O)'s fall like (β/C)^k. Where neither
 * holds — z → 1 (t ≫ α+T), or both a and b huge, where each form cancels to C/(a−1) times a
 * difference of nearly equal numbers — (Q) is integrated in the logit y = ln(p/(1−p)), where
 * the Beta density p^a (1−p)^β dy/B(a, β) is log-concave with its mode at y₀ = ln(a/β) (see
 * alive_purchases_by_quadrature_beta). Its integrand is positive, so the relative accuracy does not
 * depend on the parameters; it is the slowest path (about 10 µs).
 */
namespace crmkit::clv::detail {

/**
 * Series terms allowed before a series form is abandoned: 20,000 terms cost about as much as
 * the quadrature.
 */
inline constexpr double series_term_budget = 20000;

/** Largest (first + |second|)/|first − second| accepted from a series form (see above). */
inline constexpr double cancellation_limit = 3e4;

/**
 * ln(q₀ + p₀e^d) = ln((1 + e^{y₀+d})/(1 + e^{y₀})) for p₀ = expit(y₀), q₀ = 1 − p₀: the change of
 * softplus(y) = ln(1 + e^y) from y₀ to y₀ + d, accurate when the two nearly cancel (log1p form),
 * when q₀ + p₀e^d is small (direct form) and when e^d would overflow (d + ln(p₀ + q₀e^{−d})).
 */
inline double softplus_change(double p0, double q0, double d) {
  const double change = p0 * std::expm1(d);
  if (change > 1) return d + std::log(p0 + q0 * std::exp(-d));
  return change > -0.5 ? std::log1p(change) : std::log(q0 + p0 * std::exp(d));
}

/**
 * (Q) by tanh-sinh quadrature (math/quadrature.hpp, relative tolerance 1e-12) in the logit
 * y = y₀ + s of p: with ln p = −softplus(−y) and ln(1−p) = −softplus(y) the density relative to
 * its mode is exp(−a·Δsoftplus(−y) − β·Δsoftplus(y)) (softplus_change: no O(a) or O(β) terms
 * cancel, which matters for a, b ~ 1e8). Each side of the mode, s = ±σ·v/(1−v) with v ∈ (0, 1)
 * maps the half-line to the unit interval; σ, found by doubling or halving from the width at the
 * mode (1/a + 1/β)^{1/2}, is where the density has fallen by e, so both a narrow Gaussian core
 * (a, b ~ 1e8) and plateaus and tails as long as 1/a (a → 0) fall in the rule's range.
 * The same rule applied to the density alone gives the normaliser: B(a, β) is never formed, and
 * the rule's error largely cancels in the ratio. Where pτ < 1e-200 (subnormal products when
 * a → 0 puts mass at p ≈ e^{−1000}) h is taken as ντ, exact to 1e-190·ν.
 */
inline double alive_purchases_by_quadrature_beta(double nu, double a, double beta, double tau) {
  const double mode = std::log(a) - std::log(beta);
  const double p0 = math::expit(mode);
  const double q0 = math::expit(-mode);
  auto log_density = [&](double s) {
    return -a * softplus_change(q0, p0, -s) - beta * softplus_change(p0, q0, s);
  };
  auto purchases = [&](double p) {
    return p * tau > 1e-200 ? -std::expm1(-nu * std::log1p(p * tau)) / p : nu * tau;
  };
  auto expectation = [&](auto&& weighted) {
    auto side = [&](double sign) {
      double width = std::sqrt(1 / a + 1 / beta);
      for (int step = 0; step < 200 && log_density(sign * width) > -1; ++step) width *= 2;
      for (int step = 0; step < 200 && log_density(sign * width / 2) < -1; ++step) width /= 2;
      return math::tanh_sinh(
          [&](double v) {
            const double s = sign * width * v / (1 - v);
            const double density = std::exp(log_density(s));
            if (!(density > 0)) return 0.0;
            return density * width / ((1 - v) * (1 - v)) * weighted(math::expit(mode + s));
          },
          0.0, 1.0);
    };
    return side(-1) + side(1);
  };
  const double value = expectation(purchases) / expectation([](double) { return 1.0; });
  // A density narrower than the rule resolves (a, β ~ 1e70 and up: sd of the logit
  // (1/a + 1/β)^{1/2} < 1e-15) is a point mass at p = a/(a + β) to far below double precision.
  if (!std::isfinite(value) && 1 / a + 1 / beta < 1e-30) return purchases(p0);
  return value;
}

/** (Q) for C = a + β − 1 (the parametrisation of the ₂F₁ forms). */
inline double alive_purchases_by_quadrature(double nu, double a, double c, double tau) {
  return alive_purchases_by_quadrature_beta(nu, a, c - a + 1, tau);
}

/** A series form's value and whether it is accurate (see the namespace documentation). */
struct series_form {
  double value = 0;
  bool accepted = false;
};

/** factor·(first − second) with |second| ≤ second_magnitude, accepted if well conditioned
 * (the expectation is positive; the factor and difference are both negative when a < 1). */
inline series_form conditioned_difference(double factor, double first, double second,
                                          double second_magnitude) {
  const double difference = first - second;
  const double value = factor * difference;
  const bool accepted = std::isfinite(value) && std::isfinite(second_magnitude) && value > 0 &&
                        std::fabs(first) + second_magnitude <=
                            cancellation_limit * std::fabs(difference);
  return {value, accepted};
}

/** Form (E) from its series S = hyp2f1_minus_one_over_b(C − ν, a − 1; C; z), λ = ln(1 + τ). */
inline series_form euler_from_series(double a, double c, double lambda,
                                     const math::series_result& s) {
  if (!s.converged) return {};
  const double eps = a - 1;
  const double weight = std::exp(-eps * lambda);
  return conditioned_difference(c, -math::expm1_quotient(eps, -lambda), s.value * weight,
                                s.magnitude * weight);
}

/** Form (O) from its series S = hyp2f1_minus_one_over_b(ν, β; C; z), λ = ln(1 + τ). */
inline series_form original_from_series(double nu, double a, double beta, double c,
                                        double lambda, const math::series_result& s) {
  if (!s.converged) return {};
  const double weight = beta * std::exp(-nu * lambda);
  return conditioned_difference(c / (a - 1), -std::expm1(-nu * lambda), s.value * weight,
                                s.magnitude * weight);
}

/** Form (E), FHL eq. (10) after Euler's transformation. */
inline series_form alive_purchases_euler(double nu, double a, double c, double z, double lambda) {
  const double eps = a - 1;
  const double upper = c - nu;
  if (math::hyp2f1_predicted_terms(upper, eps, c, z) > series_term_budget) return {};
  return euler_from_series(a, c, lambda, math::hyp2f1_minus_one_over_b(upper, eps, c, z));
}

/** Form (O), FHL eq. (10) as published. */
inline series_form alive_purchases_original(double nu, double a, double beta, double c, double z,
                                            double lambda) {
  if (a == 1 || math::hyp2f1_predicted_terms(nu, beta, c, z) > series_term_budget) return {};
  return original_from_series(nu, a, beta, c, lambda,
                              math::hyp2f1_minus_one_over_b(nu, beta, c, z));
}

/** Whether form (O) is tried first: p mostly near 1 (see the namespace documentation). */
inline bool original_form_first(double a, double beta) { return a - 1 > beta; }

/** E[Y(t) | alive] for shape ν, dropout p ~ Beta(a, β) and τ = t/(α+T); see above. */
inline double alive_purchases_beta(double nu, double a, double beta, double tau) {
  if (!(tau > 0)) return 0;
  const double z = tau / (1 + tau);
  const double lambda = std::log1p(tau);
  const double c = a + beta - 1;
  const bool mostly_near_one = original_form_first(a, beta);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto form = (attempt == 0) == mostly_near_one
                          ? alive_purchases_original(nu, a, beta, c, z, lambda)
                          : alive_purchases_euler(nu, a, c, z, lambda);
    if (form.accepted) return form.value;
  }
  return alive_purchases_by_quadrature_beta(nu, a, beta, tau);
}

/** z = τ/(1 + τ) and λ = ln(1 + τ) of alive_purchases_beta for every τ > 0 (others: left). */
inline void horizon_variables(std::span<const double> tau, std::span<double> z,
                              std::span<double> lambda) {
  for (std::size_t i = 0; i < tau.size(); ++i) {
    if (!(tau[i] > 0)) continue;
    z[i] = tau[i] / (1 + tau[i]);
    lambda[i] = std::log1p(tau[i]);
  }
}

/**
 * alive_purchases_beta(ν, a, β, tau[i]) into out[i] for every i, bit for bit, given z and λ of
 * every τ (horizon_variables, shared by the parameter points with one α), with the evaluations
 * of one form side by side: the ₂F₁ series of every τ share (a, b, c)
 * (math::hyp2f1_minus_one_over_b_lanes, math::hyp2f1_within_budget_lanes). Each τ goes through
 * the scalar form's steps — the same form order, budget, acceptance test and quadrature
 * fallback — in blocks of math::hyp2f1_lane_block.
 */
inline void alive_purchases_beta_lanes(double nu, double a, double beta,
                                       std::span<const double> tau, std::span<const double> z,
                                       std::span<const double> lambda, std::span<double> out) {
  constexpr std::size_t block = math::hyp2f1_lane_block;
  const double c = a + beta - 1;
  const bool mostly_near_one = original_form_first(a, beta);
  for (std::size_t start = 0; start < tau.size(); start += block) {
    const std::size_t width = std::min(block, tau.size() - start);
    std::array<double, block> lane_z;
    std::array<bool, block> within;
    std::array<std::size_t, block> pending, series_lanes;
    std::array<math::series_result, block> series;
    std::size_t count = 0;
    for (std::size_t j = start; j < start + width; ++j) {
      out[j] = 0;
      if (tau[j] > 0) pending[count++] = j;
    }
    for (int attempt = 0; attempt < 2 && count > 0; ++attempt) {
      const bool original = (attempt == 0) == mostly_near_one;
      if (original && a == 1) continue;
      const double upper = original ? nu : c - nu;
      const double lower = original ? beta : a - 1;
      for (std::size_t m = 0; m < count; ++m) lane_z[m] = z[pending[m]];
      math::hyp2f1_within_budget_lanes(upper, lower, c, {lane_z.data(), count},
                                       series_term_budget, {within.data(), count});
      std::size_t tried = 0;
      for (std::size_t m = 0; m < count; ++m) {
        if (!within[m]) continue;
        series_lanes[tried] = pending[m];
        lane_z[tried++] = z[pending[m]];
      }
      math::hyp2f1_minus_one_over_b_lanes(upper, lower, c, {lane_z.data(), tried},
                                          {series.data(), tried});
      std::size_t next = 0, m = 0;
      for (std::size_t q = 0; q < count; ++q) {
        const std::size_t j = pending[q];
        series_form form;
        if (m < tried && series_lanes[m] == j) {
          form = original ? original_from_series(nu, a, beta, c, lambda[j], series[m])
                          : euler_from_series(a, c, lambda[j], series[m]);
          ++m;
        }
        if (form.accepted) {
          out[j] = form.value;
        } else {
          pending[next++] = j;
        }
      }
      count = next;
    }
    for (std::size_t m = 0; m < count; ++m) {
      out[pending[m]] = alive_purchases_by_quadrature_beta(nu, a, beta, tau[pending[m]]);
    }
  }
}

/** alive_purchases_beta(ν, a, β, tau[i]) into out[i] for every i (the form above). */
inline void alive_purchases_beta_lanes(double nu, double a, double beta,
                                       std::span<const double> tau, std::span<double> out) {
  constexpr std::size_t block = math::hyp2f1_lane_block;
  std::array<double, block> z, lambda;
  for (std::size_t start = 0; start < tau.size(); start += block) {
    const std::size_t width = std::min(block, tau.size() - start);
    const auto part = tau.subspan(start, width);
    horizon_variables(part, {z.data(), width}, {lambda.data(), width});
    alive_purchases_beta_lanes(nu, a, beta, part, {z.data(), width}, {lambda.data(), width},
                               out.subspan(start, width));
  }
}

/** alive_purchases_beta for C = a + β − 1. */
inline double alive_purchases(double nu, double a, double c, double tau) {
  return alive_purchases_beta(nu, a, c - a + 1, tau);
}

template <int Offset>
struct beta_geometric {
  /** Whether a customer with x repeat purchases can already have dropped out. */
  static bool can_be_dead(double x) noexcept { return x + Offset > 0; }

  /** ln a − ln B_x, the part of s that depends on x alone (requires can_be_dead(x)). */
  template <class P>
  static double log_dead_odds_base(const P& p, double x) {
    return std::log(p.a) - std::log(p.b + (x + Offset - 1));
  }

  /** s, the log-odds of having dropped out, from base = log_dead_odds_base(p, x). */
  template <class P>
  static double log_dead_odds_from_base(const P& p, double base, double x, double t_x,
                                        double age) {
    const double rho = std::log1p((age - t_x) / (p.alpha + t_x));
    return base + (p.r + x) * rho;
  }

  /** probability_alive from base = log_dead_odds_base(p, x) (any base when x cannot be dead):
   * the same value, with the logarithms of the base computed once per frequency. */
  template <class P>
  static double probability_alive_from_base(const P& p, double base, double x, double t_x,
                                            double age) {
    return can_be_dead(x) ? math::expit(-log_dead_odds_from_base(p, base, x, t_x, age)) : 1.0;
  }

  template <class P>
  static double probability_alive(const P& p, double x, double t_x, double age) {
    return probability_alive_from_base(p, can_be_dead(x) ? log_dead_odds_base(p, x) : 0.0, x, t_x,
                                       age);
  }

  /**
   * probability_alive of every row (x[i], t_x[i], T[i]) into out[i], the same formula with its
   * ln, log1p and expit evaluated a block of rows at a time by math/vector_exp_log.hpp (within
   * 1 ulp of the C library's, so out agrees with probability_alive to a relative
   * 4ε·(2 + |ln(b + x + Offset − 1)| + |(r + x)·ln(1 + (T − t_x)/(α + t_x))|): the rounding of the
   * log-odds s). Only the rows that can be dead go through the functions (gathered, then
   * scattered back; the others are 1, as the formula gives), and ln(b + x + Offset − 1) of the
   * frequencies below `tabled_frequencies` is computed once per call. Any row is accepted;
   * invalid ones give what the formula gives.
   */
  template <class P>
  static void probability_alive_rows(const P& p, std::span<const double> x,
                                     std::span<const double> t_x, std::span<const double> age,
                                     std::span<double> out) {
    constexpr std::size_t block = 512;
    constexpr std::size_t tabled_frequencies = 64;
    std::array<std::uint32_t, block> dead_possible, untabled;
    std::array<double, block> rate_term, minus_log_odds, shape, untabled_odds;
    std::array<double, tabled_frequencies> log_shifted_b;
    for (std::size_t k = 0; k < tabled_frequencies; ++k)
      log_shifted_b[k] = p.b + (static_cast<double>(k) + Offset - 1);
    math::log_elementwise(log_shifted_b, log_shifted_b);
    const double log_a = std::log(p.a);
    // Distinct buffers (__restrict): the compiler vectorises the loops without a check.
    double* __restrict rate = rate_term.data();
    double* __restrict odds = minus_log_odds.data();
    double* __restrict nu = shape.data();
    for (std::size_t start = 0; start < x.size(); start += block) {
      const std::size_t size = std::min(block, x.size() - start);
      const double* __restrict frequency = x.data() + start;
      const double* __restrict last = t_x.data() + start;
      const double* __restrict customer_age = age.data() + start;
      double* __restrict alive = out.data() + start;
      std::size_t count = 0;
      for (std::size_t i = 0; i < size; ++i) {
        dead_possible[count] = static_cast<std::uint32_t>(i);
        count += can_be_dead(frequency[i]) ? 1 : 0;
        alive[i] = 1;
      }
      std::size_t misses = 0;
      for (std::size_t j = 0; j < count; ++j) {
        const std::size_t i = dead_possible[j];
        const double k = frequency[i];
        const bool tabled = k >= 0 && k < tabled_frequencies && is_whole(k);
        rate[j] = (customer_age[i] - last[i]) / (p.alpha + last[i]);
        odds[j] = tabled ? log_shifted_b[tabled ? static_cast<std::size_t>(k) : 0]
                         : p.b + (k + Offset - 1);
        nu[j] = p.r + k;
        untabled[misses] = static_cast<std::uint32_t>(j);
        misses += tabled ? 0 : 1;
      }
      if (misses > 0) {
        for (std::size_t m = 0; m < misses; ++m) untabled_odds[m] = odds[untabled[m]];
        math::log_elementwise({untabled_odds.data(), misses}, {untabled_odds.data(), misses});
        for (std::size_t m = 0; m < misses; ++m) odds[untabled[m]] = untabled_odds[m];
      }
      math::log1p_elementwise({rate, count}, {rate, count});
      for (std::size_t j = 0; j < count; ++j) odds[j] = -((log_a - odds[j]) + nu[j] * rate[j]);
      math::expit_elementwise({odds, count}, {odds, count});
      for (std::size_t j = 0; j < count; ++j) alive[dead_possible[j]] = odds[j];
    }
  }

  /** ρ = ln(1 + (T − t_x)/(α + t_x)) of every row, the part of s that depends on the history
   * and α (vectorised log1p, math/vector_exp_log.hpp), for probability_alive_from_ratio_rows. */
  template <class P>
  static void log_age_ratio_rows(const P& p, std::span<const double> t_x,
                                 std::span<const double> age, std::span<double> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = (age[i] - t_x[i]) / (p.alpha + t_x[i]);
    math::log1p_elementwise(out, out);
  }

  /** probability_alive of every row, expit(−(base + (r + x)·ρ)), from ρ (log_age_ratio_rows at
   * p's α, so rows of parameter points with one α share it) and `bases` (log_dead_odds_base by
   * whole frequency, detail::dead_odds_bases): vectorised expit, 1 where x cannot be dead. */
  template <class P>
  static void probability_alive_from_ratio_rows(const P& p, std::span<const double> bases,
                                                std::span<const double> x,
                                                std::span<const double> rho,
                                                std::span<double> out) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i] = -(bases[static_cast<std::size_t>(x[i])] + (p.r + x[i]) * rho[i]);
    }
    math::expit_elementwise(out, out);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = can_be_dead(x[i]) ? out[i] : 1.0;
  }

  /** α + T: E[Y(t) | alive, x, T] depends on t and T only through τ = t/(α + T). */
  template <class P>
  static double purchase_time_scale(const P& p, double age) {
    return p.alpha + age;
  }

  /** E[Y(t) | alive, x, T] at τ = t/(α + T). */
  template <class P>
  static double alive_purchases_at(const P& p, double x, double tau) {
    return alive_purchases_beta(p.r + x, p.a, p.b + x + Offset, tau);
  }

  /** E[Y(t) | alive, x, T]: the expected purchases without P(alive), free of t_x. */
  template <class P>
  static double alive_purchases(const P& p, double t, double x, double age) {
    return alive_purchases_at(p, x, t / purchase_time_scale(p, age));
  }

  /** alive_purchases(p, t[k], x, T) into out[k] for every horizon, bit for bit, the horizons'
   * ₂F₁ series side by side (alive_purchases_beta_lanes). */
  template <class P>
  static void alive_purchases_lanes(const P& p, std::span<const double> t, double x, double age,
                                    std::span<double> out) {
    constexpr std::size_t block = math::hyp2f1_lane_block;
    const double scale = purchase_time_scale(p, age);
    std::array<double, block> tau;
    for (std::size_t start = 0; start < t.size(); start += block) {
      const std::size_t width = std::min(block, t.size() - start);
      for (std::size_t k = 0; k < width; ++k) tau[k] = t[start + k] / scale;
      alive_purchases_beta_lanes(p.r + x, p.a, p.b + x + Offset, {tau.data(), width},
                                 out.subspan(start, width));
    }
  }

  /** τ = t[k]/(α + T) and its z, λ (horizon_variables) into tau, z, lambda: what
   * alive_purchases_at_lanes needs, shared by the parameter points with one α. */
  template <class P>
  static void horizon_lanes(const P& p, std::span<const double> t, double age,
                            std::span<double> tau, std::span<double> z, std::span<double> lambda) {
    const double scale = purchase_time_scale(p, age);
    for (std::size_t k = 0; k < t.size(); ++k) tau[k] = t[k] / scale;
    horizon_variables(tau, z, lambda);
  }

  /** alive_purchases_lanes from horizon_lanes' τ, z and λ (of a point with p's α). */
  template <class P>
  static void alive_purchases_at_lanes(const P& p, double x, std::span<const double> tau,
                                       std::span<const double> z, std::span<const double> lambda,
                                       std::span<double> out) {
    alive_purchases_beta_lanes(p.r + x, p.a, p.b + x + Offset, tau, z, lambda, out);
  }

  template <class P>
  static double conditional_expected(const P& p, double t, double x, double t_x, double age) {
    const double alive = probability_alive(p, x, t_x, age);
    if (alive == 0) return 0;
    return alive * alive_purchases(p, t, x, age);
  }

  template <class P>
  static double expected_new(const P& p, double t) {
    return conditional_expected(p, t, 0, 0, 0);
  }

  /**
   * P(X(t) = n) = B(a, b+n+Offset)/B(a,b) · NB(n; r, α/(α+t))
   *             + 1[n+Offset > 0] · B(a+1, b+n+Offset−1)/B(a,b) · I_{t/(α+t)}(n, r),
   * FHL 2005 eq. (8) (BG) and Batislam et al. 2007 (MBG), with the negative-binomial tail
   * 1 − (α/(α+t))^r Σ_{j<n} … written as the regularized incomplete beta I (I = 1 at n = 0).
   * The Beta-function ratios are Γ-function ratios, B(a, b+k)/B(a, b) = (b)_k/(a+b)_k and
   * B(a+1, b+k−1)/B(a, b) = a·(b)_{k−1}/(a+b)_k, each from math::log_gamma_ratio, exact for
   * a, b up to 1e8 where differences of log-gammas lose 1e-8.
   */
  template <class P>
  static double pmf(const P& p, double t, double n) {
    if (!(t > 0)) return n == 0 ? 1.0 : 0.0;
    const double log_q = -std::log1p(t / p.alpha);
    const double log_1mq = std::log(t / (p.alpha + t));
    const double log_nb = math::log_gamma_ratio(p.r, n) - math::lgamma(n + 1) + p.r * log_q +
                          (n > 0 ? n * log_1mq : 0.0);
    const double log_gamma_ab = math::log_gamma_ratio(p.a + p.b, n + Offset);
    double probability =
        std::exp(math::log_gamma_ratio(p.b, n + Offset) - log_gamma_ab + log_nb);
    if (n + Offset > 0) {
      double tail = 1;
      if (n > 0) {
        tail = t <= p.alpha ? math::ibeta(n, p.r, t / (p.alpha + t))
                            : boost::math::ibetac(p.r, n, p.alpha / (p.alpha + t),
                                                  math::detail::quiet_policy());
      }
      probability +=
          std::exp(std::log(p.a) + math::log_gamma_ratio(p.b, n + Offset - 1) - log_gamma_ab) *
          tail;
    }
    return probability;
  }

  /** Adds Σ w·ℓ and its derivatives in (r, α, a, b) over rows sorted by x (see fit.hpp). */
  template <bool WithHessian, class P>
  static void accumulate(const P& p, std::span<const pattern> rows,
                         log_likelihood_derivatives<4>& out) {
    const double r = p.r;
    const double alpha = p.alpha;
    const double a = p.a;
    const double b = p.b;
    const double log_alpha = std::log(alpha);
    const double log_beta_ab = math::log_beta(a, b);
    const double psi_r = math::digamma(r);
    const double psi_ab = math::digamma(a + b);
    const double psi_b = math::digamma(b);
    const double tri_r = WithHessian ? math::trigamma(r) : 0.0;
    const double tri_ab = WithHessian ? math::trigamma(a + b) : 0.0;
    const double tri_b = WithHessian ? math::trigamma(b) : 0.0;

    double x = std::numeric_limits<double>::quiet_NaN();
    double g = 0, g_r = 0, g_a = 0, g_b = 0, g_rr = 0, g_aa = 0, g_bb = 0;
    double nu = 0, b_x = 0, log_odds_base = 0;
    bool dead_possible = false;
    double value = 0, d_r = 0, d_alpha = 0, d_a = 0, d_b = 0;
    // Hessian entries: rr, r·alpha, ra, rb, alpha·alpha, alpha·a, alpha·b, aa, ab, bb.
    double h[10] = {};

    for (const auto& row : rows) {
      if (row.x != x) {
        x = row.x;
        const double shifted_b = b + x + Offset;
        nu = r + x;
        g = math::lgamma(nu) - math::lgamma(r) + math::log_beta(a, shifted_b) - log_beta_ab;
        g_r = math::digamma(nu) - psi_r;
        g_a = psi_ab - math::digamma(a + shifted_b);
        g_b = math::digamma(shifted_b) - math::digamma(a + shifted_b) - psi_b + psi_ab;
        if constexpr (WithHessian) {
          g_rr = math::trigamma(nu) - tri_r;
          g_aa = tri_ab - math::trigamma(a + shifted_b);
          g_bb = math::trigamma(shifted_b) - math::trigamma(a + shifted_b) - tri_b + tri_ab;
        }
        dead_possible = can_be_dead(x);
        b_x = b + (x + Offset - 1);
        log_odds_base = dead_possible ? std::log(a) - std::log(b_x) : 0.0;
      }
      const double w = row.weight;
      const double t_x = row.u;
      const double age = row.v;
      const double inv_age = 1 / (alpha + age);
      const double log_age = std::log(alpha + age);
      value += w * (g + r * log_alpha - nu * log_age);
      d_r += w * (g_r + log_alpha - log_age);
      d_alpha += w * (r / alpha - nu * inv_age);
      d_a += w * g_a;
      d_b += w * g_b;
      if constexpr (WithHessian) {
        h[0] += w * g_rr;
        h[1] += w * (1 / alpha - inv_age);
        h[4] += w * (-r / (alpha * alpha) + nu * inv_age * inv_age);
        h[7] += w * g_aa;
        h[8] += w * g_aa;
        h[9] += w * g_bb;
      }
      if (!dead_possible) continue;
      const double inv_tx = 1 / (alpha + t_x);
      const double rho = std::log1p((age - t_x) * inv_tx);
      const double s = log_odds_base + nu * rho;
      const double e = std::exp(-std::fabs(s));
      const double softplus = std::max(s, 0.0) + std::log1p(e);
      const double inverse = 1 / (1 + e);
      const double sigma = s >= 0 ? inverse : e * inverse;
      const double d = inv_age - inv_tx;
      value += w * softplus;
      d_r += w * sigma * rho;
      d_alpha += w * sigma * nu * d;
      d_a += w * sigma / a;
      d_b -= w * sigma / b_x;
      if constexpr (WithHessian) {
        const double kappa = w * e * inverse * inverse;
        const double ws = w * sigma;
        const double s_r = rho;
        const double s_alpha = nu * d;
        const double s_a = 1 / a;
        const double s_b = -1 / b_x;
        h[0] += kappa * s_r * s_r;
        h[1] += kappa * s_r * s_alpha + ws * d;
        h[2] += kappa * s_r * s_a;
        h[3] += kappa * s_r * s_b;
        h[4] += kappa * s_alpha * s_alpha + ws * nu * (inv_tx * inv_tx - inv_age * inv_age);
        h[5] += kappa * s_alpha * s_a;
        h[6] += kappa * s_alpha * s_b;
        h[7] += kappa * s_a * s_a - ws * s_a * s_a;
        h[8] += kappa * s_a * s_b;
        h[9] += kappa * s_b * s_b + ws * s_b * s_b;
      }
    }
    out.value += value;
    out.gradient[0] += d_r;
    out.gradient[1] += d_alpha;
    out.gradient[2] += d_a;
    out.gradient[3] += d_b;
    if constexpr (WithHessian) {
      constexpr int index[4][4] = {{0, 1, 2, 3}, {1, 4, 5, 6}, {2, 5, 7, 8}, {3, 6, 8, 9}};
      for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j)
          out.hessian[static_cast<std::size_t>(i * 4 + j)] += h[index[i][j]];
      }
    }
  }

  static void check_fit_data(std::string_view function, std::span<const pattern> rows) {
    const bool any_repeat =
        std::any_of(rows.begin(), rows.end(), [](const pattern& row) { return row.x > 0; });
    if (!any_repeat) {
      check::fail(function,
                  "every customer has frequency 0: without repeat purchases the "
                  "dropout parameters (a, b) cannot be estimated");
    }
  }
};

/** The traits shared by BG/NBD and MBG/NBD: parameters (r, α, a, b), α in time units. */
template <int Offset, class Params>
struct beta_geometric_model : beta_geometric<Offset>, purchase_time_patterns {
  using params_type = Params;
  static constexpr std::size_t size = 4;
  static constexpr std::array<std::string_view, 4> names{"r", "alpha", "a", "b"};
  static constexpr std::array<int, 4> time_exponents{0, 1, 0, 0};

  template <bool WithHessian>
  static log_likelihood_derivatives<4> log_likelihood_sums(const Params& p,
                                                           std::span<const pattern> rows) {
    return sum_over_patterns<beta_geometric_model, WithHessian>(p, rows);
  }

  static std::array<double, 4> to_array(const Params& p) { return {p.r, p.alpha, p.a, p.b}; }
  static Params from_array(const std::array<double, 4>& v) { return {v[0], v[1], v[2], v[3]}; }

  /** lifetimes' start exp(0.1) for every log-parameter (times scaled to max T = 1), then others. */
  static std::vector<std::array<double, 4>> starting_points(std::span<const pattern>) {
    const double e = std::exp(0.1);
    return {{e, e, e, e}, {0.5, 0.2, 0.8, 2.0}, {2.0, 1.0, 2.0, 5.0}, {0.2, 0.05, 0.5, 0.5}};
  }

  /**
   * Warnings for estimates at a limit of the parameter space (a parameter beyond
   * boundary_ratio = 1e6 from its scale, where the likelihood is flat and the optimiser drifts):
   * - a/(a+b) → 0 (a → 0 or b → ∞): no dropout detected, the model reduces to the NBD;
   * - a, b → ∞ with a/(a+b) fixed: every customer has the same dropout probability;
   * - a → ∞ alone: p → 1, customers drop out at their first opportunity;
   * - r, α → ∞ with r/α fixed: every customer has the same purchase rate (Poisson, no gamma
   *   heterogeneity).
   * Predictions stay finite and exact in these limits (see the namespace documentation).
   */
  static std::vector<std::string> boundary_warnings(const Params& p) {
    constexpr double boundary_ratio = 1e6;
    std::vector<std::string> warnings;
    const double mean_dropout = p.a / (p.a + p.b);
    if (mean_dropout < 1 / boundary_ratio) {
      warnings.push_back(fmt::format(
          "a = {:.4g}, b = {:.4g} at the boundary a/(a+b) → 0 (a → 0 or b → ∞): no dropout "
          "detected; the model reduces to the NBD (Poisson-gamma) without dropout",
          p.a, p.b));
    } else if (p.a > boundary_ratio && p.b > boundary_ratio) {
      warnings.push_back(fmt::format(
          "a = {:.4g}, b = {:.4g} at the boundary a, b → ∞: every customer has the same "
          "dropout probability p = a/(a+b) = {:.4g} (no dropout heterogeneity)",
          p.a, p.b, mean_dropout));
    } else if (p.a > boundary_ratio) {
      warnings.push_back(fmt::format(
          "a = {:.4g} at the boundary a → ∞: the dropout probability p → 1, customers drop "
          "out at their first opportunity",
          p.a));
    }
    if (p.r > boundary_ratio) {
      warnings.push_back(fmt::format(
          "r = {:.4g}, alpha = {:.4g} at the boundary r, alpha → ∞: every customer has the "
          "same purchase rate r/alpha = {:.4g} (Poisson purchases, no gamma heterogeneity)",
          p.r, p.alpha, p.r / p.alpha));
    }
    return warnings;
  }

  static void check_params(std::string_view function, const Params& p) {
    check::positive(function, "r", p.r);
    check::positive(function, "alpha", p.alpha);
    check::positive(function, "a", p.a);
    check::positive(function, "b", p.b);
  }
};

}  // namespace crmkit::clv::detail
