#include "bindings.hpp"

namespace crmkit::python {

void register_data_io(py::module_& /*module*/) {}

}  // namespace crmkit::python
