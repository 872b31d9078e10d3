#include <crmkit/data/grouping.hpp>
#include <crmkit/math/vector_exp_log.hpp>

#include <doctest/doctest.h>

#include "data/log_measure.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

// check_log's chunk measure in every instruction set this CPU runs, against a plain reference
// written here: the extremes by std::minmax_element, each key's bin by floor division, and
// "inside" when every bin offset is in [0, key_counts::bins).
namespace cd = crmkit::data;
namespace math = crmkit::math;

namespace {

constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t highest = std::numeric_limits<std::int64_t>::max();

struct reference {
  cd::log_extent extent;
  std::vector<std::uint32_t> bins = std::vector<std::uint32_t>(cd::key_counts::bins, 0);
  bool inside = true;
};

std::int64_t floor_div(std::int64_t key, std::int64_t divisor) {
  const std::int64_t q = key / divisor;
  return (key % divisor != 0 && key < 0) ? q - 1 : q;
}

reference measured_plainly(const std::vector<std::int64_t>& key,
                           const std::vector<std::int64_t>& tick, std::int64_t first_bin) {
  reference r;
  if (!key.empty()) {
    const auto [min_key, max_key] = std::minmax_element(key.begin(), key.end());
    const auto [first_tick, last_tick] = std::minmax_element(tick.begin(), tick.end());
    r.extent = {*min_key, *max_key, *first_tick, *last_tick};
  }
  for (const std::int64_t k : key) {
    // Bins and first_bin are within 2^51 + bins of zero: their difference cannot overflow.
    const std::int64_t offset =
        floor_div(k, std::int64_t{1} << cd::key_counts::bin_log2) - first_bin;
    if (offset >= 0 && offset < static_cast<std::int64_t>(cd::key_counts::bins)) {
      ++r.bins[static_cast<std::size_t>(offset)];
    } else {
      r.inside = false;
    }
  }
  return r;
}

void require_same_extent(const cd::log_extent& a, const cd::log_extent& b) {
  CHECK(a.min_key == b.min_key);
  CHECK(a.max_key == b.max_key);
  CHECK(a.first_tick == b.first_tick);
  CHECK(a.last_tick == b.last_tick);
}

}  // namespace

TEST_CASE("log measure: extremes and key-bin counts of a chunk in every instruction set") {
  std::mt19937_64 rng(2026);
  const std::int64_t bin_width = std::int64_t{1} << cd::key_counts::bin_log2;
  const std::int64_t window = bin_width * static_cast<std::int64_t>(cd::key_counts::bins);
  for (const auto isa : {math::simd_isa::portable, math::simd_isa::avx2, math::simd_isa::avx512}) {
    if (!math::simd_isa_supported(isa)) continue;
    CAPTURE(static_cast<int>(isa));
    // Lengths around the four-row steps; keys near zero (both signs), near either end of the
    // int64 range, and spread beyond the bins; ticks with NaT (INT64_MIN) and the largest value.
    for (const std::size_t n : {0, 1, 3, 4, 5, 8, 31, 1000}) {
      for (int scene = 0; scene < 6; ++scene) {
        CAPTURE(n);
        CAPTURE(scene);
        const std::int64_t centre = scene == 1   ? lowest + window
                                    : scene == 2 ? highest - window
                                                 : -bin_width * 7 + 5;
        std::uniform_int_distribution<std::int64_t> near(-window / 2 + 1, window / 2 - 1);
        std::uniform_int_distribution<std::int64_t> any(lowest, highest);
        std::vector<std::int64_t> key(n), tick(n);
        for (std::size_t i = 0; i < n; ++i) {
          key[i] = scene == 3 && i % 7 == 3 ? any(rng) : centre + near(rng) / 2;
          tick[i] = scene == 4 && i % 5 == 2 ? lowest : any(rng) / 4;
          if (scene == 5 && i == n / 2) key[i] = tick[i] = highest;
        }
        const std::int64_t first_bin =
            n == 0 ? 0
                   : floor_div(key[0], bin_width) -
                         static_cast<std::int64_t>(cd::key_counts::bins / 2);
        const reference expected = measured_plainly(key, tick, first_bin);

        cd::log_extent extent;
        std::vector<std::uint32_t> bins(cd::key_counts::bins, 0);
        const bool inside = cd::detail::measure_chunk(isa, key.data(), tick.data(), n, first_bin,
                                                      bins.data(), extent);
        require_same_extent(extent, expected.extent);
        CHECK(inside == expected.inside);
        if (expected.inside) CHECK(bins == expected.bins);

        cd::log_extent extent_only;
        CHECK(cd::detail::measure_chunk(isa, key.data(), tick.data(), n, first_bin, nullptr,
                                        extent_only));
        require_same_extent(extent_only, expected.extent);
      }
    }
  }
}

TEST_CASE("log measure: the extent merges into what the earlier chunks found") {
  const std::vector<std::int64_t> key{10, 20, 30, 40, 50};
  const std::vector<std::int64_t> tick{5, 6, 7, 8, 9};
  for (const auto isa : {math::simd_isa::portable, math::simd_isa::avx2}) {
    if (!math::simd_isa_supported(isa)) continue;
    CAPTURE(static_cast<int>(isa));
    cd::log_extent part{15, 45, 1, 8};
    cd::detail::measure_chunk(isa, key.data(), tick.data(), key.size(), 0, nullptr, part);
    CHECK(part.min_key == 10);
    CHECK(part.max_key == 50);
    CHECK(part.first_tick == 1);
    CHECK(part.last_tick == 9);
  }
}
