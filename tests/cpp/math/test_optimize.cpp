#include <crmkit/math.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

namespace math = crmkit::math;

namespace {
double rosenbrock(const Eigen::VectorXd& x, Eigen::VectorXd& g) {
  const double a = 1 - x[0];
  const double b = x[1] - x[0] * x[0];
  g[0] = -2 * a - 400 * x[0] * b;
  g[1] = 200 * b;
  return a * a + 100 * b * b;
}
}  // namespace

TEST_CASE("BFGS with Wolfe line search solves Rosenbrock from the standard start") {
  Eigen::VectorXd start(2);
  start << -1.2, 1.0;
  math::optimizer_options options;
  options.gradient_tolerance = 1e-10;
  const auto result = math::minimize_bfgs(rosenbrock, start, options);
  CHECK(result.converged());
  CHECK(result.x[0] == doctest::Approx(1).epsilon(1e-8));
  CHECK(result.x[1] == doctest::Approx(1).epsilon(1e-8));
  CHECK(result.gradient_norm <= 1e-10);
  CHECK(result.iterations < 100);
}

TEST_CASE("an exact initial inverse Hessian makes the first step a Newton step") {
  // f(x) = ½ xᵀAx − bᵀx: with H0 = A⁻¹ the first step lands on the minimiser A⁻¹b.
  Eigen::MatrixXd a(2, 2);
  a << 4, 1, 1, 3;
  Eigen::VectorXd b(2);
  b << 1, 2;
  auto quadratic = [&](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    g = a * x - b;
    return 0.5 * x.dot(a * x) - b.dot(x);
  };
  const Eigen::MatrixXd inverse = a.inverse();
  const auto result = math::minimize_bfgs(quadratic, Eigen::VectorXd::Zero(2), {}, &inverse);
  CHECK(result.converged());
  CHECK(result.iterations == 1);
  CHECK((result.x - a.ldlt().solve(b)).norm() < 1e-12);
}

TEST_CASE("the line search backs off from non-finite values and reports a bad start") {
  // f = x − ln x (minimum at 1), undefined for x <= 0: long steps land there and must shrink.
  auto f = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    g[0] = 1 - 1 / x[0];
    return x[0] > 0 ? x[0] - std::log(x[0]) : std::numeric_limits<double>::quiet_NaN();
  };
  Eigen::VectorXd start(1);
  start << 20.0;
  math::optimizer_options options;
  options.max_step = 1e6;
  const auto result = math::minimize_bfgs(f, start, options);
  CHECK(result.converged());
  CHECK(result.x[0] == doctest::Approx(1).epsilon(1e-6));
  Eigen::VectorXd outside(1);
  outside << -1.0;
  CHECK(math::minimize_bfgs(f, outside).status == math::optimizer_status::non_finite_start);
}

TEST_CASE("the iteration budget is honoured and reported") {
  Eigen::VectorXd start(2);
  start << -1.2, 1.0;
  math::optimizer_options options;
  options.max_iterations = 3;
  const auto result = math::minimize_bfgs(rosenbrock, start, options);
  CHECK(result.status == math::optimizer_status::max_iterations);
  CHECK_FALSE(result.converged());
  CHECK(result.iterations == 3);
}

TEST_CASE("central-difference Hessian of an analytic gradient") {
  auto gradient = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    // f = x0² x1 + e^{x1}: H = [[2 x1, 2 x0], [2 x0, e^{x1}]].
    g[0] = 2 * x[0] * x[1];
    g[1] = x[0] * x[0] + std::exp(x[1]);
  };
  Eigen::VectorXd x(2);
  x << 0.7, -0.4;
  const auto h = math::hessian_from_gradient(gradient, x);
  CHECK(h(0, 0) == doctest::Approx(-0.8).epsilon(1e-8));
  CHECK(h(0, 1) == doctest::Approx(1.4).epsilon(1e-8));
  CHECK(h(1, 0) == h(0, 1));
  CHECK(h(1, 1) == doctest::Approx(std::exp(-0.4)).epsilon(1e-8));
}

TEST_CASE("quadrature rules") {
  // ∫_0^1 x^{-1/2} dx = 2: endpoint singularity, tanh-sinh handles it.
  CHECK(math::tanh_sinh([](double x) { return 1 / std::sqrt(x); }, 0.0, 1.0) ==
        doctest::Approx(2).epsilon(1e-9));
  CHECK(math::tanh_sinh([](double x) { return std::exp(x); }, 0.0, 1.0) ==
        doctest::Approx(std::exp(1.0) - 1).epsilon(1e-13));
  // 8-point Gauss–Legendre is exact for degree 15.
  CHECK(math::gauss_legendre([](double x) { return std::pow(x, 15); }, 0.0, 2.0) ==
        doctest::Approx(std::pow(2.0, 16) / 16).epsilon(1e-13));
  CHECK(math::gauss_legendre([](double x) { return std::cos(x); }, 0.0, 10.0, 10) ==
        doctest::Approx(std::sin(10.0)).epsilon(1e-12));
}
