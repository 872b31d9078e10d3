#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/clv/params.hpp"
#include "crmkit/clv/detail/pareto_death_series.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/math/log_concave_quadrature.hpp"
#include "crmkit/math/special.hpp"

/**
 * The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, Management Science 33(1); Fader &
 * Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related Expressions", note 009):
 * while alive a customer buys at Poisson rate λ ~ Gamma(r, α) and dies at exponential rate
 * μ ~ Gamma(s, β), λ and μ independent, α and β in the data's time unit.
 *
 * Likelihood (note 009 eq. 16 before the ₂F₁ is formed): with K = Γ(r+x)/Γ(r)·α^r β^s,
 *
 *   L = K · [ (α+T)^{−(r+x)} (β+T)^{−s} + s·J ],   J = ∫_{t_x}^T (α+τ)^{−(r+x)} (β+τ)^{−(s+1)} dτ,
 *
 * the first term for a customer alive at T, the second for one who died at τ ∈ (t_x, T]. J is
 * the note's A₀/(r+s+x) (a difference of two ₂F₁, which cancels, underflows for x ≳ 300 and
 * degenerates at α = β and t_x = T). Here J is integrated directly: in o = ln((m+τ)/(m+t_x)),
 * m = min(α, β), M = max(α, β), its integrand is e^{F₀ + g(o)} with
 *
 *   g(o) = (1 − k_m)·o − k_M·log1p(c·expm1(o)),   c = (m+t_x)/(M+t_x),
 *
 * k_m, k_M the exponents (r+x or s+1) of the smaller and larger shift. g is concave (ln(e^o + d)
 * is convex), so math::log_concave_nodes integrates it to about 1e-13 whatever x (to 10⁴ and
 * beyond), T, t_x (0 and T included) and α/β (α = β is not special); everything stays in logs.
 * Where b|z| ≤ ½ (b = s+1, z = (β−α)/(α+t_x)), the likelihood and P(alive) take J from a series
 * with no transcendental function per term instead (detail/pareto_death_series.hpp, with the
 * exact gradient and Hessian from running sums; the likelihood is then a mixture of two terms,
 * alive and dead). Elsewhere they use the rule's adaptive form
 * (math::log_concave_nodes_adaptive): 15 Gauss–Kronrod nodes per side where the embedded Gauss
 * rule agrees to 1e-9, 30 or 64 where not.
 * Because the nodes do not depend on which factor is integrated, the same nodes give the exact
 * gradient and Hessian of ln L: with terms ℓ_k (the alive term and the quadrature nodes), their
 * parameter derivatives D_k and D²_k, and π_k = e^{ℓ_k}/Σ e^{ℓ},
 *
 *   ∇ ln(A + sJ) = Σ π_k D_k = D̄,   ∇² ln(A + sJ) = Σ π_k (D²_k + (D_k − D̄)(D_k − D̄)ᵀ).
 *
 * Predictions (note 009; Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4), for DERT):
 * P(alive) = A/(A + sJ); given alive at T, λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T), from which
 * follow P(alive at T+t), the conditional expectation, the conditional pmf (a new customer's pmf at
 * those parameters, Fader & Hardie note 028's result) and DERT.
 */
namespace crmkit::clv {

namespace detail {

/** ln(α+τ), 1/(α+τ), ln(β+τ), 1/(β+τ) at one τ. */
struct pareto_shifts {
  double log_alpha = 0, inv_alpha = 0, log_beta = 0, inv_beta = 0;
};

/**
 * ∫_{lower}^{upper} ((α+τ)/(α+lower))^{−k_α} ((β+τ)/(β+lower))^{−k_β} dτ (k_α, k_β > 0,
 * k_α + k_β > 1) as a log-concave rule in o = ln((m+τ)/(m+lower)), and the shifts at each node
 * (see the namespace documentation). The factor (α+lower)^{−k_α}(β+lower)^{−k_β} is left to the
 * caller: with k ~ 1e8 its logarithm is ~1e9, whose rounding alone would cost 1e-7 relative
 * once it meets the alive term; pareto_log_alive_odds forms the ratio of the two with log1p.
 */
struct power_product_integral {
  bool alpha_is_min;
  double log_min_lower, log_max_lower, inv_min_lower, inv_max_lower, c;
  math::log_concave_rule rule;  ///< built in place: it is 8 KB, a copy costs a row's arithmetic

  power_product_integral(double k_alpha, double alpha, double k_beta, double beta, double lower,
                         double upper)
      : alpha_is_min(alpha <= beta),
        log_min_lower(std::log(std::min(alpha, beta) + lower)),
        log_max_lower(std::log(std::max(alpha, beta) + lower)),
        inv_min_lower(1 / (std::min(alpha, beta) + lower)),
        inv_max_lower(1 / (std::max(alpha, beta) + lower)),
        c((std::min(alpha, beta) + lower) / (std::max(alpha, beta) + lower)),
        rule(death_rule(alpha_is_min ? k_alpha : k_beta, alpha_is_min ? k_beta : k_alpha,
                        log_min_lower, c,
                        math::log1p_via_log((upper - lower) / (std::min(alpha, beta) + lower)))) {}

  /** The rule in o ∈ [0, length] for g(o) = base + (1 − k_min)·o − k_max·ln(1 + c·expm1(o)). */
  static math::log_concave_rule death_rule(double k_min, double k_max, double base, double c,
                                           double length) {
    if (!(length > 0)) return {};
    auto g = [=](double o) {
      return base + (1 - k_min) * o - k_max * math::log1p_via_log(c * std::expm1(o));
    };
    auto slope = [=](double o) {
      return (1 - k_min) - k_max * c * std::exp(o) / (1 + c * std::expm1(o));
    };
    double mode = 0;
    double width = 1;
    const double rise = 1 - k_min;
    if (rise > 0 && rise / k_max > c) {
      const double q = rise / k_max;
      mode = q >= 1 ? length : std::min(length, std::log(q * (1 - c) / (c * (1 - q))));
    }
    const double at_mode = slope(mode);
    if (mode == 0 || mode == length) {
      width = at_mode != 0 ? 1 / std::fabs(at_mode) : 1.0;
    } else {
      const double e = c * std::exp(mode);
      const double curvature = k_max * e * (1 - c) / ((1 - c + e) * (1 - c + e));
      width = curvature > 0 ? 1 / std::sqrt(curvature) : 1.0;
    }
    return math::log_concave_nodes_adaptive(g, 0.0, mode, length, width, tolerance);
  }

  /** Relative agreement of the 7- and 15-point rules that lets a side keep 15 nodes. */
  static constexpr double tolerance = 1e-9;

  /**
   * The shifts at node o. They enter only the derivatives, through differences between terms,
   * where an absolute error of a few ulps is harmless: so (M+τ)/(M+lower) = (1 − c) + c·e^o with
   * exp and log, not expm1 and log1p (which g(o) needs, its log being multiplied by k_max).
   */
  [[nodiscard]] pareto_shifts shifts(double o) const {
    const double grown = std::exp(o);
    const double spread = (1 - c) + c * grown;
    const double log_min = log_min_lower + o;
    const double log_max = log_max_lower + std::log(spread);
    const double inv_min = inv_min_lower / grown;
    const double inv_max = inv_max_lower / spread;
    return alpha_is_min ? pareto_shifts{log_min, inv_min, log_max, inv_max}
                        : pareto_shifts{log_max, inv_max, log_min, inv_min};
  }
};

/** ln of (α+T)^{−(r+x)}(β+T)^{−s} over (α+t_x)^{−(r+x)}(β+t_x)^{−(s+1)} (see pareto_log_alive_odds). */
template <class P>
double pareto_log_relative_alive_term(const P& p, double x, double t_x, double age) {
  const double gap = age - t_x;
  return -(p.r + x) * math::log1p_via_log(gap / (p.alpha + t_x)) -
         p.s * math::log1p_via_log(gap / (p.beta + t_x)) +
         std::log(p.beta + t_x);
}

/**
 * The alive term over the death term, ln(A/(sJ)) (+∞ when t_x = T), both relative to
 * (α+t_x)^{−(r+x)}(β+t_x)^{−(s+1)}: ln A − that = −(r+x)·log1p((T−t_x)/(α+t_x))
 * − s·log1p((T−t_x)/(β+t_x)) + ln(β+t_x), which keeps its digits for s and r+x to 1e8 and beyond.
 */
template <class P>
double pareto_log_alive_odds(const P& p, double x, double t_x, double age) {
  if (!(age > t_x)) return std::numeric_limits<double>::infinity();
  pareto_death_term series;
  const double relative_death =
      pareto_death_series<0>(p, x, t_x, age, series)
          ? series.log_relative_integral
          : power_product_integral(p.r + x, p.alpha, p.s + 1, p.beta, t_x, age).rule.log_integral();
  return pareto_log_relative_alive_term(p, x, t_x, age) - std::log(p.s) - relative_death;
}

/**
 * E[1/(μ+δ)] for μ ~ Gamma(s, rate b), δ > 0: = b^s δ^{s−1} U(s, s, bδ) (Tricomi's confluent
 * hypergeometric function; FHL 2005 JMR eq. 4's DERT factor). With z = bδ and y = ln(1 + μ′/z)
 * in the integral U(1, 2−s, z) = ∫₀^∞ e^{−zw}(1+w)^{−s} dw (Kummer: U(s,s,z) = z^{1−s}U(1,2−s,z)),
 *   E[1/(μ+δ)] = (z/δ) ∫₀^∞ exp(−z·expm1(y) + (1−s)·y) dy,
 * whose log-integrand is concave (second derivative −z e^y): a log-concave rule, valid for every
 * s > 0 (integer s included, where Γ(1−s)-based forms break) and z from 1e-300 to 1e300.
 */
inline double expected_inverse_rate(double s, double b, double delta) {
  const double z = b * delta;
  const double rise = 1 - s;
  double mode = 0;
  double width = 1 / std::fabs(rise - z);
  if (rise > z) {
    mode = std::log(rise / z);
    width = 1 / std::sqrt(rise);
  }
  if (!std::isfinite(width)) width = 1;
  const auto rule = math::log_concave_nodes(
      [&](double y) { return -z * std::expm1(y) + rise * y; }, 0.0, mode,
      std::numeric_limits<double>::infinity(), width, math::log_concave_rule::max_panels);
  return std::exp(std::log(z) - std::log(delta) + rule.log_integral());
}

/**
 * P(X(t) = n) for a new customer (note 009 eq. 19's components integrated over the death time):
 *   NB(n; r, α/(α+t))·(β/(β+t))^s + ∫₀^t s β^s (β+τ)^{−(s+1)} NB(n; r, α/(α+τ)) dτ,
 * the integral over v = ln(τ/t) ≤ 0, where τ^{n+1}(α+τ)^{−(r+n)}(β+τ)^{−(s+1)} is log-concave
 * (its logarithm through log1p(τ/α), log1p(τ/β), which keep their digits for τ ≪ t).
 */
template <class P>
double pareto_new_customer_pmf(const P& p, double t, double n) {
  if (!(t > 0)) return n == 0 ? 1.0 : 0.0;
  const double log_count = math::log_gamma_ratio(p.r, n) - math::lgamma(n + 1);
  const double log_alive = log_count + p.r * std::log(p.alpha / (p.alpha + t)) +
                           (n > 0 ? n * std::log(t / (p.alpha + t)) : 0.0) -
                           p.s * std::log1p(t / p.beta);
  const double ka = p.r + n;
  const double kb = p.s + 1;
  const double base = std::log(p.s) - std::log(p.beta) + log_count - n * std::log(p.alpha) +
                      (n + 1) * std::log(t);
  auto g = [&](double v) {
    const double tau = t * std::exp(v);
    return base + (n + 1) * v - ka * std::log1p(tau / p.alpha) - kb * std::log1p(tau / p.beta);
  };
  auto slope = [&](double v) {
    const double tau = t * std::exp(v);
    return (n + 1) - ka * tau / (p.alpha + tau) - kb * tau / (p.beta + tau);
  };
  double mode = 0;
  if (slope(0) < 0) {
    double low = -1;
    while (slope(low) < 0 && low > -1e4) low *= 2;
    double high = 0;
    for (int step = 0; step < 200 && high - low > 1e-12 * (1 + std::fabs(low)); ++step) {
      const double middle = 0.5 * (low + high);
      (slope(middle) < 0 ? high : low) = middle;
    }
    mode = 0.5 * (low + high);
  }
  const double h = 1e-4 * (1 + std::fabs(mode));
  const double curvature = -(slope(mode + h) - slope(mode - h)) / (2 * h);
  const double width = mode == 0 && slope(0) > 0 ? 1 / slope(0)
                       : curvature > 0           ? 1 / std::sqrt(curvature)
                                                 : 1.0;
  const auto rule = math::log_concave_nodes(g, -std::numeric_limits<double>::infinity(), mode, 0.0,
                                            width, math::log_concave_rule::max_panels);
  return std::exp(log_alive) + std::exp(rule.log_integral());
}

}  // namespace detail

/**
 * Pareto/NBD model traits for fit_model (see the namespace documentation): parameters
 * (r, α, s, β), α and β in time units.
 */
struct pareto_nbd : detail::purchase_time_patterns {
  using params_type = pareto_nbd_params;
  static constexpr std::string_view name = "Pareto/NBD";
  static constexpr std::size_t size = 4;
  static constexpr std::array<std::string_view, 4> names{"r", "alpha", "s", "beta"};
  static constexpr std::array<int, 4> time_exponents{0, 1, 0, 1};

  static std::array<double, 4> to_array(const pareto_nbd_params& p) {
    return {p.r, p.alpha, p.s, p.beta};
  }
  static pareto_nbd_params from_array(const std::array<double, 4>& v) {
    return {v[0], v[1], v[2], v[3]};
  }

  static void check_params(std::string_view function, const pareto_nbd_params& p) {
    check::positive(function, "r", p.r);
    check::positive(function, "alpha", p.alpha);
    check::positive(function, "s", p.s);
    check::positive(function, "beta", p.beta);
  }

  /** P(alive | x, t_x, T) = A/(A + sJ) (note 009 eq. 18). */
  static double probability_alive(const pareto_nbd_params& p, double x, double t_x, double age) {
    return math::expit(detail::pareto_log_alive_odds(p, x, t_x, age));
  }

  /**
   * E[Y(t) | x, t_x, T] = P(alive)·(r+x)(β+T)/((α+T)(s−1))·[1 − ((β+T)/(β+T+t))^{s−1}]
   * (note 009 eq. 22), the bracket over s−1 as expm1((1−s)ℓ)/(1−s), ℓ = ln(1 + t/(β+T)),
   * exact through s = 1: P(alive) times alive_purchases.
   */
  static double conditional_expected(const pareto_nbd_params& p, double t, double x, double t_x,
                                     double age) {
    if (!(t > 0)) return 0;
    const double alive = probability_alive(p, x, t_x, age);
    if (alive == 0) return 0;
    return alive * alive_purchases(p, t, x, age);
  }

  /**
   * E[Y(t) | alive at T, x, T] = (r+x)(β+T)/((α+T)(s−1))·[1 − ((β+T)/(β+T+t))^{s−1}], free of
   * t_x (given alive at T, λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T)): with it the model is
   * separable (predict.hpp), so customer_forecast evaluates P(alive) once per customer for
   * every horizon of a CLV sum.
   */
  static double alive_purchases(const pareto_nbd_params& p, double t, double x, double age) {
    if (!(t > 0)) return 0;
    return (p.r + x) * (p.beta + age) / (p.alpha + age) *
           math::expm1_quotient(1 - p.s, std::log1p(t / (p.beta + age)));
  }

  /** E[X(t)] = rβ/(α(s−1))·[1 − (β/(β+t))^{s−1}] (note 009 eq. 17). */
  static double expected_new(const pareto_nbd_params& p, double t) {
    return conditional_expected(p, t, 0, 0, 0);
  }

  /** P(X(t) = n) for a new customer (detail::pareto_new_customer_pmf). */
  static double pmf(const pareto_nbd_params& p, double t, double n) {
    return detail::pareto_new_customer_pmf(p, t, n);
  }

  /** Adds Σ w·ln L and its derivatives in (r, α, s, β) over rows sorted by x. */
  template <bool WithHessian>
  static void accumulate(const pareto_nbd_params& p, std::span<const pattern> rows,
                         log_likelihood_derivatives<4>& out) {
    constexpr std::size_t max_terms = 1 + 2 * 2 * math::log_concave_rule::panel_nodes;
    const double log_alpha = std::log(p.alpha);
    const double log_beta = std::log(p.beta);
    const double psi_r = math::digamma(p.r);
    const double tri_r = WithHessian ? math::trigamma(p.r) : 0.0;
    double x = std::numeric_limits<double>::quiet_NaN();
    double log_gamma_ratio = 0, k_r = 0, k_rr = 0;
    std::array<double, max_terms> log_term{};
    std::array<detail::pareto_shifts, max_terms> at{};
    std::array<std::array<double, 4>, max_terms> d{};
    for (const auto& row : rows) {
      if (row.x != x) {
        x = row.x;
        log_gamma_ratio = math::log_gamma_ratio(p.r, x);
        k_r = math::digamma(p.r + x) - psi_r + log_alpha;
        if constexpr (WithHessian) k_rr = math::trigamma(p.r + x) - tri_r;
      }
      const double nu = p.r + x;
      const double t_x = row.u;
      const double age = row.v;
      std::size_t count = 1;
      at[0] = {std::log(p.alpha + age), 1 / (p.alpha + age), std::log(p.beta + age),
               1 / (p.beta + age)};
      // The terms relative to (α+t_x)^{−(r+x)}(β+t_x)^{−(s+1)}, or to the alive term itself
      // when t_x = T; `reference` is K times that factor, in logs, formed without cancellation.
      const bool can_have_died = age > t_x;
      const double lower = can_have_died ? t_x : age;
      const double reference = log_gamma_ratio - p.r * math::log1p_via_log(lower / p.alpha) -
                               x * std::log(p.alpha + lower) -
                               p.s * math::log1p_via_log(lower / p.beta) -
                               (can_have_died ? std::log(p.beta + lower) : 0.0);
      log_term[0] = can_have_died ? detail::pareto_log_relative_alive_term(p, x, t_x, age) : 0.0;
      std::array<double, 4> mean{};
      std::array<double, 16> h{};
      double log_total = 0;
      detail::pareto_death_term death_term;
      if (can_have_died &&
          detail::pareto_death_series<WithHessian ? 2 : 1>(p, x, t_x, age, death_term)) {
        // Two terms: alive (its D and second derivatives as below) and death (the series').
        const double log_death = std::log(p.s) + death_term.log_relative_integral;
        const double alive = math::expit(log_term[0] - log_death);
        const double dead = math::expit(log_death - log_term[0]);
        log_total = math::log_add_exp(log_term[0], log_death);
        const std::array<double, 4> d_alive{-at[0].log_alpha, -nu * at[0].inv_alpha,
                                            -at[0].log_beta, -p.s * at[0].inv_beta};
        std::array<double, 4> spread{};
        for (std::size_t i = 0; i < 4; ++i) {
          mean[i] = alive * d_alive[i] + dead * death_term.gradient[i];
          spread[i] = d_alive[i] - death_term.gradient[i];
        }
        if constexpr (WithHessian) {
          const double both = alive * dead;
          for (std::size_t i = 0; i < 4; ++i) {
            for (std::size_t j = i; j < 4; ++j) {
              h[i * 4 + j] = dead * death_term.hessian[i * 4 + j] + both * spread[i] * spread[j];
            }
          }
          h[1] -= alive * at[0].inv_alpha;
          h[5] += alive * nu * at[0].inv_alpha * at[0].inv_alpha;
          h[11] -= alive * at[0].inv_beta;
          h[15] += alive * p.s * at[0].inv_beta * at[0].inv_beta;
        }
      } else {
        if (can_have_died) {
          const detail::power_product_integral death(nu, p.alpha, p.s + 1, p.beta, t_x, age);
          const double log_s = std::log(p.s);
          for (std::size_t k = 0; k < death.rule.size; ++k, ++count) {
            at[count] = death.shifts(death.rule.nodes[k].position);
            log_term[count] = log_s + death.rule.nodes[k].log_weight;
          }
        }
        log_total = node_mixture<WithHessian>(p, nu, count, log_term, at, d, mean, h);
      }
      const double w = row.weight;
      out.value += w * (reference + log_total);
      const std::array<double, 4> k_gradient{k_r, p.r / p.alpha, log_beta, p.s / p.beta};
      for (std::size_t i = 0; i < 4; ++i) out.gradient[i] += w * (k_gradient[i] + mean[i]);
      if constexpr (WithHessian) {
        h[0] += k_rr;
        h[1] += 1 / p.alpha;
        h[5] -= p.r / (p.alpha * p.alpha);
        h[11] += 1 / p.beta;
        h[15] -= p.s / (p.beta * p.beta);
        for (std::size_t i = 0; i < 4; ++i) {
          for (std::size_t j = 0; j < i; ++j) h[i * 4 + j] = h[j * 4 + i];
        }
        for (std::size_t i = 0; i < 16; ++i) out.hessian[i] += w * h[i];
      }
    }
  }

  /**
   * ln Σ e^{ℓ_k} over the alive term (k = 0) and the quadrature nodes, the π-weighted mean D̄ of
   * their derivatives and (WithHessian) on and above the diagonal Σ π_k (D_k − D̄)(D_k − D̄)ᵀ plus
   * their π-weighted second derivatives: −1/(α+τ) (r, α), (r+x)/(α+τ)² (α, α), −1/s² (s, s) on
   * the death terms, −1/(β+τ) (s, β), shape/(β+τ)² (β, β).
   */
  template <bool WithHessian, std::size_t N>
  static double node_mixture(const pareto_nbd_params& p, double nu, std::size_t count,
                             std::array<double, N>& log_term,
                             const std::array<detail::pareto_shifts, N>& at,
                             std::array<std::array<double, 4>, N>& d, std::array<double, 4>& mean,
                             std::array<double, 16>& h) {
    double top = log_term[0];
    for (std::size_t k = 1; k < count; ++k) top = std::max(top, log_term[k]);
    double total = 0;
    for (std::size_t k = 0; k < count; ++k) {
      log_term[k] = std::exp(log_term[k] - top);
      total += log_term[k];
    }
    const double inv_total = 1 / total;
    for (std::size_t k = 0; k < count; ++k) {
      const double pi = log_term[k] * inv_total;
      log_term[k] = pi;
      const bool dead = k > 0;
      d[k] = {-at[k].log_alpha, -nu * at[k].inv_alpha, (dead ? 1 / p.s : 0.0) - at[k].log_beta,
              -(dead ? p.s + 1 : p.s) * at[k].inv_beta};
      for (std::size_t i = 0; i < 4; ++i) mean[i] += pi * d[k][i];
    }
    if constexpr (WithHessian) {
      double inv_alpha = 0, inv_alpha_squared = 0, inv_beta = 0, shape_inv_beta_squared = 0;
      for (std::size_t k = 0; k < count; ++k) {
        const double pi = log_term[k];
        std::array<double, 4> centred{};
        for (std::size_t i = 0; i < 4; ++i) centred[i] = d[k][i] - mean[i];
        for (std::size_t i = 0; i < 4; ++i) {
          const double weighted = pi * centred[i];
          for (std::size_t j = i; j < 4; ++j) h[i * 4 + j] += weighted * centred[j];
        }
        const double shape_beta = k > 0 ? p.s + 1 : p.s;
        inv_alpha += pi * at[k].inv_alpha;
        inv_alpha_squared += pi * at[k].inv_alpha * at[k].inv_alpha;
        inv_beta += pi * at[k].inv_beta;
        shape_inv_beta_squared += pi * shape_beta * at[k].inv_beta * at[k].inv_beta;
      }
      h[1] -= inv_alpha;
      h[5] += nu * inv_alpha_squared;
      h[10] -= (1 - log_term[0]) / (p.s * p.s);
      h[11] -= inv_beta;
      h[15] += shape_inv_beta_squared;
    }
    return top + std::log(total);
  }

  template <bool WithHessian>
  static log_likelihood_derivatives<4> log_likelihood_sums(const pareto_nbd_params& p,
                                                           std::span<const pattern> rows) {
    return detail::sum_over_patterns<pareto_nbd, WithHessian>(p, rows);
  }

  static void check_fit_data(std::string_view function, std::span<const pattern> rows) {
    if (std::none_of(rows.begin(), rows.end(), [](const pattern& row) { return row.x > 0; })) {
      check::fail(function,
                  "every customer has frequency 0: without repeat purchases the Pareto/NBD "
                  "parameters cannot be estimated");
    }
  }

  /**
   * The first stage's sample at or below fit_options::sample_threshold (fit.hpp): a row costs
   * about twenty of BG/NBD's (the death integral takes 15–64 quadrature nodes where the series
   * does not apply, e.g. β ≫ α), and BFGS from the starting points takes ~23 passes. Above
   * small_sample_above patterns, BFGS runs on every k-th pattern, max(small_sample_rows,
   * patterns/8) of them, and Newton's method on the exact Hessian finishes on all rows (2–4
   * passes, the last giving the standard errors); the optimum is the same, to the tolerance.
   */
  static std::size_t small_fit_sample(std::size_t patterns) {
    return patterns > small_sample_above ? std::max(small_sample_rows, patterns / 8) : 0;
  }
  static constexpr std::size_t small_sample_rows = 500;
  static constexpr std::size_t small_sample_above = 2000;

  /** Starts in scaled time (max T = 1); the first is near CDNOW's estimate. */
  static std::vector<std::array<double, 4>> starting_points(std::span<const pattern>) {
    return {{0.5, 0.3, 0.5, 0.3}, {1, 1, 1, 1}, {2, 1, 2, 1}, {0.2, 0.05, 0.5, 0.5}};
  }

  /**
   * Warnings for estimates at a limit of the parameter space (beyond 1e6 from their scale):
   * r → ∞ (every customer has the purchase rate r/α: Poisson purchases), s → ∞ (every
   * customer has the dropout rate s/β: exponential lifetimes), s → 0 (dropout rates
   * concentrated at 0: almost no dropout, the NBD).
   */
  static std::vector<std::string> boundary_warnings(const pareto_nbd_params& p) {
    constexpr double boundary_ratio = 1e6;
    std::vector<std::string> warnings;
    if (p.r > boundary_ratio) {
      warnings.push_back(fmt::format(
          "r = {:.4g}, alpha = {:.4g} at the boundary r, alpha → ∞: every customer has the "
          "same purchase rate r/alpha = {:.4g} (Poisson purchases, no gamma heterogeneity)",
          p.r, p.alpha, p.r / p.alpha));
    }
    if (p.s > boundary_ratio) {
      warnings.push_back(fmt::format(
          "s = {:.4g}, beta = {:.4g} at the boundary s, beta → ∞: every customer has the same "
          "dropout rate s/beta = {:.4g} (exponential lifetimes, no gamma heterogeneity)",
          p.s, p.beta, p.s / p.beta));
    } else if (p.s < 1 / boundary_ratio) {
      warnings.push_back(fmt::format(
          "s = {:.4g} at the boundary s → 0: dropout rates concentrate at 0; the model reduces "
          "to the NBD without dropout",
          p.s));
    }
    return warnings;
  }
};

template <>
struct model_for<pareto_nbd_params> {
  using type = pareto_nbd;
};

/**
 * Fits Pareto/NBD by maximum likelihood to per-customer (frequency, recency, T), optionally
 * weighted; exact gradients and Hessian (standard errors from the observed information). See
 * fit.hpp for the method and options.
 *
 * **Example** (CDNOW): r, α, s, β ≈ 0.5533, 10.578, 0.6062, 11.668, LL ≈ −9594.974.
 *
 * @throw invalid_input for bad data (naming argument, index and value) or when no customer has
 *        a repeat purchase; numerical_error if the likelihood is nowhere finite.
 */
inline fit_result<pareto_nbd_params, 4> fit_pareto_nbd(std::span<const double> frequency,
                                                       std::span<const double> recency,
                                                       std::span<const double> age,
                                                       std::span<const double> weights = {},
                                                       const fit_options& options = {}) {
  constexpr std::string_view function = "fit_pareto_nbd";
  return fit_model<pareto_nbd>(function,
                               transaction_patterns(function, frequency, recency, age, weights),
                               options, frequency.size());
}

/** P(alive at T + t | x, t_x, T) = P(alive)·((β+T)/(β+T+t))^s (pymc-marketing's future_t). */
inline double conditional_probability_alive_at(const pareto_nbd_params& p, double t, double x,
                                               double t_x, double age) {
  return pareto_nbd::probability_alive(p, x, t_x, age) *
         std::exp(-p.s * std::log1p(t / (p.beta + age)));
}

/**
 * P(Y(t) = n | x, t_x, T), purchases in (T, T+t] (Fader & Hardie note 028):
 * (1 − P(alive))·1[n = 0] + P(alive)·P_new(n, t; r+x, α+T, s, β+T).
 */
inline double conditional_probability_of_n_purchases_up_to_time(const pareto_nbd_params& p,
                                                                double n, double t, double x,
                                                                double t_x, double age) {
  const double odds = detail::pareto_log_alive_odds(p, x, t_x, age);
  const double alive = math::expit(odds);
  const pareto_nbd_params posterior{p.r + x, p.alpha + age, p.s, p.beta + age};
  return (n == 0 ? math::expit(-odds) : 0.0) + alive * detail::pareto_new_customer_pmf(posterior, t, n);
}

/**
 * Discounted expected residual transactions at a continuous discount rate δ per time unit
 * (FHL 2005 JMR eq. 2; CLVTools `pnbd` DERT):
 *   DERT = α^r β^s δ^{s−1} Γ(r+x+1) U(s, s; δ(β+T)) / (Γ(r) (α+T)^{r+x+1} L)
 *        = P(alive)·(r+x)/(α+T)·E[1/(μ+δ)],  μ ~ Gamma(s, β+T)
 * (detail::expected_inverse_rate). δ = ln(1 + d) matches a per-period rate d. CLV = DERT ×
 * expected value per transaction.
 */
inline double discounted_expected_residual_transactions(const pareto_nbd_params& p, double delta,
                                                        double x, double t_x, double age) {
  const double alive = pareto_nbd::probability_alive(p, x, t_x, age);
  if (alive == 0) return 0;
  return alive * (p.r + x) / (p.alpha + age) *
         detail::expected_inverse_rate(p.s, p.beta + age, delta);
}

/** Vectorised conditional_probability_alive_at (t of length 1 broadcasts); `histories` (also
 * below) as in the vectorised conditional_probability_alive. */
inline std::vector<double> conditional_probability_alive_at(const pareto_nbd_params& p,
                                                            std::span<const double> t,
                                                            std::span<const double> x,
                                                            std::span<const double> t_x,
                                                            std::span<const double> age,
                                                            history_check* histories = nullptr) {
  constexpr std::string_view function = "conditional_probability_alive_at";
  check_params(function, p);
  detail::report_histories(check_histories(function, x, t_x, age), histories);
  detail::check_times(function, "t", t, x.size());
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return conditional_probability_alive_at(p, detail::broadcast(t, i), x[i], t_x[i], age[i]);
  });
}

/** Vectorised conditional_probability_of_n_purchases_up_to_time (n and t broadcast). */
inline std::vector<double> conditional_probability_of_n_purchases_up_to_time(
    const pareto_nbd_params& p, std::span<const double> n, std::span<const double> t,
    std::span<const double> x, std::span<const double> t_x, std::span<const double> age,
    history_check* histories = nullptr) {
  constexpr std::string_view function = "conditional_probability_of_n_purchases_up_to_time";
  check_params(function, p);
  detail::report_histories(check_histories(function, x, t_x, age), histories);
  detail::check_times(function, "t", t, x.size());
  check::not_empty(function, "n", n.size());
  if (n.size() != 1) check::same_size(function, "n", n.size(), "frequency", x.size());
  detail::check_frequency(function, n);
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return conditional_probability_of_n_purchases_up_to_time(
        p, detail::broadcast(n, i), detail::broadcast(t, i), x[i], t_x[i], age[i]);
  });
}

/** Vectorised discounted_expected_residual_transactions; δ must be positive and finite. */
inline std::vector<double> discounted_expected_residual_transactions(
    const pareto_nbd_params& p, double delta, std::span<const double> x,
    std::span<const double> t_x, std::span<const double> age, history_check* histories = nullptr) {
  constexpr std::string_view function = "discounted_expected_residual_transactions";
  check_params(function, p);
  detail::report_histories(check_histories(function, x, t_x, age), histories);
  check::positive(function, "discount_rate", delta);
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return discounted_expected_residual_transactions(p, delta, x[i], t_x[i], age[i]);
  });
}

}  // namespace crmkit::clv
