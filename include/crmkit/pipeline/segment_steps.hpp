#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/core/exact_sum.hpp"
#include "crmkit/data/table.hpp"
#include "crmkit/pipeline/options.hpp"
#include "crmkit/pipeline/result.hpp"
#include "crmkit/segment/kmeans_steps.hpp"
#include "crmkit/segment/matrix.hpp"

/**
 * The report's k-means segments (pipeline::segment_customers) cut into the steps a driver runs
 * when the customers are spread over partitions (a Dask cluster); the single machine runs the
 * same steps on one partition. Every quantity combined across partitions is an exact sum
 * (crmkit::full_range_sum) or a count, and the row order is the customers' global order (each
 * partition knows its first row's index), so the labels and tables do not depend on the
 * partitioning:
 *
 *  1. Features f_ij = log1p(max(x_ij, 0)) of (periods since last, purchases, mean spend)
 *     (`segment_feature_logs`), standardised z_ij = (f_ij - m_j) / s_j with m_j the exact column
 *     sum rounded once / n and s_j = sqrt(exact sum of (f_ij - m_j)^2 rounded once / n) (the
 *     population standard deviation; s_j = 1 when it is 0): segment::kmeans_column_sums and
 *     kmeans_column_deviations per partition, `segment_feature_scaling` on the merged moments.
 *  2. `segment_sample_rows(n, k_sample, seed)`: global row indices of the sample that chooses k;
 *     a partition returns its sampled standardised rows (at most k_sample rows in all).
 *  3. `choose_segment_k` on the sample (distinct profiles, silhouette: the kmeans_quality table).
 *  4. The final fit of all rows with `segment_kmeans_options` (crmkit/segment/kmeans_steps.hpp).
 *  5. `segment_cluster_sums` per partition (counts and exact sums per cluster), merged with +=,
 *     and `segment_profiles`: clusters ranked by mean CLV (C1 highest, stable on ties), the
 *     profiles table with descriptions.
 */
namespace crmkit::pipeline {

/** Columns of the standardisation: z = (log1p(max(x, 0)) - mean) / scale. */
struct segment_scaling {
  std::vector<double> mean;   ///< per feature: exact column sum rounded once / n
  std::vector<double> scale;  ///< per feature: population standard deviation, 1 when it is 0
};

constexpr auto description(std::type_identity<segment_scaling>) {
  using s = segment_scaling;
  return std::tuple{
      describe::field{"mean", &s::mean, "per feature: exact column sum rounded once / n"},
      describe::field{"scale", &s::scale,
                      "per feature: population standard deviation, 1 when it is 0"}};
}

/**
 * n x 3 rows f_i = log1p(max(x, 0)) of (periods_since_last, purchases, mean_spend).
 * @throw invalid_input when the columns differ in length.
 */
segment::row_matrix segment_feature_logs(std::span<const double> periods_since_last,
                                         std::span<const double> purchases,
                                         std::span<const double> mean_spend);

/** The standardisation from the merged kmeans_column_sums and kmeans_column_deviations. */
segment_scaling segment_feature_scaling(const segment::kmeans_moments& sums,
                                        const segment::kmeans_moments& deviations);

/** z_ij = (f_ij - mean_j) / scale_j in place. */
void standardise_segment_features(segment::row_matrix& features, const segment_scaling& scaling);

/**
 * `count` distinct global row indices out of n, seeded (partial Fisher-Yates over
 * segment::random_stream(seed)), ascending; every row when count >= n.
 */
std::vector<std::size_t> segment_sample_rows(std::size_t n, std::size_t count, std::uint64_t seed);

/** k chosen on the sample, with its table. */
struct segment_k_choice {
  std::size_t k = 0;
  /** k (index), inertia, silhouette, calinski_harabasz, davies_bouldin, chosen (flag). */
  data::table quality;
};

/**
 * segment::choose_k on the standardised sample for k in [k_min, min(k_max, distinct - 1)]
 * (a note when distinct profiles cap k_max), seed options.seed, silhouette on
 * options.silhouette_sample rows.
 * @throw invalid_input when the sample has no more than k_min distinct profiles.
 */
segment_k_choice choose_segment_k(const segment::matrix_view& sample,
                                  const analysis_options& options, std::vector<note>& notes);

/** The settings of the final fit: k clusters, k-means++ from options.seed, the defaults else. */
segment::kmeans_options segment_kmeans_options(std::size_t k, const analysis_options& options);

/** The per-customer columns the profiles read, in one partition's row order. */
struct segment_columns {
  std::span<const double> periods_since_last, purchases, mean_spend, p_alive, clv, revenue;
};

/** Counts and exact column sums per cluster; partitions merge with += in any order. */
struct segment_sums {
  static constexpr std::size_t columns = 6;  ///< in segment_columns' order
  std::vector<std::int64_t> customers;       ///< per cluster
  std::vector<full_range_sum> sums;          ///< column c, cluster g at c * k + g

  explicit segment_sums(std::size_t k = 0) : customers(k, 0), sums(columns * k) {}
  [[nodiscard]] std::size_t clusters() const noexcept { return customers.size(); }
  segment_sums& operator+=(const segment_sums& other);
};

/**
 * One partition's counts and exact sums per cluster of labels in [0, k).
 * @throw invalid_input naming the row of a label outside [0, k) or a column of another length.
 */
segment_sums segment_cluster_sums(std::span<const std::int32_t> labels, std::size_t k,
                                  const segment_columns& columns);

/** Segments numbered by mean CLV and their table. */
struct segment_ranking {
  std::vector<std::int32_t> segment_of_cluster;  ///< 0 = C1, the highest mean CLV
  std::vector<std::string> names;                ///< C1 .. Ck
  /**
   * segment (index), description, customers, share, weeks_since_last, purchases, mean_spend,
   * p_alive, clv, total_clv, revenue: means are exact sums rounded once / count; a description
   * compares the segment's means of recency, purchases and spend with the means of all
   * customers ("recent"/"lapsed", "frequent"/"occasional", "high-spend"/"low-spend").
   */
  data::table profiles;
};

/** Ranks the clusters of the merged sums by mean CLV (stable) and profiles the segments. */
segment_ranking segment_profiles(const segment_sums& sums);

/** The RFM segments of a rule set: one per distinct (English) name, in rule order, then none. */
struct rfm_naming {
  std::vector<std::string> names;        ///< the rules' names, then the rule set's unmatched name
  std::vector<std::string> definitions;  ///< each segment's scores in words ("R 4-5, F 4-5")
  std::vector<std::int32_t> segment_of_rule;
};

constexpr auto description(std::type_identity<rfm_naming>) {
  using s = rfm_naming;
  return std::tuple{
      describe::field{"names", &s::names, "the rules' names, then the rule set's unmatched name"},
      describe::field{"definitions", &s::definitions,
                      "each segment's scores in words (\"R 4-5, F 4-5\")"},
      describe::field{"segment_of_rule", &s::segment_of_rule,
                      "per rule: the index of its segment in names"}};
}

/** The segments and definitions of the built-in rule set `rfm_rules` (builtin_rfm_rule_set). */
rfm_naming rfm_segment_naming(std::string_view rfm_rules);

/**
 * rfm_segment (index), definition, customers, share, weeks_since_last, purchases, mean_spend,
 * revenue, revenue_share, p_alive, clv, total_clv, clv_share from the merged per-segment sums
 * (segment_cluster_sums with the RFM segment as label): means and totals are exact sums rounded
 * once, shares of the exact totals; rows by revenue descending (stable), segments without
 * customers left out.
 */
data::table rfm_segment_table(const rfm_naming& naming, const segment_sums& sums);

}  // namespace crmkit::pipeline
