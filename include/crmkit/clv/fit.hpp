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
#include <Eigen/Dense>
#include <tuple>

#include "crmkit/clv/observations.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/warning.hpp"
#include "crmkit/math/bfgs.hpp"
#include "crmkit/math/normal.hpp"

/**
 * Maximum-likelihood fitting shared by every model of the family.
 *
 * A model is a traits type `Model` with
 * - `params_type`, `size` (number of parameters), `names` (lifetimes' names), `name`;
 * - `to_array(params)` / `from_array(values)`;
 * - `time_scale(rows)` → s and `time_exponents`: the fit works on data whose times are
 *   multiplied by s (lifetimes' `_scale_time`, s = 1/max T), where parameter i is
 *   value_i·s^{time_exponents[i]}; `rescale(rows, s)` applies s to the data and
 *   `log_likelihood_offset(rows, s)` is LL(original data) − LL(scaled data);
 * - `check_fit_data(function, rows)` (throws invalid_input when the parameters are not
 *   identifiable from the data) and `starting_points(rows)` (scaled units);
 * - `data_type`, the fitting data (compressed patterns for the transaction models, the raw
 *   spend columns for Gamma-Gamma), with `row_count(data)`, `total_weight(data)` (Σ w) and
 *   `sample(data, target)` (a systematic sample of about `target` rows carrying the weights of
 *   the rows they stand for);
 * - `log_likelihood_sums<with_hessian>(params, data)`: Σ w·ℓ, its gradient and (optionally)
 *   Hessian with respect to the natural parameters, deterministic whatever the thread count;
 * - optionally `small_fit_sample(patterns)`: the size of the first stage's sample for data at or
 *   below fit_options::sample_threshold (0: none), for a model whose rows are costly;
 * - optionally `boundary_warnings(params)`: one message per limit of the parameter space the
 *   estimate has run to (naming the parameters and the model the limit reduces to), appended to
 *   the result's warnings after the model's name.
 * Adding a model is writing one such traits type (see bg_nbd.hpp, gamma_gamma.hpp).
 *
 * The objective, as in lifetimes' `_negative_log_likelihood`, is
 *   f(θ) = −Σ_i w_i ℓ_i / Σ_i w_i + penalizer_coef · Σ_k p_k²,  p = exp(θ) in scaled units,
 * minimised over the log-parameters θ by BFGS (math/bfgs.hpp) with the analytic gradient.
 * With many rows (patterns) the minimiser first runs on a systematic sample (every k-th row
 * carrying its block's weight; Gamma-Gamma: a hashed one, spend_rows::hashed_sample), then finishes on all rows by Newton's method with the exact
 * Hessian (one pass over the rows per iteration, usually two or three; BFGS warm-started with
 * the inverse Hessian if Newton cannot proceed). Starting points are tried in turn until one
 * converges.
 *
 * Standard errors come from the observed information: the Hessian of the (penalised) negative
 * log-likelihood in the natural parameters at the optimum, computed analytically, inverted, and
 * mapped back to the data's time unit. Intervals are value ± z·se with z the normal quantile
 * (lifetimes rounds z to 1.96).
 */
namespace crmkit::clv {

/** Maps a parameter struct to its model traits type (specialised in each model header). */
template <class Params>
struct model_for;

/** Σ w·ℓ over rows with its gradient and Hessian in the natural parameters (row-major). */
template <std::size_t N>
struct log_likelihood_derivatives {
  double value = 0;
  std::array<double, N> gradient{};
  std::array<double, N * N> hessian{};

  log_likelihood_derivatives& operator+=(const log_likelihood_derivatives& other) {
    value += other.value;
    for (std::size_t i = 0; i < N; ++i) gradient[i] += other.gradient[i];
    for (std::size_t i = 0; i < N * N; ++i) hessian[i] += other.hessian[i];
    return *this;
  }
};

/** Settings of a fit. */
struct fit_options {
  /** L2 penalty coefficient c in f(θ) = mean NLL + c·Σ p² (lifetimes' `penalizer_coef`). */
  double penalizer_coef = 0;
  /** Convergence: ‖∇f‖∞ ≤ tolerance, f the mean negative log-likelihood in log-parameters. */
  double tolerance = 1e-8;
  /** BFGS iterations per start. */
  std::size_t max_iterations = 500;
  /** Starting parameters in the data's time unit (lifetimes' order); empty: built-in starts. */
  std::vector<double> initial_params;
  /** Coverage of the reported intervals. */
  double confidence_level = 0.95;
  /**
   * Patterns above which the fit starts on a systematic sample of half as many (0: never). A
   * model whose rows are costly may also start on a sample at or below it
   * (`Model::small_fit_sample(patterns)`, 0 for no sample: Pareto/NBD).
   */
  std::size_t sample_threshold = 40'000;
  /**
   * Lower bounds L_i of the parameters (lifetimes' order, the data's time unit); empty: every
   * L_i = 0. Parameter i is fitted as L_i + e^{θ_i}, so the estimate stays above L_i; lifetimes'
   * Gamma-Gamma `q_constraint` is {0, 1, 0} (q > 1, a finite mean spend p·v/(q−1)).
   */
  std::vector<double> lower_bounds;
};

constexpr auto description(std::type_identity<fit_options>) {
  using s = fit_options;
  return std::tuple{
      describe::field{"penalizer_coef", &s::penalizer_coef,
                      "L2 penalty coefficient c in f(θ) = mean NLL + c·Σ p² (lifetimes' "
                      "`penalizer_coef`)"},
      describe::field{"tolerance", &s::tolerance,
                      "convergence when the gradient's largest component is at most this"},
      describe::field{"max_iterations", &s::max_iterations, "BFGS iterations per start"},
      describe::field{"initial_params", &s::initial_params,
                      "starting parameters (lifetimes' order); empty for the built-in starts"},
      describe::field{"confidence_level", &s::confidence_level,
                      "Coverage of the reported intervals"},
      describe::field{"sample_threshold", &s::sample_threshold,
                      "patterns above which the fit starts on a systematic sample (0: never)"},
      describe::field{"lower_bounds", &s::lower_bounds,
                      "lower bounds L of the parameters (lifetimes' order), fitted as L + e^θ; "
                      "empty for 0"}};
}

/** The outcome of a fit; parameters and errors are in the data's time unit. */
template <class Params, std::size_t N>
struct fit_result {
  Params params{};                          ///< maximum-likelihood (or penalised) estimate
  std::array<double, N> standard_errors{};  ///< sqrt(diag(covariance)); NaN if unavailable
  std::array<double, N> lower{};            ///< value − z·se
  std::array<double, N> upper{};            ///< value + z·se
  Eigen::Matrix<double, N, N> covariance;   ///< inverse observed information
  double log_likelihood = 0;                ///< Σ w·ℓ at the estimate (without penalty)
  double objective = 0;                     ///< f at the estimate (scaled units, penalised)
  double gradient_norm = 0;                 ///< ‖∇f‖∞ at the estimate
  std::size_t iterations = 0;               ///< BFGS iterations, all stages and starts
  std::size_t evaluations = 0;              ///< objective evaluations, all stages and starts
  std::size_t starts_tried = 0;             ///< starting points used
  bool converged = false;                   ///< gradient tolerance met
  std::string status;                       ///< how the minimiser stopped
  coded_warnings warnings;                  ///< soft problems (non-convergence, singular Hessian)
  std::size_t customers = 0;                ///< rows given
  std::size_t patterns = 0;                 ///< rows fitted (distinct rows if merged)
  double total_weight = 0;                  ///< Σ w
  double time_scale = 1;                    ///< s used internally
};

template <class Params, std::size_t N>
constexpr auto description(std::type_identity<fit_result<Params, N>>) {
  using s = fit_result<Params, N>;
  return std::tuple{
      describe::field{"params", &s::params, "maximum-likelihood (or penalised) estimate"},
      describe::field{"standard_errors", &s::standard_errors,
                      "sqrt(diag(covariance)); NaN if unavailable"},
      describe::field{"lower", &s::lower, "value − z·se"},
      describe::field{"upper", &s::upper, "value + z·se"},
      describe::field{"covariance", &s::covariance, "inverse observed information"},
      describe::field{"log_likelihood", &s::log_likelihood,
                      "Σ w·ℓ at the estimate (without penalty)"},
      describe::field{"objective", &s::objective, "f at the estimate (scaled units, penalised)"},
      describe::field{"gradient_norm", &s::gradient_norm, "‖∇f‖∞ at the estimate"},
      describe::field{"iterations", &s::iterations, "BFGS iterations, all stages and starts"},
      describe::field{"evaluations", &s::evaluations,
                      "objective evaluations, all stages and starts"},
      describe::field{"starts_tried", &s::starts_tried, "starting points used"},
      describe::field{"converged", &s::converged, "gradient tolerance met"},
      describe::field{"status", &s::status, "how the minimiser stopped"},
      describe::field{"warnings", &s::warnings,
                      "soft problems (non-convergence, singular Hessian)"},
      describe::field{"customers", &s::customers, "rows given"},
      describe::field{"patterns", &s::patterns, "rows fitted (distinct rows if merged)"},
      describe::field{"total_weight", &s::total_weight, "Σ w"}};
}

namespace detail {

/** Relative distance above a lower bound (fit_options::lower_bounds) at which an estimate is
 * reported as at the bound: e^θ that small means θ ran towards −∞. */
inline constexpr double bound_resolution = 1e-6;

/** Rows per chunk of a likelihood pass: a pass over a fitting sample (~20,000 rows) stays on
 * the calling thread, whose cost is below that of starting another. */
inline constexpr std::size_t likelihood_grain = 32768;

/** Σ w·ℓ and derivatives over patterns, for models whose `accumulate<with_hessian>(params,
 * rows, derivatives)` adds them over a run of rows sorted by x; parallel over row chunks. */
template <class Model, bool WithHessian>
log_likelihood_derivatives<Model::size> sum_over_patterns(const typename Model::params_type& p,
                                                          std::span<const pattern> rows) {
  using derivatives = log_likelihood_derivatives<Model::size>;
  return parallel_reduce(
      rows.size(), derivatives{},
      [&](std::size_t begin, std::size_t end) {
        derivatives part;
        Model::template accumulate<WithHessian>(p, rows.subspan(begin, end - begin), part);
        return part;
      },
      [](derivatives total, const derivatives& part) { return total += part; }, likelihood_grain);
}

template <class Model, bool WithHessian>
log_likelihood_derivatives<Model::size> sum_log_likelihood(const typename Model::params_type& p,
                                                           const typename Model::data_type& rows) {
  return Model::template log_likelihood_sums<WithHessian>(p, rows);
}

/** Every k-th pattern of the sorted rows, carrying the weight of its block of k. */
inline std::vector<pattern> systematic_sample(std::span<const pattern> rows, std::size_t target) {
  const std::size_t step = (rows.size() + target - 1) / target;
  std::vector<pattern> sample;
  sample.reserve(rows.size() / step + 1);
  for (std::size_t begin = 0; begin < rows.size(); begin += step) {
    const std::size_t end = std::min(rows.size(), begin + step);
    pattern chosen = rows[begin + (end - begin) / 2];
    chosen.weight = 0;
    for (std::size_t i = begin; i < end; ++i) chosen.weight += rows[i].weight;
    sample.push_back(chosen);
  }
  return sample;
}

/** The fitting data of models that fit compressed patterns (sorted by x). */
struct pattern_data {
  using data_type = std::vector<pattern>;
  static std::size_t row_count(const data_type& rows) { return rows.size(); }
  static double total_weight(const data_type& rows) {
    double total = 0;
    for (const auto& row : rows) total += row.weight;
    return total;
  }
  static data_type sample(const data_type& rows, std::size_t target) {
    return systematic_sample(rows, target);
  }
};

/**
 * Patterns of a transaction model (u = recency t_x, v = age T) fitted on times divided by the
 * oldest age. The likelihood is a density in x purchase times, so
 * LL(original) − LL(times × s) = Σ w·x·ln s.
 */
struct purchase_time_patterns : pattern_data {
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
};

/**
 * Penalised mean negative log-likelihood in θ, parameter i = L_i + e^{θ_i} (`lower`, 0 unless
 * bounded), with gradient and Hessian: ∂p_i/∂θ_i = ∂²p_i/∂θ_i² = p_i − L_i.
 */
template <class Model>
struct objective {
  static constexpr std::size_t n = Model::size;
  const typename Model::data_type& rows;
  double total_weight = 1;
  double penalizer = 0;
  std::array<double, n> lower{};

  typename Model::params_type natural(const Eigen::VectorXd& theta) const {
    std::array<double, n> values{};
    for (std::size_t i = 0; i < n; ++i)
      values[i] = lower[i] + std::exp(theta[static_cast<Eigen::Index>(i)]);
    return Model::from_array(values);
  }

  double operator()(const Eigen::VectorXd& theta, Eigen::VectorXd& gradient) const {
    const auto p = natural(theta);
    const auto values = Model::to_array(p);
    const auto d = sum_log_likelihood<Model, false>(p, rows);
    double value = -d.value / total_weight;
    for (std::size_t i = 0; i < n; ++i) {
      const auto k = static_cast<Eigen::Index>(i);
      const double slope = values[i] - lower[i];
      gradient[k] = -slope * d.gradient[i] / total_weight + 2 * penalizer * values[i] * slope;
      value += penalizer * values[i] * values[i];
    }
    return value;
  }

  /** f, ∇f and the exact Hessian of f in θ, with the raw sums they came from. */
  struct second_order {
    double value = 0;
    Eigen::VectorXd gradient;
    Eigen::MatrixXd hessian;
    log_likelihood_derivatives<n> sums;
  };

  second_order evaluate(const Eigen::VectorXd& theta) const {
    const auto p = natural(theta);
    const auto values = Model::to_array(p);
    second_order out;
    out.sums = sum_log_likelihood<Model, true>(p, rows);
    const auto& d = out.sums;
    out.value = -d.value / total_weight;
    out.gradient.resize(n);
    out.hessian.resize(n, n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto k = static_cast<Eigen::Index>(i);
      const double slope = values[i] - lower[i];
      out.value += penalizer * values[i] * values[i];
      out.gradient[k] = -slope * d.gradient[i] / total_weight + 2 * penalizer * values[i] * slope;
      for (std::size_t j = 0; j < n; ++j) {
        double entry = -slope * (values[j] - lower[j]) * d.hessian[i * n + j] / total_weight;
        if (i == j) {
          entry += -slope * d.gradient[i] / total_weight +
                   2 * penalizer * slope * (slope + values[i]);
        }
        out.hessian(k, static_cast<Eigen::Index>(j)) = entry;
      }
    }
    return out;
  }
};

/** A minimiser that stalls (no step decreases f) is accepted as converged when its gradient
 * norm is within this factor of the tolerance: f's rounding, not the optimum, stopped it. */
inline constexpr double stall_acceptance = 1e3;

/** How newton_polish ended. */
enum class newton_outcome {
  converged,  ///< ‖∇f‖∞ ≤ tolerance
  stalled,    ///< a full Newton step on a positive definite Hessian no longer decreases f: the
              ///< rounding floor of f (and of ∇f, which may stay above a tight tolerance)
  failed,     ///< Hessian not positive definite, no decreasing step, or the iteration budget
};

/**
 * Newton's method with backtracking on the exact Hessian, from a point near the optimum (the
 * staged fit's second stage). Each iteration costs one pass over the rows, which also yields the
 * next Hessian. Leaves `theta` at the best point reached. `stalled` when f no longer changes at
 * a point where Newton's model predicts a decrease below f's rounding (the optimum is resolved
 * as far as the arithmetic allows; the caller judges the gradient as for BFGS's stall); `failed`
 * if the Hessian is not positive definite or no step decreases f, and the caller falls back to
 * BFGS.
 */
template <class Model>
newton_outcome newton_polish(const objective<Model>& f, Eigen::VectorXd& theta, double tolerance,
                             typename objective<Model>::second_order& at, std::size_t& evaluations,
                             std::size_t& iterations) {
  at = f.evaluate(theta);
  ++evaluations;
  for (int iteration = 0; iteration < 30; ++iteration) {
    if (!(std::isfinite(at.value) && at.gradient.allFinite())) return newton_outcome::failed;
    if (at.gradient.template lpNorm<Eigen::Infinity>() <= tolerance) {
      return newton_outcome::converged;
    }
    const Eigen::LDLT<Eigen::MatrixXd> factor(at.hessian);
    if (factor.info() != Eigen::Success || !factor.isPositive() ||
        !(factor.vectorD().array() > 0).all()) {
      return newton_outcome::failed;
    }
    const Eigen::VectorXd step = -factor.solve(at.gradient);
    const double slope = step.dot(at.gradient);
    ++iterations;
    // Newton's predicted decrease −slope/2 below a few ulps of f: f cannot resolve the step.
    const bool below_rounding =
        -slope <= 64 * std::numeric_limits<double>::epsilon() * std::fabs(at.value);
    bool moved = false;
    for (double length = 1; length > 1e-10; length *= 0.5) {
      auto trial = f.evaluate(theta + length * step);
      ++evaluations;
      if (std::isfinite(trial.value) && trial.value <= at.value + 1e-4 * length * slope) {
        const bool unchanged = !(trial.value < at.value);
        theta += length * step;
        at = std::move(trial);
        moved = true;
        if (unchanged && below_rounding) return newton_outcome::stalled;
        break;
      }
    }
    if (!moved) return below_rounding ? newton_outcome::stalled : newton_outcome::failed;
  }
  return at.gradient.template lpNorm<Eigen::Infinity>() <= tolerance ? newton_outcome::converged
                                                                     : newton_outcome::failed;
}

}  // namespace detail

/**
 * Fits `Model` to compressed rows (see the namespace documentation). `customers` is the number
 * of input rows before compression, reported back. Throws invalid_input for bad options or data
 * and numerical_error when no starting point gives a finite likelihood.
 */
template <class Model>
fit_result<typename Model::params_type, Model::size> fit_model(std::string_view function,
                                                               typename Model::data_type rows,
                                                               const fit_options& options,
                                                               std::size_t customers) {
  constexpr std::size_t n = Model::size;
  using result_type = fit_result<typename Model::params_type, n>;
  using rows_type = typename Model::data_type;
  check::nonnegative(function, "penalizer_coef", options.penalizer_coef);
  check::positive(function, "tolerance", options.tolerance);
  if (!(options.confidence_level > 0 && options.confidence_level < 1)) {
    check::fail(function,
                fmt::format("confidence_level = {} must be in (0, 1)", options.confidence_level));
  }
  if (!options.initial_params.empty()) {
    check::same_size(function, "initial_params", options.initial_params.size(),
                     "the model's "
                     "parameters",
                     n);
    check::all_positive(function, "initial_params",
                        std::span<const double>(options.initial_params));
  }
  if (!options.lower_bounds.empty()) {
    check::same_size(function, "lower_bounds", options.lower_bounds.size(),
                     "the model's parameters", n);
    check::all_nonnegative(function, "lower_bounds",
                           std::span<const double>(options.lower_bounds));
  }
  check::not_empty(function, "the data (after dropping zero weights)", Model::row_count(rows));
  Model::check_fit_data(function, rows);

  result_type result;
  result.customers = customers;
  result.patterns = Model::row_count(rows);
  result.total_weight = Model::total_weight(rows);
  const double scale = Model::time_scale(rows);
  result.time_scale = scale;
  Model::rescale(rows, scale);

  std::array<double, n> lower{};
  for (std::size_t i = 0; i < n && !options.lower_bounds.empty(); ++i) {
    lower[i] = options.lower_bounds[i] * std::pow(scale, Model::time_exponents[i]);
  }
  std::vector<std::array<double, n>> starts;
  if (options.initial_params.empty()) {
    starts = Model::starting_points(rows);
  } else {
    std::array<double, n> start{};
    for (std::size_t i = 0; i < n; ++i) {
      start[i] = options.initial_params[i] * std::pow(scale, Model::time_exponents[i]);
    }
    starts.push_back(start);
  }

  const detail::objective<Model> full{rows, result.total_weight, options.penalizer_coef, lower};
  std::size_t sample_target = 0;
  if (options.sample_threshold > 0 && result.patterns > options.sample_threshold) {
    sample_target = options.sample_threshold / 2;
  } else if constexpr (requires { Model::small_fit_sample(result.patterns); }) {
    if (options.sample_threshold > 0) sample_target = Model::small_fit_sample(result.patterns);
  }
  const auto sample = sample_target > 0 ? Model::sample(rows, sample_target) : rows_type{};
  const bool staged = Model::row_count(sample) > 0;  // a sample may come out empty
  const detail::objective<Model> coarse{sample, result.total_weight, options.penalizer_coef,
                                        lower};

  math::optimizer_options settings;
  settings.gradient_tolerance = options.tolerance;
  settings.max_iterations = options.max_iterations;

  math::optimizer_result best;
  best.value = std::numeric_limits<double>::infinity();
  typename detail::objective<Model>::second_order polished;
  bool have_polished = false;
  std::string floor_status;
  for (const auto& start_values : starts) {
    ++result.starts_tried;
    Eigen::VectorXd theta(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) {
      // A start at or below its bound starts as far above it.
      const double above = start_values[i] > lower[i] ? start_values[i] - lower[i] : start_values[i];
      theta[static_cast<Eigen::Index>(i)] = std::log(above);
    }
    Eigen::MatrixXd inverse_hessian;
    const Eigen::MatrixXd* warm = nullptr;
    if (staged) {
      math::optimizer_options loose = settings;
      loose.gradient_tolerance = std::max(options.tolerance, 1e-6);
      const auto first = math::minimize_bfgs(coarse, theta, loose);
      result.iterations += first.iterations;
      result.evaluations += first.evaluations;
      if (std::isfinite(first.value)) {
        theta = first.x;
        const auto outcome = detail::newton_polish(full, theta, options.tolerance, polished,
                                                   result.evaluations, result.iterations);
        const double polished_norm = polished.gradient.template lpNorm<Eigen::Infinity>();
        // A stall at the rounding floor is accepted on BFGS's terms (below).
        if (outcome == detail::newton_outcome::converged ||
            (outcome == detail::newton_outcome::stalled &&
             polished_norm <= detail::stall_acceptance * options.tolerance)) {
          best.x = theta;
          best.value = polished.value;
          best.gradient = polished.gradient;
          best.gradient_norm = polished_norm;
          best.status = math::optimizer_status::converged;
          have_polished = true;
          if (outcome == detail::newton_outcome::stalled) {
            floor_status = fmt::format(
                "stalled at the rounding floor: a Newton step no longer changes the likelihood "
                "(gradient norm {:.3g}, accepted within {:g} x tolerance {:.3g})",
                polished_norm, detail::stall_acceptance, options.tolerance);
          }
          break;
        }
        const Eigen::LDLT<Eigen::MatrixXd> factor(full.evaluate(theta).hessian);
        ++result.evaluations;
        if (factor.info() == Eigen::Success && factor.isPositive() &&
            (factor.vectorD().array() > 0).all()) {
          inverse_hessian = factor.solve(Eigen::MatrixXd::Identity(n, n));
          warm = &inverse_hessian;
        }
      }
    }
    auto attempt = math::minimize_bfgs(full, theta, settings, warm);
    result.iterations += attempt.iterations;
    result.evaluations += attempt.evaluations;
    const bool accept = attempt.converged() || (attempt.status == math::optimizer_status::stalled &&
                                                attempt.gradient_norm <= detail::stall_acceptance * options.tolerance);
    if (accept) attempt.status = math::optimizer_status::converged;
    if (attempt.value < best.value || (accept && !best.converged())) best = std::move(attempt);
    if (accept) break;
  }
  if (!std::isfinite(best.value)) {
    throw numerical_error(fmt::format(
        "{}: the {} log-likelihood is not finite at any starting point", function, Model::name));
  }

  const auto p_scaled = full.natural(best.x);
  result.converged = best.converged();
  result.status = floor_status.empty() ? std::string(math::to_string(best.status)) : floor_status;
  result.objective = best.value;
  result.gradient_norm = best.gradient_norm;
  if (!result.converged) {
    result.warnings.add(
        warning_code::not_converged,
        fmt::format("{} fit did not converge ({}; gradient norm {:.3g} > tolerance {:.3g} after {} "
                    "iterations from {} starting points); the estimates may be inaccurate",
                    Model::name, result.status, best.gradient_norm, options.tolerance,
                    result.iterations, result.starts_tried));
  }

  const auto at_optimum =
      have_polished ? polished.sums : detail::sum_log_likelihood<Model, true>(p_scaled, rows);
  result.log_likelihood = at_optimum.value + Model::log_likelihood_offset(rows, scale);
  const auto scaled_values = Model::to_array(p_scaled);
  std::array<double, n> values{};
  for (std::size_t i = 0; i < n; ++i) {
    values[i] = scaled_values[i] / std::pow(scale, Model::time_exponents[i]);
  }
  result.params = Model::from_array(values);

  Eigen::Matrix<double, n, n> information;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double entry = -at_optimum.hessian[i * n + j];
      if (i == j) entry += 2 * options.penalizer_coef * result.total_weight;
      // Back to the data's time unit: p_i = p_scaled_i · s^{-e_i}.
      entry *= std::pow(scale, Model::time_exponents[i] + Model::time_exponents[j]);
      information(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = entry;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (lower[i] > 0 && scaled_values[i] - lower[i] <= detail::bound_resolution * lower[i]) {
      result.warnings.add(
          warning_code::at_boundary,
          fmt::format("{}: {} = {:.9g} is at its lower bound {:g} (lower_bounds): the likelihood "
                      "increases towards the bound, so its maximum lies at or beyond it",
                      Model::name, Model::names[i], values[i], options.lower_bounds[i]));
    }
  }
  if constexpr (requires { Model::boundary_warnings(result.params); }) {
    for (const auto& warning : Model::boundary_warnings(result.params))
      result.warnings.add(warning_code::at_boundary, fmt::format("{}: {}", Model::name, warning));
  }

  const Eigen::LDLT<Eigen::Matrix<double, n, n>> factor(information);
  const bool invertible = factor.info() == Eigen::Success && factor.isPositive() &&
                          (factor.vectorD().array() > 0).all();
  const double z = math::two_sided_critical_value(options.confidence_level);
  if (invertible) {
    result.covariance = factor.solve(Eigen::Matrix<double, n, n>::Identity());
  } else {
    result.covariance.setConstant(std::numeric_limits<double>::quiet_NaN());
    result.warnings.add(warning_code::singular_information,
                        fmt::format("{}: the observed information matrix is not positive definite "
                                    "at the estimate; standard "
                                    "errors and intervals are not available (NaN)",
                                    Model::name));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<Eigen::Index>(i);
    result.standard_errors[i] =
        invertible ? std::sqrt(result.covariance(k, k)) : std::numeric_limits<double>::quiet_NaN();
    result.lower[i] = values[i] - z * result.standard_errors[i];
    result.upper[i] = values[i] + z * result.standard_errors[i];
  }
  return result;
}

}  // namespace crmkit::clv
