#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include <boost/math/special_functions/beta.hpp>

#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/math/hyp2f1.hpp"
#include "crmkit/math/quadrature.hpp"
#include "crmkit/math/special.hpp"

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
 * Gamma(ν, α+T) and the dropout probability p ~ Beta(a, B_x + 1), so the expected purchases in
 * (T, T+t] are
 *
 *   E[Y(t) | alive] = E_p[(1 − (1 + pτ)^{−ν})/p],  τ = t/(α+T)
 *                   = C/(a−1) · [1 − (1−z)^{a−1} ₂F₁(C−ν, a−1; C; z)],  C = a + B_x, z = τ/(1+τ),
 *
 * the second line being FHL's ₂F₁ form after Euler's transformation (CLV-NOTES §2), whose
 * parameters do not grow with x. The removable singularity at a = 1 is taken out exactly:
 * with ε = a−1, L = ln(1−z) and ₂F₁ = 1 + ε·S (math::hyp2f1_minus_one_over_b),
 *   [1 − (1−z)^ε ₂F₁]/ε = −expm1(εL)/ε − S·e^{εL}.
 * When the series would need more than `series_term_budget` terms (z → 1, i.e. t ≫ α+T) the
 * first line is integrated instead by tanh-sinh quadrature.
 */
namespace crmkit::clv::detail {

/**
 * Series terms allowed before switching to quadrature in the conditional expectation: 20,000
 * terms cost about as much as one quadrature (two tanh-sinh integrals of up to ~10^4 nodes each).
 */
inline constexpr double series_term_budget = 20000;

/**
 * E_{p~Beta(a, β)}[(1 − (1+pτ)^{−ν})/p], β = C−a+1, by tanh-sinh quadrature (math/quadrature.hpp,
 * relative tolerance 1e-12). The integral is split at p = 1/2. Where the Beta density is singular
 * at an end (a < 1 or β < 1) that half is smoothed by substitution: p = u^{1/a} turns p^{a−1}dp
 * into du/a, and 1−p = v^{1/β} turns (1−p)^{β−1}dp into dv/β. The same rule applied to the
 * density alone gives the mass it sees; dividing by it cancels most of the rule's error when
 * the density is sharply peaked.
 */
inline double alive_purchases_by_quadrature(double nu, double a, double c, double tau) {
  const double beta_b = c - a + 1;
  const double log_norm = math::log_beta(a, beta_b);
  auto purchases = [&](double p) {
    return p > 0 ? -std::expm1(-nu * std::log1p(p * tau)) / p : nu * tau;
  };
  auto expectation = [&](auto&& weighted) {
    auto plain = [&](double p) {
      return std::exp((a - 1) * std::log(p) + (beta_b - 1) * std::log1p(-p) - log_norm) *
             weighted(p);
    };
    auto lower_smoothed = [&](double u) {
      const double p = std::pow(u, 1 / a);
      return std::exp((beta_b - 1) * std::log1p(-p) - log_norm) * weighted(p) / a;
    };
    auto upper_smoothed = [&](double v) {
      const double q = std::pow(v, 1 / beta_b);
      return std::exp((a - 1) * std::log1p(-q) - log_norm) * weighted(1 - q) / beta_b;
    };
    const double lower = a < 1 ? math::tanh_sinh(lower_smoothed, 0.0, std::exp2(-a))
                               : math::tanh_sinh(plain, 0.0, 0.5);
    const double upper = beta_b < 1 ? math::tanh_sinh(upper_smoothed, 0.0, std::exp2(-beta_b))
                                    : math::tanh_sinh(plain, 0.5, 1.0);
    return lower + upper;
  };
  return expectation(purchases) / expectation([](double) { return 1.0; });
}

/** E[Y(t) | alive] for shape ν, Beta parameters (a, C−a+1) and τ = t/(α+T); see above. */
inline double alive_purchases(double nu, double a, double c, double tau) {
  if (!(tau > 0)) return 0;
  const double z = tau / (1 + tau);
  const double eps = a - 1;
  const double upper = c - nu;
  if (math::hyp2f1_predicted_terms(upper, eps, c, z) > series_term_budget) {
    return alive_purchases_by_quadrature(nu, a, c, tau);
  }
  const double log_w = -std::log1p(tau);
  const auto s = math::hyp2f1_minus_one_over_b(upper, eps, c, z);
  if (!s.converged) return alive_purchases_by_quadrature(nu, a, c, tau);
  const double bracket = -math::expm1_quotient(eps, log_w) - s.value * std::exp(eps * log_w);
  return std::max(0.0, c * bracket);
}

template <int Offset>
struct beta_geometric {
  /** Whether a customer with x repeat purchases can already have dropped out. */
  static bool can_be_dead(double x) noexcept { return x + Offset > 0; }

  /** s, the log-odds of having dropped out (requires can_be_dead(x)). */
  template <class P>
  static double log_dead_odds(const P& p, double x, double t_x, double age) {
    const double rho = std::log1p((age - t_x) / (p.alpha + t_x));
    return std::log(p.a) - std::log(p.b + x + Offset - 1) + (p.r + x) * rho;
  }

  template <class P>
  static double probability_alive(const P& p, double x, double t_x, double age) {
    return can_be_dead(x) ? math::expit(-log_dead_odds(p, x, t_x, age)) : 1.0;
  }

  template <class P>
  static double conditional_expected(const P& p, double t, double x, double t_x, double age) {
    const double alive = probability_alive(p, x, t_x, age);
    if (alive == 0) return 0;
    const double c = p.a + p.b + x + Offset - 1;
    return alive * alive_purchases(p.r + x, p.a, c, t / (p.alpha + age));
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
   */
  template <class P>
  static double pmf(const P& p, double t, double n) {
    if (!(t > 0)) return n == 0 ? 1.0 : 0.0;
    const double log_beta_ab = math::log_beta(p.a, p.b);
    const double log_q = -std::log1p(t / p.alpha);
    const double log_1mq = std::log(t / (p.alpha + t));
    const double log_nb = math::lgamma(p.r + n) - math::lgamma(p.r) - math::lgamma(n + 1) +
                          p.r * log_q + (n > 0 ? n * log_1mq : 0.0);
    double probability = std::exp(math::log_beta(p.a, p.b + n + Offset) - log_beta_ab + log_nb);
    if (n + Offset > 0) {
      double tail = 1;
      if (n > 0) {
        tail = t <= p.alpha ? math::ibeta(n, p.r, t / (p.alpha + t))
                            : boost::math::ibetac(p.r, n, p.alpha / (p.alpha + t),
                                                  math::detail::quiet_policy());
      }
      probability += std::exp(math::log_beta(p.a + 1, p.b + n + Offset - 1) - log_beta_ab) * tail;
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
        b_x = shifted_b - 1;
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

  /** LL(original) − LL(times × s) = Σ w·x·ln s: ℓ is a density in x purchase times. */
  static double log_likelihood_offset(std::span<const pattern> rows, double scale) {
    double sum = 0;
    for (const auto& row : rows) sum += row.weight * row.x;
    return sum * std::log(scale);
  }

  static double time_scale(std::span<const pattern> rows) {
    double oldest = 0;
    for (const auto& row : rows) oldest = std::max(oldest, row.v);
    return oldest > 0 ? 1 / oldest : 1.0;
  }

  static void rescale(std::span<pattern> rows, double scale) {
    for (auto& row : rows) {
      row.u *= scale;
      row.v *= scale;
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
struct beta_geometric_model : beta_geometric<Offset>, pattern_data {
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

  static void check_params(std::string_view function, const Params& p) {
    check::positive(function, "r", p.r);
    check::positive(function, "alpha", p.alpha);
    check::positive(function, "a", p.a);
    check::positive(function, "b", p.b);
  }
};

}  // namespace crmkit::clv::detail
