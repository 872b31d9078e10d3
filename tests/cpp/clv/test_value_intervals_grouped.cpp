#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "clv/simulate.hpp"

namespace clv = crmkit::clv;

// lifetime_value_delta_method's path for BG/NBD and MBG/NBD on customers who share (x, T):
// one ₂F₁ table per (x, T) group and parameter point, P(alive) per customer (value_intervals.hpp).

namespace {

/** Weekly MBG/NBD customers dated in whole weeks, with spend 10..40 (every 19th repeat buyer 0). */
struct mbg_values {
  std::vector<double> x, t_x, T, m;
  clv::fit_result<clv::mbg_nbd_params, 4> purchases;
  clv::fit_result<clv::gamma_gamma_params, 3> spend;
};

mbg_values whole_week_mbg(std::size_t customers, std::uint64_t seed) {
  const auto d = crmkit_test::simulate_beta_geometric(customers, 0.3, 5.0, 0.9, 3.0, true, 52,
                                                      seed, true);
  mbg_values out{d.x, d.t_x, d.T, {}, {}, {}};
  std::vector<double> repeat_x, repeat_m;
  for (std::size_t i = 0; i < out.x.size(); ++i) {
    if (out.x[i] > 0) out.t_x[i] = std::min(std::ceil(out.t_x[i]), out.T[i]);
    const bool zero = out.x[i] > 0 && i % 19 == 0;
    out.m.push_back(out.x[i] > 0 && !zero ? 10.0 + static_cast<double>((i * 7919) % 31) : 0.0);
    if (out.x[i] > 0 && !zero) {
      repeat_x.push_back(out.x[i]);
      repeat_m.push_back(out.m.back());
    }
  }
  out.purchases = clv::fit_mbg_nbd(out.x, out.t_x, out.T);
  out.spend = clv::fit_gamma_gamma(repeat_x, repeat_m);
  return out;
}

clv::forecast_intervals grouped_intervals(const mbg_values& d, std::size_t first,
                                          std::size_t count) {
  const auto part = [&](const std::vector<double>& column) {
    return std::span<const double>(column).subspan(first, count);
  };
  return clv::lifetime_value_delta_method("test", d.purchases.params, d.purchases.covariance,
                                          d.spend.params, d.spend.covariance, part(d.x),
                                          part(d.t_x), part(d.T), part(d.m), 12, 0.01, 4.345,
                                          clv::interval_options{});
}

}  // namespace

TEST_CASE("MBG/NBD CLV intervals by (x, T) group are delta_method's, and partition-free") {
  const auto d = whole_week_mbg(3000, 31);
  REQUIRE(d.purchases.converged);
  REQUIRE(d.spend.converged);
  CHECK(clv::group_by_frequency_and_age(d.x, d.T).size() < d.x.size() / 4);  // groups shared
  const auto fast = grouped_intervals(d, 0, d.x.size());
  // delta_method itself on the CLV (both models' parameters, customer by customer, through
  // customer_forecast): the same central differences, different rounding only.
  const auto& p = d.purchases.params;
  const auto& g = d.spend.params;
  const std::vector<double> values{p.r, p.alpha, p.a, p.b, g.p, g.q, g.v};
  const auto expected = clv::delta_method(
      "test",
      [&](std::span<const double> at) {
        const clv::customer_forecast<clv::mbg_nbd_params> forecast(
            "test", clv::mbg_nbd_params{at[0], at[1], at[2], at[3]}, d.x, d.t_x, d.T);
        return clv::customer_lifetime_value(
            forecast, clv::expected_spend({at[4], at[5], at[6]}, d.x, d.m), 12, 0.01, 4.345);
      },
      values, clv::block_diagonal(d.purchases.covariance, d.spend.covariance),
      clv::interval_options{});
  const auto close = [](double a, double b) { return std::abs(a - b) <= 1e-10 * std::abs(b); };
  // The centres are customer_lifetime_value's CLV to the last bit (the cluster report, which
  // gives no centres, then agrees with the single-machine report, which does).
  const clv::customer_forecast<clv::mbg_nbd_params> forecast("test", p, d.x, d.t_x, d.T);
  const auto values_at_estimate =
      clv::customer_lifetime_value(forecast, clv::expected_spend(g, d.x, d.m), 12, 0.01, 4.345);
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    CHECK(fast.customers[i].estimate == values_at_estimate[i]);
    CHECK(close(fast.customers[i].estimate, expected.customers[i].estimate));
    CHECK(close(fast.customers[i].lower, expected.customers[i].lower));
    CHECK(close(fast.customers[i].upper, expected.customers[i].upper));
  }
  CHECK(close(fast.total.lower, expected.total.lower));
  CHECK(close(fast.total.upper, expected.total.upper));

  // Each customer's ends depend on that customer alone: any partition, any thread count.
  const auto head = grouped_intervals(d, 0, 1000);
  const auto tail = grouped_intervals(d, 1000, d.x.size() - 1000);
  crmkit::set_num_threads(1);
  const auto serial = grouped_intervals(d, 0, d.x.size());
  crmkit::set_num_threads(0);
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const auto& part = i < 1000 ? head.customers[i] : tail.customers[i - 1000];
    CHECK(part.lower == fast.customers[i].lower);
    CHECK(part.upper == fast.customers[i].upper);
    CHECK(serial.customers[i].upper == fast.customers[i].upper);
  }
  CHECK(serial.total.upper == fast.total.upper);
}
