#include "crmkit/lifecycle/early_warning.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "engine.hpp"

namespace crmkit::lifecycle {

warning_list early_warning(const log_view& log, std::int64_t since,
                           std::optional<std::int64_t> as_of,
                           std::span<const std::int64_t> value_customer,
                           std::span<const double> value, const stage_options& options) {
  constexpr std::string_view function = "early_warning";
  check::same_size(function, "value_customer", value_customer.size(), "value", value.size());
  check::all_finite(function, "value", value);
  const std::int64_t end = as_of.value_or(
      log.timestamp.empty() ? 0 : *std::max_element(log.timestamp.begin(), log.timestamp.end()));
  if (since > end) {
    check::fail(function,
                fmt::format("since = {} must not be after as_of = {} (ticks)", since, end));
  }
  const std::int64_t dates[] = {since, end};
  detail::stage_engine engine(function, log, options, dates, "dates (since, as_of)", false);
  engine.want_expected(1);

  std::vector<std::size_t> by_key(value_customer.size());
  std::iota(by_key.begin(), by_key.end(), 0);
  std::sort(by_key.begin(), by_key.end(),
            [&](std::size_t a, std::size_t b) { return value_customer[a] < value_customer[b]; });
  auto caller_value = [&](std::int64_t key) {
    const auto found = std::lower_bound(
        by_key.begin(), by_key.end(), key,
        [&](std::size_t index, std::int64_t wanted) { return value_customer[index] < wanted; });
    return found != by_key.end() && value_customer[*found] == key
               ? value[*found]
               : std::numeric_limits<double>::quiet_NaN();
  };

  struct entry {
    std::size_t j;
    detail::customer_state before, now;
    double value;
  };
  std::vector<entry> entries;
  std::mutex lock;
  const bool with_amount = !log.amount.empty();
  engine.run([&](std::size_t j, const detail::customer_history&,
                 std::span<const detail::customer_state> states) {
    const auto& now = states[1];
    const auto& before = states[0];
    if (now.value != stage::at_risk || (before.purchases > 0 && before.value == stage::at_risk)) {
      return;
    }
    const double historical = with_amount ? now.spend : static_cast<double>(now.purchases);
    const double worth = value.empty() ? historical : caller_value(engine.keys()[j]);
    const std::scoped_lock guard(lock);
    entries.push_back({j, before, now, worth});
  });
  std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) {
    const bool a_known = !std::isnan(a.value), b_known = !std::isnan(b.value);
    if (a_known != b_known) return a_known;
    if (a_known && a.value != b.value) return a.value > b.value;
    return a.j < b.j;
  });

  warning_list list;
  list.since = since;
  list.as_of = end;
  for (const entry& e : entries) {
    const std::size_t position = engine.position(e.j);
    list.customer.push_back(engine.keys()[e.j]);
    const bool had_stage = e.before.purchases > 0 || engine.is_prospect(position);
    list.had_stage.push_back(had_stage);
    list.before.push_back(e.before.purchases > 0 ? e.before.value : stage::prospect);
    list.rule.push_back(e.now.rule);
    list.value_at_risk.push_back(e.value);
    list.missing_values += std::isnan(e.value);
    list.recency.push_back(e.now.recency);
    list.typical_gap.push_back(e.now.gap);
    list.p_alive.push_back(e.now.p_alive);
    list.expected_purchases.push_back(e.now.expected);
  }
  list.warnings = engine.warnings();
  return list;
}

}  // namespace crmkit::lifecycle
