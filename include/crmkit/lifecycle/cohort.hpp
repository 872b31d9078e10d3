#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/lifecycle/stage.hpp"

/** Acquisition-cohort retention tables. */
namespace crmkit::lifecycle {

/**
 * Customers grouped by acquisition cohort (the period of their first purchase) and followed
 * period by period: `active[c * offsets + k]` is the number of cohort c's customers with a
 * purchase in the k-th period after their cohort's (k = 0: the acquisition period, so it equals
 * the cohort size), `revenue` the sum of their amounts there. Cells after the as-of period are
 * unobserved (`observed` 0, counts 0). Every period from the first purchase's to the as-of
 * period is a cohort, possibly of size 0.
 */
struct cohort_table {
  std::vector<std::int64_t> cohort;    ///< cohort period starts (ticks), ascending
  std::size_t offsets = 0;             ///< columns: periods since acquisition, 0 .. offsets - 1
  std::vector<std::uint64_t> size;     ///< customers per cohort
  std::vector<std::uint64_t> active;   ///< cohort-major
  std::vector<double> revenue;         ///< cohort-major; empty without amounts
  std::vector<std::uint8_t> observed;  ///< cohort-major: c + k is at or before the as-of period
  std::vector<double> cohort_revenue;  ///< total per cohort (observed cells); empty without amounts

  /** active / size: the retention rate; NaN for an empty or unobserved cell. */
  [[nodiscard]] double rate(std::size_t c, std::size_t k) const noexcept;
};

constexpr auto description(std::type_identity<cohort_table>) {
  using s = cohort_table;
  return std::tuple{
      describe::field{"cohort", &s::cohort, "cohort period starts (ticks), ascending"},
      describe::field{"offsets", &s::offsets,
                      "columns: periods since acquisition, 0 .. offsets - 1"},
      describe::field{"size", &s::size, "customers per cohort"},
      describe::field{"active", &s::active, "cohort-major"},
      describe::field{"revenue", &s::revenue, "cohort-major; empty without amounts",
                      describe::absent_when_empty},
      describe::field{"observed", &s::observed,
                      "cohort-major: c + k is at or before the as-of period"},
      describe::field{"cohort_revenue", &s::cohort_revenue,
                      "total per cohort (observed cells); empty without amounts",
                      describe::absent_when_empty}};
}

/**
 * The cohort retention table of a log in periods of `freq` (default months) up to `as_of`
 * (ticks; default the last timestamp). Revenue is summed in a fixed order (customers in key
 * order, amounts within a period ascending), so it does not depend on row order or threads.
 * @throw invalid_input for a bad log or an as-of date before every purchase.
 */
cohort_table cohort_retention(const log_view& log,
                              data::period_unit freq = data::period_unit::month,
                              std::optional<std::int64_t> as_of = std::nullopt);

/**
 * The counts of `cohort_retention` (size, active, observed) over a log grouped already, as of
 * the grouping's last period; revenue and cohort_revenue stay empty (a coarser period's total
 * cannot be rebuilt exactly from the grouping's period totals). `freq` is the grouping's unit,
 * or any unit of whole days when the grouping is by day.
 * @throw invalid_input for another freq.
 */
cohort_table cohort_retention(const data::customer_periods& grouped, data::period_unit freq);

}  // namespace crmkit::lifecycle
