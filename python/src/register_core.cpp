#include <crmkit/core.hpp>

#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "schema.hpp"

namespace crmkit::python {

namespace {

/**
 * One translation of crmkit's errors: parse_error -> ParseError (a ValueError with file, line and
 * column attributes), invalid_input -> ValueError, numerical_error -> RuntimeError.
 */
void register_errors(py::module_& module) {
  static py::handle parse_error_type =
      PyErr_NewExceptionWithDoc("crmkit._core.ParseError",
                                "Bad text input; `file`, `line` and `column` say where (1-based; "
                                "0 when unknown).",
                                PyExc_ValueError, nullptr);
  module.attr("ParseError") = parse_error_type;
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const parse_error& error) {
      py::object instance = py::reinterpret_borrow<py::object>(parse_error_type)(error.what());
      instance.attr("file") = error.file();
      instance.attr("line") = error.line();
      instance.attr("column") = error.column();
      PyErr_SetObject(parse_error_type.ptr(), instance.ptr());
    } catch (const invalid_input& error) {
      PyErr_SetString(PyExc_ValueError, error.what());
    } catch (const numerical_error& error) {
      PyErr_SetString(PyExc_RuntimeError, error.what());
    }
  });
}

/** Bits below the least subnormal (2^-1074) in exact_sums' units of 2^-1127. */
constexpr int exact_unit_shift = 53;

/** An exact sum as a Python int in units of 2^-1127 (its limbs as one two's-complement number). */
py::object python_units(const full_range_sum& sum) {
  const auto limbs = sum.limbs();
  std::string bytes;
  bytes.reserve(4 * (limbs.size() - 1) + 8);
  for (std::size_t k = 0; k < limbs.size(); ++k) {
    const auto digit = static_cast<std::uint64_t>(limbs[k]);
    for (std::size_t b = 0; b < (k + 1 < limbs.size() ? 4u : 8u); ++b) {
      bytes.push_back(static_cast<char>((digit >> (8 * b)) & 0xff));
    }
  }
  const py::object from_bytes = py::reinterpret_borrow<py::object>(
      reinterpret_cast<PyObject*>(&PyLong_Type)).attr("from_bytes");
  using namespace pybind11::literals;
  return from_bytes(py::bytes(bytes), "little", "signed"_a = true)
      .attr("__lshift__")(exact_unit_shift);
}

/** The exact sums (full_range_sum) of values[0:ends[0]], values[ends[0]:ends[1]], ... */
py::list exact_sums(const double_array& values, const int64_array& ends) {
  const auto view = as_span(values);
  const auto stops = as_span(ends);
  std::vector<full_range_sum> running;  // the sums of values[0:end] for every end
  running.reserve(stops.size());
  std::size_t bad_end = stops.size();
  std::size_t bad_value = view.size();
  {
    py::gil_scoped_release release;
    full_range_columns column(1);
    std::size_t start = 0;
    for (std::size_t k = 0; k < stops.size() && bad_value == view.size(); ++k) {
      if (stops[k] < static_cast<std::int64_t>(start) ||
          stops[k] > static_cast<std::int64_t>(view.size())) {
        bad_end = k;
        break;
      }
      const auto stop = static_cast<std::size_t>(stops[k]);
      for (std::size_t i = start; i < stop; ++i) {
        if (!std::isfinite(view[i])) {
          bad_value = i;
          break;
        }
        column.add(0, view[i]);
      }
      running.push_back(column.sums()[0]);
      start = stop;
    }
  }
  if (bad_end < stops.size()) {
    throw py::value_error("ends: end " + std::to_string(stops[bad_end]) + " at position " +
                          std::to_string(bad_end) + " is not between the previous end and " +
                          "len(values) = " + std::to_string(view.size()));
  }
  if (bad_value < view.size()) {
    throw py::value_error("values: value " + py::repr(py::float_(view[bad_value])).cast<std::string>() +
                          " at position " + std::to_string(bad_value) + " is not finite");
  }
  py::list out;
  py::object previous = py::int_(0);
  for (const auto& sum : running) {
    py::object total = python_units(sum);
    out.append(total - previous);
    previous = std::move(total);
  }
  return out;
}

}  // namespace

void register_core(py::module_& module) {
  using namespace pybind11::literals;
  register_errors(module);
  module.attr("WARNING_CODES") = enum_names<warning_code>();
  module.def("num_threads", &crmkit::num_threads,
             "The number of threads crmkit's parallel loops use.");
  module.def("set_num_threads", &crmkit::set_num_threads, "count"_a,
             "Sets the number of threads crmkit's parallel loops use; 0 restores the default\n"
             "(environment variable CRMKIT_NUM_THREADS, else the number of cores). Results do\n"
             "not depend on it: every reduction is done in a fixed order.");
  module.def(
      "_parallel_sum",
      [](const double_array& values, std::size_t grain) {
        auto view = as_span(values);
        return crmkit::parallel_reduce(
            view.size(), 0.0,
            [&](std::size_t begin, std::size_t end) {
              double sum = 0;
              for (std::size_t i = begin; i < end; ++i) sum += view[i];
              return sum;
            },
            [](double total, double part) { return total + part; }, grain);
      },
      "values"_a, "grain"_a = crmkit::default_grain,
      "Sum of `values` through the deterministic parallel reduction (used to test it).");
  module.def("exact_sums", &exact_sums, "values"_a, "ends"_a,
             "The exact sums of values[0:ends[0]], values[ends[0]:ends[1]], ... (finite doubles;\n"
             "`ends` non-decreasing) as Python ints in units of 2^-1127, every finite double being\n"
             "a whole number of them: crmkit/core/exact_sum.hpp's full_range_sum, so independent\n"
             "of the order of addition (sums of parts add up to the sum of the whole).");
}

}  // namespace crmkit::python
