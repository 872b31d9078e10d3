#pragma once

#include <cstddef>
#include <vector>

/**
 * The squared-distance kernels behind k-means, k-means++ and prediction. Every distance is the
 * sum over features, in feature order, of (x_j - p_j)^2, with no fused multiply-add: a vector
 * lane and the scalar loop produce the same bits, so every code path (and every instruction set
 * a kernel is dispatched to) agrees exactly.
 */
namespace crmkit::segment::detail {

/** Points packed for the kernel: coordinates transposed, d rows of `padded` values. */
class packed_points {
 public:
  /** Lanes per kernel block; `padded` is a multiple of it. */
  static constexpr std::size_t block = 8;

  packed_points() = default;

  /** Packs `count` rows of `dims` values, row r starting at rows + r * stride. */
  void assign(const double* rows, std::size_t count, std::size_t stride, std::size_t dims);

  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] std::size_t padded() const noexcept { return padded_; }
  [[nodiscard]] std::size_t dims() const noexcept { return dims_; }
  [[nodiscard]] const double* data() const noexcept { return values_.data(); }

 private:
  std::size_t count_ = 0;
  std::size_t padded_ = 0;
  std::size_t dims_ = 0;
  std::vector<double> values_;
};

/** out[j] = ||x - p_j||^2 for j < points.padded() (entries past points.size() are padding). */
void squared_distances(const double* x, const packed_points& points, double* out);

/** ||a - b||^2 over `dims` features, bit-identical to the matching squared_distances entry. */
inline double squared_distance(const double* a, const double* b, std::size_t dims) {
  double sum = 0;
  for (std::size_t j = 0; j < dims; ++j) {
    const double difference = a[j] - b[j];
    sum += difference * difference;
  }
  return sum;
}

/** Index of the smallest of `values[0..count)` (the lowest on ties), and the two smallest. */
struct nearest_two {
  std::size_t index = 0;
  double best = 0;
  double second = 0;  ///< +inf when count == 1
};

nearest_two find_nearest_two(const double* values, std::size_t count);

/**
 * Up to `lanes` points in structure-of-arrays form (feature j of lane p at j * lanes + p), the
 * layout in which nearest_centres keeps one point per vector lane.
 */
class point_batch {
 public:
  static constexpr std::size_t lanes = 8;

  explicit point_batch(std::size_t dims) : dims_(dims), values_(dims * lanes, 0.0) {}

  /** Puts `row` (dims values) into lane `lane`. */
  void set(std::size_t lane, const double* row) {
    for (std::size_t j = 0; j < dims_; ++j) values_[j * lanes + lane] = row[j];
  }
  [[nodiscard]] std::size_t dims() const noexcept { return dims_; }
  [[nodiscard]] const double* data() const noexcept { return values_.data(); }

 private:
  std::size_t dims_;
  std::vector<double> values_;
};

/**
 * For every lane of `batch`: the nearest of the k centres (row-major k x d; the lowest index on
 * ties), its squared distance and the second smallest one. When `distances` is not null it
 * also receives all squared distances, distances[lane * k + c]. Lanes the caller did not set
 * are computed too and should be ignored.
 */
void nearest_centres(const point_batch& batch, const double* centres, std::size_t k,
                     nearest_two* out, double* distances = nullptr);

}  // namespace crmkit::segment::detail
