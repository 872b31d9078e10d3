#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/clv/params.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/data/table.hpp"

namespace crmkit::pipeline {

/** What kind of soft problem a note reports (the policy is in options.hpp). */
enum class note_code : std::uint8_t {
  zero_spend_repeat_buyers,       ///< repeat buyers whose repeat purchases summed to <= 0
  fit_not_converged,              ///< the transaction model or Gamma-Gamma stopped early
  fit_warning,                    ///< another soft problem of a fit (e.g. infinite mean spend)
  log_too_short_for_calibration,  ///< no calibration/holdout tables
  calibration_failed,             ///< the calibration split or fit failed; no tables
  lifecycle_unavailable,          ///< lifecycle stages could not be computed; no tables
  lifecycle_warning,              ///< a soft problem of the lifecycle stages
  survey_unknown_customers,       ///< answers from customers absent from the log, left out
  survey_invalid_answers,         ///< answers outside the scale, left out
  survey_small_sample,            ///< survey cells with few answers
  few_distinct_profiles,          ///< fewer distinct customers than k_max + 1: k range cut
  clv_intervals_unavailable,      ///< clv_lower / clv_upper NaN for some or all customers
};

constexpr auto description(std::type_identity<note_code>) {
  return describe::enum_table<note_code, 12>{
      "code",
      {{{note_code::zero_spend_repeat_buyers, "zero_spend_repeat_buyers"},
        {note_code::fit_not_converged, "fit_not_converged"},
        {note_code::fit_warning, "fit_warning"},
        {note_code::log_too_short_for_calibration, "log_too_short_for_calibration"},
        {note_code::calibration_failed, "calibration_failed"},
        {note_code::lifecycle_unavailable, "lifecycle_unavailable"},
        {note_code::lifecycle_warning, "lifecycle_warning"},
        {note_code::survey_unknown_customers, "survey_unknown_customers"},
        {note_code::survey_invalid_answers, "survey_invalid_answers"},
        {note_code::survey_small_sample, "survey_small_sample"},
        {note_code::few_distinct_profiles, "few_distinct_profiles"},
        {note_code::clv_intervals_unavailable, "clv_intervals_unavailable"}}}};
}

/** The code's name in snake_case (e.g. "fit_not_converged"). */
std::string_view note_code_name(note_code code) noexcept;

/** A soft problem met on the way: the results exist but the reader should know. */
struct note {
  note_code code = note_code::fit_warning;
  std::string message;  ///< one line, for people
};

/**
 * The headline numbers (the Python report formats them). Shares are in [0, 1]; NaN where
 * undefined (no survey: the nps fields are NaN and nps_answers 0).
 */
struct headline_numbers {
  std::size_t customers = 0;
  std::size_t transactions = 0;
  std::int64_t first_day = 0;  ///< days since 1970-01-01 of the first transaction
  std::int64_t last_day = 0;   ///< ... of the last transaction (the observation end)
  double revenue = 0;          ///< sum of the log's amounts
  double repeat_share = 0;     ///< customers with frequency > 0
  double active_share = 0;     ///< customers with P(alive) >= at_risk_p_alive
  double expected_purchases = 0;  ///< sum of expected purchases over prediction_periods
  double expected_value = 0;      ///< sum of CLV
  double top_fifth_value_share = std::numeric_limits<double>::quiet_NaN();  ///< CLV of the top 20%
  double tier_a_customer_share = 0;  ///< customers in ABC tier A
  std::size_t slipping_away = 0;     ///< rows of early_warning
  double nps = std::numeric_limits<double>::quiet_NaN();
  double nps_lower = std::numeric_limits<double>::quiet_NaN();
  double nps_upper = std::numeric_limits<double>::quiet_NaN();
  std::size_t nps_answers = 0;
};

constexpr auto description(std::type_identity<headline_numbers>) {
  using s = headline_numbers;
  return std::tuple{
      describe::field{"customers", &s::customers, "customers in the log"},
      describe::field{"transactions", &s::transactions, "transactions in the log"},
      describe::field{"first_day", &s::first_day, "days since 1970-01-01 of the first transaction"},
      describe::field{"last_day", &s::last_day, "days since 1970-01-01 of the last transaction"},
      describe::field{"revenue", &s::revenue, "sum of the log's amounts"},
      describe::field{"repeat_share", &s::repeat_share, "share of customers with frequency > 0"},
      describe::field{"active_share", &s::active_share,
                      "share of customers with P(alive) >= at_risk_p_alive"},
      describe::field{"expected_purchases", &s::expected_purchases,
                      "sum of expected purchases over prediction_periods"},
      describe::field{"expected_value", &s::expected_value, "sum of CLV"},
      describe::field{"top_fifth_value_share", &s::top_fifth_value_share,
                      "share of CLV held by the top 20% of customers"},
      describe::field{"tier_a_customer_share", &s::tier_a_customer_share,
                      "share of customers in ABC tier A"},
      describe::field{"slipping_away", &s::slipping_away, "rows of early_warning"},
      describe::field{"nps", &s::nps, "Net Promoter Score of the survey (NaN without one)"},
      describe::field{"nps_lower", &s::nps_lower, "lower end of its interval"},
      describe::field{"nps_upper", &s::nps_upper, "upper end of its interval"},
      describe::field{"nps_answers", &s::nps_answers, "survey answers counted (0 without one)"}};
}

/**
 * A model as the pipeline fitted it: clv::fit_result without its parameter type, the parameters
 * as values in the model's order. A front end rebuilds the fitted model from it (predictions,
 * intervals from the covariance, model comparison) instead of fitting again.
 */
struct fitted_model {
  std::vector<std::string> names;        ///< the parameters' names in the model's order
  std::vector<double> params;            ///< the estimate
  std::vector<double> standard_errors;   ///< sqrt(diag(covariance)); NaN if unavailable
  std::vector<double> lower;             ///< estimate − z·se (95%)
  std::vector<double> upper;             ///< estimate + z·se (95%)
  std::vector<double> covariance;        ///< inverse observed information, row-major
  double log_likelihood = std::numeric_limits<double>::quiet_NaN();  ///< Σ w·ℓ at the estimate
  double objective = std::numeric_limits<double>::quiet_NaN();  ///< minimised f at the estimate
  double gradient_norm = std::numeric_limits<double>::quiet_NaN();  ///< ‖∇f‖∞ at the estimate
  std::size_t iterations = 0;            ///< BFGS iterations, all stages and starts
  std::size_t evaluations = 0;           ///< objective evaluations
  std::size_t starts_tried = 0;          ///< starting points used
  bool converged = false;                ///< gradient tolerance met
  std::string status;                    ///< how the minimiser stopped
  std::size_t customers = 0;             ///< rows given
  std::size_t patterns = 0;              ///< rows fitted (distinct rows)
};

constexpr auto description(std::type_identity<fitted_model>) {
  using s = fitted_model;
  return std::tuple{
      describe::field{"names", &s::names, "the parameters' names in the model's order"},
      describe::field{"params", &s::params, "the estimate"},
      describe::field{"standard_errors", &s::standard_errors,
                      "sqrt(diag(covariance)); NaN if unavailable"},
      describe::field{"lower", &s::lower, "estimate − z·se (95%)"},
      describe::field{"upper", &s::upper, "estimate + z·se (95%)"},
      describe::field{"covariance", &s::covariance, "inverse observed information, row-major"},
      describe::field{"log_likelihood", &s::log_likelihood, "Σ w·ℓ at the estimate"},
      describe::field{"objective", &s::objective, "minimised f at the estimate"},
      describe::field{"gradient_norm", &s::gradient_norm, "‖∇f‖∞ at the estimate"},
      describe::field{"iterations", &s::iterations, "BFGS iterations, all stages and starts"},
      describe::field{"evaluations", &s::evaluations, "objective evaluations"},
      describe::field{"starts_tried", &s::starts_tried, "starting points used"},
      describe::field{"converged", &s::converged, "gradient tolerance met"},
      describe::field{"status", &s::status, "how the minimiser stopped"},
      describe::field{"customers", &s::customers, "rows given"},
      describe::field{"patterns", &s::patterns, "rows fitted (distinct rows)"}};
}

/** A table with the name of its CSV file (without `.csv`). */
struct named_table {
  std::string name;
  data::table table;
};

/**
 * Everything `analyze` produced. Tables, in this order when present: customers,
 * model_parameters, calibration_vs_holdout, cumulative_transactions, kmeans_quality, segments,
 * rfm_segments, value_tiers, early_warning, lifecycle_stages, stage_migration, cohort_retention,
 * repeat_purchases, top_customers, then the survey tables nps_by_segment, nps_by_rfm_segment,
 * nps_by_value_tier, nps_by_stage, csat_by_segment, csat_by_rfm_segment, nps_by_month,
 * csat_by_month, nps_overall. Column lists are in docs/pipeline.md.
 */
struct analysis_result {
  std::vector<named_table> tables;
  headline_numbers headline;
  std::vector<note> notes;
  /**
   * The fitted transaction model (kind_of tells which; parameter_names and parameter_values
   * spell it) and its log-likelihood, for plots and checks on the Python side.
   */
  clv::transaction_model_params transaction_params;
  double transaction_log_likelihood = std::numeric_limits<double>::quiet_NaN();
  double gamma_gamma_p = 0, gamma_gamma_q = 0, gamma_gamma_v = 0;
  /** Both fits in full (covariances included), to rebuild the fitted models without refitting. */
  fitted_model transaction_fit, gamma_gamma_fit;
  /** Calibration end in periods since the first day (NaN without calibration check). */
  double calibration_period = std::numeric_limits<double>::quiet_NaN();

  /** The table named `name`, or nullptr. */
  [[nodiscard]] const data::table* find(std::string_view name) const noexcept;
  /** The table named `name`. @throw invalid_input naming the tables present. */
  [[nodiscard]] const data::table& table(std::string_view name) const;
};

}  // namespace crmkit::pipeline
