#include "bindings.hpp"

namespace crmkit::python {

void register_segment(py::module_& /*module*/) {}

}  // namespace crmkit::python
