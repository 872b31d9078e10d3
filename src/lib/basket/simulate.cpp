#include "crmkit/basket/simulate.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/random.hpp"

namespace crmkit::basket {

namespace {

constexpr std::string_view function = "simulate_baskets";

void check_options(const basket_simulation_options& o) {
  check::positive(function, "customers", o.customers);
  check::positive(function, "products", o.products);
  check::positive(function, "segments", o.segments);
  check::positive(function, "days", o.days);
  check::positive(function, "orders_per_day", o.orders_per_day);
  check::positive(function, "rate_shape", o.rate_shape);
  if (!(o.basket_size >= 1)) check::fail(function, "basket_size must be >= 1");
  check::nonnegative(function, "popularity_exponent", o.popularity_exponent);
  check::positive(function, "segment_boost", o.segment_boost);
  if (o.taste_items > o.products) check::fail(function, "taste_items must be <= products");
  if (o.staples > o.taste_items) check::fail(function, "staples must be <= taste_items");
  check::positive(function, "cycle_min", o.cycle_min);
  if (!(o.cycle_max >= o.cycle_min)) check::fail(function, "cycle_max must be >= cycle_min");
  for (const auto& [name, p] : {std::pair{"staple_probability", o.staple_probability},
                               {"planted_rate", o.planted_rate},
                               {"planted_noise", o.planted_noise}}) {
    if (!(p >= 0 && p <= 1)) check::fail(function, fmt::format("{} = {} must be in [0, 1]", name, p));
  }
}

std::uint32_t poisson(rng::simulation_stream& stream, double mean) {
  const double limit = std::exp(-mean);
  double product = stream.uniform();
  std::uint32_t count = 0;
  while (product > limit) {
    ++count;
    product *= stream.uniform();
  }
  return count;
}

std::uint32_t below(rng::simulation_stream& stream, std::uint32_t n) {
  return std::min(static_cast<std::uint32_t>(stream.uniform() * n), n - 1);
}

/** The fixed structure: segment favourites, their cumulative weights, the planted sets. */
struct world {
  std::vector<std::vector<std::uint32_t>> favourites;
  std::vector<std::vector<double>> cumulative;  ///< per segment, over the base catalogue
};

world make_world(const basket_simulation_options& o) {
  rng::simulation_stream stream(o.seed, 0);
  world out;
  for (std::size_t s = 0; s < o.segments; ++s) {
    std::vector<double> weight(o.products);
    for (std::uint32_t j = 0; j < o.products; ++j) {
      weight[j] = std::pow(static_cast<double>(j) + 1.0, -o.popularity_exponent);
    }
    std::vector<std::uint32_t> chosen;
    while (chosen.size() < o.taste_items) {
      const auto j = below(stream, o.products);
      if (std::find(chosen.begin(), chosen.end(), j) == chosen.end()) chosen.push_back(j);
    }
    for (const auto j : chosen) weight[j] *= o.segment_boost;
    std::partial_sum(weight.begin(), weight.end(), weight.begin());
    out.favourites.push_back(std::move(chosen));
    out.cumulative.push_back(std::move(weight));
  }
  return out;
}

struct customer_lines {
  std::vector<std::int64_t> order_in_chunk, customer, day;
  std::vector<std::uint32_t> item, segment, staple_customer, staple_item;
  std::vector<double> staple_cycle;
  std::int64_t orders = 0;
};

}  // namespace

basket_simulation simulate_baskets(const basket_simulation_options& o) {
  check_options(o);
  const auto structure = make_world(o);
  basket_simulation out;
  for (std::uint32_t p = 0; p < o.planted_pairs + o.planted_triples; ++p) {
    const std::uint32_t size = p < o.planted_pairs ? 2 : 3;
    const auto first = o.products + (p < o.planted_pairs ? 2 * p : 2 * o.planted_pairs + 3 * (p - o.planted_pairs));
    for (std::uint32_t k = 0; k < size; ++k) out.planted_items.push_back(first + k);
    out.planted_offsets.push_back(out.planted_items.size());
    const double q = o.planted_rate, r = o.planted_noise;
    const double p1 = 1 - (1 - q) * (1 - r), p2 = q + (1 - q) * r * r, p3 = q + (1 - q) * r * r * r;
    out.planted_lift.push_back(size == 2 ? p2 / (p1 * p1) : p3 / (p2 * p1));
  }
  out.item_count = o.products + 2 * o.planted_pairs + 3 * o.planted_triples;

  const std::size_t grain = 256;
  std::vector<customer_lines> parts(chunk_count(o.customers, grain));
  parallel_chunks(o.customers, grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    auto& part = parts[chunk];
    std::vector<std::uint32_t> basket;
    std::vector<double> last, cycle;
    std::vector<std::uint32_t> staple;
    for (auto c = begin; c < end; ++c) {
      rng::simulation_stream stream(o.seed, c + 1);
      const auto segment = below(stream, static_cast<std::uint32_t>(o.segments));
      part.segment.push_back(segment);
      const auto& cumulative = structure.cumulative[segment];
      const auto& favourites = structure.favourites[segment];
      staple.clear();
      last.clear();
      cycle.clear();
      while (staple.size() < o.staples) {
        const auto j = favourites[below(stream, o.taste_items)];
        if (std::find(staple.begin(), staple.end(), j) != staple.end()) continue;
        staple.push_back(j);
        cycle.push_back(o.cycle_min + (o.cycle_max - o.cycle_min) * stream.uniform());
        last.push_back(-cycle.back() * stream.uniform());
        part.staple_customer.push_back(static_cast<std::uint32_t>(c));
        part.staple_item.push_back(j);
        part.staple_cycle.push_back(cycle.back());
      }
      const double rate = stream.gamma(o.rate_shape, o.rate_shape / o.orders_per_day);
      for (double t = stream.exponential(rate); t < o.days; t += stream.exponential(rate)) {
        basket.clear();
        const auto draws = 1 + poisson(stream, o.basket_size - 1);
        for (std::uint32_t d = 0; d < draws; ++d) {
          const double u = stream.uniform() * cumulative.back();
          basket.push_back(static_cast<std::uint32_t>(
              std::min<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), u) -
                                        cumulative.begin(),
                                    o.products - 1)));
        }
        for (std::size_t s = 0; s < staple.size(); ++s) {
          if (t - last[s] >= cycle[s] && stream.uniform() < o.staple_probability) {
            basket.push_back(staple[s]);
            last[s] = t;
          }
        }
        for (std::size_t p = 0; p + 1 < out.planted_offsets.size(); ++p) {
          const auto b = out.planted_offsets[p], e = out.planted_offsets[p + 1];
          const bool whole = stream.uniform() < o.planted_rate;
          for (auto k = b; k < e; ++k) {
            const bool alone = stream.uniform() < o.planted_noise;
            if (whole || alone) basket.push_back(out.planted_items[k]);
          }
        }
        std::sort(basket.begin(), basket.end());
        basket.erase(std::unique(basket.begin(), basket.end()), basket.end());
        for (const auto j : basket) {
          part.order_in_chunk.push_back(part.orders);
          part.customer.push_back(static_cast<std::int64_t>(c));
          part.day.push_back(static_cast<std::int64_t>(std::floor(t)));
          part.item.push_back(j);
        }
        ++part.orders;
      }
    }
  });
  std::int64_t first_order = 0;
  for (auto& part : parts) {
    for (const auto k : part.order_in_chunk) out.order.push_back(first_order + k);
    first_order += part.orders;
    out.customer.insert(out.customer.end(), part.customer.begin(), part.customer.end());
    out.day.insert(out.day.end(), part.day.begin(), part.day.end());
    out.item.insert(out.item.end(), part.item.begin(), part.item.end());
    out.segment.insert(out.segment.end(), part.segment.begin(), part.segment.end());
    out.staple_customer.insert(out.staple_customer.end(), part.staple_customer.begin(),
                               part.staple_customer.end());
    out.staple_item.insert(out.staple_item.end(), part.staple_item.begin(), part.staple_item.end());
    out.staple_cycle.insert(out.staple_cycle.end(), part.staple_cycle.begin(),
                            part.staple_cycle.end());
    part = {};
  }
  return out;
}

}  // namespace crmkit::basket
