#include <crmkit/survey/mean.hpp>
#include <crmkit/survey/proportion.hpp>
#include <crmkit/survey/rating.hpp>
#include <crmkit/survey/sample.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace survey = crmkit::survey;

TEST_CASE("Wilson intervals reproduce Newcombe (1998a) Table I") {
  // Newcombe, Statistics in Medicine 17:857-872, method 3 (score interval without continuity
  // correction), 95%: 81/263 → (0.2553, 0.3662), 15/148 → (0.0624, 0.1605),
  // 0/20 → (0, 0.1611), 1/29 → (0.0061, 0.1718).
  struct row {
    double x, n, lower, upper;
  };
  for (const row& r : {row{81, 263, 0.2553, 0.3662}, row{15, 148, 0.0624, 0.1605},
                       row{0, 20, 0.0, 0.1611}, row{1, 29, 0.0061, 0.1718}}) {
    const auto ci = survey::wilson_interval({r.n, r.x}, 0.95);
    CHECK(std::fabs(ci.lower - r.lower) < 5e-5);
    CHECK(std::fabs(ci.upper - r.upper) < 5e-5);
  }
}

TEST_CASE("mean accumulator gives Student's t interval of the sleep data") {
  // R: t.test(extra ~ group, data = sleep, paired = TRUE) — the differences ×10 are integers
  // 12 24 13 13 0 10 18 8 46 14; R reports mean −1.58 and 95% CI (−2.4598858, −0.7001142)
  // for group 1 − group 2, so here mean 15.8 and CI (7.001142, 24.598858).
  survey::mean_accumulator accumulator;
  for (std::int64_t x : {12, 24, 13, 13, 0, 10, 18, 8, 46, 14}) accumulator(x);
  const auto result = survey::summarize(accumulator, {});
  CHECK(result.mean == doctest::Approx(15.8));
  CHECK(result.ci.lower == doctest::Approx(7.001142).epsilon(1e-6));
  CHECK(result.ci.upper == doctest::Approx(24.598858).epsilon(1e-6));
  CHECK(result.small_sample);

  survey::mean_accumulator single;
  single(4);
  const auto one = survey::summarize(single, {});
  CHECK(one.mean == 4.0);
  CHECK(std::isnan(one.standard_deviation));
  CHECK(std::isnan(one.ci.lower));
}

TEST_CASE("weighted mean and variance match the Kish formulas") {
  // Scores 1, 2, 5 with weights 1, 1, 2: Σw = 4, x̄ = (1 + 2 + 10)/4 = 3.25,
  // Σw(x − x̄)²/Σw = (5.0625 + 1.5625 + 2·3.0625)/4 = 3.1875, n_eff = 16/6 = 2.6667,
  // s² = 3.1875·2.6667/1.6667 = 5.1.
  survey::weighted_mean_accumulator accumulator;
  accumulator(1, 1.0);
  accumulator(2, 1.0);
  accumulator(5, 2.0);
  const auto moments = accumulator.moments();
  CHECK(moments.n == doctest::Approx(16.0 / 6));
  CHECK(moments.mean == doctest::Approx(3.25));
  CHECK(moments.variance == doctest::Approx(5.1));
}

TEST_CASE("mean and proportion accumulators merge exactly") {
  std::mt19937_64 engine(11);
  std::uniform_int_distribution<std::int64_t> score(1, 7);
  std::lognormal_distribution<double> weight(0.0, 1.0);
  survey::weighted_rating_accumulator whole(survey::ces_scale(survey::ces_version::agreement_7));
  std::vector<survey::weighted_rating_accumulator> parts(
      3, survey::weighted_rating_accumulator(survey::ces_scale(survey::ces_version::agreement_7)));
  for (int i = 0; i < 9'000; ++i) {
    const auto x = score(engine);
    const auto w = weight(engine);
    whole(x, w);
    parts[static_cast<std::size_t>(i % 3)](x, w);
  }
  auto merged = parts[2];
  merged += parts[0];
  merged += parts[1];
  CHECK(merged == whole);
  const auto a = survey::summarize(whole, {});
  const auto b = survey::summarize(merged, {});
  CHECK(a.mean.mean == b.mean.mean);
  CHECK(a.mean.standard_deviation == b.mean.standard_deviation);
  CHECK(a.favourable.share == b.favourable.share);
}

TEST_CASE("CSAT is the top-2-box share with a Wilson interval and the mean with a t interval") {
  // 4 and 5 are the top two boxes of 1-5: 6 of 10 answers.
  const std::vector<std::int64_t> scores{5, 5, 4, 4, 4, 4, 3, 2, 1, 3};
  const auto result = survey::csat(std::span<const std::int64_t>(scores));
  CHECK(result.scale == survey::csat_scale());
  CHECK(result.favourable.successes == 6);
  CHECK(result.favourable.share == doctest::Approx(0.6));
  const auto wilson = survey::wilson_interval({10, 6}, 0.95);
  CHECK(result.favourable.ci.lower == wilson.lower);
  CHECK(result.mean.mean == doctest::Approx(3.5));
  // Top-3-box on the same answers: 3, 4, 5 → 8 of 10.
  const auto top3 =
      survey::csat(std::span<const std::int64_t>(scores), {}, survey::csat_scale(1, 5, 3));
  CHECK(top3.favourable.share == doctest::Approx(0.8));
}

TEST_CASE("CES versions carry their scale and direction") {
  const auto agreement = survey::ces_scale(survey::ces_version::agreement_7);
  CHECK(agreement.min == 1);
  CHECK(agreement.max == 7);
  CHECK(agreement.higher_is_better);
  CHECK(agreement.favourable(5));
  CHECK_FALSE(agreement.favourable(4));
  const auto effort = survey::ces_scale(survey::ces_version::effort_5);
  CHECK(effort.max == 5);
  CHECK_FALSE(effort.higher_is_better);
  CHECK(effort.favourable(2));
  CHECK_FALSE(effort.favourable(3));

  const std::vector<double> scores{1, 2, 2, 3, 5};
  const auto result =
      survey::ces(std::span<const double>(scores), {}, survey::ces_version::effort_5);
  CHECK_FALSE(result.scale.higher_is_better);
  CHECK(result.favourable.share == doctest::Approx(0.6));
  // 6 is fine on the 1-7 agreement scale but outside the original 1-5 effort scale.
  const std::vector<double> six{6};
  CHECK_THROWS_AS(
      (void)survey::ces(std::span<const double>(six), {}, survey::ces_version::effort_5),
      crmkit::invalid_input);
}

TEST_CASE("invalid scales are refused") {
  CHECK_THROWS_AS(survey::check_scale("test", survey::rating_scale{5, 1}), crmkit::invalid_input);
  CHECK_THROWS_AS(survey::check_scale("test", survey::csat_scale(1, 5, 5)), crmkit::invalid_input);
  CHECK_THROWS_AS(survey::check_scale("test", survey::csat_scale(0, 5000)), crmkit::invalid_input);
  CHECK_NOTHROW(survey::check_scale("test", survey::csat_scale(0, 10, 1)));
}
