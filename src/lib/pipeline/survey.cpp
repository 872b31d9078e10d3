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

survey_cells tally_survey(const survey_answers& answers, std::span<const std::uint8_t> in_log,
                          const std::vector<survey_answer_groups>& groups,
                          const analysis_options& options,
                          std::span<const std::int64_t> positions) {
  constexpr const char* function = "tally_survey";
  const auto n = answers.size();
  check::same_size(function, "customer", n, "nps", answers.nps.size());
  if (answers.csat) check::same_size(function, "customer", n, "csat", answers.csat->size());
  if (answers.day) check::same_size(function, "customer", n, "day", answers.day->size());
  check::same_size(function, "customer", n, "in_log", in_log.size());
  if (!positions.empty()) check::same_size(function, "customer", n, "positions", positions.size());
  for (const auto& group : groups) {
    check::same_size(function, "customer", n, group.column, group.codes.size());
  }
  survey_cells out;
  std::vector<std::size_t> known, rated;
  std::vector<std::int64_t> nps, csat, day, rated_day;
  for (std::size_t i = 0; i < n; ++i) {
    if (in_log[i] == 0) {
      const auto position = positions.empty() ? i : static_cast<std::size_t>(positions[i]);
      if (out.unknown++ == 0 || position < out.first_unknown) {
        out.first_unknown = position;
        out.first_unknown_key = answers.customer[i];
      }
      continue;
    }
    known.push_back(i);
    nps.push_back(answers.nps[i]);
    if (answers.day) day.push_back((*answers.day)[i]);
    if (answers.csat && (*answers.csat)[i] >= 0) {
      rated.push_back(i);
      csat.push_back((*answers.csat)[i]);
      if (answers.day) rated_day.push_back((*answers.day)[i]);
    }
  }
  survey::rating_scale scale;
  scale.min = options.csat_min;
  scale.max = options.csat_max;
  scale.favourable_boxes = options.csat_favourable_boxes;
  const auto policy = data::bad_row_policy::error;
  const auto nps_cells = [&](const survey::response_grouping& grouping) {
    return survey::tally_nps<false>(std::span<const std::int64_t>(nps), {}, grouping, policy);
  };
  const auto csat_cells = [&](const survey::response_grouping& grouping) {
    return survey::tally_rating<false>(std::span<const std::int64_t>(csat), {}, grouping, scale,
                                       policy);
  };
  const auto by_codes = [](const std::vector<std::int32_t>& codes, std::size_t levels) {
    survey::response_grouping grouping;
    grouping.codes.emplace_back(codes);
    grouping.levels.push_back(levels);
    return grouping;
  };
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& group = groups[g];
    const auto codes_of = [&](const std::vector<std::size_t>& rows) {
      std::vector<std::int32_t> codes;
      codes.reserve(rows.size());
      for (const auto r : rows) codes.push_back(group.codes[r]);
      return codes;
    };
    const auto codes = codes_of(known);
    survey_cells::grouping cells{group.column, group.labels, group.drop_unused,
                                 nps_cells(by_codes(codes, group.labels.size())), std::nullopt};
    if (answers.csat && g < 2) {
      const auto rated_codes = codes_of(rated);
      cells.csat = csat_cells(by_codes(rated_codes, group.labels.size()));
    }
    out.groups.push_back(std::move(cells));
  }
  if (answers.day) {
    survey::response_grouping grouping;
    grouping.timestamps = day;
    grouping.ticks_per_day = 1;
    grouping.period = data::period_unit::month;
    out.nps_by_month = nps_cells(grouping);
    if (answers.csat) {
      grouping.timestamps = rated_day;
      out.csat_by_month = csat_cells(grouping);
    }
  }
  out.overall = nps_cells(by_codes(std::vector<std::int32_t>(nps.size(), 0), 1));
  return out;
}

void merge_survey_cells(survey_cells& into, const survey_cells& other) {
  constexpr const char* function = "merge_survey_cells";
  if (into.groups.size() != other.groups.size()) {
    check::fail(function, fmt::format("the states have {} and {} groupings", into.groups.size(),
                                      other.groups.size()));
  }
  for (std::size_t g = 0; g < into.groups.size(); ++g) {
    auto& mine = into.groups[g];
    const auto& theirs = other.groups[g];
    if (mine.column != theirs.column || mine.labels != theirs.labels ||
        mine.csat.has_value() != theirs.csat.has_value()) {
      check::fail(function, fmt::format("the groupings by {} differ", mine.column));
    }
    survey::merge_cells(mine.nps, theirs.nps);
    if (mine.csat) survey::merge_cells(*mine.csat, *theirs.csat);
  }
  if (into.nps_by_month.has_value() != other.nps_by_month.has_value() ||
      into.csat_by_month.has_value() != other.csat_by_month.has_value()) {
    check::fail(function, "one state has answers by month and the other not");
  }
  if (into.nps_by_month) survey::merge_cells(*into.nps_by_month, *other.nps_by_month);
  if (into.csat_by_month) survey::merge_cells(*into.csat_by_month, *other.csat_by_month);
  survey::merge_cells(into.overall, other.overall);
  if (other.unknown > 0 && (into.unknown == 0 || other.first_unknown < into.first_unknown)) {
    into.first_unknown = other.first_unknown;
    into.first_unknown_key = other.first_unknown_key;
  }
  into.unknown += other.unknown;
}

namespace {

/** The cells of the labels some answer has (all labels unless `drop_unused`), and the labels. */
template <class Cell, class Count>
std::pair<survey::cell_table<Cell>, answer_groups> used_groups(
    const survey::cell_table<Cell>& table, const std::vector<std::string>& labels,
    bool drop_unused, Count&& count) {
  if (!drop_unused) return {table, answer_groups{{}, labels}};
  survey::cell_table<Cell> used = table;
  used.cells.clear();
  answer_groups kept;
  for (std::size_t g = 0; g < table.cells.size(); ++g) {
    if (count(table.cells[g]) > 0) {
      used.cells.push_back(table.cells[g]);
      kept.labels.push_back(labels[g]);
    }
  }
  used.groups = used.cells.size();
  return {std::move(used), std::move(kept)};
}

}  // namespace

std::vector<named_table> survey_tables(const survey_cells& cells, const analysis_options& options,
                                       std::vector<note>& notes) {
  if (cells.unknown > 0) {
    notes.push_back({note_code::survey_unknown_customers,
                     fmt::format("{} survey answers are from customers not in the transaction log "
                                 "(the first: answer {}, customer key {}) and were left out",
                                 cells.unknown, cells.first_unknown, cells.first_unknown_key)});
  }
  if (cells.overall.rows.rows == 0) {
    throw invalid_input(
        "survey_tables: no survey answer is from a customer of the transaction log: do the "
        "customer ids match?");
  }
  survey::nps_options nps_settings;
  nps_settings.confidence = options.confidence;
  survey::interval_options rating_settings;
  rating_settings.confidence = options.confidence;
  const auto nps_count = [](const survey::nps_accumulator& cell) { return cell.count(); };
  const auto csat_count = [](const survey::rating_accumulator& cell) {
    return cell.mean().count();
  };

  std::vector<named_table> out;
  for (const auto& group : cells.groups) {
    const auto [table, labels] = used_groups(group.nps, group.labels, group.drop_unused, nps_count);
    out.push_back({"nps_by_" + group.column,
                   nps_table(index_column(group.column, &labels, 0, 0),
                             survey::summarize_cells(table, 1, nps_settings))});
  }
  for (const auto& group : cells.groups) {
    if (!group.csat || group.csat->rows.rows == 0) continue;
    const auto [table, labels] =
        used_groups(*group.csat, group.labels, group.drop_unused, csat_count);
    out.push_back({"csat_by_" + group.column,
                   rating_table(index_column(group.column, &labels, 0, 0),
                                survey::summarize_cells(table, 1, rating_settings))});
  }
  if (cells.nps_by_month) {
    const auto result = survey::summarize_cells(*cells.nps_by_month, 1, nps_settings);
    out.push_back({"nps_by_month",
                   nps_table(index_column("period", nullptr, result.first_period, result.periods),
                             result)});
    if (cells.csat_by_month && cells.csat_by_month->rows.rows > 0) {
      const auto rating = survey::summarize_cells(*cells.csat_by_month, 1, rating_settings);
      out.push_back({"csat_by_month", rating_table(index_column("period", nullptr,
                                                                rating.first_period,
                                                                rating.periods),
                                                   rating)});
    }
  }
  {
    const auto result = survey::summarize_cells(cells.overall, 1, nps_settings);
    const answer_groups one{{}, {"all"}};
    out.push_back({"nps_overall", nps_table(index_column("all", &one, 0, 0), result)});
  }
  for (const auto& each : out) note_small_cells(each.name, each.table, notes);
  return out;
}

std::vector<named_table> survey_tables(const survey_answers& answers,
                                       const data::table& customers,
                                       const analysis_options& options, std::vector<note>& notes) {
  constexpr const char* function = "survey_tables";
  check::same_size(function, "customer", answers.customer.size(), "nps", answers.nps.size());
  const auto keys = customer_keys(customers);
  std::vector<std::size_t> row(answers.size(), 0);
  std::vector<std::uint8_t> in_log(answers.size(), 0);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const auto at = std::lower_bound(keys.begin(), keys.end(), answers.customer[i]);
    if (at == keys.end() || *at != answers.customer[i]) continue;
    row[i] = static_cast<std::size_t>(at - keys.begin());
    in_log[i] = 1;
  }
  std::vector<survey_answer_groups> groups;
  for (const auto& [name, drop_unused] : survey_groupings) {
    const std::string column(name);
    if (customers.find(column) == nullptr && column == "stage") continue;
    const auto& values = customers.get<data::text_values>(column);
    survey_answer_groups group{column, values.labels, drop_unused, {}};
    group.codes.reserve(row.size());
    for (const auto r : row) group.codes.push_back(values.codes[r]);
    groups.push_back(std::move(group));
  }
  return survey_tables(tally_survey(answers, in_log, groups, options), options, notes);
}

}  // namespace crmkit::pipeline
