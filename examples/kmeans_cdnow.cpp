// k-means segments of the 23,570 CDNOW customers on log1p-standardised recency, frequency and
// monetary value: choose k by silhouette, fit it with Lloyd's algorithm and with Hamerly's
// bounds (which must agree bit for bit), and profile the clusters in days, purchases and dollars.
// Usage: example_kmeans_cdnow <shared data folder>.
#include <crmkit/data/summary.hpp>
#include <crmkit/segment/features.hpp>
#include <crmkit/segment/kmeans.hpp>
#include <crmkit/segment/quality.hpp>

#include "cdnow.hpp"

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  int exit_code = 0;
  const auto cdnow = read_cdnow_master(argc, argv, exit_code);
  if (!cdnow) return exit_code;
  crmkit::data::summary_options view;
  view.include_first_transaction = true;
  const auto summary = crmkit::data::summarize(*cdnow, view);
  const auto n = static_cast<Eigen::Index>(summary.size());
  crmkit::segment::row_matrix features(n, 3);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto row = static_cast<std::size_t>(i);
    features.row(i) << summary.recency[row], summary.frequency[row], summary.monetary_value[row];
  }
  const std::vector<std::uint8_t> skewed{1, 1, 1};
  const auto scaler =
      crmkit::segment::fit_feature_scaler(features, crmkit::segment::scaling::standard, skewed);
  const auto scaled = scaler.transform(features);

  crmkit::segment::kmeans_options options;
  options.seed = 1;
  const auto table = crmkit::segment::choose_k(scaled, 2, 7, options, {}, 5000);
  std::printf("%3s %12s %10s %12s %10s\n", "k", "inertia", "silhouette", "CH", "DB");
  bool ok = table.rows.size() == 6;
  for (const auto& row : table.rows) {
    std::printf("%3zu %12.1f %10.4f %12.1f %10.4f\n", row.k, row.inertia, row.silhouette,
                row.calinski_harabasz, row.davies_bouldin);
    ok = ok && row.silhouette > -1 && row.silhouette < 1 && row.davies_bouldin > 0;
  }
  std::printf("suggested k = %zu (highest silhouette)\n", table.suggested_k);

  options.n_clusters = table.suggested_k;
  options.algorithm = crmkit::segment::kmeans_algorithm::lloyd;
  const auto lloyd = crmkit::segment::kmeans(scaled, options);
  options.algorithm = crmkit::segment::kmeans_algorithm::hamerly;
  const auto hamerly = crmkit::segment::kmeans(scaled, options);
  ok = ok && lloyd.labels == hamerly.labels && lloyd.centers == hamerly.centers &&
       lloyd.inertia == hamerly.inertia &&
       hamerly.distance_evaluations < lloyd.distance_evaluations;
  std::printf("Lloyd and Hamerly agree: %s (distances computed: %llu vs %llu)\n", ok ? "yes" : "no",
              static_cast<unsigned long long>(lloyd.distance_evaluations),
              static_cast<unsigned long long>(hamerly.distance_evaluations));

  const auto profile =
      crmkit::segment::profile_clusters(features, lloyd.labels, options.n_clusters);
  const auto centres = scaler.inverse_transform(lloyd.centers);
  std::printf("%7s %6s %12s %12s %12s   centre (days, purchases, $)\n", "cluster", "share",
              "median days", "median purch", "median $");
  std::size_t total = 0;
  for (std::size_t c = 0; c < options.n_clusters; ++c) {
    const auto row = static_cast<Eigen::Index>(c);
    std::printf("%7zu %6.3f %12.1f %12.1f %12.2f   %.1f, %.2f, %.2f\n", c, profile.shares[c],
                profile.medians(row, 0), profile.medians(row, 1), profile.medians(row, 2),
                centres(row, 0), centres(row, 1), centres(row, 2));
    total += profile.sizes[c];
  }
  ok = ok && total == summary.size();
  if (!ok) std::fprintf(stderr, "a check failed\n");
  return ok ? 0 : 1;
}
