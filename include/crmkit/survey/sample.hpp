#pragma once

#include <algorithm>
#include <span>

#include "crmkit/core/check.hpp"
#include "crmkit/survey/aggregate.hpp"

namespace crmkit::survey {

/**
 * NPS of one sample of 0–10 answers (`double` or `std::int64_t`), optionally weighted: counts,
 * shares, score, SE and interval by `options.method`. For the rows skipped under
 * `bad_row_policy::skip`, call `aggregate_nps` with an empty grouping, which reports them.
 *
 * **Example**:
 *
 *     std::vector<std::int64_t> answers{10, 9, 9, 8, 7, 6, 3, 10};
 *     auto result = crmkit::survey::nps(std::span<const std::int64_t>(answers));
 *     // result.score == 25 (4 promoters, 2 detractors of 8), result.ci is adjusted Wald
 *
 * @throw invalid_input for no answers, invalid options, or invalid rows under `raise`.
 */
template <class Score>
[[nodiscard]] nps_result nps(std::span<const Score> scores, std::span<const double> weights = {},
                             const nps_options& options = {},
                             data::bad_row_policy policy = data::bad_row_policy::error) {
  check::not_empty("nps", "scores", scores.size());
  if (!weights.empty() && std::all_of(weights.begin(), weights.end(),
                                      [](double weight) { return weight == 0; })) {
    check::fail("nps", "every weight is 0, so the NPS is undefined (give some answer a weight)");
  }
  return aggregate_nps(scores, weights, response_grouping{}, options, policy).cells.front();
}

/**
 * CSAT of one sample on `scale` (default 1–5, top-2-box): mean score with its t interval and the
 * top-box share with its Wilson interval.
 * @throw invalid_input for no answers, an invalid scale or options, or invalid rows under `raise`.
 */
template <class Score>
[[nodiscard]] rating_result csat(std::span<const Score> scores,
                                 std::span<const double> weights = {},
                                 const rating_scale& scale = csat_scale(),
                                 const interval_options& options = {},
                                 data::bad_row_policy policy = data::bad_row_policy::error) {
  check::not_empty("csat", "scores", scores.size());
  return aggregate_rating(scores, weights, response_grouping{}, scale, options, policy)
      .cells.front();
}

/**
 * CES of one sample for a `ces_version` (scale, direction and favourable boxes in the result's
 * `scale`): mean with its t interval and favourable share (low effort) with its Wilson interval.
 * @throw invalid_input as `csat`.
 */
template <class Score>
[[nodiscard]] rating_result ces(std::span<const Score> scores, std::span<const double> weights = {},
                                ces_version version = ces_version::agreement_7,
                                const interval_options& options = {},
                                data::bad_row_policy policy = data::bad_row_policy::error) {
  check::not_empty("ces", "scores", scores.size());
  return aggregate_rating(scores, weights, response_grouping{}, ces_scale(version), options, policy)
      .cells.front();
}

}  // namespace crmkit::survey
