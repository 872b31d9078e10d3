#pragma once

#include <cstddef>
#include <cstdint>
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
 * steps, so a driver that runs them as below gets its labels, centres, inertia and iteration
 * count bit for bit, whatever the partitioning:
 *
 *  1. `kmeans_plan_fit` on the whole data fixes the centring mean, the scaled tolerance, the
 *     scale of the exact sums and the centred initial centres of every run (k-means++ or random
 *     seeding draws from the whole data, as the single-machine fit does).
 *  2. Each iteration, every partition runs `kmeans_assign_partition` (Lloyd's E-step with the
 *     exact kernel and tie rule every algorithm shares) and returns its labels, the number of
 *     changed labels and its exact per-cluster sums; the sums are 128-bit fixed-point integers
 *     (see crmkit::fixed_point), so partial sums add to the single-machine sums in any order.
 *  3. The driver adds the partial sums and calls `kmeans_update_centres` (M-step, empty-cluster
 *     relocation from the farthest points, sum of squared shifts). The run stops as the
 *     single-machine run does: no label changed (strict), or shift total <= tolerance (then one
 *     more E-step), or max_iter.
 *  4. `kmeans_inertia` gives the inertia with the single-machine fit's reduction order.
 */
namespace crmkit::segment {

/** What a fit fixes before iterating. */
struct kmeans_plan {
  Eigen::RowVectorXd mean;    ///< column means, subtracted from every row
  double tolerance = 0;       ///< tol * mean column variance
  double radius = 0;          ///< bound on every centred row's norm
  double largest_weight = 1;  ///< largest sample weight (1 without weights)
  kmeans_algorithm algorithm = kmeans_algorithm::lloyd;  ///< what the single machine would run
  std::vector<row_matrix> starts;                        ///< centred initial centres, one per run
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
      describe::field{"starts", &s::starts, "centred initial centres, one per run"}};
}

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

/** sum_i w_i ||x_i - mean - c_{label_i}||^2 over all rows, in the single-machine fit's order. */
double kmeans_inertia(const matrix_view& x, const Eigen::RowVectorXd& mean,
                      const matrix_view& centres, std::span<const std::int32_t> labels,
                      std::span<const double> sample_weight = {});

/** True when `a` and `b` are the same partition up to a relabelling (scikit-learn's test). */
bool kmeans_same_clustering(std::span<const std::int32_t> a, std::span<const std::int32_t> b,
                            std::size_t k);

}  // namespace crmkit::segment
