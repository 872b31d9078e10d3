#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
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

TEST_CASE("is_whole agrees with floor(x) == x on finite x >= 0") {
  // The reference is the C library's floor; the values straddle 2^52, where is_whole switches from
  // rounding by x + 2^52 to "every double is an integer", and the smallest fractions.
  const std::vector<double> values{0.0,
                                   -0.0,
                                   7.0,
                                   0.5,
                                   1e-300,
                                   std::numeric_limits<double>::denorm_min(),
                                   std::nextafter(3.0, 4.0),
                                   std::nextafter(3.0, 2.0),
                                   0x1p52 - 1,
                                   0x1p52 - 0.5,
                                   0x1p51 + 0.5,
                                   0x1p52,
                                   0x1p52 + 1,
                                   0x1p53 + 2,
                                   1e300,
                                   std::numeric_limits<double>::max()};
  for (const double x : values) {
    CAPTURE(x);
    CHECK(clv::detail::is_whole(x) == (std::floor(x) == x));
  }
  CHECK_FALSE(clv::detail::is_whole(std::nan("")));
}

TEST_CASE("the one-pass summary check accepts exactly what the detailed checks accept") {
  const std::vector<double> x{0, 1, 3, 0x1p53}, t_x{0, 2, 7.5, 30}, age{10, 10, 12, 39};
  const auto summaries_valid = [](const auto& frequency, const auto& recency, const auto& ages) {
    const auto scan = clv::detail::scan_summaries(frequency, recency, ages);
    return scan.ranges_valid && scan.unobservable == 0;
  };
  CHECK(summaries_valid(x, t_x, age));
  const double nan = std::nan("");
  const std::vector<std::vector<double>> bad_x{
      {0, 1.5, 3, 1}, {0, -1, 3, 1}, {0, nan, 3, 1}, {0, 1, INFINITY, 1}, {1, 1, 3, 1}};
  for (const auto& frequency : bad_x) {
    CHECK_FALSE(summaries_valid(frequency, t_x, age));
    CHECK_THROWS_AS(clv::check_summaries("f", frequency, t_x, age), crmkit::invalid_input);
  }
  const std::vector<std::vector<double>> bad_t_x{
      {0, 0, 7.5, 30}, {0, 2, 13, 30}, {0, nan, 7.5, 30}, {1, 2, 7.5, 30}, {0, -2, 7.5, 30}};
  for (const auto& recency : bad_t_x) {
    CHECK_FALSE(summaries_valid(x, recency, age));
    CHECK_THROWS_AS(clv::check_summaries("f", x, recency, age), crmkit::invalid_input);
  }
  const std::vector<double> infinite_age{10, 10, 12, INFINITY};
  CHECK_FALSE(summaries_valid(x, t_x, infinite_age));
}

TEST_CASE("merge_patterns: per-part histograms merge into the histogram of all rows") {
  const auto data = crmkit_test::simulate_beta_geometric(6'000, 0.25, 4.0, 0.8, 2.5, false, 52, 4);
  const auto whole = clv::compress(data.x, data.t_x, data.T);
  // Three parts compressed alone, then their rows (with counts) laid end to end and merged.
  std::vector<double> x, u, v, w;
  for (std::size_t part = 0; part < 3; ++part) {
    const std::size_t begin = part * 2'000;
    const std::span<const double> px(data.x.data() + begin, 2'000);
    const std::span<const double> pu(data.t_x.data() + begin, 2'000);
    const std::span<const double> pv(data.T.data() + begin, 2'000);
    for (const auto& row : clv::compress(px, pu, pv)) {
      x.push_back(row.x);
      u.push_back(row.u);
      v.push_back(row.v);
      w.push_back(row.weight);
    }
  }
  const auto merged = clv::merge_patterns(x, u, v, w);
  REQUIRE(merged.size() == whole.size());
  for (std::size_t i = 0; i < merged.size(); ++i) {
    CHECK(merged[i].x == whole[i].x);
    CHECK(merged[i].u == whole[i].u);
    CHECK(merged[i].v == whole[i].v);
    CHECK(merged[i].weight == whole[i].weight);
  }
  // And the fits of the two are the same numbers.
  const auto a = clv::fit_bg_nbd(data.x, data.t_x, data.T);
  std::vector<double> mx, mu, mv, mw;
  for (const auto& row : merged) {
    mx.push_back(row.x);
    mu.push_back(row.u);
    mv.push_back(row.v);
    mw.push_back(row.weight);
  }
  const auto b = clv::fit_bg_nbd(mx, mu, mv, mw);
  CHECK(a.log_likelihood == b.log_likelihood);
  CHECK(clv::bg_nbd::to_array(a.params) == clv::bg_nbd::to_array(b.params));
  CHECK(a.standard_errors == b.standard_errors);
  const std::vector<double> bad{1, -1};
  CHECK_THROWS_WITH_AS(clv::merge_patterns(std::vector<double>{1, 2}, std::vector<double>{1, 1},
                                           std::vector<double>{3, 3}, bad),
                       doctest::Contains("weights[1]"), crmkit::invalid_input);
}
