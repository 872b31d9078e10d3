#include <crmkit/math.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace math = crmkit::math;

TEST_CASE("log-space helpers neither overflow nor lose small terms") {
  CHECK(math::log_add_exp(1000, 1000) == doctest::Approx(1000 + std::log(2.0)));
  CHECK(math::log_add_exp(-1000, -1001) == doctest::Approx(-1000 + std::log1p(std::exp(-1.0))));
  CHECK(math::log_add_exp(-std::numeric_limits<double>::infinity(), 3.0) == 3.0);
  CHECK(math::log1p_exp(800) == 800);
  CHECK(math::log1p_exp(-800) == doctest::Approx(std::exp(-800.0)).epsilon(1e-12));
  CHECK(math::log1p_exp(0) == doctest::Approx(std::log(2.0)));
  CHECK(math::expit(-800) >= 0);
  CHECK(math::expit(800) == 1);
  CHECK(math::expit(0) == 0.5);
  CHECK(math::expit(-40) == doctest::Approx(std::exp(-40.0)).epsilon(1e-12));
}

TEST_CASE("log1p_via_log keeps log1p's relative accuracy from 1e-300 to 1e300 and on (-1, 0)") {
  // Goldberg's bound is 5 ulps; std::log1p (itself within ~1 ulp) is the reference, so allow 8.
  const double eps = std::numeric_limits<double>::epsilon();
  double worst = 0;
  for (int exponent = -300; exponent <= 300; ++exponent) {
    for (const double mantissa : {1.0, 1.234567891, 3.3, 7.77777}) {
      for (const double sign : {1.0, -1.0}) {
        const double u = sign * mantissa * std::pow(10.0, exponent);
        if (!(u > -1)) continue;
        const double exact = std::log1p(u);
        worst = std::max(worst, std::fabs(math::log1p_via_log(u) - exact) / std::fabs(exact));
      }
    }
  }
  CHECK(worst <= 8 * eps);
  CHECK(math::log1p_via_log(0.0) == 0.0);
  CHECK(math::log1p_via_log(1e-300) == 1e-300);
  CHECK(math::log1p_via_log(std::numeric_limits<double>::infinity()) ==
        std::numeric_limits<double>::infinity());
  CHECK(math::log1p_via_log(-1.0) == -std::numeric_limits<double>::infinity());
}

TEST_CASE("expm1_quotient is continuous through its removable singularity") {
  // (e^{e·l} − 1)/e → l as e → 0; compare with the exact quotient away from 0.
  CHECK(math::expm1_quotient(0, -2.5) == -2.5);
  CHECK(math::expm1_quotient(1e-12, -2.5) == doctest::Approx(-2.5).epsilon(1e-11));
  CHECK(math::expm1_quotient(0.3, -2.5) == doctest::Approx(std::expm1(-0.75) / 0.3).epsilon(1e-14));
}

TEST_CASE("special-function wrappers agree with textbook identities") {
  CHECK(math::lgamma(5) == doctest::Approx(std::log(24.0)));
  CHECK(math::digamma(1) == doctest::Approx(-0.57721566490153286));  // −Euler–Mascheroni
  CHECK(math::trigamma(1) == doctest::Approx(M_PI * M_PI / 6));
  CHECK(math::log_beta(2, 3) == doctest::Approx(std::log(1.0 / 12)));
  // I_x(1, b) = 1 − (1−x)^b.
  CHECK(math::ibeta(1, 2.5, 0.3) == doctest::Approx(1 - std::pow(0.7, 2.5)).epsilon(1e-14));
}

TEST_CASE("normal quantiles") {
  CHECK(math::normal_quantile(0.975) == doctest::Approx(1.959963984540054).epsilon(1e-15));
  CHECK(math::two_sided_critical_value(0.95) == doctest::Approx(1.959963984540054));
  CHECK(math::normal_quantile(0.5) == doctest::Approx(0).epsilon(1e-15));
  CHECK_THROWS_AS(math::normal_quantile(1.0), crmkit::invalid_input);
}
