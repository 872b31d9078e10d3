#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "crmkit/segment/matrix.hpp"

/** Argument checks and column statistics shared by the segmentation sources. */
namespace crmkit::segment::detail {

/** At least one row and one column, every value finite (the error names row and column). */
void check_samples(std::string_view function, std::string_view name, const matrix_view& x);

/** Empty, or n finite non-negative weights that are not all zero. */
void check_sample_weight(std::string_view function, std::span<const double> weight, std::size_t n);

/** Column means and (population) variances, and a bound on the norm of a centred row. */
struct column_summary {
  Eigen::RowVectorXd mean;
  Eigen::RowVectorXd variance;
  double max_centred_norm = 0;  ///< >= max_i ||x_i - mean||
};

/**
 * check_samples and column_summary in one pass over the rows: per fixed chunk of rows the mean
 * and squared deviations, merged in chunk order (so the result does not depend on the thread
 * count).
 */
column_summary summarise_columns(std::string_view function, std::string_view name,
                                 const matrix_view& x);

}  // namespace crmkit::segment::detail
