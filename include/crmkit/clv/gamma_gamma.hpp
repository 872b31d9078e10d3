#pragma once

#include <array>
#include <cmath>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/math/special.hpp"

namespace crmkit::clv {

/** Gamma-Gamma parameters in lifetimes' names: per-transaction spend z ~ Gamma(p, ν) with the
 * customer's scale ν ~ Gamma(q, v) (v is γ in Fader & Hardie's note 025). */
struct gamma_gamma_params {
  double p = 1;
  double q = 2;
  double v = 1;
};

/**
 * The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42; Fader & Hardie
 * 2013, note 025) as model traits for fit_model. For a customer with x > 0 repeat purchases of
 * mean value m (rows: x, u = m, v = ln m):
 *
 *   ℓ = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + (px−1) ln m + px ln x − (px+q) ln(v + x m),
 *
 * as in lifetimes' `gamma_gamma_fitter.py` and CLVTools' `gg_LL.cpp`. Spend is not rescaled
 * (lifetimes does not), so `penalizer_coef` has lifetimes' meaning.
 */
struct gamma_gamma {
  using params_type = gamma_gamma_params;
  static constexpr std::size_t size = 3;
  static constexpr std::string_view name = "Gamma-Gamma";
  static constexpr std::array<std::string_view, 3> names{"p", "q", "v"};
  static constexpr std::array<int, 3> time_exponents{0, 0, 0};

  static std::array<double, 3> to_array(const params_type& g) { return {g.p, g.q, g.v}; }
  static params_type from_array(const std::array<double, 3>& v) { return {v[0], v[1], v[2]}; }
  static double time_scale(std::span<const pattern>) { return 1; }
  static void rescale(std::span<pattern>, double) {}
  static double log_likelihood_offset(std::span<const pattern>, double) { return 0; }
  static void check_fit_data(std::string_view, std::span<const pattern>) {}

  static void check_params(std::string_view function, const params_type& g) {
    check::positive(function, "p", g.p);
    check::positive(function, "q", g.q);
    check::positive(function, "v", g.v);
  }

  /** Starts scaled to the data: the population mean pv/(q−1) equals the mean spend first. */
  static std::vector<std::array<double, 3>> starting_points(std::span<const pattern> rows) {
    double weight = 0;
    double total = 0;
    for (const auto& row : rows) {
      weight += row.weight;
      total += row.weight * row.u;
    }
    const double mean = total / weight;
    const double e = std::exp(0.1);
    return {{1.0, 3.0, 2 * mean}, {e, e, e}, {5.0, 5.0, 4 * mean}, {0.5, 1.5, mean}};
  }

  template <bool WithHessian>
  static void accumulate(const params_type& g, std::span<const pattern> rows,
                         log_likelihood_derivatives<3>& out) {
    const double p = g.p;
    const double q = g.q;
    const double v = g.v;
    const double log_v = std::log(v);
    const double lgamma_q = math::lgamma(q);
    const double psi_q = math::digamma(q);
    const double tri_q = WithHessian ? math::trigamma(q) : 0.0;
    double x = std::numeric_limits<double>::quiet_NaN();
    double px = 0, log_x = 0, base = 0, psi_sum = 0, psi_px = 0, tri_sum = 0, tri_px = 0;
    double value = 0, d_p = 0, d_q = 0, d_v = 0;
    double h_pp = 0, h_pq = 0, h_pv = 0, h_qq = 0, h_qv = 0, h_vv = 0;
    for (const auto& row : rows) {
      if (row.x != x) {
        x = row.x;
        px = p * x;
        log_x = std::log(x);
        base = math::lgamma(px + q) - math::lgamma(px) - lgamma_q + q * log_v + px * log_x;
        psi_sum = math::digamma(px + q);
        psi_px = math::digamma(px);
        if constexpr (WithHessian) {
          tri_sum = math::trigamma(px + q);
          tri_px = math::trigamma(px);
        }
      }
      const double w = row.weight;
      const double m = row.u;
      const double log_m = row.v;
      const double spend = v + x * m;
      const double log_spend = std::log(spend);
      const double inv_spend = 1 / spend;
      value += w * (base + (px - 1) * log_m - (px + q) * log_spend);
      d_p += w * x * (psi_sum - psi_px + log_x + log_m - log_spend);
      d_q += w * (psi_sum - psi_q + log_v - log_spend);
      d_v += w * (q / v - (px + q) * inv_spend);
      if constexpr (WithHessian) {
        h_pp += w * x * x * (tri_sum - tri_px);
        h_pq += w * x * tri_sum;
        h_pv -= w * x * inv_spend;
        h_qq += w * (tri_sum - tri_q);
        h_qv += w * (1 / v - inv_spend);
        h_vv += w * (-q / (v * v) + (px + q) * inv_spend * inv_spend);
      }
    }
    out.value += value;
    out.gradient[0] += d_p;
    out.gradient[1] += d_q;
    out.gradient[2] += d_v;
    if constexpr (WithHessian) {
      const double h[9] = {h_pp, h_pq, h_pv, h_pq, h_qq, h_qv, h_pv, h_qv, h_vv};
      for (std::size_t i = 0; i < 9; ++i) out.hessian[i] += h[i];
    }
  }
};

template <>
struct model_for<gamma_gamma_params> {
  using type = gamma_gamma;
};

/**
 * Checks (frequency, monetary_value) for the spend model: equal non-zero lengths, frequency an
 * integer >= 1 (only customers with repeat purchases carry spend information), monetary_value
 * finite and > 0.
 */
inline void check_spend(std::string_view function, std::span<const double> frequency,
                        std::span<const double> monetary_value, bool allow_zero_frequency) {
  check::not_empty(function, "frequency", frequency.size());
  check::same_size(function, "frequency", frequency.size(), "monetary_value",
                   monetary_value.size());
  detail::check_frequency(function, frequency);
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    if (frequency[i] == 0 && allow_zero_frequency) continue;
    if (frequency[i] < 1) {
      check::fail_at(function, "frequency", i, frequency[i],
                     "must be >= 1: the Gamma-Gamma model is fitted on customers with repeat "
                     "purchases only");
    }
    if (!(std::isfinite(monetary_value[i]) && monetary_value[i] > 0)) {
      check::fail_at(function, "monetary_value", i, monetary_value[i],
                     "must be positive and finite");
    }
  }
}

/**
 * Fits the Gamma-Gamma spend model to repeat customers' (frequency x ≥ 1, mean repeat spend m);
 * see fit.hpp. A fitted q ≤ 1 adds a warning: the population mean spend pv/(q−1) is then
 * undefined (infinite).
 *
 * **Example** (CDNOW's 946 repeat buyers, note 025): p, q, v ≈ 6.2488, 3.7446, 15.4478,
 * LL ≈ −4055.92.
 */
inline fit_result<gamma_gamma_params, 3> fit_gamma_gamma(std::span<const double> frequency,
                                                         std::span<const double> monetary_value,
                                                         std::span<const double> weights = {},
                                                         const fit_options& options = {}) {
  constexpr std::string_view function = "fit_gamma_gamma";
  check_spend(function, frequency, monetary_value, false);
  detail::check_weights(function, weights, frequency.size());
  auto rows = compress(frequency, monetary_value, monetary_value, weights);
  for (auto& row : rows) row.v = std::log(row.u);
  auto result = fit_model<gamma_gamma>(function, std::move(rows), options, frequency.size());
  if (!(result.params.q > 1)) {
    result.warnings.push_back(fmt::format(
        "Gamma-Gamma: q = {:.6g} <= 1, so the population mean spend p·v/(q−1) is undefined "
        "(infinite); expected spend for customers with px + q <= 1 is reported as +inf",
        result.params.q));
  }
  return result;
}

/**
 * E[Z | x, m] = (p v + p x m)/(p x + q − 1), the conditional expected mean spend (note 025
 * eq. 5): a weighted mean of the population mean pv/(q−1) and the customer's mean m. x = 0
 * gives the population mean. Where px + q ≤ 1 the expectation is infinite and +inf is returned.
 */
inline double conditional_expected_average_profit(const gamma_gamma_params& g, double x, double m) {
  const double denominator = g.p * x + g.q - 1;
  if (!(denominator > 0)) return std::numeric_limits<double>::infinity();
  return g.p * (g.v + x * (x > 0 ? m : 0.0)) / denominator;
}

}  // namespace crmkit::clv
