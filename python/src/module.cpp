#include "bindings.hpp"

namespace crmkit::python {
void register_pipeline(py::module_& module);
}

PYBIND11_MODULE(_core, module) {
  using namespace crmkit::python;
  module.doc() = "crmkit's compiled core. Use the `crmkit` package; this module is its engine.";
  module.attr("__version__") = CRMKIT_VERSION;
  register_core(module);
  auto data = module.def_submodule("data", "Transaction logs and per-customer summaries.");
  register_data(data);
  register_data_io(data);
  auto clv = module.def_submodule("clv", "Customer lifetime value models.");
  register_clv(clv);
  register_intervals(clv);
  auto segment = module.def_submodule("segment", "k-means, RFM and value tiers.");
  register_segment(segment);
  auto survey = module.def_submodule("survey", "NPS, CSAT and CES statistics.");
  register_survey(survey);
  auto lifecycle = module.def_submodule("lifecycle", "Relationship lifecycle stages.");
  register_lifecycle(lifecycle);
  auto basket = module.def_submodule("basket", "Cross-sell: baskets, frequent itemsets, rules.");
  register_basket(basket);
  auto pipeline = module.def_submodule("pipeline", "The whole customer analysis (the report).");
  register_pipeline(pipeline);
}
