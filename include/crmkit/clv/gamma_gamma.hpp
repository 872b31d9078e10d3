#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <tuple>

#include "crmkit/clv/fit.hpp"
#include "crmkit/clv/observations.hpp"
#include "crmkit/clv/params.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/exact_sum.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/math/special.hpp"

namespace crmkit::clv {

namespace detail {

/** Per-row sums: Σ w (x) ln(v + x m), Σ w (x)/(v + x m) and their squares (each rounded once). */
struct spend_row_sums {
  double log_total = 0, x_log_total = 0;
  double inverse = 0, x_inverse = 0;
  double inverse_squared = 0, x_inverse_squared = 0;
};

/**
 * N sums kept exactly (full_range_sum), their non-finite addends apart (full_range_columns); a
 * partition ships `sums[k].limbs()` and `special`, and partitions merge in any order.
 */
template <std::size_t N>
struct exact_columns {
  std::array<full_range_sum, N> sums{};
  std::array<double, N> special{};

  exact_columns() = default;
  explicit exact_columns(full_range_columns& columns) {
    auto& found = columns.sums();
    for (std::size_t k = 0; k < N; ++k) {
      sums[k] = found[k];
      special[k] = columns.special()[k];
    }
  }
  exact_columns& operator+=(const exact_columns& other) {
    for (std::size_t k = 0; k < N; ++k) {
      sums[k] += other.sums[k];
      special[k] += other.special[k];
    }
    return *this;
  }
  /** Sum k rounded once (the non-finite addends' sum if there were any). */
  [[nodiscard]] double value(std::size_t k) const {
    return special[k] != 0 ? special[k] : sums[k].value();
  }
};

/** The six per-row sums of spend_row_sums, in its order, exactly. */
using exact_spend_row_sums = exact_columns<6>;

template <bool WithHessian, bool Weighted>
exact_spend_row_sums sum_spend_rows(double v, const double* x, const double* m, const double* w,
                                    std::size_t count) {
  full_range_columns out(6);
  for (std::size_t i = 0; i < count; ++i) {
    const double total = v + x[i] * m[i];
    const double log_total = std::log(total);
    const double inverse = 1 / total;
    const double weight = Weighted ? w[i] : 1.0;
    const double wx = weight * x[i];
    out.add(0, weight * log_total);
    out.add(1, wx * log_total);
    out.add(2, weight * inverse);
    out.add(3, wx * inverse);
    if constexpr (WithHessian) {
      out.add(4, weight * inverse * inverse);
      out.add(5, wx * inverse * inverse);
    }
  }
  return exact_spend_row_sums(out);
}

/**
 * The per-row sums at v over all rows, exactly: a parallel pass whose chunks' exact sums merge
 * in any order (so any partitioning of the rows gives the same sums).
 */
template <bool WithHessian>
exact_spend_row_sums sum_spend_rows_exactly(double v, std::span<const double> x,
                                            std::span<const double> m, std::span<const double> w) {
  return parallel_reduce(
      x.size(), exact_spend_row_sums{},
      [&](std::size_t begin, std::size_t end) {
        return w.empty() ? sum_spend_rows<WithHessian, false>(v, x.data() + begin, m.data() + begin,
                                                              nullptr, end - begin)
                         : sum_spend_rows<WithHessian, true>(v, x.data() + begin, m.data() + begin,
                                                             w.data() + begin, end - begin);
      },
      [](exact_spend_row_sums total, const exact_spend_row_sums& part) { return total += part; },
      likelihood_grain);
}

/** The exact per-row sums, each rounded once. */
inline spend_row_sums rounded(const exact_spend_row_sums& exact) {
  return {exact.value(0), exact.value(1), exact.value(2),
          exact.value(3), exact.value(4), exact.value(5)};
}

/** The per-row sums at v over all rows (sum_spend_rows_exactly, rounded once each). */
template <bool WithHessian>
spend_row_sums sum_spend_rows(double v, std::span<const double> x, std::span<const double> m,
                              std::span<const double> w) {
  return rounded(sum_spend_rows_exactly<WithHessian>(v, x, m, w));
}

/**
 * Repeat customers' spend rows (x_i ≥ 1 integer, mean spend m_i > 0, weight w_i) as the
 * Gamma-Gamma likelihood uses them. Every term of ℓ except ln(v + x m) depends on x alone or
 * enters through sums fixed before fitting, so the rows are neither sorted nor copied: the data
 * are the caller's columns, the weight W_x of each distinct x (a histogram), and
 * Σ w m, Σ w ln m, Σ w x ln m, kept exactly. A sample owns its columns.
 */
class spend_rows {
 public:
  spend_rows() = default;
  spend_rows(std::span<const double> x, std::span<const double> m, std::span<const double> w)
      : x_(x), m_(m), w_(w) {
    summarise();
  }
  spend_rows(const spend_rows&) = delete;
  spend_rows& operator=(const spend_rows&) = delete;
  spend_rows(spend_rows&&) noexcept = default;
  spend_rows& operator=(spend_rows&&) noexcept = default;
  ~spend_rows() = default;

  /** Per-row sums at v (with or without the Hessian's) over rows held elsewhere. */
  using remote_sums = std::function<spend_row_sums(double v, bool with_hessian)>;

  /**
   * Rows held elsewhere (a cluster's partitions): their count, their W_x histogram and the three
   * fixed sums, added up by whoever holds them; `sample` (owning: the holders'
   * hashed_sample_part together, any order; its weights scaled here) stands in for them in the
   * fit's first stage, and every other pass over the rows is one call of `sums`.
   */
  static spend_rows held_elsewhere(std::size_t rows, std::vector<double> levels,
                                   std::vector<double> level_weights, double spend,
                                   double log_spend, double x_log_spend, spend_rows sample,
                                   remote_sums sums) {
    spend_rows out;
    out.remote_rows_ = rows;
    out.levels_ = std::move(levels);
    out.level_weights_ = std::move(level_weights);
    for (const double w : out.level_weights_) out.total_weight_ += w;
    out.weighted_spend_ = spend;
    out.weighted_log_spend_ = log_spend;
    out.weighted_x_log_spend_ = x_log_spend;
    if (sample.size() > 0) sample.scale_weights_to(out.total_weight_);
    out.remote_sample_ = std::make_shared<spend_rows>(std::move(sample));
    out.remote_ = std::move(sums);
    return out;
  }

  /** Rows owning their columns. */
  static spend_rows owning(std::vector<double> x, std::vector<double> m, std::vector<double> w) {
    spend_rows out;
    out.own_x_ = std::move(x);
    out.own_m_ = std::move(m);
    out.own_w_ = std::move(w);
    out.x_ = out.own_x_;
    out.m_ = out.own_m_;
    out.w_ = out.own_w_;
    out.summarise();
    return out;
  }

  /** Σ w (x) ln(v + x m), Σ w (x)/(v + x m) and (with the Hessian) their squares' sums. */
  template <bool WithHessian>
  [[nodiscard]] spend_row_sums row_sums(double v) const {
    if (remote_) return remote_(v, WithHessian);
    return sum_spend_rows<WithHessian>(v, x_, m_, w_);
  }

  [[nodiscard]] std::size_t size() const noexcept { return remote_ ? remote_rows_ : x_.size(); }
  [[nodiscard]] double weight(std::size_t i) const noexcept { return w_.empty() ? 1.0 : w_[i]; }
  [[nodiscard]] std::span<const double> x() const noexcept { return x_; }
  [[nodiscard]] std::span<const double> m() const noexcept { return m_; }
  [[nodiscard]] std::span<const double> w() const noexcept { return w_; }
  /** Distinct x in increasing order and their total weights W_x. */
  [[nodiscard]] const std::vector<double>& levels() const noexcept { return levels_; }
  [[nodiscard]] const std::vector<double>& level_weights() const noexcept { return level_weights_; }
  [[nodiscard]] double total_weight() const noexcept { return total_weight_; }
  [[nodiscard]] double weighted_spend() const noexcept { return weighted_spend_; }
  [[nodiscard]] double weighted_log_spend() const noexcept { return weighted_log_spend_; }
  [[nodiscard]] double weighted_x_log_spend() const noexcept { return weighted_x_log_spend_; }

  /**
   * About `target` rows standing for all: the rows whose (x, m) hash to 0 modulo
   * k = ⌈rows/target⌉, their weights scaled by W / (their total weight) (of rows held elsewhere,
   * their sample so scaled). The choice depends on each row's values alone, and every sum over
   * the sample is exact or adds equal weights, so neither the rows' order nor their split
   * changes it. Empty (no staging) when no row is chosen, as when all rows are equal.
   */
  [[nodiscard]] spend_rows hashed_sample(std::size_t target) const {
    if (remote_) {
      const auto& s = *remote_sample_;
      return owning({s.x_.begin(), s.x_.end()}, {s.m_.begin(), s.m_.end()},
                    {s.w_.begin(), s.w_.end()});
    }
    auto sample = hashed_sample_part(target, size());
    sample.scale_weights_to(total_weight_);
    return sample;
  }

  /**
   * This part's rows of the hashed sample of about `target` of `total` rows (weights not yet
   * scaled: held_elsewhere scales the parts' samples together).
   */
  [[nodiscard]] spend_rows hashed_sample_part(std::size_t target, std::size_t total) const {
    const std::uint64_t step = std::max<std::uint64_t>(
        1, (total + target - 1) / std::max<std::size_t>(1, target));
    spend_rows sample;
    for (std::size_t i = 0; i < size(); ++i) {
      if (row_hash(x_[i], m_[i]) % step != 0) continue;
      sample.own_x_.push_back(x_[i]);
      sample.own_m_.push_back(m_[i]);
      sample.own_w_.push_back(weight(i));
    }
    sample.x_ = sample.own_x_;
    sample.m_ = sample.own_m_;
    sample.w_ = sample.own_w_;
    sample.summarise();
    return sample;
  }

  /** Σ w m, Σ w ln m, Σ w x ln m exactly (what a part ships for held_elsewhere). */
  [[nodiscard]] const exact_columns<3>& fixed_sums() const noexcept { return fixed_; }

 private:
  /** SplitMix64's finaliser of the row's bits: a function of (x, m) alone. */
  static std::uint64_t row_hash(double x, double m) noexcept {
    std::uint64_t z = std::bit_cast<std::uint64_t>(x) * 0x9e3779b97f4a7c15u ^
                      std::bit_cast<std::uint64_t>(m);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
  }

  /** Multiplies the (owned) weights by total / total_weight(); no rows if that is 0. */
  void scale_weights_to(double total) {
    if (!(total_weight_ > 0)) {
      own_x_.clear();
      own_m_.clear();
      own_w_.clear();
      x_ = own_x_;
      m_ = own_m_;
    }
    if (own_w_.empty()) own_w_.assign(own_x_.size(), 1.0);
    const double factor = total / total_weight_;
    for (double& w : own_w_) w *= factor;
    w_ = own_w_;
    summarise();
  }

  void summarise() {
    fixed_ = parallel_reduce(
        size(), exact_columns<3>{},
        [&](std::size_t begin, std::size_t end) {
          full_range_columns part(3);
          for (std::size_t i = begin; i < end; ++i) {
            const double w = weight(i);
            const double log_m = std::log(m_[i]);
            part.add(0, w * m_[i]);
            part.add(1, w * log_m);
            part.add(2, w * x_[i] * log_m);
          }
          return exact_columns<3>(part);
        },
        [](exact_columns<3> total, const exact_columns<3>& part) { return total += part; });
    weighted_spend_ = fixed_.value(0);
    weighted_log_spend_ = fixed_.value(1);
    weighted_x_log_spend_ = fixed_.value(2);
    count_levels();
  }

  /** W_x by a dense histogram when x is small (the usual case), else by an ordered map. */
  void count_levels() {
    double largest = 0;
    for (const double x : x_) largest = std::max(largest, x);
    levels_.clear();
    level_weights_.clear();
    total_weight_ = 0;
    if (largest <= static_cast<double>(4 * size() + 65536)) {
      std::vector<double> histogram(static_cast<std::size_t>(largest) + 1, 0.0);
      for (std::size_t i = 0; i < size(); ++i)
        histogram[static_cast<std::size_t>(x_[i])] += weight(i);
      for (std::size_t x = 0; x < histogram.size(); ++x) {
        if (histogram[x] == 0) continue;
        levels_.push_back(static_cast<double>(x));
        level_weights_.push_back(histogram[x]);
      }
    } else {
      std::map<double, double> histogram;
      for (std::size_t i = 0; i < size(); ++i) histogram[x_[i]] += weight(i);
      for (const auto& [x, w] : histogram) {
        if (w == 0) continue;
        levels_.push_back(x);
        level_weights_.push_back(w);
      }
    }
    for (const double w : level_weights_) total_weight_ += w;
  }

  std::vector<double> own_x_, own_m_, own_w_;
  std::span<const double> x_, m_, w_;
  std::size_t remote_rows_ = 0;
  std::shared_ptr<const spend_rows> remote_sample_;
  remote_sums remote_;
  std::vector<double> levels_, level_weights_;
  exact_columns<3> fixed_;
  double total_weight_ = 0;
  double weighted_spend_ = 0;
  double weighted_log_spend_ = 0;
  double weighted_x_log_spend_ = 0;
};

}  // namespace detail

/**
 * The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42; Fader & Hardie
 * 2013, note 025) as model traits for fit_model. For a customer with x > 0 repeat purchases of
 * mean value m:
 *
 *   ℓ = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + (px−1) ln m + px ln x − (px+q) ln(v + x m),
 *
 * as in lifetimes' `gamma_gamma_fitter.py` and CLVTools' `gg_LL.cpp`. Summed over customers,
 *
 *   Σ w ℓ = Σ_x W_x [lnΓ(px+q) − lnΓ(px) + px ln x] − W lnΓ(q) + W q ln v + p Σ w x ln m
 *           − Σ w ln m − p Σ w x L − q Σ w L,   L = ln(v + x m),
 *
 * so each evaluation costs one logarithm and one division per row (detail::spend_rows); the
 * gradient and Hessian need only Σ w (x) / (v + x m) and Σ w (x) / (v + x m)² besides. Spend is
 * not rescaled (lifetimes does not), so `penalizer_coef` has lifetimes' meaning.
 */
struct gamma_gamma {
  using params_type = gamma_gamma_params;
  using data_type = detail::spend_rows;
  static constexpr std::size_t size = 3;
  static constexpr std::string_view name = "Gamma-Gamma";
  static constexpr std::array<std::string_view, 3> names{"p", "q", "v"};
  static constexpr std::array<int, 3> time_exponents{0, 0, 0};

  static std::array<double, 3> to_array(const params_type& g) { return {g.p, g.q, g.v}; }
  static params_type from_array(const std::array<double, 3>& v) { return {v[0], v[1], v[2]}; }
  static std::size_t row_count(const data_type& rows) { return rows.size(); }
  static double total_weight(const data_type& rows) { return rows.total_weight(); }
  static data_type sample(const data_type& rows, std::size_t target) {
    return rows.hashed_sample(target);
  }
  static double time_scale(const data_type&) { return 1; }
  static void rescale(data_type&, double) {}
  static double log_likelihood_offset(const data_type&, double) { return 0; }
  static void check_fit_data(std::string_view, const data_type&) {}

  static void check_params(std::string_view function, const params_type& g) {
    check::positive(function, "p", g.p);
    check::positive(function, "q", g.q);
    check::positive(function, "v", g.v);
  }

  /** Starts scaled to the data: the population mean pv/(q−1) equals the mean spend first. */
  static std::vector<std::array<double, 3>> starting_points(const data_type& rows) {
    const double mean = rows.weighted_spend() / rows.total_weight();
    const double e = std::exp(0.1);
    return {{1.0, 3.0, 2 * mean}, {e, e, e}, {5.0, 5.0, 4 * mean}, {0.5, 1.5, mean}};
  }

  template <bool WithHessian>
  static log_likelihood_derivatives<3> log_likelihood_sums(const params_type& g,
                                                           const data_type& rows) {
    const double p = g.p;
    const double q = g.q;
    const double v = g.v;
    const auto s = rows.template row_sums<WithHessian>(v);

    double value = 0, d_p = 0, d_q = 0, h_pp = 0, h_pq = 0, h_qq = 0;
    for (std::size_t k = 0; k < rows.levels().size(); ++k) {
      const double xk = rows.levels()[k];
      const double wk = rows.level_weights()[k];
      const double px = p * xk;
      const double log_x = std::log(xk);
      const double psi_sum = math::digamma(px + q);
      value += wk * (math::lgamma(px + q) - math::lgamma(px) + px * log_x);
      d_p += wk * xk * (psi_sum - math::digamma(px) + log_x);
      d_q += wk * psi_sum;
      if constexpr (WithHessian) {
        const double tri_sum = math::trigamma(px + q);
        h_pp += wk * xk * xk * (tri_sum - math::trigamma(px));
        h_pq += wk * xk * tri_sum;
        h_qq += wk * tri_sum;
      }
    }
    const double total = rows.total_weight();
    const double log_v = std::log(v);
    log_likelihood_derivatives<3> out;
    out.value = value - total * math::lgamma(q) + total * q * log_v +
                p * rows.weighted_x_log_spend() - rows.weighted_log_spend() - p * s.x_log_total -
                q * s.log_total;
    out.gradient[0] = d_p + rows.weighted_x_log_spend() - s.x_log_total;
    out.gradient[1] = d_q - total * math::digamma(q) + total * log_v - s.log_total;
    out.gradient[2] = total * q / v - p * s.x_inverse - q * s.inverse;
    if constexpr (WithHessian) {
      const double h_pv = -s.x_inverse;
      const double h_qv = total / v - s.inverse;
      const double h_vv = -total * q / (v * v) + p * s.x_inverse_squared + q * s.inverse_squared;
      h_qq -= total * math::trigamma(q);
      const double h[9] = {h_pp, h_pq, h_pv, h_pq, h_qq, h_qv, h_pv, h_qv, h_vv};
      for (std::size_t i = 0; i < 9; ++i) out.hessian[i] = h[i];
    }
    return out;
  }
};

template <>
struct model_for<gamma_gamma_params> {
  using type = gamma_gamma;
};

/**
 * Checks (frequency, monetary_value) for the spend model: equal non-zero lengths, frequency an
 * integer >= 1 (only customers with repeat purchases carry spend information), monetary_value
 * finite and > 0.
 */
inline void check_spend(std::string_view function, std::span<const double> frequency,
                        std::span<const double> monetary_value, bool allow_zero_frequency) {
  check::not_empty(function, "frequency", frequency.size());
  check::same_size(function, "frequency", frequency.size(), "monetary_value",
                   monetary_value.size());
  bool valid = true;  // one branch-free pass; the checks below only name the first failure
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    const double x = frequency[i];
    const double m = monetary_value[i];
    valid &= std::isfinite(x) & detail::is_whole(x) &
             ((x >= 1) | (allow_zero_frequency & (x == 0))) &
             ((x == 0) | (std::isfinite(m) & (m > 0)));
  }
  if (valid) return;
  detail::check_frequency(function, frequency);
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    if (frequency[i] == 0 && allow_zero_frequency) continue;
    if (frequency[i] < 1) {
      check::fail_at(function, "frequency", i, frequency[i],
                     "must be >= 1: the Gamma-Gamma model is fitted on customers with repeat "
                     "purchases only");
    }
    if (!(std::isfinite(monetary_value[i]) && monetary_value[i] > 0)) {
      check::fail_at(function, "monetary_value", i, monetary_value[i],
                     "must be positive and finite");
    }
  }
}

namespace detail {

/** Adds the undefined-mean warning to a Gamma-Gamma fit with q ≤ 1. */
inline fit_result<gamma_gamma_params, 3> warn_about_mean(fit_result<gamma_gamma_params, 3> result) {
  if (!(result.params.q > 1)) {
    result.warnings.add(
        warning_code::undefined_mean,
        fmt::format(
            "Gamma-Gamma: q = {:.6g} <= 1, so the population mean spend p·v/(q−1) is undefined "
            "(infinite); expected spend for customers with px + q <= 1 is reported as +inf",
            result.params.q));
  }
  return result;
}

}  // namespace detail

/**
 * Fits the Gamma-Gamma spend model to repeat customers' (frequency x ≥ 1, mean repeat spend m);
 * see fit.hpp. A fitted q ≤ 1 adds a warning: the population mean spend pv/(q−1) is then
 * undefined (infinite).
 *
 * **Example** (CDNOW's 946 repeat buyers, note 025): p, q, v ≈ 6.2488, 3.7446, 15.4478,
 * LL ≈ −4055.92.
 */
inline fit_result<gamma_gamma_params, 3> fit_gamma_gamma(std::span<const double> frequency,
                                                         std::span<const double> monetary_value,
                                                         std::span<const double> weights = {},
                                                         const fit_options& options = {}) {
  constexpr std::string_view function = "fit_gamma_gamma";
  check_spend(function, frequency, monetary_value, false);
  detail::check_weights(function, weights, frequency.size());
  return detail::warn_about_mean(fit_model<gamma_gamma>(
      function, detail::spend_rows(frequency, monetary_value, weights), options, frequency.size()));
}

/**
 * `fit_gamma_gamma` of rows held elsewhere (detail::spend_rows::held_elsewhere, e.g. a cluster's
 * partitions, which checked their rows): the same fit, each pass over the rows one call of the
 * rows' `sums`.
 */
inline fit_result<gamma_gamma_params, 3> fit_gamma_gamma_elsewhere(detail::spend_rows rows,
                                                                   const fit_options& options) {
  const std::size_t customers = rows.size();
  return detail::warn_about_mean(
      fit_model<gamma_gamma>("fit_gamma_gamma", std::move(rows), options, customers));
}

/**
 * E[Z | x, m] = (p v + p x m)/(p x + q − 1), the conditional expected mean spend (note 025
 * eq. 5): a weighted mean of the population mean pv/(q−1) and the customer's mean m. x = 0
 * gives the population mean. Where px + q ≤ 1 the expectation is infinite and +inf is returned.
 */
inline double conditional_expected_average_profit(const gamma_gamma_params& g, double x, double m) {
  const double denominator = g.p * x + g.q - 1;
  if (!(denominator > 0)) return std::numeric_limits<double>::infinity();
  // As the weighted mean (pv/(px+q-1)) + (px/(px+q-1))·m: no product of m with p·x, so amounts
  // near the double range do not overflow.
  return g.p / denominator * g.v + (x > 0 ? g.p * x / denominator * m : 0.0);
}

}  // namespace crmkit::clv
