#pragma once

#include <crmkit/clv.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/math/hessian.hpp>

#include <doctest/doctest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "clv/simulate.hpp"

/** Checks shared by the per-model test files (test_bg_nbd.cpp, test_mbg_nbd.cpp, ...). */
namespace crmkit_test {

namespace clv = crmkit::clv;

/** Restores the thread count a test changed. */
struct thread_count_guard {
  std::size_t saved = crmkit::num_threads();
  ~thread_count_guard() { crmkit::set_num_threads(saved); }
};

inline bool relative_close(double actual, double expected, double tolerance) {
  return std::fabs(actual - expected) <= tolerance * std::fabs(expected);
}

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

/** A few (x, t_x, T, weight) patterns for the BG/NBD-family derivative checks. */
inline const std::vector<clv::pattern> transaction_rows{{0, 0, 10, 3},   {1, 2, 10, 1},
                                                        {3, 7.5, 12, 2}, {3, 12, 12, 1},
                                                        {40, 30, 39, 1}, {2, 0.1, 50, 1}};

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

// FHL 2005 eq. (10) exactly as published (no Euler transformation), in 50-digit arithmetic:
// (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^{r+x} ₂F₁(r+x, b+x; a+b+x−1; z)] / (1 + δ(x>0)
// a/(b+x−1) ((α+T)/(α+t_x))^{r+x}); with offset 1 the MBG/NBD form of Batislam et al.
inline double direct_conditional_expectation(double r, double alpha, double a, double b, int offset,
                                             double t, double x, double t_x, double age) {
  using big = boost::multiprecision::cpp_bin_float_50;
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

/** The customers of the direct-formula comparison: (t, x, t_x, T). */
struct conditional_case {
  double t, x, t_x, age;
};
inline constexpr conditional_case direct_formula_customers[] = {
    {39, 2, 30.43, 38.86}, {10, 0, 0, 20}, {100, 5, 10, 30}, {1, 1, 0.5, 1},
    {52, 30, 38, 39},      {5, 0, 0, 0},   {200, 12, 2, 80}};

// The model's E[Y(t) | x, t_x, T] on direct_formula_customers against the direct formula
// (offset 0: BG/NBD, 1: MBG/NBD), to 1e-11.
template <class Params>
void check_against_direct_formula(const Params& params, int offset) {
  for (const auto& c : direct_formula_customers) {
    CAPTURE(c.x);
    CAPTURE(c.t);
    CHECK(clv::conditional_expected_number_of_purchases_up_to_time(params, c.t, c.x, c.t_x,
                                                                   c.age) ==
          doctest::Approx(direct_conditional_expectation(params.r, params.alpha, params.a,
                                                         params.b, offset, c.t, c.x, c.t_x, c.age))
              .epsilon(1e-11));
  }
}

// Σ_n P(X(t)=n) = 1 and Σ_n n·P(X(t)=n) = E[X(t)], the latter computed by the independent
// ₂F₁ route: the pmf (incomplete beta) and the mean (hypergeometric series) must agree.
template <class Params>
void check_count_distribution(const Params& params) {
  for (double t : {0.5, 10.0, 39.0, 200.0}) {
    CAPTURE(t);
    double total = 0, mean = 0;
    for (int n = 0; n < 20000; ++n) {
      const double p = clv::probability_of_n_purchases_up_to_time(params, t, n);
      CHECK(p >= 0);
      total += p;
      mean += n * p;
    }
    CHECK(total == doctest::Approx(1).epsilon(1e-10));
    CHECK(mean ==
          doctest::Approx(clv::expected_number_of_purchases_up_to_time(params, t)).epsilon(1e-8));
  }
}

}  // namespace crmkit_test
