#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

/**
 * One generic columnar table for every table the library produces as a result (the report's
 * tables, the command-line tool's output): named columns of equal length, each one of a few
 * cell types, and a count of leading columns that form the row index (pandas' index when the
 * Python side turns the table into a DataFrame; an ordinary first column in CSV).
 */
namespace crmkit::data {

/** Text cells as codes into a list of distinct labels; code -1 is a missing cell. */
struct text_values {
  std::vector<std::int32_t> codes;
  std::vector<std::string> labels;
};

/** Calendar dates as days since 1970-01-01, written ISO YYYY-MM-DD; `missing_day` is missing. */
struct date_values {
  std::vector<std::int64_t> days;
};

/** Yes/no cells, written `True` / `False` (as pandas writes booleans). */
struct flag_values {
  std::vector<std::uint8_t> flags;
};

/** A missing date cell. */
inline constexpr std::int64_t missing_day = std::numeric_limits<std::int64_t>::min();

/**
 * One column: numbers (NaN is a missing cell, written empty), integers, coded text, dates or
 * flags.
 */
struct table_column {
  using value_type = std::variant<std::vector<double>, std::vector<std::int64_t>, text_values,
                                  date_values, flag_values>;
  std::string name;
  value_type values;

  [[nodiscard]] std::size_t size() const noexcept;
};

/**
 * A table of equally long named columns; the first `index_columns` columns form the row index.
 *
 * Building one: `t.add("customers", std::vector<std::int64_t>{...})`, or
 * `t.add_text("segment", codes, labels)`; `t.get<double>("clv")` reads a column back.
 */
struct table {
  std::vector<table_column> columns;
  std::size_t index_columns = 0;

  /** Rows (0 for a table without columns). */
  [[nodiscard]] std::size_t rows() const noexcept;
  /** The column named `name`, or nullptr. */
  [[nodiscard]] const table_column* find(std::string_view name) const noexcept;
  /** The column named `name`. @throw invalid_input naming the column and the table's columns. */
  [[nodiscard]] const table_column& column(std::string_view name) const;
  /** The values of a column of type T (double, int64, text_values, date_values, flag_values). */
  template <class T>
  [[nodiscard]] const T& get(std::string_view name) const {
    return std::get<T>(column(name).values);
  }
  /** Appends a column. @throw invalid_input when its length differs from the table's rows. */
  table& add(std::string name, table_column::value_type values);
  /** Appends a coded text column. */
  table& add_text(std::string name, std::vector<std::int32_t> codes,
                  std::vector<std::string> labels);
  /** Appends a text column holding `text` in every one of `rows` rows (one label). */
  table& add_constant_text(std::string name, const std::string& text, std::size_t rows);
  /** Appends a text column from one string per row (labels: distinct strings, first seen first). */
  table& add_strings(std::string name, const std::vector<std::string>& text);
};

/** A table's rows `order[0]`, `order[1]`, ... (a permutation or a selection), same columns. */
table take_rows(const table& source, const std::vector<std::size_t>& order);

/** The text of cell `row` of a text column (empty for a missing cell). */
[[nodiscard]] std::string_view text_at(const text_values& column, std::size_t row) noexcept;

/** ISO date YYYY-MM-DD of a day count since 1970-01-01 (proleptic Gregorian). */
std::string iso_date(std::int64_t days);

}  // namespace crmkit::data
