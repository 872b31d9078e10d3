#include <crmkit/pipeline/steps.hpp>
#include <crmkit/survey.hpp>
#include <crmkit/survey/names.hpp>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "bindings.hpp"
#include "schema.hpp"

namespace crmkit::python {

namespace {

using namespace pybind11::literals;
using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/** Grouping codes of any signed integer dtype, viewed in place when C-contiguous. */
template <class T>
survey::code_column keep_codes(const py::array& codes, std::vector<py::array>& keep) {
  auto typed = py::cast<core_array<T>>(codes);
  keep.push_back(typed);
  return std::span<const T>(typed.data(), static_cast<std::size_t>(typed.size()));
}

/**
 * The grouping described by Python's arguments. It views the arrays, which `keep` (and the
 * caller's arguments) hold alive while the grouping is used.
 */
survey::response_grouping make_grouping(const std::vector<py::array>& codes,
                                        const std::vector<std::size_t>& levels,
                                        const std::optional<int64_array>& timestamps,
                                        std::int64_t ticks_per_day,
                                        const std::optional<std::string>& period,
                                        std::size_t window, std::vector<py::array>& keep) {
  survey::response_grouping grouping;
  for (const auto& array : codes) {
    switch (array.dtype().kind() == 'i' ? array.itemsize() : 8) {
      case 1:
        grouping.codes.push_back(keep_codes<std::int8_t>(array, keep));
        break;
      case 2:
        grouping.codes.push_back(keep_codes<std::int16_t>(array, keep));
        break;
      case 4:
        grouping.codes.push_back(keep_codes<std::int32_t>(array, keep));
        break;
      default:
        grouping.codes.push_back(keep_codes<std::int64_t>(array, keep));
    }
  }
  grouping.levels = levels;
  if (period) grouping.period = data::parse_period_unit(*period, "period");
  if (timestamps) grouping.timestamps = as_span(*timestamps);
  grouping.ticks_per_day = ticks_per_day;
  grouping.window = window;
  return grouping;
}

/**
 * Runs `aggregate(scores)` without the GIL on int64 answers as they are, or on any other dtype
 * converted to float64. Safe: the C++ code touches only the converted buffers, which the caller's
 * arguments keep alive.
 */
template <class Aggregate>
auto with_scores(const py::array& scores, Aggregate&& aggregate) {
  const char kind = scores.dtype().kind();
  if (kind == 'i' || kind == 'u' || kind == 'b') {
    const auto integers = py::cast<int64_array>(scores);
    const py::gil_scoped_release release;
    return aggregate(as_span(integers));
  }
  const auto reals = py::cast<double_array>(scores);
  const py::gil_scoped_release release;
  return aggregate(as_span(reals));
}

/** (the results of every cell as a dict, the first period's start in days since 1970). */
template <class Result>
py::tuple layout(survey::grouped_results<Result>&& out,
                 const std::optional<data::period_unit>& period) {
  const auto first_period_day =
      period ? data::period_start(out.first_period, *period) / data::seconds_per_day : 0;
  return py::make_tuple(export_result(std::move(out)), first_period_day);
}

/** The NPS interval options of the bindings' (confidence, method, n_boot, seed, min_n). */
survey::nps_options nps_options_of(double confidence, const std::string& method, std::size_t n_boot,
                                   std::uint64_t seed, double min_n) {
  survey::nps_options options;
  options.confidence = confidence;
  options.method = survey::parse_nps_interval_method(method);
  options.resamples = n_boot;
  options.seed = seed;
  options.small_sample_below = min_n;
  return options;
}

void register_aggregation(py::module_& module) {
  module.def(
      "aggregate_nps",
      [](const py::array& scores, const std::optional<double_array>& weights,
         const std::vector<py::array>& codes, const std::vector<std::size_t>& levels,
         const std::optional<int64_array>& timestamps, std::int64_t ticks_per_day,
         const std::optional<std::string>& period, std::size_t window, double confidence,
         const std::string& method, std::size_t n_boot, std::uint64_t seed, double min_n,
         const std::string& on_bad_row) {
        std::vector<py::array> keep;
        const auto grouping =
            make_grouping(codes, levels, timestamps, ticks_per_day, period, window, keep);
        const auto options = nps_options_of(confidence, method, n_boot, seed, min_n);
        const auto policy = survey::parse_bad_row_policy(on_bad_row);
        auto out = with_scores(scores, [&](auto view) {
          return survey::aggregate_nps(view, optional_span(weights), grouping, options, policy);
        });
        return layout(std::move(out), grouping.period);
      },
      "scores"_a, "weights"_a, "codes"_a, "levels"_a, "timestamps"_a, "ticks_per_day"_a, "period"_a,
      "window"_a, "confidence"_a, "method"_a, "n_boot"_a, "seed"_a, "min_n"_a, "on_bad_row"_a,
      "NPS of every (group, period) cell in one parallel pass (crmkit::survey::aggregate_nps).\n"
      "codes: one signed-integer array per grouping column with values in [0, levels[c]); "
      "timestamps:\n"
      "int64 ticks since 1970 (INT64_MIN = NaT), ticks_per_day per day; period: None, 'D',\n"
      "'W', 'M', 'Q' or 'Y'. Returns (the fields of NpsCells, the first period's start in days).");

  module.def(
      "aggregate_rating",
      [](const py::array& scores, const std::optional<double_array>& weights,
         const std::vector<py::array>& codes, const std::vector<std::size_t>& levels,
         const std::optional<int64_array>& timestamps, std::int64_t ticks_per_day,
         const std::optional<std::string>& period, std::size_t window, std::int64_t scale_min,
         std::int64_t scale_max, bool higher_is_better, std::int64_t favourable_boxes,
         double confidence, double min_n, const std::string& on_bad_row) {
        std::vector<py::array> keep;
        const auto grouping =
            make_grouping(codes, levels, timestamps, ticks_per_day, period, window, keep);
        const survey::rating_scale scale{scale_min, scale_max, higher_is_better, favourable_boxes};
        const survey::interval_options options{confidence, min_n};
        const auto policy = survey::parse_bad_row_policy(on_bad_row);
        auto out = with_scores(scores, [&](auto view) {
          return survey::aggregate_rating(view, optional_span(weights), grouping, scale, options,
                                          policy);
        });
        return layout(std::move(out), grouping.period);
      },
      "scores"_a, "weights"_a, "codes"_a, "levels"_a, "timestamps"_a, "ticks_per_day"_a, "period"_a,
      "window"_a, "scale_min"_a, "scale_max"_a, "higher_is_better"_a, "favourable_boxes"_a,
      "confidence"_a, "min_n"_a, "on_bad_row"_a,
      "CSAT/CES (mean with t interval, favourable share with Wilson interval) of every\n"
      "(group, period) cell in one parallel pass (crmkit::survey::aggregate_rating); arguments\n"
      "and result as aggregate_nps.");

  module.def(
      "ces_scale",
      [](const std::string& version) {
        const auto scale = survey::ces_scale(survey::parse_ces_version(version));
        return py::make_tuple(scale.min, scale.max, scale.higher_is_better, scale.favourable_boxes);
      },
      "version"_a, "(min, max, higher_is_better, favourable_boxes) of CES version '2.0' or '1.0'.");
}

using nps_table = survey::cell_table<survey::nps_accumulator>;
using weighted_nps_table = survey::cell_table<survey::weighted_nps_accumulator>;
using rating_table = survey::cell_table<survey::rating_accumulator>;
using weighted_rating_table = survey::cell_table<survey::weighted_rating_accumulator>;

/**
 * A table of raw survey cells of any of the four accumulators, as Python holds it. Picklable, so
 * Dask can move it between processes: the state is the accumulators' bytes (they are trivially
 * copyable), so the driver and the workers must run the same crmkit build.
 */
struct any_cell_table {
  std::variant<nps_table, weighted_nps_table, rating_table, weighted_rating_table> table;
};

template <class Cell>
py::bytes cell_bytes(const Cell* cells, std::size_t count) {
  static_assert(std::is_trivially_copyable_v<Cell>);
  return {reinterpret_cast<const char*>(cells), count * sizeof(Cell)};
}

template <class Cell>
std::vector<Cell> cells_from(const py::bytes& bytes, std::size_t count) {
  const auto view = static_cast<std::string_view>(bytes);
  if (view.size() != count * sizeof(Cell)) {
    throw py::value_error("CellTable state: the cells' bytes do not match the table's size (a "
                          "table pickled by another crmkit build?)");
  }
  std::vector<Cell> cells(count);
  if (count > 0) std::memcpy(static_cast<void*>(cells.data()), view.data(), view.size());
  return cells;
}

py::tuple table_state(const any_cell_table& any) {
  return std::visit(
      [&](const auto& table) {
        const std::optional<int> period =
            table.period ? std::optional<int>(static_cast<int>(*table.period)) : std::nullopt;
        return py::make_tuple(any.table.index(), table.groups, table.periods, table.first_period,
                              period, table.rows.rows, table.rows.bad, table.rows.first_bad,
                              table.rows.first_problem, cell_bytes(&table.empty, 1),
                              cell_bytes(table.cells.data(), table.cells.size()));
      },
      any.table);
}

template <class Table>
Table table_from(const py::tuple& state) {
  using cell = typename decltype(Table::cells)::value_type;
  Table table;
  table.groups = state[1].cast<std::size_t>();
  table.periods = state[2].cast<std::size_t>();
  table.first_period = state[3].cast<std::int64_t>();
  const auto period = state[4].cast<std::optional<int>>();
  if (period) table.period = static_cast<data::period_unit>(*period);
  table.rows.rows = state[5].cast<std::size_t>();
  table.rows.bad = state[6].cast<std::size_t>();
  table.rows.first_bad = state[7].cast<std::size_t>();
  table.rows.first_problem = state[8].cast<std::string>();
  table.empty = cells_from<cell>(state[9].cast<py::bytes>(), 1).front();
  table.cells = cells_from<cell>(state[10].cast<py::bytes>(), table.groups * table.periods);
  return table;
}

any_cell_table table_of_state(const py::tuple& state) {
  if (state.size() != 11) throw py::value_error("CellTable state: expected 11 fields");
  switch (state[0].cast<std::size_t>()) {
    case 0:
      return {table_from<nps_table>(state)};
    case 1:
      return {table_from<weighted_nps_table>(state)};
    case 2:
      return {table_from<rating_table>(state)};
    case 3:
      return {table_from<weighted_rating_table>(state)};
    default:
      throw py::value_error("CellTable state: unknown kind");
  }
}

/** The row report of a table, whatever its accumulator. */
const survey::row_report& rows_of(const any_cell_table& any) {
  return std::visit([](const auto& table) -> const survey::row_report& { return table.rows; },
                    any.table);
}

/**
 * The rolling-window summary of `any`, which must hold cells of Plain or Weighted (the two
 * accumulators of one metric), laid out as the single-pass aggregate is.
 */
template <class Result, class Plain, class Weighted, class Options>
py::tuple summarize_either(const any_cell_table& any, std::size_t window, const Options& options,
                           const char* wrong_kind) {
  auto summarize = [&](const auto& table) {
    survey::grouped_results<Result> results;
    {
      const py::gil_scoped_release release;
      results = survey::summarize_cells(table, window, options);
    }
    return layout(std::move(results), table.period);
  };
  if (const auto* table = std::get_if<Plain>(&any.table)) return summarize(*table);
  if (const auto* table = std::get_if<Weighted>(&any.table)) return summarize(*table);
  throw py::value_error(wrong_kind);
}

void register_cell_tables(py::module_& module) {
  py::class_<any_cell_table>(
      module, "CellTable",
      "Raw (group, period) survey accumulators of part of the answers (tally_nps,\n"
      "tally_rating): merged exactly by merge_cells, summarized by summarize_nps_cells or\n"
      "summarize_rating_cells as aggregate_nps / aggregate_rating summarize all the answers.")
      .def_property_readonly("rows", [](const any_cell_table& t) { return rows_of(t).rows; })
      .def_property_readonly("bad_rows", [](const any_cell_table& t) { return rows_of(t).bad; })
      .def_property_readonly("first_bad_row",
                             [](const any_cell_table& t) { return rows_of(t).first_bad; })
      .def_property_readonly("first_problem",
                             [](const any_cell_table& t) { return rows_of(t).first_problem; })
      .def(py::pickle(&table_state, &table_of_state));

  module.def(
      "tally_nps",
      [](const py::array& scores, const std::optional<double_array>& weights,
         const std::vector<py::array>& codes, const std::vector<std::size_t>& levels,
         const std::optional<int64_array>& timestamps, std::int64_t ticks_per_day,
         const std::optional<std::string>& period) {
        std::vector<py::array> keep;
        const auto grouping =
            make_grouping(codes, levels, timestamps, ticks_per_day, period, 1, keep);
        const auto skip = data::bad_row_policy::skip;
        return with_scores(scores, [&](auto view) {
          if (weights) {
            return any_cell_table{survey::tally_nps<true>(view, as_span(*weights), grouping, skip)};
          }
          return any_cell_table{survey::tally_nps<false>(view, {}, grouping, skip)};
        });
      },
      "scores"_a, "weights"_a, "codes"_a, "levels"_a, "timestamps"_a, "ticks_per_day"_a, "period"_a,
      "The raw NPS cells of part of the answers, bad rows skipped and reported in the table's\n"
      "rows, bad_rows, first_bad_row, first_problem (crmkit::survey::tally_nps); arguments as\n"
      "aggregate_nps.");

  module.def(
      "tally_rating",
      [](const py::array& scores, const std::optional<double_array>& weights,
         const std::vector<py::array>& codes, const std::vector<std::size_t>& levels,
         const std::optional<int64_array>& timestamps, std::int64_t ticks_per_day,
         const std::optional<std::string>& period, std::int64_t scale_min, std::int64_t scale_max,
         bool higher_is_better, std::int64_t favourable_boxes) {
        std::vector<py::array> keep;
        const auto grouping =
            make_grouping(codes, levels, timestamps, ticks_per_day, period, 1, keep);
        const survey::rating_scale scale{scale_min, scale_max, higher_is_better, favourable_boxes};
        const auto skip = data::bad_row_policy::skip;
        return with_scores(scores, [&](auto view) {
          if (weights) {
            return any_cell_table{
                survey::tally_rating<true>(view, as_span(*weights), grouping, scale, skip)};
          }
          return any_cell_table{survey::tally_rating<false>(view, {}, grouping, scale, skip)};
        });
      },
      "scores"_a, "weights"_a, "codes"_a, "levels"_a, "timestamps"_a, "ticks_per_day"_a, "period"_a,
      "scale_min"_a, "scale_max"_a, "higher_is_better"_a, "favourable_boxes"_a,
      "The raw CSAT/CES cells of part of the answers (crmkit::survey::tally_rating); as\n"
      "tally_nps.");

  module.def(
      "merge_cells",
      [](const py::sequence& given) {
        std::vector<const any_cell_table*> tables;
        for (const auto& item : given) tables.push_back(&item.cast<const any_cell_table&>());
        if (tables.empty()) throw py::value_error("merge_cells: no tables");
        any_cell_table merged = *tables.front();
        for (std::size_t i = 1; i < tables.size(); ++i) {
          if (tables[i]->table.index() != merged.table.index()) {
            throw py::value_error("merge_cells: the tables hold different accumulators (NPS and "
                                  "rating, or weighted and unweighted)");
          }
          std::visit(
              [&](auto& into) {
                survey::merge_cells(into, std::get<std::decay_t<decltype(into)>>(tables[i]->table));
              },
              merged.table);
        }
        return merged;
      },
      "tables"_a,
      "A new table holding the answers of all the tables, merged exactly\n"
      "(crmkit::survey::merge_cells).");

  module.def(
      "summarize_nps_cells",
      [](const any_cell_table& any, std::size_t window, double confidence,
         const std::string& method, std::size_t n_boot, std::uint64_t seed, double min_n) {
        return summarize_either<survey::nps_result, nps_table, weighted_nps_table>(
            any, window, nps_options_of(confidence, method, n_boot, seed, min_n),
            "summarize_nps_cells: the table holds rating cells");
      },
      "table"_a, "window"_a, "confidence"_a, "method"_a, "n_boot"_a, "seed"_a, "min_n"_a,
      "NPS of a table's cells over rolling windows, as aggregate_nps gives them\n"
      "(crmkit::survey::summarize_cells). Returns as aggregate_nps.");

  module.def(
      "summarize_rating_cells",
      [](const any_cell_table& any, std::size_t window, double confidence, double min_n) {
        return summarize_either<survey::rating_result, rating_table, weighted_rating_table>(
            any, window, survey::interval_options{confidence, min_n},
            "summarize_rating_cells: the table holds NPS cells");
      },
      "table"_a, "window"_a, "confidence"_a, "min_n"_a,
      "CSAT/CES of a table's cells over rolling windows, as aggregate_rating gives them.");
}

void register_change(py::module_& module) {
  module.def(
      "compare_nps",
      [](const std::array<double, 4>& a, const std::array<double, 4>& b, double confidence,
         const std::string& method) {
        const auto result =
            survey::compare_nps({a[0], a[1], a[2], a[3]}, {b[0], b[1], b[2], b[3]}, confidence,
                                survey::parse_nps_interval_method(method));
        return to_columns(std::vector<survey::comparison>{result});
      },
      "a"_a, "b"_a, "confidence"_a, "method"_a,
      "Two-sample test of NPS_a − NPS_b from (n, promoters, passives, detractors) effective\n"
      "counts (crmkit::survey::compare_nps). Returns one-element columns.");

  module.def(
      "compare_proportions",
      [](const std::array<double, 2>& a, const std::array<double, 2>& b, double confidence) {
        return to_columns(std::vector<survey::comparison>{
            survey::compare_proportions({a[0], a[1]}, {b[0], b[1]}, confidence)});
      },
      "a"_a, "b"_a, "confidence"_a,
      "Two-sample test of p_a − p_b from (n, successes) effective counts: pooled z and\n"
      "Newcombe's hybrid score interval (crmkit::survey::compare_proportions).");

  module.def(
      "nps_period_over_period",
      [](const double_array& n, const double_array& promoters, const double_array& passives,
         const double_array& detractors, std::size_t periods, std::size_t lag, double confidence,
         const std::string& method) {
        const auto total = as_span(n);
        const auto p = as_span(promoters);
        const auto a = as_span(passives);
        const auto d = as_span(detractors);
        check::same_size("nps_period_over_period", "n", total.size(), "promoters", p.size());
        check::same_size("nps_period_over_period", "n", total.size(), "passives", a.size());
        check::same_size("nps_period_over_period", "n", total.size(), "detractors", d.size());
        std::vector<survey::nps_counts> cells(total.size());
        for (std::size_t i = 0; i < cells.size(); ++i) cells[i] = {total[i], p[i], a[i], d[i]};
        const auto kind = survey::parse_nps_interval_method(method);
        return to_columns(survey::period_over_period(
            std::span<const survey::nps_counts>(cells), periods, lag,
            [&](const survey::nps_counts& now, const survey::nps_counts& before) {
              return survey::compare_nps(now, before, confidence, kind);
            }));
      },
      "n"_a, "promoters"_a, "passives"_a, "detractors"_a, "periods"_a, "lag"_a, "confidence"_a,
      "method"_a,
      "compare_nps of each cell of a groups x periods table with the cell `lag` periods\n"
      "earlier (crmkit::survey::period_over_period).");

  module.def(
      "proportion_period_over_period",
      [](const double_array& n, const double_array& successes, std::size_t periods, std::size_t lag,
         double confidence) {
        const auto total = as_span(n);
        const auto x = as_span(successes);
        check::same_size("proportion_period_over_period", "n", total.size(), "successes", x.size());
        std::vector<survey::proportion_counts> cells(total.size());
        for (std::size_t i = 0; i < cells.size(); ++i) cells[i] = {total[i], x[i]};
        return to_columns(survey::period_over_period(
            std::span<const survey::proportion_counts>(cells), periods, lag,
            [&](const survey::proportion_counts& now, const survey::proportion_counts& before) {
              return survey::compare_proportions(now, before, confidence);
            }));
      },
      "n"_a, "successes"_a, "periods"_a, "lag"_a, "confidence"_a,
      "compare_proportions of each cell with the cell `lag` periods earlier.");
}

void register_drivers(py::module_& module) {
  module.def(
      "driver_importance",
      [](const double_array& attributes, const double_array& outcome, const std::string& method,
         std::size_t n_boot, std::uint64_t seed, double confidence) {
        if (attributes.ndim() != 2) {
          throw py::value_error("attributes must be a 2-d array (respondents x attributes)");
        }
        const Eigen::Map<const row_matrix> x(attributes.data(), attributes.shape(0),
                                             attributes.shape(1));
        const Eigen::Map<const Eigen::VectorXd> y(outcome.data(), outcome.size());
        survey::driver_options options;
        options.method = survey::parse_importance_method(method);
        options.resamples = n_boot;
        options.seed = seed;
        options.confidence = confidence;
        survey::driver_result result;
        {
          const py::gil_scoped_release release;
          result = survey::driver_importance(x, y, options);
        }
        return to_dict(result);
      },
      "attributes"_a, "outcome"_a, "method"_a, "n_boot"_a, "seed"_a, "confidence"_a,
      "Relative importance of attribute ratings for an outcome: Shapley decomposition of R^2\n"
      "or Johnson's relative weights, with percentile-bootstrap intervals\n"
      "(crmkit::survey::driver_importance).");
}

}  // namespace

py::tuple survey_cells_state(const pipeline::survey_cells& cells) {
  const auto optional_state = [](const auto& table) -> py::object {
    if (!table) return py::none();
    return table_state(any_cell_table{*table});
  };
  py::list groups;
  for (const auto& group : cells.groups) {
    groups.append(py::make_tuple(group.column, group.labels, group.drop_unused,
                                 table_state(any_cell_table{group.nps}),
                                 optional_state(group.csat)));
  }
  return py::make_tuple(groups, optional_state(cells.nps_by_month),
                        optional_state(cells.csat_by_month),
                        table_state(any_cell_table{cells.overall}), cells.unknown,
                        cells.first_unknown, cells.first_unknown_key);
}

pipeline::survey_cells survey_cells_of_state(const py::tuple& state) {
  using cells_type = pipeline::survey_cells;
  if (state.size() != 7) throw py::value_error("SurveyCells state: expected 7 fields");
  const auto table = [](const py::handle& item, auto kind) -> decltype(kind) {
    auto any = table_of_state(item.cast<py::tuple>());
    const auto* found = std::get_if<decltype(kind)>(&any.table);
    if (found == nullptr) throw py::value_error("SurveyCells state: a table of the wrong kind");
    return *found;
  };
  const auto optional_rating = [&](const py::handle& item) -> std::optional<rating_table> {
    if (item.is_none()) return std::nullopt;
    return table(item, rating_table{});
  };
  cells_type cells;
  for (const auto& item : state[0].cast<py::list>()) {
    const auto group = item.cast<py::tuple>();
    cells.groups.push_back({group[0].cast<std::string>(),
                            group[1].cast<std::vector<std::string>>(), group[2].cast<bool>(),
                            table(group[3], nps_table{}), optional_rating(group[4])});
  }
  if (!state[1].is_none()) cells.nps_by_month = table(state[1], nps_table{});
  cells.csat_by_month = optional_rating(state[2]);
  cells.overall = table(state[3], nps_table{});
  cells.unknown = state[4].cast<std::size_t>();
  cells.first_unknown = state[5].cast<std::size_t>();
  cells.first_unknown_key = state[6].cast<std::int64_t>();
  return cells;
}

void register_survey(py::module_& module) {
  record_schema<survey::grouped_results<survey::nps_result>>(module, "NpsCells", {"aggregate_nps"});
  record_schema<survey::grouped_results<survey::rating_result>>(module, "RatingCells",
                                                                {"aggregate_rating"});
  record_schema<survey::comparison>(module, "Comparison",
                                    {"compare_nps", "compare_proportions", "nps_period_over_period",
                                     "proportion_period_over_period"});
  record_schema<survey::driver_result>(module, "DriverResult", {"driver_importance"});
  register_aggregation(module);
  register_cell_tables(module);
  register_change(module);
  register_drivers(module);
}

}  // namespace crmkit::python
