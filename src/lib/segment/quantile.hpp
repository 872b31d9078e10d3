#pragma once

#include <cmath>
#include <cstddef>

namespace crmkit::segment::detail {

/**
 * numpy.quantile(sorted, p) with numpy's default linear method, operation for operation
 * (numpy/lib/function_base.py: virtual index (n - 1) p, then _lerp), so edges and medians agree
 * with numpy and pandas to the last bit. `at(i)` is the i-th smallest of n values.
 */
template <class At>
double numpy_quantile(At&& at, std::size_t n, double p) {
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

}  // namespace crmkit::segment::detail
