#include "crmkit/basket/itemsets.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/core/parallel.hpp"

namespace crmkit::basket {

namespace {

constexpr std::string_view function = "frequent_itemsets";
constexpr std::uint32_t no_slot = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t prefetch_distance = 16;

/** Where a prefix's last item sits in a projected basket, and where that basket ends. */
struct occurrence {
  std::uint32_t position, end;
};

/** Itemsets found from some first items, as ranks, in discovery order. */
struct found {
  std::vector<std::uint32_t> items;
  std::vector<std::uint32_t> size;
  std::vector<std::uint64_t> count;
};

/** The depth-first occurrence-deliver search below one first item (see frequent_itemsets). */
class miner {
 public:
  miner(std::span<const std::uint32_t> ranks, std::size_t rank_count, std::uint64_t min_count,
        std::size_t max_len, std::atomic<std::uint64_t>& total, const itemset_options& options)
      : ranks_(ranks), min_count_(min_count), max_len_(max_len), total_(total), options_(options),
        counter_(rank_count, 0), slot_(rank_count, no_slot) {}

  void emit_prefix(std::uint64_t count) {
    if (total_.fetch_add(1, std::memory_order_relaxed) + 1 > options_.max_itemsets) {
      check::fail(function,
                  fmt::format("the threshold (min_support = {}, min_count = {}) gives more than "
                              "max_itemsets = {} itemsets; raise min_support, lower max_len or "
                              "raise max_itemsets",
                              options_.min_support, min_count_, options_.max_itemsets));
    }
    out.items.insert(out.items.end(), prefix_.begin(), prefix_.end());
    out.size.push_back(static_cast<std::uint32_t>(prefix_.size()));
    out.count.push_back(count);
  }

  /** Mines every frequent extension of {first} given its occurrences. */
  void mine(std::uint32_t first, std::uint64_t count, std::span<const occurrence> occurrences) {
    prefix_.assign(1, first);
    emit_prefix(count);
    if (max_len_ != 1) extend(occurrences, 1);
  }

  found out;

 private:
  struct level {
    std::vector<std::uint32_t> items;
    std::vector<std::uint64_t> offsets;
    std::vector<occurrence> buckets;
  };

  void extend(std::span<const occurrence> occurrences, std::size_t depth) {
    if (levels_.size() <= depth) levels_.resize(depth + 1);
    touched_.clear();
    for (std::size_t k = 0; k < occurrences.size(); ++k) {
      // The occurrences jump across the baskets: fetching ahead hides most of the misses.
      if (k + prefetch_distance < occurrences.size()) {
        __builtin_prefetch(ranks_.data() + occurrences[k + prefetch_distance].position);
      }
      const auto& at = occurrences[k];
      for (auto q = at.position + 1; q < at.end; ++q) {
        if (counter_[ranks_[q]]++ == 0) touched_.push_back(ranks_[q]);
      }
    }
    auto& here = levels_[depth];
    here.items.clear();
    for (const auto item : touched_) {
      if (counter_[item] >= min_count_) here.items.push_back(item);
    }
    std::sort(here.items.begin(), here.items.end());
    // One frequent extension j has none of its own: P ∪ {j, k} frequent needs P ∪ {k} frequent.
    if (depth + 1 == max_len_ || here.items.size() <= 1) {
      for (const auto item : here.items) {
        prefix_.push_back(item);
        emit_prefix(counter_[item]);
        prefix_.pop_back();
      }
      for (const auto item : touched_) counter_[item] = 0;
      return;
    }
    here.offsets.assign(here.items.size() + 1, 0);
    for (std::size_t s = 0; s < here.items.size(); ++s) {
      here.offsets[s + 1] = here.offsets[s] + counter_[here.items[s]];
      slot_[here.items[s]] = static_cast<std::uint32_t>(s);
    }
    for (const auto item : touched_) counter_[item] = 0;
    here.buckets.resize(here.offsets.back());
    for (const auto& at : occurrences) {
      for (auto q = at.position + 1; q < at.end; ++q) {
        const auto item = ranks_[q];
        const auto s = slot_[item];
        if (s != no_slot) here.buckets[here.offsets[s] + counter_[item]++] = {q, at.end};
      }
    }
    for (const auto item : here.items) {
      counter_[item] = 0;
      slot_[item] = no_slot;
    }
    const auto extensions = here.items.size();
    for (std::size_t s = 0; s < extensions; ++s) {
      const auto& current = levels_[depth];  // deeper levels may have moved `here`
      const std::span<const occurrence> bucket(current.buckets.data() + current.offsets[s],
                                               current.offsets[s + 1] - current.offsets[s]);
      prefix_.push_back(current.items[s]);
      emit_prefix(bucket.size());
      extend(bucket, depth + 1);
      prefix_.pop_back();
    }
  }

  std::span<const std::uint32_t> ranks_;
  std::uint64_t min_count_;
  std::size_t max_len_;
  std::atomic<std::uint64_t>& total_;
  const itemset_options& options_;
  std::vector<std::uint32_t> counter_, slot_, touched_, prefix_;
  std::vector<level> levels_;
};

/** Frequent items ranked by ascending count (ties by code); rank_of[item] = no_slot if rare. */
struct item_ranking {
  std::vector<std::uint32_t> item_of_rank, rank_of;
  std::vector<std::uint64_t> count_of_rank;
};

item_ranking rank_items(const basket_matrix& baskets, std::uint64_t min_count) {
  std::vector<std::uint64_t> count(baskets.item_count, 0);
  for (const auto item : baskets.items) ++count[item];
  item_ranking out;
  out.rank_of.assign(baskets.item_count, no_slot);
  for (std::uint32_t item = 0; item < baskets.item_count; ++item) {
    if (count[item] >= min_count) out.item_of_rank.push_back(item);
  }
  std::stable_sort(out.item_of_rank.begin(), out.item_of_rank.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return count[a] < count[b]; });
  for (std::uint32_t r = 0; r < out.item_of_rank.size(); ++r) {
    out.rank_of[out.item_of_rank[r]] = r;
    out.count_of_rank.push_back(count[out.item_of_rank[r]]);
  }
  return out;
}

/** Baskets with two or more frequent items as sorted rank lists, and each rank's occurrences. */
struct projection {
  std::vector<std::uint32_t> ranks;
  std::vector<std::uint64_t> first_offsets;
  std::vector<occurrence> first;
};

projection project(const basket_matrix& baskets, const item_ranking& ranking) {
  projection out;
  std::vector<std::uint32_t> row, ends;
  std::vector<std::uint64_t> per_rank(ranking.item_of_rank.size() + 1, 0);
  memory::reserve_large(out.ranks, baskets.items.size());
  for (std::size_t b = 0; b < baskets.size(); ++b) {
    row.clear();
    for (const auto item : baskets.basket(b)) {
      if (ranking.rank_of[item] != no_slot) row.push_back(ranking.rank_of[item]);
    }
    if (row.size() < 2) continue;
    if (out.ranks.size() + row.size() >= no_slot) {
      check::fail(function, "more than 2^32 - 2 frequent order lines; raise min_support");
    }
    std::sort(row.begin(), row.end());
    for (const auto r : row) ++per_rank[r + 1];
    out.ranks.insert(out.ranks.end(), row.begin(), row.end());
    ends.push_back(static_cast<std::uint32_t>(out.ranks.size()));
  }
  std::partial_sum(per_rank.begin(), per_rank.end(), per_rank.begin());
  out.first = memory::large_vector<occurrence>(out.ranks.size());
  auto cursor = per_rank;
  std::uint32_t begin = 0;
  for (const auto end : ends) {
    for (auto q = begin; q < end; ++q) out.first[cursor[out.ranks[q]]++] = {q, end};
    begin = end;
  }
  out.first_offsets = std::move(per_rank);
  return out;
}

/** The found itemsets as item codes, in the canonical order (size, then items). */
itemset_table assemble(const std::vector<found>& parts, const item_ranking& ranking,
                       std::uint64_t baskets, std::uint64_t min_count) {
  struct entry {
    std::uint64_t offset;
    std::uint32_t size;
    std::uint64_t count;
  };
  std::vector<std::uint32_t> items;
  std::vector<entry> entries;
  for (const auto& part : parts) {
    std::uint64_t offset = items.size();
    for (std::size_t i = 0; i < part.size.size(); ++i) {
      entries.push_back({offset, part.size[i], part.count[i]});
      offset += part.size[i];
    }
    for (const auto r : part.items) items.push_back(ranking.item_of_rank[r]);
  }
  for (const auto& e : entries) {
    std::sort(items.begin() + static_cast<std::ptrdiff_t>(e.offset),
              items.begin() + static_cast<std::ptrdiff_t>(e.offset + e.size));
  }
  std::sort(entries.begin(), entries.end(), [&](const entry& a, const entry& b) {
    if (a.size != b.size) return a.size < b.size;
    return std::lexicographical_compare(items.begin() + static_cast<std::ptrdiff_t>(a.offset),
                                        items.begin() + static_cast<std::ptrdiff_t>(a.offset + a.size),
                                        items.begin() + static_cast<std::ptrdiff_t>(b.offset),
                                        items.begin() + static_cast<std::ptrdiff_t>(b.offset + b.size));
  });
  itemset_table out;
  out.basket_count = baskets;
  out.min_count = min_count;
  out.offsets.reserve(entries.size() + 1);
  out.items.reserve(items.size());
  out.count.reserve(entries.size());
  out.support.reserve(entries.size());
  for (const auto& e : entries) {
    out.items.insert(out.items.end(), items.begin() + static_cast<std::ptrdiff_t>(e.offset),
                     items.begin() + static_cast<std::ptrdiff_t>(e.offset + e.size));
    out.offsets.push_back(out.items.size());
    out.count.push_back(e.count);
    out.support.push_back(static_cast<double>(e.count) / static_cast<double>(baskets));
  }
  return out;
}

}  // namespace

std::uint64_t support_threshold(const itemset_options& options, std::uint64_t baskets) {
  if (options.min_count > 0) return options.min_count;
  if (!(options.min_support > 0.0 && options.min_support <= 1.0)) {
    check::fail(function, fmt::format("min_support = {} must be in (0, 1]", options.min_support));
  }
  const auto n = static_cast<double>(baskets);
  auto count = static_cast<std::uint64_t>(std::ceil(options.min_support * n));
  while (count > 0 && static_cast<double>(count - 1) / n >= options.min_support) --count;
  while (static_cast<double>(count) / n < options.min_support) ++count;
  return std::max<std::uint64_t>(count, 1);
}

itemset_table frequent_itemsets(const basket_matrix& baskets, const itemset_options& options) {
  const std::uint64_t n = baskets.size();
  const auto min_count = support_threshold(options, std::max<std::uint64_t>(n, 1));
  const auto ranking = rank_items(baskets, min_count);
  const auto frequent = ranking.item_of_rank.size();
  const auto data = options.max_len == 1 ? projection{} : project(baskets, ranking);
  const std::size_t grain = std::max<std::size_t>(1, frequent / 256);
  std::vector<found> parts(chunk_count(frequent, grain));
  std::atomic<std::uint64_t> total{0};
  parallel_chunks(frequent, grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    miner search(data.ranks, frequent, min_count, options.max_len, total, options);
    for (auto r = begin; r < end; ++r) {
      std::span<const occurrence> occurrences;
      if (!data.first_offsets.empty()) {
        occurrences = {data.first.data() + data.first_offsets[r],
                       data.first_offsets[r + 1] - data.first_offsets[r]};
      }
      search.mine(static_cast<std::uint32_t>(r), ranking.count_of_rank[r], occurrences);
    }
    parts[chunk] = std::move(search.out);
  });
  return assemble(parts, ranking, n, min_count);
}

}  // namespace crmkit::basket
