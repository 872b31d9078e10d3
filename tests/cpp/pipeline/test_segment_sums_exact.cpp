// segment_cluster_sums adds each column per exponent before the long accumulator (fast); its sums
// must be the exact sums full_range_sum::add gives one value at a time, non-finite values
// included (those clusters are added one by one, as before).
#include <crmkit/core/exact_sum.hpp>
#include <crmkit/pipeline/segment_steps.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace pl = crmkit::pipeline;

TEST_CASE("segment sums are the one-by-one exact sums, non-finite values included") {
  constexpr std::size_t k = 4, n = 5000;
  std::vector<std::int32_t> labels(n);
  std::vector<std::vector<double>> columns(pl::segment_sums::columns, std::vector<double>(n));
  std::uint64_t state = 3;
  for (std::size_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    labels[i] = static_cast<std::int32_t>((state >> 33) % k);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      // Magnitudes from subnormal to 1e300, both signs, and exact cancellations.
      const int exponent = static_cast<int>((state >> (c * 5)) % 200) - 100 + (i % 97 == 0 ? 900 : 0);
      const double sign = ((state >> (40 + c)) & 1) != 0 ? -1.0 : 1.0;
      columns[c][i] = i % 101 == 0 ? std::ldexp(1.0, -1070 - static_cast<int>(c))
                                   : sign * std::ldexp(1.0 + static_cast<double>(i % 1000) / 999, exponent);
    }
  }
  columns[3][17] = std::numeric_limits<double>::quiet_NaN();
  columns[4][40] = std::numeric_limits<double>::infinity();
  columns[4][41] = -std::numeric_limits<double>::infinity();
  columns[5][2] = -0.0;
  const auto sums = pl::segment_cluster_sums(
      labels, k, {columns[0], columns[1], columns[2], columns[3], columns[4], columns[5]});
  for (std::size_t c = 0; c < columns.size(); ++c) {
    for (std::size_t g = 0; g < k; ++g) {
      CAPTURE(c);
      CAPTURE(g);
      crmkit::full_range_sum expected;
      for (std::size_t i = 0; i < n; ++i) {
        if (static_cast<std::size_t>(labels[i]) == g) expected.add(columns[c][i]);
      }
      CHECK(sums.sums[c * k + g] == expected);
      const double got = sums.sums[c * k + g].value(), want = expected.value();
      CHECK(std::memcmp(&got, &want, sizeof got) == 0);
    }
  }
}
