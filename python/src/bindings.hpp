#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <Eigen/Core>

#include <crmkit/core/exact_sum.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace crmkit::pipeline {
struct survey_cells;
}  // namespace crmkit::pipeline

namespace crmkit::python {

namespace py = pybind11;

/**
 * A numpy array as the core reads it: C-contiguous, converted from any numeric sequence, and
 * aligned. An unaligned array (a view at an odd offset, or a buffer unpickled by Dask) is copied
 * on the way in: reading its elements in place through a `span<const T>` is undefined behaviour.
 */
template <class T>
using core_array = py::array_t<T, py::array::c_style | py::array::forcecast |
                                      py::detail::npy_api::NPY_ARRAY_ALIGNED_>;
using double_array = core_array<double>;
using int64_array = core_array<std::int64_t>;

template <class T>
std::span<const T> as_span(const core_array<T>& array) {
  return {array.data(), static_cast<std::size_t>(array.size())};
}

/** The array's elements, or an empty span when the optional argument was not given. */
inline std::span<const double> optional_span(const std::optional<double_array>& array) {
  return array ? as_span(*array) : std::span<const double>{};
}

/** A new 1-d numpy array of `size` elements that the caller fills. */
template <class T>
py::array_t<T> new_array(std::size_t size) {
  return py::array_t<T>(static_cast<py::ssize_t>(size));
}

/** A numpy array holding a copy of `values`. */
template <class T>
py::array_t<T> numpy_copy(const std::vector<T>& values) {
  return py::array_t<T>(static_cast<py::ssize_t>(values.size()), values.data());
}

/** An exact sum as its normalised limbs (int64), e.g. to ship it from a partition. */
inline py::array_t<std::int64_t> limbs_to_numpy(const full_range_sum& sum) {
  const auto limbs = sum.limbs();
  py::array_t<std::int64_t> out(static_cast<py::ssize_t>(limbs.size()));
  std::copy(limbs.begin(), limbs.end(), out.mutable_data());
  return out;
}

/** The exact sum whose limbs `array` holds (limbs_to_numpy's, or several added up). */
inline full_range_sum limbs_of(const py::handle& array) {
  const auto values = array.cast<int64_array>();
  if (values.size() != static_cast<py::ssize_t>(full_range_sum::limb_count)) {
    throw py::value_error("an exact sum has " + std::to_string(full_range_sum::limb_count) +
                          " limbs");
  }
  std::array<std::int64_t, full_range_sum::limb_count> limbs{};
  std::copy_n(values.data(), limbs.size(), limbs.begin());
  full_range_sum sum;
  sum.add_limbs(limbs);
  return sum;
}

/** A 2-d numpy array holding a copy of `matrix` (any Eigen storage order). */
template <class Derived>
py::array_t<double> numpy_copy(const Eigen::MatrixBase<Derived>& matrix) {
  py::array_t<double> out({matrix.rows(), matrix.cols()});
  auto view = out.template mutable_unchecked<2>();
  for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
    for (Eigen::Index j = 0; j < matrix.cols(); ++j) view(i, j) = matrix(i, j);
  }
  return out;
}

/** A numpy column filled with `field(row)` for every row. */
template <class Row, class Field>
py::array numpy_column(const std::vector<Row>& rows, Field&& field) {
  using value = decltype(field(rows.front()));
  auto out = py::array_t<value>(static_cast<py::ssize_t>(rows.size()));
  auto* data = out.mutable_data();
  for (std::size_t i = 0; i < rows.size(); ++i) data[i] = field(rows[i]);
  return out;
}

/** A numpy array that takes over the vector's buffer, without copying it. */
template <class T>
py::array_t<T> numpy_adopt(std::vector<T>&& values) {
  auto owner = std::make_unique<std::vector<T>>(std::move(values));
  const py::capsule release(owner.get(),
                            [](void* vector) { delete static_cast<std::vector<T>*>(vector); });
  std::vector<T>& kept = *owner.release();
  return py::array_t<T>(static_cast<py::ssize_t>(kept.size()), kept.data(), release);
}

/**
 * The Python object that owns a numpy array's memory: the end of its chain of bases (None for
 * an array that owns its memory).
 */
inline py::object buffer_owner(const py::array& array) {
  py::object owner = array.base();
  while (py::isinstance<py::array>(owner)) owner = owner.attr("base");
  return owner;
}

/** Whether `array` is the whole of `column`: one-dimensional, contiguous, same first element. */
template <class T>
bool is_whole(const py::array& array, const std::vector<T>& column) {
  return array.ndim() == 1 && (array.flags() & py::array::c_style) != 0 &&
         array.data() == static_cast<const void*>(column.data()) &&
         static_cast<std::size_t>(array.size()) == column.size();
}

/**
 * An int64 column as 32-bit item codes (crmkit::basket), each checked to lie in [0, 2^32 - 1);
 * invalid_input names `argument`, the row and the value.
 */
std::vector<std::uint32_t> item_codes(const int64_array& codes, const char* argument);

void register_core(py::module_& module);
void register_data(py::module_& module);
void register_data_io(py::module_& module);
void register_clv(py::module_& module);
void register_intervals(py::module_& module);
void register_segment(py::module_& module);
void register_survey(py::module_& module);
/** The pickle state of the report's survey accumulators (its cell tables' states), and back. */
py::tuple survey_cells_state(const pipeline::survey_cells& cells);
pipeline::survey_cells survey_cells_of_state(const py::tuple& state);
void register_lifecycle(py::module_& module);
void register_basket(py::module_& module);

}  // namespace crmkit::python
