#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>

#include "clv/simulate.hpp"

namespace clv = crmkit::clv;

namespace {

clv::fit_options unstaged(double tolerance) {
  clv::fit_options options;
  options.sample_threshold = 0;
  options.tolerance = tolerance;
  return options;
}

// The staged fit (BFGS on a sample, Newton on all rows) against BFGS on all rows from the start
// at a 1000× tighter tolerance: the same optimum.
void check_same_optimum(const crmkit_test::simulated& data) {
  const auto staged = clv::fit_pareto_nbd(data.x, data.t_x, data.T);
  const auto direct = clv::fit_pareto_nbd(data.x, data.t_x, data.T, {}, unstaged(1e-11));
  REQUIRE(staged.patterns > clv::pareto_nbd::small_sample_above);
  CHECK(staged.converged);
  CHECK(direct.converged);
  CHECK(staged.gradient_norm <= clv::fit_options{}.tolerance);
  // ln L is a sum of ~5,000 terms of size ~20: its rounding is ~1e-13 relative.
  CHECK(staged.log_likelihood == doctest::Approx(direct.log_likelihood).epsilon(1e-12));
  const auto a = clv::pareto_nbd::to_array(staged.params);
  const auto b = clv::pareto_nbd::to_array(direct.params);
  for (std::size_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    // A gradient of 1e-8 on the mean NLL moves the estimate by ~1e-8 × the inverse Hessian
    // of the mean NLL in log-parameters (≤ ~1e2 along the flat (s, β) direction here).
    CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-6));
    // And both within a thousandth of a standard error of each other.
    CHECK(std::fabs(a[i] - b[i]) < 1e-3 * direct.standard_errors[i]);
  }
}

}  // namespace

TEST_CASE("Pareto/NBD's small-data sample: none up to 2,000 patterns, then max(500, n/8)") {
  CHECK(clv::pareto_nbd::small_fit_sample(0) == 0);
  CHECK(clv::pareto_nbd::small_fit_sample(2000) == 0);
  CHECK(clv::pareto_nbd::small_fit_sample(2001) == 500);
  CHECK(clv::pareto_nbd::small_fit_sample(4000) == 500);
  CHECK(clv::pareto_nbd::small_fit_sample(8000) == 1000);
  CHECK(clv::pareto_nbd::small_fit_sample(40'000) == 5000);
}

TEST_CASE("Pareto/NBD staged fit, β ≫ α (death integral by quadrature): the direct optimum") {
  // Near the report's sample's estimates (r 1.34, α 5.6, s 1.05, β 47.9, weeks).
  check_same_optimum(crmkit_test::simulate_pareto_nbd(
      5000, clv::pareto_nbd_params{1.34, 5.6, 1.05, 47.9}, 104, 3));
}

TEST_CASE("Pareto/NBD staged fit, α ≈ β (death integral by its series): the direct optimum") {
  check_same_optimum(
      crmkit_test::simulate_pareto_nbd(3000, clv::pareto_nbd_params{0.6, 8.0, 0.8, 10.0}, 52, 5));
}

TEST_CASE("Pareto/NBD fits of up to 2,000 patterns are not staged: bit for bit the direct fit") {
  const auto data =
      crmkit_test::simulate_pareto_nbd(1500, clv::pareto_nbd_params{0.6, 8.0, 0.8, 10.0}, 52, 7);
  const auto plain = clv::fit_pareto_nbd(data.x, data.t_x, data.T);
  const auto direct =
      clv::fit_pareto_nbd(data.x, data.t_x, data.T, {}, unstaged(clv::fit_options{}.tolerance));
  REQUIRE(plain.patterns <= clv::pareto_nbd::small_sample_above);
  CHECK(plain.evaluations == direct.evaluations);
  CHECK(std::bit_cast<std::uint64_t>(plain.log_likelihood) ==
        std::bit_cast<std::uint64_t>(direct.log_likelihood));
  CHECK(std::bit_cast<std::uint64_t>(plain.params.beta) ==
        std::bit_cast<std::uint64_t>(direct.params.beta));
}
