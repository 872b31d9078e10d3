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
const clv::mbg_nbd_params mbg{0.525, 6.183, 0.891, 1.614};  // Batislam et al.'s CDNOW estimates
}  // namespace

TEST_CASE("MBG/NBD: analytic gradients and Hessians match finite differences") {
  check_derivatives<clv::mbg_nbd>({0.525, 6.183, 0.891, 1.614}, transaction_rows);
}

TEST_CASE("MBG/NBD parameter recovery: 95% intervals cover the true values") {
  // 10 replicates × 4 parameters: 38 of 40 intervals expected to cover; fewer than 34 would
  // happen with probability < 0.5% if the standard errors were right.
  const double mbg_truth[4] = {0.5, 6.0, 0.9, 1.6};
  CHECK(covered_intervals(10, mbg_truth, true, [](const crmkit_test::simulated& d) {
          return clv::fit_mbg_nbd(d.x, d.t_x, d.T);
        }) >= 34);
}

// MBG/NBD: CLV-NOTES §3 (0.524838, 6.182993, 0.891356, 1.613999; LL −9582.13268), agreeing with
// the BTYDplus CDNOW demo and lifetimes' test (0.525, 6.183, 0.891, 1.614).
TEST_CASE("MBG/NBD on CDNOW reproduces the reference estimates and log-likelihood" *
          needs_data({"cdnow_customers_summary.csv"})) {
  const auto data = crmkit_test::read_cdnow("cdnow_customers_summary.csv");
  REQUIRE_FALSE(data.empty());
  const auto fit = clv::fit_mbg_nbd(data.x, data.t_x, data.T);
  CHECK(fit.converged);
  CHECK(relative_close(fit.params.r, 0.52484, 1e-3));
  CHECK(relative_close(fit.params.alpha, 6.18299, 1e-3));
  CHECK(relative_close(fit.params.a, 0.89136, 1e-3));
  CHECK(relative_close(fit.params.b, 1.61400, 1e-3));
  CHECK(std::fabs(fit.log_likelihood + 9582.13) < 0.01);
  MESSAGE(fit.params.r << " " << fit.params.alpha << " " << fit.params.a << " " << fit.params.b
                       << " LL " << fit.log_likelihood);
}

TEST_CASE("MBG/NBD conditional expectations agree with the direct formula in 50-digit arithmetic") {
  check_against_direct_formula(mbg, 1);
}

TEST_CASE("MBG/NBD: an extreme horizon gives a finite value") {
  CHECK(std::isfinite(clv::conditional_expected_number_of_purchases_up_to_time(mbg, 1e6, 0, 0, 0)));
}

TEST_CASE("MBG/NBD P(alive) lies in [0, 1) and customers without repeats may be gone") {
  for (double x : {0.0, 1.0, 5.0, 100.0}) {
    for (double t_x : {0.0, 1.0, 20.0, 39.0}) {
      if ((x == 0) != (t_x == 0)) continue;
      const double m = clv::conditional_probability_alive(mbg, x, t_x, 39);
      CHECK(m >= 0);
      CHECK(m < 1);
    }
  }
}

TEST_CASE("MBG/NBD: the purchase-count distribution sums to 1 and has mean E[X(t)]") {
  check_count_distribution(mbg);
}
