#pragma once

#include <vector>

#include "args.hpp"
#include "table.hpp"

/** `crmkit report`: the whole customer analysis (crmkit::pipeline::analyze) into a folder. */
namespace crmkit::cli {

/** --out DIR, --survey and its columns, --rfm-rules, --customers, --seed, --quiet. */
std::vector<option_spec> report_options();

/**
 * Runs the analysis on the log (or, without one, on the demo log of --customers customers,
 * the same log as `python -m crmkit report`'s demo) and writes every table as DIR/<name>.csv;
 * the main output lists the tables written, the notes are warnings.
 */
command_output run_report(const parsed_args& args);

}  // namespace crmkit::cli
