#include "log_measure.hpp"

#include <algorithm>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CRMKIT_LOG_MEASURE_X86 1
#endif

namespace crmkit::data::detail {
namespace {

using std::int64_t;
using std::size_t;
using std::uint32_t;
using std::uint64_t;

bool measure_portable(const int64_t* key, const int64_t* tick, size_t n, int64_t first_bin,
                      uint32_t* bins, log_extent& part) noexcept {
  bool inside = true;
  for (size_t i = 0; i < n; ++i) {
    part = merge(part, {key[i], key[i], tick[i], tick[i]});
    if (bins == nullptr) continue;
    const auto bin = static_cast<uint64_t>((key[i] >> key_counts::bin_log2) - first_bin);
    if (bin < key_counts::bins) {
      ++bins[bin];
    } else {
      inside = false;
    }
  }
  return inside;
}

#ifdef CRMKIT_LOG_MEASURE_X86
__attribute__((target("avx2"))) __m256i lane_min(__m256i a, __m256i b) noexcept {
  return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b));
}
__attribute__((target("avx2"))) __m256i lane_max(__m256i a, __m256i b) noexcept {
  return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(b, a));
}

template <bool count>
__attribute__((target("avx2"))) bool measure_avx2(const int64_t* key, const int64_t* tick, size_t n,
                                                  int64_t first_bin, uint32_t* bins,
                                                  log_extent& part) noexcept {
  constexpr uint64_t sign = uint64_t{1} << 63;
  __m256i min_key = _mm256_set1_epi64x(part.min_key);
  __m256i max_key = _mm256_set1_epi64x(part.max_key);
  __m256i first_tick = _mm256_set1_epi64x(part.first_tick);
  __m256i last_tick = _mm256_set1_epi64x(part.last_tick);
  // Bins as offsets from first_bin in wrapping arithmetic: below key_counts::bins when inside.
  const uint64_t biased_first_bin =
      static_cast<uint64_t>(first_bin) + (sign >> key_counts::bin_log2);
  const __m256i first = _mm256_set1_epi64x(static_cast<int64_t>(biased_first_bin));
  const __m256i flip = _mm256_set1_epi64x(static_cast<int64_t>(sign));
  __m256i offsets_seen = _mm256_setzero_si256();
  alignas(32) uint64_t offset[4];
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256i k = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(key + i));
    const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tick + i));
    min_key = lane_min(min_key, k);
    max_key = lane_max(max_key, k);
    first_tick = lane_min(first_tick, t);
    last_tick = lane_max(last_tick, t);
    if constexpr (count) {
      const __m256i bin = _mm256_sub_epi64(
          _mm256_srli_epi64(_mm256_xor_si256(k, flip), key_counts::bin_log2), first);
      offsets_seen = _mm256_or_si256(offsets_seen, bin);
      _mm256_store_si256(reinterpret_cast<__m256i*>(offset), bin);
      // Masked: a row outside the bins lands in some bin, and the counts are then discarded.
      for (const uint64_t o : offset) ++bins[o & (key_counts::bins - 1)];
    }
  }
  alignas(32) int64_t lanes[4][4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[0]), min_key);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[1]), max_key);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[2]), first_tick);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[3]), last_tick);
  for (int lane = 0; lane < 4; ++lane) {
    part = merge(part, {lanes[0][lane], lanes[1][lane], lanes[2][lane], lanes[3][lane]});
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(offset), offsets_seen);
  const bool inside = (offset[0] | offset[1] | offset[2] | offset[3]) < key_counts::bins;
  // The rows after the last four are scalar code: with the upper lanes left dirty, later SSE
  // code would stall on them (the compiler adds no vzeroupper before a call).
  _mm256_zeroupper();
  return measure_portable(key + i, tick + i, n - i, first_bin, count ? bins : nullptr, part) &&
         inside;
}
#endif

}  // namespace

bool measure_chunk(math::simd_isa isa, const int64_t* key, const int64_t* tick, size_t n,
                   int64_t first_bin, uint32_t* bins, log_extent& part) noexcept {
#ifdef CRMKIT_LOG_MEASURE_X86
  if (isa != math::simd_isa::portable) {
    return bins == nullptr ? measure_avx2<false>(key, tick, n, first_bin, bins, part)
                           : measure_avx2<true>(key, tick, n, first_bin, bins, part);
  }
#endif
  (void)isa;
  return measure_portable(key, tick, n, first_bin, bins, part);
}

}  // namespace crmkit::data::detail
