#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "crmkit/clv/bg_nbd.hpp"
#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/mbg_nbd.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"

/**
 * Per-customer predictions of the transaction models (BG/NBD, MBG/NBD), scalar and vectorised.
 * Scalar forms expect valid arguments; the vector forms check them (naming argument, index and
 * value) and run in parallel (each output element depends on its own inputs only, so the result
 * does not depend on the thread count). A time argument `t` of length 1 applies to every customer.
 */
namespace crmkit::clv {

/** Parameter structs of transaction models (those with P(alive) and expected purchases). */
template <class P>
concept transaction_params = requires(const P& p) {
  { model_for<P>::type::conditional_expected(p, 1.0, 0.0, 0.0, 1.0) } -> std::same_as<double>;
};

/** Throws invalid_input unless every parameter is positive and finite. */
template <class P>
void check_params(std::string_view function, const P& params) {
  model_for<P>::type::check_params(function, params);
}

/** ℓ for one customer (FHL 2005 eq. 6 for BG/NBD; see detail/beta_geometric.hpp). */
template <transaction_params P>
double log_likelihood(const P& p, double x, double t_x, double age) {
  log_likelihood_derivatives<4> d;
  const pattern row{x, t_x, age, 1.0};
  model_for<P>::type::template accumulate<false>(p, std::span<const pattern>(&row, 1), d);
  return d.value;
}

/** P(alive | x, t_x, T) = expit(−s) (FHL note 021; Batislam et al. 2007 for MBG/NBD). */
template <transaction_params P>
double conditional_probability_alive(const P& p, double x, double t_x, double age) {
  return model_for<P>::type::probability_alive(p, x, t_x, age);
}

/** E[Y(t) | x, t_x, T], expected purchases in (T, T+t] (FHL 2005 eq. 10, Euler-transformed). */
template <transaction_params P>
double conditional_expected_number_of_purchases_up_to_time(const P& p, double t, double x,
                                                           double t_x, double age) {
  return model_for<P>::type::conditional_expected(p, t, x, t_x, age);
}

/** E[X(t)] for a new customer (FHL 2005 eq. 9). */
template <transaction_params P>
double expected_number_of_purchases_up_to_time(const P& p, double t) {
  return model_for<P>::type::expected_new(p, t);
}

/** P(X(t) = n) for a new customer (FHL 2005 eq. 8, tail as an incomplete beta). */
template <transaction_params P>
double probability_of_n_purchases_up_to_time(const P& p, double t, double n) {
  return model_for<P>::type::pmf(p, t, n);
}

namespace detail {

inline void check_times(std::string_view function, std::string_view name, std::span<const double> t,
                        std::size_t customers, std::string_view other = "frequency") {
  check::not_empty(function, name, t.size());
  if (t.size() != 1) check::same_size(function, name, t.size(), other, customers);
  check::all_nonnegative(function, name, t);
}

inline double broadcast(std::span<const double> values, std::size_t i) {
  return values.size() == 1 ? values[0] : values[i];
}

template <class Kernel>
std::vector<double> per_customer(std::size_t n, Kernel&& kernel) {
  std::vector<double> out(n);
  parallel_for(
      n,
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) out[i] = kernel(i);
      },
      1024);
  return out;
}

}  // namespace detail

/**
 * Transaction models whose conditional expectation factors as
 *   E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | alive, x, T],
 * the second factor, the expensive one (a ₂F₁ for BG/NBD, FHL 2005 eq. 10), free of t_x; the
 * model provides it as `alive_purchases(p, t, x, T)`.
 */
template <class P>
concept separable_transaction_params = transaction_params<P> && requires(const P& p) {
  { model_for<P>::type::alive_purchases(p, 1.0, 0.0, 1.0) } -> std::same_as<double>;
};

/**
 * Conditional predictions for many customers at once. For separable models (above) the
 * customers are grouped by (x, T) (group_by_frequency_and_age) and E[Y(t) | alive, x, T] is
 * evaluated once per group and horizon, P(alive) once per customer. Ages that are nearly all
 * distinct (continuous times; judged on a sample by detail::merging_pays) leave nothing to share,
 * and the customers are then evaluated one by one. Every value is the same
 * product the scalar conditional_expected_number_of_purchases_up_to_time forms, so the results
 * are bit-identical to it (and do not depend on the thread count). Other models are evaluated
 * customer by customer. The spans are borrowed: they must outlive the forecast.
 */
template <transaction_params P>
class customer_forecast {
 public:
  /** Checks the parameters and histories (invalid_input names `function`, index and value). */
  customer_forecast(std::string_view function, const P& params, std::span<const double> x,
                    std::span<const double> t_x, std::span<const double> age)
      : customer_forecast(params, x, t_x, age,
                          (check_params(function, params), check_histories(function, x, t_x, age))) {}

  /** For parameters and histories already checked; `checked` is what check_histories found. */
  customer_forecast(const P& params, std::span<const double> x, std::span<const double> t_x,
                    std::span<const double> age, const history_check& checked)
      : params_(params), x_(x), t_x_(t_x), age_(age), histories_(checked) {
    if constexpr (separable) {
      if (detail::merging_pays(x, age)) {
        groups_ = group_by_frequency_and_age(x, age);
        alive_ = probability_alive();
      }
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return x_.size(); }

  /** What check_histories found: the histories no customer can have. */
  [[nodiscard]] const history_check& histories() const noexcept { return histories_; }

  /** P(alive | x, t_x, T) of every customer (kept when grouped, else computed on each call). */
  [[nodiscard]] std::vector<double> probability_alive() const {
    if (!alive_.empty()) return alive_;
    return detail::per_customer(size(), [&](std::size_t i) { return alive(i); });
  }

  /** E[Y(t) | x, t_x, T] of every customer for one horizon t >= 0. */
  [[nodiscard]] std::vector<double> expected_purchases(double t) const {
    return discounted_increments(std::span<const double>(&t, 1), unit_divisor());
  }

  /**
   * Σ_{k=1..K} (E[Y(t_k) | ·] − E[Y(t_{k−1}) | ·]) / divisor_k per customer, E[Y(t_0)] = 0,
   * added in k order (with one horizon and divisor 1: E[Y(t_1) | ·] itself).
   */
  [[nodiscard]] std::vector<double> discounted_increments(std::span<const double> horizons,
                                                          std::span<const double> divisors) const {
    const std::size_t n = size();
    const std::size_t steps = horizons.size();
    if constexpr (!separable) {
      return customer_by_customer(horizons, divisors);
    } else {
      if (groups_.of_customer.empty()) return customer_by_customer(horizons, divisors);
      using model = typename model_for<P>::type;
      const std::size_t groups = groups_.size();
      // Horizons in blocks whose per-group table stays within table_limit values.
      const std::size_t block =
          std::max<std::size_t>(1, table_limit / std::max<std::size_t>(groups, 1));
      std::vector<double> value(n, 0.0);
      std::vector<double> previous(steps > block ? n : 0, 0.0);
      std::vector<double> table;
      for (std::size_t first = 0; first < steps; first += block) {
        const std::size_t width = std::min(block, steps - first);
        table.resize(groups * width);
        parallel_for(
            groups,
            [&](std::size_t begin, std::size_t end) {
              for (std::size_t g = begin; g < end; ++g) {
                for (std::size_t k = 0; k < width; ++k) {
                  table[g * width + k] = model::alive_purchases(
                      params_, horizons[first + k], groups_.frequency[g], groups_.age[g]);
                }
              }
            },
            group_grain);
        parallel_for(
            n,
            [&](std::size_t begin, std::size_t end) {
              for (std::size_t i = begin; i < end; ++i) {
                const double alive = alive_[i];
                const double* row = table.data() + groups_.of_customer[i] * width;
                double sum = value[i];
                double before = first == 0 ? 0.0 : previous[i];
                for (std::size_t k = 0; k < width; ++k) {
                  const double current = alive == 0 ? 0.0 : alive * row[k];
                  sum += (current - before) / divisors[first + k];
                  before = current;
                }
                value[i] = sum;
                if (!previous.empty()) previous[i] = before;
              }
            },
            1024);
      }
      return value;
    }
  }

 private:
  static constexpr bool separable = separable_transaction_params<P>;

  [[nodiscard]] double alive(std::size_t i) const {
    return conditional_probability_alive(params_, x_[i], t_x_[i], age_[i]);
  }

  /** discounted_increments one customer at a time (ungrouped; P(alive) computed here, once). */
  [[nodiscard]] std::vector<double> customer_by_customer(std::span<const double> horizons,
                                                         std::span<const double> divisors) const {
    return detail::per_customer(size(), [&](std::size_t i) {
      double value = 0;
      double previous = 0;
      [[maybe_unused]] double alive_i = 0;
      if constexpr (separable) alive_i = alive(i);
      for (std::size_t k = 0; k < horizons.size(); ++k) {
        double current = 0;
        if constexpr (separable) {
          current = alive_i == 0 ? 0.0
                                 : alive_i * model_for<P>::type::alive_purchases(
                                                 params_, horizons[k], x_[i], age_[i]);
        } else {
          current = conditional_expected_number_of_purchases_up_to_time(params_, horizons[k],
                                                                        x_[i], t_x_[i], age_[i]);
        }
        value += (current - previous) / divisors[k];
        previous = current;
      }
      return value;
    });
  }

  /** Values of E[Y(t) | alive, x, T] held at once (32 MiB). */
  static constexpr std::size_t table_limit = std::size_t{1} << 22;
  /** Groups per parallel chunk: one evaluation costs from 0.1 to 10 µs. */
  static constexpr std::size_t group_grain = 64;

  static std::span<const double> unit_divisor() {
    static constexpr double one = 1;
    return {&one, 1};
  }

  P params_;
  std::span<const double> x_, t_x_, age_;
  history_check histories_;
  std::vector<double> alive_;
  frequency_age_groups groups_;
};

/**
 * Vectorised conditional_probability_alive. `histories`, when given, receives what
 * check_histories found (the histories no customer can have; the same in every vector form).
 */
template <transaction_params P>
std::vector<double> conditional_probability_alive(const P& p, std::span<const double> x,
                                                  std::span<const double> t_x,
                                                  std::span<const double> age,
                                                  history_check* histories = nullptr) {
  constexpr std::string_view function = "conditional_probability_alive";
  check_params(function, p);
  detail::report_histories(check_histories(function, x, t_x, age), histories);
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return conditional_probability_alive(p, x[i], t_x[i], age[i]);
  });
}

/** Vectorised conditional_expected_number_of_purchases_up_to_time. */
template <transaction_params P>
std::vector<double> conditional_expected_number_of_purchases_up_to_time(
    const P& p, std::span<const double> t, std::span<const double> x, std::span<const double> t_x,
    std::span<const double> age, history_check* histories = nullptr) {
  constexpr std::string_view function = "conditional_expected_number_of_purchases_up_to_time";
  check_params(function, p);
  const history_check checked = check_histories(function, x, t_x, age);
  detail::check_times(function, "t", t, x.size());
  detail::report_histories(checked, histories);
  // One horizon for everyone (also when broadcast to every customer, as Python passes it).
  if (std::all_of(t.begin(), t.end(), [&](double value) { return value == t[0]; })) {
    return customer_forecast<P>(p, x, t_x, age, checked).expected_purchases(t[0]);
  }
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return conditional_expected_number_of_purchases_up_to_time(p, detail::broadcast(t, i), x[i],
                                                               t_x[i], age[i]);
  });
}

/** Vectorised expected_number_of_purchases_up_to_time over horizons t. */
template <transaction_params P>
std::vector<double> expected_number_of_purchases_up_to_time(const P& p, std::span<const double> t) {
  constexpr std::string_view function = "expected_number_of_purchases_up_to_time";
  check_params(function, p);
  check::not_empty(function, "t", t.size());
  check::all_nonnegative(function, "t", t);
  return detail::per_customer(
      t.size(), [&](std::size_t i) { return expected_number_of_purchases_up_to_time(p, t[i]); });
}

/** Vectorised probability_of_n_purchases_up_to_time; t and n broadcast when of length 1. */
template <transaction_params P>
std::vector<double> probability_of_n_purchases_up_to_time(const P& p, std::span<const double> t,
                                                          std::span<const double> n) {
  constexpr std::string_view function = "probability_of_n_purchases_up_to_time";
  check_params(function, p);
  check::not_empty(function, "n", n.size());
  detail::check_frequency(function, n);
  const std::size_t size = std::max(t.size(), n.size());
  detail::check_times(function, "t", t, size, "n");
  if (n.size() != 1) check::same_size(function, "n", n.size(), "t", size);
  return detail::per_customer(size, [&](std::size_t i) {
    return probability_of_n_purchases_up_to_time(p, detail::broadcast(t, i),
                                                 detail::broadcast(n, i));
  });
}

}  // namespace crmkit::clv
