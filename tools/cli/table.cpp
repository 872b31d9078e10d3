#include "table.hpp"

#include <charconv>
#include <numeric>
#include <type_traits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "args.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/data/column_names.hpp"
#include "crmkit/data/csv_writer.hpp"
#include "crmkit/data/read_records.hpp"
#include "crmkit/data/table.hpp"

namespace crmkit::cli {

namespace {

[[noreturn]] void fail_at(const std::string& file, std::size_t line, std::size_t column,
                          const std::string& what) {
  throw parse_error(fmt::format("{}:{}:{}: {}", file, line, column, what), file, line, column);
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + '"';
}

/** Cell `row` of a column as CSV text (`json` false) or as a JSON value. */
std::string json_cell(const out_column& column, std::size_t row) {
  if (const auto* numbers = std::get_if<std::vector<double>>(&column.values)) {
    const double value = (*numbers)[row];
    return std::isfinite(value) ? fmt::format("{}", value) : "null";
  }
  if (const auto* integers = std::get_if<std::vector<std::int64_t>>(&column.values)) {
    return fmt::format("{}", (*integers)[row]);
  }
  const auto& text = std::get<std::vector<std::string>>(column.values)[row];
  return json_string(text);
}

/** Cell `row` of a library table column as a JSON value (missing cells null). */
std::string json_cell(const data::table_column& column, std::size_t row) {
  return std::visit(
      [row](const auto& values) -> std::string {
        using kind = std::decay_t<decltype(values)>;
        if constexpr (std::is_same_v<kind, std::vector<double>>) {
          return std::isfinite(values[row]) ? fmt::format("{}", values[row]) : "null";
        } else if constexpr (std::is_same_v<kind, std::vector<std::int64_t>>) {
          return fmt::format("{}", values[row]);
        } else if constexpr (std::is_same_v<kind, data::text_values>) {
          const auto code = values.codes[row];
          return code < 0 ? "null" : json_string(values.labels[static_cast<std::size_t>(code)]);
        } else if constexpr (std::is_same_v<kind, data::date_values>) {
          const auto day = values.days[row];
          return day == data::missing_day ? "null" : json_string(data::iso_date(day));
        } else {
          return values.flags[row] ? "true" : "false";
        }
      },
      column.values);
}

/** The rows of a table as a JSON array of objects keyed by the column names. */
template <class Table>
void write_record_array(const Table& table, std::ostream& out) {
  out << '[';
  for (std::size_t row = 0; row < table.rows(); ++row) {
    out << (row == 0 ? "\n  {" : ",\n  {");
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      out << (c == 0 ? "" : ", ") << json_string(table.columns[c].name) << ": "
          << json_cell(table.columns[c], row);
    }
    out << '}';
  }
  out << (table.rows() == 0 ? "]" : "\n]");
}

void write_records(const out_table& table, std::ostream& out) {
  out << json_string(table.name) << ": ";
  write_record_array(table, out);
}

}  // namespace

std::size_t text_table::column(std::string_view name, std::string_view option) const {
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (header[c] == name) return c;
  }
  fail_at(file, header_line, 1,
          fmt::format("no column named '{}' ({}); the header has '{}'{}", name, option,
                      fmt::join(header, "', '"), did_you_mean(name, header)));
}

bool text_table::has_column(std::string_view name) const {
  for (const auto& candidate : header) {
    if (candidate == name) return true;
  }
  return false;
}

std::vector<double> text_table::numbers(std::size_t column) const {
  std::vector<double> values(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string& text = rows[i][column];
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, values[i]);
    if (text.empty() || error != std::errc{} || stop != end || !std::isfinite(values[i])) {
      fail_at(
          file, lines[i], starts[i][column],
          fmt::format("column '{}': cannot parse '{}' as a finite number", header[column], text));
    }
  }
  return values;
}

std::vector<std::string> text_table::texts(std::size_t column) const {
  std::vector<std::string> values;
  values.reserve(rows.size());
  for (const auto& row : rows) values.push_back(row[column]);
  return values;
}

void text_table::fail(std::size_t row, std::size_t column, const std::string& what) const {
  fail_at(file, lines[row], starts[row][column], what);
}

text_table read_table(const std::string& path, char delimiter) {
  auto records = data::read_records(path, delimiter);
  text_table table;
  table.file = path;
  if (records.fields.empty()) fail_at(path, 1, 1, "the file is empty");
  table.header = std::move(records.fields.front());
  table.header_line = records.lines.front();
  for (std::size_t r = 1; r < records.fields.size(); ++r) {
    if (records.fields[r].size() != table.header.size()) {
      fail_at(path, records.lines[r], 1,
              fmt::format("{} fields, but the header has {}", records.fields[r].size(),
                          table.header.size()));
    }
    table.rows.push_back(std::move(records.fields[r]));
    table.starts.push_back(std::move(records.columns[r]));
    table.lines.push_back(records.lines[r]);
  }
  if (table.rows.empty()) fail_at(path, table.header_line + 1, 1, "the header has no rows");
  return table;
}

std::vector<std::string> read_header(const std::string& path, char delimiter) {
  try {
    return data::read_header(path, delimiter);
  } catch (const invalid_input&) {
    return {};
  }
}

std::size_t out_table::rows() const {
  if (columns.empty()) return 0;
  return std::visit([](const auto& values) { return values.size(); }, columns.front().values);
}

void write_csv(const out_table& table, std::ostream& out) {
  std::vector<std::vector<std::int32_t>> codes;
  codes.reserve(table.columns.size());
  std::vector<data::csv_column> columns;
  for (const auto& column : table.columns) {
    std::visit(
        [&](const auto& values) {
          using kind = std::decay_t<decltype(values)>;
          if constexpr (std::is_same_v<kind, std::vector<std::string>>) {
            auto& each = codes.emplace_back(values.size());
            std::iota(each.begin(), each.end(), 0);
            columns.push_back({column.name, data::coded_text{each, values}});
          } else {
            columns.push_back({column.name, std::span(values)});
          }
        },
        column.values);
  }
  out << data::format_csv(columns);
}

void write_json(const data::table& table, std::ostream& out) {
  write_record_array(table, out);
  out << '\n';
}

void write_json(const command_output& output, std::ostream& out) {
  out << "{\n";
  write_records(output.main, out);
  for (const auto& extra : output.extras) {
    out << ",\n";
    write_records(extra, out);
  }
  out << "\n}\n";
}

}  // namespace crmkit::cli
