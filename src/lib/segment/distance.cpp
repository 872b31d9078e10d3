#include "distance.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace crmkit::segment::detail {

namespace {

// Vectors of two (SSE2) and four (AVX2) doubles; a kernel block of eight lanes uses four or two.
typedef double pair __attribute__((vector_size(16)));
typedef double quad __attribute__((vector_size(32)));
typedef double octet __attribute__((vector_size(64)));

/** Distances to `lanes` consecutive packed points starting at `first`; one accumulator each. */
template <class Vector, std::size_t lanes>
[[gnu::always_inline]] inline void squared_distances_block(const double* x, const double* packed,
                                                           std::size_t dims, std::size_t padded,
                                                           std::size_t first, double* out) {
  constexpr std::size_t width = sizeof(Vector) / sizeof(double);
  constexpr std::size_t count = lanes / width;
  Vector sum[count] = {};
  const double* column = packed + first;
  for (std::size_t j = 0; j < dims; ++j, column += padded) {
    const double coordinate = x[j];
    for (std::size_t v = 0; v < count; ++v) {
      Vector point;
      std::memcpy(&point, column + v * width, sizeof point);
      const Vector difference = coordinate - point;
      sum[v] += difference * difference;
    }
  }
  std::memcpy(out + first, sum, sizeof sum);
}

// Blocks of 16 lanes keep enough independent additions in flight; the tail takes 8.
template <class Vector>
[[gnu::always_inline]] inline void squared_distances_body(const double* x, const double* packed,
                                                          std::size_t dims, std::size_t padded,
                                                          double* out) {
  std::size_t first = 0;
  for (; first + 16 <= padded; first += 16) {
    squared_distances_block<Vector, 16>(x, packed, dims, padded, first, out);
  }
  if (first < padded) squared_distances_block<Vector, 8>(x, packed, dims, padded, first, out);
}

/** nearest_centres with `Vector` holding consecutive lanes; all comparisons are per lane. */
template <class Vector>
[[gnu::always_inline]] inline void nearest_centres_body(const double* points, std::size_t dims,
                                                        const double* centres, std::size_t k,
                                                        nearest_two* out, double* distances) {
  constexpr std::size_t width = sizeof(Vector) / sizeof(double);
  constexpr std::size_t count = point_batch::lanes / width;
  constexpr double infinity = std::numeric_limits<double>::infinity();
  Vector best[count];
  Vector second[count];
  Vector index[count];
  for (std::size_t v = 0; v < count; ++v) {
    best[v] = second[v] = Vector{} + infinity;
    index[v] = Vector{};
  }
  for (std::size_t c = 0; c < k; ++c) {
    const double* centre = centres + c * dims;
    Vector sum[count] = {};
    for (std::size_t j = 0; j < dims; ++j) {
      const double coordinate = centre[j];
      for (std::size_t v = 0; v < count; ++v) {
        Vector point;
        std::memcpy(&point, points + j * point_batch::lanes + v * width, sizeof point);
        const Vector difference = point - coordinate;
        sum[v] += difference * difference;
      }
    }
    const Vector label = Vector{} + static_cast<double>(c);
    for (std::size_t v = 0; v < count; ++v) {
      const Vector upper = sum[v] > best[v] ? sum[v] : best[v];
      second[v] = upper < second[v] ? upper : second[v];
      const auto closer = sum[v] < best[v];
      best[v] = closer ? sum[v] : best[v];
      index[v] = closer ? label : index[v];
      if (distances != nullptr) {
        for (std::size_t lane = 0; lane < width; ++lane) {
          distances[(v * width + lane) * k + c] = sum[v][lane];
        }
      }
    }
  }
  for (std::size_t v = 0; v < count; ++v) {
    for (std::size_t lane = 0; lane < width; ++lane) {
      out[v * width + lane] = {static_cast<std::size_t>(index[v][lane]), best[v][lane],
                               second[v][lane]};
    }
  }
}

void nearest_centres_portable(const double* points, std::size_t dims, const double* centres,
                              std::size_t k, nearest_two* out, double* distances) {
  nearest_centres_body<pair>(points, dims, centres, k, out, distances);
}

void squared_distances_portable(const double* x, const double* packed, std::size_t dims,
                                std::size_t padded, double* out) {
  squared_distances_body<pair>(x, packed, dims, padded, out);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// AVX2 without FMA: the same operations on wider registers, hence the same bits.
__attribute__((target("avx2"))) void squared_distances_avx2(const double* x, const double* packed,
                                                            std::size_t dims, std::size_t padded,
                                                            double* out) {
  squared_distances_body<quad>(x, packed, dims, padded, out);
}
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) void nearest_centres_avx2(const double* points, std::size_t dims,
                                                          const double* centres, std::size_t k,
                                                          nearest_two* out, double* distances) {
  nearest_centres_body<quad>(points, dims, centres, k, out, distances);
}
#endif

// AVX-512 offers fused multiply-add, which would change the rounding: contraction is off.
__attribute__((target("avx512f"), optimize("fp-contract=off"))) void nearest_centres_avx512(
    const double* points, std::size_t dims, const double* centres, std::size_t k, nearest_two* out,
    double* distances) {
  nearest_centres_body<octet>(points, dims, centres, k, out, distances);
}

using nearest_kernel = void (*)(const double*, std::size_t, const double*, std::size_t,
                                nearest_two*, double*);

nearest_kernel select_nearest_kernel() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return nearest_centres_avx512;
  if (__builtin_cpu_supports("avx2")) return nearest_centres_avx2;
#endif
  return nearest_centres_portable;
}

/**
 * silhouette_sums after the square roots (vector square roots where there are some: correctly
 * rounded, as the scalar one): four rows' sums per slot in one vector, the points in order.
 */
template <class Vector>
[[gnu::always_inline]] inline void silhouette_sums_body(double* squared, std::size_t stride,
                                                        std::size_t n, const std::uint32_t* slots,
                                                        std::size_t count, double* sums) {
  static_assert(sizeof(Vector) == silhouette_rows * sizeof(double));
  const double* r0 = squared;
  const double* r1 = squared + stride;
  const double* r2 = squared + 2 * stride;
  const double* r3 = squared + 3 * stride;
  for (std::size_t j = 0; j < n; ++j, slots += count) {
    const Vector distance = {r0[j], r1[j], r2[j], r3[j]};
    for (std::size_t l = 0; l < count; ++l) {
      double* into = sums + static_cast<std::size_t>(slots[l]) * silhouette_rows;
      Vector sum;
      std::memcpy(&sum, into, sizeof sum);
      sum += distance;
      std::memcpy(into, &sum, sizeof sum);
    }
  }
}

void silhouette_sums_portable(double* squared, std::size_t stride, std::size_t n,
                              const std::uint32_t* slots, std::size_t count, double* sums) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  for (std::size_t j = 0; j < silhouette_rows * stride; j += 2) {
    _mm_storeu_pd(squared + j, _mm_sqrt_pd(_mm_loadu_pd(squared + j)));
  }
#else
  for (std::size_t j = 0; j < silhouette_rows * stride; ++j) squared[j] = std::sqrt(squared[j]);
#endif
  silhouette_sums_body<quad>(squared, stride, n, slots, count, sums);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) void silhouette_sums_avx2(double* squared, std::size_t stride,
                                                          std::size_t n,
                                                          const std::uint32_t* slots,
                                                          std::size_t count, double* sums) {
  for (std::size_t j = 0; j < silhouette_rows * stride; j += 4) {
    _mm256_storeu_pd(squared + j, _mm256_sqrt_pd(_mm256_loadu_pd(squared + j)));
  }
  silhouette_sums_body<quad>(squared, stride, n, slots, count, sums);
}
#endif

using silhouette_kernel = void (*)(double*, std::size_t, std::size_t, const std::uint32_t*,
                                   std::size_t, double*);

silhouette_kernel select_silhouette_kernel() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return silhouette_sums_avx2;
#endif
  return silhouette_sums_portable;
}

using kernel = void (*)(const double*, const double*, std::size_t, std::size_t, double*);

kernel select_kernel() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return squared_distances_avx2;
#endif
  return squared_distances_portable;
}

// Float lanes of the screening kernel: four (SSE2), eight (AVX2) or sixteen (AVX-512).
typedef float float4 __attribute__((vector_size(16)));
typedef float float8 __attribute__((vector_size(32)));
typedef float float16 __attribute__((vector_size(64)));

/** Lane l of `v` becomes the smaller of lanes l and l ^ step. */
template <std::size_t step, class Vector, std::size_t... lane>
[[gnu::always_inline]] inline void take_smaller_swapped(Vector& v, std::index_sequence<lane...>) {
  const Vector swapped = __builtin_shufflevector(v, v, (lane ^ step)...);
  v = swapped < v ? swapped : v;
}

/** Every lane of `v` becomes its smallest lane (a butterfly of lane swaps, no lane loop). */
template <class Vector, std::size_t step = sizeof(Vector) / sizeof(float) / 2>
[[gnu::always_inline]] inline void spread_smallest(Vector& v) {
  take_smaller_swapped<step>(v, std::make_index_sequence<sizeof(Vector) / sizeof(float)>{});
  if constexpr (step > 1) spread_smallest<Vector, step / 2>(v);
}

/**
 * Reduces one point's lanes: the smallest value over all centres, the lowest centre index that
 * has it, and the runner-up (the chosen lane's second, or another lane's best).
 */
template <class Vector, class Lanes>
[[gnu::always_inline]] inline screened screen_finish(const Vector& best, const Vector& second,
                                                     const Lanes& block_of, float norm) {
  constexpr std::size_t width = sizeof(Vector) / sizeof(float);
  constexpr float infinity = std::numeric_limits<float>::infinity();
  Lanes lane_number{};
  for (std::size_t l = 0; l < width; ++l) lane_number[l] = static_cast<int>(l);
  Vector smallest = best;
  spread_smallest(smallest);
  const Lanes index = block_of * static_cast<int>(width) + lane_number;
  Lanes chosen = best == smallest ? index : Lanes{} + std::numeric_limits<int>::max();
  spread_smallest(chosen);
  const Lanes is_chosen = index == chosen;
  const Vector others = is_chosen ? Vector{} + infinity : best;
  const Vector own_second = is_chosen ? second : Vector{} + infinity;
  Vector runner_up = others < own_second ? others : own_second;
  spread_smallest(runner_up);
  return {static_cast<std::uint32_t>(chosen[0]), norm + smallest[0], norm + runner_up[0]};
}

/**
 * screen_nearest over `Vector` lanes of centres. Eight points at a time keep eight independent
 * multiply-add chains in flight; per lane the smallest value, its block and the second
 * smallest are kept, and the lanes are reduced at the end.
 */
template <class Vector>
[[gnu::always_inline]] inline void screen_nearest_body(const float* rows, std::size_t dims,
                                                       const std::size_t* indices,
                                                       std::size_t count,
                                                       const screening_centres& centres,
                                                       screened* out) {
  constexpr std::size_t width = sizeof(Vector) / sizeof(float);
  constexpr std::size_t group = 8;
  constexpr std::size_t prefetch_distance = 2 * group;
  using lanes_int = decltype(Vector{} < Vector{});
  constexpr float infinity = std::numeric_limits<float>::infinity();
  const std::size_t padded = centres.padded();
  const float* scaled = centres.scaled();
  const float* norms = centres.norms();
  for (std::size_t first = 0; first < count; first += group) {
    const std::size_t used = std::min(group, count - first);
    const float* x[group];
    for (std::size_t p = 0; p < group; ++p) {
      x[p] = rows + indices[first + std::min(p, used - 1)] * dims;
    }
    // The rows are scattered: ask for those a few groups ahead.
    for (std::size_t p = first + prefetch_distance;
         p < std::min(count, first + prefetch_distance + group); ++p) {
      const char* row = reinterpret_cast<const char*>(rows + indices[p] * dims);
      for (std::size_t offset = 0; offset < dims * sizeof(float); offset += 64) {
        __builtin_prefetch(row + offset);
      }
    }
    Vector best[group];
    Vector second[group];
    float norm_of[group] = {};
    lanes_int block_of[group];
    for (std::size_t p = 0; p < group; ++p) {
      best[p] = second[p] = Vector{} + infinity;
      block_of[p] = lanes_int{};
    }
    for (std::size_t b = 0; b < padded; b += width) {
      Vector norm;
      std::memcpy(&norm, norms + b, sizeof norm);
      Vector sum[group];
      for (std::size_t p = 0; p < group; ++p) sum[p] = norm;
      const float* column = scaled + b;
      for (std::size_t j = 0; j < dims; ++j, column += padded) {
        Vector factor;
        std::memcpy(&factor, column, sizeof factor);
        for (std::size_t p = 0; p < group; ++p) sum[p] += x[p][j] * factor;
      }
      if (b == 0) {
        for (std::size_t j = 0; j < dims; ++j) {
          for (std::size_t p = 0; p < group; ++p) norm_of[p] += x[p][j] * x[p][j];
        }
      }
      const lanes_int block = lanes_int{} + static_cast<int>(b / width);
      for (std::size_t p = 0; p < group; ++p) {
        const Vector upper = sum[p] > best[p] ? sum[p] : best[p];
        second[p] = upper < second[p] ? upper : second[p];
        const lanes_int closer = sum[p] < best[p];
        best[p] = closer ? sum[p] : best[p];
        block_of[p] = closer ? block : block_of[p];
      }
    }
    for (std::size_t p = 0; p < used; ++p) {
      out[first + p] = screen_finish(best[p], second[p], block_of[p], norm_of[p]);
    }
  }
}

void screen_nearest_portable(const float* rows, std::size_t dims, const std::size_t* indices,
                             std::size_t count, const screening_centres& centres, screened* out) {
  screen_nearest_body<float4>(rows, dims, indices, count, centres, out);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2,fma"))) void screen_nearest_avx2(const float* rows, std::size_t dims,
                                                             const std::size_t* indices,
                                                             std::size_t count,
                                                             const screening_centres& centres,
                                                             screened* out) {
  screen_nearest_body<float8>(rows, dims, indices, count, centres, out);
}

__attribute__((target("avx512f,fma"))) void screen_nearest_avx512(
    const float* rows, std::size_t dims, const std::size_t* indices, std::size_t count,
    const screening_centres& centres, screened* out) {
  screen_nearest_body<float16>(rows, dims, indices, count, centres, out);
}
#endif

/**
 * screen_blocks with `Vector` holding consecutive points of a block. Centres go in groups whose
 * multiply-add chains run side by side; per lane the smallest value, its centre and the second
 * smallest are kept, and the test decides every lane at the end of the block.
 */
template <class Vector>
[[gnu::always_inline]] inline void screen_blocks_body(const float* blocks, std::size_t dims,
                                                      std::size_t block_count,
                                                      const screening_centres& centres,
                                                      screening_test test, std::int32_t* out) {
  constexpr std::size_t width = sizeof(Vector) / sizeof(float);
  constexpr std::size_t count = block_points / width;
  constexpr std::size_t group = count <= 2 ? 8 : 4;
  static_assert(screening_centres::block % group == 0);
  using lanes_int = decltype(Vector{} < Vector{});
  constexpr float infinity = std::numeric_limits<float>::infinity();
  const std::size_t padded = centres.padded();
  const std::size_t used = (centres.size() + group - 1) / group * group;
  const float* scaled = centres.scaled();
  const float* norms = centres.norms();
  for (std::size_t b = 0; b < block_count; ++b) {
    const float* x = blocks + b * block_points * dims;
    Vector best[count];
    Vector second[count];
    Vector norm[count];
    lanes_int index[count];
    for (std::size_t v = 0; v < count; ++v) {
      best[v] = second[v] = Vector{} + infinity;
      norm[v] = Vector{};
      index[v] = lanes_int{};
    }
    for (std::size_t j = 0; j < dims; ++j) {
      for (std::size_t v = 0; v < count; ++v) {
        Vector point;
        std::memcpy(&point, x + j * block_points + v * width, sizeof point);
        norm[v] += point * point;
      }
    }
    for (std::size_t first = 0; first < used; first += group) {
      Vector sum[group][count];
      for (std::size_t q = 0; q < group; ++q) {
        for (std::size_t v = 0; v < count; ++v) sum[q][v] = Vector{} + norms[first + q];
      }
      for (std::size_t j = 0; j < dims; ++j) {
        const float* factor = scaled + j * padded + first;
        for (std::size_t v = 0; v < count; ++v) {
          Vector point;
          std::memcpy(&point, x + j * block_points + v * width, sizeof point);
          for (std::size_t q = 0; q < group; ++q) sum[q][v] += point * factor[q];
        }
      }
      for (std::size_t q = 0; q < group; ++q) {
        const lanes_int label = lanes_int{} + static_cast<int>(first + q);
        for (std::size_t v = 0; v < count; ++v) {
          const Vector upper = sum[q][v] > best[v] ? sum[q][v] : best[v];
          second[v] = upper < second[v] ? upper : second[v];
          const lanes_int closer = sum[q][v] < best[v];
          best[v] = closer ? sum[q][v] : best[v];
          index[v] = closer ? label : index[v];
        }
      }
    }
    for (std::size_t v = 0; v < count; ++v) {
      const Vector nearest = best[v] + norm[v];
      const Vector clamped = nearest > Vector{} ? nearest : Vector{};
      const lanes_int decided = second[v] + norm[v] > clamped * test.slope + test.offset;
      const lanes_int result = decided ? index[v] : lanes_int{} - 1;
      std::memcpy(out + b * block_points + v * width, &result, sizeof result);
    }
  }
}

void screen_blocks_portable(const float* blocks, std::size_t dims, std::size_t block_count,
                            const screening_centres& centres, screening_test test,
                            std::int32_t* out) {
  screen_blocks_body<float4>(blocks, dims, block_count, centres, test, out);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2,fma"))) void screen_blocks_avx2(const float* blocks, std::size_t dims,
                                                            std::size_t block_count,
                                                            const screening_centres& centres,
                                                            screening_test test,
                                                            std::int32_t* out) {
  screen_blocks_body<float8>(blocks, dims, block_count, centres, test, out);
}

__attribute__((target("avx512f,fma"))) void screen_blocks_avx512(
    const float* blocks, std::size_t dims, std::size_t block_count,
    const screening_centres& centres, screening_test test, std::int32_t* out) {
  screen_blocks_body<float16>(blocks, dims, block_count, centres, test, out);
}
#endif

using block_kernel = void (*)(const float*, std::size_t, std::size_t, const screening_centres&,
                              screening_test, std::int32_t*);

block_kernel block_kernel_for(screening_isa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (isa == screening_isa::avx512) return screen_blocks_avx512;
  if (isa == screening_isa::avx2) return screen_blocks_avx2;
#endif
  (void)isa;
  return screen_blocks_portable;
}

using screening_kernel = void (*)(const float*, std::size_t, const std::size_t*, std::size_t,
                                  const screening_centres&, screened*);

screening_kernel screening_kernel_for(screening_isa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (isa == screening_isa::avx512) return screen_nearest_avx512;
  if (isa == screening_isa::avx2) return screen_nearest_avx2;
#endif
  (void)isa;
  return screen_nearest_portable;
}

screening_isa widest_screening_isa() {
  for (auto isa : {screening_isa::avx512, screening_isa::avx2}) {
    if (screening_supported(isa)) return isa;
  }
  return screening_isa::portable;
}

}  // namespace

void packed_points::assign(const double* rows, std::size_t count, std::size_t stride,
                           std::size_t dims) {
  count_ = count;
  dims_ = dims;
  padded_ = (count + block - 1) / block * block;
  values_.assign(padded_ * dims, 0.0);
  for (std::size_t r = 0; r < count; ++r) {
    for (std::size_t j = 0; j < dims; ++j) values_[j * padded_ + r] = rows[r * stride + j];
  }
}

void silhouette_sums(double* squared, std::size_t stride, std::size_t n,
                     const std::uint32_t* slots, std::size_t count, double* sums) {
  static const silhouette_kernel selected = select_silhouette_kernel();
  selected(squared, stride, n, slots, count, sums);
}

void squared_distances(const double* x, const packed_points& points, double* out) {
  static const kernel selected = select_kernel();
  selected(x, points.data(), points.dims(), points.padded(), out);
}

void nearest_centres(const point_batch& batch, const double* centres, std::size_t k,
                     nearest_two* out, double* distances) {
  static const nearest_kernel selected = select_nearest_kernel();
  selected(batch.data(), batch.dims(), centres, k, out, distances);
}

nearest_two find_nearest_two(const double* values, std::size_t count) {
  // Branch-free: with data near cluster boundaries the comparisons are unpredictable.
  std::size_t index = 0;
  double best = values[0];
  double second = std::numeric_limits<double>::infinity();
  for (std::size_t j = 1; j < count; ++j) {
    const double value = values[j];
    second = std::min(second, std::max(value, best));
    index = value < best ? j : index;
    best = std::min(best, value);
  }
  return {index, best, second};
}

void screening_centres::assign(const double* rows, std::size_t count, std::size_t dims) {
  count_ = count;
  dims_ = dims;
  padded_ = (count + block - 1) / block * block;
  scaled_.assign(padded_ * dims, 0.0F);
  norms_.assign(padded_, std::numeric_limits<float>::infinity());
  rounding_ = 0;
  largest_norm_ = 0;
  for (std::size_t c = 0; c < count; ++c) {
    double norm = 0;
    double rounding = 0;
    for (std::size_t j = 0; j < dims; ++j) {
      const auto rounded = static_cast<float>(rows[c * dims + j]);
      scaled_[j * padded_ + c] = -2.0F * rounded;
      const double error = rows[c * dims + j] - static_cast<double>(rounded);
      rounding += error * error;
      norm += static_cast<double>(rounded) * static_cast<double>(rounded);
    }
    norms_[c] = static_cast<float>(norm);
    rounding_ = std::max(rounding_, std::sqrt(rounding));
    largest_norm_ = std::max(largest_norm_, std::sqrt(norm));
  }
  // Room for the rounding of the norms themselves.
  rounding_ *= 1 + 1e-9;
  largest_norm_ *= 1 + 1e-9;
}

void screen_nearest(const float* rows, std::size_t dims, const std::size_t* indices,
                    std::size_t count, const screening_centres& centres, screened* out) {
  static const screening_kernel selected = screening_kernel_for(widest_screening_isa());
  selected(rows, dims, indices, count, centres, out);
}

void screen_blocks(const float* blocks, std::size_t dims, std::size_t block_count,
                   const screening_centres& centres, screening_test test, std::int32_t* out) {
  static const block_kernel selected = block_kernel_for(widest_screening_isa());
  selected(blocks, dims, block_count, centres, test, out);
}

void screen_blocks(screening_isa isa, const float* blocks, std::size_t dims,
                   std::size_t block_count, const screening_centres& centres, screening_test test,
                   std::int32_t* out) {
  block_kernel_for(isa)(blocks, dims, block_count, centres, test, out);
}

screening_test make_screening_test(double error, double margin, double scale) {
  const double r = scale > 0 ? scale : 1.0;
  const double slope = 1 + margin / r;
  const double offset = (1 + slope) * error + margin * (r + margin);
  const double up = 1 + 4 * std::ldexp(1.0, -24);
  constexpr float infinity = std::numeric_limits<float>::infinity();
  return {std::nextafter(static_cast<float>(slope * up), infinity),
          std::nextafter(static_cast<float>(offset * up), infinity)};
}

bool screening_supported(screening_isa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (isa == screening_isa::avx512) return __builtin_cpu_supports("avx512f");
  if (isa == screening_isa::avx2) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
#endif
  return isa == screening_isa::portable;
}

void screen_nearest(screening_isa isa, const float* rows, std::size_t dims,
                    const std::size_t* indices, std::size_t count, const screening_centres& centres,
                    screened* out) {
  screening_kernel_for(isa)(rows, dims, indices, count, centres, out);
}

double screening_error(std::size_t dims, double largest_point_norm, double largest_centre_norm) {
  const double terms = 2.0 * static_cast<double>(dims) + 4.0;
  const double unit = std::ldexp(1.0, -24);
  const double gamma = terms * unit / (1 - terms * unit);
  const double scale = largest_point_norm + largest_centre_norm;
  // Plus one subnormal spacing per operation, for underflow.
  return 2 * (gamma * scale * scale + terms * std::ldexp(1.0, -149));
}

}  // namespace crmkit::segment::detail
