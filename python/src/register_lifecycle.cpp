#include <crmkit/core/error.hpp>
#include <crmkit/lifecycle.hpp>

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"

namespace crmkit::python {

namespace {

using namespace pybind11::literals;

template <class Enum>
py::array_t<std::uint8_t> codes(const std::vector<Enum>& values) {
  auto out = new_array<std::uint8_t>(values.size());
  auto* data = out.mutable_data();
  for (std::size_t i = 0; i < values.size(); ++i) data[i] = static_cast<std::uint8_t>(values[i]);
  return out;
}

/** The log's columns as spans; they stay valid while the arrays are alive. */
lifecycle::log_view view(const int64_array& customer, const int64_array& timestamp,
                         const std::optional<double_array>& amount, std::int64_t ticks_per_second) {
  return {as_span(customer), as_span(timestamp),
          amount ? as_span(*amount) : std::span<const double>{}, ticks_per_second};
}

lifecycle::stage_options options(const lifecycle::stage_rules& rules, const int64_array& prospects,
                                 const std::optional<std::string>& model_kind,
                                 const std::vector<double>& model_params, double model_time_unit,
                                 double unit_tolerance, std::size_t min_repeat_buyers) {
  lifecycle::stage_options result{
      .rules = rules, .model = std::nullopt, .prospects = as_span(prospects)};
  if (!model_kind) return result;
  if (model_params.size() != 4) {
    throw invalid_input(
        fmt::format("model_params has {} values; r, alpha, a, b are needed", model_params.size()));
  }
  lifecycle::alive_model model;
  model.time_unit = model_time_unit;
  model.unit_tolerance = unit_tolerance;
  model.min_repeat_buyers = min_repeat_buyers;
  const auto& p = model_params;
  if (*model_kind == "bg_nbd") {
    model.params = clv::bg_nbd_params{p[0], p[1], p[2], p[3]};
  } else if (*model_kind == "mbg_nbd") {
    model.params = clv::mbg_nbd_params{p[0], p[1], p[2], p[3]};
  } else {
    throw invalid_input(
        fmt::format("model_kind = '{}' must be 'bg_nbd' or 'mbg_nbd'", *model_kind));
  }
  result.model = model;
  return result;
}

/** Arguments every stage function shares, after the log. */
#define CRMKIT_STAGE_ARGUMENTS                                                                     \
  "rules"_a, "prospects"_a, "model_kind"_a = py::none(), "model_params"_a = std::vector<double>{}, \
                            "model_time_unit"_a = 1.0, "unit_tolerance"_a = 3.0,                   \
                            "min_repeat_buyers"_a = 30

}  // namespace

void register_lifecycle(py::module_& module) {
  py::class_<lifecycle::stage_rules>(
      module, "StageRules", "Thresholds of the stage rules (crmkit::lifecycle::stage_rules).")
      .def(py::init<>())
      .def_property(
          "freq",
          [](const lifecycle::stage_rules& r) { return std::string(data::period_code(r.freq)); },
          [](lifecycle::stage_rules& r, const std::string& code) {
            r.freq = data::parse_period_unit(code, "freq");
          })
      .def_readwrite("at_risk_gaps", &lifecycle::stage_rules::at_risk_gaps)
      .def_readwrite("churn_gaps", &lifecycle::stage_rules::churn_gaps)
      .def_readwrite("trend_threshold", &lifecycle::stage_rules::trend_threshold)
      .def_readwrite("window_gaps", &lifecycle::stage_rules::window_gaps)
      .def_readwrite("min_window", &lifecycle::stage_rules::min_window)
      .def_readwrite("stable_min_purchases", &lifecycle::stage_rules::stable_min_purchases)
      .def_readwrite("new_max_purchases", &lifecycle::stage_rules::new_max_purchases)
      .def_readwrite("new_tenure_gaps", &lifecycle::stage_rules::new_tenure_gaps)
      .def_readwrite("own_gap_min_purchases", &lifecycle::stage_rules::own_gap_min_purchases)
      .def_readwrite("reactivated_max_purchases",
                     &lifecycle::stage_rules::reactivated_max_purchases)
      .def_readwrite("p_alive_at_risk", &lifecycle::stage_rules::p_alive_at_risk)
      .def_readwrite("p_alive_churned", &lifecycle::stage_rules::p_alive_churned)
      .def_readwrite("population_gap", &lifecycle::stage_rules::population_gap);

  std::vector<std::string> stages, rules;
  for (std::size_t s = 0; s < lifecycle::stage_count; ++s) {
    stages.emplace_back(lifecycle::stage_name(static_cast<lifecycle::stage>(s)));
  }
  for (std::size_t r = 0; r < lifecycle::stage_rule_count; ++r) {
    rules.emplace_back(lifecycle::stage_rule_name(static_cast<lifecycle::stage_rule>(r)));
  }
  module.attr("STAGES") = py::tuple(py::cast(stages));
  module.attr("RULES") = py::tuple(py::cast(rules));

  module.def(
      "classify",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         std::optional<std::int64_t> as_of, const lifecycle::stage_rules& rules,
         const int64_array& prospects, const std::optional<std::string>& model_kind,
         const std::vector<double>& model_params, double model_time_unit, double unit_tolerance,
         std::size_t min_repeat_buyers) {
        const auto settings = options(rules, prospects, model_kind, model_params, model_time_unit,
                                      unit_tolerance, min_repeat_buyers);
        std::optional<lifecycle::stage_table> table;
        {
          // Safe: only C++ objects and the buffers of arrays the arguments keep alive are used.
          const py::gil_scoped_release release;
          table = lifecycle::classify(view(customer, timestamp, amount, ticks_per_second), settings,
                                      as_of);
        }
        py::dict out;
        out["customer"] = numpy_copy(table->customer);
        out["stage"] = codes(table->stages);
        out["rule"] = codes(table->rules);
        out["purchases"] = numpy_copy(table->purchases);
        out["tenure"] = numpy_copy(table->tenure);
        out["recency"] = numpy_copy(table->recency);
        out["typical_gap"] = numpy_copy(table->typical_gap);
        out["own_gap"] = numpy_copy(table->own_gap);
        out["window"] = numpy_copy(table->window);
        out["rate_trend"] = numpy_copy(table->rate_trend);
        out["spend_trend"] = numpy_copy(table->spend_trend);
        out["p_alive"] = numpy_copy(table->p_alive);
        out["expected_purchases"] = numpy_copy(table->expected_purchases);
        out["total_spend"] = numpy_copy(table->total_spend);
        out["last_win_back"] = numpy_copy(table->last_win_back);
        out["as_of"] = table->as_of;
        out["population_gap"] = table->population_gap;
        out["model_time_scale"] = table->model_time_scale;
        out["rows_used"] = table->rows_used;
        out["rows_after"] = table->rows_after;
        out["warnings"] = table->warnings;
        return out;
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "as_of"_a,
      CRMKIT_STAGE_ARGUMENTS,
      R"doc(Stages as of one date (crmkit::lifecycle::classify). Returns a dict of numpy arrays
(customer keys ascending, stage and rule codes indexing STAGES and RULES, the rules' inputs) and
scalars. Use crmkit.lifecycle_stages.)doc");

  module.def(
      "classify_history",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         const int64_array& dates, const lifecycle::stage_rules& rules,
         const int64_array& prospects, const std::optional<std::string>& model_kind,
         const std::vector<double>& model_params, double model_time_unit, double unit_tolerance,
         std::size_t min_repeat_buyers) {
        const auto settings = options(rules, prospects, model_kind, model_params, model_time_unit,
                                      unit_tolerance, min_repeat_buyers);
        std::optional<lifecycle::stage_history> history;
        std::vector<double> days;
        {
          const py::gil_scoped_release release;
          history = lifecycle::classify_history(view(customer, timestamp, amount, ticks_per_second),
                                                as_span(dates), settings);
          days = lifecycle::time_in_stage(*history);
        }
        py::dict out;
        out["customer"] = numpy_copy(history->customer);
        out["stage"] = codes(history->stages);
        out["present"] = numpy_copy(history->present);
        out["population_gap"] = numpy_copy(history->population_gap);
        out["days_in_stage"] = numpy_copy(days);
        out["warnings"] = history->warnings;
        return out;
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "dates"_a,
      CRMKIT_STAGE_ARGUMENTS,
      R"doc(Stages at several dates (crmkit::lifecycle::classify_history) and days in each stage
(time_in_stage). stage and present are date-major (dates x customers); days_in_stage is
customer-major (customers x 7). Use crmkit.stage_history / crmkit.time_in_stage.)doc");

  module.def(
      "stage_migration",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         std::int64_t start, std::int64_t end, const lifecycle::stage_rules& rules,
         const int64_array& prospects, const std::optional<std::string>& model_kind,
         const std::vector<double>& model_params, double model_time_unit, double unit_tolerance,
         std::size_t min_repeat_buyers) {
        const auto settings = options(rules, prospects, model_kind, model_params, model_time_unit,
                                      unit_tolerance, min_repeat_buyers);
        lifecycle::migration_matrix matrix;
        {
          const py::gil_scoped_release release;
          matrix = lifecycle::stage_migration(view(customer, timestamp, amount, ticks_per_second),
                                              start, end, settings);
        }
        py::array_t<std::uint64_t> counts({lifecycle::stage_count + 1, lifecycle::stage_count});
        auto cells = counts.mutable_unchecked<2>();
        for (std::size_t r = 0; r <= lifecycle::stage_count; ++r) {
          for (std::size_t c = 0; c < lifecycle::stage_count; ++c) {
            cells(static_cast<py::ssize_t>(r), static_cast<py::ssize_t>(c)) = matrix.counts[r][c];
          }
        }
        return counts;
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "start"_a, "end"_a,
      CRMKIT_STAGE_ARGUMENTS,
      R"doc(Transition counts (8 x 7: rows the stages at start plus 'unobserved', columns the
stages at end) (crmkit::lifecycle::stage_migration). Use crmkit.stage_migration.)doc");

  module.def(
      "cohort_retention",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         const std::string& freq, std::optional<std::int64_t> as_of) {
        const auto unit = data::parse_period_unit(freq);
        std::optional<lifecycle::cohort_table> table;
        {
          const py::gil_scoped_release release;
          table = lifecycle::cohort_retention(view(customer, timestamp, amount, ticks_per_second),
                                              unit, as_of);
        }
        py::dict out;
        out["cohort"] = numpy_copy(table->cohort);
        out["offsets"] = table->offsets;
        out["size"] = numpy_copy(table->size);
        out["active"] = numpy_copy(table->active);
        out["revenue"] =
            table->revenue.empty() ? py::object(py::none()) : numpy_copy(table->revenue);
        out["observed"] = numpy_copy(table->observed);
        return out;
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "freq"_a = "M",
      "as_of"_a = py::none(),
      R"doc(Acquisition-cohort retention (crmkit::lifecycle::cohort_retention): cohort starts,
sizes and cohort-major active / revenue / observed cells. Use crmkit.cohort_retention.)doc");

  module.def(
      "funnel_rates",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         const std::string& freq, std::optional<std::int64_t> as_of,
         const lifecycle::stage_rules& rules, const int64_array& prospects,
         const std::optional<std::string>& model_kind, const std::vector<double>& model_params,
         double model_time_unit, double unit_tolerance, std::size_t min_repeat_buyers) {
        const auto settings = options(rules, prospects, model_kind, model_params, model_time_unit,
                                      unit_tolerance, min_repeat_buyers);
        const auto unit = data::parse_period_unit(freq);
        std::optional<lifecycle::funnel_table> table;
        {
          const py::gil_scoped_release release;
          table = lifecycle::funnel_rates(view(customer, timestamp, amount, ticks_per_second),
                                          settings, unit, as_of);
        }
        py::dict out;
        out["period"] = numpy_copy(table->period);
        const std::pair<const char*, const std::vector<std::uint64_t>*> counts[] = {
            {"active", &table->active},
            {"acquired", &table->acquired},
            {"prospect_pool", &table->prospect_pool},
            {"prospects_acquired", &table->prospects_acquired},
            {"acquisition_rate", nullptr},
            {"conversion_pool", &table->conversion_pool},
            {"converted", &table->converted},
            {"conversion_rate", nullptr},
            {"previous_active", &table->previous_active},
            {"retained", &table->retained},
            {"retention_rate", nullptr},
            {"churn_pool", &table->churn_pool},
            {"churned", &table->churned},
            {"churn_rate", nullptr},
            {"churned_pool", &table->churned_pool},
            {"won_back", &table->won_back},
            {"win_back_rate", nullptr}};
        for (const auto& [name, column] : counts) {
          if (column != nullptr) out[name] = numpy_copy(*column);
        }
        out["acquisition_rate"] = numpy_copy(table->acquisition_rate);
        out["conversion_rate"] = numpy_copy(table->conversion_rate);
        out["retention_rate"] = numpy_copy(table->retention_rate);
        out["churn_rate"] = numpy_copy(table->churn_rate);
        out["win_back_rate"] = numpy_copy(table->win_back_rate);
        out["warnings"] = table->warnings;
        return out;
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "freq"_a, "as_of"_a,
      CRMKIT_STAGE_ARGUMENTS,
      R"doc(Funnel counts and rates per period (crmkit::lifecycle::funnel_rates), as a dict of
numpy arrays in column order. Use crmkit.funnel_rates.)doc");

  module.def(
      "early_warning",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t ticks_per_second,
         std::int64_t since, std::optional<std::int64_t> as_of, const int64_array& value_customer,
         const double_array& value, const lifecycle::stage_rules& rules,
         const int64_array& prospects, const std::optional<std::string>& model_kind,
         const std::vector<double>& model_params, double model_time_unit, double unit_tolerance,
         std::size_t min_repeat_buyers) {
        const auto settings = options(rules, prospects, model_kind, model_params, model_time_unit,
                                      unit_tolerance, min_repeat_buyers);
        std::optional<lifecycle::warning_list> list;
        {
          const py::gil_scoped_release release;
          list =
              lifecycle::early_warning(view(customer, timestamp, amount, ticks_per_second), since,
                                       as_of, as_span(value_customer), as_span(value), settings);
        }
        py::dict out;
        out["customer"] = numpy_copy(list->customer);
        out["before"] = codes(list->before);
        out["had_stage"] = numpy_copy(list->had_stage);
        out["rule"] = codes(list->rule);
        out["value_at_risk"] = numpy_copy(list->value_at_risk);
        out["recency"] = numpy_copy(list->recency);
        out["typical_gap"] = numpy_copy(list->typical_gap);
        out["p_alive"] = numpy_copy(list->p_alive);
        out["expected_purchases"] = numpy_copy(list->expected_purchases);
        out["missing_values"] = list->missing_values;
        out["warnings"] = list->warnings;
        return out;
      },
      "customer"_a, "timestamp"_a, "amount"_a, "ticks_per_second"_a, "since"_a, "as_of"_a,
      "value_customer"_a, "value"_a, CRMKIT_STAGE_ARGUMENTS,
      R"doc(Customers who moved into decline, ranked by value at risk
(crmkit::lifecycle::early_warning). Use crmkit.early_warning.)doc");
}

}  // namespace crmkit::python
