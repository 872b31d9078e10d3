#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "crmkit/core/describe.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/data/date_parse.hpp"

/**
 * Calendar periods as pandas defines them for `Timestamp.to_period(freq)`, on int64 seconds
 * since 1970-01-01 without a time zone.
 *
 * Every period has an integer index (its ordinal): consecutive periods have consecutive indices,
 * so the number of periods between two timestamps is the difference of their indices. For hours,
 * days and weeks this is the exact elapsed time in periods between the floored timestamps; for
 * months, quarters and years it is the difference of calendar ordinals (January to March is 2
 * months whatever the day counts), as pandas' `Period` subtraction gives.
 */
namespace crmkit::data {

/** Seconds in a day. */
inline constexpr std::int64_t seconds_per_day = 86'400;

/** `a` divided by `b > 0`, rounded towards minus infinity (C++ division truncates towards zero). */
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t quotient = a / b;
  return (a % b < 0) ? quotient - 1 : quotient;
}

/**
 * A period unit. `week` is pandas' 'W' (= 'W-SUN': weeks ending on Sunday, so a week runs Monday
 * 00:00 to Sunday 24:00); `quarter` and `year` are calendar quarters (Jan-Mar, ...) and years.
 */
enum class period_unit { hour, day, week, month, quarter, year };

/**
 * The pandas codes of the units: canonical "H", "D", "W", "M", "Q", "Y", then the accepted aliases
 * "h", "W-SUN", "MS", "QS", "Q-DEC", "A", "YS", "AS", "Y-DEC", "A-DEC".
 */
constexpr auto description(std::type_identity<period_unit>) {
  return describe::enum_table<period_unit, 16>{
      "freq",
      {{{period_unit::hour, "H"},
        {period_unit::day, "D"},
        {period_unit::week, "W"},
        {period_unit::month, "M"},
        {period_unit::quarter, "Q"},
        {period_unit::year, "Y"},
        {period_unit::hour, "h"},
        {period_unit::week, "W-SUN"},
        {period_unit::month, "MS"},
        {period_unit::quarter, "QS"},
        {period_unit::quarter, "Q-DEC"},
        {period_unit::year, "A"},
        {period_unit::year, "YS"},
        {period_unit::year, "AS"},
        {period_unit::year, "Y-DEC"},
        {period_unit::year, "A-DEC"}}},
      "a period; expected H (hour), D (day), W (week, Monday to Sunday), M (month), Q (quarter) "
      "or Y (year)"};
}

/** The canonical pandas code of a unit: "H", "D", "W", "M", "Q" or "Y". */
constexpr std::string_view period_code(period_unit unit) noexcept {
  return describe::name_of(unit);
}

/**
 * Parses a pandas frequency code (a code or alias of the description above).
 * @throw invalid_input naming `argument` and the text when it is none of these.
 */
inline period_unit parse_period_unit(std::string_view text, std::string_view argument = "freq") {
  return describe::parse<period_unit>(text, argument);
}

/**
 * Index of the period containing day `days` (days since 1970-01-01) for a unit of a day or longer:
 * days since the epoch, weeks since Monday 1969-12-29, or months, quarters, years since January
 * 1970. For `hour` it returns the index of the day's first hour.
 */
constexpr std::int64_t period_index_of_day(std::int64_t days, period_unit unit) noexcept {
  switch (unit) {
    case period_unit::hour:
      return days * 24;
    case period_unit::day:
      return days;
    case period_unit::week:
      return floor_div(days + 3, 7);
    default:
      break;
  }
  const civil_time date = civil_from_days(days);
  const std::int64_t month = (date.year - 1970) * 12 + date.month - 1;
  if (unit == period_unit::month) return month;
  if (unit == period_unit::quarter) return floor_div(month, 3);
  return date.year - 1970;
}

/** Index of the period containing `seconds` (seconds since 1970-01-01); see `period_index_of_day`.
 */
constexpr std::int64_t period_index(std::int64_t seconds, period_unit unit) noexcept {
  if (unit == period_unit::hour) return floor_div(seconds, 3600);
  return period_index_of_day(floor_div(seconds, seconds_per_day), unit);
}

/** First second of the period with index `index` (inverse of `period_index`). */
constexpr std::int64_t period_start(std::int64_t index, period_unit unit) noexcept {
  switch (unit) {
    case period_unit::hour:
      return index * 3600;
    case period_unit::day:
      return index * seconds_per_day;
    case period_unit::week:
      return (index * 7 - 3) * seconds_per_day;
    case period_unit::month:
      return days_from_civil(1970 + floor_div(index, 12),
                             static_cast<unsigned>(index - floor_div(index, 12) * 12) + 1, 1) *
             seconds_per_day;
    case period_unit::quarter:
      return period_start(index * 3, period_unit::month);
    case period_unit::year:
      return days_from_civil(1970 + index, 1, 1) * seconds_per_day;
  }
  return 0;
}

/** `seconds` floored to the start of its period (pandas: `to_period(freq).to_timestamp()`). */
constexpr std::int64_t floor_to_period(std::int64_t seconds, period_unit unit) noexcept {
  return period_start(period_index(seconds, unit), unit);
}

/** Whole periods from the period of `from` to the period of `to` (negative if `to` is earlier). */
constexpr std::int64_t periods_between(std::int64_t from, std::int64_t to,
                                       period_unit unit) noexcept {
  return period_index(to, unit) - period_index(from, unit);
}

}  // namespace crmkit::data
