#include <crmkit/segment/random.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <vector>

#include "segment/distance.hpp"

namespace detail = crmkit::segment::detail;

namespace {

/** ||a - b||^2 in double for float rows (double rounding, far below the bound). */
double exact_squared(const float* a, const double* b, std::size_t d) {
  double sum = 0;
  for (std::size_t j = 0; j < d; ++j) {
    const double difference =
        static_cast<double>(a[j]) - static_cast<double>(static_cast<float>(b[j]));
    sum += difference * difference;
  }
  return sum;
}

}  // namespace

TEST_CASE(
    "the float screening kernel stays within its a-priori error bound on every instruction set") {
  // The bound of screening_error (Higham 2002, section 3.1) is the whole basis of the k-means
  // screening: a screened decision is kept only when this error cannot change it. Checked here
  // against double sums over the same rounded rows and centres, for every instruction set the
  // processor runs, shapes that exercise partial blocks (d, k not multiples of the lane width),
  // scales from 1e-6 to 1e6, and ties (duplicate centres).
  crmkit::segment::random_stream random(2026);
  std::size_t checked = 0;
  for (auto isa : {detail::screening_isa::portable, detail::screening_isa::avx2,
                   detail::screening_isa::avx512}) {
    if (!detail::screening_supported(isa)) continue;
    for (const std::size_t d : {1, 3, 4, 16, 17, 33}) {
      for (const std::size_t k : {1, 2, 5, 16, 17, 40}) {
        for (const double scale : {1e-6, 1.0, 1e6}) {
          CAPTURE(static_cast<int>(isa));
          CAPTURE(d);
          CAPTURE(k);
          CAPTURE(scale);
          const std::size_t n = 37;
          std::vector<double> centres(k * d);
          for (auto& value : centres) value = scale * (2 * random.uniform() - 1);
          if (k >= 2) std::copy_n(centres.begin(), d, centres.begin() + d);  // a tie: centre 1 = 0
          std::vector<float> rows(n * d);
          double largest_point = 0;
          for (std::size_t i = 0; i < n; ++i) {
            double norm = 0;
            for (std::size_t j = 0; j < d; ++j) {
              rows[i * d + j] = static_cast<float>(scale * (2 * random.uniform() - 1));
              norm += static_cast<double>(rows[i * d + j]) * rows[i * d + j];
            }
            largest_point = std::max(largest_point, std::sqrt(norm));
          }
          detail::screening_centres packed;
          packed.assign(centres.data(), k, d);
          const double error = detail::screening_error(d, largest_point, packed.largest_norm());
          std::vector<std::size_t> order(n);
          std::iota(order.rbegin(), order.rend(), std::size_t{0});  // scattered: reversed
          std::vector<detail::screened> out(n);
          detail::screen_nearest(isa, rows.data(), d, order.data(), n, packed, out.data());
          for (std::size_t p = 0; p < n; ++p) {
            std::vector<double> exact(k);
            for (std::size_t c = 0; c < k; ++c) {
              exact[c] = exact_squared(rows.data() + order[p] * d, centres.data() + c * d, d);
            }
            std::vector<double> sorted = exact;
            std::sort(sorted.begin(), sorted.end());
            const double second = k > 1 ? sorted[1] : std::numeric_limits<double>::infinity();
            REQUIRE(out[p].index < k);
            CHECK(std::abs(static_cast<double>(out[p].best) - sorted[0]) <= error);
            if (k > 1) {
              CHECK(std::abs(static_cast<double>(out[p].second) - second) <= error);
            } else {
              CHECK(std::isinf(out[p].second));
            }
            // The index found is nearest up to twice the error.
            CHECK(exact[out[p].index] <= sorted[0] + 2 * error);
            ++checked;
          }
        }
      }
    }
  }
  CHECK(checked >= 6 * 6 * 3 * 37);  // at least the portable kernel ran on every shape
}

TEST_CASE("the blocked screening kernel decides only what its error bound proves, on every ISA") {
  // screen_blocks accepts a nearest centre without square roots (make_screening_test). What it
  // decides must be the true nearest centre of the rounded row, ahead of every other centre by
  // more than the margin in distance (checked in double); ties must stay undecided; and points
  // whose exact gap clearly exceeds the error bound must be decided, or the kernel saves nothing.
  crmkit::segment::random_stream random(2027);
  std::size_t decided = 0;
  std::size_t clear = 0;
  for (auto isa : {detail::screening_isa::portable, detail::screening_isa::avx2,
                   detail::screening_isa::avx512}) {
    if (!detail::screening_supported(isa)) continue;
    for (const std::size_t d : {1, 3, 4, 16, 17}) {
      for (const std::size_t k : {1, 2, 5, 8, 9, 32, 40}) {
        for (const double scale : {1e-6, 1.0, 1e6}) {
          for (const double relative_margin : {0.0, 1e-3}) {
            CAPTURE(static_cast<int>(isa));
            CAPTURE(d);
            CAPTURE(k);
            CAPTURE(scale);
            CAPTURE(relative_margin);
            const std::size_t n = 75;  // five blocks, the last one partial
            std::vector<double> centres(k * d);
            for (auto& value : centres) value = scale * (2 * random.uniform() - 1);
            if (k >= 3) std::copy_n(centres.begin(), d, centres.begin() + 2 * d);  // c2 = c0
            std::vector<float> rows(n * d);
            std::vector<float> blocks(
                (n + detail::block_points - 1) / detail::block_points * detail::block_points * d,
                0.0F);
            double largest_point = 0;
            for (std::size_t i = 0; i < n; ++i) {
              double norm = 0;
              for (std::size_t j = 0; j < d; ++j) {
                rows[i * d + j] = static_cast<float>(scale * (2 * random.uniform() - 1));
                blocks[detail::blocked_offset(i, j, d)] = rows[i * d + j];
                norm += static_cast<double>(rows[i * d + j]) * rows[i * d + j];
              }
              largest_point = std::max(largest_point, std::sqrt(norm));
            }
            detail::screening_centres packed;
            packed.assign(centres.data(), k, d);
            const double error = detail::screening_error(d, largest_point, packed.largest_norm());
            const double margin = relative_margin * scale;
            const double radius = std::max(largest_point, packed.largest_norm());
            const auto test = detail::make_screening_test(error, margin, radius);
            std::vector<std::int32_t> out(blocks.size() / d, -2);
            detail::screen_blocks(isa, blocks.data(), d, out.size() / detail::block_points,
                                  packed, test, out.data());
            for (std::size_t p = 0; p < n; ++p) {
              std::vector<double> exact(k);
              for (std::size_t c = 0; c < k; ++c) {
                exact[c] = exact_squared(rows.data() + p * d, centres.data() + c * d, d);
              }
              const auto nearest = static_cast<std::size_t>(
                  std::min_element(exact.begin(), exact.end()) - exact.begin());
              double second = std::numeric_limits<double>::infinity();
              for (std::size_t c = 0; c < k; ++c) {
                if (c != nearest) second = std::min(second, exact[c]);
              }
              REQUIRE(out[p] >= -1);
              if (out[p] >= 0) {
                ++decided;
                CHECK(static_cast<std::size_t>(out[p]) == nearest);
                CHECK(std::sqrt(second) - std::sqrt(exact[nearest]) > margin);
                CHECK_FALSE((k >= 3 && nearest == 0 && exact[2] == exact[0]));
              }
              // Clearly separated: the gap exceeds what the test can lose, with room.
              if (second > (1 + 2 * margin / radius + 1e-5) * exact[nearest] + 8 * error +
                               4 * margin * (radius + margin)) {
                ++clear;
                CHECK(out[p] >= 0);
              }
            }
          }
        }
      }
    }
  }
  CHECK(clear > 1000);
  CHECK(decided >= clear);
}
