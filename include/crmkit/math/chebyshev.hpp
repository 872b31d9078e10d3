#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <utility>
#include <vector>

/**
 * Chebyshev interpolation of a smooth function on an interval, with the degree chosen from the
 * decay of the coefficients (Trefethen, "Approximation Theory and Approximation Practice", 2013,
 * ch. 3, 8 and 18). f is sampled at the Chebyshev points of the second kind x_j = cos(jπ/n),
 * j = 0..n, mapped to [lo, hi]; the interpolant is Σ_{k≤n} c_k T_k(u) with
 *
 *   c_k = (2/n) Σ''_j f_j cos(jkπ/n)   (Σ'' halves the j = 0 and j = n terms; c_0, c_n halved).
 *
 * n doubles from 16 (the points of n are among those of 2n, so no value is computed twice) until
 * the coefficients resolve f: every coefficient of the upper half, k > n/2, is at most
 * `tolerance`·min_j|f_j|. For f analytic in a Bernstein ellipse around the interval the c_k fall
 * geometrically until they reach the level of the rounding errors of the values f_j (a plateau,
 * Trefethen ch. 18); the upper half then holds only that plateau, and the series is truncated
 * after its last coefficient above the plateau's largest. The error is then about the values'
 * own rounding plus a few times the plateau. When that does not happen by `max_intervals`, or a
 * value is not finite, the interpolant is marked inaccurate and the caller must evaluate f
 * itself: the interpolant is never used unresolved.
 */
namespace crmkit::math {

class chebyshev_interpolant {
 public:
  chebyshev_interpolant() = default;

  /** Interpolates f on [lo, hi] (lo < hi) to relative `tolerance` (see above). */
  template <class F>
  chebyshev_interpolant(F&& f, double lo, double hi, double tolerance,
                        std::size_t max_intervals = 128)
      : center_((lo + hi) / 2), inverse_half_width_(2 / (hi - lo)) {
    std::vector<double> values;
    const double half_width = (hi - lo) / 2;
    auto node = [&](std::size_t j, std::size_t n) {
      return center_ + half_width * std::cos(std::numbers::pi * static_cast<double>(j) /
                                             static_cast<double>(n));
    };
    for (std::size_t n = 16; n <= max_intervals; n *= 2) {
      std::vector<double> refined(n + 1);
      for (std::size_t j = 0; j <= n; ++j) {
        refined[j] = values.empty() ? f(node(j, n)) : j % 2 == 0 ? values[j / 2] : f(node(j, n));
        if (!std::isfinite(refined[j])) return;
      }
      values = std::move(refined);
      if (resolve(values, tolerance)) return;
    }
  }

  /** Whether the coefficients resolved f to the tolerance (else do not evaluate). */
  [[nodiscard]] bool accurate() const noexcept { return !coefficients_.empty(); }

  /** Degree after truncation. */
  [[nodiscard]] std::size_t degree() const noexcept {
    return coefficients_.empty() ? 0 : coefficients_.size() - 1;
  }

  /** c_0..c_degree after truncation (empty when inaccurate). */
  [[nodiscard]] const std::vector<double>& coefficients() const noexcept { return coefficients_; }

  /** u = (x − center)·inverse_half_width maps [lo, hi] to [−1, 1]. */
  [[nodiscard]] double center() const noexcept { return center_; }
  [[nodiscard]] double inverse_half_width() const noexcept { return inverse_half_width_; }

  /** The interpolant at x ∈ [lo, hi] (Clenshaw's recurrence). */
  [[nodiscard]] double operator()(double x) const noexcept {
    const double u = (x - center_) * inverse_half_width_;
    const double two_u = 2 * u;
    double next = 0, after = 0;
    for (std::size_t k = coefficients_.size() - 1; k > 0; --k) {
      const double current = two_u * next - after + coefficients_[k];
      after = next;
      next = current;
    }
    return u * next - after + coefficients_[0];
  }

 private:
  bool resolve(const std::vector<double>& values, double tolerance) {
    const std::size_t n = values.size() - 1;
    const double nd = static_cast<double>(n);
    std::vector<double> cosine(2 * n);  // cos(mπ/n); cos(jkπ/n) is entry jk mod 2n
    for (std::size_t m = 0; m < 2 * n; ++m) {
      cosine[m] = std::cos(std::numbers::pi * static_cast<double>(m) / nd);
    }
    std::vector<double> c(n + 1);
    for (std::size_t k = 0; k <= n; ++k) {
      double sum = 0;
      for (std::size_t j = 0; j <= n; ++j) {
        const double weight = j == 0 || j == n ? 0.5 : 1.0;
        sum += weight * values[j] * cosine[(j * k) % (2 * n)];
      }
      c[k] = (k == 0 || k == n ? 1.0 : 2.0) * sum / nd;
    }
    double scale = std::numeric_limits<double>::infinity();
    for (const double v : values) scale = std::min(scale, std::fabs(v));
    double plateau = 0;
    for (std::size_t k = n / 2 + 1; k <= n; ++k) plateau = std::max(plateau, std::fabs(c[k]));
    if (!(plateau <= tolerance * scale)) return false;
    std::size_t degree = n / 2;
    while (degree > 0 && std::fabs(c[degree]) <= plateau) --degree;
    c.resize(degree + 1);
    coefficients_ = std::move(c);
    return true;
  }

  double center_ = 0;
  double inverse_half_width_ = 0;
  std::vector<double> coefficients_;
};

}  // namespace crmkit::math
