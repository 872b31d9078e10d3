#pragma once

#include <span>

/**
 * e^x, ln x, ln(1 + x) and the logistic function over arrays, several values per instruction (AVX-512, AVX2 or the
 * x86-64 baseline, chosen at run time), for the per-customer predictions whose cost is one or two
 * of these functions per row. Every instruction set gives the same bits (no fused multiply-add,
 * the same operations in the same order), so the results depend on neither the machine nor the
 * thread count.
 *
 * Algorithms (Tang 1989 and fdlibm's e_exp.c / e_log.c / s_log1p.c, with Taylor coefficients):
 * - exp: n = round(x/ln 2), r = x − n·ln2_hi − n·ln2_lo (Cody–Waite; ln2_hi has 32 significant
 *   bits, so n·ln2_hi and the first subtraction are exact), |r| ≤ ln2/2; e^r by its Taylor
 *   polynomial of degree 13 (truncation below 6e-18 relative), then multiplied by 2^⌊n/2⌋ and
 *   2^(n−⌊n/2⌋) so that overflow, subnormal results and underflow to 0 round once, as e^x would.
 * - log: x = 2^k·m with m ∈ [√½, √2) (subnormal x scaled by 2^54 first), f = m − 1 exact,
 *   s = f/(2 + f), ln m = f − (f²/2 − s(f²/2 + R(s²))) with R(z) = Σ_{j=1..10} 2z^j/(2j+1) the
 *   atanh series (|s| ≤ 0.1716, truncation below 1e-18 relative), plus k·ln2_hi + k·ln2_lo.
 * - log1p: w = 1 + u rounded and its exact rounding error c (Fast2Sum); ln(1 + u) = ln w + c/w,
 *   the correction entering before the last additions of log's reduction.
 * Error: within 1 ulp of glibc (itself within 1 ulp) on every argument of
 * tests/cpp/math/test_vector_exp_log.cpp (each binade of the double range, subnormals included,
 * and 40,000 random bit patterns), which asserts 2 ulps; for subnormal results of exp the unit is
 * the smallest subnormal. Special values as IEEE 754 / C99 Annex F: exp(NaN) = NaN, exp(±∞) = ∞, 0;
 * log(0) = −∞, log(x < 0) = NaN, log(∞) = ∞; log1p(−1) = −∞, log1p(u < −1) = NaN.
 */
namespace crmkit::math {

/** The instruction sets the kernels are compiled for. */
enum class simd_isa { portable, avx2, avx512 };

/** Whether this CPU runs `isa` (portable always). */
bool simd_isa_supported(simd_isa isa);

/** The widest supported instruction set: the one the functions without an `isa` use. */
simd_isa fastest_simd_isa();

/** out[i] = e^x[i]; `out` has x's size and may be x itself. */
void exp_elementwise(std::span<const double> x, std::span<double> out);
void exp_elementwise(simd_isa isa, std::span<const double> x, std::span<double> out);

/** out[i] = 1/(1 + e^−s[i]), the logistic function as math::expit forms it (special.hpp),
 * (1 or e^−|s|)/(1 + e^−|s|), with the exp above: within 2 ulps of math::expit. */
void expit_elementwise(std::span<const double> s, std::span<double> out);
void expit_elementwise(simd_isa isa, std::span<const double> s, std::span<double> out);

/** out[i] = ln x[i]; `out` has x's size and may be x itself. */
void log_elementwise(std::span<const double> x, std::span<double> out);
void log_elementwise(simd_isa isa, std::span<const double> x, std::span<double> out);

/** out[i] = ln(1 + u[i]); `out` has u's size and may be u itself. */
void log1p_elementwise(std::span<const double> u, std::span<double> out);
void log1p_elementwise(simd_isa isa, std::span<const double> u, std::span<double> out);

}  // namespace crmkit::math
