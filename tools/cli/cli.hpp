#pragma once

#include <iosfwd>
#include <span>
#include <string>

/** The `crmkit` command-line tool, callable in-process. */
namespace crmkit::cli {

/** Exit codes of `run`. */
enum exit_code : int {
  success = 0,
  numerical_failure = 1,  ///< a model could not be fitted (crmkit::numerical_error)
  bad_input = 2,          ///< bad command line, file, column or value
};

/**
 * Runs the tool on `args` (without the program name): `crmkit <command> INPUT [options]`,
 * `crmkit --help`, `crmkit <command> --help`, `crmkit --version`. The result goes to `out`
 * (or to --out FILE); parameters and counts go to `err` in CSV format (into `out` in JSON);
 * problems go to `err` as one line "crmkit <command>: what and where".
 * @return an exit_code; never throws for bad input.
 */
int run(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace crmkit::cli
