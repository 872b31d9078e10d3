#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crmkit/core/memory.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/grouping.hpp"
#include "crmkit/lifecycle/stage.hpp"

/**
 * The stage engine shared by classify, classify_history, the funnel and early warning: the log
 * grouped by customer once, the population gap per date, the model's unit check, and a parallel
 * walk that evaluates every customer at every date.
 */
namespace crmkit::lifecycle::detail {

/** Customers per parallel work unit: fixed, so nothing depends on the thread count. */
inline constexpr std::size_t customers_per_chunk = 2048;

/** A customer's stage at one date and the quantities the rules used. */
struct customer_state {
  stage value = stage::prospect;
  stage_rule rule = stage_rule::no_purchase;
  std::uint32_t purchases = 0;
  double tenure = 0, recency = 0, gap = 0;
  bool own_gap = false;
  double window = 0, rate_trend = 0, spend_trend = 0, p_alive = 0, expected = 0, spend = 0;
  std::int64_t last_win_back = no_period;  ///< relative period of the last win-back purchase
};

/** What the evaluation of one date needs besides the customer. */
struct date_context {
  std::int64_t end;       ///< relative period of the date
  double population_gap;  ///< G
  bool with_expected;     ///< compute the model's expected purchases
  /** Put the model's P(alive) in every state; otherwise only where a rule reads it (NaN
   * elsewhere: the stage is the same). */
  bool with_p_alive = true;
};

/**
 * The running median of integers, as twice its value (an exact integer): a sorted array while
 * short (a customer's few gaps), two heaps from `sorted_limit` values on.
 */
class running_median {
 public:
  void clear() noexcept {
    count_ = 0;
    low_.clear();
    high_.clear();
  }
  void push(std::int64_t value) {
    if (count_ == sorted_limit) {
      push_to_heaps(value);
      return;
    }
    std::size_t at = count_++;
    for (; at > 0 && sorted_[at - 1] > value; --at) sorted_[at] = sorted_[at - 1];
    sorted_[at] = value;
  }
  /** Twice the median of the values pushed since `clear` (at least one). */
  [[nodiscard]] std::int64_t doubled() const noexcept {
    if (low_.empty()) {
      return count_ % 2 == 1 ? 2 * sorted_[count_ / 2]
                             : sorted_[count_ / 2 - 1] + sorted_[count_ / 2];
    }
    return low_.size() > high_.size() ? 2 * low_.front() : low_.front() + high_.front();
  }

 private:
  static constexpr std::size_t sorted_limit = 64;
  void push_to_heaps(std::int64_t value);

  std::array<std::int64_t, sorted_limit> sorted_{};
  std::size_t count_ = 0;  // values in sorted_ (the heaps hold every value once not empty)
  std::vector<std::int64_t> low_, high_;
};

/**
 * One customer's purchase periods (relative to the log's first period) and their spend, with
 * twice the running median of its gaps (date-independent: the own typical gap at any date, and
 * before each gap for the win-back rule), all viewed in the engine's storage.
 */
class customer_history {
 public:
  customer_history(const stage_rules& rules, const alive_model* model, bool with_amount)
      : rules_(rules), model_(model), with_amount_(with_amount) {}

  /**
   * Writes twice the running median of the gaps of `periods` (distinct purchase periods,
   * ascending) to `doubled_medians` (periods.size() − 1 values, none for an empty list).
   */
  void compute_medians(std::span<const std::uint32_t> periods,
                       std::span<std::int64_t> doubled_medians);
  /** Views a customer's periods, their totals (empty when only the periods and gaps are used,
   * not `evaluate` or `spend`) and the medians `compute_medians` wrote for them. */
  void load(std::span<const std::uint32_t> periods, std::span<const double> totals,
            std::span<const std::int64_t> doubled_medians) noexcept {
    periods_ = periods;
    spend_ = totals;
    doubled_medians_ = doubled_medians;
  }

  [[nodiscard]] std::span<const std::uint32_t> periods() const noexcept { return periods_; }
  [[nodiscard]] std::span<const double> spend() const noexcept { return spend_; }
  /** Purchase periods up to relative period `end`. */
  [[nodiscard]] std::size_t purchases_up_to(std::int64_t end) const noexcept {
    if (end < 0) return 0;
    const auto last = static_cast<std::uint64_t>(end);
    if (periods_.empty() || periods_.back() <= last) return periods_.size();
    return static_cast<std::size_t>(
        std::upper_bound(periods_.begin(), periods_.end(), last,
                         [](std::uint64_t value, std::uint32_t period) { return value < period; }) -
        periods_.begin());
  }
  /** Twice the median of the first `n − 1` gaps (n ≥ 2): an exact integer. */
  [[nodiscard]] std::int64_t doubled_median_gap(std::size_t n) const noexcept {
    return doubled_medians_[n - 2];
  }
  /** The customer's state at each of `dates` (ascending), into `states`. */
  void evaluate(std::span<const date_context> dates, std::span<customer_state> states);

 private:
  /** The state at one date; `carry` holds what the previous (earlier) date found. */
  struct carry {
    std::size_t n = 0;          // purchases up to the previous date
    double spend = 0;           // their spend, added in purchase order
    std::size_t own_win_back = 0;  // last win-back among them judged by its own median, 0: none
  };
  void evaluate(const date_context& date, customer_state& state, carry& previous);
  [[nodiscard]] bool win_back_gap(std::size_t k, double population_gap) const noexcept;
  /** The model's P(alive) of x = frequency repeat purchases, t_x and age in model units. */
  [[nodiscard]] double probability_alive(std::size_t frequency, double x, double t_x, double age);

  const stage_rules& rules_;
  const alive_model* model_;
  bool with_amount_;
  std::span<const std::uint32_t> periods_;
  std::span<const double> spend_;
  // doubled_medians_[k]: twice the median of gaps 0..k
  std::span<const std::int64_t> doubled_medians_;
  running_median median_;
  // The model's log_dead_odds_base per frequency (NaN: not computed yet), where it has one
  std::vector<double> dead_odds_bases_;
};

/** The log grouped once, evaluated at a list of dates. */
class stage_engine {
 public:
  /**
   * Validates everything, groups the rows up to the last date and computes G per date.
   * `date_ticks` must be ascending (checked, naming `dates_argument`).
   */
  stage_engine(std::string_view function, const log_view& log, const stage_options& options,
               std::span<const std::int64_t> date_ticks, std::string_view dates_argument,
               bool strict_population_gap);
  /**
   * The same over a log grouped already, whose period unit must be options.rules.freq and whose
   * last period must be the last date's; `grouped` must outlive the engine.
   */
  stage_engine(std::string_view function, const data::customer_periods& grouped,
               const stage_options& options, std::span<const std::int64_t> date_ticks,
               std::string_view dates_argument, bool strict_population_gap);
  stage_engine(const stage_engine&) = delete;
  stage_engine& operator=(const stage_engine&) = delete;

  [[nodiscard]] const data::checked_log& log() const noexcept { return log_; }
  [[nodiscard]] const stage_options& options() const noexcept { return options_; }
  [[nodiscard]] std::span<const date_context> dates() const noexcept { return dates_; }
  [[nodiscard]] std::size_t rows_used() const noexcept { return grouped_->rows_used(); }
  /** Customers with a purchase up to the last date, ascending keys. */
  [[nodiscard]] std::span<const std::int64_t> keys() const noexcept { return keys_; }
  /** Keys of customers and prospects, merged ascending. */
  [[nodiscard]] std::span<const std::int64_t> all_keys() const noexcept { return all_keys_; }
  /** Position in all_keys of grouped customer j. */
  [[nodiscard]] std::size_t position(std::size_t j) const noexcept { return position_[j]; }
  /** Whether all_keys[i] is a prospect. */
  [[nodiscard]] bool is_prospect(std::size_t i) const noexcept { return prospect_[i] != 0; }
  [[nodiscard]] double model_time_scale() const noexcept { return model_time_scale_; }
  [[nodiscard]] const coded_warnings& warnings() const noexcept { return warnings_; }
  /** Sets whether date i computes the model's expected purchases. */
  void want_expected(std::size_t i) { dates_[i].with_expected = options_.model.has_value(); }
  /** Leaves P(alive) out of the states where no rule reads it (only the stages are used). */
  void stages_only() {
    for (auto& date : dates_) date.with_p_alive = false;
  }

  /**
   * Calls `sink(j, history, states)` for every grouped customer j, in parallel, with its
   * states at every date (states[i] for dates()[i]).
   */
  template <class Sink>
  void run(Sink&& sink) const {
    const data::customer_periods& grouped = *grouped_;
    parallel_for(
        grouped.customers(),
        [&](std::size_t begin, std::size_t end) {
          customer_history history(options_.rules, model_pointer(), with_amount_);
          std::vector<customer_state> states(dates_.size());
          for (std::size_t j = begin; j < end; ++j) {
            history.load(grouped.periods(j), grouped.totals(j), doubled_medians(j));
            history.evaluate(dates_, states);
            sink(j, static_cast<const customer_history&>(history),
                 std::span<const customer_state>(states));
          }
        },
        customers_per_chunk);
  }

 private:
  /** Customer j's doubled running medians, computed once by scan_customers. */
  [[nodiscard]] std::span<const std::int64_t> doubled_medians(std::size_t j) const noexcept {
    return {medians_.data() + median_begin_[j], median_begin_[j + 1] - median_begin_[j]};
  }
  [[nodiscard]] const alive_model* model_pointer() const noexcept {
    return options_.model ? &*options_.model : nullptr;
  }
  void prepare(std::string_view function, bool strict_population_gap);
  void scan_customers(std::string_view function, bool strict_population_gap);
  void check_model_unit(std::string_view function, std::span<const double> x,
                        std::span<const double> t_x, std::span<const double> age,
                        std::size_t repeat_buyers);

  stage_options options_;
  std::vector<std::int64_t> prospects_;
  data::checked_log log_;
  bool with_amount_;
  std::vector<date_context> dates_;
  std::optional<data::customer_periods> owned_;
  const data::customer_periods* grouped_;
  std::vector<std::int64_t> keys_, all_keys_;
  std::vector<std::size_t> position_;
  std::vector<std::uint8_t> prospect_;
  // Customer j's medians: medians_[median_begin_[j] .. median_begin_[j + 1])
  std::vector<std::size_t> median_begin_;
  memory::huge_buffer<std::int64_t> medians_;
  double model_time_scale_;
  coded_warnings warnings_;
};

/** Validates the thresholds, naming the offending one. */
void check_rules(std::string_view function, const stage_rules& rules);

}  // namespace crmkit::lifecycle::detail
