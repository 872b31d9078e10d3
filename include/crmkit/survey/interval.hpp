#pragma once

#include <cmath>
#include <string_view>

#include <fmt/format.h>
#include <boost/math/distributions/students_t.hpp>

#include "crmkit/core/check.hpp"
#include "crmkit/math/normal.hpp"

namespace crmkit::survey {

/** A two-sided confidence interval [lower, upper]; both NaN where the interval is undefined. */
struct interval {
  double lower = 0;
  double upper = 0;
};

/** Options shared by the CSAT, CES, mean and proportion summaries. */
struct interval_options {
  double confidence = 0.95;
  /** `small_sample` is set when n_eff is below this (default 30, the usual large-sample rule of
      thumb for normal-approximation intervals). */
  double small_sample_below = 30;
};

namespace detail {

/** Throws `invalid_input` unless 0 < confidence < 1. */
inline void check_confidence(std::string_view function, double confidence) {
  if (!(confidence > 0 && confidence < 1)) {
    check::fail(function,
                fmt::format("confidence = {} must lie strictly between 0 and 1", confidence));
  }
}

/** Throws `invalid_input` unless the small-sample threshold (Python: min_n) is finite and >= 0. */
inline void check_small_sample_below(std::string_view function, double small_sample_below) {
  if (!(small_sample_below >= 0 && small_sample_below < HUGE_VAL)) {
    check::fail(function, fmt::format("min_n (small_sample_below) = {} must be finite and >= 0",
                                      small_sample_below));
  }
}

/** t_{df, 1−α/2}: the two-sided Student-t critical value (df > 0, need not be an integer). */
inline double student_t_critical(double confidence, double degrees_of_freedom) {
  const boost::math::students_t distribution(degrees_of_freedom);
  return boost::math::quantile(boost::math::complement(distribution, (1.0 - confidence) / 2));
}

/** Two-sided normal p-value of a z statistic: 2(1 − Φ(|z|)) = erfc(|z|/√2). */
inline double normal_two_sided_p(double z) {
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

}  // namespace detail
}  // namespace crmkit::survey
