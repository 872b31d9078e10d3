#include "crmkit/lifecycle/stage.hpp"

#include <algorithm>
#include <limits>

#include "engine.hpp"

namespace crmkit::lifecycle {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

template <class T>
std::vector<T> column(std::size_t size, T value) {
  return std::vector<T>(size, value);
}

}  // namespace

stage_table classify(const log_view& log, const stage_options& options,
                     std::optional<std::int64_t> as_of) {
  constexpr std::string_view function = "classify";
  const std::int64_t date = as_of.value_or(
      log.timestamp.empty() ? 0 : *std::max_element(log.timestamp.begin(), log.timestamp.end()));
  detail::stage_engine engine(function, log, options, std::span<const std::int64_t>(&date, 1),
                              "as_of", true);
  engine.want_expected(0);
  const auto keys = engine.all_keys();
  const std::size_t size = keys.size();

  stage_table table;
  table.customer.assign(keys.begin(), keys.end());
  table.stages = column(size, stage::prospect);
  table.rules = column(size, stage_rule::no_purchase);
  table.purchases = column<std::uint32_t>(size, 0);
  for (auto* values :
       {&table.tenure, &table.recency, &table.typical_gap, &table.window, &table.rate_trend,
        &table.spend_trend, &table.p_alive, &table.expected_purchases}) {
    *values = column(size, nan);
  }
  table.total_spend = column(size, 0.0);
  table.own_gap = column<std::uint8_t>(size, 0);
  table.last_win_back = column(size, no_period);

  const data::checked_log& checked = engine.log();
  engine.run([&](std::size_t j, const detail::customer_history&,
                 std::span<const detail::customer_state> states) {
    const detail::customer_state& state = states[0];
    const std::size_t i = engine.position(j);
    table.stages[i] = state.value;
    table.rules[i] = state.rule;
    table.purchases[i] = state.purchases;
    table.tenure[i] = state.tenure;
    table.recency[i] = state.recency;
    table.typical_gap[i] = state.gap;
    table.own_gap[i] = state.own_gap;
    table.window[i] = state.window;
    table.rate_trend[i] = state.rate_trend;
    table.spend_trend[i] = state.spend_trend;
    table.p_alive[i] = state.p_alive;
    table.expected_purchases[i] = state.expected;
    table.total_spend[i] = state.spend;
    if (state.last_win_back != no_period) {
      table.last_win_back[i] = checked.calendar.start(checked.first_period + state.last_win_back);
    }
  });
  table.as_of = checked.calendar.start(checked.first_period + engine.dates()[0].end);
  table.population_gap = engine.dates()[0].population_gap;
  table.model_time_scale = engine.model_time_scale();
  table.rows_used = engine.rows_used();
  table.rows_after = log.customer.size() - table.rows_used;
  table.warnings = engine.warnings();
  return table;
}

namespace {

stage_history history_of(detail::stage_engine& engine, std::span<const std::int64_t> dates,
                         std::int64_t ticks_per_second) {
  const auto keys = engine.all_keys();
  const std::size_t size = keys.size();
  const std::size_t D = dates.size();
  engine.stages_only();

  stage_history history;
  history.customer.assign(keys.begin(), keys.end());
  history.dates.assign(dates.begin(), dates.end());
  history.stages = column(D * size, stage::prospect);
  history.present = column<std::uint8_t>(D * size, 0);
  for (std::size_t i = 0; i < size; ++i) {
    if (!engine.is_prospect(i)) continue;
    for (std::size_t d = 0; d < D; ++d) history.present[d * size + i] = 1;
  }
  engine.run([&](std::size_t j, const detail::customer_history&,
                 std::span<const detail::customer_state> states) {
    const std::size_t i = engine.position(j);
    for (std::size_t d = 0; d < D; ++d) {
      if (states[d].purchases == 0) continue;
      history.stages[d * size + i] = states[d].value;
      history.present[d * size + i] = 1;
    }
  });
  for (const auto& date : engine.dates()) history.population_gap.push_back(date.population_gap);
  history.warnings = engine.warnings();
  history.ticks_per_second = ticks_per_second;
  return history;
}

}  // namespace

stage_history classify_history(const log_view& log, std::span<const std::int64_t> dates,
                               const stage_options& options) {
  detail::stage_engine engine("classify_history", log, options, dates, "dates", false);
  return history_of(engine, dates, log.ticks_per_second);
}

stage_history classify_history(const data::customer_periods& grouped,
                               std::span<const std::int64_t> dates, const stage_options& options) {
  detail::stage_engine engine("classify_history", grouped, options, dates, "dates", false);
  return history_of(engine, dates, grouped.log().calendar.ticks_per_second);
}

}  // namespace crmkit::lifecycle
