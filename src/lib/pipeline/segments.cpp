#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/suggest.hpp"
#include "crmkit/pipeline/steps.hpp"
#include "crmkit/segment/kmeans.hpp"
#include "crmkit/segment/quality.hpp"
#include "crmkit/segment/random.hpp"
#include "crmkit/segment/rfm.hpp"
#include "crmkit/segment/tiers.hpp"

namespace crmkit::pipeline {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/** Sums and counts per group, in row order (deterministic). */
struct group_sums {
  std::vector<double> count;
  std::vector<std::vector<double>> sums;  ///< per column, per group

  group_sums(std::span<const std::int32_t> group, std::size_t groups,
             std::initializer_list<std::span<const double>> columns)
      : count(groups, 0.0), sums(columns.size(), std::vector<double>(groups, 0.0)) {
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (group[i] >= 0) count[static_cast<std::size_t>(group[i])] += 1;
    }
    std::size_t c = 0;
    for (const auto column : columns) {
      auto& sum = sums[c++];
      for (std::size_t i = 0; i < group.size(); ++i) {
        if (group[i] >= 0) sum[static_cast<std::size_t>(group[i])] += column[i];
      }
    }
  }
  [[nodiscard]] std::vector<double> mean(std::size_t column) const {
    std::vector<double> out(count.size());
    for (std::size_t g = 0; g < count.size(); ++g) {
      out[g] = count[g] > 0 ? sums[column][g] / count[g] : nan;
    }
    return out;
  }
  [[nodiscard]] std::vector<std::int64_t> counts() const {
    return {count.begin(), count.end()};
  }
  [[nodiscard]] std::vector<double> shares(std::size_t total) const {
    std::vector<double> out(count.size());
    for (std::size_t g = 0; g < count.size(); ++g) out[g] = count[g] / static_cast<double>(total);
    return out;
  }
};

double mean_of(std::span<const double> values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

std::string percent(double share) { return fmt::format("{:.0f}%", share * 100); }

/** Columns of standardised log1p(max(x, 0)) features (population standard deviation). */
segment::row_matrix standardised_features(std::initializer_list<std::span<const double>> columns) {
  const std::size_t n = columns.begin()->size();
  segment::row_matrix points(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(columns.size()));
  Eigen::Index j = 0;
  for (const auto column : columns) {
    parallel_for(n, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        points(static_cast<Eigen::Index>(i), j) = std::log1p(std::max(column[i], 0.0));
      }
    });
    const double mean = points.col(j).mean();
    const double spread =
        std::sqrt((points.col(j).array() - mean).square().sum() / static_cast<double>(n));
    const double scale = spread > 0 ? spread : 1.0;
    parallel_for(n, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        auto& value = points(static_cast<Eigen::Index>(i), j);
        value = (value - mean) / scale;
      }
    });
    ++j;
  }
  return points;
}

/** `count` distinct rows out of n, seeded (partial Fisher-Yates), in ascending order. */
std::vector<std::size_t> sample_rows(std::size_t n, std::size_t count, std::uint64_t seed) {
  std::vector<std::size_t> rows(n);
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  if (count >= n) return rows;
  segment::random_stream stream(seed);
  for (std::size_t i = 0; i < count; ++i) {
    const auto j = i + static_cast<std::size_t>(stream.uniform() * static_cast<double>(n - i));
    std::swap(rows[i], rows[std::min(j, n - 1)]);
  }
  rows.resize(count);
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::size_t distinct_rows(const segment::row_matrix& points) {
  std::vector<std::vector<double>> rows(static_cast<std::size_t>(points.rows()));
  for (Eigen::Index i = 0; i < points.rows(); ++i) {
    rows[static_cast<std::size_t>(i)].assign(points.row(i).data(),
                                              points.row(i).data() + points.cols());
  }
  std::sort(rows.begin(), rows.end());
  return static_cast<std::size_t>(std::unique(rows.begin(), rows.end()) - rows.begin());
}

std::string describe(double since_last, double purchases, double spend, double mean_since_last,
                     double mean_purchases, double mean_spend) {
  return fmt::format("{}, {}, {}", since_last <= mean_since_last ? "recent" : "lapsed",
                     purchases > mean_purchases ? "frequent" : "occasional",
                     spend > mean_spend ? "high-spend" : "low-spend");
}

/** Each rule's scores in words ("R 4-5, F 4-5"; "RFM cells 344, 444" for single cells). */
std::string rule_definition(const segment::rfm_rule& rule, std::int32_t bins) {
  const bool cells = rule.boxes.size() > 1 &&
                     std::all_of(rule.boxes.begin(), rule.boxes.end(), [](const auto& box) {
                       return box.recency_low == box.recency_high &&
                              box.frequency_low == box.frequency_high &&
                              box.monetary_low == box.monetary_high;
                     });
  std::string out;
  if (cells) {
    for (const auto& box : rule.boxes) {
      out += fmt::format("{}{}{}{}", out.empty() ? "RFM cells " : ", ", box.recency_low,
                         box.frequency_low, box.monetary_low);
    }
    return out;
  }
  for (const auto& box : rule.boxes) {
    std::string words;
    const auto add = [&](char letter, std::int32_t low, std::int32_t high) {
      if (low == 1 && high == bins) return;
      if (!words.empty()) words += ", ";
      words += low == high ? fmt::format("{} {}", letter, low)
                           : fmt::format("{} {}-{}", letter, low, high);
    };
    add('R', box.recency_low, box.recency_high);
    add('F', box.frequency_low, box.frequency_high);
    add('M', box.monetary_low, box.monetary_high);
    if (!out.empty()) out += " or ";
    out += words.empty() ? "any scores" : words;
  }
  return out;
}

std::vector<std::size_t> order_descending(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] > values[b]; });
  return order;
}

}  // namespace

kmeans_segments segment_customers(const customer_summaries& customers,
                                  const customer_predictions& predictions,
                                  const analysis_options& options, std::vector<note>& notes) {
  const std::size_t n = customers.size();
  const auto points = standardised_features(
      {customers.periods_since_last, customers.purchases, customers.mean_spend});
  const auto rows = sample_rows(n, options.k_sample, options.seed);
  segment::row_matrix sample(static_cast<Eigen::Index>(rows.size()), points.cols());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    sample.row(static_cast<Eigen::Index>(i)) = points.row(static_cast<Eigen::Index>(rows[i]));
  }
  const std::size_t distinct = distinct_rows(sample);
  if (distinct <= options.k_min) {
    throw invalid_input(fmt::format(
        "analyze: only {} distinct customer profiles: too few customers to segment (k_min = {})",
        distinct, options.k_min));
  }
  const std::size_t k_max = std::min(options.k_max, distinct - 1);
  if (k_max < options.k_max) {
    notes.push_back({note_code::few_distinct_profiles,
                     fmt::format("only {} distinct customer profiles: k tried up to {} instead of {}",
                                 distinct, k_max, options.k_max)});
  }
  segment::kmeans_options settings;
  settings.seed = options.seed;
  const auto choice = segment::choose_k(sample, options.k_min, k_max, settings, {},
                                        options.silhouette_sample);
  std::vector<std::int64_t> k;
  std::vector<double> inertia, silhouette, calinski, davies;
  std::vector<std::uint8_t> chosen;
  for (const auto& row : choice.rows) {
    k.push_back(static_cast<std::int64_t>(row.k));
    inertia.push_back(row.inertia);
    silhouette.push_back(row.silhouette);
    calinski.push_back(row.calinski_harabasz);
    davies.push_back(row.davies_bouldin);
    chosen.push_back(row.k == choice.suggested_k ? 1 : 0);
  }
  kmeans_segments out;
  out.quality.index_columns = 1;
  out.quality.add("k", std::move(k))
      .add("inertia", std::move(inertia))
      .add("silhouette", std::move(silhouette))
      .add("calinski_harabasz", std::move(calinski))
      .add("davies_bouldin", std::move(davies))
      .add("chosen", data::flag_values{std::move(chosen)});

  const std::size_t clusters = choice.suggested_k;
  settings.n_clusters = clusters;
  const auto fit = segment::kmeans(points, settings);
  const group_sums by_cluster(fit.labels, clusters, {predictions.clv});
  const auto rank = order_descending(by_cluster.mean(0));
  std::vector<std::int32_t> segment_of_cluster(clusters);
  for (std::size_t r = 0; r < clusters; ++r) {
    segment_of_cluster[rank[r]] = static_cast<std::int32_t>(r);
    out.names.push_back(fmt::format("C{}", r + 1));
  }
  out.segment.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.segment[i] = segment_of_cluster[static_cast<std::size_t>(fit.labels[i])];
  }

  const group_sums groups(out.segment, clusters,
                          {customers.periods_since_last, customers.purchases,
                           customers.mean_spend, predictions.p_alive, predictions.clv,
                           customers.revenue});
  const double mean_since_last = mean_of(customers.periods_since_last);
  const double mean_purchases = mean_of(customers.purchases);
  const double mean_spend = mean_of(customers.mean_spend);
  const auto since_last = groups.mean(0), purchases = groups.mean(1), spend = groups.mean(2);
  std::vector<std::string> descriptions;
  std::vector<std::int32_t> codes(clusters);
  for (std::size_t g = 0; g < clusters; ++g) {
    descriptions.push_back(describe(since_last[g], purchases[g], spend[g], mean_since_last,
                                    mean_purchases, mean_spend));
    codes[g] = static_cast<std::int32_t>(g);
  }
  out.profiles.index_columns = 1;
  out.profiles.add_text("segment", codes, out.names)
      .add_strings("description", descriptions)
      .add("customers", groups.counts())
      .add("share", groups.shares(n))
      .add("weeks_since_last", since_last)
      .add("purchases", purchases)
      .add("mean_spend", spend)
      .add("p_alive", groups.mean(3))
      .add("clv", groups.mean(4))
      .add("total_clv", groups.sums[4])
      .add("revenue", groups.sums[5]);
  return out;
}

std::vector<std::string> builtin_rfm_rule_sets() {
  return {"rf_grid", "rfm_package", "pymc_marketing", "chinese_value"};
}

segment::rfm_rule_set builtin_rfm_rule_set(std::string_view name) {
  if (name == "rf_grid") return segment::rf_grid_segments();
  if (name == "rfm_package") return segment::rfm_package_segments();
  if (name == "pymc_marketing") return segment::pymc_marketing_segments();
  if (name == "chinese_value") return segment::chinese_value_segments();
  const auto known = builtin_rfm_rule_sets();
  const auto suggestion = closest_name(name, known);
  throw invalid_input(fmt::format("unknown RFM rule set '{}'{}; built in: {}", name,
                                  suggestion.empty() ? "" : fmt::format(" (did you mean '{}'?)",
                                                                        suggestion),
                                  fmt::join(known, ", ")));
}

rfm_assignment rfm_segments(const customer_summaries& customers,
                            const customer_predictions& predictions,
                            const analysis_options& options) {
  const auto rules = builtin_rfm_rule_set(options.rfm_rules);
  segment::rfm_options settings;
  settings.bins = rules.bins;
  auto scores = segment::score_rfm(customers.periods_since_last, customers.purchases,
                                   customers.mean_spend, settings);
  rfm_assignment out;
  out.r_score = std::move(scores.recency.scores);
  out.f_score = std::move(scores.frequency.scores);
  out.m_score = std::move(scores.monetary.scores);
  const auto matched = segment::assign_segments(rules, out.r_score, out.f_score, out.m_score);

  // One segment per distinct (English) name, in rule order; the unmatched last.
  std::vector<std::int32_t> segment_of_rule(rules.rules.size());
  std::vector<std::string> definitions;
  for (std::size_t r = 0; r < rules.rules.size(); ++r) {
    const auto& rule = rules.rules[r];
    const std::string& name = rule.english_name.empty() ? rule.name : rule.english_name;
    const auto found = std::find(out.names.begin(), out.names.end(), name);
    segment_of_rule[r] = static_cast<std::int32_t>(found - out.names.begin());
    if (found == out.names.end()) {
      out.names.push_back(name);
      definitions.push_back(rule_definition(rule, static_cast<std::int32_t>(rules.bins)));
    } else {
      auto& definition = definitions[static_cast<std::size_t>(segment_of_rule[r])];
      definition += " or " + rule_definition(rule, static_cast<std::int32_t>(rules.bins));
    }
  }
  const auto unmatched = static_cast<std::int32_t>(out.names.size());
  out.names.push_back(rules.unmatched);
  definitions.emplace_back("no rule matches");
  out.segment.resize(matched.size());
  for (std::size_t i = 0; i < matched.size(); ++i) {
    out.segment[i] =
        matched[i] < 0 ? unmatched : segment_of_rule[static_cast<std::size_t>(matched[i])];
  }

  const std::size_t segments = out.names.size();
  const group_sums groups(out.segment, segments,
                          {customers.periods_since_last, customers.purchases,
                           customers.mean_spend, customers.revenue, predictions.p_alive,
                           predictions.clv});
  const double total_revenue = std::accumulate(groups.sums[3].begin(), groups.sums[3].end(), 0.0);
  const double total_clv = std::accumulate(groups.sums[5].begin(), groups.sums[5].end(), 0.0);
  std::vector<std::size_t> present;
  for (std::size_t g = 0; g < segments; ++g) {
    if (groups.count[g] > 0) present.push_back(g);
  }
  std::stable_sort(present.begin(), present.end(), [&](std::size_t a, std::size_t b) {
    return groups.sums[3][a] > groups.sums[3][b];
  });
  std::vector<double> revenue_share(segments), clv_share(segments);
  for (std::size_t g = 0; g < segments; ++g) {
    revenue_share[g] = total_revenue != 0 ? groups.sums[3][g] / total_revenue : nan;
    clv_share[g] = total_clv > 0 ? groups.sums[5][g] / total_clv : nan;
  }
  data::table table;
  std::vector<std::int32_t> codes(segments);
  std::iota(codes.begin(), codes.end(), 0);
  table.index_columns = 1;
  table.add_text("rfm_segment", codes, out.names)
      .add_text("definition", codes, definitions)
      .add("customers", groups.counts())
      .add("share", groups.shares(customers.size()))
      .add("weeks_since_last", groups.mean(0))
      .add("purchases", groups.mean(1))
      .add("mean_spend", groups.mean(2))
      .add("revenue", groups.sums[3])
      .add("revenue_share", revenue_share)
      .add("p_alive", groups.mean(4))
      .add("clv", groups.mean(5))
      .add("total_clv", groups.sums[5])
      .add("clv_share", clv_share);
  out.table = data::take_rows(table, present);
  return out;
}

tier_assignment value_tiers(const customer_summaries& customers,
                            const customer_predictions& predictions,
                            const analysis_options& options) {
  struct split {
    std::string rule;
    std::vector<double> cuts;
    segment::tier_basis basis;
    std::vector<std::string> labels;
  };
  const std::vector<split> splits{
      {fmt::format("cumulative CLV share {} / {}", percent(options.abc_cut_a),
                   percent(options.abc_cut_b)),
       {options.abc_cut_a, options.abc_cut_b},
       segment::tier_basis::value_share,
       {"A", "B", "C"}},
      {fmt::format("customers ranked by CLV: top {} / next {} / rest",
                   percent(options.level_cut_high),
                   percent(options.level_cut_medium - options.level_cut_high)),
       {options.level_cut_high, options.level_cut_medium},
       segment::tier_basis::population_share,
       {"high", "medium", "low"}},
  };
  tier_assignment out;
  std::vector<std::int32_t> tier_codes, split_codes;
  std::vector<std::string> tier_labels, split_labels;
  std::vector<std::int64_t> counts;
  std::vector<double> customer_share, clv_share, lowest, total_clv, revenue, revenue_share,
      p_alive;
  const double total_revenue =
      std::accumulate(customers.revenue.begin(), customers.revenue.end(), 0.0);
  std::vector<segment::tier_split> cuts;
  for (const auto& each : splits) cuts.push_back({each.cuts, each.basis});
  auto tiers = segment::value_tiers(predictions.clv, cuts);  // the CLVs ranked once for both
  for (std::size_t s = 0; s < splits.size(); ++s) {
    const auto& each = splits[s];
    auto& found = tiers[s];
    const group_sums groups(found.tiers, each.labels.size(),
                            {predictions.clv, customers.revenue, predictions.p_alive});
    split_labels.push_back(each.rule);
    for (std::size_t t = 0; t < each.labels.size(); ++t) {
      tier_codes.push_back(static_cast<std::int32_t>(tier_labels.size()));
      tier_labels.push_back(each.labels[t]);
      split_codes.push_back(static_cast<std::int32_t>(split_labels.size() - 1));
      counts.push_back(static_cast<std::int64_t>(found.counts[t]));
      customer_share.push_back(static_cast<double>(found.counts[t]) /
                               static_cast<double>(customers.size()));
      clv_share.push_back(found.value_shares[t]);
      lowest.push_back(found.lowest_values[t]);
      total_clv.push_back(groups.sums[0][t]);
      revenue.push_back(groups.sums[1][t]);
      revenue_share.push_back(groups.sums[1][t] / total_revenue);
      p_alive.push_back(groups.mean(2)[t]);
    }
    (out.tier.empty() ? out.tier : out.level) = std::move(found.tiers);
  }
  out.table.index_columns = 1;
  out.table.add_text("tier", std::move(tier_codes), std::move(tier_labels))
      .add_text("split", std::move(split_codes), std::move(split_labels))
      .add("customers", std::move(counts))
      .add("customer_share", std::move(customer_share))
      .add("clv_share", std::move(clv_share))
      .add("lowest_clv", std::move(lowest))
      .add("total_clv", std::move(total_clv))
      .add("revenue", std::move(revenue))
      .add("revenue_share", std::move(revenue_share))
      .add("p_alive", std::move(p_alive));
  return out;
}

}  // namespace crmkit::pipeline
