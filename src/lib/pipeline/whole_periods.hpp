#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crmkit/clv/observations.hpp"
#include "crmkit/data/grouping.hpp"

/**
 * The transaction models' view of a grouped log in whole periods, read off `customer_periods`
 * without going back to the log's rows (internal to the pipeline steps).
 */
namespace crmkit::pipeline::detail {

/**
 * Per-customer statistics as of relative period `end`, in whole periods, for the grouped
 * customers (in key order) whose first purchase is at or before `end`: with the K purchase
 * periods up to `end`, the first f and the last l, frequency = K − 1, recency = l − f,
 * age = end − f (data::summarize's lifetimes view before dividing by freq_multiplier), and
 * `later` = the purchase periods after `end` (lifetimes' frequency_holdout).
 */
struct whole_period_summaries {
  std::vector<std::uint32_t> frequency, recency, age, later;
  [[nodiscard]] std::size_t size() const noexcept { return frequency.size(); }
};

whole_period_summaries summaries_at(const data::customer_periods& grouped, std::int64_t end);

/** One customer's row of whole_period_summaries. */
struct whole_period_summary {
  std::uint32_t frequency, recency, age, later;
};

/**
 * The whole_period_summaries row of the customer with purchase periods `periods` (ascending,
 * distinct, not empty) as of `end`, which must be at or after the first of them.
 */
inline whole_period_summary summary_at(std::span<const std::uint32_t> periods,
                                       std::uint32_t end) noexcept {
  const std::uint32_t first = periods.front();
  const auto counted = static_cast<std::size_t>(
      std::upper_bound(periods.begin(), periods.end(), end) - periods.begin());
  return {static_cast<std::uint32_t>(counted - 1), periods[counted - 1] - first, end - first,
          static_cast<std::uint32_t>(periods.size() - counted)};
}

/**
 * The transaction models' fitting rows of `whole` with durations divided by `freq_multiplier` (frequency,
 * recency and age: those columns, as data::summarize gives them): exactly
 * `clv::transaction_patterns` of the columns. When that merges identical rows (the usual case),
 * one sort of packed integer keys replaces its three radix sorts of doubles. `function` (the fit
 * being prepared, e.g. "fit_pareto_nbd") is what an error on the columns names.
 */
std::vector<clv::pattern> fitting_patterns(std::string_view function,
                                           const whole_period_summaries& whole,
                                           double freq_multiplier,
                                           std::span<const double> frequency,
                                           std::span<const double> recency,
                                           std::span<const double> age);

}  // namespace crmkit::pipeline::detail
