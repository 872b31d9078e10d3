#include "crmkit/data/csv_writer.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
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

void append_iso_date(std::int64_t days, std::string& out) {
  const civil_time date = civil_from_days(days);
  out += fmt::format("{:04d}-{:02d}-{:02d}", date.year, date.month, date.day);
}

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

/** The columns ready to format: text labels quoted once, codes checked. */
class prepared_table {
 public:
  explicit prepared_table(std::span<const csv_column> columns)
      : columns_(columns), rows_(row_count(columns)), labels_(columns.size()) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) header_.push_back(',');
      header_.append(quoted(columns[c].name));
      const auto* text = std::get_if<coded_text>(&columns[c].values);
      if (text == nullptr) continue;
      for (const auto& label : text->labels) labels_[c].push_back(quoted(label));
      for (std::size_t row = 0; row < text->codes.size(); ++row) {
        if (text->codes[row] >= static_cast<std::int64_t>(text->labels.size())) {
          throw invalid_input(
              fmt::format("write_csv: column '{}' row {}: code {} is out of range of its {} labels",
                          columns[c].name, row, text->codes[row], text->labels.size()));
        }
      }
    }
    header_.push_back('\n');
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  [[nodiscard]] const std::string& header() const noexcept { return header_; }

  /** Appends rows [begin, end) to `out`. */
  void format(std::size_t begin, std::size_t end, std::string& out) const {
    std::array<char, 32> buffer{};
    for (std::size_t row = begin; row < end; ++row) {
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        if (c > 0) out += ',';
        const auto& values = columns_[c].values;
        if (const auto* numbers = std::get_if<std::span<const double>>(&values)) {
          const double value = (*numbers)[row];
          if (std::isnan(value)) continue;
          const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
          out.append(buffer.data(), result.ptr);
        } else if (const auto* integers = std::get_if<std::span<const std::int64_t>>(&values)) {
          const auto result =
              std::to_chars(buffer.data(), buffer.data() + buffer.size(), (*integers)[row]);
          out.append(buffer.data(), result.ptr);
        } else if (const auto* dates = std::get_if<date_cells>(&values)) {
          const std::int64_t day = dates->days[row];
          if (day != missing_day) append_iso_date(day, out);
        } else if (const auto* flags = std::get_if<flag_cells>(&values)) {
          out += flags->flags[row] != 0 ? "True" : "False";
        } else {
          const std::int32_t code = std::get<coded_text>(values).codes[row];
          if (code >= 0) out += labels_[c][static_cast<std::size_t>(code)];
        }
      }
      out += '\n';
    }
  }

 private:
  std::span<const csv_column> columns_;
  std::size_t rows_;
  std::vector<std::vector<std::string>> labels_;
  std::string header_;
};

/** Formats the table block by block in parallel and hands each block's text to `sink` in order. */
template <class Sink>
void format_blocks(const prepared_table& table, Sink&& sink) {
  constexpr std::size_t grain = 4096;
  constexpr std::size_t chunks_per_block = 16;
  sink(table.header());
  std::vector<std::string> texts(chunks_per_block);
  for (std::size_t first = 0; first < table.rows(); first += grain * chunks_per_block) {
    const std::size_t count = std::min(table.rows() - first, grain * chunks_per_block);
    parallel_chunks(count, grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
      texts[chunk].clear();
      table.format(first + begin, first + end, texts[chunk]);
    });
    for (std::size_t chunk = 0; chunk < chunk_count(count, grain); ++chunk) sink(texts[chunk]);
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
  format_blocks(table, [&](const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size()) fail();
  });
  if (std::fclose(file.release()) != 0) fail();
}

std::string format_csv(std::span<const csv_column> columns) {
  std::string out;
  format_blocks(prepared_table(columns), [&](const std::string& text) { out += text; });
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
  std::string out;
  append_iso_date(days, out);
  return out;
}

}  // namespace crmkit::data
