#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
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

/** Rows silhouette_sums handles at once. */
inline constexpr std::size_t silhouette_rows = 4;

/**
 * The per-cluster distance sums of the silhouette for silhouette_rows rows at once: row r's
 * squared distances to n points sit at squared[r * stride + j] and are replaced by the
 * distances (square roots); then, for j = 0, 1, ..., n - 1 and each of the `count` slots
 * s = slots[j * count + l], sums[s * silhouette_rows + r] += distance of row r to point j. Every
 * sum takes its terms in point order, so each row's sums have the bits of a one-row loop.
 */
void silhouette_sums(double* squared, std::size_t stride, std::size_t n,
                     const std::uint32_t* slots, std::size_t count, double* sums);

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

/**
 * Centres rounded to float for the screening kernel (screen_nearest): per feature j the values
 * -2 c_j of every centre, padded to a multiple of `block` with zeros, and the squared norms
 * ||c||^2 (padding: +inf, so a padding lane never wins).
 */
class screening_centres {
 public:
  static constexpr std::size_t block = 16;

  /** Rounds `count` row-major centres of `dims` values to float and packs them. */
  void assign(const double* rows, std::size_t count, std::size_t dims);

  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] std::size_t padded() const noexcept { return padded_; }
  [[nodiscard]] std::size_t dims() const noexcept { return dims_; }
  [[nodiscard]] const float* scaled() const noexcept { return scaled_.data(); }
  [[nodiscard]] const float* norms() const noexcept { return norms_.data(); }
  /** R >= max_c ||c - fl(c)||: how far the rounded centres are from the exact ones. */
  [[nodiscard]] double rounding() const noexcept { return rounding_; }
  /** The largest norm ||fl(c)|| of a rounded centre. */
  [[nodiscard]] double largest_norm() const noexcept { return largest_norm_; }

 private:
  std::size_t count_ = 0;
  std::size_t padded_ = 0;
  std::size_t dims_ = 0;
  std::vector<float> scaled_;
  std::vector<float> norms_;
  double rounding_ = 0;
  double largest_norm_ = 0;
};

/** Approximate nearest and second-nearest squared distances of one point (screen_nearest). */
struct screened {
  std::uint32_t index = 0;
  float best = 0;
  float second = 0;
};

/**
 * For each of `count` float rows (row i at rows + indices[p] * dims): the approximate squared
 * distances D_c = ||x||^2 + (||c||^2 - 2 x . c) to every centre, in float with fused
 * multiply-adds where the processor has them, reduced to the smallest (its centre index) and the
 * second smallest. Each D_c is within screening_error of ||x - c||^2 for the rounded x and c;
 * callers decide only what that error cannot change and send the rest to the exact kernel.
 */
void screen_nearest(const float* rows, std::size_t dims, const std::size_t* indices,
                    std::size_t count, const screening_centres& centres, screened* out);

/** Instruction sets the screening kernel is compiled for; screen_nearest picks the widest. */
enum class screening_isa { portable, avx2, avx512 };

/** Whether this processor runs `isa` (portable always). */
bool screening_supported(screening_isa isa);

/** screen_nearest on a given instruction set (for tests); `isa` must be supported. */
void screen_nearest(screening_isa isa, const float* rows, std::size_t dims,
                    const std::size_t* indices, std::size_t count, const screening_centres& centres,
                    screened* out);

/**
 * Float rows in blocks of `block_points` points, feature-major inside a block: feature j of
 * point i sits at blocked_offset(i, j, dims). screen_blocks keeps one point per vector lane.
 */
inline constexpr std::size_t block_points = 16;

[[nodiscard]] inline std::size_t blocked_offset(std::size_t i, std::size_t j, std::size_t dims) {
  return (i / block_points) * block_points * dims + j * block_points + i % block_points;
}

/**
 * The acceptance test of screen_blocks: a point is decided when its screened second-smallest
 * distance D_2 exceeds slope * max(D_1, 0) + offset (D_1: the smallest). See
 * make_screening_test.
 */
struct screening_test {
  float slope = 1;
  float offset = std::numeric_limits<float>::infinity();  ///< default: nothing is decided
};

/**
 * The test that proves, without square roots, that the screened nearest centre is the true one
 * with a gap of more than `margin` in distance, when every screened D_c is within `error` of
 * the squared distance and every rounding of rows and centres is counted in `margin`:
 * sqrt(D_1 + error) + margin < sqrt(D_2 - error) follows from
 *   D_2 > (1 + margin / r) max(D_1, 0) + (2 + margin / r) error + margin (r + margin)
 * for any r > 0 (2 sqrt(B) <= B / r + r), with `scale` as r (the largest norm: the bound is
 * then tight to a few float units). Slope and offset are rounded up by 4 float units, so the
 * float evaluation of the right-hand side (one or two roundings) never falls below it.
 */
screening_test make_screening_test(double error, double margin, double scale);

/**
 * For the points of `block_count` consecutive blocks (layout of blocked_offset, starting at
 * `blocks`): the index of the nearest centre where the screened distances
 * D_c = ||x||^2 + (||c||^2 - 2 x . c) (float, fused multiply-adds where the processor has them;
 * each within screening_error of ||x - c||^2) pass `test`, else -1; out[p] for point p of the
 * blocks, padding lanes included.
 */
void screen_blocks(const float* blocks, std::size_t dims, std::size_t block_count,
                   const screening_centres& centres, screening_test test, std::int32_t* out);

/** screen_blocks on a given instruction set (for tests); `isa` must be supported. */
void screen_blocks(screening_isa isa, const float* blocks, std::size_t dims,
                   std::size_t block_count, const screening_centres& centres, screening_test test,
                   std::int32_t* out);

/**
 * A bound on |D_c - ||x - c||^2| for screen_nearest, given ||x|| <= largest_point_norm and
 * ||c|| <= largest_centre_norm: a sum of 2d + 4 float terms of total magnitude at most
 * (||x|| + ||c||)^2 carries an error below gamma_{2d+4} = (2d+4)u / (1 - (2d+4)u) times it
 * (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., section 3.1; u = 2^-24),
 * plus one subnormal spacing 2^-149 per term for underflow, all doubled for safety. Valid while
 * no value overflows float (norms well below 1e18).
 */
double screening_error(std::size_t dims, double largest_point_norm, double largest_centre_norm);

}  // namespace crmkit::segment::detail
