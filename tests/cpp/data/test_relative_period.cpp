#include <crmkit/data/grouping.hpp>

#include <doctest/doctest.h>

#include "data/relative_period.hpp"

#include <cstdint>
#include <random>
#include <vector>

// relative_period's two forms must agree on every tick: the plain one (multiply by the
// reciprocal, correct by the remainder, or the calendar) and a scan that first tries the span of
// the last period it moved to (holds, move_to). Reference: the calendar's own period index.
namespace cd = crmkit::data;

TEST_CASE("relative periods: the recent period's span tried first gives the calendar's periods") {
  for (const cd::period_unit unit : {cd::period_unit::hour, cd::period_unit::day,
                                     cd::period_unit::week, cd::period_unit::month}) {
    for (const std::int64_t ticks_per_second : {std::int64_t{1}, std::int64_t{1'000'000'000}}) {
      CAPTURE(static_cast<int>(unit));
      CAPTURE(ticks_per_second);
      const cd::tick_calendar calendar{unit, ticks_per_second};
      const std::int64_t first_tick = -86'400 * 400 * ticks_per_second + 12'345;  // 1968-11
      const std::int64_t first_period = calendar.period(first_tick);
      const cd::detail::relative_period period_of(calendar, first_period);

      // Ticks around period edges (the edge, one before, one after) ascending, then descending,
      // then at random: runs of one period, jumps forward and back.
      std::vector<std::int64_t> ticks;
      for (std::int64_t p = first_period + 1; p < first_period + 60; ++p) {
        const std::int64_t edge = calendar.start(p);
        for (const std::int64_t tick : {edge - 1, edge, edge, edge + 1}) ticks.push_back(tick);
      }
      const std::vector<std::int64_t> ascending = ticks;
      ticks.insert(ticks.end(), ascending.rbegin(), ascending.rend());
      std::mt19937_64 rng(7);
      std::uniform_int_distribution<std::int64_t> any(first_tick,
                                                      calendar.start(first_period + 60));
      for (int k = 0; k < 2000; ++k) ticks.push_back(any(rng));
      ticks.insert(ticks.begin(), first_tick);

      cd::detail::relative_period::recent last = period_of.first();
      for (const std::int64_t tick : ticks) {
        CAPTURE(tick);
        const auto expected = static_cast<std::uint64_t>(calendar.period(tick) - first_period);
        REQUIRE(period_of(tick) == expected);
        if (!period_of.holds(tick, last)) period_of.move_to(tick, last);
        REQUIRE(last.period == expected);
      }
    }
  }
}
