#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/core/warning.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/lifecycle/stage.hpp"

/** Funnel rates per period: acquisition, conversion, retention, churn and win-back. */
namespace crmkit::lifecycle {

/**
 * One row per period t of `freq`, from the first purchase's period to the as-of period. "Stage
 * at the end of t" is the stage (stage rules, their own freq) as of the last tick of t, or the
 * as-of date for the last period; "active in t" means a purchase in t.
 * - acquired: customers whose first purchase is in t. acquisition_rate = prospects_acquired /
 *   prospect_pool, where prospect_pool counts the supplied prospects without a purchase before t
 *   (NaN without prospects).
 * - converted: customers whose second purchase is in t. conversion_rate = converted /
 *   conversion_pool, the pool being the customers with a first purchase by the end of t and no
 *   second purchase before t.
 * - retained: customers active in t−1 and in t. retention_rate = retained / previous_active.
 * - churned: customers with a stage other than churned at the end of t−1 and churned at the end
 *   of t. churn_rate = churned / churn_pool (customers with a stage other than churned at the
 *   end of t−1; prospects without purchases excluded).
 * - won_back: customers churned at the end of t−1 and active in t. win_back_rate = won_back /
 *   churned_pool (customers churned at the end of t−1).
 * Rates with an empty pool, and the first period's retention, churn and win-back, are NaN.
 */
struct funnel_table {
  std::vector<std::int64_t> period;  ///< period starts (ticks)
  std::vector<std::uint64_t> active, acquired, prospect_pool, prospects_acquired, conversion_pool,
      converted, previous_active, retained, churn_pool, churned, churned_pool, won_back;
  std::vector<double> acquisition_rate, conversion_rate, retention_rate, churn_rate, win_back_rate;
  coded_warnings warnings;

  [[nodiscard]] std::size_t size() const noexcept { return period.size(); }
};

constexpr auto description(std::type_identity<funnel_table>) {
  using s = funnel_table;
  return std::tuple{
      describe::field{"period", &s::period, "period starts (ticks)"},
      describe::field{"active", &s::active, "customers with a purchase in the period"},
      describe::field{"acquired", &s::acquired, "customers whose first purchase is in the period"},
      describe::field{"prospect_pool", &s::prospect_pool,
                      "supplied prospects without a purchase before the period"},
      describe::field{"prospects_acquired", &s::prospects_acquired,
                      "of those, customers acquired in the period"},
      describe::field{"acquisition_rate", &s::acquisition_rate,
                      "prospects_acquired / prospect_pool"},
      describe::field{"conversion_pool", &s::conversion_pool,
                      "first purchase by the period end and no second before it"},
      describe::field{"converted", &s::converted,
                      "customers whose second purchase is in the period"},
      describe::field{"conversion_rate", &s::conversion_rate, "converted / conversion_pool"},
      describe::field{"previous_active", &s::previous_active,
                      "customers active in the previous period"},
      describe::field{"retained", &s::retained,
                      "customers active in the previous period and in this one"},
      describe::field{"retention_rate", &s::retention_rate, "retained / previous_active"},
      describe::field{"churn_pool", &s::churn_pool,
                      "customers not churned at the end of the previous period"},
      describe::field{"churned", &s::churned,
                      "of those, customers churned at the end of the period"},
      describe::field{"churn_rate", &s::churn_rate, "churned / churn_pool"},
      describe::field{"churned_pool", &s::churned_pool,
                      "customers churned at the end of the previous period"},
      describe::field{"won_back", &s::won_back, "of those, customers active in the period"},
      describe::field{"win_back_rate", &s::win_back_rate, "won_back / churned_pool"},
      describe::field{"warnings", &s::warnings, "soft problems"}};
}

/**
 * Funnel counts and rates per period of `freq` up to `as_of` (ticks; default the last timestamp).
 * The population gap G at a period end where no customer has two purchases yet is G at the
 * as-of date.
 * @throw invalid_input as classify.
 */
funnel_table funnel_rates(const log_view& log, const stage_options& options = {},
                          data::period_unit freq = data::period_unit::month,
                          std::optional<std::int64_t> as_of = std::nullopt);

}  // namespace crmkit::lifecycle
