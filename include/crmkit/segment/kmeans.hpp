#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/segment/matrix.hpp"

/**
 * k-means clustering with scikit-learn 1.2's semantics (sklearn/cluster/_kmeans.py,
 * _k_means_lloyd.pyx, _k_means_common.pyx), exact accelerated variants and deterministic
 * parallelism.
 *
 * A fit minimises the weighted inertia  sum_i w_i ||x_i - c_{label_i}||^2  (Lloyd 1982):
 *
 *  1. The data are centred (the column means are subtracted, as scikit-learn does for dense
 *     input) and the tolerance is scaled: tol_eff = tol * mean_j Var(x_j) (unweighted, ddof 0).
 *  2. Each of `n_init` runs starts from initial centres (k-means++, random, or given) and
 *     repeats: E-step (label = nearest centre; ties go to the lowest index), M-step (centre =
 *     weighted mean of its points), until the labels do not change ("strict convergence"), or
 *     sum_j ||c_j^new - c_j^old||^2 <= tol_eff, or `max_iter` iterations. After a stop that is
 *     not strict, one more E-step aligns the labels with the final centres.
 *  3. Empty clusters (total weight 0 after an E-step) are relocated as scikit-learn does: the
 *     points farthest from their own centre (largest ||x_i - c_{label_i}||, ties to the lower
 *     index) are taken in decreasing distance, one per empty cluster in increasing cluster
 *     index, and their weighted coordinates move from their cluster's sum to the empty one. If
 *     every point sits exactly on its centre nothing moves, and a still-empty centre is placed
 *     on the centre of the heaviest cluster. (scikit-learn 1.2 leaves the relocation order of
 *     several far points to `np.argpartition`; with one empty cluster both agree.)
 *  4. The run with the lowest inertia is kept; a later run replaces the best only when its
 *     inertia is lower and its labels are not the same clustering up to a relabelling.
 *
 * Algorithms. `lloyd` computes every point-centre distance each iteration (the reference).
 * `hamerly` (Hamerly, "Making k-means even faster", SDM 2010) keeps one upper bound on the
 * distance to the own centre and one lower bound on the distance to any other centre, and skips
 * a point whose bounds prove its label cannot change. `elkan` (Elkan, "Using the triangle
 * inequality to accelerate k-means", ICML 2003) keeps one lower bound per centre (n * k
 * doubles). Both are exact: a bound test only skips a point when it holds with a margin larger
 * than the worst rounding error of the bounds, and a point that fails is assigned by the same
 * distance kernel and tie rule as Lloyd, so all three give bit-identical labels, centres and
 * inertia from the same initial centres. Hamerly works on a float copy of the centred data
 * (half the memory traffic): its bound tests widen every distance by the copy's largest
 * rounding error, and the points they cannot settle are screened by a float kernel
 * (||x||^2 + ||c||^2 - 2 x.c with fused multiply-adds, sixteen centres per AVX-512 register)
 * whose error is bounded a priori (Higham 2002, section 3.1); a screened nearest centre is only
 * accepted when no rounding can change it, and the rest go to the exact kernel. `screened`
 * keeps no bounds: every iteration screens every point, rounded to float in blocks of sixteen
 * points (one point per vector lane, the centres broadcast from the cache; converted while
 * screening in the first two iterations, then kept as a copy written in the third), with the
 * same error bound and a square-root-free acceptance test; the few points it cannot settle go
 * to the exact kernel. Where few centres leave many points near a boundary (unstructured data,
 * small k), Hamerly's bounds prune little and cost a pass over n bounds plus scattered reads;
 * screening all points is then cheaper. `automatic` chooses `screened` for k <= 32 with
 * d <= 64 (measured at n = 10^6, d in {4, 8, 16}, k in {8, 32}, clustered and uniform data:
 * screened as fast or faster in every cell) and `hamerly` otherwise.
 *
 * Determinism. Centre sums are exact: each weighted coordinate is converted to a 64-bit
 * fixed-point integer (units of 2^-62 of the largest one; finer than a double's rounding) and
 * summed in 128 bits. Integer addition does not depend on order, so the sums are kept up to date
 * by moving only the points that changed cluster, and give the same bits whatever the thread
 * count (crmkit::set_num_threads). Every other sum is exact too, so nothing depends on how the
 * rows are cut (threads here, partitions in crmkit/segment/kmeans_steps.hpp): the column means
 * and variances (centring, tolerance) and the inertia are long-accumulator sums
 * (crmkit::full_range_sum) rounded once; the k-means++ and random-init masses w_i D(x_i)^2 and
 * w_i are fixed-point integers like the centre sums, a draw u in [0, 1) targets floor(u T) of
 * their exact total T and takes the first point whose exact running mass exceeds it, and
 * candidates are compared by their exact potentials.
 */
namespace crmkit::segment {

/** How initial centres are chosen. */
enum class kmeans_init {
  /**
   * Greedy k-means++ (Arthur & Vassilvitskii 2007, greedy variant as in scikit-learn): the first
   * centre is a point drawn with probability proportional to its weight; each further centre is
   * the best of `2 + floor(ln k)` candidates drawn with probability proportional to
   * w_i D(x_i)^2 (D = distance to the nearest chosen centre), "best" meaning the lowest
   * resulting potential sum_i w_i D(x_i)^2. Weights are used as in scikit-learn >= 1.3.
   */
  k_means_plus_plus,
  /** `n_clusters` distinct points drawn without replacement with probability proportional to w. */
  random,
};

constexpr auto description(std::type_identity<kmeans_init>) {
  return describe::enum_table<kmeans_init, 2>{
      "init", {{{kmeans_init::k_means_plus_plus, "k-means++"}, {kmeans_init::random, "random"}}}};
}

/** Parses "k-means++" or "random" (the Python spelling). Throws invalid_input. */
inline kmeans_init parse_kmeans_init(std::string_view name) {
  return describe::parse<kmeans_init>(name);
}

/** Which exact iteration is used; all give the same result from the same initial centres. */
enum class kmeans_algorithm { automatic, lloyd, hamerly, elkan, screened };

constexpr auto description(std::type_identity<kmeans_algorithm>) {
  return describe::enum_table<kmeans_algorithm, 5>{"algorithm",
                                                   {{{kmeans_algorithm::automatic, "auto"},
                                                     {kmeans_algorithm::lloyd, "lloyd"},
                                                     {kmeans_algorithm::hamerly, "hamerly"},
                                                     {kmeans_algorithm::elkan, "elkan"},
                                                     {kmeans_algorithm::screened, "screened"}}}};
}

/**
 * Parses "auto", "lloyd", "hamerly", "elkan" or "screened" (the Python spelling). Throws
 * invalid_input.
 */
inline kmeans_algorithm parse_kmeans_algorithm(std::string_view name) {
  return describe::parse<kmeans_algorithm>(name);
}

/** The algorithm `automatic` runs for k centres in d dimensions (see the file comment). */
kmeans_algorithm automatic_kmeans_algorithm(std::size_t k, std::size_t d);

/** The Python spelling of an algorithm ("auto", "lloyd", "hamerly", "elkan", "screened"). */
inline std::string_view kmeans_algorithm_name(kmeans_algorithm algorithm) {
  return describe::name_of(algorithm);
}

/** Settings of a k-means fit, with scikit-learn's names and defaults. */
struct kmeans_options {
  std::size_t n_clusters = 8;                         ///< k >= 1, at most n_samples
  kmeans_init init = kmeans_init::k_means_plus_plus;  ///< ignored when centres are given
  std::size_t n_init = 0;  ///< runs; 0 = "auto": 1 for k-means++ or given centres, 10 for random
  std::size_t max_iter = 300;  ///< iterations per run, >= 1
  double tol = 1e-4;           ///< relative tolerance, >= 0
  std::uint64_t seed = 0;      ///< seed of crmkit::segment::random_stream
  kmeans_algorithm algorithm = kmeans_algorithm::automatic;  ///< iteration variant
};

/** Result of a k-means fit. */
struct kmeans_result {
  row_matrix centers;                 ///< k x d centres, in the units of the input
  std::vector<std::int32_t> labels;   ///< nearest centre of each sample
  double inertia = 0;                 ///< sum_i w_i ||x_i - c_{label_i}||^2
  std::size_t n_iter = 0;             ///< iterations of the kept run
  bool converged = false;             ///< the kept run stopped before `max_iter` ran out
  bool strict_convergence = false;    ///< ... because the labels stopped changing
  std::size_t distinct_clusters = 0;  ///< labels actually used; < k means duplicate points
  std::size_t best_run = 0;           ///< index of the kept run among the n_init runs
  std::size_t n_runs = 0;             ///< runs made
  kmeans_algorithm algorithm = kmeans_algorithm::lloyd;  ///< variant actually used
  std::uint64_t distance_evaluations = 0;  ///< point-centre distances computed, all runs
  double tolerance = 0;                    ///< the scaled tolerance tol * mean variance
};

/**
 * Fits k-means to the rows of `x` (n samples x d features).
 *
 * @param x samples; every value finite.
 * @param options see kmeans_options.
 * @param sample_weight empty (all 1) or n finite non-negative weights, not all zero.
 * @throw invalid_input naming the argument, row, column and value for NaN/inf, negative or
 *        all-zero weights, n_clusters < 1 or > n, empty input, max_iter < 1, tol < 0.
 * @throw invalid_input for init = random when fewer than k samples have positive weight.
 */
kmeans_result kmeans(const matrix_view& x, const kmeans_options& options = {},
                     std::span<const double> sample_weight = {});

/**
 * Fits k-means from given initial centres (k x d, k = options.n_clusters); one run is made
 * whatever options.n_init says, as scikit-learn does for an array `init`.
 */
kmeans_result kmeans(const matrix_view& x, const matrix_view& initial_centers,
                     const kmeans_options& options = {},
                     std::span<const double> sample_weight = {});

/** Centres and row indices chosen by greedy k-means++. */
struct seeding_result {
  row_matrix centers;                ///< k x d, rows of x
  std::vector<std::size_t> indices;  ///< x.row(indices[j]) == centers.row(j)
};

/**
 * Greedy weighted k-means++ seeding (see kmeans_init::k_means_plus_plus), on `x` as given.
 *
 * Draws, in order: one uniform u_0 for the first centre; then for each further centre,
 * `n_local_trials` uniforms u_t. A draw u over masses m_i (w_i, or w_i D_i^2) selects the first
 * index whose cumulative mass exceeds u * sum(m), so a point of zero mass is never drawn; when
 * every D_i is 0 the candidates are drawn by weight instead. Ties in the potential go to the
 * earliest candidate.
 *
 * @param n_local_trials candidates per centre; 0 means 2 + floor(ln k); 1 is vanilla k-means++.
 */
seeding_result kmeans_plus_plus(const matrix_view& x, std::size_t n_clusters, std::uint64_t seed,
                                std::span<const double> sample_weight = {},
                                std::size_t n_local_trials = 0);

/** Nearest-centre labels of samples and their weighted inertia. */
struct assignment {
  std::vector<std::int32_t> labels;  ///< nearest centre (ties to the lowest index)
  double inertia = 0;                ///< sum_i w_i ||x_i - c_{label_i}||^2
};

/** Labels of new samples (scikit-learn's `predict`) and their inertia (minus `score`). */
assignment kmeans_predict(const matrix_view& x, const matrix_view& centers,
                          std::span<const double> sample_weight = {});

/** Euclidean (not squared) distances from every sample to every centre, n x k (`transform`). */
row_matrix kmeans_transform(const matrix_view& x, const matrix_view& centers);

}  // namespace crmkit::segment
