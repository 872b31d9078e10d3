#include <crmkit/core.hpp>

#include <exception>
#include <string>

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
}

}  // namespace crmkit::python
