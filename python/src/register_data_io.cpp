#include <fmt/format.h>
#include <crmkit/data/column_names.hpp>
#include <crmkit/data/csv.hpp>
#include <crmkit/data/csv_writer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bindings.hpp"
#include "schema.hpp"

namespace crmkit::python {

namespace {

using column_argument = std::variant<std::size_t, std::string>;

data::column_ref to_column(const column_argument& column) {
  if (const auto* position = std::get_if<std::size_t>(&column)) {
    return data::column_ref::at(*position);
  }
  return {std::get<std::string>(column)};
}

}  // namespace

void register_data_io(py::module_& module) {
  using namespace pybind11::literals;
  record_schema<data::transaction_log>(module, "TransactionLog", {"read_transactions"});
  module.def(
      "read_transactions",
      [](const std::string& path, const column_argument& customer_id_col,
         const column_argument& datetime_col,
         const std::optional<column_argument>& monetary_value_col, char delimiter, bool header,
         const std::string& date_format, const std::string& on_bad_row, std::int64_t min_timestamp,
         std::int64_t max_timestamp, const std::optional<std::string>& text) {
        data::csv_options options;
        options.customer_id_col = to_column(customer_id_col);
        options.datetime_col = to_column(datetime_col);
        if (monetary_value_col) options.monetary_value_col = to_column(*monetary_value_col);
        options.delimiter = delimiter;
        options.header = header;
        options.date_format = date_format;
        options.on_bad_row = describe::parse<data::bad_row_policy>(on_bad_row);
        options.min_timestamp = min_timestamp;
        options.max_timestamp = max_timestamp;
        // Only C++ objects are touched while reading, so other Python threads may run.
        return export_without_gil([&] {
          return text ? data::parse_transactions(*text, options, path)
                      : data::read_transactions(path, options);
        });
      },
      "path"_a, "customer_id_col"_a, "datetime_col"_a, "monetary_value_col"_a, "delimiter"_a,
      "header"_a, "date_format"_a, "on_bad_row"_a, "min_timestamp"_a, "max_timestamp"_a,
      "text"_a = py::none(),
      R"doc(Reads a transaction log from a delimited text file (crmkit::data::read_transactions).

Columns are header names (str) or 0-based positions (int); delimiter ' ' splits on runs of
spaces and tabs; date_format '' means the ISO forms; on_bad_row is 'error' or 'skip'; timestamps
outside [min_timestamp, max_timestamp] (seconds since 1970-01-01) are bad rows. Returns the
crmkit::data::transaction_log as a dict keyed by its fields: customer (int64 keys),
customer_labels (list of str, empty when every id is an integer), timestamp (int64 seconds),
amount (float64, empty without an amount column) and skipped (columns line, column, reason). With text (UTF-8 bytes, e.g. a file transcoded by the caller), that text
is parsed instead of the file and path only names it in messages. Use crmkit.read_transactions,
which returns a DataFrame.)doc");

  module.def(
      "common_column_names",
      [](const std::string& role) {
        const auto names = data::common_column_names(describe::parse<data::column_role>(role));
        return std::vector<std::string>(names.begin(), names.end());
      },
      "role"_a,
      R"doc(The header names commonly used for a column role (crmkit::data::common_column_names),
most preferred first; role is one of crmkit::data::column_role's names.)doc");
  module.def(
      "find_common_column",
      [](const std::vector<std::string>& header, const std::string& role) {
        return data::find_common_column(header, describe::parse<data::column_role>(role));
      },
      "header"_a, "role"_a,
      R"doc(The position in header of the column for role among its common names, compared in
normalised form (crmkit::data::find_common_column); None when no name matches.)doc");

  module.def(
      "write_csv",
      [](const std::string& path, const std::vector<std::string>& names, const py::list& values) {
        if (names.size() != values.size()) {
          throw invalid_input(
              fmt::format("write_csv: {} names for {} columns", names.size(), values.size()));
        }
        // The arrays and label lists stay referenced here while the C++ writer views them.
        std::vector<py::object> kept;
        std::vector<std::vector<std::string>> labels(names.size());
        std::vector<data::csv_column> columns;
        for (std::size_t c = 0; c < names.size(); ++c) {
          const py::handle value = values[c];
          data::csv_column column{names[c], std::span<const double>{}};
          if (py::isinstance<py::tuple>(value)) {
            const auto codes = py::cast<core_array<std::int32_t>>(value.cast<py::tuple>()[0]);
            labels[c] = py::cast<std::vector<std::string>>(value.cast<py::tuple>()[1]);
            kept.emplace_back(codes);
            column.values = data::coded_text{as_span(codes), labels[c]};
          } else if (py::isinstance<py::array_t<std::int64_t>>(value)) {
            const auto integers = py::cast<int64_array>(value);
            kept.emplace_back(integers);
            column.values = as_span(integers);
          } else {
            const auto numbers = py::cast<double_array>(value);
            kept.emplace_back(numbers);
            column.values = as_span(numbers);
          }
          columns.push_back(std::move(column));
        }
        const py::gil_scoped_release release;
        data::write_csv(path, columns);
      },
      "path"_a, "names"_a, "columns"_a,
      R"doc(Writes columns as CSV (crmkit::data::write_csv): shortest round-trip numbers, NaN as
an empty cell, rows formatted in parallel. columns[i] is a float64 array, an int64 array, or a
tuple (int32 codes, list of str labels) with code -1 for a missing cell. Use
crmkit.data.write_csv, which takes a DataFrame.)doc");
}

}  // namespace crmkit::python
