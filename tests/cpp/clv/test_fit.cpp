#include <crmkit/clv.hpp>
#include <crmkit/math/hessian.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "clv/simulate.hpp"

namespace clv = crmkit::clv;

namespace {

struct thread_count_guard {
  std::size_t saved = crmkit::num_threads();
  ~thread_count_guard() { crmkit::set_num_threads(saved); }
};

// Finite-difference check of a model's analytic gradient and Hessian (natural parameters) on
// a handful of rows: gradient against central differences of the value, Hessian against
// central differences of the analytic gradient.
template <class Model>
void check_derivatives(const typename Model::params_type& params,
                       const typename Model::data_type& rows) {
  constexpr std::size_t n = Model::size;
  const auto base = Model::to_array(params);
  auto at = [&](const Eigen::VectorXd& v) {
    std::array<double, n> values{};
    for (std::size_t i = 0; i < n; ++i) values[i] = v[static_cast<Eigen::Index>(i)];
    return Model::template log_likelihood_sums<true>(Model::from_array(values), rows);
  };
  Eigen::VectorXd point(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) point[static_cast<Eigen::Index>(i)] = base[i];
  const auto exact = at(point);
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<Eigen::Index>(i);
    const double h = 1e-6 * point[k];
    Eigen::VectorXd up = point, down = point;
    up[k] += h;
    down[k] -= h;
    const double numeric = (at(up).value - at(down).value) / (2 * h);
    CAPTURE(i);
    CHECK(exact.gradient[i] == doctest::Approx(numeric).epsilon(1e-6).scale(1));
  }
  const auto hessian = crmkit::math::hessian_from_gradient(
      [&](const Eigen::VectorXd& v, Eigen::VectorXd& g) {
        const auto d = at(v);
        for (std::size_t i = 0; i < n; ++i) g[static_cast<Eigen::Index>(i)] = d.gradient[i];
      },
      point, 1e-6);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      CHECK(exact.hessian[i * n + j] ==
            doctest::Approx(hessian(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)))
                .epsilon(1e-5)
                .scale(1));
    }
  }
}

const std::vector<clv::pattern> transaction_rows{{0, 0, 10, 3},  {1, 2, 10, 1},   {3, 7.5, 12, 2},
                                                 {3, 12, 12, 1}, {40, 30, 39, 1}, {2, 0.1, 50, 1}};

}  // namespace

TEST_CASE("analytic gradients and Hessians match finite differences") {
  check_derivatives<clv::bg_nbd>({0.243, 4.414, 0.793, 2.426}, transaction_rows);
  check_derivatives<clv::bg_nbd>({1.7, 0.3, 3.1, 0.6}, transaction_rows);
  check_derivatives<clv::mbg_nbd>({0.525, 6.183, 0.891, 1.614}, transaction_rows);
  const std::vector<double> counts{1, 2, 7}, means{20, 35.5, 9.75}, weights{1, 2, 1};
  const clv::detail::spend_rows spend(counts, means, weights);
  check_derivatives<clv::gamma_gamma>({6.25, 3.74, 15.44}, spend);
  check_derivatives<clv::gamma_gamma>({0.8, 1.3, 2.0}, spend);
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

namespace {
// Fits `replicates` simulated data sets and counts the 95% intervals that contain the truth.
template <class Fit>
int covered_intervals(int replicates, const double (&truth)[4], bool modified, Fit&& fit) {
  int covered = 0;
  for (int seed = 1; seed <= replicates; ++seed) {
    const auto data =
        crmkit_test::simulate_beta_geometric(20'000, truth[0], truth[1], truth[2], truth[3],
                                             modified, 52, static_cast<std::uint64_t>(seed));
    const auto result = fit(data);
    CHECK(result.converged);
    const double values[] = {result.params.r, result.params.alpha, result.params.a,
                             result.params.b};
    for (int i = 0; i < 4; ++i) {
      covered += result.lower[i] < truth[i] && truth[i] < result.upper[i];
      CHECK(std::fabs(values[i] - truth[i]) < 4 * result.standard_errors[i]);
    }
  }
  return covered;
}
}  // namespace

TEST_CASE("parameter recovery: 95% intervals cover the true values (BG/NBD and MBG/NBD)") {
  // 10 replicates × 4 parameters: 38 of 40 intervals expected to cover; fewer than 34 would
  // happen with probability < 0.5% if the standard errors were right.
  const double bg_truth[4] = {0.25, 4.0, 0.8, 2.5};
  CHECK(covered_intervals(10, bg_truth, false, [](const crmkit_test::simulated& d) {
          return clv::fit_bg_nbd(d.x, d.t_x, d.T);
        }) >= 34);
  const double mbg_truth[4] = {0.5, 6.0, 0.9, 1.6};
  CHECK(covered_intervals(10, mbg_truth, true, [](const crmkit_test::simulated& d) {
          return clv::fit_mbg_nbd(d.x, d.t_x, d.T);
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
  CHECK_THROWS_WITH_AS(clv::fit_gamma_gamma(std::vector<double>{1, 2}, std::vector<double>{10, 0}),
                       "fit_gamma_gamma: monetary_value[1] = 0 must be positive and finite",
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(clv::fit_gamma_gamma(std::vector<double>{1, 0}, std::vector<double>{10, 3}),
                       doctest::Contains("frequency[1] = 0 must be >= 1"), crmkit::invalid_input);
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

TEST_CASE("Gamma-Gamma: expected spend, population mean for x = 0, q <= 1 flagged") {
  const clv::gamma_gamma_params g{6.25, 3.74, 15.44};
  // Note 025 eq. (5): (p v + p x m)/(p x + q − 1).
  CHECK(clv::conditional_expected_average_profit(g, 2.0, 22.35) ==
        doctest::Approx((6.25 * 15.44 + 6.25 * 2 * 22.35) / (6.25 * 2 + 3.74 - 1)));
  CHECK(clv::conditional_expected_average_profit(g, 0.0, 0.0) ==
        doctest::Approx(6.25 * 15.44 / 2.74));
  const clv::gamma_gamma_params heavy{0.2, 0.7, 3.0};
  CHECK(std::isinf(clv::conditional_expected_average_profit(heavy, 0.0, 0.0)));
  CHECK(std::isfinite(clv::conditional_expected_average_profit(heavy, 5.0, 10.0)));
  // Heavy-tailed spend (true q = 0.8): the fit warns that the mean spend is undefined.
  std::mt19937_64 rng(5);
  std::vector<double> x, m;
  for (int i = 0; i < 4000; ++i) {
    const double nu = std::gamma_distribution<double>(0.8, 1 / 10.0)(rng);
    const double count = 1 + static_cast<double>(i % 5);
    x.push_back(count);
    m.push_back(std::gamma_distribution<double>(2.0 * count, 1 / (count * nu))(rng));
  }
  const auto fit = clv::fit_gamma_gamma(x, m);
  CHECK(fit.converged);
  CHECK(fit.params.q < 1);
  REQUIRE_FALSE(fit.warnings.empty());
  CHECK(fit.warnings.back().code == crmkit::warning_code::undefined_mean);
  CHECK(fit.warnings.back().message.find("q = ") != std::string::npos);
}

namespace {
// Repeat customers' (x, mean spend, weight) drawn from the Gamma-Gamma model itself.
struct spend_data {
  std::vector<double> x, m, w;
};

spend_data simulate_spend(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  spend_data data;
  for (int i = 0; i < n; ++i) {
    const double nu = std::gamma_distribution<double>(3.7, 1 / 15.0)(rng);
    const double count = 1 + static_cast<double>(std::poisson_distribution<int>(2.0)(rng));
    data.x.push_back(count);
    data.m.push_back(std::gamma_distribution<double>(6.0 * count, 1 / (count * nu))(rng));
    data.w.push_back(static_cast<double>(i % 3));
  }
  return data;
}
}  // namespace

TEST_CASE("Gamma-Gamma: the grouped likelihood equals the direct per-row sum") {
  auto data = simulate_spend(5000, 3);
  data.x[17] = 5e6;  // a level far beyond the dense histogram: the ordered-map path
  data.w[17] = 1;
  const clv::gamma_gamma_params g{6.25, 3.74, 15.44};
  // Note 025's per-customer ℓ, term by term with std::lgamma, weighted.
  double direct = 0;
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    const double px = g.p * data.x[i];
    direct +=
        data.w[i] * (std::lgamma(px + g.q) - std::lgamma(px) - std::lgamma(g.q) +
                     g.q * std::log(g.v) + (px - 1) * std::log(data.m[i]) +
                     px * std::log(data.x[i]) - (px + g.q) * std::log(g.v + data.x[i] * data.m[i]));
  }
  const clv::detail::spend_rows rows(data.x, data.m, data.w);
  const auto grouped = clv::gamma_gamma::log_likelihood_sums<false>(g, rows);
  // The x = 5e6 row's terms are of order 1e8 and cancel, so agreement is to ~1e-16 · 1e8.
  const double difference = grouped.value - direct;
  CAPTURE(difference);
  CHECK(std::fabs(difference) < 1e-6);
  // Unit weights: the unweighted loop gives the same as explicit ones.
  const std::vector<double> ones(data.x.size(), 1.0);
  const auto implicit =
      clv::gamma_gamma::log_likelihood_sums<true>(g, clv::detail::spend_rows(data.x, data.m, {}));
  const auto explicit_ones =
      clv::gamma_gamma::log_likelihood_sums<true>(g, clv::detail::spend_rows(data.x, data.m, ones));
  CHECK(implicit.value == explicit_ones.value);
  for (std::size_t i = 0; i < 9; ++i) CHECK(implicit.hessian[i] == explicit_ones.hessian[i]);
}

TEST_CASE("Gamma-Gamma fits are bit-identical with 1 and 4 threads, staged path included") {
  thread_count_guard guard;
  const auto data = simulate_spend(60'000, 11);
  clv::fit_options options;
  options.sample_threshold = 10'000;
  crmkit::set_num_threads(1);
  const auto one = clv::fit_gamma_gamma(data.x, data.m, data.w, options);
  crmkit::set_num_threads(4);
  const auto four = clv::fit_gamma_gamma(data.x, data.m, data.w, options);
  CHECK(one.converged);
  CHECK(std::bit_cast<std::uint64_t>(one.log_likelihood) ==
        std::bit_cast<std::uint64_t>(four.log_likelihood));
  CHECK(std::bit_cast<std::uint64_t>(one.params.v) == std::bit_cast<std::uint64_t>(four.params.v));
  CHECK(std::bit_cast<std::uint64_t>(one.standard_errors[0]) ==
        std::bit_cast<std::uint64_t>(four.standard_errors[0]));
  // The staged fit reaches the optimum of fitting all rows from the start.
  clv::fit_options direct;
  direct.sample_threshold = 0;
  const auto plain = clv::fit_gamma_gamma(data.x, data.m, data.w, direct);
  CHECK(plain.log_likelihood == doctest::Approx(one.log_likelihood).epsilon(1e-12));
  CHECK(plain.params.p == doctest::Approx(one.params.p).epsilon(1e-7));
}

TEST_CASE("continuous times skip merging; the fit equals the fit on compressed patterns") {
  const auto data = crmkit_test::simulate_beta_geometric(50'000, 0.25, 4.0, 0.8, 2.5, false, 52, 9);
  CHECK_FALSE(clv::detail::merging_pays(data.x, data.T));
  // Ages in whole weeks: most rows share an age, so merging pays.
  std::vector<double> weeks(data.T.size());
  for (std::size_t i = 0; i < weeks.size(); ++i) weeks[i] = std::ceil(data.T[i]);
  CHECK(clv::detail::merging_pays(data.x, weeks));

  const auto grouped = clv::group_by_frequency(data.x, data.t_x, data.T);
  const auto merged = clv::compress(data.x, data.t_x, data.T);
  REQUIRE(grouped.size() == merged.size());  // every row distinct
  for (std::size_t i = 1; i < grouped.size(); ++i) CHECK(grouped[i - 1].x <= grouped[i].x);

  const auto fast = clv::fit_bg_nbd(data.x, data.t_x, data.T);
  const auto reference =
      clv::fit_model<clv::bg_nbd>("fit_bg_nbd", merged, clv::fit_options{}, data.x.size());
  CHECK(fast.converged);
  CHECK(fast.log_likelihood == doctest::Approx(reference.log_likelihood).epsilon(1e-12));
  const auto a = clv::bg_nbd::to_array(fast.params);
  const auto b = clv::bg_nbd::to_array(reference.params);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-8));
    CHECK(fast.standard_errors[i] == doctest::Approx(reference.standard_errors[i]).epsilon(1e-8));
  }
}

TEST_CASE("the one-pass summary check accepts exactly what the detailed checks accept") {
  const std::vector<double> x{0, 1, 3, 0x1p53}, t_x{0, 2, 7.5, 30}, age{10, 10, 12, 39};
  CHECK(clv::detail::summaries_valid(x, t_x, age));
  const double nan = std::nan("");
  const std::vector<std::vector<double>> bad_x{
      {0, 1.5, 3, 1}, {0, -1, 3, 1}, {0, nan, 3, 1}, {0, 1, INFINITY, 1}, {1, 1, 3, 1}};
  for (const auto& frequency : bad_x) {
    CHECK_FALSE(clv::detail::summaries_valid(frequency, t_x, age));
    CHECK_THROWS_AS(clv::check_summaries("f", frequency, t_x, age), crmkit::invalid_input);
  }
  const std::vector<std::vector<double>> bad_t_x{
      {0, 0, 7.5, 30}, {0, 2, 13, 30}, {0, nan, 7.5, 30}, {1, 2, 7.5, 30}, {0, -2, 7.5, 30}};
  for (const auto& recency : bad_t_x) {
    CHECK_FALSE(clv::detail::summaries_valid(x, recency, age));
    CHECK_THROWS_AS(clv::check_summaries("f", x, recency, age), crmkit::invalid_input);
  }
  const std::vector<double> infinite_age{10, 10, 12, INFINITY};
  CHECK_FALSE(clv::detail::summaries_valid(x, t_x, infinite_age));
}

TEST_CASE("the one-pass spend check accepts exactly what the detailed checks accept") {
  const std::vector<double> x{1, 2, 0x1p53}, m{10, 3.5, 1e-3};
  CHECK_NOTHROW(clv::check_spend("f", x, m, false));
  const double nan = std::nan("");
  const std::vector<std::vector<double>> bad_x{{1, 2.5, 3}, {1, 0, 3}, {1, nan, 3}, {-1, 2, 3}};
  for (const auto& frequency : bad_x) {
    CHECK_THROWS_AS(clv::check_spend("f", frequency, m, false), crmkit::invalid_input);
  }
  CHECK_NOTHROW(clv::check_spend("f", std::vector<double>{1, 0, 3}, m, true));
  CHECK_NOTHROW(
      clv::check_spend("f", std::vector<double>{1, 0, 3}, std::vector<double>{1, 0, 2}, true));
  const std::vector<std::vector<double>> bad_m{
      {10, 0, 1}, {10, -1, 1}, {10, nan, 1}, {10, INFINITY, 1}};
  for (const auto& spend : bad_m) {
    CHECK_THROWS_AS(clv::check_spend("f", x, spend, false), crmkit::invalid_input);
    CHECK_THROWS_AS(clv::check_spend("f", x, spend, true), crmkit::invalid_input);
  }
}
