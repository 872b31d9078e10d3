#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "crmkit/clv/params.hpp"
#include "crmkit/core/describe.hpp"

namespace crmkit::pipeline {

/**
 * The transaction (purchase) model of the analysis (`analysis_options::transaction_model`):
 * BG/NBD (Fader, Hardie & Lee 2005, Marketing Science 24(2)), MBG/NBD (Batislam, Denizel &
 * Filiztekin 2007) or Pareto/NBD (Schmittlein, Morrison & Colombo 1987). Every step that uses
 * the purchase model (fit, P(alive), expected purchases, CLV, the calibration check, the
 * tracking curve, lifecycle stages, the repeat-purchase histogram, the parameters table) fits
 * and evaluates this one. The values are in the order of clv::transaction_model_params'
 * alternatives.
 */
enum class transaction_model_kind : std::uint8_t { bg_nbd, mbg_nbd, pareto_nbd };

constexpr auto description(std::type_identity<transaction_model_kind>) {
  return describe::enum_table<transaction_model_kind, 3>{
      "transaction_model",
      {{{transaction_model_kind::bg_nbd, "bg_nbd"},
        {transaction_model_kind::mbg_nbd, "mbg_nbd"},
        {transaction_model_kind::pareto_nbd, "pareto_nbd"}}}};
}

/** Which model `params` holds. */
constexpr transaction_model_kind kind_of(const clv::transaction_model_params& params) noexcept {
  return static_cast<transaction_model_kind>(params.index());
}

/** The model's display name ("BG/NBD", "MBG/NBD", "Pareto/NBD"). */
std::string_view display_name(transaction_model_kind kind) noexcept;

/** The model's parameter names in lifetimes' order (r, alpha, a, b or r, alpha, s, beta). */
std::array<std::string_view, 4> parameter_names(transaction_model_kind kind) noexcept;

/** The parameters' values in that order. */
std::array<double, 4> parameter_values(const clv::transaction_model_params& params) noexcept;

}  // namespace crmkit::pipeline
