#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/segment/kmeans.hpp"
#include "crmkit/segment/matrix.hpp"

/**
 * Cluster-quality scores with scikit-learn 1.2's definitions (sklearn/metrics/cluster/
 * _unsupervised.py), Euclidean distance, and a helper that fits k-means over a range of k.
 *
 * Labels are any integers; they are encoded as 0..L-1 in increasing order (scikit-learn's
 * LabelEncoder). Every score needs 2 <= L <= n - 1 labels; otherwise invalid_input is thrown.
 */
namespace crmkit::segment {

/**
 * Silhouette value of each sample (Rousseeuw 1987, J. Comput. Appl. Math. 20:53-65):
 * s(i) = (b(i) - a(i)) / max(a(i), b(i)), where a(i) is the mean distance from i to the other
 * members of its cluster and b(i) the smallest mean distance from i to another cluster;
 * s(i) = 0 for a member of a one-point cluster (and when a(i) = b(i) = 0). Exact, O(n^2 d) time,
 * O(n) memory per thread.
 */
std::vector<double> silhouette_samples(const matrix_view& x, std::span<const std::int64_t> labels);

/** Mean silhouette value over all samples (scikit-learn's `silhouette_score`). */
double silhouette_score(const matrix_view& x, std::span<const std::int64_t> labels);

/** The sampled silhouette: its value and the samples it was computed on. */
struct sampled_silhouette {
  double score = 0;
  std::vector<std::size_t> indices;  ///< rows of x used, in draw order
};

/**
 * Mean silhouette over `sample_size` rows drawn uniformly without replacement (a seeded partial
 * Fisher-Yates shuffle of 0..n-1 driven by crmkit::segment::random_stream), computed among those
 * rows only, as scikit-learn does with `sample_size`. The whole data when sample_size >= n.
 */
sampled_silhouette silhouette_score(const matrix_view& x, std::span<const std::int64_t> labels,
                                    std::size_t sample_size, std::uint64_t seed);

/**
 * Calinski-Harabasz index (Calinski & Harabasz 1974, Commun. Stat. 3:1-27):
 * [B / (L - 1)] / [W / (n - L)], with B = sum_k n_k ||m_k - m||^2 the between-cluster and
 * W = sum_i ||x_i - m_{label_i}||^2 the within-cluster dispersion; 1 when W = 0.
 * Higher is better.
 */
double calinski_harabasz_score(const matrix_view& x, std::span<const std::int64_t> labels);

/**
 * Davies-Bouldin index (Davies & Bouldin 1979, IEEE TPAMI 1:224-227): the mean over clusters i of
 * max_{j != i} (s_i + s_j) / ||m_i - m_j||, with s_i the mean distance of cluster i's members to
 * its centroid m_i; a pair of coinciding centroids contributes 0, and the index is 0 when all
 * s_i or all centroid distances are within 1e-8 of 0 (numpy.allclose). Lower is better.
 */
double davies_bouldin_score(const matrix_view& x, std::span<const std::int64_t> labels);

/** One row of choose_k's table. */
struct choose_k_row {
  std::size_t k = 0;
  double inertia = 0;
  double silhouette = 0;         ///< NaN when the fit used fewer than 2 distinct labels
  double calinski_harabasz = 0;  ///< idem
  double davies_bouldin = 0;     ///< idem
  std::size_t n_iter = 0;
  std::size_t distinct_clusters = 0;
};

constexpr auto description(std::type_identity<choose_k_row>) {
  using s = choose_k_row;
  return std::tuple{
      describe::field{"k", &s::k, "clusters"},
      describe::field{"inertia", &s::inertia, "weighted within-cluster sum of squares"},
      describe::field{"silhouette", &s::silhouette,
                      "NaN when the fit used fewer than 2 distinct labels"},
      describe::field{"calinski_harabasz", &s::calinski_harabasz, "idem"},
      describe::field{"davies_bouldin", &s::davies_bouldin, "idem"},
      describe::field{"n_iter", &s::n_iter, "iterations of the kept run"},
      describe::field{"distinct_clusters", &s::distinct_clusters, "labels actually used"}};
}

/** The table of choose_k and its suggestion. */
struct choose_k_result {
  std::vector<choose_k_row> rows;
  std::size_t suggested_k = 0;  ///< the k with the highest silhouette (the smallest k on ties)
  std::size_t silhouette_sample_size = 0;  ///< samples the silhouettes used (n when exact)
};

/**
 * Fits k-means for every k in [k_min, k_max] (options.n_clusters is overridden; options.seed is
 * used for every k) and scores each fit. The suggestion is the k with the highest silhouette,
 * a rule that needs no tuning and, unlike inertia, does not always prefer more clusters;
 * Calinski-Harabasz and Davies-Bouldin are reported beside it for a second opinion.
 *
 * @param silhouette_sample_size 0 for exact silhouettes, else the size of the sample drawn
 *        (with options.seed) once per k, as in silhouette_score(x, labels, size, seed).
 * @throw invalid_input when k_min < 2, k_max < k_min or k_max >= n.
 */
choose_k_result choose_k(const matrix_view& x, std::size_t k_min, std::size_t k_max,
                         const kmeans_options& options = {},
                         std::span<const double> sample_weight = {},
                         std::size_t silhouette_sample_size = 0);

}  // namespace crmkit::segment
