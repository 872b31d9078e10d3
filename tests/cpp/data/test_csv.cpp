#include <crmkit/core/parallel.hpp>
#include <crmkit/core/printable.hpp>
#include <crmkit/data/csv.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "shared_data.hpp"

// Timestamps used below, computed independently with Python's datetime module:
// int((datetime(Y, M, D, h, m, s) - datetime(1970, 1, 1)).total_seconds()).
namespace {

namespace fs = std::filesystem;
using crmkit::data::bad_row_policy;
using crmkit::data::column_ref;
using crmkit::data::csv_options;
using crmkit::data::read_transactions;
using crmkit::data::transaction_log;

constexpr std::int64_t day = 86400;
constexpr std::int64_t jan_1_1997 = 852076800;
constexpr std::int64_t dec_31_1997 = 883526400;
constexpr std::int64_t feb_29_2000 = 951782400;
constexpr std::int64_t mar_5_2024_14_07_09 = 1709647629;

/** A scratch folder, removed with everything in it at the end of the test. */
class scratch_folder {
 public:
  scratch_folder()
      : path_(fs::temp_directory_path() /
              fmt::format("crmkit-test-csv-{}", std::random_device{}())) {
    fs::create_directories(path_);
  }
  scratch_folder(const scratch_folder&) = delete;
  scratch_folder& operator=(const scratch_folder&) = delete;
  ~scratch_folder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  [[nodiscard]] std::string write(const std::string& name, std::string_view content) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

struct thread_count_guard {
  std::size_t saved = crmkit::num_threads();
  ~thread_count_guard() { crmkit::set_num_threads(saved); }
};

/** The message of the crmkit::error reading `path` throws, or "(no error)". */
std::string error_message(const std::string& path, const csv_options& options = {}) {
  try {
    static_cast<void>(read_transactions(path, options));
  } catch (const crmkit::error& error) {
    return error.what();
  }
  return "(no error)";
}

csv_options with_amount(std::string column = "amount") {
  csv_options options;
  options.monetary_value_col = column_ref(std::move(column));
  return options;
}

void check_same_log(const transaction_log& a, const transaction_log& b) {
  CHECK(a.customer == b.customer);
  CHECK(a.customer_labels == b.customer_labels);
  CHECK(a.timestamp == b.timestamp);
  CHECK(a.amount == b.amount);
  REQUIRE(a.skipped.size() == b.skipped.size());
  for (std::size_t i = 0; i < a.skipped.size(); ++i) {
    CHECK(a.skipped[i].line == b.skipped[i].line);
    CHECK(a.skipped[i].column == b.skipped[i].column);
    CHECK(a.skipped[i].reason == b.skipped[i].reason);
  }
}

}  // namespace

TEST_CASE("columns are found by header name, in any order, with extra columns ignored") {
  scratch_folder folder;
  const auto path = folder.write("t.csv",
                                 "amount,customer_id,date,channel\n"
                                 "12.5,7,1997-01-01,web\n"
                                 "-3,42,1997-01-02,shop\n"
                                 "0,7,1997-12-31,web\n");
  const auto log = read_transactions(path, with_amount());
  CHECK(log.customer == std::vector<std::int64_t>{7, 42, 7});
  CHECK_FALSE(log.has_labels());
  CHECK(log.timestamp == std::vector<std::int64_t>{jan_1_1997, jan_1_1997 + day, dec_31_1997});
  CHECK(log.amount == std::vector<double>{12.5, -3.0, 0.0});
  CHECK(log.skipped.empty());

  const auto without_amount = read_transactions(path);
  CHECK_FALSE(without_amount.has_amount());
  CHECK(without_amount.customer == log.customer);

  csv_options by_position;
  by_position.customer_id_col = column_ref::at(1);
  by_position.datetime_col = column_ref::at(2);
  by_position.monetary_value_col = column_ref::at(0);
  check_same_log(read_transactions(path, by_position), log);
}

TEST_CASE("delimiters: ',' ';' tab '|' and runs of whitespace; unquoted fields are trimmed") {
  scratch_folder folder;
  for (const char delimiter : {',', ';', '\t', '|'}) {
    CAPTURE(delimiter);
    const std::string d(1, delimiter);
    const auto path = folder.write("t.txt", "customer_id" + d + "date" + d + "amount\n" + " 7 " +
                                                d + " 1997-01-01" + d + "12.5 \n" + "42" + d +
                                                "20000229" + d + " -3\n");
    auto options = with_amount();
    options.delimiter = delimiter;
    const auto log = read_transactions(path, options);
    CHECK(log.customer == std::vector<std::int64_t>{7, 42});
    CHECK(log.timestamp == std::vector<std::int64_t>{jan_1_1997, feb_29_2000});
    CHECK(log.amount == std::vector<double>{12.5, -3.0});
  }

  const auto path = folder.write("w.txt",
                                 "  customer_id   date\tamount\r\n"
                                 " 7  1997-01-01   12.5  \r\n"
                                 "\t42\t20000229 \t -3\r\n"
                                 "\r\n"
                                 "   \n");
  auto options = with_amount();
  options.delimiter = crmkit::data::whitespace_delimiter;
  const auto log = read_transactions(path, options);
  CHECK(log.customer == std::vector<std::int64_t>{7, 42});
  CHECK(log.timestamp == std::vector<std::int64_t>{jan_1_1997, feb_29_2000});
  CHECK(log.amount == std::vector<double>{12.5, -3.0});
}

TEST_CASE("quoted fields hold delimiters, doubled quotes and line breaks") {
  scratch_folder folder;
  const std::string text =
      "\"customer_id\",\"date\",\"note\",\"amount\"\n"
      "\"7\",\"1997-01-01\",\"a, b\",\"1.5\"\n"
      "8, \"1997-01-02\" ,\"he said \"\"hi\"\"\",2\n"
      "9,1997-01-03,\"two\r\nlines\",3\n"
      "10,1997-01-04,\"\",4\n";
  const auto log = read_transactions(folder.write("q.csv", text), with_amount());
  CHECK(log.customer == std::vector<std::int64_t>{7, 8, 9, 10});
  CHECK(log.timestamp == std::vector<std::int64_t>{jan_1_1997, jan_1_1997 + day,
                                                   jan_1_1997 + 2 * day, jan_1_1997 + 3 * day});
  CHECK(log.amount == std::vector<double>{1.5, 2, 3, 4});

  // The quoted line break makes the row of customer 10 line 6 of the file.
  std::string bad = text;
  bad.replace(bad.find("1997-01-04"), 10, "1997-02-30");
  const auto bad_path = folder.write("bad.csv", bad);
  CHECK(error_message(bad_path, with_amount()) ==
        bad_path +
            ":6:4: column 'date': cannot parse '1997-02-30' as a date (expected YYYY-MM-DD, "
            "YYYYMMDD or ISO datetime)");

  // In whitespace mode quotes protect spaces.
  auto options = with_amount();
  options.delimiter = crmkit::data::whitespace_delimiter;
  const auto spaced = read_transactions(
      folder.write("s.txt", "customer_id date amount\n\"Ann Lee\" \"1997-01-01\" 1\n"), options);
  CHECK(spaced.customer_labels == std::vector<std::string>{"Ann Lee"});
}

TEST_CASE("CRLF and LF, a UTF-8 byte-order mark, blank lines and a last line without newline") {
  scratch_folder folder;
  const auto path = folder.write("crlf.csv",
                                 "\xEF\xBB\xBF"
                                 "customer_id,date\r\n"
                                 "\r\n"
                                 "1,1997-01-01\r\n"
                                 "2,19970102\n"
                                 "   \r\n"
                                 "3,1997-01-03T00:00:00Z");
  const auto log = read_transactions(path);
  CHECK(log.customer == std::vector<std::int64_t>{1, 2, 3});
  CHECK(log.timestamp ==
        std::vector<std::int64_t>{jan_1_1997, jan_1_1997 + day, jan_1_1997 + 2 * day});

  const auto trailing = folder.write("trailing.csv", "customer_id,date\n1,1997-01-01\n\n\n \n");
  CHECK(read_transactions(trailing).size() == 1);

  // Blank lines count in line numbers.
  const auto bad = folder.write("bad.csv", "customer_id,date\r\n\r\n1,1997-01-01\r\n\r\n2,x\r\n");
  CHECK(error_message(bad) ==
        bad +
            ":5:3: column 'date': cannot parse 'x' as a date (expected YYYY-MM-DD, YYYYMMDD or "
            "ISO datetime)");
}

TEST_CASE("integer ids become keys; any other id makes every id a label, in order of appearance") {
  scratch_folder folder;
  const auto integers = read_transactions(folder.write(
      "i.csv",
      "customer_id,date\n00042,1997-01-01\n-5,1997-01-01\n9223372036854775807,1997-01-01\n"));
  CHECK(integers.customer ==
        std::vector<std::int64_t>{42, -5, std::numeric_limits<std::int64_t>::max()});
  CHECK_FALSE(integers.has_labels());

  const auto labels = read_transactions(
      folder.write("l.csv",
                   "customer_id,date\nb,1997-01-01\na,1997-01-01\nb,1997-01-01\nc,1997-01-01\n"
                   "a,1997-01-01\n"));
  // Numbered in text order, not order of appearance: the keys do not depend on the rows' order.
  CHECK(labels.customer_labels == std::vector<std::string>{"a", "b", "c"});
  CHECK(labels.customer == std::vector<std::int64_t>{1, 0, 1, 2, 0});

  // Once one id is not an integer, ids keep their exact text: "007" and "7" differ.
  const auto mixed = read_transactions(
      folder.write("m.csv",
                   "customer_id,date\n007,1997-01-01\n7,1997-01-01\nx,1997-01-01\n007,1997-01-01\n"
                   "\"  padded \",1997-01-01\n  padded ,1997-01-01\n\"a \"\"q\"\"\",1997-01-01\n"));
  CHECK(mixed.customer_labels ==
        std::vector<std::string>{"  padded ", "007", "7", "a \"q\"", "padded", "x"});
  CHECK(mixed.customer == std::vector<std::int64_t>{1, 2, 5, 1, 0, 4, 3});

  // Beyond int64: labels, not a wrapped-around number.
  const auto huge = read_transactions(
      folder.write("h.csv", "customer_id,date\n9223372036854775808,1997-01-01\n1,1997-01-01\n"));
  CHECK(huge.customer_labels == std::vector<std::string>{"1", "9223372036854775808"});
  CHECK(huge.customer == std::vector<std::int64_t>{1, 0});
}

TEST_CASE("date forms may be mixed; an explicit date_format replaces them") {
  scratch_folder folder;
  const auto mixed = read_transactions(folder.write(
      "d.csv",
      "customer_id,date\n1,1997-01-01\n1,19971231\n1,2024-03-05T14:07:09\n1,2024-03-05 14:07:09Z\n"
      "1,2024-03-05T14:07:09.25\n1,2024-03-05T14:07\n"));
  CHECK(mixed.timestamp == std::vector<std::int64_t>{jan_1_1997, dec_31_1997, mar_5_2024_14_07_09,
                                                     mar_5_2024_14_07_09, mar_5_2024_14_07_09,
                                                     mar_5_2024_14_07_09 - 9});

  csv_options options;
  options.date_format = "%d/%m/%Y";
  const auto path = folder.write("f.csv", "customer_id,date\n1,31/12/1997\n2,1/1/1997\n");
  CHECK(read_transactions(path, options).timestamp ==
        std::vector<std::int64_t>{dec_31_1997, jan_1_1997});
  const auto iso = folder.write("iso.csv", "customer_id,date\n1,1997-12-31\n");
  CHECK(error_message(iso, options) ==
        iso +
            ":2:3: column 'date': cannot parse '1997-12-31' as a date (expected format "
            "'%d/%m/%Y')");
  options.date_format = "%d/%q/%Y";
  CHECK(error_message(path, options) ==
        "date_format '%d/%q/%Y' has the unsupported directive '%q'");
}

TEST_CASE("amounts are the doubles strtod reads, ids the integers strtoll reads") {
  // Decimal texts of many shapes: short and long mantissas, beyond 2^53, exponents, signs.
  std::mt19937_64 random(20240229);
  std::vector<std::string> amounts{
      "0",
      "-0.0",
      "5.",
      ".5",
      "+7.25",
      "1e3",
      "1E-3",
      "0.1",
      "0.3",
      "9007199254740993",
      "1e-310",
      "123456789012345678901",
      "0.000000000000000000001",
      "179769313486231570000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "00000000000000000000000000000000000000000000000000000000000000"};
  for (int i = 0; i < 3000; ++i) {
    const auto whole = random() % 1'000'000'000'000ULL;
    const auto fraction = random() % 100'000'000ULL;
    const int decimals = static_cast<int>(random() % 9);
    const bool negative = random() % 4 == 0;
    const bool exponent = random() % 10 == 0;
    amounts.push_back(
        fmt::format("{}{}{}{}{}", negative ? "-" : "", whole >> (random() % 40),
                    decimals > 0 ? "." : "", fmt::format("{:08}", fraction).substr(0, decimals),
                    exponent ? fmt::format("e{}", static_cast<int>(random() % 40) - 20) : ""));
  }
  const std::vector<std::string> ids{"0",
                                     "-0",
                                     "42",
                                     "-17",
                                     "000123",
                                     "999999999999999999",
                                     "-999999999999999999",
                                     "9223372036854775807",
                                     "-9223372036854775808"};
  std::string text = "customer_id,date,amount\n";
  for (std::size_t i = 0; i < amounts.size(); ++i) {
    text += fmt::format("{},1997-01-01,{}\n", ids[i % ids.size()], amounts[i]);
  }
  scratch_folder folder;
  const auto log = read_transactions(folder.write("amounts.csv", text), with_amount());
  REQUIRE(log.size() == amounts.size());
  std::size_t amount_mismatches = 0;
  std::size_t id_mismatches = 0;
  for (std::size_t i = 0; i < amounts.size(); ++i) {
    const double expected = std::strtod(amounts[i].c_str(), nullptr);
    amount_mismatches +=
        std::bit_cast<std::uint64_t>(log.amount[i]) == std::bit_cast<std::uint64_t>(expected) ? 0
                                                                                              : 1;
    id_mismatches +=
        log.customer[i] == std::strtoll(ids[i % ids.size()].c_str(), nullptr, 10) ? 0 : 1;
  }
  CHECK(amount_mismatches == 0);
  CHECK(id_mismatches == 0);
}

TEST_CASE("bad values: the error names file:line:column, the column and the text") {
  scratch_folder folder;
  const std::string header = "customer_id,date,amount\n1,1997-01-01,10\n";
  auto message_for = [&](const std::string& row) {
    const auto path = folder.write("bad.csv", header + row);
    const std::string message = error_message(path, with_amount());
    return message.starts_with(path) ? message.substr(path.size()) : message;
  };
  CHECK(message_for("2,1997-13-01,5\n") ==
        ":3:3: column 'date': cannot parse '1997-13-01' as a date (expected YYYY-MM-DD, "
        "YYYYMMDD or ISO datetime)");
  CHECK(message_for("2,,5\n") ==
        ":3:3: column 'date': cannot parse '' as a date (expected YYYY-MM-DD, YYYYMMDD or ISO "
        "datetime)");
  CHECK(message_for("2,1997-01-02,abc\n") ==
        ":3:14: column 'amount': cannot parse 'abc' as a number");
  CHECK(message_for("2,1997-01-02,1.5.2\n") ==
        ":3:14: column 'amount': cannot parse '1.5.2' as a number");
  CHECK(message_for("2,1997-01-02,1,5\n") == ":3:1: expected 3 fields, found 4");
  CHECK(message_for("2,1997-01-02,nan\n") ==
        ":3:14: column 'amount': 'nan' is not a finite number");
  CHECK(message_for("2,1997-01-02,-inf\n") ==
        ":3:14: column 'amount': '-inf' is not a finite number");
  CHECK(message_for("2,1997-01-02,1e999\n") ==
        ":3:14: column 'amount': '1e999' is outside the range of a double");
  CHECK(message_for("2,1997-01-02,\n") == ":3:14: column 'amount': empty field, expected a number");
  CHECK(message_for("2,1997-01-02,  \n") ==
        ":3:16: column 'amount': empty field, expected a number");
  CHECK(message_for(",1997-01-02,5\n") == ":3:1: column 'customer_id': empty customer id");
  CHECK(message_for("2,1997-01-02\n") == ":3:1: expected 3 fields, found 2");
  CHECK(message_for("2,1997-01-02,5,\n") == ":3:1: expected 3 fields, found 4");
  CHECK(message_for("2,\"1997-01-02,5\n") == ":3:3: unterminated quoted field: no closing '\"'");
  CHECK(message_for("2,\"1997-01-02\"x,5\n") ==
        ":3:15: unexpected 'x' after the closing quote of a quoted field");
  // A leading '+' is accepted on amounts, as in pandas.
  CHECK(message_for("2,1997-01-02,+5\n") == "(no error)");

  const auto path = folder.write("bad.csv", header + "2,1997-13-01,5\n");
  try {
    static_cast<void>(read_transactions(path, with_amount()));
    FAIL("no error");
  } catch (const crmkit::parse_error& error) {
    CHECK(error.file() == path);
    CHECK(error.line() == 3);
    CHECK(error.column() == 3);
  }
  CHECK_THROWS_AS(static_cast<void>(read_transactions(path, with_amount())), std::invalid_argument);
}

TEST_CASE("timestamps outside the caller's range are bad rows") {
  scratch_folder folder;
  const auto path = folder.write("r.csv", "customer_id,date\n1,1997-06-01\n2,1996-12-31\n");
  csv_options options;
  options.min_timestamp = jan_1_1997;
  options.max_timestamp = dec_31_1997;
  CHECK(error_message(path, options) ==
        path +
            ":3:3: column 'date': '1996-12-31' is outside the supported range 1997-01-01 .. "
            "1997-12-31");
  options.min_timestamp = dec_31_1997 + 1;
  CHECK(error_message(path, options) ==
        "read_transactions: min_timestamp = 883526401 is after max_timestamp = 883526400");
}

TEST_CASE("missing, ambiguous and misdirected columns are reported with what is there") {
  scratch_folder folder;
  const auto path = folder.write("c.csv", "customer_id,date,amount\n1,1997-01-01,10\n");
  CHECK(error_message(path, with_amount("amout")) ==
        path +
            ":1:1: no column named 'amout' (monetary_value_col); the header has "
            "'customer_id', 'date', 'amount' (did you mean 'amount'?)");
  csv_options options;
  options.datetime_col = "Datum";
  CHECK(error_message(path, options) ==
        path +
            ":1:1: no column named 'Datum' (datetime_col); the header has 'customer_id', "
            "'date', 'amount' (did you mean 'date'?)");
  options.datetime_col = "timestamp";
  CHECK(error_message(path, options) ==
        path +
            ":1:1: no column named 'timestamp' (datetime_col); the header has 'customer_id', "
            "'date', 'amount'");

  options.datetime_col = column_ref::at(5);
  CHECK(error_message(path, options) ==
        path +
            ":1:1: datetime_col is position 5, but the header has 3 fields (0-based positions "
            "0 .. 2)");

  options.datetime_col = column_ref::at(0);
  CHECK(error_message(path, options) ==
        "read_transactions: customer_id_col and datetime_col both refer to field 0");

  const auto twice = folder.write("twice.csv", "id,date,id\n1,1997-01-01,2\n");
  options = csv_options{};
  options.customer_id_col = "id";
  CHECK(error_message(twice, options) ==
        twice +
            ":1:1: customer_id_col = 'id' is ambiguous: the header has it at positions 0, 2; "
            "give a 0-based position instead");

  options = csv_options{};
  options.header = false;
  CHECK(error_message(path, options) ==
        "read_transactions: customer_id_col = 'customer_id' is a column name, but the file has "
        "no header (header = false); give a 0-based position instead");
}

TEST_CASE("empty input, header-only files, missing files and bad options are clear errors") {
  scratch_folder folder;
  for (const char* text : {"", "\n\n  \r\n", "\xEF\xBB\xBF"}) {
    const auto path = folder.write("empty.csv", text);
    CHECK(error_message(path) == path + ": the file is empty (no header and no rows)");
  }
  for (const char* text : {"customer_id,date", "customer_id,date\n", "customer_id,date\r\n\r\n"}) {
    const auto path = folder.write("header.csv", text);
    CHECK(error_message(path) == path + ":1:1: no data rows after the header");
  }
  const auto header_quote = folder.write("hq.csv", "customer_id,\"date\n1,1997-01-01\n");
  CHECK(error_message(header_quote) ==
        header_quote + ":1:13: unterminated quoted field: no closing '\"'");

  const std::string missing = folder.path() + "/no-such-file.csv";
  CHECK(error_message(missing) ==
        "read_transactions: cannot open '" + missing + "': No such file or directory");
  CHECK(error_message(folder.path()) ==
        "read_transactions: cannot read '" + folder.path() + "': Is a directory");

  const auto path = folder.write("ok.csv", "customer_id,date\n1,1997-01-01\n");
  csv_options options;
  options.delimiter = '"';
  CHECK(error_message(path, options) ==
        "read_transactions: the delimiter cannot be a double quote, a newline or a carriage "
        "return");
  options = csv_options{};
  options.chunk_bytes = 0;
  CHECK(error_message(path, options) == "read_transactions: chunk_bytes = 0 must be positive");
}

TEST_CASE("on_bad_row = skip leaves bad rows out and lists line, column and reason") {
  scratch_folder folder;
  const auto path = folder.write("skip.csv",
                                 "customer_id,date,amount\r\n"
                                 "1,1997-01-01,10\r\n"
                                 "2,1997-02-30,5\r\n"
                                 "3,\"a\r\nb\",1\r\n"
                                 "4,1997-01-02,x\r\n"
                                 "5,1997-01-03\r\n"
                                 ",1997-01-04,1\r\n"
                                 "6,1997-01-05,\"7\"z\r\n"
                                 "7,1997-01-06,8\r\n"
                                 "8,\"1997-01-07,9\r\n");
  auto options = with_amount();
  options.on_bad_row = bad_row_policy::skip;
  const auto log = read_transactions(path, options);
  CHECK(log.customer == std::vector<std::int64_t>{1, 7});
  CHECK(log.amount == std::vector<double>{10, 8});
  CHECK(log.timestamp == std::vector<std::int64_t>{jan_1_1997, jan_1_1997 + 5 * day});
  const std::string date_help = " as a date (expected YYYY-MM-DD, YYYYMMDD or ISO datetime)";
  const std::vector<crmkit::data::skipped_row> expected{
      {3, 3, "column 'date': cannot parse '1997-02-30'" + date_help},
      {4, 3, "column 'date': cannot parse 'a\\r\\nb'" + date_help},  // escaped: one line
      {6, 14, "column 'amount': cannot parse 'x' as a number"},
      {7, 1, "expected 3 fields, found 2"},
      {8, 1, "column 'customer_id': empty customer id"},
      {9, 17, "unexpected 'z' after the closing quote of a quoted field"},
      {11, 3, "unterminated quoted field: no closing '\"'"},
  };
  REQUIRE(log.skipped.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(log.skipped[i].line == expected[i].line);
    CHECK(log.skipped[i].column == expected[i].column);
    CHECK(log.skipped[i].reason == expected[i].reason);
  }

  // Only the rows kept have labels, numbered in text order.
  const auto labels = read_transactions(
      folder.write("labels.csv",
                   "customer_id,date\nb,1997-13-01\na,1997-01-01\nc,x\nb,1997-01-02\n"),
      [] {
        csv_options skip;
        skip.on_bad_row = bad_row_policy::skip;
        return skip;
      }());
  CHECK(labels.customer_labels == std::vector<std::string>{"a", "b"});
  CHECK(labels.customer == std::vector<std::int64_t>{0, 1});

  // Skipping everything leaves an empty log, not an error: the caller asked for it.
  const auto all_bad = folder.write("all_bad.csv", "customer_id,date\n1,x\n2,y\n");
  csv_options skip;
  skip.on_bad_row = bad_row_policy::skip;
  const auto empty = read_transactions(all_bad, skip);
  CHECK(empty.size() == 0);
  CHECK(empty.skipped.size() == 2);
}

TEST_CASE("files without a header use 0-based positions; the first row sets the field count") {
  scratch_folder folder;
  const auto path =
      folder.write("n.txt", "\n 00004 0001 19970101  2   29.33\n 00004 0001 19970118  2   29.73\n");
  csv_options options;
  options.header = false;
  options.delimiter = crmkit::data::whitespace_delimiter;
  options.customer_id_col = column_ref::at(1);
  options.datetime_col = column_ref::at(2);
  options.monetary_value_col = column_ref::at(4);
  const auto log = read_transactions(path, options);
  CHECK(log.customer == std::vector<std::int64_t>{1, 1});
  CHECK(log.timestamp == std::vector<std::int64_t>{jan_1_1997, jan_1_1997 + 17 * day});
  CHECK(log.amount == std::vector<double>{29.33, 29.73});

  const auto bad = folder.write("nb.txt", "1 19970101 1\n1 19970132 2\n");
  options.customer_id_col = column_ref::at(0);
  options.datetime_col = column_ref::at(1);
  options.monetary_value_col = column_ref::at(2);
  CHECK(error_message(bad, options) ==
        bad +
            ":2:3: column '1': cannot parse '19970132' as a date (expected YYYY-MM-DD, "
            "YYYYMMDD or ISO datetime)");
  options.monetary_value_col = column_ref::at(3);
  CHECK(error_message(bad, options) ==
        bad +
            ":1:1: monetary_value_col is position 3, but the first row has 3 fields (0-based "
            "positions 0 .. 2)");
}

TEST_CASE("parse_transactions reads text in memory") {
  const auto log = crmkit::data::parse_transactions("customer_id,date\n5,1997-01-01\n");
  CHECK(log.customer == std::vector<std::int64_t>{5});
  csv_options options;
  options.on_bad_row = bad_row_policy::error;
  CHECK_THROWS_WITH_AS(
      static_cast<void>(crmkit::data::parse_transactions("customer_id,date\n5,x\n", options)),
      "<text>:2:3: column 'date': cannot parse 'x' as a date (expected YYYY-MM-DD, YYYYMMDD or "
      "ISO datetime)",
      crmkit::parse_error);
}

namespace {

/** A log with quoted line breaks, string ids and known values, as text and as truth. */
struct generated_log {
  std::string text;
  std::vector<std::string> ids;
  std::vector<std::int64_t> timestamps;
  std::vector<double> amounts;
};

generated_log generate_log(std::size_t rows, bool string_ids) {
  const std::vector<std::pair<std::string, std::int64_t>> dates{
      {"1997-01-01", jan_1_1997},
      {"19971231", dec_31_1997},
      {"\"2024-03-05T14:07:09\"", mar_5_2024_14_07_09},
      {"2000-02-29", feb_29_2000}};
  generated_log log;
  log.text = "note,customer_id,date,amount\r\n";
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t customer = (i * 7919) % 503;
    log.ids.push_back(string_ids ? fmt::format("c{}", customer) : std::to_string(customer));
    log.timestamps.push_back(dates[i % dates.size()].second);
    log.amounts.push_back(static_cast<double>(i) * 0.25);
    const std::string note =
        i % 5 == 0 ? "\"multi\nline, \"\"quoted\"\"\n\"" : (i % 7 == 0 ? "" : "plain");
    log.text += fmt::format("{},{},{},{}{}", note, log.ids.back(), dates[i % dates.size()].first,
                            log.amounts.back(), i % 3 == 0 ? "\r\n" : "\n");
    if (i % 11 == 0) log.text += "\n";
  }
  return log;
}

}  // namespace

TEST_CASE("chunked parallel reading equals a serial read for any chunk size and thread count") {
  thread_count_guard guard;
  scratch_folder folder;
  for (const bool string_ids : {false, true}) {
    CAPTURE(string_ids);
    const generated_log truth = generate_log(2000, string_ids);
    const auto path = folder.write("g.csv", truth.text);
    auto options = with_amount();

    crmkit::set_num_threads(1);
    options.chunk_bytes = std::size_t{1} << 30;
    const auto serial = read_transactions(path, options);
    REQUIRE(serial.size() == truth.ids.size());
    CHECK(serial.timestamp == truth.timestamps);
    CHECK(serial.amount == truth.amounts);
    bool ids_match = true;
    for (std::size_t i = 0; i < truth.ids.size(); ++i) {
      const std::string id =
          string_ids ? serial.customer_labels[static_cast<std::size_t>(serial.customer[i])]
                     : std::to_string(serial.customer[i]);
      ids_match = ids_match && id == truth.ids[i];
    }
    CHECK(ids_match);
    CHECK(serial.customer_labels.size() == (string_ids ? 503u : 0u));

    for (const std::size_t threads : {1, 4}) {
      for (const std::size_t chunk_bytes : {1, 7, 50, 333, 4096, 9000}) {
        CAPTURE(threads);
        CAPTURE(chunk_bytes);
        crmkit::set_num_threads(threads);
        options.chunk_bytes = chunk_bytes;
        check_same_log(read_transactions(path, options), serial);
      }
    }
  }
}

TEST_CASE("errors and skipped rows are the same for any chunk size and thread count") {
  thread_count_guard guard;
  scratch_folder folder;
  generated_log truth = generate_log(1500, true);
  // Break rows far into the file, after many quoted line breaks.
  for (const char* needle : {",c37,", ",c401,", ",c3,"}) {
    const std::size_t at = truth.text.find(needle, truth.text.size() / 2);
    REQUIRE(at != std::string::npos);
    const std::size_t cut = at + std::string_view(needle).size();
    truth.text = truth.text.substr(0, cut) + "x" + truth.text.substr(cut);
  }
  const auto path = folder.write("e.csv", truth.text);
  auto options = with_amount();
  crmkit::set_num_threads(1);
  options.chunk_bytes = std::size_t{1} << 30;
  const std::string serial_error = error_message(path, options);
  CHECK(serial_error.find("cannot parse 'x") != std::string::npos);
  options.on_bad_row = bad_row_policy::skip;
  const auto serial_skip = read_transactions(path, options);
  CHECK(serial_skip.skipped.size() == 3);
  CHECK(serial_skip.size() == 1500 - 3);

  for (const std::size_t threads : {1, 4}) {
    // Chunks beyond 4080 bytes take more than one 255-step round of the SSE2 line count.
    for (const std::size_t chunk_bytes : {1, 64, 1000, 5000, 20000}) {
      CAPTURE(threads);
      CAPTURE(chunk_bytes);
      crmkit::set_num_threads(threads);
      options.chunk_bytes = chunk_bytes;
      options.on_bad_row = bad_row_policy::error;
      CHECK(error_message(path, options) == serial_error);
      options.on_bad_row = bad_row_policy::skip;
      check_same_log(read_transactions(path, options), serial_skip);
    }
  }

  // The reported line is where the bad field is: count the lines before it independently.
  const std::size_t first_bad = truth.text.find(",x");
  const auto line =
      1 + std::count(truth.text.begin(),
                     truth.text.begin() + static_cast<std::ptrdiff_t>(first_bad), '\n');
  CHECK(serial_skip.skipped.front().line == static_cast<std::size_t>(line));
}

namespace {

const fs::path& shared_data = crmkit_test::shared_data_dir;

/** Sums of a whitespace-separated file's fields, computed with plain stream extraction. */
struct cdnow_totals {
  std::size_t rows = 0;
  std::set<std::string> customers;
  double amount = 0;
  std::size_t zero_amounts = 0;
};

cdnow_totals sum_by_hand(const fs::path& file, std::size_t id_field, std::size_t amount_field,
                         std::size_t fields, bool skip_header) {
  cdnow_totals totals;
  std::ifstream in(file);
  std::string line;
  if (skip_header) std::getline(in, line);
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> parts;
    for (std::string word; words >> word;) parts.push_back(word);
    if (parts.empty()) continue;
    REQUIRE(parts.size() == fields);
    ++totals.rows;
    totals.customers.insert(parts[id_field]);
    const double amount = std::stod(parts[amount_field]);
    totals.amount += amount;
    totals.zero_amounts += amount == 0 ? 1 : 0;
  }
  return totals;
}

}  // namespace

TEST_CASE("CDNOW_sample.txt: 6,919 transactions of 2,357 customers" *
          crmkit_test::needs_data({"CDNOW_sample.txt"})) {
  const fs::path file = shared_data / "CDNOW_sample.txt";
  csv_options options;
  options.header = false;
  options.delimiter = crmkit::data::whitespace_delimiter;
  options.customer_id_col = column_ref::at(1);
  options.datetime_col = column_ref::at(2);
  options.monetary_value_col = column_ref::at(4);
  const auto log = read_transactions(file.string(), options);
  const auto totals = sum_by_hand(file, 1, 4, 5, false);
  CHECK(log.size() == 6919);
  CHECK(totals.rows == 6919);
  CHECK(std::set<std::int64_t>(log.customer.begin(), log.customer.end()).size() == 2357);
  CHECK(totals.customers.size() == 2357);
  CHECK(*std::min_element(log.customer.begin(), log.customer.end()) == 1);
  CHECK(*std::max_element(log.customer.begin(), log.customer.end()) == 2357);
  // Both sums run over the rows in file order, so they agree to the last bit.
  CHECK(std::accumulate(log.amount.begin(), log.amount.end(), 0.0) == totals.amount);
  // The README: transactions from 1997-01-01 to 1998-06-30.
  CHECK(*std::min_element(log.timestamp.begin(), log.timestamp.end()) == jan_1_1997);
  CHECK(*std::max_element(log.timestamp.begin(), log.timestamp.end()) == 899164800);
}

TEST_CASE("CDNOW_master.txt with its header: 69,659 transactions of 23,570 customers" *
          crmkit_test::needs_data({"CDNOW_master.txt"})) {
  const fs::path file = shared_data / "CDNOW_master.txt";
  csv_options options;
  options.delimiter = crmkit::data::whitespace_delimiter;
  options.datetime_col = "date";
  options.monetary_value_col = column_ref("dollar_value");
  const auto log = read_transactions(file.string(), options);
  const auto totals = sum_by_hand(file, 0, 3, 4, true);
  CHECK(log.size() == 69659);
  CHECK(totals.rows == 69659);
  CHECK(std::set<std::int64_t>(log.customer.begin(), log.customer.end()).size() == 23570);
  CHECK(std::accumulate(log.amount.begin(), log.amount.end(), 0.0) == totals.amount);
  // The README: 80 rows have dollar value 0.
  CHECK(std::count(log.amount.begin(), log.amount.end(), 0.0) == 80);
  CHECK(totals.zero_amounts == 80);
}

// Issue 13, defect 10: a quoted field with a line break made a two-line message.
TEST_CASE("field text quoted in a message has its control characters escaped") {
  // Value-initialised: GCC 12 at -O3 takes the optional column for uninitialised otherwise.
  csv_options options{};
  options.monetary_value_col = column_ref("amount");
  CHECK_THROWS_WITH_AS(
      static_cast<void>(crmkit::data::parse_transactions(
          "customer_id,date,amount\n1,\"1997-01-01\n\",5\n", options)),
      "<text>:2:3: column 'date': cannot parse '1997-01-01\\n' as a date (expected YYYY-MM-DD, "
      "YYYYMMDD or ISO datetime)",
      crmkit::parse_error);
  CHECK_THROWS_WITH_AS(
      static_cast<void>(crmkit::data::parse_transactions(
          "customer_id,date,amount\n1,1997-01-01,\"1\r\n\t2\"\n", options)),
      "<text>:2:14: column 'amount': cannot parse '1\\r\\n\\t2' as a number",
      crmkit::parse_error);
  options.on_bad_row = bad_row_policy::skip;
  const auto log = crmkit::data::parse_transactions(
      "customer_id,date,amount\n1,\"1997-01-01\n\",5\n2,1997-01-01,5\n", options);
  REQUIRE(log.skipped.size() == 1);
  CHECK(log.skipped[0].reason.find('\n') == std::string::npos);
  CHECK(crmkit::printable("a\x01\x7f\\b\xc3\xa9\xe9") == "a\\x01\\x7F\\\\b\xc3\xa9\\xE9");
}

// Issue 13, defect 8: UTF-16 and Latin-1 files gave Python an empty ValueError (the message
// quoted bytes that are not UTF-8) or a UnicodeDecodeError (labels that are not UTF-8).
TEST_CASE("encodings: UTF-16/32 files are refused by name; ids that are not UTF-8 are bad rows") {
  using namespace std::string_literals;
  CHECK_THROWS_WITH_AS(static_cast<void>(crmkit::data::parse_transactions(
                           "\xFF\xFE" "c\0u\0"s, {}, "u16.csv")),
                       "u16.csv:1:1: the file is UTF-16-LE (it starts with the byte-order mark "
                       "\\xFF\\xFE); crmkit reads UTF-8: convert the file, or in Python pass "
                       "encoding='utf-16'",
                       crmkit::parse_error);
  CHECK_THROWS_WITH_AS(static_cast<void>(crmkit::data::parse_transactions(
                           "\xFF\xFE\0\0c\0\0\0"s, {}, "u32.csv")),
                       doctest::Contains("UTF-32-LE"), crmkit::parse_error);
  CHECK_THROWS_WITH_AS(static_cast<void>(crmkit::data::parse_transactions(
                           "c\0u\0s\0,\0d\0\n\0"s, {}, "nobom.csv")),
                       doctest::Contains("nobom.csv:1:2: zero byte 0x00"), crmkit::parse_error);

  const std::string latin1 = "customer_id,date\ncaf\xE9,1997-01-01\nbob,1997-01-02\n";
  CHECK_THROWS_WITH_AS(
      static_cast<void>(crmkit::data::parse_transactions(latin1, {}, "l1.csv")),
      "l1.csv:2:1: column 'customer_id': byte 0xE9 at position 4 of 'caf\\xE9' is not UTF-8 "
      "(crmkit reads UTF-8; in Python pass encoding=..., e.g. 'latin-1')",
      crmkit::parse_error);
  csv_options skip;
  skip.on_bad_row = bad_row_policy::skip;
  const auto log = crmkit::data::parse_transactions(latin1, skip, "l1.csv");
  CHECK(log.customer_labels == std::vector<std::string>{"bob"});
  REQUIRE(log.skipped.size() == 1);
  CHECK(log.skipped[0].line == 2);
  // A UTF-8 byte-order mark and valid multi-byte UTF-8 ids are read as before.
  const auto utf8 = crmkit::data::parse_transactions(
      "\xEF\xBB\xBF" "customer_id,date\ncaf\xC3\xA9,1997-01-01\n");
  CHECK(utf8.customer_labels == std::vector<std::string>{"caf\xC3\xA9"});
}
