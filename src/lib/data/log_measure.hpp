#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "crmkit/data/grouping.hpp"
#include "crmkit/math/vector_exp_log.hpp"

// check_log's pass over a log (grouping.cpp), one chunk of rows at a time.
namespace crmkit::data::detail {

/** The extent of the rows of two extents. */
inline log_extent merge(log_extent a, const log_extent& b) noexcept {
  a.min_key = std::min(a.min_key, b.min_key);
  a.max_key = std::max(a.max_key, b.max_key);
  a.first_tick = std::min(a.first_tick, b.first_tick);
  a.last_tick = std::max(a.last_tick, b.last_tick);
  return a;
}

/**
 * Merges the extent of rows [0, n) (`key[i]`, `tick[i]`) into `part`; when `bins` is not null,
 * also counts every row in `bins[(key[i] >> key_counts::bin_log2) - first_bin]` and returns
 * false when some row's bin is outside [0, key_counts::bins) (the counts are then of no use).
 * With `math::simd_isa::avx2` (or avx512, which runs the same kernel: eight lanes were no faster)
 * the minima and maxima are kept in vector lanes, four rows at a time, and the bins come from the
 * keys with their sign bit flipped (an unsigned shift then equals the arithmetic one plus 2^51);
 * portable reads one row at a time. Both give the same results; `isa` must be supported
 * (math::simd_isa_supported).
 */
bool measure_chunk(math::simd_isa isa, const std::int64_t* key, const std::int64_t* tick,
                   std::size_t n, std::int64_t first_bin, std::uint32_t* bins,
                   log_extent& part) noexcept;

}  // namespace crmkit::data::detail
