#pragma once

#include <span>
#include <tuple>

#include "crmkit/clv/detail/beta_geometric.hpp"
#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/core/describe.hpp"

namespace crmkit::clv {

/** MBG/NBD parameters: purchase rate λ ~ Gamma(r, α) (α in the data's time unit), dropout
 * probability at the first and after each repeat purchase p ~ Beta(a, b). */
struct mbg_nbd_params {
  double r = 1;
  double alpha = 1;
  double a = 1;
  double b = 1;
};

constexpr auto description(std::type_identity<mbg_nbd_params>) {
  using s = mbg_nbd_params;
  return std::tuple{
      describe::field{"r", &s::r, "shape of the purchase-rate Gamma"},
      describe::field{"alpha", &s::alpha, "scale of the purchase-rate Gamma (data time unit)"},
      describe::field{"a", &s::a, "Beta a of the dropout probability"},
      describe::field{"b", &s::b, "Beta b of the dropout probability"}};
}

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
