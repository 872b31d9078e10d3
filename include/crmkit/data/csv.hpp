#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "crmkit/core/describe.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/data/bad_row_policy.hpp"
#include "crmkit/data/transaction_log.hpp"

namespace crmkit::data {

/**
 * A column chosen by its header name, or by its 0-based position among a row's fields.
 *
 * **Example**: `csv_options{.customer_id_col = "id", .datetime_col = column_ref::at(2)}`.
 */
struct column_ref {
  std::string name;                     ///< header name (used when `position` is empty)
  std::optional<std::size_t> position;  ///< 0-based field index

  // Implicit, so that `options.datetime_col = "date";` reads naturally.
  // NOLINTNEXTLINE(google-explicit-constructor)
  column_ref(std::string header_name) : name(std::move(header_name)) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  column_ref(const char* header_name) : name(header_name) {}
  /** The field at 0-based `index`, with or without a header. */
  static column_ref at(std::size_t index) {
    column_ref column{""};
    column.position = index;
    return column;
  }
};

/** `csv_options::delimiter` value meaning "runs of spaces and tabs" (as in CDNOW_master.txt). */
inline constexpr char whitespace_delimiter = ' ';

/** How read_transactions finds and reads the columns of a delimited text file. */
struct csv_options {
  column_ref customer_id_col = "customer_id";
  column_ref datetime_col = "date";
  std::optional<column_ref> monetary_value_col;  ///< no amount column when empty
  /** The first non-blank line holds column names; without one, use column_ref::at(...). */
  bool header = true;
  /**
   * Field separator: any character but '"', '\n' and '\r'; typically ',', ';', '\t' or '|'.
   * `whitespace_delimiter` (' ') splits on runs of spaces and tabs and ignores them at the
   * start and end of a line.
   */
  char delimiter = ',';
  /** Empty: the ISO forms of parse_iso_timestamp. Otherwise a date_format such as "%d/%m/%Y". */
  std::string date_format;
  bad_row_policy on_bad_row = bad_row_policy::error;
  /** Timestamps outside [min_timestamp, max_timestamp] are bad rows (e.g. a caller's range). */
  std::int64_t min_timestamp = std::numeric_limits<std::int64_t>::min();
  std::int64_t max_timestamp = std::numeric_limits<std::int64_t>::max();
  /** Bytes per parallel work unit. Affects speed only, never the result. */
  std::size_t chunk_bytes = std::size_t{1} << 20;
};

/**
 * Reads a transaction log from a delimited text file (CSV, TSV, whitespace-separated).
 *
 * Format: RFC 4180 records. Fields may be quoted with '"' (a doubled `""` is a quote; quoted
 * fields may hold delimiters and line breaks); lines end in LF or CRLF; a UTF-8 byte-order mark
 * is ignored; blank lines (nothing but spaces, tabs or CR) are ignored anywhere. Spaces and tabs
 * around an unquoted field are trimmed (not inside quotes). Every row must have as many fields
 * as the header (without a header: as the first row).
 *
 * Values:
 * - customer id: when every id is an integer that fits in int64 (optional '-', leading zeros
 *   allowed: "00042" is 42), the key is that integer and `customer_labels` stays empty;
 *   otherwise each distinct text (exact, after the trimming above) among the rows kept becomes
 *   a label, the labels are numbered 0, 1, ... in ascending byte order (see transaction_log),
 *   and the key is that number.
 *   An empty id is a bad row.
 * - datetime: see parse_iso_timestamp (YYYY-MM-DD, YYYYMMDD, ISO datetimes) or the
 *   `date_format` option (date_format); seconds since 1970-01-01 without a time zone.
 * - amount: a decimal number (`std::from_chars` grammar, e.g. "-12.5", "1e3"); empty text,
 *   non-numbers, NaN, infinities and values beyond the double range are bad rows.
 *
 * Bad rows throw crmkit::parse_error with the message
 * `file:line:column: column 'date': cannot parse '1997-13-01' as a date (expected ...)`, where
 * line is the 1-based physical line and column the 1-based byte column of the field on it; or,
 * with `on_bad_row = skip`, are left out and listed in transaction_log::skipped. Structural
 * problems (wrong field count, an unterminated quote, text after a closing quote) are bad rows
 * too. Missing columns, an empty file and a header without rows always throw.
 *
 * Speed: the file is read whole and cut into chunks of about `chunk_bytes` at line ends;
 * chunks are parsed in parallel (crmkit::parallel_chunks) and joined in file order, labels by an
 * ordered merge of per-chunk tables. A cut that falls inside a quoted field is detected (the
 * chunk before it ends inside quotes) and that chunk is joined with the next and read again, so
 * the result, errors included, is that of a serial read for any thread count.
 *
 * @throw crmkit::invalid_input for a file that cannot be read or invalid options
 * @throw crmkit::parse_error for missing columns, empty input and bad rows (unless skipped)
 */
transaction_log read_transactions(const std::string& path, const csv_options& options = {});

/**
 * The same as read_transactions for text already in memory; `source_name` stands for the file
 * name in messages.
 */
transaction_log parse_transactions(std::string_view text, const csv_options& options = {},
                                   const std::string& source_name = "<text>");

}  // namespace crmkit::data
