#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

namespace clv = crmkit::clv;

namespace {
const clv::bg_nbd_params fhl{0.243, 4.414, 0.793, 2.426};
const std::vector<double> x{0, 2, 7}, t_x{0, 30.43, 20}, age{38.86, 38.86, 30};
const std::vector<double> money{0, 22.35, 41.0};
}  // namespace

TEST_CASE("discrete DCF: lifetimes' monthly sum, telescoping without discount") {
  const std::vector<double> ones{1, 1, 1};
  const auto undiscounted = clv::customer_lifetime_value(fhl, x, t_x, age, ones, 12, 0.0, 4.345);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(undiscounted[i] ==
          doctest::Approx(clv::conditional_expected_number_of_purchases_up_to_time(
                              fhl, 12 * 4.345, x[i], t_x[i], age[i]))
              .epsilon(1e-12));
  }
  // One month: m·CET(f)/(1+d).
  const auto one = clv::customer_lifetime_value(fhl, x, t_x, age, money, 1, 0.01, 4.345);
  CHECK(one[1] == doctest::Approx(22.35 *
                                  clv::conditional_expected_number_of_purchases_up_to_time(
                                      fhl, 4.345, 2, 30.43, 38.86) /
                                  1.01));
  CHECK(clv::periods_per_month("D") == 30);
  CHECK(clv::periods_per_month("H") == 720);
  CHECK_THROWS_AS(clv::periods_per_month("Y"), crmkit::invalid_input);
}

TEST_CASE("continuous discounting agrees with a fine Riemann–Stieltjes sum of CET increments") {
  const double months = 12, rate = std::log(1.01), f = 4.345;
  const auto value =
      clv::customer_lifetime_value_continuous(fhl, x, t_x, age, money, months, rate, f);
  for (std::size_t i = 1; i < 3; ++i) {
    // Σ e^{−δ s_mid/f}·(CET(s_k) − CET(s_{k−1})) on 20,000 steps: an independent O(h²) method.
    const int steps = 20'000;
    const double h = months * f / steps;
    double sum = 0, previous = 0;
    for (int k = 1; k <= steps; ++k) {
      const double current = clv::conditional_expected_number_of_purchases_up_to_time(
          fhl, k * h, x[i], t_x[i], age[i]);
      sum += std::exp(-rate * (k - 0.5) * h / f) * (current - previous);
      previous = current;
    }
    CHECK(value[i] == doctest::Approx(money[i] * sum).epsilon(1e-7));
  }
  // It sits close to the monthly discrete DCF at the matching rate, as it should.
  const auto discrete = clv::customer_lifetime_value(fhl, x, t_x, age, money, months, 0.01, f);
  CHECK(value[1] == doctest::Approx(discrete[1]).epsilon(0.01));
}

TEST_CASE("Gamma-Gamma spend in CLV: x = 0 customers get the population mean") {
  const clv::gamma_gamma_params g{6.25, 3.74, 15.44};
  const auto spend = clv::conditional_expected_average_profit(g, x, money);
  CHECK(spend[0] == doctest::Approx(6.25 * 15.44 / 2.74));
  CHECK(spend[1] == doctest::Approx(clv::conditional_expected_average_profit(g, 2.0, 22.35)));
  CHECK_THROWS_AS(clv::conditional_expected_average_profit(g, x, std::vector<double>{0, -1, 3}),
                  crmkit::invalid_input);
}

TEST_CASE("diagnostics: grids, tracking curve, calibration table, frequency histogram") {
  const auto alive = clv::probability_alive_matrix(fhl, 5, 10);
  CHECK(alive.rows() == 11);
  CHECK(alive.cols() == 6);
  CHECK(alive(4, 2) == clv::conditional_probability_alive(fhl, 2.0, 4.0, 10.0));
  CHECK(alive(0, 0) == 1);
  const auto purchases = clv::expected_purchases_matrix(fhl, 1.0, 5, 10);
  CHECK(purchases(7, 3) ==
        clv::conditional_expected_number_of_purchases_up_to_time(fhl, 1.0, 3.0, 7.0, 10.0));

  const std::vector<double> birth{0, 1, 3}, counts{10, 5, 2}, times{1, 2, 3, 4};
  const auto tracking = clv::expected_cumulative_transactions(fhl, birth, counts, times);
  CHECK(tracking[0] ==
        doctest::Approx(10 * clv::expected_number_of_purchases_up_to_time(fhl, 1.0)));
  CHECK(tracking[3] == doctest::Approx(10 * clv::expected_number_of_purchases_up_to_time(fhl, 4.0) +
                                       5 * clv::expected_number_of_purchases_up_to_time(fhl, 3.0) +
                                       2 * clv::expected_number_of_purchases_up_to_time(fhl, 1.0)));

  const std::vector<double> cx{0, 0, 1, 3, 9}, ctx{0, 0, 4, 9, 10}, cage{12, 12, 12, 12, 12};
  const std::vector<double> holdout{0, 1, 2, 2, 6}, duration{10};
  const auto table = clv::calibration_vs_holdout(fhl, cx, ctx, cage, holdout, duration, 3);
  REQUIRE(table.size() == 3);  // frequencies 0, 1, and "3 or more" (no customer with 2)
  CHECK(table[0].customers == 2);
  CHECK(table[0].actual_holdout == 0.5);
  CHECK(table[2].frequency == 3);
  CHECK(table[2].actual_holdout == 4);
  CHECK(table[1].predicted_holdout ==
        clv::conditional_expected_number_of_purchases_up_to_time(fhl, 10.0, 1.0, 4.0, 12.0));

  const auto histogram = clv::repeat_frequency_histogram(fhl, cx, cage, 4);
  REQUIRE(histogram.size() == 5);
  double expected_total = 0, actual_total = 0;
  for (const auto& bin : histogram) {
    expected_total += bin.expected;
    actual_total += bin.actual;
  }
  CHECK(expected_total == doctest::Approx(5));
  CHECK(actual_total == 5);
  CHECK(histogram[4].actual == 1);  // x = 9 falls in "4 or more"
  CHECK(histogram[1].expected ==
        doctest::Approx(5 * clv::probability_of_n_purchases_up_to_time(fhl, 12.0, 1.0)));
}

namespace {

/** Customers sharing few (x, T) pairs with distinct recencies, as dated logs give. */
struct shared_histories {
  std::vector<double> x, t_x, age;
};

shared_histories shared_history_customers() {
  shared_histories out;
  for (int i = 0; i < 3000; ++i) {
    const double x = i % 7;
    const double age = 10 + (i % 5) * 7.5;
    out.x.push_back(x);
    out.age.push_back(age);
    out.t_x.push_back(x == 0 ? 0.0 : age * ((i % 11) + 1) / 12.0);
  }
  return out;
}

template <class P>
void check_forecast_matches_scalar_forms(const P& p) {
  const auto data = shared_history_customers();
  const auto groups = clv::group_by_frequency_and_age(data.x, data.age);
  CHECK(groups.size() == 35);  // 7 frequencies × 5 ages
  const clv::customer_forecast forecast("test", p, data.x, data.t_x, data.age);
  const auto expected = forecast.expected_purchases(13);
  std::vector<double> spend(data.x.size());
  for (std::size_t i = 0; i < spend.size(); ++i) spend[i] = 10 + static_cast<double>(i % 13);
  const auto value = clv::customer_lifetime_value(forecast, spend, 12, 0.01, 4.345);
  const auto alive = forecast.probability_alive();
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    const double x = data.x[i], t_x = data.t_x[i], age = data.age[i];
    const auto group = groups.of_customer[i];
    CHECK(groups.frequency[group] == x);
    CHECK(groups.age[group] == age);
    // The same products in the same order as the scalar functions: equal to the last bit.
    CHECK(alive[i] == clv::conditional_probability_alive(p, x, t_x, age));
    CHECK(expected[i] ==
          clv::conditional_expected_number_of_purchases_up_to_time(p, 13.0, x, t_x, age));
    double sum = 0, previous = 0;
    for (int month = 1; month <= 12; ++month) {
      const double current =
          clv::conditional_expected_number_of_purchases_up_to_time(p, month * 4.345, x, t_x, age);
      sum += (current - previous) / std::pow(1 + 0.01, static_cast<double>(month));
      previous = current;
    }
    CHECK(value[i] == spend[i] * sum);
  }
}

}  // namespace

TEST_CASE("grouped forecasts: one evaluation per (x, T), bit-identical to the scalar forms") {
  check_forecast_matches_scalar_forms(fhl);
  check_forecast_matches_scalar_forms(clv::mbg_nbd_params{0.5248, 6.1830, 0.8914, 1.6140});
  static_assert(clv::separable_transaction_params<clv::pareto_nbd_params>);
  check_forecast_matches_scalar_forms(clv::pareto_nbd_params{0.5533, 10.578, 0.6062, 11.668});
  // −0 and +0 are one group; the vector entry points take the grouped path too.
  const std::vector<double> zeros{0.0, -0.0}, ages{5, 5};
  CHECK(clv::group_by_frequency_and_age(zeros, ages).size() == 1);
  const auto data = shared_history_customers();
  const std::vector<double> horizon{13};
  const auto vectorised = clv::conditional_expected_number_of_purchases_up_to_time(
      fhl, horizon, data.x, data.t_x, data.age);
  CHECK(vectorised[17] == clv::conditional_expected_number_of_purchases_up_to_time(
                              fhl, 13.0, data.x[17], data.t_x[17], data.age[17]));
  const std::vector<double> broadcast(data.x.size(), 13.0);  // t repeated, as Python passes it
  CHECK(clv::conditional_expected_number_of_purchases_up_to_time(fhl, broadcast, data.x, data.t_x,
                                                                 data.age) == vectorised);
}
