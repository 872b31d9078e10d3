#include <crmkit/clv.hpp>
#include <crmkit/clv/customer_bootstrap.hpp>
#include <crmkit/clv/forecast_intervals.hpp>
#include <crmkit/clv/predictive_interval.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <utility>
#include <vector>

#include "clv/simulate.hpp"

namespace clv = crmkit::clv;

// Intervals of parameters and forecasts (clv/interval.hpp and the headers it names). Coverage
// by simulation is in test_interval_coverage.cpp.

namespace {

struct fitted_data {
  crmkit_test::simulated data;
  clv::fit_result<clv::bg_nbd_params, 4> fit;
};

fitted_data weekly_bg_nbd(std::size_t customers, std::uint64_t seed) {
  fitted_data out{crmkit_test::simulate_beta_geometric(customers, 0.25, 4.0, 0.8, 2.5, false, 52,
                                                       seed, true),
                  {}};
  out.fit = clv::fit_bg_nbd(out.data.x, out.data.t_x, out.data.T);
  return out;
}

std::vector<double> values_of(const clv::bg_nbd_params& p) {
  const auto a = clv::bg_nbd::to_array(p);
  return {a.begin(), a.end()};
}

}  // namespace

TEST_CASE("delta method on the parameters is the fit's standard error, on the log scale") {
  const auto fitted = weekly_bg_nbd(5000, 3);
  REQUIRE(fitted.fit.converged);
  const auto values = values_of(fitted.fit.params);
  clv::interval_options options;
  options.level = 0.95;
  const auto out = clv::parameter_intervals(values, fitted.fit.covariance, options);
  REQUIRE(out.customers.size() == 4);
  const double z = crmkit::math::two_sided_critical_value(0.95);
  for (std::size_t k = 0; k < 4; ++k) {
    const auto& each = out.customers[k];
    CHECK(each.estimate == values[k]);
    // d θ/d ln θ = θ, so the central difference of the identity is exact up to rounding.
    CHECK(each.standard_error == doctest::Approx(fitted.fit.standard_errors[k]).epsilon(1e-7));
    CHECK(each.lower == doctest::Approx(values[k] * std::exp(-z * each.standard_error / values[k])));
    CHECK(each.upper == doctest::Approx(values[k] * std::exp(z * each.standard_error / values[k])));
    CHECK(each.lower > 0);
  }
}

TEST_CASE("delta-method gradient of E[X(t)] matches the analytic derivative in r") {
  // E[X(t)] = (a+b−1)/(a−1)·[1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))] (FHL 2005 eq. 9) is
  // the quantity; with only r uncertain (variance σ²), Var ≈ (∂E/∂r)² σ², and ∂E/∂r is taken
  // here by a Richardson-extrapolated difference independent of the delta method's step.
  const clv::bg_nbd_params p{0.25, 4.0, 0.8, 2.5};
  const std::vector<double> values = values_of(p);
  Eigen::MatrixXd covariance = Eigen::MatrixXd::Zero(4, 4);
  covariance(0, 0) = 0.01 * 0.01;
  const auto expected = [&](double r) {
    return clv::expected_number_of_purchases_up_to_time(clv::bg_nbd_params{r, 4.0, 0.8, 2.5}, 39.0);
  };
  const double h = 1e-3;
  const double d1 = (expected(0.25 + h) - expected(0.25 - h)) / (2 * h);
  const double d2 = (expected(0.25 + h / 2) - expected(0.25 - h / 2)) / h;
  const double derivative = (4 * d2 - d1) / 3;
  clv::interval_options options;
  const auto out = clv::quantity_intervals(
      "test",
      [](std::span<const double> at) {
        return std::vector<double>{clv::expected_number_of_purchases_up_to_time(
            clv::bg_nbd_params{at[0], at[1], at[2], at[3]}, 39.0)};
      },
      values, covariance, options);
  CHECK(out.total.standard_error == doctest::Approx(std::abs(derivative) * 0.01).epsilon(1e-6));
  CHECK(out.customers[0].standard_error == doctest::Approx(out.total.standard_error));
}

TEST_CASE("aggregate intervals: delta method and parametric bootstrap agree; thread-independent") {
  const auto fitted = weekly_bg_nbd(4000, 5);
  const auto& d = fitted.data;
  clv::interval_options delta;
  const auto by_delta = clv::expected_purchases_intervals(fitted.fit.params, fitted.fit.covariance,
                                                          39.0, d.x, d.t_x, d.T, delta);
  REQUIRE(by_delta.customers.size() == d.x.size());
  double total = 0;
  for (const auto& each : by_delta.customers) {
    CHECK(each.lower <= each.estimate);
    CHECK(each.estimate <= each.upper);
    CHECK(std::isfinite(each.lower));
    CHECK(std::isfinite(each.upper));
    total += each.estimate;
  }
  CHECK(by_delta.total.estimate == doctest::Approx(total).epsilon(1e-12));

  clv::interval_options bootstrap;
  bootstrap.method = clv::interval_method::parametric_bootstrap;
  bootstrap.draws = 400;
  bootstrap.seed = 11;
  crmkit::set_num_threads(1);
  const auto one = clv::expected_purchases_intervals(fitted.fit.params, fitted.fit.covariance, 39.0,
                                                     d.x, d.t_x, d.T, bootstrap);
  crmkit::set_num_threads(4);
  const auto four = clv::expected_purchases_intervals(fitted.fit.params, fitted.fit.covariance,
                                                      39.0, d.x, d.t_x, d.T, bootstrap);
  crmkit::set_num_threads(0);
  CHECK(one.draws == 400);
  CHECK(one.total.lower == four.total.lower);
  CHECK(one.total.upper == four.total.upper);
  CHECK(one.customers[17].upper == four.customers[17].upper);
  // Both estimate the same sampling spread: the bootstrap's standard deviation from 400 draws
  // is within ~7% (its own sampling error, 1/sqrt(2·400) = 3.5%, twice) of the delta method's.
  CHECK(one.total.standard_error == doctest::Approx(by_delta.total.standard_error).epsilon(0.07));
  CHECK(one.total.lower == doctest::Approx(by_delta.total.lower).epsilon(0.01));
  CHECK(one.total.upper == doctest::Approx(by_delta.total.upper).epsilon(0.01));
}

TEST_CASE("customer bootstrap: multinomial counts, determinism, and the fit's standard errors") {
  SUBCASE("the counts add up to the customers and follow the weights") {
    std::vector<clv::pattern> rows{{0, 0, 1, 3}, {1, 0.5, 1, 5}, {2, 0.7, 1, 2}};
    crmkit::rng::mt_engine engine(crmkit::rng::stream_seed(1, 0));
    std::vector<double> mean(3, 0.0);
    for (int repeat = 0; repeat < 4000; ++repeat) {
      const auto counts = clv::detail::multinomial_counts(rows, 10, engine);
      CHECK(counts[0] + counts[1] + counts[2] == 10);
      for (std::size_t k = 0; k < 3; ++k) mean[k] += counts[k] / 4000;
    }
    // E n_k = N w_k/W = 3, 5, 2; the standard error of each mean is below 0.025.
    CHECK(mean[0] == doctest::Approx(3).epsilon(0.04));
    CHECK(mean[1] == doctest::Approx(5).epsilon(0.03));
    CHECK(mean[2] == doctest::Approx(2).epsilon(0.05));
  }
  SUBCASE("refits are thread-independent and spread like the observed information says") {
    const auto fitted = weekly_bg_nbd(20000, 8);
    const auto& d = fitted.data;
    const auto rows = clv::compress(d.x, d.t_x, d.T);
    const auto values = values_of(fitted.fit.params);
    crmkit::set_num_threads(1);
    const auto one = clv::customer_bootstrap<clv::bg_nbd>("test", rows, values, {}, 200, 4);
    crmkit::set_num_threads(3);
    const auto three = clv::customer_bootstrap<clv::bg_nbd>("test", rows, values, {}, 200, 4);
    crmkit::set_num_threads(0);
    REQUIRE(one.draws.size() == three.draws.size());
    CHECK(one.failed == 0);
    CHECK(one.draws == three.draws);
    for (std::size_t k = 0; k < 4; ++k) {
      double mean = 0, squares = 0;
      for (const auto& draw : one.draws) mean += draw[k] / 200;
      for (const auto& draw : one.draws) squares += (draw[k] - mean) * (draw[k] - mean);
      const double spread = std::sqrt(squares / 199);
      // 200 draws estimate a standard deviation to ~5%; the model is right, so the bootstrap's
      // spread and the inverse information agree up to that (Efron & Tibshirani 1993, §21.3).
      CHECK(spread == doctest::Approx(fitted.fit.standard_errors[k]).epsilon(0.2));
    }
  }
}

TEST_CASE("interval inputs are checked") {
  const auto fitted = weekly_bg_nbd(500, 2);
  const auto& d = fitted.data;
  clv::interval_options bad;
  bad.level = 1.0;
  CHECK_THROWS_WITH_AS(clv::expected_purchases_intervals(fitted.fit.params, fitted.fit.covariance,
                                                         1.0, d.x, d.t_x, d.T, bad),
                       doctest::Contains("level = 1"), crmkit::invalid_input);
  clv::interval_options needs_draws;
  needs_draws.method = clv::interval_method::customer_bootstrap;
  CHECK_THROWS_WITH_AS(clv::expected_purchases_intervals(fitted.fit.params, fitted.fit.covariance,
                                                         1.0, d.x, d.t_x, d.T, needs_draws),
                       doctest::Contains("customer_bootstrap"), crmkit::invalid_input);
  Eigen::MatrixXd unavailable = Eigen::MatrixXd::Constant(4, 4, std::nan(""));
  CHECK_THROWS_AS(clv::expected_purchases_intervals(fitted.fit.params, unavailable, 1.0, d.x,
                                                    d.t_x, d.T, clv::interval_options{}),
                  crmkit::numerical_error);
  std::vector<clv::pattern> fractional{{1, 0.5, 1, 1.5}};
  CHECK_THROWS_WITH_AS(clv::customer_bootstrap<clv::bg_nbd>("test", fractional,
                                                            values_of(fitted.fit.params), {}, 10, 0),
                       doctest::Contains("weights[0] = 1.5"), crmkit::invalid_input);
}

namespace {

/** Σ_y P(y) and Σ_y y·P(y) of the conditional PMF, until the remaining mass is below 1e-13. */
template <class P>
std::pair<double, double> pmf_moments(const P& p, double t, double x, double t_x, double age) {
  double mass = 0, mean = 0;
  for (double y = 0; y < 5000 && mass < 1 - 1e-13; ++y) {
    const double each = clv::conditional_purchase_pmf(p, y, t, x, t_x, age);
    mass += each;
    mean += y * each;
  }
  return {mass, mean};
}

}  // namespace

TEST_CASE("conditional purchase PMFs sum to 1 and their means are the conditional expectations") {
  // The mean of the PMF against the model's own E[Y(t) | x, t_x, T] (FHL 2005 eq. 10 for
  // BG/NBD; note 021 / FHS 2010 eq. 13 for the others), a formula derived independently.
  const std::vector<std::array<double, 3>> histories{{0, 0, 30}, {2, 10, 38}, {7, 35, 38}};
  const auto check_model = [&](const auto& p, double tolerance) {
    for (const auto& h : histories) {
      const auto [mass, mean] = pmf_moments(p, 39, h[0], h[1], h[2]);
      CHECK(mass == doctest::Approx(1).epsilon(tolerance));
      CHECK(mean == doctest::Approx(clv::conditional_expected_number_of_purchases_up_to_time(
                                        p, 39, h[0], h[1], h[2]))
                        .epsilon(tolerance * 100));
    }
  };
  check_model(clv::bg_nbd_params{0.243, 4.414, 0.793, 2.426}, 1e-10);
  check_model(clv::mbg_nbd_params{0.243, 4.414, 0.793, 2.426}, 1e-10);
  check_model(clv::pareto_nbd_params{0.553, 10.578, 0.606, 11.669}, 1e-8);
  const clv::bg_bb_params bb{1.204, 0.750, 0.657, 2.783};
  for (const auto& h : std::vector<std::array<double, 3>>{{0, 0, 6}, {3, 4, 6}, {6, 6, 6}}) {
    const auto [mass, mean] = pmf_moments(bb, 5, h[0], h[1], h[2]);
    CHECK(mass == doctest::Approx(1).epsilon(1e-12));
    CHECK(mean == doctest::Approx(clv::conditional_expected_number_of_purchases_up_to_time(
                                      bb, 5, h[0], h[1], h[2]))
                      .epsilon(1e-10));
  }
}

TEST_CASE("predictive intervals are the equal-tailed quantiles of the PMF") {
  const clv::bg_nbd_params p{0.243, 4.414, 0.793, 2.426};
  const std::vector<double> x{0, 2, 7}, t_x{0, 10, 35}, age{30, 38, 38};
  const auto out = clv::predictive_intervals(p, 39, x, t_x, age, 0.9);
  for (std::size_t i = 0; i < x.size(); ++i) {
    double below_lower = 0, through_upper = 0;
    for (double y = 0; y <= out[i].upper; ++y) {
      const double each = clv::conditional_purchase_pmf(p, y, 39, x[i], t_x[i], age[i]);
      if (y < out[i].lower) below_lower += each;
      through_upper += each;
    }
    CHECK(below_lower < 0.05);
    CHECK(through_upper >= 0.95);
    CHECK(through_upper - clv::conditional_purchase_pmf(p, out[i].upper, 39, x[i], t_x[i], age[i]) <
          0.95);
    CHECK(out[i].probability_none ==
          doctest::Approx(clv::conditional_purchase_pmf(p, 0, 39, x[i], t_x[i], age[i])));
  }
  // A one-time buyer of 30 weeks ago most likely buys nothing: the interval starts at 0.
  CHECK(out[0].lower == 0);
  CHECK(out[2].upper > out[0].upper);
}

namespace {

/** Weekly BG/NBD customers dated in whole weeks (shared histories), with Gamma-Gamma spend. */
struct value_data {
  std::vector<double> x, t_x, T, m;
  clv::fit_result<clv::bg_nbd_params, 4> purchases;
  clv::fit_result<clv::gamma_gamma_params, 3> spend;
};

value_data whole_week_values(std::size_t customers, std::uint64_t seed) {
  auto d = crmkit_test::simulate_beta_geometric(customers, 0.25, 4.0, 0.8, 2.5, false, 52, seed,
                                                true);
  value_data out{d.x, d.t_x, d.T, {}, {}, {}};
  std::vector<double> repeat_x, repeat_m;
  for (std::size_t i = 0; i < out.x.size(); ++i) {
    if (out.x[i] > 0) out.t_x[i] = std::min(std::ceil(out.t_x[i]), out.T[i]);
    // Repeat buyers spend 10..40 a purchase, every 23rd of them nothing (zero-spend policy).
    const bool zero = out.x[i] > 0 && i % 23 == 0;
    out.m.push_back(out.x[i] > 0 && !zero ? 10.0 + static_cast<double>((i * 7919) % 31) : 0.0);
    if (out.x[i] > 0 && !zero) {
      repeat_x.push_back(out.x[i]);
      repeat_m.push_back(out.m.back());
    }
  }
  out.purchases = clv::fit_bg_nbd(out.x, out.t_x, out.T);
  out.spend = clv::fit_gamma_gamma(repeat_x, repeat_m);
  return out;
}

std::vector<double> joint_values(const value_data& d) {
  const auto& p = d.purchases.params;
  const auto& g = d.spend.params;
  return {p.r, p.alpha, p.a, p.b, g.p, g.q, g.v};
}

/** delta_method itself on the CLV (both models' parameters, customer by customer). */
clv::forecast_intervals generic_value_intervals(const value_data& d,
                                                const clv::interval_options& options) {
  return clv::delta_method(
      "test",
      [&](std::span<const double> at) {
        const clv::gamma_gamma_params spend{at[4], at[5], at[6]};
        const clv::customer_forecast<clv::bg_nbd_params> forecast(
            "test", clv::bg_nbd_params{at[0], at[1], at[2], at[3]}, d.x, d.t_x, d.T);
        return clv::customer_lifetime_value(forecast, clv::expected_spend(spend, d.x, d.m), 12,
                                            0.01, 4.345);
      },
      joint_values(d), clv::block_diagonal(d.purchases.covariance, d.spend.covariance), options);
}

}  // namespace

TEST_CASE("CLV intervals shared over histories are delta_method's, customer by customer") {
  const auto d = whole_week_values(3000, 21);
  REQUIRE(d.purchases.converged);
  REQUIRE(d.spend.converged);
  clv::interval_options options;
  const auto expected = generic_value_intervals(d, options);
  const auto fast = clv::customer_lifetime_value_intervals(
      d.purchases.params, d.purchases.covariance, d.spend.params, d.spend.covariance, d.x, d.t_x,
      d.T, d.m, 12, 0.01, 4.345, options);
  REQUIRE(fast.customers.size() == d.x.size());
  const auto histories = clv::group_by_history(d.x, d.t_x, d.T);
  CHECK(histories.size() < d.x.size() / 2);  // the sharing is exercised
  // Both take the same central differences; they differ by the order of products and sums only
  // (E·(D₊ − D₋) against E·D₊ − E·D₋: rounding of ~1e-16 over a difference of ~2e-4 relative).
  const auto close = [](double a, double b) { return std::abs(a - b) <= 1e-10 * std::abs(b); };
  std::size_t one_time = 0, zero_spend = 0;
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const auto& a = fast.customers[i];
    const auto& b = expected.customers[i];
    CHECK(close(a.estimate, b.estimate));
    CHECK(close(a.standard_error, b.standard_error));
    CHECK(close(a.lower, b.lower));
    CHECK(close(a.upper, b.upper));
    CHECK(a.lower <= a.estimate);
    CHECK(a.estimate <= a.upper);
    CHECK(a.lower > 0);
    one_time += d.x[i] == 0 ? 1 : 0;
    zero_spend += d.x[i] > 0 && d.m[i] == 0 ? 1 : 0;
  }
  CHECK(one_time > 100);   // their interval is that of the population mean spend's value
  CHECK(zero_spend > 10);  // theirs of the mean at zero spend
  CHECK(close(fast.total.estimate, expected.total.estimate));
  CHECK(close(fast.total.standard_error, expected.total.standard_error));
  CHECK(close(fast.total.lower, expected.total.lower));
  CHECK(close(fast.total.upper, expected.total.upper));

  SUBCASE("the same at any thread count, and centred on given estimates") {
    crmkit::set_num_threads(1);
    const auto one = clv::customer_lifetime_value_intervals(
        d.purchases.params, d.purchases.covariance, d.spend.params, d.spend.covariance, d.x,
        d.t_x, d.T, d.m, 12, 0.01, 4.345, options);
    crmkit::set_num_threads(0);
    CHECK(one.total.lower == fast.total.lower);
    CHECK(one.total.upper == fast.total.upper);
    CHECK(one.customers[1234].upper == fast.customers[1234].upper);
    std::vector<double> centres(d.x.size());
    for (std::size_t i = 0; i < centres.size(); ++i) centres[i] = fast.customers[i].estimate;
    centres[5] *= 1.5;
    const auto centred = clv::lifetime_value_delta_method(
        "test", d.purchases.params, d.purchases.covariance, d.spend.params, d.spend.covariance,
        d.x, d.t_x, d.T, d.m, 12, 0.01, 4.345, options, centres);
    CHECK(centred.customers[5].estimate == centres[5]);
    CHECK(centred.customers[5].standard_error == fast.customers[5].standard_error);
    CHECK(centred.customers[6].upper == fast.customers[6].upper);
  }
}

TEST_CASE("CLV intervals where the mean spend is infinite: an error, or NaN ends counted") {
  const auto d = whole_week_values(500, 22);
  // q = 0.9 < 1: the population mean spend p·v/(q − 1) of one-time buyers is infinite, and with
  // p = 0.05 also the conditional mean p·(v + x·m)/(p·x + q − 1) of x = 1 and 2 (p·x + q ≤ 1);
  // from x = 3 on, p·x + q − 1 ≥ 0.05 stays positive at every perturbed point.
  const clv::gamma_gamma_params spend{0.05, 0.9, 10.0};
  const Eigen::Matrix3d covariance = Eigen::Matrix3d::Identity() * 1e-4;
  clv::interval_options options;
  CHECK_THROWS_AS(clv::lifetime_value_delta_method("test", d.purchases.params,
                                                   d.purchases.covariance, spend, covariance,
                                                   d.x, d.t_x, d.T, d.m, 12, 0.01, 4.345,
                                                   options),
                  crmkit::numerical_error);
  clv::unfinished_customers unfinished;
  const auto out = clv::lifetime_value_delta_method(
      "test", d.purchases.params, d.purchases.covariance, spend, covariance, d.x, d.t_x, d.T,
      d.m, 12, 0.01, 4.345, options, {}, &unfinished);
  std::size_t infinite = 0, first = d.x.size();
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const bool bad = d.x[i] <= 2;
    infinite += bad ? 1 : 0;
    if (bad && first == d.x.size()) first = i;
    CHECK(std::isnan(out.customers[i].lower) == bad);
    CHECK(std::isnan(out.customers[i].upper) == bad);
  }
  CHECK(unfinished.count == infinite);
  CHECK(unfinished.first == first);
  CHECK(std::isnan(out.total.upper));
}
