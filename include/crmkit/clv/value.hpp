#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "crmkit/clv/gamma_gamma.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/math/quadrature.hpp"

/**
 * Customer lifetime value: expected discounted future spend, from a transaction model's
 * conditional expectation CET(t) and a per-transaction value m (usually the Gamma-Gamma
 * conditional expected average profit).
 */
namespace crmkit::clv {

/**
 * Periods of the data per month for lifetimes' `freq` codes: "W" 4.345, "M" 1, "D" 30, "H" 720
 * (lifetimes `utils._customer_lifetime_value`).
 */
inline double periods_per_month(std::string_view freq) {
  if (freq == "D") return 30;
  if (freq == "W") return 4.345;
  if (freq == "M") return 1;
  if (freq == "H") return 30 * 24;
  check::fail("customer_lifetime_value",
              fmt::format("freq = '{}' must be one of 'D', 'W', 'M', 'H'", freq));
}

namespace detail {
inline void check_value_inputs(std::string_view function, std::span<const double> monetary,
                               std::size_t customers, double months, double rate) {
  check::same_size(function, "monetary_value", monetary.size(), "frequency", customers);
  check::all_finite(function, "monetary_value", monetary);
  check::nonnegative(function, "time", months);
  check::finite(function, "discount_rate", rate);
  if (!(rate > -1)) check::fail(function, fmt::format("discount_rate = {} must be > -1", rate));
}
}  // namespace detail

/**
 * The most months of discounting customer_lifetime_value and customer_lifetime_value_continuous
 * evaluate (≈ 8,333 years): beyond it they throw invalid_input rather than run for hours. The
 * discrete form reaches it only with a discount rate ≤ 0 or below ~4e-4 a month; with rate 0 it
 * is a single evaluation at any horizon.
 */
inline constexpr double max_discounted_months = 1e5;

/**
 * Months after which the rest of lifetimes' discounted sum is below 1e-17 of its total, for a
 * monthly rate d > 0 (+∞ otherwise). CET is concave in t (a mixture over λ and p of
 * (1 − e^{−pλt})/p), so its monthly increments Δ_i do not grow, and the sum is at least
 * Δ_1/(1+d) ≥ Δ_n/(1+d): the tail Σ_{i>n} Δ_i/(1+d)^i ≤ Δ_n (1+d)^{−n}/d ≤ sum·(1+d)^{1−n}/d.
 */
inline double discount_horizon_months(double rate) {
  if (!(rate > 0)) return std::numeric_limits<double>::infinity();
  return 1 + std::ceil(std::log(1e17 / rate) / std::log1p(rate));
}

namespace detail {

/** The horizons t_k = k·f and divisors (1 + d)^k of discounted_purchases (one horizon
 * months·f with divisor 1 when d = 0), after its checks. */
struct discount_schedule {
  std::vector<double> horizons, divisors;
};

inline discount_schedule discount_steps(std::string_view function, double months,
                                        double discount_rate, double periods) {
  check::nonnegative(function, "time", months);
  check::finite(function, "discount_rate", discount_rate);
  if (!(discount_rate > -1)) {
    check::fail(function, fmt::format("discount_rate = {} must be > -1", discount_rate));
  }
  check::positive(function, "periods_per_month", periods);
  const double whole_months = std::floor(months);
  discount_schedule out;
  if (discount_rate == 0) {
    out.horizons.push_back(whole_months * periods);
    out.divisors.push_back(1);
    return out;
  }
  const double evaluated = std::min(whole_months, discount_horizon_months(discount_rate));
  if (evaluated > max_discounted_months) {
    check::fail(function, fmt::format("time = {} months with discount_rate = {} needs {} "
                                      "monthly steps, more than the bound of {:g} "
                                      "(max_discounted_months)",
                                      months, discount_rate, evaluated, max_discounted_months));
  }
  const auto steps = static_cast<std::size_t>(evaluated);
  for (std::size_t month = 1; month <= steps; ++month) {
    const double m = static_cast<double>(month);
    out.horizons.push_back(m * periods);
    out.divisors.push_back(std::pow(1 + discount_rate, m));
  }
  return out;
}

}  // namespace detail

/**
 * The discounted expected purchases of lifetimes' discrete cash flow, per customer:
 *   Σ_{i=1..months} (CET(i·f) − CET((i−1)·f)) / (1 + d)^i,
 * f = periods_per_month, d the monthly discount rate, CET the conditional expected number of
 * purchases (`months` rounded down to whole months as lifetimes' `np.arange(1, time + 1)` does).
 * The work does not grow with `months` where the sum allows: with d = 0 it telescopes to
 * CET(months·f); with d > 0 it stops after discount_horizon_months(d) months, the rest being
 * below 1e-17 of the sum. CET is evaluated through `forecast` (one expensive evaluation per
 * distinct (x, T) and month, see customer_forecast). `function` is what an error names.
 *
 * @throw invalid_input for a negative `months`, a rate not finite or <= −1, a `periods` not
 *        positive, or more than max_discounted_months months to evaluate.
 */
template <transaction_params P>
std::vector<double> discounted_purchases(std::string_view function,
                                         const customer_forecast<P>& forecast, double months,
                                         double discount_rate, double periods) {
  const auto schedule = detail::discount_steps(function, months, discount_rate, periods);
  return forecast.discounted_increments(schedule.horizons, schedule.divisors);
}

/**
 * lifetimes' discrete discounted cash flow, per customer:
 *   CLV = Σ_{i=1..months} m · (CET(i·f) − CET((i−1)·f)) / (1 + d)^i
 * (lifetimes `_customer_lifetime_value`; `months` is lifetimes' `time`): m times
 * discounted_purchases, whose customers `monetary_value` follows.
 *
 * @throw invalid_input if more than max_discounted_months months would be evaluated.
 */
template <transaction_params P>
std::vector<double> customer_lifetime_value(const customer_forecast<P>& forecast,
                                            std::span<const double> monetary_value, double months,
                                            double discount_rate, double periods) {
  constexpr std::string_view function = "customer_lifetime_value";
  detail::check_value_inputs(function, monetary_value, forecast.size(), months, discount_rate);
  auto value = discounted_purchases(function, forecast, months, discount_rate, periods);
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = monetary_value[i] * value[i];
  return value;
}

/** customer_lifetime_value for the customers (x, t_x, T); `histories` as in
 * conditional_probability_alive. */
template <transaction_params P>
std::vector<double> customer_lifetime_value(const P& p, std::span<const double> x,
                                            std::span<const double> t_x,
                                            std::span<const double> age,
                                            std::span<const double> monetary_value, double months,
                                            double discount_rate, double periods,
                                            history_check* histories = nullptr) {
  constexpr std::string_view function = "customer_lifetime_value";
  const customer_forecast<P> forecast(function, p, x, t_x, age);
  detail::report_histories(forecast.histories(), histories);
  return customer_lifetime_value(forecast, monetary_value, months, discount_rate, periods);
}

/**
 * Continuously discounted value over `months` months:
 *   CLV = m · ∫_0^H e^{−δ s/f} dCET(s),  H = months·f, δ the continuous rate per month
 * (δ = ln(1 + d) matches a monthly rate d). Integrated by parts,
 *   ∫_0^H e^{−δs/f} dCET = e^{−δH/f} CET(H) + (δ/f) ∫_0^H e^{−δs/f} CET(s) ds,
 * the last integral by 8-point Gauss–Legendre on one panel per month (CET is smooth in s).
 *
 * @throw invalid_input if `months` exceeds max_discounted_months (one panel per month).
 */
template <transaction_params P>
std::vector<double> customer_lifetime_value_continuous(
    const P& p, std::span<const double> x, std::span<const double> t_x, std::span<const double> age,
    std::span<const double> monetary_value, double months, double continuous_rate, double periods,
    history_check* histories = nullptr) {
  constexpr std::string_view function = "customer_lifetime_value_continuous";
  check_params(function, p);
  detail::report_histories(check_histories(function, x, t_x, age), histories);
  detail::check_value_inputs(function, monetary_value, x.size(), months, continuous_rate);
  check::positive(function, "periods_per_month", periods);
  if (months > max_discounted_months) {
    check::fail(function, fmt::format("time = {} months exceeds the bound of {:g} months "
                                      "(max_discounted_months)",
                                      months, max_discounted_months));
  }
  const double horizon = months * periods;
  const double delta = continuous_rate / periods;
  const auto panels = static_cast<std::size_t>(std::max(1.0, std::ceil(months)));
  return detail::per_customer(x.size(), [&](std::size_t i) {
    auto cet = [&](double s) {
      return conditional_expected_number_of_purchases_up_to_time(p, s, x[i], t_x[i], age[i]);
    };
    double integral = std::exp(-delta * horizon) * cet(horizon);
    if (delta != 0 && horizon > 0) {
      integral +=
          delta * math::gauss_legendre([&](double s) { return std::exp(-delta * s) * cet(s); }, 0.0,
                                       horizon, panels);
    }
    return monetary_value[i] * integral;
  });
}

/**
 * Vectorised Gamma-Gamma conditional expected average profit; x = 0 customers get the
 * population mean (their monetary value is ignored). +inf where p·x + q ≤ 1 (see the scalar form).
 */
inline std::vector<double> conditional_expected_average_profit(const gamma_gamma_params& g,
                                                               std::span<const double> x,
                                                               std::span<const double> m) {
  constexpr std::string_view function = "conditional_expected_average_profit";
  gamma_gamma::check_params(function, g);
  check_spend(function, x, m, true);
  return detail::per_customer(
      x.size(), [&](std::size_t i) { return conditional_expected_average_profit(g, x[i], m[i]); });
}

/**
 * Expected mean spend of every customer under crmkit's one policy (the report, the command-line
 * tool and the Python package use it):
 * - repeat buyers with a positive mean spend m: E[Z | x, m] = p(v + x m)/(p x + q − 1);
 * - one-time buyers (x = 0): the population mean p v/(q − 1);
 * - repeat buyers whose repeat purchases summed to zero or less (m ≤ 0): the conditional mean at
 *   zero observed spend, p v/(p x + q − 1) (the limit m → 0+; Gamma-Gamma needs m > 0, so they
 *   are left out of the fit but still predicted).
 * +inf where p x + q ≤ 1 (see the scalar form).
 *
 * @throw invalid_input for invalid parameters, sizes that differ, a negative or non-finite
 *        frequency, or a non-finite monetary value (naming the index).
 */
inline std::vector<double> expected_spend(const gamma_gamma_params& g, std::span<const double> x,
                                          std::span<const double> m) {
  constexpr std::string_view function = "expected_spend";
  gamma_gamma::check_params(function, g);
  check::same_size(function, "frequency", x.size(), "monetary_value", m.size());
  check::all_nonnegative(function, "frequency", x);
  check::all_finite(function, "monetary_value", m);
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return conditional_expected_average_profit(g, x[i], std::max(m[i], 0.0));
  });
}

}  // namespace crmkit::clv
