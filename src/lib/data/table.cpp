#include "crmkit/data/table.hpp"

#include <unordered_map>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"

namespace crmkit::data {

namespace {

std::size_t length_of(const table_column::value_type& values) {
  return std::visit(
      [](const auto& column) -> std::size_t {
        using type = std::decay_t<decltype(column)>;
        if constexpr (std::is_same_v<type, text_values>) {
          return column.codes.size();
        } else if constexpr (std::is_same_v<type, date_values>) {
          return column.days.size();
        } else if constexpr (std::is_same_v<type, flag_values>) {
          return column.flags.size();
        } else {
          return column.size();
        }
      },
      values);
}

template <class T>
std::vector<T> pick(const std::vector<T>& values, const std::vector<std::size_t>& order) {
  std::vector<T> out(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) out[i] = values[order[i]];
  return out;
}

}  // namespace

std::size_t table_column::size() const noexcept { return length_of(values); }

std::size_t table::rows() const noexcept {
  return columns.empty() ? 0 : columns.front().size();
}

const table_column* table::find(std::string_view name) const noexcept {
  for (const auto& column : columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

const table_column& table::column(std::string_view name) const {
  if (const auto* found = find(name)) return *found;
  std::string names;
  for (const auto& column : columns) names += (names.empty() ? "" : ", ") + column.name;
  throw invalid_input(fmt::format("table: no column '{}' (columns: {})", name, names));
}

table& table::add(std::string name, table_column::value_type values) {
  const std::size_t size = length_of(values);
  if (!columns.empty() && size != rows()) {
    throw invalid_input(fmt::format("table: column '{}' has {} rows, but the table has {}", name,
                                    size, rows()));
  }
  columns.push_back({std::move(name), std::move(values)});
  return *this;
}

table& table::add_text(std::string name, std::vector<std::int32_t> codes,
                       std::vector<std::string> labels) {
  return add(std::move(name), text_values{std::move(codes), std::move(labels)});
}

table& table::add_constant_text(std::string name, const std::string& text, std::size_t rows) {
  return add_text(std::move(name), std::vector<std::int32_t>(rows, 0), {text});
}

table& table::add_strings(std::string name, const std::vector<std::string>& text) {
  text_values column;
  column.codes.reserve(text.size());
  std::unordered_map<std::string, std::int32_t> seen;
  for (const auto& cell : text) {
    const auto [at, inserted] = seen.try_emplace(cell, static_cast<std::int32_t>(seen.size()));
    if (inserted) column.labels.push_back(cell);
    column.codes.push_back(at->second);
  }
  return add(std::move(name), std::move(column));
}

table take_rows(const table& source, const std::vector<std::size_t>& order) {
  table out;
  out.index_columns = source.index_columns;
  for (const auto& column : source.columns) {
    table_column picked{column.name, std::vector<double>{}};
    std::visit(
        [&](const auto& values) {
          using type = std::decay_t<decltype(values)>;
          if constexpr (std::is_same_v<type, text_values>) {
            picked.values = text_values{pick(values.codes, order), values.labels};
          } else if constexpr (std::is_same_v<type, date_values>) {
            picked.values = date_values{pick(values.days, order)};
          } else if constexpr (std::is_same_v<type, flag_values>) {
            picked.values = flag_values{pick(values.flags, order)};
          } else {
            picked.values = pick(values, order);
          }
        },
        column.values);
    out.columns.push_back(std::move(picked));
  }
  return out;
}

std::string_view text_at(const text_values& column, std::size_t row) noexcept {
  const std::int32_t code = column.codes[row];
  return code < 0 ? std::string_view{} : std::string_view(column.labels[static_cast<std::size_t>(code)]);
}

}  // namespace crmkit::data
