#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/radix_sort.hpp"

/**
 * Per-customer summaries as the models see them, their validation, and the compression of
 * identical rows into weighted patterns.
 *
 * Conventions (lifetimes, FHL 2005): `frequency` x is the number of repeat purchases, `recency`
 * t_x the time of the last purchase and `T` the customer's age, both measured from the first
 * purchase in the same unit (days, weeks, ...). x = 0 implies t_x = 0; x > 0 implies t_x > 0.
 */
namespace crmkit::clv {

/** One compressed row: integer-valued `x`, two model-specific columns and a weight. */
struct pattern {
  double x = 0;       ///< frequency (number of repeat purchases)
  double u = 0;       ///< recency t_x (transaction models) or mean spend (Gamma-Gamma)
  double v = 0;       ///< age T (transaction models) or ln(mean spend) (Gamma-Gamma)
  double weight = 1;  ///< number of customers (or the user's weight) with this row
};

constexpr auto description(std::type_identity<pattern>) {
  using s = pattern;
  return std::tuple{
      describe::field{"x", &s::x, "frequency (number of repeat purchases)"},
      describe::field{"u", &s::u, "recency t_x (transaction models) or mean spend (Gamma-Gamma)"},
      describe::field{"v", &s::v, "age T (transaction models) or ln(mean spend) (Gamma-Gamma)"},
      describe::field{"weight", &s::weight, "number of customers (or the user's weight) with this row"}};
}

namespace detail {

inline void check_frequency(std::string_view function, std::span<const double> frequency) {
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    const double x = frequency[i];
    if (!(std::isfinite(x) && x >= 0)) {
      check::fail_at(function, "frequency", i, x, "must be finite and >= 0");
    }
    if (x != std::floor(x)) check::fail_at(function, "frequency", i, x, "must be an integer");
  }
}

inline void check_weights(std::string_view function, std::span<const double> weights,
                          std::size_t size) {
  if (weights.empty()) return;
  check::same_size(function, "weights", weights.size(), "frequency", size);
  check::all_nonnegative(function, "weights", weights);
  if (std::accumulate(weights.begin(), weights.end(), 0.0) <= 0) {
    check::fail(function, "weights sum to 0; at least one must be positive");
  }
}

}  // namespace detail

namespace detail {

/** Whether a finite x >= 0 is an integer: every double from 2^52 on is one, and below, x + 2^52
 * is x rounded to an integer (the doubles in [2^52, 2^53) are the integers), whatever the rounding
 * mode, and subtracting 2^52 again is exact. Branch-free, so a loop over rows vectorises (floor is
 * a library call without SSE4.1). */
inline bool is_whole(double x) noexcept {
  constexpr double integer_spacing_one = 0x1p52;
  return (x >= integer_spacing_one) | ((x + integer_spacing_one) - integer_spacing_one == x);
}

/** What one pass over (frequency, recency, T) found. */
struct summary_scan {
  bool ranges_valid = true;      ///< every row passes check_summary_ranges' tests
  std::size_t unobservable = 0;  ///< rows with frequency 0 and recency > 0, or repeats and recency 0
};

/**
 * check_summary_ranges' tests of every row and the count of rows no customer can have, in one
 * branch-free pass.
 */
inline summary_scan scan_summaries(std::span<const double> frequency,
                                   std::span<const double> recency, std::span<const double> age) {
  // What GCC vectorises: |v| <= largest for std::isfinite, and counts kept in doubles (exact
  // below 2^53 rows; integer counts of double comparisons stay scalar).
  constexpr double largest = std::numeric_limits<double>::max();
  double invalid = 0;
  double unobservable = 0;
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    const double x = frequency[i];
    const double t_x = recency[i];
    const double t = age[i];
    const bool valid = (std::fabs(x) <= largest) & (x >= 0) & is_whole(x) &
                       (std::fabs(t) <= largest) & (t_x >= 0) & (t_x <= t);
    invalid += valid ? 0.0 : 1.0;
    unobservable += (x > 0) != (t_x > 0) ? 1.0 : 0.0;
  }
  return {invalid == 0, static_cast<std::size_t>(unobservable)};
}

/** Checks that frequency, recency and T have one non-zero length. */
inline void check_summary_sizes(std::string_view function, std::span<const double> frequency,
                                std::span<const double> recency, std::span<const double> age) {
  check::not_empty(function, "frequency", frequency.size());
  check::same_size(function, "frequency", frequency.size(), "recency", recency.size());
  check::same_size(function, "frequency", frequency.size(), "T", age.size());
}

/**
 * Checks sizes and ranges (everything check_summaries checks except that recency = 0 exactly
 * when frequency = 0) and returns the number of rows where that does not hold.
 */
inline std::size_t check_summary_ranges(std::string_view function,
                                        std::span<const double> frequency,
                                        std::span<const double> recency,
                                        std::span<const double> age) {
  check_summary_sizes(function, frequency, recency, age);
  const summary_scan scan = scan_summaries(frequency, recency, age);
  if (scan.ranges_valid) return scan.unobservable;
  check_frequency(function, frequency);
  check::all_nonnegative(function, "recency", recency);
  check::all_nonnegative(function, "T", age);
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    if (recency[i] > age[i]) {
      check::fail(function, fmt::format("recency[{}] = {} is greater than T[{}] = {}", i,
                                        recency[i], i, age[i]));
    }
  }
  return scan.unobservable;
}

}  // namespace detail

/**
 * Checks (frequency, recency, T) summaries: equal non-zero lengths; frequency a finite
 * non-negative integer; recency and T finite and >= 0; recency <= T; recency = 0 exactly when
 * frequency = 0. Throws crmkit::invalid_input naming the argument, the index and the value.
 */
inline void check_summaries(std::string_view function, std::span<const double> frequency,
                            std::span<const double> recency, std::span<const double> age) {
  if (detail::check_summary_ranges(function, frequency, recency, age) == 0) return;
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    if (frequency[i] > 0 && recency[i] == 0) {
      check::fail(function, fmt::format("frequency[{}] = {} but recency[{}] = 0: a customer with "
                                        "repeat purchases has a positive recency",
                                        i, frequency[i], i));
    }
    if (frequency[i] == 0 && recency[i] != 0) {
      check::fail(function, fmt::format("frequency[{}] = 0 but recency[{}] = {}: without repeat "
                                        "purchases the recency is 0",
                                        i, i, recency[i]));
    }
  }
}

/** Histories a prediction accepts although no customer can have them (see check_histories). */
struct history_check {
  std::size_t unobservable = 0;        ///< rows with frequency 0 and recency > 0, or repeats and recency 0
  std::size_t first_unobservable = 0;  ///< index of the first such row (0 when there is none)
};

namespace detail {

/** The history_check of histories with `unobservable` such rows: the first found by a scan. */
inline history_check histories_found(std::span<const double> frequency,
                                     std::span<const double> recency, std::size_t unobservable) {
  history_check found;
  found.unobservable = unobservable;
  if (unobservable == 0) return found;
  while ((frequency[found.first_unobservable] > 0) == (recency[found.first_unobservable] > 0)) {
    ++found.first_unobservable;
  }
  return found;
}

}  // namespace detail

/**
 * Checks histories for a prediction: as check_summaries, except that a history no customer can
 * have but the formulas evaluate (frequency 0 with recency > 0, repeat purchases with recency
 * 0, as on lifetimes' frequency × recency grids) is accepted: predictions give the formula's
 * value there, as lifetimes does. Returns how many such rows there are and the first of them
 * (counted in the validity pass itself, so that a caller can warn without a second pass).
 */
inline history_check check_histories(std::string_view function, std::span<const double> frequency,
                                     std::span<const double> recency,
                                     std::span<const double> age) {
  return detail::histories_found(frequency, recency,
                                 detail::check_summary_ranges(function, frequency, recency, age));
}

/**
 * check_histories with `compute(begin, end)` run on chunks of the rows in the same parallel pass
 * as the validity scan, so that the data are read once. `compute` must accept any row, valid or
 * not (its results are the caller's to drop): when a row is invalid this throws as
 * check_histories does, after the pass.
 */
template <class Compute>
history_check check_histories_while(std::string_view function, std::span<const double> frequency,
                                    std::span<const double> recency, std::span<const double> age,
                                    Compute&& compute) {
  detail::check_summary_sizes(function, frequency, recency, age);
  const std::size_t n = frequency.size();
  std::vector<detail::summary_scan> scans(chunk_count(n));
  parallel_chunks(n, default_grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    const std::size_t size = end - begin;
    scans[chunk] = detail::scan_summaries(frequency.subspan(begin, size),
                                          recency.subspan(begin, size), age.subspan(begin, size));
    compute(begin, end);
  });
  std::size_t unobservable = 0;
  for (const auto& scan : scans) {
    if (!scan.ranges_valid) return check_histories(function, frequency, recency, age);
    unobservable += scan.unobservable;
  }
  return detail::histories_found(frequency, recency, unobservable);
}

namespace detail {

/** Stores check_histories' findings where the caller asked for them. */
inline void report_histories(const history_check& found, history_check* destination) {
  if (destination != nullptr) *destination = found;
}

}  // namespace detail

/**
 * Sorts rows (x_i, u_i, v_i, w_i) by (x, u, v) and merges identical ones, summing their weights
 * (an empty `weights` means all 1; zero-weight rows are dropped). The sort is a stable LSD radix
 * sort on v (skipped when v is u), then u, then x, O(n); the order is total, so the result does not
 * depend on the thread count and, up to the order in which tied weights are added, not on the input
 * order.
 */
inline std::vector<pattern> compress(std::span<const double> x, std::span<const double> u,
                                     std::span<const double> v,
                                     std::span<const double> weights = {}) {
  const std::size_t n = x.size();
  auto weight = [&](std::size_t i) { return weights.empty() ? 1.0 : weights[i]; };
  radix_sorter sorter(n);
  if (n > 1) {
    if (v.data() != u.data()) sorter.sort_by([&](std::size_t i) { return radix_key(v[i]); });
    sorter.sort_by([&](std::size_t i) { return radix_key(u[i]); });
    sorter.sort_by([&](std::size_t i) { return radix_key(x[i]); });
  }
  const auto& order = sorter.order();
  auto same = [&](std::size_t i, std::size_t j) {
    return x[i] == x[j] && u[i] == u[j] && v[i] == v[j];
  };
  std::size_t unique = 0;
  for (std::size_t k = 0; k < n; ++k) unique += k == 0 || !same(order[k], order[k - 1]);
  std::vector<pattern> merged;
  merged.reserve(unique);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    if (weight(i) == 0) continue;
    if (!merged.empty() && merged.back().x == x[i] && merged.back().u == u[i] &&
        merged.back().v == v[i]) {
      merged.back().weight += weight(i);
    } else {
      merged.push_back({x[i], u[i], v[i], weight(i)});
    }
  }
  return merged;
}

/**
 * Merges pattern histograms: the rows (x_i, u_i, v_i, w_i) of several histograms laid end to end
 * become one, sorted by (x, u, v) with the weights of identical rows summed (compress). Merging
 * is associative and, for integer weights (customer counts) below 2^53, exact: the merged
 * histogram of per-partition histograms equals the histogram of all the rows at once, which is
 * what a distributed fit tree-reduces. Checks equal lengths and finite weights >= 0 (an empty
 * `weights` means all 1); throws crmkit::invalid_input naming the argument, index and value.
 */
inline std::vector<pattern> merge_patterns(std::span<const double> x, std::span<const double> u,
                                           std::span<const double> v,
                                           std::span<const double> weights = {}) {
  constexpr std::string_view function = "merge_patterns";
  check::same_size(function, "x", x.size(), "u", u.size());
  check::same_size(function, "x", x.size(), "v", v.size());
  check::all_finite(function, "x", x);
  check::all_finite(function, "u", u);
  check::all_finite(function, "v", v);
  if (!weights.empty()) {
    check::same_size(function, "weights", weights.size(), "x", x.size());
    check::all_nonnegative(function, "weights", weights);
  }
  return compress(x, u, v, weights);
}

/**
 * Rows (x_i, u_i, v_i, w_i) ordered by x alone (a stable counting sort) and not merged; zero
 * weights are dropped. For data in which (almost) every row is distinct, e.g. continuous times,
 * this is what compress() would return up to the order within each x, at one scatter pass
 * instead of a radix sort per column, into memory on transparent huge pages (first touches of
 * fresh 4 KiB pages dominate otherwise). Requires integer x in [0, 4n + 65536]. Compiled in
 * src/lib/clv/observations.cpp.
 */
std::vector<pattern> group_by_frequency(std::span<const double> x, std::span<const double> u,
                                        std::span<const double> v,
                                        std::span<const double> weights = {});

/** Customers grouped by identical (frequency, T). */
struct frequency_age_groups {
  std::vector<double> frequency;           ///< each group's frequency x
  std::vector<double> age;                 ///< each group's age T
  std::vector<std::uint32_t> of_customer;  ///< each customer's group
  [[nodiscard]] std::size_t size() const noexcept { return frequency.size(); }
};

/**
 * The distinct (frequency, T) pairs, numbered in order of first occurrence (a hash table on the
 * values' bits, −0 taken as +0), and each customer's pair. Quantities that depend on a customer
 * only through (x, T), such as the transaction models' expected purchases while alive, are then
 * evaluated once per pair: logs with dates have few distinct ages and frequencies (10^6
 * customers over two years in weeks: ~3·10^4 pairs). Compiled in src/lib/clv/observations.cpp.
 */
frequency_age_groups group_by_frequency_and_age(std::span<const double> frequency,
                                                std::span<const double> age);

/** Customers grouped by identical history (frequency, recency, T). */
struct history_groups {
  std::vector<double> frequency;           ///< each group's frequency x
  std::vector<double> recency;             ///< each group's recency t_x
  std::vector<double> age;                 ///< each group's age T
  std::vector<std::uint32_t> of_customer;  ///< each customer's group
  [[nodiscard]] std::size_t size() const noexcept { return frequency.size(); }
};

/**
 * The distinct (frequency, recency, T) histories, numbered in order of first occurrence (as
 * group_by_frequency_and_age, on three columns), and each customer's history: anything that
 * depends on a customer only through the history (P(alive), expected purchases, their
 * derivatives in the parameters) is then evaluated once per history (10^6 customers dated in
 * days over 39 weeks: ~1.2·10^5 histories). Compiled in src/lib/clv/observations.cpp.
 */
history_groups group_by_history(std::span<const double> frequency, std::span<const double> recency,
                                std::span<const double> age);

namespace detail {

/** Rows of a systematic sample used to judge whether merging identical rows pays. */
inline constexpr std::size_t merge_probe_rows = 4096;

/**
 * Whether compress() can be expected to merge a useful share of the rows. Rows can only merge
 * when their v (the customer's age) is equal, so v is probed on a systematic sample of s rows:
 * P equal pairs among s draws from D equally common values means D ≈ s²/(2P), and so about
 * n/D of the n rows share a v. Merging is skipped when that share is below 10% (continuous
 * times give P = 0), for x small enough to count-sort. The choice changes only the speed.
 */
inline bool merging_pays(std::span<const double> x, std::span<const double> v) {
  const std::size_t n = v.size();
  if (n <= 4 * merge_probe_rows) return true;
  const double largest = *std::max_element(x.begin(), x.end());
  if (largest > static_cast<double>(4 * n + 65536)) return true;
  std::vector<double> probe;
  probe.reserve(merge_probe_rows);
  const std::size_t step = n / merge_probe_rows;
  for (std::size_t i = 0; i < merge_probe_rows; ++i) probe.push_back(v[i * step]);
  std::sort(probe.begin(), probe.end());
  double pairs = 0;
  for (std::size_t i = 1; i < probe.size(); ++i) pairs += probe[i] == probe[i - 1];
  const double s = static_cast<double>(merge_probe_rows);
  return static_cast<double>(n) * 2 * pairs / (s * s) >= 0.1;
}

}  // namespace detail

/**
 * Rows (x, t_x, T, weight) from checked summaries, sorted by x; `weights` may be empty (all 1).
 * Identical rows are merged (compress) unless detail::merging_pays judges that almost every row
 * is distinct, in which case they are only grouped by x (group_by_frequency).
 */
inline std::vector<pattern> transaction_patterns(std::string_view function,
                                                 std::span<const double> frequency,
                                                 std::span<const double> recency,
                                                 std::span<const double> age,
                                                 std::span<const double> weights = {}) {
  check_summaries(function, frequency, recency, age);
  detail::check_weights(function, weights, frequency.size());
  return detail::merging_pays(frequency, age)
             ? compress(frequency, recency, age, weights)
             : group_by_frequency(frequency, recency, age, weights);
}

}  // namespace crmkit::clv
