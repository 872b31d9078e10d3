#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

#include "crmkit/core/check.hpp"
#include "crmkit/core/limits.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/quantile.hpp"
#include "crmkit/core/random.hpp"
#include "crmkit/survey/interval.hpp"

namespace crmkit::survey::detail {

/** The random engine of every crmkit bootstrap: MT19937-64 (crmkit/core/random.hpp), used with
    Boost's distributions, whose output is the same on every platform and standard library. */
using bootstrap_engine = rng::mt_engine;

/** Replicates are drawn in blocks of this many, each block from its own seeded engine. */
inline constexpr std::size_t bootstrap_block = 64;

/**
 * `resamples` bootstrap replicates `replicate(engine)`. Block b of `bootstrap_block` replicates
 * uses an engine seeded with rng::stream_seed(rng::stream_seed(seed, stream), b), and blocks run in
 * parallel, so the replicates depend on (seed, stream) only, never on the thread count.
 */
template <class Replicate>
[[nodiscard]] auto bootstrap_replicates(std::size_t resamples, std::uint64_t seed,
                                        std::uint64_t stream, Replicate&& replicate) {
  std::vector<std::invoke_result_t<Replicate&, bootstrap_engine&>> values(resamples);
  const std::uint64_t seed_of_stream = rng::stream_seed(seed, stream);
  parallel_chunks(resamples, bootstrap_block,
                  [&](std::size_t block, std::size_t begin, std::size_t end) {
                    bootstrap_engine engine(rng::stream_seed(seed_of_stream, block));
                    for (std::size_t r = begin; r < end; ++r) values[r] = replicate(engine);
                  });
  return values;
}

/**
 * Percentile bootstrap interval (Efron & Tibshirani 1993, §13.3): the α/2 and 1 − α/2 sample
 * quantiles of the replicates, linearly interpolated (Hyndman & Fan 1996 type 7, numpy's default).
 * NaN replicates (a resample whose weights are all 0) are left out; NaN if none remain.
 */
[[nodiscard]] inline interval percentile_interval(std::vector<double> replicates,
                                                  double confidence) {
  std::erase_if(replicates, [](double value) { return std::isnan(value); });
  if (replicates.empty()) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan};
  }
  std::sort(replicates.begin(), replicates.end());
  const auto quantile = [&](double probability) {
    return sorted_quantile([&](std::size_t i) { return replicates[i]; }, replicates.size(),
                           probability);
  };
  const double alpha = 1.0 - confidence;
  return {quantile(alpha / 2), quantile(1.0 - alpha / 2)};
}

/** Throws `invalid_input` unless at least 2 resamples are asked for. */
inline void check_resamples(std::string_view function, std::size_t resamples) {
  if (resamples < 2) {
    check::fail(function, fmt::format("n_boot = {} must be at least 2", resamples));
  }
  limits::at_most(function, "n_boot", resamples, limits::max_bootstrap_resamples);
}

}  // namespace crmkit::survey::detail
