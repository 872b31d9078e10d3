#pragma once

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "crmkit/core/describe.hpp"

/**
 * Soft problems: a result that is usable but deserves the caller's attention carries coded
 * warnings. The code says what kind of problem it is (front ends map it to their own warning
 * class once: Python's ConvergenceWarning, ...); the message says what happened, with numbers.
 */
namespace crmkit {

/** The kinds of soft problem a result can carry. */
enum class warning_code {
  not_converged,        ///< an optimiser stopped before its convergence test held
  singular_information, ///< the information matrix is not invertible: no standard errors
  undefined_mean,       ///< a fitted distribution has no finite mean (e.g. Gamma-Gamma q <= 1)
  unchecked_model,      ///< a model's time unit could not be checked on too little data
  at_boundary,          ///< a fit ran to a limit of the parameter space (the message names it)
};

constexpr auto description(std::type_identity<warning_code>) {
  return describe::enum_table<warning_code, 5>{
      "code",
      {{{warning_code::not_converged, "not_converged"},
        {warning_code::singular_information, "singular_information"},
        {warning_code::undefined_mean, "undefined_mean"},
        {warning_code::unchecked_model, "unchecked_model"},
        {warning_code::at_boundary, "at_boundary"}}}};
}

/** One soft problem: its kind and a message for people. */
struct warning {
  warning_code code = warning_code::not_converged;
  std::string message;

  friend bool operator==(const warning&, const warning&) = default;
};

constexpr auto description(std::type_identity<warning>) {
  return std::tuple{describe::field{"code", &warning::code, "the kind of problem"},
                    describe::field{"message", &warning::message, "what happened, with numbers"}};
}

/**
 * The soft problems of one result, in the order they arose. Text consumers (a log, the command
 * line's stderr) may take it as plain messages: it converts to std::vector<std::string> and a
 * warning formats as its message.
 */
struct coded_warnings : std::vector<warning> {
  using std::vector<warning>::vector;

  void add(warning_code code, std::string message) { push_back({code, std::move(message)}); }

  /** True when some warning has this code. */
  [[nodiscard]] bool has(warning_code code) const noexcept {
    for (const auto& each : *this) {
      if (each.code == code) return true;
    }
    return false;
  }

  /** The messages alone. */
  operator std::vector<std::string>() const {  // NOLINT(google-explicit-constructor): text view
    std::vector<std::string> out;
    out.reserve(size());
    for (const auto& each : *this) out.push_back(each.message);
    return out;
  }
};

}  // namespace crmkit

template <>
struct fmt::formatter<crmkit::warning> : fmt::formatter<std::string_view> {
  template <class Context>
  auto format(const crmkit::warning& value, Context& context) const {
    return fmt::formatter<std::string_view>::format(value.message, context);
  }
};
