#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/data/transaction_log.hpp"

/**
 * Per-customer summaries of a transaction log: the frequency / recency / T / monetary value
 * statistics that BG/NBD, Pareto/NBD and Gamma-Gamma models are fitted to, with the semantics of
 * `lifetimes.utils.summary_data_from_transaction_data` (Davidson-Pilon et al., lifetimes 0.11)
 * and the notation of Fader, Hardie & Lee (2005), "Counting your customers the easy way",
 * Marketing Science 24(2).
 */
namespace crmkit::data {

class customer_periods;  // grouping.hpp

/** How a log is summarised. */
struct summary_options {
  /** Period unit: timestamps are floored to the start of their period (pandas `to_period`). */
  period_unit freq = period_unit::day;
  /** Durations (recency, T) are divided by this, e.g. freq = day, 7 gives exact weeks. */
  double freq_multiplier = 1;
  /** Observation end, in the timestamps' ticks; floored to its period. Default: the last timestamp.
   */
  std::optional<std::int64_t> observation_period_end = std::nullopt;
  /** false: the `lifetimes` view (repeat purchases); true: the RFM view (every purchase). */
  bool include_first_transaction = false;
  /**
   * Timestamps count ticks of 1 / ticks_per_second seconds since 1970-01-01T00:00:00 (no time
   * zone): 1 for seconds (a `transaction_log`), 1'000'000'000 for numpy `datetime64[ns]`.
   */
  std::int64_t ticks_per_second = 1;
};

constexpr auto description(std::type_identity<summary_options>) {
  using s = summary_options;
  return std::tuple{
      describe::field{"freq", &s::freq, "period unit: timestamps are floored to their period"},
      describe::field{"freq_multiplier", &s::freq_multiplier,
                      "Durations (recency, T) are divided by this, e.g. freq = day, 7 gives "
                      "exact weeks"},
      describe::field{"observation_period_end", &s::observation_period_end,
                      "Observation end, in the timestamps' ticks; floored to its period"},
      describe::field{"include_first_transaction", &s::include_first_transaction,
                      "count the first purchase too (the RFM view)"},
      describe::field{"ticks_per_second", &s::ticks_per_second,
                      "timestamp ticks per second (1 for seconds, 1e9 for datetime64[ns])"}};
}

/**
 * One row per customer with at least one purchase in a period up to the observation end, sorted
 * by customer key ascending.
 *
 * With K distinct purchase periods, the first f, the last l and the end period e (durations in
 * periods / freq_multiplier):
 * - lifetimes view: frequency = K - 1, recency = l - f, T = e - f, monetary_value = mean of the
 *   K - 1 repeat periods' totals (0 when K = 1);
 * - RFM view (`include_first_transaction`): frequency = K, recency = e - l (time since the last
 *   purchase; lifetimes would report l - f here), T = e - f, monetary_value = mean over all K
 *   periods' totals.
 */
struct customer_summary {
  memory::column<std::int64_t> customer;  ///< customer keys, ascending
  memory::column<double> frequency;
  memory::column<double> recency;
  memory::column<double> T;
  memory::column<double> monetary_value;    ///< empty when the log has no amounts
  std::int64_t observation_period_end = 0;  ///< start of the end period, in ticks
  std::size_t rows_used = 0;                ///< rows in periods up to the end
  std::size_t rows_after_end = 0;           ///< rows in later periods, ignored
  std::size_t customers_after_end = 0;      ///< customers whose every row is after the end (absent)

  [[nodiscard]] std::size_t size() const noexcept { return customer.size(); }
};

constexpr auto description(std::type_identity<customer_summary>) {
  using s = customer_summary;
  return std::tuple{
      describe::field{"customer", &s::customer, "customer keys, ascending"},
      describe::field{"frequency", &s::frequency, "repeat purchase periods"},
      describe::field{"recency", &s::recency, "periods from the first to the last purchase"},
      describe::field{"T", &s::T, "periods from the first purchase to the end"},
      describe::field{"monetary_value", &s::monetary_value, "empty when the log has no amounts",
                      describe::absent_when_empty},
      describe::field{"observation_period_end", &s::observation_period_end,
                      "start of the end period, in ticks"},
      describe::field{"rows_used", &s::rows_used, "rows in periods up to the end"},
      describe::field{"rows_after_end", &s::rows_after_end, "rows in later periods, ignored"},
      describe::field{"customers_after_end", &s::customers_after_end,
                      "customers whose every row is after the end (absent)"}};
}

/**
 * Summarises a transaction log per customer (lifetimes' `summary_data_from_transaction_data`).
 *
 * Rules, each tested:
 * - every timestamp is floored to its period; rows in periods after the observation end's period
 *   are ignored (counted in `rows_after_end`), and customers left with no rows are absent from
 *   the result (counted in `customers_after_end`);
 * - rows of one customer in one period merge into one purchase whose amount is their sum:
 *   duplicate rows double the amount, refunds (negative amounts) reduce it, and a period whose
 *   amounts sum to zero or less still counts as a purchase;
 * - the input needs no order: amounts within a period are added in ascending order of value, so
 *   any permutation of the rows gives bit-identical results, for any thread count.
 *
 * A log in ascending customer order is summarised customer by customer in one parallel pass,
 * without a sort. Otherwise a few parallel passes group the rows by customer, stably (12 bytes
 * per row besides the result, 16 when the periods span more than 2^16, 4 more when the keys span
 * more than max(n, 2^20) values; kept for the next call), and each customer's rows are added up
 * as they come when they are in period order (a time-ordered log), else sorted first.
 *
 * @param customer  one integer key per row (e.g. `transaction_log::customer`)
 * @param timestamp ticks since 1970-01-01 (see `summary_options::ticks_per_second`)
 * @param amount    purchase amounts, or empty for no monetary value
 * @throw invalid_input when the sizes differ, the log is empty, an amount is not finite (naming
 *        the row), freq_multiplier is not positive, or every row is after the observation end.
 *
 * **Example**:
 *
 *     auto summary = crmkit::data::summarize(log.customer, log.timestamp, log.amount,
 *                                            {.freq = crmkit::data::period_unit::day,
 *                                             .freq_multiplier = 7});
 */
customer_summary summarize(std::span<const std::int64_t> customer,
                           std::span<const std::int64_t> timestamp, std::span<const double> amount,
                           const summary_options& options = {});

/**
 * `summarize` over a `transaction_log` (timestamps in seconds, so `ticks_per_second` must be 1).
 * Customer keys index `log.customer_labels` when the log has labels.
 */
customer_summary summarize(const transaction_log& log, const summary_options& options = {});

/**
 * `summarize` over a log grouped once (several views or passes share the grouping): the same
 * result as summarizing the grouped rows with the observation end in the grouping's last period.
 * @throw invalid_input when freq or ticks_per_second differ from the grouping's, or
 *        observation_period_end is given and lies in another period than the grouping's end.
 */
customer_summary summarize(const customer_periods& grouped, const summary_options& options = {});

/** How a log is split into a calibration and a holdout part. */
struct holdout_options {
  period_unit freq = period_unit::day;
  double freq_multiplier = 1;
  /** Last tick of calibration; floored to its period, which is the calibration's last period. */
  std::int64_t calibration_period_end = 0;
  /** Default: the last timestamp. Its period must come after the calibration end's period. */
  std::optional<std::int64_t> observation_period_end = std::nullopt;
  /** Applies to the calibration statistics, as in `summary_options`. */
  bool include_first_transaction = false;
  std::int64_t ticks_per_second = 1;
};

constexpr auto description(std::type_identity<holdout_options>) {
  using s = holdout_options;
  return std::tuple{
      describe::field{"freq", &s::freq, "period unit: timestamps are floored to their period"},
      describe::field{"freq_multiplier", &s::freq_multiplier, "durations are divided by this"},
      describe::field{"calibration_period_end", &s::calibration_period_end,
                      "Last tick of calibration; floored to its period, which is the "
                      "calibration's last period"},
      describe::field{"observation_period_end", &s::observation_period_end,
                      "end of the holdout, in ticks; default the last timestamp"},
      describe::field{"include_first_transaction", &s::include_first_transaction,
                      "Applies to the calibration statistics, as in `summary_options`."},
      describe::field{"ticks_per_second", &s::ticks_per_second, "timestamp ticks per second"}};
}

/**
 * Calibration statistics (as `summarize` with the calibration end as observation end) and
 * holdout outcomes for every customer whose first purchase is in a period up to the calibration
 * end (lifetimes' `calibration_and_holdout_data`).
 *
 * With c the calibration end's period and e the observation end's period: frequency_holdout is
 * the number of distinct purchase periods in (c, e]; monetary_value_holdout the mean of those
 * periods' totals (0 when none); duration_holdout = (e - c) / freq_multiplier.
 */
struct calibration_holdout_summary {
  /**
   * Calibration statistics, exactly `summarize` with the calibration end as observation end:
   * `rows_used` counts the calibration rows, `rows_after_end` the rows in later periods, and
   * `customers_after_end` the customers without a calibration purchase (they are excluded).
   */
  customer_summary calibration;
  std::vector<double> frequency_holdout;
  std::vector<double> monetary_value_holdout;  ///< empty when the log has no amounts
  double duration_holdout = 0;
  std::int64_t observation_period_end = 0;  ///< start of the end period, in ticks
  std::size_t rows_holdout = 0;             ///< rows of included customers in (c, e]
  std::size_t rows_after_end = 0;           ///< rows after the observation end's period, ignored

  [[nodiscard]] std::size_t size() const noexcept { return calibration.size(); }
};

constexpr auto description(std::type_identity<calibration_holdout_summary>) {
  using s = calibration_holdout_summary;
  return std::tuple{
      describe::field{"calibration", &s::calibration, "the calibration-period summary"},
      describe::field{"frequency_holdout", &s::frequency_holdout,
                      "purchases in the holdout period"},
      describe::field{"monetary_value_holdout", &s::monetary_value_holdout,
                      "empty when the log has no amounts", describe::absent_when_empty},
      describe::field{"duration_holdout", &s::duration_holdout,
                      "length of the holdout period, in periods"},
      describe::field{"observation_period_end", &s::observation_period_end,
                      "start of the end period, in ticks"},
      describe::field{"rows_holdout", &s::rows_holdout, "rows of included customers in (c, e]"},
      describe::field{"rows_after_end", &s::rows_after_end,
                      "rows after the observation end's period, ignored"}};
}

/**
 * Splits a log at a calibration end and summarises both parts (lifetimes'
 * `calibration_and_holdout_data`). The split is by period: a row belongs to calibration when its
 * period is at or before the calibration end's period. (lifetimes splits the raw timestamps, so
 * for sub-period timestamps a row later in the calibration end's own period counts as holdout
 * there; for dates with freq = day the two agree.) Rows after the observation end's period are
 * ignored.
 *
 * @throw invalid_input as `summarize`, and when the calibration end is before every purchase
 *        or the observation end's period is not after the calibration end's period.
 */
calibration_holdout_summary calibration_and_holdout(std::span<const std::int64_t> customer,
                                                    std::span<const std::int64_t> timestamp,
                                                    std::span<const double> amount,
                                                    const holdout_options& options);

/** `calibration_and_holdout` over a `transaction_log` (seconds; `ticks_per_second` must be 1). */
calibration_holdout_summary calibration_and_holdout(const transaction_log& log,
                                                    const holdout_options& options);

}  // namespace crmkit::data
