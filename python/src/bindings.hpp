#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace crmkit::python {

namespace py = pybind11;

/** A C-contiguous float64 array, converted from any numeric sequence. */
using double_array = py::array_t<double, py::array::c_style | py::array::forcecast>;
/** A C-contiguous int64 array, converted from any integer sequence. */
using int64_array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

template <class T>
std::span<const T> as_span(const py::array_t<T, py::array::c_style | py::array::forcecast>& array) {
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

/** A numpy array that takes over the vector's buffer, without copying it. */
template <class T>
py::array_t<T> numpy_adopt(std::vector<T>&& values) {
  auto owner = std::make_unique<std::vector<T>>(std::move(values));
  const py::capsule release(owner.get(),
                            [](void* vector) { delete static_cast<std::vector<T>*>(vector); });
  std::vector<T>& kept = *owner.release();
  return py::array_t<T>(static_cast<py::ssize_t>(kept.size()), kept.data(), release);
}

void register_core(py::module_& module);
void register_data(py::module_& module);
void register_data_io(py::module_& module);
void register_clv(py::module_& module);
void register_segment(py::module_& module);
void register_survey(py::module_& module);
void register_lifecycle(py::module_& module);

}  // namespace crmkit::python
