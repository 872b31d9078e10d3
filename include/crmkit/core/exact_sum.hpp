#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

/**
 * Order-independent sums of doubles, the basis of crmkit's determinism promise (same answer for
 * any thread count, any chunking, any merge order). Two kinds, for two jobs:
 *
 * - `exact_sum`: a long accumulator that never rounds until `value()`. Mergeable (`+=`), so
 *   partial sums from threads combine in any order; used by the survey accumulators.
 *   `full_range_sum` is its whole-range kind (k-means' column sums, value tiers' shares, the
 *   Gamma-Gamma row sums), `full_range_columns` a fast way to fill several of them.
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

  /**
   * Adds `magnitude · 2^exponent` exactly, for any magnitude < 2^128 (e.g. the sum of a run of
   * significands of doubles sharing one exponent, times their counts).
   */
  void add_wide(uint128 magnitude, int exponent) noexcept { add_scaled(magnitude, exponent, false); }

  /** Adds another exact sum; the result is exact. */
  basic_exact_sum& operator+=(const basic_exact_sum& other) noexcept {
    normalize();
    for (std::size_t k = 0; k < limb_count; ++k) limbs_[k] += other.limbs_[k];
    pending_ = other.pending_ + 1;
    if (pending_ >= pending_limit) normalize();
    return *this;
  }

  /** The exact sum rounded to the nearest double (ties to even). */
  [[nodiscard]] double value() const noexcept { return scaled_value(0); }

  /**
   * The exact sum times 2^−shift, rounded once to the nearest double (ties to even), subnormal
   * results included: e.g. shares of a sum that passes the double range, taken in units of
   * 2^shift. Overflow gives ±inf, as any correctly rounded result would.
   */
  [[nodiscard]] double scaled_value(int shift) const noexcept {
    basic_exact_sum copy = *this;
    copy.normalize();
    const bool negative = copy.limbs_[limb_count - 1] < 0;
    if (negative) {
      for (auto& limb : copy.limbs_) limb = -limb;
      copy.normalize();
    }
    const auto& digits = copy.limbs_;
    std::size_t top = limb_count;
    while (top > 0 && digits[top - 1] == 0) --top;
    if (top == 0) return 0.0;
    // Bit i of the digits weighs 2^(i + LowestBit − shift) in the result: keep the 53 bits from
    // the highest one set, none below the least subnormal's, and round on the rest.
    const int highest = static_cast<int>(32 * (top - 1)) + 63 -
                        std::countl_zero(static_cast<std::uint64_t>(digits[top - 1]));
    const int low = std::max({highest - 52, -1074 - lowest_bit + shift, 0});
    if (low > highest + 1) return negative ? -0.0 : 0.0;  // below half the least subnormal
    std::uint64_t significand = 0;
    if (highest >= low) {
      const int width = highest - low + 1;  // at most 53
      significand = bits_from(digits, low) & ((std::uint64_t{1} << width) - 1);
    }
    if (low >= 1 && bit(digits, low - 1) && (significand % 2 == 1 || any_below(digits, low - 1))) {
      ++significand;
    }
    const double magnitude = std::ldexp(static_cast<double>(significand), low + lowest_bit - shift);
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
      if (position <= -128) return;
      magnitude >>= -position;
      position = 0;
    }
    auto k = static_cast<std::size_t>(position / 32);
    const int offset = position % 32;
    // The first digit takes the low 32 − offset bits; shifting the rest down keeps all 128 bits.
    const auto first = static_cast<std::int64_t>((static_cast<std::uint64_t>(magnitude) << offset) &
                                                 0xffffffffu);
    if (k < limb_count) limbs_[k] += negative ? -first : first;
    magnitude >>= 32 - offset;
    for (++k; k < limb_count && magnitude != 0; ++k, magnitude >>= 32) {
      const auto digit = static_cast<std::int64_t>(magnitude & 0xffffffffu);
      limbs_[k] += negative ? -digit : digit;
    }
    if (++pending_ >= pending_limit) normalize();
  }

  /** Bits start .. start + 63 of normalised, non-negative digits (the last may pass 32 bits). */
  static std::uint64_t bits_from(const std::array<std::int64_t, Limbs>& digits, int start) noexcept {
    std::uint64_t out = 0;
    for (auto k = std::min(static_cast<std::size_t>(start / 32), Limbs - 1);
         k < limb_count && static_cast<int>(32 * k) < start + 64; ++k) {
      const int at = static_cast<int>(32 * k) - start;
      const auto digit = static_cast<std::uint64_t>(digits[k]);
      if (at > -64) out |= at < 0 ? digit >> -at : digit << at;
    }
    return out;
  }

  static bool bit(const std::array<std::int64_t, Limbs>& digits, int i) noexcept {
    return (bits_from(digits, i) & 1) != 0;
  }

  /** Whether any bit below `end` is set (the last digit may hold more than 32 bits). */
  static bool any_below(const std::array<std::int64_t, Limbs>& digits, int end) noexcept {
    const auto limb = std::min(static_cast<std::size_t>(end / 32), Limbs - 1);
    for (std::size_t k = 0; k < limb; ++k) {
      if (digits[k] != 0) return true;
    }
    const int offset = end - static_cast<int>(32 * limb);  // 0 .. 63
    return offset != 0 &&
           (static_cast<std::uint64_t>(digits[limb]) & ((std::uint64_t{1} << offset) - 1)) != 0;
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

/**
 * Exact sums of many doubles in a few columns, fast: the significands of a column's addends that
 * share an exponent are added in a 64-bit integer (at most `block` of them, each below 2^53, so
 * no overflow), and each exponent's total enters the column's `full_range_sum` once per block
 * (the bucketing of Kulisch's accumulator). Non-finite addends are summed apart as doubles
 * (±inf and NaN combine the same way in any order) and `value` returns that sum when there was
 * one, as a plain double sum would. Mergeable as the long sums are: `sums()` and `special()`.
 */
class full_range_columns {
 public:
  static constexpr std::size_t block = 1024;
  static constexpr std::size_t exponents = 2048;

  explicit full_range_columns(std::size_t columns)
      : sums_(columns),
        special_(columns, 0.0),
        buckets_(columns * exponents, 0),
        low_(columns, exponents),
        high_(columns, 0),
        added_(columns, 0) {}

  /** Adds `value` to column `column` exactly. */
  void add(std::size_t column, double value) noexcept {
    const auto bits = std::bit_cast<std::uint64_t>(value);
    const auto biased = static_cast<std::size_t>((bits >> 52) & 0x7ff);
    auto significand = static_cast<std::int64_t>(bits & ((std::uint64_t{1} << 52) - 1));
    if (biased == exponents - 1) {
      special_[column] += value;
      return;
    }
    if (biased != 0) {
      significand |= std::int64_t{1} << 52;
    } else if (significand == 0) {
      return;  // a zero: keeps the exponent range to flush short
    }
    const auto sign = -static_cast<std::int64_t>(bits >> 63);
    buckets_[column * exponents + biased] += (significand ^ sign) - sign;
    low_[column] = std::min(low_[column], biased);
    high_[column] = std::max(high_[column], biased);
    if (++added_[column] == block) flush(column);
  }

  /** The columns' exact sums of finite addends (all buckets moved in). */
  std::vector<full_range_sum>& sums() noexcept {
    for (std::size_t j = 0; j < sums_.size(); ++j) flush(j);
    return sums_;
  }

  /** Per column, the double sum of its non-finite addends (0 when there was none). */
  [[nodiscard]] const std::vector<double>& special() const noexcept { return special_; }

  /** Whether any addend was ±inf or NaN. */
  [[nodiscard]] bool non_finite() const noexcept {
    return std::any_of(special_.begin(), special_.end(), [](double s) { return s != 0; });
  }

  /** Column `column`'s sum rounded once; the non-finite addends' sum if there were any. */
  [[nodiscard]] double value(std::size_t column) noexcept {
    flush(column);
    return special_[column] != 0 ? special_[column] : sums_[column].value();
  }

 private:
  void flush(std::size_t column) noexcept {
    for (std::size_t e = low_[column]; e <= high_[column] && e < exponents; ++e) {
      auto& bucket = buckets_[column * exponents + e];
      if (bucket == 0) continue;
      sums_[column].add_integer(bucket, e == 0 ? -1074 : static_cast<int>(e) - 1075);
      bucket = 0;
    }
    low_[column] = exponents;
    high_[column] = 0;
    added_[column] = 0;
  }

  std::vector<full_range_sum> sums_;
  std::vector<double> special_;
  std::vector<std::int64_t> buckets_;
  std::vector<std::size_t> low_;
  std::vector<std::size_t> high_;
  std::vector<std::size_t> added_;
};

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
