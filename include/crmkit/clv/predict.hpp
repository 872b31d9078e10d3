#pragma once

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

/** Vectorised conditional_probability_alive. */
template <transaction_params P>
std::vector<double> conditional_probability_alive(const P& p, std::span<const double> x,
                                                  std::span<const double> t_x,
                                                  std::span<const double> age) {
  constexpr std::string_view function = "conditional_probability_alive";
  check_params(function, p);
  check_summaries(function, x, t_x, age);
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return conditional_probability_alive(p, x[i], t_x[i], age[i]);
  });
}

/** Vectorised conditional_expected_number_of_purchases_up_to_time. */
template <transaction_params P>
std::vector<double> conditional_expected_number_of_purchases_up_to_time(
    const P& p, std::span<const double> t, std::span<const double> x, std::span<const double> t_x,
    std::span<const double> age) {
  constexpr std::string_view function = "conditional_expected_number_of_purchases_up_to_time";
  check_params(function, p);
  check_summaries(function, x, t_x, age);
  detail::check_times(function, "t", t, x.size());
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
