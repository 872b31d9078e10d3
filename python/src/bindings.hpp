#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <span>

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

/** A new 1-d numpy array of `size` elements that the caller fills. */
template <class T>
py::array_t<T> new_array(std::size_t size) {
  return py::array_t<T>(static_cast<py::ssize_t>(size));
}

void register_core(py::module_& module);
void register_data(py::module_& module);
void register_data_io(py::module_& module);
void register_clv(py::module_& module);
void register_segment(py::module_& module);
void register_survey(py::module_& module);
void register_lifecycle(py::module_& module);

}  // namespace crmkit::python
