#include "bindings.hpp"

namespace crmkit::python {

void register_clv(py::module_& /*module*/) {}

}  // namespace crmkit::python
