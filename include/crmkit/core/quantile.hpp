#pragma once

#include <cmath>
#include <cstddef>

namespace crmkit {

/**
 * numpy.quantile(sorted, p) with numpy's default linear method (Hyndman & Fan 1996 type 7),
 * operation for operation (numpy/lib/function_base.py: virtual index (n − 1) p, then _lerp), so
 * edges, medians and percentile intervals agree with numpy and pandas to the last bit. `at(i)` is
 * the i-th smallest of n ≥ 1 values; p in [0, 1].
 */
template <class At>
[[nodiscard]] double sorted_quantile(At&& at, std::size_t n, double p) {
  const double virtual_index = static_cast<double>(n - 1) * p;
  if (virtual_index >= static_cast<double>(n - 1)) return at(n - 1);
  const double previous = std::floor(virtual_index);
  const auto index = static_cast<std::size_t>(previous);
  const double gamma = virtual_index - previous;
  const double a = at(index);
  const double b = at(index + 1);
  const double difference = b - a;
  return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma;
}

}  // namespace crmkit
