#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "crmkit/survey/category_tally.hpp"
#include "crmkit/survey/interval.hpp"

namespace crmkit::survey {

/** `successes` out of `n` (effective counts for weighted data, so not necessarily integers). */
struct proportion_counts {
  double n = 0;
  double successes = 0;
};

/**
 * Wilson score interval (Wilson 1927, *JASA* 22(158):209–212; recommended by Brown, Cai &
 * DasGupta 2001, *Statistical Science* 16(2)): with p̂ = x/n and z = z_{1−α/2},
 * (p̂ + z²/2n)/(1 + z²/n) ± z/(1 + z²/n)·√(p̂(1 − p̂)/n + z²/4n²). NaN for n = 0.
 */
[[nodiscard]] inline interval wilson_interval(const proportion_counts& counts, double confidence) {
  detail::check_confidence("wilson_interval", confidence);
  const double n = counts.n;
  const double share = counts.successes / n;
  const double z = math::two_sided_critical_value(confidence);
  const double z2 = z * z;
  const double denominator = 1 + z2 / n;
  const double center = (share + z2 / (2 * n)) / denominator;
  const double half =
      z / denominator * std::sqrt(std::max(0.0, share * (1 - share) / n + z2 / (4 * n * n)));
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

/**
 * One proportion estimate: `share` of answers that are successes (weighted when the data are),
 * its standard error √(p̂(1 − p̂)/n_eff) and Wilson interval. With no answers (or all weights 0)
 * share, SE and interval are NaN and `small_sample` is true.
 */
struct proportion_result {
  std::int64_t n = 0;
  std::int64_t successes = 0;
  double weight_total = 0;  ///< Σw (n when unweighted)
  double n_effective = 0;   ///< Kish (Σw)²/Σw² (n when unweighted)
  double share = 0;
  double standard_error = 0;
  interval ci{};
  bool small_sample = true;
};

/**
 * Mergeable proportion statistics (e.g. top-2-box share): counts of successes and failures and,
 * with `Weighted`, exact sums of their weights and of squared weights. Merging is exact, as for
 * `basic_nps_accumulator`. Precondition of the weighted `operator()`: `is_valid_weight(weight)`.
 */
template <bool Weighted>
class basic_proportion_accumulator {
 public:
  /** Adds one answer (weight 1). */
  void operator()(bool success) noexcept { tally_.add(success ? 1 : 0); }

  /** Adds one answer with survey weight `weight`. */
  void operator()(bool success, double weight) noexcept requires Weighted {
    tally_.add(success ? 1 : 0, weight);
  }

  /** Merges the answers of `other` into this accumulator. */
  basic_proportion_accumulator& operator+=(const basic_proportion_accumulator& other) noexcept {
    tally_ += other.tally_;
    return *this;
  }

  /** Number of answers added. */
  [[nodiscard]] std::int64_t count() const noexcept { return tally_.total(); }
  /** Number of successes among them. */
  [[nodiscard]] std::int64_t successes() const noexcept { return tally_.count(1); }
  /** Σw (the number of answers when unweighted). */
  [[nodiscard]] double weight_total() const noexcept { return tally_.weight_total(); }

  /** Effective counts (raw counts when unweighted). */
  [[nodiscard]] proportion_counts counts() const noexcept {
    const auto effective = tally_.effective_counts();
    return {effective[0] + effective[1], effective[1]};
  }

  friend bool operator==(const basic_proportion_accumulator&,
                         const basic_proportion_accumulator&) = default;

 private:
  detail::category_tally<2, Weighted> tally_;
};

using proportion_accumulator = basic_proportion_accumulator<false>;
using weighted_proportion_accumulator = basic_proportion_accumulator<true>;

/**
 * Share, SE and Wilson interval of an accumulator.
 * @throw invalid_input for a confidence outside (0, 1).
 */
template <bool Weighted>
[[nodiscard]] proportion_result summarize(const basic_proportion_accumulator<Weighted>& accumulator,
                                          const interval_options& options) {
  detail::check_confidence("proportion", options.confidence);
  const proportion_counts counts = accumulator.counts();
  proportion_result result;
  result.n = accumulator.count();
  result.successes = accumulator.successes();
  result.weight_total = accumulator.weight_total();
  result.n_effective = counts.n;
  result.small_sample = !(counts.n >= options.small_sample_below);
  if (counts.n == 0) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    result.share = result.standard_error = nan;
    result.ci = {nan, nan};
    return result;
  }
  result.share = counts.successes / counts.n;
  result.standard_error = std::sqrt(result.share * (1 - result.share) / counts.n);
  result.ci = wilson_interval(counts, options.confidence);
  return result;
}

}  // namespace crmkit::survey
