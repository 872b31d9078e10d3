#include "crmkit/lifecycle/funnel.hpp"

#include <algorithm>
#include <atomic>
#include <limits>

#include "crmkit/data/grouping.hpp"
#include "engine.hpp"

namespace crmkit::lifecycle {
namespace {

double ratio(std::uint64_t count, std::uint64_t pool) {
  return pool == 0 ? std::numeric_limits<double>::quiet_NaN()
                   : static_cast<double>(count) / static_cast<double>(pool);
}

}  // namespace

funnel_table funnel_rates(const log_view& log, const stage_options& options, data::period_unit freq,
                          std::optional<std::int64_t> as_of) {
  constexpr std::string_view function = "funnel_rates";
  const data::checked_log funnel_log = data::check_log(function, log.customer, log.timestamp,
                                                       log.amount, freq, log.ticks_per_second);
  const std::int64_t as_of_tick = as_of.value_or(funnel_log.extent.last_tick);
  const std::int64_t last = data::periods_after_first(function, "as_of", as_of_tick, funnel_log);
  const auto T = static_cast<std::size_t>(last) + 1;
  const data::tick_calendar& calendar = funnel_log.calendar;

  funnel_table table;
  std::vector<std::int64_t> ends(T);
  for (std::size_t t = 0; t < T; ++t) {
    const std::int64_t index = funnel_log.first_period + static_cast<std::int64_t>(t);
    table.period.push_back(calendar.start(index));
    ends[t] = std::min(calendar.last_tick(index), as_of_tick);
  }
  detail::stage_engine engine(function, log, options, ends, "period ends", false);
  const data::checked_log& stage_log = engine.log();

  for (auto* column :
       {&table.active, &table.acquired, &table.prospect_pool, &table.prospects_acquired,
        &table.conversion_pool, &table.converted, &table.previous_active, &table.retained,
        &table.churn_pool, &table.churned, &table.churned_pool, &table.won_back}) {
    column->assign(T, 0);
  }
  std::vector<std::uint64_t> prospects_acquired_before(T + 1, 0);

  engine.run([&](std::size_t j, const detail::customer_history& history,
                 std::span<const detail::customer_state> states) {
    thread_local std::vector<std::uint64_t> active_in;
    auto funnel_period = [&](std::int64_t stage_period) {
      const std::int64_t start = stage_log.calendar.start(stage_log.first_period + stage_period);
      return static_cast<std::size_t>(calendar.period(start) - funnel_log.first_period);
    };
    const auto periods = history.periods();
    const std::size_t used = history.purchases_up_to(engine.dates().back().end);
    active_in.assign(T, 0);
    for (std::size_t i = 0; i < used; ++i) active_in[funnel_period(periods[i])] = 1;
    const std::size_t first = funnel_period(periods[0]);
    const std::size_t second = used >= 2 ? funnel_period(periods[1]) : T;
    auto bump = [](std::vector<std::uint64_t>& column, std::size_t t) {
      std::atomic_ref<std::uint64_t>(column[t]).fetch_add(1, std::memory_order_relaxed);
    };
    bump(table.acquired, first);
    if (second < T) bump(table.converted, second);
    for (std::size_t t = first; t < T && t <= second; ++t) bump(table.conversion_pool, t);
    for (std::size_t t = 0; t < T; ++t) {
      if (active_in[t] != 0) bump(table.active, t);
      if (t == 0) continue;
      if (active_in[t - 1] != 0) {
        bump(table.previous_active, t);
        if (active_in[t] != 0) bump(table.retained, t);
      }
      const detail::customer_state& before = states[t - 1];
      if (before.purchases == 0) continue;
      if (before.value == stage::churned) {
        bump(table.churned_pool, t);
        if (active_in[t] != 0) bump(table.won_back, t);
      } else {
        bump(table.churn_pool, t);
        if (states[t].value == stage::churned) bump(table.churned, t);
      }
    }
    const std::size_t position = engine.position(j);
    if (engine.is_prospect(position)) {
      bump(table.prospects_acquired, first);
      bump(prospects_acquired_before, first + 1);
    }
  });

  std::uint64_t prospects = 0;
  for (std::size_t i = 0; i < engine.all_keys().size(); ++i) prospects += engine.is_prospect(i);
  std::uint64_t acquired_before = 0;
  for (std::size_t t = 0; t < T; ++t) {
    acquired_before += prospects_acquired_before[t];
    table.prospect_pool[t] = prospects - acquired_before;
    table.acquisition_rate.push_back(
        prospects == 0 ? std::numeric_limits<double>::quiet_NaN()
                       : ratio(table.prospects_acquired[t], table.prospect_pool[t]));
    table.conversion_rate.push_back(ratio(table.converted[t], table.conversion_pool[t]));
    table.retention_rate.push_back(ratio(table.retained[t], table.previous_active[t]));
    table.churn_rate.push_back(ratio(table.churned[t], table.churn_pool[t]));
    table.win_back_rate.push_back(ratio(table.won_back[t], table.churned_pool[t]));
  }
  table.warnings = engine.warnings();
  return table;
}

}  // namespace crmkit::lifecycle
