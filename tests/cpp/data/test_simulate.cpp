#include <crmkit/core/parallel.hpp>
#include <crmkit/data/random.hpp>
#include <crmkit/data/simulate.hpp>

#include <doctest/doctest.h>
#include <boost/math/distributions/beta.hpp>
#include <boost/math/distributions/gamma.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cd = crmkit::data;

namespace {

/** Kolmogorov-Smirnov distance between a sample and a CDF. */
template <class Cdf>
double ks_distance(std::vector<double> sample, Cdf&& cdf) {
  std::sort(sample.begin(), sample.end());
  const auto n = static_cast<double>(sample.size());
  double distance = 0;
  for (std::size_t i = 0; i < sample.size(); ++i) {
    const double f = cdf(sample[i]);
    distance =
        std::max({distance, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
  }
  return distance;
}

/** Sample mean and its standard error. */
struct mean_se {
  double mean, se;
};
mean_se mean_and_se(const std::vector<double>& values) {
  double sum = 0, squares = 0;
  for (const double v : values) sum += v;
  const auto n = static_cast<double>(values.size());
  const double mean = sum / n;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / (n - 1) / n)};
}

}  // namespace

TEST_CASE(
    "gamma and beta samplers follow their distributions (Kolmogorov-Smirnov, Boost.Math CDFs)") {
  // The 0.1% critical value of the KS distance is 1.95 / sqrt(n).
  constexpr std::size_t n = 40'000;
  const double critical = 1.95 / std::sqrt(static_cast<double>(n));
  for (const double shape : {0.05, 0.243, 1.0, 3.74, 6.25}) {
    CAPTURE(shape);
    cd::random_stream stream(11, 3);
    std::vector<double> draws(n);
    for (auto& draw : draws) draw = stream.gamma(shape, 2.5);
    const boost::math::gamma_distribution<> reference(shape, 1 / 2.5);
    CHECK(ks_distance(draws, [&](double x) { return boost::math::cdf(reference, x); }) < critical);
  }
  // Tiny shapes: draws of Gamma(0.01) are below 1e-308 a third of the time, so the sampler works
  // on the log scale; compare log X with P(log X <= y) = P(X <= e^y).
  {
    cd::random_stream stream(13, 1);
    std::vector<double> log_draws(n);
    for (auto& draw : log_draws) draw = stream.log_gamma(0.01);
    const boost::math::gamma_distribution<> reference(0.01, 1);
    CHECK(ks_distance(log_draws, [&](double y) {
            return boost::math::cdf(reference, std::exp(y));
          }) < critical);
    CHECK(*std::min_element(log_draws.begin(), log_draws.end()) < -708);  // e^-708 ~ DBL_MIN
  }
  for (const auto& [a, b] : {std::pair{0.793, 2.426}, std::pair{0.08, 0.5}, std::pair{4.0, 1.5}}) {
    CAPTURE(a);
    cd::random_stream stream(12, 0);
    std::vector<double> draws(n);
    for (auto& draw : draws) draw = stream.beta(a, b);
    CHECK(std::all_of(draws.begin(), draws.end(), [](double p) { return p >= 0 && p <= 1; }));
    const boost::math::beta_distribution<> reference(a, b);
    CHECK(ks_distance(draws, [&](double x) { return boost::math::cdf(reference, x); }) < critical);
  }
}

TEST_CASE("streams are distinct and reproducible") {
  cd::random_stream a(1, 0), again(1, 0), other_stream(1, 1), other_seed(2, 0);
  const std::uint64_t first = a.bits();
  CHECK(first == again.bits());
  CHECK(first != other_stream.bits());
  CHECK(first != other_seed.bits());
}

TEST_CASE("the simulated log does not depend on the thread count, only on the seed") {
  const cd::simulation_options options{
      .customers = 30'000, .acquisition_periods = 12, .horizon = 78, .seed = 5};
  const std::size_t saved = crmkit::num_threads();
  crmkit::set_num_threads(1);
  const auto one = cd::simulate_transactions(options);
  crmkit::set_num_threads(4);
  const auto four = cd::simulate_transactions(options);
  auto reseeded = options;
  reseeded.seed = 6;
  const auto other = cd::simulate_transactions(reseeded);
  crmkit::set_num_threads(saved);
  CHECK(one.customer == four.customer);
  CHECK(one.time == four.time);
  CHECK(one.amount == four.amount);
  CHECK(one.lambda == four.lambda);
  CHECK(one.death == four.death);
  CHECK(one.time != other.time);
}

TEST_CASE("simulated customers follow the BG/NBD and Gamma-Gamma assumptions") {
  const cd::simulation_options options{
      .customers = 200'000, .acquisition_periods = 13, .horizon = 52, .seed = 2024};
  const auto sim = cd::simulate_transactions(options);
  const std::size_t n = options.customers;
  REQUIRE(sim.lambda.size() == n);

  // Heterogeneity: E[lambda] = r / alpha, E[p] = a / (a + b), E[nu] = q / gamma; each sample
  // mean within 4 standard errors.
  const auto lambda = mean_and_se(sim.lambda);
  CHECK(std::abs(lambda.mean - options.r / options.alpha) < 4 * lambda.se);
  const auto dropout = mean_and_se(sim.dropout);
  CHECK(std::abs(dropout.mean - options.a / (options.a + options.b)) < 4 * dropout.se);
  const auto nu = mean_and_se(sim.nu);
  CHECK(std::abs(nu.mean - options.q / options.gamma) < 4 * nu.se);

  // Spend: amount * nu ~ Gamma(p, 1) for every row, so its mean is p.
  std::vector<double> scaled(sim.size());
  for (std::size_t k = 0; k < sim.size(); ++k) scaled[k] = sim.amount[k] * sim.nu[sim.customer[k]];
  const auto spend = mean_and_se(scaled);
  CHECK(std::abs(spend.mean - options.p) < 4 * spend.se);

  // The log's structure: rows grouped by customer in time order, the first at birth, births in
  // the acquisition window, nothing after the horizon, and the dead's last purchase at death.
  std::vector<std::size_t> first_row(n + 1, sim.size());
  for (std::size_t k = sim.size(); k-- > 0;) first_row[sim.customer[k]] = k;
  std::size_t no_repeat = 0, with_repeat = 0, died_at_first_repeat = 0;
  double expected_no_repeat = 0, variance_no_repeat = 0, expected_died = 0, variance_died = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t begin = first_row[i];
    const std::size_t end = i + 1 < n ? first_row[i + 1] : sim.size();
    REQUIRE(begin < end);
    REQUIRE(sim.time[begin] == sim.birth[i]);
    REQUIRE(sim.birth[i] >= 0);
    REQUIRE(sim.birth[i] <= options.acquisition_periods);
    REQUIRE(std::is_sorted(sim.time.begin() + begin, sim.time.begin() + end));
    REQUIRE(sim.time[end - 1] <= options.horizon);
    REQUIRE((sim.alive[i] == 1) == std::isinf(sim.death[i]));
    if (!sim.alive[i]) REQUIRE(sim.death[i] == sim.time[end - 1]);
    // No repeat purchase in the window of length tau: probability exp(-lambda tau).
    const double none = std::exp(-sim.lambda[i] * (options.horizon - sim.birth[i]));
    expected_no_repeat += none;
    variance_no_repeat += none * (1 - none);
    if (end - begin == 1) {
      ++no_repeat;
      REQUIRE(sim.alive[i] == 1);  // dropout only follows a repeat purchase
      continue;
    }
    // After the first repeat purchase the customer drops out with probability p.
    ++with_repeat;
    expected_died += sim.dropout[i];
    variance_died += sim.dropout[i] * (1 - sim.dropout[i]);
    if (!sim.alive[i] && sim.death[i] == sim.time[begin + 1]) ++died_at_first_repeat;
  }
  CHECK(std::abs(static_cast<double>(no_repeat) - expected_no_repeat) <
        4 * std::sqrt(variance_no_repeat));
  CHECK(std::abs(static_cast<double>(died_at_first_repeat) - expected_died) <
        4 * std::sqrt(variance_died));
  CHECK(with_repeat > 40'000);
}

TEST_CASE("simulation arguments are checked") {
  CHECK_THROWS_WITH_AS(cd::simulate_transactions({.r = -1}),
                       "simulate_transactions: r = -1 must be positive and finite",
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(
      cd::simulate_transactions({.acquisition_periods = 60, .horizon = 52}),
      "simulate_transactions: acquisition_periods = 60 must not exceed horizon = 52",
      crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(cd::simulate_transactions({.customers = 0}),
                       "simulate_transactions: customers = 0; simulate at least one",
                       crmkit::invalid_input);
  // A purchase rate of about 1000 per period over 1000 periods would be 10^6 rows per customer:
  // the limit stops the work early instead of running out of memory.
  CHECK_THROWS_WITH_AS(
      cd::simulate_transactions(
          {.customers = 10, .r = 1000, .alpha = 1, .horizon = 1000, .max_transactions = 5000}),
      "simulate_transactions: the simulation would produce more than max_transactions = 5000 "
      "rows (by customer 1 of 10); lower customers, horizon or the purchase rate r / alpha",
      crmkit::invalid_input);
}
