#pragma once

#include <string_view>

#include "crmkit/core/describe.hpp"
#include "crmkit/data/bad_row_policy.hpp"
#include "crmkit/survey/aggregate.hpp"
#include "crmkit/survey/drivers.hpp"
#include "crmkit/survey/nps.hpp"
#include "crmkit/survey/rating.hpp"

/** The survey options' parsers, kept for callers; the names live in each enum's description. */
namespace crmkit::survey {

/** "adjusted_wald", "wald" or "bootstrap". @throw invalid_input otherwise. */
inline nps_interval_method parse_nps_interval_method(std::string_view text) {
  return describe::parse<nps_interval_method>(text);
}

/** "2.0" (1–7 agreement) or "1.0" (original 1–5 effort). @throw invalid_input otherwise. */
inline ces_version parse_ces_version(std::string_view text) {
  return describe::parse<ces_version>(text);
}

/** "shapley" or "johnson". @throw invalid_input otherwise. */
inline importance_method parse_importance_method(std::string_view text) {
  return describe::parse<importance_method>(text);
}

/** "error" or "skip". @throw invalid_input otherwise. */
inline data::bad_row_policy parse_bad_row_policy(std::string_view text) {
  return describe::parse<data::bad_row_policy>(text);
}

}  // namespace crmkit::survey
