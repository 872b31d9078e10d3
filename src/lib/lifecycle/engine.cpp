#include "engine.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <type_traits>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <fmt/format.h>

#include "crmkit/clv/pareto_nbd.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"

namespace crmkit::lifecycle {

namespace detail {
namespace {

using std::int64_t;
using std::size_t;

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
// The unit check: at most this many customers, time scales 10^(k/8) for |k| <= 24.
constexpr size_t unit_check_sample = 5000;
constexpr int unit_check_steps = 24;

/** (c₁ − c₀) / max(|c₁|, |c₀|), 0 when both are 0. */
double relative_change(double current, double previous) noexcept {
  const double scale = std::max(std::abs(current), std::abs(previous));
  return scale > 0 ? (current - previous) / scale : 0.0;
}

template <class Visit>
auto visit_model(const alive_model& model, Visit&& visit) {
  return std::visit(std::forward<Visit>(visit), model.params);
}

/** Two-heap running median of integers. */
void push_median(std::vector<int64_t>& low, std::vector<int64_t>& high, int64_t value) {
  if (low.empty() || value <= low.front()) {
    low.push_back(value);
    std::push_heap(low.begin(), low.end());
  } else {
    high.push_back(value);
    std::push_heap(high.begin(), high.end(), std::greater<>());
  }
  if (low.size() > high.size() + 1) {
    std::pop_heap(low.begin(), low.end());
    high.push_back(low.back());
    low.pop_back();
    std::push_heap(high.begin(), high.end(), std::greater<>());
  } else if (high.size() > low.size()) {
    std::pop_heap(high.begin(), high.end(), std::greater<>());
    low.push_back(high.back());
    high.pop_back();
    std::push_heap(low.begin(), low.end());
  }
}

}  // namespace

void running_median::push_to_heaps(int64_t value) {
  if (low_.empty()) {
    low_.assign(sorted_.begin(), sorted_.begin() + sorted_limit / 2);
    high_.assign(sorted_.begin() + sorted_limit / 2, sorted_.end());
    std::make_heap(low_.begin(), low_.end());
    std::make_heap(high_.begin(), high_.end(), std::greater<>());
  }
  push_median(low_, high_, value);
}

namespace {

#if defined(__SSE2__)
/**
 * Twice the running median of the gaps of `periods` when there are at most 8·R gaps, none
 * above 2^15 − 1: the sorted gaps sit in R registers of eight 16-bit lanes, padded with
 * 2^15 − 1, and inserting v writes every lane i as max(s[i−1], min(s[i], v)) with s[−1] = 0
 * (below every gap, each ≥ 1): the lanes below v keep theirs, the first above takes v, the
 * rest shift up one. No data-dependent branch, a few SSE2 min/max a gap.
 */
template <size_t R>
void small_running_medians(std::span<const std::uint32_t> periods,
                           std::span<int64_t> doubled_medians) noexcept {
  __m128i sorted[R];  // NOLINT(*-avoid-c-arrays): std::array drops __m128i's alignment attribute
  for (auto& each : sorted) each = _mm_set1_epi16(std::numeric_limits<std::int16_t>::max());
  alignas(16) std::array<std::int16_t, 8 * R> lanes;
  for (size_t k = 0; k + 1 < periods.size(); ++k) {
    const __m128i value = _mm_set1_epi16(static_cast<std::int16_t>(periods[k + 1] - periods[k]));
    for (size_t r = R; r-- > 0;) {
      __m128i below = _mm_slli_si128(sorted[r], 2);
      if (r > 0) below = _mm_or_si128(below, _mm_srli_si128(sorted[r - 1], 14));
      sorted[r] = _mm_max_epi16(below, _mm_min_epi16(sorted[r], value));
    }
    for (size_t r = 0; r < R; ++r) {
      _mm_store_si128(reinterpret_cast<__m128i*>(lanes.data() + 8 * r), sorted[r]);
    }
    const size_t count = k + 1;
    doubled_medians[k] = count % 2 == 1 ? 2 * int64_t{lanes[count / 2]}
                                        : int64_t{lanes[count / 2 - 1]} + lanes[count / 2];
  }
}
#endif

}  // namespace

void check_rules(std::string_view function, const stage_rules& rules) {
  check::positive(function, "at_risk_gaps", rules.at_risk_gaps);
  check::positive(function, "churn_gaps", rules.churn_gaps);
  if (rules.churn_gaps < rules.at_risk_gaps) {
    check::fail(function, fmt::format("churn_gaps = {} must be >= at_risk_gaps = {}",
                                      rules.churn_gaps, rules.at_risk_gaps));
  }
  if (!(rules.trend_threshold > 0 && rules.trend_threshold <= 1)) {
    check::fail(function,
                fmt::format("trend_threshold = {} must be in (0, 1]", rules.trend_threshold));
  }
  check::positive(function, "window_gaps", rules.window_gaps);
  check::nonnegative(function, "min_window", rules.min_window);
  check::nonnegative(function, "new_tenure_gaps", rules.new_tenure_gaps);
  if (rules.own_gap_min_purchases < 2) {
    check::fail(function, fmt::format("own_gap_min_purchases = {} must be >= 2 (a gap needs two "
                                      "purchases)",
                                      rules.own_gap_min_purchases));
  }
  if (rules.stable_min_purchases < 1) check::fail(function, "stable_min_purchases must be >= 1");
  if (rules.reactivated_max_purchases < 1) {
    check::fail(function, "reactivated_max_purchases must be >= 1");
  }
  if (!(rules.p_alive_churned >= 0 && rules.p_alive_churned <= rules.p_alive_at_risk &&
        rules.p_alive_at_risk <= 1)) {
    check::fail(function, fmt::format("p_alive_churned = {} and p_alive_at_risk = {} must "
                                      "satisfy 0 <= p_alive_churned <= p_alive_at_risk <= 1",
                                      rules.p_alive_churned, rules.p_alive_at_risk));
  }
  if (rules.population_gap) check::positive(function, "population_gap", *rules.population_gap);
}

void customer_history::compute_medians(std::span<const std::uint32_t> periods,
                                       std::span<std::int64_t> doubled_medians) {
  const size_t gaps = periods.empty() ? 0 : periods.size() - 1;
#if defined(__SSE2__)
  if (gaps > 0 && gaps <= 128 && periods.back() - periods.front() < (1U << 15)) {
    if (gaps <= 8) return small_running_medians<1>(periods, doubled_medians);
    if (gaps <= 16) return small_running_medians<2>(periods, doubled_medians);
    if (gaps <= 32) return small_running_medians<4>(periods, doubled_medians);
    if (gaps <= 64) return small_running_medians<8>(periods, doubled_medians);
    return small_running_medians<16>(periods, doubled_medians);
  }
#endif
  median_.clear();
  for (size_t k = 0; k + 1 < periods.size(); ++k) {
    median_.push(std::int64_t{periods[k + 1]} - std::int64_t{periods[k]});
    doubled_medians[k] = median_.doubled();
  }
}

bool customer_history::win_back_gap(size_t k, double population_gap) const noexcept {
  // The typical gap before the gap: the median of the earlier gaps, or G.
  const double typical = k + 1 >= rules_.own_gap_min_purchases
                             ? static_cast<double>(doubled_medians_[k - 1]) / 2
                             : population_gap;
  return static_cast<double>(std::int64_t{periods_[k + 1]} - std::int64_t{periods_[k]} - 1) >
         rules_.churn_gaps * typical;
}

double customer_history::probability_alive(size_t frequency, double x, double t_x, double age) {
  return visit_model(*model_, [&](const auto& params) {
    using P = std::decay_t<decltype(params)>;
    if constexpr (clv::frequency_factored_alive<P>) {
      // The same value as conditional_probability_alive, its part that depends on the
      // frequency alone computed once per frequency.
      using model = typename clv::model_for<P>::type;
      if (frequency >= dead_odds_bases_.size()) dead_odds_bases_.resize(frequency + 1, nan);
      double& base = dead_odds_bases_[frequency];
      if (std::isnan(base)) {
        base = model::can_be_dead(x) ? model::log_dead_odds_base(params, x) : 0.0;
      }
      return model::probability_alive_from_base(params, base, x, t_x, age);
    } else {
      return clv::conditional_probability_alive(params, x, t_x, age);
    }
  });
}

void customer_history::evaluate(std::span<const date_context> dates,
                                std::span<customer_state> states) {
  carry previous;
  for (size_t i = 0; i < dates.size(); ++i) evaluate(dates[i], states[i], previous);
}

void customer_history::evaluate(const date_context& date, customer_state& state,
                                carry& previous) {
  const size_t n = purchases_up_to(date.end);
  if (n == 0) {
    state = customer_state{};
    return;
  }
  const stage_rules& rules = rules_;
  const int64_t first = periods_[0], last = periods_[n - 1];
  const double G = date.population_gap;
  state.purchases = static_cast<std::uint32_t>(n);
  state.tenure = static_cast<double>(date.end - first);
  state.recency = static_cast<double>(date.end - last);
  state.own_gap = n >= rules.own_gap_min_purchases;
  state.gap = state.own_gap ? static_cast<double>(doubled_median_gap(n)) / 2 : G;
  const double g = state.gap;
  state.window = std::max(rules.min_window, rules.window_gaps * g);
  // The spend of the earlier date's purchases, then the rest: the same additions in order.
  state.spend = previous.spend;
  for (size_t i = previous.n; i < n; ++i) state.spend += spend_[i];
  if (!std::isfinite(state.spend)) {
    check::fail("lifecycle_stages",
                fmt::format("a customer's total spend is {} (beyond the largest double, about "
                            "1.8e308); amounts this large cannot be added up",
                            state.spend));
  }

  const bool trend_defined = state.tenure + 1 >= 2 * state.window;
  state.rate_trend = state.spend_trend = nan;
  if (trend_defined) {
    const auto split =
        static_cast<int64_t>(std::floor(static_cast<double>(date.end) - state.window));
    const auto start =
        static_cast<int64_t>(std::floor(static_cast<double>(date.end) - 2 * state.window));
    double count_last = 0, count_previous = 0, spend_last = 0, spend_previous = 0;
    for (size_t i = n; i-- > 0 && std::int64_t{periods_[i]} > start;) {
      if (std::int64_t{periods_[i]} > split) {
        ++count_last;
        spend_last += spend_[i];
      } else {
        ++count_previous;
        spend_previous += spend_[i];
      }
    }
    state.rate_trend = relative_change(count_last, count_previous);
    if (with_amount_) state.spend_trend = relative_change(spend_last, spend_previous);
  }

  // The purchase index of the last win-back purchase, 0 for none: the latest gap k judged by
  // the customer's own median (k + 1 >= own_gap_min_purchases, independent of the date, so the
  // earlier date's search covers the gaps before its n), else judged by G.
  size_t own = previous.own_win_back;
  const size_t own_from = std::max<size_t>(rules.own_gap_min_purchases - 1,
                                           previous.n > 0 ? previous.n - 1 : 0);
  for (size_t k = n - 1; k-- > own_from;) {
    if (win_back_gap(k, G)) {
      own = k + 1;
      break;
    }
  }
  size_t win_back = own;
  if (win_back == 0) {
    for (size_t k = std::min<size_t>(n - 1, rules.own_gap_min_purchases - 1); k-- > 0;) {
      if (win_back_gap(k, G)) {
        win_back = k + 1;
        break;
      }
    }
  }
  previous = {n, state.spend, own};
  state.last_win_back = win_back != 0 ? std::int64_t{periods_[win_back]} : no_period;

  state.p_alive = state.expected = nan;
  const bool with_model = model_ != nullptr;
  const double unit = with_model ? model_->time_unit : 1.0;
  const double x = static_cast<double>(n - 1);
  const double t_x = static_cast<double>(last - first) / unit;
  const double age = state.tenure / unit;
  if (with_model && date.with_expected) {
    visit_model(*model_, [&](const auto& params) {
      state.expected = clv::conditional_expected_number_of_purchases_up_to_time(
          params, state.window / unit, x, t_x, age);
    });
  }
  // P(alive) when a rule reaches it, or always when the date wants it in the state.
  bool alive_known = false;
  const auto p_alive = [&] {
    if (!alive_known) {
      state.p_alive = probability_alive(n - 1, x, t_x, age);
      alive_known = true;
    }
    return state.p_alive;
  };
  if (with_model && date.with_p_alive) (void)p_alive();

  const double delta = rules.trend_threshold;
  auto decide = [&](stage value, stage_rule rule) {
    state.value = value;
    state.rule = rule;
  };
  if (state.recency > rules.churn_gaps * g)
    return decide(stage::churned, stage_rule::churned_recency);
  if (with_model && p_alive() < rules.p_alive_churned) {
    return decide(stage::churned, stage_rule::churned_model);
  }
  if (state.recency > rules.at_risk_gaps * g) {
    return decide(stage::at_risk, stage_rule::at_risk_recency);
  }
  if (trend_defined && state.rate_trend <= -delta) {
    return decide(stage::at_risk, stage_rule::at_risk_rate_trend);
  }
  if (trend_defined && with_amount_ && state.spend_trend <= -delta) {
    return decide(stage::at_risk, stage_rule::at_risk_spend_trend);
  }
  if (with_model && p_alive() < rules.p_alive_at_risk) {
    return decide(stage::at_risk, stage_rule::at_risk_model);
  }
  if (win_back != 0 && n - win_back <= rules.reactivated_max_purchases) {
    return decide(stage::reactivated, stage_rule::reactivated_win_back);
  }
  if (n <= rules.new_max_purchases)
    return decide(stage::new_customer, stage_rule::new_few_purchases);
  if (state.tenure < rules.new_tenure_gaps * G) {
    return decide(stage::new_customer, stage_rule::new_short_tenure);
  }
  if (!trend_defined) return decide(stage::developing, stage_rule::developing_short_history);
  if (state.rate_trend >= delta)
    return decide(stage::developing, stage_rule::developing_rising_rate);
  if (with_amount_ && state.spend_trend >= delta) {
    return decide(stage::developing, stage_rule::developing_rising_spend);
  }
  if (n < rules.stable_min_purchases) {
    return decide(stage::developing, stage_rule::developing_few_purchases);
  }
  return decide(stage::stable, stage_rule::stable_steady);
}

namespace {

std::vector<date_context> relative_dates(std::string_view function, std::string_view argument,
                                         std::span<const int64_t> date_ticks,
                                         const data::checked_log& log) {
  check::not_empty(function, argument, date_ticks.size());
  std::vector<date_context> dates(date_ticks.size());
  for (size_t i = 0; i < date_ticks.size(); ++i) {
    if (i > 0 && date_ticks[i] < date_ticks[i - 1]) {
      check::fail(function, fmt::format("{}[{}] = {} is before {}[{}] = {}; dates must ascend",
                                        argument, i, log.calendar.text(date_ticks[i]), argument,
                                        i - 1, log.calendar.text(date_ticks[i - 1])));
    }
    const std::string name =
        date_ticks.size() == 1 ? std::string(argument) : fmt::format("{}[{}]", argument, i);
    dates[i].end = data::periods_after_first(function, name, date_ticks[i], log);
  }
  return dates;
}

}  // namespace

stage_engine::stage_engine(std::string_view function, const log_view& log,
                           const stage_options& options, std::span<const int64_t> date_ticks,
                           std::string_view dates_argument, bool strict_population_gap)
    : options_(options),
      prospects_(options.prospects.begin(), options.prospects.end()),
      log_((check_rules(function, options.rules),
            data::check_log(function, log.customer, log.timestamp, log.amount, options.rules.freq,
                            log.ticks_per_second))),
      with_amount_(!log.amount.empty()),
      dates_(relative_dates(function, dates_argument, date_ticks, log_)),
      owned_(std::in_place, log.customer, log.timestamp, log.amount, log_,
             log_.calendar.last_tick(log_.first_period + dates_.back().end)),
      grouped_(&*owned_),
      model_time_scale_(nan) {
  prepare(function, strict_population_gap);
}

stage_engine::stage_engine(std::string_view function, const data::customer_periods& grouped,
                           const stage_options& options, std::span<const int64_t> date_ticks,
                           std::string_view dates_argument, bool strict_population_gap)
    : options_(options),
      prospects_(options.prospects.begin(), options.prospects.end()),
      log_((check_rules(function, options.rules), grouped.log())),
      with_amount_(grouped.has_amount()),
      dates_(relative_dates(function, dates_argument, date_ticks, log_)),
      grouped_(&grouped),
      model_time_scale_(nan) {
  if (log_.calendar.unit != options.rules.freq) {
    check::fail(function, fmt::format("rules.freq = '{}' must be the grouping's period unit '{}'",
                                      data::period_code(options.rules.freq),
                                      data::period_code(log_.calendar.unit)));
  }
  const int64_t grouped_end = log_.calendar.period(grouped.last_tick()) - log_.first_period;
  if (grouped_end != dates_.back().end) {
    check::fail(function, fmt::format("the last date {} must be in the grouping's last period "
                                      "(that of {})",
                                      log_.calendar.text(date_ticks.back()),
                                      log_.calendar.text(grouped.last_tick())));
  }
  prepare(function, strict_population_gap);
}

void stage_engine::prepare(std::string_view function, bool strict_population_gap) {
  options_.prospects = {};
  if (options_.model) {
    const alive_model& model = *options_.model;
    visit_model(model, [&](const auto& params) { clv::check_params(function, params); });
    check::positive(function, "model.time_unit", model.time_unit);
    if (!(model.unit_tolerance >= 1)) {
      check::fail(function,
                  fmt::format("model.unit_tolerance = {} must be >= 1", model.unit_tolerance));
    }
  }
  std::sort(prospects_.begin(), prospects_.end());
  prospects_.erase(std::unique(prospects_.begin(), prospects_.end()), prospects_.end());
  scan_customers(function, strict_population_gap);
}

void stage_engine::scan_customers(std::string_view function, bool strict_population_gap) {
  const data::customer_periods& grouped = *grouped_;
  const size_t customers = grouped.customers();
  const size_t D = dates_.size();
  const int64_t last_end = dates_.back().end;
  const bool compute_gap = !options_.rules.population_gap.has_value();
  // Per date, a histogram of the customers' doubled median gaps (integers in [2, 2·last_end]).
  const size_t bins = compute_gap ? static_cast<size_t>(2 * last_end + 1) : 0;
  std::vector<std::uint32_t> histogram(D * bins, 0);
  const size_t step = std::max<size_t>(1, (customers + unit_check_sample - 1) / unit_check_sample);
  const size_t sampled = options_.model ? (customers + step - 1) / step : 0;
  std::vector<double> x(sampled), t_x(sampled), age(sampled);
  std::atomic<size_t> repeat_buyers{0};
  keys_.assign(customers, 0);

  const stage_rules& rules = options_.rules;
  std::copy(grouped.keys().begin(), grouped.keys().end(), keys_.begin());
  median_begin_.assign(customers + 1, 0);
  for (size_t j = 0; j < customers; ++j) {
    const size_t periods = grouped.periods(j).size();
    median_begin_[j + 1] = median_begin_[j] + (periods == 0 ? 0 : periods - 1);
  }
  medians_ = memory::huge_buffer<std::int64_t>(median_begin_[customers]);
  parallel_for(
      customers,
      [&](size_t begin, size_t end) {
        customer_history history(rules, nullptr, with_amount_);
        size_t repeat = 0;
        for (size_t j = begin; j < end; ++j) {
          const auto own = grouped.periods(j);
          const std::span<std::int64_t> medians(medians_.data() + median_begin_[j],
                                                median_begin_[j + 1] - median_begin_[j]);
          history.compute_medians(own, medians);
          history.load(own, {}, medians);  // the spend is not needed here
          for (size_t i = 0; i < D && compute_gap; ++i) {
            const size_t n = history.purchases_up_to(dates_[i].end);
            if (n < 2) continue;
            const auto bin = static_cast<size_t>(history.doubled_median_gap(n));
            std::atomic_ref<std::uint32_t>(histogram[i * bins + bin])
                .fetch_add(1, std::memory_order_relaxed);
          }
          const auto periods = history.periods();
          const size_t n = history.purchases_up_to(last_end);
          repeat += n >= 2;
          if (j % step == 0 && sampled > 0) {
            x[j / step] = static_cast<double>(n - 1);
            t_x[j / step] = static_cast<double>(periods[n - 1] - periods[0]);
            age[j / step] = static_cast<double>(last_end - periods[0]);
          }
        }
        repeat_buyers.fetch_add(repeat, std::memory_order_relaxed);
      },
      customers_per_chunk);

  double fallback = nan;
  for (size_t i = D; i-- > 0;) {
    date_context& date = dates_[i];
    if (!compute_gap) {
      date.population_gap = *rules.population_gap;
      continue;
    }
    const std::span<const std::uint32_t> counts(histogram.data() + i * bins, bins);
    std::uint64_t total = 0;
    for (const auto count : counts) total += count;
    if (total == 0) {
      if (i + 1 == D || strict_population_gap) {
        check::fail(
            function,
            fmt::format("no customer has two purchase periods by {}, so the population's "
                        "typical gap is undefined; set population_gap",
                        log_.calendar.text(log_.calendar.start(log_.first_period + date.end))));
      }
      date.population_gap = fallback;
      continue;
    }
    // The (total + 1) / 2-th and (total + 2) / 2-th smallest values (1-based) average to the
    // median.
    auto value_at = [&](std::uint64_t rank) {
      std::uint64_t seen = 0;
      for (size_t bin = 0; bin < bins; ++bin) {
        seen += counts[bin];
        if (seen >= rank) return static_cast<double>(bin);
      }
      return static_cast<double>(bins - 1);
    };
    date.population_gap = (value_at((total + 1) / 2) + value_at((total + 2) / 2)) / 4;
    if (i + 1 == D) fallback = date.population_gap;
  }

  // Merge the prospects into the customers' keys.
  all_keys_.clear();
  all_keys_.reserve(customers + prospects_.size());
  position_.assign(customers, 0);
  prospect_.clear();
  size_t p = 0;
  for (size_t j = 0; j < customers; ++j) {
    for (; p < prospects_.size() && prospects_[p] < keys_[j]; ++p) {
      all_keys_.push_back(prospects_[p]);
      prospect_.push_back(1);
    }
    const bool listed = p < prospects_.size() && prospects_[p] == keys_[j];
    p += listed;
    position_[j] = all_keys_.size();
    all_keys_.push_back(keys_[j]);
    prospect_.push_back(listed);
  }
  for (; p < prospects_.size(); ++p) {
    all_keys_.push_back(prospects_[p]);
    prospect_.push_back(1);
  }

  if (options_.model) check_model_unit(function, x, t_x, age, repeat_buyers.load());
}

void stage_engine::check_model_unit(std::string_view function, std::span<const double> x,
                                    std::span<const double> t_x, std::span<const double> age,
                                    size_t repeat_buyers) {
  const alive_model& model = *options_.model;
  if (repeat_buyers < model.min_repeat_buyers) {
    warnings_.add(warning_code::unchecked_model, fmt::format(
        "the model's time unit was not checked: {} customers have a repeat purchase, the check "
        "needs {}",
        repeat_buyers, model.min_repeat_buyers));
    return;
  }
  std::vector<double> x_model(x.begin(), x.end()), t_x_model(t_x.size()), age_model(age.size());
  for (size_t i = 0; i < x.size(); ++i) {
    t_x_model[i] = t_x[i] / model.time_unit;
    age_model[i] = age[i] / model.time_unit;
  }
  constexpr size_t grid = 2 * unit_check_steps + 1;
  std::array<double, grid> log_likelihood{};
  parallel_for(
      grid,
      [&](size_t begin, size_t end) {
        for (size_t g = begin; g < end; ++g) {
          const double scale = std::pow(10.0, (static_cast<double>(g) - unit_check_steps) / 8.0);
          double total = 0;
          visit_model(model, [&](auto params) {
            using traits = typename clv::model_for<decltype(params)>::type;
            auto values = traits::to_array(params);
            for (size_t k = 0; k < values.size(); ++k) {
              if (traits::time_exponents[k] == 1) values[k] *= scale;
            }
            params = traits::from_array(values);
            for (size_t i = 0; i < x_model.size(); ++i) {
              total += clv::log_likelihood(params, x_model[i], t_x_model[i], age_model[i]);
            }
          });
          log_likelihood[g] = std::isnan(total) ? -std::numeric_limits<double>::infinity() : total;
        }
      },
      1);
  const auto best = static_cast<size_t>(
      std::max_element(log_likelihood.begin(), log_likelihood.end()) - log_likelihood.begin());
  model_time_scale_ = std::pow(10.0, (static_cast<double>(best) - unit_check_steps) / 8.0);
  if (model_time_scale_ > model.unit_tolerance || model_time_scale_ < 1 / model.unit_tolerance) {
    check::fail(
        function,
        fmt::format("the model's time unit disagrees with the log: the log's purchase timing "
                    "fits the model best with a time unit of {:.3g} periods of '{}', but "
                    "model.time_unit = {} was declared (tolerance factor {}); was the model "
                    "fitted in other time units (e.g. weeks, 7 days)?",
                    model_time_scale_ * model.time_unit, data::period_code(options_.rules.freq),
                    model.time_unit, model.unit_tolerance));
  }
}

}  // namespace detail
}  // namespace crmkit::lifecycle
