#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

/**
 * A BG/NBD / MBG/NBD customer simulator for tests, written from the model's definition (FHL
 * 2005 §3) and independent of crmkit: λ ~ Gamma(r, rate α), p ~ Beta(a, b); purchases arrive as
 * a Poisson process and the customer drops out after each repeat purchase with probability p
 * (and, for MBG/NBD, also right at the start). Ages T are uniform on (0, max_age], or, with
 * `whole_periods`, on {1, …, max_age} (max_age a whole number).
 */
namespace crmkit_test {

struct simulated {
  std::vector<double> x, t_x, T;
};

inline double draw_beta(std::mt19937_64& rng, double a, double b) {
  const double u = std::gamma_distribution<double>(a, 1.0)(rng);
  const double v = std::gamma_distribution<double>(b, 1.0)(rng);
  return u / (u + v);
}

inline simulated simulate_beta_geometric(std::size_t n, double r, double alpha, double a, double b,
                                         bool modified, double max_age, std::uint64_t seed,
                                         bool whole_periods = false) {
  std::mt19937_64 rng(seed);
  simulated out;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double uniform_age = max_age * (1 - unit(rng));
    const double age = whole_periods ? std::ceil(uniform_age) : uniform_age;
    const double rate = std::gamma_distribution<double>(r, 1.0 / alpha)(rng);
    const double p = draw_beta(rng, a, b);
    // Purchases the customer makes before dropping out: geometric, counting the fatal one.
    const double lifetime_purchases =
        static_cast<double>(std::geometric_distribution<long long>(p)(rng)) + (modified ? 0 : 1);
    const double arrivals =
        static_cast<double>(std::poisson_distribution<long long>(rate * age)(rng));
    const double x = std::min(lifetime_purchases, arrivals);
    double t_x = 0;
    if (x > 0) t_x = age * draw_beta(rng, x, arrivals - x + 1);  // x-th of `arrivals` uniform times
    out.x.push_back(x);
    out.t_x.push_back(t_x);
    out.T.push_back(age);
  }
  return out;
}

// A Pareto/NBD customer simulator written from the model's definition (Schmittlein et al. 1987
// §2), independent of crmkit: λ ~ Gamma(r, rate α), μ ~ Gamma(s, rate β), lifetime ~ Exp(μ),
// Poisson purchases at rate λ until min(lifetime, T); T uniform on (0, max_age].
template <class P>
simulated simulate_pareto_nbd(std::size_t n, const P& p, double max_age, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  simulated out;
  for (std::size_t i = 0; i < n; ++i) {
    const double age = max_age * (1 - unit(rng));
    const double lambda = std::gamma_distribution<double>(p.r, 1.0 / p.alpha)(rng);
    const double mu = std::gamma_distribution<double>(p.s, 1.0 / p.beta)(rng);
    const double death = std::exponential_distribution<double>(mu)(rng);
    const double end = std::min(age, death);
    double x = 0, t_x = 0;
    for (double time = std::exponential_distribution<double>(lambda)(rng); time < end;
         time += std::exponential_distribution<double>(lambda)(rng)) {
      ++x;
      t_x = time;
    }
    out.x.push_back(x);
    out.t_x.push_back(t_x);
    out.T.push_back(age);
  }
  return out;
}

}  // namespace crmkit_test
