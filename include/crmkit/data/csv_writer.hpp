#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

/**
 * Writing tables as CSV, fast enough that a report's per-customer table costs less than
 * computing it: rows are formatted in parallel blocks (numbers from Dragonbox's shortest
 * round-trip digits, via fmt) and written in order while the next block is formatted, so the
 * file is the same for any thread count.
 */
namespace crmkit::data {

/** Text cells as codes into a list of distinct labels; a negative code is a missing cell. */
struct coded_text {
  std::span<const std::int32_t> codes;
  std::span<const std::string> labels;
};

/** Dates as days since 1970-01-01, written YYYY-MM-DD; `missing_day` (table.hpp) is empty. */
struct date_cells {
  std::span<const std::int64_t> days;
};

/** Yes/no cells, written `True` / `False`. */
struct flag_cells {
  std::span<const std::uint8_t> flags;
};

/** One column of a table to write. */
struct csv_column {
  std::string name;
  /** Numbers (NaN is written as an empty cell), integers, coded text, dates or flags. */
  std::variant<std::span<const double>, std::span<const std::int64_t>, coded_text, date_cells,
               flag_cells>
      values;
};

/**
 * Writes `columns` to `path` as RFC 4180 CSV: a header line, then one line per row. Numbers are
 * written with the fewest digits that read back to the same double, laid out exactly as
 * std::to_chars(double) writes them (fixed or scientific, whichever is shorter), NaN as an
 * empty cell and infinities as `inf`/`-inf`; names and labels are quoted only when they hold a
 * comma, a quote or a line break (a quote doubled).
 *
 * @throw invalid_input when the columns differ in length, a code is out of range of its labels,
 *        or the file cannot be written (naming the path and the system's reason).
 */
void write_csv(const std::string& path, std::span<const csv_column> columns);

/** The same table as one string (for tests and small tables). */
std::string format_csv(std::span<const csv_column> columns);

struct table;

/** Writes a `data::table` (every column, the index columns first as they stand) as above. */
void write_csv(const std::string& path, const table& table);

/** A `data::table` as one CSV string. */
std::string format_csv(const table& table);

}  // namespace crmkit::data
