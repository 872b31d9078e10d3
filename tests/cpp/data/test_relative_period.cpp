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

TEST_CASE("fixed divisor: the quotient of every kind of dividend equals the division's") {
  std::mt19937_64 rng(11);
  std::vector<std::uint64_t> divisors{2, 3, 7, 3600, 86'400, 3'600'000'000'000, 86'400'000'000'000};
  for (unsigned bits = 2; bits < 63; ++bits) {
    const std::uint64_t power = std::uint64_t{1} << bits;
    for (const std::uint64_t d : {power - 1, power, power + 1}) divisors.push_back(d);
  }
  for (int k = 0; k < 200; ++k) divisors.push_back(2 + (rng() >> (1 + rng() % 62)));
  for (const std::uint64_t d : divisors) {
    CAPTURE(d);
    const cd::detail::fixed_divisor divisor(d);
    std::vector<std::uint64_t> dividends{0,
                                         1,
                                         d - 1,
                                         d,
                                         d + 1,
                                         ~std::uint64_t{0},
                                         ~std::uint64_t{0} - 1,
                                         ~std::uint64_t{0} / d * d,
                                         ~std::uint64_t{0} / d * d - 1};
    for (int k = 0; k < 300; ++k) {
      const std::uint64_t n = rng() >> (rng() % 64);
      for (const std::uint64_t near : {n, n / d * d, n / d * d - 1}) dividends.push_back(near);
    }
    for (const std::uint64_t n : dividends) {
      CAPTURE(n);
      REQUIRE(divisor.quotient(n) == n / d);
    }
  }
}
