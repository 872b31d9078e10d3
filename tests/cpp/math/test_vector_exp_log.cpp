#include <crmkit/math/special.hpp>
#include <crmkit/math/vector_exp_log.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <crmkit/core/error.hpp>

namespace math = crmkit::math;

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

const math::simd_isa every_isa[] = {math::simd_isa::portable, math::simd_isa::avx2,
                                    math::simd_isa::avx512};

/** Distance in units of the last place of `reference` (of the smallest subnormal below 2^-1022). */
double ulps(double value, double reference) {
  if (value == reference) return 0;
  if (!std::isfinite(value) || !std::isfinite(reference)) return infinity;
  const double magnitude = std::fabs(reference);
  const double unit = magnitude < std::numeric_limits<double>::min()
                          ? std::numeric_limits<double>::denorm_min()
                          : std::nextafter(magnitude, infinity) - magnitude;
  return std::fabs(value - reference) / unit;
}

/** Arguments spanning the double range: every binade from the smallest subnormal to the
 * largest double, both signs, several mantissas each, and pseudo-random bit patterns. */
std::vector<double> whole_range() {
  std::vector<double> out;
  for (int exponent = -1074; exponent <= 1023; ++exponent) {
    for (const double mantissa :
         {1.0, 1.0000000000000002, 1.234567890123, 1.5, 1.9999999999999998}) {
      const double value = std::ldexp(mantissa, exponent);
      out.push_back(value);
      out.push_back(-value);
    }
  }
  std::uint64_t state = 0x9e3779b97f4a7c15;  // xorshift64: any bit pattern, NaNs included
  for (int i = 0; i < 40000; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    out.push_back(std::bit_cast<double>(state));
  }
  return out;
}

/** Dense arguments where e^x is neither 0 nor ∞, including the subnormal results. */
std::vector<double> exp_range() {
  std::vector<double> out;
  for (double x = -746; x <= 710; x += 0.01234567) out.push_back(x);
  for (double x = -1e-3; x <= 1e-3; x += 1.1e-6) out.push_back(x);
  return out;
}

template <class Vectorised, class Reference>
double worst_ulps(math::simd_isa isa, const std::vector<double>& in, Vectorised vectorised,
                  Reference reference) {
  std::vector<double> out(in.size());
  vectorised(isa, in, out);
  double worst = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double expected = reference(in[i]);
    if (std::isnan(expected)) {
      CHECK_MESSAGE(std::isnan(out[i]), "argument ", in[i]);
      continue;
    }
    const double distance = ulps(out[i], expected);
    if (distance > 2) CHECK_MESSAGE(false, "argument ", in[i], ": ", out[i], " vs ", expected);
    worst = std::max(worst, distance);
  }
  return worst;
}

void vector_exp(math::simd_isa isa, const std::vector<double>& in, std::vector<double>& out) {
  math::exp_elementwise(isa, in, out);
}
void vector_log(math::simd_isa isa, const std::vector<double>& in, std::vector<double>& out) {
  math::log_elementwise(isa, in, out);
}
void vector_log1p(math::simd_isa isa, const std::vector<double>& in, std::vector<double>& out) {
  math::log1p_elementwise(isa, in, out);
}
void vector_expit(math::simd_isa isa, const std::vector<double>& in, std::vector<double>& out) {
  math::expit_elementwise(isa, in, out);
}
using vector_kernel = void (*)(math::simd_isa, const std::vector<double>&, std::vector<double>&);

}  // namespace

TEST_CASE("vectorised exp, log, log1p and expit are within 2 ulps of glibc over the whole double range") {
  // glibc's exp, log and log1p are themselves within 1 ulp (its manual's table of known errors).
  const auto everywhere = whole_range();
  auto exp_arguments = exp_range();
  exp_arguments.insert(exp_arguments.end(), everywhere.begin(), everywhere.end());
  for (const auto isa : every_isa) {
    if (!math::simd_isa_supported(isa)) continue;
    CAPTURE(static_cast<int>(isa));
    const double exp_ulps =
        worst_ulps(isa, exp_arguments, vector_exp, [](double x) { return std::exp(x); });
    const double log_ulps =
        worst_ulps(isa, everywhere, vector_log, [](double x) { return std::log(x); });
    const double log1p_ulps =
        worst_ulps(isa, everywhere, vector_log1p, [](double x) { return std::log1p(x); });
    CHECK(exp_ulps <= 2);
    // math::expit with glibc's exp: the same operations, so within exp's rounding (+ 1 ulp).
    CHECK(worst_ulps(isa, exp_arguments, vector_expit, [](double s) { return math::expit(s); }) <= 2);
    CHECK(log_ulps <= 2);
    CHECK(log1p_ulps <= 2);
  }
}

TEST_CASE("vectorised exp, log and log1p follow IEEE 754 at special values") {
  const std::vector<double> in = {0.0,  -0.0, infinity, -infinity, not_a_number,
                                  -1.0, -2.0, 1.0,      1e-320};
  std::vector<double> out(in.size());
  math::exp_elementwise(in, out);
  CHECK(out[0] == 1);
  CHECK(out[1] == 1);
  CHECK(out[2] == infinity);
  CHECK(out[3] == 0);
  CHECK(std::isnan(out[4]));
  CHECK(out[8] == 1);
  math::log_elementwise(in, out);
  CHECK(out[0] == -infinity);
  CHECK(out[1] == -infinity);
  CHECK(out[2] == infinity);
  CHECK(std::isnan(out[3]));
  CHECK(std::isnan(out[4]));
  CHECK(std::isnan(out[5]));
  CHECK(out[7] == 0);
  CHECK(ulps(out[8], std::log(1e-320)) <= 2);
  math::log1p_elementwise(in, out);
  CHECK(out[0] == 0);
  CHECK((out[1] == 0 && std::signbit(out[1])));
  CHECK(out[2] == infinity);
  CHECK(std::isnan(out[3]));
  CHECK(std::isnan(out[4]));
  CHECK(out[5] == -infinity);
  CHECK(std::isnan(out[6]));
  CHECK(out[8] == 1e-320);
  math::expit_elementwise(in, out);
  CHECK(out[0] == 0.5);
  CHECK(out[2] == 1);
  CHECK(out[3] == 0);
  CHECK(std::isnan(out[4]));
}

TEST_CASE("every instruction set gives the same bits, in place too, at every length") {
  auto in = whole_range();
  const auto exp_arguments = exp_range();
  in.insert(in.end(), exp_arguments.begin(), exp_arguments.end());
  for (const vector_kernel kernel : {vector_exp, vector_log, vector_log1p, vector_expit}) {
    std::vector<double> portable(in.size());
    kernel(math::simd_isa::portable, in, portable);
    for (const auto isa : every_isa) {
      if (!math::simd_isa_supported(isa)) continue;
      for (const std::size_t length :
           {in.size(), std::size_t{1}, std::size_t{7}, std::size_t{13}}) {
        std::vector<double> values(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(length));
        kernel(isa, values, values);
        for (std::size_t i = 0; i < length; ++i) {
          const bool same = std::bit_cast<std::uint64_t>(values[i]) ==
                                std::bit_cast<std::uint64_t>(portable[i]) ||
                            (std::isnan(values[i]) && std::isnan(portable[i]));
          if (!same) CHECK_MESSAGE(false, "isa ", static_cast<int>(isa), " argument ", in[i]);
        }
      }
    }
  }
}

TEST_CASE("the vectorised functions name a size mismatch") {
  std::vector<double> in(3, 1.0), out(2);
  CHECK_THROWS_AS(math::exp_elementwise(in, out), crmkit::invalid_input);
  CHECK(math::simd_isa_supported(math::simd_isa::portable));
  CHECK(math::simd_isa_supported(math::fastest_simd_isa()));
}
