#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <boost/random/binomial_distribution.hpp>
#include <fmt/format.h>

#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/gamma_gamma.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/random.hpp"

namespace crmkit::clv {

/** The refits of a customer bootstrap. */
struct bootstrap_fits {
  std::vector<std::vector<double>> draws;  ///< parameters of each converged refit, in order
  std::size_t replicates = 0;              ///< refits attempted
  std::size_t failed = 0;                  ///< refits that threw or did not converge (left out)
};

constexpr auto description(std::type_identity<bootstrap_fits>) {
  using s = bootstrap_fits;
  return std::tuple{
      describe::field{"draws", &s::draws, "parameters of each converged refit, in order"},
      describe::field{"replicates", &s::replicates, "refits attempted"},
      describe::field{"failed", &s::failed, "refits that threw or did not converge"}};
}

namespace detail {

/**
 * Counts (n_1, …, n_K) ~ Multinomial(N, w/W), N = W = Σ w, by sequential conditional binomials:
 * n_k ~ Binomial(N − Σ_{j<k} n_j, w_k / Σ_{j≥k} w_j) (Boost's binomial, platform-independent).
 * Weights are whole numbers, so the running sums are exact.
 */
inline std::vector<double> multinomial_counts(std::span<const pattern> rows, double total,
                                              rng::mt_engine& engine) {
  std::vector<double> counts(rows.size(), 0.0);
  auto remaining = static_cast<long long>(total);
  double remaining_weight = total;
  for (std::size_t k = 0; k < rows.size() && remaining > 0; ++k) {
    const double share = std::clamp(rows[k].weight / remaining_weight, 0.0, 1.0);
    const long long drawn =
        share >= 1 ? remaining
                   : boost::random::binomial_distribution<long long, double>(remaining, share)(
                         engine);
    counts[k] = static_cast<double>(drawn);
    remaining -= drawn;
    remaining_weight -= rows[k].weight;
  }
  return counts;
}

/** Fits `Model` to the patterns with new weights (zero-weight rows dropped). */
template <class Model>
auto refit(std::string_view function, std::span<const pattern> rows,
           const std::vector<double>& counts, const fit_options& options) {
  std::vector<pattern> kept;
  kept.reserve(rows.size());
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (counts[k] > 0) kept.push_back({rows[k].x, rows[k].u, rows[k].v, counts[k]});
  }
  if constexpr (std::is_same_v<typename Model::data_type, std::vector<pattern>>) {
    return fit_model<Model>(function, std::move(kept), options, kept.size());
  } else {
    std::vector<double> x, m, w;
    for (const auto& row : kept) {
      x.push_back(row.x);
      m.push_back(row.u);
      w.push_back(row.weight);
    }
    return fit_model<Model>(function, detail::spend_rows(x, m, w), options, kept.size());
  }
}

}  // namespace detail

/**
 * The customer (nonparametric) bootstrap of a fit (Efron & Tibshirani 1993, ch. 6) on compressed
 * data: each replicate draws N customers with replacement from the N = Σ w the patterns stand
 * for, which is drawing the patterns' counts from Multinomial(N, w/N)
 * (detail::multinomial_counts), and refits `Model` to the patterns with those counts, starting
 * from the estimate `values`. One replicate costs one compressed fit, whatever N. Replicate b
 * draws from an MT19937-64 seeded with rng::stream_seed(seed, b) and the replicates run in
 * parallel, each on one thread, so the result does not depend on the thread count. Patterns
 * are (x, t_x, T) for the transaction models, (x, t_x, n) for BG/BB and (x, m, m) for
 * Gamma-Gamma; weights must be whole numbers (counts of customers).
 *
 * @throw invalid_input for fewer than 2 replicates or weights that are not whole numbers.
 */
template <class Model>
bootstrap_fits customer_bootstrap(std::string_view function, std::span<const pattern> rows,
                                  std::span<const double> values, fit_options options,
                                  std::size_t replicates, std::uint64_t seed) {
  if (replicates < 2) {
    check::fail(function, fmt::format("draws = {} must be at least 2", replicates));
  }
  double total = 0;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (!detail::is_whole(rows[k].weight)) {
      check::fail_at(function, "weights", k, rows[k].weight,
                     "must be a whole number of customers for the customer bootstrap");
    }
    total += rows[k].weight;
  }
  options.initial_params.assign(values.begin(), values.end());
  std::vector<std::vector<double>> fitted(replicates);
  parallel_for(
      replicates,
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t b = begin; b < end; ++b) {
          rng::mt_engine engine(rng::stream_seed(seed, b));
          const auto counts = detail::multinomial_counts(rows, total, engine);
          try {
            const auto fit = detail::refit<Model>(function, rows, counts, options);
            if (!fit.converged) continue;
            const auto parameters = Model::to_array(fit.params);
            fitted[b].assign(parameters.begin(), parameters.end());
          } catch (const error&) {
            // A resample the model cannot be fitted to counts as failed.
          }
        }
      },
      1);
  bootstrap_fits out;
  out.replicates = replicates;
  for (auto& draw : fitted) {
    if (draw.empty()) {
      ++out.failed;
    } else {
      out.draws.push_back(std::move(draw));
    }
  }
  return out;
}

}  // namespace crmkit::clv
