#include "report.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <unordered_map>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/data/csv_writer.hpp"
#include "crmkit/data/date_parse.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/pipeline.hpp"
#include "described.hpp"
#include "input.hpp"

namespace crmkit::cli {

namespace {

constexpr column_choice survey_customer_col{"survey-customer-col",
                                            "customer id column of the survey", "customer_id"};
constexpr column_choice nps_col{"nps-col", "NPS column of the survey", "nps"};
constexpr column_choice csat_col{"csat-col", "CSAT column of the survey (optional)", "csat"};
constexpr column_choice survey_date_col{"survey-date-col",
                                        "answer date column of the survey (optional)", "date"};

/** The survey file's answers, keyed like the log's customers. */
pipeline::survey_answers read_survey(const parsed_args& args, const std::string& path,
                                     const data::transaction_log& log,
                                     const pipeline::analysis_options& options) {
  const text_table table = read_table(path, delimiter_of(args));
  const auto customer = survey_customer_col.in(table, args);
  const auto nps_column = nps_col.in(table, args);
  const auto nps = table.numbers(nps_column);
  const std::string csat_name = *csat_col.name(args);
  const std::string date_name = *survey_date_col.name(args);
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
  if (table.has_column(csat_name)) {
    const auto column = csat_col.in(table, args);
    for (const auto& text : table.texts(column)) {
      std::int64_t score = -1;
      if (!text.empty()) {
        const auto parsed = std::from_chars(text.data(), text.data() + text.size(), score);
        if (parsed.ec != std::errc{} || score < options.csat_min || score > options.csat_max) {
          score = -2;
        }
      }
      answers.csat.push_back(score);
    }
    for (std::size_t i = 0; i < answers.csat.size(); ++i) {
      if (answers.csat[i] == -2) {
        table.fail(i, column,
                  fmt::format("CSAT answer '{}' is not a whole number from {} to {} (or empty)",
                              table.rows[i][column], options.csat_min, options.csat_max));
      }
    }
  }
  if (table.has_column(date_name)) {
    const auto column = survey_date_col.in(table, args);
    for (std::size_t i = 0; i < table.rows.size(); ++i) {
      const auto seconds = data::parse_iso_timestamp(table.rows[i][column]);
      if (!seconds) {
        table.fail(i, column,
                  fmt::format("'{}' is not a date (YYYY-MM-DD)", table.rows[i][column]));
      }
      answers.day.push_back(data::floor_div(*seconds, data::seconds_per_day));
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
          {"customers", "N", "demo size without a log (simulated with --seed)", "20000"},
          {"quiet", "", "no list of written tables", ""},
          {"model", "NAME", "short for --transaction-model", ""}};
  const auto analysis = described_options<pipeline::analysis_options>();
  options.insert(options.end(), analysis.begin(), analysis.end());
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
  const auto result = pipeline::analyze(log, survey_path ? &answers : nullptr, options);

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
