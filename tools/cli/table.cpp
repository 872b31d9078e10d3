#include "table.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "args.hpp"
#include "crmkit/core/error.hpp"

namespace crmkit::cli {

namespace {

bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t';
}

std::string read_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw invalid_input(fmt::format("cannot read '{}': it is a directory", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw invalid_input(fmt::format("cannot open '{}' for reading", path));
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

struct line_fields {
  std::vector<std::string> fields;
  std::vector<std::size_t> starts;
};

/** Splits one line; `problem` names the 1-based column of a malformed quote. */
bool split_line(std::string_view line, char delimiter, line_fields& out, std::size_t& problem) {
  out.fields.clear();
  out.starts.clear();
  const bool whitespace = delimiter == ' ';
  std::size_t i = 0;
  if (whitespace) {
    while (i < line.size() && is_blank(line[i])) ++i;
  }
  while (true) {
    while (i < line.size() && is_blank(line[i]) && !whitespace) ++i;
    out.starts.push_back(i + 1);
    std::string field;
    if (i < line.size() && line[i] == '"') {
      const std::size_t open = i++;
      while (true) {
        if (i >= line.size()) {
          problem = open + 1;
          return false;
        }
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      while (i < line.size() && is_blank(line[i]) && !whitespace) ++i;
    } else {
      const std::size_t begin = i;
      while (i < line.size() && line[i] != delimiter && !(whitespace && is_blank(line[i]))) ++i;
      std::size_t end = i;
      while (end > begin && is_blank(line[end - 1])) --end;
      field.assign(line.substr(begin, end - begin));
    }
    out.fields.push_back(std::move(field));
    if (whitespace) {
      while (i < line.size() && is_blank(line[i])) ++i;
      if (i >= line.size()) return true;
      continue;
    }
    if (i >= line.size()) return true;
    if (line[i] != delimiter) {
      problem = i + 1;
      return false;
    }
    ++i;
  }
}

/** Calls `visit(line_number, line)` for every non-blank line (CR stripped, BOM skipped). */
template <class Visit>
void for_each_line(std::string_view text, Visit&& visit) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::size_t number = 0;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t newline = std::min(text.find('\n', begin), text.size());
    std::string_view line = text.substr(begin, newline - begin);
    begin = newline + 1;
    ++number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (!visit(number, line)) return;
  }
}

[[noreturn]] void fail_at(const std::string& file, std::size_t line, std::size_t column,
                          const std::string& what) {
  throw parse_error(fmt::format("{}:{}:{}: {}", file, line, column, what), file, line, column);
}

std::string quoted_csv(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
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
std::string cell(const out_column& column, std::size_t row, bool json) {
  if (const auto* numbers = std::get_if<std::vector<double>>(&column.values)) {
    const double value = (*numbers)[row];
    if (std::isfinite(value)) return fmt::format("{}", value);
    if (json) return "null";
    return std::isnan(value) ? "" : (value > 0 ? "inf" : "-inf");
  }
  if (const auto* integers = std::get_if<std::vector<std::int64_t>>(&column.values)) {
    return fmt::format("{}", (*integers)[row]);
  }
  const auto& text = std::get<std::vector<std::string>>(column.values)[row];
  return json ? json_string(text) : quoted_csv(text);
}

void write_records(const out_table& table, std::ostream& out) {
  out << json_string(table.name) << ": [";
  for (std::size_t row = 0; row < table.rows(); ++row) {
    out << (row == 0 ? "\n  {" : ",\n  {");
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      out << (c == 0 ? "" : ", ") << json_string(table.columns[c].name) << ": "
          << cell(table.columns[c], row, true);
    }
    out << '}';
  }
  out << (table.rows() == 0 ? "]" : "\n]");
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

text_table read_table(const std::string& path, char delimiter) {
  const std::string text = read_file(path);
  text_table table;
  table.file = path;
  line_fields split;
  for_each_line(text, [&](std::size_t number, std::string_view line) {
    std::size_t problem = 0;
    if (!split_line(line, delimiter, split, problem)) {
      fail_at(path, number, problem,
              "malformed quoted field (a quote must close before the "
              "end of the line and be followed by the delimiter)");
    }
    if (table.header.empty()) {
      table.header = split.fields;
      table.header_line = number;
      return true;
    }
    if (split.fields.size() != table.header.size()) {
      fail_at(path, number, 1,
              fmt::format("{} fields, but the header has {}", split.fields.size(),
                          table.header.size()));
    }
    table.rows.push_back(split.fields);
    table.starts.push_back(split.starts);
    table.lines.push_back(number);
    return true;
  });
  if (table.header.empty()) fail_at(path, 1, 1, "the file is empty");
  if (table.rows.empty()) fail_at(path, table.header_line + 1, 1, "the header has no rows");
  return table;
}

std::vector<std::string> read_header(const std::string& path, char delimiter) {
  std::ifstream in(path, std::ios::binary);
  std::string first;
  std::string line;
  while (std::getline(in, line)) {
    if (line.ends_with('\r')) line.pop_back();
    if (line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);
    if (line.find_first_not_of(" \t") != std::string::npos) {
      first = line;
      break;
    }
  }
  line_fields split;
  std::size_t problem = 0;
  if (first.empty() || !split_line(first, delimiter, split, problem)) return {};
  return split.fields;
}

std::size_t out_table::rows() const {
  if (columns.empty()) return 0;
  return std::visit([](const auto& values) { return values.size(); }, columns.front().values);
}

void write_csv(const out_table& table, std::ostream& out) {
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    out << (c == 0 ? "" : ",") << quoted_csv(table.columns[c].name);
  }
  out << '\n';
  std::string line;
  for (std::size_t row = 0; row < table.rows(); ++row) {
    line.clear();
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      if (c > 0) line += ',';
      line += cell(table.columns[c], row, false);
    }
    line += '\n';
    out << line;
  }
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
