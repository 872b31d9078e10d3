// The crmkit tool, called in-process through crmkit::cli::run: every subcommand on reference data
// or on small inputs whose answer is derived by hand below, and the error line and exit code of
// bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "shared_data.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path& shared_data = crmkit_test::shared_data_dir;

struct outcome {
  int code = -1;
  std::string out;
  std::string err;
};

outcome run_tool(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  outcome result;
  result.code = crmkit::cli::run(args, out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

/** A CSV text as header -> column of cells (no quoted fields in these outputs). */
struct csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  explicit csv(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      std::vector<std::string> fields;
      std::stringstream split(line);
      std::string field;
      while (std::getline(split, field, ',')) fields.push_back(field);
      if (line.back() == ',') fields.emplace_back();
      if (first) {
        header = fields;
        first = false;
      } else {
        rows.push_back(fields);
      }
    }
  }
  [[nodiscard]] std::size_t index(const std::string& name) const {
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (header[c] == name) return c;
    }
    FAIL("no column " << name);
    return 0;
  }
  [[nodiscard]] double number(std::size_t row, const std::string& name) const {
    return std::stod(rows.at(row).at(index(name)));
  }
  [[nodiscard]] const std::string& text(std::size_t row, const std::string& name) const {
    return rows.at(row).at(index(name));
  }
};

/** A scratch file that is removed at the end of the test. */
class scratch_file {
 public:
  scratch_file(const std::string& name, const std::string& content)
      : path_(fs::temp_directory_path() / ("crmkit_cli_test_" + name)) {
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~scratch_file() { fs::remove(path_); }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

/** The published summary files: ID -> their other columns. */
std::map<std::string, std::vector<double>> read_reference(const char* name) {
  std::ifstream in(shared_data / name);
  std::stringstream text;
  text << in.rdbuf();
  const csv table(text.str());
  std::map<std::string, std::vector<double>> rows;
  for (const auto& row : table.rows) {
    for (std::size_t c = 1; c < row.size(); ++c) rows[row[0]].push_back(std::stod(row[c]));
  }
  return rows;
}

const std::vector<std::string> cdnow_sample_options{
    "--no-header", "--delimiter",  "whitespace", "--customer-col",    "1", "--date-col",
    "2",           "--amount-col", "4",          "--freq-multiplier", "7", "--observation-end",
    "1997-09-30"};

}  // namespace

TEST_CASE("summary of the CDNOW sample equals the published calibration summary" *
          crmkit_test::needs_data({"CDNOW_sample.txt",
                                   "cdnow_customers_summary_with_transactions.csv"})) {
  std::vector<std::string> args{"summary", (shared_data / "CDNOW_sample.txt").string()};
  args.insert(args.end(), cdnow_sample_options.begin(), cdnow_sample_options.end());
  const auto result = run_tool(args);
  REQUIRE(result.code == 0);
  const csv summary(result.out);
  const auto published = read_reference("cdnow_customers_summary_with_transactions.csv");
  REQUIRE(summary.rows.size() == 2'357);
  REQUIRE(published.size() == 2'357);
  // Published values are rounded to 0.01 (Fader, Hardie & Lee 2005's files).
  constexpr double half_cent = 0.005 + 1e-9;
  for (std::size_t i = 0; i < summary.rows.size(); ++i) {
    const auto& row = published.at(summary.text(i, "customer_id"));  // x, t_x, T, zbar
    CAPTURE(i);
    REQUIRE(summary.number(i, "frequency") == row[0]);
    REQUIRE(std::abs(summary.number(i, "recency") - row[1]) <= half_cent);
    REQUIRE(std::abs(summary.number(i, "T") - row[2]) <= half_cent);
    REQUIRE(std::abs(summary.number(i, "monetary_value") - row[3]) <= half_cent);
  }
  CHECK(result.err.find("observation_end") != std::string::npos);
}

TEST_CASE("clv on the CDNOW summary gives the published BG/NBD and Gamma-Gamma estimates" *
          crmkit_test::needs_data({"cdnow_customers_summary_with_transactions.csv"})) {
  const auto result =
      run_tool({"clv", (shared_data / "cdnow_customers_summary_with_transactions.csv").string(),
                "--frequency-col", "x", "--recency-col", "t_x", "--monetary-col", "zbar",
                "--customer-col", "ID", "--freq", "W", "--quiet"});
  REQUIRE(result.code == 0);
  CHECK(result.err.empty());
  const csv customers(result.out);
  REQUIRE(customers.rows.size() == 2'357);
  for (std::size_t i = 0; i < customers.rows.size(); ++i) {
    const double alive = customers.number(i, "p_alive");
    REQUIRE((alive >= 0 && alive <= 1));
    REQUIRE(customers.number(i, "clv") >= 0);
  }

  const auto json =
      run_tool({"clv", (shared_data / "cdnow_customers_summary_with_transactions.csv").string(),
                "--frequency-col", "x", "--recency-col", "t_x", "--monetary-col", "zbar",
                "--customer-col", "ID", "--freq", "W", "--format", "json"});
  REQUIRE(json.code == 0);
  // FHL (2005) BG/NBD: r, alpha, a, b = 0.24259, 4.41353, 0.79289, 2.42575;
  // Fader & Hardie (2013, note 025) Gamma-Gamma: p, q, v = 6.25, 3.74, 15.44.
  auto value_of = [&](const std::string& model, const std::string& parameter) {
    const std::string key =
        "{\"model\": \"" + model + "\", \"parameter\": \"" + parameter + "\", \"value\": ";
    const auto at = json.out.find(key);
    REQUIRE(at != std::string::npos);
    return std::stod(json.out.substr(at + key.size()));
  };
  CHECK(std::abs(value_of("bg_nbd", "r") - 0.24259) < 1e-3);
  CHECK(std::abs(value_of("bg_nbd", "alpha") - 4.41353) < 1e-3);
  CHECK(std::abs(value_of("bg_nbd", "a") - 0.79289) < 1e-3);
  CHECK(std::abs(value_of("bg_nbd", "b") - 2.42575) < 1e-3);
  CHECK(std::abs(value_of("gamma_gamma", "p") - 6.25) < 0.01);
  CHECK(std::abs(value_of("gamma_gamma", "q") - 3.74) < 0.01);
  CHECK(std::abs(value_of("gamma_gamma", "v") - 15.44) < 0.01);
}

TEST_CASE("clv straight from the CDNOW log fits the same BG/NBD as the published summary" *
          crmkit_test::needs_data({"CDNOW_sample.txt"})) {
  std::vector<std::string> args{"clv", (shared_data / "CDNOW_sample.txt").string(), "--format",
                                "json"};
  args.insert(args.end(), cdnow_sample_options.begin(), cdnow_sample_options.end());
  const auto result = run_tool(args);
  REQUIRE(result.code == 0);
  // The log's summary is exact where the published one is rounded to 0.01 weeks, so the
  // estimates agree to about 1e-3 (FHL 2005: r = 0.2426, alpha = 4.4135).
  const std::string key = "\"parameter\": \"r\", \"value\": ";
  const auto at = result.out.find(key);
  REQUIRE(at != std::string::npos);
  CHECK(std::abs(std::stod(result.out.substr(at + key.size())) - 0.24259) < 2e-3);
}

TEST_CASE("rfm: five customers with distinct values get the scores of their ranks") {
  // Customer k (1..5) buys k times, the last time k days before the end, each purchase worth
  // 10·(6 - k). With distinct values the quintile score is the rank: F = k, R = 6 - k
  // (recency inverted: fewer days since the last purchase scores higher), M = 6 - k.
  std::string log = "customer_id,date,amount\n";
  for (int k = 1; k <= 5; ++k) {
    for (int j = 0; j < k; ++j) {
      log += std::to_string(k) + ",2024-01-" + std::to_string(20 - k - j) + "," +
             std::to_string(10 * (6 - k)) + "\n";
    }
  }
  log += "9,2024-01-20,1\n";  // fixes the end; customer 9 is the sixth customer
  const scratch_file file("rfm.csv", log);
  const auto result = run_tool({"rfm", file.path(), "--amount-col", "amount"});
  REQUIRE(result.code == 0);
  const csv table(result.out);
  REQUIRE(table.rows.size() == 6);
  // Customers 1..5 have recency k days, frequency k, mean spend 10(6 - k); customer 9 has
  // recency 0, frequency 1, spend 1. Six customers, five bins, average ranks: the bin edges are
  // numpy.quantile of the ranks 1..6 at j/5, i.e. 1, 2, 3, 4, 5, 6, and a rank's bin is the
  // number of edges strictly below it (at least 1): ranks 1..6 -> 1, 1, 2, 3, 4, 5; the tied
  // frequencies 1 (customers 1 and 9) share rank 1.5 -> bin 1.
  // R (recency ascending 9, 1, 2, 3, 4, 5, inverted): 5, 5, 4, 3, 2, 1 for 9, 1, 2, 3, 4, 5.
  // F: 1, 2, 3, 4, 5 for customers 1..5, 1 for customer 9.
  // M (spend ascending 9, 5, 4, 3, 2, 1): 1, 1, 2, 3, 4, 5.
  // R x F grid: 51 new, 42 potential_loyalists, 33 need_attention, 24 at_risk, 15 cant_loose.
  const std::vector<std::string> cells{"515", "424", "333", "242", "151", "511"};
  const std::vector<std::string> segments{"new",     "potential_loyalists", "need_attention",
                                          "at_risk", "cant_loose",          "new"};
  for (std::size_t i = 0; i < 6; ++i) {
    CAPTURE(i);
    CHECK(table.text(i, "rfm") == cells[i]);
    CHECK(table.text(i, "segment") == segments[i]);
  }
  CHECK(table.text(5, "customer_id") == "9");
  CHECK(result.err.find("# segments") != std::string::npos);
}

TEST_CASE("rfm scores on a lifetimes summary convert recency to time since the last purchase") {
  // Five customers, identical but for one statistic each: R = T - recency, F = frequency + 1.
  const scratch_file file("rfm_summary.csv",
                          "customer_id,frequency,recency,T,monetary_value\n"
                          "a,0,0,50,10\nb,1,10,50,20\nc,2,20,50,30\nd,3,30,50,40\ne,4,40,50,50\n");
  const auto result = run_tool({"rfm", file.path(), "--segments", "none"});
  REQUIRE(result.code == 0);
  const csv table(result.out);
  REQUIRE(table.rows.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    const auto score = static_cast<double>(i + 1);
    CHECK(table.number(i, "recency") == 50 - 10 * static_cast<double>(i));
    CHECK(table.number(i, "frequency") == score);
    CHECK(table.number(i, "r") == score);  // less time since the last purchase is better
    CHECK(table.number(i, "f") == score);
    CHECK(table.number(i, "m") == score);
  }
  CHECK(table.text(4, "rfm") == "555");
}

TEST_CASE("kmeans separates two blobs and reports their means as centres") {
  // Two tight groups around (0, 0) and (10, 100): the centres are the group means.
  const scratch_file file("kmeans.csv",
                          "id,spend,visits\n"
                          "a,0,1\nb,1,-1\nc,-1,0\nd,10,101\ne,11,99\nf,9,100\ng,10,100\n");
  const auto result = run_tool({"kmeans", file.path(), "--k", "2", "--id-col", "id",
                                "--standardize", "--seed", "3", "--format", "json"});
  REQUIRE(result.code == 0);
  const std::string& json = result.out;
  auto label = [&](const std::string& id) {
    const std::string key = "{\"id\": \"" + id + "\", \"cluster\": ";
    const auto at = json.find(key);
    REQUIRE(at != std::string::npos);
    return json[at + key.size()];
  };
  CHECK(label("a") == label("b"));
  CHECK(label("a") == label("c"));
  CHECK(label("d") == label("e"));
  CHECK(label("d") == label("g"));
  CHECK(label("a") != label("d"));
  const auto second = std::string("{\"cluster\": ") + label("d") + ", \"size\": 4, ";
  const auto at = json.find(second);
  REQUIRE(at != std::string::npos);
  auto number_after = [&](const std::string& key) {
    const auto where = json.find(key, at);
    REQUIRE(where != std::string::npos);
    return std::stod(json.substr(where + key.size()));
  };
  // The second group's means: (10 + 11 + 9 + 10) / 4 and (101 + 99 + 100 + 100) / 4.
  CHECK(number_after("\"spend\": ") == doctest::Approx(10));
  CHECK(number_after("\"visits\": ") == doctest::Approx(100));
}

TEST_CASE("kmeans on identical points warns that fewer clusters were found") {
  const scratch_file file("kmeans_same.csv", "x,y\n1,2\n1,2\n1,2\n");
  const auto result = run_tool({"kmeans", file.path(), "--k", "2", "--quiet"});
  REQUIRE(result.code == 0);
  CHECK(result.err ==
        "crmkit kmeans: warning: only 1 distinct clusters of the 2 asked for "
        "(duplicate points)\n");
  const csv labels(result.out);
  REQUIRE(labels.rows.size() == 3);
  CHECK(labels.text(0, "cluster") == labels.text(2, "cluster"));
}

TEST_CASE("nps by segment: counts, score and the adjusted-Wald interval") {
  // Segment a: 9, 10, 10, 3 -> P = 3, D = 1, n = 4, NPS = 50.
  // Segment b: 7, 8, 0 -> P = 0, D = 1, n = 3, NPS = -33.3.
  const scratch_file file("nps.csv", "score,seg\n9,a\n10,a\n7,b\n10,a\n8,b\n3,a\n0,b\n");
  const auto result =
      run_tool({"nps", file.path(), "--score-col", "score", "--segment-col", "seg"});
  REQUIRE(result.code == 0);
  const csv table(result.out);
  REQUIRE(table.rows.size() == 3);
  CHECK(table.text(0, "seg") == "a");
  CHECK(table.text(2, "seg") == "all");
  CHECK(table.number(0, "score") == doctest::Approx(50));
  CHECK(table.number(1, "score") == doctest::Approx(-100.0 / 3));
  CHECK(table.number(2, "score") == doctest::Approx(100.0 * (3 - 2) / 7));
  CHECK(table.number(2, "n") == 7);
  // Adjusted Wald (Sauro 2021): n' = n + 3, p' = (P + 3/4)/n', d' = (D + 3/4)/n',
  // NPS' ± 1.959964·100·sqrt((p' + d' - (p' - d')²)/n').
  const double n = 4 + 3, p = 3.75 / n, d = 1.75 / n;
  const double half = 1.959963984540054 * 100 * std::sqrt((p + d - (p - d) * (p - d)) / n);
  CHECK(table.number(0, "lower") == doctest::Approx(100 * (p - d) - half));
  CHECK(table.number(0, "upper") == doctest::Approx(std::min(100.0, 100 * (p - d) + half)));
}

TEST_CASE("lifecycle: a regular buyer is stable, a long-silent one churned") {
  // Customer 1 buys every 30 days through the year; customer 2 bought every 30 days in the
  // first quarter and then never again (300 days of silence is > 3 gaps of 30 days).
  std::string log = "customer_id,date\n";
  for (int month = 1; month <= 12; ++month) {
    log += "1,2024-" + std::string(month < 10 ? "0" : "") + std::to_string(month) + "-01\n";
  }
  log += "2,2024-01-01\n2,2024-01-31\n2,2024-03-01\n";
  const scratch_file file("lifecycle.csv", log);
  const auto result = run_tool({"lifecycle", file.path(), "--as-of", "2024-12-31"});
  REQUIRE(result.code == 0);
  const csv table(result.out);
  REQUIRE(table.rows.size() == 2);
  CHECK(table.text(0, "stage") == "stable");
  CHECK(table.text(1, "stage") == "churned");
  CHECK(table.text(1, "rule") == "churned_recency");
  CHECK(table.number(1, "recency") == 305);
  CHECK(result.err.find("churned,1,0.5") != std::string::npos);
}

TEST_CASE("basket: rules of order lines with mlxtend's measures, returns netted out") {
  // Orders: A = {milk, bread}, B = {milk, bread}, C = {milk, eggs}, D = {bread} (its milk was
  // returned). s(milk) = 3/4, s(bread) = 3/4, s(milk & bread) = 2/4: milk -> bread has
  // confidence 2/3 and lift (2/3) / (3/4) = 8/9.
  const scratch_file file("basket.csv",
                          "order_id,product_id,qty\nA,milk,1\nA,bread,1\nB,milk,2\nB,bread,1\n"
                          "C,milk,1\nC,eggs,1\nD,bread,1\nD,milk,1\nD,milk,-1\n");
  const auto result = run_tool({"basket", file.path(), "--quantity-col", "qty", "--min-support",
                                "0.5", "--min-threshold", "0.6"});
  REQUIRE(result.code == 0);
  const csv table(result.out);
  REQUIRE(table.rows.size() == 2);
  CHECK(table.header.at(2) == "antecedent support");
  CHECK(table.text(0, "antecedents") == "milk");
  CHECK(table.text(0, "consequents") == "bread");
  CHECK(table.number(0, "confidence") == doctest::Approx(2.0 / 3));
  CHECK(table.number(0, "lift") == doctest::Approx(8.0 / 9));
  CHECK(result.err.find("return_lines") != std::string::npos);
  const auto missing = run_tool({"basket", file.path(), "--item-col", "sku"});
  CHECK(missing.code == 2);
  CHECK(missing.err.find("sku") != std::string::npos);
  const auto unknown = run_tool({"basket", file.path(), "--antecedent", "tea"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err.find("product 'tea'") != std::string::npos);
}

TEST_CASE("--skip-bad-rows leaves a bad row out and says so") {
  const scratch_file file("skip.csv",
                          "customer_id,date\n1,2024-01-01\n1,2024-02-30\n1,2024-03-01\n");
  const auto result = run_tool({"summary", file.path(), "--skip-bad-rows", "--quiet"});
  REQUIRE(result.code == 0);
  CHECK(result.err.starts_with("crmkit summary: warning: skipped 1 bad rows; the first: "));
  CHECK(result.err.find("skip.csv:3:3: ") != std::string::npos);
  CHECK(result.err.find("2024-02-30") != std::string::npos);
  const csv summary(result.out);
  REQUIRE(summary.rows.size() == 1);
  CHECK(summary.number(0, "frequency") == 1);  // 2024-01-01 and 2024-03-01: one repeat, 60 days
  CHECK(summary.number(0, "recency") == 60);
}

TEST_CASE("help and version") {
  const auto overview = run_tool({"--help"});
  CHECK(overview.code == 0);
  for (const char* name : {"summary", "clv", "rfm", "kmeans", "nps", "lifecycle"}) {
    CHECK(overview.out.find(name) != std::string::npos);
    const auto help = run_tool({name, "--help"});
    CHECK(help.code == 0);
    CHECK(help.out.find(std::string("usage: crmkit ") + name) != std::string::npos);
  }
  CHECK(run_tool({"--version"}).out.starts_with("crmkit 0."));
  CHECK(run_tool({}).code == 2);
}

TEST_CASE("bad input: one line naming what and where, exit code 2") {
  const scratch_file log("bad_log.csv",
                         "customer_id,date,amount\n1,2024-01-01,5\n2,2024-13-01,4\n");
  const scratch_file summary("bad_summary.csv", "frequency,recency,T\n1,2,3\n2,x,4\n");
  auto check_error = [](const outcome& result, const std::string& expected) {
    CAPTURE(result.err);
    CHECK(result.code == 2);
    CHECK(result.out.empty());
    CHECK(result.err.find(expected) != std::string::npos);
    CHECK(result.err.find('\n') == result.err.size() - 1);  // one line
  };
  SUBCASE("a mistyped column lists the header and suggests the name") {
    check_error(run_tool({"summary", log.path(), "--date-col", "Date"}),
                "bad_log.csv:1:1: no column named 'Date' (--date-col); the header has "
                "'customer_id', 'date', 'amount' (did you mean 'date'?)");
  }
  SUBCASE("a bad date names file:line:column") {
    check_error(run_tool({"summary", log.path()}), "bad_log.csv:3:3: column 'date'");
  }
  SUBCASE("a bad number in a summary names file:line:column") {
    check_error(run_tool({"clv", summary.path()}),
                "bad_summary.csv:3:3: column 'recency': cannot parse 'x' as a finite number");
  }
  SUBCASE("a mistyped option is suggested") {
    check_error(run_tool({"clv", summary.path(), "--horizn", "6"}),
                "crmkit clv: unknown option '--horizn' (did you mean '--horizon'?)");
  }
  SUBCASE("a mistyped command is suggested") {
    check_error(run_tool({"sumary", log.path()}),
                "unknown command 'sumary' (did you mean 'summary'?)");
  }
  SUBCASE("a missing file") {
    check_error(run_tool({"summary", "/nonexistent/log.csv"}), "/nonexistent/log.csv");
  }
  SUBCASE("a value that is not a number") {
    check_error(run_tool({"clv", summary.path(), "--horizon", "twelve"}),
                "--horizon = 'twelve' is not a number");
  }
  SUBCASE("an unknown output format") {
    check_error(run_tool({"summary", log.path(), "--format", "xml", "--date-col", "date"}),
                "--format = 'xml' must be csv or json");
  }
  SUBCASE("a missing required option") {
    check_error(run_tool({"nps", summary.path()}), "--score-col is required");
  }
  SUBCASE("an answer outside 0-10") {
    const scratch_file answers("bad_answers.csv", "score\n3\n11\n");
    check_error(run_tool({"nps", answers.path(), "--score-col", "score"}), "11");
  }
  SUBCASE("a column missing from a feature table") {
    check_error(run_tool({"kmeans", summary.path(), "--k", "2", "--columns", "frequency,recncy"}),
                "no column named 'recncy' (--columns); the header has 'frequency', 'recency', "
                "'T' (did you mean 'recency'?)");
  }
  SUBCASE("a text column among default k-means features suggests --columns or --id-col") {
    const scratch_file features("text_features.csv", "name,x\nann,1\nbob,2\n");
    check_error(run_tool({"kmeans", features.path(), "--k", "1"}),
                "text_features.csv:2:1: column 'name': cannot parse 'ann' as a finite number; "
                "choose the features with --columns, or name the id column with --id-col");
  }
  SUBCASE("a directory is not a table") {
    check_error(run_tool({"nps", fs::temp_directory_path().string(), "--score-col", "s"}),
                "it is a directory");
  }
  SUBCASE("an unknown segment map") {
    check_error(run_tool({"rfm", summary.path(), "--segments", "rf-grid"}),
                "did you mean 'rf_grid'?");
  }
  SUBCASE("a summary row no model takes (issue 13, defect 6: recency -5 used to be scored)") {
    const scratch_file negative("negative_recency.csv",
                                "customer_id,frequency,recency,T\na,1,3,9\nb,2,-5,9\n");
    check_error(run_tool({"rfm", negative.path()}),
                "negative_recency.csv:3:5: column 'recency' = -5: a recency is >= 0");
    check_error(run_tool({"clv", negative.path()}),
                "negative_recency.csv:3:5: column 'recency' = -5: a recency is >= 0");
    const scratch_file late("late_recency.csv", "frequency,recency,T\n1,3,9\n2,12,9\n");
    check_error(run_tool({"rfm", late.path()}),
                "late_recency.csv:3:3: column 'recency' = 12 is greater than column 'T' = 9");
    const scratch_file fraction("fraction.csv", "frequency,recency,T\n1.5,3,9\n");
    check_error(run_tool({"rfm", fraction.path()}),
                "fraction.csv:2:1: column 'frequency' = 1.5: a frequency is a whole number >= 0");
  }
}

TEST_CASE("tables are read by the library's RFC 4180 scanner (crmkit::data::read_records)") {
  SUBCASE("a quoted segment name may hold the delimiter, a doubled quote and a line break") {
    // Scores 9, 10 in the first segment (NPS 100), 0 in the second (NPS -100).
    const scratch_file file("nps_quoted.csv",
                            "\xEF\xBB\xBFscore,seg\n9,\"a, \"\"x\"\"\"\n\n10,\"a, \"\"x\"\"\"\n"
                            "0,\"two\nlines\"\n");
    const auto result = run_tool({"nps", file.path(), "--score-col", "score", "--segment-col",
                                  "seg", "--format", "json"});
    CAPTURE(result.err);
    REQUIRE(result.code == 0);
    CHECK(result.out.find(R"("seg": "a, \"x\"", "n": 2)") != std::string::npos);
    CHECK(result.out.find(R"("seg": "two\nlines", "n": 1)") != std::string::npos);
  }
  SUBCASE("text after a closing quote is named at its line and column") {
    const scratch_file file("nps_bad_quote.csv", "score,seg\n9,a\n10,\"b\"x\n");
    const auto result = run_tool({"nps", file.path(), "--score-col", "score"});
    CHECK(result.code == 2);
    CHECK(result.err.find("nps_bad_quote.csv:3:7: unexpected 'x' after the closing quote") !=
          std::string::npos);
  }
  SUBCASE("a UTF-16 file is refused by name, not read as garbage") {
    const scratch_file file("nps_utf16.csv", std::string("\xFF\xFEs\0c\0", 6));
    const auto result = run_tool({"nps", file.path(), "--score-col", "score"});
    CHECK(result.code == 2);
    CHECK(result.err.find("nps_utf16.csv:1:1: the file is UTF-16-LE") != std::string::npos);
  }
}
