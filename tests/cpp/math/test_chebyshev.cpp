#include <crmkit/math/chebyshev.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

namespace math = crmkit::math;

TEST_CASE("Chebyshev interpolants of analytic functions are exact to rounding, degree from the decay") {
  // e^x on [0, 3]: entire, coefficients I_k(1.5)-like, below 1e-16 of e^0 by degree ~17.
  const math::chebyshev_interpolant exp_fit([](double x) { return std::exp(x); }, 0.0, 3.0, 1e-14);
  REQUIRE(exp_fit.accurate());
  CHECK(exp_fit.degree() <= 20);
  // ln(1 + x) on [1, 2]: singular at x = −1, Bernstein ρ = 5 + √24 ≈ 9.9, degree ≤ 20.
  const math::chebyshev_interpolant log_fit([](double x) { return std::log1p(x); }, 1.0, 2.0, 1e-14);
  REQUIRE(log_fit.accurate());
  CHECK(log_fit.degree() <= 20);
  double worst_exp = 0, worst_log = 0;
  for (int i = 0; i <= 1000; ++i) {
    const double x = 3.0 * i / 1000;
    worst_exp = std::max(worst_exp, std::fabs(exp_fit(x) - std::exp(x)) / std::exp(x));
    const double y = 1 + i / 1000.0;
    worst_log = std::max(worst_log, std::fabs(log_fit(y) - std::log1p(y)) / std::log1p(y));
  }
  CHECK(worst_exp < 1e-14);
  CHECK(worst_log < 1e-14);
}

TEST_CASE("an interpolant that does not resolve its function says so") {
  // Runge's 1/(1 + 25x²) on [−1, 1]: poles at ±i/5, ρ ≈ 1.22, needs ~190 points for 1e-16.
  const math::chebyshev_interpolant runge([](double x) { return 1 / (1 + 25 * x * x); }, -1.0, 1.0,
                                          1e-14, 128);
  CHECK_FALSE(runge.accurate());
  CHECK(runge.coefficients().empty());
  // With room for 512 intervals it resolves.
  const math::chebyshev_interpolant wider([](double x) { return 1 / (1 + 25 * x * x); }, -1.0, 1.0,
                                          1e-14, 512);
  REQUIRE(wider.accurate());
  CHECK(wider(0.3) == doctest::Approx(1 / (1 + 25 * 0.09)).epsilon(1e-13));
  // A value that is not finite is never interpolated over.
  const math::chebyshev_interpolant broken(
      [](double x) { return x > 0.5 ? std::numeric_limits<double>::quiet_NaN() : x; }, 0.0, 1.0,
      1e-14);
  CHECK_FALSE(broken.accurate());
}
