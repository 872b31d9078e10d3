#include "input.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "crmkit/clv/observations.hpp"
#include "crmkit/data/date_parse.hpp"
#include "crmkit/data/period.hpp"

namespace crmkit::cli {

namespace {

/** A column option: a header name, or a 0-based position with --no-header. */
data::column_ref column_ref_of(const parsed_args& args, std::string_view option,
                               std::string_view fallback) {
  const std::string text = column_option(args, option, fallback);
  if (!args.flag("no-header")) return data::column_ref(text);
  std::size_t position = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, position);
  if (error != std::errc{} || stop != end) {
    throw usage_error(
        fmt::format("--{} = '{}': with --no-header, columns are 0-based positions", option, text));
  }
  return data::column_ref::at(position);
}

}  // namespace

data::period_unit freq_option(const parsed_args& args) {
  const std::string text = args.get_or("freq", "day");
  constexpr std::array<std::pair<std::string_view, std::string_view>, 6> words{{{"hour", "H"},
                                                                                {"day", "D"},
                                                                                {"week", "W"},
                                                                                {"month", "M"},
                                                                                {"quarter", "Q"},
                                                                                {"year", "Y"}}};
  for (const auto& [word, code] : words) {
    if (text == word) return data::parse_period_unit(code, "--freq");
  }
  return data::parse_period_unit(text, "--freq");
}

namespace {

double positive_option(const parsed_args& args, std::string_view option, double fallback) {
  const double value = args.number(option, fallback);
  if (!(value > 0)) throw usage_error(fmt::format("--{} = {} must be positive", option, value));
  return value;
}

}  // namespace

std::string column_option(const parsed_args& args, std::string_view option,
                          std::string_view fallback) {
  return args.get_or(option, fallback);
}

namespace {

/** "customer_id, customer, customerid, ...": the first common names of `role`, for help texts. */
std::string common_names_hint(data::column_role role) {
  const auto names = data::common_column_names(role);
  return fmt::format("found by name: {}{}", fmt::join(names.first(std::min<std::size_t>(3, names.size())), ", "),
                     names.size() > 3 ? ", ..." : "");
}

}  // namespace

option_spec column_choice::spec() const {
  if (role) return {std::string(option), "COL", std::string(help), common_names_hint(*role)};
  return {std::string(option), "COL", std::string(help),
          required ? "" : (column.empty() ? "none" : std::string(column))};
}

std::optional<std::string> column_choice::name(const parsed_args& args) const {
  if (auto given = args.get(option)) return given;
  if (column.empty()) return std::nullopt;
  return std::string(column);
}

std::optional<std::size_t> column_choice::find(const text_table& table,
                                               const parsed_args& args) const {
  const std::string flag = fmt::format("--{}", option);
  if (auto given = args.get(option)) return table.column(*given, flag);
  if (role) return data::find_common_column(table.header, *role);
  if (!column.empty() && table.has_column(column)) return table.column(column, flag);
  return std::nullopt;
}

std::size_t column_choice::in(const text_table& table, const parsed_args& args) const {
  if (auto found = find(table, args)) return *found;
  const std::string flag = fmt::format("--{}", option);
  if (role) return table.column(data::common_column_names(*role).front(), flag);
  if (!column.empty()) return table.column(column, flag);
  throw usage_error(fmt::format("{} is required", flag));
}

option_spec delimiter_option() {
  return {"delimiter", "D", "field separator: a character, 'tab' or 'whitespace'", ","};
}

std::vector<option_spec> log_options() {
  return {{"customer-col", "COL", "customer id column (name, or 0-based position with --no-header)",
           common_names_hint(data::column_role::customer)},
          {"date-col", "COL", "date column", common_names_hint(data::column_role::date)},
          {"amount-col", "COL",
           "purchase amount column (read by the commands that need amounts, and when given)",
           common_names_hint(data::column_role::amount)},
          {"date-format", "FMT", "date format such as %d/%m/%Y (directives YymdbHMSf)",
           "ISO 8601: YYYY-MM-DD, YYYYMMDD, YYYY-MM-DD HH:MM:SS"},
          delimiter_option(),
          {"no-header", "", "the file has no header line; columns are 0-based positions", ""},
          {"skip-bad-rows", "",
           "leave out rows that cannot be read (with a warning) instead of "
           "stopping",
           ""}};
}

std::vector<option_spec> period_options() {
  return {
      {"freq", "UNIT", "time unit: hour, day, week, month (or pandas codes H, D, W, M, Q, Y)",
       "day"},
      {"freq-multiplier", "N", "durations in units of N periods (day with 7: exact weeks)", "1"},
      {"observation-end", "DATE", "end of observation", "the last date in the log"}};
}

std::vector<option_spec> summary_column_options() {
  return {{"frequency-col", "COL", "summary input: repeat purchases column", "frequency"},
          {"recency-col", "COL", "summary input: first-to-last purchase time column", "recency"},
          {"T-col", "COL", "summary input: customer age column", "T"},
          {"monetary-col", "COL", "summary input: mean repeat spend column (if present)",
           "monetary_value"}};
}

std::vector<option_spec> output_options() {
  return {{"out", "FILE", "write the result to FILE", "standard output"},
          {"format", "FMT", "csv or json (json also holds parameters and counts)", "csv"},
          {"quiet", "", "CSV format: do not print parameters and counts on standard error", ""}};
}

char delimiter_of(const parsed_args& args) {
  const std::string text = args.get_or("delimiter", ",");
  if (text == "tab" || text == "\\t") return '\t';
  if (text == "whitespace" || text == "space" || text == " ") return data::whitespace_delimiter;
  if (text.size() != 1 || text == "\"" || text == "\n" || text == "\r") {
    throw usage_error(fmt::format(
        "--delimiter = '{}' must be one character (not a quote), 'tab' or 'whitespace'", text));
  }
  return text[0];
}

std::int64_t date_option(const parsed_args& args, std::string_view option) {
  const std::string text = args.get_or(option, "");
  const auto format = args.get("date-format");
  const auto seconds =
      format ? data::date_format(*format).parse(text) : data::parse_iso_timestamp(text);
  if (!seconds) {
    throw usage_error(fmt::format("--{} = '{}' is not a date (expected {})", option, text,
                                  format ? *format : "YYYY-MM-DD or YYYYMMDD"));
  }
  return *seconds;
}

data::transaction_log read_log(const parsed_args& args, bool amount_required) {
  data::csv_options options;
  options.header = !args.flag("no-header");
  options.delimiter = delimiter_of(args);
  std::vector<std::string> header;
  const bool search_header = options.header && !(args.get("customer-col") && args.get("date-col") &&
                                                 (args.get("amount-col") || !amount_required));
  if (search_header) header = read_header(args.input(), options.delimiter);
  auto column = [&](std::string_view option, data::column_role role) {
    if (args.get(option) || !options.header) {
      return column_ref_of(args, option, data::common_column_names(role).front());
    }
    const auto found = data::find_common_column(header, role);
    return found ? data::column_ref::at(*found)
                 : data::column_ref(std::string(data::common_column_names(role).front()));
  };
  options.customer_id_col = column("customer-col", data::column_role::customer);
  options.datetime_col = column("date-col", data::column_role::date);
  if (args.get("amount-col") || amount_required) {
    options.monetary_value_col = column("amount-col", data::column_role::amount);
  }
  options.date_format = args.get_or("date-format", "");
  if (args.flag("skip-bad-rows")) options.on_bad_row = data::bad_row_policy::skip;
  try {
    return data::read_transactions(args.input(), options);
  } catch (const parse_error& problem) {
    std::string message = problem.what();
    for (const auto& [library, option] :
         {std::pair{"customer_id_col", "--customer-col"}, std::pair{"datetime_col", "--date-col"},
          std::pair{"monetary_value_col", "--amount-col"}}) {
      const auto at = message.find(library);
      if (at != std::string::npos) message.replace(at, std::string_view(library).size(), option);
    }
    throw parse_error(message, problem.file(), problem.line(), problem.column());
  }
}

std::vector<std::string> skipped_rows_warning(const data::transaction_log& log,
                                              const std::string& file) {
  if (log.skipped.empty()) return {};
  const auto& first = log.skipped.front();
  return {fmt::format("skipped {} bad rows; the first: {}:{}:{}: {}", log.skipped.size(), file,
                      first.line, first.column, first.reason)};
}

data::summary_options summary_settings(const parsed_args& args, bool include_first_transaction) {
  data::summary_options options;
  options.freq = freq_option(args);
  options.freq_multiplier = positive_option(args, "freq-multiplier", 1);
  if (args.get("observation-end"))
    options.observation_period_end = date_option(args, "observation-end");
  options.include_first_transaction = include_first_transaction;
  return options;
}

out_column customer_column(const data::transaction_log& log, std::span<const std::int64_t> keys) {
  if (!log.has_labels()) return {"customer_id", std::vector<std::int64_t>(keys.begin(), keys.end())};
  std::vector<std::string> labels;
  labels.reserve(keys.size());
  for (const auto key : keys) labels.push_back(log.customer_labels[static_cast<std::size_t>(key)]);
  return {"customer_id", std::move(labels)};
}

namespace {

/**
 * The rows of a summary file a model can take (clv::check_summaries' rules, each named at
 * file:line:column with its value): frequency a whole number >= 0, recency and T >= 0,
 * recency <= T.
 */
void check_summary_rows(const text_table& table, const customer_stats& stats,
                        const std::array<std::size_t, 3>& columns) {
  const auto [frequency, recency, age] = columns;
  for (std::size_t i = 0; i < stats.T.size(); ++i) {
    const auto cell = [&](std::size_t column) {
      return fmt::format("column '{}' = {}", table.header[column], table.rows[i][column]);
    };
    if (!(stats.frequency[i] >= 0 && clv::detail::is_whole(stats.frequency[i]))) {
      table.fail(i, frequency, cell(frequency) + ": a frequency is a whole number >= 0");
    }
    if (!(stats.recency[i] >= 0)) {
      table.fail(i, recency, cell(recency) + ": a recency is >= 0");
    }
    if (!(stats.T[i] >= 0)) table.fail(i, age, cell(age) + ": a customer age T is >= 0");
    if (stats.recency[i] > stats.T[i]) {
      table.fail(i, recency, cell(recency) + " is greater than " + cell(age));
    }
  }
}

customer_stats read_stats(const parsed_args& args, bool rfm_view) {
  const auto stats_options = summary_column_options();
  bool summary_input = std::ranges::any_of(
      stats_options, [&](const option_spec& option) { return args.get(option.name).has_value(); });
  const char delimiter = delimiter_of(args);
  const auto header = read_header(args.input(), delimiter);
  auto in_header = [&](std::string_view name) {
    return std::ranges::find(header, name) != header.end();
  };
  summary_input = summary_input || (!args.flag("no-header") && in_header("frequency") &&
                                    in_header("recency") && in_header("T"));
  customer_stats stats;
  stats.freq = freq_option(args);
  stats.freq_multiplier = positive_option(args, "freq-multiplier", 1);
  if (!summary_input) {
    const auto log = read_log(args);
    auto summary = data::summarize(log, summary_settings(args, rfm_view));
    stats.customer = customer_column(log, summary.customer);
    stats.warnings = skipped_rows_warning(log, args.input());
    stats.frequency.assign(summary.frequency.begin(), summary.frequency.end());
    stats.recency.assign(summary.recency.begin(), summary.recency.end());
    stats.T.assign(summary.T.begin(), summary.T.end());
    stats.monetary_value.assign(summary.monetary_value.begin(), summary.monetary_value.end());
    return stats;
  }
  const text_table table = read_table(args.input(), delimiter);
  const std::string frequency = column_option(args, "frequency-col", "frequency");
  stats.frequency = table.numbers(table.column(frequency, "--frequency-col"));
  stats.recency =
      table.numbers(table.column(column_option(args, "recency-col", "recency"), "--recency-col"));
  stats.T = table.numbers(table.column(column_option(args, "T-col", "T"), "--T-col"));
  const auto monetary = args.get("monetary-col");
  if (monetary || table.has_column("monetary_value")) {
    stats.monetary_value =
        table.numbers(table.column(monetary.value_or("monetary_value"), "--monetary-col"));
  }
  const auto id = args.get("customer-col");
  if (id || table.has_column("customer_id")) {
    stats.customer = {"customer_id",
                      table.texts(table.column(id.value_or("customer_id"), "--customer-col"))};
  } else if (table.header.front() != frequency) {
    stats.customer = {table.header.front(), table.texts(0)};
  } else {
    std::vector<std::int64_t> rows(table.rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<std::int64_t>(i);
    stats.customer = {"row", std::move(rows)};
  }
  check_summary_rows(table, stats,
                     {table.column(frequency, "--frequency-col"),
                      table.column(column_option(args, "recency-col", "recency"), "--recency-col"),
                      table.column(column_option(args, "T-col", "T"), "--T-col")});
  if (rfm_view) {
    for (std::size_t i = 0; i < stats.T.size(); ++i) {
      stats.recency[i] = stats.T[i] - stats.recency[i];
      stats.frequency[i] += 1;
    }
  }
  return stats;
}

}  // namespace

customer_stats read_customer_stats(const parsed_args& args) {
  return read_stats(args, false);
}

customer_stats read_rfm_stats(const parsed_args& args) {
  return read_stats(args, true);
}

}  // namespace crmkit::cli
