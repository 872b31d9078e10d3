#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/pipeline/calibration.hpp"
#include "crmkit/pipeline/steps.hpp"

namespace crmkit::pipeline {

std::optional<calibration_tables> calibration_check(const data::transaction_log& log,
                                                    const customer_summaries& customers,
                                                    const analysis_options& options,
                                                    std::vector<note>& notes) {
  const auto split = split_for_calibration(customers.first_day, customers.last_day,
                                           customers.last_timestamp, options, notes);
  if (!split) return std::nullopt;
  try {
    const auto counts = customers.days ? count_calibration(*customers.days, *split)
                                       : count_calibration(log, *split);
    return calibration_tables_of(counts, *split, options, notes);
  } catch (const error& failure) {
    notes.push_back({note_code::calibration_failed,
                     fmt::format("no calibration/holdout check: {}", failure.what())});
    return std::nullopt;
  }
}

}  // namespace crmkit::pipeline
