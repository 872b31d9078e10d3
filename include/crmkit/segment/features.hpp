#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"
#include "crmkit/segment/matrix.hpp"

/**
 * Feature preparation for clustering customers, and cluster profiles in the original units.
 *
 * RFM-like features are skewed: the usual recipe (log1p of the skewed columns, then
 * standardisation) is a feature_scaler; its inverse_transform takes k-means centres back to
 * days, purchases and money.
 */
namespace crmkit::segment {

/** How columns are centred and scaled after the optional log1p. */
enum class scaling {
  none,      ///< centre 0, scale 1
  standard,  ///< mean and population standard deviation (scikit-learn's StandardScaler)
  robust,    ///< median and interquartile range q75 - q25 (scikit-learn's RobustScaler)
};

constexpr auto description(std::type_identity<scaling>) {
  return describe::enum_table<scaling, 3>{
      "method",
      {{{scaling::none, "none"}, {scaling::standard, "standard"}, {scaling::robust, "robust"}}}};
}

/** Parses "none", "standard" or "robust" (describe::parse). */
inline scaling parse_scaling(std::string_view name) {
  return describe::parse<scaling>(name);
}

/**
 * A fitted column transform: y = (g(x) - center) / scale, with g = log1p on the chosen
 * columns and the identity elsewhere. A column without spread (scale 0) gets scale 1, as
 * scikit-learn does, and is listed in constant_columns.
 */
struct feature_scaler {
  scaling method = scaling::standard;
  std::vector<std::uint8_t> log1p;  ///< per column, 1 = log1p first
  Eigen::RowVectorXd center;
  Eigen::RowVectorXd scale;
  std::vector<std::size_t> constant_columns;

  /** y from x; x needs the fitted number of columns, finite values, > -1 in log1p columns. */
  [[nodiscard]] row_matrix transform(const matrix_view& x) const;
  /** x from y: expm1(y * scale + center) on log1p columns, y * scale + center elsewhere. */
  [[nodiscard]] row_matrix inverse_transform(const matrix_view& y) const;
};

/**
 * Fits a feature_scaler to x.
 * @param log1p empty (none), or one flag per column.
 * @throw invalid_input for empty or non-finite x, a value <= -1 in a log1p column (naming row
 *        and column), or a flag count that does not match the columns.
 */
feature_scaler fit_feature_scaler(const matrix_view& x, scaling method,
                                  std::span<const std::uint8_t> log1p = {});

/** Size, share, mean and median of every feature per cluster. */
struct cluster_profile {
  std::vector<std::size_t> sizes;
  std::vector<double> shares;
  row_matrix means;    ///< k x d; NaN rows for empty clusters
  row_matrix medians;  ///< k x d (numpy.median); NaN rows for empty clusters
};

constexpr auto description(std::type_identity<cluster_profile>) {
  using s = cluster_profile;
  return std::tuple{
      describe::field{"sizes", &s::sizes, "customers per cluster"},
      describe::field{"shares", &s::shares, "share of customers per cluster"},
      describe::field{"means", &s::means, "k x d; NaN rows for empty clusters"},
      describe::field{"medians", &s::medians, "k x d (numpy.median); NaN rows for empty clusters"}};
}

/**
 * Profiles clusters 0..k-1 of x (in the units of x: pass the original features, not the
 * scaled ones).
 * @throw invalid_input for a label outside 0..k-1 (naming the row) or mismatched sizes.
 */
cluster_profile profile_clusters(const matrix_view& x, std::span<const std::int32_t> labels,
                                 std::size_t k);

}  // namespace crmkit::segment
