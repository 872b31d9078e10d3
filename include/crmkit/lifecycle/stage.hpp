#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>
#include <vector>

#include "crmkit/clv/params.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/warning.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/data/transaction_log.hpp"

/**
 * Relationship lifecycle stages (Dwyer, Schurr & Oh 1987; 陈明亮's four stages: exploration,
 * formation, stability, decline), made quantitative after the practitioner rules collected in
 * crmkit's SEGMENTATION-NOTES §4.4: recency measured in units of the customer's own typical
 * inter-purchase gap, and the trend of purchase rate and spend across recent windows, refined by
 * the P(alive) of a fitted BG/NBD-family model (Fader, Hardie & Lee 2005) when one is given.
 *
 * Definitions, for a customer as of period E (the period of the as-of date; purchases in later
 * periods are ignored, those in E count). Times are in periods of `stage_rules::freq` (days by
 * default); all rows of a customer in one period make one purchase whose amount is their sum.
 * - p_1 < ... < p_n: the customer's purchase periods; n = purchases; tenure = E − p_1;
 *   recency r = E − p_n; gaps d_k = p_{k+1} − p_k.
 * - G, the population gap: the median over customers with n ≥ 2 of their median gap
 *   (`stage_rules::population_gap` replaces it).
 * - g, the typical gap: the median of the customer's gaps when n ≥ own_gap_min_purchases, else G.
 * - W = max(min_window, window_gaps · g); the last window is (E − W, E], the previous one
 *   (E − 2W, E − W]. The trends are defined when the customer's observed span covers both,
 *   tenure + 1 ≥ 2W: rate trend = (c₁ − c₀) / max(c₁, c₀) with c₁, c₀ the purchases in the last
 *   and previous window; spend trend = (s₁ − s₀) / max(|s₁|, |s₀|) with their spends (0 when both
 *   are 0). Both lie in [−1, 1] for non-negative spend.
 * - A win-back purchase: p_{k+1} is one when, on the period before it, the recency rule called
 *   the customer churned: p_{k+1} − 1 − p_k > churn_gaps · g_k, with g_k the typical gap of the
 *   purchases p_1..p_k (own median if k ≥ own_gap_min_purchases, else G).
 *
 * Rules, the first that holds decides (`stage_rule` names each):
 * 1. churned: r > churn_gaps · g; or (model) P(alive) < p_alive_churned.
 * 2. at_risk (decline): r > at_risk_gaps · g; or rate trend ≤ −δ; or spend trend ≤ −δ; or
 *    (model) P(alive) < p_alive_at_risk. δ = trend_threshold.
 * 3. reactivated: the last win-back purchase and the purchases after it number at most
 *    reactivated_max_purchases.
 * 4. new (exploration): n ≤ new_max_purchases, or tenure < new_tenure_gaps · G.
 * 5. developing (formation): trends undefined, or a trend ≥ +δ, or n < stable_min_purchases.
 * 6. stable (stability): otherwise (|trends| < δ, n ≥ stable_min_purchases).
 * A prospect is a caller-supplied customer without a purchase up to E.
 */
namespace crmkit::data {
class customer_periods;  // grouping.hpp
}  // namespace crmkit::data

namespace crmkit::lifecycle {

/** Lifecycle stages, in lifecycle order. */
enum class stage : std::uint8_t {
  prospect,      ///< known, no purchase yet
  new_customer,  ///< exploration (考察期): first purchases
  developing,    ///< formation (形成期): purchases rising or history still short
  stable,        ///< stability (稳定期): steady purchasing
  at_risk,       ///< decline (退化期): overdue or falling
  churned,       ///< lost: silent far beyond the customer's rhythm
  reactivated,   ///< won back after churning
};

/** Number of stages. */
inline constexpr std::size_t stage_count = 7;

constexpr auto description(std::type_identity<stage>) {
  return describe::enum_table<stage, 7>{"stage",
                                        {{{stage::prospect, "prospect"},
                                          {stage::new_customer, "new"},
                                          {stage::developing, "developing"},
                                          {stage::stable, "stable"},
                                          {stage::at_risk, "at_risk"},
                                          {stage::churned, "churned"},
                                          {stage::reactivated, "reactivated"}}}};
}

/** "prospect", "new", "developing", "stable", "at_risk", "churned", "reactivated". */
constexpr std::string_view stage_name(stage value) noexcept {
  return describe::name_of(value);
}

/** The rule that decided a customer's stage (the "explain" output). */
enum class stage_rule : std::uint8_t {
  no_purchase,               ///< prospect
  churned_recency,           ///< r > churn_gaps · g
  churned_model,             ///< P(alive) < p_alive_churned
  at_risk_recency,           ///< r > at_risk_gaps · g
  at_risk_rate_trend,        ///< rate trend ≤ −δ
  at_risk_spend_trend,       ///< spend trend ≤ −δ
  at_risk_model,             ///< P(alive) < p_alive_at_risk
  reactivated_win_back,      ///< few purchases since a win-back purchase
  new_few_purchases,         ///< n ≤ new_max_purchases
  new_short_tenure,          ///< tenure < new_tenure_gaps · G
  developing_short_history,  ///< trends undefined (tenure + 1 < 2W)
  developing_rising_rate,    ///< rate trend ≥ δ
  developing_rising_spend,   ///< spend trend ≥ δ
  developing_few_purchases,  ///< n < stable_min_purchases
  stable_steady,             ///< none of the above
};

/** Number of rules. */
inline constexpr std::size_t stage_rule_count = 15;

constexpr auto description(std::type_identity<stage_rule>) {
  return describe::enum_table<stage_rule, 15>{
      "rule",
      {{{stage_rule::no_purchase, "no_purchase"},
        {stage_rule::churned_recency, "churned_recency"},
        {stage_rule::churned_model, "churned_model"},
        {stage_rule::at_risk_recency, "at_risk_recency"},
        {stage_rule::at_risk_rate_trend, "at_risk_rate_trend"},
        {stage_rule::at_risk_spend_trend, "at_risk_spend_trend"},
        {stage_rule::at_risk_model, "at_risk_model"},
        {stage_rule::reactivated_win_back, "reactivated_win_back"},
        {stage_rule::new_few_purchases, "new_few_purchases"},
        {stage_rule::new_short_tenure, "new_short_tenure"},
        {stage_rule::developing_short_history, "developing_short_history"},
        {stage_rule::developing_rising_rate, "developing_rising_rate"},
        {stage_rule::developing_rising_spend, "developing_rising_spend"},
        {stage_rule::developing_few_purchases, "developing_few_purchases"},
        {stage_rule::stable_steady, "stable_steady"}}}};
}

/** The rule's snake_case name, e.g. "churned_recency". */
constexpr std::string_view stage_rule_name(stage_rule value) noexcept {
  return describe::name_of(value);
}

/** Every threshold of the stage rules (see the namespace comment), with its default. */
struct stage_rules {
  /** Period unit of purchases and of every time below (pandas `to_period` semantics). */
  data::period_unit freq = data::period_unit::day;
  /** At risk when r > at_risk_gaps · g (1.5: the Shopify churn-risk rule). */
  double at_risk_gaps = 1.5;
  /** Churned when r > churn_gaps · g (three missed purchase cycles). */
  double churn_gaps = 3.0;
  /** δ: a trend ≤ −δ is decline, ≥ +δ growth (0.5: the last window at most half the previous). */
  double trend_threshold = 0.5;
  /** W = max(min_window, window_gaps · g). */
  double window_gaps = 3.0;
  /** Shortest trend window, in periods (90 days at the default freq). */
  double min_window = 90;
  /** Stable needs at least this many purchases. */
  std::size_t stable_min_purchases = 4;
  /** New while n ≤ new_max_purchases ... */
  std::size_t new_max_purchases = 1;
  /** ... or tenure < new_tenure_gaps · G. */
  double new_tenure_gaps = 2.0;
  /** g is the customer's own median gap from this many purchases on (else G). */
  std::size_t own_gap_min_purchases = 3;
  /** Reactivated while the win-back purchase and those after it number at most this. */
  std::size_t reactivated_max_purchases = 2;
  /** With a model: at risk when P(alive) < p_alive_at_risk (Amperity's "at risk" band). */
  double p_alive_at_risk = 0.5;
  /** With a model: churned when P(alive) < p_alive_churned (Amperity's "lost"). */
  double p_alive_churned = 0.2;
  /** G in periods; empty: computed from the log as of each date. */
  std::optional<double> population_gap = std::nullopt;
};

constexpr auto description(std::type_identity<stage_rules>) {
  using s = stage_rules;
  return std::tuple{
      describe::field{"freq", &s::freq,
                      "Period unit of purchases and of every time below (pandas `to_period` "
                      "semantics)"},
      describe::field{"at_risk_gaps", &s::at_risk_gaps,
                      "At risk when r > at_risk_gaps · g (1.5: the Shopify churn-risk rule)"},
      describe::field{"churn_gaps", &s::churn_gaps,
                      "Churned when r > churn_gaps · g (three missed purchase cycles)"},
      describe::field{"trend_threshold", &s::trend_threshold,
                      "δ: a trend ≤ −δ is decline, ≥ +δ growth (0.5: the last window at most "
                      "half the previous)"},
      describe::field{"window_gaps", &s::window_gaps, "W = max(min_window, window_gaps · g)"},
      describe::field{"min_window", &s::min_window,
                      "Shortest trend window, in periods (90 days at the default freq)"},
      describe::field{"stable_min_purchases", &s::stable_min_purchases,
                      "Stable needs at least this many purchases"},
      describe::field{"new_max_purchases", &s::new_max_purchases,
                      "New while n ≤ new_max_purchases ..."},
      describe::field{"new_tenure_gaps", &s::new_tenure_gaps,
                      "... or tenure < new_tenure_gaps · G."},
      describe::field{"own_gap_min_purchases", &s::own_gap_min_purchases,
                      "g is the customer's own median gap from this many purchases on (else G)"},
      describe::field{"reactivated_max_purchases", &s::reactivated_max_purchases,
                      "Reactivated while the win-back purchase and those after it number at "
                      "most this"},
      describe::field{"p_alive_at_risk", &s::p_alive_at_risk,
                      "With a model: at risk when P(alive) < p_alive_at_risk (Amperity's \"at "
                      "risk\" band)"},
      describe::field{"p_alive_churned", &s::p_alive_churned,
                      "With a model: churned when P(alive) < p_alive_churned (Amperity's "
                      "\"lost\")"},
      describe::field{"population_gap", &s::population_gap,
                      "G in periods; empty: computed from the log as of each date"}};
}

/**
 * A fitted transaction model (BG/NBD, MBG/NBD or Pareto/NBD) that refines the decline and churn
 * calls.
 *
 * Its time unit must be stated: `time_unit` is the length of the model's unit in periods of
 * `stage_rules::freq` (a model fitted in weeks on a day-based stage calendar: 7). Before use the
 * unit is checked against the log: with the log's (x, t_x, T) of up to 5,000 customers
 * (systematic sample in key order) as of the last date, the log-likelihood of the model with its
 * time-scale parameters (α; α and β of Pareto/NBD) multiplied by c is maximised over c on a grid
 * 10^(k/8), |k| ≤ 24. Since they carry the model's time unit, c ≈ 1 when the unit is right and
 * c ≈ 7 for a model fitted in weeks but declared in days. A best c outside [1/unit_tolerance, unit_tolerance] is refused (invalid_input). With
 * fewer than `min_repeat_buyers` customers with a repeat purchase the check is skipped and a
 * warning recorded.
 */
struct alive_model {
  clv::transaction_model_params params;
  /** The model's time unit in periods of the stage calendar. */
  double time_unit = 1;
  /** Largest accepted factor between the model's time unit and the best-fitting one. */
  double unit_tolerance = 3;
  /** Repeat buyers needed for the unit check. */
  std::size_t min_repeat_buyers = 30;
};

constexpr auto description(std::type_identity<alive_model>) {
  using s = alive_model;
  return std::tuple{describe::field{"time_unit", &s::time_unit,
                                    "The model's time unit in periods of the stage calendar"},
                    describe::field{"unit_tolerance", &s::unit_tolerance,
                                    "Largest accepted factor between the model's time unit and the "
                                    "best-fitting one"},
                    describe::field{"min_repeat_buyers", &s::min_repeat_buyers,
                                    "Repeat buyers needed for the unit check"}};
}

/**
 * A transaction log as columns: one customer key and one timestamp (ticks of
 * 1 / ticks_per_second seconds since 1970-01-01, no time zone) per row; amounts optional.
 */
struct log_view {
  std::span<const std::int64_t> customer;
  std::span<const std::int64_t> timestamp;
  std::span<const double> amount;  ///< empty: no amounts (spend trend and value unavailable)
  std::int64_t ticks_per_second = 1;

  /** The columns of a `data::transaction_log` (seconds). */
  static log_view of(const data::transaction_log& log) noexcept {
    return {log.customer, log.timestamp, log.amount, 1};
  }
};

/** Settings shared by every lifecycle computation. */
struct stage_options {
  stage_rules rules;
  /** Refines decline and churn when set. */
  std::optional<alive_model> model = std::nullopt;
  /** Known customers; those without a purchase up to a date are prospects then. */
  std::span<const std::int64_t> prospects;
};

/** Marker of an absent period or time in integer columns. */
inline constexpr std::int64_t no_period = std::numeric_limits<std::int64_t>::min();

/**
 * Stages as of one date, one row per customer (those with a purchase up to the date, and the
 * prospects), in ascending key order, with the quantities the rules used.
 */
struct stage_table {
  std::vector<std::int64_t> customer;
  std::vector<stage> stages;
  std::vector<stage_rule> rules;
  std::vector<std::uint32_t> purchases;  ///< n, purchase periods up to the date
  std::vector<double> tenure;            ///< periods; NaN for prospects (so are the next)
  std::vector<double> recency;
  std::vector<double> typical_gap;          ///< g
  std::vector<std::uint8_t> own_gap;        ///< 1 when g is the customer's own median gap
  std::vector<double> window;               ///< W
  std::vector<double> rate_trend;           ///< NaN when undefined
  std::vector<double> spend_trend;          ///< NaN when undefined or without amounts
  std::vector<double> p_alive;              ///< NaN without a model
  std::vector<double> expected_purchases;   ///< model: expected purchases in the next W; else NaN
  std::vector<double> total_spend;          ///< spend up to the date (0 without amounts)
  std::vector<std::int64_t> last_win_back;  ///< start (ticks) of the last win-back period
  std::int64_t as_of = 0;                   ///< start of the as-of period, in ticks
  double population_gap = 0;                ///< G as used
  double model_time_scale = 0;              ///< the unit check's best c; NaN when not checked
  std::size_t rows_used = 0;                ///< rows up to the as-of period
  std::size_t rows_after = 0;               ///< rows after it, ignored
  coded_warnings warnings;                  ///< soft problems (unit check skipped)

  [[nodiscard]] std::size_t size() const noexcept { return customer.size(); }
};

constexpr auto description(std::type_identity<stage_table>) {
  using s = stage_table;
  return std::tuple{
      describe::field{"customer", &s::customer, "customer keys, ascending"},
      describe::field{"stage", &s::stages, "stage codes (index STAGES)"},
      describe::field{"rule", &s::rules, "codes of the deciding rule (index RULES)"},
      describe::field{"purchases", &s::purchases, "n, purchase periods up to the date"},
      describe::field{"tenure", &s::tenure, "periods since the first purchase; NaN for prospects"},
      describe::field{"recency", &s::recency, "periods since the last purchase"},
      describe::field{"typical_gap", &s::typical_gap, "g"},
      describe::field{"own_gap", &s::own_gap, "1 when g is the customer's own median gap"},
      describe::field{"window", &s::window, "W"},
      describe::field{"rate_trend", &s::rate_trend, "NaN when undefined"},
      describe::field{"spend_trend", &s::spend_trend, "NaN when undefined or without amounts"},
      describe::field{"p_alive", &s::p_alive, "NaN without a model"},
      describe::field{"expected_purchases", &s::expected_purchases,
                      "model: expected purchases in the next W; else NaN"},
      describe::field{"total_spend", &s::total_spend, "spend up to the date (0 without amounts)"},
      describe::field{"last_win_back", &s::last_win_back,
                      "start (ticks) of the last win-back period"},
      describe::field{"as_of", &s::as_of, "start of the as-of period, in ticks"},
      describe::field{"population_gap", &s::population_gap, "G as used"},
      describe::field{"model_time_scale", &s::model_time_scale,
                      "the unit check's best c; NaN when not checked"},
      describe::field{"rows_used", &s::rows_used, "rows up to the as-of period"},
      describe::field{"rows_after", &s::rows_after, "rows after it, ignored"},
      describe::field{"warnings", &s::warnings, "soft problems (unit check skipped)"}};
}

/**
 * Classifies every customer as of `as_of` (ticks; default the last timestamp), ignoring later
 * purchases. The input needs no order: any permutation of the rows gives the same table, for
 * any thread count.
 *
 * @throw invalid_input for a bad log (see data::check_log), bad thresholds (naming them), an
 *        as-of date before every purchase, a log where no customer has two purchase periods up
 *        to the date while `population_gap` is unset (G is then undefined), or a model whose
 *        time unit disagrees with the log (see alive_model).
 *
 * **Example**:
 *
 *     auto table = crmkit::lifecycle::classify(crmkit::lifecycle::log_view::of(log), {});
 *     // table.stages[j], table.rules[j] for customer table.customer[j]
 */
stage_table classify(const log_view& log, const stage_options& options = {},
                     std::optional<std::int64_t> as_of = std::nullopt);

/**
 * Stages at several dates: `stages[i * customers.size() + j]` is customer j's stage at
 * `dates[i]`; a customer without purchases by a date (and not a prospect) has no stage then,
 * marked by `present[i * customers.size() + j] = 0`. Each date is evaluated as `classify` would
 * (its own G); the model's P(alive) is used, its expected purchases are not computed.
 */
struct stage_history {
  std::vector<std::int64_t> customer;  ///< customers with a purchase by the last date, prospects
  std::vector<std::int64_t> dates;     ///< the dates as given (ticks)
  std::vector<stage> stages;           ///< date-major
  std::vector<std::uint8_t> present;   ///< date-major
  std::vector<double> population_gap;  ///< G per date
  coded_warnings warnings;
  std::int64_t ticks_per_second = 1;  ///< of `dates`

  [[nodiscard]] stage at(std::size_t date, std::size_t customer_index) const noexcept {
    return stages[date * customer.size() + customer_index];
  }
  [[nodiscard]] bool is_present(std::size_t date, std::size_t customer_index) const noexcept {
    return present[date * customer.size() + customer_index] != 0;
  }
};

constexpr auto description(std::type_identity<stage_history>) {
  using s = stage_history;
  return std::tuple{describe::field{"customer", &s::customer,
                                    "customers with a purchase by the last date, prospects"},
                    describe::field{"dates", &s::dates, "the dates as given (ticks)"},
                    describe::field{"stage", &s::stages, "stage codes, date-major"},
                    describe::field{"present", &s::present, "date-major"},
                    describe::field{"population_gap", &s::population_gap, "G per date"},
                    describe::field{"warnings", &s::warnings, "soft problems"}};
}

/**
 * Stages at each of `dates` (ticks, ascending). Dates must not precede the first purchase.
 * @throw invalid_input as classify, and for no dates or dates out of order (naming the index).
 */
stage_history classify_history(const log_view& log, std::span<const std::int64_t> dates,
                               const stage_options& options = {});

/**
 * `classify_history` over a log grouped already (e.g. the one grouping the pipeline's steps
 * share): the same result, without grouping the rows again.
 * @throw invalid_input as classify_history, and when the grouping's period unit is not
 *        options.rules.freq or its last period is not the last date's.
 */
stage_history classify_history(const data::customer_periods& grouped,
                               std::span<const std::int64_t> dates,
                               const stage_options& options = {});

}  // namespace crmkit::lifecycle
