#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

/**
 * Order-independent sums of doubles, the basis of crmkit's determinism promise (same answer for
 * any thread count, any chunking, any merge order). Two kinds, for two jobs:
 *
 * - `exact_sum`: a long accumulator that never rounds until `value()`. Mergeable (`+=`), so
 *   partial sums from threads combine in any order; used by the survey accumulators.
 * - `fixed_point`: addends of a known magnitude bound turned into 128-bit integers, so a total
 *   can be kept up to date incrementally (subtract one addend, add another) and still equals a
 *   fresh sum bit for bit; used by k-means' centre updates.
 *
 * Plain double reductions that only need to be reproducible (not exact) go through
 * `parallel_reduce` (crmkit/core/parallel.hpp), which combines chunks in a fixed order.
 */
namespace crmkit {

__extension__ using uint128 = unsigned __int128;

/**
 * An exact (fixed-point, "long accumulator") sum of doubles and of double × integer products, after
 * Kulisch's exact scalar product. The value is Σ limb[k]·2^(32k + LowestBit): signed 64-bit limbs
 * hold base-2^32 digits with carries deferred (carry-save), so adding is a few integer additions
 * and the sum never rounds. Because integer addition is associative, partial sums merged in any
 * order give the same bits as one pass; `value()` rounds the exact sum to the nearest double once.
 *
 * The range is a template parameter: `exact_sum` (ten limbs, bits from 2^-160) is exact when every
 * addend is 0 or has all its set bits in [2^-160, 2^140) (true for survey weights in
 * [survey::min_weight, survey::max_weight], their squares, and their products with integers of
 * magnitude below 2^20); bits outside that range are dropped (memory-safe, but no longer exact).
 * `full_range_sum` (68 limbs, bits from 2^-1074, the least subnormal) holds every finite double
 * and sums of up to 2^64 of them exactly: what k-means' column sums need, whose features may
 * take any finite value.
 */
template <int LowestBit, std::size_t Limbs>
class basic_exact_sum {
 public:
  /** Limbs of the normalised representation (value = sum limb[k] 2^(32k + LowestBit)). */
  static constexpr std::size_t limb_count = Limbs;

  /** The normalised limbs: every one in [0, 2^32) but the last, which carries the sign. */
  [[nodiscard]] std::array<std::int64_t, Limbs> limbs() const noexcept {
    basic_exact_sum copy = *this;
    copy.normalize();
    return copy.limbs_;
  }

  /** Adds a sum given by its normalised limbs (e.g. another partition's `limbs()`); exact. */
  void add_limbs(const std::array<std::int64_t, Limbs>& limbs) noexcept {
    normalize();
    for (std::size_t k = 0; k < Limbs; ++k) limbs_[k] += limbs[k];
    normalize();
  }

  /** Adds `value` exactly. */
  void add(double value) noexcept {
    const auto [magnitude, exponent, negative] = split(value);
    add_scaled(magnitude, exponent, negative);
  }

  /** Adds `value · factor` exactly (the product is formed in 128-bit integer arithmetic). */
  void add_product(double value, std::int64_t factor) noexcept {
    const auto [magnitude, exponent, negative] = split(value);
    const bool factor_negative = factor < 0;
    const uint128 factor_magnitude =
        factor_negative ? -static_cast<uint128>(factor) : static_cast<uint128>(factor);
    add_scaled(magnitude * factor_magnitude, exponent, negative != factor_negative);
  }

  /**
   * Adds `value · 2^exponent` exactly, for |value| < 2^64 (e.g. a sum of up to 2^11 significands
   * of doubles sharing one exponent: faster than adding them one by one).
   */
  void add_integer(std::int64_t value, int exponent) noexcept {
    const bool negative = value < 0;
    add_scaled(negative ? -static_cast<uint128>(value) : static_cast<uint128>(value), exponent,
               negative);
  }

  /** Adds another exact sum; the result is exact. */
  basic_exact_sum& operator+=(const basic_exact_sum& other) noexcept {
    normalize();
    for (std::size_t k = 0; k < limb_count; ++k) limbs_[k] += other.limbs_[k];
    pending_ = other.pending_ + 1;
    if (pending_ >= pending_limit) normalize();
    return *this;
  }

  /** The exact sum rounded to the nearest double (ties to even). */
  [[nodiscard]] double value() const noexcept {
    basic_exact_sum copy = *this;
    copy.normalize();
    const bool negative = copy.limbs_[limb_count - 1] < 0;
    if (negative) {
      for (auto& limb : copy.limbs_) limb = -limb;
      copy.normalize();
    }
    std::size_t top = limb_count;
    while (top > 0 && copy.limbs_[top - 1] == 0) --top;
    if (top == 0) return 0.0;
    const std::size_t high = top - 1;
    uint128 digits = 0;
    for (std::size_t k = high + 1; k-- > 0 && high - k < 3;) {
      digits = (digits << 32) | static_cast<uint128>(copy.limbs_[k]);
    }
    // Three limbs give at least 65 significant bits; a sticky bit for anything below them makes
    // the single rounding of the conversion correct.
    const std::size_t lowest_used = high >= 2 ? high - 2 : 0;
    for (std::size_t k = 0; k < lowest_used; ++k) {
      if (copy.limbs_[k] != 0) digits |= 1;
    }
    const double magnitude =
        std::ldexp(static_cast<double>(digits), static_cast<int>(32 * lowest_used) + lowest_bit);
    return negative ? -magnitude : magnitude;
  }

  /** Exact equality of the represented sums. */
  [[nodiscard]] friend bool operator==(const basic_exact_sum& a,
                                       const basic_exact_sum& b) noexcept {
    basic_exact_sum x = a;
    basic_exact_sum y = b;
    x.normalize();
    y.normalize();
    return x.limbs_ == y.limbs_;
  }

 private:
  static constexpr int lowest_bit = LowestBit;
  static constexpr std::uint32_t pending_limit = 1u << 30;

  struct parts {
    uint128 magnitude;
    int exponent;
    bool negative;
  };

  static parts split(double value) noexcept {
    const auto bits = std::bit_cast<std::uint64_t>(value);
    const auto biased = static_cast<int>((bits >> 52) & 0x7ff);
    const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
    if (biased == 0) return {fraction, -1074, (bits >> 63) != 0};
    return {fraction | (std::uint64_t{1} << 52), biased - 1075, (bits >> 63) != 0};
  }

  void add_scaled(uint128 magnitude, int exponent, bool negative) noexcept {
    if (magnitude == 0) return;
    int position = exponent - lowest_bit;
    if (position < 0) {
      magnitude >>= std::min(-position, 127);
      position = 0;
    }
    const auto limb = static_cast<std::size_t>(position / 32);
    magnitude <<= position % 32;
    for (std::size_t k = limb; k < limb_count && magnitude != 0; ++k, magnitude >>= 32) {
      const auto digit = static_cast<std::int64_t>(magnitude & 0xffffffffu);
      limbs_[k] += negative ? -digit : digit;
    }
    if (++pending_ >= pending_limit) normalize();
  }

  void normalize() noexcept {
    for (std::size_t k = 0; k + 1 < limb_count; ++k) {
      const std::int64_t carry = limbs_[k] >> 32;
      limbs_[k] &= 0xffffffff;
      limbs_[k + 1] += carry;
    }
    pending_ = 0;
  }

  std::array<std::int64_t, limb_count> limbs_{};
  std::uint32_t pending_ = 0;
};

/** Exact for addends with set bits in [2^-160, 2^140): survey weights and their products. */
using exact_sum = basic_exact_sum<-160, 10>;

/** Exact for any finite doubles (bits from 2^-1074; sums of up to 2^64 of them). */
using full_range_sum = basic_exact_sum<-1074, 68>;

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

}  // namespace crmkit
