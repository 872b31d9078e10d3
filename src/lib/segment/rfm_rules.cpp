#include "crmkit/segment/rfm_rules.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"

namespace crmkit::segment {

bool rfm_rule::matches(std::int32_t r, std::int32_t f, std::int32_t m) const noexcept {
  return std::any_of(boxes.begin(), boxes.end(),
                     [&](const rfm_box& box) { return box.contains(r, f, m); });
}

namespace {

constexpr std::size_t largest_scale = 100;

void check_range(const rfm_rule_set& rules, std::size_t rule, std::size_t box,
                 std::string_view dimension, std::int32_t low, std::int32_t high) {
  const auto top = static_cast<std::int32_t>(rules.bins);
  if (low < 1 || high > top || low > high) {
    check::fail("rfm_rule_set",
                fmt::format("rule {} ('{}') box {}: {} range {}..{} must lie within 1..{} and "
                            "not be empty",
                            rule, rules.rules[rule].name, box, dimension, low, high, top));
  }
}

void validate(const rfm_rule_set& rules) {
  if (rules.bins < 1 || rules.bins > largest_scale) {
    check::fail("rfm_rule_set",
                fmt::format("bins = {} must be between 1 and {}", rules.bins, largest_scale));
  }
  for (std::size_t r = 0; r < rules.rules.size(); ++r) {
    const auto& rule = rules.rules[r];
    if (rule.name.empty()) check::fail("rfm_rule_set", fmt::format("rule {} has no name", r));
    if (rule.boxes.empty()) {
      check::fail("rfm_rule_set", fmt::format("rule {} ('{}') has no boxes", r, rule.name));
    }
    for (std::size_t b = 0; b < rule.boxes.size(); ++b) {
      const auto& box = rule.boxes[b];
      check_range(rules, r, b, "recency", box.recency_low, box.recency_high);
      check_range(rules, r, b, "frequency", box.frequency_low, box.frequency_high);
      check_range(rules, r, b, "monetary", box.monetary_low, box.monetary_high);
    }
  }
}

/** Calls visit(cell, matching rule indices) for every cell, in (r, f, m) order. */
template <class Visit>
void for_each_cell(const rfm_rule_set& rules, Visit&& visit) {
  const auto top = static_cast<std::int32_t>(rules.bins);
  std::vector<std::size_t> matching;
  for (std::int32_t r = 1; r <= top; ++r) {
    for (std::int32_t f = 1; f <= top; ++f) {
      for (std::int32_t m = 1; m <= top; ++m) {
        matching.clear();
        for (std::size_t i = 0; i < rules.rules.size(); ++i) {
          if (rules.rules[i].matches(r, f, m)) matching.push_back(i);
        }
        visit(rfm_cell{r, f, m}, matching);
      }
    }
  }
}

std::int32_t winner(const rfm_rule_set& rules, const std::vector<std::size_t>& matching) {
  if (matching.empty()) return -1;
  return static_cast<std::int32_t>(rules.policy == match_policy::first ? matching.front()
                                                                       : matching.back());
}

/** The winning rule of every cell, indexed ((r - 1) * bins + f - 1) * bins + m - 1. */
std::vector<std::int32_t> cell_table(const rfm_rule_set& rules) {
  std::vector<std::int32_t> table;
  table.reserve(rules.bins * rules.bins * rules.bins);
  for_each_cell(rules, [&](const rfm_cell&, const std::vector<std::size_t>& matching) {
    table.push_back(winner(rules, matching));
  });
  return table;
}

}  // namespace

rfm_rule_report check_rule_set(const rfm_rule_set& rules) {
  validate(rules);
  rfm_rule_report report;
  report.cells_won.assign(rules.rules.size(), 0);
  std::map<std::pair<std::size_t, std::size_t>, std::vector<rfm_cell>> shared;
  for_each_cell(rules, [&](const rfm_cell& cell, const std::vector<std::size_t>& matching) {
    ++report.cells;
    const std::int32_t won = winner(rules, matching);
    if (won < 0) {
      report.uncovered.push_back(cell);
      return;
    }
    ++report.cells_won[static_cast<std::size_t>(won)];
    for (std::size_t a = 0; a < matching.size(); ++a) {
      for (std::size_t b = a + 1; b < matching.size(); ++b) {
        shared[{matching[a], matching[b]}].push_back(cell);
      }
    }
  });
  for (auto& [pair, cells] : shared) {
    report.overlaps.push_back({pair.first, pair.second, std::move(cells)});
  }
  for (std::size_t r = 0; r < rules.rules.size(); ++r) {
    if (report.cells_won[r] == 0) report.unreachable.push_back(r);
  }
  return report;
}

std::vector<std::int32_t> assign_segments(const rfm_rule_set& rules,
                                          std::span<const std::int32_t> recency,
                                          std::span<const std::int32_t> frequency,
                                          std::span<const std::int32_t> monetary) {
  constexpr std::string_view function = "assign_segments";
  validate(rules);
  check::same_size(function, "recency", recency.size(), "frequency", frequency.size());
  check::same_size(function, "recency", recency.size(), "monetary", monetary.size());
  const auto top = static_cast<std::int32_t>(rules.bins);
  auto check_scores = [&](std::string_view name, std::span<const std::int32_t> scores) {
    for (std::size_t i = 0; i < scores.size(); ++i) {
      if (scores[i] < 1 || scores[i] > top) {
        check::fail_at(function, name, i, scores[i],
                       fmt::format("is outside the rule set's scale 1..{}", top));
      }
    }
  };
  check_scores("recency", recency);
  check_scores("frequency", frequency);
  check_scores("monetary", monetary);
  const auto table = cell_table(rules);
  const auto bins = static_cast<std::size_t>(top);
  std::vector<std::int32_t> segments(recency.size());
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto r = static_cast<std::size_t>(recency[i] - 1);
    const auto f = static_cast<std::size_t>(frequency[i] - 1);
    const auto m = static_cast<std::size_t>(monetary[i] - 1);
    segments[i] = table[(r * bins + f) * bins + m];
  }
  return segments;
}

std::vector<segment_summary_row> segment_summary(std::span<const std::int32_t> segments,
                                                 std::span<const double> recency,
                                                 std::span<const double> frequency,
                                                 std::span<const double> monetary,
                                                 std::span<const double> revenue) {
  constexpr std::string_view function = "segment_summary";
  const std::size_t n = segments.size();
  check::not_empty(function, "segments", n);
  check::same_size(function, "segments", n, "recency", recency.size());
  check::same_size(function, "segments", n, "frequency", frequency.size());
  check::same_size(function, "segments", n, "monetary", monetary.size());
  check::same_size(function, "segments", n, "revenue", revenue.size());
  check::all_finite(function, "revenue", revenue);
  for (std::size_t i = 0; i < n; ++i) {
    if (segments[i] < -1) check::fail_at(function, "segments", i, segments[i], "must be >= -1");
  }
  // Rule order, the unmatched (-1) last.
  std::map<std::int32_t, segment_summary_row> rows;
  double total_revenue = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t key =
        segments[i] < 0 ? std::numeric_limits<std::int32_t>::max() : segments[i];
    auto& row = rows[key];
    row.segment = segments[i];
    ++row.count;
    row.mean_recency += recency[i];
    row.mean_frequency += frequency[i];
    row.mean_monetary += monetary[i];
    row.revenue += revenue[i];
    total_revenue += revenue[i];
  }
  std::vector<segment_summary_row> summary;
  for (auto& [key, row] : rows) {
    const auto count = static_cast<double>(row.count);
    row.share = count / static_cast<double>(n);
    row.mean_recency /= count;
    row.mean_frequency /= count;
    row.mean_monetary /= count;
    row.revenue_share = total_revenue != 0 ? row.revenue / total_revenue : std::nan("");
    summary.push_back(row);
  }
  return summary;
}

namespace {

rfm_box box(std::int32_t r_low, std::int32_t r_high, std::int32_t f_low, std::int32_t f_high,
            std::int32_t m_low, std::int32_t m_high) {
  return {r_low, r_high, f_low, f_high, m_low, m_high};
}

}  // namespace

rfm_rule_set rf_grid_segments() {
  auto rf = [](std::string name, std::int32_t r_low, std::int32_t r_high, std::int32_t f_low,
               std::int32_t f_high) {
    return rfm_rule{std::move(name), {box(r_low, r_high, f_low, f_high, 1, 5)}, {}};
  };
  return {"rf_grid",
          5,
          {rf("hibernating", 1, 2, 1, 2), rf("at_risk", 1, 2, 3, 4), rf("cant_loose", 1, 2, 5, 5),
           rf("about_to_sleep", 3, 3, 1, 2), rf("need_attention", 3, 3, 3, 3),
           rf("loyal", 3, 4, 4, 5), rf("promising", 4, 4, 1, 1), rf("new", 5, 5, 1, 1),
           rf("potential_loyalists", 4, 5, 2, 3), rf("champions", 5, 5, 4, 5)},
          match_policy::first,
          "Other"};
}

rfm_rule_set rfm_package_segments(match_policy policy) {
  auto rule = [](std::string name, rfm_box b) { return rfm_rule{std::move(name), {b}, {}}; };
  return {
      "rfm_package",
      5,
      {rule("Champions", box(4, 5, 4, 5, 4, 5)), rule("Loyal Customers", box(2, 4, 3, 4, 4, 5)),
       rule("Potential Loyalist", box(3, 5, 1, 3, 1, 3)),
       rule("New Customers", box(4, 5, 1, 1, 1, 1)), rule("Promising", box(3, 4, 1, 1, 1, 1)),
       rule("Need Attention", box(3, 4, 3, 4, 3, 4)), rule("About To Sleep", box(2, 3, 1, 2, 1, 2)),
       rule("At Risk", box(1, 2, 2, 5, 2, 5)), rule("Can't Lose Them", box(1, 1, 4, 5, 4, 5)),
       rule("Hibernating", box(2, 3, 2, 3, 2, 3)), rule("Lost", box(1, 1, 1, 1, 1, 1))},
      policy,
      "Other"};
}

rfm_rule_set pymc_marketing_segments() {
  auto cells = [](std::string name, std::initializer_list<int> codes) {
    rfm_rule rule{std::move(name), {}, {}};
    for (int code : codes) {
      const std::int32_t r = code / 100, f = code / 10 % 10, m = code % 10;
      rule.boxes.push_back(box(r, r, f, f, m, m));
    }
    return rule;
  };
  return {"pymc_marketing",
          4,
          {cells("Premium Customer", {334, 443, 444, 344, 434, 433, 343, 333}),
           cells("Repeat Customer", {244, 234, 232, 332, 143, 233, 243}),
           cells("Top Spender", {424, 414, 144, 314, 324, 124, 224, 423, 413, 133, 323, 313, 134}),
           cells("At Risk Customer", {422, 223, 212, 122, 222, 132, 322, 312, 412, 123, 214}),
           cells("Inactive Customer", {411, 111, 113, 114, 112, 211, 311})},
          match_policy::first,
          "Other"};
}

rfm_rule_set chinese_value_segments(std::size_t bins, std::size_t high_from) {
  if (bins < 2 || bins > largest_scale) {
    check::fail("chinese_value_segments",
                fmt::format("bins = {} must be between 2 and {}", bins, largest_scale));
  }
  if (high_from == 0) high_from = (bins + 3) / 2;
  if (high_from < 2 || high_from > bins) {
    check::fail("chinese_value_segments",
                fmt::format("high_from = {} must be between 2 and bins = {}", high_from, bins));
  }
  const auto top = static_cast<std::int32_t>(bins);
  const auto high = static_cast<std::int32_t>(high_from);
  auto range = [&](bool is_high) {
    return is_high ? std::pair{high, top} : std::pair{std::int32_t{1}, high - 1};
  };
  struct named {
    const char* chinese;
    const char* english;
    bool r, f, m;
  };
  const named classes[] = {
      {"重要价值客户", "Important value", true, true, true},
      {"重要发展客户", "Important development", true, false, true},
      {"重要保持客户", "Important retention", false, true, true},
      {"重要挽留客户", "Important win-back", false, false, true},
      {"一般价值客户", "General value", true, true, false},
      {"一般发展客户", "General development", true, false, false},
      {"一般保持客户", "General retention", false, true, false},
      {"一般挽留客户", "General win-back", false, false, false},
  };
  rfm_rule_set rules{"chinese_value", bins, {}, match_policy::first, "Other"};
  for (const auto& c : classes) {
    const auto [r_low, r_high] = range(c.r);
    const auto [f_low, f_high] = range(c.f);
    const auto [m_low, m_high] = range(c.m);
    rules.rules.push_back(
        {c.chinese, {box(r_low, r_high, f_low, f_high, m_low, m_high)}, c.english});
  }
  return rules;
}

}  // namespace crmkit::segment
