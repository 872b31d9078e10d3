#pragma once

#include <vector>

#include "args.hpp"
#include "table.hpp"

/** The subcommands of the `crmkit` tool: each reads its input, calls the library, and returns
 * tables. */
namespace crmkit::cli {

/** A subcommand: its specification and the function that runs it. */
struct command {
  command_spec spec;
  command_output (*run)(const parsed_args& args);
  bool out_is_folder = false;  ///< --out names the folder the command writes, not the output
};

/** summary, clv, rfm, kmeans, nps, lifecycle, basket, report. */
const std::vector<command>& commands();

}  // namespace crmkit::cli
