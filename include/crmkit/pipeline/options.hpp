#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/pipeline/transaction_model.hpp"

/**
 * The customer analysis ("the report") as one library pipeline: from a transaction log (and
 * survey answers) to typed tables, the same for the C++ command-line tool and the Python
 * package.
 *
 * Edge-case policy (one policy for both front ends; see also docs/pipeline.md):
 * - **Zero-spend repeat buyers** (frequency > 0, mean repeat spend <= 0): their expected spend is
 *   the Gamma-Gamma conditional mean at zero observed spend, p·v / (p·x + q − 1)
 *   (`clv::expected_spend`); they are not part of the Gamma-Gamma fit; note
 *   `note_code::zero_spend_repeat_buyers`. One-time buyers get the population mean p·v/(q − 1)
 *   (the same formula at x = 0).
 * - **Too few repeat buyers** (fewer than `min_repeat_customers` with frequency > 0 and a
 *   positive mean spend): `crmkit::invalid_input` naming the count and the minimum.
 * - **A fit that does not converge**: the estimates are used; note `note_code::fit_not_converged`
 *   with the fit's message.
 * - **A log too short for calibration** (calibration shorter than `min_calibration_periods` or
 *   holdout shorter than 2 periods): note `note_code::log_too_short_for_calibration`; no
 *   calibration_vs_holdout and no cumulative_transactions table.
 * - **CLV intervals** (clv_lower, clv_upper): delta-method intervals at `clv_interval_level`
 *   from both fits' covariances (clv::lifetime_value_delta_method), for every customer under the
 *   same spend policy as the CLV (so one-time and zero-spend repeat buyers get the interval of
 *   their policy value). Where they cannot be computed — a fit's covariance is unavailable, or
 *   a customer's CLV is not finite at the estimate or a perturbed parameter point (an infinite
 *   Gamma-Gamma mean spend) — those customers' ends are NaN and note
 *   `note_code::clv_intervals_unavailable` says how many and why.
 * - **Early warning**: one definition, `pipeline::early_warning` — repeat customers (at least
 *   `early_warning_min_purchases` purchases) whose P(alive) is in [gone_p_alive,
 *   at_risk_p_alive), by value at risk = revenue · (1 − P(alive)) descending.
 */
namespace crmkit::pipeline {

/**
 * Every constant of the analysis. Time is measured in periods of `days_per_period` days
 * (weeks by default); every duration below is in those periods.
 */
struct analysis_options {
  /// purchase model: bg_nbd, mbg_nbd or pareto_nbd (transaction_model.hpp)
  transaction_model_kind transaction_model = transaction_model_kind::bg_nbd;
  double days_per_period = 7;          ///< time unit of recency, T and predictions (7: weeks)
  double prediction_periods = 13;      ///< horizon of expected_purchases_<n>w
  double clv_months = 12;              ///< CLV horizon in months (lifetimes' discrete sum)
  double monthly_discount = 0.01;      ///< monthly discount rate of the CLV
  double max_holdout_periods = 26;     ///< holdout = min(this, floor(span / 3))
  double min_calibration_periods = 8;  ///< shorter calibration: no calibration check
  double min_holdout_periods = 2;      ///< shorter holdout: no calibration check
  std::size_t calibration_max_frequency = 7;  ///< calibration_vs_holdout: last row "7 or more"
  std::size_t repeat_max_frequency = 7;       ///< repeat_purchases: last bin "7 or more"
  std::size_t min_repeat_customers = 10;      ///< fewer repeat buyers: invalid_input
  std::size_t k_min = 3;                      ///< k-means: smallest k tried
  std::size_t k_max = 8;                      ///< k-means: largest k tried (inclusive)
  std::size_t k_sample = 20'000;              ///< customers sampled to choose k
  std::size_t silhouette_sample = 4'000;      ///< silhouette sample within that sample
  double at_risk_p_alive = 0.5;               ///< early warning: P(alive) below this ...
  double gone_p_alive = 0.1;                  ///< ... and at least this
  std::size_t early_warning_min_purchases = 3;  ///< early warning: purchases (RFM view)
  std::string rfm_rules = "rf_grid";  ///< built-in rule set: rf_grid, rfm_package,
                                      ///< pymc_marketing, chinese_value
  double abc_cut_a = 0.8;             ///< ABC tiers: cumulative CLV share ending tier A
  double abc_cut_b = 0.95;            ///< ... ending tier B
  double level_cut_high = 0.2;        ///< levels: share of customers ranked "high"
  double level_cut_medium = 0.5;      ///< ... cumulative share ending "medium"
  double migration_periods = 13;      ///< stage migration from end − this to end
  std::size_t top_customers = 100;    ///< rows of top_customers
  double confidence = 0.95;           ///< survey intervals
  std::int64_t csat_min = 1;          ///< CSAT scale
  std::int64_t csat_max = 5;
  std::int64_t csat_favourable_boxes = 2;  ///< top boxes counted favourable
  std::uint64_t seed = 0;                 ///< k-means runs, k sample, silhouette sample
  double clv_interval_level = 0.9;        ///< nominal coverage of clv_lower / clv_upper
};

constexpr auto description(std::type_identity<analysis_options>) {
  using s = analysis_options;
  return std::tuple{
      describe::field{"transaction_model", &s::transaction_model,
                      "purchase model of P(alive), expected purchases, CLV, the calibration "
                      "check and the lifecycle stages"},
      describe::field{"days_per_period", &s::days_per_period,
                      "time unit of recency, T and predictions, in days (7: weeks)"},
      describe::field{"prediction_periods", &s::prediction_periods,
                      "horizon of expected_purchases_<n>w, in periods"},
      describe::field{"clv_months", &s::clv_months, "CLV horizon in months"},
      describe::field{"monthly_discount", &s::monthly_discount, "monthly discount rate of the CLV"},
      describe::field{"max_holdout_periods", &s::max_holdout_periods,
                      "holdout = min(this, floor(span / 3)) periods"},
      describe::field{"min_calibration_periods", &s::min_calibration_periods,
                      "shorter calibration: no calibration check"},
      describe::field{"min_holdout_periods", &s::min_holdout_periods,
                      "shorter holdout: no calibration check"},
      describe::field{"calibration_max_frequency", &s::calibration_max_frequency,
                      "calibration_vs_holdout: the last row is 'this or more'"},
      describe::field{"repeat_max_frequency", &s::repeat_max_frequency,
                      "repeat_purchases: the last bin is 'this or more'"},
      describe::field{"min_repeat_customers", &s::min_repeat_customers,
                      "fewer repeat buyers with a positive spend: an error"},
      describe::field{"k_min", &s::k_min, "k-means: smallest k tried"},
      describe::field{"k_max", &s::k_max, "k-means: largest k tried (inclusive)"},
      describe::field{"k_sample", &s::k_sample, "customers sampled to choose k"},
      describe::field{"silhouette_sample", &s::silhouette_sample,
                      "silhouette sample within that sample"},
      describe::field{"at_risk_p_alive", &s::at_risk_p_alive,
                      "early warning: P(alive) below this ..."},
      describe::field{"gone_p_alive", &s::gone_p_alive, "... and at least this"},
      describe::field{"early_warning_min_purchases", &s::early_warning_min_purchases,
                      "early warning: fewest purchases (RFM view)"},
      describe::field{"rfm_rules", &s::rfm_rules,
                      "built-in RFM rule set: rf_grid, rfm_package, pymc_marketing or "
                      "chinese_value"},
      describe::field{"abc_cut_a", &s::abc_cut_a, "ABC tiers: cumulative CLV share ending tier A"},
      describe::field{"abc_cut_b", &s::abc_cut_b, "... ending tier B"},
      describe::field{"level_cut_high", &s::level_cut_high,
                      "value levels: share of customers ranked high"},
      describe::field{"level_cut_medium", &s::level_cut_medium,
                      "... cumulative share ending medium"},
      describe::field{"migration_periods", &s::migration_periods,
                      "stage migration from the end minus this many periods to the end"},
      describe::field{"top_customers", &s::top_customers, "rows of top_customers"},
      describe::field{"confidence", &s::confidence, "coverage of the survey intervals"},
      describe::field{"csat_min", &s::csat_min, "lowest CSAT answer"},
      describe::field{"csat_max", &s::csat_max, "highest CSAT answer"},
      describe::field{"csat_favourable_boxes", &s::csat_favourable_boxes,
                      "top CSAT boxes counted favourable"},
      describe::field{"seed", &s::seed, "seed of the k-means runs, k sample and silhouette sample"},
      describe::field{"clv_interval_level", &s::clv_interval_level,
                      "nominal coverage of the customers' CLV intervals (clv_lower, clv_upper), "
                      "in (0, 1)"}};
}

/**
 * Survey answers, one per element. `customer` holds keys of the transaction log's customers
 * (the log's `customer` values). `day` (days since 1970-01-01) and `csat` may be empty; a
 * missing CSAT answer in a present column is -1.
 */
struct survey_answers {
  std::vector<std::int64_t> customer;
  std::vector<std::int64_t> nps;   ///< 0..10
  /// csat_min..csat_max or -1 (not rated) per answer; none: the answers have no CSAT column
  std::optional<std::vector<std::int64_t>> csat;
  std::optional<std::vector<std::int64_t>> day;  ///< days since 1970; none: no date column
  [[nodiscard]] std::size_t size() const noexcept { return customer.size(); }
};

}  // namespace crmkit::pipeline
