#pragma once

/**
 * crmkit::clv: customer lifetime value. Transaction models BG/NBD, MBG/NBD, Pareto/NBD and the
 * discrete-time BG/BB, the Gamma-Gamma spend model, their maximum-likelihood fit, predictions,
 * lifetime value and fit diagnostics.
 */
#include "crmkit/clv/bg_bb.hpp"
#include "crmkit/clv/bg_nbd.hpp"
#include "crmkit/clv/diagnostics.hpp"
#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/gamma_gamma.hpp"
#include "crmkit/clv/mbg_nbd.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/clv/pareto_nbd.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/clv/value.hpp"
