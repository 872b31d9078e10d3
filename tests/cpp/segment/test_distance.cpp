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
