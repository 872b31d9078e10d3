#include <crmkit/clv.hpp>

#include <array>
#include <string>
#include <vector>

#include "bindings.hpp"

namespace crmkit::python {

namespace {

using namespace pybind11::literals;

/** Runs `compute` (returning std::vector<double>) without the GIL: the arrays it reads were
 * converted before, and it touches no Python object. The result becomes a numpy array. */
template <class Compute>
py::array_t<double> without_gil(Compute&& compute) {
  std::vector<double> out;
  {
    py::gil_scoped_release release;
    out = compute();
  }
  return numpy_copy(out);
}

template <class Params, std::size_t N>
py::dict fit_to_dict(const clv::fit_result<Params, N>& fit) {
  using model = typename clv::model_for<Params>::type;
  py::dict out;
  std::vector<std::string> names(model::names.begin(), model::names.end());
  const auto values = model::to_array(fit.params);
  py::array_t<double> covariance({N, N});
  auto view = covariance.mutable_unchecked<2>();
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = 0; j < N; ++j) {
      view(i, j) = fit.covariance(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
    }
  }
  out["names"] = names;
  out["params"] = std::vector<double>(values.begin(), values.end());
  out["standard_errors"] =
      std::vector<double>(fit.standard_errors.begin(), fit.standard_errors.end());
  out["lower"] = std::vector<double>(fit.lower.begin(), fit.lower.end());
  out["upper"] = std::vector<double>(fit.upper.begin(), fit.upper.end());
  out["covariance"] = covariance;
  out["log_likelihood"] = fit.log_likelihood;
  out["objective"] = fit.objective;
  out["gradient_norm"] = fit.gradient_norm;
  out["iterations"] = fit.iterations;
  out["evaluations"] = fit.evaluations;
  out["starts_tried"] = fit.starts_tried;
  out["converged"] = fit.converged;
  out["status"] = fit.status;
  out["warnings"] = fit.warnings;
  out["customers"] = fit.customers;
  out["patterns"] = fit.patterns;
  out["total_weight"] = fit.total_weight;
  return out;
}

clv::fit_options make_options(double penalizer_coef, double tol, std::size_t max_iterations,
                              std::vector<double> initial_params, double confidence_level) {
  clv::fit_options options;
  options.penalizer_coef = penalizer_coef;
  options.tolerance = tol;
  options.max_iterations = max_iterations;
  options.initial_params = std::move(initial_params);
  options.confidence_level = confidence_level;
  return options;
}

constexpr const char* fit_doc =
    "Maximum-likelihood fit to per-customer (frequency, recency, T) with optional weights.\n"
    "Returns a dict: names, params, standard_errors, lower, upper, covariance,\n"
    "log_likelihood, objective, gradient_norm, iterations, evaluations, starts_tried,\n"
    "converged, status, warnings, customers, patterns, total_weight.";

// BG/NBD and MBG/NBD share every binding; `prefix` names them (bg_nbd_..., mbg_nbd_...).
template <class Params, class Fit>
void register_transaction_model(py::module_& module, const std::string& prefix, Fit fit) {
  auto params_of = [](const std::array<double, 4>& v) { return Params{v[0], v[1], v[2], v[3]}; };
  module.def(("fit_" + prefix).c_str(),
             [fit](const double_array& frequency, const double_array& recency,
                   const double_array& age, const double_array& weights, double penalizer_coef,
                   double tol, std::size_t max_iterations, std::vector<double> initial_params,
                   double confidence_level) {
               const auto options = make_options(penalizer_coef, tol, max_iterations,
                                                 std::move(initial_params), confidence_level);
               py::gil_scoped_release release;  // arrays are converted; C++ only reads them
               const auto result = fit(as_span(frequency), as_span(recency), as_span(age),
                                       as_span(weights), options);
               py::gil_scoped_acquire acquire;
               return fit_to_dict(result);
             },
             "frequency"_a, "recency"_a, "T"_a, "weights"_a, "penalizer_coef"_a = 0.0,
             "tol"_a = 1e-8, "max_iterations"_a = 500, "initial_params"_a = std::vector<double>{},
             "confidence_level"_a = 0.95, fit_doc);

  module.def((prefix + "_conditional_probability_alive").c_str(),
             [params_of](const std::array<double, 4>& params, const double_array& frequency,
                         const double_array& recency, const double_array& age) {
               return without_gil([&] {
                 return clv::conditional_probability_alive(params_of(params), as_span(frequency),
                                                           as_span(recency), as_span(age));
               });
             },
             "params"_a, "frequency"_a, "recency"_a, "T"_a, "P(alive | frequency, recency, T).");

  module.def(
      (prefix + "_conditional_expected_number_of_purchases_up_to_time").c_str(),
      [params_of](const std::array<double, 4>& params, const double_array& t,
                  const double_array& frequency, const double_array& recency,
                  const double_array& age) {
        return without_gil([&] {
          return clv::conditional_expected_number_of_purchases_up_to_time(
              params_of(params), as_span(t), as_span(frequency), as_span(recency), as_span(age));
        });
      },
      "params"_a, "t"_a, "frequency"_a, "recency"_a, "T"_a,
      "Expected purchases in the next t periods given the history (t of length 1 broadcasts).");

  module.def((prefix + "_expected_number_of_purchases_up_to_time").c_str(),
             [params_of](const std::array<double, 4>& params, const double_array& t) {
               return without_gil([&] {
                 return clv::expected_number_of_purchases_up_to_time(params_of(params), as_span(t));
               });
             },
             "params"_a, "t"_a, "Expected purchases of a new customer by time t.");

  module.def(
      (prefix + "_probability_of_n_purchases_up_to_time").c_str(),
      [params_of](const std::array<double, 4>& params, const double_array& t,
                  const double_array& n) {
        std::vector<double> out;
        {
          py::gil_scoped_release release;
          out =
              clv::probability_of_n_purchases_up_to_time(params_of(params), as_span(t), as_span(n));
        }
        return numpy_copy(out);
      },
      "params"_a, "t"_a, "n"_a, "P(X(t) = n) for a new customer (t and n of length 1 broadcast).");

  module.def((prefix + "_probability_alive_matrix").c_str(),
             [params_of](const std::array<double, 4>& params, std::size_t max_frequency,
                         std::size_t max_recency) {
               return numpy_copy(
                   clv::probability_alive_matrix(params_of(params), max_frequency, max_recency));
             },
             "params"_a, "max_frequency"_a, "max_recency"_a,
             "P(alive) on the grid [recency, frequency], T = max_recency.");

  module.def((prefix + "_expected_purchases_matrix").c_str(),
             [params_of](const std::array<double, 4>& params, double t, std::size_t max_frequency,
                         std::size_t max_recency) {
               Eigen::MatrixXd out;
               {
                 py::gil_scoped_release release;
                 out = clv::expected_purchases_matrix(params_of(params), t, max_frequency,
                                                      max_recency);
               }
               return numpy_copy(out);
             },
             "params"_a, "t"_a, "max_frequency"_a, "max_recency"_a,
             "Expected purchases in the next t periods on the grid [recency, frequency], T = "
             "max_recency.");

  module.def((prefix + "_customer_lifetime_value").c_str(),
             [params_of](const std::array<double, 4>& params, const double_array& frequency,
                         const double_array& recency, const double_array& age,
                         const double_array& monetary_value, double time, double discount_rate,
                         double periods_per_month, bool continuous) {
               return without_gil([&] {
                 const auto p = params_of(params);
                 return continuous
                            ? clv::customer_lifetime_value_continuous(
                                  p, as_span(frequency), as_span(recency), as_span(age),
                                  as_span(monetary_value), time, discount_rate, periods_per_month)
                            : clv::customer_lifetime_value(p, as_span(frequency), as_span(recency),
                                                           as_span(age), as_span(monetary_value),
                                                           time, discount_rate, periods_per_month);
               });
             },
             "params"_a, "frequency"_a, "recency"_a, "T"_a, "monetary_value"_a, "time"_a,
             "discount_rate"_a, "periods_per_month"_a, "continuous"_a = false,
             "Discounted lifetime value: lifetimes' monthly DCF, or continuous discounting at a\n"
             "continuous monthly rate when continuous=True.");

  module.def((prefix + "_expected_cumulative_transactions").c_str(),
             [params_of](const std::array<double, 4>& params, const double_array& birth,
                         const double_array& customers, const double_array& times) {
               return without_gil([&] {
                 return clv::expected_cumulative_transactions(params_of(params), as_span(birth),
                                                              as_span(customers), as_span(times));
               });
             },
             "params"_a, "birth"_a, "customers"_a, "times"_a,
             "Σ over cohorts born before each time of customers · E[X(time − birth)].");

  module.def((prefix + "_calibration_vs_holdout").c_str(),
             [params_of](const std::array<double, 4>& params, const double_array& frequency,
                         const double_array& recency, const double_array& age,
                         const double_array& frequency_holdout,
                         const double_array& duration_holdout, std::size_t max_frequency) {
               std::vector<clv::calibration_holdout_row> rows;
               {
                 py::gil_scoped_release release;
                 rows = clv::calibration_vs_holdout(
                     params_of(params), as_span(frequency), as_span(recency), as_span(age),
                     as_span(frequency_holdout), as_span(duration_holdout), max_frequency);
               }
               using row = clv::calibration_holdout_row;
               py::dict out;
               out["frequency_cal"] = numpy_column(rows, [](const row& r) { return r.frequency; });
               out["customers"] = numpy_column(rows, [](const row& r) { return r.customers; });
               out["frequency_holdout"] =
                   numpy_column(rows, [](const row& r) { return r.actual_holdout; });
               out["model_predictions"] =
                   numpy_column(rows, [](const row& r) { return r.predicted_holdout; });
               return out;
             },
             "params"_a, "frequency"_a, "recency"_a, "T"_a, "frequency_holdout"_a,
             "duration_holdout"_a, "max_frequency"_a,
             "Mean actual and predicted holdout purchases by calibration frequency.");

  module.def((prefix + "_repeat_frequency_histogram").c_str(),
             [params_of](const std::array<double, 4>& params, const double_array& frequency,
                         const double_array& age, std::size_t max_frequency) {
               std::vector<clv::frequency_bin> bins;
               {
                 py::gil_scoped_release release;
                 bins = clv::repeat_frequency_histogram(params_of(params), as_span(frequency),
                                                        as_span(age), max_frequency);
               }
               using bin = clv::frequency_bin;
               py::dict out;
               out["frequency"] = numpy_column(bins, [](const bin& b) { return b.frequency; });
               out["actual"] = numpy_column(bins, [](const bin& b) { return b.actual; });
               out["expected"] = numpy_column(bins, [](const bin& b) { return b.expected; });
               return out;
             },
             "params"_a, "frequency"_a, "T"_a, "max_frequency"_a,
             "Actual vs expected (Σ_i P(X(T_i) = k)) repeat-purchase counts; the last bin is 'k or "
             "more'.");
}

}  // namespace

void register_clv(py::module_& module) {
  register_transaction_model<clv::bg_nbd_params>(
      module, "bg_nbd", [](auto... args) { return clv::fit_bg_nbd(args...); });
  register_transaction_model<clv::mbg_nbd_params>(
      module, "mbg_nbd", [](auto... args) { return clv::fit_mbg_nbd(args...); });

  module.def(
      "fit_gamma_gamma",
      [](const double_array& frequency, const double_array& monetary_value,
         const double_array& weights, double penalizer_coef, double tol, std::size_t max_iterations,
         std::vector<double> initial_params, double confidence_level) {
        const auto options = make_options(penalizer_coef, tol, max_iterations,
                                          std::move(initial_params), confidence_level);
        py::gil_scoped_release release;
        const auto result = clv::fit_gamma_gamma(as_span(frequency), as_span(monetary_value),
                                                 as_span(weights), options);
        py::gil_scoped_acquire acquire;
        return fit_to_dict(result);
      },
      "frequency"_a, "monetary_value"_a, "weights"_a, "penalizer_coef"_a = 0.0, "tol"_a = 1e-8,
      "max_iterations"_a = 500, "initial_params"_a = std::vector<double>{},
      "confidence_level"_a = 0.95,
      "Gamma-Gamma fit to repeat customers' (frequency >= 1, mean spend > 0); dict as fit_bg_nbd.");

  module.def(
      "gamma_gamma_conditional_expected_average_profit",
      [](const std::array<double, 3>& params, const double_array& frequency,
         const double_array& monetary_value) {
        return without_gil([&] {
          return clv::conditional_expected_average_profit(
              clv::gamma_gamma_params{params[0], params[1], params[2]}, as_span(frequency),
              as_span(monetary_value));
        });
      },
      "params"_a, "frequency"_a, "monetary_value"_a,
      "E[mean spend | x, m] = (p v + p x m)/(p x + q − 1); x = 0 gives p v/(q − 1); +inf where\n"
      "p x + q <= 1.");

  module.def("periods_per_month", &clv::periods_per_month, "freq"_a,
             "Periods per month for lifetimes' freq codes: D 30, W 4.345, M 1, H 720.");
}

}  // namespace crmkit::python
