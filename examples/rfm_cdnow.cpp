// RFM segments of the 23,570 CDNOW customers: read the master file, summarise it the RFM way
// (purchase days, days since the last one, mean spend per day), score quintiles with ties
// sharing scores, name segments with the 10-segment R x F map, and cut ABC value tiers.
// Checks what must hold: every customer scored and named, equal frequencies share a score,
// segment counts and revenue shares add up, tier A holds at least 80 % of the revenue.
// Usage: example_rfm_cdnow <shared data folder>.
#include <crmkit/data/summary.hpp>
#include <crmkit/segment/rfm.hpp>
#include <crmkit/segment/rfm_rules.hpp>
#include <crmkit/segment/tiers.hpp>

#include "cdnow.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

int main(int argc, char** argv) {
  int exit_code = 0;
  const auto cdnow = read_cdnow_master(argc, argv, exit_code);
  if (!cdnow) return exit_code;
  const auto& log = *cdnow;
  crmkit::data::summary_options view;
  view.include_first_transaction = true;
  const auto summary = crmkit::data::summarize(log, view);

  const auto scores =
      crmkit::segment::score_rfm(summary.recency, summary.frequency, summary.monetary_value);
  const auto rules = crmkit::segment::rf_grid_segments();
  const auto segments = crmkit::segment::assign_segments(
      rules, scores.recency.scores, scores.frequency.scores, scores.monetary.scores);
  std::vector<double> revenue(summary.size());
  for (std::size_t i = 0; i < revenue.size(); ++i) {
    revenue[i] = summary.frequency[i] * summary.monetary_value[i];
  }
  const auto table = crmkit::segment::segment_summary(segments, summary.recency, summary.frequency,
                                                      summary.monetary_value, revenue);
  std::printf("%-20s %7s %6s %9s %6s %9s %8s\n", "segment", "count", "share", "recency", "freq",
              "revenue", "rev.share");
  std::size_t counted = 0;
  double revenue_share = 0;
  for (const auto& row : table) {
    const auto& name =
        row.segment < 0 ? rules.unmatched : rules.rules[static_cast<std::size_t>(row.segment)].name;
    std::printf("%-20s %7zu %6.3f %9.1f %6.2f %9.0f %8.3f\n", name.c_str(), row.count, row.share,
                row.mean_recency, row.mean_frequency, row.revenue, row.revenue_share);
    counted += row.count;
    revenue_share += row.revenue_share;
  }

  bool ok = summary.size() == 23570 && counted == summary.size();
  // The R x F map covers every cell: nobody is unmatched.
  for (auto s : segments) ok = ok && s >= 0;
  ok = ok && std::abs(revenue_share - 1) < 1e-12;
  // average_rank: customers with equal frequency have equal F scores.
  std::map<double, std::int32_t> score_of_frequency;
  for (std::size_t i = 0; i < summary.size(); ++i) {
    auto [it, inserted] =
        score_of_frequency.emplace(summary.frequency[i], scores.frequency.scores[i]);
    ok = ok && (inserted || it->second == scores.frequency.scores[i]);
  }

  const std::vector<double> cuts{0.8, 0.95};
  const auto tiers =
      crmkit::segment::value_tiers(revenue, cuts, crmkit::segment::tier_basis::value_share);
  std::printf("ABC tiers: %zu / %zu / %zu customers hold %.3f / %.3f / %.3f of revenue\n",
              tiers.counts[0], tiers.counts[1], tiers.counts[2], tiers.value_shares[0],
              tiers.value_shares[1], tiers.value_shares[2]);
  ok = ok && tiers.value_shares[0] >= 0.8 && tiers.counts[0] < summary.size() / 2;
  if (!ok) std::fprintf(stderr, "a check failed\n");
  return ok ? 0 : 1;
}
