#pragma once

#include <tuple>
#include <type_traits>
#include <variant>

#include "crmkit/core/describe.hpp"

/**
 * The parameters of crmkit's customer-base models, alone: code that stores or passes fitted
 * parameters (lifecycle stages, result tables) includes this light header, not the fitters
 * (Eigen, the likelihoods) in bg_nbd.hpp, mbg_nbd.hpp and gamma_gamma.hpp.
 */
namespace crmkit::clv {

/** BG/NBD parameters: purchase rate λ ~ Gamma(r, α) (α in the data's time unit), dropout
 * probability after each repeat purchase p ~ Beta(a, b). */
struct bg_nbd_params {
  double r = 1;
  double alpha = 1;
  double a = 1;
  double b = 1;
};

namespace detail {

/** The field list BG/NBD and MBG/NBD share: the same four parameters, read the same way. */
template <class Params>
constexpr auto gamma_beta_fields() {
  using s = Params;
  return std::tuple{
      describe::field{"r", &s::r, "shape of the purchase-rate Gamma"},
      describe::field{"alpha", &s::alpha, "scale of the purchase-rate Gamma (data time unit)"},
      describe::field{"a", &s::a, "Beta a of the dropout probability"},
      describe::field{"b", &s::b, "Beta b of the dropout probability"}};
}

}  // namespace detail

constexpr auto description(std::type_identity<bg_nbd_params>) {
  return detail::gamma_beta_fields<bg_nbd_params>();
}

/** MBG/NBD parameters: purchase rate λ ~ Gamma(r, α) (α in the data's time unit), dropout
 * probability at the first and after each repeat purchase p ~ Beta(a, b). */
struct mbg_nbd_params {
  double r = 1;
  double alpha = 1;
  double a = 1;
  double b = 1;
};

constexpr auto description(std::type_identity<mbg_nbd_params>) {
  return detail::gamma_beta_fields<mbg_nbd_params>();
}

/** Gamma-Gamma parameters in lifetimes' names: per-transaction spend z ~ Gamma(p, ν) with the
 * customer's scale ν ~ Gamma(q, v) (v is γ in Fader & Hardie's note 025). */
struct gamma_gamma_params {
  double p = 1;
  double q = 2;
  double v = 1;
};

constexpr auto description(std::type_identity<gamma_gamma_params>) {
  using s = gamma_gamma_params;
  return std::tuple{describe::field{"p", &s::p, "shape of each transaction value"},
                    describe::field{"q", &s::q, "shape of the spend-rate Gamma"},
                    describe::field{"v", &s::v, "scale of the spend-rate Gamma"}};
}

/** Pareto/NBD parameters: purchase rate λ ~ Gamma(r, α) and dropout rate μ ~ Gamma(s, β), α and
 * β in the data's time unit (Schmittlein, Morrison & Colombo 1987; lifetimes' names). */
struct pareto_nbd_params {
  double r = 1;
  double alpha = 1;
  double s = 1;
  double beta = 1;
};

constexpr auto description(std::type_identity<pareto_nbd_params>) {
  using p = pareto_nbd_params;
  return std::tuple{
      describe::field{"r", &p::r, "shape of the purchase-rate Gamma"},
      describe::field{"alpha", &p::alpha, "scale of the purchase-rate Gamma (data time unit)"},
      describe::field{"s", &p::s, "shape of the dropout-rate Gamma"},
      describe::field{"beta", &p::beta, "scale of the dropout-rate Gamma (data time unit)"}};
}

/**
 * Fitted parameters of any continuous-time transaction model (P(alive), expected purchases): the
 * one type that code choosing among them (lifecycle stages, the pipeline) stores and visits.
 */
using transaction_model_params = std::variant<bg_nbd_params, mbg_nbd_params, pareto_nbd_params>;

/** BG/BB parameters (Fader, Hardie & Shang 2010; lifetimes' names): while alive a customer
 * transacts at each opportunity with probability p ~ Beta(α, β) and dies before each
 * opportunity with probability θ ~ Beta(γ, δ). */
struct bg_bb_params {
  double alpha = 1;
  double beta = 1;
  double gamma = 1;
  double delta = 1;
};

constexpr auto description(std::type_identity<bg_bb_params>) {
  using p = bg_bb_params;
  return std::tuple{
      describe::field{"alpha", &p::alpha, "Beta alpha of the transaction probability"},
      describe::field{"beta", &p::beta, "Beta beta of the transaction probability"},
      describe::field{"gamma", &p::gamma, "Beta gamma of the dropout probability"},
      describe::field{"delta", &p::delta, "Beta delta of the dropout probability"}};
}

}  // namespace crmkit::clv
