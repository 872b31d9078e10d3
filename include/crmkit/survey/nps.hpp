#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include <boost/random/binomial_distribution.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <tuple>

#include "crmkit/core/describe.hpp"
#include "crmkit/survey/bootstrap.hpp"
#include "crmkit/survey/category_tally.hpp"
#include "crmkit/survey/interval.hpp"

namespace crmkit::survey {

/** Net Promoter categories of a 0–10 likelihood-to-recommend answer. */
enum class nps_category : std::uint8_t { detractor = 0, passive = 1, promoter = 2 };

/** Promoters answer 9–10, passives 7–8, detractors 0–6 (Reichheld 2003, HBR 81(12)). */
[[nodiscard]] constexpr nps_category nps_category_of(std::int64_t score) noexcept {
  return score >= 9 ? nps_category::promoter
                    : (score >= 7 ? nps_category::passive : nps_category::detractor);
}

/**
 * Counts behind an NPS: `n` answers of which `promoters`, `passives`, `detractors`. For weighted
 * data these are effective counts (weight share × Kish n_eff), so they need not be integers.
 */
struct nps_counts {
  double n = 0;
  double promoters = 0;
  double passives = 0;
  double detractors = 0;
};

/** NPS = 100·(P − D)/n, in points on [−100, 100]. Undefined (NaN) for n = 0. */
[[nodiscard]] inline double nps_score(const nps_counts& counts) noexcept {
  return 100.0 * (counts.promoters - counts.detractors) / counts.n;
}

/**
 * Standard error of the NPS in points. Each answer is s ∈ {−1, 0, 1}; with shares p_P, p_D the
 * trinomial variance is Var(s) = p_P + p_D − (p_P − p_D)², so SE = 100·√(Var(s)/n)
 * (Rocks 2016, *The American Statistician* 70(4):365–372, eq. 2; R package `NPS::nps_se`).
 * Undefined (NaN) for n = 0; 0 when every answer is in one category.
 */
[[nodiscard]] inline double nps_standard_error(const nps_counts& counts) noexcept {
  const double promoters = counts.promoters / counts.n;
  const double detractors = counts.detractors / counts.n;
  const double difference = promoters - detractors;
  const double variance = std::max(0.0, promoters + detractors - difference * difference);
  return 100.0 * std::sqrt(variance / counts.n);
}

/** Wald interval NPS ± z_{1−α/2}·SE, clipped to [−100, 100]. Degenerate when SE = 0. */
[[nodiscard]] inline interval nps_wald_interval(const nps_counts& counts, double confidence) {
  detail::check_confidence("nps_wald_interval", confidence);
  const double center = nps_score(counts);
  const double half = math::two_sided_critical_value(confidence) * nps_standard_error(counts);
  return {std::max(-100.0, center - half), std::min(100.0, center + half)};
}

/**
 * Adjusted-Wald interval, the best-covering of six methods in Rocks (2016) and MeasuringU's
 * recommendation (Sauro, "Confidence Intervals for Net Promoter Scores", 2021): add 3/4 of an
 * answer to the promoters and to the detractors and 3 to n (so 3/2 to the passives), then take the
 * Wald interval of the adjusted counts: n' = n + 3, p'_P = (P + 3/4)/n', p'_D = (D + 3/4)/n',
 * NPS' ± z·100·√((p'_P + p'_D − (p'_P − p'_D)²)/n'), clipped to [−100, 100]. Defined for n = 0.
 */
[[nodiscard]] inline interval nps_adjusted_wald_interval(const nps_counts& counts,
                                                         double confidence) {
  return nps_wald_interval(
      {counts.n + 3, counts.promoters + 0.75, counts.passives + 1.5, counts.detractors + 0.75},
      confidence);
}

/** How an NPS interval is computed. */
enum class nps_interval_method { adjusted_wald, wald, bootstrap };

constexpr auto description(std::type_identity<nps_interval_method>) {
  return describe::enum_table<nps_interval_method, 3>{
      "method",
      {{{nps_interval_method::adjusted_wald, "adjusted_wald"},
        {nps_interval_method::wald, "wald"},
        {nps_interval_method::bootstrap, "bootstrap"}}}};
}

/** Options of an NPS summary. */
struct nps_options {
  double confidence = 0.95;
  nps_interval_method method = nps_interval_method::adjusted_wald;
  std::size_t resamples = 2000;  ///< bootstrap replicates
  std::uint64_t seed = 0;        ///< bootstrap seed: same seed, same interval
  /** `small_sample` is set when n_eff is below this (default 30: the usual large-sample rule of
      thumb; Rocks 2016 finds Wald coverage poor for small n, adjusted Wald much less so). */
  double small_sample_below = 30;
};

/**
 * One NPS estimate. `promoters`, `passives`, `detractors` are raw answer counts; the shares are
 * weighted when the data are. `score`, `standard_error` and `ci` are in points. `standard_error`
 * is the plain trinomial SE of `score` (the adjusted-Wald interval uses its adjusted counterpart).
 * With no answers (or all weights 0) the shares, score, SE and interval are NaN and
 * `small_sample` is true.
 */
struct nps_result {
  std::int64_t n = 0;
  std::int64_t promoters = 0;
  std::int64_t passives = 0;
  std::int64_t detractors = 0;
  double weight_total = 0;  ///< Σw (n when unweighted)
  double n_effective = 0;   ///< Kish (Σw)²/Σw² (n when unweighted)
  double share_promoters = 0;
  double share_passives = 0;
  double share_detractors = 0;
  double score = 0;
  double standard_error = 0;
  interval ci{};
  bool small_sample = true;
};

constexpr auto description(std::type_identity<nps_result>) {
  using s = nps_result;
  return std::tuple{
      describe::field{"n", &s::n, "valid answers"},
      describe::field{"promoters", &s::promoters, "answers 9-10"},
      describe::field{"passives", &s::passives, "answers 7-8"},
      describe::field{"detractors", &s::detractors, "answers 0-6"},
      describe::field{"weight_total", &s::weight_total, "Σw (n when unweighted)"},
      describe::field{"n_effective", &s::n_effective, "Kish (Σw)²/Σw² (n when unweighted)"},
      describe::field{"share_promoters", &s::share_promoters, "weighted share of promoters"},
      describe::field{"share_passives", &s::share_passives, "weighted share of passives"},
      describe::field{"share_detractors", &s::share_detractors, "weighted share of detractors"},
      describe::field{"score", &s::score, "NPS = 100 (share_promoters − share_detractors)"},
      describe::field{"standard_error", &s::standard_error, "standard error of the score"},
      describe::computed<s>(
          "lower", [](const s& r) { return r.ci.lower; }, "interval lower end"),
      describe::computed<s>(
          "upper", [](const s& r) { return r.ci.upper; }, "interval upper end"),
      describe::field{"small_sample", &s::small_sample, "n_effective below the threshold"}};
}

/**
 * Mergeable NPS statistics: counts of promoters, passives and detractors and, with `Weighted`,
 * the exact sums of their weights and of squared weights. `a += b` after adding disjoint answers to
 * `a` and `b` equals adding all of them to one accumulator, exactly (integer counts, exact weight
 * sums), whatever the split and order. Use the aliases `nps_accumulator` and
 * `weighted_nps_accumulator`.
 *
 * Preconditions (not checked, for speed; crmkit's entry points check them): scores are integers in
 * 0–10 (others are classified by the thresholds 7 and 9); weights satisfy `is_valid_weight`.
 */
template <bool Weighted>
class basic_nps_accumulator {
 public:
  /** Adds one answer (weight 1). */
  void operator()(std::int64_t score) noexcept {
    tally_.add(static_cast<std::size_t>(nps_category_of(score)));
  }

  /** Adds one answer with survey weight `weight`. */
  void operator()(std::int64_t score, double weight) noexcept requires Weighted {
    tally_.add(static_cast<std::size_t>(nps_category_of(score)), weight);
  }

  /** Adds `count` unweighted answers in `category` (answer counts merged elsewhere). */
  void add_answers(nps_category category, std::int64_t count) noexcept requires(!Weighted) {
    tally_.add_many(static_cast<std::size_t>(category), count);
  }

  /** Merges the answers of `other` into this accumulator. */
  basic_nps_accumulator& operator+=(const basic_nps_accumulator& other) noexcept {
    tally_ += other.tally_;
    return *this;
  }

  /** Number of answers added. */
  [[nodiscard]] std::int64_t count() const noexcept { return tally_.total(); }
  /** Number of answers in `category`. */
  [[nodiscard]] std::int64_t count(nps_category category) const noexcept {
    return tally_.count(static_cast<std::size_t>(category));
  }
  /** Σw (the number of answers when unweighted). */
  [[nodiscard]] double weight_total() const noexcept { return tally_.weight_total(); }

  /** Effective counts (raw counts when unweighted). */
  [[nodiscard]] nps_counts counts() const noexcept {
    const auto effective = tally_.effective_counts();
    return {effective[0] + effective[1] + effective[2], effective[2], effective[1], effective[0]};
  }

  friend bool operator==(const basic_nps_accumulator&, const basic_nps_accumulator&) = default;

 private:
  detail::category_tally<3, Weighted> tally_;
};

using nps_accumulator = basic_nps_accumulator<false>;
using weighted_nps_accumulator = basic_nps_accumulator<true>;

/**
 * Percentile-bootstrap interval of the NPS of unweighted answers. Resampling the n answers with
 * replacement is drawing (P*, A*, D*) ~ Multinomial(n; p_P, p_A, p_D), done here as
 * P* ~ Bin(n, p_P), D* ~ Bin(n − P*, p_D/(1 − p_P)); each replicate is 100·(P* − D*)/n.
 * `counts` must hold whole numbers. Reproducible: same (seed, stream), same interval.
 */
[[nodiscard]] inline interval nps_bootstrap_interval(const nps_counts& counts, double confidence,
                                                     std::size_t resamples, std::uint64_t seed,
                                                     std::uint64_t stream = 0) {
  detail::check_confidence("nps_bootstrap_interval", confidence);
  detail::check_resamples("nps_bootstrap_interval", resamples);
  if (!(counts.n >= 1)) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan};
  }
  const auto n = static_cast<std::int64_t>(counts.n);
  const double promoters = counts.promoters / counts.n;
  const double detractors_among_rest =
      promoters < 1 ? std::min(1.0, counts.detractors / (counts.n - counts.promoters)) : 0.0;
  auto replicates =
      detail::bootstrap_replicates(resamples, seed, stream, [&](detail::bootstrap_engine& engine) {
        const std::int64_t p =
            boost::random::binomial_distribution<std::int64_t>(n, promoters)(engine);
        const std::int64_t d = boost::random::binomial_distribution<std::int64_t>(
            n - p, detractors_among_rest)(engine);
        return 100.0 * static_cast<double>(p - d) / static_cast<double>(n);
      });
  return detail::percentile_interval(std::move(replicates), confidence);
}

/** One answer for the weighted bootstrap: its NPS category and survey weight. */
struct weighted_nps_answer {
  nps_category category = nps_category::detractor;
  double weight = 1;
};

/**
 * Percentile-bootstrap interval of a weighted NPS: each replicate resamples the m answers with
 * replacement (keeping each answer's weight) and computes 100·(W_P − W_D)/W.
 * Reproducible: same (seed, stream), same interval.
 */
[[nodiscard]] inline interval nps_bootstrap_interval(std::span<const weighted_nps_answer> answers,
                                                     double confidence, std::size_t resamples,
                                                     std::uint64_t seed, std::uint64_t stream = 0) {
  detail::check_confidence("nps_bootstrap_interval", confidence);
  detail::check_resamples("nps_bootstrap_interval", resamples);
  if (answers.empty()) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan};
  }
  auto replicates =
      detail::bootstrap_replicates(resamples, seed, stream, [&](detail::bootstrap_engine& engine) {
        boost::random::uniform_int_distribution<std::size_t> pick(0, answers.size() - 1);
        double total = 0;
        double net = 0;
        for (std::size_t i = 0; i < answers.size(); ++i) {
          const auto& answer = answers[pick(engine)];
          total += answer.weight;
          if (answer.category == nps_category::promoter) net += answer.weight;
          if (answer.category == nps_category::detractor) net -= answer.weight;
        }
        return 100.0 * net / total;
      });
  return detail::percentile_interval(std::move(replicates), confidence);
}

namespace detail {

/** Everything of an NPS result but a bootstrap interval (left NaN for the caller to fill). */
template <bool Weighted>
[[nodiscard]] nps_result describe_nps(const basic_nps_accumulator<Weighted>& accumulator,
                                      const nps_options& options) {
  check_confidence("nps", options.confidence);
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  const nps_counts counts = accumulator.counts();
  nps_result result;
  result.n = accumulator.count();
  result.promoters = accumulator.count(nps_category::promoter);
  result.passives = accumulator.count(nps_category::passive);
  result.detractors = accumulator.count(nps_category::detractor);
  result.weight_total = accumulator.weight_total();
  result.n_effective = counts.n;
  result.small_sample = !(counts.n >= options.small_sample_below);
  result.ci = {nan, nan};
  if (counts.n == 0) {
    result.share_promoters = result.share_passives = result.share_detractors = nan;
    result.score = result.standard_error = nan;
    return result;
  }
  result.share_promoters = counts.promoters / counts.n;
  result.share_passives = counts.passives / counts.n;
  result.share_detractors = counts.detractors / counts.n;
  result.score = nps_score(counts);
  result.standard_error = nps_standard_error(counts);
  if (options.method == nps_interval_method::adjusted_wald) {
    result.ci = nps_adjusted_wald_interval(counts, options.confidence);
  } else if (options.method == nps_interval_method::wald) {
    result.ci = nps_wald_interval(counts, options.confidence);
  }
  return result;
}

}  // namespace detail

/**
 * The NPS estimate, SE and interval of an accumulator. The bootstrap of an unweighted accumulator
 * is `nps_bootstrap_interval(counts, ..., options.seed, stream)`.
 * @throw invalid_input for a confidence outside (0, 1), fewer than 2 resamples, or a bootstrap of
 *        a weighted accumulator (that needs the answers: use `nps(scores, weights, ...)` from
 *        `sample.hpp` or `aggregate_nps`).
 */
template <bool Weighted>
[[nodiscard]] nps_result summarize(const basic_nps_accumulator<Weighted>& accumulator,
                                   const nps_options& options, std::uint64_t stream = 0) {
  nps_result result = detail::describe_nps(accumulator, options);
  if (options.method == nps_interval_method::bootstrap) {
    if constexpr (Weighted) {
      check::fail("nps",
                  "a bootstrap interval of weighted answers needs the answers themselves; "
                  "use nps(scores, weights, ...) or aggregate_nps");
    } else if (result.n > 0) {
      result.ci = nps_bootstrap_interval(accumulator.counts(), options.confidence,
                                         options.resamples, options.seed, stream);
    }
  }
  return result;
}

}  // namespace crmkit::survey
