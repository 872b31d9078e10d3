#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

namespace clv = crmkit::clv;

namespace {

struct histories {
  std::vector<double> x, t_x, age;
};

/** 20,000 customers with distinct ages (more than merging_pays probes, none shared), so that
 * customer_forecast interpolates per frequency (x = 0..8, about 2,200 customers each). */
histories continuous_customers() {
  histories out;
  const std::size_t n = 20'000;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(i % 9);
    const double age = 0.5 + 38.5 * std::fmod(static_cast<double>(i) * 0.6180339887498949, 1.0);
    out.x.push_back(x);
    out.age.push_back(age);
    out.t_x.push_back(x == 0 ? 0.0 : age * static_cast<double>(i % 11 + 1) / 12.0);
  }
  return out;
}

/** The interpolated forecasts against the scalar forms (the exact ₂F₁ forms or quadrature):
 * 39-week expectation, lifetimes' 12-month weekly DCF, and an expectation `far` weeks ahead. */
template <class P>
void check_interpolation_matches_scalar_forms(const P& p, double far_horizon) {
  const auto d = continuous_customers();
  REQUIRE_FALSE(clv::detail::merging_pays(d.x, d.age));
  const clv::customer_forecast forecast("test", p, d.x, d.t_x, d.age);
  const auto expected = forecast.expected_purchases(39);
  const auto far = forecast.expected_purchases(far_horizon);
  std::vector<double> ones(d.x.size(), 1.0);
  const auto value = clv::customer_lifetime_value(forecast, ones, 12, 0.01, 4.345);
  std::size_t not_finite = 0;
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    not_finite += !std::isfinite(expected[i]) + !std::isfinite(far[i]) + !std::isfinite(value[i]);
  }
  CHECK(not_finite == 0);
  double worst = 0;
  for (std::size_t i = 0; i < d.x.size(); i += 97) {
    const double x = d.x[i], t_x = d.t_x[i], age = d.age[i];
    auto cet = [&](double t) {
      return clv::conditional_expected_number_of_purchases_up_to_time(p, t, x, t_x, age);
    };
    auto relative = [](double ours, double exact) {
      return exact == 0 ? std::fabs(ours) : std::fabs(ours - exact) / std::fabs(exact);
    };
    double sum = 0, previous = 0;
    for (int month = 1; month <= 12; ++month) {
      const double current = cet(month * 4.345);
      sum += (current - previous) / std::pow(1.01, static_cast<double>(month));
      previous = current;
    }
    worst = std::max({worst, relative(expected[i], cet(39)), relative(far[i], cet(far_horizon)),
                      relative(value[i], sum)});
  }
  CHECK(worst < 1e-13);
}

}  // namespace

TEST_CASE("continuous ages: interpolated forecasts agree with the scalar forms to 1e-13") {
  // 400 weeks: τ up to 90, over seven octaves of 1 + τ.
  check_interpolation_matches_scalar_forms(clv::bg_nbd_params{0.243, 4.414, 0.793, 2.426}, 400);
  check_interpolation_matches_scalar_forms(clv::mbg_nbd_params{0.5248, 6.1830, 0.8914, 1.6140},
                                           400);
}

TEST_CASE("continuous ages at the limits of issue 13 (a = 1e4, b = 1, a, b → ∞, alpha → 0)") {
  // (a → 0 with b → ∞ takes the quadrature everywhere: correct, but seconds at 20,000 rows.)
  check_interpolation_matches_scalar_forms(clv::bg_nbd_params{0.243, 4.414, 1e4, 3}, 52);
  check_interpolation_matches_scalar_forms(clv::mbg_nbd_params{0.243, 4.414, 1e4, 3}, 52);
  check_interpolation_matches_scalar_forms(clv::bg_nbd_params{0.243, 4.414, 0.793, 1.0}, 52);
  check_interpolation_matches_scalar_forms(clv::bg_nbd_params{0.243, 4.414, 1e8, 1e8}, 52);
  check_interpolation_matches_scalar_forms(clv::bg_nbd_params{2.0, 1e-6, 0.8, 2.4}, 52);
}

TEST_CASE("continuous-age forecasts are bit-identical with 1 and 3 threads") {
  const auto d = continuous_customers();
  const clv::bg_nbd_params p{0.243, 4.414, 0.793, 2.426};
  std::vector<double> spend(d.x.size(), 20.0);
  crmkit::set_num_threads(1);
  const auto one = clv::customer_lifetime_value(p, d.x, d.t_x, d.age, spend, 12, 0.01, 4.345);
  crmkit::set_num_threads(3);
  const auto three = clv::customer_lifetime_value(p, d.x, d.t_x, d.age, spend, 12, 0.01, 4.345);
  crmkit::set_num_threads(0);
  CHECK(one == three);
}
