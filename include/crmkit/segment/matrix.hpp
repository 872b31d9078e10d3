#pragma once

#include <Eigen/Core>

namespace crmkit::segment {

/** Dense samples-by-features matrix, one row per sample (numpy's C order). */
using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/**
 * Read-only view of row-major samples. Binds without a copy to a `row_matrix` or to an
 * `Eigen::Map<const row_matrix>` over a C-ordered buffer (a numpy array).
 */
using matrix_view = Eigen::Ref<const row_matrix>;

}  // namespace crmkit::segment
