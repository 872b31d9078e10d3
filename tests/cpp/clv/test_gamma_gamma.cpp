#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <vector>

#include "clv/cdnow.hpp"
#include "clv/model_checks.hpp"
#include "shared_data.hpp"

namespace clv = crmkit::clv;
using namespace crmkit_test;

TEST_CASE("Gamma-Gamma: analytic gradients and Hessians match finite differences") {
  const std::vector<double> counts{1, 2, 7}, means{20, 35.5, 9.75}, weights{1, 2, 1};
  const clv::detail::spend_rows spend(counts, means, weights);
  check_derivatives<clv::gamma_gamma>({6.25, 3.74, 15.44}, spend);
  check_derivatives<clv::gamma_gamma>({0.8, 1.3, 2.0}, spend);
}

TEST_CASE("bad Gamma-Gamma fitting input is rejected with the argument, index and value") {
  CHECK_THROWS_WITH_AS(clv::fit_gamma_gamma(std::vector<double>{1, 2}, std::vector<double>{10, 0}),
                       "fit_gamma_gamma: monetary_value[1] = 0 must be positive and finite",
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(clv::fit_gamma_gamma(std::vector<double>{1, 0}, std::vector<double>{10, 3}),
                       doctest::Contains("frequency[1] = 0 must be >= 1"), crmkit::invalid_input);
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

TEST_CASE("Gamma-Gamma of rows held elsewhere: the same fit, each pass one call of the sums") {
  const auto data = simulate_spend(30'000, 5);
  clv::fit_options options;
  options.sample_threshold = 10'000;
  // Held in parts of the given sizes: summaries (exact sums merged through their limbs),
  // samples (each part's share of the whole's hashed sample) and per-row sums (limbs) added up
  // as a cluster's driver adds them.
  const auto held = [&](const std::vector<std::size_t>& sizes, std::span<const double> w,
                        std::size_t& calls) {
    const std::size_t n = data.x.size();
    std::vector<std::span<const double>> xs, ms, ws;
    std::size_t begin = 0;
    for (const std::size_t size : sizes) {
      xs.push_back(std::span<const double>(data.x).subspan(begin, size));
      ms.push_back(std::span<const double>(data.m).subspan(begin, size));
      ws.push_back(w.empty() ? w : w.subspan(begin, size));
      begin += size;
    }
    REQUIRE(begin == n);
    std::map<double, double> levels;
    clv::detail::exact_columns<3> fixed;
    std::vector<double> sx, sm, sw;
    for (std::size_t k = 0; k < sizes.size(); ++k) {
      if (sizes[k] == 0) continue;
      const clv::detail::spend_rows part(xs[k], ms[k], ws[k]);
      for (std::size_t j = 0; j < part.levels().size(); ++j)
        levels[part.levels()[j]] += part.level_weights()[j];
      clv::detail::exact_columns<3> shipped;
      for (std::size_t j = 0; j < 3; ++j) {
        shipped.sums[j].add_limbs(part.fixed_sums().sums[j].limbs());
        shipped.special[j] = part.fixed_sums().special[j];
      }
      fixed += shipped;
      const auto sample = part.hashed_sample_part(options.sample_threshold / 2, n);
      sx.insert(sx.end(), sample.x().begin(), sample.x().end());
      sm.insert(sm.end(), sample.m().begin(), sample.m().end());
      sw.insert(sw.end(), sample.w().begin(), sample.w().end());
    }
    std::vector<double> level_values, level_weights;
    for (const auto& [x, weight] : levels) {
      level_values.push_back(x);
      level_weights.push_back(weight);
    }
    const auto sums = [=, &calls](double v, bool with_hessian) {
      ++calls;
      clv::detail::exact_spend_row_sums total;
      for (std::size_t k = 0; k < xs.size(); ++k) {
        total += with_hessian ? clv::detail::sum_spend_rows_exactly<true>(v, xs[k], ms[k], ws[k])
                              : clv::detail::sum_spend_rows_exactly<false>(v, xs[k], ms[k], ws[k]);
      }
      return clv::detail::rounded(total);
    };
    return clv::fit_gamma_gamma_elsewhere(
        clv::detail::spend_rows::held_elsewhere(
            n, level_values, level_weights, fixed.value(0), fixed.value(1), fixed.value(2),
            clv::detail::spend_rows::owning(sx, sm, sw), sums),
        options);
  };
  const auto same_bits = [](const auto& found, const auto& expected) {
    CHECK(std::bit_cast<std::uint64_t>(found.log_likelihood) ==
          std::bit_cast<std::uint64_t>(expected.log_likelihood));
    for (std::size_t k = 0; k < 3; ++k) {
      CHECK(std::bit_cast<std::uint64_t>(found.standard_errors[k]) ==
            std::bit_cast<std::uint64_t>(expected.standard_errors[k]));
    }
    CHECK(std::bit_cast<std::uint64_t>(found.params.p) ==
          std::bit_cast<std::uint64_t>(expected.params.p));
    CHECK(std::bit_cast<std::uint64_t>(found.params.q) ==
          std::bit_cast<std::uint64_t>(expected.params.q));
    CHECK(std::bit_cast<std::uint64_t>(found.params.v) ==
          std::bit_cast<std::uint64_t>(expected.params.v));
    CHECK(found.customers == expected.customers);
    CHECK(found.evaluations == expected.evaluations);
  };
  std::size_t calls = 0;
  const auto weighted = clv::fit_gamma_gamma(data.x, data.m, data.w, options);
  same_bits(held({30'000}, data.w, calls), weighted);
  // The staged fit's first stage ran on the sample, without asking for the rows' sums.
  CHECK(calls > 0);
  CHECK(calls < weighted.evaluations);
  // Unweighted rows in several parts (empty and one-row parts among them): every sum is exact
  // and the sample the whole's, so the very same fit.
  const auto expected = clv::fit_gamma_gamma(data.x, data.m, {}, options);
  CHECK(expected.converged);
  for (const auto& sizes : std::vector<std::vector<std::size_t>>{
           {10'000, 10'000, 10'000}, {1, 0, 2, 9'997, 13'333, 0, 1, 6'666}, {29'999, 1}}) {
    calls = 0;
    same_bits(held(sizes, {}, calls), expected);
    CHECK(calls > 0);
  }
  // Nor does the rows' order change the single-machine fit.
  const std::vector<double> x_reversed(data.x.rbegin(), data.x.rend());
  const std::vector<double> m_reversed(data.m.rbegin(), data.m.rend());
  same_bits(clv::fit_gamma_gamma(x_reversed, m_reversed, {}, options), expected);
}

TEST_CASE("Gamma-Gamma's hashed sample: about the target, weights scaled to the total") {
  const auto data = simulate_spend(30'000, 8);
  const clv::detail::spend_rows rows(data.x, data.m, {});
  const auto sample = rows.hashed_sample(5'000);
  // Rows are chosen with probability 1/6 each: 5,000 expected, sd 65.
  CHECK(sample.size() > 4'600);
  CHECK(sample.size() < 5'400);
  CHECK(sample.total_weight() == doctest::Approx(30'000).epsilon(1e-12));
  for (const double w : sample.w()) CHECK(w == 30'000.0 / static_cast<double>(sample.size()));
  // All rows equal: all chosen or none; none means no staging, and the fit still converges.
  const std::vector<double> same_x(50'000, 2.0), same_m(50'000, 10.0);
  const std::vector<double> other_m(50'000, 12.5);
  for (const auto& m : {same_m, other_m}) {
    const clv::detail::spend_rows equal(same_x, m, {});
    const auto chosen = equal.hashed_sample(20'000);
    CHECK((chosen.size() == 0 || chosen.size() == 50'000));
  }
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

// Gamma-Gamma: note 025 (p, q, γ = 6.25, 3.74, 15.44) and CLV-NOTES §3 (6.248802, 3.744589,
// 15.447752, LL −4055.92324) on the 946 CDNOW customers with repeat purchases.
TEST_CASE("Gamma-Gamma on CDNOW's repeat buyers reproduces note 025" *
          needs_data({"cdnow_customers_summary_with_transactions.csv"})) {
  const auto data = crmkit_test::read_cdnow("cdnow_customers_summary_with_transactions.csv");
  REQUIRE_FALSE(data.empty());
  std::vector<double> x, m;
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    if (data.x[i] > 0) {
      x.push_back(data.x[i]);
      m.push_back(data.zbar[i]);
    }
  }
  REQUIRE(x.size() == 946);
  const auto fit = clv::fit_gamma_gamma(x, m);
  CHECK(fit.converged);
  CHECK(relative_close(fit.params.p, 6.2488, 1e-3));
  CHECK(relative_close(fit.params.q, 3.7446, 1e-3));
  CHECK(relative_close(fit.params.v, 15.4478, 1e-3));
  CHECK(std::fabs(fit.log_likelihood + 4055.92) < 0.01);
  CHECK(fit.warnings.empty());
  MESSAGE(fit.params.p << " " << fit.params.q << " " << fit.params.v << " LL "
                       << fit.log_likelihood);
}
