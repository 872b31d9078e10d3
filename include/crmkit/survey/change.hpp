#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <tuple>
#include <vector>

#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/survey/interval.hpp"
#include "crmkit/survey/nps.hpp"
#include "crmkit/survey/proportion.hpp"

namespace crmkit::survey {

/**
 * A two-sample comparison of a and b: the estimated difference a − b, the standard error behind
 * the test, z, its two-sided normal p-value, the interval of the difference, and whether
 * p < 1 − confidence. All NaN (and not significant) when either sample is empty.
 */
struct comparison {
  double difference = 0;
  double standard_error = 0;
  double z = 0;
  double p_value = 0;
  interval ci{};
  bool significant = false;
};

constexpr auto description(std::type_identity<comparison>) {
  using s = comparison;
  return std::tuple{
      describe::field{"difference", &s::difference, "a − b"},
      describe::field{"standard_error", &s::standard_error, "standard error of the difference"},
      describe::field{"z", &s::z, "test statistic"},
      describe::field{"p_value", &s::p_value, "two-sided p-value"},
      describe::computed<s>(
          "lower", [](const s& r) { return r.ci.lower; }, "interval lower end"),
      describe::computed<s>(
          "upper", [](const s& r) { return r.ci.upper; }, "interval upper end"),
      describe::field{"significant", &s::significant, "the interval excludes 0"}};
}

namespace detail {

[[nodiscard]] inline comparison undefined_comparison() noexcept {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  return {nan, nan, nan, nan, {nan, nan}, false};
}

/** Fills p and significance from z; both undefined when the standard error is 0. */
[[nodiscard]] inline comparison finish_comparison(comparison result, double confidence) {
  if (!(result.standard_error > 0)) {
    result.z = result.p_value = std::numeric_limits<double>::quiet_NaN();
    result.significant = false;
    return result;
  }
  result.p_value = normal_two_sided_p(result.z);
  result.significant = result.p_value < 1 - confidence;
  return result;
}

}  // namespace detail

/**
 * Two-sample test of NPS_a − NPS_b (independent samples), in points.
 *
 * `adjusted_wald` (default; Sauro, "How to Statistically Compare Two Net Promoter Scores",
 * MeasuringU 2019, checked on real data in "Evaluating NPS Significance Tests"): adjust each
 * sample as in `nps_adjusted_wald_interval` (n' = n + 3, P + 3/4, D + 3/4), then
 * z = (NPS'_a − NPS'_b)/√(SE'_a² + SE'_b²) and the interval is (NPS'_a − NPS'_b) ± z_{1−α/2}·SE.
 * `wald`: the same without the adjustment (the two-sample Wald test of R's `NPS::nps_test`).
 * `difference` is always the unadjusted NPS_a − NPS_b. For weighted samples pass effective counts.
 * @throw invalid_input for a confidence outside (0, 1) or the bootstrap method.
 */
[[nodiscard]] inline comparison compare_nps(
    const nps_counts& a, const nps_counts& b, double confidence = 0.95,
    nps_interval_method method = nps_interval_method::adjusted_wald) {
  detail::check_confidence("compare_nps", confidence);
  if (method == nps_interval_method::bootstrap) {
    check::fail("compare_nps", "method must be adjusted Wald or Wald");
  }
  if (!(a.n > 0 && b.n > 0)) return detail::undefined_comparison();
  const auto adjust = [&](const nps_counts& counts) {
    return method == nps_interval_method::adjusted_wald
               ? nps_counts{counts.n + 3, counts.promoters + 0.75, counts.passives + 1.5,
                            counts.detractors + 0.75}
               : counts;
  };
  const nps_counts adjusted_a = adjust(a);
  const nps_counts adjusted_b = adjust(b);
  const double shift = nps_score(adjusted_a) - nps_score(adjusted_b);
  comparison result;
  result.difference = nps_score(a) - nps_score(b);
  result.standard_error =
      std::hypot(nps_standard_error(adjusted_a), nps_standard_error(adjusted_b));
  result.z = shift / result.standard_error;
  const double half = math::two_sided_critical_value(confidence) * result.standard_error;
  result.ci = {shift - half, shift + half};
  return detail::finish_comparison(result, confidence);
}

/**
 * Two-sample test of proportions p_a − p_b (e.g. CSAT top-2-box shares of two periods).
 * z uses the pooled standard error under H0, √(p̄(1 − p̄)(1/n_a + 1/n_b)) with
 * p̄ = (x_a + x_b)/(n_a + n_b) (Fleiss, Levin & Paik 2003, §3.2); the interval of the difference
 * is Newcombe's hybrid score interval built from the two Wilson intervals (Newcombe 1998,
 * *Statistics in Medicine* 17:873–890, method 10). `standard_error` is the pooled one.
 * z and p are NaN (not significant) when p̄ is 0 or 1.
 * @throw invalid_input for a confidence outside (0, 1).
 */
[[nodiscard]] inline comparison compare_proportions(const proportion_counts& a,
                                                    const proportion_counts& b,
                                                    double confidence = 0.95) {
  detail::check_confidence("compare_proportions", confidence);
  if (!(a.n > 0 && b.n > 0)) return detail::undefined_comparison();
  const double share_a = a.successes / a.n;
  const double share_b = b.successes / b.n;
  const double pooled = (a.successes + b.successes) / (a.n + b.n);
  comparison result;
  result.difference = share_a - share_b;
  result.standard_error = std::sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  result.z = result.difference / result.standard_error;
  const interval wilson_a = wilson_interval(a, confidence);
  const interval wilson_b = wilson_interval(b, confidence);
  result.ci = {result.difference - std::hypot(share_a - wilson_a.lower, wilson_b.upper - share_b),
               result.difference + std::hypot(wilson_a.upper - share_a, share_b - wilson_b.lower)};
  return detail::finish_comparison(result, confidence);
}

/**
 * Period-over-period changes: for a table of cells laid out groups × `periods` (group-major, as
 * `grouped_results`), compares each cell with the cell `lag` periods earlier in the same group
 * by `compare(current, earlier)`. The first `lag` periods of a group have no earlier cell and get
 * an all-NaN comparison. Use `lag` = window for rolling windows, so compared windows do not
 * overlap (the tests assume independent samples).
 * @throw invalid_input when the table size is not a multiple of `periods`, or lag is 0.
 */
template <class Counts, class Compare>
[[nodiscard]] std::vector<comparison> period_over_period(std::span<const Counts> cells,
                                                         std::size_t periods, std::size_t lag,
                                                         Compare&& compare) {
  if (lag == 0) check::fail("period_over_period", "lag = 0 must be at least 1");
  if (periods == 0 || cells.size() % periods != 0) {
    check::fail("period_over_period", fmt::format("{} cells do not form whole groups of {} "
                                                  "periods",
                                                  cells.size(), periods));
  }
  std::vector<comparison> result(cells.size(), detail::undefined_comparison());
  parallel_for(
      cells.size(),
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t j = begin; j < end; ++j) {
          if (j % periods >= lag) result[j] = compare(cells[j], cells[j - lag]);
        }
      },
      256);
  return result;
}

}  // namespace crmkit::survey
