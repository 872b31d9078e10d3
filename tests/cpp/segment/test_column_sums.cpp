#include <crmkit/core/exact_sum.hpp>
#include <crmkit/math/vector_exp_log.hpp>

#include <doctest/doctest.h>

#include "segment/column_sums.hpp"

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

// k-means' column passes in every instruction set this CPU runs, against a reference written
// here: each finite value added to a full_range_sum one at a time (exact, so equal means equal
// bits), the row sums added left to right, and non_finite set by std::isfinite.
namespace math = crmkit::math;
using crmkit::full_range_sum;
using crmkit::segment::detail::add_columns;
using crmkit::segment::detail::add_values;
using crmkit::segment::detail::column_totals;

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

struct matrix {
  std::size_t rows, d, stride;
  std::vector<double> values;
  [[nodiscard]] double at(std::size_t i, std::size_t j) const { return values[i * stride + j]; }
};

column_totals reference(const matrix& x, const double* centre) {
  column_totals totals(x.d);
  for (std::size_t i = 0; i < x.rows; ++i) {
    double row_sum = 0;
    for (std::size_t j = 0; j < x.d; ++j) {
      double value = x.at(i, j);
      if (centre != nullptr) value = (value - centre[j]) * (value - centre[j]);
      row_sum += value;
      if (std::isfinite(value)) {
        totals.sums[j].add(value);
      } else {
        totals.non_finite = true;
      }
    }
    totals.largest_row_sum = std::max(totals.largest_row_sum, row_sum);
  }
  return totals;
}

/** Values of one kind: what each exercises is said where it is drawn. */
double draw(int kind, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> exponent(-70, 0);
  std::uniform_int_distribution<std::uint64_t> significand(0, (std::uint64_t{1} << 53) - 1);
  switch (kind) {
    case 0:  // clustered data: every value split in two parts
      return 5 + normal(rng);
    case 1: {  // all 53 bits set at magnitudes 2^-70 .. 1: remainders left after two splits
      const double v = std::ldexp(static_cast<double>(significand(rng)), exponent(rng) - 53);
      return rng() % 2 ? -v : v;
    }
    case 2:  // zeros, negative zeros and values near the ends of the range
      switch (rng() % 6) {
        case 0:
          return 0.0;
        case 1:
          return -0.0;
        case 2:
          return 1e300 * normal(rng);  // a column's largest beyond 2^1000: value by value
        case 3:
          return 4e-320 * normal(rng);  // subnormal
        case 4:
          return 1e-280 * normal(rng);  // a column's largest below 2^-900
        default:
          return normal(rng);
      }
    case 5:  // columns of subnormal or tiny values only: split constants near the bottom
      return std::ldexp(normal(rng), -1060 + static_cast<int>(rng() % 100));
    case 6:  // magnitudes near the largest double: no split constant beyond the range
      return 1e308 * (normal(rng) > 0 ? 1.7 : -1.5);
    default:  // a few non-finite values among normal ones
      switch (rng() % 40) {
        case 0:
          return infinity;
        case 1:
          return -infinity;
        case 2:
          return std::numeric_limits<double>::quiet_NaN();
        default:
          return normal(rng);
      }
  }
}

matrix make(std::size_t rows, std::size_t d, int kind, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Odd kinds: rows end to end, the last one at the end of the allocation (masked lanes beyond
  // it are never read); even kinds: padding between rows, which is never read either.
  matrix x{rows, d, kind % 2 == 1 ? d : d + 3, {}};
  x.values.assign(rows * x.stride, 7.0);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      x.values[i * x.stride + j] = draw(kind == 4 ? static_cast<int>(j % 4) : kind, rng);
    }
  }
  return x;
}

std::vector<math::simd_isa> supported() {
  std::vector<math::simd_isa> out;
  for (auto isa : {math::simd_isa::portable, math::simd_isa::avx2, math::simd_isa::avx512}) {
    if (math::simd_isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

void check_equal(const column_totals& got, const column_totals& want, bool row_sums) {
  REQUIRE(got.sums.size() == want.sums.size());
  for (std::size_t j = 0; j < want.sums.size(); ++j) {
    CHECK_MESSAGE(got.sums[j] == want.sums[j],
                  "column " << j << ": " << got.sums[j].value() << " vs " << want.sums[j].value());
  }
  CHECK(got.non_finite == want.non_finite);
  if (row_sums) CHECK(got.largest_row_sum == want.largest_row_sum);
}

}  // namespace

TEST_CASE("add_columns: exact column sums and row sums in every instruction set") {
  for (auto isa : supported()) {
    for (int kind = 0; kind <= 6; ++kind) {
      for (std::size_t d : {1, 3, 4, 5, 8, 16, 17}) {
        for (std::size_t rows : {0, 1, 127, 128, 129, 700}) {
          CAPTURE(static_cast<int>(isa));
          CAPTURE(kind);
          CAPTURE(d);
          CAPTURE(rows);
          const matrix x = make(rows, d, kind, 1000 * d + rows + static_cast<std::size_t>(kind));
          std::vector<double> centre(d);
          for (std::size_t j = 0; j < d; ++j) centre[j] = 0.5 + static_cast<double>(j);
          for (const double* origin : std::vector<const double*>{nullptr, centre.data()}) {
            column_totals got(d);
            add_columns(isa, x.values.data(), x.stride, d, 0, rows, origin, got);
            check_equal(got, reference(x, origin), origin != nullptr);
          }
        }
      }
    }
  }
}

TEST_CASE("add_columns: the rows in pieces give the bits of one pass") {
  const matrix x = make(1000, 6, 4, 42);
  for (auto isa : supported()) {
    column_totals whole(6), pieces(6);
    add_columns(isa, x.values.data(), x.stride, 6, 0, 1000, nullptr, whole);
    const std::vector<std::size_t> bounds{0, 1, 300, 301, 302, 877, 1000};
    for (std::size_t p = 0; p + 1 < bounds.size(); ++p) {
      add_columns(isa, x.values.data(), x.stride, 6, bounds[p], bounds[p + 1], nullptr, pieces);
    }
    check_equal(pieces, whole, false);
  }
}

TEST_CASE("add_values: a vector's finite values summed exactly, the non-finite ones reported") {
  for (auto isa : supported()) {
    for (int kind : {0, 1, 2, 3, 5}) {
      for (std::size_t n : {0, 1, 3, 4, 5, 511, 512, 513, 2049}) {
        CAPTURE(static_cast<int>(isa));
        CAPTURE(kind);
        CAPTURE(n);
        const matrix x = make(n, 1, kind, 77 * n + static_cast<std::size_t>(kind));
        std::vector<double> values(n);
        for (std::size_t i = 0; i < n; ++i) values[i] = x.at(i, 0);
        const column_totals want = reference(x, nullptr);
        full_range_sum got;
        got.add(0.25);  // added to, not replaced
        const bool finite = add_values(isa, values.data(), n, got);
        full_range_sum expected = want.sums[0];
        expected.add(0.25);
        CHECK(got == expected);
        CHECK(finite == !want.non_finite);
      }
    }
  }
}
