#include "crmkit/data/summary.hpp"

#include "crmkit/data/grouping.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "bucket_rows.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/limits.hpp"
#include "crmkit/core/parallel.hpp"
#include "finite_amounts.hpp"
#include "huge_pages.hpp"
#include "relative_period.hpp"

namespace crmkit::data {
namespace {

using std::int64_t;
using std::size_t;
using std::uint32_t;
using std::uint64_t;

constexpr size_t customers_per_chunk = 4096;

struct scan_settings {
  int64_t calibration_end;  // relative period of the calibration end (= end without holdout)
  double freq_multiplier;
  bool include_first_transaction;
  bool holdout;
};

/** The summary columns, customers in ascending key order; `*_holdout` only when asked for. */
struct summary_columns {
  memory::column<int64_t> customer;
  memory::column<double> frequency, recency, T, monetary_value;
  std::vector<double> frequency_holdout, monetary_value_holdout;
  std::vector<uint32_t> calibration_rows,
      holdout_rows;  // holdout only; 0 calibration rows: excluded
  size_t rows_used = 0;
  size_t customers_after_end = 0;

  /** The result columns are not written here (column_allocator): every customer kept is
   * written once by the pass that summarises it. */
  summary_columns(size_t customers, bool has_amount, bool holdout)
      : customer(customers), frequency(customers), recency(customers), T(customers) {
    if (has_amount) monetary_value.resize(customers);
    if (holdout) {
      frequency_holdout = detail::large_vector<double>(customers);
      if (has_amount) monetary_value_holdout = detail::large_vector<double>(customers);
      calibration_rows = detail::large_vector<uint32_t>(customers);
      holdout_rows = detail::large_vector<uint32_t>(customers);
    }
  }
};

/**
 * Means of a customer's counted calibration and holdout period totals when their plain sums
 * overflowed the double range: Σ (total / n) term by term, which stays finite whenever the means
 * are. A single period's total beyond the double range cannot be represented: invalid_input.
 */
template <class EachPeriod>
void rescaled_means(const EachPeriod& each_period, int64_t key, const scan_settings& settings,
                    int64_t counted, int64_t holdout_periods, double& mean, double& holdout_mean) {
  mean = 0;
  holdout_mean = 0;
  bool first = true;
  each_period([&](int64_t period, double total) {
    if (!std::isfinite(total)) {
      check::fail("summarize", fmt::format("the purchases of customer {} in one period sum to "
                                           "{} (beyond the largest double, about 1.8e308)",
                                           key, total));
    }
    if (period > settings.calibration_end) {
      holdout_mean += total / static_cast<double>(holdout_periods);
    } else if (!first || settings.include_first_transaction) {
      mean += total / static_cast<double>(counted);
    }
    first = false;
  });
}

/** Fails naming the first non-finite amount (row, value), as check_log does. */
void check_amounts(std::string_view function, std::span<const double> amount) {
  parallel_chunks(amount.size(), size_t{1} << 16, [&](size_t, size_t begin, size_t end) {
    detail::check_finite_amounts(function, amount, begin, end);
  });
}

/** `value` where `mask` is all ones, +0 where it is zero: a choice without a branch. */
[[gnu::always_inline]] inline double masked(double value, uint64_t mask) noexcept {
  return std::bit_cast<double>(std::bit_cast<uint64_t>(value) & mask);
}

/** A customer's running statistics over its distinct purchase periods, in ascending order. */
struct customer_scan {
  int64_t first = -1, last = 0, counted_periods = 0, holdout_periods = 0;
  double spend = 0, holdout_spend = 0;

  void add(int64_t period, double total, const scan_settings& settings) noexcept {
    if (first < 0) first = last = period;
    if (period > settings.calibration_end) {
      ++holdout_periods;
      holdout_spend += total;
      return;
    }
    last = period;
    if (++counted_periods > 1 || settings.include_first_transaction) spend += total;
  }

  /**
   * Closes a calibration period of total `total` whose spend counts where `counts` is all ones
   * (a customer's first period, in the RFM view, is the one that does not).
   */
  void close(double total, uint64_t counts) noexcept {
    spend += masked(total, counts);
    ++counted_periods;
  }

  /** Whether the plain sums stayed finite (else the means need `rescaled_means`). */
  [[nodiscard]] bool sums_finite() const noexcept { return std::isfinite(spend + holdout_spend); }
};

/**
 * Writes customer `j`'s columns from its scan; `rescale(counted, mean, holdout_mean)` recomputes
 * the means when the sums overflowed (only called with amounts).
 */
template <class Rescale>
[[gnu::always_inline]] inline void store_customer(const customer_scan& scan, size_t j,
                                                  const scan_settings& settings,
                                                  summary_columns& out, const Rescale& rescale) {
  const int64_t end = settings.calibration_end;
  const int64_t counted =
      settings.include_first_transaction ? scan.counted_periods : scan.counted_periods - 1;
  const bool with_amount = !out.monetary_value.empty();
  double mean = counted > 0 ? scan.spend / static_cast<double>(counted) : 0.0;
  double holdout_mean = scan.holdout_periods > 0
                            ? scan.holdout_spend / static_cast<double>(scan.holdout_periods)
                            : 0.0;
  if (with_amount && !scan.sums_finite()) rescale(counted, mean, holdout_mean);
  if (settings.holdout) {
    out.frequency_holdout[j] = static_cast<double>(scan.holdout_periods);
    if (with_amount) out.monetary_value_holdout[j] = holdout_mean;
    if (scan.first > end) return;
  }
  const int64_t recency =
      settings.include_first_transaction ? end - scan.last : scan.last - scan.first;
  out.frequency[j] = static_cast<double>(counted);
  out.recency[j] = static_cast<double>(recency) / settings.freq_multiplier;
  out.T[j] = static_cast<double>(end - scan.first) / settings.freq_multiplier;
  if (with_amount) out.monetary_value[j] = mean;
}

/**
 * Computes customer `j`'s statistics (key `out.customer[j]`) from its distinct purchase periods,
 * which `each_period(visit)` hands in ascending order as `visit(period, total)`.
 */
template <class EachPeriod>
void scan_customer(const EachPeriod& each_period, size_t j, const scan_settings& settings,
                   summary_columns& out) {
  customer_scan scan;
  each_period([&](int64_t period, double total) { scan.add(period, total, settings); });
  store_customer(scan, j, settings, out, [&](int64_t counted, double& mean, double& holdout_mean) {
    rescaled_means(each_period, out.customer[j], settings, counted, scan.holdout_periods, mean,
                   holdout_mean);
  });
}

/**
 * Customer `j`'s summary from its rows `[begin, end)` of a customer-ordered log, some of them at
 * or before the last tick, by the sorting path's rule: those rows sorted by (period, amount),
 * then scanned. Returns the rows after the last tick.
 */
template <bool with_amount, bool every_row_in_window>
size_t sort_and_summarize_run(std::span<const int64_t> timestamp, std::span<const double> amount,
                              size_t begin, size_t end, const detail::relative_period& period_of,
                              int64_t last_tick, const scan_settings& settings, size_t j,
                              summary_columns& out, std::vector<keyed_row>& scratch) {
  scratch.clear();
  size_t after_end = 0;
  for (size_t i = begin; i < end; ++i) {
    if (!every_row_in_window && timestamp[i] > last_tick) {
      ++after_end;
    } else {
      scratch.push_back({period_of(timestamp[i]) << 32, with_amount ? amount[i] : 0.0});
    }
  }
  std::sort(scratch.begin(), scratch.end(), detail::period_then_amount);
  const std::span<const keyed_row> rows(scratch);
  scan_customer([&](const auto& visit) { period_totals::each(rows, visit); }, j, settings, out);
  return after_end;
}

/** What summarize_chunk_runs found in its rows. */
struct chunk_runs {
  size_t rows_after_end = 0;
  bool amounts_finite = true;  // every amount seen was finite (seen only when asked)
};

/**
 * The customers whose runs start in rows `[begin, end)` of a customer-ordered log (numbered from
 * `first_customer`), in one pass over their rows: each period's total is complete when the next
 * period starts, and a total of one row or two is an order-free sum ((0 + a) + b = (0 + b) + a,
 * as period_totals adds them). A run with a row before its latest period, a third row in one
 * period, or sums beyond the double range goes to sort_and_summarize_run. `keep[j]` (when not
 * empty) is set to whether customer j has a row at or before the last tick; with
 * `check_amounts`, every row's amount is seen (chunk_runs::amounts_finite).
 */
template <bool with_amount, bool every_row_in_window>
chunk_runs summarize_chunk_runs(std::span<const int64_t> customer,
                                std::span<const int64_t> timestamp, std::span<const double> amount,
                                size_t begin, size_t end, size_t first_customer,
                                const detail::relative_period& period_of, int64_t last_tick,
                                const scan_settings& settings, bool check_amounts,
                                summary_columns& out, std::vector<uint32_t>& keep) {
  chunk_runs found;
  std::vector<keyed_row> scratch;
  detail::amount_exponents exponents;
  const size_t n = customer.size();
  // The first period's total counts only in the RFM view; every later one counts.
  const uint64_t first_counts = settings.include_first_transaction ? ~uint64_t{0} : 0;
  size_t j = first_customer;
  size_t i = begin;
  while (i != 0 && i < end && customer[i] == customer[i - 1]) ++i;  // the run began before
  while (i < end) {
    const size_t run_begin = i;
    const int64_t key = customer[i];
    customer_scan scan;
    uint64_t pending = 0, spend_mask = first_counts;
    double pending_total = 0;
    int pending_rows = 0;
    size_t late = 0;
    bool in_order = true;
    for (; i < n && customer[i] == key; ++i) {
      const double value = with_amount ? amount[i] : 0.0;
      if (with_amount && check_amounts) exponents.see(value);
      if (!every_row_in_window && timestamp[i] > last_tick) {
        ++late;
        continue;
      }
      if (!in_order) continue;
      const uint64_t period = period_of(timestamp[i]);
      if (period > pending || pending_rows == 0) [[likely]] {
        if (pending_rows != 0) {
          scan.close(pending_total, spend_mask);
          spend_mask = ~uint64_t{0};
        } else {
          scan.first = static_cast<int64_t>(period);
        }
        pending = period;
        pending_total = value;
        pending_rows = 1;
      } else if (period == pending && pending_rows == 1) {
        pending_total = (0.0 + pending_total) + value;
        pending_rows = 2;
      } else {
        in_order = false;
      }
    }
    out.customer[j] = key;
    found.rows_after_end += late;
    const bool kept = late != i - run_begin;
    if (!keep.empty()) keep[j] = kept;
    if (kept) {
      if (in_order) {
        scan.close(pending_total, spend_mask);
        scan.last = static_cast<int64_t>(pending);
      }
      if (in_order && (!with_amount || scan.sums_finite())) {
        store_customer(scan, j, settings, out, [](int64_t, double&, double&) {});
      } else {
        sort_and_summarize_run<with_amount, every_row_in_window>(
            timestamp, amount, run_begin, i, period_of, last_tick, settings, j, out, scratch);
      }
    }
    ++j;
  }
  found.amounts_finite = exponents.finite();
  return found;
}

/**
 * A customer's state while its rows stream by in input order (stream_bucket), in 32 bytes so that
 * a bucket's states stay in cache: a period's first amount is kept here, the others in the
 * bucket's `extra` list, three to an entry, the entries of one period chained. Periods are kept
 * plus one, and a customer starts with an empty period 0 of one row of amount +0, so that its
 * first row takes the same branch-free step as a row opening a new period after a period of one
 * row (most rows of a time-ordered log).
 */
struct alignas(32) stream_state {  // one cache line holds two states, no state spans two
  static constexpr uint16_t out_of_order = std::numeric_limits<uint16_t>::max();  // must be sorted
  struct more_amounts {
    std::array<double, 3> amount;
    uint32_t next;  // the period's next entry, once this one is full
  };
  // The complement of the first period + 1 (periods ascend: the largest complement is the
  // first's; 0 before any), and the period of the rows not yet added up + 1.
  uint32_t first_complement = 0, pending = 0;
  uint32_t periods = 0;  // periods before the pending one, the empty one included
  uint16_t rows = 1;     // rows in the pending period
  uint16_t extra = 0;    // the pending period's first entry in `extra` (2 rows or more)
  double spend = 0;      // customer_scan's spend over the periods before
  double amount = 0;     // the pending period's first amount

  [[nodiscard]] bool has_rows() const noexcept { return periods != 0; }

  /** The first period whose total spend takes (`periods` when it closes): the customer's
   * second, or with `first_counts` its first; the empty period's +0 may count, as +0 + +0 = +0. */
  static constexpr uint32_t counted_from(bool first_counts) noexcept {
    return first_counts ? 0 : 2;
  }

  /** The customer's first period + 1. */
  [[nodiscard]] uint32_t first() const noexcept { return ~first_complement; }

  /**
   * Closes the pending period of total `total` and opens `period` (+ 1) with `first_amount`;
   * `before_counted` is counted_from(...) - 1, computed once by the caller (GCC subtracts the 1
   * again on every row when given counted_from itself).
   */
  void open(uint32_t period, double first_amount, double total, int64_t before_counted) noexcept {
    // Masks, not branches: a customer's first two periods are a fifth of the rows, and a branch
    // on them would be mispredicted (the empty asm keeps the compiler from making one).
    auto counts = static_cast<uint64_t>((before_counted - static_cast<int64_t>(periods)) >> 63);
    asm("" : "+r"(counts));
    spend += masked(total, counts);
    first_complement = std::max(first_complement, ~period);
    ++periods;
    pending = period;
    amount = first_amount;
  }

  /** The entry of `more` holding the pending period's extra amount k (k = rows - 1 is next). */
  [[nodiscard]] uint32_t entry_of(uint32_t k,
                                  const std::vector<more_amounts>& more) const noexcept {
    uint32_t entry = extra;
    for (uint32_t hops = k / 3; hops > 0; --hops) entry = more[entry].next;
    return entry;
  }

  /** The pending period's total as period_totals adds it (ascending; one row as it is). */
  [[nodiscard]] double total(const std::vector<more_amounts>& more) const {
    if (rows == 1) return amount;
    if (rows == 2) return (0.0 + amount) + more[extra].amount[0];  // see summarize_chunk_runs
    return sorted_total(more);
  }

  /** The total of three rows or more: their amounts sorted, then added. */
  [[gnu::noinline]] double sorted_total(const std::vector<more_amounts>& more) const {
    std::array<double, 16> few;
    std::vector<double> many(rows > few.size() ? rows : 0);
    double* const sorted = many.empty() ? few.data() : many.data();
    sorted[0] = amount;
    for (uint32_t k = 0, entry = extra; k + 1 < rows; ++k) {
      sorted[k + 1] = more[entry].amount[k % 3];
      if (k % 3 == 2) entry = more[entry].next;
    }
    std::sort(sorted, sorted + rows);
    double sum = 0;
    for (uint32_t k = 0; k < rows; ++k) sum += sorted[k];
    return sum;
  }
};
static_assert(sizeof(stream_state) == 32);

/** How many of a bucket's customers stream_bucket summarised, and how many of them sorted. */
struct bucket_sorting {
  size_t customers = 0, sorted = 0;
};

/** Per-thread buffers of stream_bucket and sort_bucket. */
struct bucket_scratch {
  std::vector<stream_state> state;
  std::vector<stream_state::more_amounts> extra;
  std::vector<uint32_t> begin, next;
  std::vector<keyed_row> sorted;
};

/**
 * This thread's bucket_scratch. Not inlined: code that sees the thread_local itself recomputes its
 * address at every use of a vector in it, and in a shared library (the Python module) each
 * recomputation is a call to __tls_get_addr (3 % of the summary's time).
 */
[[gnu::noinline]] bucket_scratch& thread_scratch() {
  thread_local bucket_scratch scratch;
  return scratch;
}

/**
 * Counting-sorts the rows of the bucket's slots w with `chosen(w)` by slot into scratch.sorted
 * (slot w's rows: [scratch.begin[w], scratch.begin[w + 1])), each slot's by (period, amount).
 */
template <class Row, class Chosen>
void sort_rows(std::span<const Row> rows, unsigned shift, size_t width, const Chosen& chosen,
               bucket_scratch& scratch) {
  auto& begin = scratch.begin;
  auto& next = scratch.next;
  begin.assign(width + 1, 0);
  for (const Row& row : rows) {
    const uint32_t w = row.slot(shift);
    begin[w + 1] += chosen(w) ? 1 : 0;
  }
  for (size_t w = 0; w < width; ++w) begin[w + 1] += begin[w];
  next.assign(begin.begin(), begin.end() - 1);
  scratch.sorted.resize(begin[width]);
  for (const Row& row : rows) {
    const uint32_t w = row.slot(shift);
    if (chosen(w)) scratch.sorted[next[w]++] = row.unpack(shift);
  }
  for (size_t w = 0; w < width; ++w) {
    const auto first = scratch.sorted.begin() + begin[w];
    const auto last = scratch.sorted.begin() + begin[w + 1];
    // A log in time order leaves most customers' rows in order already.
    if (!std::is_sorted(first, last, detail::period_then_amount))
      std::sort(first, last, detail::period_then_amount);
  }
}

/** Customer j's summary from slot w's sorted rows (see sort_rows). */
void summarize_sorted(size_t w, size_t j, const scan_settings& settings, summary_columns& out,
                      const bucket_scratch& scratch) {
  const std::span<const keyed_row> rows(scratch.sorted.data() + scratch.begin[w],
                                        scratch.begin[w + 1] - scratch.begin[w]);
  scan_customer([&](const auto& visit) { period_totals::each(rows, visit); }, j, settings, out);
}

/**
 * Summarises one bucket of the grouping (rows in input order) customer by customer, bit for bit
 * as the sorting path does: each customer's periods are added up as its rows stream by (a
 * period's amounts kept and summed in ascending order when the next period starts), which holds
 * in a time-ordered log, where every customer's rows are in period order. The customers whose
 * rows are not (or whose sums go beyond the double range, or a bucket whose periods of several
 * rows need more than 65,535 entries of extra amounts) are summarised from their sorted rows.
 * Returns how many customers were sorted.
 */
template <class Row>
bucket_sorting stream_bucket(const detail::bucket_view& bucket, std::span<const Row> rows,
                             const scan_settings& settings, summary_columns& out,
                             bucket_scratch& scratch) {
  const unsigned shift = bucket.shift;
  const size_t width = bucket.width;
  const bool with_amount = !out.monetary_value.empty();
  const bool first_counts = settings.include_first_transaction;
  auto& state = scratch.state;
  state.assign(width, stream_state{});
  stream_state* const states = state.data();
  auto& extra = scratch.extra;
  extra.clear();
  constexpr uint16_t out_of_order = stream_state::out_of_order;
  constexpr size_t max_extra = std::numeric_limits<uint16_t>::max();
  const uint32_t counted = stream_state::counted_from(first_counts);
  const int64_t before_counted = static_cast<int64_t>(counted) - 1;
  constexpr size_t ahead = 8;  // the states are in the second-level cache (for_each_bucket)
  const size_t prefetched = rows.size() > ahead ? rows.size() - ahead : 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    if (i < prefetched) __builtin_prefetch(states + rows[i + ahead].slot(shift), 1);
    stream_state& s = states[row.slot(shift)];
    const uint32_t period = row.period(shift) + 1;
    const uint32_t pending_rows = s.rows;
    if (pending_rows == 1 && period > s.pending) {  // most rows of a time-ordered log
      s.open(period, row.amount, s.amount, before_counted);
    } else if (period == s.pending && pending_rows < out_of_order - 1) {
      const uint32_t k = pending_rows - 1;  // the row's place among the period's extra amounts
      if (k % 3 == 0) {
        if (extra.size() == max_extra) {
          s.rows = out_of_order;
          continue;
        }
        const auto entry = static_cast<uint32_t>(extra.size());
        if (k == 0) {
          s.extra = static_cast<uint16_t>(entry);
        } else {
          extra[s.entry_of(k - 1, extra)].next = entry;
        }
        extra.emplace_back();
      }
      extra[s.entry_of(k, extra)].amount[k % 3] = row.amount;
      s.rows = static_cast<uint16_t>(pending_rows + 1);
    } else if (period > s.pending && pending_rows != out_of_order) {
      s.open(period, row.amount, s.total(extra), before_counted);
      s.rows = 1;
    } else {
      s.rows = out_of_order;
    }
  }

  size_t sorted_customers = 0;
  size_t j = bucket.first_customer;
  for (size_t w = 0; w < width; ++w) {
    stream_state& s = state[w];
    if (!s.has_rows()) continue;
    out.customer[j] = bucket.key(w);
    if (s.rows != out_of_order) {
      customer_scan scan;
      scan.first = s.first() - 1;
      scan.last = s.pending - 1;
      scan.counted_periods = s.periods;
      scan.spend = s.spend;
      const double total = s.total(extra);
      if (s.periods >= counted) scan.spend += total;
      if (!with_amount || scan.sums_finite()) {
        store_customer(scan, j, settings, out, [](int64_t, double&, double&) {});
        ++j;
        continue;
      }
      s.rows = out_of_order;
    }
    ++sorted_customers;
    ++j;
  }
  const bucket_sorting sorting{j - bucket.first_customer, sorted_customers};
  if (sorted_customers == 0) return sorting;

  sort_rows(
      rows, shift, width, [&](uint32_t w) { return state[w].rows == out_of_order; }, scratch);
  j = bucket.first_customer;
  for (size_t w = 0; w < width; ++w) {
    if (!state[w].has_rows()) continue;
    if (state[w].rows == out_of_order) summarize_sorted(w, j, settings, out, scratch);
    ++j;
  }
  return sorting;
}

/** Summarises one bucket of the grouping from every customer's sorted rows; returns how many. */
template <class Row>
size_t sort_bucket(const detail::bucket_view& bucket, std::span<const Row> rows,
                   const scan_settings& settings, summary_columns& out, bucket_scratch& scratch) {
  sort_rows(
      rows, bucket.shift, bucket.width, [](uint32_t) { return true; }, scratch);
  size_t j = bucket.first_customer;
  for (size_t w = 0; w < bucket.width; ++w) {
    if (scratch.begin[w] == scratch.begin[w + 1]) continue;
    out.customer[j] = bucket.key(w);
    summarize_sorted(w, j, settings, out, scratch);
    ++j;
  }
  return j - bucket.first_customer;
}

/**
 * Closes the gaps left by customers numbered by slot (bucket_counts::by_slot): bucket b wrote
 * `written[b]` customers from `first[b]` on, and they move down in bucket order.
 */
void close_slot_gaps(summary_columns& out, std::span<const size_t> first,
                     std::span<const size_t> written) {
  size_t to = 0;
  const auto columns = std::to_array({&out.frequency, &out.recency, &out.T, &out.monetary_value});
  for (size_t b = 0; b < first.size(); ++b) {
    if (written[b] != 0 && first[b] != to) {
      std::copy_n(out.customer.begin() + first[b], written[b], out.customer.begin() + to);
      for (auto* column : columns) {
        if (!column->empty())
          std::copy_n(column->begin() + first[b], written[b], column->begin() + to);
      }
    }
    to += written[b];
  }
  out.customer.resize(to);
  for (auto* column : columns) {
    if (!column->empty()) column->resize(to);
  }
}

/**
 * The summary of a log in any order: the grouping's stable scatter into buckets of consecutive
 * customers, then each bucket summarised by stream_bucket, or by sort_bucket once a bucket
 * needed more than half of its customers sorted (a shuffled log); either way the bits are those
 * of the sorting path. With `unchecked_amounts` (every row in the window, amounts not yet
 * checked), a non-finite amount seen by the grouping's scatter is named as check_amounts names
 * it.
 */
summary_columns summarize_buckets(std::span<const int64_t> customer,
                                  std::span<const int64_t> timestamp,
                                  std::span<const double> amount, const checked_log& log,
                                  int64_t last_tick, const scan_settings& settings,
                                  std::string_view function, bool unchecked_amounts) {
  std::optional<summary_columns> result;
  // stream_state keeps periods plus one: the last of 2^32 periods could not be streamed.
  std::atomic<bool> stream{settings.calibration_end < std::numeric_limits<uint32_t>::max()};
  bool by_slot = false;
  std::vector<size_t> first, written;  // by slot: each bucket's first customer, and how many
  detail::for_each_bucket(
      customer, timestamp, amount, log, last_tick, unchecked_amounts,
      [&](const detail::bucket_counts& counts) {
        if (!counts.amounts_finite) check_amounts(function, amount);
        result.emplace(counts.customers, !amount.empty(), false);
        result->rows_used = counts.rows_used;
        result->customers_after_end = counts.customers_after_end;
        by_slot = counts.by_slot;
        if (by_slot) {
          first.assign(counts.buckets, 0);
          written.assign(counts.buckets, 0);
        }
      },
      [&](const detail::bucket_view& bucket) {
        bucket_scratch& scratch = thread_scratch();
        // Streaming needs a state per slot: not for a bucket of few rows and many slots.
        const bool streaming =
            stream.load(std::memory_order_relaxed) && bucket.size * 4 >= bucket.width;
        size_t customers = 0;
        bucket.with_rows([&](auto rows) {
          if (!streaming) {
            customers = sort_bucket(bucket, rows, settings, *result, scratch);
            return;
          }
          const bucket_sorting sorting = stream_bucket(bucket, rows, settings, *result, scratch);
          customers = sorting.customers;
          if (sorting.sorted * 2 > sorting.customers)
            stream.store(false, std::memory_order_relaxed);
        });
        if (by_slot) {
          first[bucket.index] = bucket.first_customer;
          written[bucket.index] = customers;
        }
        if (scratch.state.capacity() > (size_t{1} << 14) ||
            scratch.extra.capacity() > (size_t{1} << 14) ||
            scratch.sorted.capacity() > (size_t{1} << 16))
          scratch = {};  // not kept by the calling thread
      });
  if (by_slot) close_slot_gaps(*result, first, written);
  return std::move(*result);
}

/** Keeps the entries of `column` whose `keep` is nonzero (no-op on an empty column). */
template <class Column>
void keep_where(Column& column, const std::vector<uint32_t>& keep) {
  if (column.empty()) return;
  size_t kept = 0;
  for (size_t j = 0; j < column.size(); ++j) {
    if (keep[j] != 0) column[kept++] = column[j];
  }
  column.resize(kept);
}

/**
 * The summary of a log whose customer keys are in ascending order (a customer-sorted export, or
 * simulate_transactions' log) without sorting it: each customer's run of rows is summarised in
 * place (summarize_chunk_runs), runs split among the threads. Bit for bit the sorting path's
 * result. Empty when the keys are not in order (the caller sorts). `unchecked_amounts`: the
 * amounts are seen on the way, and a non-finite one is named as check_amounts names it.
 */
std::optional<summary_columns> summarize_runs(std::span<const int64_t> customer,
                                              std::span<const int64_t> timestamp,
                                              std::span<const double> amount,
                                              const checked_log& log, int64_t last_tick,
                                              const scan_settings& settings,
                                              std::string_view function, bool unchecked_amounts) {
  const size_t n = customer.size();
  constexpr size_t grain = size_t{1} << 16;
  const size_t chunks = chunk_count(n, grain);
  // Runs starting in each chunk; a chunk stops at the first key out of order.
  std::vector<size_t> run_begin(chunks + 1, 0);
  std::vector<uint8_t> in_order(chunks, 1);
  parallel_chunks(n, grain, [&](size_t chunk, size_t begin, size_t end) {
    size_t runs = 0;
    for (size_t i = begin; i < end; ++i) {
      if (i != 0 && customer[i] <= customer[i - 1]) {
        if (customer[i] < customer[i - 1]) {
          in_order[chunk] = 0;
          return;
        }
        continue;
      }
      ++runs;
    }
    run_begin[chunk + 1] = runs;
  });
  if (std::find(in_order.begin(), in_order.end(), 0) != in_order.end()) return std::nullopt;
  for (size_t c = 0; c < chunks; ++c) run_begin[c + 1] += run_begin[c];
  const size_t runs = run_begin.back();

  const bool with_amount = !amount.empty();
  const bool every_row_in_window = log.extent.last_tick <= last_tick;
  std::optional<summary_columns> result(std::in_place, runs, with_amount, false);
  summary_columns& out = *result;
  const detail::relative_period period_of(log.calendar, log.first_period);
  std::vector<size_t> after_end(chunks, 0);
  std::vector<uint8_t> finite(chunks, 1);
  std::vector<uint32_t> keep(every_row_in_window ? 0 : runs);  // 0: every row after the end
  try {
    parallel_chunks(n, grain, [&](size_t chunk, size_t begin, size_t end) {
      const auto pass =
          every_row_in_window
              ? (with_amount ? summarize_chunk_runs<true, true> : summarize_chunk_runs<false, true>)
              : (with_amount ? summarize_chunk_runs<true, false>
                             : summarize_chunk_runs<false, false>);
      const chunk_runs found = pass(customer, timestamp, amount, begin, end, run_begin[chunk],
                                    period_of, last_tick, settings, unchecked_amounts, out, keep);
      after_end[chunk] = found.rows_after_end;
      finite[chunk] = found.amounts_finite;
    });
  } catch (const invalid_input&) {
    // A sum beyond the double range may come from an amount not yet checked: that is named first.
    if (unchecked_amounts) check_amounts(function, amount);
    throw;
  }
  if (std::find(finite.begin(), finite.end(), 0) != finite.end()) check_amounts(function, amount);
  size_t rows_after_end = 0;
  for (const size_t rows : after_end) rows_after_end += rows;
  out.rows_used = n - rows_after_end;
  if (!every_row_in_window) {
    out.customers_after_end = runs - static_cast<size_t>(std::count(keep.begin(), keep.end(), 1U));
    if (out.customers_after_end != 0) {
      for (auto* column : {&out.frequency, &out.recency, &out.T, &out.monetary_value})
        keep_where(*column, keep);
      keep_where(out.customer, keep);
    }
  }
  return result;
}

/**
 * Summarises the rows at or before `last_tick` per customer. `unchecked_amounts`: the amounts
 * are still to be checked (only without holdout and with every row in the window; see
 * summarize).
 */
summary_columns summarize_rows(std::span<const int64_t> customer,
                               std::span<const int64_t> timestamp, std::span<const double> amount,
                               const checked_log& log, int64_t last_tick,
                               const scan_settings& settings, std::string_view function = {},
                               bool unchecked_amounts = false) {
  if (!settings.holdout) {
    if (auto runs = summarize_runs(customer, timestamp, amount, log, last_tick, settings, function,
                                   unchecked_amounts))
      return std::move(*runs);
    return summarize_buckets(customer, timestamp, amount, log, last_tick, settings, function,
                             unchecked_amounts);
  }
  const customer_groups groups(customer, timestamp, amount, log, last_tick);
  summary_columns out(groups.customers(), !amount.empty(), settings.holdout);
  out.rows_used = groups.rows_used();
  out.customers_after_end = groups.customers_after_end();
  groups.for_each_batch([&](const customer_batch& batch) {
    for (size_t k = 0; k < batch.size(); ++k) {
      const size_t j = batch.first + k;
      const auto rows = batch.rows_of(k);
      out.customer[j] = batch.keys[k];
      scan_customer([&](const auto& visit) { period_totals::each(rows, visit); }, j, settings, out);
      if (settings.holdout) {
        const auto calibration_rows = static_cast<uint32_t>(
            std::partition_point(
                rows.begin(), rows.end(),
                [&](const keyed_row& row) { return row.period() <= settings.calibration_end; }) -
            rows.begin());
        out.calibration_rows[j] = calibration_rows;
        out.holdout_rows[j] = static_cast<uint32_t>(rows.size()) - calibration_rows;
      }
    }
  });
  return out;
}

/**
 * The shared validation of both entry points; without `check_amounts`, the amounts' values are
 * left to the caller (their count is checked); `count_keys` as check_log's.
 */
checked_log prepare(std::string_view function, std::span<const int64_t> customer,
                    std::span<const int64_t> timestamp, std::span<const double> amount,
                    period_unit freq, double freq_multiplier, int64_t ticks_per_second,
                    bool check_amounts = true, bool count_keys = false) {
  if (!check_amounts && !amount.empty()) {
    check::same_size(function, "customer", customer.size(), "timestamp", timestamp.size());
    check::same_size(function, "customer", customer.size(), "amount", amount.size());
  }
  const checked_log log =
      check_log(function, customer, timestamp, check_amounts ? amount : std::span<const double>{},
                freq, ticks_per_second, count_keys);
  check::positive(function, "freq_multiplier", freq_multiplier);
  limits::within(function, "freq_multiplier", freq_multiplier, limits::min_freq_multiplier,
                 limits::max_freq_multiplier);
  return log;
}

customer_summary make_summary(summary_columns& columns, int64_t end_tick) {
  customer_summary summary;
  summary.customer = std::move(columns.customer);
  summary.frequency = std::move(columns.frequency);
  summary.recency = std::move(columns.recency);
  summary.T = std::move(columns.T);
  summary.monetary_value = std::move(columns.monetary_value);
  summary.observation_period_end = end_tick;
  return summary;
}

void check_seconds_log(std::string_view function, int64_t ticks_per_second) {
  if (ticks_per_second != 1) {
    check::fail(function, fmt::format("options.ticks_per_second = {} must be 1 for a "
                                      "transaction_log (its timestamps are seconds)",
                                      ticks_per_second));
  }
}

}  // namespace

customer_summary summarize(std::span<const int64_t> customer, std::span<const int64_t> timestamp,
                           std::span<const double> amount, const summary_options& options) {
  constexpr std::string_view function = "summarize";
  // The amounts are checked while the rows are grouped when every row is in the window (one
  // pass less over the log), else here; the check counts the rows per key bin for the grouping
  // (another pass less).
  const checked_log log = prepare(function, customer, timestamp, amount, options.freq,
                                  options.freq_multiplier, options.ticks_per_second, false, true);
  const int64_t end =
      periods_after_first(function, "observation_period_end",
                          options.observation_period_end.value_or(log.extent.last_tick), log);
  const int64_t last_tick = log.calendar.last_tick(log.first_period + end);
  const bool every_row_in_window = log.extent.last_tick <= last_tick;
  if (!every_row_in_window) check_amounts(function, amount);
  summary_columns columns =
      summarize_rows(customer, timestamp, amount, log, last_tick,
                     {end, options.freq_multiplier, options.include_first_transaction, false},
                     function, every_row_in_window);
  customer_summary summary = make_summary(columns, log.calendar.start(log.first_period + end));
  summary.rows_used = columns.rows_used;
  summary.rows_after_end = customer.size() - columns.rows_used;
  summary.customers_after_end = columns.customers_after_end;
  return summary;
}

customer_summary summarize(const transaction_log& log, const summary_options& options) {
  check_seconds_log("summarize", options.ticks_per_second);
  return summarize(log.customer, log.timestamp, log.amount, options);
}

customer_summary summarize(const customer_periods& grouped, const summary_options& options) {
  constexpr std::string_view function = "summarize";
  const checked_log& log = grouped.log();
  if (options.freq != log.calendar.unit ||
      options.ticks_per_second != log.calendar.ticks_per_second) {
    check::fail(function,
                fmt::format("options.freq = '{}' and ticks_per_second = {} must be the "
                            "grouping's ('{}', {})",
                            period_code(options.freq), options.ticks_per_second,
                            period_code(log.calendar.unit), log.calendar.ticks_per_second));
  }
  check::positive(function, "freq_multiplier", options.freq_multiplier);
  limits::within(function, "freq_multiplier", options.freq_multiplier, limits::min_freq_multiplier,
                 limits::max_freq_multiplier);
  const int64_t end = log.calendar.period(grouped.last_tick()) - log.first_period;
  if (options.observation_period_end &&
      periods_after_first(function, "observation_period_end", *options.observation_period_end,
                          log) != end) {
    check::fail(function, fmt::format("observation_period_end = {} must be in the grouping's "
                                      "last period (that of {})",
                                      log.calendar.text(*options.observation_period_end),
                                      log.calendar.text(grouped.last_tick())));
  }
  const scan_settings settings{end, options.freq_multiplier, options.include_first_transaction,
                               false};
  const size_t customers = grouped.customers();
  summary_columns columns(customers, grouped.has_amount(), false);
  std::copy(grouped.keys().begin(), grouped.keys().end(), columns.customer.begin());
  parallel_for(
      customers,
      [&](size_t begin, size_t stop) {
        for (size_t j = begin; j < stop; ++j) {
          const auto periods = grouped.periods(j);
          const auto totals = grouped.totals(j);
          scan_customer(
              [&](const auto& visit) {
                for (size_t k = 0; k < periods.size(); ++k) visit(periods[k], totals[k]);
              },
              j, settings, columns);
        }
      },
      customers_per_chunk);
  customer_summary summary = make_summary(columns, log.calendar.start(log.first_period + end));
  summary.rows_used = grouped.rows_used();
  summary.rows_after_end = grouped.rows() - grouped.rows_used();
  summary.customers_after_end = grouped.customers_after_end();
  return summary;
}

calibration_holdout_summary calibration_and_holdout(std::span<const int64_t> customer,
                                                    std::span<const int64_t> timestamp,
                                                    std::span<const double> amount,
                                                    const holdout_options& options) {
  constexpr std::string_view function = "calibration_and_holdout";
  const checked_log log = prepare(function, customer, timestamp, amount, options.freq,
                                  options.freq_multiplier, options.ticks_per_second);
  const int64_t calibration_end =
      periods_after_first(function, "calibration_period_end", options.calibration_period_end, log);
  const int64_t end_tick = options.observation_period_end.value_or(log.extent.last_tick);
  const int64_t end = periods_after_first(function, "observation_period_end", end_tick, log);
  if (end <= calibration_end) {
    check::fail(function, fmt::format("observation_period_end = {} must be in a period after "
                                      "calibration_period_end = {} (freq {})",
                                      log.calendar.text(end_tick),
                                      log.calendar.text(options.calibration_period_end),
                                      period_code(options.freq)));
  }
  summary_columns columns = summarize_rows(
      customer, timestamp, amount, log, log.calendar.last_tick(log.first_period + end),
      {calibration_end, options.freq_multiplier, options.include_first_transaction, true});

  size_t rows_calibration = 0, rows_holdout = 0, first_seen_in_holdout = 0;
  for (size_t j = 0; j < columns.customer.size(); ++j) {
    if (columns.calibration_rows[j] == 0) {
      ++first_seen_in_holdout;
    } else {
      rows_calibration += columns.calibration_rows[j];
      rows_holdout += columns.holdout_rows[j];
    }
  }
  if (first_seen_in_holdout != 0) {
    const auto& keep = columns.calibration_rows;
    keep_where(columns.customer, keep);
    for (auto* column : {&columns.frequency, &columns.recency, &columns.T, &columns.monetary_value})
      keep_where(*column, keep);
    for (auto* column : {&columns.frequency_holdout, &columns.monetary_value_holdout})
      keep_where(*column, keep);
  }

  calibration_holdout_summary result;
  result.rows_after_end = customer.size() - columns.rows_used;
  result.frequency_holdout = std::move(columns.frequency_holdout);
  result.monetary_value_holdout = std::move(columns.monetary_value_holdout);
  result.calibration =
      make_summary(columns, log.calendar.start(log.first_period + calibration_end));
  result.calibration.rows_used = rows_calibration;
  result.calibration.rows_after_end = customer.size() - rows_calibration;
  result.calibration.customers_after_end = columns.customers_after_end + first_seen_in_holdout;
  result.duration_holdout = static_cast<double>(end - calibration_end) / options.freq_multiplier;
  result.observation_period_end = log.calendar.start(log.first_period + end);
  result.rows_holdout = rows_holdout;
  return result;
}

calibration_holdout_summary calibration_and_holdout(const transaction_log& log,
                                                    const holdout_options& options) {
  check_seconds_log("calibration_and_holdout", options.ticks_per_second);
  return calibration_and_holdout(log.customer, log.timestamp, log.amount, options);
}

}  // namespace crmkit::data
