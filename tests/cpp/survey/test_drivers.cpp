#include <crmkit/survey/drivers.hpp>

#include <doctest/doctest.h>

#include <Eigen/QR>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>

namespace survey = crmkit::survey;

namespace {

struct ratings {
  Eigen::MatrixXd attributes;
  Eigen::VectorXd overall;
};

// Attribute ratings 1-5 with shared and own components; the overall score depends on them
// with decreasing weights plus noise.
ratings simulate(Eigen::Index n, Eigen::Index p, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal;
  ratings data{Eigen::MatrixXd(n, p), Eigen::VectorXd(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    const double mood = normal(engine);
    double overall = 0;
    for (Eigen::Index j = 0; j < p; ++j) {
      const double rating = std::clamp(std::round(3 + 0.8 * mood + normal(engine)), 1.0, 5.0);
      data.attributes(i, j) = rating;
      overall += rating / static_cast<double>(j + 1);
    }
    data.overall[i] = overall + 1.5 * normal(engine);
  }
  return data;
}

// R² of an ordinary least-squares fit with intercept, by Householder QR (independent of the
// correlation-based computation in crmkit).
double r_squared(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  Eigen::MatrixXd design(x.rows(), x.cols() + 1);
  design << Eigen::VectorXd::Ones(x.rows()), x;
  const Eigen::VectorXd beta = design.colPivHouseholderQr().solve(y);
  const double residual = (y - design * beta).squaredNorm();
  const double total = (y.array() - y.mean()).matrix().squaredNorm();
  return 1 - residual / total;
}

}  // namespace

TEST_CASE("Shapley importances sum to the full-model R^2") {
  const auto data = simulate(800, 5, 1);
  survey::driver_options options;
  options.resamples = 0;
  const auto result = survey::driver_importance(data.attributes, data.overall, options);
  REQUIRE(result.importance.size() == 5);
  double sum = 0;
  for (double value : result.importance) sum += value;
  CHECK(sum == doctest::Approx(result.r_squared).epsilon(1e-12));
  CHECK(result.r_squared ==
        doctest::Approx(r_squared(data.attributes, data.overall)).epsilon(1e-10));
  // The simulated weights decrease with the column, and so do the importances.
  for (std::size_t j = 1; j < 5; ++j) CHECK(result.importance[j] < result.importance[j - 1]);
  CHECK(std::isnan(result.ci[0].lower));
}

TEST_CASE("Shapley values of two attributes have a closed form") {
  // With two attributes: φ1 = ½[R²(1) + R²(1,2) − R²(2)] and φ2 = ½[R²(2) + R²(1,2) − R²(1)],
  // each R² from a separate least-squares fit.
  const auto data = simulate(500, 2, 2);
  survey::driver_options options;
  options.resamples = 0;
  const auto result = survey::driver_importance(data.attributes, data.overall, options);
  const double both = r_squared(data.attributes, data.overall);
  const double first = r_squared(data.attributes.col(0), data.overall);
  const double second = r_squared(data.attributes.col(1), data.overall);
  CHECK(result.importance[0] == doctest::Approx(0.5 * (first + both - second)).epsilon(1e-10));
  CHECK(result.importance[1] == doctest::Approx(0.5 * (second + both - first)).epsilon(1e-10));
}

TEST_CASE("Johnson's relative weights sum to R^2 and rank like Shapley") {
  const auto data = simulate(800, 4, 3);
  survey::driver_options options;
  options.resamples = 0;
  options.method = survey::importance_method::johnson;
  const auto johnson = survey::driver_importance(data.attributes, data.overall, options);
  CHECK(johnson.r_squared ==
        doctest::Approx(r_squared(data.attributes, data.overall)).epsilon(1e-10));
  for (std::size_t j = 1; j < 4; ++j) CHECK(johnson.importance[j] < johnson.importance[j - 1]);
}

TEST_CASE("bootstrap intervals are reproducible, thread-independent and cover the estimate") {
  const auto data = simulate(300, 3, 4);
  survey::driver_options options;
  options.resamples = 300;
  options.seed = 99;
  const std::size_t saved = crmkit::num_threads();
  crmkit::set_num_threads(1);
  const auto one = survey::driver_importance(data.attributes, data.overall, options);
  crmkit::set_num_threads(4);
  const auto four = survey::driver_importance(data.attributes, data.overall, options);
  crmkit::set_num_threads(saved);
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(std::bit_cast<std::uint64_t>(one.ci[j].lower) ==
          std::bit_cast<std::uint64_t>(four.ci[j].lower));
    CHECK(std::bit_cast<std::uint64_t>(one.ci[j].upper) ==
          std::bit_cast<std::uint64_t>(four.ci[j].upper));
    CHECK(one.ci[j].lower < one.importance[j]);
    CHECK(one.importance[j] < one.ci[j].upper);
  }
  CHECK(one.failed_resamples == 0);
}

TEST_CASE("driver errors name the problem") {
  auto data = simulate(50, 3, 5);
  survey::driver_options options;
  options.resamples = 0;
  Eigen::MatrixXd constant = data.attributes;
  constant.col(1).setConstant(3);
  CHECK_THROWS_WITH_AS((void)survey::driver_importance(constant, data.overall, options),
                       "driver_importance: attribute column 1 is constant", crmkit::invalid_input);
  Eigen::MatrixXd collinear = data.attributes;
  collinear.col(2) = collinear.col(0) + collinear.col(1);
  CHECK_THROWS_WITH_AS((void)survey::driver_importance(collinear, data.overall, options),
                       doctest::Contains("collinear"), crmkit::invalid_input);
  Eigen::MatrixXd missing = data.attributes;
  missing(7, 2) = std::nan("");
  CHECK_THROWS_WITH_AS((void)survey::driver_importance(missing, data.overall, options),
                       doctest::Contains("attributes[7, 2] = nan"), crmkit::invalid_input);
  CHECK_THROWS_AS(
      (void)survey::driver_importance(data.attributes.topRows(4), data.overall.head(4), options),
      crmkit::invalid_input);
}
