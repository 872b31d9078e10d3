#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/clv/params.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/math/log_concave_quadrature.hpp"
#include "crmkit/math/special.hpp"

/**
 * The BG/BB model (Fader, Hardie & Shang 2010, "Customer-Base Analysis in a Discrete-Time
 * Noncontractual Setting", Marketing Science 29(6), 1086–1108) for discrete transaction
 * opportunities (donation appeals, events, days): while alive a customer transacts at each
 * opportunity with probability p ~ Beta(α, β); before each opportunity an alive customer dies
 * with probability θ ~ Beta(γ, δ). A history is (x, t_x, n): x transactions in n opportunities
 * after the first, the last at opportunity t_x (0 when x = 0).
 *
 * Likelihood (eq. 5), B the beta function:
 *
 *   L = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
 *     + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ),
 *
 * the first term for a customer alive at n, the i-th for one who died just before opportunity
 * t_x+i+1. Here every term is taken relative to the first death term
 * t₀ = B(α+x, β+t_x−x)/B(α,β)·B(γ+1, δ+t_x)/B(γ,δ) (its logarithm from log-gamma ratios), so
 * that the i-th is R_i = Π_{l<i} r_l with
 *
 *   r_l = (β+t_x−x+l)/(α+β+t_x+l) · (δ+t_x+l)/(γ+δ+1+t_x+l),
 *
 * each ln r_l formed from its numerator and the gap to its denominator (log1p where the ratio is
 * near 1), and the alive term is R_{n−t_x}·(γ+δ+n)/γ. Sums are log-sum-exp: no term under- or
 * overflows for parameters 1e-6 … 1e8 and n to 10⁴ and beyond (lifetimes adds linear-space
 * beta functions and 1e-15). The cost is O(n − t_x) per history. The derivatives of ln r_l and
 * of ln t₀ in (α, β, γ, δ) are elementary (digamma and trigamma differences for t₀), so the
 * gradient and Hessian of ln L are exact: with terms ℓ_k, their derivatives D_k, D²_k and
 * π_k = e^{ℓ_k}/Σ e^{ℓ},
 *
 *   ∇ ln L = Σ π_k D_k,   ∇² ln L = Σ π_k D²_k + Σ π_k (D_k − D̄)(D_k − D̄)ᵀ.
 *
 * Predictions (FHS 2010 and its appendix): P(alive at n) = alive term/L; given alive at n,
 * p ~ Beta(α+x, β+n−x) and θ ~ Beta(γ, δ+n), whence P(alive at n+m) (eq. A10), the expected
 * transactions in the next m opportunities (eq. 13), a new customer's count distribution
 * (eq. 7) and mean (eq. 8), and DERT (eq. 14).
 */
namespace crmkit::clv {

namespace detail {

/** ln(num/den) for 0 < num < den = num + gap: log1p(−gap/den) when the ratio is near 1. */
inline double log_ratio_below_one(double num, double den, double gap) {
  const double u = gap / den;
  return u < 0.5 ? std::log1p(-u) : std::log(num / den);
}

/** Online log-sum-exp. */
struct log_sum {
  double top = -std::numeric_limits<double>::infinity();
  double sum = 0;
  void add(double log_value) {
    if (log_value <= top) {
      sum += std::exp(log_value - top);
    } else {
      sum = sum * std::exp(top - log_value) + 1;
      top = log_value;
    }
  }
  [[nodiscard]] double log() const { return top + std::log(sum); }
};

/** The shifts of the ratios r_l of one history (see the namespace documentation). */
struct bg_bb_history {
  double purchase_num, purchase_gap, dropout_num, dropout_gap;  // β+t_x−x, α+x, δ+t_x, γ+1

  bg_bb_history(const bg_bb_params& p, double x, double t_x)
      : purchase_num(p.beta + t_x - x),
        purchase_gap(p.alpha + x),
        dropout_num(p.delta + t_x),
        dropout_gap(p.gamma + 1) {}

  [[nodiscard]] double log_ratio(double l) const {
    return log_ratio_below_one(purchase_num + l, purchase_num + purchase_gap + l, purchase_gap) +
           log_ratio_below_one(dropout_num + l, dropout_num + dropout_gap + l, dropout_gap);
  }
};

/** ln t₀ = ln[B(α+x, β+t_x−x)/B(α,β) · B(γ+1, δ+t_x)/B(γ,δ)]. */
inline double bg_bb_log_first_death(const bg_bb_params& p, double x, double t_x) {
  return math::log_gamma_ratio(p.alpha, x) + math::log_gamma_ratio(p.beta, t_x - x) -
         math::log_gamma_ratio(p.alpha + p.beta, t_x) + std::log(p.gamma) +
         math::log_gamma_ratio(p.delta, t_x) - math::log_gamma_ratio(p.gamma + p.delta, t_x + 1);
}

/** L = e^{first}·(e^{dead} + e^{alive}): the death terms' and the alive term's sums relative to t₀. */
struct bg_bb_parts {
  double log_first = 0;
  double log_dead = -std::numeric_limits<double>::infinity();
  double log_alive = 0;
  [[nodiscard]] double log_likelihood() const {
    return log_first + math::log_add_exp(log_dead, log_alive);
  }
  /** ln P(alive at n) − ln P(dead at n). */
  [[nodiscard]] double log_alive_odds() const { return log_alive - log_dead; }
};

inline bg_bb_parts bg_bb_likelihood_parts(const bg_bb_params& p, double x, double t_x, double n) {
  const bg_bb_history history(p, x, t_x);
  log_sum dead;
  double log_term = 0;
  for (double l = 0; l < n - t_x; ++l) {
    dead.add(log_term);
    log_term += history.log_ratio(l);
  }
  return {bg_bb_log_first_death(p, x, t_x), dead.log(),
          log_term + std::log1p((p.delta + n) / p.gamma)};
}

/**
 * E[1/(θ + d)] for θ ~ Beta(γ, b), b > 1, d > 0 (DERT's sum over the future). In y = logit θ,
 * ∫ θ^γ(1−θ)^b/(θ+d) dy over ∫ θ^γ(1−θ)^b dy; both log-integrands are concave (the first's
 * second derivative is −(γ+b−1)θ(1−θ) − d(1+d)e^y/(d+(1+d)e^y)²), so each is a log-concave rule
 * (math/log_concave_quadrature.hpp). Both are taken relative to the denominator's value at its
 * mode y₀ = ln(γ/b), through log1p(s·expm1(±(y−y₀))) with s the smaller of γ/(γ+b), b/(γ+b),
 * so that nothing of size γ or b ~ 1e8 is rounded before the two integrals meet. The numerator's mode is the positive root u = e^y of
 * (1+d)b·u² − (γ(1+d) − bd − 1)·u − γd = 0.
 */
inline double expected_inverse_shifted_beta(double gamma, double b, double d) {
  const double y0 = std::log(gamma) - std::log(b);
  const double s0 = gamma / (gamma + b);
  const double s1 = b / (gamma + b);
  // γΔ − (γ+b)·ln(1 + s₀(e^Δ − 1)) = −bΔ − (γ+b)·ln(1 + s₁(e^{−Δ} − 1)): the form with the
  // smaller of s₀, s₁ keeps its terms of size min(γ, b)·Δ.
  auto denominator = [=](double y) {
    const double offset = y - y0;
    return s0 <= s1 ? gamma * offset - (gamma + b) * std::log1p(s0 * std::expm1(offset))
                    : -b * offset - (gamma + b) * std::log1p(s1 * std::expm1(-offset));
  };
  auto numerator = [=](double y) {
    const double theta = math::expit(y);
    return denominator(y) - std::log(theta + d);
  };
  const double q = gamma * (1 + d) - b * d - 1;
  const double root = std::sqrt(q * q + 4 * (1 + d) * b * gamma * d);
  const double u = q > 0 ? (q + root) / (2 * (1 + d) * b) : 2 * gamma * d / (root - q);
  const double mode = std::log(u);
  const double s = u / (1 + u);
  const double curvature =
      (gamma + b - 1) * s * (1 - s) + d * (1 + d) * u / ((d + (1 + d) * u) * (d + (1 + d) * u));
  constexpr double inf = std::numeric_limits<double>::infinity();
  const auto top = math::log_concave_nodes(numerator, -inf, mode, inf, 1 / std::sqrt(curvature),
                                           math::log_concave_rule::max_panels);
  const auto bottom =
      math::log_concave_nodes(denominator, -inf, y0, inf, 1 / std::sqrt(gamma * b / (gamma + b)),
                              math::log_concave_rule::max_panels);
  return std::exp(top.log_integral() - bottom.log_integral());
}

/** Running weighted mean and covariance of the term derivatives (West's update, rescaled when
 * a larger log weight arrives), and the weighted mean of the term Hessians. */
struct term_moments {
  double top = -std::numeric_limits<double>::infinity();
  double weight = 0;
  std::array<double, 4> mean{};
  std::array<double, 16> scatter{};
  std::array<double, 16> hessian{};

  void add(double log_weight, const std::array<double, 4>& d, const std::array<double, 16>& h) {
    if (log_weight > top) {
      const double shrink = std::exp(top - log_weight);
      weight *= shrink;
      for (auto& v : scatter) v *= shrink;
      top = log_weight;
    }
    const double w = std::exp(log_weight - top);
    if (w == 0) return;
    weight += w;
    const double f = w / weight;
    std::array<double, 4> before{};
    for (std::size_t i = 0; i < 4; ++i) {
      before[i] = d[i] - mean[i];
      mean[i] += f * before[i];
    }
    for (std::size_t i = 0; i < 4; ++i) {
      for (std::size_t j = 0; j < 4; ++j) scatter[i * 4 + j] += w * before[i] * (d[j] - mean[j]);
    }
    for (std::size_t k = 0; k < 16; ++k) hessian[k] += f * (h[k] - hessian[k]);
  }
};

}  // namespace detail

/**
 * Checks discrete (frequency, recency, n_periods) histories: equal non-zero lengths; each a
 * finite non-negative integer; frequency <= recency <= n_periods; recency = 0 when frequency
 * = 0. Throws invalid_input naming the argument, the index and the value.
 */
inline void check_discrete_histories(std::string_view function, std::span<const double> frequency,
                                     std::span<const double> recency,
                                     std::span<const double> n_periods) {
  check::not_empty(function, "frequency", frequency.size());
  check::same_size(function, "frequency", frequency.size(), "recency", recency.size());
  check::same_size(function, "frequency", frequency.size(), "n_periods", n_periods.size());
  for (const auto& [name, values] : {std::pair{"frequency", frequency}, std::pair{"recency", recency},
                                     std::pair{"n_periods", n_periods}}) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      const double v = values[i];
      if (!(std::isfinite(v) && v >= 0)) check::fail_at(function, name, i, v, "must be finite and >= 0");
      if (!detail::is_whole(v)) check::fail_at(function, name, i, v, "must be an integer");
    }
  }
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    if (recency[i] > n_periods[i]) {
      check::fail(function, fmt::format("recency[{}] = {} is greater than n_periods[{}] = {}", i,
                                        recency[i], i, n_periods[i]));
    }
    if (frequency[i] > recency[i]) {
      check::fail(function,
                  fmt::format("frequency[{}] = {} is greater than recency[{}] = {}: at most one "
                              "transaction per opportunity, the last at opportunity recency",
                              i, frequency[i], i, recency[i]));
    }
    if (frequency[i] == 0 && recency[i] != 0) {
      check::fail(function, fmt::format("frequency[{}] = 0 but recency[{}] = {}: without "
                                        "transactions the recency is 0",
                                        i, i, recency[i]));
    }
  }
}

/**
 * BG/BB model traits for fit_model (see the namespace documentation): parameters (α, β, γ, δ),
 * patterns (x, u = t_x, v = n). Time is counted in opportunities and is not rescaled.
 */
struct bg_bb : detail::pattern_data {
  using params_type = bg_bb_params;
  static constexpr std::string_view name = "BG/BB";
  static constexpr std::size_t size = 4;
  static constexpr std::array<std::string_view, 4> names{"alpha", "beta", "gamma", "delta"};
  static constexpr std::array<int, 4> time_exponents{0, 0, 0, 0};

  static std::array<double, 4> to_array(const bg_bb_params& p) {
    return {p.alpha, p.beta, p.gamma, p.delta};
  }
  static bg_bb_params from_array(const std::array<double, 4>& v) { return {v[0], v[1], v[2], v[3]}; }

  static double time_scale(std::span<const pattern>) { return 1; }
  static void rescale(std::span<pattern>, double) {}
  static double log_likelihood_offset(std::span<const pattern>, double) { return 0; }

  static void check_params(std::string_view function, const bg_bb_params& p) {
    check::positive(function, "alpha", p.alpha);
    check::positive(function, "beta", p.beta);
    check::positive(function, "gamma", p.gamma);
    check::positive(function, "delta", p.delta);
  }

  /** ln L(α, β, γ, δ | x, t_x, n) (eq. 5). */
  static double log_likelihood(const bg_bb_params& p, double x, double t_x, double n) {
    return detail::bg_bb_likelihood_parts(p, x, t_x, n).log_likelihood();
  }

  /** P(alive at n | x, t_x, n) = B(α+x, β+n−x)B(γ, δ+n)/(B(α,β)B(γ,δ)L). */
  static double probability_alive(const bg_bb_params& p, double x, double t_x, double n) {
    return math::expit(detail::bg_bb_likelihood_parts(p, x, t_x, n).log_alive_odds());
  }

  /**
   * E[transactions in the next m opportunities | alive at n, x] =
   * (α+x)/(α+β+n) · Σ_{j=1..m} B(γ, D+j)/B(γ, D), D = δ+n; the sum is D·[(D+1)_m/(D+γ)_m − 1]/(1−γ)
   * (telescoping; eq. 13's bracket), formed as D·expm1((1−γ)·σ)/(1−γ) with
   * σ = ln((D+1)_m/(D+γ)_m)/(1−γ) (math::log_rising_ratio_slope), exact through γ = 1.
   */
  static double alive_purchases(const bg_bb_params& p, double m, double x, double n) {
    if (!(m > 0)) return 0;
    const double d = p.delta + n;
    const double slope = math::log_rising_ratio_slope(d + p.gamma, 1 - p.gamma, m);
    return (p.alpha + x) / (p.alpha + p.beta + n) * d * math::expm1_quotient(1 - p.gamma, slope);
  }

  /** E[X(n, n+m) | x, t_x, n] = P(alive at n)·alive_purchases (eq. 13). */
  static double conditional_expected(const bg_bb_params& p, double m, double x, double t_x,
                                     double n) {
    if (!(m > 0)) return 0;
    const double alive = probability_alive(p, x, t_x, n);
    return alive == 0 ? 0.0 : alive * alive_purchases(p, m, x, n);
  }

  /** E[X(n)] for a new customer (eq. 8): conditional_expected at x = t_x = n = 0. */
  static double expected_new(const bg_bb_params& p, double n) {
    return conditional_expected(p, n, 0, 0, 0);
  }

  /**
   * P(X(n) = x) for a new customer (eq. 7):
   *   C(n,x) B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
   *   + Σ_{i=x}^{n−1} C(i,x) B(α+x, β+i−x)/B(α,β) · B(γ+1, δ+i)/B(γ,δ),
   * its terms relative to the one at i = x as in the likelihood (ratio (i+1)/(i+1−x)·r_l).
   */
  static double pmf(const bg_bb_params& p, double n, double x) {
    if (x > n) return 0;
    const double log_first = math::log_gamma_ratio(p.alpha, x) -
                             math::log_gamma_ratio(p.alpha + p.beta, x) +
                             math::log_gamma_ratio(p.delta, x);
    if (x == n) {
      return std::exp(log_first - math::log_gamma_ratio(p.gamma + p.delta, n));
    }
    const detail::bg_bb_history history(p, x, x);
    detail::log_sum terms;
    double log_term = 0;
    for (double l = 0; l < n - x; ++l) {
      terms.add(log_term);
      log_term += history.log_ratio(l) + std::log1p(x / (l + 1));
    }
    terms.add(log_term + std::log1p((p.delta + n) / p.gamma));
    return std::exp(log_first + std::log(p.gamma) -
                    math::log_gamma_ratio(p.gamma + p.delta, x + 1) + terms.log());
  }

  /** Adds Σ w·ln L and its derivatives in (α, β, γ, δ) over rows sorted by x. */
  template <bool WithHessian>
  static void accumulate(const bg_bb_params& p, std::span<const pattern> rows,
                         log_likelihood_derivatives<4>& out) {
    const double a = p.alpha, b = p.beta, g = p.gamma, d = p.delta;
    for (const auto& row : rows) {
      const double x = row.x, t_x = row.u, n = row.v;
      const detail::bg_bb_history history(p, x, t_x);
      // ln t₀'s derivatives: digamma and trigamma differences.
      const double psi_ab = math::digamma_difference(a + b, t_x);
      const double psi_gd = math::digamma_difference(g + d, t_x + 1);
      const std::array<double, 4> first_gradient{
          math::digamma_difference(a, x) - psi_ab, math::digamma_difference(b, t_x - x) - psi_ab,
          1 / g - psi_gd, math::digamma_difference(d, t_x) - psi_gd};
      std::array<double, 16> first_hessian{};
      if constexpr (WithHessian) {
        const double tri_ab = math::trigamma_difference(a + b, t_x);
        const double tri_gd = math::trigamma_difference(g + d, t_x + 1);
        first_hessian[0] = math::trigamma_difference(a, x) - tri_ab;
        first_hessian[1] = first_hessian[4] = -tri_ab;
        first_hessian[5] = math::trigamma_difference(b, t_x - x) - tri_ab;
        first_hessian[10] = -1 / (g * g) - tri_gd;
        first_hessian[11] = first_hessian[14] = -tri_gd;
        first_hessian[15] = math::trigamma_difference(d, t_x) - tri_gd;
      }
      detail::term_moments moments;
      std::array<double, 4> derivative{};
      std::array<double, 16> curvature{};
      double log_term = 0;
      for (double l = 0; l < n - t_x; ++l) {
        moments.add(log_term, derivative, curvature);
        log_term += history.log_ratio(l);
        const double pn = history.purchase_num + l, pd = pn + history.purchase_gap;
        const double dn = history.dropout_num + l, dd = dn + history.dropout_gap;
        derivative[0] -= 1 / pd;
        derivative[1] += history.purchase_gap / (pn * pd);
        derivative[2] -= 1 / dd;
        derivative[3] += history.dropout_gap / (dn * dd);
        if constexpr (WithHessian) {
          curvature[0] += 1 / (pd * pd);
          curvature[1] = curvature[4] = curvature[0];
          curvature[5] -= history.purchase_gap * (pn + pd) / (pn * pn * pd * pd);
          curvature[10] += 1 / (dd * dd);
          curvature[11] = curvature[14] = curvature[10];
          curvature[15] -= history.dropout_gap * (dn + dd) / (dn * dn * dd * dd);
        }
      }
      // The alive term: × (γ+δ+n)/γ.
      const double total = g + d + n;
      derivative[2] -= (d + n) / (g * total);
      derivative[3] += 1 / total;
      if constexpr (WithHessian) {
        curvature[10] += (d + n) * (g + total) / (g * g * total * total);
        curvature[11] -= 1 / (total * total);
        curvature[14] -= 1 / (total * total);
        curvature[15] -= 1 / (total * total);
      }
      moments.add(log_term + std::log1p((d + n) / g), derivative, curvature);

      const double w = row.weight;
      out.value += w * (detail::bg_bb_log_first_death(p, x, t_x) + moments.top +
                        std::log(moments.weight));
      for (std::size_t i = 0; i < 4; ++i) out.gradient[i] += w * (first_gradient[i] + moments.mean[i]);
      if constexpr (WithHessian) {
        for (std::size_t k = 0; k < 16; ++k) {
          out.hessian[k] += w * (first_hessian[k] + moments.hessian[k] +
                                 moments.scatter[k] / moments.weight);
        }
      }
    }
  }

  template <bool WithHessian>
  static log_likelihood_derivatives<4> log_likelihood_sums(const bg_bb_params& p,
                                                           std::span<const pattern> rows) {
    return detail::sum_over_patterns<bg_bb, WithHessian>(p, rows);
  }

  static void check_fit_data(std::string_view function, std::span<const pattern> rows) {
    if (std::none_of(rows.begin(), rows.end(), [](const pattern& row) { return row.x > 0; })) {
      check::fail(function,
                  "every customer has frequency 0: without repeat transactions the BG/BB "
                  "parameters cannot be estimated");
    }
  }

  /** Starts (opportunities are not rescaled); the first is near the donations estimate. */
  static std::vector<std::array<double, 4>> starting_points(std::span<const pattern>) {
    return {{1, 1, 1, 1}, {1.2, 0.75, 0.65, 2.8}, {0.5, 0.5, 0.5, 0.5}, {3, 1, 0.3, 3}};
  }

  /**
   * Warnings for estimates beyond 1e6 on both shapes of a Beta (every customer has the same
   * probability: no heterogeneity) or with γ → 0 (dropout probabilities concentrated at 0).
   */
  static std::vector<std::string> boundary_warnings(const bg_bb_params& p) {
    constexpr double boundary = 1e6;
    std::vector<std::string> warnings;
    if (p.alpha > boundary && p.beta > boundary) {
      warnings.push_back(fmt::format(
          "alpha = {:.4g}, beta = {:.4g} at the boundary alpha, beta → ∞: every customer has the "
          "transaction probability {:.4g} (no heterogeneity)",
          p.alpha, p.beta, p.alpha / (p.alpha + p.beta)));
    }
    if (p.gamma > boundary && p.delta > boundary) {
      warnings.push_back(fmt::format(
          "gamma = {:.4g}, delta = {:.4g} at the boundary gamma, delta → ∞: every customer has "
          "the dropout probability {:.4g} (no heterogeneity)",
          p.gamma, p.delta, p.gamma / (p.gamma + p.delta)));
    } else if (p.gamma < 1 / boundary) {
      warnings.push_back(fmt::format(
          "gamma = {:.4g} at the boundary gamma → 0: dropout probabilities concentrate at 0 "
          "(almost no dropout)",
          p.gamma));
    }
    return warnings;
  }
};

template <>
struct model_for<bg_bb_params> {
  using type = bg_bb;
};

/**
 * Fits BG/BB by maximum likelihood to per-customer (frequency, recency, n_periods), optionally
 * weighted (customers per row, as in lifetimes' `BetaGeoBetaBinomFitter.fit`); exact gradient
 * and Hessian, standard errors from the observed information (fit.hpp).
 *
 * **Example** (donations, FHS 2010): α, β, γ, δ ≈ 1.2035, 0.7497, 0.6567, 2.7834,
 * LL ≈ −33,225.58.
 *
 * @throw invalid_input for bad histories (check_discrete_histories) or weights, or when no
 *        customer has a transaction; numerical_error if the likelihood is nowhere finite.
 */
inline fit_result<bg_bb_params, 4> fit_bg_bb(std::span<const double> frequency,
                                             std::span<const double> recency,
                                             std::span<const double> n_periods,
                                             std::span<const double> weights = {},
                                             const fit_options& options = {}) {
  constexpr std::string_view function = "fit_bg_bb";
  check_discrete_histories(function, frequency, recency, n_periods);
  detail::check_weights(function, weights, frequency.size());
  return fit_model<bg_bb>(function, compress(frequency, recency, n_periods, weights), options,
                          frequency.size());
}

/** P(alive at n + m | x, t_x, n) = P(alive at n)·B(γ, δ+n+m)/B(γ, δ+n) (eq. A10). */
inline double conditional_probability_alive_at(const bg_bb_params& p, double m, double x,
                                               double t_x, double n) {
  const double d = p.delta + n;
  return bg_bb::probability_alive(p, x, t_x, n) *
         std::exp(-p.gamma * math::log_rising_ratio_slope(d, p.gamma, m));
}

/**
 * Discounted expected residual transactions at a discount rate d per opportunity (eq. 14):
 *   DERT = B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n+1)/(B(γ,δ)(1+d)) · ₂F₁(1, δ+n+1; γ+δ+n+1; 1/(1+d)) / L
 *        = P(alive at n)·(α+x)/(α+β+n)·(δ+n)/(γ+δ+n)·E[1/(θ+d)],  θ ~ Beta(γ, δ+n+1)
 * (the series Σ_j (1−θ)^j/(1+d)^j summed under the posterior), E[1/(θ+d)] by
 * detail::expected_inverse_shifted_beta. CLV = DERT × value per transaction.
 */
inline double discounted_expected_residual_transactions(const bg_bb_params& p, double d, double x,
                                                        double t_x, double n) {
  const double alive = bg_bb::probability_alive(p, x, t_x, n);
  if (alive == 0) return 0;
  const double survivors = p.delta + n;
  return alive * (p.alpha + x) / (p.alpha + p.beta + n) * survivors / (p.gamma + survivors) *
         detail::expected_inverse_shifted_beta(p.gamma, survivors + 1, d);
}

namespace detail {

/** Checks params, histories and a horizon argument (whole numbers >= 0, length 1 or one per
 * customer) of a vectorised BG/BB prediction. */
inline void check_bg_bb_prediction(std::string_view function, const bg_bb_params& p,
                                   std::string_view horizon_name, std::span<const double> horizon,
                                   std::span<const double> x, std::span<const double> t_x,
                                   std::span<const double> n) {
  bg_bb::check_params(function, p);
  check_discrete_histories(function, x, t_x, n);
  if (horizon_name.empty()) return;
  check_times(function, horizon_name, horizon, x.size());
  for (std::size_t i = 0; i < horizon.size(); ++i) {
    if (!is_whole(horizon[i])) check::fail_at(function, horizon_name, i, horizon[i], "must be an integer");
  }
}

}  // namespace detail

/** Vectorised P(alive at n + m); m of length 1 broadcasts. */
inline std::vector<double> conditional_probability_alive_at(const bg_bb_params& p,
                                                            std::span<const double> m,
                                                            std::span<const double> x,
                                                            std::span<const double> t_x,
                                                            std::span<const double> n) {
  constexpr std::string_view function = "conditional_probability_alive";
  detail::check_bg_bb_prediction(function, p, "m_periods_in_future", m, x, t_x, n);
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return conditional_probability_alive_at(p, detail::broadcast(m, i), x[i], t_x[i], n[i]);
  });
}

/** Vectorised E[X(n, n+m) | x, t_x, n]; m of length 1 broadcasts. */
inline std::vector<double> conditional_expected_number_of_purchases_up_to_time(
    const bg_bb_params& p, std::span<const double> m, std::span<const double> x,
    std::span<const double> t_x, std::span<const double> n) {
  constexpr std::string_view function = "conditional_expected_number_of_purchases_up_to_time";
  detail::check_bg_bb_prediction(function, p, "m_periods_in_future", m, x, t_x, n);
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return bg_bb::conditional_expected(p, detail::broadcast(m, i), x[i], t_x[i], n[i]);
  });
}

/** Vectorised DERT at discount rate d > 0 per opportunity. */
inline std::vector<double> discounted_expected_residual_transactions(
    const bg_bb_params& p, double discount_rate, std::span<const double> x,
    std::span<const double> t_x, std::span<const double> n) {
  constexpr std::string_view function = "discounted_expected_residual_transactions";
  detail::check_bg_bb_prediction(function, p, "", {}, x, t_x, n);
  check::positive(function, "discount_rate", discount_rate);
  check::finite(function, "discount_rate", discount_rate);
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return discounted_expected_residual_transactions(p, discount_rate, x[i], t_x[i], n[i]);
  });
}

/** Vectorised ln L per history. */
inline std::vector<double> log_likelihood(const bg_bb_params& p, std::span<const double> x,
                                          std::span<const double> t_x,
                                          std::span<const double> n) {
  constexpr std::string_view function = "log_likelihood";
  detail::check_bg_bb_prediction(function, p, "", {}, x, t_x, n);
  return detail::per_customer(
      x.size(), [&](std::size_t i) { return bg_bb::log_likelihood(p, x[i], t_x[i], n[i]); });
}

/** Vectorised P(X(n) = x) for new customers (eq. 7); n and x broadcast when of length 1. */
inline std::vector<double> probability_of_n_purchases_up_to_time(const bg_bb_params& p,
                                                                 std::span<const double> n,
                                                                 std::span<const double> x) {
  constexpr std::string_view function = "probability_of_n_purchases_up_to_time";
  bg_bb::check_params(function, p);
  check::not_empty(function, "n", x.size());
  detail::check_frequency(function, x);
  const std::size_t size = std::max(n.size(), x.size());
  detail::check_times(function, "n_periods", n, size, "n");
  if (x.size() != 1) check::same_size(function, "n", x.size(), "n_periods", size);
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!detail::is_whole(n[i])) check::fail_at(function, "n_periods", i, n[i], "must be an integer");
  }
  return detail::per_customer(size, [&](std::size_t i) {
    return bg_bb::pmf(p, detail::broadcast(n, i), detail::broadcast(x, i));
  });
}

/** Vectorised E[X(n)] for new customers (eq. 8). */
inline std::vector<double> expected_number_of_purchases_up_to_time(const bg_bb_params& p,
                                                                   std::span<const double> n) {
  constexpr std::string_view function = "expected_number_of_purchases_up_to_time";
  bg_bb::check_params(function, p);
  check::not_empty(function, "n_periods", n.size());
  check::all_nonnegative(function, "n_periods", n);
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!detail::is_whole(n[i])) check::fail_at(function, "n_periods", i, n[i], "must be an integer");
  }
  return detail::per_customer(n.size(), [&](std::size_t i) { return bg_bb::expected_new(p, n[i]); });
}

}  // namespace crmkit::clv
