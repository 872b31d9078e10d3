#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "crmkit/clv/delta_method.hpp"
#include "crmkit/clv/gamma_gamma.hpp"
#include "crmkit/clv/interval.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/clv/value.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/math/normal.hpp"

/**
 * The delta method for customer lifetime value, arranged for 10^6 customers: the same intervals
 * as delta_method on customer_lifetime_value with both models' parameters (equal up to rounding,
 * ~1e-12 relative), at a fraction of the work.
 */
namespace crmkit::clv {

/** Customers whose lifetime value is not finite at the estimate or a perturbed point. */
struct unfinished_customers {
  std::size_t count = 0;  ///< how many
  std::size_t first = 0;  ///< the first of them (valid when count > 0)
};

namespace detail {

/**
 * Separable, frequency-factored models (BG/NBD, MBG/NBD) whose P(alive) is evaluated for many
 * rows from ρ = `log_age_ratio_rows` (which depends on the parameters through the time scale α
 * alone) by `probability_alive_from_ratio_rows`.
 */
template <class P>
concept ratio_factored_alive =
    separable_transaction_params<P> && frequency_factored_alive<P> &&
    requires(const P& p, std::span<const double> in, std::span<double> out) {
      model_for<P>::type::log_age_ratio_rows(p, in, in, out);
      model_for<P>::type::probability_alive_from_ratio_rows(p, in, in, in, out);
    };

/**
 * Models whose E[Y(t) | alive] at many horizons starts from τ, z and ln(1 + τ) of the horizons
 * (`horizon_lanes`, which depend on the parameters through α alone), so that points with one α
 * share them (`alive_purchases_at_lanes`; BG/NBD, MBG/NBD).
 */
template <class P>
concept horizon_shared_purchases =
    requires(const P& p, std::span<const double> in, std::span<double> out) {
      model_for<P>::type::horizon_lanes(p, in, 1.0, out, out, out);
      model_for<P>::type::alive_purchases_at_lanes(p, 1.0, in, in, in, out);
    };

}  // namespace detail

/**
 * Delta-method intervals of CLV_i = E_i(θ_g)·D_i(θ_t) per customer and of their sum, with E_i
 * the expected mean spend (expected_spend's policy: one-time buyers the population mean,
 * zero-spend repeat buyers the mean at zero spend) and D_i the discounted expected purchases
 * (discounted_purchases) of the transaction model. It computes exactly what delta_method does
 * for that quantity with the joint parameters (θ_t, θ_g), covariance block-diagonal: central
 * differences of step delta_method_step in ln θ, intervals by normal_interval. Two facts make
 * it cheap:
 * - for BG/NBD and MBG/NBD (detail::ratio_factored_alive) on customers who share (x, T)
 *   (detail::merging_pays), D_i = P(alive)_i · W_g(θ_t) with W_g = Σ_k (E[Y(t_k) | alive] −
 *   E[Y(t_{k−1}) | alive])/(1 + d)^k a function of (x, T) alone: the 2·4 + 1 parameter points
 *   cost one ₂F₁ table per (x, T) group (group_by_frequency_and_age, once), and per customer
 *   nine vectorised P(alive) sharing the log1p of the points with one α (equal to the discounted
 *   purchases of customer_forecast up to rounding, ~1e-16 relative; at the estimate D is formed
 *   as customer_forecast forms it, so E·D is customer_lifetime_value's to the bit); others run the
 *   2·4 + 1 forecasts once per distinct history (group_by_history). A move of a spend parameter
 *   leaves D unchanged, so it costs no forecast at all (the difference of CLV is D_i times that
 *   of E_i, a closed form per customer);
 * - with Σ = diag(Σ_t, Σ_g), Var CLV_i = E_i² ∇D'Σ_t∇D + D² ∇E_i'Σ_g∇E_i.
 * The total's gradient adds the customers' in fixed chunks in index order (any thread count
 * gives the same result). `estimates`, when given, are the centres of the customers' intervals
 * (the CLV already computed, e.g. by the pipeline; they must be that quantity), else
 * E_i·D_i is.
 *
 * A customer whose value is not finite at the estimate or a perturbed point (an infinite mean
 * spend, p·x + q ≤ 1): with `unfinished` null, numerical_error naming the first such customer
 * (as delta_method); otherwise their ends and the total are NaN and `unfinished` counts them.
 *
 * @throw numerical_error if a covariance is unavailable (see log_parameter_covariance);
 *        invalid_input for bad inputs (naming the argument, index and value).
 */
template <transaction_params P>
forecast_intervals lifetime_value_delta_method(
    std::string_view function, const P& params, const Eigen::MatrixXd& covariance,
    const gamma_gamma_params& spend, const Eigen::MatrixXd& spend_covariance,
    std::span<const double> x, std::span<const double> t_x, std::span<const double> age,
    std::span<const double> monetary_value, double months, double discount_rate, double periods,
    const interval_options& options, std::span<const double> estimates = {},
    unfinished_customers* unfinished = nullptr) {
  using model = typename model_for<P>::type;
  constexpr std::size_t purchase_parameters = model::size;
  check_interval_options(function, options);
  check_params(function, params);
  check_histories(function, x, t_x, age);
  gamma_gamma::check_params(function, spend);
  const std::size_t n = x.size();
  check::same_size(function, "monetary_value", monetary_value.size(), "frequency", n);
  check::all_finite(function, "monetary_value", monetary_value);
  if (!estimates.empty()) check::same_size(function, "estimates", estimates.size(), "frequency", n);
  const auto fixed = model::to_array(params);
  const std::vector<double> values(fixed.begin(), fixed.end());
  const std::array<double, 3> spend_values{spend.p, spend.q, spend.v};
  const Eigen::MatrixXd sigma = log_parameter_covariance(function, values, covariance);
  const Eigen::MatrixXd spend_sigma =
      log_parameter_covariance(function, spend_values, spend_covariance);

  // The transaction model at the estimate (slot 0) and with parameter k moved up (slot 2k + 1)
  // and down (2k + 2).
  constexpr std::size_t slots = 2 * purchase_parameters + 1;
  std::array<P, slots> slot_params;
  for (std::size_t slot = 0; slot < slots; ++slot) {
    auto moved = fixed;
    if (slot > 0) {
      const std::size_t k = (slot - 1) / 2;
      moved[k] *= std::exp(slot % 2 == 1 ? delta_method_step : -delta_method_step);
    }
    slot_params[slot] = model::from_array(moved);
  }
  const Eigen::Matrix<double, purchase_parameters, purchase_parameters> sigma_t = sigma;
  // Per customer: D at the estimate, the gradient of D in ln θ_t and ∇D'Σ_t∇D (NaN when D is
  // not finite at a point), filled for a chunk of customers by `purchase_terms`.
  struct purchase_term {
    double d = 0;
    std::array<double, purchase_parameters> gradient{};
    double variance = 0;
  };
  const auto term_of = [&](const std::array<double, slots>& at) {
    purchase_term out;
    bool finite = std::isfinite(at[0]);
    Eigen::Matrix<double, purchase_parameters, 1> g;
    for (std::size_t k = 0; k < purchase_parameters; ++k) {
      const double up = at[2 * k + 1], down = at[2 * k + 2];
      finite = finite && std::isfinite(up) && std::isfinite(down);
      g[static_cast<Eigen::Index>(k)] = (up - down) / (2 * delta_method_step);
      out.gradient[k] = g[static_cast<Eigen::Index>(k)];
    }
    out.d = at[0];
    out.variance = finite ? g.dot(sigma_t * g) : std::numeric_limits<double>::quiet_NaN();
    return out;
  };
  std::function<void(std::size_t, std::size_t, std::vector<purchase_term>&)> purchase_terms;

  // Models whose P(alive) factors (frequency_factored_alive) and whose D is P(alive) times a
  // function of (x, T): D_i = P(alive)_i · W_g, W_g = Σ_k (E[Y(t_k) | alive] − E[Y(t_{k−1}) |
  // alive])/(1 + d)^k per (x, T) group g and point, P(alive) per customer and point (vectorised;
  // the log1p of the points that share α once). Used where customers share (x, T).
  frequency_age_groups groups;
  std::array<std::vector<double>, slots> bases, tables;
  std::vector<double> estimate_rows;  // E[Y(t_k) | alive] at the estimate, per group and month
  detail::discount_schedule schedule;
  std::size_t steps = 0;
  if constexpr (detail::ratio_factored_alive<P>) {
    if (detail::merging_pays(x, age)) {
      for (std::size_t slot = 0; slot < slots; ++slot) {
        bases[slot] = detail::dead_odds_bases(slot_params[slot], x);
      }
    }
    if (!bases[0].empty()) {
      groups = group_by_frequency_and_age(x, age);
      schedule = detail::discount_steps(function, months, discount_rate, periods);
      const std::size_t g_count = groups.size();
      steps = schedule.horizons.size();
      for (auto& table : tables) table.resize(g_count);
      estimate_rows.resize(g_count * steps);
      // Per group, the points' rows of E[Y(t_k) | alive]; the horizons' τ, z and ln(1 + τ) are
      // those of the estimate for every point with its α (all but α's two).
      const double shared_scale = model::purchase_time_scale(slot_params[0], 0.0);
      parallel_for(
          g_count,
          [&](std::size_t begin, std::size_t end) {
            std::vector<double> row(steps);
            std::array<std::vector<double>, 3> shared, own;
            for (auto& each : shared) each.resize(steps);
            for (auto& each : own) each.resize(steps);
            for (std::size_t g = begin; g < end; ++g) {
              const double frequency = groups.frequency[g], group_age = groups.age[g];
              if constexpr (detail::horizon_shared_purchases<P>) {
                model::horizon_lanes(slot_params[0], schedule.horizons, group_age, shared[0],
                                     shared[1], shared[2]);
              }
              for (std::size_t slot = 0; slot < slots; ++slot) {
                const auto& p = slot_params[slot];
                if constexpr (detail::horizon_shared_purchases<P>) {
                  const bool is_own = model::purchase_time_scale(p, 0.0) != shared_scale;
                  if (is_own) {
                    model::horizon_lanes(p, schedule.horizons, group_age, own[0], own[1], own[2]);
                  }
                  const auto& h = is_own ? own : shared;
                  model::alive_purchases_at_lanes(p, frequency, h[0], h[1], h[2], row);
                } else {
                  detail::alive_purchases_at_horizons(p, schedule.horizons, frequency, group_age,
                                                      row);
                }
                double sum = 0, previous = 0;
                for (std::size_t k = 0; k < steps; ++k) {
                  const double current = row[k];
                  if (slot == 0) estimate_rows[g * steps + k] = current;
                  sum += (current - previous) / schedule.divisors[k];
                  previous = current;
                }
                tables[slot][g] = sum;
              }
            }
          },
          8);
      // shared_scale by value: this block ends before purchase_terms is called.
      purchase_terms = [&, shared_scale](std::size_t begin, std::size_t end,
                                         std::vector<purchase_term>& out) {
        const std::size_t size = end - begin;
        const auto xs = x.subspan(begin, size), recency = t_x.subspan(begin, size),
                   ages = age.subspan(begin, size);
        std::vector<double> shared_rho(size), own_rho(size), alive(size);
        std::vector<std::array<double, slots>> at(size);
        model::log_age_ratio_rows(slot_params[0], recency, ages, shared_rho);
        for (std::size_t slot = 0; slot < slots; ++slot) {
          const auto& p = slot_params[slot];
          const bool own = model::purchase_time_scale(p, 0.0) != shared_scale;
          if (own) model::log_age_ratio_rows(p, recency, ages, own_rho);
          model::probability_alive_from_ratio_rows(p, bases[slot], xs, own ? own_rho : shared_rho,
                                                   alive);
          const auto& table = tables[slot];
          for (std::size_t j = 0; j < size; ++j) {
            at[j][slot] =
                alive[j] == 0 ? 0.0 : alive[j] * table[groups.of_customer[begin + j]];
          }
        }
        // At the estimate, D as customer_forecast forms it (scalar P(alive), monthly
        // differences of P(alive)·E[Y | alive]): the centre E·D is then the pipeline's CLV to
        // the last bit.
        for (std::size_t j = 0; j < size; ++j) {
          const double alive0 = model::probability_alive_from_base(
              slot_params[0], bases[0][static_cast<std::size_t>(xs[j])], xs[j], recency[j],
              ages[j]);
          const double* row = estimate_rows.data() + groups.of_customer[begin + j] * steps;
          double sum = 0, before = 0;
          for (std::size_t k = 0; k < steps; ++k) {
            const double current = alive0 == 0 ? 0.0 : alive0 * row[k];
            sum += (current - before) / schedule.divisors[k];
            before = current;
          }
          at[j][0] = sum;
        }
        out.resize(size);
        for (std::size_t j = 0; j < size; ++j) out[j] = term_of(at[j]);
      };
    }
  }
  if (!purchase_terms) {
    // Other models: the discounted purchases of every history at each point (customer_forecast,
    // one per point). The forecasts are independent: each runs on one worker (its loops then
    // serial, with the same chunks, so the same values), several side by side.
    auto histories = std::make_shared<history_groups>(group_by_history(x, t_x, age));
    const std::size_t h_count = histories->size();
    std::array<std::vector<double>, slots> purchases;
    parallel_chunks(purchases.size(), 1, [&](std::size_t slot, std::size_t, std::size_t) {
      const customer_forecast<P> forecast(function, slot_params[slot], histories->frequency,
                                          histories->recency, histories->age);
      purchases[slot] = discounted_purchases(function, forecast, months, discount_rate, periods);
    });
    auto terms = std::make_shared<std::vector<purchase_term>>(h_count);
    parallel_for(h_count, [&](std::size_t begin, std::size_t end) {
      for (std::size_t h = begin; h < end; ++h) {
        std::array<double, slots> at;
        for (std::size_t slot = 0; slot < slots; ++slot) at[slot] = purchases[slot][h];
        (*terms)[h] = term_of(at);
      }
    });
    purchase_terms = [histories, terms](std::size_t begin, std::size_t end,
                                        std::vector<purchase_term>& out) {
      out.resize(end - begin);
      for (std::size_t i = begin; i < end; ++i) out[i - begin] = (*terms)[histories->of_customer[i]];
    };
  }

  // Per customer, in fixed chunks: E_i and its differences, the interval, and the chunk's share
  // of the total's gradient (purchase parameters, then p, q, v) and of the total.
  std::array<gamma_gamma_params, 6> moved_spend;
  for (std::size_t slot = 0; slot < moved_spend.size(); ++slot) {
    auto moved = spend_values;
    moved[slot / 2] *= std::exp(slot % 2 == 0 ? delta_method_step : -delta_method_step);
    moved_spend[slot] = {moved[0], moved[1], moved[2]};
  }
  const Eigen::Matrix3d sigma_g = spend_sigma;
  constexpr std::size_t sums = purchase_parameters + 3 + 1;
  constexpr std::size_t grain = default_grain;
  forecast_intervals out;
  if (options.per_customer) out.customers.resize(n);
  std::vector<unfinished_customers> chunk_unfinished(chunk_count(n, grain));
  const double z = math::two_sided_critical_value(options.level);
  const auto partial = [&](std::size_t begin, std::size_t end) {
    std::array<double, sums> sum{};
    auto& bad = chunk_unfinished[begin / grain];
    std::vector<purchase_term> terms;
    purchase_terms(begin, end, terms);
    for (std::size_t i = begin; i < end; ++i) {
      const purchase_term& term = terms[i - begin];
      const double m = std::max(monetary_value[i], 0.0);
      const double e = conditional_expected_average_profit(spend, x[i], m);
      Eigen::Vector3d spend_gradient;
      bool finite = std::isfinite(e) && std::isfinite(term.variance);
      for (std::size_t k = 0; k < 3; ++k) {
        const double up = conditional_expected_average_profit(moved_spend[2 * k], x[i], m);
        const double down = conditional_expected_average_profit(moved_spend[2 * k + 1], x[i], m);
        finite = finite && std::isfinite(up) && std::isfinite(down);
        spend_gradient[static_cast<Eigen::Index>(k)] = (up - down) / (2 * delta_method_step);
      }
      if (!finite) {
        if (bad.count++ == 0) bad.first = i;
        if (options.per_customer) {
          const double nan = std::numeric_limits<double>::quiet_NaN();
          out.customers[i] = {estimates.empty() ? e * term.d : estimates[i], nan, nan, nan};
        }
        continue;
      }
      const double d = term.d;
      const double estimate = estimates.empty() ? e * d : estimates[i];
      for (std::size_t k = 0; k < purchase_parameters; ++k) sum[k] += e * term.gradient[k];
      for (std::size_t k = 0; k < 3; ++k) {
        sum[purchase_parameters + k] += d * spend_gradient[static_cast<Eigen::Index>(k)];
      }
      sum[sums - 1] += estimate;
      if (options.per_customer) {
        const double variance =
            e * e * term.variance + d * d * spend_gradient.dot(sigma_g * spend_gradient);
        out.customers[i] = normal_interval_at(estimate, std::sqrt(std::max(variance, 0.0)), z);
      }
    }
    return sum;
  };
  const auto total = parallel_reduce(
      n, std::array<double, sums>{}, partial,
      [](std::array<double, sums> a, const std::array<double, sums>& b) {
        for (std::size_t k = 0; k < sums; ++k) a[k] += b[k];
        return a;
      },
      grain);
  unfinished_customers bad;
  for (const auto& each : chunk_unfinished) {
    if (each.count > 0 && bad.count == 0) bad.first = each.first;
    bad.count += each.count;
  }
  if (bad.count > 0) {
    if (unfinished == nullptr) {
      throw numerical_error(fmt::format(
          "{}: the lifetime value of customer {} is not finite at the estimate or a perturbed "
          "parameter point ({} customer(s) in all); no interval",
          function, bad.first, bad.count));
    }
    *unfinished = bad;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    out.total = {nan, nan, nan, nan};
    return out;
  }
  if (unfinished != nullptr) *unfinished = bad;
  Eigen::Matrix<double, purchase_parameters, 1> purchase_total;
  Eigen::Vector3d spend_total;
  for (std::size_t k = 0; k < purchase_parameters; ++k) {
    purchase_total[static_cast<Eigen::Index>(k)] = total[k];
  }
  for (std::size_t k = 0; k < 3; ++k) {
    spend_total[static_cast<Eigen::Index>(k)] = total[purchase_parameters + k];
  }
  const double total_variance =
      purchase_total.dot(sigma_t * purchase_total) + spend_total.dot(sigma_g * spend_total);
  out.total = normal_interval(total[sums - 1], std::sqrt(std::max(total_variance, 0.0)),
                              options.level);
  return out;
}

}  // namespace crmkit::clv
