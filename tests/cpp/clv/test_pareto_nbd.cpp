#include <crmkit/clv.hpp>
#include <crmkit/math/quadrature.hpp>

#include <doctest/doctest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "clv/cdnow.hpp"
#include "clv/model_checks.hpp"
#include "shared_data.hpp"

namespace clv = crmkit::clv;
using namespace crmkit_test;

namespace {

// CLV-NOTES §3: the MLE on lifetimes' CDNOW summary (lifetimes 0.11.3 refit; CLVTools agrees).
const clv::pareto_nbd_params cdnow{0.553276, 10.577614, 0.606214, 11.667911};

using big = boost::multiprecision::cpp_bin_float_50;

// ₂F₁(a, b; a+1; z) by its power series in 50-digit arithmetic (0 <= z < 1).
big hyp2f1_c_is_a_plus_one(const big& a, const big& b, const big& z) {
  big sum = 0, term = 1;
  for (int k = 0; k < 2'000'000; ++k) {
    sum += term;
    term *= (a + k) * (b + k) / ((a + 1 + k) * (k + 1)) * z;
    if (k > 10 && abs(term) < abs(sum) * big("1e-45")) break;
  }
  return sum;
}

// ln L in the standard form of Fader & Hardie's note 009 (eq. 16 with A₀ from eqs. 18–19),
// 50-digit arithmetic: Γ(r+x) α^r β^s / Γ(r) · [(α+T)^{−(r+x)} (β+T)^{−s} + s/(r+s+x) · A₀],
// A₀ = ₂F₁(w, s+1; w+1; (α−β)/(α+t_x))/(α+t_x)^w − (same at T) for α ≥ β, and with the roles of
// (α, r+x) and (β, s+1) exchanged (second parameter r+x) for α < β.
double note_009_log_likelihood(const clv::pareto_nbd_params& p, double x, double t_x, double age) {
  const big r = p.r, alpha = p.alpha, s = p.s, beta = p.beta, w = big(p.r) + p.s + x;
  const bool alpha_larger = alpha >= beta;
  const big larger = alpha_larger ? alpha : beta;
  const big difference = abs(alpha - beta);
  const big second = alpha_larger ? s + 1 : r + x;
  auto part = [&](double time) {
    return hyp2f1_c_is_a_plus_one(w, second, difference / (larger + time)) /
           pow(larger + time, w);
  };
  const big a0 = part(t_x) - part(age);
  const big bracket =
      pow(alpha + age, -(r + x)) * pow(beta + age, -s) + s / w * a0;
  const big log_k = boost::multiprecision::lgamma(r + x) - boost::multiprecision::lgamma(r) +
                    r * log(alpha) + s * log(beta);
  return static_cast<double>(log_k + log(bracket));
}

}  // namespace

TEST_CASE("Pareto/NBD: analytic gradients and Hessians match finite differences") {
  check_derivatives<clv::pareto_nbd>(cdnow, transaction_rows);
  check_derivatives<clv::pareto_nbd>({1.7, 0.3, 3.1, 0.6}, transaction_rows);   // α < β
  check_derivatives<clv::pareto_nbd>({0.4, 2.0, 0.3, 2.0}, transaction_rows);   // α = β
  check_derivatives<clv::pareto_nbd>({0.8, 20.0, 1.5, 0.5}, transaction_rows);  // α > β
}

TEST_CASE("the Pareto/NBD log-likelihood is note 009's standard form (50-digit evaluation)") {
  struct history {
    double x, t_x, age;
  };
  const history customers[] = {{0, 0, 38.86}, {2, 30.43, 38.86}, {1, 0.5, 1},  {40, 30, 39},
                               {5, 39, 39},   {300, 38, 39},     {0, 0, 1e-6}, {3, 1e-3, 1e4}};
  const clv::pareto_nbd_params params[] = {
      cdnow, {0.55, 10.58, 0.61, 10.58}, {1.7, 0.3, 3.1, 0.6}, {0.2, 3.0, 0.2, 3.0000001},
      {5.0, 50.0, 2.0, 0.5}};
  for (const auto& p : params) {
    for (const auto& c : customers) {
      CAPTURE(p.alpha);
      CAPTURE(p.beta);
      CAPTURE(c.x);
      CAPTURE(c.t_x);
      const double expected = note_009_log_likelihood(p, c.x, c.t_x, c.age);
      CHECK(clv::log_likelihood(p, c.x, c.t_x, c.age) ==
            doctest::Approx(expected).epsilon(1e-11).scale(1));
    }
  }
}

TEST_CASE("Pareto/NBD on CDNOW reproduces the published estimates, log-likelihood and errors" *
          needs_data({"cdnow_customers_summary.csv"})) {
  const auto data = crmkit_test::read_cdnow("cdnow_customers_summary.csv");
  REQUIRE_FALSE(data.empty());
  const auto fit = clv::fit_pareto_nbd(data.x, data.t_x, data.T);
  CHECK(fit.converged);
  // Issue #12 / CLV-NOTES §3 (lifetimes 0.11.3 refit to 1e-12): 0.55328, 10.5776, 0.60621,
  // 11.6679, LL −9594.974; FHL 2005 publish 0.553, 10.578, 0.606, 11.669.
  CHECK(relative_close(fit.params.r, 0.55328, 2e-4));
  CHECK(relative_close(fit.params.alpha, 10.5776, 2e-4));
  CHECK(relative_close(fit.params.s, 0.60621, 5e-4));
  CHECK(relative_close(fit.params.beta, 11.6679, 5e-4));
  CHECK(std::fabs(fit.log_likelihood + 9594.974) < 0.01);
  // Standard errors: CLVTools' test_correctness_pnbd_nocovstaticcov.R (0.0476264, 0.8427222,
  // 0.1872594, 6.2105448).
  CHECK(relative_close(fit.standard_errors[0], 0.0476264, 1e-2));
  CHECK(relative_close(fit.standard_errors[1], 0.8427222, 1e-2));
  CHECK(relative_close(fit.standard_errors[2], 0.1872594, 1e-2));
  CHECK(relative_close(fit.standard_errors[3], 6.2105448, 1e-2));
  MESSAGE(std::setprecision(9) << fit.params.r << " " << fit.params.alpha << " " << fit.params.s
                               << " " << fit.params.beta << " LL " << fit.log_likelihood << " SE "
                               << fit.standard_errors[0] << " " << fit.standard_errors[1] << " "
                               << fit.standard_errors[2] << " " << fit.standard_errors[3]);
}

TEST_CASE("Pareto/NBD parameter recovery: 95% intervals cover the true values") {
  // 8 replicates × 4 parameters: 30.4 of 32 intervals expected to cover; fewer than 27 would
  // happen with probability < 0.5% if the standard errors were right.
  const clv::pareto_nbd_params truth{0.6, 8.0, 0.8, 10.0};
  const double values[] = {truth.r, truth.alpha, truth.s, truth.beta};
  int covered = 0;
  for (int seed = 1; seed <= 8; ++seed) {
    const auto data = simulate_pareto_nbd(20'000, truth, 52, static_cast<std::uint64_t>(seed));
    const auto fit = clv::fit_pareto_nbd(data.x, data.t_x, data.T);
    CHECK(fit.converged);
    const auto estimate = clv::pareto_nbd::to_array(fit.params);
    for (std::size_t i = 0; i < 4; ++i) {
      covered += fit.lower[i] < values[i] && values[i] < fit.upper[i];
      CHECK(std::fabs(estimate[i] - values[i]) < 4 * fit.standard_errors[i]);
    }
  }
  CHECK(covered >= 27);
}

TEST_CASE("Pareto/NBD fits are bit-identical with 1 and 4 threads") {
  thread_count_guard guard;
  const auto data =
      simulate_pareto_nbd(30'000, clv::pareto_nbd_params{0.6, 8.0, 0.8, 10.0}, 52, 11);
  crmkit::set_num_threads(1);
  const auto one = clv::fit_pareto_nbd(data.x, data.t_x, data.T);
  crmkit::set_num_threads(4);
  const auto four = clv::fit_pareto_nbd(data.x, data.t_x, data.T);
  CHECK(std::bit_cast<std::uint64_t>(one.log_likelihood) ==
        std::bit_cast<std::uint64_t>(four.log_likelihood));
  CHECK(std::bit_cast<std::uint64_t>(one.params.beta) ==
        std::bit_cast<std::uint64_t>(four.params.beta));
  CHECK(std::bit_cast<std::uint64_t>(one.standard_errors[3]) ==
        std::bit_cast<std::uint64_t>(four.standard_errors[3]));
}

TEST_CASE("Pareto/NBD: the purchase-count distribution sums to 1 and has mean E[X(t)]") {
  check_count_distribution(cdnow);
  check_count_distribution(clv::pareto_nbd_params{1.7, 0.3, 3.1, 0.6});
}

TEST_CASE("Pareto/NBD: the conditional purchase-count distribution sums to 1 with mean CET") {
  struct history {
    double x, t_x, age;
  };
  for (const auto& c : {history{0, 0, 39}, history{2, 30.43, 38.86}, history{12, 5, 39},
                        history{5, 39, 39}}) {
    for (double t : {1.0, 39.0, 150.0}) {
      CAPTURE(c.x);
      CAPTURE(t);
      double total = 0, mean = 0;
      for (int n = 0; n < 5000; ++n) {
        const double p =
            clv::conditional_probability_of_n_purchases_up_to_time(cdnow, n, t, c.x, c.t_x, c.age);
        CHECK(p >= 0);
        total += p;
        mean += n * p;
      }
      CHECK(total == doctest::Approx(1).epsilon(1e-10));
      CHECK(mean == doctest::Approx(clv::conditional_expected_number_of_purchases_up_to_time(
                                        cdnow, t, c.x, c.t_x, c.age))
                        .epsilon(1e-8));
    }
  }
}

TEST_CASE("Pareto/NBD DERT equals δ∫e^{−δt} CET(t) dt (integration by parts, no U function)") {
  struct history {
    double x, t_x, age;
  };
  for (const auto& p : {cdnow, clv::pareto_nbd_params{1.7, 0.3, 3.1, 0.6},
                        clv::pareto_nbd_params{0.4, 2.0, 1.0, 2.0},
                        clv::pareto_nbd_params{0.4, 2.0, 2.0, 2.0}}) {
    for (const auto& c : {history{0, 0, 39}, history{2, 30.43, 38.86}, history{40, 38, 39}}) {
      for (double delta : {0.0015, 0.05, 2.0}) {
        CAPTURE(p.s);
        CAPTURE(c.x);
        CAPTURE(delta);
        // t = u/(1−u) maps [0, 1) onto [0, ∞).
        const double integral =
            delta * crmkit::math::tanh_sinh(
                        [&](double u) {
                          const double t = u / (1 - u);
                          if (!std::isfinite(t)) return 0.0;
                          return std::exp(-delta * t) / ((1 - u) * (1 - u)) *
                                 clv::conditional_expected_number_of_purchases_up_to_time(
                                     p, t, c.x, c.t_x, c.age);
                        },
                        0.0, 1.0, 1e-13, 14);
        CHECK(clv::discounted_expected_residual_transactions(p, delta, c.x, c.t_x, c.age) ==
              doctest::Approx(integral).epsilon(1e-9));
      }
    }
  }
}

TEST_CASE("Pareto/NBD predictions stay finite and ordered at the extremes") {
  const double extremes[] = {1e-6, 1e-2, 1.0, 1e3, 1e8};
  struct history {
    double x, t_x, age;
  };
  const history histories[] = {{0, 0, 1e4},   {1e4, 1e4, 1e4}, {1e4, 1, 1e4}, {1, 1e-6, 1e4},
                               {0, 0, 1e-6},  {300, 38, 39},   {3, 39, 39},   {10, 5, 5.0000001}};
  for (double r : extremes) {
    for (double alpha : extremes) {
      for (double s : extremes) {
        for (double beta : {1e-6, 1.0, 1e8}) {
          const clv::pareto_nbd_params p{r, alpha, s, beta};
          for (const auto& c : histories) {
            CAPTURE(r);
            CAPTURE(alpha);
            CAPTURE(s);
            CAPTURE(beta);
            CAPTURE(c.x);
            CAPTURE(c.t_x);
            const double ll = clv::log_likelihood(p, c.x, c.t_x, c.age);
            CHECK(std::isfinite(ll));
            const double alive = clv::conditional_probability_alive(p, c.x, c.t_x, c.age);
            CHECK((alive >= 0 && alive <= 1));
            const double soon =
                clv::conditional_expected_number_of_purchases_up_to_time(p, 10, c.x, c.t_x, c.age);
            const double later =
                clv::conditional_expected_number_of_purchases_up_to_time(p, 100, c.x, c.t_x, c.age);
            CHECK(std::isfinite(later));
            CHECK((soon >= 0 && soon <= later));
            const double future = clv::conditional_probability_alive_at(p, 10, c.x, c.t_x, c.age);
            CHECK((future >= 0 && future <= alive));
            const double dert =
                clv::discounted_expected_residual_transactions(p, 0.01, c.x, c.t_x, c.age);
            CHECK((std::isfinite(dert) && dert >= 0));
          }
        }
      }
    }
  }
}

TEST_CASE("Pareto/NBD: t_x = T means alive; α = β is not special") {
  CHECK(clv::conditional_probability_alive(cdnow, 5, 39, 39) == 1.0);
  const clv::pareto_nbd_params equal{0.55, 10.58, 0.61, 10.58};
  const clv::pareto_nbd_params nearly{0.55, 10.58, 0.61, 10.58 * (1 + 1e-12)};
  CHECK(clv::log_likelihood(equal, 2, 30.43, 38.86) ==
        doctest::Approx(clv::log_likelihood(nearly, 2, 30.43, 38.86)).epsilon(1e-11));
  CHECK(clv::conditional_probability_alive(equal, 2, 30.43, 38.86) ==
        doctest::Approx(clv::conditional_probability_alive(nearly, 2, 30.43, 38.86))
            .epsilon(1e-11));
}

TEST_CASE("Pareto/NBD vector predictions check their input and name the offending element") {
  const std::vector<double> x{0, 1, 2}, t_x{0, 3, 8}, age{10, 10, 12};
  CHECK_THROWS_WITH_AS(clv::conditional_probability_alive(cdnow, x, std::vector<double>{0, 11, 8}, age),
                       doctest::Contains("recency[1] = 11"), crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(clv::discounted_expected_residual_transactions(cdnow, 0.0, x, t_x, age),
                       doctest::Contains("discount_rate"), crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(
      clv::conditional_probability_alive(clv::pareto_nbd_params{0.5, 1, -1, 1}, x, t_x, age),
      doctest::Contains("s = -1"), crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(clv::conditional_probability_of_n_purchases_up_to_time(
                           cdnow, std::vector<double>{1.5}, std::vector<double>{1}, x, t_x, age),
                       doctest::Contains("must be an integer"), crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(
      clv::fit_pareto_nbd(std::vector<double>{0, 0}, std::vector<double>{0, 0},
                          std::vector<double>{3, 4}),
      doctest::Contains("every customer has frequency 0"), crmkit::invalid_input);
}

namespace {

// ln(J/((α+t_x)^{−(r+x)}(β+t_x)^{−(s+1)})) at 40 digits by mpmath's tanh-sinh quadrature in τ,
// independent of the series and of crmkit's rule: tests/python/pareto_death_reference.py
// (`/usr/bin/python3 tests/python/pareto_death_reference.py` prints these rows).
struct death_reference {
  double r, alpha, s, beta, x, t_x, age, log_relative;
};
const death_reference death_references[] = {
    {0.55328, 10.5776, 0.60621, 11.6679, 0, 0, 38.86, 2.0864668124269172116},  // t_x = 0
    {0.55328, 10.5776, 0.60621, 11.6679, 2, 30.43, 38.86, 1.7593364469614552777},
    {0.55328, 10.5776, 0.60621, 11.6679, 5, 38.999999, 39, -13.815510632345340232},  // t_x ≈ T
    {0.2, 3.0, 0.2, 3.0000001, 3, 1, 20, 0.15990257723876920602},                    // α ≈ β
    {0.55, 10.58, 0.61, 10.58, 1e4, 30, 39, -5.5071810308510343034},                 // x = 10⁴
    {0.5, 1.0, 0.6, 1.3, 7, 0, 1e4, -2.049587276222231677},  // T = 10⁴, b|z| = 0.48
    {0.55, 10.58, 0.61, 11.0, 1e4, 9000, 1e4, -0.10430163629664681971},
    {0.8, 20, 1.5, 23.9, 40, 0, 39, -0.73955513184722800808},  // z > 0 (alternating), b|z| ≈ 0.49
    {0.8, 25, 1.5, 21, 3, 0, 39, 1.4738520412320030751},       // z < 0, b|z| = 0.4
};

double quadrature_log_relative(const clv::pareto_nbd_params& p, double x, double t_x, double age) {
  return clv::detail::power_product_integral(p.r + x, p.alpha, p.s + 1, p.beta, t_x, age)
      .rule.log_integral();
}

// ln(s·J) in absolute terms, from the quadrature: what the series' gradient differentiates.
double quadrature_log_death(const std::array<double, 4>& v, double x, double t_x, double age) {
  const clv::pareto_nbd_params p{v[0], v[1], v[2], v[3]};
  return std::log(p.s) - (p.r + x) * std::log(p.alpha + t_x) -
         (p.s + 1) * std::log(p.beta + t_x) + quadrature_log_relative(p, x, t_x, age);
}

}  // namespace

TEST_CASE("Pareto/NBD death series: value against mpmath and the quadrature") {
  for (const auto& c : death_references) {
    const clv::pareto_nbd_params p{c.r, c.alpha, c.s, c.beta};
    CAPTURE(c.x);
    CAPTURE(c.t_x);
    CAPTURE(c.age);
    clv::detail::pareto_death_term series;
    REQUIRE(clv::detail::pareto_death_series<2>(p, c.x, c.t_x, c.age, series));
    CHECK(std::fabs(series.log_relative_integral - c.log_relative) <=
          2e-14 * (1 + std::fabs(c.log_relative)));
    // The adaptive Gauss–Kronrod rule is accurate to about 1e-12 (x = 10⁴ with T − t_x = 1000).
    CHECK(std::fabs(quadrature_log_relative(p, c.x, c.t_x, c.age) - c.log_relative) <=
          2e-12 * (1 + std::fabs(c.log_relative)));
  }
  // Outside its bound (b|z| > ½) and without a death interval the series declines.
  clv::detail::pareto_death_term unused;
  CHECK_FALSE(clv::detail::pareto_death_series<2>(clv::pareto_nbd_params{1.7, 0.3, 3.1, 0.6}, 3,
                                                  0, 12, unused));
  CHECK_FALSE(clv::detail::pareto_death_series<2>(cdnow, 5, 39, 39, unused));
}

TEST_CASE("Pareto/NBD death series: gradient and Hessian of ln(sJ) match finite differences") {
  for (const auto& c : death_references) {
    const clv::pareto_nbd_params p{c.r, c.alpha, c.s, c.beta};
    CAPTURE(c.x);
    CAPTURE(c.t_x);
    CAPTURE(c.age);
    clv::detail::pareto_death_term exact;
    REQUIRE(clv::detail::pareto_death_series<2>(p, c.x, c.t_x, c.age, exact));
    const std::array<double, 4> point{p.r, p.alpha, p.s, p.beta};
    // Gradient: central differences of the quadrature's value (independent of the series).
    for (std::size_t i = 0; i < 4; ++i) {
      const double h = 1e-5 * point[i];
      auto up = point, down = point;
      up[i] += h;
      down[i] -= h;
      const double numeric = (quadrature_log_death(up, c.x, c.t_x, c.age) -
                              quadrature_log_death(down, c.x, c.t_x, c.age)) / (2 * h);
      CAPTURE(i);
      CHECK(exact.gradient[i] == doctest::Approx(numeric).epsilon(1e-6).scale(1));
    }
    // Hessian: central differences of the series' gradient; entries that cancel to ~0 (ln J
    // is nearly separable in α and β when T − t_x is small) are compared on the row's scale.
    double scale = 0;
    for (std::size_t i = 0; i < 4; ++i) scale = std::max(scale, std::fabs(exact.hessian[i * 5]));
    for (std::size_t j = 0; j < 4; ++j) {
      const double h = 1e-6 * point[j];
      auto up = point, down = point;
      up[j] += h;
      down[j] -= h;
      clv::detail::pareto_death_term at_up, at_down;
      REQUIRE(clv::detail::pareto_death_series<1>(
          clv::pareto_nbd_params{up[0], up[1], up[2], up[3]}, c.x, c.t_x, c.age, at_up));
      REQUIRE(clv::detail::pareto_death_series<1>(
          clv::pareto_nbd_params{down[0], down[1], down[2], down[3]}, c.x, c.t_x, c.age, at_down));
      for (std::size_t i = 0; i < 4; ++i) {
        const double numeric = (at_up.gradient[i] - at_down.gradient[i]) / (2 * h);
        CAPTURE(i);
        CAPTURE(j);
        CHECK(std::fabs(exact.hessian[i * 4 + j] - numeric) <=
              1e-5 * std::fabs(numeric) + 1e-7 * scale);
      }
    }
  }
}
