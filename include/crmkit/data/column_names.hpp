#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "crmkit/core/describe.hpp"

namespace crmkit::data {

/**
 * What a column of an input file holds, for finding it among the names people commonly give it
 * when the caller names no column: both front ends of the report (`python -m crmkit report` and
 * the C++ `crmkit`) find their input columns by `find_common_column`, so a file reads the same
 * way in both.
 */
enum class column_role : std::uint8_t {
  customer,     ///< customer id (transaction log, survey, order lines)
  date,         ///< purchase date (transaction log, order lines)
  amount,       ///< purchase amount
  nps,          ///< 0-10 likelihood-to-recommend answer
  csat,         ///< 1-5 satisfaction answer
  order,        ///< order (basket, invoice) id of an order line
  product,      ///< product id of an order line
  quantity,     ///< quantity of an order line (negative: a return)
  survey_date,  ///< date a survey answer was given
};

constexpr auto description(std::type_identity<column_role>) {
  return describe::enum_table<column_role, 9>{
      "column_role",
      {{{column_role::customer, "customer"},
        {column_role::date, "date"},
        {column_role::amount, "amount"},
        {column_role::nps, "nps"},
        {column_role::csat, "csat"},
        {column_role::order, "order"},
        {column_role::product, "product"},
        {column_role::quantity, "quantity"},
        {column_role::survey_date, "survey_date"}}}};
}

/**
 * The header names commonly used for `role`, most preferred first (the first is the name a
 * message suggests, e.g. "customer_id"). Compared with a file's header after
 * `normalised_column_name`, so "Customer ID", "customer-id" and "CUSTOMERID" all match.
 */
std::span<const std::string_view> common_column_names(column_role role) noexcept;

/** `name` in ASCII lower case with every byte that is not an ASCII letter or digit removed. */
std::string normalised_column_name(std::string_view name);

/**
 * The position in `header` of the column for `role`: the first of `common_column_names(role)`,
 * in that order of preference, whose normalised form equals a header name's; among header names
 * that normalise alike, the first. Nothing when no header name matches.
 */
std::optional<std::size_t> find_common_column(std::span<const std::string> header,
                                              column_role role);

/**
 * The header of a delimited text file: its first record as `read_records` reads it (quotes,
 * byte-order mark and blank lines handled alike), reading no more of the file than that record
 * and at most `max_header_bytes`.
 * @throw invalid_input for a file that cannot be read, is empty, or whose first record is longer
 *        than `max_header_bytes`; parse_error for a malformed first record.
 */
std::vector<std::string> read_header(const std::string& path, char delimiter,
                                     std::size_t max_header_bytes = std::size_t{1} << 20);

}  // namespace crmkit::data
