#pragma once

#include <cstdint>
#include <string_view>

#include <fmt/format.h>
#include <tuple>

#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/survey/mean.hpp"
#include "crmkit/survey/proportion.hpp"

namespace crmkit::survey {

/**
 * An integer rating scale [min, max] with its direction and the number of boxes at the good end
 * that count as a favourable answer: the top boxes when `higher_is_better`, else the bottom boxes.
 */
struct rating_scale {
  std::int64_t min = 1;
  std::int64_t max = 5;
  bool higher_is_better = true;
  std::int64_t favourable_boxes = 2;

  /** True for a score in the favourable boxes. */
  [[nodiscard]] constexpr bool favourable(std::int64_t score) const noexcept {
    return higher_is_better ? score > max - favourable_boxes : score < min + favourable_boxes;
  }

  /** True for an integer score on the scale. */
  [[nodiscard]] constexpr bool contains(std::int64_t score) const noexcept {
    return score >= min && score <= max;
  }

  friend constexpr bool operator==(const rating_scale&, const rating_scale&) = default;
};

/**
 * CSAT: share of answers in the top `boxes` of a [min, max] scale ("top-2-box" on the default
 * 1–5 scale, i.e. 4 or 5; SoGoSurvey, Qualtrics), higher is better.
 */
[[nodiscard]] constexpr rating_scale csat_scale(std::int64_t min = 1, std::int64_t max = 5,
                                                std::int64_t boxes = 2) noexcept {
  return {min, max, true, boxes};
}

/** The two common Customer Effort Score questions. */
enum class ces_version {
  /** CES 2.0 (Gartner/CEB 2013): "The company made it easy for me to handle my issue", 1–7
      agreement, higher is better; favourable = 5–7 (somewhat agree or better). */
  agreement_7,
  /** Original CES (Dixon, Freeman & Toman 2010, HBR): "How much effort did you personally have to
      put forth?", 1–5, lower is better; favourable = 1–2 (low effort). */
  effort_5,
};

constexpr auto description(std::type_identity<ces_version>) {
  return describe::enum_table<ces_version, 2>{
      "version", {{{ces_version::agreement_7, "2.0"}, {ces_version::effort_5, "1.0"}}}};
}

/** The scale, direction and favourable boxes of a CES version. */
[[nodiscard]] constexpr rating_scale ces_scale(ces_version version) noexcept {
  return version == ces_version::agreement_7 ? rating_scale{1, 7, true, 3}
                                             : rating_scale{1, 5, false, 2};
}

/**
 * Throws `invalid_input` unless min < max, both within ±`max_mean_score`, and
 * 1 ≤ favourable_boxes < max − min + 1.
 */
inline void check_scale(std::string_view function, const rating_scale& scale) {
  if (!(scale.min < scale.max && scale.min >= -max_mean_score && scale.max <= max_mean_score)) {
    check::fail(function, fmt::format("scale {}..{} must have min < max, both within ±{}",
                                      scale.min, scale.max, max_mean_score));
  }
  if (!(scale.favourable_boxes >= 1 && scale.favourable_boxes <= scale.max - scale.min)) {
    check::fail(function,
                fmt::format("favourable boxes = {} must be between 1 and {} on the "
                            "scale {}..{}",
                            scale.favourable_boxes, scale.max - scale.min, scale.min, scale.max));
  }
}

/**
 * A CSAT or CES summary: the scale and direction it was computed on, the mean score with its
 * t interval, and the favourable share with its Wilson interval.
 */
struct rating_result {
  rating_scale scale{};
  mean_result mean{};
  proportion_result favourable{};
};

constexpr auto description(std::type_identity<rating_result>) {
  using s = rating_result;
  namespace d = describe;
  return std::tuple{
      d::computed<s>(
          "n", [](const s& r) { return r.mean.n; }, "valid answers"),
      d::computed<s>(
          "weight_total", [](const s& r) { return r.mean.weight_total; }, "Σw"),
      d::computed<s>(
          "n_effective", [](const s& r) { return r.mean.n_effective; }, "Kish (Σw)²/Σw²"),
      d::computed<s>(
          "favourable", [](const s& r) { return r.favourable.successes; }, "favourable answers"),
      d::computed<s>(
          "share", [](const s& r) { return r.favourable.share; }, "weighted favourable share"),
      d::computed<s>(
          "share_se", [](const s& r) { return r.favourable.standard_error; },
          "standard error of the share"),
      d::computed<s>(
          "share_lower", [](const s& r) { return r.favourable.ci.lower; },
          "Wilson interval lower end"),
      d::computed<s>(
          "share_upper", [](const s& r) { return r.favourable.ci.upper; },
          "Wilson interval upper end"),
      d::computed<s>(
          "mean_score", [](const s& r) { return r.mean.mean; }, "weighted mean"),
      d::computed<s>(
          "sd", [](const s& r) { return r.mean.standard_deviation; }, "standard deviation"),
      d::computed<s>(
          "mean_se", [](const s& r) { return r.mean.standard_error; },
          "standard error of the mean"),
      d::computed<s>(
          "mean_lower", [](const s& r) { return r.mean.ci.lower; }, "t interval lower end"),
      d::computed<s>(
          "mean_upper", [](const s& r) { return r.mean.ci.upper; }, "t interval upper end"),
      d::computed<s>(
          "small_sample", [](const s& r) { return r.mean.small_sample; },
          "n_effective below the threshold")};
}

/**
 * Mergeable CSAT/CES statistics on one `rating_scale`: a mean accumulator and a favourable-share
 * accumulator, both exact under merging. Only accumulators on the same scale may be merged.
 * Precondition: scores on the scale, weights valid (crmkit's entry points check both).
 */
template <bool Weighted>
class basic_rating_accumulator {
 public:
  basic_rating_accumulator() = default;
  explicit basic_rating_accumulator(const rating_scale& scale) noexcept : scale_(scale) {}

  /** Adds one score (weight 1). */
  void operator()(std::int64_t score) noexcept {
    mean_(score);
    favourable_(scale_.favourable(score));
  }

  /** Adds one score with survey weight `weight`. */
  void operator()(std::int64_t score, double weight) noexcept requires Weighted {
    mean_(score, weight);
    favourable_(scale_.favourable(score), weight);
  }

  /** Merges the scores of `other` (same scale) into this accumulator. */
  basic_rating_accumulator& operator+=(const basic_rating_accumulator& other) noexcept {
    mean_ += other.mean_;
    favourable_ += other.favourable_;
    return *this;
  }

  /** The scale the scores are on. */
  [[nodiscard]] const rating_scale& scale() const noexcept { return scale_; }
  /** The mean and variance of the scores. */
  [[nodiscard]] const basic_mean_accumulator<Weighted>& mean() const noexcept { return mean_; }
  /** The share of favourable scores. */
  [[nodiscard]] const basic_proportion_accumulator<Weighted>& favourable() const noexcept {
    return favourable_;
  }

  friend bool operator==(const basic_rating_accumulator&,
                         const basic_rating_accumulator&) = default;

 private:
  rating_scale scale_{};
  basic_mean_accumulator<Weighted> mean_;
  basic_proportion_accumulator<Weighted> favourable_;
};

using rating_accumulator = basic_rating_accumulator<false>;
using weighted_rating_accumulator = basic_rating_accumulator<true>;

/** Mean (t interval) and favourable share (Wilson interval) of an accumulator. */
template <bool Weighted>
[[nodiscard]] rating_result summarize(const basic_rating_accumulator<Weighted>& accumulator,
                                      const interval_options& options) {
  return {accumulator.scale(), summarize(accumulator.mean(), options),
          summarize(accumulator.favourable(), options)};
}

}  // namespace crmkit::survey
