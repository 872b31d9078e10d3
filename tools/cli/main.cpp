// The `crmkit` command-line tool; see tools/cli/cli.hpp and docs/cli.md.
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv + 1, argv + argc);
  return crmkit::cli::run(args, std::cout, std::cerr);
}
