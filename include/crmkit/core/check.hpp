#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"

/**
 * Argument checks shared by every entry point (after Stan's `check_*`): each names the calling
 * function, the argument, the offending index and value, so a message reads
 * `fit: frequency[12] = -1 must be >= 0`.
 */
namespace crmkit::check {

[[noreturn]] inline void fail(std::string_view function, std::string_view message) {
  throw invalid_input(fmt::format("{}: {}", function, message));
}

template <class T>
[[noreturn]] void fail_at(std::string_view function, std::string_view argument, std::size_t index,
                          T value, std::string_view requirement) {
  fail(function, fmt::format("{}[{}] = {} {}", argument, index, value, requirement));
}

inline void same_size(std::string_view function, std::string_view first, std::size_t first_size,
                      std::string_view second, std::size_t second_size) {
  if (first_size != second_size) {
    fail(function, fmt::format("{} has {} elements but {} has {}; they must match", first,
                               first_size, second, second_size));
  }
}

inline void not_empty(std::string_view function, std::string_view argument, std::size_t size) {
  if (size == 0) fail(function, fmt::format("{} is empty", argument));
}

template <class T>
void finite(std::string_view function, std::string_view argument, T value) {
  if (!std::isfinite(value)) fail(function, fmt::format("{} = {} must be finite", argument, value));
}

template <class T>
void positive(std::string_view function, std::string_view argument, T value) {
  if (!(std::isfinite(value) && value > 0)) {
    fail(function, fmt::format("{} = {} must be positive and finite", argument, value));
  }
}

template <class T>
void nonnegative(std::string_view function, std::string_view argument, T value) {
  if (!(std::isfinite(value) && value >= 0)) {
    fail(function, fmt::format("{} = {} must be finite and >= 0", argument, value));
  }
}

template <class T>
void all_finite(std::string_view function, std::string_view argument, std::span<const T> values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) fail_at(function, argument, i, values[i], "must be finite");
  }
}

template <class T>
void all_nonnegative(std::string_view function, std::string_view argument,
                     std::span<const T> values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!(std::isfinite(values[i]) && values[i] >= 0)) {
      fail_at(function, argument, i, values[i], "must be finite and >= 0");
    }
  }
}

template <class T>
void all_positive(std::string_view function, std::string_view argument, std::span<const T> values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!(std::isfinite(values[i]) && values[i] > 0)) {
      fail_at(function, argument, i, values[i], "must be positive and finite");
    }
  }
}

}  // namespace crmkit::check
