#include <crmkit/core/exact_sum.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using crmkit::full_range_columns;
using crmkit::full_range_sum;
using crmkit::uint128;

namespace {

std::uint64_t bits(double value) { return std::bit_cast<std::uint64_t>(value); }

/**
 * s · 2^t rounded to the nearest double (ties to even), by integer arithmetic: independent of
 * the accumulator. Normal results: the uint64 → double conversion rounds once (to 53 bits) and
 * ldexp is then exact. Subnormal results: the bits below 2^-1074 are dropped by hand.
 */
double reference(std::uint64_t s, int t) {
  if (s == 0) return 0.0;
  const int length = 64 - std::countl_zero(s);
  if (length + t - 1 >= -1022) return std::ldexp(static_cast<double>(s), t);
  const int drop = -1074 - t;  // bits below the least subnormal
  if (drop <= 0) return std::ldexp(static_cast<double>(s), t);
  if (drop > 64) return 0.0;
  const uint128 wide = s;
  const uint128 kept = wide >> drop;
  const uint128 rest = wide - (kept << drop);
  const uint128 half = uint128{1} << (drop - 1);
  const uint128 rounded = rest > half || (rest == half && (kept & 1) == 1) ? kept + 1 : kept;
  return std::ldexp(static_cast<double>(static_cast<std::uint64_t>(rounded)), -1074);
}

}  // namespace

TEST_CASE("full_range_sum::add_wide keeps all 128 bits at every bit offset") {
  // (2^128 − 1) · 2^e for every offset of e within a 32-bit digit: taking the same amount away
  // in 32-bit pieces (add_integer, far below any overflow) leaves exactly nothing.
  const uint128 all = ~uint128{0};
  for (int e = -1074; e < -1074 + 64; ++e) {
    full_range_sum sum;
    sum.add_wide(all, e);
    for (int k = 0; k < 4; ++k) sum.add_integer(-std::int64_t{0xffffffff}, e + 32 * k);
    CHECK(sum == full_range_sum{});
  }
  // (2^128 − 1) · 2^-1069 is 2^-941 − 2^-1069, whose nearest double is 2^-941.
  full_range_sum top;
  top.add_wide(all, -1069);
  CHECK(top.value() == 0x1p-941);
  // A run of 10^6 equal significands: 10^6 · (2^53 − 1) · 2^-52 equals 10^6 · (2 − 2^-52).
  full_range_sum run;
  run.add_wide(uint128{1'000'000} * ((std::uint64_t{1} << 53) - 1), -52);
  CHECK(run.value() == 1e6 * 0x1.fffffffffffffp0);
}

TEST_CASE("full_range_sum::scaled_value rounds sum · 2^-shift once") {
  // Past the double range: three times 1.5 · 2^1023 is 4.5 · 2^1023, inf as a double.
  full_range_sum huge;
  for (int i = 0; i < 3; ++i) huge.add(0x1.8p1023);
  CHECK(std::isinf(huge.value()));
  CHECK(huge.scaled_value(1023) == 4.5);
  CHECK(huge.scaled_value(1024) == 2.25);
  // Into the subnormals, ties to even: 3 · 2^-1074 / 2 is 1.5 units of 2^-1074 → 2 units;
  // / 4 is 0.75 → 1 unit; / 8 is 0.375 → 0. 5 · 2^-1074 / 2 is 2.5 units → 2 (even).
  full_range_sum three;
  for (int i = 0; i < 3; ++i) three.add(0x1p-1074);
  CHECK(bits(three.scaled_value(1)) == bits(0x1p-1073));
  CHECK(bits(three.scaled_value(2)) == bits(0x1p-1074));
  CHECK(bits(three.scaled_value(3)) == bits(0.0));
  full_range_sum five;
  five.add_integer(5, -1074);
  CHECK(bits(five.scaled_value(1)) == bits(0x1p-1073));
  // Ties and the sticky bit near 1: 1 + 2^-53 is a tie → 1; 1 + 2^-53 + 2^-110 is above it →
  // 1 + 2^-52; 1 + 3 · 2^-53 is a tie → the even 1 + 2^-51.
  full_range_sum tie;
  tie.add(1.0);
  tie.add(0x1p-53);
  CHECK(tie.value() == 1.0);
  tie.add(0x1p-110);
  CHECK(tie.value() == 1.0 + 0x1p-52);
  full_range_sum odd;
  odd.add(1.0);
  odd.add(0x1.8p-52);
  CHECK(odd.value() == 1.0 + 0x1p-51);
  // Signs: the negative sum rounds as its magnitude does.
  full_range_sum negative;
  for (int i = 0; i < 3; ++i) negative.add(-0x1.8p1023);
  CHECK(negative.scaled_value(1023) == -4.5);
  CHECK(std::isinf(negative.value()));
  CHECK(negative.value() < 0);
}

TEST_CASE("full_range_sum::scaled_value equals integer rounding of s · 2^(e − shift)") {
  std::mt19937_64 engine(14);
  std::uniform_int_distribution<int> exponent(-1074, 960);
  std::uniform_int_distribution<int> shift(0, 2100);
  std::uniform_int_distribution<int> length(1, 63);
  for (int trial = 0; trial < 200'000; ++trial) {
    const std::uint64_t s = engine() >> (64 - length(engine));
    const int e = exponent(engine);
    const int k = trial % 8 == 0 ? 0 : shift(engine);
    full_range_sum sum;
    sum.add_integer(static_cast<std::int64_t>(s), e);
    const double expected = reference(s, e - k);
    REQUIRE(bits(sum.scaled_value(k)) == bits(expected));
    if (k == 0) REQUIRE(bits(sum.value()) == bits(expected));
  }
}

TEST_CASE("full_range_columns equals full_range_sum value by value; non-finite addends apart") {
  std::mt19937_64 engine(3);
  std::uniform_real_distribution<double> exponent(-1070.0, 1020.0);
  full_range_columns columns(3);
  std::vector<full_range_sum> expected(3);
  for (int i = 0; i < 5'000; ++i) {  // several blocks of 1024 per column
    for (std::size_t j = 0; j < 3; ++j) {
      double value = std::exp2(exponent(engine)) * (engine() % 2 == 0 ? 1 : -1);
      if (i % 97 == 0) value = 0x1p-1074 * static_cast<double>(engine() % 5);  // subnormal, zero
      columns.add(j, value);
      expected[j].add(value);
    }
  }
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(columns.value(j) == expected[j].value());
    CHECK(columns.sums()[j] == expected[j]);
  }
  CHECK_FALSE(columns.non_finite());
  const double inf = std::numeric_limits<double>::infinity();
  columns.add(0, inf);
  columns.add(1, inf);
  columns.add(1, -inf);
  CHECK(columns.value(0) == inf);
  CHECK(std::isnan(columns.value(1)));
  CHECK(columns.value(2) == expected[2].value());
  CHECK(columns.non_finite());
}
