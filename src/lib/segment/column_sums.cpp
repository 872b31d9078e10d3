#include "column_sums.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CRMKIT_COLUMN_SUMS_X86 1
#endif

namespace crmkit::segment::detail {
namespace {

using std::size_t;

constexpr size_t block_rows = 128;
constexpr int spare_bits = 6;  // hi's multiples of 2^(E+6−52), 128 of them, fit 53 bits
static_assert(block_rows == size_t{1} << (spare_bits + 1));
constexpr double largest_finite = std::numeric_limits<double>::max();

double value_at(const double* row, size_t j, const double* centre) noexcept {
  if (centre == nullptr) return row[j];
  const double deviation = row[j] - centre[j];
  return deviation * deviation;
}

/**
 * The two split constants for a column of a block whose magnitudes are at most `largest`
 * (< 2^E): σ₁ = 1.5 · 2^(E+6), and σ₂ for the first remainders (≤ 2^(E−47)); false where σ₁
 * would not be finite. Near the bottom of the range the constants turn subnormal (or σ₂ zero),
 * where every addition is exact and the sums stay below 2^53 units of 2^-1074.
 */
bool splitters(double largest, double& first, double& second) noexcept {
  int exponent = 0;
  std::frexp(largest, &exponent);
  if (exponent > 1000) return false;
  first = std::ldexp(1.5, exponent + spare_bits);
  second = std::ldexp(1.5, exponent + 2 * spare_bits - 53);
  return true;
}

struct split_value {
  double high, low, rest;  // value = high + low + rest, each exact
};

split_value split(double value, double first, double second) noexcept {
  const double high = (value + first) - first;
  const double remainder = value - high;
  const double low = (remainder + second) - second;
  return {high, low, remainder - low};
}

void add_finite(full_range_sum& sum, double value, bool& non_finite) noexcept {
  if (std::isfinite(value)) {
    sum.add(value);
  } else {
    non_finite = true;
  }
}

/** Column j of rows [first, last): the two sums of the split when `splittable`, else each value. */
void add_column(const double* x, size_t stride, size_t j, size_t first, size_t last,
                const double* centre, bool splittable, double high_splitter, double low_splitter,
                full_range_sum& sum, bool& non_finite) noexcept {
  if (!splittable) {
    for (size_t i = first; i < last; ++i) {
      add_finite(sum, value_at(x + i * stride, j, centre), non_finite);
    }
    return;
  }
  double highs = 0, lows = 0;
  bool rest = false;
  for (size_t i = first; i < last; ++i) {
    const split_value part =
        split(value_at(x + i * stride, j, centre), high_splitter, low_splitter);
    highs += part.high;
    lows += part.low;
    rest = rest || part.rest != 0;
  }
  sum.add(highs);
  sum.add(lows);
  if (!rest) return;
  for (size_t i = first; i < last; ++i) {
    sum.add(split(value_at(x + i * stride, j, centre), high_splitter, low_splitter).rest);
  }
}

void add_block_portable(const double* x, size_t stride, size_t d, size_t first, size_t last,
                        const double* centre, column_totals& totals) noexcept {
  for (size_t j = 0; j < d; ++j) {
    double largest = 0;
    bool finite = true;
    for (size_t i = first; i < last; ++i) {
      const double magnitude = std::abs(value_at(x + i * stride, j, centre));
      finite = finite && magnitude <= largest_finite;
      largest = std::max(largest, magnitude);
    }
    double high = 0, low = 0;
    const bool splittable = finite && splitters(largest, high, low);
    add_column(x, stride, j, first, last, centre, splittable, high, low, totals.sums[j],
               totals.non_finite);
  }
}

#ifdef CRMKIT_COLUMN_SUMS_X86
template <bool Deviations>
__attribute__((target("avx2"))) inline __m256d load_value(const double* at, __m256i mask,
                                                          __m256d origin) noexcept {
  const __m256d v = _mm256_maskload_pd(at, mask);
  if constexpr (!Deviations) return v;
  const __m256d deviation = _mm256_sub_pd(v, origin);
  return _mm256_mul_pd(deviation, deviation);
}

void prefetch_row(const double* row, size_t d) noexcept {
  const auto* bytes = reinterpret_cast<const char*>(row);
  for (size_t at = 0; at < d * sizeof(double); at += 64) __builtin_prefetch(bytes + at);
  __builtin_prefetch(bytes + d * sizeof(double) - 1);
}

// Four columns in the lanes; a lane that cannot be split is computed anyway and redone by
// add_column value by value.
template <bool Deviations>
__attribute__((target("avx2"))) void add_block_avx2(const double* x, size_t stride, size_t d,
                                                    size_t first, size_t last, size_t next_last,
                                                    const double* centre,
                                                    column_totals& totals) noexcept {
  const __m256d sign = _mm256_set1_pd(-0.0);
  const __m256d finite_limit = _mm256_set1_pd(largest_finite);
  const __m256d zero = _mm256_setzero_pd();
  for (size_t j = 0; j < d; j += 4) {
    const size_t lanes = std::min<size_t>(4, d - j);
    const __m256i mask = _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<std::int64_t>(lanes)),
                                            _mm256_setr_epi64x(0, 1, 2, 3));
    const __m256d origin = Deviations ? _mm256_maskload_pd(centre + j, mask) : zero;
    __m256d largest = zero, bad = zero;
    for (size_t i = first; i < last; ++i) {
      // The first columns' pass fetches the next block's rows, a stride the hardware misses.
      if (j == 0 && i - first + last < next_last) prefetch_row(x + (i - first + last) * stride, d);
      const __m256d magnitude =
          _mm256_andnot_pd(sign, load_value<Deviations>(x + i * stride + j, mask, origin));
      largest = _mm256_max_pd(largest, magnitude);
      bad = _mm256_or_pd(bad, _mm256_cmp_pd(magnitude, finite_limit, _CMP_NLE_UQ));
    }
    alignas(32) double most[4], unusable[4], high[4], low[4];
    _mm256_store_pd(most, largest);
    _mm256_store_pd(unusable, bad);
    bool splittable[4];
    for (size_t l = 0; l < 4; ++l) {
      high[l] = low[l] = 0;
      splittable[l] = l < lanes && std::bit_cast<std::uint64_t>(unusable[l]) == 0 &&
                      splitters(most[l], high[l], low[l]);
    }
    const __m256d high_splitter = _mm256_load_pd(high), low_splitter = _mm256_load_pd(low);
    __m256d highs = zero, lows = zero, rest = zero;
    for (size_t i = first; i < last; ++i) {
      const __m256d v = load_value<Deviations>(x + i * stride + j, mask, origin);
      const __m256d h = _mm256_sub_pd(_mm256_add_pd(v, high_splitter), high_splitter);
      const __m256d r = _mm256_sub_pd(v, h);
      const __m256d l = _mm256_sub_pd(_mm256_add_pd(r, low_splitter), low_splitter);
      highs = _mm256_add_pd(highs, h);
      lows = _mm256_add_pd(lows, l);
      rest = _mm256_or_pd(rest, _mm256_cmp_pd(_mm256_sub_pd(r, l), zero, _CMP_NEQ_UQ));
    }
    alignas(32) double high_sums[4], low_sums[4], rests[4];
    _mm256_store_pd(high_sums, highs);
    _mm256_store_pd(low_sums, lows);
    _mm256_store_pd(rests, rest);
    _mm256_zeroupper();  // the scalar code below runs without the AVX state's penalty
    for (size_t l = 0; l < lanes; ++l) {
      full_range_sum& sum = totals.sums[j + l];
      if (!splittable[l] || std::bit_cast<std::uint64_t>(rests[l]) != 0) {
        add_column(x, stride, j + l, first, last, centre, splittable[l], high[l], low[l], sum,
                   totals.non_finite);
      } else {
        sum.add(high_sums[l]);
        sum.add(low_sums[l]);
      }
    }
  }
}
#endif

void add_row_sums(const double* x, size_t stride, size_t d, size_t first, size_t last,
                  const double* centre, column_totals& totals) noexcept {
  double largest = totals.largest_row_sum;
  for (size_t i = first; i < last; ++i) {
    double row_sum = 0;
    for (size_t j = 0; j < d; ++j) row_sum += value_at(x + i * stride, j, centre);
    largest = std::max(largest, row_sum);
  }
  totals.largest_row_sum = largest;
}

}  // namespace

void add_columns(math::simd_isa isa, const double* x, size_t stride, size_t d, size_t begin,
                 size_t end, const double* centre, column_totals& totals) {
  for (size_t first = begin; first < end; first += block_rows) {
    const size_t last = std::min(end, first + block_rows);
    const size_t next_last = std::min(end, last + block_rows);
    if (centre != nullptr) add_row_sums(x, stride, d, first, last, centre, totals);
#ifdef CRMKIT_COLUMN_SUMS_X86
    if (isa != math::simd_isa::portable) {
      if (centre == nullptr) {
        add_block_avx2<false>(x, stride, d, first, last, next_last, centre, totals);
      } else {
        add_block_avx2<true>(x, stride, d, first, last, next_last, centre, totals);
      }
      continue;
    }
#endif
    (void)isa;
    add_block_portable(x, stride, d, first, last, centre, totals);
  }
}

bool add_values(math::simd_isa isa, const double* values, size_t n, full_range_sum& sum) {
  constexpr size_t columns = 4;
  column_totals totals(columns);
  add_columns(isa, values, columns, columns, 0, n / columns, nullptr, totals);
  for (const full_range_sum& column : totals.sums) sum += column;
  for (size_t i = n - n % columns; i < n; ++i) add_finite(sum, values[i], totals.non_finite);
  return !totals.non_finite;
}

}  // namespace crmkit::segment::detail
