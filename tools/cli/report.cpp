#include "report.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/data/csv_writer.hpp"
#include "crmkit/data/date_parse.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/basket/item_index.hpp"
#include "crmkit/pipeline.hpp"
#include "described.hpp"
#include "input.hpp"

namespace crmkit::cli {

namespace {

using data::column_role;

constexpr column_choice survey_customer_col{"survey-customer-col",
                                            "customer id column of the survey", "", true,
                                            column_role::customer};
constexpr column_choice nps_col{"nps-col", "NPS column of the survey", "", true, column_role::nps};
constexpr column_choice csat_col{"csat-col", "CSAT column of the survey (optional)", "", false,
                                 column_role::csat};
constexpr column_choice survey_date_col{"survey-date-col",
                                        "answer date column of the survey (optional)", "", false,
                                        column_role::survey_date};

constexpr column_choice order_col{"order-col", "order id column of the order lines", "", true,
                                  column_role::order};
constexpr column_choice lines_customer_col{"lines-customer-col",
                                           "customer id column of the order lines", "", true,
                                           column_role::customer};
constexpr column_choice lines_date_col{"lines-date-col", "date column of the order lines", "",
                                       true, column_role::date};
constexpr column_choice product_col{"product-col", "product id column of the order lines", "",
                                    true, column_role::product};
constexpr column_choice quantity_col{
    "quantity-col", "quantity column of the order lines (optional; negative = a return)", "",
    false, column_role::quantity};

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/**
 * Codes 0, 1, ... of the distinct texts of `column` in text order (as the Python report's
 * pandas.factorize(sort=True)), and those texts; an empty cell is an error at its file:line.
 */
std::pair<std::vector<std::int64_t>, std::vector<std::string>> sorted_codes(
    const text_table& table, std::size_t column) {
  std::vector<std::string> texts;
  texts.reserve(table.rows.size());
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    texts.emplace_back(trimmed(table.rows[i][column]));
    if (texts.back().empty()) {
      table.fail(i, column, fmt::format("column '{}' is empty; every order line needs it",
                                        table.header[column]));
    }
  }
  std::vector<std::string> distinct = texts;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::unordered_map<std::string_view, std::int64_t> code_of;
  for (std::size_t k = 0; k < distinct.size(); ++k) {
    code_of.emplace(distinct[k], static_cast<std::int64_t>(k));
  }
  std::vector<std::int64_t> codes;
  codes.reserve(texts.size());
  for (const auto& text : texts) codes.push_back(code_of.at(text));
  return {std::move(codes), std::move(distinct)};
}

/** Order lines as the cross-sell step takes them, their columns kept alive here. */
struct order_lines_file {
  std::vector<std::int64_t> order, customer, day;
  std::vector<std::uint32_t> item;
  std::vector<double> quantity;
  std::vector<std::string> products;
  std::vector<std::string> customers;  ///< the lines' customer ids, when the log's are text

  [[nodiscard]] pipeline::cross_sell_lines lines() const {
    return {.lines = {.order = order,
                      .item = item,
                      .quantity = quantity,
                      .customer = customer,
                      .timestamp = day},
            .products = products,
            .customers = customers};
  }
};

/**
 * The order lines file (--order-lines): order and product ids as text, customer ids like the
 * log's (whole numbers, or text coded in order of first appearance), ISO dates (or
 * --date-format) as days, the optional quantity.
 */
order_lines_file read_order_lines(const parsed_args& args, const std::string& path,
                                  const data::transaction_log& log) {
  const text_table table = read_table(path, delimiter_of(args));
  order_lines_file out;
  out.order = sorted_codes(table, order_col.in(table, args)).first;
  auto [items, products] = sorted_codes(table, product_col.in(table, args));
  out.item.assign(items.begin(), items.end());
  out.products = std::move(products);
  const auto customer = lines_customer_col.in(table, args);
  basket::item_index<std::string> customer_codes;
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    const std::string id(trimmed(table.rows[i][customer]));
    if (id.empty()) {
      table.fail(i, customer, fmt::format("column '{}' is empty; every order line needs it",
                                          table.header[customer]));
    }
    if (log.has_labels()) {
      out.customer.push_back(customer_codes.code(id));
      continue;
    }
    std::int64_t key = 0;
    const auto parsed = std::from_chars(id.data(), id.data() + id.size(), key);
    if (parsed.ec != std::errc{} || parsed.ptr != id.data() + id.size()) {
      table.fail(i, customer,
                 fmt::format("column '{}': '{}' is not a customer id like those of the "
                             "transaction log (whole numbers); check --lines-customer-col",
                             table.header[customer], id));
    }
    out.customer.push_back(key);
  }
  out.customers = customer_codes.ids();
  const auto date = lines_date_col.in(table, args);
  const auto format = args.get("date-format");
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    const auto text = trimmed(table.rows[i][date]);
    const auto seconds =
        format ? data::date_format(*format).parse(text) : data::parse_iso_timestamp(text);
    if (!seconds) {
      table.fail(i, date,
                 fmt::format("column '{}': cannot read '{}' as a date; {}", table.header[date],
                             text,
                             format ? fmt::format("--date-format is '{}'", *format)
                                    : std::string("give the format with --date-format, e.g. "
                                                  "--date-format %d/%m/%Y")));
    }
    out.day.push_back(data::floor_div(*seconds, data::seconds_per_day));
  }
  if (const auto quantity = quantity_col.find(table, args)) {
    out.quantity = table.numbers(*quantity);
  }
  return out;
}

/** The report's offer targets as keys of the order lines' customers. */
pipeline::offer_targets line_targets(const pipeline::analysis_result& result,
                                     const data::transaction_log& log,
                                     const order_lines_file& lines) {
  auto targets = pipeline::report_offer_targets(result);
  if (!log.has_labels()) return targets;
  std::unordered_map<std::string_view, std::int64_t> code_of;
  for (std::size_t k = 0; k < lines.customers.size(); ++k) {
    code_of.emplace(lines.customers[k], static_cast<std::int64_t>(k));
  }
  pipeline::offer_targets known;
  for (std::size_t t = 0; t < targets.customer.size(); ++t) {
    const auto found = code_of.find(log.customer_labels[targets.customer[t]]);
    if (found == code_of.end()) continue;
    known.customer.push_back(found->second);
    known.group.push_back(targets.group[t]);
  }
  return known;
}

/** The survey file's answers, keyed like the log's customers. */
pipeline::survey_answers read_survey(const parsed_args& args, const std::string& path,
                                     const data::transaction_log& log,
                                     const pipeline::analysis_options& options) {
  const text_table table = read_table(path, delimiter_of(args));
  const auto customer = survey_customer_col.in(table, args);
  const auto nps_column = nps_col.in(table, args);
  const auto nps = table.numbers(nps_column);
  pipeline::survey_answers answers;
  std::unordered_map<std::string, std::int64_t> key_of_label;
  for (std::size_t k = 0; k < log.customer_labels.size(); ++k) {
    key_of_label.emplace(log.customer_labels[k], static_cast<std::int64_t>(k));
  }
  const auto ids = table.texts(customer);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (log.has_labels()) {
      const auto found = key_of_label.find(ids[i]);
      answers.customer.push_back(found == key_of_label.end() ? -1 : found->second);
      continue;
    }
    std::int64_t id = 0;
    const auto* end = ids[i].data() + ids[i].size();
    const auto parsed = std::from_chars(ids[i].data(), end, id);
    if (parsed.ec != std::errc{} || parsed.ptr != end) {
      table.fail(i, customer,
                fmt::format("customer id '{}' is not an integer like the log's ids", ids[i]));
    }
    answers.customer.push_back(id);
  }
  for (std::size_t i = 0; i < nps.size(); ++i) {
    if (!(nps[i] >= 0 && nps[i] <= 10 && nps[i] == std::floor(nps[i]))) {
      table.fail(i, nps_column,
                fmt::format("NPS answer '{}' is not a whole number from 0 to 10",
                            table.rows[i][nps_column]));
    }
    answers.nps.push_back(static_cast<std::int64_t>(nps[i]));
  }
  if (const auto csat_column = csat_col.find(table, args)) {
    const auto column = *csat_column;
    auto& csat = answers.csat.emplace();
    for (const auto& text : table.texts(column)) {
      std::int64_t score = -1;
      if (!text.empty()) {
        const auto parsed = std::from_chars(text.data(), text.data() + text.size(), score);
        if (parsed.ec != std::errc{} || score < options.csat_min || score > options.csat_max) {
          score = -2;
        }
      }
      csat.push_back(score);
    }
    for (std::size_t i = 0; i < csat.size(); ++i) {
      if (csat[i] == -2) {
        table.fail(i, column,
                  fmt::format("CSAT answer '{}' is not a whole number from {} to {} (or empty)",
                              table.rows[i][column], options.csat_min, options.csat_max));
      }
    }
  }
  if (const auto date_column = survey_date_col.find(table, args)) {
    const auto column = *date_column;
    auto& day = answers.day.emplace();
    for (std::size_t i = 0; i < table.rows.size(); ++i) {
      const auto seconds = data::parse_iso_timestamp(table.rows[i][column]);
      if (!seconds) {
        table.fail(i, column,
                  fmt::format("'{}' is not a date (YYYY-MM-DD)", table.rows[i][column]));
      }
      day.push_back(data::floor_div(*seconds, data::seconds_per_day));
    }
  }
  return answers;
}

void write_json_file(const std::string& path, const data::table& table) {
  std::ofstream file(path, std::ios::binary);
  write_json(table, file);
  file.flush();
  if (!file) throw invalid_input(fmt::format("cannot write '{}' (--out)", path));
}

pipeline::analysis_options analysis_settings(const parsed_args& args) {
  pipeline::analysis_options options;
  apply_described_options(args, options);
  if (const auto model = args.get("model")) {
    if (args.get("transaction-model")) {
      throw usage_error("give the purchase model once: --model or --transaction-model");
    }
    options.transaction_model = describe::parse<pipeline::transaction_model_kind>(*model, "--model");
  }
  return options;
}

}  // namespace

std::vector<option_spec> report_options() {
  std::vector<option_spec> options{{"out", "DIR", "the report's folder (created when missing; an earlier report there is replaced; required)", ""},
          {"survey", "FILE", "survey answers: customer id, nps (0-10), csat (1-5), date", "none"},
          survey_customer_col.spec(),
          nps_col.spec(),
          csat_col.spec(),
          survey_date_col.spec(),
          {"format", "FMT",
           "csv: every table as DIR/<table>.csv; json: every table as DIR/<table>.json, an array "
           "of row objects (NaN and missing cells null, dates \"YYYY-MM-DD\", flags true/false)",
           "csv"},
          {"order-lines", "FILE",
           "order lines (order id, customer id, date, product id [, quantity]): adds the "
           "cross_sell_rules, cross_sell_pairs and offers tables (what to offer whom)",
           "none"},
          order_col.spec(),
          lines_customer_col.spec(),
          lines_date_col.spec(),
          product_col.spec(),
          quantity_col.spec(),
          {"customers", "N", "demo size without a log (simulated with --seed)", "20000"},
          {"quiet", "", "no list of written tables", ""},
          {"model", "NAME", "short for --transaction-model", ""}};
  const auto analysis = described_options<pipeline::analysis_options>();
  options.insert(options.end(), analysis.begin(), analysis.end());
  const auto cross_sell = described_options<pipeline::cross_sell_options>();
  options.insert(options.end(), cross_sell.begin(), cross_sell.end());
  return options;
}

command_output run_report(const parsed_args& args) {
  const auto out_dir = args.get("out");
  if (!out_dir) throw usage_error("missing --out DIR (the folder for the tables)");
  command_output output;
  pipeline::output_folder folder(*out_dir);
  data::transaction_log log;
  if (args.input().empty()) {
    pipeline::demo_options demo;
    demo.customers = args.count("customers", demo.customers);
    if (demo.customers < 1) throw usage_error("--customers must be at least 1");
    demo.seed = args.count("seed", 0);
    log = pipeline::demo_log(demo);
  } else {
    log = read_log(args, true);
    output.warnings = skipped_rows_warning(log, args.input());
  }
  const auto options = analysis_settings(args);
  pipeline::survey_answers answers;
  const auto survey_path = args.get("survey");
  if (survey_path) answers = read_survey(args, *survey_path, log, options);
  pipeline::cross_sell_options cross_sell_options;
  apply_described_options(args, cross_sell_options);
  const auto lines_path = args.get("order-lines");
  const auto lines = lines_path ? read_order_lines(args, *lines_path, log) : order_lines_file{};
  auto result = pipeline::analyze(log, survey_path ? &answers : nullptr, options);
  if (lines_path) {
    const auto targets = line_targets(result, log, lines);
    for (auto& table : pipeline::cross_sell(lines.lines(), &targets, cross_sell_options)) {
      result.tables.push_back(std::move(table));
    }
  }

  const bool json = args.get_or("format", "csv") == "json";
  std::vector<std::string> files, names, paths;
  std::vector<std::int64_t> rows;
  for (const auto& each : result.tables) files.push_back(each.name + (json ? ".json" : ".csv"));
  folder.plan(files);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& each = result.tables[i];
    paths.push_back(folder.path_of(files[i]));
    if (json) {
      write_json_file(paths.back(), each.table);
    } else {
      data::write_csv(paths.back(), each.table);
    }
    names.push_back(each.name);
    rows.push_back(static_cast<std::int64_t>(each.table.rows()));
  }
  for (const auto& note : result.notes) output.warnings.push_back(note.message);
  output.main.name = "tables";
  output.main.columns = {{"table", std::move(names)}, {"rows", std::move(rows)},
                         {"path", std::move(paths)}};
  return output;
}

}  // namespace crmkit::cli
