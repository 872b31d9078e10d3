#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <tuple>

#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/bad_row_policy.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/survey/nps.hpp"
#include "crmkit/survey/rating.hpp"

namespace crmkit::survey {

/**
 * A column of integer group codes of any signed width, viewed without a copy (pandas gives
 * categorical codes as int8 for up to 127 categories). Built from any contiguous range of signed
 * integers, e.g. a `std::vector<std::int64_t>` or a `std::span<const std::int8_t>`.
 */
class code_column {
 public:
  code_column() = default;

  template <std::ranges::contiguous_range Range>
  requires std::is_integral_v<std::ranges::range_value_t<Range>> &&
      std::is_signed_v<std::ranges::range_value_t<Range>>
      code_column(const Range& codes)
  noexcept  // NOLINT(google-explicit-constructor): a view
      : data_(std::ranges::data(codes)),
        size_(std::ranges::size(codes)),
        width_(sizeof(std::ranges::range_value_t<Range>)) {}

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /** Code of row `i` (the width switch is perfectly predicted in a loop over rows). */
  [[nodiscard]] std::int64_t operator[](std::size_t i) const noexcept {
    switch (width_) {
      case 1:
        return static_cast<const std::int8_t*>(data_)[i];
      case 2:
        return static_cast<const std::int16_t*>(data_)[i];
      case 4:
        return static_cast<const std::int32_t*>(data_)[i];
      default:
        return static_cast<const std::int64_t*>(data_)[i];
    }
  }

 private:
  const void* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t width_ = sizeof(std::int64_t);
};

/**
 * How answers are grouped: by zero or more grouping columns given as integer codes (column c's
 * codes lie in [0, levels[c])), and optionally by calendar `period` (a day or longer; pandas'
 * semantics, see `data::period_unit`) of `timestamps` (ticks since 1970-01-01T00:00,
 * `ticks_per_day` per day: 86'400 for seconds, 86'400'000'000'000 for numpy's datetime64[ns];
 * INT64_MIN, numpy's NaT, marks a missing date). With `window` > 1 each output period covers the
 * trailing `window` periods (rolling windows); only complete windows are output.
 */
struct response_grouping {
  std::vector<code_column> codes;
  std::vector<std::size_t> levels;
  std::span<const std::int64_t> timestamps;
  std::int64_t ticks_per_day = data::seconds_per_day;
  std::optional<data::period_unit> period;
  std::size_t window = 1;
};

/** Rows read, rows found invalid (skipped under `bad_row_policy::skip`), and the first of them. */
struct row_report {
  std::size_t rows = 0;
  std::size_t bad = 0;
  std::size_t first_bad = 0;  ///< 0-based row index; meaningful when bad > 0
  std::string first_problem;  ///< e.g. "scores[17] = 11 is outside the scale 0..10"
};

/**
 * Results of every (group, period) cell, empty cells included (their results say n = 0).
 * Cell (g, t) is `cells[g * periods + t]`; g numbers the combinations of grouping codes in mixed
 * radix with the first column slowest; t = 0 is period `first_period` (for rolling windows: the
 * last period of the first complete window).
 */
template <class Result>
struct grouped_results {
  std::size_t groups = 1;
  std::size_t periods = 1;
  std::int64_t first_period = 0;
  std::vector<Result> cells;
  row_report rows;
};

template <class Result>
constexpr auto description(std::type_identity<grouped_results<Result>>) {
  using s = grouped_results<Result>;
  return std::tuple{describe::field{"groups", &s::groups, "combinations of the grouping codes"},
                    describe::field{"periods", &s::periods, "periods per group"},
                    describe::field{"first_period", &s::first_period, "index of period t = 0"},
                    describe::field{"columns", &s::cells, "results per cell, group-major"},
                    describe::computed<s>(
                        "rows", [](const s& r) { return r.rows.rows; }, "rows read"),
                    describe::computed<s>(
                        "bad_rows", [](const s& r) { return r.rows.bad; }, "rows left out"),
                    describe::computed<s>(
                        "first_bad_row", [](const s& r) { return r.rows.first_bad; },
                        "0-based index of the first bad row"),
                    describe::computed<s>(
                        "first_problem", [](const s& r) { return r.rows.first_problem; },
                        "what was wrong with it")};
}

/**
 * The mergeable state of an aggregation, before rolling windows and summaries: one accumulator per
 * raw (group, period) cell, cell (g, t) at `cells[g * periods + t]`, t = 0 being period
 * `first_period` of `period` (`periods` = 1 and `first_period` = 0 without a period; `periods` = 0
 * when no row has a date). Tables of disjoint answers grouped by the same codes and levels merge
 * exactly with `merge_cells` (the accumulators' `+=`), so the summaries of a merged table equal
 * those of one pass over all the answers, bit for bit (`aggregate_nps` is `tally_nps` then
 * `summarize_cells`).
 */
template <class Cell>
struct cell_table {
  std::size_t groups = 1;
  std::size_t periods = 1;
  std::int64_t first_period = 0;
  std::optional<data::period_unit> period;
  Cell empty{};  ///< an accumulator without answers (it carries a rating cell's scale)
  std::vector<Cell> cells;
  row_report rows;  ///< `first_bad` indexes the rows of the first table merged that had bad rows
};

/**
 * Adds the answers of `other` to `into`: cell by cell after aligning both on the union of their
 * period ranges (a table without dates adds only its row report).
 * @throw invalid_input when the tables differ in groups, period unit or empty accumulator (scale).
 */
template <class Cell>
void merge_cells(cell_table<Cell>& into, const cell_table<Cell>& other) {
  constexpr const char* function = "merge_cells";
  if (into.groups != other.groups || into.period != other.period || !(into.empty == other.empty)) {
    check::fail(function, fmt::format("the tables differ in their grouping ({} and {} groups), "
                                      "period or scale",
                                      into.groups, other.groups));
  }
  if (into.rows.bad == 0 && other.rows.bad > 0) {
    into.rows.first_bad = other.rows.first_bad;
    into.rows.first_problem = other.rows.first_problem;
  }
  into.rows.rows += other.rows.rows;
  into.rows.bad += other.rows.bad;
  if (other.periods == 0) return;
  if (into.periods == 0) {
    const row_report rows = into.rows;
    into = other;
    into.rows = rows;
    return;
  }
  const std::int64_t first = std::min(into.first_period, other.first_period);
  const std::int64_t last =
      std::max(into.first_period + static_cast<std::int64_t>(into.periods),
               other.first_period + static_cast<std::int64_t>(other.periods));
  const auto periods = static_cast<std::size_t>(last - first);
  if (first != into.first_period || periods != into.periods) {
    std::vector<Cell> cells(into.groups * periods, into.empty);
    const auto shift = static_cast<std::size_t>(into.first_period - first);
    for (std::size_t g = 0; g < into.groups; ++g) {
      for (std::size_t t = 0; t < into.periods; ++t) {
        cells[g * periods + shift + t] = into.cells[g * into.periods + t];
      }
    }
    into.cells = std::move(cells);
    into.first_period = first;
    into.periods = periods;
  }
  const auto shift = static_cast<std::size_t>(other.first_period - first);
  for (std::size_t g = 0; g < other.groups; ++g) {
    for (std::size_t t = 0; t < other.periods; ++t) {
      into.cells[g * periods + shift + t] += other.cells[g * other.periods + t];
    }
  }
}

namespace detail {

inline constexpr std::int64_t missing_timestamp = std::numeric_limits<std::int64_t>::min();
inline constexpr std::size_t max_cells = std::size_t{1} << 27;

/** A valid row: its cell among the raw (group, period) cells, its integer score and weight. */
struct located_row {
  std::size_t cell = 0;
  std::int64_t score = 0;
  double weight = 1;
};

[[nodiscard]] inline bool read_score(double value, const rating_scale& scale,
                                     std::int64_t& score) noexcept {
  if (!(value >= static_cast<double>(scale.min) && value <= static_cast<double>(scale.max))) {
    return false;
  }
  score = static_cast<std::int64_t>(value);
  return static_cast<double>(score) == value;
}

[[nodiscard]] inline bool read_score(std::int64_t value, const rating_scale& scale,
                                     std::int64_t& score) noexcept {
  score = value;
  return scale.contains(value);
}

/**
 * Validates rows and finds their (group, period) cell. Periods are looked up in a table indexed
 * by day when the data span fewer than 2^24 days (always, for real dates).
 */
template <class Score>
class row_locator {
 public:
  row_locator(const char* function, std::span<const Score> scores, std::span<const double> weights,
              const response_grouping& grouping, const rating_scale& scale)
      : scores_(scores), weights_(weights), grouping_(grouping), scale_(scale) {
    const std::size_t n = scores.size();
    if (!weights.empty()) check::same_size(function, "scores", n, "weights", weights.size());
    check::same_size(function, "grouping codes", grouping.codes.size(), "grouping levels",
                     grouping.levels.size());
    for (std::size_t c = 0; c < grouping.codes.size(); ++c) {
      check::same_size(function, "scores", n, fmt::format("codes[{}]", c),
                       grouping.codes[c].size());
      if (grouping.levels[c] == 0) {
        check::fail(function, fmt::format("levels[{}] = 0 must be positive", c));
      }
      groups_ = checked_product(function, groups_, grouping.levels[c]);
    }
    if (grouping.window == 0) check::fail(function, "window = 0 must be at least 1");
    if (!grouping.period) {
      if (grouping.window != 1) {
        check::fail(function, fmt::format("window = {} needs a period", grouping.window));
      }
      return;
    }
    if (*grouping.period == data::period_unit::hour) {
      check::fail(function, "period must be a day or longer");
    }
    unit_ = *grouping.period;
    check::same_size(function, "scores", n, "timestamps", grouping.timestamps.size());
    check::positive(function, "ticks_per_day", grouping.ticks_per_day);
    find_periods(function);
  }

  [[nodiscard]] std::size_t groups() const noexcept { return groups_; }
  [[nodiscard]] std::size_t periods() const noexcept { return periods_; }
  [[nodiscard]] std::int64_t first_period() const noexcept { return first_period_; }
  [[nodiscard]] bool weighted() const noexcept { return !weights_.empty(); }

  /** Fills `row` and returns true for a valid row; false otherwise (see `describe`). */
  [[nodiscard]] bool locate(std::size_t i, located_row& row) const noexcept {
    if (!read_score(scores_[i], scale_, row.score)) return false;
    if (!weights_.empty()) {
      row.weight = weights_[i];
      if (!is_valid_weight(row.weight)) return false;
    }
    std::size_t group = 0;
    for (std::size_t c = 0; c < grouping_.codes.size(); ++c) {
      const auto code = static_cast<std::size_t>(grouping_.codes[c][i]);
      if (code >= grouping_.levels[c]) return false;
      group = group * grouping_.levels[c] + code;
    }
    std::size_t period = 0;
    if (grouping_.period) {
      const std::int64_t stamp = grouping_.timestamps[i];
      if (stamp == missing_timestamp) return false;
      period = day_table_.empty()
                   ? static_cast<std::size_t>(
                         data::period_index_of_day(data::floor_div(stamp, grouping_.ticks_per_day),
                                                   unit_) -
                         first_period_)
                   : day_table_[day_offset(stamp)];
    }
    row.cell = group * periods_ + period;
    return true;
  }

  /** Why row `i` is invalid, naming the array, index and value. */
  [[nodiscard]] std::string describe(std::size_t i) const {
    std::int64_t score = 0;
    if (!read_score(scores_[i], scale_, score)) {
      const auto value = scores_[i];
      if constexpr (std::is_floating_point_v<Score>) {
        if (std::isnan(value)) return fmt::format("scores[{}] is missing (NaN)", i);
        if (value >= static_cast<double>(scale_.min) && value <= static_cast<double>(scale_.max)) {
          return fmt::format("scores[{}] = {} is not an integer", i, value);
        }
      }
      return fmt::format("scores[{}] = {} is outside the scale {}..{}", i, value, scale_.min,
                         scale_.max);
    }
    if (!weights_.empty() && !is_valid_weight(weights_[i])) {
      return fmt::format("weights[{}] = {} is not a valid weight (0, or from {:g} to {:g})", i,
                         weights_[i], min_weight, max_weight);
    }
    for (std::size_t c = 0; c < grouping_.codes.size(); ++c) {
      const std::int64_t code = grouping_.codes[c][i];
      if (code < 0 || static_cast<std::size_t>(code) >= grouping_.levels[c]) {
        return fmt::format("codes[{}][{}] = {} is missing or outside [0, {})", c, i, code,
                           grouping_.levels[c]);
      }
    }
    return fmt::format("timestamps[{}] is missing (NaT)", i);
  }

 private:
  static std::size_t checked_product(const char* function, std::size_t a, std::size_t b) {
    if (b != 0 && a > max_cells / b) {
      check::fail(function, fmt::format("the grouping has more than {} cells; group by fewer "
                                        "columns or a coarser period",
                                        max_cells));
    }
    return a * b;
  }

  /**
   * Days from `first_day_` to `stamp` without a 64-bit division: the double estimate is off by at
   * most one near a day boundary, which the integer comparisons correct.
   */
  [[nodiscard]] std::size_t day_offset(std::int64_t stamp) const noexcept {
    const std::int64_t offset = stamp - first_tick_;
    auto day = static_cast<std::int64_t>(static_cast<double>(offset) * days_per_tick_);
    const std::int64_t ticks = grouping_.ticks_per_day;
    if (day * ticks > offset) {
      --day;
    } else if ((day + 1) * ticks <= offset) {
      ++day;
    }
    return static_cast<std::size_t>(day);
  }

  void find_periods(const char* function) {
    struct day_range {
      std::int64_t low = std::numeric_limits<std::int64_t>::max();
      std::int64_t high = std::numeric_limits<std::int64_t>::min();
    };
    const auto stamps = grouping_.timestamps;
    const std::int64_t ticks = grouping_.ticks_per_day;
    const day_range range = parallel_reduce(
        stamps.size(), day_range{},
        [&](std::size_t begin, std::size_t end) {
          day_range part;
          for (std::size_t i = begin; i < end; ++i) {
            if (stamps[i] == missing_timestamp) continue;
            part.low = std::min(part.low, stamps[i]);
            part.high = std::max(part.high, stamps[i]);
          }
          return part;
        },
        [](day_range a, day_range b) {
          return day_range{std::min(a.low, b.low), std::max(a.high, b.high)};
        },
        std::size_t{1} << 16);
    if (range.low > range.high) {
      periods_ = 0;
      return;
    }
    first_day_ = data::floor_div(range.low, ticks);
    const std::int64_t last_day = data::floor_div(range.high, ticks);
    first_period_ = data::period_index_of_day(first_day_, unit_);
    const std::int64_t last_period = data::period_index_of_day(last_day, unit_);
    const auto span = static_cast<std::uint64_t>(last_period - first_period_) + 1;
    if (span > max_cells) {
      check::fail(function,
                  fmt::format("the dates span {} periods, more than {}", span, max_cells));
    }
    periods_ = static_cast<std::size_t>(span);
    checked_product(function, groups_, periods_);
    const auto days = static_cast<std::uint64_t>(last_day - first_day_) + 1;
    std::int64_t table_ticks = 0;
    if (days < (std::uint64_t{1} << 24) &&
        !__builtin_mul_overflow(first_day_, ticks, &first_tick_) &&
        !__builtin_mul_overflow(static_cast<std::int64_t>(days) + 1, ticks, &table_ticks)) {
      days_per_tick_ = 1.0 / static_cast<double>(ticks);
      day_table_.resize(static_cast<std::size_t>(days));
      for (std::size_t d = 0; d < day_table_.size(); ++d) {
        day_table_[d] = static_cast<std::uint32_t>(
            data::period_index_of_day(first_day_ + static_cast<std::int64_t>(d), unit_) -
            first_period_);
      }
    }
  }

  std::span<const Score> scores_;
  std::span<const double> weights_;
  const response_grouping& grouping_;
  rating_scale scale_;
  std::size_t groups_ = 1;
  std::size_t periods_ = 1;
  std::int64_t first_period_ = 0;
  data::period_unit unit_ = data::period_unit::day;
  std::int64_t first_day_ = 0;
  std::int64_t first_tick_ = 0;
  double days_per_tick_ = 0;
  std::vector<std::uint32_t> day_table_;
};

/** Rows of the first problem found so far, and how many problems. */
struct problem_tally {
  std::size_t count = 0;
  std::size_t first = 0;
};

/**
 * One pass over the rows: chunks of rows accumulate into private cell arrays, merged afterwards
 * cell by cell in chunk order. Merging is exact, so the cells do not depend on the chunking or
 * the thread count. The chunk count is capped so the private arrays stay within about 256 MiB.
 */
template <class Cell, class Score>
std::vector<Cell> accumulate_cells(const row_locator<Score>& locator, std::size_t rows,
                                   const Cell& empty, problem_tally& problems) {
  const std::size_t cells = locator.groups() * locator.periods();
  const std::size_t bytes = std::max<std::size_t>(cells * sizeof(Cell), 1);
  const std::size_t chunk_limit = std::clamp<std::size_t>((std::size_t{256} << 20) / bytes, 1, 64);
  const std::size_t grain = std::max<std::size_t>(rows / chunk_limit + 1, std::size_t{1} << 14);
  const std::size_t chunks = chunk_count(rows, grain);
  std::vector<std::vector<Cell>> partial(chunks);
  std::vector<problem_tally> chunk_problems(chunks);
  parallel_chunks(rows, grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    std::vector<Cell> local(cells, empty);
    problem_tally found;
    located_row row;
    for (std::size_t i = begin; i < end; ++i) {
      if (!locator.locate(i, row)) {
        if (found.count++ == 0) found.first = i;
        continue;
      }
      if constexpr (requires(Cell cell) { cell(row.score, row.weight); }) {
        local[row.cell](row.score, row.weight);
      } else {
        local[row.cell](row.score);
      }
    }
    partial[chunk] = std::move(local);
    chunk_problems[chunk] = found;
  });
  for (const auto& found : chunk_problems) {
    if (found.count > 0 && problems.count == 0) problems.first = found.first;
    problems.count += found.count;
  }
  std::vector<Cell> merged(cells, empty);
  parallel_for(
      cells,
      [&](std::size_t begin, std::size_t end) {
        for (const auto& local : partial) {
          for (std::size_t j = begin; j < end; ++j) merged[j] += local[j];
        }
      },
      1024);
  return merged;
}

/** Rolling windows: output period t of a group merges raw periods t .. t + window − 1. */
template <class Cell>
std::vector<Cell> window_cells(const std::vector<Cell>& raw, std::size_t groups,
                               std::size_t periods, std::size_t window) {
  if (window == 1) return raw;
  const std::size_t out_periods = periods - window + 1;
  std::vector<Cell> out(groups * out_periods);
  parallel_for(
      groups,
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t g = begin; g < end; ++g) {
          for (std::size_t t = 0; t < out_periods; ++t) {
            Cell cell = raw[g * periods + t];
            for (std::size_t k = 1; k < window; ++k) cell += raw[g * periods + t + k];
            out[g * out_periods + t] = cell;
          }
        }
      },
      1);
  return out;
}

/** Rows sorted by raw cell (a counting sort), with the start of each cell's run. */
struct rows_by_cell {
  std::vector<located_row> rows;
  std::vector<std::size_t> starts;  ///< size cells + 1
};

template <class Score>
rows_by_cell sort_rows_by_cell(const row_locator<Score>& locator, std::size_t rows) {
  const std::size_t cells = locator.groups() * locator.periods();
  rows_by_cell sorted;
  sorted.starts.assign(cells + 1, 0);
  located_row row;
  for (std::size_t i = 0; i < rows; ++i) {
    if (locator.locate(i, row)) ++sorted.starts[row.cell + 1];
  }
  for (std::size_t c = 0; c < cells; ++c) sorted.starts[c + 1] += sorted.starts[c];
  sorted.rows.resize(sorted.starts[cells]);
  std::vector<std::size_t> next(sorted.starts.begin(), sorted.starts.end() - 1);
  for (std::size_t i = 0; i < rows; ++i) {
    if (locator.locate(i, row)) sorted.rows[next[row.cell]++] = row;
  }
  return sorted;
}

/** One weight per answer for a weighted tally, none for an unweighted one. */
inline void check_tally_weights(const char* function, bool weighted, std::size_t answers,
                                std::size_t weights) {
  if (weighted) {
    check::same_size(function, "scores", answers, "weights", weights);
  } else if (weights != 0) {
    check::fail(function, "weights are given but the tally is unweighted");
  }
}

/** Validates and locates the rows and accumulates the raw cells; reports or raises bad rows. */
template <class Cell, class Score>
cell_table<Cell> tally_cells(const char* function, const row_locator<Score>& locator,
                             std::size_t rows, const Cell& empty,
                             const response_grouping& grouping, data::bad_row_policy policy) {
  problem_tally problems;
  cell_table<Cell> table;
  table.cells = accumulate_cells(locator, rows, empty, problems);
  table.groups = locator.groups();
  table.periods = locator.periods();
  table.first_period = locator.first_period();
  table.period = grouping.period;
  table.empty = empty;
  table.rows.rows = rows;
  table.rows.bad = problems.count;
  if (problems.count > 0) {
    table.rows.first_bad = problems.first;
    table.rows.first_problem = locator.describe(problems.first);
    if (policy == data::bad_row_policy::error) {
      check::fail(function,
                  fmt::format("{} of {} rows are invalid; the first is row {}: {} "
                              "(skip invalid rows on request to leave them out)",
                              problems.count, rows, problems.first, table.rows.first_problem));
    }
  }
  return table;
}

/**
 * Forms the rolling windows of a table's raw cells, then `summarize_cell(cell, index, raw_first)`
 * for each output cell in parallel (raw_first = the first raw cell of its window).
 */
template <class Result, class Cell, class Summarize>
grouped_results<Result> summarize_table(const char* function, const cell_table<Cell>& table,
                                        std::size_t window, Summarize&& summarize_cell) {
  if (window == 0) check::fail(function, "window = 0 must be at least 1");
  if (window > 1 && !table.period) {
    check::fail(function, fmt::format("window = {} needs a period", window));
  }
  const std::size_t periods = table.periods;
  if (window > 1 && periods > 0 && window > periods) {
    check::fail(function, fmt::format("window = {} is longer than the {} periods the dates span",
                                      window, periods));
  }
  grouped_results<Result> out;
  out.rows = table.rows;
  out.groups = table.groups;
  out.periods = periods == 0 ? 0 : periods - window + 1;
  out.first_period = table.first_period + static_cast<std::int64_t>(window) - 1;
  const std::vector<Cell> cells = window_cells(table.cells, out.groups, periods, window);
  out.cells.resize(cells.size());
  parallel_for(
      cells.size(),
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t j = begin; j < end; ++j) {
          const std::size_t raw_first = (j / out.periods) * periods + j % out.periods;
          out.cells[j] = summarize_cell(cells[j], j, raw_first);
        }
      },
      16);
  return out;
}

/**
 * The shared skeleton of the aggregations: `tally_cells`, then `summarize_table` over the
 * grouping's window.
 */
template <class Result, class Cell, class Score, class Summarize>
grouped_results<Result> aggregate_cells(const char* function, const row_locator<Score>& locator,
                                        std::size_t rows, const Cell& empty,
                                        const response_grouping& grouping,
                                        data::bad_row_policy policy, Summarize&& summarize_cell) {
  return summarize_table<Result>(function,
                                 tally_cells(function, locator, rows, empty, grouping, policy),
                                 grouping.window, std::forward<Summarize>(summarize_cell));
}

template <bool Weighted, class Score>
grouped_results<nps_result> aggregate_nps(std::span<const Score> scores,
                                          std::span<const double> weights,
                                          const response_grouping& grouping,
                                          const nps_options& options, data::bad_row_policy policy) {
  constexpr const char* function = "aggregate_nps";
  check_confidence(function, options.confidence);
  check_small_sample_below(function, options.small_sample_below);
  if (options.method == nps_interval_method::bootstrap)
    check_resamples(function, options.resamples);
  const row_locator<Score> locator(function, scores, weights, grouping, rating_scale{0, 10});
  const bool row_bootstrap = Weighted && options.method == nps_interval_method::bootstrap;
  const rows_by_cell sorted =
      row_bootstrap ? sort_rows_by_cell(locator, scores.size()) : rows_by_cell{};
  return aggregate_cells<nps_result>(
      function, locator, scores.size(), basic_nps_accumulator<Weighted>{}, grouping, policy,
      [&](const basic_nps_accumulator<Weighted>& cell, std::size_t index, std::size_t raw_first) {
        if (!row_bootstrap) return summarize(cell, options, index);
        nps_result result = describe_nps(cell, options);
        const auto begin = sorted.starts[raw_first];
        const auto end = sorted.starts[raw_first + grouping.window];
        std::vector<weighted_nps_answer> answers;
        answers.reserve(end - begin);
        for (std::size_t i = begin; i < end; ++i) {
          answers.push_back({nps_category_of(sorted.rows[i].score), sorted.rows[i].weight});
        }
        result.ci = nps_bootstrap_interval(answers, options.confidence, options.resamples,
                                           options.seed, index);
        return result;
      });
}

template <bool Weighted, class Score>
grouped_results<rating_result> aggregate_rating(std::span<const Score> scores,
                                                std::span<const double> weights,
                                                const response_grouping& grouping,
                                                const rating_scale& scale,
                                                const interval_options& options,
                                                data::bad_row_policy policy) {
  constexpr const char* function = "aggregate_rating";
  check_confidence(function, options.confidence);
  check_small_sample_below(function, options.small_sample_below);
  check_scale(function, scale);
  const row_locator<Score> locator(function, scores, weights, grouping, scale);
  return aggregate_cells<rating_result>(
      function, locator, scores.size(), basic_rating_accumulator<Weighted>(scale), grouping, policy,
      [&](const basic_rating_accumulator<Weighted>& cell, std::size_t, std::size_t) {
        return summarize(cell, options);
      });
}

}  // namespace detail

/**
 * NPS of every (group, period) cell of a responses table in one pass. `scores` are 0–10 answers
 * (`double` or `std::int64_t`); `weights` is empty (unweighted) or one survey weight per answer.
 * Rows are accumulated in parallel into mergeable accumulators (exact, so the result does not
 * depend on the thread count). Bootstrap intervals use stream = cell index, so each cell's
 * interval is reproducible from `options.seed`.
 * @throw invalid_input for mismatched sizes, invalid options, or (under
 * `data::bad_row_policy::error`) invalid rows: the message gives their number and the first one.
 */
template <class Score>
[[nodiscard]] grouped_results<nps_result> aggregate_nps(
    std::span<const Score> scores, std::span<const double> weights,
    const response_grouping& grouping, const nps_options& options = {},
    data::bad_row_policy policy = data::bad_row_policy::error) {
  return weights.empty() ? detail::aggregate_nps<false>(scores, weights, grouping, options, policy)
                         : detail::aggregate_nps<true>(scores, weights, grouping, options, policy);
}

/**
 * NPS results of cells given by their unweighted answer counts (`detractors[j]`, `passives[j]`,
 * `promoters[j]` of cell j), e.g. counts tallied on many machines and added: cell j's result is
 * what `aggregate_nps` gives an unweighted cell j with those answers, bit for bit (the same
 * accumulator and `summarize`; bootstrap stream = j, as there).
 * @throw invalid_input for mismatched sizes, a negative count, or invalid options.
 */
[[nodiscard]] inline std::vector<nps_result> summarize_nps_counts(
    std::span<const std::int64_t> detractors, std::span<const std::int64_t> passives,
    std::span<const std::int64_t> promoters, const nps_options& options = {}) {
  constexpr const char* function = "summarize_nps_counts";
  check::same_size(function, "detractors", detractors.size(), "passives", passives.size());
  check::same_size(function, "detractors", detractors.size(), "promoters", promoters.size());
  detail::check_confidence(function, options.confidence);
  detail::check_small_sample_below(function, options.small_sample_below);
  if (options.method == nps_interval_method::bootstrap)
    detail::check_resamples(function, options.resamples);
  const std::array<std::pair<const char*, std::span<const std::int64_t>>, 3> columns{
      {{"detractors", detractors}, {"passives", passives}, {"promoters", promoters}}};
  for (const auto& [name, counts] : columns) {
    const auto negative = std::ranges::find_if(counts, [](std::int64_t c) { return c < 0; });
    if (negative != counts.end()) {
      check::fail(function, fmt::format("{}[{}] = {} is negative", name, negative - counts.begin(),
                                        *negative));
    }
  }
  std::vector<nps_result> results(detractors.size());
  parallel_for(
      results.size(),
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t j = begin; j < end; ++j) {
          nps_accumulator cell;
          cell.add_answers(nps_category::detractor, detractors[j]);
          cell.add_answers(nps_category::passive, passives[j]);
          cell.add_answers(nps_category::promoter, promoters[j]);
          results[j] = summarize(cell, options, j);
        }
      },
      16);
  return results;
}

/**
 * The mergeable first half of `aggregate_nps`: the raw (group, period) NPS accumulators of a
 * table of answers, weighted when `Weighted` (then `weights` holds one weight per answer; else it
 * must be empty). Tables of disjoint parts of the answers, tallied with the same grouping codes
 * and levels (on other machines, say), merge exactly with `merge_cells`; `summarize_cells` then
 * gives what `aggregate_nps` gives all the answers, bit for bit. `grouping.window` is ignored
 * (it is `summarize_cells`' argument).
 * @throw invalid_input for mismatched sizes, an invalid grouping, or (under
 * `data::bad_row_policy::error`) invalid rows.
 */
template <bool Weighted, class Score>
[[nodiscard]] cell_table<basic_nps_accumulator<Weighted>> tally_nps(
    std::span<const Score> scores, std::span<const double> weights,
    const response_grouping& grouping,
    data::bad_row_policy policy = data::bad_row_policy::error) {
  constexpr const char* function = "tally_nps";
  detail::check_tally_weights(function, Weighted, scores.size(), weights.size());
  response_grouping raw = grouping;
  raw.window = 1;
  const detail::row_locator<Score> locator(function, scores, weights, raw, rating_scale{0, 10});
  return detail::tally_cells(function, locator, scores.size(), basic_nps_accumulator<Weighted>{},
                             raw, policy);
}

/**
 * The NPS results of a table's cells over rolling windows of `window` periods, as
 * `aggregate_nps` gives them (bootstrap stream = output cell index, as there).
 * @throw invalid_input for invalid options, a window longer than the periods, or a bootstrap of
 * weighted answers (that resamples the answers themselves, which a table does not keep).
 */
template <bool Weighted>
[[nodiscard]] grouped_results<nps_result> summarize_cells(
    const cell_table<basic_nps_accumulator<Weighted>>& table, std::size_t window,
    const nps_options& options) {
  constexpr const char* function = "summarize_cells";
  detail::check_confidence(function, options.confidence);
  detail::check_small_sample_below(function, options.small_sample_below);
  if (options.method == nps_interval_method::bootstrap) {
    if (Weighted) {
      check::fail(function,
                  "a bootstrap interval of weighted answers resamples the answers themselves, "
                  "which merged cell tables do not keep; use method adjusted_wald or wald");
    }
    detail::check_resamples(function, options.resamples);
  }
  return detail::summarize_table<nps_result>(
      function, table, window,
      [&](const basic_nps_accumulator<Weighted>& cell, std::size_t index, std::size_t) {
        return summarize(cell, options, index);
      });
}

/**
 * The mergeable first half of `aggregate_rating` on `scale`; see `tally_nps`.
 * @throw invalid_input as `tally_nps`, and for an invalid scale.
 */
template <bool Weighted, class Score>
[[nodiscard]] cell_table<basic_rating_accumulator<Weighted>> tally_rating(
    std::span<const Score> scores, std::span<const double> weights,
    const response_grouping& grouping, const rating_scale& scale,
    data::bad_row_policy policy = data::bad_row_policy::error) {
  constexpr const char* function = "tally_rating";
  detail::check_tally_weights(function, Weighted, scores.size(), weights.size());
  check_scale(function, scale);
  response_grouping raw = grouping;
  raw.window = 1;
  const detail::row_locator<Score> locator(function, scores, weights, raw, scale);
  return detail::tally_cells(function, locator, scores.size(),
                             basic_rating_accumulator<Weighted>(scale), raw, policy);
}

/**
 * The CSAT/CES results of a table's cells over rolling windows of `window` periods, as
 * `aggregate_rating` gives them.
 * @throw invalid_input for invalid options or a window longer than the periods.
 */
template <bool Weighted>
[[nodiscard]] grouped_results<rating_result> summarize_cells(
    const cell_table<basic_rating_accumulator<Weighted>>& table, std::size_t window,
    const interval_options& options) {
  constexpr const char* function = "summarize_cells";
  detail::check_confidence(function, options.confidence);
  detail::check_small_sample_below(function, options.small_sample_below);
  return detail::summarize_table<rating_result>(
      function, table, window,
      [&](const basic_rating_accumulator<Weighted>& cell, std::size_t, std::size_t) {
        return summarize(cell, options);
      });
}

/**
 * CSAT or CES (`rating_result`: mean with t interval, favourable share with Wilson interval) of
 * every (group, period) cell in one pass; see `aggregate_nps` for the layout and guarantees.
 * @throw invalid_input as `aggregate_nps`, and for an invalid scale (`check_scale`).
 */
template <class Score>
[[nodiscard]] grouped_results<rating_result> aggregate_rating(
    std::span<const Score> scores, std::span<const double> weights,
    const response_grouping& grouping, const rating_scale& scale,
    const interval_options& options = {},
    data::bad_row_policy policy = data::bad_row_policy::error) {
  return weights.empty()
             ? detail::aggregate_rating<false>(scores, weights, grouping, scale, options, policy)
             : detail::aggregate_rating<true>(scores, weights, grouping, scale, options, policy);
}

}  // namespace crmkit::survey
