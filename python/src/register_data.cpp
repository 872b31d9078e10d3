#include "bindings.hpp"

namespace crmkit::python {

void register_data(py::module_& /*module*/) {}

}  // namespace crmkit::python
