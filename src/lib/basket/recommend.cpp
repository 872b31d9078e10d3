#include "crmkit/basket/recommend.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "crmkit/basket/itemsets.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/radix_sort.hpp"
#include "sort_key.hpp"

namespace crmkit::basket {

namespace {

using detail::signed_key;

constexpr std::string_view function = "recommend";
constexpr std::size_t cross_sell_per_item = 50;
constexpr std::size_t segment_spare = 200;

void check_input(const basket_matrix& baskets, const recommend_options& options,
                 const customer_segments& segments) {
  if (baskets.customer.size() != baskets.size() || baskets.time.size() != baskets.size()) {
    check::fail(function, "the baskets need customer and time columns");
  }
  check::positive(function, "k", options.k);
  check::positive(function, "horizon", options.horizon);
  check::nonnegative(function, "owned_weight", options.owned_weight);
  check::finite(function, "min_lift", options.min_lift);
  check::same_size(function, "segments.customer", segments.customer.size(), "segments.segment",
                   segments.segment.size());
}

/** Baskets grouped by customer (ascending), each group in time order. */
struct customer_groups {
  std::vector<std::int64_t> customer;
  std::vector<std::uint64_t> offsets{0};
  std::vector<std::uint32_t> basket;
};

customer_groups group_baskets(const basket_matrix& baskets) {
  radix_sorter sorter(baskets.size());
  sorter.sort_by([&](std::size_t b) { return signed_key(baskets.time[b]); });
  sorter.sort_by([&](std::size_t b) { return signed_key(baskets.customer[b]); });
  customer_groups out;
  out.basket = sorter.take_order();
  for (std::size_t i = 0; i < out.basket.size(); ++i) {
    const auto c = baskets.customer[out.basket[i]];
    if (i > 0 && c == out.customer.back()) continue;
    if (i > 0) out.offsets.push_back(i);
    out.customer.push_back(c);
  }
  if (!out.basket.empty()) out.offsets.push_back(out.basket.size());
  return out;
}

struct pair_rule {
  std::uint32_t item;
  double confidence;
};

/** One offer candidate. */
struct offer {
  std::uint32_t item;
  double score;
  offer_reason reason;
  std::int64_t because;
};

/** Per-thread working arrays of offer_engine (dense over products, reset after each customer). */
struct offer_scratch {
  std::vector<std::uint32_t> purchases, owned, proposed, evidenced;
  std::vector<std::int64_t> first, last, because, evidence_from;
  std::vector<double> gap_squares, score, evidence;
  std::vector<offer_reason> reason;

  explicit offer_scratch(std::uint32_t items)
      : purchases(items, 0), first(items, 0), last(items, 0), because(items, -1),
        evidence_from(items, -1), gap_squares(items, 0), score(items, -1), evidence(items, 0),
        reason(items, offer_reason::popular) {}

  /** Counts the customer's purchases of each product, with first and last times. */
  void tally(const basket_matrix& baskets, std::span<const std::uint32_t> history) {
    for (const auto b : history) {
      for (const auto j : baskets.basket(b)) {
        if (purchases[j]++ == 0) {
          owned.push_back(j);
          first[j] = baskets.time[b];
          gap_squares[j] = 0;
        } else {
          const auto gap = static_cast<double>(baskets.time[b] - last[j]);
          gap_squares[j] += gap * gap;
        }
        last[j] = baskets.time[b];
      }
    }
  }

  void clear_tally() {
    for (const auto j : owned) purchases[j] = 0;
    owned.clear();
  }

  void propose(std::uint32_t j, double value, offer_reason why, std::int64_t from) {
    if (value <= 0) return;
    if (score[j] < 0) proposed.push_back(j);
    if (value > score[j]) {
      score[j] = value;
      reason[j] = why;
      because[j] = from;
    }
  }
};

/** Everything learnt from the history that does not depend on the customer. */
class offer_engine {
 public:
  offer_engine(const basket_matrix& baskets, const customer_groups& groups,
               const recommend_options& options, const customer_segments& segments)
      : baskets_(baskets), options_(options), items_(baskets.item_count) {
    label_segments(segments);
    basket_matrix history;
    history.item_count = items_;
    std::vector<std::uint64_t> count(items_, 0);
    segment_count_.assign(segment_names_.size() + 1, std::vector<std::uint32_t>(items_, 0));
    segment_baskets_.assign(segment_names_.size() + 1, 0);
    for (std::size_t g = 0; g < groups.customer.size(); ++g) {
      const auto s = segment_of(groups.customer[g]);
      for (auto i = groups.offsets[g]; i < groups.offsets[g + 1]; ++i) {
        const auto b = groups.basket[i];
        if (baskets.time[b] >= options.as_of) continue;
        ++segment_baskets_[s];
        for (const auto item : baskets.basket(b)) {
          ++count[item];
          ++segment_count_[s][item];
          history.items.push_back(item);
        }
        history.offsets.push_back(history.items.size());
      }
    }
    popular_.resize(items_);
    for (std::uint32_t j = 0; j < items_; ++j) popular_[j] = j;
    std::stable_sort(popular_.begin(), popular_.end(),
                     [&](std::uint32_t a, std::uint32_t b) { return count[a] > count[b]; });
    popular_rank_.resize(items_);
    for (std::size_t r = 0; r < popular_.size(); ++r) popular_rank_[popular_[r]] = r;
    segment_top_.resize(segment_count_.size());
    for (std::size_t s = 0; s < segment_count_.size(); ++s) {
      auto& top = segment_top_[s];
      for (const auto j : popular_) {
        if (segment_count_[s][j] > 0) top.push_back(j);
      }
      std::stable_sort(top.begin(), top.end(), [&](std::uint32_t a, std::uint32_t b) {
        return segment_count_[s][a] > segment_count_[s][b];
      });
      top.resize(std::min(top.size(), options.k + segment_spare));
    }
    learn_pairs(history, count);
  }

  [[nodiscard]] std::size_t segment_of(std::int64_t customer) const {
    const auto it = std::lower_bound(segment_customer_.begin(), segment_customer_.end(),
                                     std::pair{customer, std::size_t{0}});
    return it != segment_customer_.end() && it->first == customer ? it->second
                                                                  : segment_names_.size();
  }

  [[nodiscard]] const std::vector<std::uint32_t>& popular() const { return popular_; }

  /** The customer's ranked offers from their history baskets (time order). */
  void offers(std::int64_t customer, std::span<const std::uint32_t> history, offer_scratch& work,
              std::vector<offer>& out) const {
    out.clear();
    work.tally(baskets_, history);
    const auto n = static_cast<double>(history.size());
    const auto H = static_cast<double>(options_.horizon);
    const auto as_of = static_cast<double>(options_.as_of);
    const auto tenure = as_of - static_cast<double>(baskets_.time[history.front()]);
    const double rate = n / std::max(tenure, H);
    const double expected_orders = rate * H;
    const auto s = segment_of(customer);
    auto segment_share = [&](std::uint32_t j) {
      return segment_baskets_[s] == 0 ? 0.0
                                      : static_cast<double>(segment_count_[s][j]) /
                                            static_cast<double>(segment_baskets_[s]);
    };
    auto chance = [&](double purchases, double prior_share) {
      const double share = (purchases + options_.prior_orders * prior_share) /
                           (n + options_.prior_orders);
      return 1 - std::exp(-expected_orders * share);
    };
    for (const auto i : work.owned) {
      const double share = work.purchases[i] / n;
      for (const auto& rule : rules_[i]) {
        const auto j = rule.item;
        if (work.evidence[j] == 0) work.evidenced.push_back(j);
        if (share * rule.confidence > work.evidence[j]) {
          work.evidence[j] = share * rule.confidence;
          work.evidence_from[j] = i;
        }
      }
    }
    for (const auto i : work.owned) {
      const double m = work.purchases[i];
      double score = chance(m, std::max(segment_share(i), options_.owned_weight * work.evidence[i]));
      if (m >= 3) {
        const double gap = static_cast<double>(work.last[i] - work.first[i]) / (m - 1);
        const double spread = std::sqrt(std::max(0.0, work.gap_squares[i] / (m - 1) - gap * gap));
        const double regularity = gap > 0 ? std::clamp(1 - spread / gap, 0.0, 1.0) : 0.0;
        // Bought at the first order once due: the due time is a mean wait 1/ρ before last + g.
        const double due_at = std::max(as_of, static_cast<double>(work.last[i]) + gap - 1 / rate);
        const double window = std::clamp(as_of + H - due_at, 0.0, H);
        const double periodic = (1 - std::exp(-rate * window)) * (1 - 1 / m);
        score = regularity * periodic + (1 - regularity) * score;
      }
      work.propose(i, score, offer_reason::repurchase_due, -1);
    }
    for (const auto j : work.evidenced) {
      if (work.purchases[j] == 0) {
        const bool cross = work.evidence[j] > segment_share(j);
        work.propose(j, chance(0, std::max(work.evidence[j], segment_share(j))),
                     cross ? offer_reason::cross_sell : offer_reason::segment_popular,
                     cross ? work.evidence_from[j] : -1);
      }
      work.evidence[j] = 0;
    }
    work.evidenced.clear();
    for (const auto j : segment_top_[s]) {
      if (work.purchases[j] == 0) {
        work.propose(j, chance(0, segment_share(j)), offer_reason::segment_popular, -1);
      }
    }
    for (const auto j : work.proposed) {
      out.push_back({j, work.score[j], work.reason[j], work.because[j]});
      work.score[j] = -1;
    }
    work.proposed.clear();
    work.clear_tally();
    std::sort(out.begin(), out.end(), [](const offer& a, const offer& b) {
      return a.score != b.score ? a.score > b.score : a.item < b.item;
    });
    if (out.size() > options_.k) out.resize(options_.k);
    fill_with_popular(out);
  }

  /** The customer's own products by purchases (ties: latest, then popularity), then popular. */
  void personal_frequency(std::span<const std::uint32_t> history, offer_scratch& work,
                          std::vector<offer>& out) const {
    out.clear();
    work.tally(baskets_, history);
    for (const auto j : work.owned) {
      out.push_back({j, static_cast<double>(work.purchases[j]), offer_reason::repurchase_due, -1});
    }
    std::sort(out.begin(), out.end(), [&](const offer& a, const offer& b) {
      if (a.score != b.score) return a.score > b.score;
      if (work.last[a.item] != work.last[b.item]) return work.last[a.item] > work.last[b.item];
      return popular_rank_[a.item] < popular_rank_[b.item];
    });
    work.clear_tally();
    if (out.size() > options_.k) out.resize(options_.k);
    fill_with_popular(out);
  }

  void global_popularity(std::vector<offer>& out) const {
    out.clear();
    fill_with_popular(out);
  }

  [[nodiscard]] std::uint32_t items() const { return items_; }

 private:
  void label_segments(const customer_segments& segments) {
    segment_names_.assign(segments.segment.begin(), segments.segment.end());
    std::sort(segment_names_.begin(), segment_names_.end());
    segment_names_.erase(std::unique(segment_names_.begin(), segment_names_.end()),
                         segment_names_.end());
    for (std::size_t i = 0; i < segments.customer.size(); ++i) {
      const auto s = static_cast<std::size_t>(
          std::lower_bound(segment_names_.begin(), segment_names_.end(), segments.segment[i]) -
          segment_names_.begin());
      segment_customer_.emplace_back(segments.customer[i], s);
    }
    std::sort(segment_customer_.begin(), segment_customer_.end());
    for (std::size_t i = 1; i < segment_customer_.size(); ++i) {
      if (segment_customer_[i].first == segment_customer_[i - 1].first &&
          segment_customer_[i].second != segment_customer_[i - 1].second) {
        check::fail(function, fmt::format("customer {} is given two segments",
                                          segment_customer_[i].first));
      }
    }
  }

  void learn_pairs(const basket_matrix& history, const std::vector<std::uint64_t>& count) {
    rules_.assign(items_, {});
    if (history.size() == 0) return;
    const auto pairs = frequent_itemsets(
        history, {.min_count = std::max<std::uint64_t>(options_.min_pair_count, 1), .max_len = 2,
                  .max_itemsets = std::numeric_limits<std::uint64_t>::max()});
    const auto n = static_cast<double>(history.size());
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      const auto set = pairs.itemset(p);
      if (set.size() != 2) continue;
      const auto both = static_cast<double>(pairs.count[p]);
      const auto a = set[0], b = set[1];
      const double lift = both * n / (static_cast<double>(count[a]) * static_cast<double>(count[b]));
      if (lift < options_.min_lift) continue;
      rules_[a].push_back({b, both / static_cast<double>(count[a])});
      rules_[b].push_back({a, both / static_cast<double>(count[b])});
    }
    for (auto& list : rules_) {
      std::stable_sort(list.begin(), list.end(), [](const pair_rule& x, const pair_rule& y) {
        return x.confidence > y.confidence;
      });
      if (list.size() > cross_sell_per_item) list.resize(cross_sell_per_item);
    }
  }

  void fill_with_popular(std::vector<offer>& out) const {
    for (std::size_t r = 0; out.size() < options_.k && r < popular_.size(); ++r) {
      const auto j = popular_[r];
      if (std::none_of(out.begin(), out.end(), [&](const offer& o) { return o.item == j; })) {
        out.push_back({j, 0.0, offer_reason::popular, -1});
      }
    }
  }

  const basket_matrix& baskets_;
  const recommend_options& options_;
  std::uint32_t items_;
  std::vector<std::int64_t> segment_names_;
  std::vector<std::pair<std::int64_t, std::size_t>> segment_customer_;
  std::vector<std::vector<std::uint32_t>> segment_count_, segment_top_;
  std::vector<std::uint64_t> segment_baskets_;
  std::vector<std::uint32_t> popular_;
  std::vector<std::size_t> popular_rank_;
  std::vector<std::vector<pair_rule>> rules_;
};

/** The history baskets (time < as_of) of group g. */
std::span<const std::uint32_t> history_of(const customer_groups& groups, std::size_t g,
                                          const basket_matrix& baskets, std::int64_t as_of) {
  const auto* begin = groups.basket.data() + groups.offsets[g];
  const auto* end = groups.basket.data() + groups.offsets[g + 1];
  const auto* split = std::partition_point(begin, end, [&](std::uint32_t b) {
    return baskets.time[b] < as_of;
  });
  return {begin, split};
}

constexpr std::size_t customer_grain = 512;

}  // namespace

recommendation_table recommend(const basket_matrix& baskets, const recommend_options& options,
                               const customer_segments& segments,
                               std::span<const std::int64_t> only) {
  check_input(baskets, options, segments);
  const auto groups = group_baskets(baskets);
  const offer_engine engine(baskets, groups, options, segments);
  std::vector<std::int64_t> chosen(only.begin(), only.end());
  std::sort(chosen.begin(), chosen.end());
  const auto wanted = [&](std::int64_t customer) {
    return chosen.empty() || std::binary_search(chosen.begin(), chosen.end(), customer);
  };
  std::vector<recommendation_table> parts(chunk_count(groups.customer.size(), customer_grain));
  parallel_chunks(groups.customer.size(), customer_grain,
                  [&](std::size_t chunk, std::size_t begin, std::size_t end) {
                    offer_scratch work(engine.items());
                    std::vector<offer> offers;
                    auto& part = parts[chunk];
                    for (auto g = begin; g < end; ++g) {
                      if (!wanted(groups.customer[g])) continue;
                      const auto history = history_of(groups, g, baskets, options.as_of);
                      if (history.empty()) continue;
                      engine.offers(groups.customer[g], history, work, offers);
                      for (std::size_t r = 0; r < offers.size(); ++r) {
                        part.customer.push_back(groups.customer[g]);
                        part.rank.push_back(static_cast<std::uint32_t>(r + 1));
                        part.item.push_back(offers[r].item);
                        part.score.push_back(offers[r].score);
                        part.reason.push_back(offers[r].reason);
                        part.because.push_back(offers[r].because);
                      }
                    }
                  });
  recommendation_table out;
  for (const auto& part : parts) {
    out.customer.insert(out.customer.end(), part.customer.begin(), part.customer.end());
    out.rank.insert(out.rank.end(), part.rank.begin(), part.rank.end());
    out.item.insert(out.item.end(), part.item.begin(), part.item.end());
    out.score.insert(out.score.end(), part.score.begin(), part.score.end());
    out.reason.insert(out.reason.end(), part.reason.begin(), part.reason.end());
    out.because.insert(out.because.end(), part.because.begin(), part.because.end());
  }
  return out;
}

namespace {

/** Sums of the per-customer metrics of one method. */
struct metric_sums {
  double precision = 0, recall = 0, hit = 0, ndcg = 0, recall_repeat = 0, recall_new = 0;
  std::uint64_t customers = 0, with_repeat = 0, with_new = 0;

  void add(const std::vector<offer>& offers, const std::vector<std::uint32_t>& relevant,
           const std::vector<std::uint8_t>& is_repeat, std::size_t k) {
    std::size_t hits = 0, repeat_hits = 0, new_hits = 0;
    double dcg = 0, ideal = 0;
    for (std::size_t r = 0; r < offers.size() && r < k; ++r) {
      const auto it = std::lower_bound(relevant.begin(), relevant.end(), offers[r].item);
      if (it == relevant.end() || *it != offers[r].item) continue;
      ++hits;
      (is_repeat[static_cast<std::size_t>(it - relevant.begin())] ? repeat_hits : new_hits) += 1;
      dcg += 1 / std::log2(static_cast<double>(r) + 2);
    }
    for (std::size_t r = 0; r < std::min(k, relevant.size()); ++r) {
      ideal += 1 / std::log2(static_cast<double>(r) + 2);
    }
    const auto repeats = static_cast<std::size_t>(std::count(is_repeat.begin(), is_repeat.end(), 1));
    const auto news = relevant.size() - repeats;
    precision += static_cast<double>(hits) / static_cast<double>(k);
    recall += static_cast<double>(hits) / static_cast<double>(relevant.size());
    hit += hits > 0;
    ndcg += dcg / ideal;
    if (repeats > 0) {
      recall_repeat += static_cast<double>(repeat_hits) / static_cast<double>(repeats);
      ++with_repeat;
    }
    if (news > 0) {
      recall_new += static_cast<double>(new_hits) / static_cast<double>(news);
      ++with_new;
    }
    ++customers;
  }

  metric_sums& operator+=(const metric_sums& other) {
    precision += other.precision;
    recall += other.recall;
    hit += other.hit;
    ndcg += other.ndcg;
    recall_repeat += other.recall_repeat;
    recall_new += other.recall_new;
    customers += other.customers;
    with_repeat += other.with_repeat;
    with_new += other.with_new;
    return *this;
  }
};

}  // namespace

evaluation_table evaluate_recommendations(const basket_matrix& baskets,
                                          const recommend_options& options,
                                          const customer_segments& segments) {
  check_input(baskets, options, segments);
  const auto groups = group_baskets(baskets);
  const offer_engine engine(baskets, groups, options, segments);
  constexpr std::size_t methods = 3;
  using sums = std::array<metric_sums, methods>;
  const auto total = parallel_reduce(
      groups.customer.size(), sums{},
      [&](std::size_t begin, std::size_t end) {
        sums out{};
        offer_scratch work(engine.items());
        std::vector<offer> offers;
        std::vector<std::uint32_t> relevant, owned;
        std::vector<std::uint8_t> is_repeat;
        for (auto g = begin; g < end; ++g) {
          const auto history = history_of(groups, g, baskets, options.as_of);
          relevant.clear();
          for (auto i = groups.offsets[g] + history.size(); i < groups.offsets[g + 1]; ++i) {
            const auto b = groups.basket[i];
            if (baskets.time[b] >= options.as_of + options.horizon) break;
            for (const auto j : baskets.basket(b)) relevant.push_back(j);
          }
          if (history.empty() || relevant.empty()) continue;
          std::sort(relevant.begin(), relevant.end());
          relevant.erase(std::unique(relevant.begin(), relevant.end()), relevant.end());
          owned.clear();
          for (const auto b : history) {
            for (const auto j : baskets.basket(b)) owned.push_back(j);
          }
          std::sort(owned.begin(), owned.end());
          is_repeat.assign(relevant.size(), 0);
          for (std::size_t r = 0; r < relevant.size(); ++r) {
            is_repeat[r] = std::binary_search(owned.begin(), owned.end(), relevant[r]);
          }
          engine.offers(groups.customer[g], history, work, offers);
          out[0].add(offers, relevant, is_repeat, options.k);
          engine.global_popularity(offers);
          out[1].add(offers, relevant, is_repeat, options.k);
          engine.personal_frequency(history, work, offers);
          out[2].add(offers, relevant, is_repeat, options.k);
        }
        return out;
      },
      [](sums a, const sums& b) {
        for (std::size_t m = 0; m < methods; ++m) a[m] += b[m];
        return a;
      },
      customer_grain);
  evaluation_table out;
  out.k = options.k;
  for (std::size_t m = 0; m < methods; ++m) {
    const auto& s = total[m];
    const auto n = static_cast<double>(std::max<std::uint64_t>(s.customers, 1));
    out.method.push_back(static_cast<offer_method>(m));
    out.precision.push_back(s.precision / n);
    out.recall.push_back(s.recall / n);
    out.hit_rate.push_back(s.hit / n);
    out.ndcg.push_back(s.ndcg / n);
    out.recall_repeat.push_back(s.with_repeat ? s.recall_repeat / static_cast<double>(s.with_repeat)
                                              : std::numeric_limits<double>::quiet_NaN());
    out.recall_new.push_back(s.with_new ? s.recall_new / static_cast<double>(s.with_new)
                                        : std::numeric_limits<double>::quiet_NaN());
    out.customers.push_back(s.customers);
  }
  return out;
}

}  // namespace crmkit::basket
