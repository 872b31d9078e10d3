#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/suggest.hpp"

/**
 * Descriptions: each public options/result struct and each public enum is described once, next to
 * its definition, and every front end (Python bindings, stubs, command line, table headers) is
 * generated from that one description instead of spelling names again.
 *
 * A struct is described by a constexpr function `description(std::type_identity<T>)` in T's own
 * namespace (found by argument-dependent lookup) returning a tuple of `field`s:
 *
 *     struct fit_options { double tol = 1e-8; std::size_t max_iter = 500; };
 *     constexpr auto description(std::type_identity<fit_options>) {
 *       return std::tuple{describe::field{"tol", &fit_options::tol, "gradient tolerance"},
 *                         describe::field{"max_iter", &fit_options::max_iter, "iteration cap"}};
 *     }
 *
 * An enum is described the same way by a `describe::enum_table`: its argument name (for error
 * messages) and one row per spelling. The first row of a value gives its name; later rows with
 * the same value are accepted aliases:
 *
 *     enum class tie_policy { average, first };
 *     constexpr auto description(std::type_identity<tie_policy>) {
 *       return describe::enum_table<tie_policy, 2>{"ties", {{{tie_policy::average, "average"},
 *                                                            {tie_policy::first, "first"}}}};
 *     }
 *
 * From these, `describe::for_each_field`, `describe::name_of`, `describe::parse` (with a
 * "did you mean" suggestion) and `describe::names` serve every front end. Nothing here knows of
 * Python or the command line.
 */
namespace crmkit::describe {

/** Marks a column (a vector member) that is absent, not merely empty, when it has no rows. */
inline constexpr bool absent_when_empty = true;

/**
 * One described member: its public name, a pointer to it, a one-line documentation and, for a
 * column that only some inputs have (amounts, revenue), `absent_when_empty`.
 */
template <class Struct, class Member>
struct field {
  using struct_type = Struct;
  using member_type = Member;
  std::string_view name;
  Member Struct::*pointer;
  std::string_view doc;
  bool optional_column = false;

  [[nodiscard]] constexpr const Member& get(const Struct& object) const { return object.*pointer; }
  [[nodiscard]] constexpr Member& get(Struct& object) const { return object.*pointer; }
};

// Spelled out for compilers without deduction for aggregates (clang before 17 builds the fuzzers).
template <class Struct, class Member>
field(std::string_view, Member Struct::*, std::string_view) -> field<Struct, Member>;
template <class Struct, class Member>
field(std::string_view, Member Struct::*, std::string_view, bool) -> field<Struct, Member>;

/**
 * A read-only described value computed from the struct (e.g. a member of a nested member), for
 * flat result rows: `describe::computed<nps_result>("lower", [](const nps_result& r) { return
 * r.ci.lower; }, "doc")`.
 */
template <class Struct, class Getter>
struct computed_field {
  using struct_type = Struct;
  using member_type = std::decay_t<std::invoke_result_t<const Getter&, const Struct&>>;
  std::string_view name;
  Getter getter;
  std::string_view doc;
  bool optional_column = false;

  [[nodiscard]] constexpr member_type get(const Struct& object) const { return getter(object); }
};

/** A computed field of `Struct` (see computed_field). */
template <class Struct, class Getter>
constexpr computed_field<Struct, Getter> computed(std::string_view name, Getter getter,
                                                  std::string_view doc) {
  return {name, getter, doc};
}

/** The field is computed (read-only), not a member. */
template <class Field>
inline constexpr bool is_computed = requires(const Field& field) {
  field.getter;
};

/** One spelling of an enum value. */
template <class Enum>
struct enum_name {
  Enum value;
  std::string_view name;
};

/**
 * The name table of an enum: the argument it is usually passed as, its spellings and, optionally,
 * what a valid value is in words (then a parse error reads "argument = 'text' is not <expected>").
 */
template <class Enum, std::size_t N>
struct enum_table {
  std::string_view argument;
  std::array<enum_name<Enum>, N> names;
  std::string_view expected = {};
};

/** T is a struct with a field list. */
template <class T>
concept described_struct = std::is_class_v<T> && requires {
  { description(std::type_identity<T>{}) };
};

/** T is an enum with a name table. */
template <class T>
concept described_enum = std::is_enum_v<T> && requires {
  { description(std::type_identity<T>{}).names };
};

/** The field tuple of a described struct. */
template <described_struct T>
constexpr auto fields() {
  return description(std::type_identity<T>{});
}

/** Number of fields of a described struct. */
template <described_struct T>
inline constexpr std::size_t field_count = std::tuple_size_v<decltype(fields<T>())>;

/** Calls `visit(field)` for each field of T, in declaration order. */
template <described_struct T, class Visit>
constexpr void for_each_field(Visit&& visit) {
  std::apply([&](const auto&... each) { (visit(each), ...); }, fields<T>());
}

/** The names of T's fields, in order (for table headers and keyword lists). */
template <described_struct T>
std::vector<std::string_view> field_names() {
  std::vector<std::string_view> out;
  for_each_field<T>([&](const auto& each) { out.push_back(each.name); });
  return out;
}

/** The name table of a described enum. */
template <described_enum E>
constexpr auto table() {
  return description(std::type_identity<E>{});
}

/** The canonical name of `value` (its first row in the table); "" for a value not in it. */
template <described_enum E>
constexpr std::string_view name_of(E value) noexcept {
  for (const auto& row : table<E>().names) {
    if (row.value == value) return row.name;
  }
  return {};
}

/** The canonical names of E, one per value, in table order (aliases left out). */
template <described_enum E>
std::vector<std::string_view> names() {
  std::vector<std::string_view> out;
  for (const auto& row : table<E>().names) {
    if (name_of(row.value) == row.name) out.push_back(row.name);
  }
  return out;
}

/** Every accepted spelling of E, names and aliases. */
template <described_enum E>
std::vector<std::string> spellings() {
  std::vector<std::string> out;
  for (const auto& row : table<E>().names) out.emplace_back(row.name);
  return out;
}

/** The value spelled `text` (a name or an alias), or nothing. */
template <described_enum E>
constexpr std::optional<E> try_parse(std::string_view text) noexcept {
  for (const auto& row : table<E>().names) {
    if (row.name == text) return row.value;
  }
  return std::nullopt;
}

/**
 * The value spelled `text`.
 * @throw invalid_input "argument: 'text' is not one of 'a', 'b' (did you mean 'b'?)", the argument
 *        being `argument` or, when empty, the table's own; with an `expected` text in the table,
 *        "argument = 'text' is not <expected>".
 */
template <described_enum E>
E parse(std::string_view text, std::string_view argument = {}) {
  if (const auto value = try_parse<E>(text)) return *value;
  if (!table<E>().expected.empty()) {
    throw invalid_input(fmt::format("{} = '{}' is not {}",
                                    argument.empty() ? table<E>().argument : argument, text,
                                    table<E>().expected));
  }
  std::string choices;
  for (const auto name : names<E>()) {
    choices += fmt::format("{}'{}'", choices.empty() ? "" : ", ", name);
  }
  const auto spelled = spellings<E>();
  const std::string suggestion = closest_name(text, spelled);
  check::fail(argument.empty() ? table<E>().argument : argument,
              fmt::format("'{}' is not one of {}{}", text, choices,
                          suggestion.empty() ? "" : fmt::format(" (did you mean '{}'?)",
                                                                suggestion)));
}

}  // namespace crmkit::describe
