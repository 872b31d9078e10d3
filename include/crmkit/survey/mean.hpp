#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "crmkit/survey/exact_sum.hpp"
#include "crmkit/survey/interval.hpp"

namespace crmkit::survey {

/** Largest |score| a mean accumulator takes (keeps every sum it holds exact). */
inline constexpr std::int64_t max_mean_score = 1000;

/**
 * Sample moments: effective sample size `n` (Kish n_eff when weighted), `mean`, and the unbiased
 * variance estimate (NaN when n ≤ 1).
 */
struct mean_moments {
  double n = 0;
  double mean = 0;
  double variance = 0;
};

/**
 * One mean estimate with its standard deviation, standard error s/√n_eff and t interval
 * x̄ ± t_{n_eff−1, 1−α/2}·s/√n_eff (Student 1908; for weighted data Kish's n_eff replaces n).
 * With no answers everything but the counts is NaN; with n_eff ≤ 1 the mean is defined but the
 * spread, SE and interval are NaN. `small_sample` is set in both cases.
 */
struct mean_result {
  std::int64_t n = 0;
  double weight_total = 0;  ///< Σw (n when unweighted)
  double n_effective = 0;   ///< Kish (Σw)²/Σw² (n when unweighted)
  double mean = 0;
  double standard_deviation = 0;
  double standard_error = 0;
  interval ci{};
  bool small_sample = true;
};

namespace detail {

struct mean_weights {
  exact_sum weight{};
  exact_sum weighted_sum{};
  exact_sum weighted_squares{};
  exact_sum squared_weight{};
  friend bool operator==(const mean_weights&, const mean_weights&) = default;
};

struct no_mean_weights {
  friend bool operator==(const no_mean_weights&, const no_mean_weights&) = default;
};

}  // namespace detail

/**
 * Mergeable mean and variance of integer scores. Unweighted it keeps n, Σx and Σx² as integers,
 * so the variance numerator nΣx² − (Σx)² is computed exactly (no cancellation, unlike a
 * floating-point Welford update); weighted it keeps exact sums Σw, Σwx, Σwx² and Σw². Merging is
 * therefore exact: `a += b` equals one pass over both parts, bit for bit, whatever the split.
 *
 * Preconditions (checked by crmkit's entry points): |score| ≤ `max_mean_score`;
 * `is_valid_weight(weight)`.
 */
template <bool Weighted>
class basic_mean_accumulator {
 public:
  /** Adds one score (weight 1). */
  void operator()(std::int64_t score) noexcept {
    if constexpr (Weighted) {
      (*this)(score, 1.0);
    } else {
      ++n_;
      sum_ += score;
      sum_squares_ += score * score;
    }
  }

  /** Adds one score with survey weight `weight`. */
  void operator()(std::int64_t score, double weight) noexcept requires Weighted {
    ++n_;
    sum_ += score;
    sum_squares_ += score * score;
    weights_.weight.add(weight);
    weights_.weighted_sum.add_product(weight, score);
    weights_.weighted_squares.add_product(weight, score * score);
    weights_.squared_weight.add(weight * weight);
  }

  /** Merges the scores of `other` into this accumulator. */
  basic_mean_accumulator& operator+=(const basic_mean_accumulator& other) noexcept {
    n_ += other.n_;
    sum_ += other.sum_;
    sum_squares_ += other.sum_squares_;
    if constexpr (Weighted) {
      weights_.weight += other.weights_.weight;
      weights_.weighted_sum += other.weights_.weighted_sum;
      weights_.weighted_squares += other.weights_.weighted_squares;
      weights_.squared_weight += other.weights_.squared_weight;
    }
    return *this;
  }

  /** Number of scores added. */
  [[nodiscard]] std::int64_t count() const noexcept { return n_; }

  /** Σw (the number of scores when unweighted). */
  [[nodiscard]] double weight_total() const noexcept {
    if constexpr (Weighted) {
      return weights_.weight.value();
    } else {
      return static_cast<double>(n_);
    }
  }

  /**
   * Effective n, mean and unbiased variance. Unweighted: s² = (nΣx² − (Σx)²)/(n(n − 1)).
   * Weighted: x̄ = Σwx/Σw and s² = [Σw(x − x̄)²/Σw]·n_eff/(n_eff − 1), n_eff = (Σw)²/Σw².
   */
  [[nodiscard]] mean_moments moments() const noexcept {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    if constexpr (Weighted) {
      const double weight = weights_.weight.value();
      const double squares = weights_.squared_weight.value();
      if (weight == 0 || squares == 0) return {0, nan, nan};
      const double n = weight * (weight / squares);
      const double mean = weights_.weighted_sum.value() / weight;
      const double spread =
          std::max(0.0, weights_.weighted_squares.value() - mean * weights_.weighted_sum.value());
      return {n, mean, n > 1 ? spread / weight * n / (n - 1) : nan};
    } else {
      if (n_ == 0) return {0, nan, nan};
      const double n = static_cast<double>(n_);
      const double mean = static_cast<double>(sum_) / n;
      if (n_ == 1) return {n, mean, nan};
      __extension__ using int128 = __int128;
      const int128 numerator =
          static_cast<int128>(n_) * sum_squares_ - static_cast<int128>(sum_) * sum_;
      return {n, mean, static_cast<double>(numerator) / (n * (n - 1))};
    }
  }

  friend bool operator==(const basic_mean_accumulator&, const basic_mean_accumulator&) = default;

 private:
  std::int64_t n_ = 0;
  std::int64_t sum_ = 0;
  std::int64_t sum_squares_ = 0;
  [[no_unique_address]] std::conditional_t<Weighted, detail::mean_weights, detail::no_mean_weights>
      weights_{};
};

using mean_accumulator = basic_mean_accumulator<false>;
using weighted_mean_accumulator = basic_mean_accumulator<true>;

/**
 * Mean, SD, SE and t interval of an accumulator.
 * @throw invalid_input for a confidence outside (0, 1).
 */
template <bool Weighted>
[[nodiscard]] mean_result summarize(const basic_mean_accumulator<Weighted>& accumulator,
                                    const interval_options& options) {
  detail::check_confidence("mean", options.confidence);
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  const mean_moments moments = accumulator.moments();
  mean_result result;
  result.n = accumulator.count();
  result.weight_total = accumulator.weight_total();
  result.n_effective = moments.n;
  result.mean = moments.mean;
  result.small_sample = !(moments.n >= options.small_sample_below);
  if (!(moments.n > 1)) {
    result.standard_deviation = result.standard_error = nan;
    result.ci = {nan, nan};
    return result;
  }
  result.standard_deviation = std::sqrt(moments.variance);
  result.standard_error = result.standard_deviation / std::sqrt(moments.n);
  const double half =
      detail::student_t_critical(options.confidence, moments.n - 1) * result.standard_error;
  result.ci = {result.mean - half, result.mean + half};
  return result;
}

}  // namespace crmkit::survey
