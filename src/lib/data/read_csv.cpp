#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/printable.hpp"
#include "crmkit/core/suggest.hpp"
#include "crmkit/data/csv.hpp"
#include "crmkit/data/read_records.hpp"
#include "crmkit/data/date_parse.hpp"
#include "huge_pages.hpp"
#include "read_csv_rows.hpp"

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

#if defined(__unix__)
#include <sys/mman.h>
#include <sys/stat.h>
#endif

namespace crmkit::data {
namespace {

constexpr std::string_view utf8_byte_order_mark = "\xEF\xBB\xBF";

[[noreturn]] void fail(std::string_view message, std::string_view caller = "read_transactions") {
  throw invalid_input(fmt::format("{}: {}", caller, message));
}

/**
 * crmkit reads UTF-8 (with or without a byte-order mark). A UTF-16 or UTF-32 byte-order mark, or
 * a zero byte on the first line (UTF-16 without a mark), stops the read with a message saying so.
 */
void reject_other_encodings(std::string_view text, const std::string& source) {
  struct byte_order_mark {
    std::string_view bytes;
    std::string_view encoding;
    std::string_view python_codec;
  };
  // UTF-32 LE before UTF-16 LE: its mark starts with the same two bytes.
  constexpr byte_order_mark marks[] = {{{"\xFF\xFE\0\0", 4}, "UTF-32-LE", "utf-32"},
                                       {{"\0\0\xFE\xFF", 4}, "UTF-32-BE", "utf-32"},
                                       {"\xFF\xFE", "UTF-16-LE", "utf-16"},
                                       {"\xFE\xFF", "UTF-16-BE", "utf-16"}};
  for (const auto& mark : marks) {
    if (text.starts_with(mark.bytes)) {
      throw parse_error(
          fmt::format("{}:1:1: the file is {} (it starts with the byte-order mark {}); crmkit "
                      "reads UTF-8: convert the file, or in Python pass encoding='{}'",
                      source, mark.encoding, printable(mark.bytes), mark.python_codec),
          source, 1, 1);
    }
  }
  const std::string_view first_line = text.substr(0, text.find('\n'));
  if (const std::size_t zero = first_line.find('\0'); zero != std::string_view::npos) {
    throw parse_error(
        fmt::format("{}:1:{}: zero byte 0x00: the file looks like UTF-16 or binary, not UTF-8 "
                    "text; convert it, or in Python pass encoding='utf-16'",
                    source, zero + 1),
        source, 1, zero + 1);
  }
}

// ---------------------------------------------------------------------------------------------
// The file, read whole.

struct unmap {
  std::size_t bytes = 0;
  void operator()(char* address) const noexcept;
};

/** A file's bytes: mapped read-only when it is a regular file, else read into memory. */
struct file_contents {
  std::unique_ptr<char, unmap> mapping;
  detail::huge_buffer<char> bytes;
  std::size_t size = 0;
  [[nodiscard]] std::string_view view() const noexcept {
    return {mapping ? mapping.get() : bytes.data(), size};
  }
};

#if defined(__unix__)
void unmap::operator()(char* address) const noexcept { munmap(address, bytes); }
#else
void unmap::operator()(char*) const noexcept {}
#endif

/**
 * Maps a regular, nonempty file (the page cache's pages, so nothing is copied or zeroed: for a
 * file of hundreds of megabytes this is most of the reading time). Nothing for other files.
 */
std::optional<file_contents> map_file([[maybe_unused]] std::FILE* file) {
#if defined(__unix__)
  struct stat status {};
  if (fstat(fileno(file), &status) != 0 || !S_ISREG(status.st_mode) || status.st_size <= 0) {
    return std::nullopt;
  }
  const auto size = static_cast<std::size_t>(status.st_size);
  void* address = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fileno(file), 0);
  if (address == MAP_FAILED) return std::nullopt;
  file_contents contents;
  contents.mapping = std::unique_ptr<char, unmap>(static_cast<char*>(address), unmap{size});
  contents.size = size;
  return contents;
#else
  return std::nullopt;
#endif
}

file_contents read_whole_file(const std::string& path,
                              std::string_view caller = "read_transactions") {
  using file_handle = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;
  const file_handle file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) fail(fmt::format("cannot open '{}': {}", path, std::strerror(errno)), caller);
  if (auto mapped = map_file(file.get())) return std::move(*mapped);
  std::error_code size_error;
  const auto size_hint = std::filesystem::file_size(path, size_error);
  std::size_t capacity = size_error ? 1 << 16 : static_cast<std::size_t>(size_hint) + 1;
  file_contents contents;
  contents.bytes = detail::huge_buffer<char>(capacity);
  for (;;) {
    if (contents.size == capacity) {
      detail::huge_buffer<char> larger(capacity * 2);
      std::memcpy(larger.data(), contents.bytes.data(), contents.size);
      contents.bytes = std::move(larger);
      capacity *= 2;
    }
    const std::size_t count =
        std::fread(contents.bytes.data() + contents.size, 1, capacity - contents.size, file.get());
    contents.size += count;
    if (count == 0) {
      if (std::ferror(file.get()))
        fail(fmt::format("cannot read '{}': {}", path, std::strerror(errno)), caller);
      return contents;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Records: splitting text into fields.

struct raw_field {
  std::string_view text;  // trimmed unquoted text, or what lies between the quotes
  bool has_escapes = false;
  std::size_t line = 0;
  std::size_t column = 0;
};

struct row_problem {
  std::size_t line = 0;
  std::size_t column = 0;
  std::string reason;
};

enum class record_status { ok, end, bad, inside_quotes_at_end };

/** Field text with every doubled quote `""` turned into one `"`. */
std::string_view unescape(const raw_field& field, std::string& scratch) {
  if (!field.has_escapes) return field.text;
  scratch.clear();
  for (std::size_t i = 0; i < field.text.size(); ++i) {
    scratch.push_back(field.text[i]);
    if (field.text[i] == '"') ++i;
  }
  return scratch;
}

/**
 * Cuts `text[begin, end)` into records and fields. `begin` is the start of line `line`; `end`
 * is the end of the input or lies just after a '\n'. Whitespace mode splits on runs of spaces,
 * tabs and CRs; otherwise fields are separated by `delimiter` and trimmed of spaces and tabs.
 */
template <bool whitespace>
class record_scanner {
 public:
  record_scanner(std::string_view text, std::size_t begin, std::size_t end, std::size_t line,
                 char delimiter)
      : text_(text),
        position_(begin),
        end_(end),
        line_(line),
        line_start_(begin),
        delimiter_(delimiter),
        input_ends_here_(end == text.size()) {}

  [[nodiscard]] std::size_t position() const noexcept { return position_; }
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  [[nodiscard]] std::size_t record_begin() const noexcept { return record_begin_; }
  [[nodiscard]] std::size_t record_line() const noexcept { return record_line_; }
  [[nodiscard]] std::size_t field_count() const noexcept { return field_count_; }

  /** Moves past `count` lines from position(), to `next`: a line start, or the end. */
  void skip_lines(std::size_t count, std::size_t next) noexcept {
    line_ += text_[next - 1] == '\n' ? count : count - 1;
    position_ = line_start_ = next;
  }

  /**
   * Reads the next record, calling `sink(index, field)` for each field. `bad` fills `problem`
   * and moves past the line; `inside_quotes_at_end` means a quoted field runs past `end`.
   */
  template <class Sink>
  record_status next(Sink&& sink, row_problem& problem) {
    if (!skip_blank_lines()) return record_status::end;
    record_begin_ = position_;
    record_line_ = line_;
    field_count_ = 0;
    for (;;) {
      while (position_ < end_ && is_padding(text_[position_])) ++position_;
      const std::size_t line = line_;
      const std::size_t column = column_of(position_);
      std::string_view field;
      bool has_escapes = false;
      if (position_ < end_ && text_[position_] == '"') {
        const record_status status = read_quoted(field, has_escapes, line, column, problem);
        if (status != record_status::ok) return status;
      } else {
        field = read_unquoted();
      }
      sink(field_count_++, raw_field{field, has_escapes, line, column});
      if constexpr (whitespace) {
        while (position_ < end_ && is_padding(text_[position_])) ++position_;
        if (position_ == end_ || text_[position_] == '\n') break;
      } else {
        if (position_ == end_ || text_[position_] != delimiter_) break;
        ++position_;
      }
    }
    if (position_ < end_) next_line(position_ + 1);
    return record_status::ok;
  }

 private:
  [[nodiscard]] bool is_padding(char c) const noexcept {
    if constexpr (whitespace) {
      return c == ' ' || c == '\t' || c == '\r';
    } else {
      return (c == ' ' || c == '\t') && c != delimiter_;
    }
  }

  [[nodiscard]] std::size_t column_of(std::size_t position) const noexcept {
    return position - line_start_ + 1;
  }

  void next_line(std::size_t line_start) noexcept {
    ++line_;
    position_ = line_start_ = line_start;
  }

  // Leaves `position_` at the start of the next line holding more than spaces, tabs and CRs.
  bool skip_blank_lines() noexcept {
    for (;;) {
      std::size_t ahead = position_;
      while (ahead < end_ &&
             (text_[ahead] == ' ' || text_[ahead] == '\t' || text_[ahead] == '\r')) {
        ++ahead;
      }
      if (ahead == end_) {
        position_ = end_;
        return false;
      }
      if (text_[ahead] != '\n') return true;
      next_line(ahead + 1);
    }
  }

  // The first delimiter or '\n' at or after `position`, else `end_`; eight bytes at a time
  // (a byte equal to c makes the word x = w ^ c*0x01..01 hold a zero byte: the lowest byte
  // flagged by (x - 0x01..01) & ~x & 0x80..80 is the first such byte).
  [[nodiscard]] std::size_t find_field_end(std::size_t position) const noexcept {
    if constexpr (std::endian::native == std::endian::little) {
      constexpr std::uint64_t ones = 0x0101010101010101;
      constexpr std::uint64_t highs = 0x8080808080808080;
      const std::uint64_t delimiters = ones * static_cast<unsigned char>(delimiter_);
      const std::uint64_t newlines = ones * static_cast<unsigned char>('\n');
      for (; position + 8 <= end_; position += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, text_.data() + position, 8);
        const std::uint64_t at_delimiter = word ^ delimiters;
        const std::uint64_t at_newline = word ^ newlines;
        const std::uint64_t hits =
            (((at_delimiter - ones) & ~at_delimiter) | ((at_newline - ones) & ~at_newline)) & highs;
        if (hits != 0) return position + static_cast<std::size_t>(std::countr_zero(hits)) / 8;
      }
    }
    while (position < end_ && text_[position] != delimiter_ && text_[position] != '\n') ++position;
    return position;
  }

  std::string_view read_unquoted() noexcept {
    const std::size_t begin = position_;
    if constexpr (whitespace) {
      while (position_ < end_ && text_[position_] != '\n' && !is_padding(text_[position_])) {
        ++position_;
      }
    } else {
      position_ = find_field_end(position_);
    }
    std::size_t stop = position_;
    while (stop > begin && (is_padding(text_[stop - 1]) || text_[stop - 1] == '\r')) --stop;
    return text_.substr(begin, stop - begin);
  }

  record_status read_quoted(std::string_view& field, bool& has_escapes, std::size_t line,
                            std::size_t column, row_problem& problem) {
    const std::size_t begin = ++position_;
    for (;;) {
      while (position_ < end_ && text_[position_] != '"') {
        if (text_[position_] == '\n') {
          ++line_;
          line_start_ = position_ + 1;
        }
        ++position_;
      }
      if (position_ == end_) {
        if (!input_ends_here_) return record_status::inside_quotes_at_end;
        problem = {line, column, "unterminated quoted field: no closing '\"'"};
        return record_status::bad;
      }
      if (position_ + 1 < end_ && text_[position_ + 1] == '"') {
        has_escapes = true;
        position_ += 2;
        continue;
      }
      break;
    }
    field = text_.substr(begin, position_ - begin);
    const std::size_t after_quote = ++position_;
    while (position_ < end_ && is_padding(text_[position_])) ++position_;
    if (!whitespace && position_ < end_ && text_[position_] == '\r' &&
        (position_ + 1 == end_ || text_[position_ + 1] == '\n')) {
      ++position_;
    }
    if (position_ == end_ || text_[position_] == '\n') return record_status::ok;
    if (whitespace ? position_ > after_quote : text_[position_] == delimiter_) {
      return record_status::ok;
    }
    problem = {
        line_, column_of(position_),
        fmt::format("unexpected '{}' after the closing quote of a quoted field",
                    printable(text_.substr(position_, 1)))};
    const std::size_t newline = text_.find('\n', position_);
    if (newline == std::string_view::npos || newline >= end_) {
      position_ = end_;
    } else {
      next_line(newline + 1);
    }
    return record_status::bad;
  }

  std::string_view text_;
  std::size_t position_;
  std::size_t end_;
  std::size_t line_;
  std::size_t line_start_;
  char delimiter_;
  bool input_ends_here_;
  std::size_t record_begin_ = 0;
  std::size_t record_line_ = 0;
  std::size_t field_count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Values: customer ids, timestamps, amounts.

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

/** Labels numbered in order of first appearance. */
class label_table {
 public:
  std::int64_t code_of(std::string_view label) {
    if (const auto found = codes_.find(label); found != codes_.end()) return found->second;
    const auto code = static_cast<std::int64_t>(order_.size());
    order_.push_back(&codes_.emplace(std::string(label), code).first->first);
    return code;
  }
  [[nodiscard]] std::size_t size() const noexcept { return order_.size(); }
  [[nodiscard]] const std::string& label(std::size_t code) const noexcept { return *order_[code]; }

 private:
  std::unordered_map<std::string, std::int64_t, string_hash, std::equal_to<>> codes_;
  std::vector<const std::string*> order_;  // keys of codes_ (node addresses are stable)
};

enum slot : std::size_t { customer_slot, datetime_slot, amount_slot, slot_count };

/** Everything a chunk needs to read rows, shared read-only by all chunks. */
struct row_reader {
  std::string_view text;
  char delimiter = ',';
  bad_row_policy on_bad_row = bad_row_policy::error;
  std::size_t field_count = 0;
  std::vector<int> slot_of_field;  // slot for each field index, -1 when unused
  std::array<std::string, slot_count> column_names;
  bool has_amount = false;
  std::optional<data::date_format> format;
  std::string date_expectation;
  std::int64_t min_timestamp = 0;
  std::int64_t max_timestamp = 0;
  bool simple_rows = false;  // read_simple_rows tried first at each line

  [[nodiscard]] bool parse_date(std::string_view value, std::int64_t& seconds) const noexcept {
    if (!format) return detail::read_iso_timestamp(value, seconds);
    const std::optional<std::int64_t> parsed = format->parse(value);
    if (parsed) seconds = *parsed;
    return parsed.has_value();
  }
};

struct chunk_output {
  std::int64_t* customer;
  std::int64_t* timestamp;
  double* amount;
};

struct chunk_result {
  std::size_t rows = 0;
  bool inside_quotes_at_end = false;
  bool needs_labels = false;
  std::optional<row_problem> error;
  std::vector<skipped_row> skipped;
  label_table labels;
};

/** Reads an optionally negative decimal integer that fits in int64. */
bool parse_integer(std::string_view text, std::int64_t& value) noexcept {
  constexpr std::size_t digits_that_cannot_overflow = 18;
  const bool negative = !text.empty() && text[0] == '-';
  const std::string_view digits = text.substr(negative ? 1 : 0);
  if (digits.empty() || digits.size() > digits_that_cannot_overflow) {
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    return status == std::errc{} && end == text.data() + text.size();
  }
  std::uint64_t magnitude = 0;
  for (const char c : digits) {
    const unsigned digit = static_cast<unsigned char>(c) - unsigned{'0'};
    if (digit > 9) return false;
    magnitude = magnitude * 10 + digit;
  }
  value = negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
  return true;
}

/**
 * The common case of a decimal: `[-]digits[.digits]` (no exponent) with at most 19 significant
 * digits, read as mantissa w and power q = -(digits after the point), value w * 10^q.
 */
struct plain_decimal {
  std::uint64_t mantissa = 0;
  int power = 0;
  bool negative = false;
};

/**
 * Adds the decimal digits at `position` (up to `end` or the first non-digit) to `value`, moving
 * `position` past them; eight bytes at a time where eight remain, as fast_float's
 * is_made_of_eight_digits_fast and parse_eight_digits_unrolled do (D. Lemire, "Number parsing at
 * a gigabyte per second", 2021). A byte is a digit when adding 0x46 and subtracting 0x30 both
 * leave its top bit clear; carries only run from earlier bytes to later ones (little-endian), so
 * the first flagged byte is the first non-digit. The n digits before it, shifted to the end of
 * the word behind 8 - n zero digits, are combined by three multiplications (pairs, quadruples,
 * halves) as eight digits are.
 */
inline void read_digits(const char*& position, const char* end, std::uint64_t& value) noexcept {
  const char* p = position;
  std::uint64_t mantissa = value;  // locals: stores through the references could alias the text
  if constexpr (std::endian::native == std::endian::little) {
    static constexpr std::array<std::uint64_t, 9> powers_of_ten{
        1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    constexpr std::uint64_t mask = 0x000000FF000000FF;
    constexpr std::uint64_t hundreds = 100 + (std::uint64_t{1000000} << 32);
    constexpr std::uint64_t ones = 1 + (std::uint64_t{10000} << 32);
    while (end - p >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, 8);
      const std::uint64_t non_digits =
          ((word + 0x4646464646464646) | (word - 0x3030303030303030)) & 0x8080808080808080;
      const int count = non_digits == 0 ? 8 : std::countr_zero(non_digits) / 8;
      if (count == 0) break;
      word -= 0x3030303030303030;
      word <<= 8 * (8 - count);
      word = word * 10 + (word >> 8);
      word = (((word & mask) * hundreds) + (((word >> 16) & mask) * ones)) >> 32;
      mantissa = mantissa * powers_of_ten[static_cast<std::size_t>(count)] +
                 static_cast<std::uint32_t>(word);
      p += count;
      if (count < 8) {
        position = p;
        value = mantissa;
        return;
      }
    }
  }
  for (; p != end; ++p) {
    const unsigned digit = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (digit > 9) break;
    mantissa = mantissa * 10 + digit;
  }
  position = p;
  value = mantissa;
}

/**
 * Reads a plain decimal at `p` as far as its form goes (leaving `p` at the first byte that
 * cannot continue it); false when what was read is no plain decimal of at most 19 significant
 * digits.
 */
bool read_plain_decimal(const char*& p, const char* end, plain_decimal& decimal) noexcept {
  constexpr std::ptrdiff_t max_significant_digits = 19;  // 10^19 - 1 < 2^64
  constexpr std::ptrdiff_t max_fraction_digits = 400;    // beyond every power read here
  decimal.negative = p != end && *p == '-';
  if (decimal.negative) ++p;
  const char* const digits_begin = p;
  while (p != end && *p == '0') ++p;
  std::uint64_t mantissa = 0;
  const char* const whole_begin = p;
  read_digits(p, end, mantissa);
  std::ptrdiff_t significant = p - whole_begin;
  bool any_digit = p != digits_begin;
  std::ptrdiff_t fraction_digits = 0;
  if (p != end && *p == '.') {
    ++p;
    const char* const fraction_begin = p;
    if (significant == 0) {
      while (p != end && *p == '0') ++p;
    }
    const char* const significant_begin = p;
    read_digits(p, end, mantissa);
    significant += p - significant_begin;
    fraction_digits = p - fraction_begin;
    any_digit = any_digit || fraction_digits > 0;
  }
  if (!any_digit || significant > max_significant_digits ||
      fraction_digits > max_fraction_digits) {
    return false;
  }
  decimal.mantissa = mantissa;
  decimal.power = -static_cast<int>(fraction_digits);
  return true;
}

__extension__ using uint128 = unsigned __int128;

struct words128 {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
};

constexpr int smallest_power_of_ten = -27;  // 5^27 < 2^64: see powers_of_five below
constexpr int largest_power_of_ten = 27;

/**
 * 5^q for q in [-27, 27] scaled by a power of two into [2^127, 2^128): for q >= 0 exactly
 * (5^q < 2^64); for q < 0 the reciprocal floor(2^(z+127) / 5^-q) + 1, z the bit width of
 * 5^-q, as in the table of D. Lemire, "Number parsing at a gigabyte per second", Software:
 * Practice and Experience 51(8), 2021, section 5 (and fast_float's table_generation.py).
 * Computed here at compile time by long division, 64 bits at a time.
 */
constexpr std::array<words128, largest_power_of_ten - smallest_power_of_ten + 1> powers_of_five =
    [] {
      std::array<words128, largest_power_of_ten - smallest_power_of_ten + 1> table{};
      for (int q = smallest_power_of_ten; q <= largest_power_of_ten; ++q) {
        std::uint64_t five = 1;
        for (int i = 0; i < (q < 0 ? -q : q); ++i) five *= 5;
        words128& entry = table[static_cast<std::size_t>(q - smallest_power_of_ten)];
        if (q >= 0) {
          entry = {five << std::countl_zero(five), 0};
          continue;
        }
        const int b = std::bit_width(five) + 127;  // 2^b has one bit, in 64-bit word b / 64
        uint128 remainder = 0;
        std::array<std::uint64_t, 3> quotient{};
        for (int word = 2; word >= 0; --word) {
          const std::uint64_t dividend = word == b / 64 ? std::uint64_t{1} << (b % 64) : 0;
          const uint128 current = (remainder << 64) | dividend;
          quotient[static_cast<std::size_t>(word)] = static_cast<std::uint64_t>(current / five);
          remainder = current % five;
        }
        entry = {quotient[1], quotient[0] + 1};
        if (entry.low == 0) ++entry.high;
      }
      return table;
    }();

/**
 * Checks each entry independently of the division above: for q < 0, c = the entry, b its
 * scale, 2^b < c * 5^-q <= 2^b + 5^-q (so c = floor(2^b / 5^-q) + 1); for q >= 0 the entry
 * shifted back is 5^q. All entries have their top bit set.
 */
constexpr bool powers_of_five_hold() {
  for (int q = smallest_power_of_ten; q <= largest_power_of_ten; ++q) {
    const words128 entry = powers_of_five[static_cast<std::size_t>(q - smallest_power_of_ten)];
    if ((entry.high >> 63) != 1) return false;
    std::uint64_t five = 1;
    for (int i = 0; i < (q < 0 ? -q : q); ++i) five *= 5;
    if (q >= 0) {
      if (entry.low != 0 || (entry.high >> std::countr_zero(entry.high)) != five) return false;
      continue;
    }
    // c * five as three 64-bit words.
    const uint128 low = static_cast<uint128>(entry.low) * five;
    const uint128 high =
        static_cast<uint128>(entry.high) * five + static_cast<std::uint64_t>(low >> 64);
    const std::array<std::uint64_t, 3> product{static_cast<std::uint64_t>(low),
                                               static_cast<std::uint64_t>(high),
                                               static_cast<std::uint64_t>(high >> 64)};
    const int b = std::bit_width(five) + 127;
    std::array<std::uint64_t, 3> power{};
    power[static_cast<std::size_t>(b / 64)] = std::uint64_t{1} << (b % 64);
    // product - 2^b must lie in [1, five].
    std::array<std::uint64_t, 3> difference{};
    std::uint64_t borrow = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      const std::uint64_t subtrahend = power[k] + borrow;
      const bool wraps = (borrow != 0 && subtrahend == 0) || product[k] < subtrahend;
      difference[k] = product[k] - subtrahend;
      borrow = wraps ? 1 : 0;
    }
    if (borrow != 0 || difference[2] != 0 || difference[1] != 0) return false;
    if (difference[0] == 0 || difference[0] > five) return false;
  }
  return true;
}
static_assert(powers_of_five_hold());
// Three entries as printed in fast_float's table (q = -1, 0, 1).
static_assert(powers_of_five[26].high == 0xcccccccccccccccc &&
              powers_of_five[26].low == 0xcccccccccccccccd);
static_assert(powers_of_five[27].high == 0x8000000000000000 && powers_of_five[27].low == 0);
static_assert(powers_of_five[28].high == 0xa000000000000000 && powers_of_five[28].low == 0);

/**
 * w * 10^q correctly rounded to a double, for 0 < w < 2^64 and q in [-27, 27], by the
 * Eisel-Lemire algorithm (D. Lemire, "Number parsing at a gigabyte per second", 2021,
 * algorithm 1; the steps of fast_float's compute_float): the top bits of w * 5^q from one or
 * two 64x64-bit products, the power of two from q * log2(10), round to nearest even. Returns
 * false when the truncated product cannot decide the rounding (the caller falls back).
 */
bool eisel_lemire(std::uint64_t w, int q, double& value) noexcept {
  constexpr int mantissa_bits = 52;
  constexpr int minimum_exponent = -1023;
  constexpr int min_exponent_round_to_even = -4;
  constexpr int max_exponent_round_to_even = 23;
  const words128 power = powers_of_five[static_cast<std::size_t>(q - smallest_power_of_ten)];
  const int leading_zeros = std::countl_zero(w);
  w <<= leading_zeros;
  const uint128 first = static_cast<uint128>(w) * power.high;
  auto high = static_cast<std::uint64_t>(first >> 64);
  auto low = static_cast<std::uint64_t>(first);
  constexpr std::uint64_t precision_mask = ~std::uint64_t{0} >> (mantissa_bits + 3);
  if ((high & precision_mask) == precision_mask) {
    const auto second =
        static_cast<std::uint64_t>((static_cast<uint128>(w) * power.low) >> 64);
    low += second;
    if (second > low) ++high;
  }
  if (low == ~std::uint64_t{0}) return false;
  const int upper_bit = static_cast<int>(high >> 63);
  const int shift = upper_bit + 64 - mantissa_bits - 3;
  std::uint64_t mantissa = high >> shift;
  // floor(q * log2(10)) + 63, as in fast_float (217706 / 2^16 approximates log2(10)).
  int power2 = (((152170 + 65536) * q) >> 16) + 63 + upper_bit - leading_zeros - minimum_exponent;
  if (power2 <= 0) return false;  // subnormal: beyond the range of q here, never reached
  if (low <= 1 && q >= min_exponent_round_to_even && q <= max_exponent_round_to_even &&
      (mantissa & 3) == 1 && (mantissa << shift) == high) {
    mantissa &= ~std::uint64_t{1};  // exactly halfway: round down to even
  }
  mantissa += mantissa & 1;
  mantissa >>= 1;
  if (mantissa >= (std::uint64_t{2} << mantissa_bits)) {
    mantissa = std::uint64_t{1} << mantissa_bits;
    ++power2;
  }
  mantissa &= ~(std::uint64_t{1} << mantissa_bits);
  value = std::bit_cast<double>(mantissa | (static_cast<std::uint64_t>(power2) << mantissa_bits));
  return true;
}

/**
 * The double nearest a plain decimal: Eisel-Lemire for powers in [-27, 27] (one branch for
 * all the amounts of a file, whatever their digits); where it cannot decide the rounding and
 * mantissa and power of ten are exact doubles, one division, which is correctly rounded (W. D.
 * Clinger, "How to read floating point numbers accurately", PLDI 1990). Anything else
 * (exponents, more than 19 significant digits, an undecided rounding) is left to
 * std::from_chars.
 */
bool plain_decimal_value(const plain_decimal& decimal, double& value) noexcept {
  static constexpr std::array<double, 23> powers_of_ten{
      1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  if (decimal.mantissa == 0) {
    value = decimal.negative ? -0.0 : 0.0;
    return true;
  }
  if (decimal.power < smallest_power_of_ten ||
      !eisel_lemire(decimal.mantissa, decimal.power, value)) {
    if (decimal.mantissa > (std::uint64_t{1} << 53) ||
        -decimal.power >= static_cast<int>(powers_of_ten.size())) {
      return false;
    }
    value = static_cast<double>(decimal.mantissa) /
            powers_of_ten[static_cast<std::size_t>(-decimal.power)];
  }
  if (decimal.negative) value = -value;
  return true;
}

/** The whole of `text` read by read_plain_decimal and plain_decimal_value. */
bool parse_plain_decimal(std::string_view text, double& value) noexcept {
  const char* p = text.data();
  const char* const end = p + text.size();
  plain_decimal decimal;
  return read_plain_decimal(p, end, decimal) && p == end && plain_decimal_value(decimal, value);
}

std::optional<std::string> amount_problem(std::string_view text, double& value) {
  if (text.empty()) return std::string("empty field, expected a number");
  std::string_view digits = text;
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-') digits.remove_prefix(1);
  if (parse_plain_decimal(digits, value)) return std::nullopt;
  const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (status == std::errc::result_out_of_range) {
    return fmt::format("'{}' is outside the range of a double", printable(text));
  }
  if (status != std::errc{} || end != digits.data() + digits.size()) {
    return fmt::format("cannot parse '{}' as a number", printable(text));
  }
  if (!std::isfinite(value)) return fmt::format("'{}' is not a finite number", printable(text));
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Simple rows: most lines hold no quote, no padding and values in their plain forms. Such a line
// is read in one pass, each value as its field is crossed; any other line goes to the record
// scanner and the checks after it, which give every message.

/**
 * Whether read_simple_rows may read rows split by `delimiter`: not in whitespace mode, and not a
 * byte that can continue a number (a digit, '.', '-', '+').
 */
constexpr bool simple_rows_possible(char delimiter) noexcept {
  return delimiter != whitespace_delimiter && delimiter != '.' && delimiter != '-' &&
         delimiter != '+' && (delimiter < '0' || delimiter > '9');
}

/** The first delimiter, '\n' or '"' at or after `p`, else `end` (eight bytes a step as in
 * record_scanner::find_field_end). */
const char* find_field_stop(const char* p, const char* end, char delimiter) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101;
    constexpr std::uint64_t highs = 0x8080808080808080;
    const std::uint64_t delimiters = ones * static_cast<unsigned char>(delimiter);
    constexpr std::uint64_t newlines = ones * static_cast<unsigned char>('\n');
    constexpr std::uint64_t quotes = ones * static_cast<unsigned char>('"');
    for (; end - p >= 8; p += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p, 8);
      const std::uint64_t a = word ^ delimiters;
      const std::uint64_t b = word ^ newlines;
      const std::uint64_t c = word ^ quotes;
      const std::uint64_t hits =
          (((a - ones) & ~a) | ((b - ones) & ~b) | ((c - ones) & ~c)) & highs;
      if (hits != 0) return p + std::countr_zero(hits) / 8;
    }
  }
  while (p != end && *p != delimiter && *p != '\n' && *p != '"') ++p;
  return p;
}

/** A customer id of 1-18 digits after an optional '-' (as parse_integer reads it); moves `p`
 * past it. */
bool read_simple_integer(const char*& p, const char* end, std::int64_t& value) noexcept {
  constexpr std::ptrdiff_t digits_that_cannot_overflow = 18;
  const bool negative = p != end && *p == '-';
  const char* const begin = p + (negative ? 1 : 0);
  const char* q = begin;
  std::uint64_t magnitude = 0;
  read_digits(q, end, magnitude);
  if (q == begin || q - begin > digits_that_cannot_overflow) return false;
  value = negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
  p = q;
  return true;
}

/**
 * A date of the form YYYY-MM-DD at `p`, directly followed by `terminator` (or, when `last`, by
 * '\n', '\r' or `end`), as read_iso_timestamp reads those ten bytes: eight bytes checked at once
 * ('-' at offsets 4 and 7, digits elsewhere, as in read_digits). Moves `p` past the date.
 */
bool read_simple_date(const char*& p, const char* end, char terminator, bool last,
                      std::int64_t& seconds) noexcept {
  constexpr std::size_t size = 10;
  if (static_cast<std::size_t>(end - p) < size) return false;
  if (static_cast<std::size_t>(end - p) == size ? !last
      : !(p[size] == terminator || (last && (p[size] == '\n' || p[size] == '\r')))) {
    return false;
  }
  std::uint64_t word = 0;
  std::memcpy(&word, p, 8);
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t dashes = 0xFF0000FF00000000;
    if ((word & dashes) != (0x2D00002D00000000 & dashes)) return false;
    word = (word & ~dashes) | (0x3030303030303030 & dashes);
    if ((((word + 0x4646464646464646) | (word - 0x3030303030303030)) & 0x8080808080808080) != 0) {
      return false;
    }
    word -= 0x3030303030303030;
    const auto digit = [word](int index) {
      return static_cast<unsigned>(word >> (8 * index)) & 0xFF;
    };
    const int day = detail::two_digits(p + 8);
    if (day < 0) return false;
    const auto year =
        static_cast<std::int64_t>(digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3));
    if (!detail::checked_timestamp(year, digit(5) * 10 + digit(6), static_cast<unsigned>(day), 0,
                                   0, 0, seconds)) {
      return false;
    }
  } else {
    if (!detail::read_iso_timestamp(std::string_view(p, size), seconds)) return false;
  }
  p += size;
  return true;
}

/**
 * Reads simple rows from the line at `p` (a line start; `end` is the chunk's end) into `out` from
 * row `rows` on, until a line that is not one; returns the rows read and leaves `p` at the
 * start of that line (or at `end`). A simple row: its fields, split at each delimiter, hold no
 * '"'; an id in integer mode and an amount are numbers of the forms read_simple_integer and
 * read_plain_decimal read, directly followed by the delimiter (by the line's end, CRLF allowed,
 * for the last field); an id in label mode and a date are texts without padding or a CR at
 * either end; every value passes read_chunk's checks. The record scanner cuts such a line into
 * the same fields, and read_chunk reads the same values from them.
 */
template <bool labels>
std::size_t read_simple_rows(const row_reader& reader, const char*& p, const char* const end,
                             const chunk_output out, std::size_t rows, label_table& table) {
  const char delimiter = reader.delimiter;
  const std::size_t field_count = reader.field_count;
  const int* const slots = reader.slot_of_field.data();
  const bool iso_dates = !reader.format;
  const std::int64_t min_timestamp = reader.min_timestamp;
  const std::int64_t max_timestamp = reader.max_timestamp;
  auto padding = [delimiter](char c) { return (c == ' ' || c == '\t') && c != delimiter; };
  // Reads one row, leaving `at` after its line; false for a line that is not a simple row.
  auto read_row = [&](const char*& at, std::int64_t& customer, std::string_view& label,
                      std::int64_t& timestamp, double& amount) {
    for (std::size_t field = 0; field < field_count; ++field) {
      const bool last = field + 1 == field_count;
      const int slot = slots[field];
      if (slot == amount_slot) {
        plain_decimal decimal;
        if (!read_plain_decimal(at, end, decimal) || !plain_decimal_value(decimal, amount)) {
          return false;
        }
      } else if (!labels && slot == customer_slot) {
        if (!read_simple_integer(at, end, customer)) return false;
      } else if (!(slot == datetime_slot && iso_dates &&
                   read_simple_date(at, end, delimiter, last, timestamp))) {
        const char* const stop = find_field_stop(at, end, delimiter);
        if (stop != end && *stop == '"') return false;
        if (slot >= 0) {
          const char* text_end = stop;
          if (last && text_end != at && text_end[-1] == '\r') --text_end;
          if (text_end == at || padding(*at) || padding(text_end[-1]) || text_end[-1] == '\r') {
            return false;
          }
          const std::string_view text(at, static_cast<std::size_t>(text_end - at));
          if (slot == datetime_slot) {
            if (!reader.parse_date(text, timestamp)) return false;
          } else {
            if (first_invalid_utf8(text) != std::string_view::npos) return false;
            label = text;
          }
        }
        at = stop;
      }
      if (slot == datetime_slot && (timestamp < min_timestamp || timestamp > max_timestamp)) {
        return false;
      }
      if (!last) {
        if (at == end || *at != delimiter) return false;
        ++at;
        continue;
      }
      if (at != end && *at == '\r') ++at;
      if (at == end) return true;
      if (*at != '\n') return false;
      ++at;
      return true;
    }
    return false;
  };
  while (p != end) {
    const char* at = p;
    std::int64_t customer = 0;
    std::string_view label;
    std::int64_t timestamp = 0;
    double amount = 0;
    if (!read_row(at, customer, label, timestamp, amount)) break;
    if (out.amount != nullptr) out.amount[rows] = amount;
    if constexpr (labels) {
      out.customer[rows] = table.code_of(label);
    } else {
      out.customer[rows] = customer;
    }
    out.timestamp[rows] = timestamp;
    ++rows;
    p = at;
  }
  return rows;
}

/**
 * Reads the rows of one chunk into `out`. In integer mode a non-integer id stops the chunk with
 * `needs_labels`; in label mode ids are numbered per chunk (merged in file order later).
 */
template <bool whitespace, bool labels>
void read_chunk(const row_reader& reader, std::size_t begin, std::size_t end, std::size_t line,
                chunk_output out, chunk_result& result) {
  record_scanner<whitespace> scanner(reader.text, begin, end, line, reader.delimiter);
  std::array<raw_field, slot_count> fields{};
  std::array<std::string, slot_count> scratch;
  auto sink = [&](std::size_t index, const raw_field& field) {
    if (index < reader.field_count && reader.slot_of_field[index] >= 0) {
      raw_field& kept = fields[static_cast<std::size_t>(reader.slot_of_field[index])];
      kept.text = field.text;
      kept.has_escapes = field.has_escapes;
      kept.line = field.line;
      kept.column = field.column;
    }
  };
  row_problem problem;
  // Returns true to keep reading.
  auto report = [&](std::size_t at_line, std::size_t at_column, std::string reason) {
    if (reader.on_bad_row == bad_row_policy::error) {
      result.error = row_problem{at_line, at_column, std::move(reason)};
      return false;
    }
    result.skipped.push_back(skipped_row{at_line, at_column, std::move(reason)});
    return true;
  };
  auto report_value = [&](std::size_t slot, std::string reason) {
    return report(fields[slot].line, fields[slot].column,
                  fmt::format("column '{}': {}", reader.column_names[slot], reason));
  };

  const char* const bytes = reader.text.data();
  for (;;) {
    if constexpr (!whitespace) {
      if (reader.simple_rows && scanner.position() != end) {
        const char* next = bytes + scanner.position();
        const std::size_t rows = result.rows;
        result.rows =
            read_simple_rows<labels>(reader, next, bytes + end, out, rows, result.labels);
        if (result.rows != rows) {
          scanner.skip_lines(result.rows - rows, static_cast<std::size_t>(next - bytes));
          continue;
        }
      }
    }
    const record_status status = scanner.next(sink, problem);
    if (status == record_status::end) return;
    if (status == record_status::inside_quotes_at_end) {
      result.inside_quotes_at_end = true;
      return;
    }
    if (status == record_status::bad) {
      if (!report(problem.line, problem.column, std::move(problem.reason))) return;
      continue;
    }
    if (scanner.field_count() != reader.field_count) {
      if (!report(scanner.record_line(), 1,
                  fmt::format("expected {} fields, found {}", reader.field_count,
                              scanner.field_count()))) {
        return;
      }
      continue;
    }

    const std::string_view id = unescape(fields[customer_slot], scratch[customer_slot]);
    if (id.empty()) {
      if (!report_value(customer_slot, "empty customer id")) return;
      continue;
    }
    std::int64_t customer = 0;
    if (!labels && !parse_integer(id, customer)) {
      result.needs_labels = true;
      return;
    }

    const std::string_view date = unescape(fields[datetime_slot], scratch[datetime_slot]);
    std::int64_t timestamp = 0;
    if (!reader.parse_date(date, timestamp)) {
      if (!report_value(datetime_slot, fmt::format("cannot parse '{}' as a date ({})", printable(date),
                                                   reader.date_expectation))) {
        return;
      }
      continue;
    }
    if (timestamp < reader.min_timestamp || timestamp > reader.max_timestamp) {
      if (!report_value(datetime_slot, fmt::format("'{}' is outside the supported range {} .. {}",
                                                   printable(date), format_timestamp(reader.min_timestamp),
                                                   format_timestamp(reader.max_timestamp)))) {
        return;
      }
      continue;
    }

    double amount = 0;
    if (reader.has_amount) {
      const std::string_view text = unescape(fields[amount_slot], scratch[amount_slot]);
      if (auto why = amount_problem(text, amount)) {
        if (!report_value(amount_slot, std::move(*why))) return;
        continue;
      }
      out.amount[result.rows] = amount;
    }
    if constexpr (labels) {
      if (const std::size_t at = first_invalid_utf8(id); at != std::string_view::npos) {
        if (!report_value(customer_slot,
                          fmt::format("byte 0x{:02X} at position {} of '{}' is not UTF-8 (crmkit "
                                      "reads UTF-8; in Python pass encoding=..., e.g. "
                                      "'latin-1')",
                                      static_cast<unsigned char>(id[at]), at + 1,
                                      printable(id)))) {
          return;
        }
        continue;
      }
    }
    // Numbered only now, so a label first seen on a bad row is numbered where it is kept.
    if constexpr (labels) customer = result.labels.code_of(id);
    out.customer[result.rows] = customer;
    out.timestamp[result.rows] = timestamp;
    ++result.rows;
  }
}

void read_chunk(const row_reader& reader, bool labels, std::size_t begin, std::size_t end,
                std::size_t line, chunk_output out, chunk_result& result) {
  result = chunk_result{};
  const bool whitespace = reader.delimiter == whitespace_delimiter;
  if (whitespace && labels) {
    read_chunk<true, true>(reader, begin, end, line, out, result);
  } else if (whitespace) {
    read_chunk<true, false>(reader, begin, end, line, out, result);
  } else if (labels) {
    read_chunk<false, true>(reader, begin, end, line, out, result);
  } else {
    read_chunk<false, false>(reader, begin, end, line, out, result);
  }
}

// ---------------------------------------------------------------------------------------------
// The header and the column mapping.

struct first_record {
  std::vector<std::string> fields;
  std::size_t begin = 0;  // where the record starts
  std::size_t line = 0;
  std::size_t next = 0;  // where the record after it starts
  std::size_t next_line = 0;
};

template <bool whitespace>
std::optional<first_record> read_first_record(std::string_view text, std::size_t begin,
                                              char delimiter, const std::string& source) {
  record_scanner<whitespace> scanner(text, begin, text.size(), 1, delimiter);
  first_record record;
  std::string scratch;
  row_problem problem;
  const record_status status = scanner.next(
      [&](std::size_t, const raw_field& field) {
        record.fields.emplace_back(unescape(field, scratch));
      },
      problem);
  if (status == record_status::end) return std::nullopt;
  if (status == record_status::bad) {
    throw parse_error(
        fmt::format("{}:{}:{}: {}", source, problem.line, problem.column, problem.reason), source,
        problem.line, problem.column);
  }
  record.begin = scanner.record_begin();
  record.line = scanner.record_line();
  record.next = scanner.position();
  record.next_line = scanner.line();
  return record;
}

std::size_t resolve_column(std::string_view option, const column_ref& column,
                           const first_record& first, bool header, const std::string& source) {
  const std::size_t count = first.fields.size();
  auto header_error = [&](const std::string& what) {
    throw parse_error(fmt::format("{}:{}:1: {}", source, first.line, what), source, first.line, 1);
  };
  if (column.position) {
    if (*column.position >= count) {
      header_error(
          fmt::format("{} is position {}, but the {} has {} fields (0-based positions "
                      "0 .. {})",
                      option, *column.position, header ? "header" : "first row", count, count - 1));
    }
    return *column.position;
  }
  if (!header) {
    fail(
        fmt::format("{} = '{}' is a column name, but the file has no header (header = false); "
                    "give a 0-based position instead",
                    option, printable(column.name)));
  }
  std::vector<std::size_t> matches;
  for (std::size_t i = 0; i < count; ++i) {
    if (first.fields[i] == column.name) matches.push_back(i);
  }
  if (matches.size() > 1) {
    header_error(
        fmt::format("{} = '{}' is ambiguous: the header has it at positions {}; give a "
                    "0-based position instead",
                    option, printable(column.name), fmt::join(matches, ", ")));
  }
  if (matches.empty()) {
    const std::string suggestion = closest_name(column.name, first.fields);
    std::vector<std::string> header_names;
    for (const std::string& field : first.fields) header_names.push_back(printable(field));
    header_error(
        fmt::format("no column named '{}' ({}); the header has '{}'{}", printable(column.name),
                    option, fmt::join(header_names, "', '"),
                    suggestion.empty() ? "" : fmt::format(" (did you mean '{}'?)", printable(suggestion))));
  }
  return matches.front();
}

void check_options(const csv_options& options) {
  if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
    fail("the delimiter cannot be a double quote, a newline or a carriage return");
  }
  if (options.chunk_bytes == 0) fail("chunk_bytes = 0 must be positive");
  if (!options.date_format.empty()) static_cast<void>(date_format{options.date_format});
  if (options.min_timestamp > options.max_timestamp) {
    fail(fmt::format("min_timestamp = {} is after max_timestamp = {}", options.min_timestamp,
                     options.max_timestamp));
  }
}

row_reader make_row_reader(std::string_view text, const csv_options& options,
                           const first_record& first, const std::string& source,
                           detail::row_reading reading) {
  row_reader reader;
  reader.text = text;
  reader.delimiter = options.delimiter;
  reader.simple_rows = reading == detail::row_reading::one_pass_where_simple &&
                       simple_rows_possible(options.delimiter);
  reader.on_bad_row = options.on_bad_row;
  reader.field_count = first.fields.size();
  reader.slot_of_field.assign(reader.field_count, -1);
  reader.has_amount = options.monetary_value_col.has_value();
  reader.min_timestamp = options.min_timestamp;
  reader.max_timestamp = options.max_timestamp;
  if (options.date_format.empty()) {
    reader.date_expectation = "expected YYYY-MM-DD, YYYYMMDD or ISO datetime";
  } else {
    reader.format.emplace(options.date_format);
    reader.date_expectation = fmt::format("expected format '{}'", options.date_format);
  }

  const std::array<std::string_view, slot_count> option_names{"customer_id_col", "datetime_col",
                                                              "monetary_value_col"};
  const std::array<const column_ref*, slot_count> columns{
      &options.customer_id_col, &options.datetime_col,
      reader.has_amount ? &*options.monetary_value_col : nullptr};
  for (std::size_t slot = 0; slot < slot_count; ++slot) {
    if (columns[slot] == nullptr) continue;
    const std::size_t field =
        resolve_column(option_names[slot], *columns[slot], first, options.header, source);
    if (const int other = reader.slot_of_field[field]; other >= 0) {
      fail(fmt::format("{} and {} both refer to field {}",
                       option_names[static_cast<std::size_t>(other)], option_names[slot], field));
    }
    reader.slot_of_field[field] = static_cast<int>(slot);
    reader.column_names[slot] = options.header ? first.fields[field] : std::to_string(field);
  }
  return reader;
}

// ---------------------------------------------------------------------------------------------
// Chunks: cut at line ends, read in parallel, checked and joined in file order.

struct chunk {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t line = 0;      // line number at `begin`
  std::size_t offset = 0;    // first output row
  std::size_t capacity = 0;  // lines in the chunk, an upper bound on its rows
};

/**
 * Number of '\n' in the text. On x86-64 (SSE2), sixteen bytes at a time: a byte compares to
 * 0xFF (-1) where it is '\n', so subtracting the comparisons counts them per byte lane, for up
 * to 255 steps before _mm_sad_epu8 adds the lanes up. Elsewhere eight bytes at a time: in
 * x = w ^ '\n'*0x01..01 a byte is zero exactly where w holds '\n', and
 * ~(((x & 0x7F..7F) + 0x7F..7F) | x) & 0x80..80 flags exactly the zero bytes (no carries cross
 * bytes); multiplying the flags shifted to the low bits by 0x01..01 adds them up in the top byte.
 */
std::size_t count_newlines(std::string_view text) noexcept {
  std::size_t total = 0;
  std::size_t i = 0;
#if defined(__SSE2__) && defined(__x86_64__)
  constexpr std::size_t steps_per_lane_count = 255;
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  while (i + 16 <= text.size()) {
    const std::size_t steps = std::min(steps_per_lane_count, (text.size() - i) / 16);
    __m128i lanes = zero;
    for (std::size_t step = 0; step < steps; ++step, i += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(bytes, newline));
    }
    const __m128i sums = _mm_sad_epu8(lanes, zero);
    total += static_cast<std::size_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<std::size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#else
  constexpr std::uint64_t lows = 0x7F7F7F7F7F7F7F7F;
  constexpr std::uint64_t newlines = 0x0A0A0A0A0A0A0A0A;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + i, 8);
    const std::uint64_t x = word ^ newlines;
    const std::uint64_t flags = (~(((x & lows) + lows) | x) & ~lows) >> 7;
    total += static_cast<std::size_t>((flags * 0x0101010101010101) >> 56);
  }
#endif
  for (; i < text.size(); ++i) total += text[i] == '\n' ? 1 : 0;
  return total;
}

std::vector<chunk> cut_into_chunks(std::string_view text, std::size_t begin, std::size_t line,
                                   std::size_t chunk_bytes) {
  std::vector<chunk> chunks;
  while (begin < text.size()) {
    std::size_t end = text.size();
    if (text.size() - begin > chunk_bytes) {
      const std::size_t newline = text.find('\n', begin + chunk_bytes);
      if (newline != std::string_view::npos) end = newline + 1;
    }
    chunks.push_back({begin, end, 0, 0, 0});
    begin = end;
  }
  std::vector<std::size_t> newlines(chunks.size());
  parallel_for(
      chunks.size(),
      [&](std::size_t first, std::size_t last) {
        for (std::size_t k = first; k < last; ++k) {
          newlines[k] =
              count_newlines(text.substr(chunks[k].begin, chunks[k].end - chunks[k].begin));
        }
      },
      1);
  std::size_t offset = 0;
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    chunks[k].line = line;
    chunks[k].offset = offset;
    // Every record ends in a '\n' except perhaps the last one of the input.
    chunks[k].capacity = newlines[k] + (k + 1 == chunks.size() ? 1 : 0);
    line += newlines[k];
    offset += chunks[k].capacity;
  }
  return chunks;
}

/**
 * Sorts `labels` in ascending byte order (std::string's order: UTF-8 code points, as Python
 * orders str) and returns each label's new position by its old one. Keys in text order do not
 * depend on the order of the rows, and number customers as pandas.factorize(sort=True) does.
 */
std::vector<std::int64_t> sort_labels(std::vector<std::string>& labels) {
  std::vector<std::int64_t> by_text(labels.size());
  std::iota(by_text.begin(), by_text.end(), std::int64_t{0});
  std::sort(by_text.begin(), by_text.end(), [&](std::int64_t a, std::int64_t b) {
    return labels[static_cast<std::size_t>(a)] < labels[static_cast<std::size_t>(b)];
  });
  std::vector<std::int64_t> rank(labels.size());
  std::vector<std::string> sorted(labels.size());
  for (std::size_t position = 0; position < by_text.size(); ++position) {
    const auto old = static_cast<std::size_t>(by_text[position]);
    rank[old] = static_cast<std::int64_t>(position);
    sorted[position] = std::move(labels[old]);
  }
  labels = std::move(sorted);
  return rank;
}

void merge_labels(std::vector<chunk>& chunks, std::vector<chunk_result>& results,
                  transaction_log& log) {
  std::unordered_map<std::string_view, std::int64_t> global;
  std::vector<std::vector<std::int64_t>> global_code(chunks.size());
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    const label_table& local = results[k].labels;
    global_code[k].resize(local.size());
    for (std::size_t code = 0; code < local.size(); ++code) {
      const std::string& label = local.label(code);
      auto [entry, inserted] = global.try_emplace(label, static_cast<std::int64_t>(global.size()));
      if (inserted) log.customer_labels.push_back(label);
      global_code[k][code] = entry->second;
    }
  }
  const std::vector<std::int64_t> rank = sort_labels(log.customer_labels);
  for (auto& codes : global_code) {
    for (auto& code : codes) code = rank[static_cast<std::size_t>(code)];
  }
  parallel_for(
      chunks.size(),
      [&](std::size_t first, std::size_t last) {
        for (std::size_t k = first; k < last; ++k) {
          std::int64_t* keys = log.customer.data() + chunks[k].offset;
          for (std::size_t row = 0; row < results[k].rows; ++row) {
            keys[row] = global_code[k][static_cast<std::size_t>(keys[row])];
          }
        }
      },
      1);
}

template <class T>
void close_gaps(std::vector<T>& column, const std::vector<chunk>& chunks,
                const std::vector<chunk_result>& results) {
  if (column.empty()) return;
  std::size_t write = 0;
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    if (chunks[k].offset != write) {
      const auto from = column.begin() + static_cast<std::ptrdiff_t>(chunks[k].offset);
      std::copy(from, from + static_cast<std::ptrdiff_t>(results[k].rows),
                column.begin() + static_cast<std::ptrdiff_t>(write));
    }
    write += results[k].rows;
  }
  column.resize(write);
}

}  // namespace

transaction_log parse_transactions(std::string_view text, const csv_options& options,
                                   const std::string& source_name) {
  return detail::parse_transactions(text, options, source_name,
                                    detail::row_reading::one_pass_where_simple);
}

transaction_log detail::parse_transactions(std::string_view text, const csv_options& options,
                                           const std::string& source_name, row_reading reading) {
  check_options(options);
  reject_other_encodings(text, source_name);
  const std::size_t start =
      text.starts_with(utf8_byte_order_mark) ? utf8_byte_order_mark.size() : 0;
  const bool whitespace = options.delimiter == whitespace_delimiter;
  const std::optional<first_record> first =
      whitespace ? read_first_record<true>(text, start, options.delimiter, source_name)
                 : read_first_record<false>(text, start, options.delimiter, source_name);
  if (!first) {
    throw parse_error(fmt::format("{}: the file is empty (no header and no rows)", source_name),
                      source_name, 0, 0);
  }
  const row_reader reader = make_row_reader(text, options, *first, source_name, reading);
  const std::size_t data_begin = options.header ? first->next : first->begin;
  const std::size_t data_line = options.header ? first->next_line : first->line;

  std::vector<chunk> chunks = cut_into_chunks(text, data_begin, data_line, options.chunk_bytes);
  const std::size_t capacity = chunks.empty() ? 0 : chunks.back().offset + chunks.back().capacity;
  transaction_log log;
  // Zeroing fresh columns is page faults mostly: give each column its own thread.
  parallel_for(
      reader.has_amount ? 3 : 2,
      [&](std::size_t first_column, std::size_t last_column) {
        for (std::size_t column = first_column; column < last_column; ++column) {
          if (column == 0) log.customer = detail::large_vector<std::int64_t>(capacity);
          if (column == 1) log.timestamp = detail::large_vector<std::int64_t>(capacity);
          if (column == 2) log.amount = detail::large_vector<double>(capacity);
        }
      },
      1);

  std::vector<chunk_result> results(chunks.size());
  bool labels = false;
  auto read_chunks = [&](std::size_t first_chunk, std::size_t last_chunk) {
    parallel_chunks(last_chunk - first_chunk, 1, [&](std::size_t index, std::size_t, std::size_t) {
      const chunk& piece = chunks[first_chunk + index];
      const chunk_output out{log.customer.data() + piece.offset,
                             log.timestamp.data() + piece.offset,
                             reader.has_amount ? log.amount.data() + piece.offset : nullptr};
      read_chunk(reader, labels, piece.begin, piece.end, piece.line, out,
                 results[first_chunk + index]);
    });
  };
  read_chunks(0, chunks.size());
  // Chunk k starts at a record boundary when chunk k-1 did and ended outside quotes; so the
  // first chunk with a problem, in file order, is the one a serial read would have met.
  for (std::size_t k = 0; k < chunks.size();) {
    const chunk_result& result = results[k];
    if (result.error) {
      const row_problem& problem = *result.error;
      throw parse_error(
          fmt::format("{}:{}:{}: {}", source_name, problem.line, problem.column, problem.reason),
          source_name, problem.line, problem.column);
    }
    if (result.needs_labels) {
      labels = true;
      read_chunks(0, chunks.size());
    } else if (result.inside_quotes_at_end) {
      // The cut after chunk k fell inside a quoted field: join the next chunk to it and read it
      // again. The chunks after keep their results once the joined one ends outside quotes.
      chunks[k].end = chunks[k + 1].end;
      chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(k) + 1);
      results.erase(results.begin() + static_cast<std::ptrdiff_t>(k) + 1);
      read_chunks(k, k + 1);
    } else {
      ++k;
    }
  }

  if (labels) merge_labels(chunks, results, log);
  close_gaps(log.customer, chunks, results);
  close_gaps(log.timestamp, chunks, results);
  close_gaps(log.amount, chunks, results);
  for (auto& result : results) {
    log.skipped.insert(log.skipped.end(), std::make_move_iterator(result.skipped.begin()),
                       std::make_move_iterator(result.skipped.end()));
  }
  if (log.size() == 0 && log.skipped.empty()) {
    throw parse_error(
        fmt::format("{}:{}:1: no data rows after the header", source_name, first->line),
        source_name, first->line, 1);
  }
  return log;
}

transaction_log read_transactions(const std::string& path, const csv_options& options) {
  check_options(options);
  const file_contents contents = read_whole_file(path);
  return parse_transactions(contents.view(), options, path);
}

namespace {

template <bool whitespace>
text_records scan_records(std::string_view text, std::size_t begin, char delimiter,
                          const std::string& source, std::size_t max_records) {
  record_scanner<whitespace> scanner(text, begin, text.size(), 1, delimiter);
  text_records records;
  std::string scratch;
  row_problem problem;
  while (records.fields.size() < max_records) {
    std::vector<std::string> fields;
    std::vector<std::size_t> columns;
    const record_status status = scanner.next(
        [&](std::size_t, const raw_field& field) {
          fields.emplace_back(unescape(field, scratch));
          columns.push_back(field.column);
        },
        problem);
    if (status == record_status::end) return records;
    if (status != record_status::ok) {
      throw parse_error(
          fmt::format("{}:{}:{}: {}", source, problem.line, problem.column, problem.reason),
          source, problem.line, problem.column);
    }
    records.fields.push_back(std::move(fields));
    records.columns.push_back(std::move(columns));
    records.lines.push_back(scanner.record_line());
  }
  return records;
}

}  // namespace

text_records read_records(const std::string& path, char delimiter) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw invalid_input(fmt::format("cannot read '{}': it is a directory", path));
  }
  const file_contents contents = read_whole_file(path, "read_records");
  return parse_records(contents.view(), delimiter, path);
}

text_records parse_records(std::string_view text, char delimiter, const std::string& source,
                           std::size_t max_records) {
  reject_other_encodings(text, source);
  const std::size_t start =
      text.starts_with(utf8_byte_order_mark) ? utf8_byte_order_mark.size() : 0;
  return delimiter == whitespace_delimiter
             ? scan_records<true>(text, start, delimiter, source, max_records)
             : scan_records<false>(text, start, delimiter, source, max_records);
}

}  // namespace crmkit::data
