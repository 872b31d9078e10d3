#include "distance.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

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

using kernel = void (*)(const double*, const double*, std::size_t, std::size_t, double*);

kernel select_kernel() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return squared_distances_avx2;
#endif
  return squared_distances_portable;
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

}  // namespace crmkit::segment::detail
