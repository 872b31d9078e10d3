#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crmkit/clv/gamma_gamma.hpp"
#include "crmkit/clv/params.hpp"
#include "crmkit/data/grouping.hpp"
#include "crmkit/data/table.hpp"
#include "crmkit/data/transaction_log.hpp"
#include "crmkit/pipeline/options.hpp"
#include "crmkit/pipeline/result.hpp"
#include "crmkit/segment/rfm_rules.hpp"
#include "crmkit/survey/aggregate.hpp"

/**
 * The steps of `analyze`, each callable on its own. A step takes the outputs of earlier steps
 * and returns typed per-customer columns and/or tables; `notes` collects soft problems.
 */
namespace crmkit::pipeline {

/**
 * Per-customer summaries in both views, computed from one pass over the log's rows (lifetimes
 * view: repeat purchases; RFM view: every purchase), with days as periods and durations divided
 * by `days_per_period`, observation end = the last transaction's day.
 */
struct customer_summaries {
  std::vector<std::int64_t> customer;     ///< the log's customer keys, ascending
  std::vector<std::string> labels;        ///< the log's customer labels (empty: keys are ids)
  std::vector<double> frequency;          ///< repeat purchase days
  std::vector<double> recency;            ///< last − first purchase, periods
  std::vector<double> T;                  ///< end − first purchase, periods
  std::vector<double> monetary_value;     ///< mean spend of repeat purchase days (0 if none)
  std::vector<double> purchases;          ///< purchase days (RFM frequency)
  std::vector<double> periods_since_last; ///< end − last purchase, periods (RFM recency)
  std::vector<double> mean_spend;         ///< mean spend of every purchase day
  std::vector<double> revenue;            ///< purchases · mean_spend
  std::int64_t first_day = 0;             ///< first transaction, days since 1970-01-01
  std::int64_t last_day = 0;              ///< last transaction (observation end)
  std::int64_t last_timestamp = 0;        ///< last transaction, seconds since 1970-01-01
  std::size_t transactions = 0;
  double total_amount = 0;  ///< sum of the log's amounts
  /**
   * The log grouped by customer and day (every row; `customer` holds the same keys), shared by
   * the steps that walk each customer's purchases (lifecycle, calibration) so that none groups
   * the log again. A step given summaries without it groups the log itself.
   */
  std::shared_ptr<const data::customer_periods> days;
  [[nodiscard]] std::size_t size() const noexcept { return customer.size(); }
};

/**
 * Summarises `log` per customer.
 * @throw invalid_input for an empty log or a log without amounts.
 */
customer_summaries summarize_customers(const data::transaction_log& log,
                                       const analysis_options& options);

/**
 * The transaction model (`transaction_model`) on every customer, Gamma-Gamma on the repeat
 * buyers with positive mean spend.
 */
struct model_fits {
  clv::transaction_model_params purchases;  ///< kind_of(purchases) is the model fitted
  clv::gamma_gamma_params spend;
  fitted_model purchase_fit;  ///< the transaction model's fit in full (parameter_names' order)
  fitted_model spend_fit;     ///< Gamma-Gamma's (p, q, v)
  std::size_t repeat_buyers = 0;             ///< frequency > 0 and monetary_value > 0
  std::size_t zero_spend_repeat_buyers = 0;  ///< frequency > 0 and monetary_value <= 0
};

/**
 * Fits both models (policy in options.hpp).
 * @throw invalid_input when fewer than `min_repeat_customers` customers are repeat buyers with
 *        a positive mean spend; numerical_error when a fit fails outright.
 */
model_fits fit_models(const customer_summaries& customers, const analysis_options& options,
                      std::vector<note>& notes);

/**
 * model_parameters: index parameter; model, estimate, standard_error (the transaction model's
 * four, e.g. BG/NBD's r, alpha, a, b or Pareto/NBD's r, alpha, s, beta, then Gamma-Gamma's).
 */
data::table model_parameters(const model_fits& models);

/**
 * Model periods per month for the CLV sum: lifetimes' 4.345 weeks per month, scaled to periods
 * of `days_per_period` days (4.345 · 7 / days_per_period).
 */
double periods_per_month(const analysis_options& options);

/** Per-customer predictions. */
struct customer_predictions {
  std::vector<double> p_alive;
  std::vector<double> expected_purchases;  ///< over `prediction_periods`
  std::vector<double> expected_spend;      ///< clv::expected_spend (zero-spend policy)
  std::vector<double> clv;  ///< lifetimes' discrete CLV, clv_months, monthly_discount
  std::vector<double> clv_lower;  ///< lower end of the CLV's interval (clv_intervals)
  std::vector<double> clv_upper;  ///< upper end (NaN where unavailable, with a note)
};

/** P(alive), expected purchases, expected spend and CLV for every customer. */
customer_predictions predict_customers(const customer_summaries& customers,
                                       const model_fits& models, const analysis_options& options);

/**
 * Fills predictions.clv_lower and clv_upper: each customer's delta-method interval of the CLV
 * at `clv_interval_level` (clv::lifetime_value_delta_method, centred on predictions.clv), from
 * both fits' covariances. Policy for what cannot be computed in options.hpp (NaN ends and a
 * note_code::clv_intervals_unavailable note).
 */
void clv_intervals(const customer_summaries& customers, const model_fits& models,
                   customer_predictions& predictions, const analysis_options& options,
                   std::vector<note>& notes);

/** The calibration/holdout check. */
struct calibration_tables {
  /** frequency_cal (index), customers, frequency_holdout, model_predictions. */
  data::table calibration_vs_holdout;
  /** week (index: days since the first transaction / days_per_period), actual, predicted. */
  data::table cumulative_transactions;
  double calibration_period = 0;  ///< calibration end, periods since the first day
};

/**
 * Splits the log at end − min(max_holdout_periods, floor(span / 3)) periods, fits the
 * transaction model (`transaction_model`) on the calibration part and compares it with the holdout; the tracking curve counts actual and
 * expected cumulative repeat-and-first transactions per day (lifetimes'
 * expected_cumulative_transactions with freq "D", freq_multiplier days_per_period).
 * @return nothing (with a note) when the log is too short or the calibration fit fails.
 */
std::optional<calibration_tables> calibration_check(const data::transaction_log& log,
                                                    const customer_summaries& customers,
                                                    const analysis_options& options,
                                                    std::vector<note>& notes);

/** k-means segments on standardised log1p(periods_since_last, purchases, mean_spend). */
struct kmeans_segments {
  std::vector<std::int32_t> segment;  ///< 0 = C1, the segment with the highest mean CLV
  std::vector<std::string> names;     ///< C1 .. Ck
  /** k (index), inertia, silhouette, calinski_harabasz, davies_bouldin, chosen (flag). */
  data::table quality;
  /**
   * segment (index), description, customers, share, weeks_since_last, purchases, mean_spend,
   * p_alive, clv, total_clv, revenue.
   */
  data::table profiles;
};

/**
 * Chooses k in [k_min, k_max] by the silhouette on a sample of `k_sample` customers (silhouette
 * on `silhouette_sample` of them), clusters every customer with that k, and numbers segments by
 * mean CLV descending.
 * @throw invalid_input when the sample has no more than k_min distinct profiles.
 */
kmeans_segments segment_customers(const customer_summaries& customers,
                                  const customer_predictions& predictions,
                                  const analysis_options& options, std::vector<note>& notes);

/** RFM scores and named segments. */
struct rfm_assignment {
  std::vector<std::int32_t> r_score, f_score, m_score;
  std::vector<std::int32_t> segment;  ///< index into names
  std::vector<std::string> names;     ///< the rule set's (English) names, then "no rule matches"
  /**
   * rfm_segment (index), definition, customers, share, weeks_since_last, purchases, mean_spend,
   * revenue, revenue_share, p_alive, clv, total_clv, clv_share; by revenue descending; segments
   * without customers left out.
   */
  data::table table;
};

/** Scores R, F, M 1..bins and names segments with the built-in rule set `rfm_rules`. */
rfm_assignment rfm_segments(const customer_summaries& customers,
                            const customer_predictions& predictions,
                            const analysis_options& options);

/** Names of the built-in RFM rule sets (rf_grid, rfm_package, pymc_marketing, chinese_value). */
std::vector<std::string> builtin_rfm_rule_sets();

/** The built-in RFM rule set named `name`. @throw invalid_input naming the known sets. */
segment::rfm_rule_set builtin_rfm_rule_set(std::string_view name);

/** ABC tiers by cumulative CLV share and high/medium/low levels by CLV rank. */
struct tier_assignment {
  std::vector<std::int32_t> tier;   ///< 0 = A, 1 = B, 2 = C
  std::vector<std::int32_t> level;  ///< 0 = high, 1 = medium, 2 = low
  /**
   * tier (index), split, customers, customer_share, clv_share, lowest_clv, total_clv, revenue,
   * revenue_share, p_alive: the three ABC rows, then the three level rows.
   */
  data::table table;
};

tier_assignment value_tiers(const customer_summaries& customers,
                            const customer_predictions& predictions,
                            const analysis_options& options);

/** Lifecycle stages as of the end, migration over the last `migration_periods`, cohorts. */
struct lifecycle_tables {
  std::vector<std::int32_t> stage;  ///< per customer, index into names
  std::vector<std::string> names;   ///< the seven stage names
  /** stage (index), customers, share, p_alive, clv, total_clv, revenue. */
  data::table stages;
  /** "stage on <start>" (index), then one count column per stage ("stage on <end>" in docs). */
  data::table migration;
  /** cohort (index, YYYY-MM), then retention rates for months since acquisition "0", "1", ... */
  data::table cohort_retention;
};

/**
 * Classifies stages with the fitted transaction model as P(alive) model.
 * @return nothing (with a note) when the stages cannot be computed.
 */
std::optional<lifecycle_tables> lifecycle(const data::transaction_log& log,
                                          const customer_summaries& customers,
                                          const model_fits& models,
                                          const customer_predictions& predictions,
                                          const analysis_options& options,
                                          std::vector<note>& notes);

/**
 * customers: customer_id (index; integer keys, or text when the log has labels), frequency,
 * recency, T, monetary_value, purchases, weeks_since_last, mean_spend, revenue, p_alive,
 * expected_purchases_<n>w, expected_spend, clv, clv_lower, clv_upper (when clv_intervals filled
 * them), segment, r_score, f_score, m_score,
 * rfm_segment, value_tier, value_level, stage (when `stages` is given).
 */
data::table customer_table(const customer_summaries& customers,
                           const customer_predictions& predictions,
                           const kmeans_segments& segments, const rfm_assignment& rfm,
                           const tier_assignment& tiers, const lifecycle_tables* stages,
                           const analysis_options& options);

/**
 * The same table, its columns moved out of the arguments instead of copied (the summaries keep
 * their scalar fields; the other arguments are spent).
 */
data::table customer_table(customer_summaries&& customers, customer_predictions&& predictions,
                           kmeans_segments&& segments, rfm_assignment&& rfm,
                           tier_assignment&& tiers, const lifecycle_tables* stages,
                           const analysis_options& options);

/**
 * The early-warning list (the one definition, see options.hpp) from the customers table:
 * customer_id (index), rfm_segment, segment, value_tier, purchases, revenue, last_purchase
 * (date), weeks_since_last, p_alive, clv, value_at_risk; by value_at_risk descending (ties by
 * customer order).
 */
data::table early_warning(const data::table& customers, const customer_summaries& summaries,
                          const analysis_options& options);

/** repeat_purchases: frequency (index), actual, expected (clv::repeat_frequency_histogram). */
data::table repeat_purchases(const customer_summaries& customers, const model_fits& models,
                             const analysis_options& options);

/** The `top_customers` rows of the customers table by CLV descending (ties by order). */
data::table top_customers(const data::table& customers, const analysis_options& options);

/**
 * NPS and CSAT aggregates by the customers table's segment, rfm_segment, value_tier and stage
 * columns, by month, and overall (names in result.hpp). Answers from customers absent from the
 * log are left out with a note.
 * @throw invalid_input when no answer is from a customer of the log, or an NPS answer is
 *        outside 0..10 (naming the row).
 */
std::vector<named_table> survey_tables(const survey_answers& answers,
                                       const data::table& customers,
                                       const analysis_options& options, std::vector<note>& notes);

/**
 * The mergeable state of the survey tables: the survey area's raw accumulators
 * (`survey::tally_nps`, `tally_rating`) of the answers from customers of the log, one table per
 * grouping, and the answers from other customers. States of disjoint answers (parts of the
 * answers on other machines, say) add with `merge_survey_cells`; `survey_tables` of the sum is
 * that of all the answers, bit for bit.
 */
struct survey_cells {
  using nps_cells = survey::cell_table<survey::nps_accumulator>;
  using rating_cells = survey::cell_table<survey::rating_accumulator>;
  /** A grouping column of the customers table: its labels and the answers' cells by label. */
  struct grouping {
    std::string column;
    std::vector<std::string> labels;
    bool drop_unused = false;  ///< labels without an answer are left out of its tables
    nps_cells nps;
    std::optional<rating_cells> csat;  ///< with a CSAT column: the rated answers
  };
  std::vector<grouping> groups;
  std::optional<nps_cells> nps_by_month;     ///< with answer dates
  std::optional<rating_cells> csat_by_month;  ///< with answer dates and a CSAT column
  nps_cells overall;
  std::size_t unknown = 0;        ///< answers from customers not in the log
  std::size_t first_unknown = 0;  ///< the first of them: its position among all answers
  std::int64_t first_unknown_key = 0;  ///< and its customer key
};

/**
 * The customers table's columns the survey tables group the answers by, in table order, and
 * whether a column's labels without answers are left out of its tables (stage: when the table
 * has it).
 */
inline constexpr std::array<std::pair<std::string_view, bool>, 4> survey_groupings{
    {{"segment", false}, {"rfm_segment", true}, {"value_tier", false}, {"stage", false}}};

/** A grouping of the survey answers: a text column of the customers table, per answer. */
struct survey_answer_groups {
  std::string column;
  std::vector<std::string> labels;
  bool drop_unused = false;          ///< labels without an answer are left out of its tables
  std::vector<std::int32_t> codes;   ///< per answer, into `labels` (any value when not in the log)
};

/**
 * The survey tables' state of `answers` (at `positions` among all answers; empty: their
 * indexes): answers with
 * `in_log[i]` = 0 are from customers not in the log (counted, the first remembered); the others
 * are grouped by each of `groups`, by month of `answers.day` and overall; those with a CSAT
 * (not -1) also by the first two groupings and by month.
 * @throw invalid_input for mismatched sizes or answers outside their scales (naming the row).
 */
survey_cells tally_survey(const survey_answers& answers, std::span<const std::uint8_t> in_log,
                          const std::vector<survey_answer_groups>& groups,
                          const analysis_options& options,
                          std::span<const std::int64_t> positions = {});

/** Adds the answers of `other` to `into` (the same groupings; `survey::merge_cells`). */
void merge_survey_cells(survey_cells& into, const survey_cells& other);

/**
 * The survey tables (names in result.hpp) of merged accumulators: NPS by each grouping, CSAT by
 * the first two when answers are rated, NPS and CSAT by month, NPS overall; a note on the
 * answers from other customers, and on tables with small cells.
 * @throw invalid_input when no answer is from a customer of the log.
 */
std::vector<named_table> survey_tables(const survey_cells& cells, const analysis_options& options,
                                       std::vector<note>& notes);

/** The headline numbers from the finished tables. */
headline_numbers headline(const customer_summaries& customers,
                          const customer_predictions& predictions,
                          const std::vector<named_table>& tables,
                          const analysis_options& options);

}  // namespace crmkit::pipeline
