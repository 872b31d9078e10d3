#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include "crmkit/core/check.hpp"

/**
 * Per-customer summaries as the models see them, their validation, and the compression of
 * identical rows into weighted patterns.
 *
 * Conventions (lifetimes, FHL 2005): `frequency` x is the number of repeat purchases, `recency`
 * t_x the time of the last purchase and `T` the customer's age, both measured from the first
 * purchase in the same unit (days, weeks, ...). x = 0 implies t_x = 0; x > 0 implies t_x > 0.
 */
namespace crmkit::clv {

/** One compressed row: integer-valued `x`, two model-specific columns and a weight. */
struct pattern {
  double x = 0;       ///< frequency (number of repeat purchases)
  double u = 0;       ///< recency t_x (transaction models) or mean spend (Gamma-Gamma)
  double v = 0;       ///< age T (transaction models) or ln(mean spend) (Gamma-Gamma)
  double weight = 1;  ///< number of customers (or the user's weight) with this row
};

namespace detail {

inline void check_frequency(std::string_view function, std::span<const double> frequency) {
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    const double x = frequency[i];
    if (!(std::isfinite(x) && x >= 0)) {
      check::fail_at(function, "frequency", i, x, "must be finite and >= 0");
    }
    if (x != std::floor(x)) check::fail_at(function, "frequency", i, x, "must be an integer");
  }
}

inline void check_weights(std::string_view function, std::span<const double> weights,
                          std::size_t size) {
  if (weights.empty()) return;
  check::same_size(function, "weights", weights.size(), "frequency", size);
  check::all_nonnegative(function, "weights", weights);
  if (std::accumulate(weights.begin(), weights.end(), 0.0) <= 0) {
    check::fail(function, "weights sum to 0; at least one must be positive");
  }
}

}  // namespace detail

/**
 * Checks (frequency, recency, T) summaries: equal non-zero lengths; frequency a finite
 * non-negative integer; recency and T finite and >= 0; recency <= T; recency = 0 exactly when
 * frequency = 0. Throws crmkit::invalid_input naming the argument, the index and the value.
 */
inline void check_summaries(std::string_view function, std::span<const double> frequency,
                            std::span<const double> recency, std::span<const double> age) {
  check::not_empty(function, "frequency", frequency.size());
  check::same_size(function, "frequency", frequency.size(), "recency", recency.size());
  check::same_size(function, "frequency", frequency.size(), "T", age.size());
  detail::check_frequency(function, frequency);
  check::all_nonnegative(function, "recency", recency);
  check::all_nonnegative(function, "T", age);
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    if (recency[i] > age[i]) {
      check::fail(function, fmt::format("recency[{}] = {} is greater than T[{}] = {}", i,
                                        recency[i], i, age[i]));
    }
    if (frequency[i] > 0 && recency[i] == 0) {
      check::fail(function, fmt::format("frequency[{}] = {} but recency[{}] = 0: a customer with "
                                        "repeat purchases has a positive recency",
                                        i, frequency[i], i));
    }
    if (frequency[i] == 0 && recency[i] != 0) {
      check::fail(function, fmt::format("frequency[{}] = 0 but recency[{}] = {}: without repeat "
                                        "purchases the recency is 0",
                                        i, i, recency[i]));
    }
  }
}

/**
 * Sorts rows by (x, u, v) and merges identical ones, summing their weights (zero-weight rows are
 * dropped). The order is total, so the result is the same on every run and thread count.
 */
inline std::vector<pattern> compress(std::vector<pattern> rows) {
  std::erase_if(rows, [](const pattern& row) { return row.weight == 0; });
  auto key_less = [](const pattern& left, const pattern& right) {
    if (left.x != right.x) return left.x < right.x;
    if (left.u != right.u) return left.u < right.u;
    return left.v < right.v;
  };
  std::stable_sort(rows.begin(), rows.end(), key_less);
  std::vector<pattern> merged;
  merged.reserve(rows.size());
  for (const auto& row : rows) {
    if (!merged.empty() && merged.back().x == row.x && merged.back().u == row.u &&
        merged.back().v == row.v) {
      merged.back().weight += row.weight;
    } else {
      merged.push_back(row);
    }
  }
  return merged;
}

/** Rows (x, t_x, T, weight) from checked summaries; `weights` may be empty (all 1). */
inline std::vector<pattern> transaction_patterns(std::string_view function,
                                                 std::span<const double> frequency,
                                                 std::span<const double> recency,
                                                 std::span<const double> age,
                                                 std::span<const double> weights = {}) {
  check_summaries(function, frequency, recency, age);
  detail::check_weights(function, weights, frequency.size());
  std::vector<pattern> rows(frequency.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i] = {frequency[i], recency[i], age[i], weights.empty() ? 1.0 : weights[i]};
  }
  return compress(std::move(rows));
}

}  // namespace crmkit::clv
