#include "validate.hpp"

#include <cmath>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"

namespace crmkit::segment::detail {

namespace {

void check_shape(std::string_view function, std::string_view name, const matrix_view& x) {
  if (x.rows() == 0 || x.cols() == 0) {
    check::fail(function, fmt::format("{} is empty (shape ({}, {})); it needs at least one row "
                                      "and one column",
                                      name, x.rows(), x.cols()));
  }
}

/** Throws for the first non-finite value among rows [begin, end). */
void check_rows(std::string_view function, std::string_view name, const matrix_view& x,
                std::size_t begin, std::size_t end) {
  const auto d = static_cast<std::size_t>(x.cols());
  const auto stride = static_cast<std::size_t>(x.outerStride());
  // v - v is 0 for finite v and NaN otherwise: one vectorisable pass, then a slow one to name
  // the culprit.
  double probe = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const double* row = x.data() + i * stride;
    for (std::size_t j = 0; j < d; ++j) probe += row[j] - row[j];
  }
  if (probe == 0) return;
  for (std::size_t i = begin; i < end; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      const double value = x.data()[i * stride + j];
      if (!std::isfinite(value)) {
        check::fail(function, fmt::format("{}[{}, {}] = {} (row {}, column {}) must be finite",
                                          name, i, j, value, i, j));
      }
    }
  }
}

}  // namespace

void check_samples(std::string_view function, std::string_view name, const matrix_view& x) {
  check_shape(function, name, x);
  parallel_for(static_cast<std::size_t>(x.rows()), [&](std::size_t begin, std::size_t end) {
    check_rows(function, name, x, begin, end);
  });
}

void check_sample_weight(std::string_view function, std::span<const double> weight, std::size_t n) {
  if (weight.empty()) return;
  check::same_size(function, "sample_weight", weight.size(), "the rows of x", n);
  check::all_nonnegative(function, "sample_weight", weight);
  bool any_positive = false;
  for (double w : weight) any_positive = any_positive || w > 0;
  if (!any_positive) check::fail(function, "sample_weight is all zero; at least one must be > 0");
}

namespace {

/** Mean, sum of squared deviations and largest deviation norm of a block of rows. */
struct block_moments {
  double count = 0;
  std::vector<double> mean;
  std::vector<double> squares;  ///< sum of squared deviations from `mean`, per column
  double radius = 0;            ///< an upper bound on ||x_i - mean|| over the block
};

/**
 * Chan, Golub & LeVeque's pairwise update (1979): the moments of the union of two blocks. The
 * radius stays an upper bound by the triangle inequality.
 */
block_moments merge(block_moments a, const block_moments& b) {
  if (b.count == 0) return a;
  if (a.count == 0) return b;
  const double count = a.count + b.count;
  double shift_a = 0;
  double shift_b = 0;
  for (std::size_t j = 0; j < a.mean.size(); ++j) {
    const double delta = b.mean[j] - a.mean[j];
    const double mean = a.mean[j] + delta * (b.count / count);
    a.squares[j] += b.squares[j] + delta * delta * (a.count * b.count / count);
    shift_a += (mean - a.mean[j]) * (mean - a.mean[j]);
    shift_b += (mean - b.mean[j]) * (mean - b.mean[j]);
    a.mean[j] = mean;
  }
  a.radius = std::max(a.radius + std::sqrt(shift_a), b.radius + std::sqrt(shift_b));
  a.count = count;
  return a;
}

}  // namespace

column_summary summarise_columns(std::string_view function, std::string_view name,
                                 const matrix_view& x) {
  check_shape(function, name, x);
  const auto d = static_cast<std::size_t>(x.cols());
  const auto stride = static_cast<std::size_t>(x.outerStride());
  // One pass: each chunk's rows are summed, then re-read from cache for their deviations.
  const auto moments = parallel_reduce(
      static_cast<std::size_t>(x.rows()), block_moments{},
      [&](std::size_t begin, std::size_t end) {
        block_moments block{static_cast<double>(end - begin), std::vector<double>(d, 0.0),
                            std::vector<double>(d, 0.0), 0};
        double* __restrict sum = block.mean.data();
        double probe = 0;  // NaN after a non-finite value (see check_rows)
        for (std::size_t i = begin; i < end; ++i) {
          const double* __restrict row = x.data() + i * stride;
          for (std::size_t j = 0; j < d; ++j) {
            sum[j] += row[j];
            probe += row[j] - row[j];
          }
        }
        if (probe != 0) check_rows(function, name, x, begin, end);
        for (auto& m : block.mean) m /= block.count;
        double largest = 0;
        double* __restrict squares = block.squares.data();
        for (std::size_t i = begin; i < end; ++i) {
          const double* __restrict row = x.data() + i * stride;
          double norm = 0;
          for (std::size_t j = 0; j < d; ++j) {
            const double deviation = row[j] - sum[j];
            squares[j] += deviation * deviation;
            norm += deviation * deviation;
          }
          largest = std::max(largest, norm);
        }
        block.radius = std::sqrt(largest);
        return block;
      },
      merge);
  column_summary summary;
  summary.mean = Eigen::Map<const Eigen::RowVectorXd>(moments.mean.data(), x.cols());
  summary.variance =
      Eigen::Map<const Eigen::RowVectorXd>(moments.squares.data(), x.cols()) / moments.count;
  summary.max_centred_norm = moments.radius * (1 + 1e-12);  // room for rounding
  return summary;
}

}  // namespace crmkit::segment::detail
