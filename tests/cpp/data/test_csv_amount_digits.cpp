#include <crmkit/data/csv.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cstdint>
#include <random>
#include <string>
#include <system_error>
#include <vector>

// The reader's amounts must be the very doubles std::from_chars reads (correctly rounded, round
// half to even), whichever of its paths (Clinger's, Eisel-Lemire's, from_chars itself) reads
// them. The reference here is std::from_chars on the same text ('+' removed: from_chars does not
// take it), compared bit for bit.

namespace {

using crmkit::data::csv_options;
using crmkit::data::parse_transactions;

std::string digits_of(std::uint64_t value) { return fmt::format("{}", value); }

/** `digits` with a point placed so that `fraction` digits follow it, zero-padded in front. */
std::string with_point(const std::string& digits, std::size_t fraction) {
  if (fraction == 0) return digits;
  if (digits.size() <= fraction) {
    return fmt::format("0.{}{}", std::string(fraction - digits.size(), '0'), digits);
  }
  const std::size_t whole = digits.size() - fraction;
  return fmt::format("{}.{}", digits.substr(0, whole), digits.substr(whole));
}

/** Texts of many shapes: what the generators below make, a few million in all. */
std::vector<std::string> amount_texts() {
  std::mt19937_64 random(20261206);
  std::vector<std::string> texts{
      "9007199254740991", "9007199254740992", "9007199254740993", "9007199254740994",
      "9007199254740995", "18014398509481986", "18014398509481986.0", "4503599627370496.5",
      "4503599627370497.5", "9999999999999999999", "0.9999999999999999999",
      "18446744073709551615", "18446744073709551616", "1.7976931348623157e308",
      "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000"
      "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000",
      "2.2250738585072014e-308", "4.9e-324", "5e-324", "2.4703282292062328e-324",
      "0.000000000000000000000000001", "0.0000000000000000000000000001",
      "0.000000000000000000000000000123456789", "00000000000000000000000000012.5", "+0.5",
      "-0.0", "+12345678901234567", "0.1", "0.2", "0.3", "1e23", "8.988465674311579e307"};
  auto emit = [&](std::string text) {
    const int sign = static_cast<int>(random() % 8);
    texts.push_back(fmt::format("{}{}", sign == 0 ? "-" : sign == 1 ? "+" : "", text));
  };
  // Random mantissas of 1-20 significant digits, the point anywhere (leading zeros after it),
  // trailing zeros, leading zeros, sometimes an exponent.
  for (int i = 0; i < 1'200'000; ++i) {
    const int length = 1 + static_cast<int>(random() % 20);
    std::string digits(static_cast<std::size_t>(length), '0');
    for (char& digit : digits) digit = static_cast<char>('0' + random() % 10);
    digits[0] = static_cast<char>('1' + random() % 9);
    if (random() % 8 == 0) digits.append(random() % 6, '0');
    std::string text = with_point(digits, random() % (digits.size() + 8));
    if (random() % 16 == 0) text = fmt::format("{}{}", std::string(random() % 4, '0'), text);
    if (random() % 10 == 0) {
      text += fmt::format("e{}", static_cast<int>(random() % 660) - 340);
    }
    emit(std::move(text));
  }
  // Shortest round-trip texts of doubles (as Python's repr and the report's logs write them):
  // amounts of money and doubles of any exponent.
  std::uniform_real_distribution<double> money(0.0, 1000.0);
  for (int i = 0; i < 500'000; ++i) {
    emit(fmt::format("{}", money(random)));
    const double any = std::bit_cast<double>(random() & 0x7FEFFFFFFFFFFFFF);
    emit(fmt::format("{}", any));
  }
  // Exact halfway points between neighbouring doubles in [2^49, 2^53) and [2^53, 2^64), written
  // with the fewest decimals they need (1-4 after the point, or none), and their neighbours one
  // unit in the last digit away; also with a trailing zero.
  for (int i = 0; i < 100'000; ++i) {
    const int fraction_bits = 1 + static_cast<int>(random() % 4);  // spacing 2^(1 - bits)
    const std::uint64_t whole =
        (std::uint64_t{1} << (53 - fraction_bits)) + random() % (std::uint64_t{1} << (53 - fraction_bits));
    std::uint64_t scaled = whole;
    std::uint64_t fraction = 0;  // (2 * odd + 1) / 2^fraction_bits in decimal, 10^fraction_bits units
    std::uint64_t unit = 1;
    for (int k = 0; k < fraction_bits; ++k) unit *= 10;
    const std::uint64_t numerator = 2 * (random() % (std::uint64_t{1} << (fraction_bits - 1))) + 1;
    fraction = numerator * unit / (std::uint64_t{1} << fraction_bits);
    scaled = whole * unit + fraction;
    for (const std::int64_t step : {-1, 0, 1}) {
      const std::string digits = digits_of(scaled + static_cast<std::uint64_t>(step));
      emit(with_point(digits, static_cast<std::size_t>(fraction_bits)));
      emit(with_point(digits + "0", static_cast<std::size_t>(fraction_bits) + 1));
    }
    const int shift = 1 + static_cast<int>(random() % 11);  // spacing 2^shift in [2^(53+shift), ..)
    std::uint64_t big = (std::uint64_t{1} << (52 + shift)) | (random() >> (12 - shift));
    big = (big & ~((std::uint64_t{1} << shift) - 1)) | (std::uint64_t{1} << (shift - 1));
    for (const std::int64_t step : {-1, 0, 1}) {
      const std::string digits = digits_of(big + static_cast<std::uint64_t>(step));
      emit(digits);
      emit(with_point(digits + "0", 1));
    }
  }
  return texts;
}

}  // namespace

TEST_CASE("amounts: bit for bit the doubles std::from_chars reads, millions of texts") {
  std::vector<std::string> texts;
  std::vector<double> expected;
  std::size_t partly_read = 0;
  for (std::string& text : amount_texts()) {
    const std::string_view digits = text[0] == '+' ? std::string_view(text).substr(1) : text;
    double value = 0;
    const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    partly_read += end == digits.data() + digits.size() ? 0 : 1;
    if (status != std::errc{}) continue;  // out of range: a bad row, tested elsewhere
    texts.push_back(std::move(text));
    expected.push_back(value);
  }
  REQUIRE(partly_read == 0);
  REQUIRE(texts.size() > 2'000'000);
  std::string csv = "customer_id,date,amount\n";
  for (const std::string& text : texts) csv += fmt::format("1,2024-01-01,{}\n", text);
  csv_options options;
  options.monetary_value_col = crmkit::data::column_ref{"amount"};
  const auto log = parse_transactions(csv, options, "amounts.csv");
  REQUIRE(log.amount.size() == texts.size());
  std::size_t mismatches = 0;
  std::string first_mismatch;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (std::bit_cast<std::uint64_t>(log.amount[i]) != std::bit_cast<std::uint64_t>(expected[i])) {
      if (mismatches++ == 0) {
        first_mismatch = fmt::format("{}: read {} expected {}", texts[i], log.amount[i], expected[i]);
      }
    }
  }
  INFO(first_mismatch);
  CHECK(mismatches == 0);
}
