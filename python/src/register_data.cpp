#include <crmkit/data/simulate.hpp>
#include <crmkit/data/summary.hpp>

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bindings.hpp"
#include "schema.hpp"

namespace crmkit::python {

void register_data(py::module_& module) {
  using namespace pybind11::literals;
  bind_struct<data::simulation_options>(
      module, "SimulationOptions",
      "Settings of simulate_transactions (crmkit::data::simulation_options).");
  record_schema<data::customer_summary>(module, "CustomerSummary", {"summarize"});
  record_schema<data::calibration_holdout_summary>(module, "CalibrationHoldoutSummary",
                                                   {"calibration_and_holdout"});
  record_schema<data::simulated_transactions>(module, "SimulatedTransactions",
                                              {"simulate_transactions"});

  module.def(
      "summarize",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, const std::string& freq, double freq_multiplier,
         std::optional<std::int64_t> observation_period_end, bool include_first_transaction,
         std::int64_t ticks_per_second) {
        const data::summary_options options{.freq = data::parse_period_unit(freq),
                                            .freq_multiplier = freq_multiplier,
                                            .observation_period_end = observation_period_end,
                                            .include_first_transaction = include_first_transaction,
                                            .ticks_per_second = ticks_per_second};
        return export_without_gil([&] {
          return data::summarize(as_span(customer), as_span(timestamp), optional_span(amount),
                                 options);
        });
      },
      "customer"_a, "timestamp"_a, "amount"_a, "freq"_a = "D", "freq_multiplier"_a = 1.0,
      "observation_period_end"_a = py::none(), "include_first_transaction"_a = false,
      "ticks_per_second"_a = 1,
      R"doc(Per-customer frequency / recency / T / monetary value (crmkit::data::summarize).

customer: int64 keys; timestamp: int64 ticks since 1970-01-01 (ticks_per_second 1 for
seconds, 1e9 for datetime64[ns]); amount: float64 or None. Returns a dict of numpy arrays
(customer keys ascending; monetary_value None without amounts) and the counts rows_used,
rows_after_end, customers_after_end, plus observation_period_end (ticks). Use
crmkit.summary_data_from_transaction_data, which takes and returns DataFrames.)doc");

  module.def(
      "calibration_and_holdout",
      [](const int64_array& customer, const int64_array& timestamp,
         const std::optional<double_array>& amount, std::int64_t calibration_period_end,
         std::optional<std::int64_t> observation_period_end, const std::string& freq,
         double freq_multiplier, bool include_first_transaction, std::int64_t ticks_per_second) {
        const data::holdout_options options{.freq = data::parse_period_unit(freq),
                                            .freq_multiplier = freq_multiplier,
                                            .calibration_period_end = calibration_period_end,
                                            .observation_period_end = observation_period_end,
                                            .include_first_transaction = include_first_transaction,
                                            .ticks_per_second = ticks_per_second};
        return export_without_gil([&] {
          return data::calibration_and_holdout(as_span(customer), as_span(timestamp),
                                               optional_span(amount), options);
        });
      },
      "customer"_a, "timestamp"_a, "amount"_a, "calibration_period_end"_a,
      "observation_period_end"_a = py::none(), "freq"_a = "D", "freq_multiplier"_a = 1.0,
      "include_first_transaction"_a = false, "ticks_per_second"_a = 1,
      R"doc(Calibration summary and holdout outcomes (crmkit::data::calibration_and_holdout).

Arguments as for summarize, plus calibration_period_end (ticks). Returns a dict of numpy arrays
(customer, frequency_cal, recency_cal, T_cal, monetary_value_cal, frequency_holdout,
monetary_value_holdout) and duration_holdout, both period ends (ticks) and row / customer counts.
Use crmkit.calibration_and_holdout_data.)doc");

  module.def(
      "simulate_transactions",
      [](const data::simulation_options& options) {
        return export_without_gil([&] { return data::simulate_transactions(options); });
      },
      "options"_a,
      R"doc(A BG/NBD + Gamma-Gamma transaction log with its truth (crmkit::data::simulate_transactions).

Returns a dict of numpy arrays: per row customer, time (periods), amount; per customer lambda,
dropout, nu, birth, death (inf while alive), alive. Use crmkit.simulate_transactions.)doc");
}

}  // namespace crmkit::python
