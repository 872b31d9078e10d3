#pragma once

#include <cstddef>
#include <string_view>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"

/**
 * Every size-like bound crmkit enforces (docs/limits.md lists them with their reasons). Work and
 * memory grow with these arguments, so a value past its bound is a typo or an attack, never a
 * request to honour: it is refused with invalid_input naming the argument, the value and the
 * bound, before any work starts.
 */
namespace crmkit::limits {

/** RFM quantile bins per dimension (scores 1..bins); memory and output grow with it. */
inline constexpr std::size_t max_rfm_bins = 100;
/** k-means restarts (n_init); each is a full k-means run. */
inline constexpr std::size_t max_kmeans_n_init = 1000;
/** k-means iterations per run (max_iter). */
inline constexpr std::size_t max_kmeans_iterations = 100'000;
/** k-means: largest norm of a centred row, so that squared distances (≤ (2·norm)²) stay finite: sqrt(DBL_MAX) / 2. */
inline constexpr double max_kmeans_centred_norm = 6.7e153;
/** Survey bootstrap resamples (n_boot); each resample is a pass over the answers. */
inline constexpr std::size_t max_bootstrap_resamples = 1'000'000;
/** Summary freq_multiplier: durations are divided by it, so tiny values overflow to inf. */
inline constexpr double min_freq_multiplier = 1e-6;
inline constexpr double max_freq_multiplier = 1e6;

/** Throws invalid_input unless `value` <= `bound`, naming the argument and the bound. */
template <class T>
void at_most(std::string_view function, std::string_view argument, T value, T bound) {
  if (!(value <= bound)) {
    check::fail(function, fmt::format("{} = {} exceeds its limit of {} (see docs/limits.md)",
                                      argument, value, bound));
  }
}

/** Throws invalid_input unless `value` lies in [low, high], naming the argument and the bounds. */
inline void within(std::string_view function, std::string_view argument, double value, double low,
                   double high) {
  if (!(value >= low && value <= high)) {
    check::fail(function, fmt::format("{} = {} must lie in [{}, {}] (see docs/limits.md)",
                                      argument, value, low, high));
  }
}

}  // namespace crmkit::limits
