#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/data/grouping.hpp"
#include "crmkit/data/transaction_log.hpp"
#include "crmkit/pipeline/options.hpp"
#include "crmkit/pipeline/result.hpp"
#include "crmkit/pipeline/steps.hpp"

/**
 * The calibration/holdout check (`calibration_check`, steps.hpp) in three parts, so that a log
 * spread over partitions (customers co-located) gets the single-machine tables bit for bit:
 *
 * 1. `split_for_calibration`: where the log is split, from its first and last timestamps alone;
 * 2. `count_calibration`: one part's additive counts — the calibration part compressed to a
 *    histogram of whole-day patterns (frequency, recency, age) with customer counts and summed
 *    holdout purchase days, and the tracking curve's daily births and repeat purchase days — and
 *    `merge_calibration_counts` to add parts (integer sums: exact in any order);
 * 3. `calibration_tables_of`: the refit on the merged histogram and both tables. Every sum over
 *    customers is an integer sum or an exact sum (`full_range_sum`) of per-pattern terms rounded
 *    once, so the tables depend only on the merged counts, not on how the customers were split.
 *
 * `calibration_check` is 1, 2 on the whole log, 3.
 */
namespace crmkit::pipeline {

/** Where the calibration check splits a log (days since 1970-01-01 and since the first day). */
struct calibration_split {
  std::int64_t first_day = 0;        ///< first transaction's day, days since 1970-01-01
  std::int64_t last_day = 0;         ///< last transaction's day (the observation end)
  std::int64_t calibration_day = 0;  ///< last calibration day, days since first_day
};

constexpr auto description(std::type_identity<calibration_split>) {
  using s = calibration_split;
  return std::tuple{
      describe::field{"first_day", &s::first_day, "first transaction's day, days since 1970-01-01"},
      describe::field{"last_day", &s::last_day, "last transaction's day (the observation end)"},
      describe::field{"calibration_day", &s::calibration_day,
                      "last calibration day, days since first_day"}};
}

/**
 * The split of a log whose transactions run from `first_day` to `last_timestamp` (seconds since
 * 1970-01-01; `last_day` its day): with span S = (last_day − first_day) / days_per_period
 * periods, the holdout is H = min(max_holdout_periods, ⌊S / 3⌋) periods and the calibration ends
 * at the day of last_timestamp − H·days_per_period days.
 * @return nothing, with note log_too_short_for_calibration when S − H < min_calibration_periods
 *         or H < min_holdout_periods, or note calibration_failed when the end leaves no
 *         calibration or no holdout day.
 */
std::optional<calibration_split> split_for_calibration(std::int64_t first_day,
                                                       std::int64_t last_day,
                                                       std::int64_t last_timestamp,
                                                       const analysis_options& options,
                                                       std::vector<note>& notes);

/**
 * Additive counts of the calibration check for some customers (all of a part's, each customer in
 * one part). Histogram rows, ascending by (frequency, recency, age) and distinct: the calibration
 * part's customers (first purchase day ≤ calibration_day) with K purchase days up to it, the first
 * f and last l: frequency = K − 1, recency = l − f, age = calibration_day − f (whole days), and
 * holdout = their purchase days after it. births[d] / repeats[d]: customers whose first purchase
 * day is d (days since first_day) / who buy again on day d (a day counts once per customer).
 */
struct calibration_counts {
  std::vector<std::int64_t> frequency;  ///< repeat purchase days in the calibration part
  std::vector<std::int64_t> recency;    ///< last − first calibration purchase day, days
  std::vector<std::int64_t> age;        ///< calibration_day − first purchase day, days
  std::vector<std::int64_t> customers;  ///< customers with the row
  std::vector<std::int64_t> holdout;    ///< their holdout purchase days, summed
  std::vector<std::int64_t> births;     ///< per day since first_day: first purchases
  std::vector<std::int64_t> repeats;    ///< per day since first_day: repeat purchase days
};

constexpr auto description(std::type_identity<calibration_counts>) {
  using s = calibration_counts;
  return std::tuple{
      describe::field{"frequency", &s::frequency, "repeat purchase days in the calibration part"},
      describe::field{"recency", &s::recency, "last − first calibration purchase day, days"},
      describe::field{"age", &s::age, "calibration_day − first purchase day, days"},
      describe::field{"customers", &s::customers, "customers with the row"},
      describe::field{"holdout", &s::holdout, "their holdout purchase days, summed"},
      describe::field{"births", &s::births, "per day since first_day: first purchases"},
      describe::field{"repeats", &s::repeats, "per day since first_day: repeat purchase days"}};
}

/**
 * The counts of the customers of `grouped` (a log grouped by day, all of whose rows lie in
 * [split.first_day, split.last_day]; its own first day may be later than split.first_day).
 * @throw invalid_input when `grouped` is not by day or has a day outside the split's range.
 */
calibration_counts count_calibration(const data::customer_periods& grouped,
                                     const calibration_split& split);

/** The counts of a log's customers (grouped by day here; an empty log has none). */
calibration_counts count_calibration(const data::transaction_log& log,
                                     const calibration_split& split);

/**
 * The counts of all customers of `parts` (histograms merged: rows added where equal; daily
 * counts added). Exact whatever the order of the parts.
 * @throw invalid_input when a part is malformed (columns of different lengths, a negative
 *        count, daily counts not one per day of `split`), naming the part and the column.
 */
calibration_counts merge_calibration_counts(std::span<const calibration_counts> parts,
                                            const calibration_split& split);

/**
 * The calibration check's tables from the counts of every customer: the transaction model
 * (`transaction_model`) refitted to the histogram (clv fit tolerance 1e-7); calibration_vs_holdout
 * grouping rows by min(frequency, calibration_max_frequency): customers, mean holdout purchase
 * days, mean CET(holdout duration | frequency, recency/days_per_period, age/days_per_period)
 * (each mean an exact sum of count × row value rounded once, then divided by the customers);
 * cumulative_transactions: cumulative repeat purchase days at the end of every whole period of
 * days_per_period days and Σ_d births[d]·E[X(t − d/days_per_period)] over the first-purchase
 * days before t (clv::expected_cumulative_transactions).
 * @return nothing, with note calibration_failed, when the fit or a table fails; fit warnings
 *         become notes prefixed "calibration: ".
 */
std::optional<calibration_tables> calibration_tables_of(const calibration_counts& counts,
                                                        const calibration_split& split,
                                                        const analysis_options& options,
                                                        std::vector<note>& notes);

}  // namespace crmkit::pipeline
