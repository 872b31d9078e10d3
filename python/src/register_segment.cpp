#include <crmkit/segment.hpp>

#include <optional>
#include <string>

#include "bindings.hpp"

namespace crmkit::python {

namespace {

using namespace pybind11::literals;
using segment::matrix_view;
using segment::row_matrix;

using matrix_map = Eigen::Map<const row_matrix>;

/** A 2-d C-ordered float64 array viewed as samples x features (no copy). */
matrix_map as_matrix(const double_array& array, const char* name) {
  if (array.ndim() != 2) {
    throw py::value_error(std::string(name) + " must be a 2-d array (samples x features), got " +
                          std::to_string(array.ndim()) + " dimensions");
  }
  return {array.data(), array.shape(0), array.shape(1)};
}

std::span<const double> optional_span(const std::optional<double_array>& array) {
  return array ? as_span(*array) : std::span<const double>{};
}

py::array_t<double> to_numpy(const row_matrix& matrix) {
  py::array_t<double> out({matrix.rows(), matrix.cols()});
  std::copy_n(matrix.data(), matrix.size(), out.mutable_data());
  return out;
}

template <class T>
py::array_t<T> to_numpy(const std::vector<T>& values) {
  auto out = new_array<T>(values.size());
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

void register_kmeans(py::module_& module) {
  py::class_<segment::kmeans_result>(module, "KMeansResult", "Result of a k-means fit.")
      .def_property_readonly("centers",
                             [](const segment::kmeans_result& r) { return to_numpy(r.centers); })
      .def_property_readonly("labels",
                             [](const segment::kmeans_result& r) { return to_numpy(r.labels); })
      .def_readonly("inertia", &segment::kmeans_result::inertia)
      .def_readonly("n_iter", &segment::kmeans_result::n_iter)
      .def_readonly("converged", &segment::kmeans_result::converged)
      .def_readonly("strict_convergence", &segment::kmeans_result::strict_convergence)
      .def_readonly("distinct_clusters", &segment::kmeans_result::distinct_clusters)
      .def_readonly("best_run", &segment::kmeans_result::best_run)
      .def_readonly("n_runs", &segment::kmeans_result::n_runs)
      .def_property_readonly("algorithm",
                             [](const segment::kmeans_result& r) {
                               return std::string(segment::kmeans_algorithm_name(r.algorithm));
                             })
      .def_readonly("distance_evaluations", &segment::kmeans_result::distance_evaluations)
      .def_readonly("tolerance", &segment::kmeans_result::tolerance);

  module.def(
      "kmeans",
      [](const double_array& x, const std::optional<double_array>& sample_weight,
         const std::optional<double_array>& initial_centers, std::size_t n_clusters,
         const std::string& init, std::size_t n_init, std::size_t max_iter, double tol,
         std::uint64_t seed, const std::string& algorithm) {
        segment::kmeans_options options;
        options.n_clusters = n_clusters;
        options.n_init = n_init;
        options.max_iter = max_iter;
        options.tol = tol;
        options.seed = seed;
        options.algorithm = segment::parse_kmeans_algorithm(algorithm);
        const auto samples = as_matrix(x, "x");
        const auto weights = optional_span(sample_weight);
        if (initial_centers) {
          const auto start = as_matrix(*initial_centers, "initial_centers");
          // Safe: the arrays are kept alive by the caller's references; no Python objects are
          // touched.
          py::gil_scoped_release release;
          return segment::kmeans(samples, start, options, weights);
        }
        options.init = segment::parse_kmeans_init(init);
        py::gil_scoped_release release;
        return segment::kmeans(samples, options, weights);
      },
      "x"_a, "sample_weight"_a = py::none(), "initial_centers"_a = py::none(), "n_clusters"_a = 8,
      "init"_a = "k-means++", "n_init"_a = 0, "max_iter"_a = 300, "tol"_a = 1e-4, "seed"_a = 0,
      "algorithm"_a = "auto",
      "k-means fit with scikit-learn's semantics (see crmkit/segment/kmeans.hpp).\n"
      "n_init=0 means 'auto'; initial_centers, when given, overrides init.");

  module.def(
      "kmeans_plus_plus",
      [](const double_array& x, std::size_t n_clusters, std::uint64_t seed,
         const std::optional<double_array>& sample_weight, std::size_t n_local_trials) {
        const auto samples = as_matrix(x, "x");
        const auto weights = optional_span(sample_weight);
        segment::seeding_result result;
        {
          py::gil_scoped_release release;
          result = segment::kmeans_plus_plus(samples, n_clusters, seed, weights, n_local_trials);
        }
        return py::make_tuple(to_numpy(result.centers), to_numpy(result.indices));
      },
      "x"_a, "n_clusters"_a, "seed"_a, "sample_weight"_a = py::none(), "n_local_trials"_a = 0,
      "Greedy weighted k-means++ seeding; returns (centers, indices).");

  module.def(
      "kmeans_predict",
      [](const double_array& x, const double_array& centers,
         const std::optional<double_array>& sample_weight) {
        const auto samples = as_matrix(x, "x");
        const auto centres = as_matrix(centers, "centers");
        const auto weights = optional_span(sample_weight);
        segment::assignment result;
        {
          py::gil_scoped_release release;
          result = segment::kmeans_predict(samples, centres, weights);
        }
        return py::make_tuple(to_numpy(result.labels), result.inertia);
      },
      "x"_a, "centers"_a, "sample_weight"_a = py::none(),
      "Nearest-centre labels and weighted inertia; returns (labels, inertia).");

  module.def(
      "kmeans_transform",
      [](const double_array& x, const double_array& centers) {
        const auto samples = as_matrix(x, "x");
        const auto centres = as_matrix(centers, "centers");
        row_matrix distances;
        {
          py::gil_scoped_release release;
          distances = segment::kmeans_transform(samples, centres);
        }
        return to_numpy(distances);
      },
      "x"_a, "centers"_a, "Euclidean distances from every sample to every centre (n x k).");
}

std::span<const std::int64_t> label_span(const int64_array& labels) {
  return as_span(labels);
}

void register_quality(py::module_& module) {
  module.def(
      "silhouette_samples",
      [](const double_array& x, const int64_array& labels) {
        const auto samples = as_matrix(x, "x");
        std::vector<double> values;
        {
          py::gil_scoped_release release;
          values = segment::silhouette_samples(samples, label_span(labels));
        }
        return to_numpy(values);
      },
      "x"_a, "labels"_a, "Silhouette value of every sample (exact, O(n^2 d)).");
  module.def(
      "silhouette_score",
      [](const double_array& x, const int64_array& labels, std::size_t sample_size,
         std::uint64_t seed) {
        const auto samples = as_matrix(x, "x");
        segment::sampled_silhouette result;
        {
          py::gil_scoped_release release;
          if (sample_size == 0) {
            result.score = segment::silhouette_score(samples, label_span(labels));
          } else {
            result = segment::silhouette_score(samples, label_span(labels), sample_size, seed);
          }
        }
        return py::make_tuple(result.score, to_numpy(result.indices));
      },
      "x"_a, "labels"_a, "sample_size"_a = 0, "seed"_a = 0,
      "Mean silhouette, exact (sample_size=0) or over a seeded sample; returns (score, "
      "indices used, empty when exact).");
  module.def(
      "calinski_harabasz_score",
      [](const double_array& x, const int64_array& labels) {
        const auto samples = as_matrix(x, "x");
        py::gil_scoped_release release;
        return segment::calinski_harabasz_score(samples, label_span(labels));
      },
      "x"_a, "labels"_a, "Calinski-Harabasz index (higher is better).");
  module.def(
      "davies_bouldin_score",
      [](const double_array& x, const int64_array& labels) {
        const auto samples = as_matrix(x, "x");
        py::gil_scoped_release release;
        return segment::davies_bouldin_score(samples, label_span(labels));
      },
      "x"_a, "labels"_a, "Davies-Bouldin index (lower is better).");
  module.def(
      "choose_k",
      [](const double_array& x, std::size_t k_min, std::size_t k_max,
         const std::optional<double_array>& sample_weight, const std::string& init,
         std::size_t n_init, std::size_t max_iter, double tol, std::uint64_t seed,
         const std::string& algorithm, std::size_t silhouette_sample_size) {
        segment::kmeans_options options;
        options.init = segment::parse_kmeans_init(init);
        options.n_init = n_init;
        options.max_iter = max_iter;
        options.tol = tol;
        options.seed = seed;
        options.algorithm = segment::parse_kmeans_algorithm(algorithm);
        const auto samples = as_matrix(x, "x");
        const auto weights = optional_span(sample_weight);
        segment::choose_k_result result;
        {
          py::gil_scoped_release release;
          result =
              segment::choose_k(samples, k_min, k_max, options, weights, silhouette_sample_size);
        }
        py::dict columns;
        auto column = [&](const char* name, auto member) {
          py::list values;
          for (const auto& row : result.rows) values.append(row.*member);
          columns[name] = values;
        };
        column("k", &segment::choose_k_row::k);
        column("inertia", &segment::choose_k_row::inertia);
        column("silhouette", &segment::choose_k_row::silhouette);
        column("calinski_harabasz", &segment::choose_k_row::calinski_harabasz);
        column("davies_bouldin", &segment::choose_k_row::davies_bouldin);
        column("n_iter", &segment::choose_k_row::n_iter);
        column("distinct_clusters", &segment::choose_k_row::distinct_clusters);
        return py::make_tuple(columns, result.suggested_k, result.silhouette_sample_size);
      },
      "x"_a, "k_min"_a, "k_max"_a, "sample_weight"_a = py::none(), "init"_a = "k-means++",
      "n_init"_a = 0, "max_iter"_a = 300, "tol"_a = 1e-4, "seed"_a = 0, "algorithm"_a = "auto",
      "silhouette_sample_size"_a = 0,
      "k-means for every k in [k_min, k_max] with inertia and the three quality scores; returns "
      "(columns, suggested k, silhouette sample size).");
}

}  // namespace

void register_segment(py::module_& module) {
  register_kmeans(module);
  register_quality(module);
}

}  // namespace crmkit::python
