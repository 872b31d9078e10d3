#include <crmkit/segment.hpp>
#include <crmkit/segment/kmeans_steps.hpp>
#include <crmkit/segment/tier_buckets.hpp>

#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "exact_limbs.hpp"
#include "schema.hpp"

namespace crmkit::python {

py::tuple moments_to_python(const segment::kmeans_moments& moments) {
  py::list sums;
  for (const auto& sum : moments.sums) sums.append(limbs_to_numpy(sum));
  return py::make_tuple(moments.rows, moments.positive_weights, moments.largest_weight,
                        moments.largest_squared_norm, sums);
}

segment::kmeans_moments merged_moments(const py::list& parts) {
  segment::kmeans_moments merged;
  for (const auto& part : parts) {
    const auto fields = part.cast<py::tuple>();
    segment::kmeans_moments moments;
    moments.rows = fields[0].cast<std::size_t>();
    moments.positive_weights = fields[1].cast<std::size_t>();
    moments.largest_weight = fields[2].cast<double>();
    moments.largest_squared_norm = fields[3].cast<double>();
    for (const auto& sum : fields[4]) moments.sums.push_back(limbs_of(sum));
    merged += moments;
  }
  return merged;
}

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

/** The fit's settings as both k-means bindings take them (`init` is read by each). */
segment::kmeans_options kmeans_options_of(std::size_t n_clusters, std::size_t n_init,
                                          std::size_t max_iter, double tol, std::uint64_t seed,
                                          const std::string& algorithm) {
  segment::kmeans_options options;
  options.n_clusters = n_clusters;
  options.n_init = n_init;
  options.max_iter = max_iter;
  options.tol = tol;
  options.seed = seed;
  options.algorithm = segment::parse_kmeans_algorithm(algorithm);
  return options;
}

void register_kmeans(py::module_& module) {
  py::class_<segment::kmeans_result>(module, "KMeansResult", "Result of a k-means fit.")
      .def_property_readonly("centers",
                             [](const segment::kmeans_result& r) { return numpy_copy(r.centers); })
      .def_property_readonly("labels",
                             [](const segment::kmeans_result& r) { return numpy_copy(r.labels); })
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
        auto options = kmeans_options_of(n_clusters, n_init, max_iter, tol, seed, algorithm);
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
        return py::make_tuple(numpy_copy(result.centers), numpy_copy(result.indices));
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
        return py::make_tuple(numpy_copy(result.labels), result.inertia);
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
        return numpy_copy(distances);
      },
      "x"_a, "centers"_a, "Euclidean distances from every sample to every centre (n x k).");
}

using int32_array = core_array<std::int32_t>;

/** Exact k-means sums as an (m, 2) int64 array: low 64 bits (two's complement), high 64 bits. */
py::array_t<std::int64_t> wide_to_numpy(const std::vector<wide_int>& sums) {
  py::array_t<std::int64_t> out({static_cast<py::ssize_t>(sums.size()), py::ssize_t{2}});
  auto view = out.mutable_unchecked<2>();
  for (std::size_t m = 0; m < sums.size(); ++m) {
    const auto bits = static_cast<uint128>(sums[m]);
    view(static_cast<py::ssize_t>(m), 0) =
        static_cast<std::int64_t>(static_cast<std::uint64_t>(bits));
    view(static_cast<py::ssize_t>(m), 1) = static_cast<std::int64_t>(bits >> 64);
  }
  return out;
}

/** The sum of (parts, m, 2) arrays written by wide_to_numpy (exact: integer addition). */
std::vector<wide_int> wide_sum(const int64_array& parts) {
  if (parts.ndim() != 3 || parts.shape(2) != 2) {
    throw py::value_error("sums must have shape (partitions, m, 2)");
  }
  auto view = parts.unchecked<3>();
  std::vector<wide_int> total(static_cast<std::size_t>(parts.shape(1)), 0);
  for (py::ssize_t p = 0; p < parts.shape(0); ++p) {
    for (py::ssize_t m = 0; m < parts.shape(1); ++m) {
      const uint128 bits = (static_cast<uint128>(static_cast<std::uint64_t>(view(p, m, 1))) << 64) |
                           static_cast<std::uint64_t>(view(p, m, 0));
      total[static_cast<std::size_t>(m)] += static_cast<wide_int>(bits);
    }
  }
  return total;
}

Eigen::RowVectorXd as_row(const double_array& values) {
  return Eigen::Map<const Eigen::RowVectorXd>(values.data(), values.size());
}

/** Two labellings of the same rows, every label in [0, k). */
void check_label_pair(const int32_array& a, const int32_array& b, std::size_t k) {
  if (a.size() != b.size()) throw py::value_error("a and b must have the same length");
  for (const auto* labels : {&a, &b}) {
    for (auto label : as_span(*labels)) {
      if (label < 0 || static_cast<std::size_t>(label) >= k) {
        throw py::value_error("labels must be in [0, k)");
      }
    }
  }
}

/** An exact integer as a Python int. */
py::int_ wide_to_int(wide_int value) {
  const auto high = py::int_(static_cast<std::int64_t>(value >> 64));
  const auto low = py::int_(static_cast<std::uint64_t>(static_cast<uint128>(value)));
  return py::reinterpret_steal<py::int_>(PyNumber_Or(high.attr("__lshift__")(64).ptr(), low.ptr()));
}

/** A Python int below 2^127 in magnitude as an exact integer. */
wide_int int_to_wide(const py::handle& value) {
  const py::int_ number = py::reinterpret_borrow<py::object>(value);
  const auto low = number.attr("__and__")(py::int_(~std::uint64_t{0})).cast<std::uint64_t>();
  const auto high = number.attr("__rshift__")(64).cast<std::int64_t>();
  return static_cast<wide_int>((static_cast<uint128>(static_cast<std::uint64_t>(high)) << 64) |
                               low);
}

std::vector<wide_int> ints_to_wide(const py::handle& values) {
  std::vector<wide_int> out;
  for (const auto& value : values) out.push_back(int_to_wide(value));
  return out;
}

py::list wide_to_ints(const std::vector<wide_int>& values) {
  py::list out;
  for (auto value : values) out.append(wide_to_int(value));
  return out;
}

/** Seeding callbacks implemented by Python callables (a Dask driver); wide values as ints. */
segment::kmeans_seeding_partitions python_partitions(const py::object& weight_totals,
                                                     const py::object& add_centre,
                                                     const py::object& find,
                                                     const py::object& candidate_potentials) {
  segment::kmeans_seeding_partitions parts;
  parts.weight_totals = [weight_totals] { return ints_to_wide(weight_totals()); };
  parts.add_centre = [add_centre](std::span<const double> centre, bool first) {
    return ints_to_wide(
        add_centre(numpy_copy(std::vector<double>(centre.begin(), centre.end())), first));
  };
  parts.find = [find](std::span<const segment::kmeans_draw> draws, bool by_potential) {
    py::list requests;
    for (const auto& draw : draws) {
      py::list skip;
      for (auto row : draw.skip) skip.append(row);
      requests.append(py::make_tuple(draw.partition, wide_to_int(draw.target), skip));
    }
    std::vector<segment::kmeans_drawn> found;
    for (const auto& item : find(requests, by_potential)) {
      const auto fields = item.cast<py::tuple>();
      const auto centred = fields[2].cast<double_array>();
      found.push_back({fields[0].cast<std::size_t>(), int_to_wide(fields[1]),
                       std::vector<double>(centred.data(), centred.data() + centred.size())});
    }
    if (found.size() != draws.size()) throw py::value_error("find must answer every draw");
    return found;
  };
  parts.candidate_potentials = [candidate_potentials](const row_matrix& candidates) {
    return ints_to_wide(candidate_potentials(numpy_copy(candidates)));
  };
  return parts;
}

std::vector<segment::kmeans_draw> draws_of(const py::list& requests) {
  std::vector<segment::kmeans_draw> draws;
  for (const auto& request : requests) {
    const auto fields = request.cast<py::tuple>();
    segment::kmeans_draw draw;
    draw.target = int_to_wide(fields[0]);
    draw.skip = fields[1].cast<std::vector<std::size_t>>();
    draws.push_back(std::move(draw));
  }
  return draws;
}

void register_kmeans_seeding(py::module_& module) {
  module.def(
      "kmeans_column_sums",
      [](const double_array& x, const std::optional<double_array>& sample_weight) {
        const auto samples = as_matrix(x, "x");
        segment::kmeans_moments moments;
        {
          py::gil_scoped_release release;
          moments = segment::kmeans_column_sums(samples, optional_span(sample_weight));
        }
        return moments_to_python(moments);
      },
      "x"_a, "sample_weight"_a = py::none(),
      "One partition's first plan pass (crmkit/segment/kmeans_steps.hpp): (rows, "
      "positive_weights, largest_weight, 0, exact column sums as limbs).");
  module.def(
      "kmeans_column_mean",
      [](const py::list& sums) {
        return numpy_copy(segment::kmeans_column_mean(merged_moments(sums)));
      },
      "sums"_a, "Column means from the partitions' kmeans_column_sums.");
  module.def(
      "kmeans_column_deviations",
      [](const double_array& x, const double_array& mean) {
        const auto samples = as_matrix(x, "x");
        const Eigen::RowVectorXd centre = as_row(mean);
        segment::kmeans_moments moments;
        {
          py::gil_scoped_release release;
          moments = segment::kmeans_column_deviations(samples, centre);
        }
        return moments_to_python(moments);
      },
      "x"_a, "mean"_a,
      "One partition's second plan pass: exact sums of squared deviations, largest squared "
      "centred norm.");
  module.def(
      "kmeans_plan_of",
      [](const py::list& sums, const py::list& deviations,
         const std::optional<double_array>& initial_centers, std::size_t n_clusters,
         const std::string& init, std::size_t n_init, std::size_t max_iter, double tol,
         std::uint64_t seed, const std::string& algorithm) {
        auto options = kmeans_options_of(n_clusters, n_init, max_iter, tol, seed, algorithm);
        options.init = segment::parse_kmeans_init(init);
        std::optional<segment::matrix_view> start;
        if (initial_centers) start.emplace(as_matrix(*initial_centers, "initial_centers"));
        return to_dict(segment::kmeans_plan_of(merged_moments(sums),
                                                      merged_moments(deviations), start, options));
      },
      "sums"_a, "deviations"_a, "initial_centers"_a = py::none(), "n_clusters"_a = 8,
      "init"_a = "k-means++", "n_init"_a = 0, "max_iter"_a = 300, "tol"_a = 1e-4, "seed"_a = 0,
      "algorithm"_a = "auto",
      "The plan (as kmeans_plan; starts only from initial_centers) from the partitions' "
      "kmeans_column_sums and kmeans_column_deviations.");
  module.def(
      "kmeans_seed",
      [](const py::dict& plan_fields, const py::object& weight_totals, const py::object& add_centre,
         const py::object& find, const py::object& candidate_potentials, std::size_t n_clusters,
         const std::string& init, std::size_t n_init, std::uint64_t seed) {
        auto options = kmeans_options_of(n_clusters, n_init, 300, 0, seed, "auto");
        options.init = segment::parse_kmeans_init(init);
        segment::kmeans_plan plan;
        plan.mean = as_row(plan_fields["mean"].cast<double_array>());
        plan.radius = plan_fields["radius"].cast<double>();
        plan.largest_weight = plan_fields["largest_weight"].cast<double>();
        plan.rows = plan_fields["rows"].cast<std::size_t>();
        plan.positive_weights = plan_fields["positive_weights"].cast<std::size_t>();
        segment::kmeans_seed(
            plan, options,
            python_partitions(weight_totals, add_centre, find, candidate_potentials));
        py::list starts;
        for (const auto& centres : plan.starts) starts.append(numpy_copy(centres));
        return starts;
      },
      "plan"_a, "weight_totals"_a, "add_centre"_a, "find"_a, "candidate_potentials"_a,
      "n_clusters"_a = 8, "init"_a = "k-means++", "n_init"_a = 0, "seed"_a = 0,
      "The centred starts of every run, drawn through the callables, which run the "
      "kmeans_seed_* steps on the partitions (exact totals as ints).");
  module.def(
      "kmeans_seed_weight_total",
      [](std::size_t rows, double radius, double largest_weight,
         const std::optional<double_array>& sample_weight) {
        return wide_to_int(segment::kmeans_seed_weight_total(rows, {radius, largest_weight},
                                                             optional_span(sample_weight)));
      },
      "rows"_a, "radius"_a, "largest_weight"_a, "sample_weight"_a = py::none(),
      "A partition's exact weight mass for seeding draws.");
  module.def(
      "kmeans_seed_add_centre",
      [](const double_array& x, const double_array& mean, const double_array& centre, double radius,
         double largest_weight, const std::optional<double_array>& closest,
         const std::optional<double_array>& sample_weight) {
        const auto samples = as_matrix(x, "x");
        const Eigen::RowVectorXd shift = as_row(mean);
        std::vector<double> updated(static_cast<std::size_t>(samples.rows()), 0.0);
        if (closest) {
          if (closest->size() != samples.rows()) throw py::value_error("closest: one per row");
          std::copy_n(closest->data(), updated.size(), updated.begin());
        }
        wide_int potential = 0;
        {
          py::gil_scoped_release release;
          potential = segment::kmeans_seed_add_centre(samples, shift, as_span(centre),
                                                      {radius, largest_weight}, updated, !closest,
                                                      optional_span(sample_weight));
        }
        return py::make_tuple(numpy_copy(updated), wide_to_int(potential));
      },
      "x"_a, "mean"_a, "centre"_a, "radius"_a, "largest_weight"_a, "closest"_a = py::none(),
      "sample_weight"_a = py::none(),
      "Adds a centred centre to a partition's closest distances (None: a new run); returns "
      "(closest, exact potential).");
  module.def(
      "kmeans_seed_potentials",
      [](const double_array& x, const double_array& mean, const double_array& candidates,
         double radius, double largest_weight, const double_array& closest,
         const std::optional<double_array>& sample_weight) {
        const auto samples = as_matrix(x, "x");
        const auto rows = as_matrix(candidates, "candidates");
        const Eigen::RowVectorXd shift = as_row(mean);
        std::vector<wide_int> potentials;
        {
          py::gil_scoped_release release;
          potentials =
              segment::kmeans_seed_potentials(samples, shift, rows, {radius, largest_weight},
                                              as_span(closest), optional_span(sample_weight));
        }
        return wide_to_ints(potentials);
      },
      "x"_a, "mean"_a, "candidates"_a, "radius"_a, "largest_weight"_a, "closest"_a,
      "sample_weight"_a = py::none(), "A partition's exact potential with each candidate added.");
  module.def(
      "kmeans_seed_find",
      [](const double_array& x, const double_array& mean, double radius, double largest_weight,
         const py::list& draws, const std::optional<double_array>& closest,
         const std::optional<double_array>& sample_weight) {
        const auto samples = as_matrix(x, "x");
        const Eigen::RowVectorXd shift = as_row(mean);
        const auto requests = draws_of(draws);
        const auto found =
            segment::kmeans_seed_find(samples, shift, {radius, largest_weight}, requests,
                                      optional_span(closest), optional_span(sample_weight));
        py::list out;
        for (const auto& drawn : found) {
          out.append(py::make_tuple(drawn.row, wide_to_int(drawn.mass), numpy_copy(drawn.centred)));
        }
        return out;
      },
      "x"_a, "mean"_a, "radius"_a, "largest_weight"_a, "draws"_a, "closest"_a = py::none(),
      "sample_weight"_a = py::none(),
      "The rows that draws [(target, skip)] land on in a partition: [(row, mass, centred row)]; "
      "by potential when closest is given, else by weight.");
  module.def(
      "kmeans_inertia_sum",
      [](const double_array& x, const double_array& mean, const double_array& centres,
         const int32_array& labels, const std::optional<double_array>& sample_weight) {
        const auto samples = as_matrix(x, "x");
        const auto centre_rows = as_matrix(centres, "centres");
        const Eigen::RowVectorXd shift = as_row(mean);
        full_range_sum sum;
        {
          py::gil_scoped_release release;
          sum = segment::kmeans_inertia_sum(samples, shift, centre_rows, as_span(labels),
                                            optional_span(sample_weight));
        }
        return limbs_to_numpy(sum);
      },
      "x"_a, "mean"_a, "centres"_a, "labels"_a, "sample_weight"_a = py::none(),
      "A partition's exact inertia as limbs (merge with exact_total).");
  module.def(
      "exact_total",
      [](const py::list& parts) {
        full_range_sum total;
        for (const auto& part : parts) total += limbs_of(part);
        return total.value();
      },
      "parts"_a, "The sum of exact sums given as limbs, rounded once.");
  module.def(
      "kmeans_label_mapping",
      [](const int32_array& a, const int32_array& b, std::size_t k) {
        check_label_pair(a, b, k);
        return numpy_copy(segment::kmeans_label_mapping(as_span(a), as_span(b), k));
      },
      "a"_a, "b"_a, "k"_a,
      "Per label of a: the label of b on its rows, -1 if absent, -2 if two labels of b share it.");
  module.def(
      "kmeans_same_clustering_of_mappings",
      [](const std::vector<std::vector<std::int32_t>>& mappings, std::size_t k) {
        const auto merged = segment::kmeans_merge_label_mappings(mappings, k);
        return std::find(merged.begin(), merged.end(), segment::label_mapping_conflict) ==
               merged.end();
      },
      "mappings"_a, "k"_a,
      "Whether the partitions' label mappings describe the same clustering up to relabelling.");
}

void register_kmeans_steps(py::module_& module) {
  module.def(
      "kmeans_plan",
      [](const double_array& x, const std::optional<double_array>& sample_weight,
         const std::optional<double_array>& initial_centers, std::size_t n_clusters,
         const std::string& init, std::size_t n_init, std::size_t max_iter, double tol,
         std::uint64_t seed, const std::string& algorithm) {
        auto options = kmeans_options_of(n_clusters, n_init, max_iter, tol, seed, algorithm);
        options.init = segment::parse_kmeans_init(init);
        const auto samples = as_matrix(x, "x");
        const auto weights = optional_span(sample_weight);
        std::optional<segment::matrix_view> start;
        if (initial_centers) start.emplace(as_matrix(*initial_centers, "initial_centers"));
        segment::kmeans_plan plan;
        {
          py::gil_scoped_release release;
          plan = segment::kmeans_plan_fit(samples, start, options, weights);
        }
        return to_dict(plan);
      },
      "x"_a, "sample_weight"_a = py::none(), "initial_centers"_a = py::none(), "n_clusters"_a = 8,
      "init"_a = "k-means++", "n_init"_a = 0, "max_iter"_a = 300, "tol"_a = 1e-4, "seed"_a = 0,
      "algorithm"_a = "auto",
      "What a k-means fit fixes before iterating (see crmkit/segment/kmeans_steps.hpp): dict of "
      "mean, tolerance, radius, largest_weight, algorithm and the centred starts of every run.");

  module.def(
      "kmeans_assign_partition",
      [](const double_array& x, const double_array& mean, const double_array& centres,
         double radius, double largest_weight, const std::optional<double_array>& sample_weight,
         const std::optional<int32_array>& previous) {
        const auto samples = as_matrix(x, "x");
        const auto centre_rows = as_matrix(centres, "centres");
        const Eigen::RowVectorXd shift = as_row(mean);
        const auto weights = optional_span(sample_weight);
        const auto before = previous ? as_span(*previous) : std::span<const std::int32_t>{};
        segment::kmeans_partial partial;
        {
          py::gil_scoped_release release;
          partial = segment::kmeans_assign_partition(samples, shift, centre_rows,
                                                     {radius, largest_weight}, weights, before);
        }
        return py::make_tuple(numpy_copy(partial.labels), partial.changes,
                              wide_to_numpy(partial.sums));
      },
      "x"_a, "mean"_a, "centres"_a, "radius"_a, "largest_weight"_a, "sample_weight"_a = py::none(),
      "previous"_a = py::none(),
      "One partition's k-means E-step; returns (labels, changes, exact sums as (m, 2) int64).");

  module.def(
      "kmeans_own_distances",
      [](const double_array& x, const double_array& mean, const double_array& centres,
         const int32_array& labels) {
        const auto samples = as_matrix(x, "x");
        const auto centre_rows = as_matrix(centres, "centres");
        const Eigen::RowVectorXd shift = as_row(mean);
        std::vector<double> distances;
        {
          py::gil_scoped_release release;
          distances = segment::kmeans_own_distances(samples, shift, centre_rows, as_span(labels));
        }
        return numpy_copy(distances);
      },
      "x"_a, "mean"_a, "centres"_a, "labels"_a,
      "Squared distance of every centred row to its own centre.");

  module.def(
      "kmeans_update_centres",
      [](const int64_array& sums, const double_array& centres, const double_array& mean,
         double radius, double largest_weight, const std::optional<double_array>& far_rows,
         const std::optional<double_array>& far_weights,
         const std::optional<int32_array>& far_labels) {
        const std::vector<wide_int> total = wide_sum(sums);
        const auto centre_rows = as_matrix(centres, "centres");
        segment::kmeans_far_points far;
        if (far_rows) {
          far.rows = as_matrix(*far_rows, "far_rows");
          if (far_weights)
            far.weights.assign(far_weights->data(), far_weights->data() + far_weights->size());
          if (far_labels)
            far.labels.assign(far_labels->data(), far_labels->data() + far_labels->size());
        }
        const segment::kmeans_update update = segment::kmeans_update_centres(
            total, centre_rows, as_row(mean), {radius, largest_weight}, far);
        return py::make_tuple(numpy_copy(update.centres), update.shift_total);
      },
      "sums"_a, "centres"_a, "mean"_a, "radius"_a, "largest_weight"_a, "far_rows"_a = py::none(),
      "far_weights"_a = py::none(), "far_labels"_a = py::none(),
      "k-means M-step from the partitions' exact sums (partitions, m, 2); returns (centres, "
      "shift_total).");

  module.def(
      "kmeans_same_clustering",
      [](const int32_array& a, const int32_array& b, std::size_t k) {
        check_label_pair(a, b, k);
        return segment::kmeans_same_clustering(as_span(a), as_span(b), k);
      },
      "a"_a, "b"_a, "k"_a, "Whether two labellings are the same partition up to relabelling.");
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
        return numpy_copy(values);
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
        return py::make_tuple(result.score, numpy_copy(result.indices));
      },
      "x"_a, "labels"_a, "sample_size"_a = 0, "seed"_a = 0,
      "Mean silhouette, exact (sample_size=0) or over a seeded sample; returns (score, "
      "indices used, empty when exact).");
  auto bind_score = [&](const char* name,
                        double (*score)(const matrix_view&, std::span<const std::int64_t>),
                        const char* doc) {
    module.def(
        name,
        [score](const double_array& x, const int64_array& labels) {
          const auto samples = as_matrix(x, "x");
          py::gil_scoped_release release;
          return score(samples, label_span(labels));
        },
        "x"_a, "labels"_a, doc);
  };
  bind_score("calinski_harabasz_score", &segment::calinski_harabasz_score,
             "Calinski-Harabasz index (higher is better).");
  bind_score("davies_bouldin_score", &segment::davies_bouldin_score,
             "Davies-Bouldin index (lower is better).");
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
        return py::make_tuple(to_columns(result.rows), result.suggested_k,
                              result.silhouette_sample_size);
      },
      "x"_a, "k_min"_a, "k_max"_a, "sample_weight"_a = py::none(), "init"_a = "k-means++",
      "n_init"_a = 0, "max_iter"_a = 300, "tol"_a = 1e-4, "seed"_a = 0, "algorithm"_a = "auto",
      "silhouette_sample_size"_a = 0,
      "k-means for every k in [k_min, k_max] with inertia and the three quality scores; returns "
      "(columns, suggested k, silhouette sample size).");
}

segment::score_scale scale_from(const double_array& thresholds, std::size_t bins,
                                bool higher_is_better) {
  const auto values = as_span(thresholds);
  return {std::vector<double>(values.begin(), values.end()), bins, higher_is_better, bins};
}

/** A rule set travels as (name, bins, [(rule name, english name, [box, ...])], policy,
 * unmatched) with each box a 6-tuple of inclusive score bounds (r, r, f, f, m, m). */
using box_tuple =
    std::tuple<std::int32_t, std::int32_t, std::int32_t, std::int32_t, std::int32_t, std::int32_t>;
using rule_tuple = std::tuple<std::string, std::string, std::vector<box_tuple>>;
using rule_set_tuple =
    std::tuple<std::string, std::size_t, std::vector<rule_tuple>, std::string, std::string>;

segment::rfm_rule_set rule_set_from(const rule_set_tuple& data) {
  const auto& [name, bins, rules, policy, unmatched] = data;
  segment::rfm_rule_set set{name, bins, {}, segment::parse_match_policy(policy), unmatched};
  for (const auto& [rule_name, english, boxes] : rules) {
    segment::rfm_rule rule{rule_name, {}, english};
    for (const auto& [r0, r1, f0, f1, m0, m1] : boxes)
      rule.boxes.push_back({r0, r1, f0, f1, m0, m1});
    set.rules.push_back(std::move(rule));
  }
  return set;
}

rule_set_tuple rule_set_to(const segment::rfm_rule_set& set) {
  std::vector<rule_tuple> rules;
  for (const auto& rule : set.rules) {
    std::vector<box_tuple> boxes;
    for (const auto& b : rule.boxes) {
      boxes.emplace_back(b.recency_low, b.recency_high, b.frequency_low, b.frequency_high,
                         b.monetary_low, b.monetary_high);
    }
    rules.emplace_back(rule.name, rule.english_name, std::move(boxes));
  }
  return {set.name, set.bins, std::move(rules),
          set.policy == segment::match_policy::first ? "first" : "last", set.unmatched};
}

void register_rfm(py::module_& module) {
  record_schema<segment::rfm_rule_report>(module, "RfmRuleReport", {"check_rule_set"});
  record_schema<segment::score_scale>(module, "ScoreScale", {"quantile_scale_of_histogram"});
  module.def(
      "score_rfm",
      [](const double_array& recency, const double_array& frequency, const double_array& monetary,
         std::size_t bins, const std::string& ties, const double_array& recency_thresholds,
         const double_array& frequency_thresholds, const double_array& monetary_thresholds) {
        segment::rfm_options options;
        options.bins = bins;
        options.ties = segment::parse_tie_policy(ties);
        auto copy = [](const double_array& a) {
          const auto v = as_span(a);
          return std::vector<double>(v.begin(), v.end());
        };
        options.recency_thresholds = copy(recency_thresholds);
        options.frequency_thresholds = copy(frequency_thresholds);
        options.monetary_thresholds = copy(monetary_thresholds);
        segment::rfm_scores scores;
        {
          py::gil_scoped_release release;
          scores =
              segment::score_rfm(as_span(recency), as_span(frequency), as_span(monetary), options);
        }
        return to_dict(scores);
      },
      "recency"_a, "frequency"_a, "monetary"_a, "bins"_a = 5, "ties"_a = "average_rank",
      "recency_thresholds"_a = double_array(), "frequency_thresholds"_a = double_array(),
      "monetary_thresholds"_a = double_array(),
      "R, F and M scores 1..bins (recency inverted) and their scales (see "
      "crmkit/segment/rfm.hpp).");
  module.def(
      "quantile_scale_of_histogram",
      [](const double_array& distinct, const double_array& counts, std::size_t bins,
         const std::string& ties, bool higher_is_better) {
        return to_dict(segment::quantile_scale_of_histogram(as_span(distinct), as_span(counts),
                                                            bins, segment::parse_tie_policy(ties),
                                                            higher_is_better));
      },
      "distinct"_a, "counts"_a, "bins"_a = 5, "ties"_a = "average_rank",
      "higher_is_better"_a = true,
      "The quantile scale of values given as a histogram (strictly increasing distinct values, "
      "whole counts): as score_quantiles' scale, for average_rank and drop_edges.");
  module.def(
      "score_with_scale",
      [](const double_array& values, const double_array& thresholds, std::size_t bins,
         bool higher_is_better) {
        const auto scale = scale_from(thresholds, bins, higher_is_better);
        return numpy_copy(segment::score_with_scale(as_span(values), scale));
      },
      "values"_a, "thresholds"_a, "bins"_a, "higher_is_better"_a,
      "Scores of values on a scale: bin = 1 + #(thresholds < value), inverted unless "
      "higher_is_better.");
  module.def(
      "check_rule_set",
      [](const rule_set_tuple& data) {
        return to_dict(segment::check_rule_set(rule_set_from(data)));
      },
      "rule_set"_a,
      "What crmkit::segment::check_rule_set found, as a dict (uncovered cells, overlapping rule "
      "pairs as columns, unreachable rules, cells won per rule, cells).");
  module.def(
      "assign_segments",
      [](const rule_set_tuple& data, const int32_array& recency, const int32_array& frequency,
         const int32_array& monetary) {
        const auto set = rule_set_from(data);
        std::vector<std::int32_t> segments;
        {
          py::gil_scoped_release release;
          segments = segment::assign_segments(set, as_span(recency), as_span(frequency),
                                              as_span(monetary));
        }
        return numpy_copy(segments);
      },
      "rule_set"_a, "recency"_a, "frequency"_a, "monetary"_a,
      "Winning rule index of every customer (-1 when no rule matches).");
  module.def(
      "rf_grid_segments", [] { return rule_set_to(segment::rf_grid_segments()); },
      "The 10-segment R x F map.");
  module.def(
      "rfm_package_segments",
      [](const std::string& match) {
        return rule_set_to(segment::rfm_package_segments(segment::parse_match_policy(match)));
      },
      "match"_a = "first", "The 11-segment R/F/M map of R's rfm package lineage.");
  module.def(
      "pymc_marketing_segments", [] { return rule_set_to(segment::pymc_marketing_segments()); },
      "PyMC-Marketing's default 5 segments on quartiles.");
  module.def(
      "chinese_value_segments",
      [](std::size_t bins, std::size_t high_from) {
        return rule_set_to(segment::chinese_value_segments(bins, high_from));
      },
      "bins"_a = 5, "high_from"_a = 0, "The Chinese 8-class value map.");
  module.def(
      "segment_summary",
      [](const int32_array& segments, const double_array& recency, const double_array& frequency,
         const double_array& monetary, const double_array& revenue) {
        const auto rows =
            segment::segment_summary(as_span(segments), as_span(recency), as_span(frequency),
                                     as_span(monetary), as_span(revenue));
        return to_columns(rows);
      },
      "segments"_a, "recency"_a, "frequency"_a, "monetary"_a, "revenue"_a,
      "Per segment: count, share, mean R/F/M, revenue and revenue share.");
}

py::dict bucket_columns(const std::vector<segment::value_bucket>& buckets) {
  const auto column = [&](auto member) {
    using T = std::remove_cvref_t<decltype(buckets.front().*member)>;
    std::vector<T> values;
    values.reserve(buckets.size());
    for (const auto& b : buckets) values.push_back(b.*member);
    return numpy_copy(values);
  };
  using b = segment::value_bucket;
  py::dict out;
  out["width"] = column(&b::width);
  out["key"] = column(&b::key);
  out["count"] = column(&b::count);
  out["significands_low"] = column(&b::significands_low);
  out["significands_high"] = column(&b::significands_high);
  out["lowest"] = column(&b::lowest);
  out["highest"] = column(&b::highest);
  return out;
}

void register_tiers_and_features(py::module_& module) {
  module.def(
      "value_tiers",
      [](const double_array& values, const double_array& cuts, const std::string& basis) {
        segment::tier_result result;
        {
          py::gil_scoped_release release;
          result = segment::value_tiers(as_span(values), as_span(cuts),
                                        segment::parse_tier_basis(basis));
        }
        return export_result(std::move(result));
      },
      "values"_a, "cuts"_a, "basis"_a,
      "Tier of every customer (0 = top) by cumulative value or population share.");

  module.def(
      "value_tiers_of_histogram",
      [](const double_array& values, const int64_array& counts, const double_array& cuts,
         const std::string& basis) {
        segment::tier_result result;
        {
          py::gil_scoped_release release;
          result = segment::value_tiers_of_histogram(
              as_span(values), as_span(counts), as_span(cuts), segment::parse_tier_basis(basis));
        }
        return export_result(std::move(result));
      },
      "values"_a, "counts"_a, "cuts"_a, "basis"_a,
      "value_tiers of a histogram (values strictly decreasing, counts[k] customers holding\n"
      "values[k]): the tier of each distinct value, and the summary value_tiers gives.");

  module.def(
      "value_buckets",
      [](const double_array& values, const core_array<std::int32_t>& parent_widths,
         const core_array<std::uint64_t>& parent_keys) {
        std::vector<segment::value_bucket> found;
        {
          py::gil_scoped_release release;
          found = segment::value_buckets(as_span(values), as_span(parent_widths),
                                         as_span(parent_keys));
        }
        return bucket_columns(found);
      },
      "values"_a, "parent_widths"_a, "parent_keys"_a,
      "Buckets (width, key, count, exact significand sum, lowest, highest) of the values'\n"
      "top 16 bits, or of 16 more bits inside the given parent buckets; highest first.");

  module.def(
      "value_tiers_of_buckets",
      [](const py::dict& buckets, const double_array& cuts, const std::string& basis) {
        const auto widths = buckets["width"].cast<core_array<std::int32_t>>();
        const auto keys = buckets["key"].cast<core_array<std::uint64_t>>();
        const auto counts = buckets["count"].cast<int64_array>();
        const auto low = buckets["significands_low"].cast<core_array<std::uint64_t>>();
        const auto high = buckets["significands_high"].cast<core_array<std::uint64_t>>();
        const auto lowest = buckets["lowest"].cast<double_array>();
        const auto highest = buckets["highest"].cast<double_array>();
        const std::size_t n = static_cast<std::size_t>(widths.size());
        for (const auto size : {keys.size(), counts.size(), low.size(), high.size(),
                                lowest.size(), highest.size()}) {
          if (static_cast<std::size_t>(size) != n) {
            throw py::value_error("value_tiers_of_buckets: bucket columns differ in length");
          }
        }
        std::vector<segment::value_bucket> rows(n);
        for (std::size_t k = 0; k < n; ++k) {
          const auto i = static_cast<py::ssize_t>(k);
          rows[k] = {widths.at(i), keys.at(i), counts.at(i), low.at(i), high.at(i), lowest.at(i),
                     highest.at(i)};
        }
        segment::bucket_tiers found;
        {
          py::gil_scoped_release release;
          found = segment::value_tiers_of_buckets(rows, as_span(cuts),
                                                  segment::parse_tier_basis(basis));
        }
        py::dict out;
        out["split"] = bucket_columns(found.split);
        out["result"] = export_result(std::move(found.result));
        return out;
      },
      "buckets"_a, "cuts"_a, "basis"_a,
      "value_tiers from merged buckets (value_buckets' columns, concatenated): the buckets to\n"
      "split, or (none left) the counts, value shares and lowest values of value_tiers.");

  py::class_<segment::feature_scaler>(module, "FeatureScalerCore",
                                      "A fitted log1p + centring + scaling transform.")
      .def_property_readonly(
          "center",
          [](const segment::feature_scaler& s) {
            return numpy_copy(std::vector<double>(s.center.begin(), s.center.end()));
          })
      .def_property_readonly(
          "scale",
          [](const segment::feature_scaler& s) {
            return numpy_copy(std::vector<double>(s.scale.begin(), s.scale.end()));
          })
      .def_readonly("constant_columns", &segment::feature_scaler::constant_columns)
      .def(
          "transform",
          [](const segment::feature_scaler& s, const double_array& x) {
            return numpy_copy(s.transform(as_matrix(x, "x")));
          },
          "x"_a)
      .def(
          "inverse_transform",
          [](const segment::feature_scaler& s, const double_array& y) {
            return numpy_copy(s.inverse_transform(as_matrix(y, "y")));
          },
          "y"_a);
  module.def(
      "fit_feature_scaler",
      [](const double_array& x, const std::string& method, const std::vector<std::uint8_t>& log1p) {
        return segment::fit_feature_scaler(as_matrix(x, "x"), segment::parse_scaling(method),
                                           log1p);
      },
      "x"_a, "method"_a = "standard", "log1p"_a = std::vector<std::uint8_t>{},
      "Fits log1p (chosen columns) then standard/robust/no scaling.");
  module.def(
      "profile_clusters",
      [](const double_array& x, const int32_array& labels, std::size_t k) {
        const auto profile = segment::profile_clusters(as_matrix(x, "x"), as_span(labels), k);
        return to_dict(profile);
      },
      "x"_a, "labels"_a, "k"_a, "Size, share, mean and median of every feature per cluster.");
}

}  // namespace

void register_segment(py::module_& module) {
  register_kmeans(module);
  register_kmeans_steps(module);
  register_kmeans_seeding(module);
  register_quality(module);
  register_rfm(module);
  register_tiers_and_features(module);
}

}  // namespace crmkit::python
