#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace crmkit::segment::detail {

__extension__ typedef __int128 wide_int;

/**
 * Exact sums of doubles in fixed point. Each addend v becomes the 64-bit integer
 * trunc(v * 2^e), with e chosen so that every |v * 2^e| stays below 2^62, and the integers are
 * added in 128 bits (no overflow below 2^64 addends). Integer addition is associative, so a
 * total does not depend on the order of its additions, on the thread count, or on whether it
 * was kept up to date incrementally (subtracting an addend and adding another) or recomputed
 * from scratch. The truncation costs each addend less than 2^-62 of the largest one, finer
 * than a double's own rounding.
 */
class fixed_point {
 public:
  /** A scale for addends of absolute value at most `largest`. */
  explicit fixed_point(double largest) {
    int exponent = 0;
    if (largest > 0 && std::isfinite(largest)) std::frexp(largest, &exponent);  // < 2^exponent
    exponent_ = std::clamp(62 - exponent, -1000, 1000);
    scale_ = std::ldexp(1.0, exponent_);
    inverse_ = std::ldexp(1.0, -exponent_);
  }

  /** trunc(v * 2^e); a function of v alone. */
  [[nodiscard]] wide_int convert(double v) const { return static_cast<std::int64_t>(v * scale_); }

  /** The fixed-point integer back as a double (rounded once). */
  [[nodiscard]] double to_double(wide_int value) const {
    return static_cast<double>(value) * inverse_;
  }

 private:
  int exponent_ = 0;
  double scale_ = 1;
  double inverse_ = 1;
};

}  // namespace crmkit::segment::detail
