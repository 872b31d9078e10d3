#pragma once

#include <chrono>
#include <cstdint>

namespace crmkit::survey {

/**
 * Calendar periods answers are grouped by. Periods are numbered from the one containing
 * 1970-01-01: days since then; ISO weeks (Monday to Sunday; pandas' "W"); months
 * 12·(year − 1970) + month − 1; quarters ⌊month index / 3⌋. `none` puts every answer in period 0.
 */
enum class period_unit { none, day, week, month, quarter };

namespace detail {

[[nodiscard]] constexpr std::int64_t floor_divide(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t quotient = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? quotient - 1 : quotient;
}

}  // namespace detail

/** The period (see `period_unit`) containing day `day` (days since 1970-01-01). */
[[nodiscard]] constexpr std::int64_t period_of_day(std::int64_t day, period_unit unit) noexcept {
  using namespace std::chrono;
  switch (unit) {
    case period_unit::none:
      return 0;
    case period_unit::day:
      return day;
    case period_unit::week:
      return detail::floor_divide(day + 3, 7);  // 1970-01-01 is a Thursday
    case period_unit::month:
    case period_unit::quarter: {
      const year_month_day date{sys_days{days{day}}};
      const std::int64_t month = 12 * (static_cast<std::int64_t>(int{date.year()}) - 1970) +
                                 static_cast<std::int64_t>(unsigned{date.month()}) - 1;
      return unit == period_unit::month ? month : detail::floor_divide(month, 3);
    }
  }
  return 0;
}

/** The first day (days since 1970-01-01) of period `period`. */
[[nodiscard]] constexpr std::int64_t first_day_of_period(std::int64_t period,
                                                         period_unit unit) noexcept {
  using namespace std::chrono;
  switch (unit) {
    case period_unit::none:
      return 0;
    case period_unit::day:
      return period;
    case period_unit::week:
      return 7 * period - 3;
    case period_unit::month:
    case period_unit::quarter: {
      const std::int64_t month = unit == period_unit::month ? period : 3 * period;
      const auto year_number = static_cast<int>(1970 + detail::floor_divide(month, 12));
      const auto month_number = static_cast<unsigned>(month - 12 * (year_number - 1970) + 1);
      return sys_days{year{year_number} / std::chrono::month{month_number} / 1}
          .time_since_epoch()
          .count();
    }
  }
  return 0;
}

}  // namespace crmkit::survey
