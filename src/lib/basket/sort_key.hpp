#pragma once

#include <cstdint>

namespace crmkit::basket::detail {

/** The order-preserving unsigned image of a signed key, for core/radix_sort.hpp. */
inline std::uint64_t signed_key(std::int64_t value) {
  return static_cast<std::uint64_t>(value) ^ (std::uint64_t{1} << 63);
}

}  // namespace crmkit::basket::detail
