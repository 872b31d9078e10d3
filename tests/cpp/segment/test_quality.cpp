#include <crmkit/core/error.hpp>
#include <crmkit/segment/quality.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using crmkit::segment::row_matrix;

namespace {

row_matrix line(std::initializer_list<double> values) {
  row_matrix x(static_cast<Eigen::Index>(values.size()), 1);
  Eigen::Index i = 0;
  for (double v : values) x(i++, 0) = v;
  return x;
}

}  // namespace

TEST_CASE("hand-computed scores for points 0, 1 | 4, 5 on a line") {
  const row_matrix x = line({0, 1, 4, 5});
  const std::vector<std::int64_t> labels{7, 7, -2, -2};  // any integers; encoded in order
  // Silhouettes: point 0 has a = 1, b = (4 + 5) / 2 = 4.5, s = 3.5 / 4.5 = 7/9; point 1 has
  // a = 1, b = (3 + 4) / 2, s = 5/7; the other cluster mirrors it. Mean = (7/9 + 5/7) / 2 = 47/63.
  const auto values = crmkit::segment::silhouette_samples(x, labels);
  CHECK(values[0] == doctest::Approx(7.0 / 9));
  CHECK(values[1] == doctest::Approx(5.0 / 7));
  CHECK(values[2] == doctest::Approx(5.0 / 7));
  CHECK(values[3] == doctest::Approx(7.0 / 9));
  CHECK(crmkit::segment::silhouette_score(x, labels) == doctest::Approx(47.0 / 63));
  // Means 0.5 and 4.5 around 2.5: B = 2 * 2^2 + 2 * 2^2 = 16, W = 4 * 0.5^2 = 1, so
  // CH = (16 / 1) / (1 / 2) = 32. Scatters 0.5 and 0.5, separation 4: DB = 1 / 4.
  CHECK(crmkit::segment::calinski_harabasz_score(x, labels) == doctest::Approx(32));
  CHECK(crmkit::segment::davies_bouldin_score(x, labels) == doctest::Approx(0.25));
}

TEST_CASE("a one-point cluster has silhouette 0; identical clusters give CH 1 and DB 0") {
  const row_matrix x = line({0, 1, 4, 5, 20});
  const std::vector<std::int64_t> labels{0, 0, 1, 1, 2};
  CHECK(crmkit::segment::silhouette_samples(x, labels)[4] == 0);
  const row_matrix flat = line({3, 3, 8, 8});
  const std::vector<std::int64_t> pairs{0, 0, 1, 1};
  CHECK(crmkit::segment::calinski_harabasz_score(flat, pairs) == 1);
  CHECK(crmkit::segment::davies_bouldin_score(flat, pairs) == 0);
  CHECK(crmkit::segment::silhouette_score(flat, pairs) == 1);
}

TEST_CASE("a sampled silhouette is the silhouette of its sample, reproducibly") {
  row_matrix x(200, 2);
  std::vector<std::int64_t> labels(200);
  for (Eigen::Index i = 0; i < 200; ++i) {
    x(i, 0) = static_cast<double>(i % 4) * 10 + static_cast<double>(i % 7) * 0.1;
    x(i, 1) = static_cast<double>(i % 3);
    labels[static_cast<std::size_t>(i)] = i % 4;
  }
  const auto sampled = crmkit::segment::silhouette_score(x, labels, 50, 9);
  REQUIRE(sampled.indices.size() == 50);
  row_matrix subset(50, 2);
  std::vector<std::int64_t> subset_labels(50);
  for (std::size_t s = 0; s < 50; ++s) {
    subset.row(static_cast<Eigen::Index>(s)) = x.row(static_cast<Eigen::Index>(sampled.indices[s]));
    subset_labels[s] = labels[sampled.indices[s]];
  }
  CHECK(sampled.score == crmkit::segment::silhouette_score(subset, subset_labels));
  CHECK(crmkit::segment::silhouette_score(x, labels, 50, 9).indices == sampled.indices);
  CHECK(crmkit::segment::silhouette_score(x, labels, 500, 9).score ==
        doctest::Approx(crmkit::segment::silhouette_score(x, labels)));
}

TEST_CASE("scores reject bad labels and data") {
  const row_matrix x = line({0, 1, 4, 5});
  CHECK_THROWS_WITH_AS(crmkit::segment::silhouette_score(x, std::vector<std::int64_t>{1, 1, 1, 1}),
                       "silhouette_score: labels has 1 distinct values; a score needs between 2 "
                       "and n_samples - 1 = 3",
                       crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::davies_bouldin_score(x, std::vector<std::int64_t>{0, 1, 2, 3}),
                  crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::calinski_harabasz_score(x, std::vector<std::int64_t>{0, 1}),
                  crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::choose_k(x, 1, 2), crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::choose_k(x, 2, 4), crmkit::invalid_input);
}
