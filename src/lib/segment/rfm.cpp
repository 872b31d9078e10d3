#include "crmkit/segment/rfm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/limits.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/quantile.hpp"
#include "crmkit/core/radix_sort.hpp"

namespace crmkit::segment {

namespace {

constexpr double minus_infinity = -std::numeric_limits<double>::infinity();

/** The q + 1 edges numpy.quantile(sorted, numpy.linspace(0, 1, q + 1)) gives. */
template <class At>
std::vector<double> quantile_edges(At&& at, std::size_t n, std::size_t q) {
  std::vector<double> edges(q + 1);
  const double step = 1.0 / static_cast<double>(q);
  for (std::size_t j = 0; j <= q; ++j) {
    edges[j] = sorted_quantile(at, n, j == q ? 1.0 : static_cast<double>(j) * step);
  }
  return edges;
}

/** pandas' bin (1-based) of v: the number of edges strictly below it, at least 1. */
std::size_t bin_of(double v, const std::vector<double>& edges) {
  const auto below =
      static_cast<std::size_t>(std::lower_bound(edges.begin(), edges.end(), v) - edges.begin());
  return std::max<std::size_t>(below, 1);
}

/** The quantile edges of the ranks 1..n. */
std::vector<double> rank_edges(std::size_t n, std::size_t bins) {
  return quantile_edges([](std::size_t i) { return static_cast<double>(i + 1); }, n, bins);
}

/** The bin of a run of ties at sorted positions start..stop-1, i.e. ranks start+1..stop: the
 * bin of their mean rank (start + 1 + stop) / 2. */
std::size_t average_rank_bin(std::size_t start, std::size_t stop, const std::vector<double>& edges) {
  return bin_of(0.5 * static_cast<double>(start + 1 + stop), edges);
}

std::int32_t oriented(std::size_t bin, const score_scale& scale) {
  const std::size_t score = scale.higher_is_better ? bin : scale.bins + 1 - bin;
  return static_cast<std::int32_t>(score);
}

/** Thresholds from a monotone binning: t_j = largest value with bin <= j, -inf if none. */
std::vector<double> thresholds_of(std::span<const double> values,
                                  const std::vector<std::uint32_t>& order,
                                  const std::vector<std::size_t>& bins, std::size_t count) {
  std::vector<double> thresholds(count - 1, minus_infinity);
  for (const std::size_t position : order) {
    for (std::size_t j = bins[position]; j < count; ++j) {
      thresholds[j - 1] = std::max(thresholds[j - 1], values[position]);
    }
  }
  return thresholds;
}

void check_thresholds(std::string_view name, std::span<const double> thresholds) {
  for (std::size_t j = 0; j < thresholds.size(); ++j) {
    check::finite("score_rfm", fmt::format("{}[{}]", name, j), thresholds[j]);
    if (j > 0 && !(thresholds[j] > thresholds[j - 1])) {
      check::fail("score_rfm", fmt::format("{}[{}] = {} must be greater than {}[{}] = {} "
                                           "(thresholds strictly increase)",
                                           name, j, thresholds[j], name, j - 1, thresholds[j - 1]));
    }
  }
}

/** A value at a sorted position and its run of ties. */
struct ranked_value {
  double value;
  std::size_t below;    ///< values < value: the run's first position
  std::size_t through;  ///< values <= value: one past its last
  double previous;      ///< the largest value < value (when below > 0)
};

/**
 * The values at sorted positions `positions` (ascending, < n) without sorting: a histogram of the
 * top 16 bits of the values' radix keys (which order like the values) finds each position's
 * bucket; only the values of those buckets are gathered and selected in (nth_element), and the
 * largest value of the nearest non-empty bucket below each gives `previous` when the run starts
 * a bucket. −0 and 0 count as equal (which of them is returned is unspecified).
 */
std::vector<ranked_value> select_ranked(std::span<const double> values,
                                        std::span<const std::size_t> positions) {
  constexpr int shift = 48;
  constexpr std::size_t buckets = std::size_t{1} << (64 - shift);
  std::vector<std::size_t> start(buckets + 1, 0);
  for (const double v : values) ++start[(radix_key(v) >> shift) + 1];
  for (std::size_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
  struct picked {
    std::vector<double> values;
    double highest = minus_infinity;
    bool gather = false;
  };
  std::vector<picked> picks;
  std::vector<std::int32_t> role(buckets, -1);
  const auto pick = [&](std::size_t bucket, bool gather) {
    if (role[bucket] < 0) {
      role[bucket] = static_cast<std::int32_t>(picks.size());
      picks.emplace_back();
    }
    picks[static_cast<std::size_t>(role[bucket])].gather |= gather;
  };
  std::vector<std::size_t> bucket_of(positions.size()), lower_of(positions.size(), buckets);
  for (std::size_t j = 0; j < positions.size(); ++j) {
    const auto b = static_cast<std::size_t>(
        std::upper_bound(start.begin(), start.end(), positions[j]) - start.begin() - 1);
    bucket_of[j] = b;
    pick(b, true);
    for (std::size_t lower = b; lower-- > 0;) {
      if (start[lower + 1] > start[lower]) {
        lower_of[j] = lower;
        pick(lower, false);
        break;
      }
    }
  }
  for (const double v : values) {
    const std::int32_t r = role[radix_key(v) >> shift];
    if (r < 0) continue;
    auto& p = picks[static_cast<std::size_t>(r)];
    p.highest = std::max(p.highest, v);
    if (p.gather) p.values.push_back(v);
  }
  std::vector<ranked_value> out(positions.size());
  for (std::size_t j = 0; j < positions.size(); ++j) {
    const std::size_t b = bucket_of[j];
    auto& inside = picks[static_cast<std::size_t>(role[b])].values;
    const auto at = inside.begin() + static_cast<std::ptrdiff_t>(positions[j] - start[b]);
    std::nth_element(inside.begin(), at, inside.end());
    const double v = *at;
    std::size_t less = 0, equal = 0;
    double previous = minus_infinity;
    for (const double x : inside) {
      if (x < v) {
        ++less;
        previous = std::max(previous, x);
      } else if (x == v) {
        ++equal;
      }
    }
    if (less == 0 && lower_of[j] < buckets) {
      previous = picks[static_cast<std::size_t>(role[lower_of[j]])].highest;
    }
    out[j] = {v, start[b] + less, start[b] + less + equal, previous};
  }
  return out;
}

/**
 * The average_rank scale of `values` without sorting them. t_j, the largest value whose run of
 * ties has its mid-rank in a bin <= j, is that of the run R holding rank r = floor(edge_j) or of
 * the run just before R: a later run starts at rank >= r + 1 > edge_j, an earlier one ends at
 * rank <= r - 1 < edge_j (its mid-rank is below its end). A threshold equal to 0 takes the first
 * zero's bits, as the stable walk over the sorted values did (−0 and 0 tie).
 */
std::vector<double> average_rank_thresholds(std::span<const double> values, std::size_t bins) {
  const std::size_t n = values.size();
  const auto edges = rank_edges(n, bins);
  std::vector<std::size_t> positions;
  for (std::size_t j = 1; j < bins; ++j) {
    positions.push_back(static_cast<std::size_t>(std::floor(edges[j])) - 1);
  }
  const auto ranked = select_ranked(values, positions);
  std::vector<double> thresholds(bins - 1, minus_infinity);
  for (std::size_t j = 1; j < bins; ++j) {
    const auto& run = ranked[j - 1];
    if (average_rank_bin(run.below, run.through, edges) <= j) {
      thresholds[j - 1] = run.value;
    } else if (run.below > 0) {
      thresholds[j - 1] = run.previous;
    }
  }
  for (auto& threshold : thresholds) {
    if (threshold == 0) threshold = *std::find(values.begin(), values.end(), 0.0);
  }
  return thresholds;
}

dimension_scores score_dimension(std::string_view name, std::span<const double> values,
                                 std::size_t bins, tie_policy ties, bool higher_is_better,
                                 std::span<const double> fixed) {
  constexpr std::string_view function = "score_rfm";
  check::not_empty(function, name, values.size());
  check::all_finite(function, name, values);
  const std::size_t n = values.size();
  dimension_scores result;
  result.scale.higher_is_better = higher_is_better;
  result.scale.requested_bins = bins;
  if (ties == tie_policy::fixed_thresholds) {
    check_thresholds(fmt::format("{}_thresholds", name), fixed);
    result.scale.thresholds.assign(fixed.begin(), fixed.end());
    result.scale.bins = result.scale.requested_bins = fixed.size() + 1;
    result.scores = score_with_scale(values, result.scale);
    return result;
  }
  if (bins < 1) check::fail(function, "bins = 0 must be at least 1");
  limits::at_most(function, "bins", bins, limits::max_rfm_bins);

  if (ties == tie_policy::average_rank) {
    result.scale.bins = bins;
    result.scale.thresholds = average_rank_thresholds(values, bins);
    result.scores.resize(n);
    const auto& thresholds = result.scale.thresholds;
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t bin = 1;
      for (const double t : thresholds) bin += t < values[i] ? 1 : 0;
      result.scores[i] = oriented(bin, result.scale);
    }
    return result;
  }

  const auto order = stable_order(values);

  if (ties == tie_policy::drop_edges) {
    auto edges = quantile_edges([&](std::size_t i) { return values[order[i]]; }, n, bins);
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    result.scale.bins = std::max<std::size_t>(edges.size(), 2) - 1;
    if (edges.size() > 2) result.scale.thresholds.assign(edges.begin() + 1, edges.end() - 1);
    result.scores = score_with_scale(values, result.scale);
    return result;
  }

  // rank_first: edges of the ranks 1..n, applied to each value's rank in the stable order.
  const auto edges = rank_edges(n, bins);
  std::vector<std::size_t> bin(n);
  for (std::size_t p = 0; p < n; ++p) bin[order[p]] = bin_of(static_cast<double>(p + 1), edges);
  result.scale.bins = bins;
  result.scale.thresholds = thresholds_of(values, order, bin, bins);
  result.scores.resize(n);
  for (std::size_t i = 0; i < n; ++i) result.scores[i] = oriented(bin[i], result.scale);
  return result;
}

}  // namespace

score_scale quantile_scale_of_histogram(std::span<const double> distinct,
                                        std::span<const double> counts, std::size_t bins,
                                        tie_policy ties, bool higher_is_better) {
  constexpr std::string_view function = "quantile_scale_of_histogram";
  check::not_empty(function, "distinct", distinct.size());
  check::same_size(function, "distinct", distinct.size(), "counts", counts.size());
  check::all_finite(function, "distinct", distinct);
  std::vector<std::size_t> start(distinct.size() + 1, 0);
  for (std::size_t k = 0; k < distinct.size(); ++k) {
    if (k > 0 && !(distinct[k] > distinct[k - 1])) {
      check::fail_at(function, "distinct", k, distinct[k], "must be greater than the value before");
    }
    const double count = counts[k];
    if (!(count >= 1 && count < 0x1p53 && count == std::floor(count))) {
      check::fail_at(function, "counts", k, count, "must be a whole number >= 1");
    }
    start[k + 1] = start[k] + static_cast<std::size_t>(count);
  }
  if (bins < 1) check::fail(function, "bins = 0 must be at least 1");
  limits::at_most(function, "bins", bins, limits::max_rfm_bins);
  const std::size_t n = start.back();
  score_scale scale;
  scale.higher_is_better = higher_is_better;
  scale.requested_bins = bins;
  if (ties == tie_policy::drop_edges) {
    auto value_at = [&](std::size_t i) {
      const auto k = std::upper_bound(start.begin(), start.end(), i) - start.begin() - 1;
      return distinct[static_cast<std::size_t>(k)];
    };
    auto edges = quantile_edges(value_at, n, bins);
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    scale.bins = std::max<std::size_t>(edges.size(), 2) - 1;
    if (edges.size() > 2) scale.thresholds.assign(edges.begin() + 1, edges.end() - 1);
    return scale;
  }
  if (ties != tie_policy::average_rank) {
    check::fail(function, "ties must be average_rank or drop_edges: rank_first splits ties by "
                          "row order, which a histogram does not keep, and fixed_thresholds "
                          "computes no quantiles");
  }
  const auto edges = rank_edges(n, bins);
  scale.bins = bins;
  scale.thresholds.assign(bins - 1, minus_infinity);
  for (std::size_t k = 0; k < distinct.size(); ++k) {
    for (std::size_t j = average_rank_bin(start[k], start[k + 1], edges); j < bins; ++j) {
      scale.thresholds[j - 1] = distinct[k];
    }
  }
  return scale;
}

std::vector<std::int32_t> score_with_scale(std::span<const double> values,
                                           const score_scale& scale) {
  check::all_finite("score_with_scale", "values", values);
  if (scale.bins != scale.thresholds.size() + 1) {
    check::fail("score_with_scale", fmt::format("the scale has {} bins but {} thresholds; it "
                                                "needs bins - 1",
                                                scale.bins, scale.thresholds.size()));
  }
  std::vector<std::int32_t> scores(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto below = static_cast<std::size_t>(
        std::lower_bound(scale.thresholds.begin(), scale.thresholds.end(), values[i]) -
        scale.thresholds.begin());
    scores[i] = oriented(below + 1, scale);
  }
  return scores;
}

dimension_scores score_quantiles(std::span<const double> values, std::size_t bins, tie_policy ties,
                                 bool higher_is_better, std::span<const double> thresholds) {
  return score_dimension("values", values, bins, ties, higher_is_better, thresholds);
}

rfm_scores score_rfm(std::span<const double> recency, std::span<const double> frequency,
                     std::span<const double> monetary, const rfm_options& options) {
  constexpr std::string_view function = "score_rfm";
  check::same_size(function, "recency", recency.size(), "frequency", frequency.size());
  check::same_size(function, "recency", recency.size(), "monetary", monetary.size());
  check::all_nonnegative(function, "recency", recency);
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    if (!(std::isfinite(frequency[i]) && frequency[i] > 0)) {
      check::fail(function,
                  fmt::format("frequency[{}] = {} must be > 0: a customer without purchases has "
                              "no recency and no RFM score (for a lifetimes-style summary, use "
                              "include_first_transaction=True)",
                              i, frequency[i]));
    }
  }
  // The three dimensions are independent: one task each.
  rfm_scores scores;
  parallel_for(
      3,
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t d = begin; d < end; ++d) {
          if (d == 0) {
            scores.recency = score_dimension("recency", recency, options.bins, options.ties, false,
                                             options.recency_thresholds);
          } else if (d == 1) {
            scores.frequency = score_dimension("frequency", frequency, options.bins, options.ties,
                                               true, options.frequency_thresholds);
          } else {
            scores.monetary = score_dimension("monetary", monetary, options.bins, options.ties,
                                              true, options.monetary_thresholds);
          }
        }
      },
      1);
  return scores;
}

}  // namespace crmkit::segment
