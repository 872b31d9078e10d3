#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "crmkit/clv/delta_method.hpp"
#include "crmkit/clv/gamma_gamma.hpp"
#include "crmkit/clv/interval.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/clv/value.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/math/normal.hpp"

/**
 * The delta method for customer lifetime value, arranged for 10^6 customers: the same intervals
 * as delta_method on customer_lifetime_value with both models' parameters (equal up to rounding,
 * ~1e-12 relative), at a fraction of the work.
 */
namespace crmkit::clv {

/** Customers whose lifetime value is not finite at the estimate or a perturbed point. */
struct unfinished_customers {
  std::size_t count = 0;  ///< how many
  std::size_t first = 0;  ///< the first of them (valid when count > 0)
};

/**
 * Delta-method intervals of CLV_i = E_i(θ_g)·D_i(θ_t) per customer and of their sum, with E_i
 * the expected mean spend (expected_spend's policy: one-time buyers the population mean,
 * zero-spend repeat buyers the mean at zero spend) and D_i the discounted expected purchases
 * (discounted_purchases) of the transaction model. It computes exactly what delta_method does
 * for that quantity with the joint parameters (θ_t, θ_g), covariance block-diagonal: central
 * differences of step delta_method_step in ln θ, intervals by normal_interval. Two facts make
 * it cheap:
 * - D_i depends on the customer only through the history (x, t_x, T), E_i only on (x, m): the
 *   transaction model's 2·4 + 1 forecasts run once per distinct history (group_by_history), and
 *   a move of a spend parameter leaves D unchanged, so it costs no forecast at all (the
 *   difference of CLV is D_i times that of E_i, a closed form per customer);
 * - with Σ = diag(Σ_t, Σ_g), Var CLV_i = E_i² ∇D_h'Σ_t∇D_h + D_h² ∇E_i'Σ_g∇E_i, the first
 *   quadratic form once per history h.
 * The total's gradient adds the customers' in fixed chunks in index order (any thread count
 * gives the same result). `estimates`, when given, are the centres of the customers' intervals
 * (the CLV already computed, e.g. by the pipeline; they must be that quantity), else
 * E_i·D_i is.
 *
 * A customer whose value is not finite at the estimate or a perturbed point (an infinite mean
 * spend, p·x + q ≤ 1): with `unfinished` null, numerical_error naming the first such customer
 * (as delta_method); otherwise their ends and the total are NaN and `unfinished` counts them.
 *
 * @throw numerical_error if a covariance is unavailable (see log_parameter_covariance);
 *        invalid_input for bad inputs (naming the argument, index and value).
 */
template <transaction_params P>
forecast_intervals lifetime_value_delta_method(
    std::string_view function, const P& params, const Eigen::MatrixXd& covariance,
    const gamma_gamma_params& spend, const Eigen::MatrixXd& spend_covariance,
    std::span<const double> x, std::span<const double> t_x, std::span<const double> age,
    std::span<const double> monetary_value, double months, double discount_rate, double periods,
    const interval_options& options, std::span<const double> estimates = {},
    unfinished_customers* unfinished = nullptr) {
  using model = typename model_for<P>::type;
  constexpr std::size_t purchase_parameters = model::size;
  check_interval_options(function, options);
  check_params(function, params);
  check_histories(function, x, t_x, age);
  gamma_gamma::check_params(function, spend);
  const std::size_t n = x.size();
  check::same_size(function, "monetary_value", monetary_value.size(), "frequency", n);
  check::all_finite(function, "monetary_value", monetary_value);
  if (!estimates.empty()) check::same_size(function, "estimates", estimates.size(), "frequency", n);
  const auto fixed = model::to_array(params);
  const std::vector<double> values(fixed.begin(), fixed.end());
  const std::array<double, 3> spend_values{spend.p, spend.q, spend.v};
  const Eigen::MatrixXd sigma = log_parameter_covariance(function, values, covariance);
  const Eigen::MatrixXd spend_sigma =
      log_parameter_covariance(function, spend_values, spend_covariance);

  // The discounted purchases of every history at the estimate (slot 0) and with parameter k
  // moved up (slot 2k + 1) and down (2k + 2). The forecasts are independent: each runs on one
  // worker (its loops then serial, with the same chunks, so the same values), several side by
  // side, so that their serial parts (the grouping by (x, T)) overlap too.
  const auto histories = group_by_history(x, t_x, age);
  const std::size_t h_count = histories.size();
  std::array<std::vector<double>, 2 * purchase_parameters + 1> purchases;
  parallel_chunks(purchases.size(), 1, [&](std::size_t slot, std::size_t, std::size_t) {
    auto moved = fixed;
    if (slot > 0) {
      const std::size_t k = (slot - 1) / 2;
      moved[k] *= std::exp(slot % 2 == 1 ? delta_method_step : -delta_method_step);
    }
    const customer_forecast<P> forecast(function, model::from_array(moved), histories.frequency,
                                        histories.recency, histories.age);
    purchases[slot] = discounted_purchases(function, forecast, months, discount_rate, periods);
  });
  // Per history: the gradient of D in ln θ_t and ∇D'Σ_t∇D (NaN when D is not finite).
  std::vector<std::array<double, purchase_parameters>> gradient(h_count);
  std::vector<double> purchase_variance(h_count);
  const Eigen::Matrix<double, purchase_parameters, purchase_parameters> sigma_t = sigma;
  parallel_for(h_count, [&](std::size_t begin, std::size_t end) {
    for (std::size_t h = begin; h < end; ++h) {
      bool finite = std::isfinite(purchases[0][h]);
      Eigen::Matrix<double, purchase_parameters, 1> g;
      for (std::size_t k = 0; k < purchase_parameters; ++k) {
        const double up = purchases[2 * k + 1][h], down = purchases[2 * k + 2][h];
        finite = finite && std::isfinite(up) && std::isfinite(down);
        g[static_cast<Eigen::Index>(k)] = (up - down) / (2 * delta_method_step);
        gradient[h][k] = g[static_cast<Eigen::Index>(k)];
      }
      purchase_variance[h] =
          finite ? g.dot(sigma_t * g) : std::numeric_limits<double>::quiet_NaN();
    }
  });

  // Per customer, in fixed chunks: E_i and its differences, the interval, and the chunk's share
  // of the total's gradient (purchase parameters, then p, q, v) and of the total.
  std::array<gamma_gamma_params, 6> moved_spend;
  for (std::size_t slot = 0; slot < moved_spend.size(); ++slot) {
    auto moved = spend_values;
    moved[slot / 2] *= std::exp(slot % 2 == 0 ? delta_method_step : -delta_method_step);
    moved_spend[slot] = {moved[0], moved[1], moved[2]};
  }
  const Eigen::Matrix3d sigma_g = spend_sigma;
  constexpr std::size_t sums = purchase_parameters + 3 + 1;
  constexpr std::size_t grain = default_grain;
  forecast_intervals out;
  if (options.per_customer) out.customers.resize(n);
  std::vector<unfinished_customers> chunk_unfinished(chunk_count(n, grain));
  const double z = math::two_sided_critical_value(options.level);
  const auto partial = [&](std::size_t begin, std::size_t end) {
    std::array<double, sums> sum{};
    auto& bad = chunk_unfinished[begin / grain];
    for (std::size_t i = begin; i < end; ++i) {
      const std::size_t h = histories.of_customer[i];
      const double m = std::max(monetary_value[i], 0.0);
      const double e = conditional_expected_average_profit(spend, x[i], m);
      Eigen::Vector3d spend_gradient;
      bool finite = std::isfinite(e) && std::isfinite(purchase_variance[h]);
      for (std::size_t k = 0; k < 3; ++k) {
        const double up = conditional_expected_average_profit(moved_spend[2 * k], x[i], m);
        const double down = conditional_expected_average_profit(moved_spend[2 * k + 1], x[i], m);
        finite = finite && std::isfinite(up) && std::isfinite(down);
        spend_gradient[static_cast<Eigen::Index>(k)] = (up - down) / (2 * delta_method_step);
      }
      if (!finite) {
        if (bad.count++ == 0) bad.first = i;
        if (options.per_customer) {
          const double nan = std::numeric_limits<double>::quiet_NaN();
          out.customers[i] = {estimates.empty() ? e * purchases[0][h] : estimates[i], nan, nan, nan};
        }
        continue;
      }
      const double d = purchases[0][h];
      const double estimate = estimates.empty() ? e * d : estimates[i];
      for (std::size_t k = 0; k < purchase_parameters; ++k) sum[k] += e * gradient[h][k];
      for (std::size_t k = 0; k < 3; ++k) {
        sum[purchase_parameters + k] += d * spend_gradient[static_cast<Eigen::Index>(k)];
      }
      sum[sums - 1] += estimate;
      if (options.per_customer) {
        const double variance =
            e * e * purchase_variance[h] + d * d * spend_gradient.dot(sigma_g * spend_gradient);
        out.customers[i] = normal_interval_at(estimate, std::sqrt(std::max(variance, 0.0)), z);
      }
    }
    return sum;
  };
  const auto total = parallel_reduce(
      n, std::array<double, sums>{}, partial,
      [](std::array<double, sums> a, const std::array<double, sums>& b) {
        for (std::size_t k = 0; k < sums; ++k) a[k] += b[k];
        return a;
      },
      grain);
  unfinished_customers bad;
  for (const auto& each : chunk_unfinished) {
    if (each.count > 0 && bad.count == 0) bad.first = each.first;
    bad.count += each.count;
  }
  if (bad.count > 0) {
    if (unfinished == nullptr) {
      throw numerical_error(fmt::format(
          "{}: the lifetime value of customer {} is not finite at the estimate or a perturbed "
          "parameter point ({} customer(s) in all); no interval",
          function, bad.first, bad.count));
    }
    *unfinished = bad;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    out.total = {nan, nan, nan, nan};
    return out;
  }
  if (unfinished != nullptr) *unfinished = bad;
  Eigen::Matrix<double, purchase_parameters, 1> purchase_total;
  Eigen::Vector3d spend_total;
  for (std::size_t k = 0; k < purchase_parameters; ++k) {
    purchase_total[static_cast<Eigen::Index>(k)] = total[k];
  }
  for (std::size_t k = 0; k < 3; ++k) {
    spend_total[static_cast<Eigen::Index>(k)] = total[purchase_parameters + k];
  }
  const double total_variance =
      purchase_total.dot(sigma_t * purchase_total) + spend_total.dot(sigma_g * spend_total);
  out.total = normal_interval(total[sums - 1], std::sqrt(std::max(total_variance, 0.0)),
                              options.level);
  return out;
}

}  // namespace crmkit::clv
