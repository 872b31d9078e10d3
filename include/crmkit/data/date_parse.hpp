#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"

/**
 * Civil (calendar) dates and times as int64 seconds since 1970-01-01T00:00:00, in the proleptic
 * Gregorian calendar without a time zone, and the text formats crmkit reads them from.
 */
namespace crmkit::data {

/** Gregorian leap year: divisible by 4, except centuries not divisible by 400. */
constexpr bool is_leap_year(std::int64_t year) noexcept {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

/** Number of days in `month` (1-12) of `year`. */
constexpr unsigned days_in_month(std::int64_t year, unsigned month) noexcept {
  constexpr std::array<unsigned, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/**
 * Days from 1970-01-01 to `year`-`month`-`day` (negative before 1970).
 *
 * The era decomposition of H. Hinnant, "chrono-Compatible Low-Level Date Algorithms" (2013,
 * https://howardhinnant.github.io/date_algorithms.html#days_from_civil): years are counted from
 * March so the leap day ends the year, and 400-year eras of 146,097 days repeat exactly.
 * Requires 1 <= month <= 12 and 1 <= day <= days_in_month(year, month).
 */
constexpr std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

/** A calendar date and time of day, as read from text. */
struct civil_time {
  std::int64_t year = 1970;
  unsigned month = 1;
  unsigned day = 1;
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
};

/**
 * The inverse of days_from_civil (Hinnant 2013, `civil_from_days`): the calendar date that lies
 * `days` days after 1970-01-01.
 */
constexpr civil_time civil_from_days(std::int64_t days) noexcept {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;
  civil_time date;
  date.day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  date.month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  date.year = static_cast<std::int64_t>(year_of_era) + era * 400 + (date.month <= 2 ? 1 : 0);
  return date;
}

namespace detail {

inline constexpr std::int64_t tabulated_first_year = 1900;
inline constexpr std::int64_t tabulated_years = 250;

/** days_from_civil of the first of every month from 1900-01 to 2150-01, for fast lookups. */
inline constexpr auto tabulated_month_starts = [] {
  std::array<std::int32_t, tabulated_years * 12 + 1> starts{};
  for (std::size_t i = 0; i < starts.size(); ++i) {
    starts[i] = static_cast<std::int32_t>(
        days_from_civil(tabulated_first_year + static_cast<std::int64_t>(i / 12),
                        static_cast<unsigned>(i % 12) + 1, 1));
  }
  return starts;
}();

// Returns through `seconds` rather than std::optional: GCC 12 returns an optional<int64_t>
// through the stack with a one-byte flag, a store-forwarding stall on every call.
constexpr bool checked_timestamp(std::int64_t year, unsigned month, unsigned day, unsigned hour,
                                 unsigned minute, unsigned second, std::int64_t& seconds) noexcept {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const auto time_of_day = static_cast<std::int64_t>(hour * 3600 + minute * 60 + second);
  const std::int64_t years_into_table = year - tabulated_first_year;
  if (years_into_table >= 0 && years_into_table < tabulated_years) {
    const auto index = static_cast<std::size_t>(years_into_table * 12 + month - 1);
    const std::int64_t month_start = tabulated_month_starts[index];
    if (day > static_cast<unsigned>(tabulated_month_starts[index + 1] - month_start)) return false;
    seconds = (month_start + day - 1) * 86400 + time_of_day;
    return true;
  }
  if (day > days_in_month(year, month)) return false;
  seconds = days_from_civil(year, month, day) * 86400 + time_of_day;
  return true;
}

}  // namespace detail

/**
 * Seconds since 1970-01-01T00:00:00 for a validated civil time: month 1-12, day within the month
 * (leap years included), hour 0-23, minute and second 0-59. Empty when a field is out of range.
 */
constexpr std::optional<std::int64_t> to_timestamp(const civil_time& time) noexcept {
  std::int64_t seconds = 0;
  if (!detail::checked_timestamp(time.year, time.month, time.day, time.hour, time.minute,
                                 time.second, seconds)) {
    return std::nullopt;
  }
  return seconds;
}

/** Splits seconds since 1970-01-01 into a civil time (floor division: 1969 times work too). */
constexpr civil_time civil_from_timestamp(std::int64_t seconds) noexcept {
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  civil_time time = civil_from_days(days);
  time.hour = static_cast<unsigned>(rest / 3600);
  time.minute = static_cast<unsigned>(rest % 3600 / 60);
  time.second = static_cast<unsigned>(rest % 60);
  return time;
}

/** "YYYY-MM-DD" at midnight, else "YYYY-MM-DDTHH:MM:SS". */
inline std::string format_timestamp(std::int64_t seconds) {
  const civil_time time = civil_from_timestamp(seconds);
  if (time.hour == 0 && time.minute == 0 && time.second == 0) {
    return fmt::format("{:04}-{:02}-{:02}", time.year, time.month, time.day);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", time.year, time.month, time.day,
                     time.hour, time.minute, time.second);
}

namespace detail {

/** Reads exactly `count` ASCII digits at `text[position]`, advancing `position`. */
constexpr bool read_digits(std::string_view text, std::size_t& position, std::size_t count,
                           unsigned& value) noexcept {
  if (position > text.size() || text.size() - position < count) return false;
  value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[position + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  position += count;
  return true;
}

/** Reads one or two digits at `text[position]` (strptime's %m, %d, %H, %M, %S). */
constexpr bool read_one_or_two_digits(std::string_view text, std::size_t& position,
                                      unsigned& value) noexcept {
  if (!read_digits(text, position, 1, value)) return false;
  unsigned second_digit = 0;
  if (read_digits(text, position, 1, second_digit)) value = value * 10 + second_digit;
  return true;
}

/** The number written by the two ASCII digits at `chars`, or -1. */
constexpr int two_digits(const char* chars) noexcept {
  const unsigned tens = static_cast<unsigned char>(chars[0]) - unsigned{'0'};
  const unsigned ones = static_cast<unsigned char>(chars[1]) - unsigned{'0'};
  return tens < 10 && ones < 10 ? static_cast<int>(tens * 10 + ones) : -1;
}

/** Skips a fraction of a second: one to nine digits after the '.' already consumed. */
constexpr bool skip_fraction(std::string_view text, std::size_t& position) noexcept {
  std::size_t digits = 0;
  while (position < text.size() && text[position] >= '0' && text[position] <= '9') {
    ++position;
    ++digits;
  }
  return digits >= 1 && digits <= 9;
}

}  // namespace detail

namespace detail {

/** parse_iso_timestamp, returning through `seconds`. */
constexpr bool read_iso_timestamp(std::string_view text, std::int64_t& seconds) noexcept {
  const std::size_t size = text.size();
  const char* chars = text.data();
  if (size == 8) {
    const int century = two_digits(chars);
    const int year = two_digits(chars + 2);
    const int month = two_digits(chars + 4);
    const int day = two_digits(chars + 6);
    if ((century | year | month | day) < 0) return false;
    return checked_timestamp(century * 100 + year, static_cast<unsigned>(month),
                             static_cast<unsigned>(day), 0, 0, 0, seconds);
  }
  if (size < 10 || chars[4] != '-' || chars[7] != '-') return false;
  const int century = two_digits(chars);
  const int year = two_digits(chars + 2);
  const int month = two_digits(chars + 5);
  const int day = two_digits(chars + 8);
  if ((century | year | month | day) < 0) return false;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (size > 10) {
    if ((chars[10] != 'T' && chars[10] != ' ') || size < 16 || chars[13] != ':') {
      return false;
    }
    hour = two_digits(chars + 11);
    minute = two_digits(chars + 14);
    std::size_t position = 16;
    if (position < size && chars[position] == ':') {
      second = size >= 19 ? two_digits(chars + 17) : -1;
      position = 19;
      if (position < size && chars[position] == '.' && !skip_fraction(text, ++position)) {
        return false;
      }
    }
    if (position < size && chars[position] == 'Z') ++position;
    if ((hour | minute | second) < 0 || position != size) return false;
  }
  return checked_timestamp(century * 100 + year, static_cast<unsigned>(month),
                           static_cast<unsigned>(day), static_cast<unsigned>(hour),
                           static_cast<unsigned>(minute), static_cast<unsigned>(second), seconds);
}

}  // namespace detail

/**
 * Parses the date and datetime forms crmkit reads without being told a format:
 * `YYYY-MM-DD`, `YYYYMMDD`, `YYYY-MM-DDTHH:MM[:SS[.f]]` and `YYYY-MM-DD HH:MM[:SS[.f]]`,
 * each optionally ending in `Z`. Fields are validated (month 1-12, day within the month with
 * leap years, hour 0-23, minute and second 0-59); fractions of a second (1-9 digits) are
 * truncated, since timestamps are whole seconds. Time-zone offsets such as `+01:00` are
 * rejected: crmkit's times carry no zone. Returns seconds since 1970-01-01, or nothing.
 */
constexpr std::optional<std::int64_t> parse_iso_timestamp(std::string_view text) noexcept {
  std::int64_t seconds = 0;
  if (!detail::read_iso_timestamp(text, seconds)) return std::nullopt;
  return seconds;
}

/**
 * A date format in the strptime style, compiled once and applied to many fields.
 *
 * Directives: `%Y` four-digit year, `%y` two-digit year (69-99 -> 1969-1999, 00-68 ->
 * 2000-2068, as POSIX strptime), `%m` month and `%d` day (one or two digits), `%b` month name or
 * its three-letter abbreviation (any case), `%H` `%M` `%S` hour, minute, second (one or two
 * digits), `%f` fraction of a second (1-9 digits, truncated), `%%` a percent sign. Other
 * characters must match exactly, and the whole field must be consumed. A year is required;
 * a missing month or day defaults to 1, a missing time to midnight.
 *
 * **Example**: `date_format("%d/%m/%Y").parse("31/12/1997")` is 883526400 (1997-12-31).
 *
 * @throw invalid_input naming the format for an unsupported directive or a format without a year.
 */
class date_format {
 public:
  explicit date_format(std::string format) : text_(std::move(format)) {
    bool has_year = false;
    for (std::size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] != '%') {
        items_.push_back({'\0', text_[i]});
        continue;
      }
      if (++i == text_.size()) fail("ends with a lone '%'");
      const char directive = text_[i];
      if (std::string_view("YymdbHMSf%").find(directive) == std::string_view::npos) {
        fail(fmt::format("has the unsupported directive '%{}'", directive));
      }
      has_year = has_year || directive == 'Y' || directive == 'y';
      if (directive == '%') {
        items_.push_back({'\0', '%'});
      } else {
        items_.push_back({directive, '\0'});
      }
    }
    if (!has_year) fail("has no year (%Y or %y)");
  }

  /** The format as given. */
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

  /** Seconds since 1970-01-01 for `text`, or nothing when it does not match or is invalid. */
  [[nodiscard]] std::optional<std::int64_t> parse(std::string_view text) const noexcept {
    civil_time time;
    std::size_t position = 0;
    for (const item& item : items_) {
      unsigned value = 0;
      bool ok = true;
      switch (item.directive) {
        case '\0':
          ok = position < text.size() && text[position++] == item.literal;
          break;
        case 'Y':
          ok = detail::read_digits(text, position, 4, value);
          time.year = value;
          break;
        case 'y':
          ok = detail::read_digits(text, position, 2, value);
          time.year = value < 69 ? 2000 + value : 1900 + value;
          break;
        case 'm':
        case 'd':
        case 'H':
        case 'M':
        case 'S':
          ok = detail::read_one_or_two_digits(text, position, time.*field_of(item.directive));
          break;
        case 'f':
          ok = detail::skip_fraction(text, position);
          break;
        case 'b':
          ok = read_month_name(text, position, time.month);
          break;
        default:
          ok = false;
      }
      if (!ok) return std::nullopt;
    }
    if (position != text.size()) return std::nullopt;
    return to_timestamp(time);
  }

 private:
  struct item {
    char directive;  ///< '\0' for a literal character
    char literal;
  };

  /** The civil_time member a one-or-two-digit directive fills. */
  static constexpr unsigned civil_time::*field_of(char directive) noexcept {
    switch (directive) {
      case 'm':
        return &civil_time::month;
      case 'd':
        return &civil_time::day;
      case 'H':
        return &civil_time::hour;
      case 'M':
        return &civil_time::minute;
      default:
        return &civil_time::second;
    }
  }

  [[noreturn]] void fail(std::string_view problem) const {
    throw invalid_input(fmt::format("date_format '{}' {}", text_, problem));
  }

  static constexpr char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }

  static bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) noexcept {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (lower(text[i]) != prefix[i]) return false;
    }
    return true;
  }

  // Full names first, so "june" is not read as "jun" followed by a stray "e".
  static bool read_month_name(std::string_view text, std::size_t& position,
                              unsigned& month) noexcept {
    static constexpr std::array<std::string_view, 12> names{
        "january", "february", "march",     "april",   "may",      "june",
        "july",    "august",   "september", "october", "november", "december"};
    const std::string_view rest = text.substr(std::min(position, text.size()));
    for (unsigned i = 0; i < 12; ++i) {
      for (const std::string_view name : {names[i], names[i].substr(0, 3)}) {
        if (starts_with_ignoring_case(rest, name)) {
          month = i + 1;
          position += name.size();
          return true;
        }
      }
    }
    return false;
  }

  std::string text_;
  std::vector<item> items_;
};

}  // namespace crmkit::data
