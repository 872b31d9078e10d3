#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>

#include "crmkit/core/check.hpp"

namespace crmkit::data::detail {

/** Fails naming the first non-finite amount of rows [begin, end) (row and value), as `function`. */
inline void check_finite_amounts(std::string_view function, std::span<const double> amount,
                                 std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) {
    if (!std::isfinite(amount[i])) check::fail_at(function, "amount", i, amount[i], "must be finite");
  }
}

}  // namespace crmkit::data::detail
