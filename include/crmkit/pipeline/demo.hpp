#pragma once

#include <cstddef>
#include <cstdint>

#include "crmkit/data/transaction_log.hpp"

namespace crmkit::pipeline {

/** The demo's calendar: customers acquired over 13 weeks from 2024-01-01, observed 104 weeks. */
struct demo_options {
  std::size_t customers = 20'000;
  std::uint64_t seed = 0;
  std::int64_t start_day = 19'723;  ///< 2024-01-01, days since 1970-01-01
  double acquisition_weeks = 13;
  double horizon_weeks = 104;
};

/**
 * The demo transaction log of `crmkit report` without a file (the same log as the Python
 * report's demo): `data::simulate_transactions` with the CDNOW parameters in weeks, each
 * purchase at start + floor(time · 604800) seconds (as `crmkit.data.simulate_transactions` with
 * freq "W"), customer ids 0 .. n − 1 in the log's order.
 */
data::transaction_log demo_log(const demo_options& options = {});

}  // namespace crmkit::pipeline
