// `crmkit report`: the pipeline into a folder, the same tables as the library call, and its
// input errors.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/data/csv_writer.hpp"
#include "crmkit/basket/simulate.hpp"
#include "crmkit/data/table.hpp"
#include "crmkit/pipeline.hpp"

namespace fs = std::filesystem;

namespace {

int run_report(const std::vector<std::string>& args, std::string& out, std::string& err) {
  std::ostringstream out_stream, err_stream;
  const int code = crmkit::cli::run(args, out_stream, err_stream);
  out = out_stream.str();
  err = err_stream.str();
  return code;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path scratch(const std::string& name) {
  const auto path = fs::temp_directory_path() / ("crmkit_cli_report_" + name);
  fs::remove_all(path);
  return path;
}

}  // namespace

TEST_CASE("report without a log analyses the demo: every table equals pipeline::analyze's") {
  const auto dir = scratch("demo");
  std::string out, err;
  REQUIRE(run_report({"report", "--customers", "1500", "--seed", "2", "--out", dir.string()}, out,
                     err) == 0);
  const auto expected = crmkit::pipeline::analyze(
      crmkit::pipeline::demo_log({.customers = 1500, .seed = 2}), nullptr, {.seed = 2});
  REQUIRE(!expected.tables.empty());
  for (const auto& table : expected.tables) {
    CAPTURE(table.name);
    CHECK(read_file(dir / (table.name + ".csv")) == crmkit::data::format_csv(table.table));
    CHECK(out.find(table.name + ",") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("report on a log file with a survey writes the survey tables") {
  const auto dir = scratch("files");
  fs::create_directories(dir);
  const auto log = crmkit::pipeline::demo_log({.customers = 800, .seed = 5});
  {
    std::ofstream file(dir / "log.csv");
    file << "customer_id,date,amount\n";
    for (std::size_t i = 0; i < log.size(); ++i) {
      file << log.customer[i] << ',' << crmkit::data::iso_date(log.timestamp[i] / 86'400) << ','
           << log.amount[i] << '\n';
    }
    std::ofstream survey(dir / "survey.csv");
    survey << "customer_id,nps,csat,date\n";
    for (int c = 0; c < 800; c += 4) survey << c << ',' << c % 11 << ',' << 1 + c % 5
                                           << ",2024-06-0" << 1 + c % 9 << '\n';
  }
  std::string out, err;
  REQUIRE(run_report({"report", (dir / "log.csv").string(), "--survey",
                      (dir / "survey.csv").string(), "--out", (dir / "out").string(), "--quiet"},
                     out, err) == 0);
  CHECK(out.empty());  // --quiet: no list of tables
  for (const char* name : {"customers", "nps_by_segment", "csat_by_rfm_segment", "nps_by_month",
                           "nps_overall"}) {
    CAPTURE(name);
    CHECK(fs::exists(dir / "out" / (std::string(name) + ".csv")));
  }
  // 200 answers, all from customers of the log.
  const auto overall = read_file(dir / "out" / "nps_overall.csv");
  CHECK(overall.find("\nall,200,") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("report input errors: one line, exit code 2") {
  std::string out, err;
  CHECK(run_report({"report", "--customers", "50"}, out, err) == 2);
  CHECK(err.find("--out") != std::string::npos);
  const auto dir = scratch("errors");
  fs::create_directories(dir);
  CHECK(run_report({"report", "--out", dir.string(), "--rfm-rules", "rf_gird"}, out, err) == 2);
  CHECK(err.find("did you mean 'rf_grid'") != std::string::npos);
  {
    std::ofstream survey(dir / "survey.csv");
    survey << "customer_id,nps\n1,7\n2,12\n";
  }
  CHECK(run_report({"report", "--customers", "500", "--out", (dir / "out").string(), "--survey",
                    (dir / "survey.csv").string()},
                   out, err) == 2);
  CHECK(err.find("survey.csv:3:") != std::string::npos);
  CHECK(err.find("'12' is not a whole number from 0 to 10") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("report --out is the report's own folder: a manifest, no stale table, no user file lost") {
  const auto dir = scratch("folder");
  const auto out = dir / "out";
  fs::create_directories(out / "plots");
  const auto write = [](const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  };
  write(dir / "precious.csv", "1\n");
  write(out / "old_table.csv", "stale\n");
  write(out / "plots" / "old.png", "stale\n");
  write(out / "my_notes.txt", "added by the user\n");
  write(out / ".crmkit-report",
        "# crmkit report\nold_table.csv\nplots/old.png\n../precious.csv\n" +
            (dir / "precious.csv").string() + "\n");
  std::string stdout_text, err;
  REQUIRE(run_report({"report", "--customers", "1000", "--out", out.string(), "--quiet"},
                     stdout_text, err) == 0);
  CHECK_FALSE(fs::exists(out / "old_table.csv"));
  CHECK_FALSE(fs::exists(out / "plots"));  // emptied by the removal, so removed too
  CHECK(read_file(out / "my_notes.txt") == "added by the user\n");
  CHECK(read_file(dir / "precious.csv") == "1\n");  // outside the folder: never removed
  std::istringstream manifest(read_file(out / ".crmkit-report"));
  std::vector<std::string> listed;
  for (std::string line; std::getline(manifest, line);) {
    if (!line.starts_with('#')) listed.push_back(line);
  }
  CHECK(std::find(listed.begin(), listed.end(), "customers.csv") != listed.end());
  for (const auto& entry : fs::directory_iterator(out)) {
    const auto name = entry.path().filename().string();
    if (name == ".crmkit-report" || name == "my_notes.txt") continue;
    CHECK_MESSAGE(std::find(listed.begin(), listed.end(), name) != listed.end(), name);
  }

  SUBCASE("a file of the report's name that the report did not write stops it") {
    write(out / ".crmkit-report", "# crmkit report\n");
    write(out / "customers.csv", "my own table\n");
    CHECK(run_report({"report", "--customers", "1000", "--out", out.string()}, stdout_text,
                     err) == 2);
    CHECK(err.find("--out " + out.string() + " already holds customers.csv, which crmkit "
                   "report did not write") != std::string::npos);
    CHECK(read_file(out / "customers.csv") == "my own table\n");
  }
  SUBCASE("a folder holding files but no manifest, and a file, are refused in one line") {
    const auto mine = dir / "mine";
    fs::create_directories(mine);
    write(mine / "customers.csv", "my own table\n");
    CHECK(run_report({"report", "--customers", "1000", "--out", mine.string()}, stdout_text,
                     err) == 2);
    CHECK(err.find("--out " + mine.string() + " is not empty and holds no report of crmkit (no "
                   ".crmkit-report file)") != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(read_file(mine / "customers.csv") == "my own table\n");
    CHECK(std::distance(fs::directory_iterator(mine), fs::directory_iterator{}) == 1);
    const auto file = dir / "precious.csv";
    CHECK(run_report({"report", "--customers", "1000", "--out", file.string()}, stdout_text,
                     err) == 2);
    CHECK(err.find("--out " + file.string() + " is a file, not a folder") != std::string::npos);
    CHECK(run_report({"report", "--customers", "1000", "--out", (file / "sub").string()},
                     stdout_text, err) == 2);
    CHECK(err.find("cannot write the report into --out " + (file / "sub").string() + ": ") !=
          std::string::npos);
    CHECK(read_file(file) == "1\n");
  }
  fs::remove_all(dir);
}

TEST_CASE("report --model pareto_nbd fits Pareto/NBD; an unknown model is one line naming it") {
  const auto dir = scratch("model");
  std::string out, err;
  REQUIRE(run_report({"report", "--customers", "1000", "--seed", "4", "--model", "pareto_nbd",
                      "--out", dir.string()},
                     out, err) == 0);
  crmkit::pipeline::analysis_options options;
  options.seed = 4;
  options.transaction_model = crmkit::pipeline::transaction_model_kind::pareto_nbd;
  const auto expected = crmkit::pipeline::analyze(
      crmkit::pipeline::demo_log({.customers = 1000, .seed = 4}), nullptr, options);
  for (const auto& table : expected.tables) {
    CAPTURE(table.name);
    CHECK(read_file(dir / (table.name + ".csv")) == crmkit::data::format_csv(table.table));
  }
  const auto parameters = read_file(dir / "model_parameters.csv");
  CHECK(parameters.find("\nbeta,Pareto/NBD,") != std::string::npos);
  CHECK(parameters.find("BG/NBD") == std::string::npos);
  fs::remove_all(dir);

  CHECK(run_report({"report", "--transaction-model", "pareto", "--out", dir.string()}, out,
                   err) == 2);
  CHECK(err.find("--transaction-model") != std::string::npos);
  CHECK(err.find("'pareto' is not one of 'bg_nbd', 'mbg_nbd', 'pareto_nbd'") != std::string::npos);
  CHECK(run_report({"report", "--model", "nbd", "--out", dir.string()}, out, err) == 2);
  CHECK(err.find("--model") != std::string::npos);
  CHECK(err.find("'nbd' is not one of 'bg_nbd', 'mbg_nbd', 'pareto_nbd'") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("report's analysis options come from analysis_options' field list") {
  std::string out, err;
  REQUIRE(run_report({"report", "--help"}, out, err) == 0);
  crmkit::describe::for_each_field<crmkit::pipeline::analysis_options>([&](const auto& field) {
    std::string flag = "--" + std::string(field.name);
    std::ranges::replace(flag, '_', '-');
    CAPTURE(flag);
    const auto at = out.find(flag + " ");
    REQUIRE(at != std::string::npos);
    const auto line = out.substr(at, out.find('\n', at) - at);
    CHECK(line.find(std::string(field.doc)) != std::string::npos);
  });

  // A value given on the command line reaches the pipeline: --top-customers 7 gives 7 rows,
  // equal to the library run with the same option.
  const auto dir = scratch("options");
  REQUIRE(run_report({"report", "--customers", "1200", "--seed", "3", "--top-customers", "7",
                      "--k-max", "5", "--clv-months", "6", "--out", dir.string()},
                     out, err) == 0);
  crmkit::pipeline::analysis_options options;
  options.seed = 3;
  options.top_customers = 7;
  options.k_max = 5;
  options.clv_months = 6;
  const auto expected = crmkit::pipeline::analyze(
      crmkit::pipeline::demo_log({.customers = 1200, .seed = 3}), nullptr, options);
  CHECK(expected.table("top_customers").rows() == 7);
  for (const auto& table : expected.tables) {
    CAPTURE(table.name);
    CHECK(read_file(dir / (table.name + ".csv")) == crmkit::data::format_csv(table.table));
  }
  fs::remove_all(dir);

  // Values are parsed by the field's type, and a mistake names the option and the text.
  CHECK(run_report({"report", "--k-max", "many", "--out", dir.string()}, out, err) == 2);
  CHECK(err.find("--k-max = 'many' is not a non-negative integer") != std::string::npos);
  CHECK(run_report({"report", "--clv-months", "1e", "--out", dir.string()}, out, err) == 2);
  CHECK(err.find("--clv-months = '1e' is not a number") != std::string::npos);
  CHECK(run_report({"report", "--csat-min", "-x", "--out", dir.string()}, out, err) == 2);
  CHECK(err.find("--csat-min = '-x' is not an integer") != std::string::npos);
  CHECK(run_report({"report", "--k-maxx", "4", "--out", dir.string()}, out, err) == 2);
  CHECK(err.find("did you mean '--k-max'") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("report --order-lines adds the cross-sell step's tables, options from its field list") {
  const auto dir = scratch("order_lines");
  fs::create_directories(dir);
  const auto analysis = crmkit::pipeline::analyze(
      crmkit::pipeline::demo_log({.customers = 1200, .seed = 3}), nullptr, {.seed = 3});
  const auto& ids = analysis.table("customers").get<std::vector<std::int64_t>>("customer_id");
  crmkit::basket::basket_simulation_options simulation;
  simulation.customers = ids.size();
  simulation.days = 90;
  simulation.seed = 3;
  const auto sim = crmkit::basket::simulate_baskets(simulation);
  // Zero-padded ids: their text order is their number order, so the codes below are the tool's.
  std::ofstream file(dir / "lines.csv", std::ios::binary);
  file << "order_id,customer_id,date,product_id\n";
  std::vector<std::int64_t> customer, day;
  std::vector<std::uint32_t> item;
  std::vector<std::string> products;
  for (std::uint32_t p = 0; p < sim.item_count; ++p) {
    products.push_back(fmt::format("sku{:05}", p));
  }
  const auto first_day = analysis.headline.last_day - 89;
  for (std::size_t i = 0; i < sim.order.size(); ++i) {
    customer.push_back(ids[static_cast<std::size_t>(sim.customer[i])]);
    day.push_back(first_day + sim.day[i]);
    item.push_back(sim.item[i]);
    file << fmt::format("o{:07},{},{},{}\n", sim.order[i], customer.back(),
                        crmkit::data::iso_date(day.back()), products[sim.item[i]]);
  }
  file.close();
  std::string out, err;
  REQUIRE(run_report({"report", "--customers", "1200", "--seed", "3", "--order-lines",
                      (dir / "lines.csv").string(), "--offers-per-customer", "3", "--out",
                      (dir / "out").string()},
                     out, err) == 0);
  crmkit::pipeline::cross_sell_options options;
  options.offers_per_customer = 3;
  const auto targets = crmkit::pipeline::report_offer_targets(analysis);
  const auto expected = crmkit::pipeline::cross_sell(
      {.lines = {.order = sim.order, .item = item, .customer = customer, .timestamp = day},
       .products = products},
      &targets, options);
  for (const auto& table : expected) {
    CAPTURE(table.name);
    CHECK(table.table.rows() > 0);
    CHECK(read_file(dir / "out" / (table.name + ".csv")) ==
          crmkit::data::format_csv(table.table));
  }
  REQUIRE(run_report({"report", "--help"}, out, err) == 0);
  crmkit::describe::for_each_field<crmkit::pipeline::cross_sell_options>([&](const auto& field) {
    std::string flag = "--" + std::string(field.name);
    std::ranges::replace(flag, '_', '-');
    CAPTURE(flag);
    CHECK(out.find(flag + " ") != std::string::npos);
  });
  fs::remove_all(dir);
}
