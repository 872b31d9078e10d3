#include "crmkit/data/csv_writer.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/date_parse.hpp"
#include "crmkit/data/table.hpp"

namespace crmkit::data {

namespace {

std::string quoted(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out(1, '"');
  for (const char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

constexpr char two_digits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

constexpr std::array<std::uint64_t, 20> powers_of_ten = [] {
  std::array<std::uint64_t, 20> powers{};
  powers[0] = 1;
  for (std::size_t i = 1; i < powers.size(); ++i) powers[i] = powers[i - 1] * 10;
  return powers;
}();

int decimal_digits(std::uint64_t value) noexcept {
  const int guess = (64 - std::countl_zero(value | 1)) * 1233 >> 12;
  return guess + static_cast<int>(value >= powers_of_ten[static_cast<std::size_t>(guess)]);
}

/**
 * Digits are handled as little-endian words of ASCII bytes (byte k of a text in bits 8k..8k+7
 * of its word k / 8), made and moved in registers and stored whole: never stored in pieces and
 * read back wider, which would stall the processor's store forwarding.
 */
void store_word(char* to, std::uint64_t word) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(to, &word, 8);
  } else {
    for (int k = 0; k < 8; ++k) to[k] = static_cast<char>(word >> (8 * k));
  }
}

/**
 * The eight decimal digits of `value` (< 10^8, leading zeros kept) as one word, all at once:
 * split into two halves of four digits, each into two pairs, each pair into two digits (each
 * step a multiply-shift division on every lane of the word).
 */
std::uint64_t eight_digits(std::uint32_t value) noexcept {
  constexpr std::uint64_t pair_lanes = 0x0000'007F'0000'007FULL;
  constexpr std::uint64_t digit_lanes = 0x000F'000F'000F'000FULL;
  std::uint64_t lanes = (value / 10'000) | (static_cast<std::uint64_t>(value % 10'000) << 32);
  const std::uint64_t hundreds = ((lanes * 10'486) >> 20) & pair_lanes;  // x / 100, x < 10^4
  lanes = hundreds | ((lanes - hundreds * 100) << 16);
  const std::uint64_t tens = ((lanes * 103) >> 10) & digit_lanes;  // x / 10, x < 100
  return (tens | ((lanes - tens * 10) << 8)) | 0x3030'3030'3030'3030ULL;
}

/** A text of up to 24 bytes as three words. */
struct text_words {
  std::uint64_t word[3];

  /** The text from its byte `first` (< 24) on, zero bytes after it. */
  [[nodiscard]] text_words from(int first) const noexcept {
    std::uint64_t a = word[0], b = word[1], c = word[2];
    if (first >= 16) {
      a = c;
      b = c = 0;
    } else if (first >= 8) {
      a = b;
      b = c;
      c = 0;
    }
    const int bits = 8 * (first % 8);
    if (bits == 0) return {{a, b, c}};
    return {{(a >> bits) | (b << (64 - bits)), (b >> bits) | (c << (64 - bits)), c >> bits}};
  }

  /** Stores all 24 bytes at `to`. */
  void store(char* to) const noexcept {
    store_word(to, word[0]);
    store_word(to + 8, word[1]);
    store_word(to + 16, word[2]);
  }
};

/** Room after the end of a cell that write_shortest may scribble on (whole words stored). */
constexpr std::size_t scribble = 32;

constexpr std::uint64_t ascii_zeros = 0x3030'3030'3030'3030ULL;

/**
 * The text std::to_chars(double) writes, from the shortest round-trip digits of Dragonbox
 * (fmt): fixed or scientific notation, whichever is shorter (fixed on a tie). Integers of 2^53
 * and more in fixed notation are written with every exact digit, as to_chars does, by to_chars.
 * A whole number below 2^53 is its own shortest digits (a shorter digit string differs from it
 * by at least 1, more than half its spacing), so it skips Dragonbox. May write up to `scribble`
 * bytes past the end it returns.
 */
char* write_shortest(char* out, double value) {
  if (std::signbit(value)) {
    *out++ = '-';
    value = -value;
  }
  if (value == 0) {
    *out = '0';
    return out + 1;
  }
  if (std::isinf(value)) {
    std::memcpy(out, "inf", 3);
    return out + 3;
  }
  std::uint64_t significand = 0;
  int exponent = 0;
  if (value < 0x1p53 && static_cast<double>(static_cast<std::uint64_t>(value)) == value) {
    significand = static_cast<std::uint64_t>(value);
  } else {
    const auto decimal = fmt::detail::dragonbox::to_decimal(value);
    significand = decimal.significand;
    exponent = decimal.exponent;
  }
  while (significand % 10 == 0) {
    significand /= 10;
    ++exponent;
  }
  const int digits = decimal_digits(significand);  // at most 17
  // All 24 digits of the significand, leading zeros included, then its own digits alone.
  constexpr std::uint64_t eight = 100'000'000;
  const std::uint64_t high = significand / eight;
  const std::uint64_t top = high / eight;
  const text_words padded{{ascii_zeros + (top << 56),
                           eight_digits(static_cast<std::uint32_t>(high - top * eight)),
                           eight_digits(static_cast<std::uint32_t>(significand - high * eight))}};
  const int lead = 24 - digits;
  const text_words own = padded.from(lead);
  const int scientific_exponent = exponent + digits - 1;
  const int exponent_size = std::abs(scientific_exponent);
  const int scientific_length =
      digits + (digits > 1 ? 1 : 0) + 2 + (exponent_size >= 100 ? 3 : 2);
  const int integer_digits = digits + exponent;
  const int fixed_length =
      exponent >= 0 ? integer_digits : (integer_digits > 0 ? digits + 1 : 2 - exponent);
  if (fixed_length <= scientific_length) {
    if (exponent >= 0) {  // at most 5 zeros follow the digits (else scientific is shorter)
      if (value >= 0x1p53) return std::to_chars(out, out + 32, value).ptr;
      own.store(out);
      store_word(out + digits, ascii_zeros);
      return out + integer_digits;
    }
    if (integer_digits > 0) {
      own.store(out);
      out[integer_digits] = '.';
      padded.from(lead + integer_digits).store(out + integer_digits + 1);
      return out + digits + 1;
    }
    // "0." and at most 3 zeros before the digits (else scientific is shorter)
    store_word(out, ascii_zeros);
    out[1] = '.';
    own.store(out + 2 - integer_digits);
    return out + fixed_length;
  }
  out[0] = static_cast<char>(own.word[0] & 0xFF);
  if (digits > 1) {
    out[1] = '.';
    padded.from(lead + 1).store(out + 2);
    out += digits + 1;
  } else {
    out += 1;
  }
  *out++ = 'e';
  *out++ = scientific_exponent < 0 ? '-' : '+';
  if (exponent_size >= 100) *out++ = static_cast<char>('0' + exponent_size / 100);
  std::memcpy(out, two_digits + 2 * (exponent_size % 100), 2);
  return out + 2;
}

char* write_iso_date(char* out, std::int64_t days) {
  const civil_time date = civil_from_days(days);
  if (date.year < 0 || date.year > 9999) {
    return fmt::format_to(out, "{:04d}-{:02d}-{:02d}", date.year, date.month, date.day);
  }
  const auto year = static_cast<unsigned>(date.year);
  std::memcpy(out, two_digits + 2 * (year / 100), 2);
  std::memcpy(out + 2, two_digits + 2 * (year % 100), 2);
  out[4] = '-';
  std::memcpy(out + 5, two_digits + 2 * date.month, 2);
  out[7] = '-';
  std::memcpy(out + 8, two_digits + 2 * date.day, 2);
  return out + 10;
}

/** Longest text one cell of each kind can take (a quoted label aside). */
constexpr std::size_t longest_number = 32;

/** A cell's text of at most `longest_number` bytes, copied whole (one fixed-size copy). */
struct cell_text {
  std::array<char, longest_number> bytes;
  std::size_t length;

  static cell_text of(std::string_view text) noexcept {
    cell_text made{};
    made.length = text.size();
    std::memcpy(made.bytes.data(), text.data(), text.size());
    return made;
  }

  /** Writes the text at `out`, scribbling up to `longest_number` bytes. */
  char* write(char* out) const noexcept {
    std::memcpy(out, bytes.data(), bytes.size());
    return out + length;
  }
};

/**
 * The texts of a number column that holds few distinct values (weeks as days / 7, counts), each
 * formatted once: a cell is then a hash look-up and one copy instead of Dragonbox and the
 * layout. Keyed by the bits of the value, so -0.0 and 0.0 (and each NaN) keep their own text.
 */
class repeated_numbers {
 public:
  /** The column's texts, or nothing when it has more than `most` distinct values. */
  static std::unique_ptr<repeated_numbers> of(std::span<const double> values, std::size_t most) {
    auto found = std::make_unique<repeated_numbers>(2 * std::bit_ceil(most));
    for (const double value : values) {
      const std::uint64_t bits = std::bit_cast<std::uint64_t>(value);
      std::size_t slot = found->slot_of(bits);
      if (found->index_[slot] >= 0) continue;
      if (found->texts_.size() == most) return nullptr;
      found->keys_[slot] = bits;
      found->index_[slot] = static_cast<std::int32_t>(found->texts_.size());
      found->texts_.push_back(text_of(value));
    }
    return found;
  }

  explicit repeated_numbers(std::size_t slots)
      : keys_(slots), index_(slots, -1), shift_(64 - std::countr_zero(slots)) {}

  /** Writes the text of `value` (one of the column's) at `out`; may scribble 32 bytes. */
  char* write(char* out, double value) const noexcept {
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(value);
    return texts_[static_cast<std::size_t>(index_[slot_of(bits)])].write(out);
  }

 private:
  static cell_text text_of(double value) {
    std::array<char, longest_number + scribble> written{};
    const char* end = std::isnan(value) ? written.data() : write_shortest(written.data(), value);
    return cell_text::of({written.data(), static_cast<std::size_t>(end - written.data())});
  }

  /** Where `bits` is or would go (linear probing from a Fibonacci hash). */
  [[nodiscard]] std::size_t slot_of(std::uint64_t bits) const noexcept {
    const std::size_t mask = keys_.size() - 1;
    std::size_t slot = static_cast<std::size_t>((bits * 0x9E37'79B9'7F4A'7C15ULL) >> shift_);
    while (index_[slot] >= 0 && keys_[slot] != bits) slot = (slot + 1) & mask;
    return slot;
  }

  std::vector<std::uint64_t> keys_;
  std::vector<std::int32_t> index_;
  std::vector<cell_text> texts_;
  int shift_;
};

std::size_t row_count(std::span<const csv_column> columns) {
  if (columns.empty()) return 0;
  const auto length = [](const auto& values) {
    using type = std::decay_t<decltype(values)>;
    if constexpr (std::is_same_v<type, coded_text>) {
      return values.codes.size();
    } else if constexpr (std::is_same_v<type, date_cells>) {
      return values.days.size();
    } else if constexpr (std::is_same_v<type, flag_cells>) {
      return values.flags.size();
    } else {
      return values.size();
    }
  };
  const std::size_t rows = std::visit(length, columns.front().values);
  for (const auto& column : columns) {
    const std::size_t size = std::visit(length, column.values);
    if (size != rows) {
      throw invalid_input(fmt::format("write_csv: column '{}' has {} rows, but column '{}' has {}",
                                      column.name, size, columns.front().name, rows));
    }
  }
  return rows;
}

/**
 * A growable character buffer that is not zero-filled (formatting overwrites it). Large ones
 * (a big table's blocks take tens of megabytes) are on huge pages: with 4 KiB pages every first
 * touch would be a page fault.
 */
class text_buffer {
 public:
  /** Room for `extra` more characters; returns where they go. */
  char* reserve(std::size_t extra) {
    if (size_ + extra > capacity_) {
      std::size_t capacity = std::max(2 * capacity_, size_ + extra);
      const bool large = capacity >= memory::huge_page_bytes;
      constexpr std::size_t page_mask = memory::huge_page_bytes - 1;
      if (large) capacity = (capacity + page_mask) & ~page_mask;
      std::unique_ptr<char, release> grown(static_cast<char*>(
          large ? std::aligned_alloc(memory::huge_page_bytes, capacity) : std::malloc(capacity)));
      if (!grown) throw std::bad_alloc();
      if (large) memory::prefer_huge_pages(grown.get(), capacity);
      if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
      data_ = std::move(grown);
      capacity_ = capacity;
    }
    return data_.get() + size_;
  }
  void commit(const char* end) noexcept { size_ = static_cast<std::size_t>(end - data_.get()); }
  void clear() noexcept { size_ = 0; }
  [[nodiscard]] std::string_view text() const noexcept { return {data_.get(), size_}; }

 private:
  struct release {
    void operator()(char* memory) const noexcept { std::free(memory); }
  };
  std::unique_ptr<char, release> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/** The columns ready to format: text labels quoted once, codes checked, one kind per column. */
class prepared_table {
 public:
  explicit prepared_table(std::span<const csv_column> columns)
      : rows_(row_count(columns)), labels_(columns.size()), short_labels_(columns.size()) {
    cells_.reserve(columns.size());
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) header_.push_back(',');
      header_.append(quoted(columns[c].name));
      cells_.push_back(std::visit([&](const auto& values) { return cells_of(values, c, columns); },
                                  columns[c].values));
      row_bytes_ += cells_.back().longest + 1;
    }
    header_.push_back('\n');
    find_repeated_numbers();
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::string_view header() const noexcept { return header_; }

  /** Appends rows [begin, end) to `out`. */
  void format(std::size_t begin, std::size_t end, text_buffer& out) const {
    char* cursor = out.reserve((end - begin) * row_bytes_ + scribble);
    for (std::size_t row = begin; row < end; ++row) {
      for (const auto& cell : cells_) {
        cursor = write_cell(cursor, cell, row);
        *cursor++ = ',';
      }
      cursor[-1] = '\n';
    }
    out.commit(cursor);
  }

 private:
  enum class kind : std::uint8_t { number, repeated_number, integer, text, short_text, date, flag };
  struct cells {
    kind type;
    const void* values;
    const std::vector<std::string>* labels;
    std::size_t longest;
    const repeated_numbers* repeated = nullptr;
    const cell_text* short_labels = nullptr;
  };

  /** Number columns of a long table with at most a sixteenth of its rows distinct values (at
   * most 4096) are written from their texts, each formatted once. */
  void find_repeated_numbers() {
    constexpr std::size_t shortest_table = 4096;
    constexpr std::size_t most_distinct = 4096;
    if (rows_ < shortest_table) return;
    std::vector<std::size_t> numbers;
    for (std::size_t c = 0; c < cells_.size(); ++c) {
      if (cells_[c].type == kind::number) numbers.push_back(c);
    }
    repeated_.resize(numbers.size());
    parallel_for(
        numbers.size(),
        [&](std::size_t first, std::size_t last) {
          for (std::size_t n = first; n < last; ++n) {
            const auto* values = static_cast<const double*>(cells_[numbers[n]].values);
            repeated_[n] = repeated_numbers::of({values, rows_},
                                                std::min(most_distinct, rows_ / 16));
          }
        },
        1);
    for (std::size_t n = 0; n < numbers.size(); ++n) {
      if (repeated_[n]) {
        cells_[numbers[n]].type = kind::repeated_number;
        cells_[numbers[n]].repeated = repeated_[n].get();
      }
    }
  }

  using column_list = std::span<const csv_column>;
  static cells cells_of(std::span<const double> values, std::size_t, column_list) {
    return {kind::number, values.data(), nullptr, longest_number};
  }
  static cells cells_of(std::span<const std::int64_t> values, std::size_t, column_list) {
    return {kind::integer, values.data(), nullptr, longest_number};
  }
  static cells cells_of(const date_cells& values, std::size_t, column_list) {
    return {kind::date, values.days.data(), nullptr, longest_number};
  }
  static cells cells_of(const flag_cells& values, std::size_t, column_list) {
    return {kind::flag, values.flags.data(), nullptr, 5};
  }
  cells cells_of(const coded_text& text, std::size_t c, column_list columns) {
    std::size_t longest = 0;
    for (const auto& label : text.labels) {
      labels_[c].push_back(quoted(label));
      longest = std::max(longest, labels_[c].back().size());
    }
    for (std::size_t row = 0; row < text.codes.size(); ++row) {
      if (text.codes[row] >= static_cast<std::int64_t>(text.labels.size())) {
        throw invalid_input(
            fmt::format("write_csv: column '{}' row {}: code {} is out of range of its {} labels",
                        columns[c].name, row, text.codes[row], text.labels.size()));
      }
    }
    if (longest <= longest_number) {
      for (const auto& label : labels_[c]) short_labels_[c].push_back(cell_text::of(label));
      return {kind::short_text, text.codes.data(), nullptr, longest, nullptr,
              short_labels_[c].data()};
    }
    return {kind::text, text.codes.data(), &labels_[c], longest};
  }

  static char* write_cell(char* out, const cells& cell, std::size_t row) {
    switch (cell.type) {
      case kind::number: {
        const double value = static_cast<const double*>(cell.values)[row];
        return std::isnan(value) ? out : write_shortest(out, value);
      }
      case kind::repeated_number:
        return cell.repeated->write(out, static_cast<const double*>(cell.values)[row]);
      case kind::integer:
        return std::to_chars(out, out + longest_number,
                             static_cast<const std::int64_t*>(cell.values)[row])
            .ptr;
      case kind::date: {
        const std::int64_t day = static_cast<const std::int64_t*>(cell.values)[row];
        return day == missing_day ? out : write_iso_date(out, day);
      }
      case kind::flag: {
        const bool yes = static_cast<const std::uint8_t*>(cell.values)[row] != 0;
        std::memcpy(out, yes ? "True" : "False", yes ? 4 : 5);
        return out + (yes ? 4 : 5);
      }
      case kind::text: {
        const std::int32_t code = static_cast<const std::int32_t*>(cell.values)[row];
        if (code < 0) return out;
        const std::string& label = (*cell.labels)[static_cast<std::size_t>(code)];
        std::memcpy(out, label.data(), label.size());
        return out + label.size();
      }
      case kind::short_text: {
        const std::int32_t code = static_cast<const std::int32_t*>(cell.values)[row];
        return code < 0 ? out : cell.short_labels[code].write(out);
      }
    }
    return out;
  }

  std::size_t rows_;
  std::vector<std::vector<std::string>> labels_;
  std::vector<std::vector<cell_text>> short_labels_;
  std::vector<cells> cells_;
  std::vector<std::unique_ptr<repeated_numbers>> repeated_;
  std::string header_;
  std::size_t row_bytes_ = 1;
};

/**
 * Formats the table block by block in parallel and hands each block's text to `sink` in order;
 * while a block is formatted, one worker hands over the previous block (the file write overlaps
 * the formatting). Only that worker calls `sink`, one block after another.
 */
template <class Sink>
void format_blocks(const prepared_table& table, Sink&& sink) {
  constexpr std::size_t grain = 4096;
  constexpr std::size_t chunks_per_block = 16;
  constexpr std::size_t block_rows = grain * chunks_per_block;
  sink(table.header());
  std::array<std::vector<text_buffer>, 2> texts{std::vector<text_buffer>(chunks_per_block),
                                                std::vector<text_buffer>(chunks_per_block)};
  std::size_t pending = 0;
  for (std::size_t block = 0, first = 0; pending > 0 || first < table.rows();
       ++block, first += block_rows) {
    const std::size_t count = first < table.rows() ? std::min(table.rows() - first, block_rows) : 0;
    auto& current = texts[block % 2];
    const auto& previous = texts[(block + 1) % 2];
    const std::size_t chunks = chunk_count(count, grain);
    parallel_chunks(chunks + 1, 1, [&](std::size_t task, std::size_t, std::size_t) {
      if (task == 0) {
        for (std::size_t chunk = 0; chunk < pending; ++chunk) sink(previous[chunk].text());
        return;
      }
      const std::size_t begin = first + (task - 1) * grain;
      current[task - 1].clear();
      table.format(begin, std::min(first + count, begin + grain), current[task - 1]);
    });
    pending = chunks;
  }
}

}  // namespace

void write_csv(const std::string& path, std::span<const csv_column> columns) {
  const prepared_table table(columns);
  const auto close = [](std::FILE* file) { std::fclose(file); };
  std::unique_ptr<std::FILE, decltype(close)> file(std::fopen(path.c_str(), "wb"), close);
  const auto fail = [&path] {
    throw invalid_input(
        fmt::format("write_csv: cannot write '{}': {}", path, std::strerror(errno)));
  };
  if (!file) fail();
  format_blocks(table, [&](std::string_view text) {
    if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size()) fail();
  });
  if (std::fclose(file.release()) != 0) fail();
}

std::string format_csv(std::span<const csv_column> columns) {
  std::string out;
  format_blocks(prepared_table(columns), [&](std::string_view text) { out += text; });
  return out;
}

namespace {

std::vector<csv_column> column_views(const table& source) {
  std::vector<csv_column> columns;
  columns.reserve(source.columns.size());
  for (const auto& column : source.columns) {
    csv_column view{column.name, std::span<const double>{}};
    std::visit(
        [&](const auto& values) {
          using type = std::decay_t<decltype(values)>;
          if constexpr (std::is_same_v<type, text_values>) {
            view.values = coded_text{values.codes, values.labels};
          } else if constexpr (std::is_same_v<type, date_values>) {
            view.values = date_cells{values.days};
          } else if constexpr (std::is_same_v<type, flag_values>) {
            view.values = flag_cells{values.flags};
          } else {
            view.values = std::span<const typename type::value_type>(values);
          }
        },
        column.values);
    columns.push_back(std::move(view));
  }
  return columns;
}

}  // namespace

void write_csv(const std::string& path, const table& source) {
  write_csv(path, column_views(source));
}

std::string format_csv(const table& source) { return format_csv(column_views(source)); }

std::string iso_date(std::int64_t days) {
  std::array<char, longest_number> text{};
  return {text.data(), write_iso_date(text.data(), days)};
}

}  // namespace crmkit::data
