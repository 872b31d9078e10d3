#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crmkit/data/table.hpp"

/**
 * The tables the `crmkit` tool reads besides transaction logs (summaries, features, survey
 * answers) and the tables it writes (CSV or JSON).
 */
namespace crmkit::cli {

/**
 * A delimited text file with a header line, held as text cells. Quoting as RFC 4180 within one
 * line ('"' quotes, `""` a quote); blank lines and a UTF-8 byte-order mark are ignored; spaces
 * around unquoted fields are trimmed. Every row must have as many fields as the header.
 */
struct text_table {
  std::string file;
  std::vector<std::string> header;
  std::size_t header_line = 1;
  std::vector<std::vector<std::string>> rows;    ///< rows[i][c]
  std::vector<std::size_t> lines;                ///< 1-based line of rows[i]
  std::vector<std::vector<std::size_t>> starts;  ///< 1-based byte column of rows[i][c]

  /** Index of the column named `name`; parse_error listing the header (and a suggestion) else. */
  [[nodiscard]] std::size_t column(std::string_view name, std::string_view option) const;
  [[nodiscard]] bool has_column(std::string_view name) const;
  /** A column as finite numbers; parse_error at file:line:column naming the text otherwise. */
  [[nodiscard]] std::vector<double> numbers(std::size_t column) const;
  /** A column as text. */
  [[nodiscard]] std::vector<std::string> texts(std::size_t column) const;
  /** @throw parse_error "file:line:column: what" at cell (row, column). */
  [[noreturn]] void fail(std::size_t row, std::size_t column, const std::string& what) const;
};

/**
 * Reads `path` split on `delimiter` (' ' splits on runs of spaces and tabs).
 * @throw invalid_input for a file that cannot be read; parse_error (file:line:column) for an
 *        empty file, a header without rows, a wrong field count or an unterminated quote.
 */
text_table read_table(const std::string& path, char delimiter);

/** The header of `path` (data::read_header); empty when the file is unreadable or empty. */
std::vector<std::string> read_header(const std::string& path, char delimiter);

/** A named output column: numbers (NaN written as empty / null), integers or text. */
struct out_column {
  std::string name;
  std::variant<std::vector<double>, std::vector<std::int64_t>, std::vector<std::string>> values;
};

/** A named table of equally long columns. */
struct out_table {
  std::string name;
  std::vector<out_column> columns;
  [[nodiscard]] std::size_t rows() const;
};

/** What a subcommand produces: the main table and a few smaller ones (parameters, counts). */
struct command_output {
  out_table main;
  std::vector<out_table> extras;
  std::vector<std::string> warnings;  ///< soft problems, printed on standard error
};

/** Writes one table as CSV (header line, RFC 4180 quoting, shortest round-trip numbers). */
void write_csv(const out_table& table, std::ostream& out);

/**
 * Writes a library table as a JSON array of row objects [{column: value, ...}, ...]: numbers
 * (NaN null), integers, text (missing null), dates as "YYYY-MM-DD" (missing null), flags as
 * true/false; index columns are ordinary members.
 */
void write_json(const data::table& table, std::ostream& out);

/** Writes every table as a JSON object {"main name": [{column: value, ...}, ...], ...}. */
void write_json(const command_output& output, std::ostream& out);

}  // namespace crmkit::cli
