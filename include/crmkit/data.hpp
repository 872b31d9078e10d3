#pragma once

/**
 * crmkit::data: transaction logs (read from CSV or built in memory), calendar periods,
 * per-customer summaries and calibration/holdout splits, and simulated logs with known truth.
 */
#include "crmkit/data/bad_row_policy.hpp"
#include "crmkit/data/csv.hpp"
#include "crmkit/data/csv_writer.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/data/random.hpp"
#include "crmkit/data/simulate.hpp"
#include "crmkit/data/summary.hpp"
#include "crmkit/data/transaction_log.hpp"
