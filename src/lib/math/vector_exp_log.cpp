#include "crmkit/math/vector_exp_log.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

#include "crmkit/core/check.hpp"

// Compiled with -ffp-contract=off (CMakeLists.txt): AVX-512 has fused multiply-add, and a
// contraction there would give that instruction set different bits from the others.

namespace crmkit::math {

namespace {

// Two (SSE2), four (AVX2) or eight (AVX-512) doubles, and their bit patterns as integers.
typedef double lanes2 __attribute__((vector_size(16)));
typedef double lanes4 __attribute__((vector_size(32)));
typedef double lanes8 __attribute__((vector_size(64)));

template <class V>
struct lane_bits;
template <>
struct lane_bits<lanes2> {
  typedef std::int64_t type __attribute__((vector_size(16)));
  typedef std::uint64_t unsigned_type __attribute__((vector_size(16)));
};
template <>
struct lane_bits<lanes4> {
  typedef std::int64_t type __attribute__((vector_size(32)));
  typedef std::uint64_t unsigned_type __attribute__((vector_size(32)));
};
template <>
struct lane_bits<lanes8> {
  typedef std::int64_t type __attribute__((vector_size(64)));
  typedef std::uint64_t unsigned_type __attribute__((vector_size(64)));
};

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
// 1.5·2^52: adding it rounds a double of magnitude < 2^51 to an integer held in the low bits.
constexpr double integer_shifter = 0x1.8p52;
constexpr std::int64_t integer_shifter_bits = 0x4338000000000000;
// ln 2 = ln2_hi + ln2_lo with ln2_hi's last 21 bits zero (fdlibm's e_exp.c / e_log.c).
constexpr double ln2_hi = 6.93147180369123816490e-01;
constexpr double ln2_lo = 1.90821492927058770002e-10;
constexpr double log2_e = 1.44269504088896338700e+00;

constexpr int exp_degree = 13;
constexpr int atanh_terms = 10;

/** 1/k! for k = 0..exp_degree, each rounded once. */
constexpr auto inverse_factorials = [] {
  std::array<double, exp_degree + 1> out{};
  double factorial = 1;
  for (int k = 0; k <= exp_degree; ++k) {
    if (k > 0) factorial *= k;  // exact: 13! < 2^53
    out[static_cast<std::size_t>(k)] = 1.0 / factorial;
  }
  return out;
}();

/** 2/(2j+1) for j = 1..atanh_terms: ln m = 2 atanh s = 2s + s·Σ_j 2/(2j+1) s^{2j}. */
constexpr auto atanh_coefficients = [] {
  std::array<double, atanh_terms> out{};
  for (int j = 1; j <= atanh_terms; ++j) out[static_cast<std::size_t>(j - 1)] = 2.0 / (2 * j + 1);
  return out;
}();

template <class V>
[[gnu::always_inline]] inline void exp_lanes(const V& x, V& out) {
  using bits = typename lane_bits<V>::type;
  using unsigned_bits = typename lane_bits<V>::unsigned_type;
  // e^710 overflows and e^−1100 underflows, and n stays within what the two scale factors span.
  const V clamped = x > 710.0 ? V{} + 710.0 : (x < -1100.0 ? V{} - 1100.0 : x);
  const V shifted = clamped * log2_e + integer_shifter;
  const V n = shifted - integer_shifter;
  const bits n_bits = __builtin_bit_cast(bits, shifted) - integer_shifter_bits;
  const V r = (clamped - n * ln2_hi) - n * ln2_lo;
  V p = V{} + inverse_factorials[exp_degree];
  for (int k = exp_degree - 1; k >= 0; --k)
    p = p * r + inverse_factorials[static_cast<std::size_t>(k)];
  const bits half = n_bits / 2;
  // Shifted as unsigned: for a NaN x the (unused) exponents are out of range, and a signed
  // shift out of range would be undefined.
  const V first_scale = __builtin_bit_cast(V, __builtin_bit_cast(unsigned_bits, half + 1023) << 52);
  const V second_scale =
      __builtin_bit_cast(V, __builtin_bit_cast(unsigned_bits, n_bits - half + 1023) << 52);
  const V result = p * first_scale * second_scale;
  out = x == x ? result : x + x;
}

/** out = ln w + correction for w > 0 (correction ≪ w's ulp·w: log1p's rounding error of 1 + u, over
 * w). */
template <class V>
[[gnu::always_inline]] inline void log_reduced_lanes(const V& w, const V& correction, V& out) {
  using bits = typename lane_bits<V>::type;
  using unsigned_bits = typename lane_bits<V>::unsigned_type;
  const auto subnormal = w < std::numeric_limits<double>::min();
  const V scaled = subnormal ? w * 0x1p54 : w;
  const bits scaled_bits = __builtin_bit_cast(bits, scaled);
  // Offset by the bits of √½: the exponent field of the difference is k with m = w·2^−k ∈ [√½, √2).
  const bits offset = scaled_bits - 0x3fe6a09e667f3bcd;
  const bits exponent =
      __builtin_bit_cast(bits, (__builtin_bit_cast(unsigned_bits, offset) + 0x4000000000000000u) >> 52) -
      1024 - (subnormal ? bits{} + 54 : bits{});
  const bits mask = bits{} + static_cast<std::int64_t>(0xfff0000000000000);
  const V m = __builtin_bit_cast(V, scaled_bits - (offset & mask));
  const V k = __builtin_bit_cast(V, exponent + integer_shifter_bits) - integer_shifter;
  const V f = m - 1.0;
  const V half_square = 0.5 * f * f;
  const V s = f / (2.0 + f);
  const V z = s * s;
  V sum = V{} + atanh_coefficients[atanh_terms - 1];
  for (int j = atanh_terms - 2; j >= 0; --j)
    sum = sum * z + atanh_coefficients[static_cast<std::size_t>(j)];
  const V series = z * sum;
  out = k * ln2_hi - ((half_square - (s * (half_square + series) + (k * ln2_lo + correction))) - f);
}

template <class V>
[[gnu::always_inline]] inline void log_lanes(const V& x, V& out) {
  V inner;
  log_reduced_lanes<V>(x > 0.0 ? x : V{} + 1.0, V{}, inner);
  const V result = x > 0.0 ? inner : (x == 0.0 ? V{} - infinity : V{} + not_a_number);
  out = x == infinity ? x : result;
}

template <class V>
[[gnu::always_inline]] inline void log1p_lanes(const V& u, V& out) {
  using bits = typename lane_bits<V>::type;
  const V w = 1.0 + u;
  const V magnitude = __builtin_bit_cast(V, __builtin_bit_cast(bits, u) & 0x7fffffffffffffff);
  // Fast2Sum: the rounding error of 1 + u, exactly. Lanes with w <= 0 or w = ∞ are replaced below.
  const V error = magnitude >= 1.0 ? 1.0 - (w - u) : u - (w - 1.0);
  const V safe_w = w > 0.0 ? w : V{} + 1.0;
  V inner;
  log_reduced_lanes<V>(safe_w, error / safe_w, inner);
  const V result = w > 0.0 ? inner : (w == 0.0 ? V{} - infinity : V{} + not_a_number);
  out = w == infinity ? w : (u == 0.0 ? u : result);  // log1p(−0) = −0
}

/** The logistic function 1/(1 + e^−s) as math::expit forms it: (1 or e^−|s|)/(1 + e^−|s|). */
template <class V>
[[gnu::always_inline]] inline void expit_lanes(const V& s, V& out) {
  using bits = typename lane_bits<V>::type;
  const V minus_magnitude =
      __builtin_bit_cast(V, __builtin_bit_cast(bits, s) | static_cast<std::int64_t>(0x8000000000000000));
  V e;
  exp_lanes<V>(minus_magnitude, e);
  out = (s >= 0.0 ? V{} + 1.0 : e) / (1.0 + e);
}

struct exp_operation {
  template <class V>
  [[gnu::always_inline]] static void apply(const V& x, V& out) {
    exp_lanes(x, out);
  }
};
struct expit_operation {
  template <class V>
  [[gnu::always_inline]] static void apply(const V& x, V& out) { expit_lanes(x, out); }
};
struct log_operation {
  template <class V>
  [[gnu::always_inline]] static void apply(const V& x, V& out) {
    log_lanes(x, out);
  }
};
struct log1p_operation {
  template <class V>
  [[gnu::always_inline]] static void apply(const V& x, V& out) {
    log1p_lanes(x, out);
  }
};

/** out[i] = Operation(in[i]), `V` at a time; the last partial vector is padded with 1s. */
template <class V, class Operation>
[[gnu::always_inline]] inline void map_lanes(const double* in, double* out, std::size_t n) {
  constexpr std::size_t width = sizeof(V) / sizeof(double);
  std::size_t i = 0;
  for (; i + width <= n; i += width) {
    V value;
    std::memcpy(&value, in + i, sizeof value);
    V result;
    Operation::apply(value, result);
    std::memcpy(out + i, &result, sizeof result);
  }
  if (i < n) {
    V value = V{} + 1.0;
    std::memcpy(&value, in + i, (n - i) * sizeof(double));
    V result;
    Operation::apply(value, result);
    std::memcpy(out + i, &result, (n - i) * sizeof(double));
  }
}

template <class Operation>
void map_portable(const double* in, double* out, std::size_t n) {
  map_lanes<lanes2, Operation>(in, out, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CRMKIT_VECTOR_EXP_LOG_X86 1
template <class Operation>
__attribute__((target("avx2"))) void map_avx2(const double* in, double* out, std::size_t n) {
  map_lanes<lanes4, Operation>(in, out, n);
}

template <class Operation>
__attribute__((target("avx512f"))) void map_avx512(const double* in, double* out, std::size_t n) {
  map_lanes<lanes8, Operation>(in, out, n);
}
#endif

using map_kernel = void (*)(const double*, double*, std::size_t);

template <class Operation>
map_kernel kernel_for(simd_isa isa) {
#ifdef CRMKIT_VECTOR_EXP_LOG_X86
  if (isa == simd_isa::avx512) return map_avx512<Operation>;
  if (isa == simd_isa::avx2) return map_avx2<Operation>;
#endif
  (void)isa;
  return map_portable<Operation>;
}

template <class Operation>
void map_checked(std::string_view function, simd_isa isa, std::span<const double> in,
                 std::span<double> out) {
  check::same_size(function, "x", in.size(), "out", out.size());
  if (!simd_isa_supported(isa)) isa = simd_isa::portable;
  kernel_for<Operation>(isa)(in.data(), out.data(), in.size());
}

}  // namespace

bool simd_isa_supported(simd_isa isa) {
#ifdef CRMKIT_VECTOR_EXP_LOG_X86
  __builtin_cpu_init();
  if (isa == simd_isa::avx512) return __builtin_cpu_supports("avx512f");
  if (isa == simd_isa::avx2) return __builtin_cpu_supports("avx2");
#endif
  return isa == simd_isa::portable;
}

simd_isa fastest_simd_isa() {
  static const simd_isa fastest = [] {
    for (const simd_isa isa : {simd_isa::avx512, simd_isa::avx2}) {
      if (simd_isa_supported(isa)) return isa;
    }
    return simd_isa::portable;
  }();
  return fastest;
}

void exp_elementwise(simd_isa isa, std::span<const double> x, std::span<double> out) {
  map_checked<exp_operation>("exp_elementwise", isa, x, out);
}

void exp_elementwise(std::span<const double> x, std::span<double> out) {
  exp_elementwise(fastest_simd_isa(), x, out);
}

void expit_elementwise(simd_isa isa, std::span<const double> s, std::span<double> out) {
  map_checked<expit_operation>("expit_elementwise", isa, s, out);
}

void expit_elementwise(std::span<const double> s, std::span<double> out) {
  expit_elementwise(fastest_simd_isa(), s, out);
}

void log_elementwise(simd_isa isa, std::span<const double> x, std::span<double> out) {
  map_checked<log_operation>("log_elementwise", isa, x, out);
}

void log_elementwise(std::span<const double> x, std::span<double> out) {
  log_elementwise(fastest_simd_isa(), x, out);
}

void log1p_elementwise(simd_isa isa, std::span<const double> u, std::span<double> out) {
  map_checked<log1p_operation>("log1p_elementwise", isa, u, out);
}

void log1p_elementwise(std::span<const double> u, std::span<double> out) {
  log1p_elementwise(fastest_simd_isa(), u, out);
}

}  // namespace crmkit::math
