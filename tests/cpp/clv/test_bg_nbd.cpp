#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

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
const clv::bg_nbd_params fhl{0.243, 4.414, 0.793, 2.426};  // FHL 2005 CDNOW estimates
}  // namespace

TEST_CASE("BG/NBD: analytic gradients and Hessians match finite differences") {
  check_derivatives<clv::bg_nbd>({0.243, 4.414, 0.793, 2.426}, transaction_rows);
  check_derivatives<clv::bg_nbd>({1.7, 0.3, 3.1, 0.6}, transaction_rows);
}

TEST_CASE("the per-customer log-likelihood is FHL's eq. (6)") {
  // Hand evaluation of FHL 2005 eq. (6) in the published (non-log-space) form.
  const clv::bg_nbd_params p{0.243, 4.414, 0.793, 2.426};
  const double x = 2, t_x = 30.43, age = 38.86;
  const double beta_ratio = std::exp(std::lgamma(p.a + p.b) + std::lgamma(p.b + x) -
                                     std::lgamma(p.b) - std::lgamma(p.a + p.b + x));
  const double gamma_part =
      std::exp(std::lgamma(p.r + x) - std::lgamma(p.r)) * std::pow(p.alpha, p.r);
  const double likelihood =
      beta_ratio * gamma_part / std::pow(p.alpha + age, p.r + x) +
      p.a / (p.b + x - 1) * beta_ratio * gamma_part / std::pow(p.alpha + t_x, p.r + x);
  CHECK(clv::log_likelihood(p, x, t_x, age) ==
        doctest::Approx(std::log(likelihood)).epsilon(1e-13));
  CHECK(clv::log_likelihood(p, 0.0, 0.0, age) ==
        doctest::Approx(p.r * std::log(p.alpha / (p.alpha + age))).epsilon(1e-14));
}

TEST_CASE("fits are bit-identical with 1 and 4 threads, on the staged (sampled) path too") {
  thread_count_guard guard;
  const auto data = crmkit_test::simulate_beta_geometric(60'000, 0.25, 4.0, 0.8, 2.5, false, 52, 7);
  clv::fit_options options;
  options.sample_threshold = 10'000;
  crmkit::set_num_threads(1);
  const auto one = clv::fit_bg_nbd(data.x, data.t_x, data.T, {}, options);
  crmkit::set_num_threads(4);
  const auto four = clv::fit_bg_nbd(data.x, data.t_x, data.T, {}, options);
  CHECK(one.converged);
  CHECK(one.patterns > options.sample_threshold);
  CHECK(std::bit_cast<std::uint64_t>(one.log_likelihood) ==
        std::bit_cast<std::uint64_t>(four.log_likelihood));
  CHECK(std::bit_cast<std::uint64_t>(one.params.alpha) ==
        std::bit_cast<std::uint64_t>(four.params.alpha));
  CHECK(std::bit_cast<std::uint64_t>(one.standard_errors[3]) ==
        std::bit_cast<std::uint64_t>(four.standard_errors[3]));
  // The staged path reaches the same optimum as fitting all patterns from the start.
  clv::fit_options direct;
  direct.sample_threshold = 0;
  const auto plain = clv::fit_bg_nbd(data.x, data.t_x, data.T, {}, direct);
  CHECK(plain.log_likelihood == doctest::Approx(one.log_likelihood).epsilon(1e-10));
  CHECK(plain.params.b == doctest::Approx(one.params.b).epsilon(1e-5));
}

TEST_CASE("BG/NBD parameter recovery: 95% intervals cover the true values") {
  // 10 replicates × 4 parameters: 38 of 40 intervals expected to cover; fewer than 34 would
  // happen with probability < 0.5% if the standard errors were right.
  const double bg_truth[4] = {0.25, 4.0, 0.8, 2.5};
  CHECK(covered_intervals(10, bg_truth, false, [](const crmkit_test::simulated& d) {
          return clv::fit_bg_nbd(d.x, d.t_x, d.T);
        }) >= 34);
}

TEST_CASE("weights are counts: a weighted fit equals the fit on expanded rows") {
  const std::vector<double> x{0, 1, 2, 5, 0}, t_x{0, 3, 8, 9, 0}, age{10, 10, 12, 12, 5};
  const std::vector<double> weights{300, 120, 60, 20, 150};
  std::vector<double> ex, et, ea;
  for (std::size_t i = 0; i < x.size(); ++i) {
    for (int k = 0; k < static_cast<int>(weights[i]); ++k) {
      ex.push_back(x[i]);
      et.push_back(t_x[i]);
      ea.push_back(age[i]);
    }
  }
  const auto weighted = clv::fit_bg_nbd(x, t_x, age, weights);
  const auto expanded = clv::fit_bg_nbd(ex, et, ea);
  CHECK(expanded.patterns == 5);
  CHECK(weighted.total_weight == 650);
  CHECK(weighted.log_likelihood == doctest::Approx(expanded.log_likelihood).epsilon(1e-12));
  CHECK(weighted.params.r == doctest::Approx(expanded.params.r).epsilon(1e-7));
}

TEST_CASE("the L2 penalty has lifetimes' meaning") {
  const auto data = crmkit_test::simulate_beta_geometric(5'000, 0.25, 4.0, 0.8, 2.5, false, 52, 3);
  clv::fit_options options;
  options.penalizer_coef = 0.1;
  const auto plain = clv::fit_bg_nbd(data.x, data.t_x, data.T);
  const auto penalised = clv::fit_bg_nbd(data.x, data.t_x, data.T, {}, options);
  CHECK(penalised.converged);
  CHECK(penalised.log_likelihood < plain.log_likelihood);
  // objective = −LL(scaled times)/W + c·Σ p², α in scaled units (times × 1/max T).
  const double s = penalised.time_scale;
  double x_sum = 0;
  for (double value : data.x) x_sum += value;
  const double scaled_ll = penalised.log_likelihood - x_sum * std::log(s);
  const auto& p = penalised.params;
  const double alpha_scaled = p.alpha * s;
  const double expected =
      -scaled_ll / 5000.0 + 0.1 * (p.r * p.r + alpha_scaled * alpha_scaled + p.a * p.a + p.b * p.b);
  CHECK(penalised.objective == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("bad fitting input is rejected with the argument, index and value") {
  const std::vector<double> x{0, 1, 2}, t_x{0, 3, 8}, age{10, 10, 12};
  CHECK_THROWS_WITH_AS(
      clv::fit_bg_nbd(std::vector<double>{0, 0, 0}, std::vector<double>{0, 0, 0}, age),
      doctest::Contains("every customer has frequency 0"), crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(clv::fit_bg_nbd(x, std::vector<double>{0, 0, 8}, age),
                       "fit_bg_nbd: frequency[1] = 1 but recency[1] = 0: a customer with repeat "
                       "purchases has a positive recency",
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(clv::fit_bg_nbd(std::vector<double>{0, -1, 2}, t_x, age),
                       "fit_bg_nbd: frequency[1] = -1 must be finite and >= 0",
                       crmkit::invalid_input);
  CHECK_THROWS_AS(clv::fit_bg_nbd(x, t_x, std::vector<double>{10, 10}), crmkit::invalid_input);
  CHECK_THROWS_AS(clv::fit_bg_nbd({}, {}, {}), crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(clv::fit_bg_nbd(x, t_x, age, std::vector<double>{1, -2, 1}),
                       "fit_bg_nbd: weights[1] = -2 must be finite and >= 0",
                       crmkit::invalid_input);
  clv::fit_options bad;
  bad.penalizer_coef = -1;
  CHECK_THROWS_AS(clv::fit_bg_nbd(x, t_x, age, {}, bad), crmkit::invalid_input);
  bad = {};
  bad.initial_params = {1, 2};
  CHECK_THROWS_AS(clv::fit_bg_nbd(x, t_x, age, {}, bad), crmkit::invalid_input);
}

TEST_CASE("a user start and a tight iteration budget: non-convergence is reported, not thrown") {
  const std::vector<double> x{0, 1, 2, 4}, t_x{0, 3, 8, 11}, age{10, 10, 12, 12};
  clv::fit_options options;
  options.max_iterations = 1;
  options.initial_params = {1, 1, 1, 1};
  const auto fit = clv::fit_bg_nbd(x, t_x, age, {}, options);
  CHECK_FALSE(fit.converged);
  REQUIRE(fit.warnings.size() >= 1);
  CHECK(fit.warnings[0].code == crmkit::warning_code::not_converged);
  CHECK(fit.warnings[0].message.find("did not converge") != std::string::npos);
  CHECK(std::isfinite(fit.log_likelihood));
}

// Reference values: CLV-NOTES §3 (MLE on lifetimes' cdnow_customers_summary.csv, matching
// FHL 2005 and CLVTools test_correctness_bgnbd.R: 0.2425945, 4.4136019, 0.7929199, 2.4258881,
// LL −9582.429); standard errors from a numerical Hessian in the notes.
TEST_CASE("BG/NBD on CDNOW reproduces the published estimates, log-likelihood and errors" *
          needs_data({"cdnow_customers_summary.csv"})) {
  const auto data = crmkit_test::read_cdnow("cdnow_customers_summary.csv");
  REQUIRE_FALSE(data.empty());
  const auto fit = clv::fit_bg_nbd(data.x, data.t_x, data.T);
  CHECK(fit.converged);
  CHECK(fit.customers == 2357);
  CHECK(fit.patterns < fit.customers);
  CHECK(relative_close(fit.params.r, 0.24259, 1e-3));
  CHECK(relative_close(fit.params.alpha, 4.41353, 1e-3));
  CHECK(relative_close(fit.params.a, 0.79289, 1e-3));
  CHECK(relative_close(fit.params.b, 2.42575, 1e-3));
  CHECK(std::fabs(fit.log_likelihood + 9582.42556) < 0.01);
  CHECK(relative_close(fit.standard_errors[0], 0.0126, 0.02));
  CHECK(relative_close(fit.standard_errors[1], 0.378, 0.02));
  CHECK(relative_close(fit.standard_errors[2], 0.186, 0.02));
  CHECK(relative_close(fit.standard_errors[3], 0.705, 0.02));
  MESSAGE(fit.params.r << " " << fit.params.alpha << " " << fit.params.a << " " << fit.params.b
                       << " LL " << fit.log_likelihood << " it " << fit.iterations << " SE "
                       << fit.standard_errors[0] << " " << fit.standard_errors[1] << " "
                       << fit.standard_errors[2] << " " << fit.standard_errors[3]);
}

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

TEST_CASE("BG/NBD conditional expectations agree with the direct formula in 50-digit arithmetic") {
  check_against_direct_formula(fhl, 0);
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
  // Tiny horizons: CET(t) ≈ t · P(alive) · (r+x)/(α+T) · E[…] — at least linear and positive.
  const double tiny =
      clv::conditional_expected_number_of_purchases_up_to_time(fhl, 1e-10, 2, 30.43, 38.86);
  const double small =
      clv::conditional_expected_number_of_purchases_up_to_time(fhl, 1e-8, 2, 30.43, 38.86);
  CHECK(tiny > 0);
  CHECK(small / tiny == doctest::Approx(100).epsilon(1e-6));
  CHECK(clv::conditional_expected_number_of_purchases_up_to_time(fhl, 0, 2, 30.43, 38.86) == 0);
}

TEST_CASE("BG/NBD P(alive) lies in [0, 1]") {
  for (double x : {0.0, 1.0, 5.0, 100.0}) {
    for (double t_x : {0.0, 1.0, 20.0, 39.0}) {
      if ((x == 0) != (t_x == 0)) continue;
      const double bg = clv::conditional_probability_alive(fhl, x, t_x, 39);
      CHECK(bg >= 0);
      CHECK(bg <= 1);
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

TEST_CASE("a dropout distribution narrower than any rule is its point mass (fuzz finding)") {
  // A fit the pipeline fuzzer reached (fuzz/regressions/pipeline/bg_nbd_point_mass_dropout):
  // a, b ~ 1e90, 7e73. The logit of p ~ Beta(a, b) has sd (1/a + 1/b)^{1/2} = 4e-37, so p is
  // a/(a + b) to far below double precision and E[Y(t) | alive, x = 0] = (1 − (1 + pτ)^{−r})/p
  // with τ = t/(α + T). It was NaN (the quadrature's densities all underflow).
  const clv::bg_nbd_params p{0.034894050891471635, 1.2778978232814248e-07, 1.0185179881672318e+90,
                             6.5159233593293972e+73};
  const double dropout = 1 / (1 + p.b / p.a);
  const double tau = 30 / p.alpha;
  const double expected = -std::expm1(-p.r * std::log1p(dropout * tau)) / dropout;
  CHECK(expected == doctest::Approx(0.4895949286518769).epsilon(1e-15));
  CHECK(clv::conditional_expected_number_of_purchases_up_to_time(p, 30.0, 0.0, 0.0, 0.0) ==
        doctest::Approx(expected).epsilon(1e-13));
  const std::vector<double> horizon{30}, zero{0};
  const auto vector = clv::conditional_expected_number_of_purchases_up_to_time(p, horizon, zero,
                                                                               zero, zero);
  CHECK(vector.front() == doctest::Approx(expected).epsilon(1e-13));
}

TEST_CASE("BG/NBD: the purchase-count distribution sums to 1 and has mean E[X(t)]") {
  check_count_distribution(fhl);
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

TEST_CASE("predictions evaluate histories no customer has, as lifetimes' grids do; fits refuse them") {
  // FHL 2005 eq. (13): with x = 0 the recency does not enter; with x > 0 and t_x = 0 it is the
  // formula at t_x = 0.
  const std::vector<double> x{0, 0, 3}, t_x{0, 7, 0}, age{39, 39, 39};
  clv::history_check found;
  const auto alive = clv::conditional_probability_alive(fhl, x, t_x, age, &found);
  CHECK(alive[1] == alive[0]);
  // The validity pass counts them and finds the first, for the caller's one warning.
  CHECK(found.unobservable == 2);
  CHECK(found.first_unobservable == 1);
  const std::vector<double> t{10};
  CHECK(clv::check_histories("test", t_x, t_x, age).unobservable == 0);  // x = t_x: all observable
  clv::history_check forecast_found;
  const auto expected =
      clv::conditional_expected_number_of_purchases_up_to_time(fhl, t, x, t_x, age, &forecast_found);
  CHECK(forecast_found.unobservable == 2);
  CHECK(forecast_found.first_unobservable == 1);
  CHECK(expected[1] == expected[0]);
  const double a = fhl.a, b = fhl.b, r = fhl.r, alpha = fhl.alpha;
  CHECK(alive[2] == doctest::Approx(1 / (1 + a / (b + 2) * std::pow((alpha + 39) / alpha, r + 3)))
                        .epsilon(1e-13));
  CHECK_THROWS_WITH_AS(clv::fit_bg_nbd(std::vector<double>{0, 1}, std::vector<double>{4, 2},
                                       std::vector<double>{5, 5}),
                       "fit_bg_nbd: frequency[0] = 0 but recency[0] = 4: without repeat purchases "
                       "the recency is 0",
                       crmkit::invalid_input);
}
