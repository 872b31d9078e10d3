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

void check_rows(std::string_view function, std::string_view name, const matrix_view& x,
                std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const double value = x(static_cast<Eigen::Index>(i), j);
      if (!std::isfinite(value)) {
        check::fail(function, fmt::format("{}[{}, {}] = {} (row {}, column {}) must be finite",
                                          name, i, j, value, i, j));
      }
    }
  }
}

template <class Map>
Eigen::RowVectorXd sum_rows(const matrix_view& x, Map&& map) {
  const Eigen::Index d = x.cols();
  return parallel_reduce(
      static_cast<std::size_t>(x.rows()), Eigen::RowVectorXd(Eigen::RowVectorXd::Zero(d)),
      [&](std::size_t begin, std::size_t end) {
        Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(d);
        map(begin, end, sum);
        return sum;
      },
      [](Eigen::RowVectorXd a, const Eigen::RowVectorXd& b) {
        a += b;
        return a;
      });
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

column_summary summarise_columns(std::string_view function, std::string_view name,
                                 const matrix_view& x) {
  check_shape(function, name, x);
  const auto n = static_cast<double>(x.rows());
  column_summary summary;
  summary.mean = sum_rows(x,
                          [&](std::size_t begin, std::size_t end, Eigen::RowVectorXd& sum) {
                            check_rows(function, name, x, begin, end);
                            for (std::size_t i = begin; i < end; ++i)
                              sum += x.row(static_cast<Eigen::Index>(i));
                          }) /
                 n;
  // The last slot carries the largest squared row norm (combined by max, not sum).
  const Eigen::Index d = x.cols();
  Eigen::RowVectorXd squares = parallel_reduce(
      static_cast<std::size_t>(x.rows()), Eigen::RowVectorXd(Eigen::RowVectorXd::Zero(d + 1)),
      [&](std::size_t begin, std::size_t end) {
        Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(d + 1);
        for (std::size_t i = begin; i < end; ++i) {
          const Eigen::RowVectorXd centred = x.row(static_cast<Eigen::Index>(i)) - summary.mean;
          sum.head(d) += centred.cwiseProduct(centred);
          sum[d] = std::max(sum[d], centred.squaredNorm());
        }
        return sum;
      },
      [d](Eigen::RowVectorXd a, const Eigen::RowVectorXd& b) {
        a.head(d) += b.head(d);
        a[d] = std::max(a[d], b[d]);
        return a;
      });
  summary.variance = squares.head(d) / n;
  summary.max_centred_norm = std::sqrt(squares[d]);
  return summary;
}

}  // namespace crmkit::segment::detail
