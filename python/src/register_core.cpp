#include <crmkit/core.hpp>

#include "bindings.hpp"

namespace crmkit::python {

void register_core(py::module_& module) {
  using namespace pybind11::literals;
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
