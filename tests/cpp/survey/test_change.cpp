#include <crmkit/survey/change.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <span>
#include <vector>

namespace survey = crmkit::survey;

TEST_CASE("adjusted-Wald comparison of two NPS matches a hand computation") {
  // MeasuringU's procedure on hand-made counts a = 50/30/20, b = 30/40/30 (n = 100 each):
  // NPS'_a = 29.126214, SE'_a = 7.691510; NPS'_b = 0 (symmetric), SE'_b = 100·√((30.75 +
  // 30.75)/103/103) = 7.613780; SE = √(SE'_a² + SE'_b²) = 10.822614, z = 2.691236,
  // p = 2(1 − Φ(z)) = 0.0071188, 95% interval 29.126214 ± 1.959964·10.822614 =
  // [7.914279, 50.338148].
  const auto result = survey::compare_nps({100, 50, 30, 20}, {100, 30, 40, 30});
  CHECK(result.difference == doctest::Approx(30.0));
  CHECK(result.standard_error == doctest::Approx(10.822614).epsilon(1e-7));
  CHECK(result.z == doctest::Approx(2.691236).epsilon(1e-6));
  CHECK(result.p_value == doctest::Approx(0.0071188).epsilon(1e-4));
  CHECK(result.ci.lower == doctest::Approx(7.914279).epsilon(1e-6));
  CHECK(result.ci.upper == doctest::Approx(50.338148).epsilon(1e-6));
  CHECK(result.significant);

  // Unadjusted Wald: z = 30/√(7.8102² + 100·√(.6/100)²) with Var_b = .3 + .3 − 0 = .6.
  const auto wald = survey::compare_nps({100, 50, 30, 20}, {100, 30, 40, 30}, 0.95,
                                        survey::nps_interval_method::wald);
  CHECK(wald.z == doctest::Approx(
                      30.0 / std::hypot(100 * std::sqrt(0.61 / 100), 100 * std::sqrt(0.6 / 100))));
  // Equal samples: no difference.
  const auto same = survey::compare_nps({100, 50, 30, 20}, {100, 50, 30, 20});
  CHECK(same.z == 0.0);
  CHECK(same.p_value == doctest::Approx(1.0));
  CHECK_FALSE(same.significant);
  CHECK(std::isnan(survey::compare_nps({0, 0, 0, 0}, {10, 5, 5, 0}).z));
}

TEST_CASE("difference of proportions: Newcombe (1998b) Table II, method 10") {
  // Newcombe, Statistics in Medicine 17:873-890: 56/70 − 48/80 → (0.0524, 0.3339);
  // 9/10 − 3/10 → (0.1705, 0.8090); 5/56 − 0/29 → (−0.0381, 0.1926).
  struct row {
    double x1, n1, x2, n2, lower, upper;
  };
  for (const row& r : {row{56, 70, 48, 80, 0.0524, 0.3339}, row{9, 10, 3, 10, 0.1705, 0.8090},
                       row{5, 56, 0, 29, -0.0381, 0.1926}}) {
    const auto result = survey::compare_proportions({r.n1, r.x1}, {r.n2, r.x2});
    CHECK(std::fabs(result.ci.lower - r.lower) < 5e-5);
    CHECK(std::fabs(result.ci.upper - r.upper) < 5e-5);
  }
  // Pooled z for 56/70 vs 48/80: p̄ = 104/150, SE = √(p̄(1 − p̄)(1/70 + 1/80)), z = 0.2/SE.
  const double pooled = 104.0 / 150;
  const double se = std::sqrt(pooled * (1 - pooled) * (1.0 / 70 + 1.0 / 80));
  const auto result = survey::compare_proportions({70, 56}, {80, 48});
  CHECK(result.z == doctest::Approx(0.2 / se));
  CHECK(result.p_value == doctest::Approx(std::erfc(0.2 / se / std::sqrt(2.0))));
  CHECK(result.significant);
  const auto all = survey::compare_proportions({10, 10}, {20, 20});
  CHECK(std::isnan(all.z));
  CHECK_FALSE(all.significant);
}

TEST_CASE("period over period compares each cell with the one lag periods earlier") {
  // Two groups × three periods.
  const std::vector<survey::nps_counts> cells{{100, 50, 30, 20}, {100, 30, 40, 30},
                                              {100, 31, 40, 29}, {0, 0, 0, 0},
                                              {50, 25, 15, 10},  {50, 25, 15, 10}};
  const auto changes = survey::period_over_period(
      std::span<const survey::nps_counts>(cells), 3, 1,
      [](const survey::nps_counts& now, const survey::nps_counts& before) {
        return survey::compare_nps(now, before);
      });
  REQUIRE(changes.size() == 6);
  CHECK(std::isnan(changes[0].difference));
  CHECK(changes[1].difference == doctest::Approx(-30.0));
  CHECK(changes[1].significant);
  CHECK(changes[2].difference == doctest::Approx(2.0));
  CHECK_FALSE(changes[2].significant);
  CHECK(std::isnan(changes[4].difference));  // the earlier cell is empty
  CHECK(changes[5].difference == 0.0);
  CHECK_THROWS_AS((void)survey::period_over_period(
                      std::span<const survey::nps_counts>(cells), 4, 1,
                      [](const auto&, const auto&) { return survey::comparison{}; }),
                  crmkit::invalid_input);
}
