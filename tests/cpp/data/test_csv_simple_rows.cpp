#include <crmkit/core/error.hpp>
#include <crmkit/data/csv.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "data/read_csv_rows.hpp"

// The reader reads a simple row (no quote, no padding, values in their plain forms) in one pass
// and leaves every other line to its record scanner. Whatever the text, both ways must give the
// same log, the same skipped rows and the same error: here random files full of the cases that
// part them (quotes, CRLF, a byte-order mark, blank and padded lines, empty and very long
// fields, values just outside the plain forms, bad values of every kind, fields across the
// eight-byte steps and across chunk boundaries) are read both ways and compared.

namespace {

using crmkit::data::bad_row_policy;
using crmkit::data::column_ref;
using crmkit::data::csv_options;
using crmkit::data::transaction_log;
using crmkit::data::detail::row_reading;

/** A log, or the message of the error that stopped the read. */
struct outcome {
  std::optional<transaction_log> log;
  std::string error;
};

outcome read(const std::string& text, const csv_options& options, row_reading reading) {
  try {
    return {crmkit::data::detail::parse_transactions(text, options, "random.csv", reading), ""};
  } catch (const crmkit::error& error) {
    return {std::nullopt, error.what()};
  }
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](T x, T y) {
           return std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y);
         });
}

/** Checks that two outcomes are the same, column by column and skipped row by skipped row. */
void check_same(const outcome& simple, const outcome& scanned, const std::string& text) {
  INFO("file: ", text);
  REQUIRE(simple.error == scanned.error);
  REQUIRE(simple.log.has_value() == scanned.log.has_value());
  if (!simple.log) return;
  const transaction_log& a = *simple.log;
  const transaction_log& b = *scanned.log;
  CHECK(a.customer == b.customer);
  CHECK(a.customer_labels == b.customer_labels);
  CHECK(a.timestamp == b.timestamp);
  CHECK(same_bits(a.amount, b.amount));
  REQUIRE(a.skipped.size() == b.skipped.size());
  for (std::size_t i = 0; i < a.skipped.size(); ++i) {
    CHECK(a.skipped[i].line == b.skipped[i].line);
    CHECK(a.skipped[i].column == b.skipped[i].column);
    CHECK(a.skipped[i].reason == b.skipped[i].reason);
  }
}

class random_csv {
 public:
  explicit random_csv(std::uint64_t seed) : random_(seed) {}

  std::size_t below(std::size_t n) { return static_cast<std::size_t>(random_() % n); }
  bool one_in(std::size_t n) { return below(n) == 0; }

  std::string digits(std::size_t count) {
    std::string text;
    for (std::size_t i = 0; i < count; ++i) text += static_cast<char>('0' + below(10));
    return text;
  }

  template <class T>
  const T& pick(const std::vector<T>& choices) {
    return choices[below(choices.size())];
  }

  /** Mostly plain integers (1-20 digits), sometimes texts that are no int64. */
  std::string integer_id() {
    if (one_in(40)) {
      return pick<std::string>({"", "-", "+5", "--1", "1.0", "12a", "9223372036854775807",
                                "9223372036854775808", "-9223372036854775808", "00000000000000000042"});
    }
    return fmt::format("{}{}", one_in(10) ? "-" : "", digits(1 + below(one_in(8) ? 20 : 7)));
  }

  /** Texts of one to hundreds of bytes, some of them not UTF-8. */
  std::string label_id() {
    if (one_in(30)) return pick<std::string>({"", "caf\xC3\xA9", "bad\xFF", "x\xC3", "a\rb"});
    std::string text = fmt::format("c{}", digits(1 + below(8)));
    if (one_in(20)) text += std::string(1 + below(300), 'z');
    return text;
  }

  std::string date(bool with_format) {
    if (with_format) {
      if (one_in(10)) return pick<std::string>({"31/02/2024", "1/2/2024", "2024-01-01", ""});
      return fmt::format("{:02}/{:02}/{}", 1 + below(28), 1 + below(12), 1990 + below(40));
    }
    if (one_in(12)) {
      return pick<std::string>({"2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10",
                                "2024-01-32", "2024-1-01", "20240131", "2024-01-31T10:20:30",
                                "2024-01-31 10:20", "2024-01-31T10:20:30.5Z", "2024/01/31",
                                "0999-12-31", "9999-12-31", "1677-09-20", "2263-01-01",
                                "2024-01-3", "", "x024-01-01", "2024-01-01x", "2024-01-01T"});
    }
    return fmt::format("{}-{:02}-{:02}", 1900 + below(300), 1 + below(12), 1 + below(28));
  }

  /** Plain decimals of 1-20 significant digits, and texts just outside that form. */
  std::string amount() {
    if (one_in(15)) {
      return pick<std::string>({"", "-", ".", ".5", "5.", "-.5", "+2.5", "+-1", "1e5", "1E-3",
                                "nan", "inf", "-inf", "1e400", "0x10", "1,5", "12.5.1", "--1",
                                "0.000000000000000000000000000001", "-0", "-0.0", "00012.50",
                                "123456789012345678901234567890", "9007199254740993",
                                "1" + std::string(30, '0') + ".5", "0." + std::string(450, '0') + "1"});
    }
    std::string whole = digits(1 + below(one_in(5) ? 20 : 4));
    std::string text = fmt::format("{}{}", one_in(10) ? "-" : "", whole);
    if (!one_in(6)) text += "." + digits(1 + below(18));
    return text;
  }

  std::string unused() {
    if (one_in(4)) return "";
    if (one_in(10)) return pick<std::string>({"a\"b", "note 1", " x ", "\t"});
    return std::string(below(40), static_cast<char>('a' + below(26)));
  }

  /** `value` as a field: now and then quoted (with its quotes doubled) or padded. */
  std::string field(const std::string& value, char delimiter) {
    const std::size_t how = below(40);
    if (how == 0 || (how == 1 && value.find(delimiter) != std::string::npos)) {
      std::string quoted = "\"";
      for (const char c : value) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      return quoted + "\"";
    }
    if (how == 2 && delimiter != ' ') return " " + value;
    if (how == 3 && delimiter != '\t' && delimiter != ' ') return value + "\t";
    if (how == 4) return "\"" + value + "\" ";
    if (how == 5) return "\"a\nb\"";
    return value;
  }

  std::mt19937_64& engine() { return random_; }

 private:
  std::mt19937_64 random_;
};

}  // namespace

TEST_CASE("simple rows: the one-pass reading gives the record scanner's log and errors") {
  random_csv random(20261206);
  const std::vector<char> delimiters{',', ',', ',', ';', '\t', '|', ' ', '.', '-', '7'};
  std::size_t logs = 0;
  std::size_t errors = 0;
  std::size_t skipped = 0;
  for (int file = 0; file < 4000; ++file) {
    const char delimiter = random.pick(delimiters);
    const bool header = !random.one_in(5);
    const bool labels = random.one_in(4);
    const bool with_amount = !random.one_in(5);
    const bool with_format = random.one_in(8);
    // Fields: customer, date, maybe amount, and up to three unused, in a random order.
    std::vector<int> roles{0, 1};
    if (with_amount) roles.push_back(2);
    for (std::size_t extra = random.below(4); extra > 0; --extra) roles.push_back(-1);
    std::shuffle(roles.begin(), roles.end(), random.engine());

    csv_options options;
    options.delimiter = delimiter;
    options.header = header;
    options.on_bad_row = random.one_in(2) ? bad_row_policy::skip : bad_row_policy::error;
    if (with_format) options.date_format = "%d/%m/%Y";
    options.chunk_bytes = random.one_in(2) ? 1 + random.below(80) : std::size_t{1} << 20;
    if (random.one_in(6)) {
      options.min_timestamp = -2208988800;  // 1900-01-01
      options.max_timestamp = 4102444800;   // 2100-01-01
    }
    const std::string eol = random.one_in(4) ? "\r\n" : "\n";
    const std::string separator = delimiter == ' ' ? (random.one_in(2) ? " " : " \t ")
                                                   : std::string(1, delimiter);
    std::string text = random.one_in(10) ? "\xEF\xBB\xBF" : "";
    if (header) {
      std::vector<std::string> names;
      for (std::size_t i = 0; i < roles.size(); ++i) {
        names.push_back(roles[i] == 0   ? "customer_id"
                        : roles[i] == 1 ? "date"
                        : roles[i] == 2 ? "amount"
                                        : fmt::format("extra{}", i));
      }
      text += fmt::format("{}", fmt::join(names, separator)) + eol;
    }
    for (std::size_t i = 0; i < roles.size(); ++i) {
      const column_ref column = header ? column_ref(roles[i] == 0   ? "customer_id"
                                                    : roles[i] == 1 ? "date"
                                                                    : "amount")
                                       : column_ref::at(i);
      if (roles[i] == 0) options.customer_id_col = column;
      if (roles[i] == 1) options.datetime_col = column;
      if (roles[i] == 2) options.monetary_value_col = column;
    }
    const std::size_t rows = random.below(40);
    for (std::size_t row = 0; row < rows; ++row) {
      if (random.one_in(25)) text += random.pick<std::string>({"", " ", "\t", "\r", " \r"}) + eol;
      std::vector<std::string> fields;
      for (const int role : roles) {
        const std::string value = role == 0   ? (labels ? random.label_id() : random.integer_id())
                                  : role == 1 ? random.date(with_format)
                                  : role == 2 ? random.amount()
                                              : random.unused();
        fields.push_back(random.field(value, delimiter));
      }
      if (random.one_in(40)) fields.pop_back();
      if (random.one_in(40)) fields.push_back("surplus");
      text += fmt::format("{}", fmt::join(fields, separator));
      if (row + 1 < rows || !random.one_in(3)) text += random.one_in(30) ? "\r\r\n" : eol;
    }

    const outcome simple = read(text, options, row_reading::one_pass_where_simple);
    const outcome scanned = read(text, options, row_reading::record_scanner_only);
    check_same(simple, scanned, text);
    // The chunking changes nothing either.
    csv_options whole = options;
    whole.chunk_bytes = std::size_t{1} << 20;
    check_same(read(text, whole, row_reading::one_pass_where_simple), scanned, text);
    if (simple.log) {
      ++logs;
      skipped += simple.log->skipped.size();
    } else {
      ++errors;
    }
  }
  // Both outcomes were met often enough for the comparison to mean something.
  CHECK(logs > 1000);
  CHECK(errors > 500);
  CHECK(skipped > 1000);
}

TEST_CASE("simple rows: values of plain rows, against independent computations") {
  // 2024-03-05 is 19787 days after 1970-01-01 (Python: (date(2024, 3, 5) - date(1970, 1, 1)).days);
  // 1999-12-31 is 10956 days after it. The amounts are std::from_chars' doubles of the same texts
  // (17 significant digits, past 2^53: Eisel-Lemire's case; and a short one).
  const std::string text =
      "customer_id,date,amount\r\n"
      "123456,2024-03-05,14.185671125986872\r\n"
      "-7,1999-12-31,0.5\r\n"
      "000000000000000042,2024-03-05,-20.5509642190922";
  csv_options options;
  options.monetary_value_col = column_ref("amount");
  const transaction_log log = crmkit::data::parse_transactions(text, options, "plain.csv");
  CHECK(log.customer == std::vector<std::int64_t>{123456, -7, 42});
  CHECK(log.timestamp == std::vector<std::int64_t>{19787 * 86400LL, 10956 * 86400LL, 19787 * 86400LL});
  REQUIRE(log.amount.size() == 3);
  CHECK(log.amount[0] == 14.185671125986872);
  CHECK(log.amount[1] == 0.5);
  CHECK(log.amount[2] == -20.5509642190922);
}
