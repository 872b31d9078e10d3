#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/core/warning.hpp"
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
  coded_warnings warnings;

  [[nodiscard]] std::size_t size() const noexcept { return customer.size(); }
};

constexpr auto description(std::type_identity<warning_list>) {
  using s = warning_list;
  return std::tuple{
      describe::field{"customer", &s::customer,
                      "customers that moved into decline, by value at risk"},
      describe::field{"before", &s::before, "stage as of `since` (prospect when it had none)"},
      describe::field{"had_stage", &s::had_stage, "0: no purchase by `since` and not a prospect"},
      describe::field{"rule", &s::rule, "the at-risk rule that fired"},
      describe::field{"value_at_risk", &s::value_at_risk,
                      "NaN where the caller's values lack the customer"},
      describe::field{"recency", &s::recency, "periods, as of the as-of date"},
      describe::field{"typical_gap", &s::typical_gap, "g, the customer's typical gap in periods"},
      describe::field{"p_alive", &s::p_alive, "NaN without a model"},
      describe::field{"expected_purchases", &s::expected_purchases,
                      "expected purchases in the next window"},
      describe::field{"since", &s::since, "the earlier date (ticks)"},
      describe::field{"as_of", &s::as_of, "the as-of date (ticks)"},
      describe::field{"missing_values", &s::missing_values,
                      "listed customers without a caller value"},
      describe::field{"warnings", &s::warnings, "soft problems"}};
}

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
