#include <crmkit/survey/aggregate.hpp>
#include <crmkit/survey/sample.hpp>

#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace survey = crmkit::survey;

namespace {

constexpr std::int64_t seconds_per_day = 86'400;
constexpr std::int64_t day_2024_01_01 = 19723;  // (date(2024,1,1) - date(1970,1,1)).days

struct table {
  std::vector<double> scores;
  std::vector<double> weights;
  std::vector<std::int64_t> segment;  // 3 levels
  std::vector<std::int64_t> channel;  // 2 levels
  std::vector<std::int64_t> stamps;   // seconds, within Jan-Apr 2024 (121 days)
};

table random_table(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<int> score(0, 10);
  std::uniform_int_distribution<int> segment(0, 2);
  std::uniform_int_distribution<int> channel(0, 1);
  std::uniform_int_distribution<std::int64_t> second(0, 121 * seconds_per_day - 1);
  std::lognormal_distribution<double> weight(0.0, 0.5);
  table t;
  for (std::size_t i = 0; i < n; ++i) {
    t.scores.push_back(score(engine));
    t.weights.push_back(weight(engine));
    t.segment.push_back(segment(engine));
    // Segment 2 never uses channel 1, so those cells stay empty.
    t.channel.push_back(t.segment.back() == 2 ? 0 : channel(engine));
    t.stamps.push_back(day_2024_01_01 * seconds_per_day + second(engine));
  }
  return t;
}

survey::response_grouping by_segment_channel_month(const table& t) {
  survey::response_grouping grouping;
  grouping.codes = {t.segment, t.channel};
  grouping.levels = {3, 2};
  grouping.timestamps = t.stamps;
  grouping.period = crmkit::data::period_unit::month;
  return grouping;
}

std::int64_t month_of(std::int64_t stamp) {
  return crmkit::data::period_index(stamp, crmkit::data::period_unit::month);
}

bool same_bits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

}  // namespace

TEST_CASE("cells hold exactly the answers of their group and month; empty cells are reported") {
  const table t = random_table(20'000, 1);
  const auto out =
      survey::aggregate_nps(std::span<const double>(t.scores), {}, by_segment_channel_month(t));
  CHECK(out.groups == 6);
  CHECK(out.periods == 4);
  CHECK(out.first_period == 54 * 12);  // January 2024
  REQUIRE(out.cells.size() == 24);
  // Independent count: a plain loop over the rows.
  std::array<std::array<std::int64_t, 3>, 24> expected{};
  for (std::size_t i = 0; i < t.scores.size(); ++i) {
    const auto cell = static_cast<std::size_t>((t.segment[i] * 2 + t.channel[i]) * 4 +
                                               (month_of(t.stamps[i]) - out.first_period));
    const int score = static_cast<int>(t.scores[i]);
    ++expected[cell][score >= 9 ? 0 : (score >= 7 ? 1 : 2)];
  }
  for (std::size_t cell = 0; cell < 24; ++cell) {
    CHECK(out.cells[cell].promoters == expected[cell][0]);
    CHECK(out.cells[cell].passives == expected[cell][1]);
    CHECK(out.cells[cell].detractors == expected[cell][2]);
  }
  const std::size_t segment2_channel1 = (2 * 2 + 1) * 4;
  CHECK(out.cells[segment2_channel1].n == 0);
  CHECK(std::isnan(out.cells[segment2_channel1].score));
  CHECK(out.cells[segment2_channel1].small_sample);
  CHECK(out.rows.rows == 20'000);
  CHECK(out.rows.bad == 0);
}

TEST_CASE("rolling windows merge consecutive periods and keep only complete windows") {
  const table t = random_table(5'000, 2);
  auto grouping = by_segment_channel_month(t);
  const auto monthly = survey::aggregate_nps(std::span<const double>(t.scores), {}, grouping);
  grouping.window = 3;
  const auto rolling = survey::aggregate_nps(std::span<const double>(t.scores), {}, grouping);
  CHECK(rolling.periods == 2);
  CHECK(rolling.first_period == monthly.first_period + 2);
  for (std::size_t g = 0; g < 6; ++g) {
    for (std::size_t w = 0; w < 2; ++w) {
      std::int64_t promoters = 0;
      std::int64_t n = 0;
      for (std::size_t k = 0; k < 3; ++k) {
        promoters += monthly.cells[g * 4 + w + k].promoters;
        n += monthly.cells[g * 4 + w + k].n;
      }
      CHECK(rolling.cells[g * 2 + w].promoters == promoters);
      CHECK(rolling.cells[g * 2 + w].n == n);
    }
  }
  grouping.window = 5;
  CHECK_THROWS_AS((void)survey::aggregate_nps(std::span<const double>(t.scores), {}, grouping),
                  crmkit::invalid_input);
}

TEST_CASE("grouped results equal the one-sample result of each group's answers") {
  const table t = random_table(3'000, 3);
  survey::response_grouping grouping;
  grouping.codes = {t.segment};
  grouping.levels = {3};
  const auto out = survey::aggregate_nps(std::span<const double>(t.scores),
                                         std::span<const double>(t.weights), grouping);
  for (std::int64_t s = 0; s < 3; ++s) {
    std::vector<double> scores;
    std::vector<double> weights;
    for (std::size_t i = 0; i < t.scores.size(); ++i) {
      if (t.segment[i] != s) continue;
      scores.push_back(t.scores[i]);
      weights.push_back(t.weights[i]);
    }
    const auto alone =
        survey::nps(std::span<const double>(scores), std::span<const double>(weights));
    const auto& cell = out.cells[static_cast<std::size_t>(s)];
    CHECK(same_bits(cell.score, alone.score));
    CHECK(same_bits(cell.ci.upper, alone.ci.upper));
    CHECK(same_bits(cell.n_effective, alone.n_effective));
  }
}

TEST_CASE("results do not depend on the thread count, bootstrap included") {
  const table t = random_table(40'000, 4);
  survey::nps_options options;
  options.method = survey::nps_interval_method::bootstrap;
  options.resamples = 200;
  const auto run = [&](std::size_t threads) {
    crmkit::set_num_threads(threads);
    return survey::aggregate_nps(std::span<const double>(t.scores),
                                 std::span<const double>(t.weights), by_segment_channel_month(t),
                                 options);
  };
  const std::size_t saved = crmkit::num_threads();
  const auto one = run(1);
  const auto four = run(4);
  crmkit::set_num_threads(saved);
  for (std::size_t cell = 0; cell < one.cells.size(); ++cell) {
    CHECK(same_bits(one.cells[cell].score, four.cells[cell].score));
    CHECK(same_bits(one.cells[cell].ci.lower, four.cells[cell].ci.lower));
    CHECK(same_bits(one.cells[cell].ci.upper, four.cells[cell].ci.upper));
  }
}

TEST_CASE("cells from merged answer counts equal the aggregated cells, bootstrap included") {
  const table t = random_table(4'000, 5);
  survey::nps_options options;
  options.method = survey::nps_interval_method::bootstrap;
  options.resamples = 200;
  const auto out = survey::aggregate_nps(std::span<const double>(t.scores), {},
                                         by_segment_channel_month(t), options);
  // Tally the answers per cell and category independently of aggregate_nps, as a cluster would.
  std::array<std::vector<std::int64_t>, 3> counts;
  for (auto& column : counts) column.assign(out.cells.size(), 0);
  for (std::size_t i = 0; i < t.scores.size(); ++i) {
    const auto group = static_cast<std::size_t>(t.segment[i] * 2 + t.channel[i]);
    const auto cell =
        group * out.periods + static_cast<std::size_t>(month_of(t.stamps[i]) - out.first_period);
    const auto category = survey::nps_category_of(static_cast<std::int64_t>(t.scores[i]));
    ++counts[static_cast<std::size_t>(category)][cell];
  }
  const auto merged = survey::summarize_nps_counts(counts[0], counts[1], counts[2], options);
  REQUIRE(merged.size() == out.cells.size());
  std::size_t empty = 0;
  for (std::size_t cell = 0; cell < merged.size(); ++cell) {
    const auto& a = merged[cell];
    const auto& b = out.cells[cell];
    empty += b.n == 0 ? 1 : 0;
    CHECK(a.n == b.n);
    CHECK(a.promoters == b.promoters);
    CHECK(a.detractors == b.detractors);
    CHECK(a.small_sample == b.small_sample);
    CHECK(same_bits(a.score, b.score));
    CHECK(same_bits(a.standard_error, b.standard_error));
    CHECK(same_bits(a.ci.lower, b.ci.lower));
    CHECK(same_bits(a.ci.upper, b.ci.upper));
  }
  CHECK(empty > 0);  // segment 2 never uses channel 1
  const std::vector<std::int64_t> one{1}, negative{-1};
  CHECK_THROWS_WITH_AS((void)survey::summarize_nps_counts(one, one, negative),
                       doctest::Contains("promoters[0] = -1 is negative"), crmkit::invalid_input);
  CHECK_THROWS_AS((void)survey::summarize_nps_counts(one, one, std::vector<std::int64_t>{}),
                  crmkit::invalid_input);
}

TEST_CASE("tables tallied from parts with other period ranges merge into the aggregated cells") {
  const table t = random_table(6'000, 9);
  // Parts by month, merged in this order: February and April, January, no answers, March; so
  // the merged period range grows at its start, a table without dates is merged, and March
  // fills a gap.
  const std::int64_t january = 54 * 12;
  std::array<table, 4> parts;
  for (std::size_t i = 0; i < t.scores.size(); ++i) {
    const std::int64_t month = month_of(t.stamps[i]) - january;
    table& part = parts[month == 0 ? 1 : (month == 2 ? 3 : 0)];
    part.scores.push_back(t.scores[i]);
    part.weights.push_back(t.weights[i]);
    part.segment.push_back(t.segment[i]);
    part.channel.push_back(t.channel[i]);
    part.stamps.push_back(t.stamps[i]);
  }
  REQUIRE(!parts[3].scores.empty());
  const survey::rating_scale scale = survey::csat_scale();
  std::vector<double> ratings = t.scores;
  for (auto& score : ratings) score = 1 + std::fmod(score, 5);
  const auto rating_of = [](const table& part) {
    std::vector<double> out = part.scores;
    for (auto& score : out) score = 1 + std::fmod(score, 5);
    return out;
  };
  auto nps = survey::tally_nps<true>(std::span<const double>(parts[0].scores),
                                     std::span<const double>(parts[0].weights),
                                     by_segment_channel_month(parts[0]));
  std::array<std::vector<double>, 4> part_ratings;
  for (std::size_t k = 0; k < parts.size(); ++k) part_ratings[k] = rating_of(parts[k]);
  auto rating = survey::tally_rating<true>(std::span<const double>(part_ratings[0]),
                                           std::span<const double>(parts[0].weights),
                                           by_segment_channel_month(parts[0]), scale);
  for (std::size_t k = 1; k < parts.size(); ++k) {
    survey::merge_cells(nps, survey::tally_nps<true>(std::span<const double>(parts[k].scores),
                                                     std::span<const double>(parts[k].weights),
                                                     by_segment_channel_month(parts[k])));
    survey::merge_cells(rating,
                        survey::tally_rating<true>(std::span<const double>(part_ratings[k]),
                                                   std::span<const double>(parts[k].weights),
                                                   by_segment_channel_month(parts[k]), scale));
  }
  CHECK(nps.rows.rows == t.scores.size());
  survey::response_grouping rolling = by_segment_channel_month(t);
  rolling.window = 2;
  const auto whole_nps = survey::aggregate_nps(std::span<const double>(t.scores),
                                               std::span<const double>(t.weights), rolling);
  const auto merged_nps = survey::summarize_cells(nps, 2, survey::nps_options{});
  REQUIRE(merged_nps.cells.size() == whole_nps.cells.size());
  CHECK(merged_nps.first_period == whole_nps.first_period);
  for (std::size_t cell = 0; cell < whole_nps.cells.size(); ++cell) {
    CHECK(merged_nps.cells[cell].n == whole_nps.cells[cell].n);
    CHECK(same_bits(merged_nps.cells[cell].n_effective, whole_nps.cells[cell].n_effective));
    CHECK(same_bits(merged_nps.cells[cell].score, whole_nps.cells[cell].score));
    CHECK(same_bits(merged_nps.cells[cell].ci.lower, whole_nps.cells[cell].ci.lower));
  }
  const auto whole_rating =
      survey::aggregate_rating(std::span<const double>(ratings),
                               std::span<const double>(t.weights), by_segment_channel_month(t),
                               scale);
  const auto merged_rating = survey::summarize_cells(rating, 1, survey::interval_options{});
  REQUIRE(merged_rating.cells.size() == whole_rating.cells.size());
  for (std::size_t cell = 0; cell < whole_rating.cells.size(); ++cell) {
    const auto& a = merged_rating.cells[cell];
    const auto& b = whole_rating.cells[cell];
    CHECK(same_bits(a.mean.mean, b.mean.mean));
    CHECK(same_bits(a.mean.ci.upper, b.mean.ci.upper));
    CHECK(same_bits(a.favourable.share, b.favourable.share));
    CHECK(same_bits(a.favourable.ci.lower, b.favourable.ci.lower));
  }
  survey::nps_options bootstrap;
  bootstrap.method = survey::nps_interval_method::bootstrap;
  CHECK_THROWS_WITH_AS((void)survey::summarize_cells(nps, 1, bootstrap),
                       doctest::Contains("resamples the answers themselves"),
                       crmkit::invalid_input);
  auto other = survey::tally_nps<true>(std::span<const double>(parts[0].scores),
                                       std::span<const double>(parts[0].weights), {});
  CHECK_THROWS_AS(survey::merge_cells(nps, other), crmkit::invalid_input);
}

TEST_CASE("bad rows raise with their count and the first one, or are skipped and reported") {
  std::vector<double> scores{10, 11, 4.5, std::nan(""), 3, -1};
  std::vector<double> weights{1, 1, 1, 1, -2, 1};
  try {
    (void)survey::aggregate_nps(std::span<const double>(scores), std::span<const double>(weights),
                                {});
    FAIL("expected invalid_input");
  } catch (const crmkit::invalid_input& error) {
    const std::string message = error.what();
    CHECK(message.find("5 of 6 rows are invalid") != std::string::npos);
    CHECK(message.find("row 1: scores[1] = 11 is outside the scale 0..10") != std::string::npos);
  }
  const auto skipped =
      survey::aggregate_nps(std::span<const double>(scores), std::span<const double>(weights), {},
                            {}, crmkit::data::bad_row_policy::skip);
  CHECK(skipped.rows.bad == 5);
  CHECK(skipped.rows.first_bad == 1);
  CHECK(skipped.cells.front().n == 1);
  CHECK(skipped.cells.front().promoters == 1);

  const auto describe = [](std::vector<double> s, std::vector<double> w) {
    return survey::aggregate_nps(std::span<const double>(s), std::span<const double>(w), {}, {},
                                 crmkit::data::bad_row_policy::skip)
        .rows.first_problem;
  };
  CHECK(describe({4.5}, {}) == "scores[0] = 4.5 is not an integer");
  CHECK(describe({std::nan("")}, {}) == "scores[0] is missing (NaN)");
  CHECK(describe({5}, {-2}).find("weights[0] = -2 is not a valid weight") == 0);
  CHECK(describe({5}, {std::nan("")}).find("weights[0] = nan") == 0);
}

TEST_CASE("missing dates and group codes are bad rows") {
  const std::vector<std::int64_t> scores{9, 9, 9};
  const std::vector<std::int64_t> stamps{0, std::numeric_limits<std::int64_t>::min(), 86'400};
  const std::vector<std::int64_t> codes{0, 0, -1};
  survey::response_grouping grouping;
  grouping.codes = {codes};
  grouping.levels = {1};
  grouping.timestamps = stamps;
  grouping.period = crmkit::data::period_unit::day;
  const auto out = survey::aggregate_nps(std::span<const std::int64_t>(scores), {}, grouping, {},
                                         crmkit::data::bad_row_policy::skip);
  CHECK(out.rows.bad == 2);
  CHECK(out.rows.first_problem == "timestamps[1] is missing (NaT)");
  CHECK(out.periods == 2);
  CHECK(out.cells[0].n == 1);
  CHECK(out.cells[1].n == 0);
}

TEST_CASE("rating aggregation groups CSAT answers") {
  const std::vector<std::int64_t> scores{5, 4, 1, 2, 5, 5};
  const std::vector<std::int64_t> codes{0, 0, 0, 1, 1, 1};
  survey::response_grouping grouping;
  grouping.codes = {codes};
  grouping.levels = {3};
  const auto out = survey::aggregate_rating(std::span<const std::int64_t>(scores), {}, grouping,
                                            survey::csat_scale());
  REQUIRE(out.cells.size() == 3);
  CHECK(out.cells[0].favourable.share == doctest::Approx(2.0 / 3));
  CHECK(out.cells[1].mean.mean == doctest::Approx(4.0));
  CHECK(out.cells[2].mean.n == 0);
  CHECK(std::isnan(out.cells[2].favourable.share));
}

TEST_CASE("argument errors name the argument") {
  const std::vector<double> scores{5, 6};
  const std::vector<double> short_weights{1};
  CHECK_THROWS_WITH_AS((void)survey::aggregate_nps(std::span<const double>(scores),
                                                   std::span<const double>(short_weights), {}),
                       doctest::Contains("weights"), crmkit::invalid_input);
  survey::response_grouping grouping;
  grouping.window = 2;
  CHECK_THROWS_WITH_AS((void)survey::aggregate_nps(std::span<const double>(scores), {}, grouping),
                       doctest::Contains("window"), crmkit::invalid_input);
  CHECK_THROWS_AS((void)survey::nps(std::span<const double>()), crmkit::invalid_input);
}
