#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/lifecycle/stage.hpp"

/** Movement between lifecycle stages: transition matrices and time spent in each stage. */
namespace crmkit::lifecycle {

/** Row index of `migration_matrix` for customers without a stage at the first date. */
inline constexpr std::size_t unobserved_row = stage_count;

/**
 * Customers counted by their stage at a first date (row) and a second date (column). Row
 * `unobserved_row` holds the customers who had no stage at the first date (no purchase yet and
 * not a prospect). Each row sums to the number of customers in that stage at the first date.
 */
struct migration_matrix {
  std::array<std::array<std::uint64_t, stage_count>, stage_count + 1> counts{};

  /** Customers in row `from` (its stage count at the first date). */
  [[nodiscard]] std::uint64_t row_total(std::size_t from) const noexcept {
    std::uint64_t total = 0;
    for (const auto count : counts[from]) total += count;
    return total;
  }
  /** counts[from][to] / row_total(from): the transition rate; NaN for an empty row. */
  [[nodiscard]] double rate(std::size_t from, std::size_t to) const noexcept;
};

constexpr auto description(std::type_identity<migration_matrix>) {
  using s = migration_matrix;
  return std::tuple{
      describe::field{"counts", &s::counts,
                      "transitions: rows the stage at start plus unobserved, columns the stage "
                      "at end"}};
}

/** The transition matrix between dates `from` and `to` of a history (indices into its dates). */
migration_matrix migration_between(const stage_history& history, std::size_t from, std::size_t to);

/**
 * The transition matrix between the stages as of `from` and as of `to` (ticks, from <= to).
 * @throw invalid_input as classify_history.
 */
migration_matrix stage_migration(const log_view& log, std::int64_t from, std::int64_t to,
                                 const stage_options& options = {});

/**
 * Days each customer spent in each stage over a history, on the history's grid: the interval
 * [dates[i], dates[i+1]) counts for the stage at dates[i] (left Riemann sum; pass a daily grid for
 * exact times). Intervals where the customer had no stage count nowhere.
 * `days[j * stage_count + s]` for customer j of the history and stage s.
 */
std::vector<double> time_in_stage(const stage_history& history);

}  // namespace crmkit::lifecycle
