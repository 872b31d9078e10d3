#include "crmkit/segment/kmeans.hpp"
#include "crmkit/segment/kmeans_steps.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "column_sums.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/exact_sum.hpp"
#include "crmkit/core/limits.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/segment/random.hpp"
#include "distance.hpp"
#include "validate.hpp"

namespace crmkit::segment {

namespace {

constexpr std::string_view fit_function = "kmeans";
constexpr double infinity = std::numeric_limits<double>::infinity();

/** Seeding works over fixed chunks so its sums do not depend on the thread count. */
constexpr std::size_t seeding_grain = 4096;

/**
 * `screened` converts the rows to float while screening them for this many iterations, then
 * keeps the float copy it writes in the next one: runs that converge at once (well-separated
 * clusters) never pay for a copy and its page faults.
 */
constexpr std::size_t screened_copy_iteration = 2;

/** Rows per chunk of the exact column sums (any value gives the same bits). */
constexpr std::size_t column_grain = 16384;

/** Points per chunk in an iteration (fixed: the float reductions depend on it). */
constexpr std::size_t iteration_grain = 2048;
static_assert(iteration_grain % detail::block_points == 0, "chunks hold whole screening blocks");

/** Row i's sample weight: 1 when the rows are unweighted (`w` empty). */
inline double weight_at(std::span<const double> w, std::size_t i) noexcept {
  return w.empty() ? 1.0 : w[i];
}

/**
 * Rows of x minus a fixed vector, produced on demand: centring without a centred copy of the
 * data. Every consumer sees the same bits for x(i, j) - shift[j].
 */
class shifted_rows {
 public:
  shifted_rows(const matrix_view& x, const Eigen::RowVectorXd& shift)
      : data_(x.data()),
        stride_(static_cast<std::size_t>(x.outerStride())),
        n_(static_cast<std::size_t>(x.rows())),
        d_(static_cast<std::size_t>(x.cols())),
        shift_(shift.data(), shift.data() + shift.size()) {}

  [[nodiscard]] std::size_t size() const noexcept { return n_; }
  [[nodiscard]] std::size_t dims() const noexcept { return d_; }

  /** Address of row i, for prefetching. */
  [[nodiscard]] const char* row_bytes(std::size_t i) const {
    return reinterpret_cast<const char*>(data_ + i * stride_);
  }

  /** Writes row i, shifted, to out[0..d). */
  void copy(std::size_t i, double* out) const { shift(data_ + i * stride_, out); }

  /** Writes `row` (d values of x), shifted, to out[0..d). */
  void shift(const double* row, double* out) const {
    for (std::size_t j = 0; j < d_; ++j) out[j] = row[j] - shift_[j];
  }

  /** Writes row i, shifted and rounded to float, to out[j * step] for j in [0, d). */
  void copy_float(std::size_t i, float* out, std::size_t step) const {
    const double* row = data_ + i * stride_;
    for (std::size_t j = 0; j < d_; ++j) out[j * step] = static_cast<float>(row[j] - shift_[j]);
  }

  /** Row i of x, unshifted. */
  [[nodiscard]] const double* raw(std::size_t i) const { return data_ + i * stride_; }

 private:
  const double* data_;
  std::size_t stride_;
  std::size_t n_;
  std::size_t d_;
  std::vector<double> shift_;
};

/** Fixed-point scales of the seeding masses: weights, and weights times squared distances. */
struct seeding_scales {
  explicit seeding_scales(const kmeans_sum_scale& scale)
      : weights(scale.largest_weight),
        potentials(4 * scale.radius * scale.radius * scale.largest_weight) {}
  fixed_point weights;
  fixed_point potentials;

  /** Row i's mass in a draw: its weight, or with `closest` its weight times closest[i]. */
  [[nodiscard]] wide_int mass(std::span<const double> closest, std::span<const double> w,
                              std::size_t i) const {
    const double weight = weight_at(w, i);
    return closest.empty() ? weights.convert(weight) : potentials.convert(weight * closest[i]);
  }
};

wide_int total(std::span<const wide_int> values) {
  wide_int sum = 0;
  for (auto value : values) sum += value;
  return sum;
}

/** Exact sums of mass(i) over the fixed seeding chunks. */
template <class Mass>
std::vector<wide_int> chunk_masses(std::size_t n, Mass&& mass) {
  std::vector<wide_int> sums(chunk_count(n, seeding_grain), 0);
  parallel_chunks(n, seeding_grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    wide_int sum = 0;
    for (std::size_t i = begin; i < end; ++i) sum += mass(i);
    sums[chunk] = sum;
  });
  return sums;
}

/** floor(u T) for a uniform u = m 2^-53 (m an integer below 2^53) and 0 <= T < 2^127, exactly. */
wide_int scaled_target(double u, wide_int total_mass) {
  const auto m = static_cast<uint128>(u * 0x1p53);
  const auto t = static_cast<uint128>(total_mass);
  const uint128 low = t & ((uint128{1} << 53) - 1);
  return static_cast<wide_int>((t >> 53) * m + ((low * m) >> 53));
}

/** The draw u over partitions of the given exact totals (their sum must be positive). */
kmeans_draw locate(double u, std::span<const wide_int> totals) {
  wide_int target = scaled_target(u, total(totals));
  for (std::size_t p = 0; p < totals.size(); ++p) {
    if (target < totals[p]) return {p, target, {}};
    target -= totals[p];
  }
  check::fail(fit_function, "seeding drew beyond the total mass (partition totals changed)");
}

/** Greedy k-means++ through the partition steps; indices are the drawn rows' partition rows. */
seeding_result draw_plus_plus(const kmeans_seeding_partitions& parts,
                              std::span<const wide_int> weights, random_stream& random,
                              std::size_t k, std::size_t d, std::size_t trials) {
  if (trials == 0) trials = 2 + static_cast<std::size_t>(std::log(static_cast<double>(k)));
  auto draw = [&](std::span<const wide_int> totals, std::size_t count, bool by_potential) {
    std::vector<kmeans_draw> draws;
    for (std::size_t t = 0; t < count; ++t) draws.push_back(locate(random.uniform(), totals));
    return parts.find(draws, by_potential);
  };
  seeding_result result;
  result.centers.resize(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(d));
  auto choose = [&](const kmeans_drawn& drawn) {
    std::copy_n(drawn.centred.data(), d,
                result.centers.row(static_cast<Eigen::Index>(result.indices.size())).data());
    result.indices.push_back(drawn.row);
  };
  const kmeans_drawn first = draw(weights, 1, false).front();
  choose(first);
  std::vector<wide_int> potentials;
  if (k > 1) potentials = parts.add_centre(first.centred, true);
  row_matrix candidates(static_cast<Eigen::Index>(trials), static_cast<Eigen::Index>(d));
  for (std::size_t c = 1; c < k; ++c) {
    const bool by_potential = total(potentials) > 0;
    const auto found =
        draw(by_potential ? std::span<const wide_int>(potentials) : weights, trials, by_potential);
    for (std::size_t t = 0; t < trials; ++t) {
      std::copy_n(found[t].centred.data(), d, candidates.row(static_cast<Eigen::Index>(t)).data());
    }
    const auto left = parts.candidate_potentials(candidates);
    const auto best =
        static_cast<std::size_t>(std::min_element(left.begin(), left.end()) - left.begin());
    choose(found[best]);
    if (c + 1 < k) potentials = parts.add_centre(found[best].centred, false);
  }
  return result;
}

/** k distinct rows drawn without replacement with probability proportional to weight. */
row_matrix draw_random(const kmeans_seeding_partitions& parts, std::span<const wide_int> weights,
                       random_stream& random, std::size_t k, std::size_t d) {
  std::vector<wide_int> remaining(weights.begin(), weights.end());
  std::vector<std::vector<std::size_t>> taken(remaining.size());
  row_matrix centres(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(d));
  for (std::size_t c = 0; c < k; ++c) {
    const double u = random.uniform();
    if (total(remaining) <= 0) {
      check::fail(fit_function,
                  fmt::format("init = 'random' draws n_clusters = {} distinct samples by weight, "
                              "but after {} draws the weights left are below 2^-62 of the "
                              "largest weight",
                              k, c));
    }
    kmeans_draw draw = locate(u, remaining);
    auto& skip = taken[draw.partition];
    draw.skip = skip;
    const kmeans_drawn found = parts.find({&draw, 1}, false).front();
    remaining[draw.partition] -= found.mass;
    skip.insert(std::upper_bound(skip.begin(), skip.end(), found.row), found.row);
    std::copy_n(found.centred.data(), d, centres.row(static_cast<Eigen::Index>(c)).data());
  }
  return centres;
}

/**
 * Uninitialised working arrays on huge pages: the bounds and the float shadow are hundreds of
 * megabytes for large n, and first-touch page faults are costly, on virtual machines above all.
 */
template <class T>
using detail_buffer = memory::huge_buffer<T>;

/** Outcome of one run from one set of initial centres (centred coordinates). */
struct run_outcome {
  row_matrix centres;
  std::vector<std::int32_t> labels;
  double inertia = 0;
  std::size_t n_iter = 0;
  bool converged = false;
  bool strict = false;
  std::uint64_t distance_evaluations = 0;
};

/** Scales of the exact sums of weights and of weighted centred coordinates. */
struct sum_scales {
  explicit sum_scales(const kmeans_sum_scale& scale)
      : coordinates(scale.radius * scale.largest_weight), weights(scale.largest_weight) {}
  fixed_point coordinates;
  fixed_point weights;
};

/**
 * The M-step from the exact sums (k weights, then k x d weighted centred coordinates):
 * relocation of empty clusters to the far points, in order (scikit-learn's, see kmeans.hpp),
 * then centre = sum / weight, a still-empty centre on the heaviest cluster's centre.
 */
kmeans_update update_from_sums(std::vector<wide_int> exact, const double* old_centres,
                               std::size_t k, std::size_t d, const sum_scales& scales,
                               const shifted_rows& rows, const kmeans_far_points& far) {
  std::vector<std::size_t> empty;
  for (std::size_t j = 0; j < k; ++j) {
    if (exact[j] == 0) empty.push_back(j);
  }
  std::vector<double> point(d);
  for (std::size_t e = 0; e < std::min(empty.size(), far.weights.size()); ++e) {
    const std::size_t target = empty[e];
    const auto source = static_cast<std::size_t>(far.labels[e]);
    const double w = far.weights[e];
    rows.shift(far.rows.data() + e * d, point.data());
    const wide_int weight_part = scales.weights.convert(w);
    exact[target] = weight_part;
    exact[source] -= weight_part;
    for (std::size_t m = 0; m < d; ++m) {
      const wide_int moved = scales.coordinates.convert(point[m] * w);
      exact[k + source * d + m] -= moved;
      exact[k + target * d + m] = moved;
    }
  }
  std::vector<double> weights(k);
  row_matrix sums(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(d));
  for (std::size_t j = 0; j < k; ++j) {
    weights[j] = exact[j] > 0 ? scales.weights.to_double(exact[j]) : 0.0;
    for (std::size_t m = 0; m < d; ++m) {
      sums(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(m)) =
          scales.coordinates.to_double(exact[k + j * d + m]);
    }
  }
  const auto heaviest =
      static_cast<Eigen::Index>(std::max_element(weights.begin(), weights.end()) - weights.begin());
  for (std::size_t j = 0; j < k; ++j) {
    if (weights[j] > 0) sums.row(static_cast<Eigen::Index>(j)) *= 1.0 / weights[j];
  }
  for (std::size_t j = 0; j < k; ++j) {
    if (!(weights[j] > 0)) sums.row(static_cast<Eigen::Index>(j)) = sums.row(heaviest);
  }
  kmeans_update update;
  update.shifts.resize(k);
  for (std::size_t j = 0; j < k; ++j) {
    update.shifts[j] =
        std::sqrt(detail::squared_distance(sums.data() + j * d, old_centres + j * d, d));
    update.shift_total += update.shifts[j] * update.shifts[j];
  }
  update.centres = std::move(sums);
  return update;
}

/**
 * sum_i w_i ||x_i - c_{label_i}||^2, exactly (any chunking gives the same bits); fails naming the
 * first row whose term is not finite.
 */
full_range_sum exact_inertia(std::string_view function, const shifted_rows& x,
                             const double* centres, std::span<const std::int32_t> labels,
                             std::span<const double> w) {
  const std::size_t d = x.dims();
  return parallel_reduce(
      x.size(), full_range_sum{},
      [&](std::size_t begin, std::size_t end) {
        std::vector<double> point(d);
        std::vector<double> terms(end - begin);
        for (std::size_t i = begin; i < end; ++i) {
          x.copy(i, point.data());
          const double* own = centres + static_cast<std::size_t>(labels[i]) * d;
          terms[i - begin] = detail::squared_distance(point.data(), own, d) * weight_at(w, i);
        }
        full_range_sum sum;
        if (!detail::add_values(math::fastest_simd_isa(), terms.data(), terms.size(), sum)) {
          const auto bad = static_cast<std::size_t>(
              std::find_if(terms.begin(), terms.end(), [](double t) { return !std::isfinite(t); }) -
              terms.begin());
          check::fail(function, fmt::format("row {}: its squared distance to centre {} times its "
                                            "weight {} is {}, not a finite number",
                                            begin + bad, labels[begin + bad],
                                            weight_at(w, begin + bad), terms[bad]));
        }
        return sum;
      },
      [](full_range_sum a, const full_range_sum& b) { return a += b; }, iteration_grain);
}

/**
 * One k-means run. Lloyd, Hamerly and Elkan differ only in the E-step; all of them assign a
 * point whose bounds are inconclusive with the shared kernel and tie rule, and every M-step
 * combines per-chunk partial sums in chunk order.
 */
class single_run {
 public:
  /**
   * `radius` bounds the norm of every (centred) point; `largest_weight` every weight. They fix
   * the scale of the exact centre sums.
   */
  single_run(const shifted_rows& x, std::span<const double> w, kmeans_algorithm algorithm,
             double radius, double largest_weight)
      : x_(x),
        n_(x.size()),
        d_(x.dims()),
        w_(w),
        algorithm_(algorithm),
        radius_(radius),
        scales_(kmeans_sum_scale{radius, largest_weight}),
        sum_scale_(scales_.coordinates),
        weight_scale_(scales_.weights) {}

  run_outcome run(row_matrix centres, std::size_t max_iter, double tolerance) {
    k_ = static_cast<std::size_t>(centres.rows());
    grain_ = iteration_grain;
    chunks_ = chunk_count(n_, grain_);
    sums_.assign(k_ * (d_ + 1), 0);
    chunk_sums_.assign(chunks_, {});
    chunk_changes_.assign(chunks_, 0);
    chunk_evaluations_.assign(chunks_, 0);
    labels_ = memory::large_vector<std::int32_t>(n_, -1);
    shift_.assign(k_, 0.0);
    // Bounds are written by the first (full) E-step before they are read: no zeroing.
    const std::size_t lower_size = algorithm_ == kmeans_algorithm::hamerly ? n_
                                   : algorithm_ == kmeans_algorithm::elkan ? n_ * k_
                                                                           : 0;
    upper_ = detail_buffer<double>(has_bounds() ? n_ : 0);
    lower_ = detail_buffer<double>(lower_size);
    // Every distance and centre shift is at most twice the largest norm among points and
    // initial centres (later centres are means of points, or points).
    for (Eigen::Index j = 0; j < centres.rows(); ++j) {
      radius_ = std::max(radius_, centres.row(j).norm());
    }
    centres_ = std::move(centres);
    prepare_centres();
    if (algorithm_ == kmeans_algorithm::hamerly && wants_shadow() && shadow_.size() == 0) {
      write_shadow();  // kept for the next runs
    }
    if (screens_blocks()) shadow_error_ = a_priori_float_error();

    run_outcome outcome;
    bool strict = false;
    bool stopped = false;
    std::size_t iteration = 0;
    for (; iteration < max_iter; ++iteration) {
      const std::size_t changes = e_step(iteration, true);
      const double shift_total = m_step();
      if (changes == 0) {
        strict = true;
        stopped = true;
        break;
      }
      if (shift_total <= tolerance) {
        stopped = true;
        break;
      }
    }
    if (!strict) e_step(iteration + 1, false);
    outcome.n_iter = std::min(iteration + 1, max_iter);
    outcome.strict = strict;
    outcome.converged = stopped;
    outcome.inertia = inertia();
    outcome.labels = std::move(labels_);
    outcome.centres = std::move(centres_);
    for (auto count : chunk_evaluations_) outcome.distance_evaluations += count;
    return outcome;
  }

 private:
  [[nodiscard]] double weight(std::size_t i) const { return weight_at(w_, i); }
  [[nodiscard]] bool has_bounds() const {
    return algorithm_ == kmeans_algorithm::hamerly || algorithm_ == kmeans_algorithm::elkan;
  }
  /** Every point screened from the blocked float shadow each iteration (`screened`). */
  [[nodiscard]] bool screens_blocks() const {
    return algorithm_ == kmeans_algorithm::screened && wants_shadow();
  }

  /**
   * A bound E on ||v - fl(v)|| for every centred row v rounded to float, known before any row
   * is converted: each coordinate rounds to within 2^-24 of its magnitude, or 2^-150 below
   * float's normal range, so E = 2^-24 ||v|| + sqrt(d) 2^-150 with ||v|| <= radius.
   */
  [[nodiscard]] double a_priori_float_error() const {
    return std::ldexp(radius_, -24) * (1 + 1e-9) +
           std::sqrt(static_cast<double>(d_)) * std::ldexp(1.0, -150);
  }
  [[nodiscard]] const double* centre(std::size_t j) const { return centres_.data() + j * d_; }

  /** Kernel layout, separations and shift bookkeeping for the current centres. */
  void prepare_centres() {
    packed_.assign(centres_.data(), k_, d_, d_);
    half_separation_.assign(k_, infinity);
    if (!has_bounds()) return;
    half_centre_distance_.assign(k_ * k_, 0.0);
    for (std::size_t a = 0; a < k_; ++a) {
      for (std::size_t b = a + 1; b < k_; ++b) {
        const double half = 0.5 * std::sqrt(detail::squared_distance(centre(a), centre(b), d_));
        half_centre_distance_[a * k_ + b] = half_centre_distance_[b * k_ + a] = half;
        half_separation_[a] = std::min(half_separation_[a], half);
        half_separation_[b] = std::min(half_separation_[b], half);
      }
    }
    farthest_shift_ = 0;
    largest_shift_ = second_shift_ = 0;
    for (std::size_t j = 0; j < k_; ++j) {
      if (shift_[j] > largest_shift_) {
        second_shift_ = largest_shift_;
        largest_shift_ = shift_[j];
        farthest_shift_ = j;
      } else if (shift_[j] > second_shift_) {
        second_shift_ = shift_[j];
      }
    }
  }

  /**
   * Margin that covers the rounding error of bounds carried over `iteration` updates: every
   * distance and shift is at most 2R, each is computed with relative error below (d + 3) eps,
   * and each bound update adds an error below eps times a value at most 2R (iteration + 1).
   */
  [[nodiscard]] double margin(std::size_t iteration) const {
    const double t = static_cast<double>(iteration);
    const double dims = static_cast<double>(d_);
    return 4.0 * radius_ * std::numeric_limits<double>::epsilon() *
           ((t + 2) * (dims + 3) + (t + 1) * (t + 1));
  }

  /** Scratch space of one chunk: points awaiting a full assignment and the kernel's buffers. */
  struct scratch {
    explicit scratch(std::size_t d, std::size_t k, std::size_t grain, bool all_distances)
        : point(d),
          batch(d),
          pending(std::make_unique_for_overwrite<std::size_t[]>(grain)),
          distances(all_distances ? batch.lanes * k : 0),
          screened(std::make_unique_for_overwrite<detail::screened[]>(grain)),
          decided(std::make_unique_for_overwrite<std::int32_t[]>(grain)) {
      changed.reserve(grain);
    }
    std::unique_ptr<float[]> blocks;  ///< `screened` before the float copy: this chunk's rows
    std::vector<double> point;
    std::vector<std::pair<std::size_t, std::int32_t>> changed;  ///< (point, previous label)
    detail::point_batch batch;
    std::unique_ptr<std::size_t[]> pending;  ///< written before read: not zeroed
    std::vector<double> distances;
    detail::nearest_two nearest[detail::point_batch::lanes];
    std::unique_ptr<detail::screened[]> screened;  ///< written before read: not zeroed
    std::unique_ptr<std::int32_t[]> decided;       ///< written before read: not zeroed
  };

  /** E-step over all points; optionally refreshes changed chunks' partial sums. */
  std::size_t e_step(std::size_t iteration, bool accumulate) {
    const double tau = margin(iteration);
    const bool full = iteration == 0 || !has_bounds();
    if (screens_blocks() && accumulate && iteration >= screened_copy_iteration &&
        shadow_.size() == 0) {
      shadow_ =
          detail_buffer<float>(chunk_count(n_, detail::block_points) * detail::block_points * d_);
    }
    if (shadow_.size() != 0 || screens_blocks()) prepare_screening();
    parallel_chunks(n_, grain_, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
      scratch work(d_, k_, grain_, algorithm_ == kmeans_algorithm::elkan);
      std::uint64_t evaluations = 0;
      std::size_t pending = 0;
      if (screens_blocks()) {
        evaluations += (end - begin) * k_;
        pending = screen_chunk(begin, end, work);
      } else if (full) {
        for (std::size_t i = begin; i < end; ++i) work.pending[pending++] = i;
      } else if (algorithm_ == kmeans_algorithm::hamerly) {
        pending = hamerly_filter(begin, end, tau, work, evaluations);
      } else {
        pending = elkan_filter(begin, end, tau, work, evaluations);
      }
      if (algorithm_ == kmeans_algorithm::hamerly && shadow_.size() != 0) {
        evaluations += pending * k_;
        pending = assign_from_shadow(work, pending, tau);
      }
      assign_fully(work, pending);
      evaluations += pending * k_;
      chunk_changes_[chunk] = work.changed.size();
      chunk_evaluations_[chunk] += evaluations;
      if (accumulate && !work.changed.empty()) chunk_sums_[chunk] = moved_sums(work);
    });
    shadow_ready_ = shadow_.size() != 0;
    std::size_t changes = 0;
    for (std::size_t chunk = 0; chunk < chunks_; ++chunk) {
      changes += chunk_changes_[chunk];
      for (std::size_t m = 0; m < chunk_sums_[chunk].size(); ++m) sums_[m] += chunk_sums_[chunk][m];
      chunk_sums_[chunk].clear();
    }
    return changes;
  }

  /**
   * Assigns work.pending[0..count) with the kernel, eight at a time, resets their bounds
   * exactly and adds the points whose label changed to work.changed.
   */
  void assign_fully(scratch& work, std::size_t count) {
    constexpr std::size_t lanes = detail::point_batch::lanes;
    const bool elkan = algorithm_ == kmeans_algorithm::elkan;
    for (std::size_t first = 0; first < count; first += lanes) {
      const std::size_t used = std::min(lanes, count - first);
      for (std::size_t p = 0; p < used; ++p) {
        x_.copy(work.pending[first + p], work.point.data());
        work.batch.set(p, work.point.data());
      }
      detail::nearest_centres(work.batch, centres_.data(), k_, work.nearest,
                              elkan ? work.distances.data() : nullptr);
      for (std::size_t p = 0; p < used; ++p) {
        const std::size_t i = work.pending[first + p];
        const auto& nearest = work.nearest[p];
        const auto label = static_cast<std::int32_t>(nearest.index);
        if (label != labels_[i]) work.changed.emplace_back(i, labels_[i]);
        labels_[i] = label;
        if (!has_bounds()) continue;
        upper_[i] = std::sqrt(nearest.best);
        if (elkan) {
          const double* distances = work.distances.data() + p * k_;
          double* lower = lower_.data() + i * k_;
          for (std::size_t j = 0; j < k_; ++j) lower[j] = std::sqrt(distances[j]);
        } else {
          lower_[i] = std::sqrt(nearest.second);
        }
      }
    }
  }

  /**
   * Distance from point i to its own centre, tightening its upper bound: from the float
   * shadow (plus its error bound E) when there is one, else exact.
   */
  double tight_upper(std::size_t i, scratch& work) {
    const auto a = static_cast<std::size_t>(labels_[i]);
    if (shadow_.size() != 0) {
      const double* row = shadow_row(i, work);
      upper_[i] = std::sqrt(detail::squared_distance(row, centre(a), d_)) + shadow_error_;
    } else {
      x_.copy(i, work.point.data());
      upper_[i] = std::sqrt(detail::squared_distance(work.point.data(), centre(a), d_));
    }
    return upper_[i];
  }

  /** Asks the cache for row i (of the shadow if asked and there is one, else of x). */
  void prefetch_row(std::size_t i, bool from_shadow = true) const {
    const bool shadow = from_shadow && shadow_.size() != 0;
    const char* row =
        shadow ? reinterpret_cast<const char*>(shadow_.data() + i * d_) : x_.row_bytes(i);
    const std::size_t bytes = d_ * (shadow ? sizeof(float) : sizeof(double));
    for (std::size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(row + offset);
  }

  /** Row i of the float shadow, widened to doubles in work.point. */
  const double* shadow_row(std::size_t i, scratch& work) const {
    const float* row = shadow_.data() + i * d_;
    for (std::size_t j = 0; j < d_; ++j) work.point[j] = static_cast<double>(row[j]);
    return work.point.data();
  }

  /**
   * Hamerly keeps the centred rows rounded to float, with E >= ||x_i - shadow_i|| for all i, so
   * a distance from the shadow is within E of the true one: half the memory traffic of the
   * scattered reads of doubtful points, and the input of the float screening kernel. Not when
   * values could overflow a float (the fit then runs on the exact kernel alone).
   */
  [[nodiscard]] bool wants_shadow() const {
    return (algorithm_ == kmeans_algorithm::hamerly || algorithm_ == kmeans_algorithm::screened) &&
           radius_ < 1e15;
  }

  /** Hamerly's shadow, row by row (its doubtful points are read one by one). */
  void write_shadow() {
    shadow_ = detail_buffer<float>(n_ * d_);
    std::vector<double> chunk_error(chunks_, 0.0);
    parallel_chunks(n_, grain_, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
      std::vector<double> point(d_);
      double largest = 0;
      for (std::size_t i = begin; i < end; ++i) {
        x_.copy(i, point.data());
        double squared = 0;
        for (std::size_t j = 0; j < d_; ++j) {
          const auto rounded = static_cast<float>(point[j]);
          shadow_[i * d_ + j] = rounded;
          const double rounding = point[j] - static_cast<double>(rounded);
          squared += rounding * rounding;
        }
        largest = std::max(largest, std::sqrt(squared));
      }
      chunk_error[chunk] = largest;
    });
    // Room for the rounding of the norms themselves.
    shadow_error_ = *std::max_element(chunk_error.begin(), chunk_error.end()) * (1 + 1e-9);
  }

  /**
   * The screening kernel's constants for the current centres: the packed float centres, the
   * bound on its error in squared distance, and how far rounded rows and centres may sit from
   * the exact ones (E plus the centres' rounding).
   */
  void prepare_screening() {
    screening_.assign(centres_.data(), k_, d_);
    screening_error_ =
        detail::screening_error(d_, radius_ + shadow_error_, screening_.largest_norm());
    screening_widening_ = shadow_error_ + screening_.rounding();
    // No bounds are carried over iterations: the exact kernel's own margin suffices.
    screening_test_ = detail::make_screening_test(
        screening_error_, 2 * screening_widening_ + margin(0), radius_ + shadow_error_);
  }

  /**
   * `screened`: the points [begin, end) (whole blocks of the shadow) screened against every
   * centre; decided points take their label, the others are put in work.pending for the exact
   * kernel; returns how many.
   */
  std::size_t screen_chunk(std::size_t begin, std::size_t end, scratch& work) {
    const std::size_t blocks = chunk_count(end - begin, detail::block_points);
    float* rows = shadow_.size() != 0 ? shadow_.data() + begin * d_ : nullptr;
    if (!shadow_ready_) {
      if (rows == nullptr) {
        work.blocks = std::make_unique_for_overwrite<float[]>(blocks * detail::block_points * d_);
        rows = work.blocks.get();
      }
      for (std::size_t i = begin; i < begin + blocks * detail::block_points; ++i) {
        float* first = rows + detail::blocked_offset(i - begin, 0, d_);
        if (i < end) {
          x_.copy_float(i, first, detail::block_points);
        } else {
          for (std::size_t j = 0; j < d_; ++j) first[j * detail::block_points] = 0.0F;
        }
      }
    }
    detail::screen_blocks(rows, d_, blocks, screening_, screening_test_, work.decided.get());
    std::size_t undecided = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const std::int32_t label = work.decided[i - begin];
      if (label < 0) {
        work.pending[undecided++] = i;
      } else if (label != labels_[i]) {
        work.changed.emplace_back(i, labels_[i]);
        labels_[i] = label;
      }
    }
    return undecided;
  }

  /**
   * Nearest centres of work.pending[0..count) screened in float. Where the distance to the
   * screened nearest centre, widened by every rounding error, is below the distance to any
   * other centre narrowed the same way, by more than the margin of the exact kernel, the true
   * nearest centre, and the one the exact kernel would pick, is the screened one: the point is
   * assigned with bounds widened accordingly. The others are moved to the front of
   * work.pending for the exact kernel; returns how many.
   */
  std::size_t assign_from_shadow(scratch& work, std::size_t count, double tau) {
    detail::screen_nearest(shadow_.data(), d_, work.pending.get(), count, screening_,
                           work.screened.get());
    std::size_t undecided = 0;
    for (std::size_t p = 0; p < count; ++p) {
      const std::size_t i = work.pending[p];
      const detail::screened& nearest = work.screened[p];
      const double upper =
          std::sqrt(static_cast<double>(nearest.best) + screening_error_) + screening_widening_;
      const double lower =
          std::sqrt(std::max(0.0, static_cast<double>(nearest.second) - screening_error_)) -
          screening_widening_;
      if (!(upper + tau < lower)) {
        work.pending[undecided++] = i;
        continue;
      }
      const auto label = static_cast<std::int32_t>(nearest.index);
      if (label != labels_[i]) work.changed.emplace_back(i, labels_[i]);
      labels_[i] = label;
      upper_[i] = upper;
      lower_[i] = lower;
    }
    return undecided;
  }

  /**
   * Hamerly's test: the own centre is nearest if u <= max(s(a), l), where u bounds the distance
   * to it from above, l the distance to any other centre from below and s(a) is half the
   * distance from centre a to its nearest other centre. With few centres (k <= 64) and the
   * float shadow, a point that fails goes straight to the screening kernel, which costs about
   * as much as recomputing u alone; otherwise it is retried with u recomputed (from the shadow
   * when there is one), and points that still fail are queued for the nearest-centre search.
   */
  std::size_t hamerly_filter(std::size_t begin, std::size_t end, double tau, scratch& work,
                             std::uint64_t& evaluations) {
    std::size_t doubtful = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const auto a = static_cast<std::size_t>(labels_[i]);
      const double upper = upper_[i] + shift_[a];
      const double lower = lower_[i] - (a == farthest_shift_ ? second_shift_ : largest_shift_);
      upper_[i] = upper;
      lower_[i] = lower;
      work.pending[doubtful] = i;
      doubtful += upper + tau > std::max(half_separation_[a], lower);
    }
    if (shadow_.size() != 0 && k_ <= 64) return doubtful;
    evaluations += doubtful;
    constexpr std::size_t ahead = 32;
    for (std::size_t p = 0; p < std::min(ahead, doubtful); ++p) prefetch_row(work.pending[p]);
    std::size_t failing = 0;
    for (std::size_t p = 0; p < doubtful; ++p) {
      if (p + ahead < doubtful) prefetch_row(work.pending[p + ahead]);
      const std::size_t i = work.pending[p];
      const auto a = static_cast<std::size_t>(labels_[i]);
      const double bound = std::max(half_separation_[a], lower_[i]);
      work.pending[failing] = i;
      failing += tight_upper(i, work) + tau > bound;
    }
    return failing;
  }

  /**
   * Elkan's test: centre j cannot be nearer than the own centre a if u <= max(l_j, d(a, j) / 2)
   * (one lower bound l_j per centre); u is made exact before giving up on a point.
   */
  std::size_t elkan_filter(std::size_t begin, std::size_t end, double tau, scratch& work,
                           std::uint64_t& evaluations) {
    std::size_t failing = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const auto a = static_cast<std::size_t>(labels_[i]);
      double* lower = lower_.data() + i * k_;
      for (std::size_t j = 0; j < k_; ++j) lower[j] -= shift_[j];
      double upper = upper_[i] + shift_[a];
      upper_[i] = upper;
      if (upper + tau <= half_separation_[a]) continue;
      bool tight = false;
      for (std::size_t j = 0; j < k_; ++j) {
        if (j == a) continue;
        const double bound = std::max(lower[j], half_centre_distance_[a * k_ + j]);
        if (upper + tau <= bound) continue;
        if (!tight) {
          upper = tight_upper(i, work);
          tight = true;
          ++evaluations;
          if (upper + tau <= bound) continue;
        }
        work.pending[failing++] = i;
        break;
      }
    }
    return failing;
  }

  /**
   * Loads every cache line of the rows of x of `points` (first of each pair) once, as
   * independent loads the processor keeps in flight together, so that reading them again costs
   * no cache misses. Measured on this project's virtual machine: software prefetches of such
   * scattered rows hid little of their latency, these loads most of it (moved_sums three to
   * four times faster at d = 16).
   */
  void touch_rows(std::span<const std::pair<std::size_t, std::int32_t>> points) const {
    double touched = 0;
    for (const auto& point : points) {
      const auto* row = reinterpret_cast<const double*>(x_.row_bytes(point.first));
      for (std::size_t j = 0; j < d_; j += 8) touched += row[j];
      touched += row[d_ - 1];
    }
    asm volatile("" : : "g"(touched));  // keeps the loads
  }

  /**
   * The change of the exact per-cluster sums (weights first, then weighted coordinates) caused
   * by the points of one chunk that changed cluster.
   */
  std::vector<wide_int> moved_sums(scratch& work) const {
    std::vector<wide_int> delta(k_ * (d_ + 1), 0);
    constexpr std::size_t batch = 256;  // rows touched ahead: they stay in the L2 cache
    for (std::size_t p = 0; p < work.changed.size(); ++p) {
      if (p % batch == 0) {
        touch_rows(std::span(work.changed).subspan(p, std::min(batch, work.changed.size() - p)));
      }
      const auto [i, previous] = work.changed[p];
      const double w = weight(i);
      const auto label = static_cast<std::size_t>(labels_[i]);
      x_.copy(i, work.point.data());
      const wide_int weight_part = weight_scale_.convert(w);
      delta[label] += weight_part;
      wide_int* into = delta.data() + k_ + label * d_;
      for (std::size_t j = 0; j < d_; ++j) into[j] += sum_scale_.convert(work.point[j] * w);
      if (previous < 0) continue;
      const auto from = static_cast<std::size_t>(previous);
      delta[from] -= weight_part;
      wide_int* out_of = delta.data() + k_ + from * d_;
      for (std::size_t j = 0; j < d_; ++j) out_of[j] -= sum_scale_.convert(work.point[j] * w);
    }
    return delta;
  }

  /** New centres from the exact sums; returns sum_j shift_j^2. */
  double m_step() {
    kmeans_update update =
        update_from_sums(sums_, centres_.data(), k_, d_, scales_, x_, far_points());
    shift_ = std::move(update.shifts);
    centres_ = std::move(update.centres);
    prepare_centres();
    return update.shift_total;
  }

  /**
   * The points scikit-learn's relocation (see kmeans.hpp) moves, one per empty cluster: the
   * farthest from their own centres, ties to the lower index; none when every point sits on
   * its centre. The labels, and so the running sums, are left as they are.
   */
  [[nodiscard]] kmeans_far_points far_points() const {
    kmeans_far_points far;
    std::size_t empty = 0;
    for (std::size_t j = 0; j < k_; ++j) empty += sums_[j] == 0;
    if (empty == 0) return far;
    std::vector<double> distance(n_);
    parallel_for(n_, [&](std::size_t begin, std::size_t end) {
      std::vector<double> point(d_);
      for (std::size_t i = begin; i < end; ++i) {
        x_.copy(i, point.data());
        distance[i] = detail::squared_distance(point.data(),
                                               centre(static_cast<std::size_t>(labels_[i])), d_);
      }
    });
    if (*std::max_element(distance.begin(), distance.end()) == 0) return far;
    std::vector<std::size_t> order(n_);
    std::iota(order.begin(), order.end(), std::size_t{0});
    const auto far_count = static_cast<std::ptrdiff_t>(empty);
    std::partial_sort(order.begin(), order.begin() + far_count, order.end(),
                      [&](std::size_t a, std::size_t b) {
                        return distance[a] > distance[b] || (distance[a] == distance[b] && a < b);
                      });
    far.rows.resize(far_count, static_cast<Eigen::Index>(d_));
    for (std::size_t e = 0; e < empty; ++e) {
      const std::size_t i = order[e];
      std::copy_n(x_.raw(i), d_, far.rows.data() + e * d_);
      far.weights.push_back(weight(i));
      far.labels.push_back(labels_[i]);
    }
    return far;
  }

  [[nodiscard]] double inertia() const {
    return exact_inertia(fit_function, x_, centres_.data(), labels_, w_).value();
  }

  const shifted_rows& x_;
  std::size_t n_;
  std::size_t d_;
  std::span<const double> w_;
  kmeans_algorithm algorithm_;
  double radius_;
  sum_scales scales_;
  const fixed_point& sum_scale_;
  const fixed_point& weight_scale_;

  std::size_t k_ = 0;
  std::size_t grain_ = 0;
  std::size_t chunks_ = 0;
  row_matrix centres_;
  detail::packed_points packed_;
  std::vector<wide_int> sums_;  ///< exact weights, then weighted coordinates, per cluster
  std::vector<std::vector<wide_int>> chunk_sums_;
  std::vector<std::size_t> chunk_changes_;
  std::vector<std::uint64_t> chunk_evaluations_;
  std::vector<std::int32_t> labels_;
  std::vector<double> shift_;
  std::vector<double> half_separation_;
  std::vector<double> half_centre_distance_;
  detail_buffer<double> upper_;
  detail_buffer<double> lower_;
  detail_buffer<float> shadow_;  ///< centred rows rounded to float (or empty): Hamerly by row,
                                 ///< `screened` in blocks (see screened_copy_iteration)
  bool shadow_ready_ = false;    ///< shadow_ holds every row
  double shadow_error_ = 0;      ///< E >= ||x_i - shadow_i|| for every i
  detail::screening_centres screening_;
  double screening_error_ = 0;     ///< bound on the screening kernel's squared-distance error
  double screening_widening_ = 0;  ///< E plus the centres' rounding
  detail::screening_test screening_test_;  ///< `screened`: decides a point without square roots

  std::size_t farthest_shift_ = 0;
  double largest_shift_ = 0;
  double second_shift_ = 0;
};

void check_options(const kmeans_options& options, std::size_t n) {
  if (options.n_clusters < 1 || options.n_clusters > n) {
    check::fail(fit_function, fmt::format("n_clusters = {} must be between 1 and the number of "
                                          "samples, {}",
                                          options.n_clusters, n));
  }
  if (options.max_iter < 1) check::fail(fit_function, "max_iter = 0 must be at least 1");
  limits::at_most(fit_function, "max_iter", options.max_iter, limits::max_kmeans_iterations);
  limits::at_most(fit_function, "n_init", options.n_init, limits::max_kmeans_n_init);
  check::nonnegative(fit_function, "tol", options.tol);
}

std::vector<wide_int> add_centre_chunks(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                        std::span<const double> centre,
                                        const kmeans_sum_scale& scale, std::span<double> closest,
                                        bool first, std::span<const double> sample_weight);
std::vector<kmeans_drawn> find_draws(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                     const kmeans_sum_scale& scale,
                                     std::span<const kmeans_draw> draws,
                                     std::span<const double> closest,
                                     std::span<const double> sample_weight,
                                     std::span<const wide_int> masses);

/**
 * The steps of kmeans_steps.hpp with the data as one partition. The per-chunk masses a draw
 * walks are kept from the pass that made them (add_centre's potentials; the weights once),
 * instead of a pass per find: the same integers, so the same draws.
 */
kmeans_seeding_partitions one_partition(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                        std::span<const double> w, const kmeans_sum_scale& scale,
                                        std::vector<double>& closest) {
  struct kept_masses {
    std::vector<wide_int> potentials;
    std::vector<wide_int> weights;
  };
  auto kept = std::make_shared<kept_masses>();
  kmeans_seeding_partitions parts;
  parts.weight_totals = [&x, w, scale] {
    return std::vector<wide_int>{
        kmeans_seed_weight_total(static_cast<std::size_t>(x.rows()), scale, w)};
  };
  parts.add_centre = [&x, &mean, w, scale, &closest, kept](std::span<const double> centre,
                                                           bool first) {
    closest.resize(static_cast<std::size_t>(x.rows()));
    kept->potentials = add_centre_chunks(x, mean, centre, scale, closest, first, w);
    return std::vector<wide_int>{total(kept->potentials)};
  };
  parts.find = [&x, &mean, w, scale, &closest, kept](std::span<const kmeans_draw> draws,
                                                     bool by_potential) {
    if (!by_potential && kept->weights.empty()) {
      const seeding_scales scales(scale);
      kept->weights = chunk_masses(static_cast<std::size_t>(x.rows()),
                                   [&](std::size_t i) { return scales.mass({}, w, i); });
    }
    return find_draws(x, mean, scale, draws,
                      by_potential ? std::span<const double>(closest) : std::span<const double>(),
                      w, by_potential ? kept->potentials : kept->weights);
  };
  parts.candidate_potentials = [&x, &mean, w, scale, &closest](const row_matrix& candidates) {
    return kmeans_seed_potentials(x, mean, candidates, scale, closest, w);
  };
  return parts;
}

kmeans_plan make_plan(const matrix_view& x, const std::optional<matrix_view>& initial,
                      const kmeans_options& options, std::span<const double> sample_weight) {
  const kmeans_moments sums = kmeans_column_sums(x, sample_weight);
  const kmeans_moments deviations =
      sums.rows == 0 ? kmeans_moments{} : kmeans_column_deviations(x, kmeans_column_mean(sums));
  kmeans_plan plan = kmeans_plan_of(sums, deviations, initial, options);
  std::vector<double> closest;
  kmeans_seed(
      plan, options,
      one_partition(x, plan.mean, sample_weight, {plan.radius, plan.largest_weight}, closest));
  return plan;
}

kmeans_result fit(const matrix_view& x, const std::optional<matrix_view>& initial,
                  const kmeans_options& options, std::span<const double> sample_weight) {
  kmeans_plan plan = make_plan(x, initial, options, sample_weight);
  const shifted_rows centred(x, plan.mean);
  kmeans_result result;
  result.tolerance = plan.tolerance;
  result.algorithm = plan.algorithm;
  single_run runner(centred, sample_weight, result.algorithm, plan.radius, plan.largest_weight);
  std::optional<run_outcome> best;
  for (std::size_t r = 0; r < plan.starts.size(); ++r) {
    run_outcome outcome = runner.run(std::move(plan.starts[r]), options.max_iter, plan.tolerance);
    result.distance_evaluations += outcome.distance_evaluations;
    if (!best || (outcome.inertia < best->inertia &&
                  !kmeans_same_clustering(outcome.labels, best->labels, options.n_clusters))) {
      best = std::move(outcome);
      result.best_run = r;
    }
  }
  result.n_runs = plan.starts.size();
  result.centers = best->centres.rowwise() + plan.mean;
  result.labels = std::move(best->labels);
  result.inertia = best->inertia;
  result.n_iter = best->n_iter;
  result.converged = best->converged;
  result.strict_convergence = best->strict;
  std::vector<bool> used(options.n_clusters, false);
  for (auto label : result.labels) used[static_cast<std::size_t>(label)] = true;
  result.distinct_clusters = static_cast<std::size_t>(std::count(used.begin(), used.end(), true));
  return result;
}

}  // namespace

bool kmeans_same_clustering(std::span<const std::int32_t> a, std::span<const std::int32_t> b,
                            std::size_t k) {
  const auto mapping = kmeans_label_mapping(a, b, k);
  return std::find(mapping.begin(), mapping.end(), label_mapping_conflict) == mapping.end();
}

kmeans_algorithm automatic_kmeans_algorithm(std::size_t k, std::size_t d) {
  return k <= 32 && d <= 64 ? kmeans_algorithm::screened : kmeans_algorithm::hamerly;
}

kmeans_result kmeans(const matrix_view& x, const kmeans_options& options,
                     std::span<const double> sample_weight) {
  return fit(x, std::nullopt, options, sample_weight);
}

kmeans_result kmeans(const matrix_view& x, const matrix_view& initial_centers,
                     const kmeans_options& options, std::span<const double> sample_weight) {
  return fit(x, initial_centers, options, sample_weight);
}

seeding_result kmeans_plus_plus(const matrix_view& x, std::size_t n_clusters, std::uint64_t seed,
                                std::span<const double> sample_weight, std::size_t n_local_trials) {
  constexpr std::string_view function = "kmeans_plus_plus";
  detail::check_samples(function, "x", x);
  const auto n = static_cast<std::size_t>(x.rows());
  if (n_clusters < 1 || n_clusters > n) {
    check::fail(function, fmt::format("n_clusters = {} must be between 1 and the number of "
                                      "samples, {}",
                                      n_clusters, n));
  }
  detail::check_sample_weight(function, sample_weight, n);
  const Eigen::RowVectorXd origin = Eigen::RowVectorXd::Zero(x.cols());
  const kmeans_moments norms = kmeans_column_deviations(x, origin);
  const kmeans_sum_scale scale{
      std::sqrt(norms.largest_squared_norm) * (1 + 1e-12),
      sample_weight.empty() ? 1.0 : *std::max_element(sample_weight.begin(), sample_weight.end())};
  if (!std::isfinite(4 * scale.radius * scale.radius * scale.largest_weight)) {
    check::fail(function, fmt::format("x spreads too far for weighted squared distances to stay "
                                      "finite (a row has norm up to {:.3g}, the largest weight is "
                                      "{:.3g}): rescale the features",
                                      scale.radius, scale.largest_weight));
  }
  std::vector<double> closest;
  const auto parts = one_partition(x, origin, sample_weight, scale, closest);
  random_stream random(seed);
  const auto weights = parts.weight_totals();
  return draw_plus_plus(parts, weights, random, n_clusters, static_cast<std::size_t>(x.cols()),
                        n_local_trials);
}

namespace {

void check_centres(std::string_view function, const matrix_view& x, const matrix_view& centers) {
  detail::check_samples(function, "x", x);
  detail::check_samples(function, "centers", centers);
  if (centers.cols() != x.cols()) {
    check::fail(function,
                fmt::format("centers have {} features but x has {}", centers.cols(), x.cols()));
  }
}

}  // namespace

assignment kmeans_predict(const matrix_view& x, const matrix_view& centers,
                          std::span<const double> sample_weight) {
  constexpr std::string_view function = "kmeans_predict";
  check_centres(function, x, centers);
  const auto n = static_cast<std::size_t>(x.rows());
  const auto d = static_cast<std::size_t>(x.cols());
  const auto k = static_cast<std::size_t>(centers.rows());
  if (!sample_weight.empty()) {
    check::same_size(function, "sample_weight", sample_weight.size(), "x rows", n);
    check::all_nonnegative(function, "sample_weight", sample_weight);
  }
  const row_matrix centres = centers;
  detail::packed_points packed;
  packed.assign(centres.data(), k, d, d);
  assignment result;
  result.labels.resize(n);
  const double* data = x.data();
  const auto stride = static_cast<std::size_t>(x.outerStride());
  result.inertia = parallel_reduce(
      n, 0.0,
      [&](std::size_t begin, std::size_t end) {
        std::vector<double> distances(packed.padded());
        double sum = 0;
        for (std::size_t i = begin; i < end; ++i) {
          detail::squared_distances(data + i * stride, packed, distances.data());
          const auto nearest = detail::find_nearest_two(distances.data(), k);
          result.labels[i] = static_cast<std::int32_t>(nearest.index);
          sum += nearest.best * weight_at(sample_weight, i);
        }
        return sum;
      },
      [](double a, double b) { return a + b; });
  return result;
}

row_matrix kmeans_transform(const matrix_view& x, const matrix_view& centers) {
  constexpr std::string_view function = "kmeans_transform";
  check_centres(function, x, centers);
  const auto n = static_cast<std::size_t>(x.rows());
  const auto d = static_cast<std::size_t>(x.cols());
  const auto k = static_cast<std::size_t>(centers.rows());
  const row_matrix centres = centers;
  detail::packed_points packed;
  packed.assign(centres.data(), k, d, d);
  row_matrix distances(x.rows(), centers.rows());
  const double* data = x.data();
  const auto stride = static_cast<std::size_t>(x.outerStride());
  parallel_for(n, [&](std::size_t begin, std::size_t end) {
    std::vector<double> squared(packed.padded());
    for (std::size_t i = begin; i < end; ++i) {
      detail::squared_distances(data + i * stride, packed, squared.data());
      for (std::size_t j = 0; j < k; ++j) {
        distances(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
            std::sqrt(squared[j]);
      }
    }
  });
  return distances;
}

kmeans_plan kmeans_plan_fit(const matrix_view& x, const std::optional<matrix_view>& initial_centers,
                            const kmeans_options& options, std::span<const double> sample_weight) {
  return make_plan(x, initial_centers, options, sample_weight);
}

namespace {

void check_step_centres(std::string_view function, const matrix_view& x,
                        const Eigen::RowVectorXd& mean, const matrix_view& centres) {
  detail::check_samples(function, "x", x);
  detail::check_samples(function, "centres", centres);
  if (centres.cols() != x.cols() || mean.size() != x.cols()) {
    check::fail(function, fmt::format("x has {} features, centres {} and mean {}", x.cols(),
                                      centres.cols(), mean.size()));
  }
}

void check_labels(std::string_view function, std::span<const std::int32_t> labels, std::size_t n,
                  std::size_t k) {
  check::same_size(function, "labels", labels.size(), "x rows", n);
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= k) {
      check::fail(function, fmt::format("labels[{}] = {} must be in [0, {})", i, labels[i], k));
    }
  }
}

}  // namespace

kmeans_partial kmeans_assign_partition(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                       const matrix_view& centres, const kmeans_sum_scale& scale,
                                       std::span<const double> sample_weight,
                                       std::span<const std::int32_t> previous) {
  constexpr std::string_view function = "kmeans_assign_partition";
  kmeans_partial partial;
  const auto k = static_cast<std::size_t>(centres.rows());
  const auto d = static_cast<std::size_t>(x.cols());
  const auto n = static_cast<std::size_t>(x.rows());
  partial.sums.assign(k * (d + 1), 0);
  if (n == 0) return partial;
  check_step_centres(function, x, mean, centres);
  if (!sample_weight.empty()) {
    check::same_size(function, "sample_weight", sample_weight.size(), "x rows", n);
    check::all_nonnegative(function, "sample_weight", sample_weight);
  }
  if (!previous.empty()) check::same_size(function, "previous", previous.size(), "x rows", n);
  const row_matrix centre_rows = centres;
  const shifted_rows rows(x, mean);
  const sum_scales scales(scale);
  partial.labels.resize(n);
  const std::size_t chunks = chunk_count(n, iteration_grain);
  std::vector<std::vector<wide_int>> chunk_sums(chunks);
  std::vector<std::size_t> chunk_changes(chunks, 0);
  parallel_chunks(n, iteration_grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    constexpr std::size_t lanes = detail::point_batch::lanes;
    std::vector<wide_int> sums(k * (d + 1), 0);
    std::vector<double> point(d);
    detail::point_batch batch(d);
    detail::nearest_two nearest[lanes];
    std::size_t changes = 0;
    for (std::size_t first = begin; first < end; first += lanes) {
      const std::size_t used = std::min(lanes, end - first);
      for (std::size_t p = 0; p < used; ++p) {
        rows.copy(first + p, point.data());
        batch.set(p, point.data());
      }
      detail::nearest_centres(batch, centre_rows.data(), k, nearest);
      for (std::size_t p = 0; p < used; ++p) {
        const std::size_t i = first + p;
        const auto label = static_cast<std::int32_t>(nearest[p].index);
        partial.labels[i] = label;
        changes += previous.empty() || previous[i] != label;
        const double w = weight_at(sample_weight, i);
        rows.copy(i, point.data());
        const auto j = static_cast<std::size_t>(label);
        sums[j] += scales.weights.convert(w);
        wide_int* into = sums.data() + k + j * d;
        for (std::size_t m = 0; m < d; ++m) into[m] += scales.coordinates.convert(point[m] * w);
      }
    }
    chunk_sums[chunk] = std::move(sums);
    chunk_changes[chunk] = changes;
  });
  for (std::size_t chunk = 0; chunk < chunks; ++chunk) {
    partial.changes += chunk_changes[chunk];
    for (std::size_t m = 0; m < partial.sums.size(); ++m) partial.sums[m] += chunk_sums[chunk][m];
  }
  return partial;
}

std::vector<double> kmeans_own_distances(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                         const matrix_view& centres,
                                         std::span<const std::int32_t> labels) {
  constexpr std::string_view function = "kmeans_own_distances";
  const auto n = static_cast<std::size_t>(x.rows());
  const auto d = static_cast<std::size_t>(x.cols());
  std::vector<double> distance(n);
  if (n == 0) return distance;
  check_step_centres(function, x, mean, centres);
  check_labels(function, labels, n, static_cast<std::size_t>(centres.rows()));
  const row_matrix centre_rows = centres;
  const shifted_rows rows(x, mean);
  parallel_for(n, [&](std::size_t begin, std::size_t end) {
    std::vector<double> point(d);
    for (std::size_t i = begin; i < end; ++i) {
      rows.copy(i, point.data());
      distance[i] = detail::squared_distance(
          point.data(), centre_rows.data() + static_cast<std::size_t>(labels[i]) * d, d);
    }
  });
  return distance;
}

kmeans_update kmeans_update_centres(std::span<const wide_int> sums, const matrix_view& centres,
                                    const Eigen::RowVectorXd& mean, const kmeans_sum_scale& scale,
                                    const kmeans_far_points& far) {
  constexpr std::string_view function = "kmeans_update_centres";
  const auto k = static_cast<std::size_t>(centres.rows());
  const auto d = static_cast<std::size_t>(centres.cols());
  check::same_size(function, "sums", sums.size(), "k (d + 1)", k * (d + 1));
  if (static_cast<std::size_t>(mean.size()) != d) {
    check::fail(function, fmt::format("mean has {} values but centres {} columns", mean.size(), d));
  }
  const std::size_t moved = far.weights.size();
  if (far.labels.size() != moved || static_cast<std::size_t>(far.rows.rows()) != moved ||
      (moved > 0 && static_cast<std::size_t>(far.rows.cols()) != d)) {
    check::fail(function, "far points: rows, weights and labels must describe the same points");
  }
  for (auto label : far.labels) {
    if (label < 0 || static_cast<std::size_t>(label) >= k) {
      check::fail(function, fmt::format("far point label {} must be in [0, {})", label, k));
    }
  }
  const row_matrix old = centres;
  const shifted_rows shift(old, mean);  // only its shift is used
  return update_from_sums(std::vector<wide_int>(sums.begin(), sums.end()), old.data(), k, d,
                          sum_scales(scale), shift, far);
}

double kmeans_inertia(const matrix_view& x, const Eigen::RowVectorXd& mean,
                      const matrix_view& centres, std::span<const std::int32_t> labels,
                      std::span<const double> sample_weight) {
  constexpr std::string_view function = "kmeans_inertia";
  const auto n = static_cast<std::size_t>(x.rows());
  if (n == 0) return 0.0;
  check_step_centres(function, x, mean, centres);
  check_labels(function, labels, n, static_cast<std::size_t>(centres.rows()));
  if (!sample_weight.empty()) {
    check::same_size(function, "sample_weight", sample_weight.size(), "x rows", n);
  }
  return kmeans_inertia_sum(x, mean, centres, labels, sample_weight).value();
}

full_range_sum kmeans_inertia_sum(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                  const matrix_view& centres, std::span<const std::int32_t> labels,
                                  std::span<const double> sample_weight) {
  constexpr std::string_view function = "kmeans_inertia";
  const auto n = static_cast<std::size_t>(x.rows());
  if (n == 0) return {};
  check_step_centres(function, x, mean, centres);
  check_labels(function, labels, n, static_cast<std::size_t>(centres.rows()));
  if (!sample_weight.empty()) {
    check::same_size(function, "sample_weight", sample_weight.size(), "x rows", n);
  }
  const row_matrix centre_rows = centres;
  return exact_inertia(function, shifted_rows(x, mean), centre_rows.data(), labels, sample_weight);
}

kmeans_moments& kmeans_moments::operator+=(const kmeans_moments& other) {
  if (sums.empty()) {
    sums = other.sums;
  } else if (!other.sums.empty()) {
    if (other.sums.size() != sums.size()) {
      check::fail(fit_function, fmt::format("partitions have {} and {} features", sums.size(),
                                            other.sums.size()));
    }
    for (std::size_t j = 0; j < sums.size(); ++j) sums[j] += other.sums[j];
  }
  rows += other.rows;
  positive_weights += other.positive_weights;
  largest_weight = std::max(largest_weight, other.largest_weight);
  largest_squared_norm = std::max(largest_squared_norm, other.largest_squared_norm);
  return *this;
}

namespace {

/** Per-column exact sums of x, or of (x − centre)² with the largest row sum of those. */
detail::column_totals column_sums(const matrix_view& x, const double* centre) {
  const auto d = static_cast<std::size_t>(x.cols());
  const auto stride = static_cast<std::size_t>(x.outerStride());
  const math::simd_isa isa = math::fastest_simd_isa();
  return parallel_reduce(
      static_cast<std::size_t>(x.rows()), detail::column_totals(d),
      [&](std::size_t begin, std::size_t end) {
        detail::column_totals part(d);
        detail::add_columns(isa, x.data(), stride, d, begin, end, centre, part);
        return part;
      },
      [](detail::column_totals a, const detail::column_totals& b) {
        for (std::size_t j = 0; j < a.sums.size(); ++j) a.sums[j] += b.sums[j];
        a.largest_row_sum = std::max(a.largest_row_sum, b.largest_row_sum);
        a.non_finite = a.non_finite || b.non_finite;
        return a;
      },
      column_grain);
}

}  // namespace

kmeans_moments kmeans_column_sums(const matrix_view& x, std::span<const double> sample_weight) {
  const auto n = static_cast<std::size_t>(x.rows());
  kmeans_moments moments;
  moments.rows = n;
  if (sample_weight.empty()) {
    moments.positive_weights = n;
    moments.largest_weight = n > 0 ? 1.0 : 0.0;
  } else {
    check::same_size(fit_function, "sample_weight", sample_weight.size(), "the rows of x", n);
    check::all_nonnegative(fit_function, "sample_weight", sample_weight);
    for (double w : sample_weight) {
      moments.positive_weights += w > 0;
      moments.largest_weight = std::max(moments.largest_weight, w);
    }
  }
  auto pass = column_sums(x, nullptr);
  if (pass.non_finite) detail::check_samples(fit_function, "x", x);  // names the culprit
  moments.sums = std::move(pass.sums);
  return moments;
}

Eigen::RowVectorXd kmeans_column_mean(const kmeans_moments& sums) {
  if (sums.rows == 0) check::fail(fit_function, "x has no rows: no column means");
  Eigen::RowVectorXd mean(static_cast<Eigen::Index>(sums.sums.size()));
  for (std::size_t j = 0; j < sums.sums.size(); ++j) {
    mean[static_cast<Eigen::Index>(j)] = sums.sums[j].value() / static_cast<double>(sums.rows);
  }
  return mean;
}

kmeans_moments kmeans_column_deviations(const matrix_view& x, const Eigen::RowVectorXd& mean) {
  const auto n = static_cast<std::size_t>(x.rows());
  const auto d = static_cast<std::size_t>(x.cols());
  if (static_cast<std::size_t>(mean.size()) != d) {
    check::fail(fit_function, fmt::format("mean has {} values but x {} columns", mean.size(), d));
  }
  kmeans_moments moments;
  moments.rows = n;
  // Squared deviations; their row sums are the squared centred norms.
  auto pass = column_sums(x, mean.data());
  moments.sums = std::move(pass.sums);
  moments.largest_squared_norm = pass.non_finite ? infinity : pass.largest_row_sum;
  return moments;
}

kmeans_plan kmeans_plan_of(const kmeans_moments& sums, const kmeans_moments& deviations,
                           const std::optional<matrix_view>& initial,
                           const kmeans_options& options) {
  const std::size_t n = sums.rows;
  const std::size_t d = sums.sums.size();
  if (n == 0 || d == 0) {
    check::fail(fit_function, fmt::format("x is empty (shape ({}, {})); it needs at least one row "
                                          "and one column",
                                          n, d));
  }
  check_options(options, n);
  if (deviations.rows != n || deviations.sums.size() != d) {
    check::fail(fit_function, "the deviations do not describe the same rows as the sums");
  }
  kmeans_plan plan;
  plan.rows = n;
  plan.positive_weights = sums.positive_weights;
  plan.mean = kmeans_column_mean(sums);
  Eigen::RowVectorXd variance(static_cast<Eigen::Index>(d));
  for (std::size_t j = 0; j < d; ++j) {
    variance[static_cast<Eigen::Index>(j)] = deviations.sums[j].value() / static_cast<double>(n);
  }
  plan.radius = std::sqrt(deviations.largest_squared_norm) * (1 + 1e-12);
  // Squared distances between centred rows reach 4·max‖x_i − mean‖²; past the double range
  // every distance is inf and the fit would collapse to one cluster.
  const double distance_bound = 2 * plan.radius;
  if (!std::isfinite(distance_bound * distance_bound) || !variance.allFinite() ||
      !plan.mean.allFinite()) {
    check::fail(fit_function,
                fmt::format("x spreads too far for squared distances to stay finite (a centred "
                            "row has norm up to {:.3g}; the limit is about {:.3g}): rescale the "
                            "features, e.g. standardise them (see docs/limits.md)",
                            plan.radius, limits::max_kmeans_centred_norm));
  }
  if (sums.positive_weights == 0) {
    check::fail(fit_function, "sample_weight is all zero; at least one must be > 0");
  }
  plan.largest_weight = sums.largest_weight;
  if (!std::isfinite(distance_bound * distance_bound * plan.largest_weight)) {
    check::fail(fit_function,
                fmt::format("the largest sample_weight, {:.3g}, times the largest squared "
                            "distance, {:.3g}, overflows: rescale the weights or the features",
                            plan.largest_weight, distance_bound * distance_bound));
  }
  if (initial) {
    if (static_cast<std::size_t>(initial->rows()) != options.n_clusters ||
        static_cast<std::size_t>(initial->cols()) != d) {
      check::fail(fit_function,
                  fmt::format("initial_centers has shape ({}, {}) but must be (n_clusters, "
                              "n_features) = ({}, {})",
                              initial->rows(), initial->cols(), options.n_clusters, d));
    }
    detail::check_samples(fit_function, "initial_centers", *initial);
  }
  plan.tolerance = options.tol == 0 ? 0.0 : variance.mean() * options.tol;
  plan.algorithm = options.algorithm == kmeans_algorithm::automatic
                       ? automatic_kmeans_algorithm(options.n_clusters, d)
                       : options.algorithm;
  if (initial) plan.starts.emplace_back(initial->rowwise() - plan.mean);
  return plan;
}

void kmeans_seed(kmeans_plan& plan, const kmeans_options& options,
                 const kmeans_seeding_partitions& partitions) {
  if (!plan.starts.empty()) return;
  const std::size_t k = options.n_clusters;
  const auto d = static_cast<std::size_t>(plan.mean.size());
  const bool random_init = options.init == kmeans_init::random;
  if (random_init && plan.positive_weights < k) {
    check::fail(fit_function,
                fmt::format("init = 'random' draws n_clusters = {} distinct samples by weight, "
                            "but only {} samples have positive weight",
                            k, plan.positive_weights));
  }
  const std::size_t runs = options.n_init == 0 ? (random_init ? 10 : 1) : options.n_init;
  const std::vector<wide_int> weights = partitions.weight_totals();
  random_stream random(options.seed);
  for (std::size_t r = 0; r < runs; ++r) {
    plan.starts.push_back(random_init
                              ? draw_random(partitions, weights, random, k, d)
                              : draw_plus_plus(partitions, weights, random, k, d, 0).centers);
  }
}

namespace {

void check_seed_partition(std::string_view function, const matrix_view& x,
                          const Eigen::RowVectorXd& mean, std::span<const double> closest,
                          std::span<const double> sample_weight) {
  const auto n = static_cast<std::size_t>(x.rows());
  if (mean.size() != x.cols()) {
    check::fail(function, fmt::format("x has {} features but mean {}", x.cols(), mean.size()));
  }
  if (!closest.empty()) check::same_size(function, "closest", closest.size(), "x rows", n);
  if (!sample_weight.empty()) {
    check::same_size(function, "sample_weight", sample_weight.size(), "x rows", n);
  }
}

}  // namespace

wide_int kmeans_seed_weight_total(std::size_t rows, const kmeans_sum_scale& scale,
                                  std::span<const double> sample_weight) {
  const seeding_scales scales(scale);
  if (sample_weight.empty()) return static_cast<wide_int>(rows) * scales.weights.convert(1.0);
  check::same_size("kmeans_seed_weight_total", "sample_weight", sample_weight.size(), "rows", rows);
  return total(
      chunk_masses(rows, [&](std::size_t i) { return scales.mass({}, sample_weight, i); }));
}

wide_int kmeans_seed_add_centre(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                std::span<const double> centre, const kmeans_sum_scale& scale,
                                std::span<double> closest, bool first,
                                std::span<const double> sample_weight) {
  return total(add_centre_chunks(x, mean, centre, scale, closest, first, sample_weight));
}

namespace {

/** kmeans_seed_add_centre's potential per seeding chunk. */
std::vector<wide_int> add_centre_chunks(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                        std::span<const double> centre,
                                        const kmeans_sum_scale& scale, std::span<double> closest,
                                        bool first, std::span<const double> sample_weight) {
  constexpr std::string_view function = "kmeans_seed_add_centre";
  const auto n = static_cast<std::size_t>(x.rows());
  const auto d = static_cast<std::size_t>(x.cols());
  check::same_size(function, "closest", closest.size(), "x rows", n);
  check::same_size(function, "centre", centre.size(), "x columns", d);
  check_seed_partition(function, x, mean, closest, sample_weight);
  const shifted_rows rows(x, mean);
  const seeding_scales scales(scale);
  std::vector<wide_int> sums(chunk_count(n, seeding_grain), 0);
  parallel_chunks(n, seeding_grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    std::vector<double> point(d);
    wide_int sum = 0;
    for (std::size_t i = begin; i < end; ++i) {
      rows.copy(i, point.data());
      const double distance = detail::squared_distance(point.data(), centre.data(), d);
      closest[i] = first ? distance : std::min(closest[i], distance);
      sum += scales.mass(closest, sample_weight, i);
    }
    sums[chunk] = sum;
  });
  return sums;
}

}  // namespace

std::vector<wide_int> kmeans_seed_potentials(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                             const matrix_view& candidates,
                                             const kmeans_sum_scale& scale,
                                             std::span<const double> closest,
                                             std::span<const double> sample_weight) {
  constexpr std::string_view function = "kmeans_seed_potentials";
  const auto n = static_cast<std::size_t>(x.rows());
  const auto d = static_cast<std::size_t>(x.cols());
  const auto trials = static_cast<std::size_t>(candidates.rows());
  check::same_size(function, "closest", closest.size(), "x rows", n);
  check_seed_partition(function, x, mean, closest, sample_weight);
  if (static_cast<std::size_t>(candidates.cols()) != d) {
    check::fail(function,
                fmt::format("candidates have {} features but x has {}", candidates.cols(), d));
  }
  const row_matrix candidate_rows = candidates;
  detail::packed_points packed;
  packed.assign(candidate_rows.data(), trials, d, d);
  const shifted_rows rows(x, mean);
  const seeding_scales scales(scale);
  const std::size_t chunks = chunk_count(n, seeding_grain);
  std::vector<wide_int> chunk_potentials(chunks * trials, 0);
  parallel_chunks(n, seeding_grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    std::vector<double> point(d);
    std::vector<double> distances(packed.padded());
    wide_int* potentials = chunk_potentials.data() + chunk * trials;
    for (std::size_t i = begin; i < end; ++i) {
      rows.copy(i, point.data());
      detail::squared_distances(point.data(), packed, distances.data());
      const double w = weight_at(sample_weight, i);
      for (std::size_t t = 0; t < trials; ++t) {
        potentials[t] += scales.potentials.convert(w * std::min(closest[i], distances[t]));
      }
    }
  });
  std::vector<wide_int> potentials(trials, 0);
  for (std::size_t chunk = 0; chunk < chunks; ++chunk) {
    for (std::size_t t = 0; t < trials; ++t) potentials[t] += chunk_potentials[chunk * trials + t];
  }
  return potentials;
}

std::vector<kmeans_drawn> kmeans_seed_find(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                           const kmeans_sum_scale& scale,
                                           std::span<const kmeans_draw> draws,
                                           std::span<const double> closest,
                                           std::span<const double> sample_weight) {
  check_seed_partition("kmeans_seed_find", x, mean, closest, sample_weight);
  const seeding_scales scales(scale);
  const std::vector<wide_int> masses =
      chunk_masses(static_cast<std::size_t>(x.rows()),
                   [&](std::size_t i) { return scales.mass(closest, sample_weight, i); });
  return find_draws(x, mean, scale, draws, closest, sample_weight, masses);
}

namespace {

/** kmeans_seed_find given the masses of the seeding chunks. */
std::vector<kmeans_drawn> find_draws(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                     const kmeans_sum_scale& scale,
                                     std::span<const kmeans_draw> draws,
                                     std::span<const double> closest,
                                     std::span<const double> sample_weight,
                                     std::span<const wide_int> masses) {
  constexpr std::string_view function = "kmeans_seed_find";
  const auto n = static_cast<std::size_t>(x.rows());
  const auto d = static_cast<std::size_t>(x.cols());
  const seeding_scales scales(scale);
  auto mass = [&](std::size_t i) { return scales.mass(closest, sample_weight, i); };
  const shifted_rows rows(x, mean);
  std::vector<kmeans_drawn> found;
  for (const auto& draw : draws) {
    for (std::size_t s = 0; s < draw.skip.size(); ++s) {
      if (draw.skip[s] >= n || (s > 0 && draw.skip[s] <= draw.skip[s - 1])) {
        check::fail(function, "skip must list rows of the partition in increasing order");
      }
    }
    wide_int target = draw.target;
    std::size_t row = n;
    auto skip = draw.skip.begin();
    for (std::size_t chunk = 0; chunk < masses.size() && row == n && target >= 0; ++chunk) {
      const std::size_t begin = chunk * seeding_grain;
      const std::size_t end = std::min(n, begin + seeding_grain);
      wide_int chunk_mass = masses[chunk];
      auto first_skip = skip;
      for (; skip != draw.skip.end() && *skip < end; ++skip) chunk_mass -= mass(*skip);
      if (target >= chunk_mass) {
        target -= chunk_mass;
        continue;
      }
      skip = first_skip;
      for (std::size_t i = begin; i < end; ++i) {
        if (skip != draw.skip.end() && *skip == i) {
          ++skip;
          continue;
        }
        const wide_int m = mass(i);
        if (target < m) {
          row = i;
          break;
        }
        target -= m;
      }
    }
    if (row == n) {
      check::fail(function, "a draw's target is not below the partition's (remaining) mass");
    }
    kmeans_drawn drawn{row, mass(row), std::vector<double>(d)};
    rows.copy(row, drawn.centred.data());
    found.push_back(std::move(drawn));
  }
  return found;
}

}  // namespace

std::vector<std::int32_t> kmeans_label_mapping(std::span<const std::int32_t> a,
                                               std::span<const std::int32_t> b, std::size_t k) {
  std::vector<std::int32_t> mapping(k, -1);
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto& mapped = mapping[static_cast<std::size_t>(a[i])];
    if (mapped == -1) {
      mapped = b[i];
    } else if (mapped != b[i]) {
      mapped = label_mapping_conflict;
    }
  }
  return mapping;
}

std::vector<std::int32_t> kmeans_merge_label_mappings(
    std::span<const std::vector<std::int32_t>> mappings, std::size_t k) {
  std::vector<std::int32_t> merged(k, -1);
  for (const auto& mapping : mappings) {
    check::same_size("kmeans_merge_label_mappings", "mapping", mapping.size(), "k", k);
    for (std::size_t j = 0; j < k; ++j) {
      if (mapping[j] == -1 || merged[j] == mapping[j]) continue;
      merged[j] = merged[j] == -1 ? mapping[j] : label_mapping_conflict;
    }
  }
  return merged;
}

}  // namespace crmkit::segment
