#pragma once

/**
 * Satisfaction and loyalty surveys: NPS, CSAT and CES with honest uncertainty.
 *
 * - Mergeable accumulators (`nps_accumulator`, `proportion_accumulator`, `mean_accumulator`,
 *   `rating_accumulator` and their weighted variants): `operator()` adds an answer, `+=` merges,
 *   exactly, so partitions combine into the single-pass result bit for bit.
 * - Summaries with intervals: NPS (adjusted Wald, Wald, seeded bootstrap), proportions (Wilson),
 *   means (t); one-sample entry points `nps`, `csat`, `ces`.
 * - `aggregate_nps` / `aggregate_rating`: one parallel pass over a responses table by grouping
 *   codes and calendar periods (rolling windows too), empty cells reported.
 * - `compare_nps`, `compare_proportions`, `period_over_period`: two-sample tests.
 * - `driver_importance`: Shapley or Johnson decomposition of R² with bootstrap intervals.
 */
#include "crmkit/survey/aggregate.hpp"
#include "crmkit/survey/bootstrap.hpp"
#include "crmkit/survey/category_tally.hpp"
#include "crmkit/survey/change.hpp"
#include "crmkit/survey/drivers.hpp"
#include "crmkit/survey/exact_sum.hpp"
#include "crmkit/survey/interval.hpp"
#include "crmkit/survey/mean.hpp"
#include "crmkit/survey/nps.hpp"
#include "crmkit/survey/proportion.hpp"
#include "crmkit/survey/rating.hpp"
#include "crmkit/survey/sample.hpp"
