#pragma once

/**
 * crmkit::clv: customer lifetime value. Transaction models BG/NBD, MBG/NBD, Pareto/NBD and the
 * discrete-time BG/BB, the Gamma-Gamma spend model, their maximum-likelihood fit, predictions,
 * lifetime value, fit diagnostics, and intervals (delta method, parametric and customer
 * bootstrap) of parameters and forecasts.
 */
#include "crmkit/clv/bg_bb.hpp"
#include "crmkit/clv/bg_nbd.hpp"
#include "crmkit/clv/customer_bootstrap.hpp"
#include "crmkit/clv/diagnostics.hpp"
#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/forecast_intervals.hpp"
#include "crmkit/clv/gamma_gamma.hpp"
#include "crmkit/clv/mbg_nbd.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/clv/pareto_nbd.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/clv/predictive_interval.hpp"
#include "crmkit/clv/value.hpp"
