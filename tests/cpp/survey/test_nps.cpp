#include <crmkit/survey/nps.hpp>
#include <crmkit/survey/sample.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace survey = crmkit::survey;

namespace {

// 50 promoters, 30 passives, 20 detractors (hand-made counts).
const survey::nps_counts counts_50_30_20{100, 50, 30, 20};

std::vector<std::int64_t> answers(std::int64_t promoters, std::int64_t passives,
                                  std::int64_t detractors) {
  std::vector<std::int64_t> result;
  for (std::int64_t i = 0; i < promoters; ++i) result.push_back(9 + i % 2);
  for (std::int64_t i = 0; i < passives; ++i) result.push_back(7 + i % 2);
  for (std::int64_t i = 0; i < detractors; ++i) result.push_back(i % 7);
  return result;
}

std::vector<std::int64_t> random_scores(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<std::int64_t> score(0, 10);
  std::vector<std::int64_t> result(n);
  for (auto& value : result) value = score(engine);
  return result;
}

std::vector<double> random_weights(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::lognormal_distribution<double> weight(0.0, 0.7);
  std::vector<double> result(n);
  for (auto& value : result) value = weight(engine);
  return result;
}

bool same_bits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

}  // namespace

TEST_CASE("categories follow Reichheld's thresholds") {
  CHECK(survey::nps_category_of(0) == survey::nps_category::detractor);
  CHECK(survey::nps_category_of(6) == survey::nps_category::detractor);
  CHECK(survey::nps_category_of(7) == survey::nps_category::passive);
  CHECK(survey::nps_category_of(8) == survey::nps_category::passive);
  CHECK(survey::nps_category_of(9) == survey::nps_category::promoter);
  CHECK(survey::nps_category_of(10) == survey::nps_category::promoter);
}

TEST_CASE("score and trinomial standard error match a hand computation") {
  // Rocks (2016) eq. 2: p_P = .5, p_D = .2, Var(s) = .5 + .2 − (.5 − .2)² = .61,
  // SE = 100·√(.61/100) = 7.8102497 points.
  CHECK(survey::nps_score(counts_50_30_20) == doctest::Approx(30.0));
  CHECK(survey::nps_standard_error(counts_50_30_20) ==
        doctest::Approx(100 * std::sqrt(0.61 / 100)));
  CHECK(survey::nps_standard_error(counts_50_30_20) == doctest::Approx(7.8102497).epsilon(1e-7));
}

TEST_CASE("Wald and adjusted-Wald intervals match hand computations") {
  // Wald: 30 ± z_.975·7.8102497 with z_.975 = 1.959964 → [14.692192, 45.307808].
  const auto wald = survey::nps_wald_interval(counts_50_30_20, 0.95);
  CHECK(wald.lower == doctest::Approx(14.692192).epsilon(1e-7));
  CHECK(wald.upper == doctest::Approx(45.307808).epsilon(1e-7));
  // Adjusted Wald (Rocks 2016; MeasuringU): n' = 103, p'_P = 50.75/103, p'_D = 20.75/103,
  // NPS' = 29.126214, SE' = 100·√((p'_P + p'_D − (p'_P − p'_D)²)/103) = 7.6915… →
  // [14.051130, 44.201297].
  const auto adjusted = survey::nps_adjusted_wald_interval(counts_50_30_20, 0.95);
  CHECK(adjusted.lower == doctest::Approx(14.051130).epsilon(1e-7));
  CHECK(adjusted.upper == doctest::Approx(44.201297).epsilon(1e-7));
  // One promoter: Wald collapses to [100, 100]; adjusted Wald (n' = 4, p'_P = 1.75/4,
  // p'_D = .75/4) gives 25 ± 1.959964·37.5 = [−48.498649, 98.498649].
  const survey::nps_counts one{1, 1, 0, 0};
  CHECK(survey::nps_wald_interval(one, 0.95).lower == 100.0);
  CHECK(survey::nps_adjusted_wald_interval(one, 0.95).lower == doctest::Approx(-48.498649));
  CHECK(survey::nps_adjusted_wald_interval(one, 0.95).upper == doctest::Approx(98.498649));
  // Ten promoters: the adjusted upper limit (106.3) is clipped to the scale.
  CHECK(survey::nps_adjusted_wald_interval({10, 10, 0, 0}, 0.95).upper == 100.0);
  CHECK_THROWS_AS((void)survey::nps_wald_interval(counts_50_30_20, 1.0), crmkit::invalid_input);
}

TEST_CASE("accumulator counts answers into categories and summarises them") {
  survey::nps_accumulator accumulator;
  for (auto score : answers(50, 30, 20)) accumulator(score);
  CHECK(accumulator.count() == 100);
  CHECK(accumulator.count(survey::nps_category::promoter) == 50);
  CHECK(accumulator.count(survey::nps_category::passive) == 30);
  CHECK(accumulator.count(survey::nps_category::detractor) == 20);
  const auto result = survey::summarize(accumulator, {});
  CHECK(result.score == doctest::Approx(30.0));
  CHECK(result.share_passives == doctest::Approx(0.3));
  CHECK(result.n_effective == 100.0);
  CHECK(result.ci.lower == doctest::Approx(14.051130).epsilon(1e-7));
  CHECK_FALSE(result.small_sample);

  survey::nps_accumulator small;
  for (auto score : answers(12, 5, 3)) small(score);
  CHECK(survey::summarize(small, {}).small_sample);

  const auto empty = survey::summarize(survey::nps_accumulator{}, {});
  CHECK(empty.n == 0);
  CHECK(std::isnan(empty.score));
  CHECK(std::isnan(empty.ci.lower));
  CHECK(empty.small_sample);
}

TEST_CASE("merged accumulators equal one pass exactly, weighted and unweighted") {
  const auto scores = random_scores(10'000, 1);
  const auto weights = random_weights(scores.size(), 2);
  survey::nps_accumulator whole;
  survey::weighted_nps_accumulator weighted_whole;
  std::vector<survey::nps_accumulator> parts(5);
  std::vector<survey::weighted_nps_accumulator> weighted_parts(5);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    whole(scores[i]);
    weighted_whole(scores[i], weights[i]);
    parts[(i * 7919) % 5](scores[i]);
    weighted_parts[(i * 7919) % 5](scores[i], weights[i]);
  }
  survey::nps_accumulator merged;
  survey::weighted_nps_accumulator weighted_merged;
  for (std::size_t k = parts.size(); k-- > 0;) {
    merged += parts[k];
    weighted_merged += weighted_parts[k];
  }
  CHECK(merged == whole);
  CHECK(weighted_merged == weighted_whole);
  const auto a = survey::summarize(weighted_whole, {});
  const auto b = survey::summarize(weighted_merged, {});
  CHECK(same_bits(a.score, b.score));
  CHECK(same_bits(a.standard_error, b.standard_error));
  CHECK(same_bits(a.ci.lower, b.ci.lower));
  CHECK(same_bits(a.n_effective, b.n_effective));
}

TEST_CASE("weighted with all weights 1 equals unweighted") {
  const auto scores = random_scores(5'000, 3);
  const std::vector<double> ones(scores.size(), 1.0);
  const std::span<const std::int64_t> view(scores);
  const auto plain = survey::nps(view);
  const auto weighted = survey::nps(view, std::span<const double>(ones));
  CHECK(plain.score == weighted.score);
  CHECK(plain.standard_error == weighted.standard_error);
  CHECK(plain.ci.lower == weighted.ci.lower);
  CHECK(plain.ci.upper == weighted.ci.upper);
  CHECK(weighted.n_effective == 5000.0);
  CHECK(weighted.weight_total == 5000.0);
}

TEST_CASE("weighted shares and Kish effective sample size match hand computation") {
  // Weights 3 (promoter), 1 (passive), 1, 1 (detractors): W = 6, p_P = 3/6, p_D = 2/6,
  // NPS = 100·(.5 − .3333) = 16.667; n_eff = 6²/(9 + 1 + 1 + 1) = 3.
  survey::weighted_nps_accumulator accumulator;
  accumulator(10, 3.0);
  accumulator(8, 1.0);
  accumulator(0, 1.0);
  accumulator(5, 1.0);
  const auto result = survey::summarize(accumulator, {});
  CHECK(result.n == 4);
  CHECK(result.weight_total == 6.0);
  CHECK(result.n_effective == doctest::Approx(3.0));
  CHECK(result.score == doctest::Approx(100.0 * (0.5 - 2.0 / 6)));
  // SE from the effective sample: 100·√((.5 + .3333 − .1667²)/3).
  CHECK(result.standard_error ==
        doctest::Approx(100 * std::sqrt((0.5 + 2.0 / 6 - std::pow(0.5 - 2.0 / 6, 2)) / 3)));
}

TEST_CASE("bootstrap intervals are reproducible with a seed and sensible") {
  const auto scores = answers(50, 30, 20);
  const std::span<const std::int64_t> view(scores);
  survey::nps_options options;
  options.method = survey::nps_interval_method::bootstrap;
  options.seed = 7;
  const auto first = survey::nps(view, {}, options);
  const auto again = survey::nps(view, {}, options);
  CHECK(first.ci.lower == again.ci.lower);
  CHECK(first.ci.upper == again.ci.upper);
  options.seed = 8;
  const auto other = survey::nps(view, {}, options);
  CHECK((other.ci.lower != first.ci.lower || other.ci.upper != first.ci.upper));
  // The bootstrap approximates the Wald interval [14.7, 45.3] for n = 100.
  CHECK(first.ci.lower == doctest::Approx(14.7).epsilon(0.15));
  CHECK(first.ci.upper == doctest::Approx(45.3).epsilon(0.1));

  const std::vector<double> weights(scores.size(), 2.0);
  const auto weighted = survey::nps(view, std::span<const double>(weights), options);
  const auto weighted_again = survey::nps(view, std::span<const double>(weights), options);
  CHECK(weighted.ci.lower == weighted_again.ci.lower);
  CHECK(weighted.ci.lower == doctest::Approx(14.7).epsilon(0.15));
}

TEST_CASE("bootstrap does not depend on the thread count") {
  const auto scores = random_scores(2'000, 5);
  const auto weights = random_weights(scores.size(), 6);
  survey::nps_options options;
  options.method = survey::nps_interval_method::bootstrap;
  options.resamples = 500;
  const std::size_t saved = crmkit::num_threads();
  crmkit::set_num_threads(1);
  const auto one =
      survey::nps(std::span<const std::int64_t>(scores), std::span<const double>(weights), options);
  crmkit::set_num_threads(4);
  const auto four =
      survey::nps(std::span<const std::int64_t>(scores), std::span<const double>(weights), options);
  crmkit::set_num_threads(saved);
  CHECK(same_bits(one.ci.lower, four.ci.lower));
  CHECK(same_bits(one.ci.upper, four.ci.upper));
}

TEST_CASE("summarize refuses a bootstrap of a weighted accumulator") {
  survey::weighted_nps_accumulator accumulator;
  accumulator(10, 2.0);
  survey::nps_options options;
  options.method = survey::nps_interval_method::bootstrap;
  CHECK_THROWS_AS((void)survey::summarize(accumulator, options), crmkit::invalid_input);
}

// Issue 13, defect 6: all-zero weights gave NaN and min_n = NaN was accepted; defect 7: n_boot.
TEST_CASE("all-zero weights, a NaN small-sample threshold and a huge n_boot are named errors") {
  const std::vector<std::int64_t> scores{10, 9, 3};
  const std::vector<double> zero{0, 0, 0};
  CHECK_THROWS_WITH_AS(
      static_cast<void>(crmkit::survey::nps(std::span<const std::int64_t>(scores), zero)),
      "nps: every weight is 0, so the NPS is undefined (give some answer a weight)",
      crmkit::invalid_input);
  crmkit::survey::nps_options nan_threshold;
  nan_threshold.small_sample_below = std::nan("");
  CHECK_THROWS_WITH_AS(static_cast<void>(crmkit::survey::nps(
                           std::span<const std::int64_t>(scores), {}, nan_threshold)),
                       doctest::Contains("min_n (small_sample_below) = nan must be finite and >= 0"),
                       crmkit::invalid_input);
  crmkit::survey::nps_options huge;
  huge.method = crmkit::survey::nps_interval_method::bootstrap;
  huge.resamples = 1'000'000'000;
  CHECK_THROWS_WITH_AS(
      static_cast<void>(crmkit::survey::nps(std::span<const std::int64_t>(scores), {}, huge)),
      doctest::Contains("n_boot = 1000000000 exceeds its limit of 1000000"), crmkit::invalid_input);
  // Some weight left: a defined NPS (one promoter of weight 1: +100).
  CHECK(crmkit::survey::nps(std::span<const std::int64_t>(scores), std::vector<double>{1, 0, 0})
            .score == 100);
}
