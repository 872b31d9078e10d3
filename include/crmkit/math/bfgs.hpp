#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string_view>
#include <utility>

#include <Eigen/Dense>

/**
 * Unconstrained minimisation by BFGS with a strong-Wolfe line search (Nocedal & Wright,
 * Numerical Optimization, 2nd ed., Algorithms 6.1, 3.5 and 3.6).
 *
 * The objective is a callable `double f(const Eigen::VectorXd& x, Eigen::VectorXd& gradient)`
 * that returns f(x) and writes ∇f(x). A non-finite value counts as +∞: the line search backs
 * off from it, so an objective may signal "outside the domain" that way.
 *
 * The search direction is p = −H∇f with H the inverse-Hessian approximation: the caller's
 * `initial_inverse_hessian` if given (e.g. the inverse of an exact Hessian at a warm start, which
 * makes the first steps Newton steps), otherwise the identity rescaled after the first step by
 * yᵀs/yᵀy (N&W eq. 6.20). Updates with yᵀs ≤ 0 are skipped; a direction that is not a descent
 * direction resets H to the identity.
 */
namespace crmkit::math {

/** Why the minimiser stopped. */
enum class optimizer_status {
  converged,         ///< ‖∇f‖∞ ≤ gradient_tolerance
  stalled,           ///< no step decreases f any more (limit of floating-point precision)
  max_iterations,    ///< iteration budget spent
  non_finite_start,  ///< f or ∇f not finite at the starting point
};

/** Text for an optimizer_status. */
inline std::string_view to_string(optimizer_status status) noexcept {
  switch (status) {
    case optimizer_status::converged:
      return "converged";
    case optimizer_status::stalled:
      return "stalled: no further decrease possible";
    case optimizer_status::max_iterations:
      return "maximum number of iterations reached";
    case optimizer_status::non_finite_start:
      return "objective not finite at the start";
  }
  return "unknown";
}

/** Settings of minimize_bfgs. */
struct optimizer_options {
  double gradient_tolerance = 1e-8;   ///< stop when ‖∇f‖∞ is at most this
  std::size_t max_iterations = 500;   ///< BFGS iterations (line searches)
  std::size_t max_line_search = 40;   ///< function evaluations per line search
  double sufficient_decrease = 1e-4;  ///< c₁ of the Wolfe conditions
  double curvature = 0.9;             ///< c₂ of the Wolfe conditions
  double max_step = 5.0;              ///< longest step ‖αp‖∞ tried first
};

/** The outcome of minimize_bfgs. */
struct optimizer_result {
  Eigen::VectorXd x;         ///< best point found
  double value = 0;          ///< f(x)
  Eigen::VectorXd gradient;  ///< ∇f(x)
  double gradient_norm = 0;  ///< ‖∇f(x)‖∞
  std::size_t iterations = 0;
  std::size_t evaluations = 0;
  optimizer_status status = optimizer_status::max_iterations;
  [[nodiscard]] bool converged() const noexcept { return status == optimizer_status::converged; }
};

namespace detail {

struct line_point {
  double step = 0;
  double value = 0;
  double slope = 0;
  Eigen::VectorXd x;
  Eigen::VectorXd gradient;
};

/** Minimiser of the cubic through (a, fa, da), (b, fb, db), kept inside [a, b] away from its ends.
 */
inline double interpolate_step(const line_point& a, const line_point& b) {
  const double low = std::min(a.step, b.step);
  const double high = std::max(a.step, b.step);
  const double margin = 0.1 * (high - low);
  double step = 0.5 * (a.step + b.step);
  if (std::isfinite(b.value)) {
    const double d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.step - b.step);
    const double discriminant = d1 * d1 - a.slope * b.slope;
    if (discriminant >= 0) {
      const double d2 = std::copysign(std::sqrt(discriminant), b.step - a.step);
      const double candidate =
          b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2);
      if (std::isfinite(candidate)) step = candidate;
    }
  }
  return std::clamp(step, low + margin, high - margin);
}

}  // namespace detail

/** Minimises `objective` from `start`; see the namespace documentation. */
template <class Objective>
optimizer_result minimize_bfgs(Objective&& objective, const Eigen::VectorXd& start,
                               const optimizer_options& options = {},
                               const Eigen::MatrixXd* initial_inverse_hessian = nullptr) {
  const Eigen::Index n = start.size();
  optimizer_result result;
  result.x = start;
  result.gradient = Eigen::VectorXd::Zero(n);
  auto evaluate = [&](const Eigen::VectorXd& x, Eigen::VectorXd& gradient) {
    ++result.evaluations;
    const double value = objective(x, gradient);
    if (!std::isfinite(value) || !gradient.allFinite()) {
      return std::numeric_limits<double>::infinity();
    }
    return value;
  };
  result.value = evaluate(result.x, result.gradient);
  if (!std::isfinite(result.value)) {
    result.status = optimizer_status::non_finite_start;
    result.gradient_norm = std::numeric_limits<double>::infinity();
    return result;
  }
  const bool has_initial = initial_inverse_hessian != nullptr &&
                           initial_inverse_hessian->rows() == n &&
                           initial_inverse_hessian->allFinite();
  Eigen::MatrixXd inverse_hessian =
      has_initial ? *initial_inverse_hessian : Eigen::MatrixXd::Identity(n, n);
  bool rescale_identity = !has_initial;
  const double c1 = options.sufficient_decrease;
  const double c2 = options.curvature;

  for (;;) {
    result.gradient_norm = result.gradient.lpNorm<Eigen::Infinity>();
    if (result.gradient_norm <= options.gradient_tolerance) {
      result.status = optimizer_status::converged;
      return result;
    }
    if (result.iterations >= options.max_iterations) {
      result.status = optimizer_status::max_iterations;
      return result;
    }
    ++result.iterations;

    Eigen::VectorXd direction = -(inverse_hessian * result.gradient);
    double slope0 = direction.dot(result.gradient);
    if (!(slope0 < 0)) {
      inverse_hessian.setIdentity();
      rescale_identity = true;
      direction = -result.gradient;
      slope0 = direction.dot(result.gradient);
    }
    const double longest = direction.lpNorm<Eigen::Infinity>();
    double step = 1.0;
    if (rescale_identity && result.iterations == 1) step = std::min(1.0, 1.0 / longest);
    if (step * longest > options.max_step) step = options.max_step / longest;

    const detail::line_point origin{0, result.value, slope0, result.x, result.gradient};
    auto probe = [&](double alpha) {
      detail::line_point point;
      point.step = alpha;
      point.x = result.x + alpha * direction;
      point.gradient.resize(n);
      point.value = evaluate(point.x, point.gradient);
      point.slope = std::isfinite(point.value) ? point.gradient.dot(direction) : 0;
      return point;
    };
    auto armijo = [&](const detail::line_point& p) {
      return std::isfinite(p.value) && p.value <= origin.value + c1 * p.step * slope0;
    };
    auto curvature_ok = [&](const detail::line_point& p) {
      return std::fabs(p.slope) <= -c2 * slope0;
    };

    // Algorithm 3.6 (zoom) between lo (satisfies Armijo) and hi.
    auto zoom = [&](detail::line_point lo, detail::line_point hi, std::size_t budget,
                    detail::line_point& accepted) {
      for (std::size_t j = 0; j < budget; ++j) {
        const double alpha = detail::interpolate_step(lo, hi);
        if (!(std::fabs(hi.step - lo.step) > 1e-16 * std::max(1.0, lo.step))) break;
        detail::line_point trial = probe(alpha);
        if (!armijo(trial) || trial.value >= lo.value) {
          hi = std::move(trial);
        } else {
          if (curvature_ok(trial)) {
            accepted = std::move(trial);
            return true;
          }
          if (trial.slope * (hi.step - lo.step) >= 0) hi = lo;
          lo = std::move(trial);
        }
      }
      accepted = std::move(lo);
      return accepted.step > 0 && accepted.value < origin.value;
    };

    // Algorithm 3.5: expand until the Wolfe conditions hold or a bracket is found.
    detail::line_point previous = origin;
    detail::line_point accepted;
    bool found = false;
    for (std::size_t i = 0; i < options.max_line_search; ++i) {
      detail::line_point trial = probe(step);
      const std::size_t left = options.max_line_search - i;
      if (!armijo(trial) || (i > 0 && trial.value >= previous.value)) {
        found = zoom(previous, trial, left, accepted);
        break;
      }
      if (curvature_ok(trial)) {
        accepted = std::move(trial);
        found = true;
        break;
      }
      if (trial.slope >= 0) {
        found = zoom(trial, previous, left, accepted);
        break;
      }
      previous = std::move(trial);
      step *= 2;
      if (step * longest > 4 * options.max_step) {
        accepted = std::move(previous);
        found = true;
        break;
      }
    }

    if (!found) {
      if (rescale_identity && inverse_hessian.isIdentity()) {
        result.status = optimizer_status::stalled;
        return result;
      }
      inverse_hessian.setIdentity();
      rescale_identity = true;
      continue;
    }

    const Eigen::VectorXd s = accepted.x - result.x;
    const Eigen::VectorXd y = accepted.gradient - result.gradient;
    result.x = std::move(accepted.x);
    result.gradient = std::move(accepted.gradient);
    result.value = accepted.value;
    const double sy = s.dot(y);
    if (sy > 1e-12 * s.norm() * y.norm() && sy > 0) {
      if (rescale_identity) {
        inverse_hessian = Eigen::MatrixXd::Identity(n, n) * (sy / y.squaredNorm());
        rescale_identity = false;
      }
      const double rho = 1.0 / sy;
      const Eigen::MatrixXd left = Eigen::MatrixXd::Identity(n, n) - rho * s * y.transpose();
      inverse_hessian = left * inverse_hessian * left.transpose() + rho * s * s.transpose();
    }
  }
}

}  // namespace crmkit::math
