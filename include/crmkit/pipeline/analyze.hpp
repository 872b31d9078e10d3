#pragma once

#include "crmkit/data/transaction_log.hpp"
#include "crmkit/pipeline/options.hpp"
#include "crmkit/pipeline/result.hpp"

namespace crmkit::pipeline {

/**
 * The whole customer analysis: summaries, the transaction model's (BG/NBD by default, Fader,
 * Hardie & Lee 2005; MBG/NBD or Pareto/NBD by `transaction_model`) and Gamma-Gamma's fits and
 * predictions, the calibration/holdout check, k-means segments (k by
 * silhouette), RFM segments, value tiers, early warning, lifecycle stages, migration and cohort
 * retention, the repeat-purchase histogram, top customers and, with `survey`, NPS/CSAT
 * aggregates. Every step is in steps.hpp; the edge-case policy in options.hpp.
 *
 * Deterministic: the same log, answers and options give identical tables for any thread count.
 *
 * @param log     the transaction log (amounts required; timestamps in seconds, used by day)
 * @param survey  survey answers keyed by the log's customer keys, or nullptr
 * @throw invalid_input for unusable data (empty log, no amounts, too few repeat buyers, too few
 *        distinct customers, survey answers matching no customer or off the scale, an unknown
 *        RFM rule set); numerical_error when a model cannot be fitted at all.
 */
analysis_result analyze(const data::transaction_log& log, const survey_answers* survey = nullptr,
                        const analysis_options& options = {});

}  // namespace crmkit::pipeline
