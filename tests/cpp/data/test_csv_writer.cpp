#include <crmkit/core/error.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/data/csv_writer.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using crmkit::data::coded_text;
using crmkit::data::csv_column;
using crmkit::data::format_csv;

TEST_CASE("write_csv: numbers, integers, coded text, quoting and missing cells") {
  const std::vector<double> numbers{0.1, 1.0, std::numeric_limits<double>::quiet_NaN(), -2.5e-300,
                                    std::numeric_limits<double>::infinity()};
  const std::vector<std::int64_t> integers{0, -1, 42, std::numeric_limits<std::int64_t>::min(), 7};
  const std::vector<std::string> labels{"plain", "with, comma", "say \"hi\"", "two\nlines"};
  const std::vector<std::int32_t> codes{0, 1, 2, 3, -1};
  const std::vector<csv_column> columns{
      {"x", numbers}, {"n", integers}, {"label, quoted", coded_text{codes, labels}}};
  // Expected text written out by hand from RFC 4180: fields holding a comma, a quote or a line
  // break are quoted and inner quotes doubled; 0.1 and 1.0 in their shortest round-trip forms.
  CHECK(format_csv(columns) ==
        "x,n,\"label, quoted\"\n"
        "0.1,0,plain\n"
        "1,-1,\"with, comma\"\n"
        ",42,\"say \"\"hi\"\"\"\n"
        "-2.5e-300,-9223372036854775808,\"two\nlines\"\n"
        "inf,7,\n");
}

TEST_CASE("write_csv: every double reads back exactly, and the text does not depend on threads") {
  std::mt19937_64 engine(11);
  std::uniform_real_distribution<double> uniform(-1e6, 1e6);
  std::vector<double> values(100'000);
  for (auto& value : values) value = uniform(engine) * std::pow(10.0, uniform(engine) / 1e5);
  const std::vector<csv_column> columns{{"v", values}};

  crmkit::set_num_threads(1);
  const std::string one = format_csv(columns);
  crmkit::set_num_threads(4);
  const std::string four = format_csv(columns);
  crmkit::set_num_threads(0);
  CHECK(one == four);

  std::istringstream lines(one);
  std::string line;
  std::getline(lines, line);
  CHECK(line == "v");
  std::size_t row = 0;
  std::size_t inexact = 0;
  while (std::getline(lines, line)) inexact += std::stod(line) != values[row++];
  CHECK(row == values.size());
  CHECK(inexact == 0);
}

TEST_CASE("write_csv: bad tables and unwritable paths are clear errors") {
  const std::vector<double> three{1, 2, 3};
  const std::vector<double> two{1, 2};
  const std::vector<csv_column> ragged{{"a", three}, {"b", two}};
  CHECK_THROWS_WITH_AS(format_csv(ragged), "write_csv: column 'b' has 2 rows, but column 'a' has 3",
                       crmkit::invalid_input);

  const std::vector<std::string> labels{"only"};
  const std::vector<std::int32_t> codes{0, 1};
  const std::vector<csv_column> out_of_range{{"t", coded_text{codes, labels}}};
  CHECK_THROWS_WITH_AS(format_csv(out_of_range),
                       "write_csv: column 't' row 1: code 1 is out of range of its 1 labels",
                       crmkit::invalid_input);

  const std::vector<csv_column> fine{{"a", three}};
  const auto missing = std::filesystem::temp_directory_path() / "crmkit-no-such-dir" / "x.csv";
  const std::string expected =
      "write_csv: cannot write '" + missing.string() + "': No such file or directory";
  CHECK_THROWS_WITH_AS(crmkit::data::write_csv(missing.string(), fine), expected.c_str(),
                       crmkit::invalid_input);
}

TEST_CASE("write_csv: the file holds exactly the formatted text") {
  const std::vector<double> values{1.5, 2.25};
  const std::vector<csv_column> columns{{"v", values}};
  const auto path = std::filesystem::temp_directory_path() / "crmkit-test-write.csv";
  crmkit::data::write_csv(path.string(), columns);
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  CHECK(text == "v\n1.5\n2.25\n");
}

}  // namespace
