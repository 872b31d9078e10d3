#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <cmath>
#include <vector>

namespace clv = crmkit::clv;
using big = boost::multiprecision::cpp_bin_float_50;

namespace {

const clv::bg_nbd_params fhl{0.243, 4.414, 0.793, 2.426};  // FHL 2005 CDNOW estimates
const clv::mbg_nbd_params mbg{0.525, 6.183, 0.891, 1.614};

// FHL 2005 eq. (10) exactly as published (no Euler transformation), in 50-digit arithmetic:
// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x} ₂F₁(r+x, b+x; a+b+x−1; z)] / (1 + δ(x>0)
// a/(b+x−1) ((α+T)/(α+t_x))^{r+x}); with offset 1 the MBG/NBD form of Batislam et al.
double direct_conditional_expectation(double r, double alpha, double a, double b, int offset,
                                      double t, double x, double t_x, double age) {
  const big z = big(t) / (big(alpha) + age + t);
  const big c = big(a) + b + x + offset - 1;
  big sum = 0, term = 1;
  for (int k = 0; k < 5'000'000; ++k) {
    sum += term;
    term *= (big(r) + x + k) * (big(b) + x + offset + k) / ((c + k) * (k + 1)) * z;
    if (k > 10 && abs(term) < abs(sum) * big("1e-40")) break;
  }
  const big w = (big(alpha) + age) / (big(alpha) + age + t);
  const big bracket = c / (big(a) - 1) * (1 - pow(w, big(r) + x) * sum);
  big odds = 0;
  if (x + offset > 0) {
    odds = big(a) / (big(b) + x + offset - 1) *
           pow((big(alpha) + age) / (big(alpha) + t_x), big(r) + x);
  }
  return static_cast<double>(bracket / (1 + odds));
}

}  // namespace

TEST_CASE("BG/NBD predictions match Hardie's spreadsheet values asserted by lifetimes") {
  // lifetimes tests/test_estimation.py (test_conditional_expectation_returns_same_value_as_
  // Hardie_excel_sheet, test_expectation_returns_same_value_Hardie_excel_sheet).
  CHECK(
      std::fabs(clv::conditional_expected_number_of_purchases_up_to_time(fhl, 39, 2, 30.43, 38.86) -
                1.226) < 1e-3);
  // That test evaluates at lifetimes' own fit, the CDNOW MLE (CLV-NOTES §3).
  const clv::bg_nbd_params mle{0.242593, 4.413533, 0.792886, 2.425755};
  const double times[] = {0.1429, 1.0, 3.00, 31.8571, 32.00, 78.00};
  const double expected[] = {0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576};
  for (int i = 0; i < 6; ++i) {
    CHECK(std::fabs(clv::expected_number_of_purchases_up_to_time(mle, times[i]) - expected[i]) <
          1e-3);
  }
}

TEST_CASE("conditional expectations agree with the direct formula in 50-digit arithmetic") {
  struct customer {
    double t, x, t_x, age;
  };
  const customer customers[] = {{39, 2, 30.43, 38.86}, {10, 0, 0, 20},   {100, 5, 10, 30},
                                {1, 1, 0.5, 1},        {52, 30, 38, 39}, {5, 0, 0, 0},
                                {200, 12, 2, 80}};
  for (const auto& c : customers) {
    CAPTURE(c.x);
    CAPTURE(c.t);
    CHECK(clv::conditional_expected_number_of_purchases_up_to_time(fhl, c.t, c.x, c.t_x, c.age) ==
          doctest::Approx(direct_conditional_expectation(fhl.r, fhl.alpha, fhl.a, fhl.b, 0, c.t,
                                                         c.x, c.t_x, c.age))
              .epsilon(1e-11));
    CHECK(clv::conditional_expected_number_of_purchases_up_to_time(mbg, c.t, c.x, c.t_x, c.age) ==
          doctest::Approx(direct_conditional_expectation(mbg.r, mbg.alpha, mbg.a, mbg.b, 1, c.t,
                                                         c.x, c.t_x, c.age))
              .epsilon(1e-11));
  }
}

TEST_CASE("a fit without dropout (a -> 0, b huge) predicts by the series, exactly") {
  // Data with no dropout drives BG/NBD towards a ≈ 0 and b in the tens of thousands (seen on
  // uniformly random purchase dates). C = a + b + x is then huge; the series must still be the
  // path taken (quadrature costs hundreds of µs per customer) and match the direct formula.
  const clv::bg_nbd_params no_dropout{1.0, 50.0, 4e-6, 65'000.0};
  struct customer {
    double t, x, t_x, age;
  };
  for (const auto& c : {customer{1, 0, 0, 100}, customer{30, 3, 80, 200},
                        customer{365, 9, 300, 365}, customer{3650, 2, 10, 20}}) {
    CAPTURE(c.t);
    CAPTURE(c.x);
    const double tau = c.t / (no_dropout.alpha + c.age);
    const double big_c = no_dropout.a + no_dropout.b + c.x - 1;
    CHECK(crmkit::math::hyp2f1_predicted_terms(big_c - (no_dropout.r + c.x), no_dropout.a - 1,
                                               big_c,
                                               tau / (1 + tau)) < clv::detail::series_term_budget);
    CHECK(
        clv::conditional_expected_number_of_purchases_up_to_time(no_dropout, c.t, c.x, c.t_x,
                                                                 c.age) ==
        doctest::Approx(direct_conditional_expectation(no_dropout.r, no_dropout.alpha, no_dropout.a,
                                                       no_dropout.b, 0, c.t, c.x, c.t_x, c.age))
            .epsilon(1e-10));
  }
}

TEST_CASE("the series and the quadrature representation agree where both apply") {
  // E[Y|alive] = C/(a−1)[1 − (1−z)^{a−1} 2F1(C−ν, a−1; C; z)] = E_p[(1 − (1+pτ)^−ν)/p].
  struct point {
    double nu, a, c, tau;
  };
  const point points[] = {{0.243, 0.793, 2.219, 1.0}, {2.24, 0.793, 4.22, 3.0},
                          {0.5, 1.0, 3.0, 0.2},       {0.5, 1.0 + 1e-9, 3.0, 5.0},
                          {1.2, 2.5, 2.9, 10.0},      {0.3, 0.6, 0.8, 40.0},
                          {50.2, 0.9, 52.0, 0.5},     {0.243, 0.793, 2.219, 1e-6}};
  for (const auto& p : points) {
    CAPTURE(p.a);
    CAPTURE(p.tau);
    CHECK(clv::detail::alive_purchases(p.nu, p.a, p.c, p.tau) ==
          doctest::Approx(clv::detail::alive_purchases_by_quadrature(p.nu, p.a, p.c, p.tau))
              .epsilon(1e-9));
  }
}

TEST_CASE("quadrature stays exact for sharply peaked dropout densities") {
  // Customers with hundreds of purchases under a large a have p ~ Beta(a, C−a+1) concentrated
  // in a narrow peak. The quadrature must then agree with the series to near round-off, or
  // E[Y(t)] stops being monotone in t where the two representations meet (found by hypothesis:
  // a = 59, b = 60, x = 420 and a = 29, b = 1, x = 1771).
  struct point {
    double nu, a, c, tau;
  };
  for (const auto& p : {point{421, 59, 538, 30.0}, point{1772, 29, 1800, 18.0},
                        point{50.2, 12.5, 400, 5.0}, point{0.243, 0.793, 2.219, 3.0}}) {
    CAPTURE(p.a);
    CHECK(clv::detail::alive_purchases_by_quadrature(p.nu, p.a, p.c, p.tau) ==
          doctest::Approx(clv::detail::alive_purchases(p.nu, p.a, p.c, p.tau)).epsilon(1e-12));
  }
}

TEST_CASE("a = 1 is a removable singularity") {
  const clv::bg_nbd_params at_one{0.3, 5.0, 1.0, 2.0};
  for (double delta : {1e-12, 1e-9, 1e-6}) {
    const clv::bg_nbd_params below{0.3, 5.0, 1.0 - delta, 2.0};
    const clv::bg_nbd_params above{0.3, 5.0, 1.0 + delta, 2.0};
    const double middle =
        clv::conditional_expected_number_of_purchases_up_to_time(at_one, 20, 3, 8, 10);
    CHECK(std::isfinite(middle));
    CHECK(clv::conditional_expected_number_of_purchases_up_to_time(below, 20, 3, 8, 10) ==
          doctest::Approx(middle).epsilon(10 * delta + 1e-12));
    CHECK(clv::conditional_expected_number_of_purchases_up_to_time(above, 20, 3, 8, 10) ==
          doctest::Approx(middle).epsilon(10 * delta + 1e-12));
    CHECK(clv::expected_number_of_purchases_up_to_time(below, 7) ==
          doctest::Approx(clv::expected_number_of_purchases_up_to_time(at_one, 7))
              .epsilon(10 * delta + 1e-12));
  }
}

TEST_CASE("extreme histories give finite, sensible values") {
  const clv::bg_nbd_params small_b{0.243, 4.414, 0.793, 0.4};  // b < 1
  // 10,000 purchases in 10,000 periods, the last one now: alive, ≈ one purchase per period.
  const double busy =
      clv::conditional_expected_number_of_purchases_up_to_time(fhl, 10, 10000, 10000, 10000);
  CHECK(clv::conditional_probability_alive(fhl, 10000, 10000, 10000) ==
        doctest::Approx(1).epsilon(1e-3));
  CHECK(busy == doctest::Approx(10.0).epsilon(0.01));
  // 10,000 purchases long ago: surely gone (P(alive) underflows to 0, not NaN).
  CHECK(clv::conditional_probability_alive(fhl, 10000, 1, 10000) == 0);
  CHECK(clv::conditional_expected_number_of_purchases_up_to_time(fhl, 10, 10000, 1, 10000) == 0);
  CHECK(clv::conditional_probability_alive(small_b, 0, 0, 50) == 1);
  CHECK(std::isfinite(
      clv::conditional_expected_number_of_purchases_up_to_time(small_b, 30, 0, 0, 50)));
  CHECK(std::isfinite(clv::conditional_expected_number_of_purchases_up_to_time(mbg, 1e6, 0, 0, 0)));
  // Tiny horizons: CET(t) ≈ t · P(alive) · (r+x)/(α+T) · E[…] — at least linear and positive.
  const double tiny =
      clv::conditional_expected_number_of_purchases_up_to_time(fhl, 1e-10, 2, 30.43, 38.86);
  const double small =
      clv::conditional_expected_number_of_purchases_up_to_time(fhl, 1e-8, 2, 30.43, 38.86);
  CHECK(tiny > 0);
  CHECK(small / tiny == doctest::Approx(100).epsilon(1e-6));
  CHECK(clv::conditional_expected_number_of_purchases_up_to_time(fhl, 0, 2, 30.43, 38.86) == 0);
}

TEST_CASE("P(alive) lies in [0, 1] and MBG/NBD customers without repeats may be gone") {
  for (double x : {0.0, 1.0, 5.0, 100.0}) {
    for (double t_x : {0.0, 1.0, 20.0, 39.0}) {
      if ((x == 0) != (t_x == 0)) continue;
      const double bg = clv::conditional_probability_alive(fhl, x, t_x, 39);
      const double m = clv::conditional_probability_alive(mbg, x, t_x, 39);
      CHECK(bg >= 0);
      CHECK(bg <= 1);
      CHECK(m >= 0);
      CHECK(m < 1);
    }
  }
  CHECK(clv::conditional_probability_alive(fhl, 0, 0, 39) == 1);
}

TEST_CASE("conditional expectations increase with the horizon, through the quadrature switch") {
  for (double x : {0.0, 3.0, 40.0}) {
    double previous = 0;
    for (double t = 0.5; t < 2e6; t *= 1.7) {
      const double value = clv::conditional_expected_number_of_purchases_up_to_time(
          fhl, t, x, x > 0 ? 20.0 : 0.0, 39);
      CAPTURE(t);
      CHECK(value > previous);
      previous = value;
    }
  }
}

TEST_CASE("the purchase-count distribution sums to 1 and has mean E[X(t)]") {
  // Σ_n P(X(t)=n) = 1 and Σ_n n·P(X(t)=n) = E[X(t)], the latter computed by the independent
  // ₂F₁ route: the pmf (incomplete beta) and the mean (hypergeometric series) must agree.
  for (double t : {0.5, 10.0, 39.0, 200.0}) {
    CAPTURE(t);
    double total = 0, mean = 0, total_m = 0, mean_m = 0;
    for (int n = 0; n < 20000; ++n) {
      const double p = clv::probability_of_n_purchases_up_to_time(fhl, t, n);
      const double q = clv::probability_of_n_purchases_up_to_time(mbg, t, n);
      CHECK(p >= 0);
      total += p;
      mean += n * p;
      total_m += q;
      mean_m += n * q;
    }
    CHECK(total == doctest::Approx(1).epsilon(1e-10));
    CHECK(total_m == doctest::Approx(1).epsilon(1e-10));
    CHECK(mean ==
          doctest::Approx(clv::expected_number_of_purchases_up_to_time(fhl, t)).epsilon(1e-8));
    CHECK(mean_m ==
          doctest::Approx(clv::expected_number_of_purchases_up_to_time(mbg, t)).epsilon(1e-8));
  }
  CHECK(clv::probability_of_n_purchases_up_to_time(fhl, 0, 0) == 1);
  CHECK(clv::probability_of_n_purchases_up_to_time(fhl, 0, 3) == 0);
}

TEST_CASE("vector predictions check their input and name the offending element") {
  const std::vector<double> x{0, 2, 1}, t_x{0, 5, 3}, age{10, 10, 10};
  const auto alive = clv::conditional_probability_alive(fhl, x, t_x, age);
  REQUIRE(alive.size() == 3);
  CHECK(alive[1] == clv::conditional_probability_alive(fhl, 2.0, 5.0, 10.0));
  const std::vector<double> late{0, 12, 3};
  CHECK_THROWS_WITH_AS(clv::conditional_probability_alive(fhl, x, late, age),
                       "conditional_probability_alive: recency[1] = 12 is greater than T[1] = 10",
                       crmkit::invalid_input);
  const std::vector<double> fractional{0, 2.5, 1};
  CHECK_THROWS_WITH_AS(clv::conditional_probability_alive(fhl, fractional, t_x, age),
                       "conditional_probability_alive: frequency[1] = 2.5 must be an integer",
                       crmkit::invalid_input);
  const std::vector<double> nan_age{10, NAN, 10};
  CHECK_THROWS_AS(clv::conditional_probability_alive(fhl, x, t_x, nan_age), crmkit::invalid_input);
  const std::vector<double> t{1, 2};
  CHECK_THROWS_AS(clv::conditional_expected_number_of_purchases_up_to_time(fhl, t, x, t_x, age),
                  crmkit::invalid_input);
  const std::vector<double> one_t{5};
  const auto cet =
      clv::conditional_expected_number_of_purchases_up_to_time(fhl, one_t, x, t_x, age);
  CHECK(cet[2] ==
        clv::conditional_expected_number_of_purchases_up_to_time(fhl, 5.0, 1.0, 3.0, 10.0));
  const clv::bg_nbd_params negative{-0.2, 4, 0.8, 2};
  CHECK_THROWS_AS(clv::conditional_probability_alive(negative, x, t_x, age), crmkit::invalid_input);
}
