#include <crmkit/data/simulate.hpp>
#include <crmkit/data/summary.hpp>

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bindings.hpp"

namespace crmkit::python {

namespace {

/**
 * Hands a C++ result to Python without copying: the result moves into a capsule, and every
 * column becomes a numpy array viewing its memory with the capsule as base (kept alive by numpy).
 */
template <class Result>
class exported {
 public:
  explicit exported(Result&& result)
      : result_(new Result(std::move(result))),
        base_(result_, [](void* owned) { delete static_cast<Result*>(owned); }) {}

  const Result& operator*() const noexcept { return *result_; }
  const Result* operator->() const noexcept { return result_; }

  /** The column as a numpy array, or None when it is empty (an absent optional column). */
  template <class T>
  py::object column(const std::vector<T>& values) const {
    if (values.empty()) return py::none();
    return py::array_t<T>(static_cast<py::ssize_t>(values.size()), values.data(), base_);
  }

 private:
  Result* result_;
  py::capsule base_;
};

/**
 * Runs `compute` with the GIL released and exports its result. Safe: the computation touches
 * only C++ objects and the buffers of arrays that the caller's arguments keep alive.
 */
template <class Compute>
auto export_without_gil(Compute&& compute) {
  using Result = std::invoke_result_t<Compute&>;
  std::optional<Result> result;
  {
    const py::gil_scoped_release release;
    result.emplace(compute());
  }
  return exported<Result>(std::move(*result));
}

py::dict summary_columns(const exported<data::customer_summary>& summary) {
  const data::customer_summary& columns = *summary;
  py::dict out;
  out["customer"] = summary.column(columns.customer);
  out["frequency"] = summary.column(columns.frequency);
  out["recency"] = summary.column(columns.recency);
  out["T"] = summary.column(columns.T);
  out["monetary_value"] = summary.column(columns.monetary_value);
  out["observation_period_end"] = columns.observation_period_end;
  out["rows_used"] = columns.rows_used;
  out["rows_after_end"] = columns.rows_after_end;
  out["customers_after_end"] = columns.customers_after_end;
  return out;
}

}  // namespace

void register_data(py::module_& module) {
  using namespace pybind11::literals;

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
        return summary_columns(export_without_gil([&] {
          return data::summarize(as_span(customer), as_span(timestamp), optional_span(amount),
                                 options);
        }));
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
        const auto result = export_without_gil([&] {
          return data::calibration_and_holdout(as_span(customer), as_span(timestamp),
                                               optional_span(amount), options);
        });
        py::dict out;
        out["customer"] = result.column(result->calibration.customer);
        out["frequency_cal"] = result.column(result->calibration.frequency);
        out["recency_cal"] = result.column(result->calibration.recency);
        out["T_cal"] = result.column(result->calibration.T);
        out["monetary_value_cal"] = result.column(result->calibration.monetary_value);
        out["frequency_holdout"] = result.column(result->frequency_holdout);
        out["monetary_value_holdout"] = result.column(result->monetary_value_holdout);
        out["duration_holdout"] = result->duration_holdout;
        out["calibration_period_end"] = result->calibration.observation_period_end;
        out["observation_period_end"] = result->observation_period_end;
        out["rows_calibration"] = result->calibration.rows_used;
        out["rows_holdout"] = result->rows_holdout;
        out["rows_after_end"] = result->rows_after_end;
        out["customers_excluded"] = result->calibration.customers_after_end;
        return out;
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
      [](std::size_t customers, double r, double alpha, double a, double b, double p, double q,
         double gamma, double acquisition_periods, double horizon, std::uint64_t seed,
         std::size_t max_transactions) {
        const data::simulation_options options{.customers = customers,
                                               .r = r,
                                               .alpha = alpha,
                                               .a = a,
                                               .b = b,
                                               .p = p,
                                               .q = q,
                                               .gamma = gamma,
                                               .acquisition_periods = acquisition_periods,
                                               .horizon = horizon,
                                               .seed = seed,
                                               .max_transactions = max_transactions};
        const auto result =
            export_without_gil([&] { return data::simulate_transactions(options); });
        py::dict out;
        out["customer"] = result.column(result->customer);
        out["time"] = result.column(result->time);
        out["amount"] = result.column(result->amount);
        out["lambda"] = result.column(result->lambda);
        out["dropout"] = result.column(result->dropout);
        out["nu"] = result.column(result->nu);
        out["birth"] = result.column(result->birth);
        out["death"] = result.column(result->death);
        out["alive"] = result.column(result->alive);
        return out;
      },
      "customers"_a, "r"_a, "alpha"_a, "a"_a, "b"_a, "p"_a, "q"_a, "gamma"_a,
      "acquisition_periods"_a, "horizon"_a, "seed"_a, "max_transactions"_a = 100'000'000,
      R"doc(A BG/NBD + Gamma-Gamma transaction log with its truth (crmkit::data::simulate_transactions).

Returns a dict of numpy arrays: per row customer, time (periods), amount; per customer lambda,
dropout, nu, birth, death (inf while alive), alive. Use crmkit.simulate_transactions.)doc");
}

}  // namespace crmkit::python
