#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "crmkit/clv/diagnostics.hpp"
#include "crmkit/clv/pareto_nbd.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/clv/value.hpp"
#include "crmkit/clv/value_intervals.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/data/summary.hpp"
#include "crmkit/pipeline/steps.hpp"
#include "transaction_fit.hpp"
#include "whole_periods.hpp"

namespace crmkit::pipeline {

namespace {

void note_fit(const fitted_model& fit, const coded_warnings& warnings, std::vector<note>& notes) {
  for (const auto& warning : warnings) {
    notes.push_back({fit.converged ? note_code::fit_warning : note_code::fit_not_converged,
                     warning.message});
  }
  if (!fit.converged && warnings.empty()) {
    notes.push_back({note_code::fit_not_converged, fmt::format("a fit did not converge ({})",
                                                               fit.status)});
  }
}

clv::fit_options fit_settings() {
  clv::fit_options settings;
  settings.tolerance = 1e-7;
  return settings;
}

}  // namespace

model_fits fit_models(const customer_summaries& customers, const analysis_options& options,
                      std::vector<note>& notes) {
  model_fits fits;
  for (std::size_t i = 0; i < customers.size(); ++i) {
    if (customers.frequency[i] <= 0) continue;
    ++(customers.monetary_value[i] > 0 ? fits.repeat_buyers : fits.zero_spend_repeat_buyers);
  }
  if (fits.repeat_buyers < options.min_repeat_customers) {
    throw invalid_input(fmt::format(
        "analyze: only {} customer(s) bought more than once with a positive amount; the models "
        "need at least {} (min_repeat_customers): is the log complete, and is the amount column "
        "right?",
        fits.repeat_buyers, options.min_repeat_customers));
  }
  // The two fits are independent. Gamma-Gamma runs on a thread of its own, serially (as a
  // parallel_chunks worker would), while this thread builds the fitting patterns (serial) and
  // fits the transaction model with the parallel loops: Gamma-Gamma's serial stages then overlap
  // the pattern building instead of following it. Each fit is what it is alone (the loops' chunks
  // do not depend on the threads); notes and the first exception keep the step order.
  std::optional<clv::fit_result<clv::gamma_gamma_params, 3>> spend;
  std::exception_ptr spend_failure;
  const auto fit_spend = [&] {
    try {
      std::vector<double> x, m;
      x.reserve(fits.repeat_buyers);
      m.reserve(fits.repeat_buyers);
      for (std::size_t i = 0; i < customers.size(); ++i) {
        if (customers.frequency[i] > 0 && customers.monetary_value[i] > 0) {
          x.push_back(customers.frequency[i]);
          m.push_back(customers.monetary_value[i]);
        }
      }
      spend.emplace(clv::fit_gamma_gamma(x, m, {}, fit_settings()));
    } catch (...) {
      spend_failure = std::current_exception();
    }
  };
  std::optional<std::thread> spend_thread;
  if (num_threads() > 1 && !crmkit::detail::inside_worker()) {
    try {
      spend_thread.emplace([&] {
        crmkit::detail::inside_worker() = true;
        fit_spend();
      });
    } catch (const std::system_error&) {
      // No thread: the fit runs after the transaction model's, as it would alone.
    }
  }
  std::optional<detail::transaction_fit> purchases;
  std::exception_ptr purchase_failure;
  try {
    const std::string function = detail::fit_function(options.transaction_model);
    auto patterns =
        customers.days
            ? detail::fitting_patterns(
                  function,
                  detail::summaries_at(*customers.days, customers.last_day - customers.first_day),
                  options.days_per_period, customers.frequency, customers.recency, customers.T)
            : clv::transaction_patterns(function, customers.frequency, customers.recency,
                                        customers.T);
    purchases.emplace(detail::fit_transaction_model(options.transaction_model,
                                                    std::move(patterns), fit_settings(),
                                                    customers.size()));
  } catch (...) {
    purchase_failure = std::current_exception();
  }
  if (spend_thread) {
    spend_thread->join();
  } else {
    fit_spend();
  }
  if (purchase_failure) std::rethrow_exception(purchase_failure);
  if (spend_failure) std::rethrow_exception(spend_failure);
  note_fit(purchases->fit, purchases->warnings, notes);
  fits.spend_fit = detail::erase_model_type<clv::gamma_gamma>(*spend);
  note_fit(fits.spend_fit, spend->warnings, notes);
  if (fits.zero_spend_repeat_buyers > 0) {
    notes.push_back({note_code::zero_spend_repeat_buyers,
                     fmt::format("{} customer(s) bought again but spent nothing on their repeat "
                                 "purchases: their expected spend is the Gamma-Gamma mean at zero "
                                 "observed spend",
                                 fits.zero_spend_repeat_buyers)});
  }
  fits.purchases = purchases->params;
  fits.purchase_fit = std::move(purchases->fit);
  fits.spend = spend->params;
  return fits;
}

data::table model_parameters(const model_fits& models) {
  const auto kind = kind_of(models.purchases);
  const auto p = parameter_values(models.purchases);
  const auto names = parameter_names(kind);
  const auto& g = models.spend;
  std::vector<double> estimate{p[0], p[1], p[2], p[3], g.p, g.q, g.v};
  std::vector<double> error(models.purchase_fit.standard_errors);
  error.insert(error.end(), models.spend_fit.standard_errors.begin(),
               models.spend_fit.standard_errors.end());
  data::table table;
  table.index_columns = 1;
  table
      .add_text("parameter", {0, 1, 2, 3, 4, 5, 6},
                {std::string(names[0]), std::string(names[1]), std::string(names[2]),
                 std::string(names[3]), "p", "q", "v"})
      .add_text("model", {0, 0, 0, 0, 1, 1, 1}, {std::string(display_name(kind)), "Gamma-Gamma"})
      .add("estimate", std::move(estimate))
      .add("standard_error", std::move(error));
  return table;
}

double periods_per_month(const analysis_options& options) {
  return clv::periods_per_month("W") * 7.0 / options.days_per_period;
}

customer_predictions predict_customers(const customer_summaries& customers,
                                       const model_fits& models, const analysis_options& options) {
  customer_predictions out;
  out.expected_spend =
      clv::expected_spend(models.spend, customers.frequency, customers.monetary_value);
  std::visit(
      [&](const auto& params) {
        const clv::customer_forecast forecast("predict_customers", params, customers.frequency,
                                              customers.recency, customers.T);
        // The public vector form (vectorised where the model has it), so the table's P(alive)
        // has the bits clv::conditional_probability_alive gives a library or Python caller.
        out.p_alive = clv::conditional_probability_alive(params, customers.frequency,
                                                         customers.recency, customers.T);
        out.expected_purchases = forecast.expected_purchases(options.prediction_periods);
        out.clv = clv::customer_lifetime_value(forecast, out.expected_spend, options.clv_months,
                                               options.monthly_discount,
                                               periods_per_month(options));
      },
      models.purchases);
  return out;
}

namespace {

Eigen::MatrixXd covariance_of(const fitted_model& fit) {
  const auto size = static_cast<Eigen::Index>(fit.params.size());
  if (fit.covariance.size() != fit.params.size() * fit.params.size()) {
    throw numerical_error("clv_intervals: a fit has no parameter covariance");
  }
  Eigen::MatrixXd out(size, size);
  for (Eigen::Index i = 0; i < size; ++i) {
    for (Eigen::Index j = 0; j < size; ++j) {
      out(i, j) = fit.covariance[static_cast<std::size_t>(i * size + j)];
    }
  }
  return out;
}

}  // namespace

void clv_intervals(const customer_summaries& customers, const model_fits& models,
                   customer_predictions& predictions, const analysis_options& options,
                   std::vector<note>& notes) {
  constexpr std::string_view function = "clv_intervals";
  if (!(options.clv_interval_level > 0 && options.clv_interval_level < 1)) {
    throw invalid_input(fmt::format("analyze: clv_interval_level = {} must be in (0, 1)",
                                    options.clv_interval_level));
  }
  const std::size_t n = customers.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  clv::interval_options settings;
  settings.level = options.clv_interval_level;
  clv::unfinished_customers unfinished;
  std::vector<clv::interval_estimate> ends;
  try {
    ends = std::visit(
        [&](const auto& params) {
          return clv::lifetime_value_delta_method(
                     function, params, covariance_of(models.purchase_fit), models.spend,
                     covariance_of(models.spend_fit), customers.frequency, customers.recency,
                     customers.T, customers.monetary_value, options.clv_months,
                     options.monthly_discount, periods_per_month(options), settings,
                     predictions.clv, &unfinished)
              .customers;
        },
        models.purchases);
  } catch (const numerical_error& error) {
    predictions.clv_lower.assign(n, nan);
    predictions.clv_upper.assign(n, nan);
    notes.push_back({note_code::clv_intervals_unavailable,
                     fmt::format("no customer has a CLV interval (clv_lower, clv_upper are "
                                 "empty): {}",
                                 error.what())});
    return;
  }
  predictions.clv_lower.resize(n);
  predictions.clv_upper.resize(n);
  parallel_for(n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      predictions.clv_lower[i] = ends[i].lower;
      predictions.clv_upper[i] = ends[i].upper;
    }
  });
  if (unfinished.count > 0) {
    notes.push_back({note_code::clv_intervals_unavailable,
                     fmt::format("{} customer(s) have no CLV interval (clv_lower, clv_upper are "
                                 "empty), the first at row {}: their CLV is not finite at the "
                                 "estimate or a nearby parameter value (Gamma-Gamma's mean spend "
                                 "p·v/(p·x + q − 1) is infinite where p·x + q ≤ 1)",
                                 unfinished.count, unfinished.first + 1)});
  }
}

data::table repeat_purchases(const customer_summaries& customers, const model_fits& models,
                             const analysis_options& options) {
  const auto bins = std::visit(
      [&](const auto& params) {
        return clv::repeat_frequency_histogram(params, customers.frequency, customers.T,
                                               options.repeat_max_frequency);
      },
      models.purchases);
  std::vector<std::int64_t> frequency;
  std::vector<double> actual, expected;
  for (const auto& bin : bins) {
    frequency.push_back(static_cast<std::int64_t>(bin.frequency));
    actual.push_back(bin.actual);
    expected.push_back(bin.expected);
  }
  data::table table;
  table.index_columns = 1;
  table.add("frequency", std::move(frequency))
      .add("actual", std::move(actual))
      .add("expected", std::move(expected));
  return table;
}

}  // namespace crmkit::pipeline
