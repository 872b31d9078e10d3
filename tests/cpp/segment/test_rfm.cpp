#include <crmkit/core/error.hpp>
#include <crmkit/segment/features.hpp>
#include <crmkit/segment/rfm.hpp>
#include <crmkit/segment/rfm_rules.hpp>
#include <crmkit/segment/tier_buckets.hpp>
#include <crmkit/segment/tiers.hpp>

#include <doctest/doctest.h>

#include <algorithm>

#include <cmath>
#include <limits>
#include <vector>

using crmkit::segment::tie_policy;
using scores = std::vector<std::int32_t>;

namespace {

// A hand-made table of 10 customers with heavy ties.
const std::vector<double> recency{0, 0, 3, 3, 3, 10, 10, 30, 30, 90};
const std::vector<double> frequency{1, 1, 1, 1, 1, 2, 2, 3, 5, 8};
const std::vector<double> monetary{10, 20, 20, 20, 35, 50, 50, 50, 50, 400};

crmkit::segment::rfm_scores score(tie_policy ties) {
  crmkit::segment::rfm_options options;
  options.ties = ties;
  return crmkit::segment::score_rfm(recency, frequency, monetary, options);
}

}  // namespace

// For n = 10 and q = 5 the edges of the ranks 1..10 are numpy.quantile(1..10, [0, .2, .4, .6,
// .8, 1]) = 1, 2.8, 4.6, 6.4, 8.2, 10 (virtual index 9p, linear interpolation), and a rank's
// bin is the number of edges strictly below it (at least 1).

TEST_CASE("rank_first: ranks 1..10 fall in bins 1,1,2,2,3,3,4,4,5,5; ties split by position") {
  const auto rfm = score(tie_policy::rank_first);
  // The five customers with F = 1 take ranks 1..5 in row order: bins 1, 1, 2, 2, 3.
  CHECK(rfm.frequency.scores == scores{1, 1, 2, 2, 3, 3, 4, 4, 5, 5});
  // Recency is already sorted, so its ranks are the row numbers; scores are inverted (6 - bin).
  CHECK(rfm.recency.scores == scores{5, 5, 4, 4, 3, 3, 2, 2, 1, 1});
  CHECK(rfm.monetary.scores == scores{1, 1, 2, 2, 3, 3, 4, 4, 5, 5});
  CHECK(rfm.frequency.scale.bins == 5);
}

TEST_CASE("average_rank: ties share the bin of their mid-rank") {
  const auto rfm = score(tie_policy::average_rank);
  // F: the five 1s have mid-rank 3 (bin 2: above 1 and 2.8), the two 2s mid-rank 6.5 (bin 4),
  // the 3 rank 8 (bin 4), the 5 rank 9 and the 8 rank 10 (bin 5). Bins 1 and 3 stay empty.
  CHECK(rfm.frequency.scores == scores{2, 2, 2, 2, 2, 4, 4, 4, 5, 5});
  // R: {0,0} mid-rank 1.5 -> bin 1 -> score 5; {3,3,3} mid-rank 4 -> bin 2 -> 4;
  // {10,10} 6.5 -> bin 4 -> 2; {30,30} 8.5 -> bin 5 -> 1; 90 rank 10 -> bin 5 -> 1.
  CHECK(rfm.recency.scores == scores{5, 5, 4, 4, 4, 2, 2, 1, 1, 1});
  // M: 10 rank 1 -> 1; three 20s mid-rank 3 -> 2; 35 rank 5 -> 3; four 50s mid-rank 7.5 -> 4;
  // 400 -> 5.
  CHECK(rfm.monetary.scores == scores{1, 2, 2, 2, 3, 4, 4, 4, 4, 5});
  // Thresholds: largest F with bin <= 1 (none: -inf), <= 2 (1), <= 3 (1), <= 4 (3).
  const auto& t = rfm.frequency.scale.thresholds;
  REQUIRE(t.size() == 4);
  CHECK(std::isinf(t[0]));
  CHECK(t[0] < 0);
  CHECK(t[1] == 1);
  CHECK(t[2] == 1);
  CHECK(t[3] == 3);
  // The scales reproduce the scores exactly.
  CHECK(crmkit::segment::score_with_scale(frequency, rfm.frequency.scale) == rfm.frequency.scores);
  CHECK(crmkit::segment::score_with_scale(recency, rfm.recency.scale) == rfm.recency.scores);
  CHECK(crmkit::segment::score_with_scale(monetary, rfm.monetary.scale) == rfm.monetary.scores);
}

TEST_CASE("drop_edges: duplicate quantile edges merge bins (pandas qcut duplicates='drop')") {
  const auto rfm = score(tie_policy::drop_edges);
  // Sorted F = 1,1,1,1,1,2,2,3,5,8; edges at virtual indexes 0, 1.8, 3.6, 5.4, 7.2, 9 are
  // 1, 1, 1, 2, 3 + 0.2 * (5 - 3) = 3.4, 8: unique 1, 2, 3.4, 8, so three bins.
  CHECK(rfm.frequency.scale.bins == 3);
  CHECK(rfm.frequency.scale.requested_bins == 5);
  REQUIRE(rfm.frequency.scale.thresholds.size() == 2);
  CHECK(rfm.frequency.scale.thresholds[0] == 2);
  CHECK(rfm.frequency.scale.thresholds[1] == doctest::Approx(3.4));
  CHECK(rfm.frequency.scores == scores{1, 1, 1, 1, 1, 1, 1, 2, 3, 3});
  CHECK(crmkit::segment::score_with_scale(frequency, rfm.frequency.scale) == rfm.frequency.scores);
}

TEST_CASE("fixed_thresholds: the caller's cut points, recency inverted") {
  crmkit::segment::rfm_options options;
  options.ties = tie_policy::fixed_thresholds;
  options.recency_thresholds = {1, 7, 14, 60};
  options.frequency_thresholds = {1, 2};
  options.monetary_thresholds = {25};
  const auto rfm = crmkit::segment::score_rfm(recency, frequency, monetary, options);
  // 0 -> bin 1 -> 5; 3 -> bin 2 -> 4; 10 -> bin 3 -> 3; 30 -> bin 4 -> 2; 90 -> bin 5 -> 1.
  CHECK(rfm.recency.scores == scores{5, 5, 4, 4, 4, 3, 3, 2, 2, 1});
  CHECK(rfm.frequency.scores == scores{1, 1, 1, 1, 1, 2, 2, 3, 3, 3});
  CHECK(rfm.frequency.scale.bins == 3);
  CHECK(rfm.monetary.scores == scores{1, 1, 1, 1, 2, 2, 2, 2, 2, 2});
}

TEST_CASE("RFM bad input names the argument, row and value") {
  auto no_purchase = frequency;
  no_purchase[6] = 0;
  CHECK_THROWS_WITH_AS(crmkit::segment::score_rfm(recency, no_purchase, monetary),
                       "score_rfm: frequency[6] = 0 must be > 0: a customer without purchases "
                       "has no recency and no RFM score (for a lifetimes-style summary, use "
                       "include_first_transaction=True)",
                       crmkit::invalid_input);
  auto negative = recency;
  negative[2] = -1;
  CHECK_THROWS_WITH_AS(crmkit::segment::score_rfm(negative, frequency, monetary),
                       "score_rfm: recency[2] = -1 must be finite and >= 0", crmkit::invalid_input);
  auto missing = monetary;
  missing[9] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(crmkit::segment::score_rfm(recency, frequency, missing),
                       "score_rfm: monetary[9] = nan must be finite", crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::score_rfm({}, {}, {}), crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::score_rfm(recency, frequency, std::vector<double>{1}),
                  crmkit::invalid_input);
  crmkit::segment::rfm_options options;
  options.ties = tie_policy::fixed_thresholds;
  options.recency_thresholds = {5, 5};
  CHECK_THROWS_WITH_AS(crmkit::segment::score_rfm(recency, frequency, monetary, options),
                       "score_rfm: recency_thresholds[1] = 5 must be greater than "
                       "recency_thresholds[0] = 5 (thresholds strictly increase)",
                       crmkit::invalid_input);
  options.ties = tie_policy::average_rank;
  options.bins = 0;
  CHECK_THROWS_AS(crmkit::segment::score_rfm(recency, frequency, monetary, options),
                  crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::parse_tie_policy("first"), crmkit::invalid_input);
}

TEST_CASE("the built-in rule sets pass the checker, or their gaps are the documented ones") {
  using crmkit::segment::check_rule_set;
  // The R x F grid and the Chinese map cover every cell exactly once.
  CHECK(check_rule_set(crmkit::segment::rf_grid_segments()).clean());
  const auto chinese = crmkit::segment::chinese_value_segments();
  CHECK(check_rule_set(chinese).clean());
  CHECK(chinese.rules.size() == 8);
  CHECK(chinese.rules[0].name == "重要价值客户");
  CHECK(chinese.rules[0].english_name == "Important value");
  // PyMC-Marketing lists 46 of the 64 quartile cells, each once: 18 cells are "Other".
  const auto pymc = check_rule_set(crmkit::segment::pymc_marketing_segments());
  CHECK(pymc.cells == 64);
  CHECK(pymc.uncovered.size() == 18);
  CHECK(pymc.overlaps.empty());
  CHECK(pymc.unreachable.empty());
  // The R rfm map leaves 46 of 125 cells to "Other", and under first match four rules never
  // win: New Customers (4-5/1/1) and Promising (3-4/1/1) lie inside Potential Loyalist
  // (3-5/1-3/1-3), Can't Lose Them (1/4-5/4-5) inside At Risk (1-2/2-5/2-5), and Hibernating's
  // R = 2 cells go to About To Sleep or At Risk, its R = 3 cells to Potential Loyalist.
  const auto package = crmkit::segment::rfm_package_segments();
  const auto report = check_rule_set(package);
  CHECK(report.uncovered.size() == 46);
  CHECK_FALSE(report.overlaps.empty());
  CHECK(report.unreachable == std::vector<std::size_t>{3, 4, 8, 9});
  CHECK(package.rules[9].name == "Hibernating");
}

TEST_CASE("first versus last match: 444 is a Champion first, Need Attention last") {
  // 444 lies in Champions (4-5/4-5/4-5), Loyal Customers (2-4/3-4/4-5) and Need Attention
  // (3-4/3-4/3-4).
  const std::vector<std::int32_t> r{4, 1, 5}, f{4, 1, 5}, m{4, 1, 5};
  auto first = crmkit::segment::rfm_package_segments(crmkit::segment::match_policy::first);
  auto last = crmkit::segment::rfm_package_segments(crmkit::segment::match_policy::last);
  CHECK(crmkit::segment::assign_segments(first, r, f, m) == std::vector<std::int32_t>{0, 10, 0});
  CHECK(crmkit::segment::assign_segments(last, r, f, m) == std::vector<std::int32_t>{5, 10, 0});
  // A cell outside every box is unmatched (-1): 5/2/5 (Potential Loyalist needs M <= 3).
  CHECK(crmkit::segment::assign_segments(
            first, std::vector<std::int32_t>{5}, std::vector<std::int32_t>{2},
            std::vector<std::int32_t>{5}) == std::vector<std::int32_t>{-1});
}

TEST_CASE("user rules are validated") {
  crmkit::segment::rfm_rule_set rules{"mine", 3, {{"high", {{1, 4, 1, 3, 1, 3}}, {}}}, {}, "Other"};
  CHECK_THROWS_WITH_AS(crmkit::segment::check_rule_set(rules),
                       "rfm_rule_set: rule 0 ('high') box 0: recency range 1..4 must lie within "
                       "1..3 and not be empty",
                       crmkit::invalid_input);
  rules.rules[0].boxes[0].recency_high = 3;
  const auto report = crmkit::segment::check_rule_set(rules);
  CHECK(report.clean());
  CHECK(report.cells_won == std::vector<std::size_t>{27});
  CHECK_THROWS_WITH_AS(crmkit::segment::assign_segments(rules, std::vector<std::int32_t>{1, 4},
                                                        std::vector<std::int32_t>{1, 1},
                                                        std::vector<std::int32_t>{1, 1}),
                       "assign_segments: recency[1] = 4 is outside the rule set's scale 1..3",
                       crmkit::invalid_input);
}

TEST_CASE("segment summary: counts, shares, means and revenue per segment") {
  const std::vector<std::int32_t> segments{1, 0, 1, -1};
  const std::vector<double> r{10, 20, 30, 40}, f{1, 2, 3, 4}, m{5, 6, 7, 8}, revenue{5, 12, 21, 32};
  const auto rows = crmkit::segment::segment_summary(segments, r, f, m, revenue);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].segment == 0);
  CHECK(rows[0].count == 1);
  CHECK(rows[1].segment == 1);
  CHECK(rows[1].count == 2);
  CHECK(rows[1].share == 0.5);
  CHECK(rows[1].mean_recency == 20);
  CHECK(rows[1].mean_monetary == 6);
  CHECK(rows[1].revenue == 26);
  CHECK(rows[1].revenue_share == doctest::Approx(26.0 / 70));
  CHECK(rows[2].segment == -1);
  CHECK(rows[2].revenue_share == doctest::Approx(32.0 / 70));
}

TEST_CASE("value tiers of a histogram are those of its customers") {
  // The customers of the case below as a histogram: 100, 50 x2, 30, 10, 5 x2, 0.
  const std::vector<double> values{5, 100, 50, 0, 30, 50, 10, 5};
  const std::vector<double> distinct{100, 50, 30, 10, 5, 0};
  const std::vector<std::int64_t> counts{1, 2, 1, 1, 2, 1};
  const std::vector<double> abc{0.8, 0.95};
  for (const auto basis :
       {crmkit::segment::tier_basis::value_share, crmkit::segment::tier_basis::population_share}) {
    const auto rows = crmkit::segment::value_tiers(values, abc, basis);
    const auto histogram = crmkit::segment::value_tiers_of_histogram(distinct, counts, abc, basis);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const auto k = static_cast<std::size_t>(
          std::find(distinct.begin(), distinct.end(), values[i]) - distinct.begin());
      CHECK(histogram.tiers[k] == rows.tiers[i]);
    }
    CHECK(histogram.counts == rows.counts);
    CHECK(histogram.value_shares == rows.value_shares);
  }
  CHECK_THROWS_WITH_AS(crmkit::segment::value_tiers_of_histogram(
                           std::vector<double>{3, 3}, std::vector<std::int64_t>{1, 1}, abc,
                           crmkit::segment::tier_basis::value_share),
                       doctest::Contains("values[1] = 3 must be below values[0] = 3"),
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(crmkit::segment::value_tiers_of_histogram(
                           std::vector<double>{3, 2}, std::vector<std::int64_t>{1, 0}, abc,
                           crmkit::segment::tier_basis::value_share),
                       doctest::Contains("counts[1] = 0 must be at least 1"),
                       crmkit::invalid_input);
}

TEST_CASE("value tiers of several splits ranked once are each split's own, bit for bit") {
  // Ties, a zero and a spread of magnitudes: each split's result is compared with its own call.
  std::vector<double> values;
  for (int i = 0; i < 500; ++i) values.push_back(std::ldexp(1.0 + (i * 37 % 101) / 7.0, i % 23 - 11));
  values.push_back(0);
  values.push_back(values[3]);
  using crmkit::segment::tier_basis;
  const std::vector<crmkit::segment::tier_split> splits{
      {{0.8, 0.95}, tier_basis::value_share}, {{0.2, 0.5}, tier_basis::population_share},
      {{0.5}, tier_basis::value_share}};
  const auto together = crmkit::segment::value_tiers(values, splits);
  REQUIRE(together.size() == splits.size());
  for (std::size_t k = 0; k < splits.size(); ++k) {
    const auto alone = crmkit::segment::value_tiers(values, splits[k].cuts, splits[k].basis);
    CHECK(together[k].tiers == alone.tiers);
    CHECK(together[k].counts == alone.counts);
    CHECK(together[k].value_shares == alone.value_shares);
    CHECK(together[k].lowest_values == alone.lowest_values);
  }
  // The tiers differ between the splits (so the comparison above could tell them apart).
  CHECK(together[0].tiers != together[1].tiers);
  const std::vector<crmkit::segment::tier_split> bad{{{0.5}, tier_basis::value_share},
                                                     {{0.6, 0.4}, tier_basis::value_share}};
  CHECK_THROWS_WITH_AS(crmkit::segment::value_tiers(values, bad),
                       doctest::Contains("cuts[1] = 0.4 must lie in (0, 1)"),
                       crmkit::invalid_input);
}

TEST_CASE("value tiers of buckets split where a tier changes equal the tiers of the values") {
  // Two places hold the values; the driver splits the buckets it is asked to, down to single
  // values if need be (1 + k·2^-45 share their top 48 bits in groups of 128).
  std::vector<double> values;
  for (int k = 0; k < 3000; ++k) values.push_back(1.0 + k * std::ldexp(1.0, -45));
  for (int k = 0; k < 500; ++k) values.push_back(k % 7 == 0 ? 0.0 : std::ldexp(1.0 + k, k % 40));
  const std::span<const double> all(values);
  const auto first = all.first(1234);
  const auto second = all.subspan(1234);
  const std::vector<double> abc{0.8, 0.95};
  for (const auto basis :
       {crmkit::segment::tier_basis::value_share, crmkit::segment::tier_basis::population_share}) {
    const auto expected = crmkit::segment::value_tiers(values, abc, basis);
    std::vector<crmkit::segment::value_bucket> buckets;
    const auto gather = [&](std::span<const std::int32_t> widths,
                            std::span<const std::uint64_t> keys) {
      for (const auto part : {first, second}) {
        for (const auto& b : crmkit::segment::value_buckets(part, widths, keys)) buckets.push_back(b);
      }
    };
    gather({}, {});
    int rounds = 0;
    for (;;) {
      const auto found = crmkit::segment::value_tiers_of_buckets(buckets, abc, basis);
      if (found.split.empty()) {
        CHECK(found.result.counts == expected.counts);
        CHECK(found.result.value_shares == expected.value_shares);
        CHECK(found.result.lowest_values == expected.lowest_values);
        break;
      }
      REQUIRE(++rounds <= 3);
      std::vector<std::int32_t> widths;
      std::vector<std::uint64_t> keys;
      for (const auto& b : found.split) {
        widths.push_back(b.width);
        keys.push_back(b.key);
        std::erase_if(buckets, [&](const auto& x) { return x.width == b.width && x.key == b.key; });
      }
      gather(widths, keys);
    }
    // By population the 80 % cut falls among the values near 1: split at widths 16, 32, 48.
    if (basis == crmkit::segment::tier_basis::population_share) CHECK(rounds == 3);
  }
  CHECK_THROWS_WITH_AS(crmkit::segment::value_buckets(std::vector<double>{1, -2},
                                                      std::vector<std::int32_t>{},
                                                      std::vector<std::uint64_t>{}),
                       doctest::Contains("values[1] = -2 must be finite and >= 0"),
                       crmkit::invalid_input);
}

TEST_CASE("value tiers by value share and by population share") {
  // Total 250. Ranked 100, 50, 50, 30, 10, 5, 5, 0: the value above each is 0, 100, (tie),
  // 200, 230, 240, (tie), 250, i.e. shares 0, .4, -, .8, .92, .96, -, 1: with cuts .8 and .95
  // the tiers are A A A B B C C C (the crossing customer 30 opens B because .8 is not < .8).
  const std::vector<double> values{5, 100, 50, 0, 30, 50, 10, 5};
  const std::vector<double> abc{0.8, 0.95};
  const auto by_value =
      crmkit::segment::value_tiers(values, abc, crmkit::segment::tier_basis::value_share);
  CHECK(by_value.tiers == std::vector<std::int32_t>{2, 0, 0, 2, 1, 0, 1, 2});
  CHECK(by_value.counts == std::vector<std::size_t>{3, 2, 3});
  CHECK(by_value.value_shares[0] == doctest::Approx(0.8));
  CHECK(by_value.value_shares[1] == doctest::Approx(0.16));
  CHECK(by_value.lowest_values[0] == 50);
  // By population with cuts .2 and .5 (20 / 30 / 50 %): positions 0 and 1 have 0 and 1/8 of
  // customers above (A), the second 50 ties with the first (A), 30 has 3/8 (B), 10 has 4/8 (C).
  const std::vector<double> hml{0.2, 0.5};
  const auto by_people =
      crmkit::segment::value_tiers(values, hml, crmkit::segment::tier_basis::population_share);
  CHECK(by_people.tiers == std::vector<std::int32_t>{2, 0, 0, 2, 1, 0, 2, 2});
  CHECK_THROWS_WITH_AS(crmkit::segment::value_tiers(std::vector<double>{1, -2}, abc,
                                                    crmkit::segment::tier_basis::value_share),
                       "value_tiers: values[1] = -2 must be finite and >= 0",
                       crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::value_tiers(std::vector<double>{0, 0}, abc,
                                               crmkit::segment::tier_basis::value_share),
                  crmkit::invalid_input);
  CHECK_THROWS_AS(crmkit::segment::value_tiers(values, std::vector<double>{0.5, 0.4},
                                               crmkit::segment::tier_basis::value_share),
                  crmkit::invalid_input);
}

TEST_CASE("feature scaler: log1p, standard and robust scaling invert exactly") {
  crmkit::segment::row_matrix x(4, 3);
  x << 1, 0, 7,  //
      2, 1, 7,   //
      3, 3, 7,   //
      4, 7, 7;
  const std::vector<std::uint8_t> log1p{0, 1, 0};
  const auto standard =
      crmkit::segment::fit_feature_scaler(x, crmkit::segment::scaling::standard, log1p);
  // Column 0: mean 2.5, population sd sqrt(1.25). Column 1 after log1p: log 1, 2, 4, 8.
  CHECK(standard.center[0] == 2.5);
  CHECK(standard.scale[0] == doctest::Approx(std::sqrt(1.25)));
  CHECK(standard.center[1] == doctest::Approx(std::log(64.0) / 4));
  // Column 2 is constant: scale 1, listed.
  CHECK(standard.scale[2] == 1);
  CHECK(standard.constant_columns == std::vector<std::size_t>{2});
  const auto y = standard.transform(x);
  CHECK(y(0, 0) == doctest::Approx(-1.5 / std::sqrt(1.25)));
  CHECK((standard.inverse_transform(y) - x).cwiseAbs().maxCoeff() < 1e-12);
  // Robust: median 2.5, quartiles at virtual indexes 0.75 and 2.25: 1.75 and 3.25.
  const auto robust = crmkit::segment::fit_feature_scaler(x, crmkit::segment::scaling::robust);
  CHECK(robust.center[0] == 2.5);
  CHECK(robust.scale[0] == 1.5);
  CHECK((robust.inverse_transform(robust.transform(x)) - x).cwiseAbs().maxCoeff() < 1e-12);
  crmkit::segment::row_matrix bad = x;
  bad(2, 1) = -1;
  CHECK_THROWS_WITH_AS(
      crmkit::segment::fit_feature_scaler(bad, crmkit::segment::scaling::standard, log1p),
      "feature_scaler: x[2, 1] = -1 (row 2, column 1) must be > -1 for log1p",
      crmkit::invalid_input);
}

TEST_CASE("cluster profile: size, share, mean and median per cluster") {
  crmkit::segment::row_matrix x(5, 1);
  x << 1, 2, 10, 3, 100;
  const std::vector<std::int32_t> labels{0, 0, 1, 0, 1};
  const auto profile = crmkit::segment::profile_clusters(x, labels, 3);
  CHECK(profile.sizes == std::vector<std::size_t>{3, 2, 0});
  CHECK(profile.shares[0] == doctest::Approx(0.6));
  CHECK(profile.means(0, 0) == 2);
  CHECK(profile.medians(1, 0) == 55);
  CHECK(std::isnan(profile.means(2, 0)));
  CHECK_THROWS_AS(crmkit::segment::profile_clusters(x, labels, 1), crmkit::invalid_input);
}

// Issue 13, defect 3: values whose sum passes the double range gave NaN shares (inf / inf).
TEST_CASE("value tiers: shares of values near the double range are those of the scaled values") {
  const std::vector<double> values{5e307, 1e308, 5e307, 0};  // sum 2e308 > DBL_MAX ≈ 1.797e308
  const std::vector<double> abc{0.5, 0.9};
  const auto huge =
      crmkit::segment::value_tiers(values, abc, crmkit::segment::tier_basis::value_share);
  // The same customers scaled by 1e-300 (exact ratios): 1e8 holds .5 (A), the two 5e7 .25 each.
  const auto small = crmkit::segment::value_tiers(std::vector<double>{5e7, 1e8, 5e7, 0}, abc,
                                                  crmkit::segment::tier_basis::value_share);
  CHECK(huge.tiers == small.tiers);
  CHECK(huge.counts == small.counts);
  for (std::size_t t = 0; t < huge.value_shares.size(); ++t) {
    CHECK(std::isfinite(huge.value_shares[t]));
    CHECK(huge.value_shares[t] == doctest::Approx(small.value_shares[t]).epsilon(1e-15));
  }
  CHECK(huge.value_shares[0] == doctest::Approx(0.5));
}

// Issue 13, defect 7: `--quantiles 1e9` asked for 10 GB of bins.
TEST_CASE("RFM bins beyond their limit are refused before any work") {
  const std::vector<double> values{1, 2, 3};
  CHECK_THROWS_WITH_AS(
      static_cast<void>(crmkit::segment::score_quantiles(
          values, 1'000'000'000, crmkit::segment::tie_policy::average_rank, true)),
      doctest::Contains("bins = 1000000000 exceeds its limit of 100 (see docs/limits.md)"),
      crmkit::invalid_input);
}

TEST_CASE("quantile_scale_of_histogram: the scale of the values from their histogram") {
  // frequency above as a histogram: 1 x5, 2 x2, 3, 5, 8.
  const std::vector<double> distinct{1, 2, 3, 5, 8};
  const std::vector<double> counts{5, 2, 1, 1, 1};
  for (const auto ties : {tie_policy::average_rank, tie_policy::drop_edges}) {
    const auto direct = crmkit::segment::score_quantiles(frequency, 5, ties, true);
    const auto merged =
        crmkit::segment::quantile_scale_of_histogram(distinct, counts, 5, ties, true);
    CHECK(merged.bins == direct.scale.bins);
    CHECK(merged.thresholds == direct.scale.thresholds);
    CHECK(crmkit::segment::score_with_scale(frequency, merged) == direct.scores);
  }
  // Two halves' histograms added give the same scale (the frequency column split 5 + 5).
  const std::vector<double> halves{1, 2, 3, 5, 8};
  const std::vector<double> summed{3 + 2, 0 + 2, 1, 1, 1};
  CHECK(crmkit::segment::quantile_scale_of_histogram(halves, summed, 5, tie_policy::average_rank,
                                                     true)
            .thresholds ==
        crmkit::segment::score_quantiles(frequency, 5, tie_policy::average_rank, true)
            .scale.thresholds);
  CHECK_THROWS_AS(crmkit::segment::quantile_scale_of_histogram(distinct, counts, 5,
                                                               tie_policy::rank_first, true),
                  crmkit::invalid_input);
  const std::vector<double> fractional{5, 2, 0.5, 1, 1};
  CHECK_THROWS_WITH_AS(crmkit::segment::quantile_scale_of_histogram(distinct, fractional, 5,
                                                                    tie_policy::average_rank, true),
                       doctest::Contains("counts[2]"), crmkit::invalid_input);
}
