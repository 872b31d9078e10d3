#pragma once

#include <cmath>
#include <limits>

#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>

/**
 * Elementary and special functions in the forms the likelihoods need: log-space sums that
 * cannot overflow, the logistic function, and thread-safe wrappers over Boost.Math's
 * log-gamma, digamma, trigamma and regularized incomplete beta.
 */
namespace crmkit::math {

namespace detail {
/** Boost.Math policy: return NaN/inf instead of throwing; the callers check their domains. */
using quiet_policy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
    boost::math::policies::promote_double<false>>;
}  // namespace detail

/** ln(e^a + e^b) without overflow: max(a, b) + log1p(e^-|a-b|). */
inline double log_add_exp(double a, double b) noexcept {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double high = a > b ? a : b;
  return high + std::log1p(std::exp(-std::fabs(a - b)));
}

/**
 * ln(1 + u) for u > −1 through std::log, several times faster than std::log1p: with w = 1 + u
 * rounded, ln(1 + u) = ln(w)·u/(w − 1), and u itself where w rounds to 1 (Goldberg 1991, "What
 * every computer scientist should know about floating-point arithmetic", Theorem 4: relative
 * error at most 5ε when ln is correct to ½ ulp; glibc's is to 0.52 ulp).
 */
inline double log1p_via_log(double u) noexcept {
  const double w = 1 + u;
  if (w == 1) return u;
  if (!std::isfinite(w)) return std::log(w);
  return std::log(w) * (u / (w - 1));
}

/** softplus(s) = ln(1 + e^s), exact for every finite s (no overflow, no loss for s << 0). */
inline double log1p_exp(double s) noexcept {
  return s > 0 ? s + std::log1p(std::exp(-s)) : std::log1p(std::exp(s));
}

/** The logistic function 1 / (1 + e^-s), in [0, 1] for every s. */
inline double expit(double s) noexcept {
  if (s >= 0) return 1.0 / (1.0 + std::exp(-s));
  const double e = std::exp(s);
  return e / (1.0 + e);
}

/**
 * expm1(e·l)/e, the difference quotient (e^{e·l} − 1)/e, with its limit l at e = 0. Used to
 * remove the removable singularity of (1 − w^e)/e at e = 0 (a = 1 in the BG/NBD expectations).
 */
inline double expm1_quotient(double e, double l) noexcept {
  const double product = e * l;
  if (std::fabs(product) < 1e-8) return l * (1.0 + 0.5 * product);
  return std::expm1(product) / e;
}

/** ln Γ(x) for x > 0 (Boost.Math; unlike std::lgamma it writes no global `signgam`). */
inline double lgamma(double x) {
  return boost::math::lgamma(x, detail::quiet_policy());
}

/** ψ(x) = d ln Γ(x)/dx. */
inline double digamma(double x) {
  return boost::math::digamma(x, detail::quiet_policy());
}

/** ψ₁(x) = d² ln Γ(x)/dx². */
inline double trigamma(double x) {
  return boost::math::trigamma(x, detail::quiet_policy());
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
inline double log_beta(double a, double b) {
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/**
 * ln(Γ(z+δ)/Γ(z)) for z > 0, δ ≥ 0. For large z the difference of two log-gammas loses
 * ε·lnΓ(z) absolutely (1e-8 at z = 1e7), and Boost.Math's tgamma_delta_ratio, otherwise good to
 * a few ulp, is 1.4e-9 off at z = 1e8+1, δ = 20; so z ≥ 1e4 takes the difference of Stirling's
 * series, smaller z tgamma_delta_ratio wherever the ratio is a normal double.
 */
inline double log_gamma_ratio(double z, double delta) {
  if (delta == 0) return 0;
  if (z >= 1e4) {
    // Stirling's series differenced: (z − ½)·log1p(δ/z) + δ·(ln(z+δ) − 1) + S(z+δ) − S(z),
    // S(w) = 1/(12w) − 1/(360w³) + 1/(1260w⁵) (next term < 1e-31); nothing of size ln Γ(z) is
    // formed.
    const auto series = [](double w) {
      const double inverse_square = 1 / (w * w);
      return (1.0 / 12 - inverse_square * (1.0 / 360 - inverse_square / 1260)) / w;
    };
    return (z - 0.5) * std::log1p(delta / z) + delta * (std::log(z + delta) - 1) +
           (series(z + delta) - series(z));
  }
  const double inverse = boost::math::tgamma_delta_ratio(z, delta, detail::quiet_policy());
  if (std::isnormal(inverse)) return -std::log(inverse);
  return lgamma(z + delta) - lgamma(z);
}

/**
 * ψ(z+k) − ψ(z) for z > 0 and integer k ≥ 0: Σ_{j<k} 1/(z+j) for k ≤ 1024, which keeps its digits
 * when z ≫ k (the difference of two digamma values ≈ ln z loses ε·ln z·z/k relatively), and the
 * digamma difference beyond.
 */
inline double digamma_difference(double z, double k) {
  if (k > 1024) return digamma(z + k) - digamma(z);
  double sum = 0;
  for (double j = 0; j < k; ++j) sum += 1 / (z + j);
  return sum;
}

/** ψ₁(z+k) − ψ₁(z) for z > 0 and integer k ≥ 0: −Σ_{j<k} 1/(z+j)² (k ≤ 1024), as digamma_difference. */
inline double trigamma_difference(double z, double k) {
  if (k > 1024) return trigamma(z + k) - trigamma(z);
  double sum = 0;
  for (double j = 0; j < k; ++j) sum -= 1 / ((z + j) * (z + j));
  return sum;
}

/**
 * ln((w+c)_k/(w)_k)/c = Σ_{j<k} log1p(c/(w+j))/c for w > 0, w + c > 0 and integer k ≥ 0, with its
 * limit Σ 1/(w+j) at c = 0 ((w)_k the rising factorial): the log ratio of two rising factorials
 * over the difference of their bases, relatively exact whatever c (each term log1p(u)/u). For
 * k > 2^20 it is formed from log-gamma ratios (and the digamma difference at c = 0) instead.
 */
inline double log_rising_ratio_slope(double w, double c, double k) {
  if (k > 1048576) {
    if (c == 0) return digamma(w + k) - digamma(w);
    const double log_ratio = c > 0 ? log_gamma_ratio(w + k, c) - log_gamma_ratio(w, c)
                                   : log_gamma_ratio(w + c, -c) - log_gamma_ratio(w + c + k, -c);
    return log_ratio / c;
  }
  double sum = 0;
  for (double j = 0; j < k; ++j) {
    const double u = c / (w + j);
    sum += (u == 0 ? 1.0 : std::log1p(u) / u) / (w + j);
  }
  return sum;
}

/**
 * The regularized incomplete beta function I_x(a, b) = B(x; a, b)/B(a, b) for a, b > 0 and
 * x ∈ [0, 1] (Boost.Math `ibeta`, accurate to a few ulp over this whole domain).
 */
inline double ibeta(double a, double b, double x) {
  return boost::math::ibeta(a, b, x, detail::quiet_policy());
}

}  // namespace crmkit::math
