#include "crmkit/segment/quality.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string_view>

#include <fmt/format.h>

#include "crmkit/core/check.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/segment/random.hpp"
#include "distance.hpp"
#include "validate.hpp"

namespace crmkit::segment {

namespace {

/** Labels as codes 0..L-1 in increasing order of value, with the size of each cluster. */
struct encoded_labels {
  std::vector<std::size_t> codes;
  std::vector<std::size_t> sizes;
};

encoded_labels encode(std::string_view function, const matrix_view& x,
                      std::span<const std::int64_t> labels) {
  detail::check_samples(function, "x", x);
  const auto n = static_cast<std::size_t>(x.rows());
  check::same_size(function, "labels", labels.size(), "the rows of x", n);
  std::vector<std::int64_t> values(labels.begin(), labels.end());
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (values.size() < 2 || values.size() > n - 1) {
    check::fail(function, fmt::format("labels has {} distinct values; a score needs between 2 "
                                      "and n_samples - 1 = {}",
                                      values.size(), n - 1));
  }
  encoded_labels encoded{std::vector<std::size_t>(n), std::vector<std::size_t>(values.size(), 0)};
  for (std::size_t i = 0; i < n; ++i) {
    const auto code = static_cast<std::size_t>(
        std::lower_bound(values.begin(), values.end(), labels[i]) - values.begin());
    encoded.codes[i] = code;
    ++encoded.sizes[code];
  }
  return encoded;
}

/** Per-cluster coordinate sums (L x d), summed over fixed row chunks in chunk order. */
row_matrix cluster_sums(const matrix_view& x, const encoded_labels& labels) {
  const auto count = static_cast<Eigen::Index>(labels.sizes.size());
  return parallel_reduce(
      static_cast<std::size_t>(x.rows()), row_matrix(row_matrix::Zero(count, x.cols())),
      [&](std::size_t begin, std::size_t end) {
        row_matrix sums = row_matrix::Zero(count, x.cols());
        for (std::size_t i = begin; i < end; ++i) {
          sums.row(static_cast<Eigen::Index>(labels.codes[i])) +=
              x.row(static_cast<Eigen::Index>(i));
        }
        return sums;
      },
      [](row_matrix a, const row_matrix& b) {
        a += b;
        return a;
      });
}

row_matrix cluster_means(const matrix_view& x, const encoded_labels& labels) {
  row_matrix means = cluster_sums(x, labels);
  for (std::size_t k = 0; k < labels.sizes.size(); ++k) {
    means.row(static_cast<Eigen::Index>(k)) /= static_cast<double>(labels.sizes[k]);
  }
  return means;
}

/** sum_i f(i) over fixed row chunks, combined in chunk order. */
template <class Term>
double ordered_sum(std::size_t n, Term&& term) {
  return parallel_reduce(
      n, 0.0,
      [&](std::size_t begin, std::size_t end) {
        double sum = 0;
        for (std::size_t i = begin; i < end; ++i) sum += term(i);
        return sum;
      },
      [](double a, double b) { return a + b; });
}

double distance(const matrix_view& x, std::size_t i, const row_matrix& centres, std::size_t k) {
  return std::sqrt(detail::squared_distance(x.row(static_cast<Eigen::Index>(i)).data(),
                                            centres.row(static_cast<Eigen::Index>(k)).data(),
                                            static_cast<std::size_t>(x.cols())));
}

/**
 * Silhouette values of the rows of x under each labeling. Each point's distances to the others
 * are computed once and summed per cluster of every labeling, in row order.
 */
std::vector<std::vector<double>> silhouette_values(const matrix_view& x,
                                                   std::span<const encoded_labels> labelings) {
  const auto n = static_cast<std::size_t>(x.rows());
  const auto d = static_cast<std::size_t>(x.cols());
  const std::size_t count = labelings.size();
  if (count == 0) return {};
  std::vector<std::size_t> offset(count + 1, 0);
  for (std::size_t l = 0; l < count; ++l) offset[l + 1] = offset[l] + labelings[l].sizes.size();
  std::vector<std::uint32_t> slot(n * count);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t l = 0; l < count; ++l) {
      slot[j * count + l] = static_cast<std::uint32_t>(offset[l] + labelings[l].codes[j]);
    }
  }
  const row_matrix rows = x;
  detail::packed_points packed;
  packed.assign(rows.data(), n, d, d);
  std::vector<std::vector<double>> values(count, std::vector<double>(n));
  constexpr std::size_t batch = detail::silhouette_rows;
  parallel_for(
      n,
      [&](std::size_t begin, std::size_t end) {
        const std::size_t stride = packed.padded();
        std::vector<double> distances(batch * stride);
        std::vector<double> sums(offset[count] * batch);
        for (std::size_t first = begin; first < end; first += batch) {
          const std::size_t used = std::min(batch, end - first);
          for (std::size_t r = 0; r < batch; ++r) {  // spare lanes repeat the last row
            const auto i = static_cast<Eigen::Index>(first + std::min(r, used - 1));
            detail::squared_distances(rows.row(i).data(), packed, distances.data() + r * stride);
          }
          std::fill(sums.begin(), sums.end(), 0.0);
          detail::silhouette_sums(distances.data(), stride, n, slot.data(), count, sums.data());
          for (std::size_t r = 0; r < used; ++r) {
            const std::size_t i = first + r;
            const auto cluster = [&](std::size_t l, std::size_t k) {
              return sums[(offset[l] + k) * batch + r];
            };
            for (std::size_t l = 0; l < count; ++l) {
              const auto& labels = labelings[l];
              const std::size_t own = labels.codes[i];
              if (labels.sizes[own] == 1) {
                values[l][i] = 0;
                continue;
              }
              const double a = cluster(l, own) / static_cast<double>(labels.sizes[own] - 1);
              double b = std::numeric_limits<double>::infinity();
              for (std::size_t k = 0; k < labels.sizes.size(); ++k) {
                if (k != own) b = std::min(b, cluster(l, k) / static_cast<double>(labels.sizes[k]));
              }
              const double scale = std::max(a, b);
              values[l][i] = scale > 0 ? (b - a) / scale : 0.0;
            }
          }
        }
      },
      64);
  return values;
}

std::vector<double> silhouette_values(const matrix_view& x, encoded_labels labels) {
  return std::move(silhouette_values(x, std::span<const encoded_labels>(&labels, 1)).front());
}

/** `size` of the n rows drawn uniformly without replacement (seeded partial Fisher-Yates). */
std::vector<std::size_t> sample_order(std::size_t n, std::size_t size, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  random_stream random(seed);
  for (std::size_t i = 0; i < size; ++i) {
    const auto pick = i + static_cast<std::size_t>(random.uniform() * static_cast<double>(n - i));
    std::swap(order[i], order[std::min(pick, n - 1)]);
  }
  order.resize(size);
  return order;
}

double mean(const std::vector<double>& values) {
  return ordered_sum(values.size(), [&](std::size_t i) { return values[i]; }) /
         static_cast<double>(values.size());
}

}  // namespace

std::vector<double> silhouette_samples(const matrix_view& x, std::span<const std::int64_t> labels) {
  return silhouette_values(x, encode("silhouette_samples", x, labels));
}

double silhouette_score(const matrix_view& x, std::span<const std::int64_t> labels) {
  return mean(silhouette_values(x, encode("silhouette_score", x, labels)));
}

sampled_silhouette silhouette_score(const matrix_view& x, std::span<const std::int64_t> labels,
                                    std::size_t sample_size, std::uint64_t seed) {
  constexpr std::string_view function = "silhouette_score";
  detail::check_samples(function, "x", x);
  const auto n = static_cast<std::size_t>(x.rows());
  check::same_size(function, "labels", labels.size(), "the rows of x", n);
  if (sample_size < 2) {
    check::fail(function, fmt::format("sample_size = {} must be at least 2", sample_size));
  }
  const std::size_t size = std::min(sample_size, n);
  auto order = sample_order(n, size, seed);
  row_matrix subset(static_cast<Eigen::Index>(size), x.cols());
  std::vector<std::int64_t> subset_labels(size);
  for (std::size_t s = 0; s < size; ++s) {
    subset.row(static_cast<Eigen::Index>(s)) = x.row(static_cast<Eigen::Index>(order[s]));
    subset_labels[s] = labels[order[s]];
  }
  sampled_silhouette result;
  result.score = mean(silhouette_values(subset, encode(function, subset, subset_labels)));
  result.indices = std::move(order);
  return result;
}

double calinski_harabasz_score(const matrix_view& x, std::span<const std::int64_t> labels) {
  const auto encoded = encode("calinski_harabasz_score", x, labels);
  const auto n = static_cast<std::size_t>(x.rows());
  const std::size_t count = encoded.sizes.size();
  const row_matrix sums = cluster_sums(x, encoded);
  const Eigen::RowVectorXd overall = sums.colwise().sum() / static_cast<double>(n);
  row_matrix means = sums;
  for (std::size_t k = 0; k < count; ++k) {
    means.row(static_cast<Eigen::Index>(k)) /= static_cast<double>(encoded.sizes[k]);
  }
  double between = 0;
  for (std::size_t k = 0; k < count; ++k) {
    between += static_cast<double>(encoded.sizes[k]) *
               (means.row(static_cast<Eigen::Index>(k)) - overall).squaredNorm();
  }
  const double within = ordered_sum(n, [&](std::size_t i) {
    const double r = distance(x, i, means, encoded.codes[i]);
    return r * r;
  });
  if (within == 0) return 1.0;
  return between * static_cast<double>(n - count) / (within * static_cast<double>(count - 1));
}

double davies_bouldin_score(const matrix_view& x, std::span<const std::int64_t> labels) {
  const auto encoded = encode("davies_bouldin_score", x, labels);
  const auto n = static_cast<std::size_t>(x.rows());
  const std::size_t count = encoded.sizes.size();
  const row_matrix centroids = cluster_means(x, encoded);
  std::vector<double> scatter(count, 0.0);
  const auto totals = parallel_reduce(
      n, std::vector<double>(count, 0.0),
      [&](std::size_t begin, std::size_t end) {
        std::vector<double> sums(count, 0.0);
        for (std::size_t i = begin; i < end; ++i) {
          sums[encoded.codes[i]] += distance(x, i, centroids, encoded.codes[i]);
        }
        return sums;
      },
      [](std::vector<double> a, const std::vector<double>& b) {
        for (std::size_t k = 0; k < a.size(); ++k) a[k] += b[k];
        return a;
      });
  for (std::size_t k = 0; k < count; ++k) {
    scatter[k] = totals[k] / static_cast<double>(encoded.sizes[k]);
  }
  row_matrix separation(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(count));
  for (Eigen::Index a = 0; a < separation.rows(); ++a) {
    for (Eigen::Index b = 0; b < separation.cols(); ++b) {
      separation(a, b) = (centroids.row(a) - centroids.row(b)).norm();
    }
  }
  constexpr double near_zero = 1e-8;  // numpy.allclose(values, 0): |value| <= atol
  const bool no_scatter = std::all_of(scatter.begin(), scatter.end(),
                                      [](double s) { return std::abs(s) <= near_zero; });
  const bool no_separation = (separation.array().abs() <= near_zero).all();
  if (no_scatter || no_separation) return 0.0;
  double total = 0;
  for (std::size_t a = 0; a < count; ++a) {
    double worst = 0;
    for (std::size_t b = 0; b < count; ++b) {
      const double gap = separation(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(b));
      if (gap > 0) worst = std::max(worst, (scatter[a] + scatter[b]) / gap);
    }
    total += worst;
  }
  return total / static_cast<double>(count);
}

choose_k_result choose_k(const matrix_view& x, std::size_t k_min, std::size_t k_max,
                         const kmeans_options& options, std::span<const double> sample_weight,
                         std::size_t silhouette_sample_size) {
  constexpr std::string_view function = "choose_k";
  detail::check_samples(function, "x", x);
  const auto n = static_cast<std::size_t>(x.rows());
  if (k_min < 2 || k_max < k_min || k_max >= n) {
    check::fail(function, fmt::format("the range k_min = {} .. k_max = {} must satisfy 2 <= k_min "
                                      "<= k_max <= n_samples - 1 = {}",
                                      k_min, k_max, n - 1));
  }
  const bool sampled = silhouette_sample_size != 0 && silhouette_sample_size < n;
  choose_k_result result;
  result.silhouette_sample_size = sampled ? silhouette_sample_size : n;
  // The silhouette sample is the same for every k (drawn with options.seed), so the silhouettes
  // of all fits are computed together, each distance once.
  std::vector<std::size_t> order;
  row_matrix subset;
  if (sampled) {
    order = sample_order(n, silhouette_sample_size, options.seed);
    subset.resize(static_cast<Eigen::Index>(order.size()), x.cols());
    for (std::size_t s = 0; s < order.size(); ++s) {
      subset.row(static_cast<Eigen::Index>(s)) = x.row(static_cast<Eigen::Index>(order[s]));
    }
  }
  const matrix_view scored = sampled ? matrix_view(subset) : x;
  std::vector<encoded_labels> labelings;
  std::vector<std::size_t> scored_rows;
  for (std::size_t k = k_min; k <= k_max; ++k) {
    kmeans_options settings = options;
    settings.n_clusters = k;
    const auto fit = kmeans(x, settings, sample_weight);
    choose_k_row row{k,          fit.inertia,          std::nan(""), std::nan(""), std::nan(""),
                     fit.n_iter, fit.distinct_clusters};
    if (fit.distinct_clusters >= 2) {
      const std::vector<std::int64_t> labels(fit.labels.begin(), fit.labels.end());
      if (sampled) {
        std::vector<std::int64_t> subset_labels(order.size());
        for (std::size_t s = 0; s < order.size(); ++s) subset_labels[s] = labels[order[s]];
        labelings.push_back(encode("silhouette_score", scored, subset_labels));
      } else {
        labelings.push_back(encode("silhouette_score", x, labels));
      }
      scored_rows.push_back(result.rows.size());
      row.calinski_harabasz = calinski_harabasz_score(x, labels);
      row.davies_bouldin = davies_bouldin_score(x, labels);
    }
    result.rows.push_back(row);
  }
  const auto silhouettes = silhouette_values(scored, labelings);
  double best = -std::numeric_limits<double>::infinity();
  for (std::size_t s = 0; s < scored_rows.size(); ++s) {
    auto& row = result.rows[scored_rows[s]];
    row.silhouette = mean(silhouettes[s]);
    if (row.silhouette > best) {
      best = row.silhouette;
      result.suggested_k = row.k;
    }
  }
  return result;
}

}  // namespace crmkit::segment
