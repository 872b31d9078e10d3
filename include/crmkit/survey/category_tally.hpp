#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "crmkit/survey/exact_sum.hpp"

namespace crmkit::survey::detail {

struct no_weights {
  friend bool operator==(const no_weights&, const no_weights&) = default;
};

template <std::size_t Categories>
struct category_weights {
  std::array<exact_sum, Categories> sums{};
  exact_sum squares{};
  friend bool operator==(const category_weights&, const category_weights&) = default;
};

/**
 * Answers counted into `Categories` categories; with `Weighted`, also the exact sum of weights per
 * category and of squared weights. The shared core of the NPS and proportion accumulators.
 *
 * Effective counts: unweighted, the counts themselves; weighted, each category's weight share
 * times Kish's effective sample size n_eff = (Σw)²/Σw² (Kish 1965, *Survey Sampling*, §11.7),
 * so formulas written for counts apply to weighted data with the usual design-effect correction.
 */
template <std::size_t Categories, bool Weighted>
class category_tally {
 public:
  void add(std::size_t category) noexcept {
    if constexpr (Weighted) {
      add(category, 1.0);
    } else {
      ++counts_[category];
    }
  }

  /** Adds `count` unweighted answers in `category` at once (as `count` calls of `add`). */
  void add_many(std::size_t category, std::int64_t count) noexcept requires(!Weighted) {
    counts_[category] += count;
  }

  void add(std::size_t category, double weight) noexcept requires Weighted {
    ++counts_[category];
    weights_.sums[category].add(weight);
    weights_.squares.add(weight * weight);
  }

  category_tally& operator+=(const category_tally& other) noexcept {
    for (std::size_t c = 0; c < Categories; ++c) counts_[c] += other.counts_[c];
    if constexpr (Weighted) {
      for (std::size_t c = 0; c < Categories; ++c) weights_.sums[c] += other.weights_.sums[c];
      weights_.squares += other.weights_.squares;
    }
    return *this;
  }

  [[nodiscard]] std::int64_t count(std::size_t category) const noexcept {
    return counts_[category];
  }

  [[nodiscard]] std::int64_t total() const noexcept {
    std::int64_t sum = 0;
    for (auto count : counts_) sum += count;
    return sum;
  }

  /** Σw (the number of answers when unweighted). */
  [[nodiscard]] double weight_total() const noexcept {
    if constexpr (Weighted) {
      return total_weight().value();
    } else {
      return static_cast<double>(total());
    }
  }

  /** Effective counts per category, in category order (see the class comment). */
  [[nodiscard]] std::array<double, Categories> effective_counts() const noexcept {
    std::array<double, Categories> result{};
    if constexpr (Weighted) {
      const double weight = total_weight().value();
      const double squares = weights_.squares.value();
      if (weight == 0 || squares == 0) return result;
      const double scale = weight / squares;  // n_eff / Σw; exactly 1 when all weights are 1
      for (std::size_t c = 0; c < Categories; ++c) result[c] = weights_.sums[c].value() * scale;
    } else {
      for (std::size_t c = 0; c < Categories; ++c) result[c] = static_cast<double>(counts_[c]);
    }
    return result;
  }

  friend bool operator==(const category_tally&, const category_tally&) = default;

 private:
  [[nodiscard]] exact_sum total_weight() const noexcept {
    exact_sum total;
    for (const auto& sum : weights_.sums) total += sum;
    return total;
  }

  std::array<std::int64_t, Categories> counts_{};
  [[no_unique_address]] std::conditional_t<Weighted, category_weights<Categories>, no_weights>
      weights_{};
};

}  // namespace crmkit::survey::detail
