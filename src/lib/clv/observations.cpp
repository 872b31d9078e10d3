#include "crmkit/clv/observations.hpp"

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "crmkit/core/memory.hpp"

namespace crmkit::clv {

std::vector<pattern> group_by_frequency(std::span<const double> x, std::span<const double> u,
                                        std::span<const double> v,
                                        std::span<const double> weights) {
  const std::size_t n = x.size();
  auto weight = [&](std::size_t i) { return weights.empty() ? 1.0 : weights[i]; };
  const double largest = n == 0 ? 0.0 : *std::max_element(x.begin(), x.end());
  std::vector<std::size_t> start(static_cast<std::size_t>(largest) + 2, 0);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (weight(i) == 0) continue;
    ++start[static_cast<std::size_t>(x[i]) + 1];
    ++kept;
  }
  for (std::size_t k = 1; k < start.size(); ++k) start[k] += start[k - 1];
  auto rows = memory::large_vector<pattern>(kept);
  for (std::size_t i = 0; i < n; ++i) {
    if (weight(i) == 0) continue;
    rows[start[static_cast<std::size_t>(x[i])]++] = {x[i], u[i], v[i], weight(i)};
  }
  return rows;
}

}  // namespace crmkit::clv
