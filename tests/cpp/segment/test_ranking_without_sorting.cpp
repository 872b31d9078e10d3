// value_tiers and average_rank scores find their cut points without sorting every value (a
// histogram of the values' top bits, then only the buckets a cut falls in). These tests hold
// them to the definitions they replace, computed here the slow way: value tiers as
// value_tiers_of_histogram of the sorted distinct values (tiers.hpp: "value_tiers is this on
// its sorted values"), average_rank scores from each value's mid-rank and the numpy edges of
// the ranks 1..n (rfm.hpp).
#include <crmkit/core/quantile.hpp>
#include <crmkit/segment/rfm.hpp>
#include <crmkit/segment/tiers.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace seg = crmkit::segment;

namespace {

/** A small deterministic generator (splitmix64), so the cases do not depend on a library. */
struct mixer {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }
};

/** Value columns that exercise the paths: ties, zeros, one crowded bucket, the double range. */
std::vector<std::vector<double>> columns() {
  std::vector<std::vector<double>> out;
  mixer random{42};
  std::vector<double> spread;  // a CLV-like spread over many exponents, with ties and zeros
  for (int i = 0; i < 5000; ++i) {
    const double u = random.uniform();
    spread.push_back(i % 17 == 0 ? 0.0 : std::floor(std::exp(12 * u) * 100) / 100);
  }
  out.push_back(spread);
  std::vector<double> crowded;  // every value shares its top 16 bits: one bucket holds all
  for (int i = 0; i < 4000; ++i) crowded.push_back(1.0 + static_cast<double>(random.next() % 3000) * 0x1p-45);
  out.push_back(crowded);
  std::vector<double> small_integers;  // purchase counts: few distinct values, heavy ties
  for (int i = 0; i < 3000; ++i) {
    small_integers.push_back(1 + std::floor(-std::log(1 - random.uniform()) * 2));
  }
  out.push_back(small_integers);
  std::vector<double> huge;  // the total passes the double range; subnormals at the bottom
  for (int i = 0; i < 600; ++i) {
    huge.push_back(i % 3 == 0 ? std::ldexp(1.0 + i, 1013 - i % 7)
                              : std::ldexp(1.0 + i, -1074 + i % 60));
  }
  out.push_back(huge);
  out.push_back({7, 7, 7, 7});      // one distinct value
  out.push_back({3});               // one customer
  out.push_back({0, 0, 5, 0, 1});   // zeros most of all
  return out;
}

/** value_tiers by its definition: the histogram of the sorted distinct values. */
seg::tier_result tiers_by_sorting(const std::vector<double>& values, const seg::tier_split& split) {
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  std::vector<double> distinct;
  std::vector<std::int64_t> counts;
  for (const double v : sorted) {
    if (distinct.empty() || v != distinct.back()) {
      distinct.push_back(v);
      counts.push_back(0);
    }
    ++counts.back();
  }
  auto result = seg::value_tiers_of_histogram(distinct, counts, split.cuts, split.basis);
  std::vector<std::int32_t> tiers;
  for (const double v : values) {
    const auto k = std::find(distinct.begin(), distinct.end(), v) - distinct.begin();
    tiers.push_back(result.tiers[static_cast<std::size_t>(k)]);
  }
  result.tiers = tiers;
  return result;
}

/** Bits, so that NaN (an empty tier's lowest value) compares equal to NaN. */
std::vector<std::uint64_t> bits(const std::vector<double>& values) {
  std::vector<std::uint64_t> out;
  for (const double v : values) out.push_back(std::bit_cast<std::uint64_t>(v));
  return out;
}

}  // namespace

TEST_CASE("value tiers equal the tiers of the sorted distinct values, bit for bit") {
  using seg::tier_basis;
  const std::vector<seg::tier_split> splits{{{0.8, 0.95}, tier_basis::value_share},
                                            {{0.2, 0.5}, tier_basis::population_share},
                                            {{0.1, 0.3, 0.6, 0.9}, tier_basis::value_share},
                                            {{0.999}, tier_basis::population_share}};
  for (const auto& values : columns()) {
    CAPTURE(values.size());
    const auto together = seg::value_tiers(values, splits);
    REQUIRE(together.size() == splits.size());
    for (std::size_t s = 0; s < splits.size(); ++s) {
      CAPTURE(s);
      const auto expected = tiers_by_sorting(values, splits[s]);
      CHECK(together[s].tiers == expected.tiers);
      CHECK(together[s].counts == expected.counts);
      CHECK(bits(together[s].value_shares) == bits(expected.value_shares));
      CHECK(bits(together[s].lowest_values) == bits(expected.lowest_values));
    }
  }
  // The crowded column's cuts fall inside its one bucket, so the tiers there needed its values.
  const auto crowded = columns()[1];
  const auto by_people = seg::value_tiers(crowded, splits[1].cuts, tier_basis::population_share);
  CHECK(std::count(by_people.counts.begin(), by_people.counts.end(), 0) == 0);
}

TEST_CASE("value tiers count -0 as 0") {
  const std::vector<double> cuts{0.5, 0.9};
  for (const auto basis : {seg::tier_basis::value_share, seg::tier_basis::population_share}) {
    const auto negative = seg::value_tiers(std::vector<double>{-0.0, 4, 1, 0}, cuts, basis);
    const auto positive = seg::value_tiers(std::vector<double>{0.0, 4, 1, 0}, cuts, basis);
    CHECK(negative.tiers == positive.tiers);
    CHECK(negative.counts == positive.counts);
    CHECK(bits(negative.value_shares) == bits(positive.value_shares));
  }
}

TEST_CASE("average_rank scores and thresholds follow the mid-rank definition") {
  for (auto values : columns()) {
    // A shifted copy too: average_rank takes any finite values.
    for (const double shift : {0.0, -2.5}) {
      for (double& v : values) v = v + shift;
      const std::size_t n = values.size();
      std::vector<double> mid;  // (#below + 1 + #through) / 2
      for (const double v : values) {
        const auto below = std::count_if(values.begin(), values.end(), [&](double x) { return x < v; });
        const auto through =
            std::count_if(values.begin(), values.end(), [&](double x) { return x <= v; });
        mid.push_back(0.5 * static_cast<double>(below + 1 + through));
      }
      for (const std::size_t bins : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{10}}) {
        CAPTURE(n);
        CAPTURE(shift);
        CAPTURE(bins);
        // The definition: numpy.quantile edges of the ranks 1..n; a value's bin is the number
        // of edges below its mid-rank, at least 1; t_j the largest value with bin <= j.
        std::vector<double> edges;
        for (std::size_t j = 0; j <= bins; ++j) {
          const double p = j == bins ? 1.0 : static_cast<double>(j) * (1.0 / static_cast<double>(bins));
          edges.push_back(crmkit::sorted_quantile(
              [](std::size_t i) { return static_cast<double>(i + 1); }, n, p));
        }
        std::vector<std::size_t> bin(n);
        std::vector<double> thresholds(bins - 1, -std::numeric_limits<double>::infinity());
        for (std::size_t i = 0; i < n; ++i) {
          std::size_t under = 0;
          for (const double e : edges) under += e < mid[i] ? 1 : 0;
          bin[i] = std::max<std::size_t>(under, 1);
          for (std::size_t j = bin[i]; j < bins; ++j) {
            thresholds[j - 1] = std::max(thresholds[j - 1], values[i]);
          }
        }
        for (const bool higher_is_better : {true, false}) {
          const auto got = seg::score_quantiles(values, bins, seg::tie_policy::average_rank,
                                                higher_is_better);
          CHECK(got.scale.bins == bins);
          CHECK(got.scale.thresholds == thresholds);
          std::vector<std::int32_t> expected;
          for (const auto b : bin) {
            expected.push_back(static_cast<std::int32_t>(higher_is_better ? b : bins + 1 - b));
          }
          CHECK(got.scores == expected);
        }
      }
    }
  }
}

TEST_CASE("an average_rank threshold at zero keeps the first zero's sign, as a stable sort did") {
  // Sorted: -0 (row 0), 0 (row 2), 0 (row 3), 1, 2. With 2 bins the edges of ranks 1..5 are 1, 3, 5;
  // the zeros' mid-rank is 2 (bin 1), so the threshold is the zero first in row order: -0.
  const std::vector<double> values{-0.0, 1, 0.0, 0.0, 2};
  const auto scores = seg::score_quantiles(values, 2, seg::tie_policy::average_rank, true);
  REQUIRE(scores.scale.thresholds.size() == 1);
  CHECK(scores.scale.thresholds[0] == 0);
  CHECK(std::signbit(scores.scale.thresholds[0]));
  CHECK(scores.scores == std::vector<std::int32_t>{1, 2, 1, 1, 2});
  const std::vector<double> positive_first{0.0, 1, -0.0, 0.0, 2};
  CHECK_FALSE(std::signbit(
      seg::score_quantiles(positive_first, 2, seg::tie_policy::average_rank, true).scale.thresholds[0]));
}
