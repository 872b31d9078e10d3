#pragma once

#include <cstddef>
#include <vector>

#include "crmkit/core/exact_sum.hpp"
#include "crmkit/math/vector_exp_log.hpp"

// k-means' exact sums: the passes over its columns (kmeans_column_sums, kmeans_column_deviations)
// and its inertia.
namespace crmkit::segment::detail {

/** What `add_columns` accumulates over the rows it is given. */
struct column_totals {
  explicit column_totals(std::size_t columns) : sums(columns) {}

  std::vector<full_range_sum> sums;  ///< per column, the exact sum of its finite values
  double largest_row_sum = 0;        ///< with a centre: the largest Σ_j value, added left to right
  bool non_finite = false;           ///< some value was ±inf or NaN (left out of the sums)
};

/**
 * Adds, for rows i in [begin, end) of the row-major `x` (row i at x + i * stride, `d` columns),
 * value(i, j) = x_ij — or (x_ij − centre_j)², rounded once, when `centre` is not null — to
 * `totals.sums[j]` exactly.
 *
 * Rows go in blocks of 128. Within a block, a column whose values all satisfy |v| < 2^E is split
 * without error (Rump, Ogita & Oishi, "Accurate floating-point summation", SIAM J. Sci. Comput.
 * 31(1), 2008: ExtractVector): with σ = 1.5 · 2^(E+6), hi = (v + σ) − σ is v rounded to a
 * multiple of 2^(E−46) and lo = v − hi is exact, |lo| ≤ 2^(E−47); the block's 128 hi add up in
 * double without rounding (their sum stays within 2^53 of those units). lo is split once more
 * the same way; what remains (nonzero only for values below 2^(E−41)) is added value by value,
 * as are a block's column holding a non-finite value and one whose largest magnitude reaches
 * 2^1000. Every path adds the same values exactly, so the sums do not depend on the blocks, the
 * chunks or `isa` (avx2 and avx512 run one AVX2 kernel, four columns at a time; portable one
 * value at a time); `isa` must be supported. With a centre, `largest_row_sum` also takes each
 * row's Σ_j value, added left to right (bit for bit the squared norm a plain loop computes).
 */
void add_columns(math::simd_isa isa, const double* x, std::size_t stride, std::size_t d,
                 std::size_t begin, std::size_t end, const double* centre, column_totals& totals);

/**
 * Adds the finite values among values[0, n) to `sum` exactly (add_columns over them as rows of
 * four columns); returns false when some value was ±inf or NaN.
 */
bool add_values(math::simd_isa isa, const double* values, std::size_t n, full_range_sum& sum);

}  // namespace crmkit::segment::detail
