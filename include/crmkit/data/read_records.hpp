#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace crmkit::data {

/** The records of a delimited text file as text, with where each field starts. */
struct text_records {
  std::vector<std::vector<std::string>> fields;   ///< fields[r][f], quotes removed
  std::vector<std::size_t> lines;                 ///< 1-based line where record r starts
  std::vector<std::vector<std::size_t>> columns;  ///< 1-based byte column of fields[r][f]
};

/**
 * Every record of `path` (the header too) by the RFC 4180 scanner of `read_transactions`: '"'
 * quotes (a quoted field may span lines), `""` is a quote, unquoted fields are trimmed of spaces
 * and tabs, blank lines and a UTF-8 byte-order mark are skipped; `delimiter` ' '
 * (`whitespace_delimiter`) splits on runs of spaces and tabs. Field counts are not checked.
 * @throw invalid_input for a directory or a file that cannot be read; parse_error
 *        (file:line:column, the text escaped) for a malformed quoted field and for a UTF-16 or
 *        UTF-32 file.
 */
text_records read_records(const std::string& path, char delimiter);

/** The first `max_records` records of `text` as `read_records` reads a file named `source`. */
text_records parse_records(std::string_view text, char delimiter, const std::string& source,
                           std::size_t max_records = std::numeric_limits<std::size_t>::max());

}  // namespace crmkit::data
