#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace crmkit::data {

/** A row of input that was skipped on request, with the reason (for `on_bad_row = skip`). */
struct skipped_row {
  std::size_t line = 0;    ///< 1-based line in the file (or 0-based row for in-memory input)
  std::size_t column = 0;  ///< 1-based column of the offending field
  std::string reason;      ///< what was wrong, naming the column and the text
};

/**
 * A transaction log held in columns, one element per transaction.
 *
 * `customer` holds one key per row. When every id in the source is an integer, the key is the
 * id itself and `customer_labels` is empty; otherwise the key is an index into
 * `customer_labels` (labels numbered in order of first appearance).
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

}  // namespace crmkit::data
