#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crmkit/lifecycle/stage.hpp"

/** Early warning: customers who moved into decline, ranked by the value at risk. */
namespace crmkit::lifecycle {

/**
 * The customers at risk (decline) as of the as-of date who were not at risk as of `since`,
 * sorted by value at risk, largest first (ties by key). The value is the caller's (predicted
 * CLV) when given, else the historical value: total spend up to the as-of date, or the number
 * of purchases for a log without amounts.
 */
struct warning_list {
  std::vector<std::int64_t> customer;
  std::vector<stage> before;            ///< stage as of `since` (prospect when it had none)
  std::vector<std::uint8_t> had_stage;  ///< 0: no purchase by `since` and not a prospect
  std::vector<stage_rule> rule;         ///< the at-risk rule that fired
  std::vector<double> value_at_risk;    ///< NaN where the caller's values lack the customer
  std::vector<double> recency;          ///< periods, as of the as-of date
  std::vector<double> typical_gap;
  std::vector<double> p_alive;  ///< NaN without a model
  std::vector<double> expected_purchases;
  std::int64_t since = 0, as_of = 0;  ///< the dates as given (ticks)
  std::size_t missing_values = 0;     ///< listed customers without a caller value
  std::vector<std::string> warnings;

  [[nodiscard]] std::size_t size() const noexcept { return customer.size(); }
};

/**
 * Customers who moved into decline between `since` and `as_of` (ticks; as_of default the last
 * timestamp; since <= as_of), ranked by value at risk. `value` (aligned with `value_customer`
 * keys) holds predicted values; both empty for historical value.
 * @throw invalid_input as classify_history, or for mismatched / non-finite values.
 */
warning_list early_warning(const log_view& log, std::int64_t since,
                           std::optional<std::int64_t> as_of = std::nullopt,
                           std::span<const std::int64_t> value_customer = {},
                           std::span<const double> value = {}, const stage_options& options = {});

}  // namespace crmkit::lifecycle
