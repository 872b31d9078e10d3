#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/exact_sum.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/suggest.hpp"
#include "crmkit/pipeline/segment_steps.hpp"
#include "crmkit/pipeline/steps.hpp"
#include "crmkit/segment/kmeans.hpp"
#include "crmkit/segment/quality.hpp"
#include "crmkit/segment/random.hpp"
#include "crmkit/segment/rfm.hpp"
#include "crmkit/segment/tiers.hpp"

namespace crmkit::pipeline {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/**
 * Per tier of each split: the sums of `columns` over the customers in that tier, each in row
 * order (deterministic), all splits in one pass.
 */
std::vector<std::vector<std::vector<double>>> tier_sums(
    std::span<const segment::tier_result> splits, std::size_t tiers,
    std::initializer_list<std::span<const double>> columns) {
  std::vector<std::vector<std::vector<double>>> sums(
      splits.size(), std::vector<std::vector<double>>(columns.size(), std::vector<double>(tiers)));
  const std::size_t n = columns.begin()->size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t s = 0; s < splits.size(); ++s) {
      const auto tier = static_cast<std::size_t>(splits[s].tiers[i]);
      std::size_t c = 0;
      for (const auto column : columns) sums[s][c++][tier] += column[i];
    }
  }
  return sums;
}

std::string percent(double share) { return fmt::format("{:.0f}%", share * 100); }

std::size_t distinct_rows(const segment::matrix_view& points) {
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

segment::row_matrix segment_feature_logs(std::span<const double> periods_since_last,
                                         std::span<const double> purchases,
                                         std::span<const double> mean_spend) {
  const std::size_t n = purchases.size();
  check::same_size("segment_feature_logs", "purchases", n, "periods_since_last",
                   periods_since_last.size());
  check::same_size("segment_feature_logs", "purchases", n, "mean_spend", mean_spend.size());
  segment::row_matrix features(static_cast<Eigen::Index>(n), 3);
  Eigen::Index j = 0;
  for (const auto column : {periods_since_last, purchases, mean_spend}) {
    parallel_for(n, [&](std::size_t begin, std::size_t end) {
      // Purchases and weeks repeat: each chunk remembers the last logarithm of every slot of a
      // small direct-mapped table (the same function of the same bits, so nothing changes).
      constexpr int slot_bits = 12;
      std::array<std::uint64_t, std::size_t{1} << slot_bits> keys;
      std::array<double, std::size_t{1} << slot_bits> logs;
      keys.fill(0);  // the bits of +0, whose log1p is 0
      logs.fill(0.0);
      for (std::size_t i = begin; i < end; ++i) {
        const auto bits = std::bit_cast<std::uint64_t>(column[i]);
        const std::size_t slot = (bits * 0x9e3779b97f4a7c15ULL) >> (64 - slot_bits);
        if (keys[slot] != bits) {
          keys[slot] = bits;
          logs[slot] = std::log1p(std::max(column[i], 0.0));
        }
        features(static_cast<Eigen::Index>(i), j) = logs[slot];
      }
    }, std::size_t{1} << 16);
    ++j;
  }
  return features;
}

segment_scaling segment_feature_scaling(const segment::kmeans_moments& sums,
                                        const segment::kmeans_moments& deviations) {
  const Eigen::RowVectorXd mean = segment::kmeans_column_mean(sums);
  segment_scaling out;
  out.mean.assign(mean.data(), mean.data() + mean.size());
  for (const auto& squares : deviations.sums) {
    const double spread = std::sqrt(squares.value() / static_cast<double>(sums.rows));
    out.scale.push_back(spread > 0 ? spread : 1.0);
  }
  return out;
}

void standardise_segment_features(segment::row_matrix& features, const segment_scaling& scaling) {
  const auto n = static_cast<std::size_t>(features.rows());
  parallel_for(n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      for (Eigen::Index j = 0; j < features.cols(); ++j) {
        auto& value = features(static_cast<Eigen::Index>(i), j);
        value = (value - scaling.mean[static_cast<std::size_t>(j)]) /
                scaling.scale[static_cast<std::size_t>(j)];
      }
    }
  });
}

std::vector<std::size_t> segment_sample_rows(std::size_t n, std::size_t count,
                                             std::uint64_t seed) {
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

segment_k_choice choose_segment_k(const segment::matrix_view& sample,
                                  const analysis_options& options, std::vector<note>& notes) {
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
  segment_k_choice out;
  out.k = choice.suggested_k;
  out.quality.index_columns = 1;
  out.quality.add("k", std::move(k))
      .add("inertia", std::move(inertia))
      .add("silhouette", std::move(silhouette))
      .add("calinski_harabasz", std::move(calinski))
      .add("davies_bouldin", std::move(davies))
      .add("chosen", data::flag_values{std::move(chosen)});
  return out;
}

segment::kmeans_options segment_kmeans_options(std::size_t k, const analysis_options& options) {
  segment::kmeans_options settings;
  settings.seed = options.seed;
  settings.n_clusters = k;
  return settings;
}

segment_sums& segment_sums::operator+=(const segment_sums& other) {
  if (other.clusters() != clusters()) {
    throw invalid_input(fmt::format("segment_sums: {} clusters added to {}", other.clusters(),
                                    clusters()));
  }
  for (std::size_t g = 0; g < customers.size(); ++g) customers[g] += other.customers[g];
  for (std::size_t m = 0; m < sums.size(); ++m) sums[m] += other.sums[m];
  return *this;
}

segment_sums segment_cluster_sums(std::span<const std::int32_t> labels, std::size_t k,
                                  const segment_columns& columns) {
  const std::size_t n = labels.size();
  const std::array<std::pair<const char*, std::span<const double>>, segment_sums::columns> named{
      {{"periods_since_last", columns.periods_since_last},
       {"purchases", columns.purchases},
       {"mean_spend", columns.mean_spend},
       {"p_alive", columns.p_alive},
       {"clv", columns.clv},
       {"revenue", columns.revenue}}};
  for (const auto& [name, values] : named) {
    check::same_size("segment_cluster_sums", "labels", n, name, values.size());
  }
  segment_sums out(k);
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= k) {
      throw invalid_input(fmt::format("segment_cluster_sums: labels row {} = {} is not in [0, {})",
                                      i, labels[i], k));
    }
    ++out.customers[static_cast<std::size_t>(labels[i])];
  }
  // Exact sums, so any way of adding gives the same bits: per exponent first (full_range_columns),
  // then, for a cluster with a non-finite value, one by one as full_range_sum::add takes them.
  for (std::size_t c = 0; c < segment_sums::columns; ++c) {
    const auto values = named[c].second;
    full_range_columns columns_of(k);
    for (std::size_t i = 0; i < n; ++i) {
      columns_of.add(static_cast<std::size_t>(labels[i]), values[i]);
    }
    auto& sums = columns_of.sums();
    for (std::size_t g = 0; g < k; ++g) {
      auto& sum = out.sums[c * k + g];
      if (columns_of.special()[g] == 0) {
        sum = sums[g];
        continue;
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (static_cast<std::size_t>(labels[i]) == g) sum.add(values[i]);
      }
    }
  }
  return out;
}

segment_ranking segment_profiles(const segment_sums& sums) {
  const std::size_t k = sums.clusters();
  const auto n = std::accumulate(sums.customers.begin(), sums.customers.end(), std::int64_t{0});
  const auto mean = [&](std::size_t column, std::size_t cluster) {
    const auto count = sums.customers[cluster];
    return count > 0 ? sums.sums[column * k + cluster].value() / static_cast<double>(count) : nan;
  };
  const auto overall = [&](std::size_t column) {
    full_range_sum total;
    for (std::size_t g = 0; g < k; ++g) total += sums.sums[column * k + g];
    return total.value() / static_cast<double>(n);
  };
  std::vector<double> clv_means(k);
  for (std::size_t g = 0; g < k; ++g) clv_means[g] = mean(4, g);
  const auto rank = order_descending(clv_means);
  segment_ranking out;
  out.segment_of_cluster.resize(k);
  for (std::size_t r = 0; r < k; ++r) {
    out.segment_of_cluster[rank[r]] = static_cast<std::int32_t>(r);
    out.names.push_back(fmt::format("C{}", r + 1));
  }
  const double mean_since_last = overall(0), mean_purchases = overall(1), mean_spend = overall(2);
  std::vector<std::string> descriptions;
  std::vector<std::int32_t> codes(k);
  std::vector<std::int64_t> counts(k);
  std::vector<double> shares(k), since_last(k), purchases(k), spend(k), p_alive(k), clv(k),
      total_clv(k), revenue(k);
  for (std::size_t r = 0; r < k; ++r) {
    const std::size_t g = rank[r];
    codes[r] = static_cast<std::int32_t>(r);
    counts[r] = sums.customers[g];
    shares[r] = static_cast<double>(counts[r]) / static_cast<double>(n);
    since_last[r] = mean(0, g);
    purchases[r] = mean(1, g);
    spend[r] = mean(2, g);
    p_alive[r] = mean(3, g);
    clv[r] = mean(4, g);
    total_clv[r] = sums.sums[4 * k + g].value();
    revenue[r] = sums.sums[5 * k + g].value();
    descriptions.push_back(describe(since_last[r], purchases[r], spend[r], mean_since_last,
                                    mean_purchases, mean_spend));
  }
  out.profiles.index_columns = 1;
  out.profiles.add_text("segment", codes, out.names)
      .add_strings("description", descriptions)
      .add("customers", std::move(counts))
      .add("share", std::move(shares))
      .add("weeks_since_last", std::move(since_last))
      .add("purchases", std::move(purchases))
      .add("mean_spend", std::move(spend))
      .add("p_alive", std::move(p_alive))
      .add("clv", std::move(clv))
      .add("total_clv", std::move(total_clv))
      .add("revenue", std::move(revenue));
  return out;
}

kmeans_segments segment_customers(const customer_summaries& customers,
                                  const customer_predictions& predictions,
                                  const analysis_options& options, std::vector<note>& notes) {
  const std::size_t n = customers.size();
  auto points = segment_feature_logs(customers.periods_since_last, customers.purchases,
                                     customers.mean_spend);
  const auto sums = segment::kmeans_column_sums(points);
  const auto deviations =
      segment::kmeans_column_deviations(points, segment::kmeans_column_mean(sums));
  standardise_segment_features(points, segment_feature_scaling(sums, deviations));
  const auto rows = segment_sample_rows(n, options.k_sample, options.seed);
  segment::row_matrix sample(static_cast<Eigen::Index>(rows.size()), points.cols());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    sample.row(static_cast<Eigen::Index>(i)) = points.row(static_cast<Eigen::Index>(rows[i]));
  }
  auto choice = choose_segment_k(sample, options, notes);
  const auto fit = segment::kmeans(points, segment_kmeans_options(choice.k, options));
  auto ranking = segment_profiles(segment_cluster_sums(
      fit.labels, choice.k,
      {customers.periods_since_last, customers.purchases, customers.mean_spend,
       predictions.p_alive, predictions.clv, customers.revenue}));
  kmeans_segments out;
  out.quality = std::move(choice.quality);
  out.segment.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.segment[i] = ranking.segment_of_cluster[static_cast<std::size_t>(fit.labels[i])];
  }
  out.names = std::move(ranking.names);
  out.profiles = std::move(ranking.profiles);
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

rfm_naming rfm_segment_naming(std::string_view rfm_rules) {
  const auto rules = builtin_rfm_rule_set(rfm_rules);
  rfm_naming out;
  for (std::size_t r = 0; r < rules.rules.size(); ++r) {
    const auto& rule = rules.rules[r];
    const std::string& name = rule.english_name.empty() ? rule.name : rule.english_name;
    const auto found = std::find(out.names.begin(), out.names.end(), name);
    out.segment_of_rule.push_back(static_cast<std::int32_t>(found - out.names.begin()));
    if (found == out.names.end()) {
      out.names.push_back(name);
      out.definitions.push_back(rule_definition(rule, static_cast<std::int32_t>(rules.bins)));
    } else {
      out.definitions[static_cast<std::size_t>(out.segment_of_rule.back())] +=
          " or " + rule_definition(rule, static_cast<std::int32_t>(rules.bins));
    }
  }
  out.names.push_back(rules.unmatched);
  out.definitions.emplace_back("no rule matches");
  return out;
}

data::table rfm_segment_table(const rfm_naming& naming, const segment_sums& sums) {
  const std::size_t segments = naming.names.size();
  if (sums.clusters() != segments) {
    throw invalid_input(fmt::format("rfm_segment_table: sums of {} segments for {} names",
                                    sums.clusters(), segments));
  }
  const auto n = std::accumulate(sums.customers.begin(), sums.customers.end(), std::int64_t{0});
  const auto sum = [&](std::size_t column, std::size_t g) {
    return sums.sums[column * segments + g].value();
  };
  const auto mean = [&](std::size_t column, std::size_t g) {
    return sums.customers[g] > 0 ? sum(column, g) / static_cast<double>(sums.customers[g]) : nan;
  };
  const auto total = [&](std::size_t column) {
    full_range_sum all;
    for (std::size_t g = 0; g < segments; ++g) all += sums.sums[column * segments + g];
    return all.value();
  };
  const double total_revenue = total(5), total_clv = total(4);
  std::vector<std::size_t> present;
  for (std::size_t g = 0; g < segments; ++g) {
    if (sums.customers[g] > 0) present.push_back(g);
  }
  std::stable_sort(present.begin(), present.end(),
                   [&](std::size_t a, std::size_t b) { return sum(5, a) > sum(5, b); });
  std::vector<std::int32_t> codes;
  std::vector<std::int64_t> customers;
  std::vector<double> share, since_last, purchases, spend, revenue, revenue_share, p_alive, clv,
      clv_total, clv_share;
  for (const auto g : present) {
    codes.push_back(static_cast<std::int32_t>(g));
    customers.push_back(sums.customers[g]);
    share.push_back(static_cast<double>(sums.customers[g]) / static_cast<double>(n));
    since_last.push_back(mean(0, g));
    purchases.push_back(mean(1, g));
    spend.push_back(mean(2, g));
    revenue.push_back(sum(5, g));
    revenue_share.push_back(total_revenue != 0 ? sum(5, g) / total_revenue : nan);
    p_alive.push_back(mean(3, g));
    clv.push_back(mean(4, g));
    clv_total.push_back(sum(4, g));
    clv_share.push_back(total_clv > 0 ? sum(4, g) / total_clv : nan);
  }
  data::table table;
  table.index_columns = 1;
  table.add_text("rfm_segment", codes, naming.names)
      .add_text("definition", codes, naming.definitions)
      .add("customers", std::move(customers))
      .add("share", std::move(share))
      .add("weeks_since_last", std::move(since_last))
      .add("purchases", std::move(purchases))
      .add("mean_spend", std::move(spend))
      .add("revenue", std::move(revenue))
      .add("revenue_share", std::move(revenue_share))
      .add("p_alive", std::move(p_alive))
      .add("clv", std::move(clv))
      .add("total_clv", std::move(clv_total))
      .add("clv_share", std::move(clv_share));
  return table;
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
  auto naming = rfm_segment_naming(options.rfm_rules);
  const auto unmatched = static_cast<std::int32_t>(naming.names.size() - 1);
  out.segment.resize(matched.size());
  for (std::size_t i = 0; i < matched.size(); ++i) {
    out.segment[i] = matched[i] < 0
                         ? unmatched
                         : naming.segment_of_rule[static_cast<std::size_t>(matched[i])];
  }
  out.table = rfm_segment_table(
      naming, segment_cluster_sums(out.segment, naming.names.size(),
                                   {customers.periods_since_last, customers.purchases,
                                    customers.mean_spend, predictions.p_alive, predictions.clv,
                                    customers.revenue}));
  out.names = std::move(naming.names);
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
  const auto sums = tier_sums(tiers, 3, {predictions.clv, customers.revenue, predictions.p_alive});
  for (std::size_t s = 0; s < splits.size(); ++s) {
    const auto& each = splits[s];
    auto& found = tiers[s];
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
      total_clv.push_back(sums[s][0][t]);
      revenue.push_back(sums[s][1][t]);
      revenue_share.push_back(sums[s][1][t] / total_revenue);
      p_alive.push_back(found.counts[t] > 0
                            ? sums[s][2][t] / static_cast<double>(found.counts[t])
                            : nan);
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
