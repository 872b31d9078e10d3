#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/basket/baskets.hpp"
#include "crmkit/core/describe.hpp"

/** What to offer whom: per-customer top-k products, each with the reason it is offered. */
namespace crmkit::basket {

/** Why a product is offered. */
enum class offer_reason : std::uint8_t { repurchase_due, cross_sell, segment_popular, popular };

constexpr auto description(std::type_identity<offer_reason>) {
  return describe::enum_table<offer_reason, 4>{"reason",
                                               {{{offer_reason::repurchase_due, "repurchase_due"},
                                                 {offer_reason::cross_sell, "cross_sell"},
                                                 {offer_reason::segment_popular, "segment_popular"},
                                                 {offer_reason::popular, "popular"}}}};
}

/**
 * Options of recommend. Times are in the baskets' time unit; only baskets before `as_of` are
 * history, and the scores estimate the chance of a purchase in [as_of, as_of + horizon).
 */
struct recommend_options {
  std::size_t k = 10;
  std::int64_t as_of = 0;
  std::int64_t horizon = 30;
  double prior_orders = 5.0;  ///< weight of the segment's shares against the customer's own
  double owned_weight = 0.0;  ///< weight of cross-sell evidence for products already owned
  double min_lift = 1.5;      ///< item pairs used for cross-sell need at least this lift
  std::uint64_t min_pair_count = 5;  ///< ... and at least this many baskets
};

constexpr auto description(std::type_identity<recommend_options>) {
  using s = recommend_options;
  return std::tuple{
      describe::field{"k", &s::k, "products per customer"},
      describe::field{"as_of", &s::as_of, "baskets before this time are the history"},
      describe::field{"horizon", &s::horizon, "length of the period predicted"},
      describe::field{"prior_orders", &s::prior_orders,
                      "orders' worth of weight of the segment's shares (shrinkage prior)"},
      describe::field{"owned_weight", &s::owned_weight,
                      "weight of cross-sell evidence for owned products (0: none)"},
      describe::field{"min_lift", &s::min_lift, "least lift of a pair used for cross-sell"},
      describe::field{"min_pair_count", &s::min_pair_count,
                      "least number of baskets of a pair used for cross-sell"}};
}

/** Customers' segments (any integer labels); customers not listed form one more segment. */
struct customer_segments {
  std::span<const std::int64_t> customer = {};
  std::span<const std::int64_t> segment = {};
};

/**
 * Ranked offers, customer by customer (customers ascending), k rows each at most (fewer when
 * the catalogue is smaller). For a customer with n orders before as_of (the first at t₀), rate
 * ρ = n / max(as_of − t₀, horizon) and E = ρ · horizon expected orders in the horizon, a
 * product bought in m of the orders, whose segment's orders hold it with share σ, has the
 * shrunk per-order share f = (m + P σ') / (n + P) (P = prior_orders; an empirical-Bayes blend of
 * the customer's own rate and a prior share σ') and the chance 1 − exp(−E f) of appearing in
 * the horizon (Poisson orders). The prior share σ' and the reason:
 * - owned (repurchase_due): σ' = max(σ, owned_weight · x) with x the cross-sell evidence below;
 *   for m >= 3 the chance is blended with a periodic one — with g the mean gap, its regularity
 *   w = clamp(1 − sd(gaps) / g, 0, 1), the next purchase due at max(as_of, last + g − 1/ρ) (a
 *   periodic need is met at the first order after it falls due, a mean wait 1/ρ later):
 *   w (1 − exp(−ρ · time left in the horizon after it is due)) (1 − 1/m) + (1 − w) · chance;
 * - not owned, cross_sell: σ' = x = max over owned i of (m_i / n) · confidence(i → j), over
 *   pairs with lift >= min_lift in >= min_pair_count history baskets, when x > σ (because = i);
 * - not owned, segment_popular: σ' = σ (the segment's most frequent products);
 * - popular: filler from the most-bought products when fewer than k were scored.
 * Ties go to the smaller product code.
 */
struct recommendation_table {
  std::vector<std::int64_t> customer;
  std::vector<std::uint32_t> rank;  ///< 1 = best
  std::vector<std::uint32_t> item;
  std::vector<double> score;
  std::vector<offer_reason> reason;
  std::vector<std::int64_t> because;  ///< the owned product behind a cross-sell offer, else −1

  [[nodiscard]] std::size_t size() const noexcept { return customer.size(); }
};

constexpr auto description(std::type_identity<recommendation_table>) {
  using s = recommendation_table;
  return std::tuple{describe::field{"customer", &s::customer, "customer id"},
                    describe::field{"rank", &s::rank, "1 = best offer"},
                    describe::field{"item", &s::item, "product code"},
                    describe::field{"score", &s::score, "estimated purchase chance"},
                    describe::field{"reason", &s::reason, "why it is offered"},
                    describe::field{"because", &s::because,
                                    "owned product behind a cross-sell offer (-1: none)"}};
}

/**
 * Top-k offers for every customer with history before `options.as_of` (`baskets` need customer
 * and time columns), or only for those of them listed in `only` when it is not empty (the
 * statistics behind the scores still come from every customer's history, so a customer's
 * offers are the same either way). Deterministic at any thread count.
 * @throw invalid_input for baskets without customers or times, k = 0, horizon <= 0, or
 *        mismatched segment columns.
 */
recommendation_table recommend(const basket_matrix& baskets, const recommend_options& options,
                               const customer_segments& segments = {},
                               std::span<const std::int64_t> only = {});

/** The methods compared by evaluate_recommendations. */
enum class offer_method : std::uint8_t { crmkit, global_popularity, personal_frequency };

constexpr auto description(std::type_identity<offer_method>) {
  return describe::enum_table<offer_method, 3>{
      "method",
      {{{offer_method::crmkit, "crmkit"},
        {offer_method::global_popularity, "global_popularity"},
        {offer_method::personal_frequency, "personal_frequency"}}}};
}

/**
 * A time-split holdout: history = baskets before `as_of`, test = the products each customer
 * bought in [as_of, as_of + horizon); customers with both are scored, the metrics averaged over
 * them (Järvelin & Kekäläinen 2002 for NDCG with binary relevance: DCG = Σ_r rel_r / log2(r + 1)
 * over the top k, divided by the DCG of a perfect ranking). recall_repeat / recall_new restrict
 * recall to the test products the customer had / had not bought before (averaged over customers
 * with any). Baselines: global popularity (most baskets in history) and personal frequency (the
 * customer's own products by purchases, ties to the latest, then popularity).
 */
struct evaluation_table {
  std::vector<offer_method> method;
  std::vector<double> precision, recall, hit_rate, ndcg, recall_repeat, recall_new;
  std::vector<std::uint64_t> customers;
  std::size_t k = 0;
};

constexpr auto description(std::type_identity<evaluation_table>) {
  using s = evaluation_table;
  return std::tuple{describe::field{"method", &s::method, "recommender or baseline"},
                    describe::field{"precision", &s::precision, "precision@k"},
                    describe::field{"recall", &s::recall, "recall@k"},
                    describe::field{"hit_rate", &s::hit_rate, "share with at least one hit"},
                    describe::field{"ndcg", &s::ndcg, "NDCG@k"},
                    describe::field{"recall_repeat", &s::recall_repeat,
                                    "recall@k of products bought before"},
                    describe::field{"recall_new", &s::recall_new,
                                    "recall@k of products new to the customer"},
                    describe::field{"customers", &s::customers, "customers scored"},
                    describe::field{"k", &s::k, "list length"}};
}

/** Scores recommend and both baselines on the holdout (see evaluation_table). */
evaluation_table evaluate_recommendations(const basket_matrix& baskets,
                                          const recommend_options& options,
                                          const customer_segments& segments = {});

}  // namespace crmkit::basket
