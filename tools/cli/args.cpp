#include "args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <type_traits>

#include <fmt/format.h>

namespace crmkit::cli {

namespace {

const option_spec* find_option(const command_spec& spec, std::string_view name) {
  for (const auto& option : spec.options) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

/**
 * `text` as a (finite) Value, `fallback` when absent; usage_error "--name = 'text' is not
 * <what>" otherwise.
 */
template <class Value>
Value option_value(const std::optional<std::string>& text, std::string_view name, Value fallback,
                   std::string_view what) {
  if (!text) return fallback;
  Value value = 0;
  const char* end = text->data() + text->size();
  const auto [stop, error] = std::from_chars(text->data(), end, value);
  bool finite = true;
  if constexpr (std::is_floating_point_v<Value>) finite = std::isfinite(value);
  if (error != std::errc{} || stop != end || !finite) {
    throw usage_error(fmt::format("--{} = '{}' is not {}", name, *text, what));
  }
  return value;
}

}  // namespace

std::string did_you_mean(std::string_view wanted, std::span<const std::string> names,
                         std::string_view prefix) {
  const std::string best = closest_name(wanted, names);
  return best.empty() ? std::string{} : fmt::format(" (did you mean '{}{}'?)", prefix, best);
}

std::optional<std::string> parsed_args::get(std::string_view name) const {
  const auto found = values_.find(name);
  if (found == values_.end()) return std::nullopt;
  return found->second;
}

std::string parsed_args::get_or(std::string_view name, std::string_view fallback) const {
  return get(name).value_or(std::string(fallback));
}

double parsed_args::number(std::string_view name, double fallback) const {
  return option_value(get(name), name, fallback, "a number");
}

std::uint64_t parsed_args::count(std::string_view name, std::uint64_t fallback) const {
  return option_value(get(name), name, fallback, "a non-negative integer");
}

std::int64_t parsed_args::integer(std::string_view name, std::int64_t fallback) const {
  return option_value(get(name), name, fallback, "an integer");
}

std::vector<std::string> parsed_args::list(std::string_view name) const {
  std::vector<std::string> items;
  const auto text = get(name);
  if (!text) return items;
  std::size_t begin = 0;
  while (begin <= text->size()) {
    const std::size_t comma = std::min(text->find(',', begin), text->size());
    items.push_back(text->substr(begin, comma - begin));
    begin = comma + 1;
  }
  return items;
}

parsed_args parse_args(const command_spec& spec, std::span<const std::string> args) {
  const std::string see_help = fmt::format("; see 'crmkit {} --help'", spec.name);
  auto fail = [&](const std::string& what) { throw usage_error(what + see_help); };
  std::vector<std::string> positional;
  parsed_args parsed("");
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0 || arg == "--") {
      if (arg.size() > 1 && arg[0] == '-' && arg != "-")
        fail(fmt::format("unknown option '{}'", arg));
      positional.push_back(arg);
      continue;
    }
    const std::size_t equals = arg.find('=');
    const std::string name = arg.substr(2, equals == std::string::npos ? equals : equals - 2);
    const option_spec* option = find_option(spec, name);
    if (option == nullptr) {
      std::vector<std::string> names;
      for (const auto& known : spec.options) names.push_back(known.name);
      fail(fmt::format("unknown option '--{}'{}", name, did_you_mean(name, names, "--")));
    }
    if (parsed.values_.contains(name) || parsed.flags_.contains(name)) {
      fail(fmt::format("option '--{}' given twice", name));
    }
    if (option->value_name.empty()) {
      if (equals != std::string::npos) fail(fmt::format("option '--{}' takes no value", name));
      parsed.flags_.insert(name);
      continue;
    }
    if (equals != std::string::npos) {
      parsed.values_.emplace(name, arg.substr(equals + 1));
    } else if (i + 1 < args.size()) {
      parsed.values_.emplace(name, args[++i]);
    } else {
      fail(fmt::format("option '--{}' needs a value ({})", name, option->value_name));
    }
  }
  if (positional.empty() && !spec.input_optional) {
    fail(fmt::format("missing the input file ({})", spec.positional));
  }
  if (positional.size() > 1) {
    fail(fmt::format("expected one input file, got {}: '{}'", positional.size(),
                     fmt::join(positional, "', '")));
  }
  if (!positional.empty()) parsed.input_ = positional.front();
  return parsed;
}

std::string help_text(const command_spec& spec) {
  std::string text = fmt::format("usage: crmkit {} {} [options]\n\n{}\n\noptions:\n", spec.name,
                                 spec.positional, spec.summary);
  const auto left_of = [](const option_spec& option) {
    return option.value_name.empty() ? "--" + option.name
                                     : "--" + option.name + " " + option.value_name;
  };
  std::size_t width = 27;
  for (const auto& option : spec.options) width = std::max(width, left_of(option).size());
  for (const auto& option : spec.options) {
    text += fmt::format("  {:<{}} {}", left_of(option), width, option.help);
    if (!option.default_text.empty()) text += fmt::format(" (default: {})", option.default_text);
    text += '\n';
  }
  text += fmt::format("  {:<{}} {}\n", "--help", width, "show this help");
  return text;
}

}  // namespace crmkit::cli
