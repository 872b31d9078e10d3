#include "crmkit/segment/features.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/quantile.hpp"
#include "validate.hpp"

namespace crmkit::segment {

namespace {

/** x with log1p applied to the flagged columns (after checking the domain). */
row_matrix logged(std::string_view function, const matrix_view& x,
                  std::span<const std::uint8_t> log1p) {
  detail::check_samples(function, "x", x);
  row_matrix out = x;
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    if (log1p.empty() || log1p[static_cast<std::size_t>(j)] == 0) continue;
    for (Eigen::Index i = 0; i < out.rows(); ++i) {
      if (!(out(i, j) > -1)) {
        check::fail(function, fmt::format("x[{}, {}] = {} (row {}, column {}) must be > -1 for "
                                          "log1p",
                                          i, j, out(i, j), i, j));
      }
      out(i, j) = std::log1p(out(i, j));
    }
  }
  return out;
}

/** numpy.quantile of column j of x at each p (sorted copy of the column). */
std::vector<double> column_quantiles(const row_matrix& x, Eigen::Index j,
                                     std::initializer_list<double> ps) {
  std::vector<double> column(x.col(j).begin(), x.col(j).end());
  std::sort(column.begin(), column.end());
  std::vector<double> out;
  for (double p : ps) {
    out.push_back(sorted_quantile([&](std::size_t i) { return column[i]; }, column.size(), p));
  }
  return out;
}

}  // namespace

feature_scaler fit_feature_scaler(const matrix_view& x, scaling method,
                                  std::span<const std::uint8_t> log1p) {
  constexpr std::string_view function = "feature_scaler";
  if (!log1p.empty()) {
    check::same_size(function, "log1p", log1p.size(), "the columns of x",
                     static_cast<std::size_t>(x.cols()));
  }
  const row_matrix values = logged(function, x, log1p);
  feature_scaler scaler;
  scaler.method = method;
  scaler.log1p.assign(log1p.begin(), log1p.end());
  if (scaler.log1p.empty()) scaler.log1p.assign(static_cast<std::size_t>(x.cols()), 0);
  const Eigen::Index d = values.cols();
  scaler.center = Eigen::RowVectorXd::Zero(d);
  scaler.scale = Eigen::RowVectorXd::Ones(d);
  if (method == scaling::none) return scaler;
  const auto summary = detail::summarise_columns(function, "x", values);
  for (Eigen::Index j = 0; j < d; ++j) {
    double spread = 0;
    if (method == scaling::standard) {
      scaler.center[j] = summary.mean[j];
      spread = std::sqrt(summary.variance[j]);
    } else {
      const auto q = column_quantiles(values, j, {0.25, 0.5, 0.75});
      scaler.center[j] = q[1];
      spread = q[2] - q[0];
    }
    if (spread == 0) {
      scaler.constant_columns.push_back(static_cast<std::size_t>(j));
    } else {
      scaler.scale[j] = spread;
    }
  }
  return scaler;
}

row_matrix feature_scaler::transform(const matrix_view& x) const {
  if (x.cols() != center.size()) {
    check::fail(
        "feature_scaler.transform",
        fmt::format("x has {} columns but the scaler was fitted on {}", x.cols(), center.size()));
  }
  row_matrix y = logged("feature_scaler.transform", x, log1p);
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    y.row(i) = (y.row(i) - center).cwiseQuotient(scale);
  }
  return y;
}

row_matrix feature_scaler::inverse_transform(const matrix_view& y) const {
  constexpr std::string_view function = "feature_scaler.inverse_transform";
  detail::check_samples(function, "y", y);
  if (y.cols() != center.size()) {
    check::fail(function, fmt::format("y has {} columns but the scaler was fitted on {}", y.cols(),
                                      center.size()));
  }
  row_matrix x(y.rows(), y.cols());
  for (Eigen::Index i = 0; i < y.rows(); ++i) {
    x.row(i) = y.row(i).cwiseProduct(scale) + center;
  }
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    if (log1p[static_cast<std::size_t>(j)] == 0) continue;
    for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, j) = std::expm1(x(i, j));
  }
  return x;
}

cluster_profile profile_clusters(const matrix_view& x, std::span<const std::int32_t> labels,
                                 std::size_t k) {
  constexpr std::string_view function = "cluster_profile";
  detail::check_samples(function, "x", x);
  const auto n = static_cast<std::size_t>(x.rows());
  check::same_size(function, "labels", labels.size(), "the rows of x", n);
  if (k < 1) check::fail(function, "k = 0 must be at least 1");
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= k) {
      check::fail_at(function, "labels", i, labels[i], fmt::format("must be in 0..{}", k - 1));
    }
  }
  const Eigen::Index d = x.cols();
  cluster_profile profile;
  profile.sizes.assign(k, 0);
  std::vector<std::vector<std::size_t>> members(k);
  for (std::size_t i = 0; i < n; ++i) members[static_cast<std::size_t>(labels[i])].push_back(i);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  profile.means = row_matrix::Constant(static_cast<Eigen::Index>(k), d, nan);
  profile.medians = row_matrix::Constant(static_cast<Eigen::Index>(k), d, nan);
  std::vector<double> column;
  for (std::size_t c = 0; c < k; ++c) {
    const auto& rows = members[c];
    profile.sizes[c] = rows.size();
    profile.shares.push_back(static_cast<double>(rows.size()) / static_cast<double>(n));
    if (rows.empty()) continue;
    for (Eigen::Index j = 0; j < d; ++j) {
      column.clear();
      double sum = 0;
      for (std::size_t i : rows) {
        column.push_back(x(static_cast<Eigen::Index>(i), j));
        sum += column.back();
      }
      std::sort(column.begin(), column.end());
      const auto row = static_cast<Eigen::Index>(c);
      profile.means(row, j) = sum / static_cast<double>(rows.size());
      profile.medians(row, j) =
          sorted_quantile([&](std::size_t i) { return column[i]; }, column.size(), 0.5);
    }
  }
  return profile;
}

}  // namespace crmkit::segment
