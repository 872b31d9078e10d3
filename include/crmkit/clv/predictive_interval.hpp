#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "crmkit/clv/bg_bb.hpp"
#include "crmkit/clv/bg_nbd.hpp"
#include "crmkit/clv/mbg_nbd.hpp"
#include "crmkit/clv/pareto_nbd.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/error.hpp"

/**
 * The predictive distribution of a customer's future purchase count Y(t) given the history
 * (x, t_x, T), and its equal-tailed interval: "how many will she buy", the spread of the count
 * itself at the fitted parameters (Poisson purchasing, dropout), not the parameters' estimation
 * uncertainty (forecast_intervals.hpp).
 *
 * Every model has the same structure: dead customers buy nothing, and a customer alive at T has
 * the posterior of (λ, dropout) given alive, under which the future is a new customer's
 * (memorylessness):
 *   P(Y(t) = y | x, t_x, T) = (1 − P(alive))·1[y = 0] + P(alive)·P_new(X(t) = y; posterior).
 * BG/NBD (Fader, Hardie & Lee, "Deriving the conditional PMF of the BG/NBD model"): λ | alive ~
 * Gamma(r+x, α+T), p | alive ~ Beta(a, b+x); MBG/NBD: the same with Beta(a, b+x+1) and the BG/NBD
 * form of P_new (no death at a purchase already made); Pareto/NBD (Fader & Hardie note 028):
 * conditional_probability_of_n_purchases_up_to_time; BG/BB (Fader, Hardie & Shang 2010):
 * p | alive ~ Beta(α+x, β+n−x), θ | alive ~ Beta(γ, δ+n) over the next m opportunities.
 */
namespace crmkit::clv {

/** P(Y(t) = y | x, t_x, T) for BG/NBD. */
inline double conditional_purchase_pmf(const bg_nbd_params& p, double y, double t, double x,
                                       double t_x, double age) {
  const double alive = bg_nbd::probability_alive(p, x, t_x, age);
  const bg_nbd_params posterior{p.r + x, p.alpha + age, p.a, p.b + x};
  return (y == 0 ? 1 - alive : 0.0) + alive * bg_nbd::pmf(posterior, t, y);
}

/** P(Y(t) = y | x, t_x, T) for MBG/NBD. */
inline double conditional_purchase_pmf(const mbg_nbd_params& p, double y, double t, double x,
                                       double t_x, double age) {
  const double alive = mbg_nbd::probability_alive(p, x, t_x, age);
  const bg_nbd_params posterior{p.r + x, p.alpha + age, p.a, p.b + x + 1};
  return (y == 0 ? 1 - alive : 0.0) + alive * bg_nbd::pmf(posterior, t, y);
}

/** P(Y(t) = y | x, t_x, T) for Pareto/NBD (note 028). */
inline double conditional_purchase_pmf(const pareto_nbd_params& p, double y, double t, double x,
                                       double t_x, double age) {
  return conditional_probability_of_n_purchases_up_to_time(p, y, t, x, t_x, age);
}

/** P(y transactions in the next m opportunities | x, t_x, n) for BG/BB. */
inline double conditional_purchase_pmf(const bg_bb_params& p, double y, double m, double x,
                                       double t_x, double n) {
  const double alive = bg_bb::probability_alive(p, x, t_x, n);
  const bg_bb_params posterior{p.alpha + x, p.beta + n - x, p.gamma, p.delta + n};
  return (y == 0 ? 1 - alive : 0.0) + alive * bg_bb::pmf(posterior, m, y);
}

/** A customer's predictive interval of the future purchase count. */
struct purchase_count_interval {
  double lower = 0;             ///< smallest y with P(Y ≤ y) ≥ (1 − level)/2
  double upper = 0;             ///< smallest y with P(Y ≤ y) ≥ (1 + level)/2
  double probability_none = 0;  ///< P(Y = 0)
};

constexpr auto description(std::type_identity<purchase_count_interval>) {
  using s = purchase_count_interval;
  return std::tuple{
      describe::field{"lower", &s::lower, "smallest y with P(Y <= y) >= (1 - level)/2"},
      describe::field{"upper", &s::upper, "smallest y with P(Y <= y) >= (1 + level)/2"},
      describe::field{"probability_none", &s::probability_none, "P(Y = 0)"}};
}

/** Counts a predictive interval adds up before giving up (numerical_error). */
inline constexpr double max_predictive_count = 1e5;

/**
 * The equal-tailed predictive interval of Y(t) (at least `level` of the predictive probability)
 * for one customer, by adding conditional_purchase_pmf from y = 0 up.
 *
 * @throw numerical_error if the probabilities do not reach (1 + level)/2 by max_predictive_count.
 */
template <class P>
purchase_count_interval predictive_interval(const P& p, double t, double x, double t_x,
                                            double age, double level) {
  purchase_count_interval out;
  const double low = (1 - level) / 2;
  const double high = (1 + level) / 2;
  double cumulative = 0;
  bool have_lower = false;
  for (double y = 0; y <= max_predictive_count; ++y) {
    const double mass = conditional_purchase_pmf(p, y, t, x, t_x, age);
    if (y == 0) out.probability_none = mass;
    cumulative += mass;
    if (!have_lower && cumulative >= low) {
      out.lower = y;
      have_lower = true;
    }
    if (cumulative >= high) {
      out.upper = y;
      return out;
    }
    if (!std::isfinite(mass)) break;
  }
  throw numerical_error(fmt::format(
      "predictive_interval: the purchase-count probabilities for x = {}, t_x = {}, T = {}, t = {} "
      "do not reach {} within {:g} purchases",
      x, t_x, age, t, high, max_predictive_count));
}

/** predictive_interval for every customer (checked; in parallel, thread-independent). */
template <transaction_params P>
std::vector<purchase_count_interval> predictive_intervals(const P& p, double t,
                                                          std::span<const double> x,
                                                          std::span<const double> t_x,
                                                          std::span<const double> age,
                                                          double level) {
  constexpr std::string_view function = "predictive_intervals";
  check_params(function, p);
  check_histories(function, x, t_x, age);
  check::nonnegative(function, "t", t);
  if (!(level > 0 && level < 1)) {
    check::fail(function, fmt::format("level = {} must be in (0, 1)", level));
  }
  std::vector<purchase_count_interval> out(x.size());
  parallel_for(
      x.size(),
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
          out[i] = predictive_interval(p, t, x[i], t_x[i], age[i], level);
        }
      },
      256);
  return out;
}

}  // namespace crmkit::clv
