#include <crmkit/survey/exact_sum.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using crmkit::survey::detail::exact_sum;

TEST_CASE("exact_sum keeps bits a floating-point sum loses") {
  exact_sum sum;
  sum.add(0x1.0p40);
  sum.add(0x1.0p-40);
  sum.add(-0x1.0p40);
  // Plain double arithmetic gives (2^40 + 2^-40) − 2^40 = 0: 2^-40 is 80 bits below 2^40.
  CHECK(sum.value() == 0x1.0p-40);
}

TEST_CASE("exact_sum rounds the exact sum once") {
  // Ten doubles 0.1 sum exactly to 1.0000000000000000555 (0.1 is 0.1000000000000000055511…),
  // whose nearest double is 1.0; the left-to-right double sum rounds ten times and gives
  // 0.9999999999999999.
  exact_sum sum;
  double naive = 0;
  for (int i = 0; i < 10; ++i) {
    sum.add(0.1);
    naive += 0.1;
  }
  CHECK(naive != 1.0);
  CHECK(sum.value() == 1.0);
}

TEST_CASE("exact_sum products with integers equal repeated addition, signs included") {
  exact_sum product;
  product.add_product(0.3, 7);
  product.add_product(1.25e-9, -3);
  exact_sum repeated;
  for (int i = 0; i < 7; ++i) repeated.add(0.3);
  for (int i = 0; i < 3; ++i) repeated.add(-1.25e-9);
  CHECK(product == repeated);
  CHECK(product.value() == repeated.value());

  exact_sum cancelling;
  cancelling.add(5.0);
  cancelling.add_product(2.5, -2);
  CHECK(cancelling.value() == 0.0);
  CHECK(cancelling == exact_sum{});
}

TEST_CASE("exact_sum merged in any order and split equals one pass, bit for bit") {
  std::mt19937_64 engine(42);
  std::uniform_real_distribution<double> exponent(-30.0, 30.0);
  std::vector<double> values(20'000);
  for (auto& value : values) value = std::exp2(exponent(engine));

  exact_sum forward;
  for (double value : values) forward.add(value);
  exact_sum backward;
  for (auto it = values.rbegin(); it != values.rend(); ++it) backward.add(*it);

  std::vector<exact_sum> parts(7);
  for (std::size_t i = 0; i < values.size(); ++i)
    parts[(i * 2654435761u) % parts.size()].add(values[i]);
  exact_sum merged;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) merged += *it;

  CHECK(forward == backward);
  CHECK(forward == merged);
  CHECK(std::bit_cast<std::uint64_t>(forward.value()) ==
        std::bit_cast<std::uint64_t>(merged.value()));

  double naive_forward = 0;
  for (double value : values) naive_forward += value;
  double naive_backward = 0;
  for (auto it = values.rbegin(); it != values.rend(); ++it) naive_backward += *it;
  CHECK(forward.value() == doctest::Approx(naive_forward).epsilon(1e-12));
  // The point of the exercise: plain double sums of these values depend on the order.
  CHECK(naive_forward != naive_backward);
}

TEST_CASE("exact_sum survives many additions (carry-save normalisation)") {
  exact_sum sum;
  const std::int64_t count = 3'000'000;
  for (std::int64_t i = 0; i < count; ++i) sum.add(0x1.fffffffffffffp39);  // just below 2^40
  CHECK(sum.value() == static_cast<double>(count) * 0x1.fffffffffffffp39);
}

TEST_CASE("weight bounds") {
  using crmkit::survey::is_valid_weight;
  CHECK(is_valid_weight(0.0));
  CHECK(is_valid_weight(1.0));
  CHECK(is_valid_weight(crmkit::survey::min_weight));
  CHECK(is_valid_weight(crmkit::survey::max_weight));
  CHECK_FALSE(is_valid_weight(-1.0));
  CHECK_FALSE(is_valid_weight(1e-20));
  CHECK_FALSE(is_valid_weight(1e20));
  CHECK_FALSE(is_valid_weight(std::nan("")));
}

TEST_CASE("full_range_sum is exact over the whole double range and merges through its limbs") {
  using crmkit::full_range_sum;
  full_range_sum sum;
  sum.add(1e300);
  sum.add(1e-300);
  sum.add(-1e300);
  // 1e300 and 1e-300 are 2000 bits apart: beyond exact_sum's [2^-160, 2^140), exact here.
  CHECK(sum.value() == 1e-300);
  full_range_sum tiny;
  tiny.add(5e-324);  // the least subnormal, 2^-1074
  tiny.add(5e-324);
  CHECK(tiny.value() == 1e-323);
  full_range_sum huge;
  for (int i = 0; i < 4; ++i) huge.add(std::numeric_limits<double>::max());
  for (int i = 0; i < 3; ++i) huge.add(-std::numeric_limits<double>::max());
  CHECK(huge.value() == std::numeric_limits<double>::max());  // no overflow on the way
  // Merging through limbs equals adding the sums.
  full_range_sum merged = sum;
  merged.add_limbs(huge.limbs());
  full_range_sum added = sum;
  added += huge;
  CHECK(merged == added);
  CHECK(merged.value() == std::numeric_limits<double>::max());
}
