#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <vector>

#include "crmkit/core/describe.hpp"

/**
 * Simulated transaction logs with known truth, for demos, tests and benchmarks.
 */
namespace crmkit::data {

/**
 * The population and the observation window. Defaults are the published maximum-likelihood
 * estimates for the CDNOW cohort with time in weeks: BG/NBD r, alpha, a, b from Fader, Hardie &
 * Lee (2005), "Counting your customers the easy way", Marketing Science 24(2); Gamma-Gamma p, q,
 * gamma from Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base
 * analysis", Journal of Marketing Research 42(4).
 */
struct simulation_options {
  std::size_t customers = 1000;
  double r = 0.243;                ///< shape of the purchase rate distribution
  double alpha = 4.414;            ///< rate of the purchase rate distribution (per period)
  double a = 0.793;                ///< Beta a of the dropout probability
  double b = 2.426;                ///< Beta b of the dropout probability
  double p = 6.25;                 ///< shape of each purchase amount
  double q = 3.74;                 ///< shape of the spend-rate distribution
  double gamma = 15.44;            ///< rate of the spend-rate distribution
  double acquisition_periods = 0;  ///< births are uniform on [0, acquisition_periods]
  double horizon = 52;             ///< customers are observed until this time
  std::uint64_t seed = 0;
  /** Refuse (with an error) to produce more rows than this; also bounds the work done. */
  std::size_t max_transactions = 100'000'000;
};

constexpr auto description(std::type_identity<simulation_options>) {
  using s = simulation_options;
  return std::tuple{
      describe::field{"customers", &s::customers, "customers to simulate"},
      describe::field{"r", &s::r, "shape of the purchase rate distribution"},
      describe::field{"alpha", &s::alpha, "rate of the purchase rate distribution (per period)"},
      describe::field{"a", &s::a, "Beta a of the dropout probability"},
      describe::field{"b", &s::b, "Beta b of the dropout probability"},
      describe::field{"p", &s::p, "shape of each purchase amount"},
      describe::field{"q", &s::q, "shape of the spend-rate distribution"},
      describe::field{"gamma", &s::gamma, "rate of the spend-rate distribution"},
      describe::field{"acquisition_periods", &s::acquisition_periods,
                      "births are uniform on [0, acquisition_periods]"},
      describe::field{"horizon", &s::horizon, "customers are observed until this time"},
      describe::field{"seed", &s::seed, "seed of the random stream"},
      describe::field{"max_transactions", &s::max_transactions,
                      "refuse to produce more rows than this"}};
}

/**
 * A simulated log and the truth behind it. Rows are ordered by customer, then time; customer ids
 * are 0 .. customers - 1 and index the per-customer vectors.
 */
struct simulated_transactions {
  std::vector<std::int64_t> customer;  ///< one per row
  std::vector<double> time;            ///< one per row, in periods since the window opened
  std::vector<double> amount;          ///< one per row

  std::vector<double> lambda;       ///< purchase rate per period while alive
  std::vector<double> dropout;      ///< probability of dropping out after each repeat purchase
  std::vector<double> nu;           ///< spend rate: each amount ~ Gamma(p, rate nu), mean p / nu
  std::vector<double> birth;        ///< time of the first purchase
  std::vector<double> death;        ///< time of dropping out (the last purchase); +inf if alive
  std::vector<std::uint8_t> alive;  ///< 1 when alive at the horizon

  [[nodiscard]] std::size_t size() const noexcept { return customer.size(); }
};

constexpr auto description(std::type_identity<simulated_transactions>) {
  using s = simulated_transactions;
  return std::tuple{
      describe::field{"customer", &s::customer, "one per row"},
      describe::field{"time", &s::time, "one per row, in periods since the window opened"},
      describe::field{"amount", &s::amount, "one per row"},
      describe::field{"lambda", &s::lambda, "purchase rate per period while alive"},
      describe::field{"dropout", &s::dropout,
                      "probability of dropping out after each repeat purchase"},
      describe::field{"nu", &s::nu, "spend rate: each amount ~ Gamma(p, rate nu), mean p / nu"},
      describe::field{"birth", &s::birth, "time of the first purchase"},
      describe::field{"death", &s::death,
                      "time of dropping out (the last purchase); +inf if alive"},
      describe::field{"alive", &s::alive, "1 when alive at the horizon"}};
}

/**
 * Simulates customers who follow the BG/NBD purchase-and-dropout process with Gamma-Gamma spend
 * (Fader, Hardie & Lee 2005):
 * - each customer draws lambda ~ Gamma(r, rate alpha), dropout p ~ Beta(a, b) and spend rate
 *   nu ~ Gamma(q, rate gamma), and is born at a time uniform on [0, acquisition_periods];
 * - the first purchase happens at birth; while alive, repeat purchases follow a Poisson process
 *   with rate lambda; after each repeat purchase the customer drops out with probability p;
 * - every purchase's amount is drawn from Gamma(p_spend = `p`, rate nu);
 * - purchases after the horizon are not observed.
 *
 * Customer i draws from its own random streams (seeded by (seed, i)), so the log is the same for
 * any thread count. Runs the process twice (count, then fill) to allocate exactly.
 *
 * @throw invalid_input for a parameter that is not positive and finite, an acquisition window
 *        outside [0, horizon], no customers, or a log longer than `max_transactions`.
 */
simulated_transactions simulate_transactions(const simulation_options& options);

}  // namespace crmkit::data
