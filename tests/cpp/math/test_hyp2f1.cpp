#include <crmkit/math/hyp2f1.hpp>

#include <doctest/doctest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <cmath>

namespace math = crmkit::math;
using big = boost::multiprecision::cpp_bin_float_50;

namespace {

// The plain series in 50-digit arithmetic, summed until terms fall below 1e-45 of the sum: an
// independent high-precision reference (no tail bound, no double rounding).
double reference_2f1(double a, double b, double c, double z, bool minus_one_over_b = false) {
  big sum = 0;
  big term = minus_one_over_b ? big(a) * z / c : big(1);
  for (int k = minus_one_over_b ? 1 : 0; k < 2'000'000; ++k) {
    sum += term;
    term *= (big(a) + k) * (big(b) + k) / ((big(c) + k) * (k + 1)) * z;
    if (k > 10 && abs(term) < abs(sum) * big("1e-45")) break;
  }
  return static_cast<double>(sum);
}

}  // namespace

TEST_CASE("2F1 series matches closed forms") {
  // 2F1(1, 1; 2; z) = −ln(1−z)/z and 2F1(a, b; b; z) = (1−z)^−a (A&S 15.1.3, 15.1.8).
  for (double z : {0.0, 1e-8, 0.3, 0.9, 0.99}) {
    const double expected = z == 0 ? 1.0 : -std::log1p(-z) / z;
    const auto result = math::hyp2f1(1, 1, 2, z);
    CHECK(result.converged);
    CHECK(result.value == doctest::Approx(expected).epsilon(1e-13));
    CHECK(math::hyp2f1(0.7, 2.5, 2.5, z).value ==
          doctest::Approx(std::pow(1 - z, -0.7)).epsilon(1e-13));
  }
}

TEST_CASE("2F1 series agrees with a 50-digit evaluation over the BG/NBD parameter range") {
  // Parameters as they occur in the Euler-transformed conditional expectation:
  // (a+b−1−r, a−1; a+b+x−1; z) for CDNOW-like and extreme (r, a, b, x).
  struct point {
    double a, b, c, z;
  };
  const point points[] = {{2.97, -0.207, 2.22, 0.5},  {2.97, -0.207, 2.22, 0.95},
                          {-0.3, 0.5, 1.2, 0.8},      {1.3, 1e-9, 3.1, 0.7},
                          {5.0, 2.0, 10004.0, 0.999}, {0.5, -0.9, 0.6, 0.97},
                          {3.2, 4.1, 7.3, 1e-10},     {2.0, 3.0, 1.5, 0.9}};
  for (const auto& p : points) {
    CAPTURE(p.a);
    CAPTURE(p.c);
    CAPTURE(p.z);
    const auto result = math::hyp2f1(p.a, p.b, p.c, p.z);
    CHECK(result.converged);
    CHECK(result.value == doctest::Approx(reference_2f1(p.a, p.b, p.c, p.z)).epsilon(1e-13));
    const auto reduced = math::hyp2f1_minus_one_over_b(p.a, p.b, p.c, p.z);
    CHECK(reduced.converged);
    CHECK(reduced.value == doctest::Approx(reference_2f1(p.a, p.b, p.c, p.z, true)).epsilon(1e-13));
  }
}

TEST_CASE("(2F1 − 1)/b is continuous at b = 0 and consistent with 2F1 elsewhere") {
  const double a = 2.2, c = 3.5, z = 0.6;
  const double at_zero = math::hyp2f1_minus_one_over_b(a, 0, c, z).value;
  const double near_zero = math::hyp2f1_minus_one_over_b(a, 1e-9, c, z).value;
  CHECK(near_zero == doctest::Approx(at_zero).epsilon(1e-8));
  const double b = 0.4;
  CHECK(math::hyp2f1_minus_one_over_b(a, b, c, z).value ==
        doctest::Approx((math::hyp2f1(a, b, c, z).value - 1) / b).epsilon(1e-13));
}

TEST_CASE("the iteration cap stops a slow series and says so") {
  const auto capped = math::hyp2f1(1, 1, 2, 0.9999, 1e-16, 1000);
  CHECK_FALSE(capped.converged);
  CHECK(capped.terms == 1000);
  CHECK(math::hyp2f1_predicted_terms(1, 1, 2, 0.9999) > 1000);
  CHECK(math::hyp2f1_predicted_terms(1, 1, 2, 0.5) < 100);
}

TEST_CASE("a huge c needs few terms: the tail bound holds from the first terms") {
  // BG/NBD fits on data without dropout reach b in the tens of thousands, so C = a + b + x is
  // huge; the series then converges at the rate z from its first terms. A bound that waited
  // for k > 2(|a|+|b|+|c|) sent every such customer to quadrature (hundreds of µs each).
  struct point {
    double a, b, c, z;
  };
  for (const auto p :
       {point{65'000 - 3.5, 4e-6 - 1, 65'000, 0.97}, point{65'000 - 12, 0.5, 65'000.5, 0.9},
        point{10.5, 3.2, 40'000, 0.8}, point{-2.5, 5, 1e5, 0.9}, point{3e4, 7.5, 3e4 + 2, 0.95}}) {
    CAPTURE(p.a);
    CAPTURE(p.c);
    const auto result = math::hyp2f1(p.a, p.b, p.c, p.z);
    CHECK(result.converged);
    CHECK(result.terms < 2'000);
    CHECK(math::hyp2f1_predicted_terms(p.a, p.b, p.c, p.z) < 4'000);
    CHECK(result.value == doctest::Approx(reference_2f1(p.a, p.b, p.c, p.z)).epsilon(1e-13));
    const auto reduced = math::hyp2f1_minus_one_over_b(p.a, p.b, p.c, p.z);
    CHECK(reduced.converged);
    CHECK(reduced.value == doctest::Approx(reference_2f1(p.a, p.b, p.c, p.z, true)).epsilon(1e-13));
  }
}

TEST_CASE("predicted terms are finite for any real parameters and infinite for NaN") {
  CHECK(std::isfinite(math::hyp2f1_predicted_terms(-1e6, -3e5, 1e-3, 0.5)));
  CHECK(std::isinf(math::hyp2f1_predicted_terms(std::nan(""), 1, 2, 0.5)));
}
