#pragma once

// The CDNOW master file as the examples read it: whitespace-separated, with a header
// (customer_id, date as YYYYMMDD, count, dollar_value), in the folder given as argv[1].
#include <crmkit/data/csv.hpp>

#include "skip.hpp"

#include <cstdio>
#include <filesystem>
#include <optional>

/**
 * CDNOW_master.txt read from the folder in argv[1]. Empty when there is nothing to do, with
 * `exit_code` set: 2 after printing the usage (no folder given), `example_skipped` when the file is
 * absent.
 */
inline std::optional<crmkit::data::transaction_log> read_cdnow_master(int argc, char** argv,
                                                                      int& exit_code) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <folder holding CDNOW_master.txt>\n", argv[0]);
    exit_code = 2;
    return std::nullopt;
  }
  if (!data_file_present(argv[1], "CDNOW_master.txt")) {
    exit_code = example_skipped;
    return std::nullopt;
  }
  const std::filesystem::path file = std::filesystem::path(argv[1]) / "CDNOW_master.txt";
  crmkit::data::csv_options options;
  options.delimiter = crmkit::data::whitespace_delimiter;
  options.customer_id_col = "customer_id";
  options.datetime_col = "date";
  options.monetary_value_col = crmkit::data::column_ref("dollar_value");
  return crmkit::data::read_transactions(file.string(), options);
}
