#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crmkit/segment/tiers.hpp"

/**
 * Value tiers of values spread over many places (a cluster's partitions) without gathering
 * them: a radix select over the values' IEEE-754 bit patterns.
 *
 * A non-negative double's 64-bit pattern orders like the double, so the top `width` bits of the
 * pattern (the *key*) cut the values into disjoint ranges, highest key = highest values. Every
 * width used is at least 16, so all values of a bucket share their exponent e and the bucket's
 * sum is exactly (Σ count·significand)·2^e, a 128-bit integer times a power of two: buckets from
 * different places add exactly, in any order.
 *
 * `value_tiers_of_buckets` walks the buckets highest first as `value_tiers` walks the distinct
 * values, with the same exact running sums (see tiers.hpp), and asks for a bucket to be split
 * (its values re-bucketed at width + 16) only when the tier could change inside it. At width 64
 * a bucket is one distinct value, so at most three splitting rounds resolve any cut; each round
 * moves only the children of at most two buckets per cut. The result (counts, value shares,
 * lowest values) equals `value_tiers` of all the values bit for bit.
 */
namespace crmkit::segment {

/** Values sharing the top `width` bits of their bit pattern, and their exact sum. */
struct value_bucket {
  std::int32_t width = 16;         ///< 16, 32, 48 or 64 (64: one distinct value)
  std::uint64_t key = 0;           ///< pattern >> (64 − width)
  std::int64_t count = 0;          ///< values in the bucket
  std::uint64_t significands_low = 0;   ///< Σ significand, low 64 bits
  std::uint64_t significands_high = 0;  ///< Σ significand, high 64 bits
  double lowest = 0;               ///< smallest value in the bucket
  double highest = 0;              ///< largest value in the bucket
};

/**
 * Buckets of width 16 of all `values` (no parents), or the buckets of width w + 16 of the values
 * inside the given parent buckets (widths `parent_widths`, keys `parent_keys`, any order); the
 * other values are skipped. Sorted highest first. −0 counts as 0.
 * @throw invalid_input for a negative or non-finite value (naming the row), a parent width not
 *        16, 32 or 48, or mismatched parent sizes.
 */
std::vector<value_bucket> value_buckets(std::span<const double> values,
                                        std::span<const std::int32_t> parent_widths,
                                        std::span<const std::uint64_t> parent_keys);

/** The tiers of merged buckets, or the buckets still to split. */
struct bucket_tiers {
  std::vector<value_bucket> split;  ///< buckets whose values must be re-bucketed (width, key)
  tier_result result;               ///< complete when `split` is empty; tiers per merged bucket
};

/**
 * `value_tiers` from buckets (any order, the same (width, key) from several places merged; the
 * buckets must not overlap). When `split` comes back empty, `result` holds the counts, value
 * shares and lowest values of `value_tiers` over the values the buckets stand for, bit for bit.
 * @throw invalid_input as `value_tiers` (empty input, zero total with value shares, bad cuts).
 */
bucket_tiers value_tiers_of_buckets(std::span<const value_bucket> buckets,
                                    std::span<const double> cuts, tier_basis basis);

}  // namespace crmkit::segment
