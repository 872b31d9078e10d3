#include "bindings.hpp"

namespace crmkit::python {

void register_lifecycle(py::module_& /*module*/) {}

}  // namespace crmkit::python
