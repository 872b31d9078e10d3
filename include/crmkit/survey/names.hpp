#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/survey/aggregate.hpp"
#include "crmkit/survey/drivers.hpp"
#include "crmkit/survey/nps.hpp"
#include "crmkit/survey/rating.hpp"

/** The names of the survey options, as the Python package and command line spell them. */
namespace crmkit::survey {

namespace detail {

template <class Enum, std::size_t N>
Enum parse_name(std::string_view argument, std::string_view text,
                const std::array<std::pair<std::string_view, Enum>, N>& names) {
  std::string choices;
  for (const auto& [name, value] : names) {
    if (name == text) return value;
    choices += fmt::format("{}'{}'", choices.empty() ? "" : ", ", name);
  }
  check::fail(argument, fmt::format("'{}' is not one of {}", text, choices));
}

}  // namespace detail

/** "adjusted_wald", "wald" or "bootstrap". @throw invalid_input otherwise. */
inline nps_interval_method parse_nps_interval_method(std::string_view text) {
  return detail::parse_name<nps_interval_method, 3>(
      "method", text,
      {{{"adjusted_wald", nps_interval_method::adjusted_wald},
        {"wald", nps_interval_method::wald},
        {"bootstrap", nps_interval_method::bootstrap}}});
}

/** "2.0" (1–7 agreement) or "1.0" (original 1–5 effort). @throw invalid_input otherwise. */
inline ces_version parse_ces_version(std::string_view text) {
  return detail::parse_name<ces_version, 2>(
      "version", text, {{{"2.0", ces_version::agreement_7}, {"1.0", ces_version::effort_5}}});
}

/** "shapley" or "johnson". @throw invalid_input otherwise. */
inline importance_method parse_importance_method(std::string_view text) {
  return detail::parse_name<importance_method, 2>(
      "method", text,
      {{{"shapley", importance_method::shapley}, {"johnson", importance_method::johnson}}});
}

/** "error" or "skip". @throw invalid_input otherwise. */
inline data::bad_row_policy parse_bad_row_policy(std::string_view text) {
  return detail::parse_name<data::bad_row_policy, 2>(
      "on_bad_row", text,
      {{{"error", data::bad_row_policy::error}, {"skip", data::bad_row_policy::skip}}});
}

}  // namespace crmkit::survey
