#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <tuple>
#include <vector>

#include "clv/simulate.hpp"

namespace clv = crmkit::clv;

// The model-independent fitting machinery (clv/fit.hpp, clv/observations.hpp): pattern
// compression and the summary checks. Each model's own tests are in test_<model>.cpp.

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

TEST_CASE("compress sorts by (x, u, v) and merges identical rows, ranked or by value") {
  // Reference: an ordered map keyed by the values, weights added in row order.
  const auto reference = [](const std::vector<double>& x, const std::vector<double>& u,
                            const std::vector<double>& v, const std::vector<double>& w) {
    std::map<std::tuple<double, double, double>, double> merged;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (w[i] != 0) merged[{x[i], u[i], v[i]}] += w[i];
    }
    return merged;
  };
  std::vector<double> x, u, v, w;
  for (int i = 0; i < 5000; ++i) {
    x.push_back(i % 4);
    u.push_back((i * 7 % 13) / 3.0);
    v.push_back((i * 5 % 9) * 0.7);
    w.push_back((i % 3) * 0.3);
  }
  for (const bool negative_zero : {false, true}) {  // −0 sends compress to the value sort
    if (negative_zero) x[10] = -0.0;
    const auto expected = reference(x, u, v, w);
    const auto merged = clv::compress(x, u, v, w);
    REQUIRE(merged.size() == expected.size());
    std::size_t k = 0;
    for (const auto& [key, weight] : expected) {
      CHECK(merged[k].x == std::get<0>(key));
      CHECK(merged[k].u == std::get<1>(key));
      CHECK(merged[k].v == std::get<2>(key));
      CHECK(merged[k].weight == weight);
      ++k;
    }
  }
  const auto unweighted = clv::compress(x, u, u);  // v the same column as u
  CHECK(unweighted.size() == 4 * 13);
  double total = 0;
  for (const auto& row : unweighted) total += row.weight;
  CHECK(total == 5000);
}
