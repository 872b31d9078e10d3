#include <crmkit/core/error.hpp>
#include <crmkit/data/csv_writer.hpp>
#include <crmkit/pipeline.hpp>
#include <crmkit/pipeline/segment_steps.hpp>
#include <crmkit/segment/kmeans.hpp>
#include <crmkit/segment/kmeans_steps.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

namespace pl = crmkit::pipeline;
namespace seg = crmkit::segment;

namespace {

struct prepared {
  pl::customer_summaries customers;
  pl::customer_predictions predictions;
};

const prepared& demo() {
  static const prepared ready = [] {
    const auto log = pl::demo_log({.customers = 2000, .seed = 11});
    const pl::analysis_options options;
    std::vector<pl::note> notes;
    prepared out;
    out.customers = pl::summarize_customers(log, options);
    const auto fits = pl::fit_models(out.customers, options, notes);
    out.predictions = pl::predict_customers(out.customers, fits, options);
    return out;
  }();
  return ready;
}

std::span<const double> part(const std::vector<double>& values, std::size_t begin,
                             std::size_t end) {
  return std::span<const double>(values).subspan(begin, end - begin);
}

}  // namespace

TEST_CASE("segment steps: the standardisation of a hand example") {
  // log1p of {0, e - 1, e^2 - 1} is {0, 1, 2} (and a negative value counts as 0): mean 1,
  // population variance ((0-1)^2 + 0 + (2-1)^2) / 3 = 2/3. The constant column gets scale 1.
  const std::vector<double> since{0.0, std::expm1(1.0), std::expm1(2.0)};
  const std::vector<double> purchases{-3.0, 0.0, 0.0};
  const std::vector<double> spend{1.0, 1.0, 1.0};
  auto logs = pl::segment_feature_logs(since, purchases, spend);
  CHECK(logs(1, 0) == std::log1p(std::expm1(1.0)));
  CHECK(logs(0, 1) == 0.0);
  const auto sums = seg::kmeans_column_sums(logs);
  const auto scaling = pl::segment_feature_scaling(
      sums, seg::kmeans_column_deviations(logs, seg::kmeans_column_mean(sums)));
  CHECK(scaling.mean[0] == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(scaling.scale[0] == doctest::Approx(std::sqrt(2.0 / 3.0)).epsilon(1e-15));
  CHECK(scaling.scale[1] == 1.0);
  CHECK(scaling.scale[2] == 1.0);
  CHECK(scaling.mean[2] == std::log1p(1.0));
  pl::standardise_segment_features(logs, scaling);
  CHECK(logs(2, 0) == (std::log1p(std::expm1(2.0)) - scaling.mean[0]) / scaling.scale[0]);
  CHECK(logs(0, 2) == 0.0);
  CHECK_THROWS_AS(pl::segment_feature_logs(since, purchases, std::vector<double>{1.0}),
                  crmkit::invalid_input);
}

TEST_CASE("segment steps: the sample is distinct ascending global rows, all when few") {
  const auto rows = pl::segment_sample_rows(1000, 50, 7);
  REQUIRE(rows.size() == 50);
  CHECK(std::is_sorted(rows.begin(), rows.end()));
  CHECK(std::adjacent_find(rows.begin(), rows.end()) == rows.end());
  CHECK(rows.back() < 1000);
  CHECK(pl::segment_sample_rows(1000, 50, 7) == rows);
  CHECK(pl::segment_sample_rows(1000, 50, 8) != rows);
  CHECK(pl::segment_sample_rows(5, 50, 7) == std::vector<std::size_t>{0, 1, 2, 3, 4});
}

TEST_CASE("segment steps: profiles ranked by mean CLV, described against the overall means") {
  // Cluster 0: customers a, b (mean CLV 1); cluster 1: customer c (CLV 5) ranks first (C1).
  // Overall means: since (10 + 20 + 3) / 3 = 11, purchases (1 + 1 + 9) / 3 = 11/3,
  // spend (5 + 7 + 30) / 3 = 14. Cluster 1: since 3 <= 11 recent, 9 > 11/3 frequent, 30 > 14.
  const std::vector<std::int32_t> labels{0, 0, 1};
  const std::vector<double> since{10, 20, 3}, purchases{1, 1, 9}, spend{5, 7, 30},
      p_alive{0.5, 0.25, 1}, clv{0.5, 1.5, 5}, revenue{5, 7, 270};
  const auto sums =
      pl::segment_cluster_sums(labels, 2, {since, purchases, spend, p_alive, clv, revenue});
  CHECK(sums.customers == std::vector<std::int64_t>{2, 1});
  const auto ranking = pl::segment_profiles(sums);
  CHECK(ranking.segment_of_cluster == std::vector<std::int32_t>{1, 0});
  CHECK(ranking.names == std::vector<std::string>{"C1", "C2"});
  CHECK(crmkit::data::format_csv(ranking.profiles) ==
        "segment,description,customers,share,weeks_since_last,purchases,mean_spend,p_alive,clv,"
        "total_clv,revenue\n"
        "C1,\"recent, frequent, high-spend\",1,0.3333333333333333,3,9,30,1,5,5,270\n"
        "C2,\"lapsed, occasional, low-spend\",2,0.6666666666666666,15,1,6,0.375,1,2,12\n");
  const std::vector<std::int32_t> bad{0, 2, 1};
  try {
    (void)pl::segment_cluster_sums(bad, 2, {since, purchases, spend, p_alive, clv, revenue});
    FAIL("a label outside [0, k) must throw");
  } catch (const crmkit::invalid_input& error) {
    CHECK(std::string(error.what()).find("labels row 1 = 2") != std::string::npos);
  }
  CHECK_THROWS_AS(pl::segment_cluster_sums(
                      labels, 2, {since, purchases, spend, p_alive, clv, part(revenue, 0, 2)}),
                  crmkit::invalid_input);
  pl::segment_sums three(3);
  auto merged = sums;
  CHECK_THROWS_AS(merged += three, crmkit::invalid_input);
}

TEST_CASE("segment steps: too few distinct profiles to choose k") {
  seg::row_matrix sample(6, 3);
  sample.setZero();
  sample(0, 0) = 1;
  sample(1, 1) = 1;
  std::vector<pl::note> notes;
  CHECK_THROWS_AS(pl::choose_segment_k(sample, pl::analysis_options{}, notes),
                  crmkit::invalid_input);  // 3 distinct rows, k_min 3
}

TEST_CASE("segment steps on partitions (one empty) give segment_customers' labels and tables") {
  const auto& c = demo().customers;
  const auto& predictions = demo().predictions;
  pl::analysis_options options;
  options.k_sample = 500;
  std::vector<pl::note> notes;
  const auto whole = pl::segment_customers(c, predictions, options, notes);

  const std::size_t n = c.size();
  const std::vector<std::size_t> cuts{0, 700, 700, 1300, n};
  std::vector<seg::row_matrix> logs;
  seg::kmeans_moments sums, deviations;
  for (std::size_t p = 0; p + 1 < cuts.size(); ++p) {
    logs.push_back(pl::segment_feature_logs(part(c.periods_since_last, cuts[p], cuts[p + 1]),
                                            part(c.purchases, cuts[p], cuts[p + 1]),
                                            part(c.mean_spend, cuts[p], cuts[p + 1])));
    sums += seg::kmeans_column_sums(logs.back());
  }
  const auto mean = seg::kmeans_column_mean(sums);
  for (const auto& each : logs) deviations += seg::kmeans_column_deviations(each, mean);
  const auto scaling = pl::segment_feature_scaling(sums, deviations);
  for (auto& each : logs) pl::standardise_segment_features(each, scaling);

  const auto rows = pl::segment_sample_rows(n, options.k_sample, options.seed);
  seg::row_matrix sample(static_cast<Eigen::Index>(rows.size()), 3);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto p = static_cast<std::size_t>(std::upper_bound(cuts.begin(), cuts.end(), rows[i]) -
                                            cuts.begin() - 1);
    sample.row(static_cast<Eigen::Index>(i)) =
        logs[p].row(static_cast<Eigen::Index>(rows[i] - cuts[p]));
  }
  std::vector<pl::note> own;
  const auto choice = pl::choose_segment_k(sample, options, own);
  CHECK(crmkit::data::format_csv(choice.quality) == crmkit::data::format_csv(whole.quality));

  // The final fit on the concatenated standardised rows (the distributed steps equal it bit for
  // bit: crmkit/segment/kmeans_steps.hpp); the profiles from per-partition sums.
  seg::row_matrix points(static_cast<Eigen::Index>(n), 3);
  for (std::size_t p = 0; p < logs.size(); ++p) {
    points.middleRows(static_cast<Eigen::Index>(cuts[p]), logs[p].rows()) = logs[p];
  }
  const auto fit = seg::kmeans(points, pl::segment_kmeans_options(choice.k, options));
  pl::segment_sums merged(choice.k);
  for (std::size_t p = logs.size(); p-- > 0;) {  // any order
    const auto b = cuts[p], e = cuts[p + 1];
    merged += pl::segment_cluster_sums(
        std::span<const std::int32_t>(fit.labels).subspan(b, e - b), choice.k,
        {part(c.periods_since_last, b, e), part(c.purchases, b, e), part(c.mean_spend, b, e),
         part(predictions.p_alive, b, e), part(predictions.clv, b, e), part(c.revenue, b, e)});
  }
  const auto ranking = pl::segment_profiles(merged);
  CHECK(crmkit::data::format_csv(ranking.profiles) == crmkit::data::format_csv(whole.profiles));
  CHECK(ranking.names == whole.names);
  bool same = true;
  for (std::size_t i = 0; i < n; ++i) {
    same = same &&
           ranking.segment_of_cluster[static_cast<std::size_t>(fit.labels[i])] == whole.segment[i];
  }
  CHECK(same);
  CHECK(whole.profiles.rows() == choice.k);
}
