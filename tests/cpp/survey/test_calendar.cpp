#include <crmkit/survey/calendar.hpp>

#include <doctest/doctest.h>

namespace survey = crmkit::survey;
using survey::period_unit;

// Day numbers from Python: (datetime.date(y, m, d) - datetime.date(1970, 1, 1)).days.
constexpr std::int64_t day_2024_01_01 = 19723;
constexpr std::int64_t day_2024_02_01 = 19754;
constexpr std::int64_t day_2024_02_26 = 19779;  // a Monday
constexpr std::int64_t day_2024_02_29 = 19782;  // a Thursday (leap day)

TEST_CASE("periods of a date") {
  CHECK(survey::period_of_day(day_2024_02_29, period_unit::day) == day_2024_02_29);
  CHECK(survey::period_of_day(day_2024_02_29, period_unit::month) == 54 * 12 + 1);
  CHECK(survey::period_of_day(day_2024_02_29, period_unit::quarter) == 54 * 4);
  CHECK(survey::period_of_day(day_2024_02_29, period_unit::week) ==
        survey::period_of_day(day_2024_02_26, period_unit::week));
  CHECK(survey::period_of_day(day_2024_02_26 - 1, period_unit::week) ==
        survey::period_of_day(day_2024_02_26, period_unit::week) - 1);
  CHECK(survey::period_of_day(day_2024_02_29, period_unit::none) == 0);
}

TEST_CASE("first day of a period") {
  const auto month = survey::period_of_day(day_2024_02_29, period_unit::month);
  CHECK(survey::first_day_of_period(month, period_unit::month) == day_2024_02_01);
  const auto quarter = survey::period_of_day(day_2024_02_29, period_unit::quarter);
  CHECK(survey::first_day_of_period(quarter, period_unit::quarter) == day_2024_01_01);
  const auto week = survey::period_of_day(day_2024_02_29, period_unit::week);
  CHECK(survey::first_day_of_period(week, period_unit::week) == day_2024_02_26);
}

TEST_CASE("dates before 1970 round down") {
  // 1969-12-31 is day −1, in month −1 and quarter −1; its ISO week starts Monday 1969-12-29 (−3).
  CHECK(survey::period_of_day(-1, period_unit::month) == -1);
  CHECK(survey::period_of_day(-1, period_unit::quarter) == -1);
  CHECK(survey::first_day_of_period(-1, period_unit::quarter) == -92);  // 1969-10-01
  CHECK(survey::first_day_of_period(survey::period_of_day(-1, period_unit::week),
                                    period_unit::week) == -3);
}
