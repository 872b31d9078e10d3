#include <crmkit/data/period.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace cd = crmkit::data;
using cd::period_unit;

namespace {

/** Seconds since 1970 of a date and time, computed with std::chrono's calendar (independent). */
std::int64_t at(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
  using namespace std::chrono;
  const sys_days date =
      year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
  return date.time_since_epoch().count() * 86'400 + hour * 3600 + minute * 60;
}

}  // namespace

TEST_CASE("floor_to_period follows pandas to_period(freq).to_timestamp()") {
  // 2024-01-07 is a Sunday: pandas' 'W' (W-SUN) week containing it runs Mon 01-01 .. Sun 01-07.
  CHECK(cd::floor_to_period(at(2024, 1, 7, 23, 59), period_unit::week) == at(2024, 1, 1));
  CHECK(cd::floor_to_period(at(2024, 1, 8), period_unit::week) == at(2024, 1, 8));
  CHECK(cd::floor_to_period(at(2024, 2, 29, 13), period_unit::day) == at(2024, 2, 29));
  CHECK(cd::floor_to_period(at(2024, 2, 29, 13, 45), period_unit::hour) == at(2024, 2, 29, 13));
  CHECK(cd::floor_to_period(at(2024, 2, 29, 13), period_unit::month) == at(2024, 2, 1));
  CHECK(cd::floor_to_period(at(2024, 5, 15), period_unit::quarter) == at(2024, 4, 1));
  CHECK(cd::floor_to_period(at(2024, 12, 31, 23), period_unit::quarter) == at(2024, 10, 1));
  CHECK(cd::floor_to_period(at(2024, 12, 31, 23), period_unit::year) == at(2024, 1, 1));
  // Before 1970 the floor still goes down, never towards zero.
  CHECK(cd::floor_to_period(at(1969, 12, 31, 23, 30), period_unit::day) == at(1969, 12, 31));
  CHECK(cd::floor_to_period(at(1969, 12, 31, 23, 30), period_unit::hour) == at(1969, 12, 31, 23));
  CHECK(cd::floor_to_period(at(1970, 1, 1), period_unit::week) == at(1969, 12, 29));
  CHECK(cd::floor_to_period(at(1969, 11, 3), period_unit::quarter) == at(1969, 10, 1));
  CHECK(cd::floor_to_period(at(1812, 6, 24), period_unit::month) == at(1812, 6, 1));
}

TEST_CASE("period indices are consecutive and invert to period starts") {
  for (const auto unit : {period_unit::hour, period_unit::day, period_unit::week,
                          period_unit::month, period_unit::quarter, period_unit::year}) {
    CAPTURE(cd::period_code(unit));
    for (std::int64_t index = -3000; index <= 3000; ++index) {
      const std::int64_t start = cd::period_start(index, unit);
      REQUIRE(cd::period_index(start, unit) == index);
      REQUIRE(cd::period_index(start - 1, unit) == index - 1);
    }
  }
}

TEST_CASE("periods_between counts calendar periods") {
  // One day apart, but a month, quarter and year boundary in between.
  CHECK(cd::periods_between(at(2023, 12, 31, 23), at(2024, 1, 1), period_unit::month) == 1);
  CHECK(cd::periods_between(at(2023, 12, 31, 23), at(2024, 1, 1), period_unit::quarter) == 1);
  CHECK(cd::periods_between(at(2023, 12, 31, 23), at(2024, 1, 1), period_unit::year) == 1);
  CHECK(cd::periods_between(at(2023, 12, 31, 23), at(2024, 1, 1), period_unit::hour) == 1);
  // 31 days apart within one month boundary: January 1 to January 31 is 0 months.
  CHECK(cd::periods_between(at(2024, 1, 1), at(2024, 1, 31), period_unit::month) == 0);
  CHECK(cd::periods_between(at(2024, 1, 31), at(2024, 3, 1), period_unit::month) == 2);
  // Sunday to the next Monday is one week; Monday to Sunday of the same week is none.
  CHECK(cd::periods_between(at(2024, 1, 7), at(2024, 1, 8), period_unit::week) == 1);
  CHECK(cd::periods_between(at(2024, 1, 1), at(2024, 1, 7, 23), period_unit::week) == 0);
  CHECK(cd::periods_between(at(2024, 3, 1), at(2024, 1, 31), period_unit::day) == -30);
}

TEST_CASE("period codes parse with pandas' aliases and reject anything else") {
  CHECK(cd::parse_period_unit("D") == period_unit::day);
  CHECK(cd::parse_period_unit("h") == period_unit::hour);
  CHECK(cd::parse_period_unit("W-SUN") == period_unit::week);
  CHECK(cd::parse_period_unit("MS") == period_unit::month);
  CHECK(cd::parse_period_unit("QS") == period_unit::quarter);
  CHECK(cd::parse_period_unit("A") == period_unit::year);
  for (const auto unit : {period_unit::hour, period_unit::day, period_unit::week,
                          period_unit::month, period_unit::quarter, period_unit::year}) {
    CHECK(cd::parse_period_unit(cd::period_code(unit)) == unit);
  }
  CHECK_THROWS_WITH_AS(cd::parse_period_unit("fortnight"),
                       "freq = 'fortnight' is not a period; expected H (hour), D (day), W (week, "
                       "Monday to Sunday), M (month), Q (quarter) or Y (year)",
                       crmkit::invalid_input);
  CHECK_THROWS_AS(cd::parse_period_unit("W-MON"), std::invalid_argument);
  CHECK_THROWS_AS(cd::parse_period_unit(""), std::invalid_argument);
}
