#include "bindings.hpp"

namespace crmkit::python {

void register_survey(py::module_& /*module*/) {}

}  // namespace crmkit::python
