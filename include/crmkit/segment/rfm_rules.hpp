#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"

/**
 * Named RFM segments as data: an ordered list of rules over R, F and M scores, a match policy,
 * and a checker that reports the cells no rule covers, the cells several rules cover, and the
 * rules that can never win.
 *
 * There is no standard map: published ones disagree on boxes, on whether M counts, and on
 * first- versus last-match (R's rfm package lets later rules overwrite earlier ones, which is
 * how 555 became "Loyal" there). Four common maps are built in, each citing its source.
 */
namespace crmkit::segment {

/** Inclusive ranges of scores, one per dimension: a box of cells. */
struct rfm_box {
  std::int32_t recency_low = 1, recency_high = 1;
  std::int32_t frequency_low = 1, frequency_high = 1;
  std::int32_t monetary_low = 1, monetary_high = 1;

  /** True when the cell (r, f, m) lies in the box. */
  [[nodiscard]] bool contains(std::int32_t r, std::int32_t f, std::int32_t m) const noexcept {
    return recency_low <= r && r <= recency_high && frequency_low <= f && f <= frequency_high &&
           monetary_low <= m && m <= monetary_high;
  }
};

/** A named segment: the union of its boxes. */
struct rfm_rule {
  std::string name;
  std::vector<rfm_box> boxes;
  std::string english_name;  ///< a translation, for maps named in another language

  [[nodiscard]] bool matches(std::int32_t r, std::int32_t f, std::int32_t m) const noexcept;
};

/** Which rule a customer matching several gets. */
enum class match_policy {
  first,  ///< the earliest matching rule (if/elif chains, most published maps)
  last,   ///< the latest matching rule (later rules overwrite: R's rfm::rfm_segment)
};

constexpr auto description(std::type_identity<match_policy>) {
  return describe::enum_table<match_policy, 2>{
      "match", {{{match_policy::first, "first"}, {match_policy::last, "last"}}}};
}

/** Parses "first" or "last" (describe::parse). */
inline match_policy parse_match_policy(std::string_view name) {
  return describe::parse<match_policy>(name);
}

/** An ordered rule set on a 1..bins score scale. */
struct rfm_rule_set {
  std::string name;
  std::size_t bins = 5;  ///< the score scale the rules are written for
  std::vector<rfm_rule> rules;
  match_policy policy = match_policy::first;
  std::string unmatched = "Other";  ///< segment of customers no rule matches
};

/** A cell (r, f, m) of the score cube. */
using rfm_cell = std::array<std::int32_t, 3>;

/** Rules sharing cells. */
struct rfm_overlap {
  std::size_t first_rule = 0;
  std::size_t second_rule = 0;
  std::vector<rfm_cell> cells;
};

constexpr auto description(std::type_identity<rfm_overlap>) {
  using s = rfm_overlap;
  return std::tuple{describe::field{"first_rule", &s::first_rule, "index of the earlier rule"},
                    describe::field{"second_rule", &s::second_rule, "index of the later rule"},
                    describe::field{"cells", &s::cells, "the (r, f, m) cells both rules cover"}};
}

/** What check_rule_set found. */
struct rfm_rule_report {
  std::vector<rfm_cell> uncovered;       ///< cells no rule matches (they get `unmatched`)
  std::vector<rfm_overlap> overlaps;     ///< every pair of rules with shared cells
  std::vector<std::size_t> unreachable;  ///< rules that win no cell under the policy
  std::vector<std::size_t> cells_won;    ///< per rule, cells it wins
  std::size_t cells = 0;                 ///< bins^3

  /** No gaps, no overlaps, nothing unreachable. */
  [[nodiscard]] bool clean() const noexcept {
    return uncovered.empty() && overlaps.empty() && unreachable.empty();
  }
};

constexpr auto description(std::type_identity<rfm_rule_report>) {
  using s = rfm_rule_report;
  return std::tuple{
      describe::field{"uncovered", &s::uncovered, "(r, f, m) cells no rule matches"},
      describe::field{"overlaps", &s::overlaps, "every pair of rules with shared cells"},
      describe::field{"unreachable", &s::unreachable, "rules that win no cell under the policy"},
      describe::field{"cells_won", &s::cells_won, "per rule, the cells it wins"},
      describe::field{"cells", &s::cells, "cells of the score cube, bins^3"}};
}

/**
 * Checks a rule set over all bins^3 cells.
 * @throw invalid_input for bins outside 1..100, a rule without name or boxes, or a box whose
 *        range is empty or leaves 1..bins (naming the rule, box and dimension).
 */
rfm_rule_report check_rule_set(const rfm_rule_set& rules);

/**
 * Segment of every customer: the index of the winning rule, or -1 (unmatched).
 * @throw invalid_input for mismatched sizes or a score outside 1..bins (naming the row), and
 *        for an invalid rule set (as check_rule_set).
 */
std::vector<std::int32_t> assign_segments(const rfm_rule_set& rules,
                                          std::span<const std::int32_t> recency,
                                          std::span<const std::int32_t> frequency,
                                          std::span<const std::int32_t> monetary);

/** One row of segment_summary (means over the segment's customers). */
struct segment_summary_row {
  std::int32_t segment = -1;  ///< rule index, -1 for the unmatched
  std::size_t count = 0;
  double share = 0;  ///< count / customers
  double mean_recency = 0;
  double mean_frequency = 0;
  double mean_monetary = 0;
  double revenue = 0;        ///< sum of revenue over the segment
  double revenue_share = 0;  ///< revenue / total revenue (NaN when the total is 0)
};

constexpr auto description(std::type_identity<segment_summary_row>) {
  using s = segment_summary_row;
  return std::tuple{describe::field{"segment", &s::segment, "rule index, -1 for the unmatched"},
                    describe::field{"count", &s::count, "customers in the segment"},
                    describe::field{"share", &s::share, "count / customers"},
                    describe::field{"mean_recency", &s::mean_recency, "mean recency"},
                    describe::field{"mean_frequency", &s::mean_frequency, "mean frequency"},
                    describe::field{"mean_monetary", &s::mean_monetary, "mean monetary value"},
                    describe::field{"revenue", &s::revenue, "sum of revenue over the segment"},
                    describe::field{"revenue_share", &s::revenue_share,
                                    "revenue / total revenue (NaN when the total is 0)"}};
}

/**
 * Per segment present (in rule order, the unmatched last): customers, their share, mean raw
 * recency, frequency and monetary value, revenue and its share. `revenue` is per customer
 * (e.g. frequency x mean spend).
 */
std::vector<segment_summary_row> segment_summary(std::span<const std::int32_t> segments,
                                                 std::span<const double> recency,
                                                 std::span<const double> frequency,
                                                 std::span<const double> monetary,
                                                 std::span<const double> revenue);

/**
 * The 10-segment R x F map of the Kaggle/Miuul lineage (copied in dozens of public notebooks):
 * keys are R digit then F digit, M is ignored; every one of the 25 R x F cells is covered
 * exactly once. hibernating [1-2][1-2], at_risk [1-2][3-4], cant_loose [1-2]5,
 * about_to_sleep 3[1-2], need_attention 33, loyal [3-4][4-5], promising 41, new 51,
 * potential_loyalists [4-5][2-3], champions 5[4-5]. Quintiles.
 */
rfm_rule_set rf_grid_segments();

/**
 * The 11-segment R/F/M map of R's rfm package lineage (rfm::rfm_segment with lower/upper
 * bounds per dimension), in its order: Champions 4-5/4-5/4-5, Loyal Customers 2-4/3-4/4-5,
 * Potential Loyalist 3-5/1-3/1-3, New Customers 4-5/1/1, Promising 3-4/1/1, Need Attention
 * 3-4/3-4/3-4, About To Sleep 2-3/1-2/1-2, At Risk 1-2/2-5/2-5, Can't Lose Them 1/4-5/4-5,
 * Hibernating 2-3/2-3/2-3, Lost 1/1/1. Quintiles; first match (pass match_policy::last to
 * reproduce the package, where later rules overwrite). It leaves 46 of the 125 cells to
 * "Other", and under first match New Customers and Promising (inside Potential Loyalist),
 * Can't Lose Them (inside At Risk) and Hibernating never win: check_rule_set lists them.
 */
rfm_rule_set rfm_package_segments(match_policy policy = match_policy::first);

/**
 * PyMC-Marketing's default segment_config (pymc_marketing/clv/utils.py, rfm_segments), on
 * quartiles (bins = 4), listed cell by cell: Premium Customer, Repeat Customer, Top Spender,
 * At Risk Customer, Inactive Customer; the other cells are "Other".
 */
rfm_rule_set pymc_marketing_segments();

/**
 * The Chinese 8-class value map (重要/一般 x 价值/发展/保持/挽留): each of R, F and M is high
 * when its score is at least `high_from`, and (R, F, M) high/low gives
 * 111 重要价值客户 (important value), 101 重要发展客户 (important development),
 * 011 重要保持客户 (important retention), 001 重要挽留客户 (important win-back),
 * 110 一般价值客户 (general value), 100 一般发展客户 (general development),
 * 010 一般保持客户 (general retention), 000 一般挽留客户 (general win-back).
 * R high means recent. Covers every cell exactly once.
 *
 * @param high_from 0 means (bins + 3) / 2, i.e. 4 for quintiles: the top two scores.
 */
rfm_rule_set chinese_value_segments(std::size_t bins = 5, std::size_t high_from = 0);

}  // namespace crmkit::segment
