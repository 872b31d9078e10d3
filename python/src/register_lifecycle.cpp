#include <crmkit/lifecycle.hpp>

#include <optional>
#include <vector>

#include "bindings.hpp"
#include "schema.hpp"

namespace crmkit::python {

namespace {

using namespace pybind11::literals;

/** The log's columns as spans; they stay valid while the arrays are alive. */
lifecycle::log_view view(const int64_array& customer, const int64_array& timestamp,
                         const std::optional<double_array>& amount, std::int64_t ticks_per_second) {
  return {as_span(customer), as_span(timestamp),
          amount ? as_span(*amount) : std::span<const double>{}, ticks_per_second};
}

/** lifecycle::stage_options with its prospects held as a numpy array (the C++ struct views it). */
struct stage_settings {
  lifecycle::stage_rules rules;
  std::optional<lifecycle::alive_model> model;
  int64_array prospects = int64_array(0);

  [[nodiscard]] lifecycle::stage_options options() const {
    return {.rules = rules, .model = model, .prospects = as_span(prospects)};
  }
};

/** Runs `compute(log, options)` without the GIL and exports its result. */
template <class Compute>
py::dict staged(const int64_array& customer, const int64_array& timestamp,
                const std::optional<double_array>& amount, std::int64_t ticks_per_second,
                const stage_settings& settings, Compute&& compute) {
  const auto options = settings.options();
  const auto log = view(customer, timestamp, amount, ticks_per_second);
  return export_without_gil([&] { return compute(log, options); });
}

}  // namespace

void register_lifecycle(py::module_& module) {
  bind_struct<lifecycle::stage_rules>(
      module, "StageRules", "Thresholds of the stage rules (crmkit::lifecycle::stage_rules).");
  bind_struct<lifecycle::alive_model>(
      module, "AliveModel",
      "A fitted BG/NBD, MBG/NBD or Pareto/NBD model refining decline and churn "
      "(crmkit::lifecycle::alive_model); params is a crmkit._core.clv.BgNbdParams, "
      "MbgNbdParams or ParetoNbdParams.")
      .def(py::init(
               [](clv::transaction_model_params params, double time_unit) {
                 lifecycle::alive_model model;
                 model.params = params;
                 model.time_unit = time_unit;
                 return model;
               }),
           "params"_a, "time_unit"_a = 1.0)
      .def_readwrite("params", &lifecycle::alive_model::params, "the fitted model's parameters");
  py::class_<stage_settings>(module, "StageOptions",
                             "Rules, optional model and prospects of a stage computation "
                             "(crmkit::lifecycle::stage_options).")
      .def(py::init<lifecycle::stage_rules, std::optional<lifecycle::alive_model>, int64_array>(),
           "rules"_a = lifecycle::stage_rules{}, "model"_a = py::none(),
           "prospects"_a = int64_array(0))
      .def_readwrite("rules", &stage_settings::rules)
      .def_readwrite("model", &stage_settings::model)
      .def_readwrite("prospects", &stage_settings::prospects);

  module.attr("STAGES") = enum_names<lifecycle::stage>();
  module.attr("RULES") = enum_names<lifecycle::stage_rule>();
  record_schema<lifecycle::stage_table>(module, "StageTable", {"classify"});
  record_schema<lifecycle::stage_history>(module, "StageHistory");
  record_schema<lifecycle::cohort_table>(module, "CohortTable", {"cohort_retention"});
  record_schema<lifecycle::funnel_table>(module, "FunnelTable", {"funnel_rates"});
  record_schema<lifecycle::warning_list>(module, "WarningList", {"early_warning"});
  record_schema<lifecycle::migration_matrix>(module, "MigrationMatrix");

  module.def(
      "classify",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         std::optional<std::int64_t> as_of, const stage_settings& options) {
        return staged(customer, timestamp, amount, ticks_per_second, options,
                      [&](const auto& log, const auto& settings) {
                        return lifecycle::classify(log, settings, as_of);
                      });
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "as_of"_a, "options"_a,
      R"doc(Stages as of one date (crmkit::lifecycle::classify). Returns the fields of StageTable
(customer keys ascending, stage and rule codes indexing STAGES and RULES, the rules' inputs).
Use crmkit.lifecycle_stages.)doc");

  module.def(
      "classify_history",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         const int64_array& dates, const stage_settings& options) {
        std::vector<double> days;
        const auto out = staged(customer, timestamp, amount, ticks_per_second, options,
                          [&](const auto& log, const auto& settings) {
                            auto history =
                                lifecycle::classify_history(log, as_span(dates), settings);
                            days = lifecycle::time_in_stage(history);
                            return history;
                          });
        return py::make_tuple(out, numpy_adopt(std::move(days)));
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "dates"_a, "options"_a,
      R"doc(Stages at several dates (crmkit::lifecycle::classify_history): (the fields of
StageHistory, days in each stage from time_in_stage). stage and present are
date-major (dates x customers); days_in_stage is customer-major (customers x 7). Use
crmkit.stage_history / crmkit.time_in_stage.)doc");

  module.def(
      "stage_migration",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         std::int64_t start, std::int64_t end, const stage_settings& options) {
        lifecycle::migration_matrix matrix;
        {
          const auto settings = options.options();
          const py::gil_scoped_release release;
          matrix = lifecycle::stage_migration(view(customer, timestamp, amount, ticks_per_second),
                                              start, end, settings);
        }
        return to_python(matrix.counts);
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "start"_a, "end"_a,
      "options"_a,
      R"doc(Transition counts (8 x 7: rows the stages at start plus 'unobserved', columns the
stages at end) (crmkit::lifecycle::stage_migration). Use crmkit.stage_migration.)doc");

  module.def(
      "cohort_retention",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         const std::string& freq, std::optional<std::int64_t> as_of) {
        const auto unit = data::parse_period_unit(freq);
        const auto log = view(customer, timestamp, amount, ticks_per_second);
        return export_without_gil([&] { return lifecycle::cohort_retention(log, unit, as_of); });
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "freq"_a = "M",
      "as_of"_a = py::none(),
      R"doc(Acquisition-cohort retention (crmkit::lifecycle::cohort_retention): the fields of
CohortTable (cohort starts, sizes and cohort-major active / revenue / observed cells). Use
crmkit.cohort_retention.)doc");

  module.def(
      "funnel_rates",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         const std::string& freq, std::optional<std::int64_t> as_of,
         const stage_settings& options) {
        const auto unit = data::parse_period_unit(freq);
        return staged(customer, timestamp, amount, ticks_per_second, options,
                      [&](const auto& log, const auto& settings) {
                        return lifecycle::funnel_rates(log, settings, unit, as_of);
                      });
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "freq"_a, "as_of"_a,
      "options"_a,
      R"doc(Funnel counts and rates per period (crmkit::lifecycle::funnel_rates): the fields of
FunnelTable in column order. Use crmkit.funnel_rates.)doc");

  module.def(
      "early_warning",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         std::int64_t since, std::optional<std::int64_t> as_of, const int64_array& value_customer,
         const double_array& value, const stage_settings& options) {
        return staged(customer, timestamp, amount, ticks_per_second, options,
                      [&](const auto& log, const auto& settings) {
                        return lifecycle::early_warning(log, since, as_of, as_span(value_customer),
                                                        as_span(value), settings);
                      });
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "since"_a, "as_of"_a,
      "value_customer"_a, "value"_a, "options"_a,
      R"doc(Customers who moved into decline, ranked by value at risk
(crmkit::lifecycle::early_warning): the fields of WarningList. Use crmkit.early_warning.)doc");
}

}  // namespace crmkit::python
