#include <crmkit/math.hpp>

#include <doctest/doctest.h>

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
