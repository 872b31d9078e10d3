#include <crmkit/clv.hpp>
#include <crmkit/clv/forecast_intervals.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "clv/simulate.hpp"

namespace clv = crmkit::clv;

// Coverage by simulation (issue #16): over many simulated data sets with known parameters the
// nominal 90% and 95% intervals of the parameters, of the whole base's expected purchases and of
// its lifetime value must cover the truth in 90% / 95% of the data sets, within ±3 percentage
// points. With D data sets a correct interval's coverage has a standard error of
// sqrt(0.9·0.1/D); D = 1,000 makes ±3 points 3.2 of them at 90% (4.4 at 95%).

namespace {

constexpr std::size_t data_sets = 1000;
constexpr std::size_t customers = 4000;
constexpr std::array<double, 2> levels{0.90, 0.95};
const clv::bg_nbd_params truth{0.25, 4.0, 0.8, 2.5};
const clv::gamma_gamma_params spend_truth{6.0, 3.8, 15.0};

/** Each customer's mean repeat spend: ν ~ Gamma(q, rate v), the mean of x Gamma(p, rate ν)
 * amounts is Gamma(p·x, rate ν)/x (Fader, Hardie & Lee 2005 JMR; note 025). */
std::vector<double> simulate_spend(const std::vector<double>& x, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> m(x.size(), 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double nu = std::gamma_distribution<double>(spend_truth.q, 1 / spend_truth.v)(rng);
    if (x[i] > 0) m[i] = std::gamma_distribution<double>(spend_truth.p * x[i], 1 / nu)(rng) / x[i];
  }
  return m;
}

struct coverage_counts {
  // [level][quantity]: quantities r, alpha, a, b, p, q, v, purchases, value.
  std::array<std::array<double, 9>, 2> covered{};
};

bool inside(const clv::interval_estimate& interval, double value) {
  return interval.lower <= value && value <= interval.upper;
}

double sum(const std::vector<double>& values) {
  double total = 0;
  for (const double v : values) total += v;
  return total;
}

/** The quantities' values at parameters `at` (BG/NBD's four, then Gamma-Gamma's three): the
 * seven parameters, the base's expected purchases over 39 weeks and its 12-month value. */
std::array<double, 9> quantities(std::span<const double> at, const crmkit_test::simulated& d,
                                 const std::vector<double>& m, bool with_value) {
  const clv::bg_nbd_params p{at[0], at[1], at[2], at[3]};
  const clv::gamma_gamma_params g{at[4], at[5], at[6]};
  std::array<double, 9> out{};
  std::copy(at.begin(), at.end(), out.begin());
  const clv::customer_forecast<clv::bg_nbd_params> forecast("coverage", p, d.x, d.t_x, d.T);
  out[7] = sum(forecast.expected_purchases(39.0));
  if (with_value) {
    out[8] = sum(clv::customer_lifetime_value(forecast, clv::expected_spend(g, d.x, m), 12, 0.01,
                                              4.345));
  }
  return out;
}

/**
 * One simulated data set: whether each quantity's interval covers its value at the true
 * parameters, at each level. The delta method's intervals come from the library
 * (parameter_intervals, expected_purchases_intervals, customer_lifetime_value_intervals) at 90%,
 * the 95% ones from the same standard errors (normal_interval); the parametric bootstrap's from
 * one set of parametric_draws, percentile_interval taken at both levels.
 */
coverage_counts one_data_set(std::size_t set, clv::interval_method method) {
  const auto d = crmkit_test::simulate_beta_geometric(customers, truth.r, truth.alpha, truth.a,
                                                      truth.b, false, 52, 1000 + set, true);
  const auto m = simulate_spend(d.x, 5000 + set);
  std::vector<double> repeat_x, repeat_m;
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    if (d.x[i] > 0) {
      repeat_x.push_back(d.x[i]);
      repeat_m.push_back(m[i]);
    }
  }
  const auto purchases = clv::fit_bg_nbd(d.x, d.t_x, d.T);
  const auto spend = clv::fit_gamma_gamma(repeat_x, repeat_m);
  std::vector<double> truth_values;
  for (const double v : clv::bg_nbd::to_array(truth)) truth_values.push_back(v);
  for (const double v : clv::gamma_gamma::to_array(spend_truth)) truth_values.push_back(v);
  std::vector<double> estimate;
  for (const double v : clv::bg_nbd::to_array(purchases.params)) estimate.push_back(v);
  for (const double v : clv::gamma_gamma::to_array(spend.params)) estimate.push_back(v);
  const Eigen::MatrixXd covariance = clv::block_diagonal(purchases.covariance, spend.covariance);
  const bool with_value = method == clv::interval_method::delta;
  const auto target = quantities(truth_values, d, m, with_value);

  std::array<clv::interval_estimate, 9> at_90{};
  std::vector<std::vector<double>> draws;
  if (method == clv::interval_method::delta) {
    clv::interval_options options;
    options.per_customer = false;
    const auto own = clv::parameter_intervals(estimate, covariance, options);
    std::copy(own.customers.begin(), own.customers.end(), at_90.begin());
    at_90[7] = clv::expected_purchases_intervals(purchases.params, purchases.covariance, 39.0, d.x,
                                                 d.t_x, d.T, options)
                   .total;
    at_90[8] = clv::customer_lifetime_value_intervals(purchases.params, purchases.covariance,
                                                      spend.params, spend.covariance, d.x, d.t_x,
                                                      d.T, m, 12, 0.01, 4.345, options)
                   .total;
  } else {
    for (const auto& draw : clv::parametric_draws("coverage", estimate, covariance, 200, set)) {
      const auto q = quantities(draw, d, m, false);
      draws.emplace_back(q.begin(), q.end());
    }
  }
  const auto fitted = quantities(estimate, d, m, with_value);
  coverage_counts out;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    for (std::size_t k = 0; k < 9; ++k) {
      clv::interval_estimate interval;
      if (method == clv::interval_method::delta) {
        interval = clv::normal_interval(at_90[k].estimate, at_90[k].standard_error, levels[l]);
      } else {
        std::vector<double> values;
        for (const auto& draw : draws) values.push_back(draw[k]);
        interval = clv::percentile_interval(fitted[k], values, levels[l]);
      }
      out.covered[l][k] = inside(interval, target[k]);
    }
  }
  return out;
}

void check_coverage(clv::interval_method method, std::size_t quantities_checked) {
  std::vector<coverage_counts> each(data_sets);
  crmkit::parallel_for(
      data_sets, [&](std::size_t begin, std::size_t end) {
        for (std::size_t s = begin; s < end; ++s) each[s] = one_data_set(s, method);
      },
      1);
  constexpr std::array<const char*, 9> names{"r", "alpha", "a", "b", "p", "q", "v",
                                             "expected purchases", "lifetime value"};
  for (std::size_t l = 0; l < levels.size(); ++l) {
    for (std::size_t k = 0; k < quantities_checked; ++k) {
      double covered = 0;
      for (const auto& counts : each) covered += counts.covered[l][k];
      const double share = covered / static_cast<double>(data_sets);
      MESSAGE(std::string(names[k]) << " at " << levels[l] << ": coverage " << share);
      CHECK(std::abs(share - levels[l]) <= 0.03);
    }
  }
}

}  // namespace

TEST_CASE("delta-method intervals cover the truth at their nominal level (1,000 data sets)") {
  check_coverage(clv::interval_method::delta, 9);
}

// The parametric bootstrap (200 draws a data set) on the parameters and the base's expected
// purchases; its lifetime value would cost 200 more CLV sums a data set.
TEST_CASE("parametric-bootstrap intervals cover the truth at their nominal level (1,000 sets)") {
  check_coverage(clv::interval_method::parametric_bootstrap, 8);
}
