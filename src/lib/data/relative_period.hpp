#pragma once

#include <cstdint>
#include <limits>

#include "crmkit/data/grouping.hpp"

// Periods relative to a log's first, and the order of a customer's rows: shared by the grouping
// (grouping.cpp) and the summary's run-by-run pass (summary.cpp).
namespace crmkit::data::detail {

/**
 * Periods of timestamps relative to the log's first period. Hours and days (fixed lengths) are
 * counted from the first period's start by multiplying with the reciprocal of the period's
 * length and correcting the quotient by its remainder, which is exact and avoids a 64-bit
 * division per row; other units go through the calendar.
 */
class relative_period {
 public:
  relative_period(const tick_calendar& calendar, std::int64_t first_period)
      : calendar_(calendar), first_period_(first_period) {
    if (calendar.unit != period_unit::hour && calendar.unit != period_unit::day) return;
    const std::int64_t origin = calendar.start(first_period);
    if (origin == std::numeric_limits<std::int64_t>::min()) return;  // saturated
    origin_ = static_cast<std::uint64_t>(origin);
    length_ = (calendar.unit == period_unit::hour ? 3600 : seconds_per_day) *
              static_cast<std::uint64_t>(calendar.ticks_per_second);
    reciprocal_ = 1.0 / static_cast<double>(length_);
  }

  /**
   * The period a scan last moved to: consecutive rows of a time-ordered log mostly share their
   * period, so a scan tries its span (`holds`) before computing (`move_to`).
   */
  struct recent {
    std::uint64_t begin;  // its first tick, in wrapping arithmetic
    std::uint64_t period;
  };

  /** The first period (0), as a `recent` to start from. */
  [[nodiscard]] recent first() const noexcept { return {origin_, 0}; }

  /** Whether `ticks` is in the `last` period's span (never for units other than hours and days). */
  [[nodiscard, gnu::always_inline]] bool holds(std::int64_t ticks,
                                               const recent& last) const noexcept {
    return static_cast<std::uint64_t>(ticks) - last.begin < length_;
  }

  /** Makes `last` the period of `ticks`. */
  void move_to(std::int64_t ticks, recent& last) const noexcept {
    const std::uint64_t period = (*this)(ticks);
    last = {origin_ + period * length_, period};
  }

  /** The period of `ticks` (at or after the log's first tick) minus the first period. */
  [[nodiscard, gnu::always_inline]] std::uint64_t operator()(std::int64_t ticks) const noexcept {
    if (length_ == 0) [[unlikely]]
      return through_calendar(ticks);
    const std::uint64_t since = static_cast<std::uint64_t>(ticks) - origin_;
    auto quotient = static_cast<std::uint64_t>(static_cast<double>(since) * reciprocal_);
    // |since - quotient * length| < 4 length: exact in wrapping arithmetic, read as signed.
    auto remainder = static_cast<std::int64_t>(since - quotient * length_);
    const auto length = static_cast<std::int64_t>(length_);
    while (remainder < 0) {
      --quotient;
      remainder += length;
    }
    while (remainder >= length) {
      ++quotient;
      remainder -= length;
    }
    return quotient;
  }

 private:
  [[nodiscard, gnu::noinline]] std::uint64_t through_calendar(std::int64_t ticks) const noexcept {
    return static_cast<std::uint64_t>(calendar_.period(ticks) - first_period_);
  }

  tick_calendar calendar_;
  std::int64_t first_period_;
  std::uint64_t origin_ = 0;
  std::uint64_t length_ = 0;  // 0: through the calendar
  double reciprocal_ = 0;
};

/** Rows of one customer by period, the amounts of a period ascending. */
inline constexpr auto period_then_amount = [](const keyed_row& a, const keyed_row& b) noexcept {
  return a.key < b.key || (a.key == b.key && a.amount < b.amount);
};

}  // namespace crmkit::data::detail
