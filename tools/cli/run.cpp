#include <algorithm>
#include <fstream>
#include <ostream>

#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/version.hpp"

namespace crmkit::cli {

namespace {

std::string overview() {
  std::string text =
      "usage: crmkit <command> INPUT [options]\n\n"
      "Customer analytics on CSV files: reads CSV, writes CSV (or JSON with --format json).\n\n"
      "commands:\n";
  for (const auto& command : commands()) {
    const std::string& summary = command.spec.summary;
    text += fmt::format("  {:<11}{}\n", command.spec.name, summary.substr(0, summary.find('\n')));
  }
  text +=
      "\n'crmkit <command> --help' lists a command's options; 'crmkit --version' the version.\n";
  return text;
}

std::string output_format(const parsed_args& args) {
  const std::string format = args.get_or("format", "csv");
  if (format != "csv" && format != "json") {
    throw usage_error(fmt::format("--format = '{}' must be csv or json", format));
  }
  return format;
}

void write_output(const parsed_args& args, const command_output& output, bool out_is_folder,
                  std::ostream& out, std::ostream& err) {
  const std::string format = args.get_or("format", "csv");
  std::ofstream file;
  std::ostream* target = &out;
  if (const auto path = args.get("out"); path && !out_is_folder) {
    file.open(*path, std::ios::binary);
    if (!file) throw invalid_input(fmt::format("cannot open '{}' for writing (--out)", *path));
    target = &file;
  }
  if (format == "json") {
    write_json(output, *target);
  } else {
    write_csv(output.main, *target);
    if (!args.flag("quiet")) {
      for (const auto& extra : output.extras) {
        err << "# " << extra.name << '\n';
        write_csv(extra, err);
      }
    }
  }
  target->flush();
  if (!*target) throw invalid_input("could not write the output (disk full or closed pipe?)");
}

}  // namespace

int run(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << overview();
    return bad_input;
  }
  const std::string& name = args.front();
  if (name == "--help" || name == "-h" || name == "help") {
    out << overview();
    return success;
  }
  if (name == "--version") {
    out << "crmkit " << version_string << '\n';
    return success;
  }
  const auto& all = commands();
  const auto found =
      std::ranges::find_if(all, [&](const command& c) { return c.spec.name == name; });
  if (found == all.end()) {
    std::vector<std::string> names;
    for (const auto& c : all) names.push_back(c.spec.name);
    err << fmt::format("crmkit: unknown command '{}'{}; commands are {}; see 'crmkit --help'\n",
                       name, did_you_mean(name, names), fmt::join(names, ", "));
    return bad_input;
  }
  const auto rest = args.subspan(1);
  if (std::ranges::any_of(rest, [](const std::string& a) { return a == "--help" || a == "-h"; })) {
    out << help_text(found->spec);
    return success;
  }
  try {
    const parsed_args parsed = parse_args(found->spec, rest);
    static_cast<void>(output_format(parsed));
    const command_output output = found->run(parsed);
    for (const auto& warning : output.warnings)
      err << "crmkit " << name << ": warning: " << warning << '\n';
    if (!(found->out_is_folder && parsed.flag("quiet"))) {
      write_output(parsed, output, found->out_is_folder, out, err);
    }
    return success;
  } catch (const invalid_input& problem) {
    err << "crmkit " << name << ": " << problem.what() << '\n';
    return bad_input;
  } catch (const numerical_error& problem) {
    err << "crmkit " << name << ": " << problem.what() << '\n';
    return numerical_failure;
  } catch (const std::exception& problem) {
    err << "crmkit " << name << ": error: " << problem.what() << '\n';
    return numerical_failure;
  }
}

}  // namespace crmkit::cli
