#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/core/exact_sum.hpp"
#include "crmkit/segment/kmeans.hpp"
#include "crmkit/segment/matrix.hpp"

/**
 * k-means (crmkit/segment/kmeans.hpp) cut into the steps a driver runs when the samples are
 * spread over partitions, e.g. on a Dask cluster. The single-machine fit is built from the same
 * steps (its data as one partition), and every quantity a driver combines is an exact sum, a
 * maximum or a count, so a driver that runs them as below gets the single-machine labels,
 * centres, inertia and iteration count bit for bit, whatever the partitioning, and never holds
 * more than O(k d) numbers per partition:
 *
 *  1. The plan. Each partition returns `kmeans_column_sums` (row count, weight facts, exact
 *     column sums in a `full_range_sum`); the merged sums give the mean (exact sum rounded once,
 *     / n). Each partition then returns `kmeans_column_deviations` (exact sums of squared
 *     deviations from that mean, and the largest squared centred norm, a maximum); the merged
 *     moments give `kmeans_plan_of`: mean, tolerance, the scale of every exact sum (radius,
 *     largest weight), the algorithm.
 *  2. The starts: `kmeans_seed` draws them (k-means++ or random, from `options.seed`) through
 *     `kmeans_seeding_partitions`, callbacks the driver implements with the partition steps
 *     `kmeans_seed_weight_total`, `kmeans_seed_add_centre` (each partition keeps its `closest`
 *     distances between calls), `kmeans_seed_find` and `kmeans_seed_potentials`. Masses
 *     w_i min_c ||x_i - c||^2 and weights are fixed-point integers (crmkit::fixed_point, scales
 *     from the plan), so totals are exact; a draw u in [0, 1) (u 2^53 an integer) targets
 *     floor(u T) of the exact total T, computed in integers, and picks the first row whose exact
 *     running mass exceeds it: the driver picks the partition from the partition totals, the
 *     partition walks its rows.
 *  3. Each iteration, every partition runs `kmeans_assign_partition` (Lloyd's E-step with the
 *     exact kernel and tie rule every algorithm shares) and returns its labels, the number of
 *     changed labels and its exact per-cluster sums; the sums are 128-bit fixed-point integers
 *     (see crmkit::fixed_point), so partial sums add to the single-machine sums in any order.
 *  4. The driver adds the partial sums and calls `kmeans_update_centres` (M-step, empty-cluster
 *     relocation from the farthest points, sum of squared shifts). The run stops as the
 *     single-machine run does: no label changed (strict), or shift total <= tolerance (then one
 *     more E-step), or max_iter.
 *  5. `kmeans_inertia_sum` per partition, merged and rounded once, gives the inertia; runs are
 *     compared with `kmeans_label_mapping` per partition, merged by `kmeans_merge_label_mappings`.
 */
namespace crmkit::segment {

/** What a fit fixes before iterating. */
struct kmeans_plan {
  Eigen::RowVectorXd mean;    ///< column means (exact sums rounded once, / n), subtracted from
                              ///< every row
  double tolerance = 0;       ///< tol * mean column variance
  double radius = 0;          ///< bound on every centred row's norm
  double largest_weight = 1;  ///< largest sample weight (1 without weights)
  kmeans_algorithm algorithm = kmeans_algorithm::lloyd;  ///< what the single machine would run
  std::vector<row_matrix> starts;                        ///< centred initial centres, one per run
  std::size_t rows = 0;                                  ///< n
  std::size_t positive_weights = 0;                      ///< rows of positive weight
};

constexpr auto description(std::type_identity<kmeans_plan>) {
  using s = kmeans_plan;
  return std::tuple{
      describe::field{"mean", &s::mean, "column means, subtracted from every row"},
      describe::field{"tolerance", &s::tolerance, "tol * mean column variance"},
      describe::field{"radius", &s::radius, "bound on every centred row's norm"},
      describe::field{"largest_weight", &s::largest_weight,
                      "largest sample weight (1 without weights)"},
      describe::field{"algorithm", &s::algorithm, "what the single machine would run"},
      describe::field{"starts", &s::starts, "centred initial centres, one per run"},
      describe::field{"rows", &s::rows, "n"},
      describe::field{"positive_weights", &s::positive_weights, "rows of positive weight"}};
}

/**
 * One partition's column moments, or the merge of several (`+=`, exact and order-free).
 * `kmeans_column_sums` fills rows, the weight facts and sums[j] = sum_i x_ij;
 * `kmeans_column_deviations` fills sums[j] = sum_i (x_ij - mean_j)^2 and largest_squared_norm.
 */
struct kmeans_moments {
  std::size_t rows = 0;
  std::size_t positive_weights = 0;  ///< rows of positive weight (every row without weights)
  double largest_weight = 0;         ///< max w_i (1 without weights; 0 without rows)
  double largest_squared_norm = 0;   ///< max_i ||x_i - mean||^2 (deviations)
  std::vector<full_range_sum> sums;  ///< one per column

  kmeans_moments& operator+=(const kmeans_moments& other);
};

/** First pass of the plan: checks x (finite) and the weights (finite, >= 0); exact column sums. */
kmeans_moments kmeans_column_sums(const matrix_view& x, std::span<const double> sample_weight = {});

/** mean_j = (sum_i x_ij, rounded once) / n from the merged first pass. */
Eigen::RowVectorXd kmeans_column_mean(const kmeans_moments& sums);

/** Second pass: exact sums of squared deviations from `mean`, largest squared centred norm. */
kmeans_moments kmeans_column_deviations(const matrix_view& x, const Eigen::RowVectorXd& mean);

/**
 * The plan (no starts unless `initial_centers`, the one run's) from both merged passes: checks
 * the options, the spread and the weights as `kmeans` does. tolerance = tol * mean_j var_j with
 * var_j = (sum of squared deviations, rounded once) / n; radius = sqrt(largest squared norm)
 * (1 + 1e-12).
 */
kmeans_plan kmeans_plan_of(const kmeans_moments& sums, const kmeans_moments& deviations,
                           const std::optional<matrix_view>& initial_centers,
                           const kmeans_options& options);

/**
 * Checks x, the options and the weights as `kmeans` does and draws the initial centres of every
 * run (from `options.seed`; one run from `initial_centers` when given).
 */
kmeans_plan kmeans_plan_fit(const matrix_view& x, const std::optional<matrix_view>& initial_centers,
                            const kmeans_options& options,
                            std::span<const double> sample_weight = {});

/** Scales of the exact sums: the same for every partition of one fit. */
struct kmeans_sum_scale {
  double radius = 0;          ///< kmeans_plan::radius
  double largest_weight = 1;  ///< kmeans_plan::largest_weight
};

/** A seeding draw: the first row of `partition` whose running mass exceeds `target`. */
struct kmeans_draw {
  std::size_t partition = 0;
  wide_int target = 0;            ///< below the partition's total mass
  std::vector<std::size_t> skip;  ///< rows already drawn (random init: mass 0), increasing
};

/** A drawn row: its index in the partition, its mass and its centred coordinates. */
struct kmeans_drawn {
  std::size_t row = 0;
  wide_int mass = 0;
  std::vector<double> centred;
};

/**
 * What `kmeans_seed` asks of the partitions (each function runs the named partition step on
 * every partition, or on the ones the draws name).
 */
struct kmeans_seeding_partitions {
  /** `kmeans_seed_weight_total` of every partition. */
  std::function<std::vector<wide_int>()> weight_totals;
  /** `kmeans_seed_add_centre` on every partition (first: a new run); their potential totals. */
  std::function<std::vector<wide_int>(std::span<const double> centre, bool first)> add_centre;
  /** `kmeans_seed_find` for the draws, in draw order (by potential or by weight). */
  std::function<std::vector<kmeans_drawn>(std::span<const kmeans_draw> draws, bool by_potential)>
      find;
  /** `kmeans_seed_potentials` summed over the partitions. */
  std::function<std::vector<wide_int>(const row_matrix& candidates)> candidate_potentials;
};

/**
 * Draws the centred starts of every run into plan.starts (nothing when they are given):
 * greedy k-means++ (Arthur & Vassilvitskii 2007, with 2 + floor(ln k) local trials as
 * scikit-learn) or k rows without replacement by weight (init = random), with exact
 * fixed-point masses so the draws do not depend on the partitioning.
 */
void kmeans_seed(kmeans_plan& plan, const kmeans_options& options,
                 const kmeans_seeding_partitions& partitions);

/** sum_i trunc(w_i 2^e) over a partition: its total mass for draws by weight. */
wide_int kmeans_seed_weight_total(std::size_t rows, const kmeans_sum_scale& scale,
                                  std::span<const double> sample_weight = {});

/**
 * closest_i = min(closest_i, ||x_i - mean - centre||^2) (first: without the old value; closest
 * has one entry per row); returns the partition's potential sum_i trunc(w_i closest_i 2^e).
 */
wide_int kmeans_seed_add_centre(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                std::span<const double> centre, const kmeans_sum_scale& scale,
                                std::span<double> closest, bool first,
                                std::span<const double> sample_weight = {});

/** Per candidate (centred rows), the partition's potential if it were added. */
std::vector<wide_int> kmeans_seed_potentials(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                             const matrix_view& candidates,
                                             const kmeans_sum_scale& scale,
                                             std::span<const double> closest,
                                             std::span<const double> sample_weight = {});

/** The rows the draws (all in this partition) land on; masses by potential if closest is given. */
std::vector<kmeans_drawn> kmeans_seed_find(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                           const kmeans_sum_scale& scale,
                                           std::span<const kmeans_draw> draws,
                                           std::span<const double> closest = {},
                                           std::span<const double> sample_weight = {});

/** One partition's E-step. */
struct kmeans_partial {
  std::vector<std::int32_t> labels;  ///< nearest centre of each row (ties to the lowest index)
  std::size_t changes = 0;           ///< labels that differ from `previous`
  /** k weights, then k x d weighted centred coordinates, as exact fixed-point integers. */
  std::vector<wide_int> sums;
};

/**
 * Lloyd's E-step on the rows of one partition: each row x_i is centred (x_i - mean) and labelled
 * with its nearest centre; its weight and weighted centred coordinates are added to its
 * cluster's exact sums.
 *
 * @param centres k x d centred centres.
 * @param previous empty (first iteration: every label counts as changed) or the partition's
 *        previous labels.
 */
kmeans_partial kmeans_assign_partition(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                       const matrix_view& centres, const kmeans_sum_scale& scale,
                                       std::span<const double> sample_weight = {},
                                       std::span<const std::int32_t> previous = {});

/**
 * Squared distance from every centred row to its own centre (what empty-cluster relocation
 * ranks; ties go to the lower global row index).
 */
std::vector<double> kmeans_own_distances(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                         const matrix_view& centres,
                                         std::span<const std::int32_t> labels);

/** The points relocation moves, farthest first: their rows (uncentred), weights and labels. */
struct kmeans_far_points {
  row_matrix rows;
  std::vector<double> weights;
  std::vector<std::int32_t> labels;
};

/** New centres and the sum of their squared shifts. */
struct kmeans_update {
  row_matrix centres;          ///< centred
  std::vector<double> shifts;  ///< ||new - old|| per centre
  double shift_total = 0;      ///< sum of the squared shifts
};

/**
 * M-step from the exact sums of all points: clusters of weight 0 take, in increasing index, the
 * far points in order (none when every point sits on its centre), then centre = sum / weight, a
 * still-empty centre the centre of the heaviest cluster.
 */
kmeans_update kmeans_update_centres(std::span<const wide_int> sums, const matrix_view& centres,
                                    const Eigen::RowVectorXd& mean, const kmeans_sum_scale& scale,
                                    const kmeans_far_points& far = {});

/** sum_i w_i ||x_i - mean - c_{label_i}||^2 over a partition's rows, exactly. */
full_range_sum kmeans_inertia_sum(const matrix_view& x, const Eigen::RowVectorXd& mean,
                                  const matrix_view& centres, std::span<const std::int32_t> labels,
                                  std::span<const double> sample_weight = {});

/** kmeans_inertia_sum rounded once: the fit's inertia. */
double kmeans_inertia(const matrix_view& x, const Eigen::RowVectorXd& mean,
                      const matrix_view& centres, std::span<const std::int32_t> labels,
                      std::span<const double> sample_weight = {});

/** True when `a` and `b` are the same partition up to a relabelling (scikit-learn's test). */
bool kmeans_same_clustering(std::span<const std::int32_t> a, std::span<const std::int32_t> b,
                            std::size_t k);

/** label_mapping_conflict marks a label of `a` that two labels of `b` share. */
inline constexpr std::int32_t label_mapping_conflict = -2;

/**
 * For each label j of `a`: the label of `b` on its rows, -1 if j is absent, or
 * label_mapping_conflict. Two labellings are the same clustering iff the merged mappings of
 * their partitions have no conflict.
 */
std::vector<std::int32_t> kmeans_label_mapping(std::span<const std::int32_t> a,
                                               std::span<const std::int32_t> b, std::size_t k);

/** Merges partitions' label mappings (any order). */
std::vector<std::int32_t> kmeans_merge_label_mappings(
    std::span<const std::vector<std::int32_t>> mappings, std::size_t k);

}  // namespace crmkit::segment
