#pragma once

/**
 * crmkit::pipeline: the customer analysis ("the report") as one library call, `analyze`, with
 * every step callable on its own, typed result tables (`data::table`) and one edge-case policy.
 */
#include "crmkit/pipeline/analyze.hpp"
#include "crmkit/pipeline/calibration.hpp"
#include "crmkit/pipeline/cross_sell.hpp"
#include "crmkit/pipeline/demo.hpp"
#include "crmkit/pipeline/options.hpp"
#include "crmkit/pipeline/output_folder.hpp"
#include "crmkit/pipeline/result.hpp"
#include "crmkit/pipeline/steps.hpp"
#include "crmkit/pipeline/transaction_model.hpp"
