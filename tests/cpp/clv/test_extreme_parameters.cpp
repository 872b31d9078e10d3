// Predictions at the limits of the parameter space an optimiser can reach (issue 13, defects
// 1, 2 and the CLV part of 7). Reference values: tests/python/clv_reference.py, which evaluates
// the papers' closed forms (FHL 2005 eqs. 9–10; Batislam et al. 2007) with mpmath at 50 digits.
#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace clv = crmkit::clv;

namespace {
double cet(const clv::bg_nbd_params& p, double t, double x, double t_x, double age) {
  return clv::conditional_expected_number_of_purchases_up_to_time(p, t, x, t_x, age);
}
double cet(const clv::mbg_nbd_params& p, double t, double x, double t_x, double age) {
  return clv::conditional_expected_number_of_purchases_up_to_time(p, t, x, t_x, age);
}
}  // namespace

TEST_CASE("BG/NBD with a large a (a → ∞, p → 1) is finite and exact (defect 1)") {
  // Before the fix: 0.0 (the Euler-form series overflowed and the quadrature lost the peak).
  const clv::bg_nbd_params large_a{0.243, 4.414, 1e4, 3};
  CHECK(cet(large_a, 10, 0, 0, 40) == doctest::Approx(0.04814921475174303).epsilon(1e-11));
  CHECK(cet(large_a, 10, 5, 20, 40) == doctest::Approx(1.9908956217352055e-5).epsilon(1e-10));
  const clv::mbg_nbd_params large_a_mbg{0.243, 4.414, 1e4, 3};
  CHECK(cet(large_a_mbg, 10, 5, 20, 40) == doctest::Approx(2.2754113945702272e-5).epsilon(1e-10));
}

TEST_CASE("BG/NBD and MBG/NBD at the other limits of (r, alpha, a, b)") {
  struct bg_case {
    clv::bg_nbd_params p;
    double t, x, t_x, age, expected;
  };
  const bg_case cases[] = {
      {{0.243, 4.414, 1e8, 1e8}, 10, 5, 20, 40, 0.035634948419241776},   // a, b → ∞
      {{0.243, 4.414, 1e-6, 1e8}, 10, 5, 20, 40, 1.1804836312871516},    // a → 0, b → ∞ (NBD)
      {{2.0, 1e-6, 0.8, 2.4}, 7, 3, 10, 12, 1.6658826342839402},         // alpha → 0
      {{1e-6, 4.414, 0.793, 2.426}, 10, 3, 20, 40, 0.30784715797786523},  // r → 0
      {{1e8, 1e8, 0.793, 2.426}, 10, 3, 20, 40, 7.4391843742069915e-8},   // r, alpha → ∞
  };
  for (const auto& c : cases) {
    CAPTURE(c.p.r);
    CAPTURE(c.p.alpha);
    CAPTURE(c.p.a);
    CAPTURE(c.p.b);
    CHECK(cet(c.p, c.t, c.x, c.t_x, c.age) == doctest::Approx(c.expected).epsilon(1e-10));
  }
  const clv::mbg_nbd_params both_large{0.243, 4.414, 1e8, 2e8};
  CHECK(cet(both_large, 30, 2, 35, 40) == doctest::Approx(0.66374337011135123).epsilon(1e-10));
}

TEST_CASE("the three forms of E[Y | alive] agree over the whole parameter range") {
  // (E) and (O) are accepted only when well conditioned; the quadrature (Q) must agree with
  // whichever series is used, including a → 0 with heavy logit tails and a, b ~ 1e8.
  struct point {
    double nu, a, beta, tau;
  };
  for (const auto& p : {point{2014.6, 1.04e-4, 19102001, 9.7536e-7}, point{3.44, 0.0047, 32004, 0.266},
                        point{0.243, 1e4, 3, 0.2}, point{5.243, 1e8, 1e8, 0.3},
                        point{0.5, 0.3, 2.5, 40}, point{50, 12.5, 400, 5}}) {
    CAPTURE(p.nu);
    CAPTURE(p.a);
    CAPTURE(p.beta);
    CHECK(clv::detail::alive_purchases_by_quadrature_beta(p.nu, p.a, p.beta, p.tau) ==
          doctest::Approx(clv::detail::alive_purchases_beta(p.nu, p.a, p.beta, p.tau))
              .epsilon(1e-10));
  }
}

TEST_CASE("E[X(t)] is finite and continuous through b = 1 (defect 2)") {
  // Before the fix: NaN at b = 1 for t ≫ alpha (the quadrature evaluated 0·ln 0 at p = 1).
  for (double t : {0.5, 10.0, 1e4}) {
    CAPTURE(t);
    const double at_one = clv::expected_number_of_purchases_up_to_time(
        clv::bg_nbd_params{0.243, 4.414, 0.793, 1.0}, t);
    REQUIRE(std::isfinite(at_one));
    for (double delta : {1e-9, 1e-6}) {
      const double below = clv::expected_number_of_purchases_up_to_time(
          clv::bg_nbd_params{0.243, 4.414, 0.793, 1.0 - delta}, t);
      const double above = clv::expected_number_of_purchases_up_to_time(
          clv::bg_nbd_params{0.243, 4.414, 0.793, 1.0 + delta}, t);
      CHECK(below == doctest::Approx(at_one).epsilon(10 * delta));
      CHECK(above == doctest::Approx(at_one).epsilon(10 * delta));
      CHECK(below <= at_one);  // E[X(t)] rises with b: p ~ Beta(a, b) shifts towards 0
      CHECK(above >= at_one);
    }
  }
  CHECK(clv::expected_number_of_purchases_up_to_time(clv::bg_nbd_params{0.243, 4.414, 0.793, 1.0},
                                                     1e4) ==
        doctest::Approx(8.1459647812444215).epsilon(1e-10));
  CHECK(clv::expected_number_of_purchases_up_to_time(clv::mbg_nbd_params{0.243, 4.414, 0.793, 1.0},
                                                     1e4) ==
        doctest::Approx(7.3646484227224726).epsilon(1e-10));
}

TEST_CASE("CLV work does not grow with the horizon, or the horizon is refused (defect 7)") {
  // Before the fix time = 1e9 ran 1e9 monthly steps per customer (hours).
  const clv::bg_nbd_params fhl{0.243, 4.414, 0.793, 2.426};
  const std::vector<double> x{0, 2, 7}, t_x{0, 30.43, 20}, age{38.86, 38.86, 30};
  const std::vector<double> money{10, 22.35, 41.0};
  const double f = 4.345;
  const auto huge = clv::customer_lifetime_value(fhl, x, t_x, age, money, 1e9, 0.01, f);
  // The tail after discount_horizon_months(0.01) months is below 1e-17 of the sum.
  const double cutoff = clv::discount_horizon_months(0.01);
  CHECK(cutoff < 5000);
  const auto at_cutoff = clv::customer_lifetime_value(fhl, x, t_x, age, money, cutoff, 0.01, f);
  const auto longer =
      clv::customer_lifetime_value(fhl, x, t_x, age, money, cutoff + 2000, 0.01, f);
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(huge[i] == at_cutoff[i]);
    CHECK(huge[i] == doctest::Approx(longer[i]).epsilon(1e-14));  // the truncation is exact
  }
  // Without discounting the sum telescopes to m·CET(months·f), at any horizon.
  const auto undiscounted = clv::customer_lifetime_value(fhl, x, t_x, age, money, 1e9, 0.0, f);
  for (std::size_t i = 0; i < x.size(); ++i) {
    CHECK(undiscounted[i] == doctest::Approx(money[i] * cet(fhl, 1e9 * f, x[i], t_x[i], age[i]))
                                 .epsilon(1e-15));
    CHECK(std::isfinite(undiscounted[i]));
  }
  // A negative rate never converges: refused with a named error beyond the bound.
  CHECK_THROWS_WITH_AS(clv::customer_lifetime_value(fhl, x, t_x, age, money, 1e9, -0.01, f),
                       doctest::Contains("max_discounted_months"), crmkit::invalid_input);
  CHECK_THROWS_AS(
      clv::customer_lifetime_value_continuous(fhl, x, t_x, age, money, 1e9, std::log(1.01), f),
      crmkit::invalid_input);
}

TEST_CASE("a fit that runs to a boundary says which and what it means") {
  // Every customer bought at the very end of the window (t_x = T): nothing suggests dropout,
  // so the likelihood rises as a/(a+b) → 0 and the fit drifts there (the NBD limit).
  std::vector<double> x, t_x, age;
  for (int i = 0; i < 300; ++i) {
    const double T = 20 + (i % 17);
    x.push_back(static_cast<double>(1 + i % 5));
    t_x.push_back(T);
    age.push_back(T);
  }
  const auto fit = clv::fit_bg_nbd(x, t_x, age);
  CHECK(fit.params.a / (fit.params.a + fit.params.b) < 1e-6);
  const bool named =
      std::any_of(fit.warnings.begin(), fit.warnings.end(), [](const crmkit::warning& w) {
        return w.code == crmkit::warning_code::at_boundary &&
               w.message.find("BG/NBD") != std::string::npos &&
               w.message.find("a/(a+b) → 0") != std::string::npos &&
               w.message.find("reduces to the NBD") != std::string::npos;
      });
  CHECK(named);
  CHECK(std::isfinite(cet(fit.params, 10, 3, 20, 20)));
  // An estimate in the interior carries no boundary warning.
  CHECK(clv::bg_nbd::boundary_warnings(clv::bg_nbd_params{0.243, 4.414, 0.793, 2.426}).empty());
  CHECK(clv::bg_nbd::boundary_warnings(clv::bg_nbd_params{0.243, 4.414, 1e7, 2e7}).size() == 1);
  CHECK(clv::bg_nbd::boundary_warnings(clv::bg_nbd_params{1e7, 4e8, 0.793, 2.426}).size() == 1);
}
