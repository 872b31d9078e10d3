// The calibration check in parts (crmkit/pipeline/calibration.hpp): counts of customer subsets
// merged in any order give the whole log's counts and tables, bit for bit.
#include <crmkit/core/error.hpp>
#include <crmkit/data/csv_writer.hpp>
#include <crmkit/data/summary.hpp>
#include <crmkit/pipeline.hpp>
#include <crmkit/pipeline/calibration.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

namespace pl = crmkit::pipeline;
namespace data = crmkit::data;

namespace {

const data::transaction_log& demo() {
  static const data::transaction_log log = pl::demo_log({.customers = 2000, .seed = 11});
  return log;
}

/** The rows of the customers whose key is `part` modulo `parts`, in the log's order. */
data::transaction_log part_of(const data::transaction_log& log, std::int64_t part,
                              std::int64_t parts) {
  data::transaction_log out;
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log.customer[i] % parts != part) continue;
    out.customer.push_back(log.customer[i]);
    out.timestamp.push_back(log.timestamp[i]);
    out.amount.push_back(log.amount[i]);
  }
  return out;
}

bool same(const pl::calibration_counts& a, const pl::calibration_counts& b) {
  return a.frequency == b.frequency && a.recency == b.recency && a.age == b.age &&
         a.customers == b.customers && a.holdout == b.holdout && a.births == b.births &&
         a.repeats == b.repeats;
}

std::int64_t total(const std::vector<std::int64_t>& values) {
  return std::accumulate(values.begin(), values.end(), std::int64_t{0});
}

struct whole_log {
  pl::customer_summaries customers;
  pl::calibration_split split;
  pl::calibration_counts counts;
};

const whole_log& whole() {
  static const whole_log found = [] {
    whole_log out;
    out.customers = pl::summarize_customers(demo(), {});
    std::vector<pl::note> notes;
    out.split = *pl::split_for_calibration(out.customers.first_day, out.customers.last_day,
                                           out.customers.last_timestamp, {}, notes);
    out.counts = pl::count_calibration(*out.customers.days, out.split);
    return out;
  }();
  return found;
}

}  // namespace

TEST_CASE("count_calibration: the histogram and daily counts of the whole log") {
  const auto& [customers, split, counts] = whole();
  // Independently: lifetimes' calibration_and_holdout_data at the split, in days.
  data::holdout_options options;
  options.calibration_period_end = (split.first_day + split.calibration_day) * data::seconds_per_day;
  const auto cut = data::calibration_and_holdout(demo(), options);
  const auto& cal = cut.calibration;
  CHECK(total(counts.customers) == static_cast<std::int64_t>(cal.frequency.size()));
  CHECK(static_cast<double>(total(counts.holdout)) ==
        std::accumulate(cut.frequency_holdout.begin(), cut.frequency_holdout.end(), 0.0));
  double frequency = 0, recency = 0, age = 0;
  for (std::size_t i = 0; i < counts.frequency.size(); ++i) {
    const auto n = static_cast<double>(counts.customers[i]);
    frequency += n * static_cast<double>(counts.frequency[i]);
    recency += n * static_cast<double>(counts.recency[i]);
    age += n * static_cast<double>(counts.age[i]);
    if (i > 0) {
      CHECK(std::tie(counts.frequency[i - 1], counts.recency[i - 1], counts.age[i - 1]) <
            std::tie(counts.frequency[i], counts.recency[i], counts.age[i]));
    }
  }
  CHECK(frequency == std::accumulate(cal.frequency.begin(), cal.frequency.end(), 0.0));
  CHECK(recency == std::accumulate(cal.recency.begin(), cal.recency.end(), 0.0));
  CHECK(age == std::accumulate(cal.T.begin(), cal.T.end(), 0.0));
  // Every customer is born once; every repeat purchase day is counted once.
  CHECK(counts.births.size() == static_cast<std::size_t>(split.last_day - split.first_day + 1));
  CHECK(total(counts.births) == static_cast<std::int64_t>(customers.size()));
  CHECK(static_cast<double>(total(counts.repeats)) ==
        std::accumulate(customers.frequency.begin(), customers.frequency.end(), 0.0));
}

TEST_CASE("counts of 1, 3 and 7 customer parts, merged in any order, give the log's tables") {
  const auto& [customers, split, counts] = whole();
  std::vector<pl::note> notes;
  const auto checked = pl::calibration_check(demo(), customers, {}, notes);
  REQUIRE(checked.has_value());
  for (const std::int64_t parts : {1, 3, 7}) {
    CAPTURE(parts);
    std::vector<pl::calibration_counts> found;
    for (std::int64_t p = 0; p < parts; ++p) {
      found.push_back(pl::count_calibration(part_of(demo(), p, parts), split));
    }
    const auto merged = pl::merge_calibration_counts(found, split);
    CHECK(same(merged, counts));
    std::reverse(found.begin(), found.end());
    CHECK(same(pl::merge_calibration_counts(found, split), counts));
    // Merging merged counts again (a tree reduction) changes nothing.
    const std::vector<pl::calibration_counts> twice{merged, pl::count_calibration(
                                                                data::transaction_log{}, split)};
    CHECK(same(pl::merge_calibration_counts(twice, split), counts));
    std::vector<pl::note> own;
    const auto tables = pl::calibration_tables_of(merged, split, {}, own);
    REQUIRE(tables.has_value());
    CHECK(data::format_csv(tables->calibration_vs_holdout) ==
          data::format_csv(checked->calibration_vs_holdout));
    CHECK(data::format_csv(tables->cumulative_transactions) ==
          data::format_csv(checked->cumulative_transactions));
    CHECK(tables->calibration_period == checked->calibration_period);
  }
}

TEST_CASE("merge_calibration_counts names a malformed part and its column") {
  const auto& [customers, split, counts] = whole();
  auto negative = counts;
  negative.holdout[2] = -1;
  const std::vector<pl::calibration_counts> parts{counts, negative};
  CHECK_THROWS_WITH_AS(pl::merge_calibration_counts(parts, split),
                       "merge_calibration_counts: part 1 has the negative count -1 in column "
                       "'holdout' at row 2",
                       crmkit::invalid_input);
  auto short_days = counts;
  short_days.repeats.pop_back();
  const std::vector<pl::calibration_counts> other{short_days};
  CHECK_THROWS_WITH_AS(
      pl::merge_calibration_counts(other, split),
      doctest::Contains(("part 0 has " + std::to_string(counts.repeats.size() - 1) +
                         " days in column 'repeats', expected " +
                         std::to_string(counts.repeats.size()))
                            .c_str()),
      crmkit::invalid_input);
  auto ragged = counts;
  ragged.age.pop_back();
  const std::vector<pl::calibration_counts> uneven{ragged};
  CHECK_THROWS_WITH_AS(pl::merge_calibration_counts(uneven, split),
                       doctest::Contains(("part 0 has " + std::to_string(counts.age.size() - 1) +
                                          " rows in column 'age'")
                                             .c_str()),
                       crmkit::invalid_input);
}

TEST_CASE("count_calibration rejects purchases outside the split's days") {
  const auto& [customers, split, counts] = whole();
  auto later = split;
  later.first_day += 1;  // the log's first purchase day is now before the split's first day
  CHECK_THROWS_WITH_AS(pl::count_calibration(demo(), later),
                       doctest::Contains("is before the split's first day"),
                       crmkit::invalid_input);
  auto earlier = split;
  earlier.last_day -= 1;
  CHECK_THROWS_WITH_AS(pl::count_calibration(demo(), earlier),
                       doctest::Contains("outside the split's days"), crmkit::invalid_input);
}

TEST_CASE("split_for_calibration: a short log gets a note and no split") {
  const auto& [customers, split, counts] = whole();
  std::vector<pl::note> notes;
  // 60 days of 7: 8.6 periods, holdout 2, calibration 6.6 < 8.
  CHECK_FALSE(pl::split_for_calibration(customers.first_day, customers.first_day + 60,
                                        (customers.first_day + 60) * data::seconds_per_day, {},
                                        notes)
                  .has_value());
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].code == pl::note_code::log_too_short_for_calibration);
  // The whole demo log: the holdout is min(max_holdout_periods, span / 3) whole periods.
  const pl::analysis_options options;
  const double span = static_cast<double>(split.last_day - split.first_day) / 7;
  const double holdout = std::min(options.max_holdout_periods, std::floor(span / 3));
  CHECK(split.calibration_day ==
        data::floor_div(customers.last_timestamp -
                            static_cast<std::int64_t>(holdout * 7 * data::seconds_per_day),
                        data::seconds_per_day) -
            customers.first_day);
}
