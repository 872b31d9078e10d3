#pragma once

#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

namespace crmkit::math {

/**
 * Hessian by central differences of an analytic gradient:
 * H[:, j] ≈ (∇f(x + h_j e_j) − ∇f(x − h_j e_j)) / (2 h_j), h_j = step·max(1, |x_j|), then
 * symmetrised as (H + Hᵀ)/2. The truncation error is O(h²) and the rounding error
 * O(ε‖∇f‖/h); the default step 1e-5 balances the two for smooth objectives of order one.
 * `gradient` is a callable `void(const Eigen::VectorXd& x, Eigen::VectorXd& g)`; 2n calls.
 */
template <class Gradient>
Eigen::MatrixXd hessian_from_gradient(Gradient&& gradient, const Eigen::VectorXd& x,
                                      double step = 1e-5) {
  const Eigen::Index n = x.size();
  Eigen::MatrixXd hessian(n, n);
  Eigen::VectorXd forward(n);
  Eigen::VectorXd backward(n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const double h = step * std::max(1.0, std::fabs(x[j]));
    Eigen::VectorXd shifted = x;
    shifted[j] = x[j] + h;
    gradient(shifted, forward);
    shifted[j] = x[j] - h;
    gradient(shifted, backward);
    hessian.col(j) = (forward - backward) / (2 * h);
  }
  return 0.5 * (hessian + hessian.transpose());
}

}  // namespace crmkit::math
