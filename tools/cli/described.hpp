#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "args.hpp"
#include "crmkit/core/describe.hpp"
#include "table.hpp"

/**
 * The command line's side of crmkit/core/describe.hpp: the options of a described struct and the
 * tables of described rows are generated from the field lists, so that a field added to a struct
 * reaches --help, the parser and the table headers with no edit here.
 */
namespace crmkit::cli {

/** The option of a field: its name with '_' written '-' ("k_max" is --k-max). */
inline std::string option_name(std::string_view field_name) {
  std::string out(field_name);
  std::ranges::replace(out, '_', '-');
  return out;
}

/**
 * One option per field of T: `--field-name VALUE`, the field's doc as help (an enum's names
 * appended) and the value in `defaults` as default; a bool field is a flag.
 */
template <describe::described_struct T>
std::vector<option_spec> described_options(const T& defaults = {}) {
  std::vector<option_spec> out;
  describe::for_each_field<T>([&](const auto& field) {
    using member = typename std::decay_t<decltype(field)>::member_type;
    const auto& value = field.get(defaults);
    option_spec option{option_name(field.name), "", std::string(field.doc), ""};
    if constexpr (std::is_same_v<member, bool>) {
      option.default_text = value ? "on" : "";
    } else if constexpr (describe::described_enum<member>) {
      option.value_name = "NAME";
      option.help += fmt::format(" ({})", fmt::join(describe::names<member>(), ", "));
      option.default_text = describe::name_of(value);
    } else if constexpr (std::is_floating_point_v<member>) {
      option.value_name = "X";
      option.default_text = fmt::format("{}", value);
    } else if constexpr (std::is_integral_v<member>) {
      option.value_name = "N";
      option.default_text = fmt::format("{}", value);
    } else {
      option.value_name = "TEXT";
      option.default_text = value;
    }
    out.push_back(std::move(option));
  });
  return out;
}

/**
 * Sets each field of `options` given on the command line (described_options), parsed by its
 * type: a finite number, a non-negative or signed integer, a flag, text, or an enum's name
 * (describe::parse, with "did you mean").
 * @throw usage_error (or invalid_input from describe::parse) naming the option and the text.
 */
template <describe::described_struct T>
void apply_described_options(const parsed_args& args, T& options) {
  describe::for_each_field<T>([&](const auto& field) {
    using member = typename std::decay_t<decltype(field)>::member_type;
    const std::string name = option_name(field.name);
    auto& value = field.get(options);
    if constexpr (std::is_same_v<member, bool>) {
      if (args.flag(name)) value = true;
    } else if constexpr (describe::described_enum<member>) {
      if (const auto text = args.get(name)) value = describe::parse<member>(*text, "--" + name);
    } else if constexpr (std::is_floating_point_v<member>) {
      value = static_cast<member>(args.number(name, static_cast<double>(value)));
    } else if constexpr (std::is_integral_v<member> && std::is_signed_v<member>) {
      value = static_cast<member>(args.integer(name, static_cast<std::int64_t>(value)));
    } else if constexpr (std::is_integral_v<member>) {
      value = static_cast<member>(args.count(name, static_cast<std::uint64_t>(value)));
    } else {
      value = args.get_or(name, value);
    }
  });
}

/**
 * A table of described rows, one column per field headed by the field's name: numbers as
 * numbers, integers and flags as integers, enums by name, text as text.
 */
template <describe::described_struct Row>
out_table rows_table(std::string name, const std::vector<Row>& rows) {
  out_table table{std::move(name), {}};
  describe::for_each_field<Row>([&](const auto& field) {
    using member = typename std::decay_t<decltype(field)>::member_type;
    out_column column{std::string(field.name), std::vector<double>{}};
    if constexpr (std::is_floating_point_v<member>) {
      std::vector<double> values;
      for (const auto& row : rows) values.push_back(static_cast<double>(field.get(row)));
      column.values = std::move(values);
    } else if constexpr (std::is_integral_v<member>) {
      std::vector<std::int64_t> values;
      for (const auto& row : rows) values.push_back(static_cast<std::int64_t>(field.get(row)));
      column.values = std::move(values);
    } else if constexpr (describe::described_enum<member>) {
      std::vector<std::string> values;
      for (const auto& row : rows) values.emplace_back(describe::name_of(field.get(row)));
      column.values = std::move(values);
    } else {
      std::vector<std::string> values;
      for (const auto& row : rows) values.emplace_back(field.get(row));
      column.values = std::move(values);
    }
    table.columns.push_back(std::move(column));
  });
  return table;
}

}  // namespace crmkit::cli
