#pragma once

#include <crmkit/core/exact_sum.hpp>
#include <crmkit/segment/kmeans_steps.hpp>

#include "bindings.hpp"

/** k-means moments across the Python boundary (partitions' exact sums merged on a Dask driver;
 * the limbs themselves: bindings.hpp's limbs_to_numpy / limbs_of). */
namespace crmkit::python {

/** kmeans_moments as (rows, positive_weights, largest_weight, largest_squared_norm, limbs). */
py::tuple moments_to_python(const segment::kmeans_moments& moments);

/** The merge of partitions' moments_to_python tuples. */
segment::kmeans_moments merged_moments(const py::list& parts);

}  // namespace crmkit::python
