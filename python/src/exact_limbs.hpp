#pragma once

#include <crmkit/core/exact_sum.hpp>
#include <crmkit/segment/kmeans_steps.hpp>

#include "bindings.hpp"

/** Exact sums across the Python boundary (partitions' sums merged on a Dask driver). */
namespace crmkit::python {

/** An exact sum as its normalised limbs (int64). */
py::array_t<std::int64_t> limbs_to_numpy(const full_range_sum& sum);

/** The exact sum of limbs given by limbs_to_numpy (ValueError for a wrong limb count). */
full_range_sum limbs_of(const py::handle& array);

/** kmeans_moments as (rows, positive_weights, largest_weight, largest_squared_norm, limbs). */
py::tuple moments_to_python(const segment::kmeans_moments& moments);

/** The merge of partitions' moments_to_python tuples. */
segment::kmeans_moments merged_moments(const py::list& parts);

}  // namespace crmkit::python
