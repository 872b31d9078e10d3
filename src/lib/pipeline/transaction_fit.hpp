#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/core/warning.hpp"
#include "crmkit/pipeline/result.hpp"
#include "crmkit/pipeline/transaction_model.hpp"

/** The one place where the pipeline turns a transaction_model_kind into a fit (internal). */
namespace crmkit::pipeline::detail {

/** A fit of the model traits `Model` without its parameter type. */
template <class Model>
fitted_model erase_model_type(const clv::fit_result<typename Model::params_type, Model::size>& fit) {
  constexpr std::size_t N = Model::size;
  fitted_model out;
  out.names.assign(Model::names.begin(), Model::names.end());
  const auto values = Model::to_array(fit.params);
  out.params.assign(values.begin(), values.end());
  out.standard_errors.assign(fit.standard_errors.begin(), fit.standard_errors.end());
  out.lower.assign(fit.lower.begin(), fit.lower.end());
  out.upper.assign(fit.upper.begin(), fit.upper.end());
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = 0; j < N; ++j) out.covariance.push_back(fit.covariance(i, j));
  }
  out.log_likelihood = fit.log_likelihood;
  out.objective = fit.objective;
  out.gradient_norm = fit.gradient_norm;
  out.iterations = fit.iterations;
  out.evaluations = fit.evaluations;
  out.starts_tried = fit.starts_tried;
  out.converged = fit.converged;
  out.status = fit.status;
  out.customers = fit.customers;
  out.patterns = fit.patterns;
  return out;
}

/** A fit of the chosen transaction model. */
struct transaction_fit {
  clv::transaction_model_params params;
  fitted_model fit;
  coded_warnings warnings;
};

/** The name fits of `kind` report in errors ("fit_bg_nbd", "fit_mbg_nbd", "fit_pareto_nbd"). */
std::string fit_function(transaction_model_kind kind);

/** clv::fit_model of the model `kind` on `patterns` (rows given: `customers`). */
transaction_fit fit_transaction_model(transaction_model_kind kind,
                                      std::vector<clv::pattern> patterns,
                                      const clv::fit_options& settings, std::size_t customers);

}  // namespace crmkit::pipeline::detail
