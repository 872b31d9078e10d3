#include <algorithm>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/data/date_parse.hpp"
#include "crmkit/pipeline/steps.hpp"
#include "crmkit/survey/aggregate.hpp"

namespace crmkit::pipeline {

namespace {

/** The customers table's customer keys (integer ids, or the codes of text ids). */
std::vector<std::int64_t> customer_keys(const data::table& customers) {
  const auto& column = customers.column("customer_id");
  if (const auto* ids = std::get_if<std::vector<std::int64_t>>(&column.values)) return *ids;
  const auto& text = std::get<data::text_values>(column.values);
  return {text.codes.begin(), text.codes.end()};
}

/** A grouping column of the answers: codes (per answer) into labels used by some answer. */
struct answer_groups {
  std::vector<std::int32_t> codes;
  std::vector<std::string> labels;
};

answer_groups groups_of(const data::text_values& column, const std::vector<std::size_t>& row,
                        bool drop_unused) {
  answer_groups out;
  out.labels = column.labels;
  out.codes.reserve(row.size());
  for (const auto r : row) out.codes.push_back(column.codes[r]);
  if (!drop_unused) return out;
  std::vector<std::int32_t> renumber(column.labels.size(), -1);
  for (const auto code : out.codes) {
    if (code >= 0) renumber[static_cast<std::size_t>(code)] = 0;
  }
  out.labels.clear();
  for (std::size_t l = 0; l < renumber.size(); ++l) {
    if (renumber[l] == 0) {
      renumber[l] = static_cast<std::int32_t>(out.labels.size());
      out.labels.push_back(column.labels[l]);
    }
  }
  for (auto& code : out.codes) {
    if (code >= 0) code = renumber[static_cast<std::size_t>(code)];
  }
  return out;
}

std::string month_label(std::int64_t month_index) {
  return fmt::format("{:04d}-{:02d}", 1970 + data::floor_div(month_index, 12),
                     month_index - data::floor_div(month_index, 12) * 12 + 1);
}

/** The index column of an aggregate: group labels, or month labels. */
data::table_column index_column(const std::string& name, const answer_groups* groups,
                                std::int64_t first_period, std::size_t periods) {
  if (groups != nullptr) {
    std::vector<std::int32_t> codes(groups->labels.size());
    for (std::size_t g = 0; g < codes.size(); ++g) codes[g] = static_cast<std::int32_t>(g);
    return {name, data::text_values{std::move(codes), groups->labels}};
  }
  data::text_values months;
  for (std::size_t p = 0; p < periods; ++p) {
    months.codes.push_back(static_cast<std::int32_t>(p));
    months.labels.push_back(month_label(first_period + static_cast<std::int64_t>(p)));
  }
  return {name, std::move(months)};
}

template <class Cell, class Column>
std::vector<double> column_of(const std::vector<Cell>& cells, Column&& value) {
  std::vector<double> out;
  out.reserve(cells.size());
  for (const auto& cell : cells) out.push_back(static_cast<double>(value(cell)));
  return out;
}

template <class Cell, class Column>
std::vector<std::int64_t> counts_of(const std::vector<Cell>& cells, Column&& value) {
  std::vector<std::int64_t> out;
  out.reserve(cells.size());
  for (const auto& cell : cells) out.push_back(static_cast<std::int64_t>(value(cell)));
  return out;
}

template <class Cell, class Column>
data::flag_values flags_of(const std::vector<Cell>& cells, Column&& value) {
  data::flag_values out;
  for (const auto& cell : cells) out.flags.push_back(value(cell) ? 1 : 0);
  return out;
}

data::table nps_table(data::table_column index, const survey::grouped_results<survey::nps_result>& r) {
  using cell = survey::nps_result;
  data::table table;
  table.index_columns = 1;
  table.columns.push_back(std::move(index));
  const auto& c = r.cells;
  table.add("n", counts_of(c, [](const cell& x) { return x.n; }))
      .add("promoters", counts_of(c, [](const cell& x) { return x.promoters; }))
      .add("passives", counts_of(c, [](const cell& x) { return x.passives; }))
      .add("detractors", counts_of(c, [](const cell& x) { return x.detractors; }))
      .add("share_promoters", column_of(c, [](const cell& x) { return x.share_promoters; }))
      .add("share_passives", column_of(c, [](const cell& x) { return x.share_passives; }))
      .add("share_detractors", column_of(c, [](const cell& x) { return x.share_detractors; }))
      .add("nps", column_of(c, [](const cell& x) { return x.score; }))
      .add("se", column_of(c, [](const cell& x) { return x.standard_error; }))
      .add("lower", column_of(c, [](const cell& x) { return x.ci.lower; }))
      .add("upper", column_of(c, [](const cell& x) { return x.ci.upper; }))
      .add("n_effective", column_of(c, [](const cell& x) { return x.n_effective; }))
      .add("small_sample", flags_of(c, [](const cell& x) { return x.small_sample; }))
      .add("is_empty", flags_of(c, [](const cell& x) { return x.n == 0; }));
  return table;
}

data::table rating_table(data::table_column index,
                         const survey::grouped_results<survey::rating_result>& r) {
  using cell = survey::rating_result;
  data::table table;
  table.index_columns = 1;
  table.columns.push_back(std::move(index));
  const auto& c = r.cells;
  table.add("n", counts_of(c, [](const cell& x) { return x.mean.n; }))
      .add("favourable", counts_of(c, [](const cell& x) { return x.favourable.successes; }))
      .add("share", column_of(c, [](const cell& x) { return x.favourable.share; }))
      .add("share_se", column_of(c, [](const cell& x) { return x.favourable.standard_error; }))
      .add("share_lower", column_of(c, [](const cell& x) { return x.favourable.ci.lower; }))
      .add("share_upper", column_of(c, [](const cell& x) { return x.favourable.ci.upper; }))
      .add("mean_score", column_of(c, [](const cell& x) { return x.mean.mean; }))
      .add("sd", column_of(c, [](const cell& x) { return x.mean.standard_deviation; }))
      .add("mean_se", column_of(c, [](const cell& x) { return x.mean.standard_error; }))
      .add("mean_lower", column_of(c, [](const cell& x) { return x.mean.ci.lower; }))
      .add("mean_upper", column_of(c, [](const cell& x) { return x.mean.ci.upper; }))
      .add("n_effective", column_of(c, [](const cell& x) { return x.mean.n_effective; }))
      .add("small_sample", flags_of(c, [](const cell& x) { return x.mean.small_sample; }))
      .add("is_empty", flags_of(c, [](const cell& x) { return x.mean.n == 0; }));
  return table;
}

void note_small_cells(const std::string& name, const data::table& table, std::vector<note>& notes) {
  const auto& small = table.get<data::flag_values>("small_sample").flags;
  const auto& empty = table.get<data::flag_values>("is_empty").flags;
  const auto count = static_cast<std::size_t>(std::count(small.begin(), small.end(), 1));
  if (count == 0) return;
  notes.push_back({note_code::survey_small_sample,
                   fmt::format("{}: {} of {} cells have an effective sample below 30 ({} are "
                               "empty); see the small_sample and is_empty columns",
                               name, count, small.size(),
                               std::count(empty.begin(), empty.end(), 1))});
}

}  // namespace

std::vector<named_table> survey_tables(const survey_answers& answers,
                                       const data::table& customers,
                                       const analysis_options& options, std::vector<note>& notes) {
  constexpr const char* function = "survey_tables";
  check::same_size(function, "customer", answers.customer.size(), "nps", answers.nps.size());
  if (!answers.csat.empty()) {
    check::same_size(function, "customer", answers.customer.size(), "csat", answers.csat.size());
  }
  if (!answers.day.empty()) {
    check::same_size(function, "customer", answers.customer.size(), "day", answers.day.size());
  }
  const auto keys = customer_keys(customers);
  std::vector<std::size_t> row, answer;
  std::size_t unknown = 0, first_unknown = 0;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const auto at = std::lower_bound(keys.begin(), keys.end(), answers.customer[i]);
    if (at == keys.end() || *at != answers.customer[i]) {
      if (unknown++ == 0) first_unknown = i;
      continue;
    }
    row.push_back(static_cast<std::size_t>(at - keys.begin()));
    answer.push_back(i);
  }
  if (unknown > 0) {
    notes.push_back({note_code::survey_unknown_customers,
                     fmt::format("{} survey answers are from customers not in the transaction log "
                                 "(the first: answer {}, customer key {}) and were left out",
                                 unknown, first_unknown, answers.customer[first_unknown])});
  }
  if (row.empty()) {
    throw invalid_input(
        "survey_tables: no survey answer is from a customer of the transaction log: do the "
        "customer ids match?");
  }
  std::vector<std::int64_t> nps, csat, day;
  std::vector<std::int64_t> rated_day;
  std::vector<std::size_t> rated;  ///< positions (in `row`) of answers with a CSAT score
  for (std::size_t j = 0; j < answer.size(); ++j) {
    nps.push_back(answers.nps[answer[j]]);
    if (!answers.day.empty()) day.push_back(answers.day[answer[j]]);
    if (!answers.csat.empty() && answers.csat[answer[j]] >= 0) {
      rated.push_back(j);
      csat.push_back(answers.csat[answer[j]]);
      if (!answers.day.empty()) rated_day.push_back(answers.day[answer[j]]);
    }
  }
  std::vector<std::size_t> rated_rows;
  for (const auto j : rated) rated_rows.push_back(row[j]);

  survey::nps_options nps_settings;
  nps_settings.confidence = options.confidence;
  survey::interval_options rating_settings;
  rating_settings.confidence = options.confidence;
  survey::rating_scale scale;
  scale.min = options.csat_min;
  scale.max = options.csat_max;
  scale.favourable_boxes = options.csat_favourable_boxes;

  std::vector<named_table> out;
  const auto by_group = [&](const std::string& column, const std::vector<std::size_t>& rows,
                            bool drop_unused) {
    return groups_of(customers.get<data::text_values>(column), rows, drop_unused);
  };
  const auto nps_by = [&](const std::string& column, bool drop_unused) {
    const auto groups = by_group(column, row, drop_unused);
    survey::response_grouping grouping;
    grouping.codes.emplace_back(groups.codes);
    grouping.levels.push_back(groups.labels.size());
    const auto result = survey::aggregate_nps(std::span<const std::int64_t>(nps), {}, grouping,
                                              nps_settings);
    out.push_back({"nps_by_" + column, nps_table(index_column(column, &groups, 0, 0), result)});
  };
  const auto csat_by = [&](const std::string& column, bool drop_unused) {
    const auto groups = by_group(column, rated_rows, drop_unused);
    survey::response_grouping grouping;
    grouping.codes.emplace_back(groups.codes);
    grouping.levels.push_back(groups.labels.size());
    const auto result = survey::aggregate_rating(std::span<const std::int64_t>(csat), {},
                                                 grouping, scale, rating_settings);
    out.push_back(
        {"csat_by_" + column, rating_table(index_column(column, &groups, 0, 0), result)});
  };
  nps_by("segment", false);
  nps_by("rfm_segment", true);
  nps_by("value_tier", false);
  if (customers.find("stage") != nullptr) nps_by("stage", false);
  if (!answers.csat.empty() && !csat.empty()) {
    csat_by("segment", false);
    csat_by("rfm_segment", true);
  }
  if (!answers.day.empty()) {
    survey::response_grouping grouping;
    grouping.timestamps = day;
    grouping.ticks_per_day = 1;
    grouping.period = data::period_unit::month;
    const auto result = survey::aggregate_nps(std::span<const std::int64_t>(nps), {}, grouping,
                                              nps_settings);
    out.push_back({"nps_by_month",
                   nps_table(index_column("period", nullptr, result.first_period, result.periods),
                             result)});
    if (!csat.empty()) {
      grouping.timestamps = rated_day;
      const auto rating = survey::aggregate_rating(std::span<const std::int64_t>(csat), {},
                                                   grouping, scale, rating_settings);
      out.push_back({"csat_by_month", rating_table(index_column("period", nullptr,
                                                                rating.first_period,
                                                                rating.periods),
                                                   rating)});
    }
  }
  {
    const std::vector<std::int32_t> all(nps.size(), 0);
    survey::response_grouping grouping;
    grouping.codes.emplace_back(all);
    grouping.levels.push_back(1);
    const auto result = survey::aggregate_nps(std::span<const std::int64_t>(nps), {}, grouping,
                                              nps_settings);
    const answer_groups one{all, {"all"}};
    out.push_back({"nps_overall", nps_table(index_column("all", &one, 0, 0), result)});
  }
  for (const auto& each : out) note_small_cells(each.name, each.table, notes);
  return out;
}

}  // namespace crmkit::pipeline
