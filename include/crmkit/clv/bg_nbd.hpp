#pragma once

#include <span>
#include <tuple>

#include "crmkit/clv/detail/beta_geometric.hpp"
#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/clv/params.hpp"

namespace crmkit::clv {

/**
 * The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing
 * Science 24(2)) as a model traits type for fit_model; formulas in detail/beta_geometric.hpp.
 */
struct bg_nbd : detail::beta_geometric_model<0, bg_nbd_params> {
  static constexpr std::string_view name = "BG/NBD";
};

template <>
struct model_for<bg_nbd_params> {
  using type = bg_nbd;
};

/**
 * Fits BG/NBD by maximum likelihood to per-customer (frequency, recency, T), optionally
 * weighted (e.g. counts of identical customers). See fit.hpp for the method and options.
 *
 * **Example** (CDNOW, FHL 2005): r, α, a, b ≈ 0.2426, 4.4135, 0.7929, 2.4258, LL ≈ −9582.43.
 *
 * @throw invalid_input for bad data (naming argument, index and value) or when no customer has
 *        a repeat purchase; numerical_error if the likelihood is nowhere finite.
 */
inline fit_result<bg_nbd_params, 4> fit_bg_nbd(std::span<const double> frequency,
                                               std::span<const double> recency,
                                               std::span<const double> age,
                                               std::span<const double> weights = {},
                                               const fit_options& options = {}) {
  constexpr std::string_view function = "fit_bg_nbd";
  return fit_model<bg_nbd>(function,
                           transaction_patterns(function, frequency, recency, age, weights),
                           options, frequency.size());
}

}  // namespace crmkit::clv
