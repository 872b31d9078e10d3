#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/core/warning.hpp"
#include "crmkit/pipeline/transaction_model.hpp"

/** The one place where the pipeline turns a transaction_model_kind into a fit (internal). */
namespace crmkit::pipeline::detail {

/** A fit of the chosen transaction model (clv::fit_result without its model type). */
struct transaction_fit {
  clv::transaction_model_params params;
  std::vector<double> standard_errors;  ///< in parameter_names' order
  double log_likelihood = 0;
  bool converged = false;
  std::string status;
  coded_warnings warnings;
};

/** The name fits of `kind` report in errors ("fit_bg_nbd", "fit_mbg_nbd", "fit_pareto_nbd"). */
std::string fit_function(transaction_model_kind kind);

/** clv::fit_model of the model `kind` on `patterns` (rows given: `customers`). */
transaction_fit fit_transaction_model(transaction_model_kind kind,
                                      std::vector<clv::pattern> patterns,
                                      const clv::fit_options& settings, std::size_t customers);

}  // namespace crmkit::pipeline::detail
