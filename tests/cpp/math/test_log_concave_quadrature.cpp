#include <crmkit/math/log_concave_quadrature.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <random>

namespace math = crmkit::math;

TEST_CASE("the Gauss–Kronrod 7/15 weights integrate polynomials to their degrees 13 and 23") {
  // ∫_{-1}^{1} ξ^d dξ = 2/(d+1) for even d, 0 for odd d: exact for d ≤ 13 (Gauss) and d ≤ 23
  // (Kronrod), which a mistyped digit in the tables would break.
  using gk = math::detail::gauss_kronrod_15;
  for (int degree = 0; degree <= 23; ++degree) {
    double kronrod = 0, gauss = 0;
    for (std::size_t a = 0; a < 8; ++a) {
      const double xi = gk::abscissae[a];
      const double both = std::pow(xi, degree) + (a < 7 ? std::pow(-xi, degree) : 0.0);
      kronrod += gk::kronrod_weights[a] * both;
      if (a % 2 == 1) gauss += gk::gauss_weights[a / 2] * both;
    }
    const double exact = degree % 2 == 0 ? 2.0 / (degree + 1) : 0.0;
    CHECK(kronrod == doctest::Approx(exact).epsilon(1e-15).scale(1));
    if (degree <= 13) CHECK(gauss == doctest::Approx(exact).epsilon(1e-15).scale(1));
  }
}

TEST_CASE("the adaptive log-concave rule agrees with the full rule and with closed forms") {
  // ∫_0^L e^{k·o}·(1 + c(e^o − 1))^{−m} do over random shapes of the Pareto/NBD likelihood's
  // integrand (concave exponent); the full rule (two 32-point panels per side) is the reference.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  std::size_t short_rules = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const double k = 1 - std::pow(10.0, -3 + 7 * unit(rng));  // 1 − k_min, k_min in 1e-3 … 1e4
    const double m = std::pow(10.0, -3 + 7 * unit(rng));
    const double c = std::pow(10.0, -6 * unit(rng));
    const double length = std::pow(10.0, -4 + 6 * unit(rng));
    auto g = [&](double o) { return k * o - m * std::log1p(c * std::expm1(o)); };
    double mode = 0;
    if (k > 0 && k / m > c) {
      const double q = k / m;
      mode = q >= 1 ? length : std::min(length, std::log(q * (1 - c) / (c * (1 - q))));
    }
    const double width = 0.5;
    const auto full = math::log_concave_nodes(g, 0.0, mode, length, width);
    const auto fast = math::log_concave_nodes_adaptive(g, 0.0, mode, length, width, 1e-9);
    short_rules += fast.size < full.size;
    CHECK(fast.log_integral() == doctest::Approx(full.log_integral()).epsilon(1e-13).scale(1));
  }
  CHECK(short_rules > 1000);
  // c = 1: e^{(k − m)o}, integral expm1((k − m)L)/(k − m). A pure exponential over many widths
  // is the map's worst case: the full rule, too, is off by 1.2e-12 there.
  for (const double slope : {-1e4, -30.0, -1.0, -1e-3}) {
    for (const double length : {1e-3, 1.0, 50.0}) {
      auto g = [&](double o) { return slope * o; };
      const auto rule = math::log_concave_nodes_adaptive(g, 0.0, 0.0, length, 1 / -slope, 1e-9);
      const double exact = std::log(-std::expm1(slope * length) / -slope);
      CHECK(rule.log_integral() == doctest::Approx(exact).epsilon(2e-12).scale(1));
    }
  }
}
