#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "crmkit/clv/delta_method.hpp"
#include "crmkit/clv/draw_intervals.hpp"
#include "crmkit/clv/gamma_gamma.hpp"
#include "crmkit/clv/interval.hpp"
#include "crmkit/clv/parametric_bootstrap.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/clv/value.hpp"
#include "crmkit/clv/value_intervals.hpp"
#include "crmkit/core/check.hpp"

/**
 * Intervals of the fitted models' parameters and forecasts (expected purchases, expected spend,
 * lifetime value; per customer and for the whole base), by the method `interval_options` names.
 * They carry the parameters' estimation uncertainty only: the spread of a customer's actual
 * future purchases around their expectation is predictive_interval.hpp's.
 */
namespace crmkit::clv {

/**
 * Intervals of a quantity g(θ) (see delta_method and draw_intervals for `quantity`): the delta
 * method, a parametric bootstrap with options.draws draws, or, for a customer bootstrap,
 * percentile intervals over `bootstrap` (rows of parameters from customer_bootstrap).
 *
 * @throw invalid_input for bad options or a customer bootstrap without draws.
 */
template <class Quantity>
forecast_intervals quantity_intervals(std::string_view function, Quantity&& quantity,
                                      std::span<const double> values,
                                      const Eigen::MatrixXd& covariance,
                                      const interval_options& options,
                                      const std::vector<std::vector<double>>& bootstrap = {}) {
  check_interval_options(function, options);
  switch (options.method) {
    case interval_method::delta:
      return delta_method(function, quantity, values, covariance, options);
    case interval_method::parametric_bootstrap:
      return draw_intervals(
          function, quantity, values,
          parametric_draws(function, values, covariance, options.draws, options.seed), options);
    case interval_method::customer_bootstrap:
      if (bootstrap.empty()) {
        check::fail(function, "method 'customer_bootstrap' needs the refits' parameters "
                              "(customer_bootstrap)");
      }
      for (const auto& draw : bootstrap) {
        check::same_size(function, "bootstrap draw", draw.size(), "parameters", values.size());
      }
      return draw_intervals(function, quantity, values, bootstrap, options);
  }
  check::fail(function, "unknown interval method");
}

namespace detail {

template <class Model>
typename Model::params_type params_from(std::span<const double> values) {
  std::array<double, Model::size> fixed{};
  std::copy_n(values.begin(), Model::size, fixed.begin());
  return Model::from_array(fixed);
}

template <class P>
std::vector<double> values_of(const P& params) {
  const auto fixed = model_for<P>::type::to_array(params);
  return {fixed.begin(), fixed.end()};
}

}  // namespace detail

/**
 * Intervals of the parameters themselves: `customers` holds one per parameter, in order, whatever
 * options.per_customer says.
 */
inline forecast_intervals parameter_intervals(std::span<const double> values,
                                              const Eigen::MatrixXd& covariance,
                                              interval_options options,
                                              const std::vector<std::vector<double>>& bootstrap = {}) {
  options.per_customer = true;
  return quantity_intervals(
      "parameter_intervals",
      [](std::span<const double> at) { return std::vector<double>(at.begin(), at.end()); },
      values, covariance, options, bootstrap);
}

/**
 * Intervals of E[Y(t) | x, t_x, T], each customer's expected purchases in the next t periods
 * (customer_forecast), and of their sum over the customers given.
 */
template <transaction_params P>
forecast_intervals expected_purchases_intervals(const P& params, const Eigen::MatrixXd& covariance,
                                                double t, std::span<const double> x,
                                                std::span<const double> t_x,
                                                std::span<const double> age,
                                                const interval_options& options,
                                                const std::vector<std::vector<double>>& bootstrap = {}) {
  constexpr std::string_view function = "expected_purchases_intervals";
  using model = typename model_for<P>::type;
  check::nonnegative(function, "t", t);
  check_histories(function, x, t_x, age);
  const auto values = detail::values_of(params);
  return quantity_intervals(
      function,
      [&](std::span<const double> at) {
        return customer_forecast<P>(function, detail::params_from<model>(at), x, t_x, age)
            .expected_purchases(t);
      },
      values, covariance, options, bootstrap);
}

/** Intervals of each customer's expected mean spend (expected_spend) and of their sum. */
inline forecast_intervals expected_spend_intervals(const gamma_gamma_params& params,
                                                   const Eigen::MatrixXd& covariance,
                                                   std::span<const double> x,
                                                   std::span<const double> m,
                                                   const interval_options& options,
                                                   const std::vector<std::vector<double>>& bootstrap = {}) {
  const auto values = detail::values_of(params);
  return quantity_intervals(
      "expected_spend_intervals",
      [&](std::span<const double> at) {
        return expected_spend(detail::params_from<gamma_gamma>(at), x, m);
      },
      values, covariance, options, bootstrap);
}

/**
 * Intervals of customer_lifetime_value (expected spend by expected_spend) per customer and for
 * the base, from the transaction model's and Gamma-Gamma's parameters jointly: the two fits are
 * independent, so their joint covariance is block-diagonal and the joint draws pair draw b of
 * each model (the shorter list of customer-bootstrap refits sets the count). The delta method
 * is lifetime_value_delta_method (the same intervals as delta_method on this quantity, with
 * the work shared over identical histories).
 */
template <transaction_params P>
forecast_intervals customer_lifetime_value_intervals(
    const P& params, const Eigen::MatrixXd& covariance, const gamma_gamma_params& spend,
    const Eigen::MatrixXd& spend_covariance, std::span<const double> x,
    std::span<const double> t_x, std::span<const double> age,
    std::span<const double> monetary_value, double months, double discount_rate, double periods,
    const interval_options& options, const std::vector<std::vector<double>>& bootstrap = {},
    const std::vector<std::vector<double>>& spend_bootstrap = {}) {
  constexpr std::string_view function = "customer_lifetime_value_intervals";
  using model = typename model_for<P>::type;
  check_histories(function, x, t_x, age);
  if (options.method == interval_method::delta) {
    return lifetime_value_delta_method(function, params, covariance, spend, spend_covariance, x,
                                       t_x, age, monetary_value, months, discount_rate, periods,
                                       options);
  }
  auto values = detail::values_of(params);
  const auto spend_values = detail::values_of(spend);
  values.insert(values.end(), spend_values.begin(), spend_values.end());
  std::vector<std::vector<double>> joint(std::min(bootstrap.size(), spend_bootstrap.size()));
  for (std::size_t b = 0; b < joint.size(); ++b) {
    joint[b] = bootstrap[b];
    joint[b].insert(joint[b].end(), spend_bootstrap[b].begin(), spend_bootstrap[b].end());
  }
  return quantity_intervals(
      function,
      [&](std::span<const double> at) {
        const auto spend_at = detail::params_from<gamma_gamma>(at.subspan(model::size));
        const auto mean_spend = expected_spend(spend_at, x, monetary_value);
        const customer_forecast<P> forecast(function, detail::params_from<model>(at), x, t_x, age);
        return customer_lifetime_value(forecast, mean_spend, months, discount_rate, periods);
      },
      values, block_diagonal(covariance, spend_covariance), options, joint);
}

}  // namespace crmkit::clv
