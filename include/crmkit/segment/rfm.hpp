#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"

/**
 * RFM scores: each customer's recency (time since the last purchase; lower is better),
 * frequency (purchases; higher is better) and monetary value (higher is better) mapped to
 * scores 1..q (default quintiles), recency inverted so that 5 is always best.
 *
 * Quantile edges follow numpy/pandas exactly: the edge for fraction p_j = j * (1 / q) of n
 * sorted values is numpy.quantile's linear interpolation at (n - 1) p_j, and a value's bin is
 * the number of edges strictly below it (at least 1), i.e. pandas.qcut's right-closed bins with
 * the lowest edge included. What to do about ties is an explicit policy:
 *
 * - rank_first: bin the rank of each value (ties broken by position, first come lowest):
 *   pandas `qcut(x.rank(method="first"), q)`. Equal-sized bins; equal values may get different
 *   scores, depending on row order.
 * - average_rank: bin the mid-rank (ties share the average of their positions) with the edges
 *   of ranks 1..n. Equal values always share a score; bins can be unequal or empty, never
 *   fewer than q.
 * - drop_edges: bin the values themselves with duplicate edges dropped: pandas
 *   `qcut(x, q, duplicates="drop")`. Heavy ties leave fewer than q bins (scores 1..bins).
 * - fixed_thresholds: the caller's ascending thresholds t_1 < ... < t_{q-1}; a value's bin is
 *   1 + #{t_j < v}.
 *
 * Every result carries a score_scale (thresholds) that reproduces the scores on new data with
 * score_with_scale: exactly for drop_edges, fixed_thresholds and average_rank; for rank_first
 * up to ties that straddle a bin edge (those go to the lower bin).
 */
namespace crmkit::segment {

/** How ties in quantile scoring are handled; see the namespace documentation. */
enum class tie_policy { rank_first, average_rank, drop_edges, fixed_thresholds };

constexpr auto description(std::type_identity<tie_policy>) {
  return describe::enum_table<tie_policy, 4>{
      "ties",
      {{{tie_policy::rank_first, "rank_first"},
        {tie_policy::average_rank, "average_rank"},
        {tie_policy::drop_edges, "drop_edges"},
        {tie_policy::fixed_thresholds, "fixed_thresholds"}}}};
}

/** Parses "rank_first", "average_rank", "drop_edges" or "fixed_thresholds" (describe::parse). */
inline tie_policy parse_tie_policy(std::string_view name) {
  return describe::parse<tie_policy>(name);
}

/** The rule that turns raw values of one dimension into scores. */
struct score_scale {
  /**
   * Ascending thresholds: bin(v) = 1 + #{t : t < v}. A threshold is -inf when the bins below
   * it are empty (average_rank with heavy ties at the low end).
   */
  std::vector<double> thresholds;
  std::size_t bins = 0;            ///< thresholds.size() + 1; scores run 1..bins
  bool higher_is_better = true;    ///< false (recency): score = bins + 1 - bin
  std::size_t requested_bins = 0;  ///< q asked for; > bins when drop_edges merged bins
};

constexpr auto description(std::type_identity<score_scale>) {
  using s = score_scale;
  return std::tuple{describe::field{"thresholds", &s::thresholds,
                                    "ascending bin edges: bin = 1 + #(thresholds < value)"},
                    describe::field{"bins", &s::bins, "thresholds.size() + 1; scores run 1..bins"},
                    describe::field{"higher_is_better", &s::higher_is_better,
                                    "false (recency): score = bins + 1 - bin"},
                    describe::field{"requested_bins", &s::requested_bins,
                                    "q asked for; > bins when drop_edges merged bins"}};
}

/** Scores of values on a scale (values outside the fitted range take the end scores). */
std::vector<std::int32_t> score_with_scale(std::span<const double> values,
                                           const score_scale& scale);

/** Scores of one dimension and the scale that reproduces them. */
struct dimension_scores {
  std::vector<std::int32_t> scores;
  score_scale scale;
};

constexpr auto description(std::type_identity<dimension_scores>) {
  using s = dimension_scores;
  return std::tuple{describe::field{"scores", &s::scores, "scores 1..bins"},
                    describe::field{"scale", &s::scale, "the scale that gave them"}};
}

/**
 * Quantile scores of one dimension with `bins` quantile bins.
 *
 * @param thresholds used by fixed_thresholds only: strictly increasing, finite, bins - 1 of them.
 * @throw invalid_input for an empty or non-finite input, bins < 1, or bad thresholds.
 */
dimension_scores score_quantiles(std::span<const double> values, std::size_t bins, tie_policy ties,
                                 bool higher_is_better, std::span<const double> thresholds = {});

/**
 * The scale score_quantiles(values, bins, ties, higher_is_better) finds, from the values'
 * histogram instead of the values: `distinct` strictly increasing, `counts[k]` (whole, > 0) the
 * number of values equal to distinct[k]. Histograms of parts of the data merge by adding counts
 * (clv::merge_patterns), so the exact quantile scale of data spread over many machines needs
 * only the merged histogram: for average_rank the scale depends on each run of ties only through
 * its first rank and length; for drop_edges on numpy's linear quantiles of the sorted values,
 * read off the cumulative counts. rank_first splits ties by row order, which a histogram does not
 * keep: invalid_input, as for fixed_thresholds (no quantiles) and bad histograms.
 */
score_scale quantile_scale_of_histogram(std::span<const double> distinct,
                                        std::span<const double> counts, std::size_t bins,
                                        tie_policy ties, bool higher_is_better);

/** Settings of score_rfm. */
struct rfm_options {
  std::size_t bins = 5;                        ///< q, scores 1..q
  tie_policy ties = tie_policy::average_rank;  ///< see the namespace documentation
  std::vector<double> recency_thresholds;      ///< fixed_thresholds only
  std::vector<double> frequency_thresholds;    ///< fixed_thresholds only
  std::vector<double> monetary_thresholds;     ///< fixed_thresholds only
};

/** R, F and M scores of every customer and the scales that reproduce them. */
struct rfm_scores {
  dimension_scores recency;
  dimension_scores frequency;
  dimension_scores monetary;
};

constexpr auto description(std::type_identity<rfm_scores>) {
  using s = rfm_scores;
  return std::tuple{describe::field{"recency", &s::recency, "R scores (recency inverted)"},
                    describe::field{"frequency", &s::frequency, "F scores"},
                    describe::field{"monetary", &s::monetary, "M scores"}};
}

/**
 * Scores customers from their summary: `recency` is the time since the last purchase (>= 0),
 * `frequency` the number of purchases (> 0: a customer without purchases has no recency and
 * no RFM score), `monetary` the spend (any finite value).
 *
 * @throw invalid_input naming the argument, the row and the value for NaN/inf, a negative
 *        recency, a frequency <= 0, mismatched sizes or empty input.
 */
rfm_scores score_rfm(std::span<const double> recency, std::span<const double> frequency,
                     std::span<const double> monetary, const rfm_options& options = {});

}  // namespace crmkit::segment
