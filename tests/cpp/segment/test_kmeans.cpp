#include <crmkit/core/error.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/segment/kmeans.hpp>
#include <crmkit/segment/kmeans_steps.hpp>
#include <crmkit/segment/random.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using crmkit::segment::kmeans_algorithm;
using crmkit::segment::kmeans_init;
using crmkit::segment::kmeans_options;
using crmkit::segment::row_matrix;

namespace {

struct thread_count_guard {
  std::size_t saved = crmkit::num_threads();
  ~thread_count_guard() { crmkit::set_num_threads(saved); }
};

/** Gaussian blobs around `centres` random centres in [-10, 10]^d, or uniform noise. */
row_matrix make_data(std::size_t n, std::size_t d, std::size_t centres, std::uint64_t seed) {
  crmkit::segment::random_stream random(seed);
  row_matrix means(static_cast<Eigen::Index>(std::max<std::size_t>(centres, 1)),
                   static_cast<Eigen::Index>(d));
  for (Eigen::Index i = 0; i < means.size(); ++i) means.data()[i] = 20 * random.uniform() - 10;
  row_matrix x(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const Eigen::Index blob =
        static_cast<Eigen::Index>(random.bits() % static_cast<std::uint64_t>(means.rows()));
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      if (centres == 0) {
        x(i, j) = random.uniform();
      } else {
        // Box-Muller normal draw.
        const double u = 1 - random.uniform();
        const double v = random.uniform();
        x(i, j) = means(blob, j) + std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
      }
    }
  }
  return x;
}

row_matrix first_rows(const row_matrix& x, std::size_t k) {
  return x.topRows(static_cast<Eigen::Index>(k));
}

bool bit_identical(const row_matrix& a, const row_matrix& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    if (std::bit_cast<std::uint64_t>(a.data()[i]) != std::bit_cast<std::uint64_t>(b.data()[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("Lloyd, Hamerly and Elkan give bit-identical fits from the same initial centres") {
  struct shape {
    std::size_t n, d, k, blobs;
  };
  for (const shape s : {shape{2000, 2, 3, 3}, shape{5000, 4, 8, 8}, shape{4000, 8, 16, 0},
                        shape{3000, 16, 5, 12}, shape{20000, 3, 32, 0}, shape{1500, 20, 2, 2}}) {
    CAPTURE(s.n);
    CAPTURE(s.d);
    CAPTURE(s.k);
    const row_matrix x = make_data(s.n, s.d, s.blobs, 17 + s.n);
    const row_matrix start = first_rows(x, s.k);
    kmeans_options options;
    options.n_clusters = s.k;
    options.algorithm = kmeans_algorithm::lloyd;
    const auto lloyd = crmkit::segment::kmeans(x, start, options);
    if (s.blobs == 0) {
      // Long runs: Hamerly's bounds and float screening carried over many iterations.
      REQUIRE(lloyd.n_iter > 8);
    }
    for (auto algorithm :
         {kmeans_algorithm::hamerly, kmeans_algorithm::elkan, kmeans_algorithm::screened}) {
      const std::string name(crmkit::segment::kmeans_algorithm_name(algorithm));
      CAPTURE(name);
      options.algorithm = algorithm;
      const auto fast = crmkit::segment::kmeans(x, start, options);
      CHECK(fast.labels == lloyd.labels);
      CHECK(bit_identical(fast.centers, lloyd.centers));
      CHECK(std::bit_cast<std::uint64_t>(fast.inertia) ==
            std::bit_cast<std::uint64_t>(lloyd.inertia));
      CHECK(fast.n_iter == lloyd.n_iter);
      CHECK(fast.strict_convergence == lloyd.strict_convergence);
      if (algorithm == kmeans_algorithm::screened) {
        // Every point screened, and only the few the float kernel cannot settle recomputed:
        // at most one exact evaluation in ten on top of Lloyd's count.
        CHECK(fast.distance_evaluations >= lloyd.distance_evaluations);
        CHECK(fast.distance_evaluations <= lloyd.distance_evaluations * 11 / 10);
      } else {
        // The bounds must actually save work, or the variant is Lloyd under another name.
        CHECK(fast.distance_evaluations < lloyd.distance_evaluations);
      }
    }
  }
}

namespace {

row_matrix column(std::initializer_list<double> values) {
  row_matrix x(static_cast<Eigen::Index>(values.size()), 1);
  Eigen::Index i = 0;
  for (double v : values) x(i++, 0) = v;
  return x;
}

kmeans_options lloyd_options(std::size_t k) {
  kmeans_options options;
  options.n_clusters = k;
  options.algorithm = kmeans_algorithm::lloyd;
  return options;
}

}  // namespace

TEST_CASE("a hand-computed run: 1-d points 0, 1, 10, 11 from centres 0 and 1") {
  // E-step 1: 0 -> c0; 1, 10, 11 -> c1 (|10 - 1| = 9 < 10). M-step: c0 = 0, c1 = 22 / 3.
  // E-step 2: 1 -> c0 (1 < 6.33). M-step: c0 = 0.5, c1 = 10.5. E-step 3: unchanged, so strict
  // convergence after 3 iterations; inertia = 4 * 0.5^2 = 1.
  const row_matrix x = column({0, 1, 10, 11});
  for (auto algorithm : {kmeans_algorithm::lloyd, kmeans_algorithm::hamerly,
                         kmeans_algorithm::elkan, kmeans_algorithm::screened}) {
    auto options = lloyd_options(2);
    options.algorithm = algorithm;
    const auto fit = crmkit::segment::kmeans(x, column({0, 1}), options);
    CHECK(fit.labels == std::vector<std::int32_t>{0, 0, 1, 1});
    CHECK(fit.centers(0, 0) == 0.5);
    CHECK(fit.centers(1, 0) == 10.5);
    CHECK(fit.inertia == 1.0);
    CHECK(fit.n_iter == 3);
    CHECK(fit.strict_convergence);
    CHECK(fit.converged);
    CHECK(fit.distinct_clusters == 2);
  }
}

TEST_CASE("a stop by tolerance re-aligns the labels with the final centres") {
  // tol * mean variance is huge, so the first M-step already stops the run (n_iter = 1): the
  // centres are then 0 and 22 / 3, and the extra E-step moves point 1 to cluster 0, exactly as
  // scikit-learn's final E-step does.
  const row_matrix x = column({0, 1, 10, 11});
  auto options = lloyd_options(2);
  options.tol = 1e6;
  const auto fit = crmkit::segment::kmeans(x, column({0, 1}), options);
  CHECK(fit.n_iter == 1);
  CHECK(fit.converged);
  CHECK_FALSE(fit.strict_convergence);
  CHECK(fit.centers(1, 0) == doctest::Approx(22.0 / 3));
  CHECK(fit.labels == std::vector<std::int32_t>{0, 0, 1, 1});
  // inertia on the final centres: 0 + 1 + (10 - 22/3)^2 + (11 - 22/3)^2
  CHECK(fit.inertia == doctest::Approx(1 + 64.0 / 9 + 121.0 / 9));
  // The tolerance is tol times the mean variance (population): Var{0, 1, 10, 11} = 25.25.
  CHECK(fit.tolerance == doctest::Approx(1e6 * 25.25));
}

TEST_CASE("an empty cluster takes the point farthest from its centre") {
  // From centres 0, 2, 1000: point 1 ties between c0 and c1 and goes to the lower index, point
  // 100 goes to c1, cluster 2 is empty. The farthest point from its own centre is 100 (98 from
  // c1), so it moves to cluster 2: centres 0.5, 2, 100. The next E-step relabels 100 as 2 and
  // the centres do not move, so the run stops on the tolerance after 2 iterations (not
  // strictly: a label changed); inertia 2 * 0.5^2 = 0.5.
  const row_matrix x = column({0, 1, 2, 100});
  for (auto algorithm : {kmeans_algorithm::lloyd, kmeans_algorithm::hamerly,
                         kmeans_algorithm::elkan, kmeans_algorithm::screened}) {
    auto options = lloyd_options(3);
    options.algorithm = algorithm;
    const auto fit = crmkit::segment::kmeans(x, column({0, 2, 1000}), options);
    CHECK(fit.labels == std::vector<std::int32_t>{0, 0, 1, 2});
    CHECK(fit.centers(0, 0) == 0.5);
    CHECK(fit.centers(1, 0) == 2);
    CHECK(fit.centers(2, 0) == 100);
    CHECK(fit.inertia == 0.5);
    CHECK(fit.n_iter == 2);
    CHECK_FALSE(fit.strict_convergence);
  }
}

TEST_CASE("more clusters than distinct points: reported, not thrown") {
  const row_matrix x = column({3, 3, 3, 7, 7});
  auto options = lloyd_options(3);
  options.seed = 5;
  options.algorithm = kmeans_algorithm::automatic;
  const auto fit = crmkit::segment::kmeans(x, options);
  CHECK(fit.distinct_clusters == 2);
  CHECK(fit.inertia == 0);
  CHECK(fit.algorithm == kmeans_algorithm::screened);  // automatic: k <= 32

  // All points identical (every feature constant): one cluster used, zero inertia; the
  // tolerance is 0 (no variance) and the centres never move, so the first M-step stops.
  const row_matrix same = row_matrix::Constant(6, 3, 1.5);
  const auto flat = crmkit::segment::kmeans(same, options);
  CHECK(flat.distinct_clusters == 1);
  CHECK(flat.inertia == 0);
  CHECK(flat.tolerance == 0);
  CHECK(flat.converged);
  CHECK(flat.n_iter == 1);
}

TEST_CASE("integer weights act like repeated rows") {
  const row_matrix x = make_data(300, 3, 4, 99);
  std::vector<double> weights(300);
  std::vector<Eigen::Index> repeated;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    weights[i] = static_cast<double>(i % 3 + 1);
    for (std::size_t r = 0; r < i % 3 + 1; ++r) repeated.push_back(static_cast<Eigen::Index>(i));
  }
  row_matrix expanded(static_cast<Eigen::Index>(repeated.size()), 3);
  for (std::size_t r = 0; r < repeated.size(); ++r) {
    expanded.row(static_cast<Eigen::Index>(r)) = x.row(repeated[r]);
  }
  const row_matrix start = first_rows(x, 4);
  const auto weighted = crmkit::segment::kmeans(x, start, lloyd_options(4), weights);
  const auto plain = crmkit::segment::kmeans(expanded, start, lloyd_options(4));
  CHECK(weighted.inertia == doctest::Approx(plain.inertia).epsilon(1e-12));
  CHECK(weighted.n_iter == plain.n_iter);
  CHECK((weighted.centers - plain.centers).cwiseAbs().maxCoeff() < 1e-12);
  for (std::size_t r = 0; r < repeated.size(); ++r) {
    CHECK(plain.labels[r] == weighted.labels[static_cast<std::size_t>(repeated[r])]);
  }
}

TEST_CASE("results are bit-identical with 1 and 4 threads, for every algorithm and init") {
  thread_count_guard guard;
  const row_matrix x = make_data(30000, 5, 6, 4242);
  std::vector<double> weights(30000);
  crmkit::segment::random_stream random(3);
  for (auto& w : weights) w = 0.5 + random.uniform();
  for (auto algorithm : {kmeans_algorithm::lloyd, kmeans_algorithm::hamerly,
                         kmeans_algorithm::elkan, kmeans_algorithm::screened}) {
    for (auto init : {kmeans_init::k_means_plus_plus, kmeans_init::random}) {
      kmeans_options options;
      options.n_clusters = 9;
      options.algorithm = algorithm;
      options.init = init;
      options.n_init = 3;
      options.seed = 77;
      crmkit::set_num_threads(1);
      const auto one = crmkit::segment::kmeans(x, options, weights);
      crmkit::set_num_threads(4);
      const auto four = crmkit::segment::kmeans(x, options, weights);
      CHECK(one.labels == four.labels);
      CHECK(bit_identical(one.centers, four.centers));
      CHECK(std::bit_cast<std::uint64_t>(one.inertia) ==
            std::bit_cast<std::uint64_t>(four.inertia));
      CHECK(one.best_run == four.best_run);
      CHECK(one.n_iter == four.n_iter);
    }
  }
}

TEST_CASE("n_init: auto makes 1 run for k-means++ and 10 for random; the best inertia is kept") {
  const row_matrix x = make_data(2000, 2, 5, 7);
  kmeans_options options;
  options.n_clusters = 5;
  options.seed = 11;
  CHECK(crmkit::segment::kmeans(x, options).n_runs == 1);
  options.init = kmeans_init::random;
  const auto best = crmkit::segment::kmeans(x, options);
  CHECK(best.n_runs == 10);
  // Each single random run from the same stream position would be one of those ten; the kept
  // one is at least as good as the first run alone.
  options.n_init = 1;
  const auto first = crmkit::segment::kmeans(x, options);
  CHECK(best.inertia <= first.inertia);
  // Given centres: always one run.
  options.n_init = 5;
  CHECK(crmkit::segment::kmeans(x, first_rows(x, 5), options).n_runs == 1);
}

namespace {

/**
 * An independent, serial transcription of the documented greedy k-means++ (kmeans.hpp):
 * cumulative masses over all points in index order, first index whose running total exceeds
 * u * total, candidates chosen by the lowest potential. Used with n below one seeding chunk,
 * where the library's chunked sums are summed in the same order.
 */
std::vector<std::size_t> reference_plus_plus(const row_matrix& x, std::size_t k,
                                             const std::vector<double>& w, std::uint64_t seed,
                                             std::size_t trials) {
  crmkit::segment::random_stream random(seed);
  const auto n = static_cast<std::size_t>(x.rows());
  auto pick = [&](const std::vector<double>& mass) {
    double total = 0;
    for (double m : mass) total += m;
    const double target = random.uniform() * total;
    double running = 0;
    for (std::size_t i = 0; i < n; ++i) {
      running += mass[i];
      if (running > target) return i;
    }
    return n - 1;
  };
  std::vector<std::size_t> chosen{pick(w)};
  std::vector<double> closest(n);
  for (std::size_t i = 0; i < n; ++i) {
    closest[i] = (x.row(static_cast<Eigen::Index>(i)) - x.row(static_cast<Eigen::Index>(chosen[0])))
                     .squaredNorm();
  }
  while (chosen.size() < k) {
    std::vector<double> mass(n);
    for (std::size_t i = 0; i < n; ++i) mass[i] = w[i] * closest[i];
    std::size_t best = n;
    double best_potential = std::numeric_limits<double>::infinity();
    std::vector<double> best_closest;
    for (std::size_t t = 0; t < trials; ++t) {
      const std::size_t candidate = pick(mass);
      std::vector<double> updated(n);
      double potential = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double d2 =
            (x.row(static_cast<Eigen::Index>(i)) - x.row(static_cast<Eigen::Index>(candidate)))
                .squaredNorm();
        updated[i] = std::min(closest[i], d2);
        potential += w[i] * updated[i];
      }
      if (potential < best_potential) {
        best_potential = potential;
        best = candidate;
        best_closest = std::move(updated);
      }
    }
    chosen.push_back(best);
    closest = std::move(best_closest);
  }
  return chosen;
}

}  // namespace

TEST_CASE("k-means++ follows the documented greedy, weighted algorithm") {
  const row_matrix x = make_data(1500, 3, 6, 31);
  std::vector<double> weights(1500);
  crmkit::segment::random_stream random(8);
  for (auto& w : weights) w = random.uniform() < 0.2 ? 0.0 : random.uniform();
  for (std::uint64_t seed : {1u, 2u, 3u, 99u}) {
    for (std::size_t k : {1u, 2u, 7u, 20u}) {
      CAPTURE(seed);
      CAPTURE(k);
      const std::size_t trials = 2 + static_cast<std::size_t>(std::log(static_cast<double>(k)));
      const auto seeded = crmkit::segment::kmeans_plus_plus(x, k, seed, weights);
      CHECK(seeded.indices == reference_plus_plus(x, k, weights, seed, trials));
      for (std::size_t j = 0; j < k; ++j) {
        CHECK(weights[seeded.indices[j]] > 0);  // zero-weight points are never drawn
        CHECK(seeded.centers.row(static_cast<Eigen::Index>(j)) ==
              x.row(static_cast<Eigen::Index>(seeded.indices[j])));
      }
      const std::vector<double> unit(1500, 1.0);
      CHECK(crmkit::segment::kmeans_plus_plus(x, k, seed, {}, 1).indices ==
            reference_plus_plus(x, k, unit, seed, 1));
    }
  }
}

TEST_CASE("vanilla k-means++ draws the second centre with probability proportional to w D^2") {
  // Points 0, 1, 3 on a line with weights 1, 2, 1. The first centre is drawn by weight, so it
  // is point 0 with probability 1/4; given that, D^2 = (0, 1, 9) and the second centre is
  // point 1 with probability 2 * 1 / (2 * 1 + 1 * 9) = 2/11. Checked over 20000 seeds.
  const row_matrix x = column({0, 1, 3});
  const std::vector<double> weights{1, 2, 1};
  int first_zero = 0;
  int second_one = 0;
  for (std::uint64_t seed = 0; seed < 20000; ++seed) {
    const auto seeded = crmkit::segment::kmeans_plus_plus(x, 2, seed, weights, 1);
    if (seeded.indices[0] != 0) continue;
    ++first_zero;
    second_one += seeded.indices[1] == 1;
  }
  // The first centre is drawn by weight: P(0) = 1/4.
  CHECK(std::abs(first_zero / 20000.0 - 0.25) < 4 * std::sqrt(0.25 * 0.75 / 20000));
  const double p = 2.0 / 11;
  CHECK(std::abs(static_cast<double>(second_one) / first_zero - p) <
        4 * std::sqrt(p * (1 - p) / first_zero));
}

TEST_CASE("predict and transform agree with the fit") {
  const row_matrix x = make_data(5000, 4, 5, 123);
  kmeans_options options;
  options.n_clusters = 5;
  options.seed = 3;
  const auto fit = crmkit::segment::kmeans(x, options);
  const auto predicted = crmkit::segment::kmeans_predict(x, fit.centers);
  CHECK(predicted.labels == fit.labels);
  CHECK(predicted.inertia == doctest::Approx(fit.inertia).epsilon(1e-12));
  const row_matrix distances = crmkit::segment::kmeans_transform(x.topRows(50), fit.centers);
  for (Eigen::Index i = 0; i < 50; ++i) {
    for (Eigen::Index j = 0; j < 5; ++j) {
      CHECK(distances(i, j) ==
            doctest::Approx((x.row(i) - fit.centers.row(j)).norm()).epsilon(1e-14));
    }
  }
}

TEST_CASE("bad input is rejected with the argument, position and value") {
  row_matrix x = make_data(20, 3, 2, 1);
  kmeans_options options;
  options.n_clusters = 2;
  x(7, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(crmkit::segment::kmeans(x, options),
                       "kmeans: x[7, 2] = nan (row 7, column 2) must be finite",
                       crmkit::invalid_input);
  x(7, 2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(crmkit::segment::kmeans(x, options), crmkit::invalid_input);
  x(7, 2) = 0;

  options.n_clusters = 0;
  CHECK_THROWS_WITH_AS(crmkit::segment::kmeans(x, options),
                       "kmeans: n_clusters = 0 must be between 1 and the number of samples, 20",
                       crmkit::invalid_input);
  options.n_clusters = 21;
  CHECK_THROWS_AS(crmkit::segment::kmeans(x, options), crmkit::invalid_input);
  options.n_clusters = 2;

  CHECK_THROWS_WITH_AS(
      crmkit::segment::kmeans(row_matrix(0, 3), options),
      "kmeans: x is empty (shape (0, 3)); it needs at least one row and one column",
      crmkit::invalid_input);

  std::vector<double> weights(20, 1.0);
  weights[4] = -1;
  CHECK_THROWS_WITH_AS(crmkit::segment::kmeans(x, options, weights),
                       "kmeans: sample_weight[4] = -1 must be finite and >= 0",
                       crmkit::invalid_input);
  std::fill(weights.begin(), weights.end(), 0.0);
  CHECK_THROWS_WITH_AS(crmkit::segment::kmeans(x, options, weights),
                       "kmeans: sample_weight is all zero; at least one must be > 0",
                       crmkit::invalid_input);
  weights.resize(19, 1.0);
  CHECK_THROWS_AS(crmkit::segment::kmeans(x, options, weights), crmkit::invalid_input);

  // init = random needs n_clusters samples of positive weight.
  std::vector<double> one_positive(20, 0.0);
  one_positive[3] = 1;
  options.init = kmeans_init::random;
  CHECK_THROWS_WITH_AS(crmkit::segment::kmeans(x, options, one_positive),
                       "kmeans: init = 'random' draws n_clusters = 2 distinct samples by weight, "
                       "but only 1 samples have positive weight",
                       crmkit::invalid_input);
  options.init = kmeans_init::k_means_plus_plus;

  options.max_iter = 0;
  CHECK_THROWS_AS(crmkit::segment::kmeans(x, options), crmkit::invalid_input);
  options.max_iter = 300;
  options.tol = -1;
  CHECK_THROWS_WITH_AS(crmkit::segment::kmeans(x, options),
                       "kmeans: tol = -1 must be finite and >= 0", crmkit::invalid_input);
  options.tol = 1e-4;

  CHECK_THROWS_WITH_AS(crmkit::segment::kmeans(x, row_matrix::Zero(2, 2), options),
                       "kmeans: initial_centers has shape (2, 2) but must be (n_clusters, "
                       "n_features) = (2, 3)",
                       crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::parse_kmeans_algorithm("full"), crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::parse_kmeans_init("kmeans++"), crmkit::invalid_input);
  CHECK(crmkit::segment::parse_kmeans_algorithm("elkan") == kmeans_algorithm::elkan);
  CHECK_THROWS_AS(crmkit::segment::kmeans_predict(x, row_matrix::Zero(2, 4)),
                  crmkit::invalid_input);
}

// Issue 13, defect 3: features around 1e154 gave one cluster, inertia inf, and a message about
// duplicate points.
TEST_CASE("features whose squared distances overflow are refused with a clear message") {
  const row_matrix x = column({0, 1e154, 2e154, 3e154, 4e154, 5e154});
  CHECK_THROWS_WITH_AS(static_cast<void>(crmkit::segment::kmeans(x, lloyd_options(2))),
                       doctest::Contains("x spreads too far for squared distances to stay finite"),
                       crmkit::invalid_input);
  // The same points scaled by 1e-150 (exact powers of ten apart) cluster normally.
  const auto fit = crmkit::segment::kmeans(column({0, 1e4, 2e4, 3e4, 4e4, 5e4}), lloyd_options(2));
  CHECK(fit.distinct_clusters == 2);
  CHECK(std::isfinite(fit.inertia));
}

TEST_CASE("screened k-means without its float copy (values beyond float's safe range) is Lloyd") {
  // Norms from 1e15 up get no float shadow (its products could overflow float), so `screened`
  // assigns every point with the exact kernel: the same fit as Lloyd, hand-checkable here:
  // from centres 0 and 1e16, the points 0, 1e16 | 5e16, 6e16 split after one M-step
  // (centres 5e15 and 5.5e16) and stay so.
  const row_matrix x = column({0, 1e16, 5e16, 6e16});
  auto options = lloyd_options(2);
  const auto lloyd = crmkit::segment::kmeans(x, column({0, 1e16}), options);
  options.algorithm = kmeans_algorithm::screened;
  const auto screened = crmkit::segment::kmeans(x, column({0, 1e16}), options);
  CHECK(screened.algorithm == kmeans_algorithm::screened);
  CHECK(screened.labels == std::vector<std::int32_t>{0, 0, 1, 1});
  CHECK(screened.labels == lloyd.labels);
  CHECK(screened.centers(0, 0) == 5e15);
  CHECK(screened.centers(1, 0) == 5.5e16);
  CHECK(screened.n_iter == lloyd.n_iter);
  CHECK(crmkit::segment::parse_kmeans_algorithm("screened") == kmeans_algorithm::screened);
  // automatic: screened up to 32 centres and 64 features, Hamerly beyond.
  CHECK(crmkit::segment::automatic_kmeans_algorithm(32, 64) == kmeans_algorithm::screened);
  CHECK(crmkit::segment::automatic_kmeans_algorithm(33, 4) == kmeans_algorithm::hamerly);
  CHECK(crmkit::segment::automatic_kmeans_algorithm(8, 65) == kmeans_algorithm::hamerly);
}

namespace {

/**
 * The driver of crmkit/segment/kmeans_steps.hpp over row ranges of x split at `cuts`, with the
 * partitions visited in reverse order (the exact sums must not care). Every step, the plan and
 * the seeding included, sees one partition's rows at a time; the driver holds only sums, maxima,
 * counts, drawn rows and (to relocate empty clusters) the farthest rows.
 */
crmkit::segment::kmeans_result fit_in_partitions(const row_matrix& x,
                                                 const std::vector<Eigen::Index>& cuts,
                                                 const kmeans_options& options,
                                                 const std::optional<row_matrix>& initial = {},
                                                 const std::vector<double>& w = {}) {
  namespace seg = crmkit::segment;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> parts;
  Eigen::Index begin = 0;
  for (auto cut : cuts) parts.emplace_back(begin, cut - begin), begin = cut;
  parts.emplace_back(begin, x.rows() - begin);
  const std::size_t count = parts.size();
  std::vector<row_matrix> rows(count);
  std::vector<std::vector<double>> weights(count);
  for (std::size_t p = 0; p < count; ++p) {
    rows[p] = x.middleRows(parts[p].first, parts[p].second);
    if (!w.empty()) {
      weights[p].assign(w.begin() + parts[p].first, w.begin() + parts[p].first + parts[p].second);
    }
  }
  auto reversed = [&](auto&& step) {
    for (std::size_t p = count; p-- > 0;) step(p);
  };
  // 1. The plan from the partitions' moments.
  seg::kmeans_moments sums;
  reversed([&](std::size_t p) { sums += seg::kmeans_column_sums(rows[p], weights[p]); });
  const Eigen::RowVectorXd column_mean = seg::kmeans_column_mean(sums);
  seg::kmeans_moments deviations;
  reversed(
      [&](std::size_t p) { deviations += seg::kmeans_column_deviations(rows[p], column_mean); });
  std::optional<seg::matrix_view> start;
  if (initial) start.emplace(*initial);
  seg::kmeans_plan plan = seg::kmeans_plan_of(sums, deviations, start, options);
  const seg::kmeans_sum_scale scale{plan.radius, plan.largest_weight};
  // 2. The starts, each partition keeping its own closest distances.
  std::vector<std::vector<double>> closest(count);
  seg::kmeans_seeding_partitions seeding;
  seeding.weight_totals = [&] {
    std::vector<crmkit::wide_int> totals(count);
    reversed([&](std::size_t p) {
      totals[p] = seg::kmeans_seed_weight_total(rows[p].rows(), scale, weights[p]);
    });
    return totals;
  };
  seeding.add_centre = [&](std::span<const double> centre, bool first) {
    std::vector<crmkit::wide_int> totals(count);
    reversed([&](std::size_t p) {
      closest[p].resize(static_cast<std::size_t>(rows[p].rows()));
      totals[p] = seg::kmeans_seed_add_centre(rows[p], plan.mean, centre, scale, closest[p], first,
                                              weights[p]);
    });
    return totals;
  };
  seeding.find = [&](std::span<const seg::kmeans_draw> draws, bool by_potential) {
    std::vector<seg::kmeans_drawn> found;
    for (const auto& draw : draws) {
      const std::size_t p = draw.partition;
      auto one = seg::kmeans_seed_find(
          rows[p], plan.mean, scale, {&draw, 1},
          by_potential ? std::span<const double>(closest[p]) : std::span<const double>(),
          weights[p]);
      found.push_back(std::move(one.front()));
    }
    return found;
  };
  seeding.candidate_potentials = [&](const row_matrix& candidates) {
    std::vector<crmkit::wide_int> total(static_cast<std::size_t>(candidates.rows()), 0);
    reversed([&](std::size_t p) {
      const auto part = seg::kmeans_seed_potentials(rows[p], plan.mean, candidates, scale,
                                                    closest[p], weights[p]);
      for (std::size_t t = 0; t < total.size(); ++t) total[t] += part[t];
    });
    return total;
  };
  seg::kmeans_seed(plan, options, seeding);
  // 3.-5. The runs.
  const auto k = options.n_clusters;
  const auto d = static_cast<std::size_t>(x.cols());
  std::vector<std::vector<std::int32_t>> labels(count);
  auto e_step = [&](const row_matrix& centres, std::size_t& changes) {
    std::vector<crmkit::wide_int> sums(k * (d + 1), 0);
    changes = 0;
    reversed([&](std::size_t p) {
      auto partial =
          seg::kmeans_assign_partition(rows[p], plan.mean, centres, scale, weights[p], labels[p]);
      for (std::size_t m = 0; m < sums.size(); ++m) sums[m] += partial.sums[m];
      changes += partial.changes;
      labels[p] = std::move(partial.labels);
    });
    return sums;
  };
  auto all_labels = [&] {
    std::vector<std::int32_t> all;
    for (const auto& part : labels) all.insert(all.end(), part.begin(), part.end());
    return all;
  };
  std::optional<seg::kmeans_result> best;
  std::vector<std::vector<std::int32_t>> best_labels;
  for (std::size_t run = 0; run < plan.starts.size(); ++run) {
    row_matrix centres = plan.starts[run];
    seg::kmeans_result result;
    bool strict = false;
    result.n_iter = options.max_iter;
    for (std::size_t iteration = 0; iteration < options.max_iter; ++iteration) {
      std::size_t changes = 0;
      const auto sums = e_step(centres, changes);
      seg::kmeans_far_points far;
      std::size_t empty = 0;
      for (std::size_t j = 0; j < k; ++j) empty += sums[j] == 0;
      if (empty > 0) {  // the farthest rows over all partitions, ties to the lower row
        const auto own = seg::kmeans_own_distances(x, plan.mean, centres, all_labels());
        std::vector<std::size_t> order(own.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return own[a] > own[b]; });
        if (own[order[0]] > 0) {
          far.rows.resize(static_cast<Eigen::Index>(empty), x.cols());
          const auto all = all_labels();
          for (std::size_t e = 0; e < empty; ++e) {
            far.rows.row(static_cast<Eigen::Index>(e)) = x.row(static_cast<Eigen::Index>(order[e]));
            far.weights.push_back(w.empty() ? 1.0 : w[order[e]]);
            far.labels.push_back(all[order[e]]);
          }
        }
      }
      auto update = seg::kmeans_update_centres(sums, centres, plan.mean, scale, far);
      centres = std::move(update.centres);
      if (changes == 0 || update.shift_total <= plan.tolerance) {
        strict = changes == 0;
        result.converged = true;
        result.n_iter = iteration + 1;
        break;
      }
    }
    if (!strict) {
      std::size_t changes = 0;
      e_step(centres, changes);
    }
    crmkit::full_range_sum inertia;
    reversed([&](std::size_t p) {
      inertia += seg::kmeans_inertia_sum(rows[p], plan.mean, centres, labels[p], weights[p]);
    });
    result.inertia = inertia.value();
    bool same = false;
    if (best) {
      std::vector<std::vector<std::int32_t>> mappings;
      reversed([&](std::size_t p) {
        mappings.push_back(seg::kmeans_label_mapping(labels[p], best_labels[p], k));
      });
      const auto merged = seg::kmeans_merge_label_mappings(mappings, k);
      same = std::find(merged.begin(), merged.end(), seg::label_mapping_conflict) == merged.end();
    }
    if (!best || (result.inertia < best->inertia && !same)) {
      result.labels = all_labels();
      result.centers = centres.rowwise() + plan.mean;
      result.best_run = run;
      best = std::move(result);
      best_labels = labels;
    }
  }
  return *best;
}

}  // namespace

TEST_CASE("k-means in steps over partitions equals the single-machine fit bit for bit") {
  const row_matrix x = make_data(5000, 3, 6, 14);
  for (std::size_t k : {3, 7}) {
    for (std::uint64_t seed : {1u, 9u}) {
      kmeans_options options;
      options.n_clusters = k;
      options.seed = seed;
      const auto expected = crmkit::segment::kmeans(x, options);
      CHECK(expected.n_iter > 2);
      for (const auto& cuts :
           std::vector<std::vector<Eigen::Index>>{{}, {1, 1, 2047, 2049}, {1000, 1000, 4999}}) {
        const auto found = fit_in_partitions(x, cuts, options);
        CHECK(found.labels == expected.labels);
        CHECK(bit_identical(found.centers, expected.centers));
        CHECK(std::bit_cast<std::uint64_t>(found.inertia) ==
              std::bit_cast<std::uint64_t>(expected.inertia));
        CHECK(found.n_iter == expected.n_iter);
        CHECK(found.converged == expected.converged);
      }
    }
  }
  SUBCASE("weights, several runs, random init, one-row and empty partitions") {
    std::vector<double> weights(5000);
    crmkit::segment::random_stream random(21);
    for (auto& w : weights) w = random.uniform() < 0.1 ? 0.0 : 0.25 + 3 * random.uniform();
    for (auto init : {kmeans_init::k_means_plus_plus, kmeans_init::random}) {
      for (std::size_t n_init : {1u, 3u}) {
        kmeans_options options;
        options.n_clusters = 6;
        options.seed = 5;
        options.init = init;
        options.n_init = n_init;
        const auto expected = crmkit::segment::kmeans(x, options, weights);
        for (const auto& cuts : std::vector<std::vector<Eigen::Index>>{
                 {}, {0, 0, 1, 4096, 4096, 4097}, {1700, 3333, 4999}}) {
          CAPTURE(cuts.size());
          const auto found = fit_in_partitions(x, cuts, options, std::nullopt, weights);
          CHECK(found.labels == expected.labels);
          CHECK(bit_identical(found.centers, expected.centers));
          CHECK(std::bit_cast<std::uint64_t>(found.inertia) ==
                std::bit_cast<std::uint64_t>(expected.inertia));
          CHECK(found.n_iter == expected.n_iter);
          CHECK(found.best_run == expected.best_run);
        }
      }
    }
  }
  SUBCASE("the plan's mean is the exact column sum, rounded once, / n") {
    kmeans_options options;
    options.n_clusters = 9;
    options.seed = 3;
    options.n_init = 2;
    const auto single = crmkit::segment::kmeans_plan_fit(x, std::nullopt, options);
    REQUIRE(single.starts.size() == 2);
    // the plan's mean is the exactly rounded column sum / n
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      crmkit::full_range_sum column;
      for (Eigen::Index i = 0; i < x.rows(); ++i) column.add(x(i, j));
      CHECK(single.mean[j] == column.value() / static_cast<double>(x.rows()));
    }
  }
  SUBCASE("with an empty cluster relocated to the farthest row") {
    kmeans_options options;
    options.n_clusters = 4;
    row_matrix start = first_rows(x, 4);
    start.row(2).setConstant(1e3);
    const auto expected = crmkit::segment::kmeans(x, start, options);
    const auto found = fit_in_partitions(x, {700, 3100}, options, start);
    CHECK(found.labels == expected.labels);
    CHECK(bit_identical(found.centers, expected.centers));
    CHECK(found.inertia == expected.inertia);
    CHECK(found.n_iter == expected.n_iter);
  }
}

TEST_CASE("kmeans_inertia names the row whose term overflows or whose weight is not finite") {
  // (1e300 - (-1))^2 overflows a double: the exact sum cannot hold it, and must not drop it.
  row_matrix x(3, 1);
  x << 1.0, 1e300, 2.0;
  row_matrix centres(1, 1);
  centres << -1.0;
  const Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(1);
  const std::vector<std::int32_t> labels{0, 0, 0};
  CHECK_THROWS_WITH_AS(crmkit::segment::kmeans_inertia(x, mean, centres, labels, {}),
                       "kmeans_inertia: row 1: its squared distance to centre 0 times its weight "
                       "1 is inf, not a finite number",
                       crmkit::invalid_input);
  centres << 0.0;
  x(1, 0) = 3.0;
  const std::vector<double> weights{1.0, 1.0, std::numeric_limits<double>::quiet_NaN()};
  CHECK_THROWS_WITH_AS(crmkit::segment::kmeans_inertia(x, mean, centres, labels, weights),
                       "kmeans_inertia: row 2: its squared distance to centre 0 times its weight "
                       "nan is nan, not a finite number",
                       crmkit::invalid_input);
  // The same rows with finite terms: 1 + 9 + 4, exactly.
  CHECK(crmkit::segment::kmeans_inertia(x, mean, centres, labels, {}) == 14.0);
}
