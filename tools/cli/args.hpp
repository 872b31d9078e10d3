#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crmkit/core/error.hpp"
#include "crmkit/core/suggest.hpp"

/** A small self-contained command-line option parser for the `crmkit` tool. */
namespace crmkit::cli {

/** A mistake on the command line (unknown option, missing value, bad number): exit code 2. */
class usage_error : public invalid_input {
 public:
  explicit usage_error(const std::string& message) : invalid_input(message) {}
};

/** One `--name VALUE` option, or a `--name` flag when `value_name` is empty. */
struct option_spec {
  std::string name;        ///< without the leading "--"
  std::string value_name;  ///< e.g. "COL"; empty for a flag
  std::string help;
  std::string default_text;  ///< shown in --help; empty for none
};

/** A subcommand: its name, its positional arguments and its options. */
struct command_spec {
  std::string name;
  std::string positional;  ///< e.g. "LOG.csv|SUMMARY.csv"
  std::string summary;     ///< one line
  std::vector<option_spec> options;
  bool input_optional = false;  ///< the positional argument may be left out
};

/** The parsed command line of one subcommand. */
class parsed_args {
 public:
  explicit parsed_args(std::string input) noexcept : input_(std::move(input)) {}

  /** The input file (the one positional argument). */
  [[nodiscard]] const std::string& input() const noexcept { return input_; }
  [[nodiscard]] bool flag(std::string_view name) const {
    return flags_.contains(std::string(name));
  }
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const;
  [[nodiscard]] std::string get_or(std::string_view name, std::string_view fallback) const;
  /** A finite number; usage_error naming the option and the text otherwise. */
  [[nodiscard]] double number(std::string_view name, double fallback) const;
  /** A non-negative integer; usage_error naming the option and the text otherwise. */
  [[nodiscard]] std::uint64_t count(std::string_view name, std::uint64_t fallback) const;
  /** An integer (either sign); usage_error naming the option and the text otherwise. */
  [[nodiscard]] std::int64_t integer(std::string_view name, std::int64_t fallback) const;
  /** A comma-separated list (empty when the option is absent). */
  [[nodiscard]] std::vector<std::string> list(std::string_view name) const;

 private:
  friend parsed_args parse_args(const command_spec&, std::span<const std::string>);
  std::string input_;
  std::map<std::string, std::string, std::less<>> values_;
  std::set<std::string, std::less<>> flags_;
};

/**
 * Parses `--name VALUE`, `--name=VALUE` and `--name` flags plus exactly one positional argument.
 * @throw usage_error for an unknown option (with the closest known one), a missing value, a
 *        repeated option, or a missing or extra positional argument.
 */
parsed_args parse_args(const command_spec& spec, std::span<const std::string> args);

/** The `--help` text of a subcommand. */
std::string help_text(const command_spec& spec);

/** " (did you mean 'x'?)" for the closest name, or empty. */
std::string did_you_mean(std::string_view wanted, std::span<const std::string> names,
                         std::string_view prefix = "");

}  // namespace crmkit::cli
