#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <boost/random/uniform_int_distribution.hpp>
#include <tuple>

#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/survey/bootstrap.hpp"
#include "crmkit/survey/interval.hpp"

namespace crmkit::survey {

/** How the explained variance R² is shared among the attributes. */
enum class importance_method {
  /** Shapley value of R² (Lindeman, Merenda & Gold 1980 "LMG"; Grömping 2007, *The American
      Statistician* 61(2):139–147): each attribute's average gain in R² over all orders of
      entry. Exact over all 2^p subsets. */
  shapley,
  /** Johnson's relative weights (Johnson 2000, *Multivariate Behavioral Research* 35(1):1–19):
      R² of the orthogonal counterparts of the attributes, apportioned back to them. */
  johnson,
};

constexpr auto description(std::type_identity<importance_method>) {
  return describe::enum_table<importance_method, 2>{
      "method",
      {{{importance_method::shapley, "shapley"}, {importance_method::johnson, "johnson"}}}};
}

/** Options of `driver_importance`. */
struct driver_options {
  importance_method method = importance_method::shapley;
  std::size_t resamples = 1000;  ///< bootstrap replicates for the intervals; 0 for none
  std::uint64_t seed = 0;        ///< bootstrap seed: same seed, same intervals
  double confidence = 0.95;
};

/**
 * Relative importance of each attribute for the outcome: `importance[j]` sums to `r_squared`, the
 * full model's R², over j. `ci[j]` is the percentile-bootstrap interval (resampling respondents;
 * NaN when no resamples were asked for); `failed_resamples` counts replicates whose resampled
 * attributes were constant or collinear (left out of the intervals).
 */
struct driver_result {
  double r_squared = 0;
  std::vector<double> importance;
  std::vector<interval> ci;
  std::size_t failed_resamples = 0;
};

constexpr auto description(std::type_identity<driver_result>) {
  using s = driver_result;
  const auto ends = [](const s& r, double interval::*end) {
    std::vector<double> out;
    for (const auto& each : r.ci) out.push_back(each.*end);
    return out;
  };
  return std::tuple{describe::field{"r_squared", &s::r_squared, "R² of the full regression"},
                    describe::field{"importance", &s::importance, "each attribute's share of R²"},
                    describe::computed<s>(
                        "lower", [ends](const s& r) { return ends(r, &interval::lower); },
                        "bootstrap interval lower ends"),
                    describe::computed<s>(
                        "upper", [ends](const s& r) { return ends(r, &interval::upper); },
                        "bootstrap interval upper ends"),
                    describe::field{"failed_resamples", &s::failed_resamples,
                                    "resamples that could not be fitted"}};
}

/** The Shapley decomposition enumerates 2^p subsets; p is limited to this. */
inline constexpr std::size_t max_shapley_attributes = 16;

namespace detail {

/** Correlations among the attributes and with the outcome. */
struct driver_correlations {
  Eigen::MatrixXd attributes;
  Eigen::VectorXd outcome;
};

/**
 * Correlations of [X y] from centred cross products, each row counted `counts[i]` times (all once
 * when `counts` is empty). Empty when a column (or y) is constant.
 */
[[nodiscard]] inline std::optional<driver_correlations> correlate(const Eigen::MatrixXd& data,
                                                                  const Eigen::VectorXd& counts) {
  const Eigen::Index p = data.cols() - 1;
  Eigen::MatrixXd cross;
  if (counts.size() == 0) {
    const Eigen::MatrixXd centred = data.rowwise() - data.colwise().mean();
    cross = centred.transpose() * centred;
  } else {
    const Eigen::RowVectorXd mean = (counts.transpose() * data) / counts.sum();
    const Eigen::MatrixXd centred = data.rowwise() - mean;
    cross = centred.transpose() * counts.asDiagonal() * centred;
  }
  const Eigen::VectorXd scale = cross.diagonal().cwiseSqrt();
  for (Eigen::Index j = 0; j <= p; ++j) {
    if (!(scale[j] > 1e-12 * std::max(1.0, data.col(j).cwiseAbs().maxCoeff()) *
                         std::sqrt(static_cast<double>(data.rows())))) {
      return std::nullopt;
    }
  }
  const Eigen::VectorXd inverse = scale.cwiseInverse();
  const Eigen::MatrixXd correlation = inverse.asDiagonal() * cross * inverse.asDiagonal();
  return driver_correlations{correlation.topLeftCorner(p, p), correlation.col(p).head(p)};
}

/**
 * R² of the regression of y on every subset of the attributes (index = bit mask), from the
 * correlations. Subsets are visited depth-first, adding attributes in increasing order, so each
 * subset's Cholesky factor extends its parent's by one row: R²(S ∪ {j}) = R²(S) + z², with z the
 * new entry of L⁻¹r_xy. Empty when some attribute is (within 1e-10) a linear combination of
 * others.
 */
[[nodiscard]] inline std::vector<double> subset_r_squared(const driver_correlations& r) {
  const auto p = static_cast<std::size_t>(r.attributes.rows());
  std::vector<double> r_squared(std::size_t{1} << p, 0.0);
  Eigen::MatrixXd factor =
      Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(p));
  Eigen::VectorXd solved = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(p));
  std::vector<Eigen::Index> members(p);
  bool collinear = false;
  auto extend = [&](auto&& self, std::size_t mask, Eigen::Index depth, std::size_t next) -> void {
    for (std::size_t j = next; j < p && !collinear; ++j) {
      const auto column = static_cast<Eigen::Index>(j);
      double norm = 0;
      double projection = 0;
      for (Eigen::Index i = 0; i < depth; ++i) {
        double value = r.attributes(members[static_cast<std::size_t>(i)], column);
        for (Eigen::Index k = 0; k < i; ++k) value -= factor(i, k) * factor(depth, k);
        value /= factor(i, i);
        factor(depth, i) = value;
        norm += value * value;
        projection += value * solved[i];
      }
      const double pivot = r.attributes(column, column) - norm;
      if (!(pivot > 1e-10)) {
        collinear = true;
        return;
      }
      factor(depth, depth) = std::sqrt(pivot);
      solved[depth] = (r.outcome[column] - projection) / factor(depth, depth);
      members[static_cast<std::size_t>(depth)] = column;
      const std::size_t child = mask | (std::size_t{1} << j);
      r_squared[child] = r_squared[mask] + solved[depth] * solved[depth];
      self(self, child, depth + 1, j + 1);
    }
  };
  extend(extend, 0, 0, 0);
  if (collinear) return {};
  return r_squared;
}

/**
 * Shapley values φ_j = Σ_{S ∌ j} |S|!(p − |S| − 1)!/p! · (R²(S ∪ {j}) − R²(S)); they sum to
 * R²(all attributes) (the efficiency property of the Shapley value).
 */
[[nodiscard]] inline std::vector<double> shapley_values(const std::vector<double>& r_squared,
                                                        std::size_t p) {
  std::vector<double> weight(p);
  double binomial = 1;  // C(p − 1, s)
  for (std::size_t s = 0; s < p; ++s) {
    weight[s] = 1.0 / (static_cast<double>(p) * binomial);
    binomial = binomial * static_cast<double>(p - 1 - s) / static_cast<double>(s + 1);
  }
  std::vector<double> values(p, 0.0);
  for (std::size_t j = 0; j < p; ++j) {
    const std::size_t bit = std::size_t{1} << j;
    double sum = 0;
    for (std::size_t mask = 0; mask < r_squared.size(); ++mask) {
      if (mask & bit) continue;
      const auto size = static_cast<std::size_t>(std::popcount(mask));
      sum += weight[size] * (r_squared[mask | bit] - r_squared[mask]);
    }
    values[j] = sum;
  }
  return values;
}

/**
 * Johnson's relative weights: with R_xx = VΛVᵀ, Λ½ = VΛ^{1/2}Vᵀ and β = Λ½⁻¹r_xy, the weight of
 * attribute j is Σ_k (Λ½)_jk²·β_k²; they sum to R². Empty when R_xx is singular.
 */
[[nodiscard]] inline std::vector<double> relative_weights(const driver_correlations& r) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(r.attributes);
  if (eigen.info() != Eigen::Success || !(eigen.eigenvalues().minCoeff() > 1e-10)) return {};
  const Eigen::MatrixXd& vectors = eigen.eigenvectors();
  const Eigen::VectorXd roots = eigen.eigenvalues().cwiseSqrt();
  const Eigen::MatrixXd lambda = vectors * roots.asDiagonal() * vectors.transpose();
  const Eigen::VectorXd beta =
      vectors * roots.cwiseInverse().asDiagonal() * vectors.transpose() * r.outcome;
  const Eigen::VectorXd weights = lambda.cwiseAbs2() * beta.cwiseAbs2();
  return {weights.data(), weights.data() + weights.size()};
}

/** Importances by `method`; empty when the data are constant or collinear. */
[[nodiscard]] inline std::vector<double> importances(const Eigen::MatrixXd& data,
                                                     const Eigen::VectorXd& counts,
                                                     importance_method method) {
  const auto r = correlate(data, counts);
  if (!r) return {};
  if (method == importance_method::johnson) return relative_weights(*r);
  const auto r_squared = subset_r_squared(*r);
  if (r_squared.empty()) return {};
  return shapley_values(r_squared, static_cast<std::size_t>(data.cols() - 1));
}

}  // namespace detail

/**
 * Key-driver analysis: how much each attribute rating (columns of `attributes`, one row per
 * respondent) contributes to explaining the outcome (overall satisfaction, likelihood to
 * recommend, or the NPS coding −1/0/1) in a linear regression with intercept. The importances
 * sum to the full model's R². Bootstrap intervals resample respondents in blocks of seeded
 * replicates, so they depend on `options.seed` only, not on the thread count.
 *
 * @throw invalid_input for mismatched sizes, fewer rows than attributes + 2, non-finite values,
 *        more than `max_shapley_attributes` attributes (Shapley), a constant column, or collinear
 *        attributes (the message names what is wrong).
 */
[[nodiscard]] inline driver_result driver_importance(
    const Eigen::Ref<const Eigen::MatrixXd>& attributes,
    const Eigen::Ref<const Eigen::VectorXd>& outcome, const driver_options& options = {}) {
  constexpr const char* function = "driver_importance";
  const Eigen::Index n = attributes.rows();
  const Eigen::Index p = attributes.cols();
  check::same_size(function, "attributes rows", static_cast<std::size_t>(n), "outcome",
                   static_cast<std::size_t>(outcome.size()));
  if (p < 1) check::fail(function, "attributes has no columns");
  if (options.method == importance_method::shapley &&
      static_cast<std::size_t>(p) > max_shapley_attributes) {
    check::fail(function, fmt::format("{} attributes are more than the {} the exact Shapley "
                                      "decomposition enumerates; use Johnson's weights",
                                      p, max_shapley_attributes));
  }
  if (n < p + 2) {
    check::fail(function, fmt::format("{} rows are too few for {} attributes (need at least {})", n,
                                      p, p + 2));
  }
  detail::check_confidence(function, options.confidence);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < p; ++j) {
      if (!std::isfinite(attributes(i, j))) {
        check::fail(function,
                    fmt::format("attributes[{}, {}] = {} must be finite", i, j, attributes(i, j)));
      }
    }
    if (!std::isfinite(outcome[i])) {
      check::fail(function, fmt::format("outcome[{}] = {} must be finite", i, outcome[i]));
    }
  }
  Eigen::MatrixXd data(n, p + 1);
  data << attributes, outcome;
  for (Eigen::Index j = 0; j <= p; ++j) {
    if ((data.col(j).array() == data(0, j)).all()) {
      check::fail(function, j == p ? std::string("outcome is constant")
                                   : fmt::format("attribute column {} is constant", j));
    }
  }
  driver_result result;
  result.importance = detail::importances(data, Eigen::VectorXd{}, options.method);
  if (result.importance.empty()) {
    check::fail(function,
                "the attributes are collinear (one is, within 1e-10, a linear "
                "combination of the others); drop or merge redundant attributes");
  }
  result.r_squared = 0;
  for (double value : result.importance) result.r_squared += value;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  result.ci.assign(static_cast<std::size_t>(p), interval{nan, nan});
  if (options.resamples == 0) return result;
  detail::check_resamples(function, options.resamples);
  const auto replicates = detail::bootstrap_replicates(
      options.resamples, options.seed, 0, [&](detail::bootstrap_engine& engine) {
        boost::random::uniform_int_distribution<Eigen::Index> pick(0, n - 1);
        Eigen::VectorXd counts = Eigen::VectorXd::Zero(n);
        for (Eigen::Index i = 0; i < n; ++i) counts[pick(engine)] += 1;
        return detail::importances(data, counts, options.method);
      });
  for (std::size_t j = 0; j < static_cast<std::size_t>(p); ++j) {
    std::vector<double> values;
    values.reserve(replicates.size());
    for (const auto& replicate : replicates) {
      values.push_back(replicate.empty() ? nan : replicate[j]);
    }
    result.ci[j] = detail::percentile_interval(std::move(values), options.confidence);
  }
  for (const auto& replicate : replicates) result.failed_resamples += replicate.empty() ? 1 : 0;
  return result;
}

}  // namespace crmkit::survey
