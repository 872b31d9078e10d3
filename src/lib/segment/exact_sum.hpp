#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace crmkit::segment::detail {

__extension__ typedef __int128 wide_int;

/**
 * Exact sums of doubles in 128-bit fixed point. Each addend v becomes the integer
 * trunc(v * 2^e), with e chosen so that the sum of all |addends| stays below 2^124; integer
 * addition is associative, so a total does not depend on the order of its additions, on the
 * thread count, or on whether it was kept up to date incrementally (subtracting an addend and
 * adding another) or recomputed from scratch. Each addend keeps about 124 - log2(bound / |v|)
 * bits, far more than a double's 53.
 */
class fixed_point {
 public:
  /** A scale for addends whose absolute values sum to at most `bound`. */
  explicit fixed_point(double bound) {
    int exponent = 0;
    if (bound > 0 && std::isfinite(bound)) std::frexp(bound, &exponent);  // bound < 2^exponent
    exponent_ = std::min(124 - exponent, 1000);
    scale_ = std::ldexp(1.0, exponent_);
    inverse_ = std::ldexp(1.0, -exponent_);
  }

  /** trunc(v * 2^e) as an integer, read off the bits of v * 2^e; a function of v alone. */
  [[nodiscard]] wide_int convert(double v) const {
    const auto bits = std::bit_cast<std::uint64_t>(v * scale_);
    const auto biased = static_cast<int>((bits >> 52) & 0x7ff);
    if (biased == 0) return 0;  // zero, or below one unit of the fixed point
    const std::uint64_t mantissa =
        (bits & ((std::uint64_t{1} << 52) - 1)) | (std::uint64_t{1} << 52);
    const int shift = biased - 1075;  // |v * 2^e| = mantissa * 2^shift, shift < 72
    const wide_int magnitude = shift >= 0    ? static_cast<wide_int>(mantissa) << shift
                               : shift > -64 ? static_cast<wide_int>(mantissa >> -shift)
                                             : 0;
    return (bits >> 63) != 0 ? -magnitude : magnitude;
  }

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
