#include "crmkit/lifecycle/migration.hpp"

#include <limits>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"

namespace crmkit::lifecycle {

double migration_matrix::rate(std::size_t from, std::size_t to) const noexcept {
  const std::uint64_t total = row_total(from);
  return total == 0 ? std::numeric_limits<double>::quiet_NaN()
                    : static_cast<double>(counts[from][to]) / static_cast<double>(total);
}

migration_matrix migration_between(const stage_history& history, std::size_t from, std::size_t to) {
  constexpr std::string_view function = "migration_between";
  const std::size_t dates = history.dates.size();
  if (from >= dates || to >= dates) {
    check::fail(function, fmt::format("from = {} and to = {} must index the history's {} dates",
                                      from, to, dates));
  }
  migration_matrix matrix;
  for (std::size_t j = 0; j < history.customer.size(); ++j) {
    if (!history.is_present(to, j)) continue;
    const std::size_t row = history.is_present(from, j)
                                ? static_cast<std::size_t>(history.at(from, j))
                                : unobserved_row;
    ++matrix.counts[row][static_cast<std::size_t>(history.at(to, j))];
  }
  return matrix;
}

migration_matrix stage_migration(const log_view& log, std::int64_t from, std::int64_t to,
                                 const stage_options& options) {
  const std::int64_t dates[] = {from, to};
  return migration_between(classify_history(log, dates, options), 0, 1);
}

std::vector<double> time_in_stage(const stage_history& history) {
  const std::size_t customers = history.customer.size();
  std::vector<double> days(customers * stage_count, 0.0);
  const double ticks_per_day = static_cast<double>(history.ticks_per_second) * 86'400;
  for (std::size_t d = 0; d + 1 < history.dates.size(); ++d) {
    const double length =
        static_cast<double>(history.dates[d + 1] - history.dates[d]) / ticks_per_day;
    for (std::size_t j = 0; j < customers; ++j) {
      if (!history.is_present(d, j)) continue;
      days[j * stage_count + static_cast<std::size_t>(history.at(d, j))] += length;
    }
  }
  return days;
}

}  // namespace crmkit::lifecycle
