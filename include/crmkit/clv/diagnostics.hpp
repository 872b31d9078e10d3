#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <Eigen/Dense>
#include <tuple>

#include "crmkit/clv/predict.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/parallel.hpp"

/** Model-fit diagnostics and population summaries of the transaction models. */
namespace crmkit::clv {

/**
 * P(alive) over a grid: entry (t_x, x) for t_x = 0..max_recency, x = 0..max_frequency, every
 * customer of age T = max_recency (lifetimes `conditional_probability_alive_matrix`).
 */
template <transaction_params P>
Eigen::MatrixXd probability_alive_matrix(const P& p, std::size_t max_frequency,
                                         std::size_t max_recency) {
  check_params("probability_alive_matrix", p);
  const auto rows = static_cast<Eigen::Index>(max_recency + 1);
  const auto cols = static_cast<Eigen::Index>(max_frequency + 1);
  Eigen::MatrixXd matrix(rows, cols);
  const auto age = static_cast<double>(max_recency);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      matrix(i, j) =
          conditional_probability_alive(p, static_cast<double>(j), static_cast<double>(i), age);
    }
  }
  return matrix;
}

/**
 * Expected purchases in the next t periods over the same grid (lifetimes
 * `plot_frequency_recency_matrix`, which uses t = 1): entry (t_x, x), T = max_recency.
 */
template <transaction_params P>
Eigen::MatrixXd expected_purchases_matrix(const P& p, double t, std::size_t max_frequency,
                                          std::size_t max_recency) {
  constexpr std::string_view function = "expected_purchases_matrix";
  check_params(function, p);
  check::nonnegative(function, "t", t);
  const auto rows = static_cast<Eigen::Index>(max_recency + 1);
  const auto cols = static_cast<Eigen::Index>(max_frequency + 1);
  Eigen::MatrixXd matrix(rows, cols);
  const auto age = static_cast<double>(max_recency);
  parallel_for(
      static_cast<std::size_t>(rows),
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) {
          for (Eigen::Index j = 0; j < cols; ++j) {
            matrix(static_cast<Eigen::Index>(i), j) =
                conditional_expected_number_of_purchases_up_to_time(p, t, static_cast<double>(j),
                                                                    static_cast<double>(i), age);
          }
        }
      },
      1);
  return matrix;
}

/**
 * Expected cumulative repeat purchases of a cohort (the "tracking" curve): for each time t_j,
 * Σ_{k: b_k < t_j} n_k · E[X(t_j − b_k)], where n_k customers made their first purchase at
 * time b_k (lifetimes `expected_cumulative_transactions`, predicted column).
 */
template <transaction_params P>
std::vector<double> expected_cumulative_transactions(const P& p, std::span<const double> birth,
                                                     std::span<const double> customers,
                                                     std::span<const double> times) {
  constexpr std::string_view function = "expected_cumulative_transactions";
  check_params(function, p);
  check::same_size(function, "birth", birth.size(), "customers", customers.size());
  check::all_finite(function, "birth", birth);
  check::all_nonnegative(function, "customers", customers);
  check::all_finite(function, "times", times);
  return detail::per_customer(times.size(), [&](std::size_t j) {
    double total = 0;
    for (std::size_t k = 0; k < birth.size(); ++k) {
      if (birth[k] < times[j]) {
        total += customers[k] * expected_number_of_purchases_up_to_time(p, times[j] - birth[k]);
      }
    }
    return total;
  });
}

/** One row of calibration_vs_holdout. */
struct calibration_holdout_row {
  double frequency = 0;          ///< calibration frequency (the last row: this or more)
  double customers = 0;          ///< customers in the group
  double actual_holdout = 0;     ///< mean holdout purchases
  double predicted_holdout = 0;  ///< mean CET(duration | calibration history)
};

constexpr auto description(std::type_identity<calibration_holdout_row>) {
  using s = calibration_holdout_row;
  return std::tuple{
      describe::field{"frequency_cal", &s::frequency,
                      "calibration frequency (the last row: this or more)"},
      describe::field{"customers", &s::customers, "customers in the group"},
      describe::field{"frequency_holdout", &s::actual_holdout, "mean holdout purchases"},
      describe::field{"model_predictions", &s::predicted_holdout,
                      "mean CET(duration | calibration history)"}};
}

/**
 * Mean holdout purchases, actual and predicted, by calibration frequency 0..max_frequency, the
 * last group collecting frequency ≥ max_frequency (lifetimes
 * `plot_calibration_purchases_vs_holdout_purchases` with kind="frequency_cal"). Empty groups
 * are omitted.
 */
template <transaction_params P>
std::vector<calibration_holdout_row> calibration_vs_holdout(
    const P& p, std::span<const double> x, std::span<const double> t_x, std::span<const double> age,
    std::span<const double> holdout_frequency, std::span<const double> duration,
    std::size_t max_frequency) {
  constexpr std::string_view function = "calibration_vs_holdout";
  check::same_size(function, "frequency_holdout", holdout_frequency.size(), "frequency", x.size());
  check::all_nonnegative(function, "frequency_holdout", holdout_frequency);
  const auto predicted =
      conditional_expected_number_of_purchases_up_to_time(p, duration, x, t_x, age);
  std::vector<calibration_holdout_row> groups(max_frequency + 1);
  for (std::size_t k = 0; k <= max_frequency; ++k) groups[k].frequency = static_cast<double>(k);
  for (std::size_t i = 0; i < x.size(); ++i) {
    auto& group = groups[std::min(static_cast<std::size_t>(x[i]), max_frequency)];
    group.customers += 1;
    group.actual_holdout += holdout_frequency[i];
    group.predicted_holdout += predicted[i];
  }
  std::erase_if(groups, [](const calibration_holdout_row& g) { return g.customers == 0; });
  for (auto& group : groups) {
    group.actual_holdout /= group.customers;
    group.predicted_holdout /= group.customers;
  }
  return groups;
}

/** One bar of repeat_frequency_histogram. */
struct frequency_bin {
  double frequency = 0;  ///< number of repeat purchases (the last bin: this or more)
  double actual = 0;     ///< customers observed with it
  double expected = 0;   ///< Σ_i P(X(T_i) = k) (last bin: Σ_i P(X(T_i) ≥ k))
};

constexpr auto description(std::type_identity<frequency_bin>) {
  using s = frequency_bin;
  return std::tuple{
      describe::field{"frequency", &s::frequency,
                      "number of repeat purchases (the last bin: this or more)"},
      describe::field{"actual", &s::actual, "customers observed with it"},
      describe::field{"expected", &s::expected, "Σ_i P(X(T_i) = k) (last bin: Σ_i P(X(T_i) ≥ k))"}};
}

/**
 * Expected vs actual repeat-purchase frequencies in the calibration period: expected counts are
 * Σ_i P(X(T_i) = k) over customers, each at their own age T_i (BTYD
 * `bgnbd.PlotFrequencyInCalibration`, exact pmf rather than lifetimes' simulation), for
 * k = 0..max_frequency−1, and the last bin collects k ≥ max_frequency.
 */
template <transaction_params P>
std::vector<frequency_bin> repeat_frequency_histogram(const P& p, std::span<const double> x,
                                                      std::span<const double> age,
                                                      std::size_t max_frequency) {
  constexpr std::string_view function = "repeat_frequency_histogram";
  check_params(function, p);
  check::not_empty(function, "frequency", x.size());
  check::same_size(function, "frequency", x.size(), "T", age.size());
  detail::check_frequency(function, x);
  check::all_nonnegative(function, "T", age);
  using bins = std::vector<double>;
  const std::size_t count = max_frequency + 1;
  // Customers of one age share their probabilities: each distinct age is evaluated once and
  // weighted by its customers (logs with dates have few distinct ages).
  std::vector<double> ages(age.begin(), age.end());
  std::sort(ages.begin(), ages.end());
  std::vector<double> distinct, customers;
  for (const double value : ages) {
    if (distinct.empty() || distinct.back() != value) {
      distinct.push_back(value);
      customers.push_back(0);
    }
    customers.back() += 1;
  }
  const bins expected = parallel_reduce(
      distinct.size(), bins(count, 0.0),
      [&](std::size_t begin, std::size_t end) {
        bins part(count, 0.0);
        for (std::size_t i = begin; i < end; ++i) {
          double below = 0;
          for (std::size_t k = 0; k < max_frequency; ++k) {
            const double probability =
                probability_of_n_purchases_up_to_time(p, distinct[i], static_cast<double>(k));
            part[k] += customers[i] * probability;
            below += probability;
          }
          part[max_frequency] += customers[i] * std::max(0.0, 1 - below);
        }
        return part;
      },
      [&](bins total, const bins& part) {
        for (std::size_t k = 0; k < count; ++k) total[k] += part[k];
        return total;
      },
      64);
  std::vector<frequency_bin> histogram(count);
  for (std::size_t k = 0; k < count; ++k) {
    histogram[k].frequency = static_cast<double>(k);
    histogram[k].expected = expected[k];
  }
  for (double value : x)
    histogram[std::min(static_cast<std::size_t>(value), max_frequency)].actual += 1;
  return histogram;
}

}  // namespace crmkit::clv
