#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "crmkit/clv/interval.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/math/normal.hpp"

namespace crmkit::clv {

/** Step of the central differences in ln θ (truncation error O(h²) ≈ 1e-8, relative). */
inline constexpr double delta_method_step = 1e-4;

/**
 * Delta-method intervals (e.g. Casella & Berger 2002, §5.5.4) of a quantity g(θ) with one value
 * per customer, and of its sum G = Σ_i g_i over the base. With ψ = ln θ and Σ_ψ its covariance
 * (log_parameter_covariance),
 *   Var ĝ_i ≈ ∇_ψ g_i' Σ_ψ ∇_ψ g_i,   Var Ĝ ≈ (Σ_i ∇_ψ g_i)' Σ_ψ (Σ_i ∇_ψ g_i),
 * the gradients by central differences in ψ, ∂g/∂ψ_k ≈ (g(ψ + h e_k) − g(ψ − h e_k))/(2h),
 * h = delta_method_step (2·N + 1 evaluations of g for N parameters: differences in ψ keep every
 * evaluation inside the parameter space). The ends come from normal_interval (on the log scale
 * for positive values). `quantity(values)` returns g at natural parameter values (in the order of
 * `values`); customers' gradients are added in index order, so the result does not depend on the
 * thread count.
 *
 * @throw numerical_error if the covariance is unavailable or g is not finite at the estimate or a
 *        perturbed point (naming the customer).
 */
template <class Quantity>
forecast_intervals delta_method(std::string_view function, Quantity&& quantity,
                                std::span<const double> values, const Eigen::MatrixXd& covariance,
                                const interval_options& options) {
  check_interval_options(function, options);
  const Eigen::MatrixXd sigma = log_parameter_covariance(function, values, covariance);
  const std::size_t parameters = values.size();
  const auto finite = [&](const std::vector<double>& g, std::string_view where) {
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (!std::isfinite(g[i])) {
        throw numerical_error(fmt::format("{}: the quantity of customer {} is {} {}; no interval",
                                          function, i, g[i], where));
      }
    }
  };
  const std::vector<double> estimate = quantity(values);
  finite(estimate, "at the estimate");
  const std::size_t n = estimate.size();
  Eigen::MatrixXd gradients(options.per_customer ? static_cast<Eigen::Index>(n) : 0,
                            static_cast<Eigen::Index>(parameters));
  Eigen::VectorXd total_gradient(static_cast<Eigen::Index>(parameters));
  std::vector<double> moved(values.begin(), values.end());
  for (std::size_t k = 0; k < parameters; ++k) {
    const auto column = static_cast<Eigen::Index>(k);
    moved[k] = values[k] * std::exp(delta_method_step);
    const auto up = quantity(std::span<const double>(moved));
    moved[k] = values[k] * std::exp(-delta_method_step);
    const auto down = quantity(std::span<const double>(moved));
    moved[k] = values[k];
    finite(up, fmt::format("with parameter {} moved up", k));
    finite(down, fmt::format("with parameter {} moved down", k));
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double slope = (up[i] - down[i]) / (2 * delta_method_step);
      sum += slope;
      if (options.per_customer) gradients(static_cast<Eigen::Index>(i), column) = slope;
    }
    total_gradient[column] = sum;
  }
  forecast_intervals out;
  double total = 0;
  for (const double g : estimate) total += g;
  const double total_variance = total_gradient.dot(sigma * total_gradient);
  out.total = normal_interval(total, std::sqrt(std::max(total_variance, 0.0)), options.level);
  if (options.per_customer) {
    out.customers.resize(n);
    const double z = math::two_sided_critical_value(options.level);
    const Eigen::MatrixXd projected = gradients * sigma;
    for (std::size_t i = 0; i < n; ++i) {
      const auto row = static_cast<Eigen::Index>(i);
      const double variance = projected.row(row).dot(gradients.row(row));
      out.customers[i] = normal_interval_at(estimate[i], std::sqrt(std::max(variance, 0.0)), z);
    }
  }
  return out;
}

}  // namespace crmkit::clv
