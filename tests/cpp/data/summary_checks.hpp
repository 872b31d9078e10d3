// Checks shared by the summary tests (test_summary.cpp, test_summary_amounts.cpp,
// test_summary_buckets.cpp).
#pragma once

#include <crmkit/core/check.hpp>
#include <crmkit/data/summary.hpp>

#include <doctest/doctest.h>

#include <string>

namespace summary_test {

/** Bitwise equality of two summaries (same keys, same doubles). */
inline void check_identical(const crmkit::data::customer_summary& a,
                            const crmkit::data::customer_summary& b) {
  CHECK(a.customer == b.customer);
  CHECK(a.frequency == b.frequency);
  CHECK(a.recency == b.recency);
  CHECK(a.T == b.T);
  CHECK(a.monetary_value == b.monetary_value);
  CHECK(a.rows_used == b.rows_used);
  CHECK(a.customers_after_end == b.customers_after_end);
}

/** The message `summarize` refuses a log's columns with ("no error" when it does not). */
template <class Log>
std::string error_of(const Log& log, const crmkit::data::summary_options& options = {}) {
  try {
    (void)crmkit::data::summarize(log.customer, log.timestamp, log.amount, options);
  } catch (const crmkit::invalid_input& error) {
    return error.what();
  }
  return "no error";
}

}  // namespace summary_test
