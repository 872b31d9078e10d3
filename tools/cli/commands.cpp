#include "commands.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "crmkit/clv.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/lifecycle/stage.hpp"
#include "crmkit/pipeline/steps.hpp"
#include "crmkit/segment/features.hpp"
#include "crmkit/segment/kmeans.hpp"
#include "crmkit/segment/rfm.hpp"
#include "crmkit/segment/rfm_rules.hpp"
#include "crmkit/survey/aggregate.hpp"
#include "basket_command.hpp"
#include "described.hpp"
#include "input.hpp"
#include "report.hpp"

namespace crmkit::cli {

namespace {

template <class... Lists>
std::vector<option_spec> join(std::vector<option_spec> first, const Lists&... rest) {
  (first.insert(first.end(), rest.begin(), rest.end()), ...);
  return first;
}

std::vector<double> as_doubles(std::span<const std::int32_t> values) {
  return {values.begin(), values.end()};
}

// ---------------------------------------------------------------------------------------------

command_output run_summary(const parsed_args& args) {
  const auto log = read_log(args);
  const bool rfm_view = args.flag("include-first-transaction");
  auto summary = data::summarize(log, summary_settings(args, rfm_view));
  command_output output;
  output.warnings = skipped_rows_warning(log, args.input());
  output.main.name = "customers";
  const auto values = [](const memory::column<double>& column) {
    return std::vector<double>(column.begin(), column.end());
  };
  output.main.columns = {customer_column(log, summary.customer),
                         {"frequency", values(summary.frequency)},
                         {"recency", values(summary.recency)},
                         {"T", values(summary.T)}};
  if (!summary.monetary_value.empty()) {
    output.main.columns.push_back({"monetary_value", values(summary.monetary_value)});
  }
  output.extras.push_back(
      {"log",
       {{"rows_read", std::vector<std::int64_t>{static_cast<std::int64_t>(log.size())}},
        {"rows_after_end",
         std::vector<std::int64_t>{static_cast<std::int64_t>(summary.rows_after_end)}},
        {"customers", std::vector<std::int64_t>{static_cast<std::int64_t>(summary.size())}},
        {"observation_end",
         std::vector<std::string>{data::format_timestamp(summary.observation_period_end)}}}});
  return output;
}

// ---------------------------------------------------------------------------------------------

/** One row per parameter of the fit, named by the parameter struct's field list. */
template <class Params, std::size_t N>
void add_parameters(out_table& table, const std::string& model,
                    const clv::fit_result<Params, N>& fit) {
  std::size_t k = 0;
  describe::for_each_field<Params>([&](const auto& field) {
    std::get<std::vector<std::string>>(table.columns[0].values).push_back(model);
    std::get<std::vector<std::string>>(table.columns[1].values).emplace_back(field.name);
    std::get<std::vector<double>>(table.columns[2].values).push_back(field.get(fit.params));
    std::get<std::vector<double>>(table.columns[3].values).push_back(fit.standard_errors[k]);
    std::get<std::vector<double>>(table.columns[4].values).push_back(fit.lower[k]);
    std::get<std::vector<double>>(table.columns[5].values).push_back(fit.upper[k]);
    ++k;
  });
}

template <class Params, std::size_t N>
void add_fit(out_table& table, const std::string& model, const clv::fit_result<Params, N>& fit) {
  auto push = [&](std::size_t c, auto value) {
    using column_type = std::vector<decltype(value)>;
    std::get<column_type>(table.columns[c].values).push_back(value);
  };
  push(0, model);
  push(1, fit.log_likelihood);
  push(2, static_cast<std::int64_t>(fit.converged));
  push(3, static_cast<std::int64_t>(fit.iterations));
  push(4, static_cast<std::int64_t>(fit.customers));
  push(5, fit.warnings.empty() ? std::string{} : fmt::format("{}", fmt::join(fit.warnings, "; ")));
}

void add_warnings(command_output& output, const std::vector<std::string>& warnings) {
  output.warnings.insert(output.warnings.end(), warnings.begin(), warnings.end());
}

command_output run_clv(const parsed_args& args) {
  const double months = args.number("horizon", 12);
  const double discount_rate = args.number("discount-rate", 0.01);
  auto stats = read_customer_stats(args);
  const double periods =
      clv::periods_per_month(data::period_code(stats.freq)) / stats.freq_multiplier;
  const auto purchases = clv::fit_bg_nbd(stats.frequency, stats.recency, stats.T);
  const auto& p = purchases.params;

  command_output output;
  output.warnings = stats.warnings;
  out_table parameters{"parameters",
                       {{"model", std::vector<std::string>{}},
                        {"parameter", std::vector<std::string>{}},
                        {"value", std::vector<double>{}},
                        {"se", std::vector<double>{}},
                        {"lower", std::vector<double>{}},
                        {"upper", std::vector<double>{}}}};
  out_table fits{"fits",
                 {{"model", std::vector<std::string>{}},
                  {"log_likelihood", std::vector<double>{}},
                  {"converged", std::vector<std::int64_t>{}},
                  {"iterations", std::vector<std::int64_t>{}},
                  {"customers", std::vector<std::int64_t>{}},
                  {"warnings", std::vector<std::string>{}}}};
  add_parameters(parameters, "bg_nbd", purchases);
  add_fit(fits, "bg_nbd", purchases);
  add_warnings(output, purchases.warnings);

  const std::vector<double> horizon{months * periods};
  auto alive = clv::conditional_probability_alive(p, stats.frequency, stats.recency, stats.T);
  auto expected = clv::conditional_expected_number_of_purchases_up_to_time(
      p, horizon, stats.frequency, stats.recency, stats.T);
  output.main.name = "customers";
  output.main.columns = {
      stats.customer, {"frequency", stats.frequency}, {"recency", stats.recency}, {"T", stats.T}};
  if (!stats.monetary_value.empty()) {
    output.main.columns.push_back({"monetary_value", stats.monetary_value});
  }
  output.main.columns.push_back({"p_alive", std::move(alive)});
  output.main.columns.push_back({"expected_purchases", std::move(expected)});

  if (!stats.monetary_value.empty()) {
    // Gamma-Gamma is fitted on repeat buyers with a positive mean spend; every customer is
    // predicted under the one policy of clv::expected_spend.
    std::vector<double> x, m;
    for (std::size_t i = 0; i < stats.frequency.size(); ++i) {
      if (stats.frequency[i] >= 1 && stats.monetary_value[i] > 0) {
        x.push_back(stats.frequency[i]);
        m.push_back(stats.monetary_value[i]);
      }
    }
    if (x.empty()) {
      throw invalid_input(
          "Gamma-Gamma needs customers with a repeat purchase and a positive "
          "monetary value; none has one");
    }
    const auto spend = clv::fit_gamma_gamma(x, m);
    const auto& g = spend.params;
    add_parameters(parameters, "gamma_gamma", spend);
    add_fit(fits, "gamma_gamma", spend);
    add_warnings(output, spend.warnings);
    auto expected_spend = clv::expected_spend(g, stats.frequency, stats.monetary_value);
    auto value = clv::customer_lifetime_value(p, stats.frequency, stats.recency, stats.T,
                                              expected_spend, months, discount_rate, periods);
    output.main.columns.push_back({"expected_spend", std::move(expected_spend)});
    output.main.columns.push_back({"clv", std::move(value)});
  }
  output.extras = {std::move(parameters), std::move(fits)};
  return output;
}

// ---------------------------------------------------------------------------------------------

segment::rfm_rule_set rule_set_named(const std::string& name) {
  auto names = pipeline::builtin_rfm_rule_sets();
  if (std::ranges::find(names, name) != names.end()) return pipeline::builtin_rfm_rule_set(name);
  names.emplace_back("none");
  throw usage_error(fmt::format("--segments = '{}' is not a segment map; expected {}{}", name,
                                fmt::join(names, ", "), did_you_mean(name, names)));
}

command_output run_rfm(const parsed_args& args) {
  const std::string map = args.get_or("segments", "rf_grid");
  std::optional<segment::rfm_rule_set> rules;
  if (map != "none") rules = rule_set_named(map);
  segment::rfm_options options;
  options.bins = args.count("quantiles", rules ? rules->bins : 5);
  options.ties = segment::parse_tie_policy(args.get_or("ties", "average_rank"));
  if (rules && options.bins != rules->bins) {
    throw usage_error(
        fmt::format("--segments {} is written for {} quantiles, but --quantiles is {}", map,
                    rules->bins, options.bins));
  }
  const auto stats = read_rfm_stats(args);
  const std::vector<double>& recency = stats.recency;
  const std::vector<double>& frequency = stats.frequency;
  const std::vector<double>& monetary =
      stats.monetary_value.empty() ? frequency : stats.monetary_value;
  const auto scores = segment::score_rfm(recency, frequency, monetary, options);
  const auto& r = scores.recency.scores;
  const auto& f = scores.frequency.scores;
  const auto& m = scores.monetary.scores;
  std::vector<std::string> cell(r.size());
  for (std::size_t i = 0; i < r.size(); ++i) cell[i] = fmt::format("{}{}{}", r[i], f[i], m[i]);

  command_output output;
  output.warnings = stats.warnings;
  output.main.name = "customers";
  output.main.columns = {stats.customer,         {"recency", recency},    {"frequency", frequency},
                         {"monetary", monetary}, {"r", as_doubles(r)},    {"f", as_doubles(f)},
                         {"m", as_doubles(m)},   {"rfm", std::move(cell)}};
  if (!rules) return output;
  const auto segments = segment::assign_segments(*rules, r, f, m);
  std::vector<std::string> names(segments.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    names[i] = segments[i] < 0 ? rules->unmatched
                               : rules->rules[static_cast<std::size_t>(segments[i])].name;
  }
  output.main.columns.push_back({"segment", std::move(names)});
  std::vector<double> revenue(frequency.size());
  for (std::size_t i = 0; i < revenue.size(); ++i) revenue[i] = frequency[i] * monetary[i];
  auto summary =
      rows_table("segments", segment::segment_summary(segments, recency, frequency, monetary, revenue));
  auto& segment_column = summary.columns.front();
  std::vector<std::string> segment_names;
  for (const auto index : std::get<std::vector<std::int64_t>>(segment_column.values)) {
    segment_names.push_back(index < 0 ? rules->unmatched
                                      : rules->rules[static_cast<std::size_t>(index)].name);
  }
  segment_column.values = std::move(segment_names);
  output.extras.push_back(std::move(summary));
  return output;
}

// ---------------------------------------------------------------------------------------------

command_output run_kmeans(const parsed_args& args) {
  const text_table table = read_table(args.input(), delimiter_of(args));
  const auto id = args.get("id-col");
  std::vector<std::string> names = args.list("columns");
  if (names.empty()) {
    for (const auto& name : table.header) {
      if (!id || name != *id) names.push_back(name);
    }
  }
  segment::row_matrix x(static_cast<Eigen::Index>(table.rows.size()),
                        static_cast<Eigen::Index>(names.size()));
  const bool chosen = args.get("columns").has_value();
  for (std::size_t c = 0; c < names.size(); ++c) {
    std::vector<double> values;
    try {
      values = table.numbers(table.column(names[c], "--columns"));
    } catch (const parse_error& problem) {
      if (chosen) throw;
      throw parse_error(fmt::format("{}; choose the features with --columns, or name the id "
                                    "column with --id-col",
                                    problem.what()),
                        problem.file(), problem.line(), problem.column());
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)) = values[i];
    }
  }
  segment::kmeans_options options;
  options.n_clusters = args.count("k", 0);
  if (options.n_clusters == 0) throw usage_error("--k is required and must be at least 1");
  options.seed = args.count("seed", 0);
  options.n_init = args.count("n-init", 0);
  options.max_iter = args.count("max-iter", 300);
  const auto scaling = segment::parse_scaling(
      args.flag("standardize") ? "standard" : args.get_or("scaling", "none"));
  const auto scaler = segment::fit_feature_scaler(x, scaling);
  const auto fit = segment::kmeans(scaler.transform(x), options);
  const segment::row_matrix centers = scaler.inverse_transform(fit.centers);
  const auto profile = segment::profile_clusters(x, fit.labels, options.n_clusters);

  command_output output;
  if (fit.distinct_clusters < options.n_clusters) {
    output.warnings.push_back(
        fmt::format("only {} distinct clusters of the {} asked for "
                    "(duplicate points)",
                    fit.distinct_clusters, options.n_clusters));
  }
  output.main.name = "labels";
  if (id) {
    output.main.columns.push_back({*id, table.texts(table.column(*id, "--id-col"))});
  } else {
    std::vector<std::int64_t> rows(table.rows.size());
    std::iota(rows.begin(), rows.end(), std::int64_t{0});
    output.main.columns.push_back({"row", std::move(rows)});
  }
  output.main.columns.push_back(
      {"cluster", std::vector<std::int64_t>(fit.labels.begin(), fit.labels.end())});
  out_table centres{"centers", {}};
  std::vector<std::int64_t> cluster(options.n_clusters);
  std::iota(cluster.begin(), cluster.end(), std::int64_t{0});
  std::vector<std::int64_t> sizes(profile.sizes.begin(), profile.sizes.end());
  centres.columns = {{"cluster", std::move(cluster)}, {"size", std::move(sizes)}};
  for (std::size_t c = 0; c < names.size(); ++c) {
    std::vector<double> column(options.n_clusters);
    for (std::size_t j = 0; j < column.size(); ++j) {
      column[j] = centers(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(c));
    }
    centres.columns.push_back({names[c], std::move(column)});
  }
  output.extras.push_back(std::move(centres));
  output.extras.push_back(
      {"fit",
       {{"inertia", std::vector<double>{fit.inertia}},
        {"n_iter", std::vector<std::int64_t>{static_cast<std::int64_t>(fit.n_iter)}},
        {"converged", std::vector<std::int64_t>{fit.converged ? 1 : 0}},
        {"scaling", std::vector<std::string>{
                        args.flag("standardize") ? "standard" : args.get_or("scaling", "none")}}}});
  return output;
}

// ---------------------------------------------------------------------------------------------

constexpr column_choice score_col{"score-col", "0-10 answer column (required)", "", true};
constexpr column_choice segment_col{"segment-col", "group answers by this column", ""};
constexpr column_choice weight_col{"weight-col", "survey weights", ""};

command_output run_nps(const parsed_args& args) {
  const text_table table = read_table(args.input(), delimiter_of(args));
  const auto scores = table.numbers(score_col.in(table, args));
  std::vector<double> weights;
  if (weight_col.name(args)) weights = table.numbers(weight_col.in(table, args));
  survey::nps_options options;
  options.confidence = args.number("confidence", 0.95);
  options.method =
      describe::parse<survey::nps_interval_method>(args.get_or("method", "adjusted_wald"), "--method");
  options.seed = args.count("seed", 0);

  std::vector<std::string> groups{"all"};
  survey::response_grouping grouping;
  std::vector<std::int64_t> codes;
  if (segment_col.name(args)) {
    const auto labels = table.texts(segment_col.in(table, args));
    std::map<std::string, std::int64_t> index;
    for (const auto& label : labels) index.emplace(label, 0);
    groups.clear();
    for (auto& [label, code] : index) {
      code = static_cast<std::int64_t>(groups.size());
      groups.push_back(label);
    }
    codes.reserve(labels.size());
    for (const auto& label : labels) codes.push_back(index.at(label));
    grouping.codes = {survey::code_column(codes)};
    grouping.levels = {groups.size()};
  }
  auto result = survey::aggregate_nps(std::span<const double>(scores), weights, grouping, options);
  std::vector<survey::nps_result> cells = std::move(result.cells);
  if (!codes.empty()) {
    groups.push_back("all");
    cells.push_back(
        survey::aggregate_nps(std::span<const double>(scores), weights, {}, options).cells.front());
  }
  command_output output;
  output.main = rows_table("nps", cells);
  output.main.columns.insert(output.main.columns.begin(),
                             {segment_col.name(args).value_or("segment"), std::move(groups)});
  return output;
}

// ---------------------------------------------------------------------------------------------

command_output run_lifecycle(const parsed_args& args) {
  const auto log = read_log(args);
  lifecycle::stage_options options;
  options.rules.freq = freq_option(args);
  std::optional<std::int64_t> as_of;
  if (args.get("as-of")) as_of = date_option(args, "as-of");
  const auto table = lifecycle::classify(lifecycle::log_view::of(log), options, as_of);
  std::vector<std::string> stages(table.size());
  std::vector<std::string> rules(table.size());
  std::array<std::int64_t, lifecycle::stage_count> counts{};
  for (std::size_t j = 0; j < table.size(); ++j) {
    stages[j] = lifecycle::stage_name(table.stages[j]);
    rules[j] = lifecycle::stage_rule_name(table.rules[j]);
    ++counts[static_cast<std::size_t>(table.stages[j])];
  }
  command_output output;
  output.warnings = skipped_rows_warning(log, args.input());
  add_warnings(output, table.warnings);
  output.main.name = "customers";
  output.main.columns = {
      customer_column(log, table.customer),
      {"stage", std::move(stages)},
      {"rule", std::move(rules)},
      {"purchases", std::vector<std::int64_t>(table.purchases.begin(), table.purchases.end())},
      {"tenure", table.tenure},
      {"recency", table.recency},
      {"typical_gap", table.typical_gap},
      {"rate_trend", table.rate_trend},
      {"spend_trend", table.spend_trend},
      {"total_spend", table.total_spend}};
  out_table stage_counts{"stages", {}};
  std::vector<std::string> names;
  std::vector<std::int64_t> customers;
  std::vector<double> shares;
  for (std::size_t s = 0; s < lifecycle::stage_count; ++s) {
    names.emplace_back(lifecycle::stage_name(static_cast<lifecycle::stage>(s)));
    customers.push_back(counts[s]);
    shares.push_back(static_cast<double>(counts[s]) / static_cast<double>(table.size()));
  }
  stage_counts.columns = {{"stage", std::move(names)},
                          {"customers", std::move(customers)},
                          {"share", std::move(shares)}};
  output.extras.push_back(std::move(stage_counts));
  output.extras.push_back(
      {"as_of",
       {{"as_of", std::vector<std::string>{data::format_timestamp(table.as_of)}},
        {"population_gap", std::vector<double>{table.population_gap}}}});
  return output;
}

}  // namespace

const std::vector<command>& commands() {
  static const std::vector<command> all{
      {{"summary", "LOG.csv",
        "Per-customer frequency, recency, T and monetary value of a transaction log.\n"
        "The same as lifetimes' summary_data_from_transaction_data.",
        join(log_options(), period_options(),
             std::vector<option_spec>{{"include-first-transaction", "",
                                       "RFM view: count every purchase, recency = time since "
                                       "the last one",
                                       ""}},
             output_options())},
       run_summary},
      {{"clv", "LOG.csv|SUMMARY.csv",
        "BG/NBD (+ Gamma-Gamma) fit: P(alive), expected purchases, spend and CLV per customer.\n"
        "Fits BG/NBD, and Gamma-Gamma when there are amounts; the fitted parameters with\n"
        "standard errors go to standard error (CSV) or into the JSON output.\n"
        "A file whose header has frequency, recency and T (or --frequency-col ...) is a summary.",
        join(log_options(), period_options(), summary_column_options(),
             std::vector<option_spec>{
                 {"horizon", "MONTHS", "horizon of expected purchases and CLV, in months", "12"},
                 {"discount-rate", "R", "monthly discount rate of the CLV", "0.01"}},
             output_options())},
       run_clv},
      {{"rfm", "LOG.csv|SUMMARY.csv",
        "R, F and M quantile scores (recency inverted: 5 is most recent) and a named segment.",
        join(log_options(), period_options(), summary_column_options(),
             std::vector<option_spec>{
                 {"quantiles", "Q", "number of score bins", "that of the segment map, else 5"},
                 {"ties", "POLICY", "average_rank, rank_first or drop_edges", "average_rank"},
                 {"segments", "MAP", "rf_grid, rfm_package, pymc_marketing, chinese_value or none",
                  "rf_grid"}},
             output_options())},
       run_rfm},
      {{"kmeans", "FEATURES.csv", "k-means clustering of the rows of a numeric table.",
        join(
            std::vector<option_spec>{
                {"k", "K", "number of clusters (required)", ""},
                {"columns", "A,B,C", "feature columns", "every column but --id-col"},
                {"id-col", "COL", "row id column copied to the output", "none"},
                {"standardize", "", "standardise the features first (same as --scaling standard)",
                 ""},
                {"scaling", "S", "none, standard or robust", "none"},
                {"seed", "S", "random seed", "0"},
                {"n-init", "N", "runs (best kept)", "1 for k-means++"},
                {"max-iter", "N", "iterations per run", "300"},
                delimiter_option()},
            output_options())},
       run_kmeans},
      {{"nps", "ANSWERS.csv",
        "Net Promoter Score of 0-10 answers, overall or by segment, with confidence intervals.",
        join(
            std::vector<option_spec>{
                score_col.spec(),
                segment_col.spec(),
                weight_col.spec(),
                {"confidence", "C", "interval coverage", "0.95"},
                {"method", "M", "adjusted_wald, wald or bootstrap", "adjusted_wald"},
                {"seed", "S", "bootstrap seed", "0"},
                delimiter_option()},
            output_options())},
       run_nps},
      {{"lifecycle", "LOG.csv",
        "Lifecycle stage of every customer, with the rule that decided it, and stage counts.\n"
        "Stages: new, developing, stable, at_risk, churned, reactivated.",
        join(log_options(),
             std::vector<option_spec>{
                 {"freq", "UNIT", "period unit of the stage rules", "day"},
                 {"as-of", "DATE", "classify as of this date", "the last date in the log"}},
             output_options())},
       run_lifecycle},
      {{"basket", "LINES.csv",
        "Frequent itemsets and association rules of order lines (what sells together).\n"
        "The rules table has mlxtend's columns; the itemsets and basket counts go to standard\n"
        "error (CSV) or into the JSON output. Returns net out; duplicate lines are one item.",
        join(basket_options(), output_options())},
       run_basket},
      {{"report", "[LOG.csv]",
        "The whole customer analysis into a folder of CSV tables (as python -m crmkit report).\n"
        "Summaries, BG/NBD and Gamma-Gamma with P(alive), expected purchases and CLV, the\n"
        "calibration check, k-means and RFM segments, value tiers, early warning, lifecycle\n"
        "stages, cohorts and, with --survey, NPS/CSAT by segment and month.\n"
        "Without LOG.csv a simulated demo (--customers, --seed) is analysed.",
        join(log_options(), report_options()), true},
       run_report, true},
  };
  return all;
}

}  // namespace crmkit::cli
