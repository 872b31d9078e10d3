#include <crmkit/clv.hpp>
#include <crmkit/clv/customer_bootstrap.hpp>
#include <crmkit/clv/forecast_intervals.hpp>

#include <optional>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "schema.hpp"

namespace crmkit::python {

namespace {

using namespace pybind11::literals;
using draws_type = std::vector<std::vector<double>>;

/** A square numpy matrix as Eigen's, checked against the parameter count. */
Eigen::MatrixXd matrix_of(const double_array& array, std::size_t parameters) {
  const auto n = static_cast<py::ssize_t>(parameters);
  if (array.ndim() != 2 || array.shape(0) != n || array.shape(1) != n) {
    throw invalid_input("covariance must be a " + std::to_string(parameters) + "x" +
                        std::to_string(parameters) + " matrix");
  }
  Eigen::MatrixXd out(n, n);
  auto view = array.unchecked<2>();
  for (py::ssize_t i = 0; i < n; ++i) {
    for (py::ssize_t j = 0; j < n; ++j) out(i, j) = view(i, j);
  }
  return out;
}

template <class Params>
Params params_from(const std::vector<double>& values) {
  using model = typename clv::model_for<Params>::type;
  if (values.size() != model::size) {
    throw invalid_input(std::string(model::name) + ": params has " +
                        std::to_string(values.size()) + " values but the model has " +
                        std::to_string(model::size));
  }
  return clv::detail::params_from<model>(values);
}

/** The customer bootstrap of `Model` on validated patterns. */
template <class Model>
void def_customer_bootstrap(py::module_& module, const std::string& prefix, const char* doc,
                            auto make_patterns) {
  const std::string name = prefix + "_customer_bootstrap";
  module.def(
      name.c_str(),
      [make_patterns, name](const std::vector<double>& params, const double_array& a,
                      const double_array& b, const double_array& c, const double_array& weights,
                      const clv::fit_options& options, std::size_t draws, std::uint64_t seed) {
        return export_without_gil([&] {
          const auto rows = make_patterns(as_span(a), as_span(b), as_span(c), as_span(weights));
          return clv::customer_bootstrap<Model>(name, rows, params, options, draws, seed);
        });
      },
      "params"_a, "frequency"_a, "recency"_a, "T"_a, "weights"_a, "options"_a, "draws"_a,
      "seed"_a, doc);
}

template <class Params>
void register_transaction_intervals(py::module_& module, const std::string& prefix,
                                    bool with_value) {
  using model = typename clv::model_for<Params>::type;
  module.def(
      (prefix + "_expected_purchases_intervals").c_str(),
      [](const std::vector<double>& params, const double_array& covariance, double t,
         const double_array& frequency, const double_array& recency, const double_array& age,
         const clv::interval_options& options, const draws_type& bootstrap) {
        const auto p = params_from<Params>(params);
        const auto sigma = matrix_of(covariance, model::size);
        return export_without_gil([&] {
          return clv::expected_purchases_intervals(p, sigma, t, as_span(frequency),
                                                   as_span(recency), as_span(age), options,
                                                   bootstrap);
        });
      },
      "params"_a, "covariance"_a, "t"_a, "frequency"_a, "recency"_a, "T"_a, "options"_a,
      "bootstrap"_a = draws_type{},
      "Intervals of each customer's expected purchases in the next t periods and of their sum.");
  module.def(
      (prefix + "_predictive_intervals").c_str(),
      [](const std::vector<double>& params, double t, const double_array& frequency,
         const double_array& recency, const double_array& age, double level) {
        const auto p = params_from<Params>(params);
        std::vector<clv::purchase_count_interval> rows;
        {
          py::gil_scoped_release release;
          rows = clv::predictive_intervals(p, t, as_span(frequency), as_span(recency),
                                           as_span(age), level);
        }
        return to_columns(rows);
      },
      "params"_a, "t"_a, "frequency"_a, "recency"_a, "T"_a, "level"_a,
      "Each customer's equal-tailed predictive interval of the purchase count in the next t\n"
      "periods, from the model's conditional PMF at the fitted parameters.");
  if (!with_value) return;
  module.def(
      (prefix + "_customer_lifetime_value_intervals").c_str(),
      [](const std::vector<double>& params, const double_array& covariance,
         const std::vector<double>& spend_params, const double_array& spend_covariance,
         const double_array& frequency, const double_array& recency, const double_array& age,
         const double_array& monetary_value, double time, double discount_rate,
         double periods_per_month, const clv::interval_options& options,
         const draws_type& bootstrap, const draws_type& spend_bootstrap) {
        const auto p = params_from<Params>(params);
        const auto g = params_from<clv::gamma_gamma_params>(spend_params);
        const auto sigma = matrix_of(covariance, model::size);
        const auto spend_sigma = matrix_of(spend_covariance, 3);
        return export_without_gil([&] {
          return clv::customer_lifetime_value_intervals(
              p, sigma, g, spend_sigma, as_span(frequency), as_span(recency), as_span(age),
              as_span(monetary_value), time, discount_rate, periods_per_month, options, bootstrap,
              spend_bootstrap);
        });
      },
      "params"_a, "covariance"_a, "spend_params"_a, "spend_covariance"_a, "frequency"_a,
      "recency"_a, "T"_a, "monetary_value"_a, "time"_a, "discount_rate"_a, "periods_per_month"_a,
      "options"_a, "bootstrap"_a = draws_type{}, "spend_bootstrap"_a = draws_type{},
      "Intervals of each customer's lifetime value (lifetimes' monthly DCF, expected spend by\n"
      "Gamma-Gamma) and of the base's total.");
}

}  // namespace

void register_intervals(py::module_& module) {
  bind_struct<clv::interval_options>(module, "IntervalOptions",
                                     "Settings of an interval (crmkit::clv::interval_options).");
  record_schema<clv::interval_estimate>(module, "IntervalEstimate");
  record_schema<clv::forecast_intervals>(
      module, "ForecastIntervals",
      {"parameter_intervals", "bg_nbd_expected_purchases_intervals",
       "mbg_nbd_expected_purchases_intervals", "pareto_nbd_expected_purchases_intervals",
       "bg_bb_expected_purchases_intervals", "bg_nbd_customer_lifetime_value_intervals",
       "mbg_nbd_customer_lifetime_value_intervals", "pareto_nbd_customer_lifetime_value_intervals",
       "gamma_gamma_expected_spend_intervals"});
  record_schema<clv::purchase_count_interval>(
      module, "PurchaseCountInterval",
      {"bg_nbd_predictive_intervals", "mbg_nbd_predictive_intervals",
       "pareto_nbd_predictive_intervals", "bg_bb_predictive_intervals"});
  record_schema<clv::bootstrap_fits>(
      module, "BootstrapFits",
      {"bg_nbd_customer_bootstrap", "mbg_nbd_customer_bootstrap", "pareto_nbd_customer_bootstrap",
       "bg_bb_customer_bootstrap", "gamma_gamma_customer_bootstrap"});

  module.def(
      "parameter_intervals",
      [](const std::vector<double>& params, const double_array& covariance,
         const clv::interval_options& options, const draws_type& bootstrap) {
        const auto sigma = matrix_of(covariance, params.size());
        return export_without_gil(
            [&] { return clv::parameter_intervals(params, sigma, options, bootstrap); });
      },
      "params"_a, "covariance"_a, "options"_a, "bootstrap"_a = draws_type{},
      "Intervals of the parameters (the 'customers' columns hold one row per parameter).");

  register_transaction_intervals<clv::bg_nbd_params>(module, "bg_nbd", true);
  register_transaction_intervals<clv::mbg_nbd_params>(module, "mbg_nbd", true);
  register_transaction_intervals<clv::pareto_nbd_params>(module, "pareto_nbd", true);
  register_transaction_intervals<clv::bg_bb_params>(module, "bg_bb", false);

  const auto transaction_rows = [](const char* function) {
    return [function](auto x, auto t_x, auto age, auto weights) {
      return clv::transaction_patterns(function, x, t_x, age, weights);
    };
  };
  constexpr const char* doc =
      "Customer bootstrap: refits on resampled customers (multinomial counts of the patterns),\n"
      "seeded and thread-independent; 'draws' holds each converged refit's parameters.";
  def_customer_bootstrap<clv::bg_nbd>(module, "bg_nbd", doc,
                                      transaction_rows("bg_nbd_customer_bootstrap"));
  def_customer_bootstrap<clv::mbg_nbd>(module, "mbg_nbd", doc,
                                       transaction_rows("mbg_nbd_customer_bootstrap"));
  def_customer_bootstrap<clv::pareto_nbd>(module, "pareto_nbd", doc,
                                          transaction_rows("pareto_nbd_customer_bootstrap"));
  def_customer_bootstrap<clv::bg_bb>(module, "bg_bb", doc,
                                     [](auto x, auto t_x, auto n, auto weights) {
                                       constexpr const char* function = "bg_bb_customer_bootstrap";
                                       clv::check_discrete_histories(function, x, t_x, n);
                                       clv::detail::check_weights(function, weights, x.size());
                                       return clv::compress(x, t_x, n, weights);
                                     });

  module.def(
      "gamma_gamma_customer_bootstrap",
      [](const std::vector<double>& params, const double_array& frequency,
         const double_array& monetary_value, const double_array& weights,
         const clv::fit_options& options, std::size_t draws, std::uint64_t seed) {
        return export_without_gil([&] {
          constexpr const char* function = "gamma_gamma_customer_bootstrap";
          const auto x = as_span(frequency);
          const auto m = as_span(monetary_value);
          clv::check_spend(function, x, m, false);
          clv::detail::check_weights(function, as_span(weights), x.size());
          return clv::customer_bootstrap<clv::gamma_gamma>(
              function, clv::compress(x, m, m, as_span(weights)), params, options, draws, seed);
        });
      },
      "params"_a, "frequency"_a, "monetary_value"_a, "weights"_a, "options"_a, "draws"_a,
      "seed"_a, doc);

  module.def(
      "gamma_gamma_expected_spend_intervals",
      [](const std::vector<double>& params, const double_array& covariance,
         const double_array& frequency, const double_array& monetary_value,
         const clv::interval_options& options, const draws_type& bootstrap) {
        const auto g = params_from<clv::gamma_gamma_params>(params);
        const auto sigma = matrix_of(covariance, 3);
        return export_without_gil([&] {
          return clv::expected_spend_intervals(g, sigma, as_span(frequency),
                                               as_span(monetary_value), options, bootstrap);
        });
      },
      "params"_a, "covariance"_a, "frequency"_a, "monetary_value"_a, "options"_a,
      "bootstrap"_a = draws_type{},
      "Intervals of each customer's expected mean spend and of their sum.");
}

}  // namespace crmkit::python
