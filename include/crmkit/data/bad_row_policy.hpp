#pragma once

#include <type_traits>

#include "crmkit/core/describe.hpp"

namespace crmkit::data {

/**
 * What a reader does with an input row it cannot read: the CSV transaction reader
 * (`data::csv_options::on_bad_row`) and the survey aggregations (`survey::aggregate_nps`, ...)
 * share it. Its own header, so that code taking the policy does not include the CSV reader.
 */
enum class bad_row_policy {
  error,  ///< throw crmkit::parse_error naming file:line:column, the column and the text
  skip,   ///< leave the row out and record it in transaction_log::skipped
};

constexpr auto description(std::type_identity<bad_row_policy>) {
  return describe::enum_table<bad_row_policy, 2>{
      "on_bad_row", {{{bad_row_policy::error, "error"}, {bad_row_policy::skip, "skip"}}}};
}

}  // namespace crmkit::data
