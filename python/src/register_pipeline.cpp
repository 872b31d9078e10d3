#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "bindings.hpp"
#include "exact_limbs.hpp"
#include "crmkit/clv/params.hpp"
#include "crmkit/core/check.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/csv_writer.hpp"
#include "crmkit/pipeline.hpp"
#include "crmkit/pipeline/calibration.hpp"
#include "crmkit/pipeline/cross_sell.hpp"
#include "crmkit/pipeline/segment_steps.hpp"
#include "schema.hpp"

namespace crmkit::python {

namespace {

using namespace pybind11::literals;

constexpr std::int64_t nanoseconds_per_second = 1'000'000'000;

/** Seconds since 1970-01-01 of datetime64[ns] ticks (rounded down). */
std::int64_t seconds_of(std::int64_t nanoseconds) {
  const auto seconds = nanoseconds / nanoseconds_per_second;
  return nanoseconds % nanoseconds_per_second < 0 ? seconds - 1 : seconds;
}

/**
 * A described struct from the dict `to_python` made of one (number vectors as arrays); a missing
 * key is an invalid_input naming `function` and the field.
 */
template <describe::described_struct T>
T from_dict(const py::dict& fields, std::string_view function) {
  T out;
  describe::for_each_field<T>([&](const auto& field) {
    using member = typename std::decay_t<decltype(field)>::member_type;
    const py::str key(std::string(field.name));
    if (!fields.contains(key)) {
      throw invalid_input(fmt::format("{}: the dict has no '{}'", function, field.name));
    }
    if constexpr (schema_detail::number_vector<member>) {
      const auto array = fields[key].template cast<core_array<typename member::value_type>>();
      const auto values = as_span(array);
      field.get(out).assign(values.begin(), values.end());
    } else {
      field.get(out) = fields[key].template cast<member>();
    }
  });
  return out;
}

/** Survey answers from their arrays; a CSAT or date column is absent when None. */
pipeline::survey_answers survey_answers_of(const int64_array& customer, const int64_array& nps,
                                           const std::optional<int64_array>& csat,
                                           const std::optional<int64_array>& day) {
  const auto copy = [](const int64_array& array) {
    const auto values = as_span(array);
    return std::vector<std::int64_t>(values.begin(), values.end());
  };
  pipeline::survey_answers answers{copy(customer), copy(nps), std::nullopt, std::nullopt};
  if (csat) answers.csat = copy(*csat);
  if (day) answers.day = copy(*day);
  return answers;
}

/** Notes as [(code, message)]. */
py::list notes_to_python(const std::vector<pipeline::note>& notes) {
  py::list out;
  for (const auto& note : notes) {
    out.append(py::make_tuple(std::string(pipeline::note_code_name(note.code)), note.message));
  }
  return out;
}

/** A read-only numpy view of `values`, kept alive by `owner` (the result holding the table). */
template <class T>
py::array view_of(const std::vector<T>& values, const py::handle owner) {
  py::array_t<T> array(static_cast<py::ssize_t>(values.size()), values.data(), owner);
  py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return array;
}

/**
 * A table as (index_columns, [(name, kind, values, labels)]): kind "number" (float64),
 * "integer" (int64), "text" (int32 codes into labels, -1 missing), "date" (int64 days since
 * 1970-01-01, missing_day missing) or "flag" (uint8); `array_of(vector)` makes each values array.
 */
template <class Table, class ArrayOf>
py::tuple table_columns(Table& table, ArrayOf&& array_of) {
  py::list columns;
  for (auto& column : table.columns) {
    std::visit(
        [&](auto& values) {
          using kind = std::decay_t<decltype(values)>;
          if constexpr (std::is_same_v<kind, std::vector<double>>) {
            columns.append(py::make_tuple(column.name, "number", array_of(values), py::none()));
          } else if constexpr (std::is_same_v<kind, std::vector<std::int64_t>>) {
            columns.append(py::make_tuple(column.name, "integer", array_of(values), py::none()));
          } else if constexpr (std::is_same_v<kind, data::text_values>) {
            columns.append(py::make_tuple(column.name, "text", array_of(values.codes),
                                          py::cast(values.labels)));
          } else if constexpr (std::is_same_v<kind, data::date_values>) {
            columns.append(py::make_tuple(column.name, "date", array_of(values.days), py::none()));
          } else {
            columns.append(py::make_tuple(column.name, "flag", array_of(values.flags), py::none()));
          }
        },
        column.values);
  }
  return py::make_tuple(table.index_columns, columns);
}

/** The table `name`, moved out of the result (which then no longer lists it). */
data::table take_table(pipeline::analysis_result& result, const std::string& name) {
  const data::table& wanted = result.table(name);  // throws, naming the tables present
  const auto found = std::find_if(result.tables.begin(), result.tables.end(),
                                  [&](const auto& each) { return &each.table == &wanted; });
  data::table table = std::move(found->table);
  result.tables.erase(found);
  return table;
}

/** Spans over the arrays of (name, kind, values, labels) columns; `kept` holds what they view. */
std::vector<data::csv_column> csv_columns(const py::list& columns, std::vector<py::object>& kept,
                                          std::deque<std::vector<std::string>>& labels) {
  std::vector<data::csv_column> out;
  for (const auto& entry : columns) {
    const auto column = entry.cast<py::tuple>();
    const auto kind = column[1].cast<std::string>();
    data::csv_column view{column[0].cast<std::string>(), std::span<const double>{}};
    const auto array = [&](auto type) {
      using T = decltype(type);
      auto values = py::cast<core_array<T>>(column[2]);
      kept.push_back(values);
      return as_span(values);
    };
    if (kind == "number") {
      view.values = array(double{});
    } else if (kind == "integer") {
      view.values = array(std::int64_t{});
    } else if (kind == "text") {
      labels.push_back(column[3].cast<std::vector<std::string>>());
      view.values = data::coded_text{array(std::int32_t{}), labels.back()};
    } else if (kind == "date") {
      view.values = data::date_cells{array(std::int64_t{})};
    } else if (kind == "flag") {
      view.values = data::flag_cells{array(std::uint8_t{})};
    } else {
      throw invalid_input(fmt::format("write_csv_files: column '{}' has the unknown kind '{}'",
                                      view.name, kind));
    }
    out.push_back(std::move(view));
  }
  return out;
}

/**
 * The log from numpy columns: int64 keys (+ labels), datetime64[ns] ticks, float64 amounts. The
 * columns are fresh huge-page vectors filled in parallel (10^7 rows on 4 KiB pages cost a page
 * fault every 512 values, on the report's critical path).
 */
data::transaction_log log_from_arrays(const int64_array& customer, std::vector<std::string> labels,
                                      const int64_array& timestamp_ns, const double_array& amount) {
  const auto keys = as_span(customer);
  const auto ticks = as_span(timestamp_ns);
  const auto amounts = as_span(amount);
  data::transaction_log log;
  log.customer_labels = std::move(labels);
  parallel_for(
      3,
      [&](std::size_t first, std::size_t last) {
        for (std::size_t column = first; column < last; ++column) {
          if (column == 0) log.customer = memory::large_vector<std::int64_t>(keys.size());
          if (column == 1) log.timestamp = memory::large_vector<std::int64_t>(ticks.size());
          if (column == 2) log.amount = memory::large_vector<double>(amounts.size());
        }
      },
      1);
  // The lengths may differ (analyze reports it): each column is filled over its own rows.
  const std::size_t rows = std::max({keys.size(), ticks.size(), amounts.size()});
  parallel_for(rows, [&](std::size_t first, std::size_t last) {
    const auto end = [last](auto values) { return std::min(last, values.size()); };
    for (std::size_t i = first; i < end(keys); ++i) log.customer[i] = keys[i];
    for (std::size_t i = first; i < end(ticks); ++i) log.timestamp[i] = seconds_of(ticks[i]);
    for (std::size_t i = first; i < end(amounts); ++i) log.amount[i] = amounts[i];
  });
  return log;
}

/**
 * The column of a log that crmkit.read_transactions read (the dict export_result made of it)
 * when `array` is the whole of it, as the report passes the log's columns on; else nullptr.
 */
template <class T>
std::vector<T>* read_column(const py::array& array, std::vector<T> data::transaction_log::*column) {
  auto* log = exported_object<data::transaction_log>(buffer_owner(array));
  return log != nullptr && is_whole(array, (*log).*column) ? &((*log).*column) : nullptr;
}

/**
 * The log of one analyze call. The customer and amount columns that are a read log's own
 * (read_column) are swapped into it for the call and back out when it ends, neither copied nor
 * allocated again: their arrays, which the caller holds, point at the same buffers all along.
 * Other columns are copied (log_from_arrays).
 */
class analysis_log {
 public:
  analysis_log(const int64_array& customer, std::vector<std::string> labels,
               const int64_array& timestamp_ns, const double_array& amount)
      : keys_(read_column(customer, &data::transaction_log::customer)),
        amounts_(read_column(amount, &data::transaction_log::amount)) {
    log_ = log_from_arrays(keys_ ? int64_array(0) : customer, std::move(labels), timestamp_ns,
                           amounts_ ? double_array(0) : amount);
    if (keys_) log_.customer.swap(*keys_);
    if (amounts_) log_.amount.swap(*amounts_);
  }
  analysis_log(const analysis_log&) = delete;
  analysis_log& operator=(const analysis_log&) = delete;
  ~analysis_log() {
    if (keys_) log_.customer.swap(*keys_);
    if (amounts_) log_.amount.swap(*amounts_);
  }
  [[nodiscard]] const data::transaction_log& log() const noexcept { return log_; }

 private:
  std::vector<std::int64_t>* keys_;
  std::vector<double>* amounts_;
  data::transaction_log log_;
};

/** A 2-d C-ordered float64 array as rows x columns (a copy the core may standardise). */
segment::row_matrix rows_of(const double_array& array, const char* name) {
  if (array.ndim() != 2) {
    throw py::value_error(std::string(name) + " must be a 2-d array (rows x features), got " +
                          std::to_string(array.ndim()) + " dimensions");
  }
  return Eigen::Map<const segment::row_matrix>(array.data(), array.shape(0), array.shape(1));
}

/** segment_sums as (customers per cluster, limbs of the exact sums: 6 k rows). */
py::tuple segment_sums_to_python(const pipeline::segment_sums& sums) {
  const auto limbs = static_cast<py::ssize_t>(full_range_sum::limb_count);
  py::array_t<std::int64_t> exact({static_cast<py::ssize_t>(sums.sums.size()), limbs});
  auto view = exact.mutable_unchecked<2>();
  for (std::size_t m = 0; m < sums.sums.size(); ++m) {
    const auto values = sums.sums[m].limbs();
    for (py::ssize_t l = 0; l < limbs; ++l) view(static_cast<py::ssize_t>(m), l) = values[l];
  }
  return py::make_tuple(numpy_copy(sums.customers), exact);
}

/** The merge of partitions' segment_sums_to_python tuples, for k clusters. */
pipeline::segment_sums merged_segment_sums(const py::list& parts, std::size_t k) {
  pipeline::segment_sums merged(k);
  for (const auto& part : parts) {
    const auto fields = part.cast<py::tuple>();
    const auto customers = fields[0].cast<int64_array>();
    const auto exact = fields[1].cast<int64_array>();
    if (static_cast<std::size_t>(customers.size()) != k || exact.ndim() != 2 ||
        static_cast<std::size_t>(exact.shape(0)) != pipeline::segment_sums::columns * k ||
        static_cast<std::size_t>(exact.shape(1)) != full_range_sum::limb_count) {
      throw py::value_error("segment_profiles: parts must be segment_cluster_sums of " +
                            std::to_string(k) + " clusters");
    }
    pipeline::segment_sums sums(k);
    std::copy_n(customers.data(), k, sums.customers.begin());
    for (std::size_t m = 0; m < sums.sums.size(); ++m) {
      std::array<std::int64_t, full_range_sum::limb_count> limbs{};
      std::copy_n(exact.data() + m * limbs.size(), limbs.size(), limbs.begin());
      sums.sums[m].add_limbs(limbs);
    }
    merged += sums;
  }
  return merged;
}

/** The k-means segment steps (crmkit/pipeline/segment_steps.hpp) a Dask driver runs. */
void register_segment_steps(py::module_& module) {
  record_schema<pipeline::segment_scaling>(module, "SegmentScaling", {"segment_feature_scaling"});
  module.def(
      "segment_features",
      [](const double_array& periods_since_last, const double_array& purchases,
         const double_array& mean_spend, const std::optional<py::dict>& scaling) {
        std::optional<pipeline::segment_scaling> scale;
        if (scaling) {
          scale.emplace();
          scale->mean = (*scaling)["mean"].cast<std::vector<double>>();
          scale->scale = (*scaling)["scale"].cast<std::vector<double>>();
          if (scale->mean.size() != 3 || scale->scale.size() != 3) {
            throw py::value_error("segment_features: scaling needs 3 means and 3 scales");
          }
        }
        segment::row_matrix features;
        {
          py::gil_scoped_release unlocked;
          features = pipeline::segment_feature_logs(as_span(periods_since_last), as_span(purchases),
                                                    as_span(mean_spend));
          if (scale) pipeline::standardise_segment_features(features, *scale);
        }
        return numpy_copy(features);
      },
      "periods_since_last"_a, "purchases"_a, "mean_spend"_a, "scaling"_a = py::none(),
      "n x 3 log1p(max(x, 0)) of the report's k-means features (crmkit::pipeline::"
      "segment_feature_logs), standardised by `scaling` (segment_feature_scaling) when given.");
  module.def(
      "segment_feature_scaling",
      [](const py::list& sums, const py::list& deviations) {
        return to_dict(
            pipeline::segment_feature_scaling(merged_moments(sums), merged_moments(deviations)));
      },
      "sums"_a, "deviations"_a,
      "The standardisation (mean, population standard deviation) from the partitions' "
      "segment.kmeans_column_sums and kmeans_column_deviations of segment_features.");
  module.def(
      "segment_sample_rows",
      [](std::size_t n, std::size_t count, std::uint64_t seed) {
        const auto rows = pipeline::segment_sample_rows(n, count, seed);
        return numpy_copy(std::vector<std::int64_t>(rows.begin(), rows.end()));
      },
      "n"_a, "count"_a, "seed"_a,
      "Global row indices (ascending) of the sample that chooses k (crmkit::pipeline::"
      "segment_sample_rows).");
  module.def(
      "choose_segment_k",
      [](const double_array& sample, const pipeline::analysis_options& options) {
        const auto rows = rows_of(sample, "sample");
        std::vector<pipeline::note> notes;
        auto choice = [&] {
          py::gil_scoped_release unlocked;
          return pipeline::choose_segment_k(rows, options, notes);
        }();
        py::list note_list;
        for (const auto& note : notes) {
          note_list.append(py::make_tuple(std::string(pipeline::note_code_name(note.code)),
                                          note.message));
        }
        const auto settings = pipeline::segment_kmeans_options(choice.k, options);
        py::dict kmeans;
        kmeans["n_clusters"] = settings.n_clusters;
        kmeans["init"] = std::string(describe::name_of(settings.init));
        kmeans["n_init"] = settings.n_init == 0 ? py::object(py::str("auto"))
                                                : py::object(py::int_(settings.n_init));
        kmeans["max_iter"] = settings.max_iter;
        kmeans["tol"] = settings.tol;
        kmeans["random_state"] = settings.seed;
        py::dict out;
        out["k"] = choice.k;
        out["kmeans"] = kmeans;
        out["kmeans_quality"] =
            table_columns(choice.quality, [](auto& values) { return numpy_adopt(std::move(values)); });
        out["notes"] = note_list;
        return out;
      },
      "sample"_a, "options"_a,
      "k chosen on the standardised sample (crmkit::pipeline::choose_segment_k): a dict of k, "
      "kmeans (the final fit's crmkit.dask.kmeans keywords, segment_kmeans_options), "
      "kmeans_quality (a table as AnalysisResult.take_columns gives it) and notes "
      "[(code, message)].");
  module.def(
      "segment_cluster_sums",
      [](const core_array<std::int32_t>& labels, std::size_t k, const double_array& periods_since_last,
         const double_array& purchases, const double_array& mean_spend, const double_array& p_alive,
         const double_array& clv, const double_array& revenue) {
        pipeline::segment_sums sums;
        {
          py::gil_scoped_release unlocked;
          sums = pipeline::segment_cluster_sums(
              as_span(labels), k,
              {as_span(periods_since_last), as_span(purchases), as_span(mean_spend),
               as_span(p_alive), as_span(clv), as_span(revenue)});
        }
        return segment_sums_to_python(sums);
      },
      "labels"_a, "k"_a, "periods_since_last"_a, "purchases"_a, "mean_spend"_a, "p_alive"_a,
      "clv"_a, "revenue"_a,
      "One partition's customers and exact column sums per cluster (crmkit::pipeline::"
      "segment_cluster_sums): (int64 counts, int64 limbs of 6 k exact sums).");
  module.def(
      "segment_profiles",
      [](const py::list& parts, std::size_t k) {
        auto ranking = pipeline::segment_profiles(merged_segment_sums(parts, k));
        py::dict out;
        out["segment_of_cluster"] = numpy_copy(ranking.segment_of_cluster);
        out["names"] = py::cast(ranking.names);
        out["segments"] = table_columns(ranking.profiles,
                                        [](auto& values) { return numpy_adopt(std::move(values)); });
        return out;
      },
      "parts"_a, "k"_a,
      "Clusters ranked by mean CLV and the segments table from the partitions' "
      "segment_cluster_sums (crmkit::pipeline::segment_profiles): a dict of segment_of_cluster "
      "(int32), names (C1 ..) and segments.");
  bind_struct<pipeline::rfm_naming>(module, "RfmNaming",
                                    "The RFM segments of a rule set (crmkit::pipeline::rfm_naming).");
  module.def("rfm_segment_naming", &pipeline::rfm_segment_naming, "rfm_rules"_a,
             "The segments and definitions of the built-in rule set `rfm_rules` "
             "(crmkit::pipeline::rfm_segment_naming).");
  module.def(
      "rfm_segment_table",
      [](const py::list& parts, const std::string& rfm_rules) {
        const auto naming = pipeline::rfm_segment_naming(rfm_rules);
        auto table = pipeline::rfm_segment_table(naming,
                                                 merged_segment_sums(parts, naming.names.size()));
        return table_columns(table, [](auto& values) { return numpy_adopt(std::move(values)); });
      },
      "parts"_a, "rfm_rules"_a,
      "The rfm_segments table of the built-in rule set `rfm_rules` from the partitions' "
      "segment_cluster_sums with the RFM segment (in the rule set's segment order, the unmatched "
      "last) as label (crmkit::pipeline::rfm_segment_table).");
}

}  // namespace

void register_pipeline(py::module_& module) {
  bind_struct<pipeline::analysis_options>(
      module, "AnalysisOptions", "Every constant of the analysis (crmkit::pipeline::analysis_options).");

  py::class_<pipeline::analysis_result, std::shared_ptr<pipeline::analysis_result>>(
      module, "AnalysisResult", "The tables, headline and notes of crmkit::pipeline::analyze.")
      .def_property_readonly("table_names",
                             [](const pipeline::analysis_result& result) {
                               std::vector<std::string> names;
                               for (const auto& entry : result.tables) names.push_back(entry.name);
                               return names;
                             })
      .def(
          "columns",
          [](const py::object& self, const std::string& name) {
            return table_columns(self.cast<const pipeline::analysis_result&>().table(name),
                                 [&self](const auto& values) { return view_of(values, self); });
          },
          "name"_a,
          "(index_columns, [(name, kind, values, labels)]) of the table `name`, as read-only "
          "views into the result.")
      .def(
          "take_columns",
          [](pipeline::analysis_result& result, const std::string& name) {
            auto table = take_table(result, name);
            return table_columns(table, [](auto& values) { return numpy_adopt(std::move(values)); });
          },
          "name"_a,
          "(index_columns, [(name, kind, values, labels)]) of the table `name`, moved out of the "
          "result without a copy: every values array is an ordinary writable numpy array owning "
          "its memory, and the result no longer holds the table.")
      .def(
          "write_csv",
          [](const pipeline::analysis_result& result, const std::string& name,
             const std::string& path) {
            const auto& table = result.table(name);
            py::gil_scoped_release unlocked;
            data::write_csv(path, table);
          },
          "name"_a, "path"_a, "Writes the table `name` to `path` with the library's CSV writer.")
      .def_property_readonly("notes",
                             [](const pipeline::analysis_result& result) {
                               py::list notes;
                               for (const auto& note : result.notes) {
                                 notes.append(py::make_tuple(
                                     std::string(pipeline::note_code_name(note.code)), note.message));
                               }
                               return notes;
                             })
      .def_property_readonly(
          "headline",
          [](const pipeline::analysis_result& result) { return to_dict(result.headline); },
          "The headline numbers (crmkit::pipeline::headline_numbers) as a dict.")
      .def_property_readonly(
          "transaction_model",
          [](const pipeline::analysis_result& result) {
            return std::string(describe::name_of(pipeline::kind_of(result.transaction_params)));
          },
          "The fitted transaction model's option value: 'bg_nbd', 'mbg_nbd' or 'pareto_nbd'.")
      .def_property_readonly(
          "transaction_model_name",
          [](const pipeline::analysis_result& result) {
            return std::string(pipeline::display_name(pipeline::kind_of(result.transaction_params)));
          },
          "The fitted transaction model's name: 'BG/NBD', 'MBG/NBD' or 'Pareto/NBD'.")
      .def_property_readonly(
          "transaction_params",
          [](const pipeline::analysis_result& result) {
            return std::visit([](const auto& params) { return to_dict(params); },
                              result.transaction_params);
          },
          "The fitted transaction model's parameters as a dict (r, alpha, a, b for BG/NBD and "
          "MBG/NBD; r, alpha, s, beta for Pareto/NBD).")
      .def_readonly("transaction_log_likelihood",
                    &pipeline::analysis_result::transaction_log_likelihood,
                    "The transaction model's log-likelihood at its estimate.")
      .def_property_readonly(
          "bg_nbd_params",
          [](const pipeline::analysis_result& result) {
            if (const auto* params = std::get_if<clv::bg_nbd_params>(&result.transaction_params)) {
              return to_dict(*params);
            }
            throw invalid_input(fmt::format(
                "bg_nbd_params: the analysis fitted {} (transaction_model = '{}'), not BG/NBD; "
                "see transaction_params",
                pipeline::display_name(pipeline::kind_of(result.transaction_params)),
                describe::name_of(pipeline::kind_of(result.transaction_params))));
          },
          "The fitted BG/NBD parameters as a dict (ValueError when another transaction model "
          "was fitted: see transaction_params).")
      .def_property_readonly(
          "gamma_gamma_params",
          [](const pipeline::analysis_result& result) {
            return to_dict(clv::gamma_gamma_params{result.gamma_gamma_p, result.gamma_gamma_q,
                                                   result.gamma_gamma_v});
          },
          "The fitted Gamma-Gamma parameters as a dict.")
      .def_property_readonly(
          "transaction_fit",
          [](const pipeline::analysis_result& result) { return to_dict(result.transaction_fit); },
          "The transaction model's fit in full (crmkit::pipeline::fitted_model) as a dict: names, "
          "params, standard_errors, covariance (row-major), log_likelihood, ...")
      .def_property_readonly(
          "gamma_gamma_fit",
          [](const pipeline::analysis_result& result) { return to_dict(result.gamma_gamma_fit); },
          "Gamma-Gamma's fit in full (crmkit::pipeline::fitted_model) as a dict.")
      .def_readonly("calibration_period", &pipeline::analysis_result::calibration_period);

  py::class_<pipeline::output_folder>(
      module, "OutputFolder",
      "The report's own output folder (crmkit::pipeline::output_folder): claimed on construction "
      "(created, or cleaned of an earlier report's files listed in its .crmkit-report manifest; "
      "any other non-empty folder, a file or an unwritable path is a ValueError).")
      .def(py::init<std::string>(), "folder"_a)
      .def("plan", &pipeline::output_folder::plan, "files"_a,
           "Lists `files` (relative, '/'-separated) in the manifest before they are written and "
           "makes their subfolders; a file of that name the report did not write is a ValueError.")
      .def("path_of", &pipeline::output_folder::path_of, "file"_a)
      .def_property_readonly("folder", &pipeline::output_folder::folder)
      .def_property_readonly("files", &pipeline::output_folder::files)
      .def_property_readonly_static("MANIFEST", [](const py::object&) {
        return std::string(pipeline::output_folder::manifest_name);
      });

  module.def(
      "segment_tables",
      [](const double_array& periods_since_last, const double_array& purchases,
         const double_array& mean_spend, const double_array& revenue,
         const double_array& p_alive, const double_array& clv,
         const pipeline::analysis_options& options) {
        const auto vector_of = [](const double_array& array) {
          const auto values = as_span(array);
          return std::vector<double>(values.begin(), values.end());
        };
        pipeline::customer_summaries customers;
        customers.periods_since_last = vector_of(periods_since_last);
        customers.purchases = vector_of(purchases);
        customers.mean_spend = vector_of(mean_spend);
        customers.revenue = vector_of(revenue);
        const std::size_t n = customers.purchases.size();
        check::same_size("segment_tables", "purchases", n, "periods_since_last",
                         customers.periods_since_last.size());
        check::same_size("segment_tables", "purchases", n, "mean_spend",
                         customers.mean_spend.size());
        check::same_size("segment_tables", "purchases", n, "revenue", customers.revenue.size());
        customers.customer.resize(n);
        for (std::size_t i = 0; i < n; ++i) customers.customer[i] = static_cast<std::int64_t>(i);
        pipeline::customer_predictions predictions;
        predictions.p_alive = vector_of(p_alive);
        predictions.clv = vector_of(clv);
        check::same_size("segment_tables", "purchases", n, "p_alive", predictions.p_alive.size());
        check::same_size("segment_tables", "purchases", n, "clv", predictions.clv.size());
        std::vector<pipeline::note> notes;
        auto segments = [&] {
          py::gil_scoped_release unlocked;
          return pipeline::segment_customers(customers, predictions, options, notes);
        }();
        auto rfm = pipeline::rfm_segments(customers, predictions, options);
        const auto adopt = [](auto& values) { return numpy_adopt(std::move(values)); };
        py::dict out;
        out["segment"] = numpy_adopt(std::move(segments.segment));
        out["segment_names"] = py::cast(segments.names);
        out["segments"] = table_columns(segments.profiles, adopt);
        out["kmeans_quality"] = table_columns(segments.quality, adopt);
        out["rfm_segments"] = table_columns(rfm.table, adopt);
        out["notes"] = notes_to_python(notes);
        return out;
      },
      "periods_since_last"_a, "purchases"_a, "mean_spend"_a, "revenue"_a, "p_alive"_a, "clv"_a,
      "options"_a,
      "The report's k-means segments and RFM segment table (crmkit::pipeline::segment_customers "
      "and rfm_segments) of customers given in the report's customer order: a dict of segment "
      "(int32 codes into segment_names), segment_names, the segments, kmeans_quality and "
      "rfm_segments tables as AnalysisResult.take_columns gives a table, and notes "
      "[(code, message)].");

  record_schema<pipeline::calibration_split>(module, "CalibrationSplit");
  record_schema<pipeline::calibration_counts>(module, "CalibrationCounts",
                                              {"calibration_counts", "merge_calibration_counts"});
  module.def(
      "calibration_split",
      [](std::int64_t first_timestamp, std::int64_t last_timestamp,
         const pipeline::analysis_options& options) {
        const std::int64_t last = seconds_of(last_timestamp);
        std::vector<pipeline::note> notes;
        const auto split = pipeline::split_for_calibration(
            data::floor_div(seconds_of(first_timestamp), data::seconds_per_day),
            data::floor_div(last, data::seconds_per_day), last, options, notes);
        return py::make_tuple(to_python(split), notes_to_python(notes));
      },
      "first_timestamp"_a, "last_timestamp"_a, "options"_a,
      "Where the calibration check splits a log whose first and last transactions are at these "
      "datetime64[ns] ticks (crmkit::pipeline::split_for_calibration): (CalibrationSplit dict, "
      "or None when there is no check; notes [(code, message)]).");
  module.def(
      "calibration_counts",
      [](const int64_array& customer, const int64_array& timestamp, const py::dict& split) {
        const auto at = from_dict<pipeline::calibration_split>(split, "calibration_counts");
        const auto log = log_from_arrays(customer, {}, timestamp, double_array(0));
        return export_without_gil([&] { return pipeline::count_calibration(log, at); });
      },
      "customer"_a, "timestamp"_a, "split"_a,
      "The calibration check's additive counts (crmkit::pipeline::count_calibration) of the "
      "customers of a log part holding all of its customers' rows: int64 keys, datetime64[ns] "
      "ticks, the CalibrationSplit dict of calibration_split.");
  module.def(
      "merge_calibration_counts",
      [](const py::list& parts, const py::dict& split) {
        const auto at = from_dict<pipeline::calibration_split>(split, "merge_calibration_counts");
        std::vector<pipeline::calibration_counts> counts;
        for (const auto& part : parts) {
          counts.push_back(from_dict<pipeline::calibration_counts>(part.cast<py::dict>(),
                                                                   "merge_calibration_counts"));
        }
        return export_without_gil([&] { return pipeline::merge_calibration_counts(counts, at); });
      },
      "parts"_a, "split"_a,
      "The counts of calibration_counts parts added (crmkit::pipeline::merge_calibration_counts; "
      "exact in any order).");
  module.def(
      "calibration_tables",
      [](const py::dict& counts, const py::dict& split, const pipeline::analysis_options& options) {
        const auto all = from_dict<pipeline::calibration_counts>(counts, "calibration_tables");
        const auto at = from_dict<pipeline::calibration_split>(split, "calibration_tables");
        std::vector<pipeline::note> notes;
        auto tables = [&] {
          py::gil_scoped_release unlocked;
          return pipeline::calibration_tables_of(all, at, options, notes);
        }();
        py::dict out;
        if (tables) {
          const auto adopt = [](auto& values) { return numpy_adopt(std::move(values)); };
          out["calibration_vs_holdout"] = table_columns(tables->calibration_vs_holdout, adopt);
          out["cumulative_transactions"] = table_columns(tables->cumulative_transactions, adopt);
          out["calibration_period"] = tables->calibration_period;
        }
        out["notes"] = notes_to_python(notes);
        return out;
      },
      "counts"_a, "split"_a, "options"_a,
      "The calibration check's tables (crmkit::pipeline::calibration_tables_of) from the merged "
      "counts of every customer: a dict of calibration_vs_holdout and cumulative_transactions "
      "(as AnalysisResult.take_columns gives a table) and calibration_period, those absent when "
      "there is no check, and notes [(code, message)].");

  module.def(
      "write_csv_files",
      [](const py::list& files) {
        std::vector<py::object> kept;
        std::deque<std::vector<std::string>> labels;
        std::vector<std::pair<std::string, std::vector<data::csv_column>>> tables;
        for (const auto& file : files) {
          const auto path_and_columns = file.cast<py::tuple>();
          tables.emplace_back(path_and_columns[0].cast<std::string>(),
                              csv_columns(path_and_columns[1].cast<py::list>(), kept, labels));
        }
        py::gil_scoped_release unlocked;
        for (const auto& [path, columns] : tables) data::write_csv(path, columns);
      },
      "files"_a,
      "Writes each (path, [(name, kind, values, labels)]) of `files` with the library's CSV writer "
      "(crmkit::data::write_csv), the columns as AnalysisResult.take_columns gives them; the GIL "
      "is released while writing.");

  module.def(
      "analyze",
      [](const int64_array& customer, std::vector<std::string> labels, const int64_array& timestamp,
         const double_array& amount, const std::optional<int64_array>& survey_customer,
         const std::optional<int64_array>& survey_nps, const std::optional<int64_array>& survey_csat,
         const std::optional<int64_array>& survey_day, const pipeline::analysis_options& options) {
        const analysis_log log(customer, std::move(labels), timestamp, amount);
        std::optional<pipeline::survey_answers> answers;
        if (survey_customer && survey_nps) {
          answers = survey_answers_of(*survey_customer, *survey_nps, survey_csat, survey_day);
        }
        py::gil_scoped_release unlocked;
        return std::make_shared<pipeline::analysis_result>(
            pipeline::analyze(log.log(), answers ? &*answers : nullptr, options));
      },
      "customer"_a, "labels"_a, "timestamp"_a, "amount"_a, "survey_customer"_a = py::none(),
      "survey_nps"_a = py::none(), "survey_csat"_a = py::none(), "survey_day"_a = py::none(),
      "options"_a = pipeline::analysis_options{},
      R"doc(The whole customer analysis (crmkit::pipeline::analyze) on a transaction log.

customer: int64 keys (indexes into labels when labels is not empty); timestamp: datetime64[ns]
ticks as int64; amount: float64. The survey arrays are optional (customer keys of the log, NPS
0-10, CSAT or -1, days since 1970-01-01; csat and day may be empty). Returns an AnalysisResult.
Use crmkit.report.build_report, which takes and returns DataFrames.)doc");

  py::list groupings;
  for (const auto& [name, drop_unused] : pipeline::survey_groupings) {
    groupings.append(py::make_tuple(std::string(name), drop_unused));
  }
  module.attr("SURVEY_GROUPINGS") = py::tuple(groupings);
  py::class_<pipeline::survey_cells>(
      module, "SurveyCells",
      "The survey tables' mergeable accumulators of part of the answers "
      "(crmkit::pipeline::survey_cells): tally_survey, merge_survey_cells, survey_tables. "
      "Picklable (the same crmkit build on every process).")
      .def_property_readonly("answers",
                             [](const pipeline::survey_cells& c) { return c.overall.rows.rows; })
      .def_property_readonly("unknown", [](const pipeline::survey_cells& c) { return c.unknown; })
      .def(py::pickle(&survey_cells_state, &survey_cells_of_state));

  module.def(
      "tally_survey",
      [](const int64_array& customer, const int64_array& nps,
         const std::optional<int64_array>& csat, const std::optional<int64_array>& day,
         const core_array<std::uint8_t>& in_log, const py::list& groups,
         const pipeline::analysis_options& options, const std::optional<int64_array>& positions) {
        const auto answers = survey_answers_of(customer, nps, csat, day);
        std::vector<pipeline::survey_answer_groups> by;
        for (const auto& item : groups) {
          const auto group = item.cast<py::tuple>();
          const auto array = group[3].cast<core_array<std::int32_t>>();
          const auto codes = as_span(array);
          by.push_back({group[0].cast<std::string>(), group[1].cast<std::vector<std::string>>(),
                        group[2].cast<bool>(), {codes.begin(), codes.end()}});
        }
        py::gil_scoped_release unlocked;
        return pipeline::tally_survey(answers, as_span(in_log), by, options,
                                      positions ? as_span(*positions)
                                                : std::span<const std::int64_t>{});
      },
      "customer"_a, "nps"_a, "csat"_a, "day"_a, "in_log"_a, "groups"_a, "options"_a,
      "positions"_a,
      "The survey tables' accumulators of part of the answers (crmkit::pipeline::tally_survey): "
      "customer keys, NPS, CSAT or -1 (None: no CSAT column), days since 1970 (None: no dates), "
      "in_log (uint8, 0: a customer not in the log), groups [(column, labels, drop_unused, "
      "int32 codes per answer)], the answers' positions among all answers (None: their indexes).");

  module.def(
      "merge_survey_cells",
      [](const py::sequence& given) {
        if (py::len(given) == 0) throw py::value_error("merge_survey_cells: no states");
        auto merged = given[0].cast<pipeline::survey_cells>();
        for (std::size_t i = 1; i < py::len(given); ++i) {
          pipeline::merge_survey_cells(merged, given[i].cast<const pipeline::survey_cells&>());
        }
        return merged;
      },
      "states"_a, "The answers of all the states in one (crmkit::pipeline::merge_survey_cells).");

  module.def(
      "survey_tables",
      [](const pipeline::survey_cells& cells, const pipeline::analysis_options& options) {
        std::vector<pipeline::note> notes;
        auto tables = pipeline::survey_tables(cells, options, notes);
        const auto adopt = [](auto& values) { return numpy_adopt(std::move(values)); };
        py::list out, note_list;
        for (auto& each : tables) out.append(py::make_tuple(each.name, table_columns(each.table, adopt)));
        for (const auto& note : notes) {
          note_list.append(py::make_tuple(std::string(pipeline::note_code_name(note.code)),
                                          note.message));
        }
        return py::make_tuple(out, note_list);
      },
      "cells"_a, "options"_a,
      "The report's survey tables of merged accumulators (crmkit::pipeline::survey_tables): "
      "([(name, table as AnalysisResult.take_columns gives it)], notes [(code, message)]).");

  bind_struct<pipeline::cross_sell_options>(
      module, "CrossSellOptions",
      "Constants of the \"what to offer whom\" step (crmkit::pipeline::cross_sell_options).");
  module.attr("OFFER_GROUPS") = enum_names<pipeline::offer_group>();
  module.attr("OFFER_GROUP_TABLES") = py::tuple(py::cast(std::vector<std::string>(
      pipeline::offer_group_tables.begin(), pipeline::offer_group_tables.end())));
  module.def(
      "cross_sell",
      [](const int64_array& order, const int64_array& item,
         const std::optional<double_array>& quantity, const int64_array& customer,
         const int64_array& timestamp, const std::vector<std::string>& products,
         const std::vector<std::string>& customers,
         const std::optional<int64_array>& target_customer,
         const std::optional<int64_array>& target_group,
         const pipeline::cross_sell_options& options, const std::string& customer_column,
         const std::string& product_column) {
        const auto codes = item_codes(item, "item");
        std::optional<pipeline::offer_targets> targets;
        if (target_customer || target_group) {
          if (!target_customer || !target_group) {
            throw invalid_input("cross_sell: give both target_customer and target_group");
          }
          const auto groups = as_span(*target_group);
          const auto group_count = static_cast<std::int64_t>(enum_names<pipeline::offer_group>().size());
          targets.emplace();
          const auto keys = as_span(*target_customer);
          targets->customer.assign(keys.begin(), keys.end());
          for (std::size_t i = 0; i < groups.size(); ++i) {
            if (groups[i] < 0 || groups[i] >= group_count) {
              check::fail_at("cross_sell", "target_group", i, groups[i],
                             "must index OFFER_GROUPS");
            }
            targets->group.push_back(static_cast<pipeline::offer_group>(groups[i]));
          }
        }
        const pipeline::cross_sell_lines input{.lines = {.order = as_span(order),
                                                         .item = codes,
                                                         .quantity = optional_span(quantity),
                                                         .customer = as_span(customer),
                                                         .timestamp = as_span(timestamp)},
                                               .products = products,
                                               .customers = customers,
                                               .customer_column = customer_column,
                                               .product_column = product_column};
        std::vector<pipeline::named_table> tables;
        {
          py::gil_scoped_release unlocked;
          tables = pipeline::cross_sell(input, targets ? &*targets : nullptr, options);
        }
        py::list out;
        for (auto& each : tables) {
          out.append(py::make_tuple(each.name, table_columns(each.table, [](auto& values) {
                                      return numpy_adopt(std::move(values));
                                    })));
        }
        return out;
      },
      "order"_a, "item"_a, "quantity"_a, "customer"_a, "timestamp"_a, "products"_a,
      "customers"_a, "target_customer"_a, "target_group"_a,
      "options"_a = pipeline::cross_sell_options{}, "customer_column"_a = "customer_id",
      "product_column"_a = "product_id",
      R"doc(The "what to offer whom" tables (crmkit::pipeline::cross_sell) of order lines.

order: int64 order keys; item: product codes (ties in the offers go to the smaller code);
quantity: float64 or None; customer: int64 keys (codes into customers when it is not empty);
timestamp: whole days; products: the text of each product code. target_customer and
target_group (indexes into OFFER_GROUPS), or both None for offers to every customer. Returns
[(name, (index_columns, [(name, kind, values, labels)]))] for cross_sell_rules,
cross_sell_pairs and offers, as AnalysisResult.take_columns gives a table. Use
crmkit._report_basket.cross_sell_tables, which takes and returns DataFrames.)doc");
  register_segment_steps(module);
}

}  // namespace crmkit::python
