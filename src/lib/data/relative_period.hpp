#pragma once

#include <bit>
#include <cstdint>
#include <limits>

#include "crmkit/data/grouping.hpp"

// Periods relative to a log's first, and the order of a customer's rows: shared by the grouping
// (grouping.cpp) and the summary's run-by-run pass (summary.cpp).
namespace crmkit::data::detail {

/**
 * Unsigned 64-bit division by a divisor fixed in advance, as a multiplication: for d >= 2 with
 * l = ceil(log2 d) and m = floor(2^64 (2^l - d) / d) + 1, every n < 2^64 has
 * floor(n / d) = (t + ((n - t) >> 1)) >> (l - 1) where t = floor(m n / 2^64): exact, no
 * overflow (Granlund and Montgomery, "Division by invariant integers using multiplication",
 * PLDI 1994, figure 4.1).
 */
class fixed_divisor {
  __extension__ using uint128 = unsigned __int128;

 public:
  fixed_divisor() = default;
  explicit fixed_divisor(std::uint64_t d) noexcept
      : shift_(static_cast<unsigned>(std::bit_width(d - 1)) - 1),
        magic_(static_cast<std::uint64_t>(
                   (static_cast<uint128>((std::uint64_t{1} << (shift_ + 1)) - d) << 64) / d) +
               1) {}

  /** floor(n / d); d must be at least 2 and below 2^63. */
  [[nodiscard]] std::uint64_t quotient(std::uint64_t n) const noexcept {
    const auto t = static_cast<std::uint64_t>((static_cast<uint128>(magic_) * n) >> 64);
    return (t + ((n - t) >> 1)) >> shift_;
  }

 private:
  unsigned shift_ = 0;  // l - 1
  std::uint64_t magic_ = 0;
};

/**
 * Periods of timestamps relative to the log's first period. Hours and days (fixed lengths) are
 * counted from the first period's start with a fixed_divisor by the period's length (a 64-bit
 * division per row would cost tens of cycles); other units go through the calendar.
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
    divisor_ = fixed_divisor(length_);
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
    return divisor_.quotient(static_cast<std::uint64_t>(ticks) - origin_);
  }

 private:
  [[nodiscard, gnu::noinline]] std::uint64_t through_calendar(std::int64_t ticks) const noexcept {
    return static_cast<std::uint64_t>(calendar_.period(ticks) - first_period_);
  }

  tick_calendar calendar_;
  std::int64_t first_period_;
  std::uint64_t origin_ = 0;
  std::uint64_t length_ = 0;  // 0: through the calendar
  fixed_divisor divisor_;
};

/** Rows of one customer by period, the amounts of a period ascending. */
inline constexpr auto period_then_amount = [](const keyed_row& a, const keyed_row& b) noexcept {
  return a.key < b.key || (a.key == b.key && a.amount < b.amount);
};

}  // namespace crmkit::data::detail
