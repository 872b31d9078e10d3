#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/core/describe.hpp"

namespace crmkit::data {

/** A row of input that was skipped on request, with the reason (for `on_bad_row = skip`). */
struct skipped_row {
  std::size_t line = 0;    ///< 1-based line in the file (or 0-based row for in-memory input)
  std::size_t column = 0;  ///< 1-based column of the offending field
  std::string reason;      ///< what was wrong, naming the column and the text
};

constexpr auto description(std::type_identity<skipped_row>) {
  using s = skipped_row;
  return std::tuple{
      describe::field{"line", &s::line, "1-based line in the file (0-based row in memory)"},
      describe::field{"column", &s::column, "1-based column of the offending field"},
      describe::field{"reason", &s::reason, "what was wrong, naming the column and the text"}};
}

/**
 * A transaction log held in columns, one element per transaction.
 *
 * `customer` holds one key per row. When every id in the source is an integer, the key is the
 * id itself and `customer_labels` is empty; otherwise the key is an index into
 * `customer_labels`, the distinct ids' texts in ascending byte order (UTF-8 code points, as
 * Python orders str and `pandas.factorize(sort=True)` numbers them), so that a customer's key,
 * and every result that follows the key order, does not depend on the order of the rows.
 * `timestamp` is seconds since 1970-01-01T00:00:00, without a time zone (calendar arithmetic
 * only). `amount` is empty when the source has no amount column.
 */
struct transaction_log {
  std::vector<std::int64_t> customer;
  std::vector<std::string> customer_labels;
  std::vector<std::int64_t> timestamp;
  std::vector<double> amount;
  std::vector<skipped_row> skipped;

  [[nodiscard]] std::size_t size() const noexcept { return customer.size(); }
  [[nodiscard]] bool has_amount() const noexcept { return !amount.empty(); }
  [[nodiscard]] bool has_labels() const noexcept { return !customer_labels.empty(); }
};

constexpr auto description(std::type_identity<transaction_log>) {
  using s = transaction_log;
  return std::tuple{
      describe::field{"customer", &s::customer,
                      "one key per row: the integer id, or an index into customer_labels"},
      describe::field{"customer_labels", &s::customer_labels,
                      "the distinct ids' texts in ascending byte order (empty: every id an integer)"},
      describe::field{"timestamp", &s::timestamp, "seconds since 1970-01-01T00:00:00"},
      describe::field{"amount", &s::amount, "amounts (empty without an amount column)"},
      describe::field{"skipped", &s::skipped, "rows left out under on_bad_row = skip"}};
}

}  // namespace crmkit::data
