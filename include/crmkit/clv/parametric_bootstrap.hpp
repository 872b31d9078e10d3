#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "crmkit/clv/interval.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/random.hpp"

namespace crmkit::clv {

/**
 * Parameter draws for the parametric bootstrap: ln θ_b = ln θ̂ + L z_b, L L' = Σ_ln θ (the
 * Cholesky factor of log_parameter_covariance), z_b ~ N(0, I), i.e. θ drawn from the estimate's
 * asymptotic normal distribution on the log scale (positive by construction; e.g. Efron &
 * Tibshirani 1993, §6.5). Draw b uses rng::simulation_stream(seed, b), so the draws do not
 * depend on the thread count or on how many are taken.
 *
 * @throw numerical_error if the covariance is unavailable or not positive definite.
 */
inline std::vector<std::vector<double>> parametric_draws(std::string_view function,
                                                         std::span<const double> values,
                                                         const Eigen::MatrixXd& covariance,
                                                         std::size_t draws, std::uint64_t seed) {
  const Eigen::MatrixXd sigma = log_parameter_covariance(function, values, covariance);
  const Eigen::LLT<Eigen::MatrixXd> factor(sigma);
  if (factor.info() != Eigen::Success) {
    throw numerical_error(fmt::format(
        "{}: the parameter covariance is not positive definite; no parametric bootstrap",
        function));
  }
  const Eigen::MatrixXd lower = factor.matrixL();
  const auto n = static_cast<Eigen::Index>(values.size());
  std::vector<std::vector<double>> out(draws, std::vector<double>(values.size()));
  Eigen::VectorXd z(n);
  for (std::size_t b = 0; b < draws; ++b) {
    rng::simulation_stream stream(seed, b);
    for (Eigen::Index k = 0; k < n; ++k) z[k] = stream.normal();
    const Eigen::VectorXd shift = lower * z;
    for (Eigen::Index k = 0; k < n; ++k) {
      out[b][static_cast<std::size_t>(k)] = values[static_cast<std::size_t>(k)] * std::exp(shift[k]);
    }
  }
  return out;
}

}  // namespace crmkit::clv
