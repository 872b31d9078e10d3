#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "crmkit/clv/bg_nbd.hpp"
#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/mbg_nbd.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/math/chebyshev.hpp"

/**
 * Per-customer predictions of the transaction models (BG/NBD, MBG/NBD), scalar and vectorised.
 * Scalar forms expect valid arguments; the vector forms check them (naming argument, index and
 * value) and run in parallel (each output element depends on its own inputs only, so the result
 * does not depend on the thread count). A time argument `t` of length 1 applies to every customer.
 */
namespace crmkit::clv {

/** Parameter structs of transaction models (those with P(alive) and expected purchases). */
template <class P>
concept transaction_params = requires(const P& p) {
  { model_for<P>::type::conditional_expected(p, 1.0, 0.0, 0.0, 1.0) } -> std::same_as<double>;
};

/** Throws invalid_input unless every parameter is positive and finite. */
template <class P>
void check_params(std::string_view function, const P& params) {
  model_for<P>::type::check_params(function, params);
}

/** ℓ for one customer (FHL 2005 eq. 6 for BG/NBD; see detail/beta_geometric.hpp). */
template <transaction_params P>
double log_likelihood(const P& p, double x, double t_x, double age) {
  log_likelihood_derivatives<4> d;
  const pattern row{x, t_x, age, 1.0};
  model_for<P>::type::template accumulate<false>(p, std::span<const pattern>(&row, 1), d);
  return d.value;
}

/** P(alive | x, t_x, T) = expit(−s) (FHL note 021; Batislam et al. 2007 for MBG/NBD). */
template <transaction_params P>
double conditional_probability_alive(const P& p, double x, double t_x, double age) {
  return model_for<P>::type::probability_alive(p, x, t_x, age);
}

/** E[Y(t) | x, t_x, T], expected purchases in (T, T+t] (FHL 2005 eq. 10, Euler-transformed). */
template <transaction_params P>
double conditional_expected_number_of_purchases_up_to_time(const P& p, double t, double x,
                                                           double t_x, double age) {
  return model_for<P>::type::conditional_expected(p, t, x, t_x, age);
}

/** E[X(t)] for a new customer (FHL 2005 eq. 9). */
template <transaction_params P>
double expected_number_of_purchases_up_to_time(const P& p, double t) {
  return model_for<P>::type::expected_new(p, t);
}

/** P(X(t) = n) for a new customer (FHL 2005 eq. 8, tail as an incomplete beta). */
template <transaction_params P>
double probability_of_n_purchases_up_to_time(const P& p, double t, double n) {
  return model_for<P>::type::pmf(p, t, n);
}

namespace detail {

inline void check_times(std::string_view function, std::string_view name, std::span<const double> t,
                        std::size_t customers, std::string_view other = "frequency") {
  check::not_empty(function, name, t.size());
  if (t.size() != 1) check::same_size(function, name, t.size(), other, customers);
  check::all_nonnegative(function, name, t);
}

inline double broadcast(std::span<const double> values, std::size_t i) {
  return values.size() == 1 ? values[0] : values[i];
}

template <class Kernel>
std::vector<double> per_customer(std::size_t n, Kernel&& kernel) {
  std::vector<double> out(n);
  parallel_for(
      n,
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) out[i] = kernel(i);
      },
      1024);
  return out;
}

}  // namespace detail

/**
 * Transaction models whose conditional expectation factors as
 *   E[Y(t) | x, t_x, T] = P(alive | x, t_x, T) · E[Y(t) | alive, x, T],
 * the second factor, the expensive one (a ₂F₁ for BG/NBD, FHL 2005 eq. 10), free of t_x; the
 * model provides it as `alive_purchases(p, t, x, T)`.
 */
template <class P>
concept separable_transaction_params = transaction_params<P> && requires(const P& p) {
  { model_for<P>::type::alive_purchases(p, 1.0, 0.0, 1.0) } -> std::same_as<double>;
};

/**
 * Separable models whose E[Y(t) | alive, x, T] depends on t and T only through
 * τ = t / purchase_time_scale(p, T) (α + T for BG/NBD and MBG/NBD): for the customers with one
 * frequency x it is one analytic function of τ, `alive_purchases_at(p, x, τ)`.
 */
template <class P>
concept time_scaled_transaction_params = separable_transaction_params<P> && requires(const P& p) {
  { model_for<P>::type::purchase_time_scale(p, 1.0) } -> std::same_as<double>;
  { model_for<P>::type::alive_purchases_at(p, 0.0, 1.0) } -> std::same_as<double>;
};

/**
 * Transaction models whose P(alive) has a part that depends on the frequency alone,
 * `log_dead_odds_base(p, x)`, computed once per frequency and passed to
 * `probability_alive_from_base` (same value as probability_alive).
 */
template <class P>
concept frequency_factored_alive = transaction_params<P> && requires(const P& p) {
  { model_for<P>::type::log_dead_odds_base(p, 1.0) } -> std::same_as<double>;
  { model_for<P>::type::probability_alive_from_base(p, 0.0, 1.0, 0.0, 1.0) } -> std::same_as<double>;
};

/**
 * Transaction models that evaluate P(alive) of many rows at once with vectorised elementary
 * functions, `probability_alive_rows(p, x, t_x, T, out)` (same formula as probability_alive).
 */
template <class P>
concept row_vectorised_alive =
    transaction_params<P> && requires(const P& p, std::span<const double> in, std::span<double> out) {
      model_for<P>::type::probability_alive_rows(p, in, in, in, out);
    };

namespace detail {

/**
 * E[Y(t_k) | alive, x, T] of one (x, T) at every horizon t_k into out[k]: the model's
 * `alive_purchases_lanes` where it has one (BG/NBD, MBG/NBD: the horizons' ₂F₁ side by side,
 * the same bits as alive_purchases), else alive_purchases horizon by horizon.
 */
template <separable_transaction_params P>
void alive_purchases_at_horizons(const P& p, std::span<const double> horizons, double x,
                                 double age, std::span<double> out) {
  using model = typename model_for<P>::type;
  if constexpr (requires { model::alive_purchases_lanes(p, horizons, x, age, out); }) {
    model::alive_purchases_lanes(p, horizons, x, age, out);
  } else {
    for (std::size_t k = 0; k < horizons.size(); ++k) {
      out[k] = model::alive_purchases(p, horizons[k], x, age);
    }
  }
}

/** log_dead_odds_base for every whole frequency 0..max x (0 where x cannot be dead), or empty
 * when the frequencies are too large to index directly. */
template <frequency_factored_alive P>
std::vector<double> dead_odds_bases(const P& p, std::span<const double> x) {
  using model = typename model_for<P>::type;
  const double largest = x.empty() ? 0.0 : *std::max_element(x.begin(), x.end());
  if (!(largest <= static_cast<double>(x.size() + 65536))) return {};
  std::vector<double> bases(static_cast<std::size_t>(largest) + 1);
  for (std::size_t k = 0; k < bases.size(); ++k) {
    const auto frequency = static_cast<double>(k);
    bases[k] = model::can_be_dead(frequency) ? model::log_dead_odds_base(p, frequency) : 0.0;
  }
  return bases;
}

/** Customers by frequency: the class of each whole frequency, and per class x, the customer
 * count and the youngest and oldest age. Empty when the frequencies are too large to index. */
struct frequency_classes {
  std::vector<std::uint32_t> of_frequency;
  std::vector<double> frequency, youngest, oldest;
  std::vector<std::size_t> customers;

  [[nodiscard]] std::size_t size() const noexcept { return frequency.size(); }
  [[nodiscard]] std::uint32_t of(double x) const noexcept {
    return of_frequency[static_cast<std::size_t>(x)];
  }
};

/** frequency_classes of checked histories (x whole and >= 0), in increasing x. */
inline frequency_classes classes_by_frequency(std::span<const double> x,
                                              std::span<const double> age) {
  frequency_classes out;
  const std::size_t n = x.size();
  const double largest = n == 0 ? 0.0 : *std::max_element(x.begin(), x.end());
  if (!(largest <= static_cast<double>(n + 65536))) return out;
  std::vector<std::size_t> count(static_cast<std::size_t>(largest) + 1, 0);
  std::vector<double> youngest(count.size(), std::numeric_limits<double>::infinity());
  std::vector<double> oldest(count.size(), -std::numeric_limits<double>::infinity());
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(x[i]);
    ++count[k];
    youngest[k] = std::min(youngest[k], age[i]);
    oldest[k] = std::max(oldest[k], age[i]);
  }
  out.of_frequency.assign(count.size(), 0);
  for (std::size_t k = 0; k < count.size(); ++k) {
    if (count[k] == 0) continue;
    out.of_frequency[k] = static_cast<std::uint32_t>(out.frequency.size());
    out.frequency.push_back(static_cast<double>(k));
    out.customers.push_back(count[k]);
    out.youngest.push_back(youngest[k]);
    out.oldest.push_back(oldest[k]);
  }
  return out;
}

}  // namespace detail

/**
 * Conditional predictions for many customers at once. For separable models (above) the
 * customers are grouped by (x, T) (group_by_frequency_and_age) and E[Y(t) | alive, x, T] is
 * evaluated once per group and horizon, P(alive) once per customer. Every value is then the
 * same product the scalar conditional_expected_number_of_purchases_up_to_time forms, so the
 * results are bit-identical to it.
 *
 * Ages that are nearly all distinct (continuous times; judged on a sample by
 * detail::merging_pays) leave no (x, T) to share. For time-scaled models (above) the customers
 * with one frequency x then share g_x(y) = E[Y(t) | alive, x, T]/τ as a function of
 * y = 1 + τ, τ = t/(α + T). For BG/NBD, E[Y(t) | alive] = E_p[(1 − (1 + pτ)^{−ν})/p] with the
 * dropout probability p ∈ (0, 1], so g_x is analytic in y except where 1 + pτ = 0, i.e. on
 * y ≤ 0. On an octave [2^k, 2^{k+1}] the nearest singularity is three half-widths from the
 * centre, so the Chebyshev coefficients fall at least like (3 + √8)^{−k} ≈ 5.8^{−k} (~21 terms
 * for 1e-16). g_x is interpolated on each octave the customers' and horizons' y meet
 * (math::chebyshev_interpolant: 17–129 exact evaluations, the degree where the coefficients
 * reach the exact forms' rounding plateau, at most `interpolation_tolerance` of g_x); the octave
 * comes from y's exponent, so each customer and horizon costs a division and a Clenshaw sum
 * (several horizons side by side) instead of a ₂F₁. A class with too few customers for that to
 * pay, with τ below interpolation_min_tau, and an octave whose coefficients do not resolve g_x
 * are evaluated exactly (the scalar form); agreement with the scalar form is ~1e-14.
 * Other models, and any model when the frequencies are too large to index, are evaluated
 * customer by customer. Either way the result does not depend on the thread count. The spans
 * are borrowed: they must outlive the forecast.
 */
template <transaction_params P>
class customer_forecast {
 public:
  /** Checks the parameters and histories (invalid_input names `function`, index and value). */
  customer_forecast(std::string_view function, const P& params, std::span<const double> x,
                    std::span<const double> t_x, std::span<const double> age)
      : customer_forecast(params, x, t_x, age,
                          (check_params(function, params), check_histories(function, x, t_x, age))) {}

  /** For parameters and histories already checked; `checked` is what check_histories found. */
  customer_forecast(const P& params, std::span<const double> x, std::span<const double> t_x,
                    std::span<const double> age, const history_check& checked)
      : params_(params), x_(x), t_x_(t_x), age_(age), histories_(checked) {
    if constexpr (frequency_factored_alive<P>) dead_odds_bases_ = detail::dead_odds_bases(params, x);
    if constexpr (separable) {
      if (detail::merging_pays(x, age)) {
        groups_ = group_by_frequency_and_age(x, age);
        alive_ = probability_alive();
      } else if constexpr (time_scaled) {
        classes_ = detail::classes_by_frequency(x, age);
      }
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return x_.size(); }

  /** What check_histories found: the histories no customer can have. */
  [[nodiscard]] const history_check& histories() const noexcept { return histories_; }

  /** P(alive | x, t_x, T) of every customer (kept when grouped, else computed on each call). */
  [[nodiscard]] std::vector<double> probability_alive() const {
    if (!alive_.empty()) return alive_;
    return detail::per_customer(size(), [&](std::size_t i) { return alive(i); });
  }

  /** E[Y(t) | x, t_x, T] of every customer for one horizon t >= 0. */
  [[nodiscard]] std::vector<double> expected_purchases(double t) const {
    return discounted_increments(std::span<const double>(&t, 1), unit_divisor());
  }

  /**
   * Σ_{k=1..K} (E[Y(t_k) | ·] − E[Y(t_{k−1}) | ·]) / divisor_k per customer, E[Y(t_0)] = 0,
   * added in k order (with one horizon and divisor 1: E[Y(t_1) | ·] itself).
   */
  [[nodiscard]] std::vector<double> discounted_increments(std::span<const double> horizons,
                                                          std::span<const double> divisors) const {
    const std::size_t n = size();
    const std::size_t steps = horizons.size();
    if constexpr (!separable) {
      return customer_by_customer(horizons, divisors);
    } else {
      if constexpr (time_scaled) {
        if (classes_.size() != 0) return interpolated(horizons, divisors);
      }
      if (groups_.of_customer.empty()) return customer_by_customer(horizons, divisors);
      const std::size_t groups = groups_.size();
      // Horizons in blocks whose per-group table stays within table_limit values.
      const std::size_t block =
          std::max<std::size_t>(1, table_limit / std::max<std::size_t>(groups, 1));
      std::vector<double> value(n, 0.0);
      std::vector<double> previous(steps > block ? n : 0, 0.0);
      std::vector<double> table;
      for (std::size_t first = 0; first < steps; first += block) {
        const std::size_t width = std::min(block, steps - first);
        table.resize(groups * width);
        parallel_for(
            groups,
            [&](std::size_t begin, std::size_t end) {
              for (std::size_t g = begin; g < end; ++g) {
                detail::alive_purchases_at_horizons(
                    params_, horizons.subspan(first, width), groups_.frequency[g],
                    groups_.age[g], std::span<double>(table).subspan(g * width, width));
              }
            },
            group_grain);
        parallel_for(
            n,
            [&](std::size_t begin, std::size_t end) {
              for (std::size_t i = begin; i < end; ++i) {
                const double alive = alive_[i];
                const double* row = table.data() + groups_.of_customer[i] * width;
                double sum = value[i];
                double before = first == 0 ? 0.0 : previous[i];
                for (std::size_t k = 0; k < width; ++k) {
                  const double current = alive == 0 ? 0.0 : alive * row[k];
                  sum += (current - before) / divisors[first + k];
                  before = current;
                }
                value[i] = sum;
                if (!previous.empty()) previous[i] = before;
              }
            },
            1024);
      }
      return value;
    }
  }

 private:
  static constexpr bool separable = separable_transaction_params<P>;
  static constexpr bool time_scaled = time_scaled_transaction_params<P>;

  [[nodiscard]] double alive(std::size_t i) const {
    if constexpr (frequency_factored_alive<P>) {
      if (!dead_odds_bases_.empty()) {
        return model_for<P>::type::probability_alive_from_base(
            params_, dead_odds_bases_[static_cast<std::size_t>(x_[i])], x_[i], t_x_[i], age_[i]);
      }
    }
    return conditional_probability_alive(params_, x_[i], t_x_[i], age_[i]);
  }

  /** discounted_increments one customer at a time (ungrouped; P(alive) computed here, once). */
  [[nodiscard]] std::vector<double> customer_by_customer(std::span<const double> horizons,
                                                         std::span<const double> divisors) const {
    return detail::per_customer(size(), [&](std::size_t i) {
      double value = 0;
      double previous = 0;
      [[maybe_unused]] double alive_i = 0;
      if constexpr (separable) alive_i = alive(i);
      for (std::size_t k = 0; k < horizons.size(); ++k) {
        double current = 0;
        if constexpr (separable) {
          current = alive_i == 0 ? 0.0
                                 : alive_i * model_for<P>::type::alive_purchases(
                                                 params_, horizons[k], x_[i], age_[i]);
        } else {
          current = conditional_expected_number_of_purchases_up_to_time(params_, horizons[k],
                                                                        x_[i], t_x_[i], age_[i]);
        }
        value += (current - previous) / divisors[k];
        previous = current;
      }
      return value;
    });
  }

  /**
   * g_x on the octaves y ∈ [2^k, 2^{k+1}] of y = 1 + τ met by one class (clipped to the class's
   * range; empty when the class is evaluated exactly), the Chebyshev coefficients of every panel
   * padded with zeros to one degree so that several evaluations run side by side.
   */
  struct class_interpolant {
    int first_octave = 0;
    std::size_t stride = 0;              ///< coefficients per panel (common degree + 1)
    std::vector<double> coefficients;    ///< panel-major, c_0 first
    std::vector<double> center, inverse_half_width;
    std::vector<char> accurate;          ///< per panel; an inaccurate panel is evaluated exactly
  };

  static int octave(double y) noexcept {
    return static_cast<int>((std::bit_cast<std::uint64_t>(y) >> 52) & 0x7ff) - 1023;
  }

  /** The interpolants of every class for τ from the smallest to the largest of the horizons. */
  [[nodiscard]] std::vector<class_interpolant> interpolants(std::span<const double> horizons) const {
    using model = typename model_for<P>::type;
    std::vector<class_interpolant> out(classes_.size());
    double shortest = std::numeric_limits<double>::infinity(), longest = 0;
    for (const double t : horizons) {
      if (t > 0) shortest = std::min(shortest, t);
      longest = std::max(longest, t);
    }
    if (!(longest > 0)) return out;
    struct panel_task {
      std::size_t c;
      double lo, hi;
    };
    std::vector<panel_task> tasks;
    std::vector<std::size_t> first_task(classes_.size() + 1, 0);
    for (std::size_t c = 0; c < classes_.size(); ++c) {
      first_task[c] = tasks.size();
      if (classes_.customers[c] * horizons.size() < interpolation_min_work) continue;
      const double lo = 1 + shortest / model::purchase_time_scale(params_, classes_.oldest[c]);
      const double hi = 1 + longest / model::purchase_time_scale(params_, classes_.youngest[c]);
      if (!(hi > lo && lo > 1 + interpolation_min_tau && std::isfinite(hi))) continue;
      out[c].first_octave = octave(lo);
      for (int k = octave(lo); k <= octave(hi); ++k) {
        const double from = std::max(lo, std::ldexp(1.0, k));
        const double to = std::min(hi, std::ldexp(1.0, k + 1));
        tasks.push_back({c, from, to > from ? to : from * (1 + 1e-12)});
      }
    }
    first_task[classes_.size()] = tasks.size();
    std::vector<math::chebyshev_interpolant> panels(tasks.size());
    parallel_for(
        tasks.size(),
        [&](std::size_t begin, std::size_t end) {
          for (std::size_t task = begin; task < end; ++task) {
            const double x = classes_.frequency[tasks[task].c];
            panels[task] = math::chebyshev_interpolant(
                [&](double y) {
                  const double tau = y - 1;
                  return model::alive_purchases_at(params_, x, tau) / tau;
                },
                tasks[task].lo, tasks[task].hi, interpolation_tolerance);
          }
        },
        1);
    for (std::size_t c = 0; c < classes_.size(); ++c) {
      if (first_task[c] == first_task[c + 1]) continue;
      auto& target = out[c];
      std::size_t degree = 0;
      for (std::size_t task = first_task[c]; task < first_task[c + 1]; ++task) {
        degree = std::max(degree, panels[task].degree());
      }
      target.stride = degree + 1;
      for (std::size_t task = first_task[c]; task < first_task[c + 1]; ++task) {
        const auto& panel = panels[task];
        const auto& coefficients = panel.coefficients();
        target.coefficients.insert(target.coefficients.end(), coefficients.begin(),
                                   coefficients.end());
        target.coefficients.resize(target.coefficients.size() + target.stride - coefficients.size());
        target.center.push_back(panel.center());
        target.inverse_half_width.push_back(panel.inverse_half_width());
        target.accurate.push_back(static_cast<char>(panel.accurate()));
      }
    }
    return out;
  }

  /** discounted_increments for time-scaled models on continuous ages (see the class). */
  [[nodiscard]] std::vector<double> interpolated(std::span<const double> horizons,
                                                 std::span<const double> divisors) const {
    using model = typename model_for<P>::type;
    const auto shared = interpolants(horizons);
    constexpr std::size_t batch = 16;
    return detail::per_customer(size(), [&](std::size_t i) {
      const double alive_i = alive(i);
      if (alive_i == 0) return 0.0;
      const auto& interpolant = shared[classes_.of(x_[i])];
      const double scale = model::purchase_time_scale(params_, age_[i]);
      double value = 0;
      double previous = 0;
      double purchases[batch], u[batch], next[batch], after[batch];
      const double* coefficients[batch];
      for (std::size_t first = 0; first < horizons.size(); first += batch) {
        const std::size_t width = std::min(batch, horizons.size() - first);
        for (std::size_t m = 0; m < width; ++m) {
          const double tau = horizons[first + m] / scale;
          purchases[m] = tau;
          coefficients[m] = nullptr;
          u[m] = 0;
          if (!(tau > 0) || interpolant.stride == 0) continue;
          const double y = 1 + tau;
          const auto panel = static_cast<std::size_t>(
              std::clamp(octave(y) - interpolant.first_octave, 0,
                         static_cast<int>(interpolant.center.size()) - 1));
          if (!interpolant.accurate[panel]) continue;
          u[m] = (y - interpolant.center[panel]) * interpolant.inverse_half_width[panel];
          coefficients[m] = interpolant.coefficients.data() + panel * interpolant.stride;
        }
        // Clenshaw's recurrence for the batch side by side (independent chains).
        for (std::size_t m = 0; m < width; ++m) next[m] = after[m] = 0;
        for (std::size_t k = interpolant.stride; k-- > 1;) {
          for (std::size_t m = 0; m < width; ++m) {
            if (coefficients[m] == nullptr) continue;
            const double current = 2 * u[m] * next[m] - after[m] + coefficients[m][k];
            after[m] = next[m];
            next[m] = current;
          }
        }
        for (std::size_t m = 0; m < width; ++m) {
          const double tau = purchases[m];
          if (!(tau > 0)) {
            purchases[m] = 0;
          } else if (coefficients[m] != nullptr) {
            purchases[m] = tau * (u[m] * next[m] - after[m] + coefficients[m][0]);
          } else {
            purchases[m] = model::alive_purchases(params_, horizons[first + m], x_[i], age_[i]);
          }
        }
        for (std::size_t m = 0; m < width; ++m) {
          const double current = alive_i * purchases[m];
          value += (current - previous) / divisors[first + m];
          previous = current;
        }
      }
      return value;
    });
  }

  /** Largest coefficient, relative to g_x, accepted in the upper half of the Chebyshev series:
   * the exact forms' rounding makes a plateau near 1e-15 (math::chebyshev_interpolant). */
  static constexpr double interpolation_tolerance = 1e-14;
  /** Customer-horizon evaluations from which a class is interpolated (≤ 65 per panel). */
  static constexpr std::size_t interpolation_min_work = 256;
  /** Classes whose smallest τ is below this are evaluated exactly (y = 1 + τ would not resolve τ). */
  static constexpr double interpolation_min_tau = 1e-6;

  /** Values of E[Y(t) | alive, x, T] held at once (32 MiB). */
  static constexpr std::size_t table_limit = std::size_t{1} << 22;
  /** Groups per parallel chunk: one evaluation costs from 0.1 to 10 µs. */
  static constexpr std::size_t group_grain = 64;

  static std::span<const double> unit_divisor() {
    static constexpr double one = 1;
    return {&one, 1};
  }

  P params_;
  std::span<const double> x_, t_x_, age_;
  history_check histories_;
  std::vector<double> alive_;
  std::vector<double> dead_odds_bases_;
  frequency_age_groups groups_;
  detail::frequency_classes classes_;
};

/**
 * Vectorised conditional_probability_alive into `out` (x's size; every element is written, so it
 * may be uninitialised memory, e.g. a new numpy array). `histories`, when given, receives what
 * check_histories found (the histories no customer can have; the same in every vector form).
 */
template <transaction_params P>
void conditional_probability_alive(const P& p, std::span<const double> x,
                                   std::span<const double> t_x, std::span<const double> age,
                                   std::span<double> out, history_check* histories = nullptr) {
  constexpr std::string_view function = "conditional_probability_alive";
  check_params(function, p);
  check::same_size(function, "out", out.size(), "frequency", x.size());
  if constexpr (row_vectorised_alive<P>) {
    // One parallel pass: each chunk is checked and computed while in cache.
    const history_check found =
        check_histories_while(function, x, t_x, age, [&](std::size_t begin, std::size_t end) {
          const std::size_t size = end - begin;
          model_for<P>::type::probability_alive_rows(
              p, x.subspan(begin, size), t_x.subspan(begin, size), age.subspan(begin, size),
              out.subspan(begin, size));
        });
    detail::report_histories(found, histories);
    return;
  }
  detail::report_histories(check_histories(function, x, t_x, age), histories);
  auto each_customer = [&](auto&& kernel) {
    parallel_for(
        x.size(),
        [&](std::size_t begin, std::size_t end) {
          for (std::size_t i = begin; i < end; ++i) out[i] = kernel(i);
        },
        1024);
  };
  if constexpr (frequency_factored_alive<P>) {
    const auto bases = detail::dead_odds_bases(p, x);
    if (!bases.empty()) {
      each_customer([&](std::size_t i) {
        return model_for<P>::type::probability_alive_from_base(
            p, bases[static_cast<std::size_t>(x[i])], x[i], t_x[i], age[i]);
      });
      return;
    }
  }
  each_customer(
      [&](std::size_t i) { return conditional_probability_alive(p, x[i], t_x[i], age[i]); });
}

/**
 * Vectorised conditional_probability_alive. `histories`, when given, receives what
 * check_histories found (the histories no customer can have; the same in every vector form).
 */
template <transaction_params P>
std::vector<double> conditional_probability_alive(const P& p, std::span<const double> x,
                                                  std::span<const double> t_x,
                                                  std::span<const double> age,
                                                  history_check* histories = nullptr) {
  std::vector<double> out(x.size());
  conditional_probability_alive(p, x, t_x, age, std::span<double>(out), histories);
  return out;
}

/** Vectorised conditional_expected_number_of_purchases_up_to_time. */
template <transaction_params P>
std::vector<double> conditional_expected_number_of_purchases_up_to_time(
    const P& p, std::span<const double> t, std::span<const double> x, std::span<const double> t_x,
    std::span<const double> age, history_check* histories = nullptr) {
  constexpr std::string_view function = "conditional_expected_number_of_purchases_up_to_time";
  check_params(function, p);
  const history_check checked = check_histories(function, x, t_x, age);
  detail::check_times(function, "t", t, x.size());
  detail::report_histories(checked, histories);
  // One horizon for everyone (also when broadcast to every customer, as Python passes it).
  if (std::all_of(t.begin(), t.end(), [&](double value) { return value == t[0]; })) {
    return customer_forecast<P>(p, x, t_x, age, checked).expected_purchases(t[0]);
  }
  return detail::per_customer(x.size(), [&](std::size_t i) {
    return conditional_expected_number_of_purchases_up_to_time(p, detail::broadcast(t, i), x[i],
                                                               t_x[i], age[i]);
  });
}

/** Vectorised expected_number_of_purchases_up_to_time over horizons t. */
template <transaction_params P>
std::vector<double> expected_number_of_purchases_up_to_time(const P& p, std::span<const double> t) {
  constexpr std::string_view function = "expected_number_of_purchases_up_to_time";
  check_params(function, p);
  check::not_empty(function, "t", t.size());
  check::all_nonnegative(function, "t", t);
  return detail::per_customer(
      t.size(), [&](std::size_t i) { return expected_number_of_purchases_up_to_time(p, t[i]); });
}

/** Vectorised probability_of_n_purchases_up_to_time; t and n broadcast when of length 1. */
template <transaction_params P>
std::vector<double> probability_of_n_purchases_up_to_time(const P& p, std::span<const double> t,
                                                          std::span<const double> n) {
  constexpr std::string_view function = "probability_of_n_purchases_up_to_time";
  check_params(function, p);
  check::not_empty(function, "n", n.size());
  detail::check_frequency(function, n);
  const std::size_t size = std::max(t.size(), n.size());
  detail::check_times(function, "t", t, size, "n");
  if (n.size() != 1) check::same_size(function, "n", n.size(), "t", size);
  return detail::per_customer(size, [&](std::size_t i) {
    return probability_of_n_purchases_up_to_time(p, detail::broadcast(t, i),
                                                 detail::broadcast(n, i));
  });
}

}  // namespace crmkit::clv
