// `crmkit report`: the pipeline into a folder, the same tables as the library call, and its
// input errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "crmkit/data/csv_writer.hpp"
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
  CHECK(run_report({"report", "--customers", "500", "--out", dir.string(), "--survey",
                    (dir / "survey.csv").string()},
                   out, err) == 2);
  CHECK(err.find("survey.csv:3:") != std::string::npos);
  CHECK(err.find("'12' is not a whole number from 0 to 10") != std::string::npos);
  fs::remove_all(dir);
}
