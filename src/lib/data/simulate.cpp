#include "crmkit/data/simulate.hpp"

#include <cmath>
#include <limits>
#include <string_view>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/random.hpp"
#include "huge_pages.hpp"

namespace crmkit::data {
namespace {

constexpr std::string_view function = "simulate_transactions";

struct customer_truth {
  double lambda, dropout, nu, birth, death;
};

/**
 * Runs customer `id`'s purchase process, calling `purchase(time)` for each purchase up to the
 * horizon, at most `limit` times. The process draws only from the customer's first stream; its
 * amounts come from a second one, so counting and filling see the same purchases.
 */
template <class Purchase>
customer_truth run_customer(const simulation_options& options, std::uint64_t id, std::size_t limit,
                            Purchase&& purchase) {
  random_stream process(options.seed, 2 * id);
  customer_truth truth{};
  truth.lambda = process.gamma(options.r, options.alpha);
  truth.dropout = process.beta(options.a, options.b);
  truth.nu = process.gamma(options.q, options.gamma);
  truth.birth = options.acquisition_periods * process.uniform();
  truth.death = std::numeric_limits<double>::infinity();
  purchase(truth.birth);
  double time = truth.birth;
  for (std::size_t count = 1; count < limit && truth.lambda > 0; ++count) {
    time += process.exponential(truth.lambda);
    if (time > options.horizon) break;
    purchase(time);
    if (process.uniform() < truth.dropout) {
      truth.death = time;
      break;
    }
  }
  return truth;
}

void check_options(const simulation_options& options) {
  check::positive(function, "r", options.r);
  check::positive(function, "alpha", options.alpha);
  check::positive(function, "a", options.a);
  check::positive(function, "b", options.b);
  check::positive(function, "p", options.p);
  check::positive(function, "q", options.q);
  check::positive(function, "gamma", options.gamma);
  check::positive(function, "horizon", options.horizon);
  check::nonnegative(function, "acquisition_periods", options.acquisition_periods);
  if (options.acquisition_periods > options.horizon) {
    check::fail(function, fmt::format("acquisition_periods = {} must not exceed horizon = {}",
                                      options.acquisition_periods, options.horizon));
  }
  if (options.customers == 0) check::fail(function, "customers = 0; simulate at least one");
}

}  // namespace

simulated_transactions simulate_transactions(const simulation_options& options) {
  check_options(options);
  const std::size_t n = options.customers;
  const std::size_t limit = options.max_transactions;

  // Pass 1: rows per customer (each capped at limit + 1, which is enough to fail below).
  auto offset = detail::large_vector<std::size_t>(n + 1, 0);
  parallel_for(n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      run_customer(options, i, limit + 1, [&](double) { ++offset[i + 1]; });
    }
  });
  for (std::size_t i = 0; i < n; ++i) {
    offset[i + 1] += offset[i];
    if (offset[i + 1] > limit) {
      check::fail(function, fmt::format("the simulation would produce more than max_transactions "
                                        "= {} rows (by customer {} of {}); lower customers, "
                                        "horizon or the purchase rate r / alpha",
                                        limit, i + 1, n));
    }
  }

  simulated_transactions out;
  const std::size_t rows = offset[n];
  out.customer = detail::large_vector<std::int64_t>(rows);
  out.time = detail::large_vector<double>(rows);
  out.amount = detail::large_vector<double>(rows);
  for (auto* column : {&out.lambda, &out.dropout, &out.nu, &out.birth, &out.death}) {
    column->resize(n);
  }
  out.alive.resize(n);

  // Pass 2: the same processes again, now writing rows and amounts.
  parallel_for(n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      random_stream spend(options.seed, 2 * i + 1);
      std::size_t row = offset[i];
      const customer_truth truth = run_customer(options, i, limit + 1, [&](double time) {
        out.customer[row] = static_cast<std::int64_t>(i);
        out.time[row] = time;
        ++row;
      });
      for (std::size_t k = offset[i]; k < row; ++k)
        out.amount[k] = spend.gamma(options.p, truth.nu);
      out.lambda[i] = truth.lambda;
      out.dropout[i] = truth.dropout;
      out.nu[i] = truth.nu;
      out.birth[i] = truth.birth;
      out.death[i] = truth.death;
      out.alive[i] = std::isinf(truth.death) ? 1 : 0;
    }
  });
  return out;
}

}  // namespace crmkit::data
