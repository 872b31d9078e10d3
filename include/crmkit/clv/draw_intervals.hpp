#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "crmkit/clv/interval.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"

namespace crmkit::clv {

/** Bootstrap values a per-customer percentile interval may hold at once (draws × customers). */
inline constexpr std::size_t max_draw_values = 50'000'000;

/**
 * Percentile intervals (percentile_interval) of a quantity g(θ) with one value per customer, and
 * of its sum over the base, from parameter draws θ_1 … θ_B (rows of `draws`, natural values in
 * the order of `values`; from parametric_draws or customer_bootstrap). The estimate is g at
 * `values`. Draws are evaluated in parallel, each on one thread, and every value depends only on
 * its draw, so the result does not depend on the thread count.
 *
 * @throw invalid_input if per-customer intervals would hold more than max_draw_values values;
 *        numerical_error if g is not finite at the estimate or a draw.
 */
template <class Quantity>
forecast_intervals draw_intervals(std::string_view function, Quantity&& quantity,
                                  std::span<const double> values,
                                  const std::vector<std::vector<double>>& draws,
                                  const interval_options& options) {
  check_interval_options(function, options);
  const std::size_t replicates = draws.size();
  if (replicates < 2) {
    check::fail(function, fmt::format("{} parameter draws; at least 2 are needed", replicates));
  }
  const std::vector<double> estimate = quantity(values);
  const std::size_t n = estimate.size();
  if (options.per_customer && n * replicates > max_draw_values) {
    check::fail(function,
                fmt::format("per-customer bootstrap intervals for {} customers x {} draws would "
                            "hold more than {} values; use method 'delta', fewer draws, or "
                            "per_customer = false",
                            n, replicates, max_draw_values));
  }
  std::vector<double> totals(replicates);
  std::vector<double> table(options.per_customer ? n * replicates : 0);
  parallel_for(
      replicates,
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t b = begin; b < end; ++b) {
          const auto g = quantity(std::span<const double>(draws[b]));
          double sum = 0;
          for (std::size_t i = 0; i < n; ++i) {
            sum += g[i];
            if (options.per_customer) table[i * replicates + b] = g[i];
          }
          totals[b] = sum;
        }
      },
      1);
  double total = 0;
  for (const double g : estimate) total += g;
  for (std::size_t b = 0; b < replicates; ++b) {
    if (!std::isfinite(totals[b]) || !std::isfinite(total)) {
      throw numerical_error(fmt::format(
          "{}: the quantity is not finite at the estimate or at parameter draw {}; no interval",
          function, b));
    }
  }
  forecast_intervals out;
  out.draws = replicates;
  out.total = percentile_interval(total, totals, options.level);
  if (options.per_customer) {
    out.customers.resize(n);
    parallel_for(n, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        out.customers[i] = percentile_interval(
            estimate[i], std::span<double>(table.data() + i * replicates, replicates),
            options.level);
      }
    });
  }
  return out;
}

}  // namespace crmkit::clv
