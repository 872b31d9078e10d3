#include <crmkit/core/error.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/data/csv_writer.hpp>
#include <crmkit/data/table.hpp>

#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <charconv>
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

/** Checks that two CSV texts are equal, showing the first line where they differ. */
void check_same_text(const std::string& written, const std::string& expected) {
  CHECK(written.size() == expected.size());
  if (written != expected) {
    std::istringstream ours(written), theirs(expected);
    std::string mine, reference;
    while (std::getline(ours, mine) && std::getline(theirs, reference) && mine == reference) {
    }
    CHECK(mine == reference);
  }
}

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

TEST_CASE("write_csv: a wide table (block buffers of megabytes) is each row's to_chars text") {
  // 24 number columns of up to 32 characters each: a 4096-row block needs over 3 MiB of room.
  constexpr std::size_t column_count = 24;
  constexpr std::size_t rows = 20'000;
  std::mt19937_64 engine(29);
  std::uniform_real_distribution<double> uniform(-1e3, 1e3);
  std::vector<std::vector<double>> values(column_count, std::vector<double>(rows));
  for (auto& column : values) {
    for (auto& value : column) value = uniform(engine) * std::pow(10.0, uniform(engine) / 100);
  }
  std::vector<csv_column> columns;
  std::string expected;
  for (std::size_t c = 0; c < column_count; ++c) {
    std::string name = "c";
    name += std::to_string(c);
    if (c > 0) expected += ',';
    expected += name;
    columns.push_back({name, values[c]});
  }
  expected += '\n';
  std::array<char, 64> text{};
  for (std::size_t row = 0; row < rows; ++row) {
    for (std::size_t c = 0; c < column_count; ++c) {
      if (c > 0) expected += ',';
      expected.append(text.data(), std::to_chars(text.begin(), text.end(), values[c][row]).ptr);
    }
    expected += '\n';
  }
  for (const std::size_t threads : {1, 4}) {
    CAPTURE(threads);
    crmkit::set_num_threads(threads);
    CHECK(format_csv(columns) == expected);
  }
  crmkit::set_num_threads(0);
}

TEST_CASE("write_csv: numbers are the text std::to_chars gives, for every kind of double") {
  // The writer formats doubles from Dragonbox's shortest digits; std::to_chars (shortest
  // round trip, fixed or scientific by length) is the independent reference for every case.
  std::vector<double> values;
  for (int exponent = -330; exponent <= 310; ++exponent) {
    const double power = std::pow(10.0, exponent);
    for (const double value : {power, std::nextafter(power, 0.0), std::nextafter(power, 2 * power)}) {
      values.push_back(value);
      values.push_back(-value);
    }
  }
  for (int exponent = -1074; exponent <= 1023; ++exponent) {
    values.push_back(std::ldexp(1.0, exponent));
    values.push_back(std::ldexp(3.0, exponent - 1));
  }
  for (std::int64_t i = -20'000; i <= 20'000; ++i) {
    for (const double scale : {1.0, 1.0 / 7, 0.01, 1e13, 1e15, 1e17, 1e21, 1e-7}) {
      values.push_back(static_cast<double>(i) * scale);
    }
  }
  values.insert(values.end(), {0.0, -0.0, 5e-324, std::numeric_limits<double>::max(),
                               std::numeric_limits<double>::min(), 0x1p53, 0x1p53 + 2, 0x1p64,
                               0x1p53 - 1, 0x1p53 - 10, 9e15, 1e15 + 1, 0x1p52 + 0.5,
                               123456789012345680000.0, std::numeric_limits<double>::infinity(),
                               -std::numeric_limits<double>::infinity()});
  std::mt19937_64 engine(5);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (int i = 0; i < 200'000; ++i) {
    const double bits = std::bit_cast<double>(engine());
    if (std::isfinite(bits)) values.push_back(bits);
    const double u = uniform(engine);
    values.insert(values.end(), {u, u * 1000, std::round(u * 1e6) / 100, u * 1e17, u * 1e-5,
                                 std::floor(u * 1e20)});
  }
  std::string expected = "v\n";
  std::array<char, 64> buffer{};
  for (const double value : values) {
    expected.append(buffer.data(), std::to_chars(buffer.data(), buffer.data() + 64, value).ptr);
    expected.push_back('\n');
  }
  const std::vector<csv_column> columns{{"v", values}};
  const std::string written = format_csv(columns);
  check_same_text(written, expected);
}

TEST_CASE("write_csv: long columns of few distinct values (each formatted once) are to_chars") {
  // A number column of a long table with few distinct values is written from texts made once
  // per value; std::to_chars is the reference for every cell, edge values included, and for a
  // column whose distinct values outgrow the limit midway (written cell by cell); labels short
  // and long (copied whole or by their length), quoted or not, and missing.
  const std::vector<double> edges{0.0, -0.0, 5e-324, -5e-324, 0x1p-1022, 1e308, -1e-308,
                                  std::numeric_limits<double>::max(), 0x1p53, 0x1p53 + 2,
                                  0x1p63, 1e21, 1e22, 123456789012345680000.0, 0.1, 1.0 / 3,
                                  std::numeric_limits<double>::infinity(),
                                  -std::numeric_limits<double>::infinity(), 1e15, 1e16, 1e-5,
                                  1e-7, 0x1p-1074 * 3};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::size_t rows = 100'000;
  std::vector<double> few(rows), edge(rows), growing(rows), missing(rows);
  const std::vector<std::string> labels{"a", "b,c", std::string(40, 'x'), "say \"hi\""};
  const std::vector<std::string> written_labels{"a", "\"b,c\"", std::string(40, 'x'),
                                                "\"say \"\"hi\"\"\""};
  std::vector<std::int32_t> codes(rows);
  std::mt19937_64 engine(11);
  for (std::size_t row = 0; row < rows; ++row) {
    few[row] = static_cast<double>(engine() % 729) / 7;
    edge[row] = edges[engine() % edges.size()];
    growing[row] = row < rows / 2 ? static_cast<double>(engine() % 100) * 0.01
                                  : std::bit_cast<double>(engine() >> 2);
    missing[row] = engine() % 3 == 0 ? nan : static_cast<double>(engine() % 50) - 25.5;
    codes[row] = static_cast<std::int32_t>(engine() % 5) - 1;
  }
  const std::vector<csv_column> columns{
      {"few", few}, {"edge", edge}, {"growing", growing}, {"missing", missing},
      {"label", coded_text{codes, labels}}};
  std::string expected = "few,edge,growing,missing,label\n";
  std::array<char, 64> buffer{};
  for (std::size_t row = 0; row < rows; ++row) {
    for (const auto* column : {&few, &edge, &growing, &missing}) {
      const double value = (*column)[row];
      if (!std::isnan(value)) {
        expected.append(buffer.data(), std::to_chars(buffer.data(), buffer.data() + 64, value).ptr);
      }
      expected.push_back(',');
    }
    if (codes[row] >= 0) expected += written_labels[static_cast<std::size_t>(codes[row])];
    expected.push_back('\n');
  }
  for (const std::size_t threads : {1, 2, 3}) {
    CAPTURE(threads);
    crmkit::set_num_threads(threads);
    const std::string written = format_csv(columns);
    check_same_text(written, expected);
  }
  crmkit::set_num_threads(0);
}

TEST_CASE("write_csv: dates are YYYY-MM-DD, years outside 0-9999 with their sign and digits") {
  using crmkit::data::iso_date;
  // Day counts from days_from_civil (Hinnant 2013): 1970-01-01 is 0, 0000-03-01 is -719468 (so
  // 0000-02-29 is -719469 and -001-02-28, 365 days before 0000-02-28, is -719835); Python's
  // date(9999, 12, 31) - date(1970, 1, 1) is 2932896 days.
  CHECK(iso_date(0) == "1970-01-01");
  CHECK(iso_date(19'723) == "2024-01-01");
  CHECK(iso_date(-719'468) == "0000-03-01");
  CHECK(iso_date(-719'469) == "0000-02-29");
  CHECK(iso_date(-719'835) == "-001-02-28");
  CHECK(iso_date(2'932'896) == "9999-12-31");
  CHECK(iso_date(2'932'897) == "10000-01-01");
  const std::vector<std::int64_t> days{0, crmkit::data::missing_day, 2'932'897};
  const std::vector<csv_column> columns{{"d", crmkit::data::date_cells{days}}};
  CHECK(format_csv(columns) == "d\n1970-01-01\n\n10000-01-01\n");
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
