#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "args.hpp"
#include "crmkit/data/column_names.hpp"
#include "crmkit/data/csv.hpp"
#include "crmkit/data/summary.hpp"
#include "table.hpp"

/** Reading the inputs shared by several subcommands: transaction logs and customer summaries. */
namespace crmkit::cli {

/** --customer-col, --date-col, --amount-col, --date-format, --delimiter, --no-header. */
std::vector<option_spec> log_options();
/** --delimiter, for every command that reads a table. */
option_spec delimiter_option();
/** --freq, --freq-multiplier, --observation-end. */
std::vector<option_spec> period_options();
/** --frequency-col, --recency-col, --T-col, --monetary-col (a summary file as input). */
std::vector<option_spec> summary_column_options();
/** --out, --format, --quiet. */
std::vector<option_spec> output_options();

/** The --delimiter character (' ' for "whitespace"). */
char delimiter_of(const parsed_args& args);

/**
 * Reads the input as a transaction log with the log options; with `amount_required` the amount
 * column is read even without --amount-col (default name "amount").
 */
data::transaction_log read_log(const parsed_args& args, bool amount_required = false);

/** A warning line for the rows --skip-bad-rows left out (empty when none were). */
std::vector<std::string> skipped_rows_warning(const data::transaction_log& log,
                                              const std::string& file);

/** The --freq unit (words such as "week" or pandas codes). */
data::period_unit freq_option(const parsed_args& args);

/** The summary settings of --freq, --freq-multiplier and --observation-end. */
data::summary_options summary_settings(const parsed_args& args, bool include_first_transaction);

/** A date option's value as seconds (ISO forms, or --date-format when given). */
std::int64_t date_option(const parsed_args& args, std::string_view option);

/** Customer keys as an output column: the labels when the log has them, else the integer ids. */
out_column customer_column(const data::transaction_log& log, std::span<const std::int64_t> keys);

/** Per-customer statistics from a log (summarised) or from a summary file. */
struct customer_stats {
  out_column customer;
  std::vector<double> frequency;
  std::vector<double> recency;
  std::vector<double> T;
  std::vector<double> monetary_value;               ///< empty when unknown
  std::vector<std::string> warnings;                ///< rows skipped in the log
  data::period_unit freq = data::period_unit::day;  ///< time unit of recency and T ...
  double freq_multiplier = 1;                       ///< ... in periods of this many `freq`
};

/**
 * The input as lifetimes-view statistics (frequency = repeat purchases, recency = first to last
 * purchase, T = first purchase to the end). A file whose header has the summary columns (or
 * where one of them is named by an option) is read as a summary; anything else as a log.
 */
customer_stats read_customer_stats(const parsed_args& args);

/**
 * The input as RFM statistics: recency = time since the last purchase, frequency = all
 * purchases, monetary_value = mean purchase (a log summarised with include_first_transaction;
 * a lifetimes-view summary converted: T - recency, frequency + 1, its monetary value).
 */
customer_stats read_rfm_stats(const parsed_args& args);

/**
 * An option naming a column of an input table, `--option COL`: declared (spec) and read (name,
 * find, in) from one definition, so its default is spelled once. Without the option the column
 * is the first header name among the common names of `role` (data::find_common_column, as the
 * Python report finds it) when a role is set, else `column`; an empty `column` and no role mean
 * no default: the column is optional, or required when `required`.
 */
struct column_choice {
  std::string_view option;  ///< without "--"
  std::string_view help;
  std::string_view column;  ///< the default column name; empty: none
  bool required = false;
  std::optional<data::column_role> role = std::nullopt;

  [[nodiscard]] option_spec spec() const;
  /** The column given on the command line, else the default name; nothing when neither. */
  [[nodiscard]] std::optional<std::string> name(const parsed_args& args) const;
  /**
   * The column's index in `table`: the one given (parse_error listing the header when it is not
   * there), else the one found by role or default name; nothing when none is found.
   */
  [[nodiscard]] std::optional<std::size_t> find(const text_table& table,
                                                const parsed_args& args) const;
  /** As `find`, but a column that is not there is an error (usage_error or parse_error). */
  [[nodiscard]] std::size_t in(const text_table& table, const parsed_args& args) const;
};

/** An option naming a column, with its default. */
std::string column_option(const parsed_args& args, std::string_view option,
                          std::string_view fallback);

}  // namespace crmkit::cli
