#include "crmkit/basket/rules.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/random.hpp"

namespace crmkit::basket {

namespace {

constexpr std::string_view function = "association_rules";
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::uint64_t hash_items(std::span<const std::uint32_t> items) {
  std::uint64_t h = items.size();
  for (const auto item : items) h = rng::splitmix64_mix(h ^ (item + 0x9e3779b97f4a7c15ULL));
  return h;
}

/** Support lookup of itemsets by content: (hash, index) pairs sorted by hash. */
class support_index {
 public:
  explicit support_index(const itemset_table& table) : table_(table) {
    entries_.reserve(table.size());
    for (std::size_t i = 0; i < table.size(); ++i) entries_.push_back({hash_items(table.itemset(i)), i});
    std::sort(entries_.begin(), entries_.end());
  }

  /** The support of `items`, NaN when the table lacks them. */
  [[nodiscard]] double support(std::span<const std::uint32_t> items) const {
    const auto h = hash_items(items);
    auto it = std::lower_bound(entries_.begin(), entries_.end(), std::pair{h, std::size_t{0}});
    for (; it != entries_.end() && it->first == h; ++it) {
      const auto candidate = table_.itemset(it->second);
      if (std::ranges::equal(candidate, items)) return table_.support[it->second];
    }
    return nan;
  }

 private:
  const itemset_table& table_;
  std::vector<std::pair<std::uint64_t, std::size_t>> entries_;
};

struct measures {
  double antecedent_support, consequent_support, support, confidence, lift, leverage, conviction,
      zhangs_metric;
};

measures measure(double s_a, double s_c, double s_ac) {
  measures m{s_a, s_c, s_ac, s_ac / s_a, 0, s_ac - s_a * s_c, 0, 0};
  m.lift = m.confidence / s_c;
  m.conviction = m.confidence == 1.0 ? std::numeric_limits<double>::infinity()
                                     : (1.0 - s_c) / (1.0 - m.confidence);
  const double denominator = std::max(s_ac * (1.0 - s_a), s_a * (s_c - s_ac));
  m.zhangs_metric = denominator == 0.0 ? 0.0 : m.leverage / denominator;
  return m;
}

double value_of(const measures& m, rule_metric metric) {
  switch (metric) {
    case rule_metric::antecedent_support: return m.antecedent_support;
    case rule_metric::consequent_support: return m.consequent_support;
    case rule_metric::support: return m.support;
    case rule_metric::confidence: return m.confidence;
    case rule_metric::lift: return m.lift;
    case rule_metric::leverage: return m.leverage;
    case rule_metric::conviction: return m.conviction;
    case rule_metric::zhangs_metric: return m.zhangs_metric;
  }
  return nan;
}

void append(rule_table& out, std::span<const std::uint32_t> a, std::span<const std::uint32_t> c,
            const measures& m) {
  out.antecedent_items.insert(out.antecedent_items.end(), a.begin(), a.end());
  out.antecedent_offsets.push_back(out.antecedent_items.size());
  out.consequent_items.insert(out.consequent_items.end(), c.begin(), c.end());
  out.consequent_offsets.push_back(out.consequent_items.size());
  out.antecedent_support.push_back(m.antecedent_support);
  out.consequent_support.push_back(m.consequent_support);
  out.support.push_back(m.support);
  out.confidence.push_back(m.confidence);
  out.lift.push_back(m.lift);
  out.leverage.push_back(m.leverage);
  out.conviction.push_back(m.conviction);
  out.zhangs_metric.push_back(m.zhangs_metric);
}

void join(rule_table& out, const rule_table& part) {
  auto shift_append = [](auto& offsets, auto& items, const auto& part_offsets, const auto& part_items) {
    const auto base = items.size();
    for (std::size_t i = 1; i < part_offsets.size(); ++i) offsets.push_back(base + part_offsets[i]);
    items.insert(items.end(), part_items.begin(), part_items.end());
  };
  shift_append(out.antecedent_offsets, out.antecedent_items, part.antecedent_offsets, part.antecedent_items);
  shift_append(out.consequent_offsets, out.consequent_items, part.consequent_offsets, part.consequent_items);
  for (auto [to, from] : {std::pair{&out.antecedent_support, &part.antecedent_support},
                          {&out.consequent_support, &part.consequent_support},
                          {&out.support, &part.support},
                          {&out.confidence, &part.confidence},
                          {&out.lift, &part.lift},
                          {&out.leverage, &part.leverage},
                          {&out.conviction, &part.conviction},
                          {&out.zhangs_metric, &part.zhangs_metric}}) {
    to->insert(to->end(), from->begin(), from->end());
  }
}

/** Positions subsets of {0..k-1} of size `size` in lexicographic order, as bit masks. */
std::vector<std::uint64_t> combinations(std::size_t k, std::size_t size) {
  std::vector<std::uint64_t> out;
  std::vector<std::size_t> pick(size);
  for (std::size_t i = 0; i < size; ++i) pick[i] = i;
  for (;;) {
    std::uint64_t mask = 0;
    for (const auto p : pick) mask |= std::uint64_t{1} << p;
    out.push_back(mask);
    std::size_t i = size;
    while (i > 0 && pick[i - 1] == k - size + i - 1) --i;
    if (i == 0) return out;
    ++pick[i - 1];
    for (auto j = i; j < size; ++j) pick[j] = pick[j - 1] + 1;
  }
}

std::vector<std::uint32_t> sorted_distinct(std::vector<std::uint32_t> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return items;
}

}  // namespace

double metric_value(const rule_table& rules, std::size_t r, rule_metric metric) {
  return value_of({rules.antecedent_support[r], rules.consequent_support[r], rules.support[r],
                   rules.confidence[r], rules.lift[r], rules.leverage[r], rules.conviction[r],
                   rules.zhangs_metric[r]},
                  metric);
}

rule_table association_rules(const itemset_table& itemsets, const rule_options& options) {
  check::same_size(function, "itemset offsets - 1", itemsets.offsets.size() - 1, "support",
                   itemsets.support.size());
  if (std::isnan(options.min_threshold)) check::fail(function, "min_threshold is NaN");
  const auto fixed_antecedent = sorted_distinct(options.antecedent);
  const auto fixed_consequent = sorted_distinct(options.consequent);
  const support_index index(itemsets);
  const auto metric = options.support_only ? rule_metric::support : options.metric;
  constexpr std::size_t max_size = 30;
  const std::size_t grain = 64;
  std::vector<rule_table> parts(chunk_count(itemsets.size(), grain));
  parallel_chunks(itemsets.size(), grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    auto& out = parts[chunk];
    std::vector<std::uint32_t> a, c;
    for (auto i = begin; i < end; ++i) {
      const auto items = itemsets.itemset(i);
      const auto k = items.size();
      if (k < 2) continue;
      if (!fixed_antecedent.empty() && !fixed_consequent.empty() &&
          fixed_antecedent.size() + fixed_consequent.size() != k) {
        continue;
      }
      if (k > max_size) {
        check::fail(function, fmt::format("itemset {} has {} items; rules are generated for at most {}",
                                          i, k, max_size));
      }
      const double s_ac = itemsets.support[i];
      for (auto size = k - 1; size >= 1; --size) {
        if (!fixed_antecedent.empty() && size != fixed_antecedent.size()) continue;
        if (!fixed_consequent.empty() && k - size != fixed_consequent.size()) continue;
        for (const auto mask : combinations(k, size)) {
          a.clear();
          c.clear();
          for (std::size_t p = 0; p < k; ++p) ((mask >> p) & 1 ? a : c).push_back(items[p]);
          if (!fixed_antecedent.empty() && a != fixed_antecedent) continue;
          if (!fixed_consequent.empty() && c != fixed_consequent) continue;
          const double s_a = index.support(a), s_c = index.support(c);
          if ((std::isnan(s_a) || std::isnan(s_c)) && !options.support_only) {
            check::fail(function,
                        fmt::format("itemset {} = {{{}}}: its subset {{{}}} is not in the table of "
                                    "frequent itemsets (pass support_only to allow this)",
                                    i, fmt::join(items, ", "), fmt::join(std::isnan(s_a) ? a : c, ", ")));
          }
          auto m = measure(s_a, s_c, s_ac);
          if (options.support_only) m = {nan, nan, s_ac, nan, nan, nan, nan, nan};
          if (value_of(m, metric) >= options.min_threshold) append(out, a, c, m);
        }
      }
    }
  });
  rule_table out;
  for (const auto& part : parts) join(out, part);
  return out;
}

}  // namespace crmkit::basket
