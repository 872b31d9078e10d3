#pragma once

#include <span>
#include <tuple>

#include "crmkit/clv/detail/beta_geometric.hpp"
#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/clv/params.hpp"

namespace crmkit::clv {

/**
 * The modified BG/NBD model (Batislam, Denizel & Filiztekin 2007, IJRM 24(3); erratum Wagner &
 * Hoppe 2008): a customer may also drop out right after the first purchase, so P(alive) < 1
 * even without repeat purchases. Model traits for fit_model; formulas in
 * detail/beta_geometric.hpp.
 */
struct mbg_nbd : detail::beta_geometric_model<1, mbg_nbd_params> {
  static constexpr std::string_view name = "MBG/NBD";
};

template <>
struct model_for<mbg_nbd_params> {
  using type = mbg_nbd;
};

/**
 * Fits MBG/NBD by maximum likelihood to per-customer (frequency, recency, T), optionally
 * weighted (e.g. counts of identical customers). See fit.hpp for the method and options.
 *
 * **Example** (CDNOW): r, α, a, b ≈ 0.5248, 6.1830, 0.8914, 1.6140, LL ≈ −9582.13.
 *
 * @throw invalid_input for bad data (naming argument, index and value) or when no customer has
 *        a repeat purchase; numerical_error if the likelihood is nowhere finite.
 */
inline fit_result<mbg_nbd_params, 4> fit_mbg_nbd(std::span<const double> frequency,
                                                 std::span<const double> recency,
                                                 std::span<const double> age,
                                                 std::span<const double> weights = {},
                                                 const fit_options& options = {}) {
  constexpr std::string_view function = "fit_mbg_nbd";
  return fit_model<mbg_nbd>(function,
                            transaction_patterns(function, frequency, recency, age, weights),
                            options, frequency.size());
}

}  // namespace crmkit::clv
