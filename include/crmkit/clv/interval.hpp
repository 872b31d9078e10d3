#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/quantile.hpp"
#include "crmkit/math/normal.hpp"

/**
 * Interval estimates of model quantities (parameters, per-customer and whole-base forecasts) and
 * the settings shared by the three ways crmkit computes them: the delta method
 * (delta_method.hpp), the parametric bootstrap (parametric_bootstrap.hpp) and the customer
 * bootstrap (customer_bootstrap.hpp). Formulas and citations: docs/intervals.md.
 */
namespace crmkit::clv {

/** How an interval is computed. */
enum class interval_method : std::uint8_t {
  delta,                 ///< first-order propagation of the parameter covariance (default)
  parametric_bootstrap,  ///< ln θ drawn from N(ln θ̂, Σ_ln θ), percentile interval
  customer_bootstrap,    ///< refits on resampled customers, percentile interval
};

constexpr auto description(std::type_identity<interval_method>) {
  return describe::enum_table<interval_method, 3>{
      "method",
      {{{interval_method::delta, "delta"},
        {interval_method::parametric_bootstrap, "parametric_bootstrap"},
        {interval_method::customer_bootstrap, "customer_bootstrap"}}}};
}

/** Settings of an interval computation. */
struct interval_options {
  double level = 0.9;                               ///< nominal coverage, in (0, 1)
  interval_method method = interval_method::delta;  ///< how the interval is computed
  std::size_t draws = 1000;                         ///< bootstrap replicates
  std::uint64_t seed = 0;                           ///< seed of the bootstrap streams
  bool per_customer = true;                         ///< also each customer's interval
};

constexpr auto description(std::type_identity<interval_options>) {
  using s = interval_options;
  return std::tuple{
      describe::field{"level", &s::level, "nominal coverage of the intervals, in (0, 1)"},
      describe::field{"method", &s::method,
                      "delta (default), parametric_bootstrap or customer_bootstrap"},
      describe::field{"draws", &s::draws, "bootstrap replicates"},
      describe::field{"seed", &s::seed, "seed of the bootstrap streams (any thread count)"},
      describe::field{"per_customer", &s::per_customer,
                      "also each customer's interval (else the whole base's only)"}};
}

/** A point estimate with its interval. */
struct interval_estimate {
  double estimate = 0;        ///< the value at the fitted parameters
  double lower = 0;           ///< lower end of the interval
  double upper = 0;           ///< upper end of the interval
  double standard_error = 0;  ///< delta-method or bootstrap standard error
};

constexpr auto description(std::type_identity<interval_estimate>) {
  using s = interval_estimate;
  return std::tuple{describe::field{"estimate", &s::estimate, "value at the fitted parameters"},
                    describe::field{"lower", &s::lower, "lower end of the interval"},
                    describe::field{"upper", &s::upper, "upper end of the interval"},
                    describe::field{"standard_error", &s::standard_error,
                                    "delta-method or bootstrap standard error"}};
}

/** Intervals of a quantity with one value per customer, and of their sum over the base. */
struct forecast_intervals {
  std::vector<interval_estimate> customers;  ///< per customer (empty unless per_customer)
  interval_estimate total;                   ///< the sum over all customers
  std::size_t draws = 0;                     ///< bootstrap replicates used (0: delta method)
};

constexpr auto description(std::type_identity<forecast_intervals>) {
  using s = forecast_intervals;
  return std::tuple{
      describe::field{"customers", &s::customers, "per customer (empty unless per_customer)"},
      describe::field{"total", &s::total, "the sum over all customers"},
      describe::field{"draws", &s::draws, "bootstrap replicates used (0: delta method)"}};
}

/** Throws invalid_input unless level is in (0, 1) and a bootstrap has at least 2 draws. */
inline void check_interval_options(std::string_view function, const interval_options& options) {
  if (!(options.level > 0 && options.level < 1)) {
    check::fail(function, fmt::format("level = {} must be in (0, 1)", options.level));
  }
  if (options.method != interval_method::delta && options.draws < 2) {
    check::fail(function, fmt::format("draws = {} must be at least 2 for a bootstrap interval",
                                      options.draws));
  }
}

/**
 * The interval of a quantity g from its standard error σ and the critical value z: for g > 0 on
 * the log scale (delta method for ln g, so the ends stay positive and the interval follows the
 * skew of g's sampling distribution): g·exp(∓z σ/g); otherwise g ∓ z σ.
 */
inline interval_estimate normal_interval_at(double estimate, double standard_error, double z) {
  if (estimate > 0) {
    const double spread = z * standard_error / estimate;
    return {estimate, estimate * std::exp(-spread), estimate * std::exp(spread), standard_error};
  }
  return {estimate, estimate - z * standard_error, estimate + z * standard_error, standard_error};
}

/** normal_interval_at with z = Φ⁻¹((1 + level)/2). */
inline interval_estimate normal_interval(double estimate, double standard_error, double level) {
  return normal_interval_at(estimate, standard_error, math::two_sided_critical_value(level));
}

/**
 * The percentile interval of bootstrap replicates (Efron & Tibshirani 1993, ch. 13): the
 * (1 − level)/2 and (1 + level)/2 quantiles of the draws (numpy's linear rule,
 * core/quantile.hpp), with their standard deviation as the standard error. `draws` is reordered.
 */
inline interval_estimate percentile_interval(double estimate, std::span<double> draws,
                                             double level) {
  std::sort(draws.begin(), draws.end());
  const auto at = [&](std::size_t i) { return draws[i]; };
  double mean = 0;
  for (const double d : draws) mean += d;
  mean /= static_cast<double>(draws.size());
  double squares = 0;
  for (const double d : draws) squares += (d - mean) * (d - mean);
  return {estimate, sorted_quantile(at, draws.size(), (1 - level) / 2),
          sorted_quantile(at, draws.size(), (1 + level) / 2),
          std::sqrt(squares / static_cast<double>(draws.size() - 1))};
}

/**
 * The covariance of ln θ from that of θ: Σ_ln θ = D⁻¹ Σ D⁻¹, D = diag(θ) (delta method).
 * @throw numerical_error if the covariance is not available (NaN: the fit's information matrix
 *        was singular) or a parameter is not positive.
 */
inline Eigen::MatrixXd log_parameter_covariance(std::string_view function,
                                                std::span<const double> values,
                                                const Eigen::MatrixXd& covariance) {
  const auto n = static_cast<Eigen::Index>(values.size());
  if (covariance.rows() != n || covariance.cols() != n) {
    check::fail(function, fmt::format("covariance is {}x{} but there are {} parameters",
                                      covariance.rows(), covariance.cols(), n));
  }
  if (!covariance.allFinite()) {
    throw numerical_error(fmt::format(
        "{}: the parameter covariance is not available (the fit's information matrix was not "
        "positive definite), so no interval can be computed",
        function));
  }
  Eigen::MatrixXd out(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double a = values[static_cast<std::size_t>(i)];
    if (!(a > 0 && std::isfinite(a))) {
      check::fail(function, fmt::format("parameter {} = {} must be positive and finite", i, a));
    }
    for (Eigen::Index j = 0; j < n; ++j) {
      out(i, j) = covariance(i, j) / (a * values[static_cast<std::size_t>(j)]);
    }
  }
  return out;
}

/** Block-diagonal covariance of two independently fitted parameter vectors. */
inline Eigen::MatrixXd block_diagonal(const Eigen::MatrixXd& first, const Eigen::MatrixXd& second) {
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(first.rows() + second.rows(),
                                              first.cols() + second.cols());
  out.topLeftCorner(first.rows(), first.cols()) = first;
  out.bottomRightCorner(second.rows(), second.cols()) = second;
  return out;
}

}  // namespace crmkit::clv
