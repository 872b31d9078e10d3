#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>

/**
 * Nodes for ∫_lower^upper e^{g(o)} do when g is concave (a log-concave integrand), for
 * integrals whose integrand is known only up to a factor that may be far outside double range:
 * each node carries the logarithm of its weight times e^{g}, so that the caller sums with
 * log-sum-exp, and the same nodes integrate e^{g} times any smooth factor (the derivatives of a
 * log-likelihood with respect to its parameters, for example).
 *
 * The interval is split at the mode of g. On each side, σ is the distance from the mode at which
 * g has fallen by 1 (found by doubling or halving a first guess), and the side is mapped to
 * v ∈ [0, V) by o = mode ± σ·v/(1−v), V = D/(D+σ) for a side of length D (V = 1 for an infinite
 * side), then integrated by 32-point Gauss–Legendre on each half of [0, V]. Concavity makes g fall at least linearly
 * beyond σ, so on each side the integrand in v is smooth and vanishes at v → 1 with all its
 * derivatives. Two panels rather than one 64-point rule matter where the curvature of g is
concentrated (the power law changing exponent at τ ≈ |α−β| in the Pareto/NBD likelihood); the
relative error is about 1e-13 for the BTYD integrals (Pareto/NBD likelihood
 * and pmf, the confluent U) over parameters 1e-6 … 1e8, checked against mpmath.
 */
namespace crmkit::math {

/** A node: position o and ln(weight) + g(o). */
struct log_node {
  double position;
  double log_weight;
};

/** Up to two sides of up to `max_panels` 32-node panels each. */
struct log_concave_rule {
  static constexpr std::size_t panel_nodes = 32;
  static constexpr std::size_t max_panels = 8;
  std::array<log_node, 2 * max_panels * panel_nodes> nodes;  ///< the first `size` are set
  std::size_t size = 0;

  /** The largest log weight (−∞ for an empty rule). */
  [[nodiscard]] double max_log_weight() const {
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < size; ++k) top = nodes[k].log_weight > top ? nodes[k].log_weight : top;
    return top;
  }

  /** ln ∫ e^{g}: log-sum-exp of the log weights (−∞ for an empty interval). */
  [[nodiscard]] double log_integral() const {
    const double top = max_log_weight();
    if (!std::isfinite(top)) return top;
    double sum = 0;
    for (std::size_t k = 0; k < size; ++k) sum += std::exp(nodes[k].log_weight - top);
    return top + std::log(sum);
  }
};

namespace detail {

/** The 32-point Gauss–Legendre rule on [0, 1] (nodes by Newton's method on P₃₂, computed once). */
struct gauss_legendre_32 {
  std::array<double, 32> nodes{};
  std::array<double, 32> weights{};

  gauss_legendre_32() {
    constexpr int n = 32;
    for (int i = 0; i < n; ++i) {
      double x = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5));
      double derivative = 1;
      for (int iteration = 0; iteration < 100; ++iteration) {
        double p0 = 1, p1 = x;
        for (int k = 2; k <= n; ++k) {
          const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
          p0 = p1;
          p1 = p2;
        }
        derivative = n * (x * p1 - p0) / (x * x - 1);
        const double step = p1 / derivative;
        x -= step;
        if (std::fabs(step) < 1e-16) break;
      }
      const auto k = static_cast<std::size_t>(i);
      nodes[k] = 0.5 * (1 - x);
      weights[k] = 1 / ((1 - x * x) * derivative * derivative);
    }
  }
};

inline const gauss_legendre_32& gauss_legendre_32_rule() {
  static const gauss_legendre_32 rule;
  return rule;
}

/** The 7-point Gauss and 15-point Kronrod rules on [−1, 1] (Piessens et al. 1983, QUADPACK's
 * qk15): the Kronrod nodes include the Gauss nodes, so both come from 15 evaluations. */
struct gauss_kronrod_15 {
  static constexpr std::array<double, 8> abscissae{
      0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
      0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
      0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
      0.207784955007898467600689403773245, 0.0};
  static constexpr std::array<double, 8> kronrod_weights{
      0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
      0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
      0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
      0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
  /** Weights of the Gauss nodes, abscissae 1, 3, 5 and 7. */
  static constexpr std::array<double, 4> gauss_weights{
      0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
      0.381830050505118944950369775488975, 0.417959183673469387755102040816327};
};

/** σ, the distance from the mode on one side at which g has fallen by 1 (see above). */
template <class G>
double side_width(G& g, double mode, double sign, double length, double peak, double width_guess) {
  auto drop = [&](double distance) { return g(mode + sign * std::min(distance, length)) - peak; };
  double width = std::isfinite(width_guess) && width_guess > 0 ? width_guess : 1.0;
  for (int step = 0; step < 2000 && width < length && drop(width) > -1; ++step) width *= 2;
  for (int step = 0; step < 2000 && drop(width / 2) < -1; ++step) width /= 2;
  return width;
}

/** Appends `panels` 32-point Gauss–Legendre panels of one side, v ∈ [0, end]. */
template <class G>
void add_gauss_legendre_side(log_concave_rule& rule, G& g, double mode, double sign, double width,
                             double end, std::size_t panels) {
  const auto& gl = gauss_legendre_32_rule();
  const double panel = end / static_cast<double>(panels);
  for (std::size_t index = 0; index < panels; ++index) {
    const double start = panel * static_cast<double>(index);
    for (std::size_t k = 0; k < log_concave_rule::panel_nodes; ++k) {
      const double v = start + panel * gl.nodes[k];
      const double position = mode + sign * width * v / (1 - v);
      const double jacobian = panel * gl.weights[k] * width / ((1 - v) * (1 - v));
      rule.nodes[rule.size++] = {position, std::log(jacobian) + g(position)};
    }
  }
}

/** ln of gauss_kronrod_15's Kronrod weights, and each Gauss weight over the Kronrod weight at
 * the same abscissa (0 at the Kronrod-only abscissae). */
struct gauss_kronrod_15_log_weights {
  std::array<double, 8> kronrod{}, gauss_ratio{};
  gauss_kronrod_15_log_weights() {
    for (std::size_t a = 0; a < 8; ++a) {
      kronrod[a] = std::log(gauss_kronrod_15::kronrod_weights[a]);
      gauss_ratio[a] = a % 2 == 1 ? gauss_kronrod_15::gauss_weights[a / 2] /
                                        gauss_kronrod_15::kronrod_weights[a]
                                  : 0.0;
    }
  }
};

inline const gauss_kronrod_15_log_weights& gauss_kronrod_15_logs() {
  static const gauss_kronrod_15_log_weights logs;
  return logs;
}

/**
 * Appends the Kronrod nodes of `panels` equal 15-point panels of one side, v ∈ [0, end], if the
 * 7-point Gauss rules on the same evaluations agree with them to `tolerance` relative (summed
 * over the panels); otherwise leaves the rule unchanged and returns false.
 */
template <class G>
bool add_gauss_kronrod_side(log_concave_rule& rule, G& g, double mode, double sign, double width,
                            double end, std::size_t panels, double tolerance) {
  constexpr std::size_t panel_size = 15;
  const auto& logs = gauss_kronrod_15_logs();
  std::array<log_node, 2 * panel_size> kronrod{};
  std::array<double, 2 * panel_size> gauss_weight{};
  const double half = end / (2 * static_cast<double>(panels));
  double top = -std::numeric_limits<double>::infinity();
  std::size_t count = 0;
  for (std::size_t panel = 0; panel < panels; ++panel) {
    const double centre = half * static_cast<double>(2 * panel + 1);
    for (std::size_t k = 0; k < panel_size; ++k, ++count) {
      const std::size_t a = k < 8 ? k : 14 - k;
      const double v = centre + half * (k < 8 ? -gauss_kronrod_15::abscissae[a]
                                              : gauss_kronrod_15::abscissae[a]);
      const double position = mode + sign * width * v / (1 - v);
      const double log_jacobian = std::log(half * width / ((1 - v) * (1 - v))) + g(position);
      kronrod[count] = {position, logs.kronrod[a] + log_jacobian};
      gauss_weight[count] = logs.gauss_ratio[a];
      top = std::max(top, kronrod[count].log_weight);
    }
  }
  if (!std::isfinite(top)) return false;
  double kronrod_sum = 0, gauss_sum = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const double term = std::exp(kronrod[k].log_weight - top);
    kronrod_sum += term;
    gauss_sum += term * gauss_weight[k];
  }
  if (!(std::fabs(kronrod_sum - gauss_sum) <= tolerance * kronrod_sum)) return false;
  for (std::size_t k = 0; k < count; ++k) rule.nodes[rule.size++] = kronrod[k];
  return true;
}

/** The rule of log_concave_nodes or log_concave_nodes_adaptive. */
template <class G>
log_concave_rule build_log_concave_rule(G& g, double lower, double mode, double upper,
                                        double width_guess, std::size_t panels, double tolerance) {
  panels = std::clamp<std::size_t>(panels, 1, log_concave_rule::max_panels);
  log_concave_rule rule;
  const double peak = g(mode);
  for (const double sign : {-1.0, 1.0}) {
    const double length = sign < 0 ? mode - lower : upper - mode;
    if (!(length > 0)) continue;
    const double width = side_width(g, mode, sign, length, peak, width_guess);
    const double end = std::isfinite(length) ? length / (length + width) : 1.0;
    if (tolerance > 0 && (add_gauss_kronrod_side(rule, g, mode, sign, width, end, 1, tolerance) ||
                          add_gauss_kronrod_side(rule, g, mode, sign, width, end, 2, tolerance))) {
      continue;
    }
    add_gauss_legendre_side(rule, g, mode, sign, width, end, panels);
  }
  return rule;
}

}  // namespace detail

/**
 * The rule for ∫_lower^upper e^{g(o)} do (see the namespace documentation): g concave on the
 * interval, `mode` its maximiser in [lower, upper] (lower may be −∞, upper +∞), `width_guess` > 0
 * a first guess of the distance over which g falls by 1 (e.g. 1/|g′| at a boundary mode,
 * 1/√(−g″) at an interior one). `panels` (1 … max_panels) equal panels in v per side: more
 * where g's curvature changes sharply far from the mode (the confluent U at small z).
 */
template <class G>
log_concave_rule log_concave_nodes(G&& g, double lower, double mode, double upper,
                                   double width_guess, std::size_t panels = 2) {
  return detail::build_log_concave_rule(g, lower, mode, upper, width_guess, panels, 0.0);
}

/**
 * log_concave_nodes with fewer nodes where they suffice: on each side the 15-point
 * Gauss–Kronrod rule over the whole of v ∈ [0, V] is kept when the 7-point Gauss rule on the
 * same nodes agrees with it to `tolerance` relative (the Kronrod value is then far more accurate
 * than that difference, being exact for polynomials of degree 23 against 13), else the side gets
 * log_concave_nodes' two 32-point panels. Smooth, well-scaled integrands (most Pareto/NBD
 * likelihood terms) cost 15 evaluations per side instead of 64.
 */
template <class G>
log_concave_rule log_concave_nodes_adaptive(G&& g, double lower, double mode, double upper,
                                            double width_guess, double tolerance) {
  return detail::build_log_concave_rule(g, lower, mode, upper, width_guess, 2, tolerance);
}

}  // namespace crmkit::math
