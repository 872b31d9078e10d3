#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "crmkit/core/check.hpp"

namespace crmkit::data::detail {

/** The exponent bits of a double: all set for an infinity or a NaN. */
constexpr std::uint64_t exponent_bits = 0x7ff0000000000000ULL;

/**
 * Largest exponent field of the amounts seen, for a loop that reads them anyway: one AND and one
 * maximum a row, no branch; `finite()` afterwards tells whether every amount seen was finite.
 */
struct amount_exponents {
  std::uint64_t largest = 0;

  void see(double amount) noexcept {
    largest = std::max(largest, std::bit_cast<std::uint64_t>(amount) & exponent_bits);
  }
  [[nodiscard]] bool finite() const noexcept { return largest != exponent_bits; }
};

/** Fails naming the first non-finite amount of rows [begin, end) (row and value), as `function`. */
inline void check_finite_amounts(std::string_view function, std::span<const double> amount,
                                 std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) {
    if (!std::isfinite(amount[i]))
      check::fail_at(function, "amount", i, amount[i], "must be finite");
  }
}

}  // namespace crmkit::data::detail
