#pragma once

#include <string>
#include <string_view>

#include "crmkit/data/csv.hpp"

// The reader's two ways of reading rows, for the tests that hold one to the other.
namespace crmkit::data::detail {

/**
 * How parse_transactions reads a line: a simple row (no quote, no padding, values in their
 * plain forms) in one pass, any other line by the record scanner; or every line by the record
 * scanner. Both give the same log and the same errors.
 */
enum class row_reading { one_pass_where_simple, record_scanner_only };

/** parse_transactions (crmkit/data/csv.hpp), reading rows as `reading` says. */
transaction_log parse_transactions(std::string_view text, const csv_options& options,
                                   const std::string& source_name, row_reading reading);

}  // namespace crmkit::data::detail
