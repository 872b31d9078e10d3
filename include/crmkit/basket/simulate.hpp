#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <vector>

#include "crmkit/core/describe.hpp"

/** A basket simulator with planted structure, for tests, benchmarks and demonstrations. */
namespace crmkit::basket {

/**
 * Options of simulate_baskets. Customers place orders as Poisson processes over `days` days with
 * rates gamma(`rate_shape`, mean `orders_per_day`); each belongs to one of `segments` segments.
 * An order holds:
 * - base items: 1 + Poisson(`basket_size` − 1) draws (with replacement; repeats merge) from a
 *   Zipf(`popularity_exponent`) long tail over the catalogue, whose weights are multiplied by
 *   `segment_boost` on the `taste_items` favourites of the customer's segment;
 * - staples: each customer has `staples` products (drawn from the segment's favourites) with a
 *   personal cycle uniform in [`cycle_min`, `cycle_max`] days, bought in an order once a cycle
 *   has passed since the last time (with probability `staple_probability`);
 * - planted pairs and triples, on products reserved for them (outside the base catalogue): in
 *   every order, each planted set is added whole with probability `planted_rate`, and each of
 *   its products alone with probability `planted_noise`, independently of everything else. So
 *   with q = planted_rate, r = planted_noise, a planted product is in a basket with probability
 *   p₁ = 1 − (1 − q)(1 − r), a planted pair with p₂ = q + (1 − q) r², a triple with
 *   p₃ = q + (1 − q) r³, and the planted lifts are p₂ / p₁² (pair) and p₃ / (p₂ p₁) (rule
 *   {two of a triple} → the third).
 * Deterministic per seed at any thread count (customer c draws from simulation_stream(seed, c)).
 */
struct basket_simulation_options {
  std::size_t customers = 2'000;
  std::uint32_t products = 500;  ///< base catalogue; planted products come after it
  std::size_t segments = 4;
  double days = 365;
  double orders_per_day = 0.05;
  double rate_shape = 2.0;
  double basket_size = 4.0;
  double popularity_exponent = 1.0;
  std::uint32_t taste_items = 25;
  double segment_boost = 8.0;
  std::uint32_t staples = 3;
  double cycle_min = 14, cycle_max = 60;
  double staple_probability = 0.9;
  std::uint32_t planted_pairs = 10, planted_triples = 4;
  double planted_rate = 0.02, planted_noise = 0.01;
  std::uint64_t seed = 1;
};

constexpr auto description(std::type_identity<basket_simulation_options>) {
  using s = basket_simulation_options;
  return std::tuple{
      describe::field{"customers", &s::customers, "number of customers"},
      describe::field{"products", &s::products, "base catalogue size (long tail)"},
      describe::field{"segments", &s::segments, "number of taste segments"},
      describe::field{"days", &s::days, "length of the simulated period in days"},
      describe::field{"orders_per_day", &s::orders_per_day, "mean order rate per customer"},
      describe::field{"rate_shape", &s::rate_shape, "gamma shape of the order rates"},
      describe::field{"basket_size", &s::basket_size, "mean number of base draws per order"},
      describe::field{"popularity_exponent", &s::popularity_exponent, "Zipf exponent"},
      describe::field{"taste_items", &s::taste_items, "favourite products per segment"},
      describe::field{"segment_boost", &s::segment_boost, "weight multiplier of favourites"},
      describe::field{"staples", &s::staples, "repurchased products per customer"},
      describe::field{"cycle_min", &s::cycle_min, "shortest repurchase cycle (days)"},
      describe::field{"cycle_max", &s::cycle_max, "longest repurchase cycle (days)"},
      describe::field{"staple_probability", &s::staple_probability,
                      "chance a due staple is bought"},
      describe::field{"planted_pairs", &s::planted_pairs, "planted complementary pairs"},
      describe::field{"planted_triples", &s::planted_triples, "planted triples"},
      describe::field{"planted_rate", &s::planted_rate, "chance a planted set is added whole"},
      describe::field{"planted_noise", &s::planted_noise,
                      "chance each planted product is added alone"},
      describe::field{"seed", &s::seed, "random seed"}};
}

/**
 * Simulated order lines (order-major; orders numbered 0, 1, ... customer by customer in time
 * order) and the planted truth.
 */
struct basket_simulation {
  std::vector<std::int64_t> order, customer, day;  ///< per line; day = whole days since 0
  std::vector<std::uint32_t> item;
  std::vector<std::uint32_t> segment;        ///< per customer
  std::vector<std::uint32_t> planted_items;  ///< planted sets, CSR by planted_offsets
  std::vector<std::uint64_t> planted_offsets{0};
  std::vector<double> planted_lift;  ///< per planted set (see the options)
  std::vector<std::uint32_t> staple_customer, staple_item;  ///< one row per staple
  std::vector<double> staple_cycle;                          ///< days
  std::uint32_t item_count = 0;
};

constexpr auto description(std::type_identity<basket_simulation>) {
  using s = basket_simulation;
  return std::tuple{
      describe::field{"order", &s::order, "order id of each line"},
      describe::field{"customer", &s::customer, "customer of each line"},
      describe::field{"day", &s::day, "day of each line"},
      describe::field{"item", &s::item, "product code of each line"},
      describe::field{"segment", &s::segment, "segment of each customer"},
      describe::field{"planted_items", &s::planted_items, "planted sets' products"},
      describe::field{"planted_offsets", &s::planted_offsets, "CSR offsets of planted sets"},
      describe::field{"planted_lift", &s::planted_lift, "planted lift of each set"},
      describe::field{"staple_customer", &s::staple_customer, "customer of each staple"},
      describe::field{"staple_item", &s::staple_item, "product of each staple"},
      describe::field{"staple_cycle", &s::staple_cycle, "repurchase cycle in days"},
      describe::field{"item_count", &s::item_count, "catalogue size including planted products"}};
}

/**
 * Simulates order lines with planted pairs, triples, repurchase cycles and segment tastes.
 * @throw invalid_input for a non-positive size, rate or cycle, or a probability outside [0, 1].
 */
basket_simulation simulate_baskets(const basket_simulation_options& options = {});

}  // namespace crmkit::basket
