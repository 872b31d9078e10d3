// The batched ("lanes") evaluations of the ₂F₁ series and of E[Y(t) | alive] for BG/NBD and
// MBG/NBD must give the scalar functions' results bit for bit: every lane performs the scalar
// operations on its own z in the same order. The reference here is the scalar function itself,
// compared with memcmp (so −0/+0 and NaN payloads count as differences too).

#include <crmkit/clv/bg_nbd.hpp>
#include <crmkit/clv/mbg_nbd.hpp>
#include <crmkit/clv/detail/beta_geometric.hpp>
#include <crmkit/math/hyp2f1.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace math = crmkit::math;
namespace clv = crmkit::clv;
namespace detail = crmkit::clv::detail;

namespace {

bool same_bits(double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; }

bool same_result(const math::series_result& x, const math::series_result& y) {
  return same_bits(x.value, y.value) && same_bits(x.magnitude, y.magnitude) &&
         x.terms == y.terms && x.converged == y.converged;
}

double log_uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng));
}

// z values of every kind: 0, subnormal, tiny, moderate, near 1 (slow or capped series), 1, and
// outside [0, 1) where the predicted terms take their early returns.
std::vector<double> z_values(std::mt19937_64& rng) {
  std::vector<double> z{0.0, 5e-324, 1e-300, 1e-12, 0.25, 0.5, 0.9, 0.999, 1 - 1e-6, 1 - 1e-12};
  for (int i = 0; i < 14; ++i) z.push_back(std::uniform_real_distribution<double>(0, 1)(rng));
  for (int i = 0; i < 6; ++i) z.push_back(1 - log_uniform(rng, 1e-9, 1e-1));
  return z;
}

struct abc {
  double a, b, c;
};

std::vector<abc> parameter_sets(std::mt19937_64& rng) {
  // Fixed cases: mixed-sign terms (negative a, b), huge c (BG/NBD with b ~ 1e4..1e8), a
  // polynomial (a a negative integer: terms reach 0 exactly), equal a and c.
  std::vector<abc> sets{{1, 1, 2},         {-3, 2, 1.5},     {-2.5, -7.25, 0.75},
                        {0.2, 1e4, 1e4},   {5, 3e7, 3e7 + 4}, {-4, 1.5, 2.5},
                        {12.5, 0.3, 12.5}, {1e-8, 2, 3},     {200, 150, 0.01}};
  std::uniform_real_distribution<double> sign(-1, 1);
  for (int i = 0; i < 60; ++i) {
    const double a = (sign(rng) < 0 ? -1 : 1) * log_uniform(rng, 1e-6, 1e3);
    const double b = (sign(rng) < -0.6 ? -1 : 1) * log_uniform(rng, 1e-6, 1e6);
    sets.push_back({a, b, log_uniform(rng, 1e-3, 1e7)});
  }
  return sets;
}

}  // namespace

TEST_CASE("hyp2f1 lanes equal the scalar series bit for bit") {
  std::mt19937_64 rng(20261206);
  std::size_t compared = 0, capped = 0, mixed = 0;
  for (const auto& p : parameter_sets(rng)) {
    std::vector<double> z;
    for (const double zi : z_values(rng)) {
      if (zi < 1) z.push_back(zi);
    }
    // Term caps: none to a few terms (the loop never runs, stops mid-way) and the default.
    for (const std::size_t cap : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{5},
                                  std::size_t{40}, math::hyp2f1_default_max_terms}) {
      for (const double tolerance : {std::numeric_limits<double>::epsilon(), 1e-6}) {
        std::vector<math::series_result> lanes(z.size()), plain(z.size());
        math::hyp2f1_minus_one_over_b_lanes(p.a, p.b, p.c, z, lanes, tolerance, cap);
        math::detail::hypergeometric_tail_lanes(
            p.a, p.b, p.c, z, 0, [](double) { return 1.0; }, tolerance, cap, plain);
        for (std::size_t i = 0; i < z.size(); ++i) {
          const auto scalar = math::hyp2f1_minus_one_over_b(p.a, p.b, p.c, z[i], tolerance, cap);
          INFO("a = ", p.a, ", b = ", p.b, ", c = ", p.c, ", z = ", z[i], ", cap = ", cap);
          CHECK(same_result(lanes[i], scalar));
          CHECK(same_result(plain[i], math::hyp2f1(p.a, p.b, p.c, z[i], tolerance, cap)));
          ++compared;
          capped += !scalar.converged && cap == math::hyp2f1_default_max_terms ? 1 : 0;
          mixed += scalar.magnitude > std::fabs(scalar.value) * (1 + 1e-12) ? 1 : 0;
        }
      }
    }
  }
  // The cases above reach the default cap (z = 1 − 1e-12) and mixed-sign sums.
  CHECK(compared > 10'000);
  CHECK(capped > 0);
  CHECK(mixed > 0);
}

TEST_CASE("predicted terms and the budget decision in lanes equal the scalar estimate") {
  std::mt19937_64 rng(7);
  auto sets = parameter_sets(rng);
  sets.push_back({std::nan(""), 1, 2});  // no bound: +inf terms
  std::vector<double> z = z_values(rng);
  for (const double extra : {-0.5, 1.0, 1.5, std::nan("")}) z.push_back(extra);
  std::size_t near_budget = 0;
  for (const auto& p : sets) {
    std::vector<double> predicted(z.size());
    math::hyp2f1_predicted_terms_lanes(p.a, p.b, p.c, z, predicted);
    for (std::size_t i = 0; i < z.size(); ++i) {
      const double scalar = math::hyp2f1_predicted_terms(p.a, p.b, p.c, z[i]);
      INFO("a = ", p.a, ", b = ", p.b, ", c = ", p.c, ", z = ", z[i]);
      CHECK(same_bits(predicted[i], scalar));
      // Budgets around the estimate itself (the decision's edge) and the series' budget.
      std::vector<double> budgets{detail::series_term_budget, 1, 100};
      if (std::isfinite(scalar)) {
        budgets.insert(budgets.end(), {scalar, std::nextafter(scalar, 0.0),
                                       std::nextafter(scalar, 1e300), std::floor(scalar)});
        ++near_budget;
      }
      for (const double budget : budgets) {
        std::array<bool, 1> within{};
        math::hyp2f1_within_budget_lanes(p.a, p.b, p.c, {&z[i], 1}, budget, within);
        CHECK(within[0] == !(scalar > budget));
      }
    }
  }
  CHECK(near_budget > 1'000);
}

TEST_CASE("alive_purchases_beta lanes equal the scalar form, every branch") {
  std::mt19937_64 rng(1997);
  // τ of every kind: 0 and below (0 purchases), tiny, typical horizons over α + T, and large
  // (z → 1: beyond the series budget, the quadrature).
  std::vector<double> tau{0.0, -1.0, 1e-300, 1e-9, 0.01, 0.3, 1, 2.5, 10, 1e3, 1e5, 1e7};
  for (int i = 0; i < 9; ++i) tau.push_back(log_uniform(rng, 1e-4, 1e4));
  struct point {
    double nu, a, beta;
  };
  // Both form orders (a − 1 ≤ β: Euler first; a − 1 > β: the original first), a = 1 exactly
  // (no original form), a and β both huge (both forms cancel: quadrature).
  std::vector<point> points{{1.2, 0.8, 6.9},  {3.5, 20, 2},   {0.5, 1, 4},  {2, 1, 0.5},
                            {1, 1e8, 2e8},    {50, 3e7, 1e8}, {0.3, 1e-3, 1e6}, {7, 400, 3}};
  for (int i = 0; i < 40; ++i) {
    points.push_back({log_uniform(rng, 1e-3, 1e3), log_uniform(rng, 1e-3, 1e4),
                      log_uniform(rng, 1e-2, 1e6)});
  }
  std::array<std::size_t, 3> branches{};  // first form, second form, quadrature
  for (const auto& p : points) {
    std::vector<double> lanes(tau.size());
    detail::alive_purchases_beta_lanes(p.nu, p.a, p.beta, tau, lanes);
    const double c = p.a + p.beta - 1;
    for (std::size_t i = 0; i < tau.size(); ++i) {
      INFO("nu = ", p.nu, ", a = ", p.a, ", beta = ", p.beta, ", tau = ", tau[i]);
      CHECK(same_bits(lanes[i], detail::alive_purchases_beta(p.nu, p.a, p.beta, tau[i])));
      if (!(tau[i] > 0)) continue;
      const double z = tau[i] / (1 + tau[i]), lambda = std::log1p(tau[i]);
      const auto original = detail::alive_purchases_original(p.nu, p.a, p.beta, c, z, lambda);
      const auto euler = detail::alive_purchases_euler(p.nu, p.a, c, z, lambda);
      const bool original_first = detail::original_form_first(p.a, p.beta);
      const auto& first = original_first ? original : euler;
      const auto& second = original_first ? euler : original;
      ++branches[first.accepted ? 0 : second.accepted ? 1 : 2];
    }
  }
  CHECK(branches[0] > 0);
  CHECK(branches[1] > 0);
  CHECK(branches[2] > 0);
}

TEST_CASE("BG/NBD and MBG/NBD horizons in lanes equal alive_purchases") {
  // More horizons than one block of lanes, with horizon 0 first (as a discounted sum may have).
  std::vector<double> horizons{0};
  for (int month = 1; month <= 40; ++month) horizons.push_back(4.345 * month);
  const clv::bg_nbd_params bg{0.243, 4.414, 0.793, 2.426};  // FHL 2005's CDNOW estimates
  const clv::mbg_nbd_params mbg{0.525, 6.183, 0.891, 1.614};
  auto check_model = [&](const auto& params) {
    using model = typename clv::model_for<std::decay_t<decltype(params)>>::type;
    for (const double x : {0.0, 1.0, 7.0, 40.0}) {
      for (const double age : {0.0, 3.5, 38.86, 78.0}) {
        std::vector<double> lanes(horizons.size()), shared(horizons.size());
        std::vector<double> tau(horizons.size()), z(horizons.size()), lambda(horizons.size());
        model::alive_purchases_lanes(params, horizons, x, age, lanes);
        model::horizon_lanes(params, horizons, age, tau, z, lambda);
        model::alive_purchases_at_lanes(params, x, tau, z, lambda, shared);
        for (std::size_t k = 0; k < horizons.size(); ++k) {
          const double scalar = model::alive_purchases(params, horizons[k], x, age);
          INFO("x = ", x, ", T = ", age, ", t = ", horizons[k]);
          CHECK(same_bits(lanes[k], scalar));
          CHECK(same_bits(shared[k], scalar));
        }
      }
    }
  };
  check_model(bg);
  check_model(mbg);
}
