#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "clv/model_checks.hpp"
#include "shared_data.hpp"

namespace clv = crmkit::clv;
using namespace crmkit_test;

namespace {

using big = boost::multiprecision::cpp_bin_float_50;

struct histories {
  std::vector<double> x, t_x, n, weight;
};

// donations.csv: frequency, recency, periods, weights (22 patterns, 11,104 donors).
histories read_donations() {
  histories out;
  std::ifstream in(shared_data_dir / "donations.csv");
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string cell;
    std::vector<double> values;
    while (std::getline(row, cell, ',')) values.push_back(std::stod(cell));
    out.x.push_back(values.at(0));
    out.t_x.push_back(values.at(1));
    out.n.push_back(values.at(2));
    out.weight.push_back(values.at(3));
  }
  return out;
}

big beta_function(const big& a, const big& b) {
  using boost::multiprecision::lgamma;
  return exp(lgamma(a) + lgamma(b) - lgamma(a + b));
}

// FHS 2010 eq. (5) in 50-digit arithmetic, every beta function from log-gammas.
double eq5_log_likelihood(const clv::bg_bb_params& p, int x, int t_x, int n) {
  const big a = p.alpha, b = p.beta, g = p.gamma, d = p.delta;
  big total = beta_function(a + x, b + n - x) * beta_function(g, d + n);
  for (int i = 0; i < n - t_x; ++i) {
    total += beta_function(a + x, b + t_x - x + i) * beta_function(g + 1, d + t_x + i);
  }
  return static_cast<double>(log(total / (beta_function(a, b) * beta_function(g, d))));
}

// A BG/BB simulator written from the model's definition (FHS 2010 §2), independent of crmkit:
// p ~ Beta(α, β), θ ~ Beta(γ, δ); before each of the n opportunities an alive customer dies with
// probability θ, and an alive one transacts with probability p.
histories simulate_bg_bb(std::size_t customers, const clv::bg_bb_params& p, int n,
                         std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  histories out;
  for (std::size_t i = 0; i < customers; ++i) {
    const double purchase = draw_beta(rng, p.alpha, p.beta);
    const double dropout = draw_beta(rng, p.gamma, p.delta);
    double x = 0, t_x = 0;
    for (int t = 1; t <= n; ++t) {
      if (unit(rng) < dropout) break;
      if (unit(rng) < purchase) {
        ++x;
        t_x = t;
      }
    }
    out.x.push_back(x);
    out.t_x.push_back(t_x);
    out.n.push_back(n);
  }
  return out;
}

// FHS 2010 Table 3 / CLV-NOTES §3 (lifetimes 0.11.3 refit): the donations MLE.
const clv::bg_bb_params donations_mle{1.203522, 0.749716, 0.656718, 2.783443};

}  // namespace

TEST_CASE("BG/BB on the donations data reproduces the published estimates and log-likelihood" *
          needs_data({"donations.csv"})) {
  const auto data = read_donations();
  REQUIRE(data.x.size() == 22);
  const auto fit = clv::fit_bg_bb(data.x, data.t_x, data.n, data.weight);
  CHECK(fit.converged);
  CHECK(fit.customers == 22);
  CHECK(fit.total_weight == 11104);
  // Issue #12 (FHS 2010): 1.2035, 0.7497, 0.6567, 2.7834, LL −33,225.58.
  CHECK(relative_close(fit.params.alpha, 1.2035, 1e-4));
  CHECK(relative_close(fit.params.beta, 0.7497, 1e-4));
  CHECK(relative_close(fit.params.gamma, 0.6567, 1e-4));
  CHECK(relative_close(fit.params.delta, 2.7834, 1e-4));
  CHECK(std::fabs(fit.log_likelihood + 33225.58) < 0.01);
  for (double se : fit.standard_errors) CHECK((std::isfinite(se) && se > 0));
  // The weighted fit equals the fit on every donor (the 22 patterns expanded to 11,104 rows).
  histories expanded;
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    for (int k = 0; k < static_cast<int>(data.weight[i]); ++k) {
      expanded.x.push_back(data.x[i]);
      expanded.t_x.push_back(data.t_x[i]);
      expanded.n.push_back(data.n[i]);
    }
  }
  const auto plain = clv::fit_bg_bb(expanded.x, expanded.t_x, expanded.n);
  CHECK(plain.log_likelihood == doctest::Approx(fit.log_likelihood).epsilon(1e-12));
  CHECK(relative_close(plain.params.alpha, fit.params.alpha, 1e-6));
  CHECK(relative_close(plain.params.delta, fit.params.delta, 1e-6));
  CHECK(plain.customers == 11104);
}

TEST_CASE("BG/BB predictions on donations match FHS 2010 Table 6 and Hardie's spreadsheet" *
          needs_data({"donations.csv"})) {
  const auto data = read_donations();
  const auto& p = donations_mle;
  // FHS 2010 Table 6 (P(alive in 2002), i.e. at opportunity n + 1), as lifetimes' test
  // test_prob_alive_is_close_to_Hardie_paper_table_6 quotes it: (x, t_x) = (0, 0), (2, 4), (6, 6).
  CHECK(std::fabs(clv::conditional_probability_alive_at(p, 1, 0, 0, 6) - 0.11) < 0.005);
  CHECK(std::fabs(clv::conditional_probability_alive_at(p, 1, 2, 4, 6) - 0.59) < 0.005);
  CHECK(std::fabs(clv::conditional_probability_alive_at(p, 1, 6, 6, 6) - 0.93) < 0.005);
  // Hardie's BGBB_2011-01-20 spreadsheet (note 010): Σ donors × E[X(6, 11) | history] = 12,884.2
  // ("Conditional Expectations (II)"), and the in-sample fit 11,104·P(X(6) = 0) = 3,454.9 and
  // 11,104·P(X(6) = 6) = 1,253.1 (cells C18, C24).
  double total = 0;
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    total += data.weight[i] *
             clv::conditional_expected_number_of_purchases_up_to_time(p, 5, data.x[i], data.t_x[i],
                                                                      data.n[i]);
  }
  CHECK(std::fabs(total - 12884.2) < 0.5);
  CHECK(std::fabs(11104 * clv::probability_of_n_purchases_up_to_time(p, 6, 0) - 3454.9) < 0.5);
  CHECK(std::fabs(11104 * clv::probability_of_n_purchases_up_to_time(p, 6, 6) - 1253.1) < 0.5);
}

TEST_CASE("BG/BB: analytic gradients and Hessians match finite differences") {
  const std::vector<clv::pattern> rows{{0, 0, 6, 3}, {2, 4, 6, 1}, {6, 6, 6, 2},
                                       {3, 5, 10, 1}, {1, 1, 40, 2}, {25, 30, 60, 1}};
  check_derivatives<clv::bg_bb>(donations_mle, rows);
  check_derivatives<clv::bg_bb>({0.05, 3.0, 2.0, 0.1}, rows);
  check_derivatives<clv::bg_bb>({40.0, 20.0, 0.01, 50.0}, rows);
  check_derivatives<clv::bg_bb>({1.0, 1.0, 1.0, 1.0}, rows);
}

TEST_CASE("the BG/BB log-likelihood is eq. (5) evaluated in 50 digits, over the whole range") {
  struct history {
    int x, t_x, n;
  };
  const history customers[] = {{0, 0, 6},   {2, 4, 6},    {6, 6, 6},      {0, 0, 0},
                               {1, 1, 300}, {150, 200, 400}, {0, 0, 2000}, {2000, 2000, 2000}};
  const clv::bg_bb_params params[] = {donations_mle,
                                      {1e-6, 1e-6, 1e-6, 1e-6},
                                      {1e8, 1e8, 1e8, 1e8},
                                      {1e-6, 1e8, 1e8, 1e-6},
                                      {1e8, 1e-6, 1e-6, 1e8},
                                      {3.0, 0.2, 1.0, 1.0}};
  for (const auto& p : params) {
    for (const auto& c : customers) {
      CAPTURE(p.alpha);
      CAPTURE(p.beta);
      CAPTURE(p.gamma);
      CAPTURE(p.delta);
      CAPTURE(c.x);
      CAPTURE(c.n);
      const double expected = eq5_log_likelihood(p, c.x, c.t_x, c.n);
      const double actual = clv::bg_bb::log_likelihood(p, c.x, c.t_x, c.n);
      REQUIRE(std::isfinite(actual));
      CHECK(actual == doctest::Approx(expected).epsilon(1e-10).scale(1));
      const double alive = clv::bg_bb::probability_alive(p, c.x, c.t_x, c.n);
      CHECK((alive >= 0 && alive <= 1));
    }
  }
}

TEST_CASE("BG/BB: the count distribution sums to 1 with mean E[X(n)]") {
  for (const auto& p : {donations_mle, clv::bg_bb_params{0.3, 2.0, 1.0, 5.0},
                        clv::bg_bb_params{5.0, 1.0, 0.05, 0.3}}) {
    for (double n : {0.0, 1.0, 6.0, 50.0, 400.0}) {
      CAPTURE(n);
      double total = 0, mean = 0;
      for (double k = 0; k <= n; ++k) {
        const double probability = clv::bg_bb::pmf(p, n, k);
        CHECK(probability >= 0);
        total += probability;
        mean += k * probability;
      }
      CHECK(total == doctest::Approx(1).epsilon(1e-11));
      CHECK(mean == doctest::Approx(clv::bg_bb::expected_new(p, n)).epsilon(1e-10).scale(1));
    }
  }
}

TEST_CASE("BG/BB: the conditional expectation is the sum of next-period ones; γ = 1 is not special") {
  for (const auto& p : {donations_mle, clv::bg_bb_params{1.0, 2.0, 1.0, 3.0},
                        clv::bg_bb_params{1.0, 2.0, 1.0 + 1e-12, 3.0}}) {
    // E[X(n, n+m)] = Σ_{j=1..m} P(alive at n+j)·E[p | alive, x, n].
    const double x = 3, t_x = 5, n = 8;
    double sum = 0;
    for (int j = 1; j <= 20; ++j) {
      sum += clv::conditional_probability_alive_at(p, j, x, t_x, n) * (p.alpha + x) /
             (p.alpha + p.beta + n);
    }
    CHECK(clv::bg_bb::conditional_expected(p, 20, x, t_x, n) == doctest::Approx(sum).epsilon(1e-12));
  }
}

TEST_CASE("BG/BB DERT is the discounted sum of the expected transactions of each future period") {
  for (const auto& p : {donations_mle, clv::bg_bb_params{0.5, 3.0, 2.0, 0.5}}) {
    for (double d : {0.1, 0.5, 2.0}) {
      const double x = 2, t_x = 4, n = 6;
      double sum = 0, previous = 0;
      for (int j = 1; j < 4000; ++j) {
        const double cumulative = clv::bg_bb::conditional_expected(p, j, x, t_x, n);
        sum += (cumulative - previous) / std::pow(1 + d, j);
        previous = cumulative;
      }
      CAPTURE(d);
      CHECK(clv::discounted_expected_residual_transactions(p, d, x, t_x, n) ==
            doctest::Approx(sum).epsilon(1e-11));
    }
  }
}

TEST_CASE("BG/BB parameter recovery: estimates within 4 standard errors of the truth") {
  const clv::bg_bb_params truth{1.2, 0.75, 0.65, 2.8};
  int covered = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const auto data = simulate_bg_bb(20'000, truth, 10, seed);
    const auto fit = clv::fit_bg_bb(data.x, data.t_x, data.n);
    CHECK(fit.converged);
    const auto values = clv::bg_bb::to_array(fit.params);
    const auto truths = clv::bg_bb::to_array(truth);
    for (std::size_t i = 0; i < 4; ++i) {
      CAPTURE(i);
      CHECK(std::fabs(values[i] - truths[i]) < 4 * fit.standard_errors[i]);
      covered += fit.lower[i] < truths[i] && truths[i] < fit.upper[i];
    }
  }
  CHECK(covered >= 13);  // of 16 nominal-95% intervals
}

TEST_CASE("BG/BB fits are bit-identical with 1 and 4 threads") {
  const thread_count_guard guard;
  const auto data = simulate_bg_bb(50'000, {0.8, 1.5, 0.4, 3.0}, 30, 7);
  crmkit::set_num_threads(1);
  const auto one = clv::fit_bg_bb(data.x, data.t_x, data.n);
  crmkit::set_num_threads(4);
  const auto four = clv::fit_bg_bb(data.x, data.t_x, data.n);
  CHECK(one.log_likelihood == four.log_likelihood);
  CHECK(one.params.alpha == four.params.alpha);
  CHECK(one.params.delta == four.params.delta);
}

TEST_CASE("BG/BB checks its histories and names the offending element") {
  const std::vector<double> x{1, 2}, t_x{3, 4}, n{6, 6};
  auto fails_with = [](auto&& call, const char* text) {
    CHECK_THROWS_WITH_AS(call(), doctest::Contains(text), crmkit::invalid_input);
  };
  fails_with([&] { clv::fit_bg_bb(x, std::vector<double>{3, 7}, n); },
             "recency[1] = 7 is greater than n_periods[1] = 6");
  fails_with([&] { clv::fit_bg_bb(std::vector<double>{1, 5}, t_x, n); },
             "frequency[1] = 5 is greater than recency[1] = 4");
  fails_with([&] { clv::fit_bg_bb(std::vector<double>{1, NAN}, t_x, n); },
             "frequency[1] = nan must be finite and >= 0");
  fails_with([&] { clv::fit_bg_bb(x, std::vector<double>{-3, 4}, n); },
             "recency[0] = -3 must be finite and >= 0");
  fails_with([&] { clv::fit_bg_bb(x, t_x, std::vector<double>{6, 6.5}); },
             "n_periods[1] = 6.5 must be an integer");
  fails_with([&] { clv::fit_bg_bb(std::vector<double>{0, 2}, std::vector<double>{1, 4}, n); },
             "frequency[0] = 0 but recency[0] = 1");
  fails_with([&] { clv::fit_bg_bb(x, t_x, n, std::vector<double>{1, -1}); }, "weights[1]");
  fails_with([&] {
    clv::fit_bg_bb(std::vector<double>{0, 0}, std::vector<double>{0, 0}, n);
  }, "every customer has frequency 0");
  const std::vector<double> one{1};
  fails_with([&] {
    clv::conditional_expected_number_of_purchases_up_to_time(donations_mle, std::vector<double>{1.5},
                                                             x, t_x, n);
  }, "m_periods_in_future[0] = 1.5 must be an integer");
  fails_with([&] {
    clv::conditional_probability_alive_at(donations_mle, one, x, std::vector<double>{8, 4}, n);
  }, "recency[0] = 8 is greater than n_periods[0] = 6");
  fails_with([&] {
    clv::discounted_expected_residual_transactions(donations_mle, -0.1, x, t_x, n);
  }, "discount_rate");
  fails_with([&] {
    clv::conditional_probability_alive_at(clv::bg_bb_params{1, -1, 1, 1}, one, x, t_x, n);
  }, "beta");
}

TEST_CASE("log_gamma_ratio keeps its digits at large z (Boost's ratio was 1.4e-9 off)") {
  // mpmath, 40 digits: loggamma(1e8 + 21) − loggamma(1e8 + 1) = 368.41361697904716594...
  CHECK(crmkit::math::log_gamma_ratio(1e8 + 1, 20) ==
        doctest::Approx(368.41361697904716594).epsilon(1e-15));
  // mpmath: loggamma(1e4 + 0.5) − loggamma(1e4) = 4.6051576859880965764...
  CHECK(crmkit::math::log_gamma_ratio(1e4, 0.5) ==
        doctest::Approx(4.6051576859880965764).epsilon(1e-15));
}
