#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>

#include "crmkit/math/special.hpp"

/**
 * The Pareto/NBD death integral J = ∫_{t_x}^T (α+τ)^{−a}(β+τ)^{−b} dτ, a = r+x, b = s+1, by a
 * series with no transcendental function per term, and the gradient and Hessian of ln(s·J) in
 * (r, α, s, β) from running sums (the likelihood's Newton steps and standard errors need both).
 *
 * With A = α+t_x, z = (β−α)/A, L = ln((α+T)/A), m = r+s+x and α+τ = A·e^w (w ∈ [0, L]),
 * β+τ = A(e^w + z), so that, expanding (1 + z e^{−w})^{−b} binomially (|z| < 1),
 *
 *   J = A^{−m} S,   S = ∫₀^L e^{−mw}(1 + z e^{−w})^{−b} dw = Σₙ (b)ₙ/n! (−z)ⁿ Eₙ,
 *   Eₙ = ∫₀^L e^{−(m+n)w} dw = (1 − e^{−(m+n)L})/(m+n).
 *
 * e^{−(m+n)L} and 1 − e^{−(m+n)L} advance by one multiplication and one addition of positive
 * numbers per term (from e^{−mL}, e^{−L} and their complements, once per customer), so Eₙ keeps
 * its relative precision at every L. The derivatives of Eₙ in m are −Fₙ and Gₙ, Fₙ = L²φ₁(y),
 * Gₙ = L³φ₂(y) with y = (m+n)L and φₖ(y) = ∫₀¹ tᵏ e^{−yt} dt: the recurrence
 * φₖ = (kφₖ₋₁ − e^{−y})/y for y ≥ 1 (it loses at most a factor 3 there), the Taylor series
 * Σⱼ (−y)ʲ/(j!(k+j+1)) below. In L they are e^{−(m+n)L} and −(m+n)e^{−(m+n)L}; in b, the
 * running harmonic sums hₙ = Σ_{j<n} 1/(b+j) and Σ_{j<n} 1/(b+j)² give ∂(b)ₙ/∂b = (b)ₙhₙ and
 * ∂²(b)ₙ/∂b² = (b)ₙ(hₙ² − Σ 1/(b+j)²); in z, n(b)ₙ/n!·(−z)^{n−1} and n(n−1)(b)ₙ/n!·(−z)^{n−2}
 * advance as (b+n) times the previous coefficient, without dividing by z. ln S and its 14 first
 * and second partials in (m, b, z, L) then reach (r, α, s, β) by one chain rule per customer.
 *
 * **Selection and truncation.** The series is used when b|z| ≤ max_ratio = ½ (else the caller
 * keeps the log-concave quadrature). Eₙ₊₁ ≤ Eₙ, and the coefficients of S and of its z-derivative
 * sums fall by at least ρₙ = |z|(b+n)/max(n−1, 1) per term (b > 1, decreasing in n); the sum
 * stops after the first n ≥ 2 with ρₙ < 1 and (|cₙ| + |c′ₙ| + |c″ₙ|)(1+hₙ)²Eₙ·ρₙ/(1−ρₙ) ≤ 1e-17·S,
 * a geometric bound on the remaining terms relative to S: a proof for S and its m- and z-sums
 * (Fₙ, Gₙ ≤ L·Eₙ, L²·Eₙ also fall), an estimate with margin for the sums weighted by hₙ (which
 * grows like ln n, the (1+hₙ)² factor), e^{−(m+n)L} and (m+n)e^{−(m+n)L} (these change by at
 * most a factor 1 + 1/(m+n) per term, against ρₙ ≤ 0.75 once n ≥ 5). A priori, with b|z| ≤ ½
 * and S ≥ (1+|z|)^{−b}E₀ ≥ e^{−½}E₀, the relative tail after N terms is below 3.3·2^{−N}, so
 * N ≤ 57 (CDNOW's estimates: b|z| ≈ 0.17 with t_x = 0, ~20 terms; recent buyers ~13). With
 * b|z| ≤ ½ the alternating sum (z > 0) cancels by at most a factor 3.3.
 *
 * Checked against a 40-digit mpmath quadrature of S (tests/cpp/clv/test_pareto_nbd.cpp).
 */
namespace crmkit::clv::detail {

/** ln of J relative to (α+t_x)^{−a}(β+t_x)^{−b}, and the gradient and Hessian of ln(s·J). */
struct pareto_death_term {
  double log_relative_integral = 0;
  std::array<double, 4> gradient{};
  std::array<double, 16> hessian{};
};

/** Limits of the series (see the namespace documentation). */
struct pareto_death_series_limits {
  static constexpr double max_ratio = 0.5;
  static constexpr double tolerance = 1e-17;
  static constexpr std::size_t max_terms = 256;
};

/** 1/j for j < max_terms + 1 (j = 0 unused): the series and Taylor coefficients, no division. */
struct reciprocal_table {
  std::array<double, pareto_death_series_limits::max_terms + 1> values{};
  constexpr reciprocal_table() {
    for (std::size_t j = 1; j < values.size(); ++j) values[j] = 1.0 / static_cast<double>(j);
  }
};
inline constexpr reciprocal_table reciprocals{};

/** e^{−y} and 1 − e^{−y} (y ≥ 0), each with its relative precision. */
struct decay_pair {
  double kept, lost;
  explicit decay_pair(double y) {
    if (y < std::numbers::ln2) {
      lost = -std::expm1(-y);
      kept = 1 - lost;
    } else {
      kept = std::exp(-y);
      lost = 1 - kept;
    }
  }
};

/** φ₁(y), φ₂(y) for 0 ≤ y < 1 by their Taylor series (see the namespace documentation). */
inline void phi_taylor(double y, double& phi1, double& phi2) {
  phi1 = 0;
  phi2 = 0;
  double power = 1;
  for (std::size_t j = 0; j < 30; ++j) {
    phi1 += power * reciprocals.values[j + 2];
    phi2 += power * reciprocals.values[j + 3];
    power *= -y * reciprocals.values[j + 1];
    if (std::fabs(power) < 1e-18) break;
  }
}

/**
 * The death term by the series (Order 0: value only; 1: and gradient; 2: and Hessian), or false
 * when b|z| > max_ratio or t_x ≥ T (the caller keeps the quadrature). P has r, alpha, s, beta.
 */
template <int Order, class P>
bool pareto_death_series(const P& p, double x, double t_x, double age, pareto_death_term& out) {
  using limits = pareto_death_series_limits;
  const double gap = age - t_x;
  const double A = p.alpha + t_x;
  const double z = (p.beta - p.alpha) / A;
  const double b = p.s + 1;
  if (!(gap > 0) || !(b * std::fabs(z) <= limits::max_ratio)) return false;
  const double m = p.r + p.s + x;
  const double L = math::log1p_via_log(gap / A);
  const double u = -z;
  const decay_pair first(m * L), step(L);
  double kept = first.kept, lost = first.lost;
  double c = 1, c1 = 0, c2 = 0, h = 0, h2 = 0;
  // S and its partials: m, L, b, z, then mm, LL, mL, bb, bm, bL, zz, zm, zL, zb.
  double s0 = 0, sm = 0, sL = 0, sb = 0, sz = 0;
  double smm = 0, sLL = 0, smL = 0, sbb = 0, sbm = 0, sbL = 0, szz = 0, szm = 0, szL = 0, szb = 0;
  bool converged = false;
  for (std::size_t n = 0; n < limits::max_terms; ++n) {
    const double nd = static_cast<double>(n);
    const double k = m + nd;
    const double inv_k = 1 / k;
    const double E = lost * inv_k;
    s0 += c * E;
    if constexpr (Order >= 1) {
      const double y = k * L;
      double F = 0, G = 0;
      if (y >= 1) {
        F = (E - L * kept) * inv_k;
        G = (2 * F - L * L * kept) * inv_k;
      } else {
        double phi1 = 0, phi2 = 0;
        phi_taylor(y, phi1, phi2);
        F = L * L * phi1;
        G = L * L * L * phi2;
      }
      sm -= c * F;
      sL += c * kept;
      sb += c * h * E;
      sz -= c1 * E;
      if constexpr (Order >= 2) {
        smm += c * G;
        sLL -= c * k * kept;
        smL -= c * L * kept;
        sbb += c * (h * h - h2) * E;
        sbm -= c * h * F;
        sbL += c * h * kept;
        szz += c2 * E;
        szm += c1 * F;
        szL -= c1 * kept;
        szb -= c1 * h * E;
      }
    }
    const double rho = std::fabs(u) * (b + nd) / (n > 1 ? nd - 1 : 1.0);
    if (n >= 2 && rho < 1 &&
        (std::fabs(c) + std::fabs(c1) + std::fabs(c2)) * (1 + h) * (1 + h) * E * rho <=
            limits::tolerance * s0 * (1 - rho)) {
      converged = true;
      break;
    }
    const double grow = b + nd;
    c2 = grow * c1;
    c1 = grow * c;
    c *= u * grow * reciprocals.values[n + 1];
    if constexpr (Order >= 1) {
      const double inv_grow = 1 / grow;
      h += inv_grow;
      h2 += inv_grow * inv_grow;
    }
    lost += kept * step.lost;
    kept *= step.kept;
  }
  if (!converged || !(s0 > 0)) return false;
  out.log_relative_integral = std::log(s0) + std::log(A) + b * math::log1p_via_log(z);
  if constexpr (Order >= 1) {
    const double inv_s = 1 / s0;
    const double fm = sm * inv_s, fL = sL * inv_s, fb = sb * inv_s, fz = sz * inv_s;
    const double log_A = std::log(A);
    const double z_alpha = -(1 + z) / A, z_beta = 1 / A;
    const double alpha_T = p.alpha + age;
    const double L_alpha = -gap / (alpha_T * A);
    out.gradient = {-log_A + fm, -m / A + fz * z_alpha + fL * L_alpha, 1 / p.s - log_A + fm + fb,
                    fz * z_beta};
    if constexpr (Order >= 2) {
      auto second = [&](double sum, double fi, double fj) { return sum * inv_s - fi * fj; };
      const double fmm = second(smm, fm, fm), fLL = second(sLL, fL, fL), fmL = second(smL, fm, fL);
      const double fbb = second(sbb, fb, fb), fbm = second(sbm, fb, fm), fbL = second(sbL, fb, fL);
      const double fzz = second(szz, fz, fz), fzm = second(szm, fz, fm), fzL = second(szL, fz, fL);
      const double fzb = second(szb, fz, fb);
      const double z_alpha_alpha = 2 * (1 + z) / (A * A), z_alpha_beta = -1 / (A * A);
      const double L_alpha_alpha = gap * (alpha_T + A) / (A * A * alpha_T * alpha_T);
      auto& H = out.hessian;
      H[0] = fmm;
      H[1] = -1 / A + fzm * z_alpha + fmL * L_alpha;
      H[2] = fmm + fbm;
      H[3] = fzm * z_beta;
      H[5] = m / (A * A) + fzz * z_alpha * z_alpha + 2 * fzL * z_alpha * L_alpha +
             fLL * L_alpha * L_alpha + fz * z_alpha_alpha + fL * L_alpha_alpha;
      H[6] = -1 / A + (fzm + fzb) * z_alpha + (fmL + fbL) * L_alpha;
      H[7] = fzz * z_alpha * z_beta + fzL * L_alpha * z_beta + fz * z_alpha_beta;
      H[10] = -1 / (p.s * p.s) + fmm + 2 * fbm + fbb;
      H[11] = (fzm + fzb) * z_beta;
      H[15] = fzz * z_beta * z_beta;
      for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t j = 0; j < i; ++j) H[i * 4 + j] = H[j * 4 + i];
      }
    }
  }
  return true;
}

}  // namespace crmkit::clv::detail
