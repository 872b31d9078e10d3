#include <crmkit/clv.hpp>
#include <crmkit/clv/forecast_intervals.hpp>
#include <crmkit/core/error.hpp>
#include <crmkit/core/exact_sum.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/data/csv_writer.hpp>
#include <crmkit/data/summary.hpp>
#include <crmkit/lifecycle.hpp>
#include <crmkit/pipeline.hpp>
#include <crmkit/segment.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <variant>
#include <vector>

namespace pl = crmkit::pipeline;
namespace data = crmkit::data;

namespace {

const data::transaction_log& demo() {
  static const data::transaction_log log = pl::demo_log({.customers = 3000, .seed = 3});
  return log;
}

const pl::analysis_result& result() {
  static const pl::analysis_result analysed = pl::analyze(demo());
  return analysed;
}

const std::vector<double>& numbers(const data::table& table, const char* name) {
  return table.get<std::vector<double>>(name);
}

std::vector<double> as_doubles(const std::vector<std::int64_t>& values) {
  return {values.begin(), values.end()};
}

double sum(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0);
}

std::int64_t sum(const std::vector<std::int64_t>& values) {
  return std::accumulate(values.begin(), values.end(), std::int64_t{0});
}

}  // namespace

TEST_CASE("analyze produces the report's tables in order, with their columns") {
  const auto& r = result();
  std::vector<std::string> names;
  for (const auto& t : r.tables) names.push_back(t.name);
  const std::vector<std::string> expected{
      "customers",       "model_parameters", "calibration_vs_holdout", "cumulative_transactions",
      "kmeans_quality",  "segments",         "rfm_segments",           "value_tiers",
      "early_warning",   "lifecycle_stages", "stage_migration",        "cohort_retention",
      "repeat_purchases", "top_customers"};
  CHECK(names == expected);
  const auto& customers = r.table("customers");
  std::vector<std::string> columns;
  for (const auto& c : customers.columns) columns.push_back(c.name);
  CHECK(columns == std::vector<std::string>{
                       "customer_id", "frequency", "recency", "T", "monetary_value", "purchases",
                       "weeks_since_last", "mean_spend", "revenue", "p_alive",
                       "expected_purchases_13w", "expected_spend", "clv", "clv_lower",
                       "clv_upper", "segment", "r_score",
                       "f_score", "m_score", "rfm_segment", "value_tier", "value_level", "stage"});
  CHECK(customers.index_columns == 1);
  CHECK_THROWS_AS((void)r.table("no_such_table"), crmkit::invalid_input);
}

TEST_CASE("the customer summaries are data::summarize in both views") {
  const pl::analysis_options options;
  const auto summaries = pl::summarize_customers(demo(), options);
  data::summary_options settings{.freq = data::period_unit::day, .freq_multiplier = 7};
  const auto repeat = data::summarize(demo(), settings);
  settings.include_first_transaction = true;
  const auto every = data::summarize(demo(), settings);
  CHECK(summaries.customer == repeat.customer);
  CHECK(summaries.frequency == repeat.frequency);
  CHECK(summaries.T == repeat.T);
  CHECK(summaries.monetary_value == repeat.monetary_value);
  CHECK(summaries.purchases == every.frequency);
  CHECK(summaries.periods_since_last == every.recency);
  CHECK(summaries.mean_spend == every.monetary_value);
  CHECK(summaries.transactions == demo().size());
  // Revenue conserved: the per-customer revenue adds up to the log's amounts.
  CHECK(sum(summaries.revenue) == doctest::Approx(summaries.total_amount).epsilon(1e-12));
}

TEST_CASE("fits and predictions agree with the standalone CLV functions") {
  const pl::analysis_options options;
  std::vector<pl::note> notes;
  const auto c = pl::summarize_customers(demo(), options);
  const auto fits = pl::fit_models(c, options, notes);
  crmkit::clv::fit_options settings;
  settings.tolerance = 1e-7;
  const auto bg = crmkit::clv::fit_bg_nbd(c.frequency, c.recency, c.T, {}, settings);
  REQUIRE(pl::kind_of(fits.purchases) == pl::transaction_model_kind::bg_nbd);
  const auto& purchases = std::get<crmkit::clv::bg_nbd_params>(fits.purchases);
  CHECK(purchases.r == bg.params.r);
  CHECK(purchases.b == bg.params.b);
  CHECK(fits.purchase_fit.log_likelihood == bg.log_likelihood);
  // The fit in full, for front ends that rebuild the fitted model: names, estimate, covariance.
  CHECK(fits.purchase_fit.names == std::vector<std::string>{"r", "alpha", "a", "b"});
  CHECK(fits.purchase_fit.params == std::vector<double>{bg.params.r, bg.params.alpha,
                                                        bg.params.a, bg.params.b});
  REQUIRE(fits.purchase_fit.covariance.size() == 16);
  for (int i = 0; i < 4; ++i) {
    CHECK(fits.purchase_fit.standard_errors[i] == bg.standard_errors[i]);
    for (int j = 0; j < 4; ++j) CHECK(fits.purchase_fit.covariance[4 * i + j] == bg.covariance(i, j));
  }
  CHECK(fits.spend_fit.names == std::vector<std::string>{"p", "q", "v"});
  CHECK(fits.spend_fit.params == std::vector<double>{fits.spend.p, fits.spend.q, fits.spend.v});
  CHECK(fits.spend_fit.covariance.size() == 9);
  const auto predictions = pl::predict_customers(c, fits, options);
  const auto alive =
      crmkit::clv::conditional_probability_alive(purchases, c.frequency, c.recency, c.T);
  CHECK(predictions.p_alive == alive);
  const std::vector<double> horizon{13};
  CHECK(predictions.expected_purchases ==
        crmkit::clv::conditional_expected_number_of_purchases_up_to_time(
            purchases, horizon, c.frequency, c.recency, c.T));
  const auto spend = crmkit::clv::expected_spend(fits.spend, c.frequency, c.monetary_value);
  CHECK(predictions.expected_spend == spend);
  // lifetimes' W: 4.345 periods per month.
  CHECK(predictions.clv == crmkit::clv::customer_lifetime_value(purchases, c.frequency,
                                                                c.recency, c.T, spend, 12, 0.01,
                                                                4.345));
  const auto& parameters = result().table("model_parameters");
  CHECK(parameters.rows() == 7);
  CHECK(numbers(parameters, "estimate")[0] == purchases.r);
  CHECK(numbers(parameters, "estimate")[6] == fits.spend.v);
}

TEST_CASE("customers: one row per customer, ranges of every derived column") {
  const auto& t = result().table("customers");
  const auto c = pl::summarize_customers(demo(), {});
  REQUIRE(t.rows() == c.size());
  for (const double p : numbers(t, "p_alive")) CHECK((p >= 0 && p <= 1));
  for (const double v : numbers(t, "clv")) CHECK(v >= 0);
  for (const char* score : {"r_score", "f_score", "m_score"}) {
    for (const auto s : t.get<std::vector<std::int64_t>>(score)) CHECK((s >= 1 && s <= 5));
  }
  for (const char* coded : {"segment", "rfm_segment", "value_tier", "value_level", "stage"}) {
    const auto& column = t.get<data::text_values>(coded);
    for (const auto code : column.codes) {
      CHECK((code >= 0 && code < static_cast<std::int32_t>(column.labels.size())));
    }
  }
}

TEST_CASE("segment tables conserve customers and value; shares sum to 1") {
  const auto& r = result();
  const auto& customers = r.table("customers");
  const double n = static_cast<double>(customers.rows());
  const double total_clv = sum(numbers(customers, "clv"));
  const double total_revenue = sum(numbers(customers, "revenue"));
  for (const char* name : {"segments", "rfm_segments", "lifecycle_stages"}) {
    CAPTURE(name);
    const auto& t = r.table(name);
    CHECK(static_cast<double>(sum(t.get<std::vector<std::int64_t>>("customers"))) == n);
    CHECK(sum(numbers(t, "share")) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(sum(numbers(t, "total_clv")) == doctest::Approx(total_clv).epsilon(1e-12));
    CHECK(sum(numbers(t, "revenue")) == doctest::Approx(total_revenue).epsilon(1e-12));
  }
  const auto& rfm = r.table("rfm_segments");
  CHECK(sum(numbers(rfm, "revenue_share")) == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(sum(numbers(rfm, "clv_share")) == doctest::Approx(1.0).epsilon(1e-12));
  const auto& revenue = numbers(rfm, "revenue");
  CHECK(std::is_sorted(revenue.rbegin(), revenue.rend()));
  // Segments are numbered by mean CLV, highest first.
  const auto& segment_clv = numbers(r.table("segments"), "clv");
  CHECK(std::is_sorted(segment_clv.rbegin(), segment_clv.rend()));
  // Exactly one k is chosen, and it is the number of segments.
  const auto& quality = r.table("kmeans_quality");
  const auto& chosen = quality.get<data::flag_values>("chosen").flags;
  CHECK(std::count(chosen.begin(), chosen.end(), 1) == 1);
  const auto k = quality.get<std::vector<std::int64_t>>("k");
  const auto at = static_cast<std::size_t>(std::find(chosen.begin(), chosen.end(), 1) - chosen.begin());
  CHECK(static_cast<std::size_t>(k[at]) == r.table("segments").rows());
}

TEST_CASE("value tiers: each split conserves customers and CLV") {
  const auto& t = result().table("value_tiers");
  const auto& customers = result().table("customers");
  REQUIRE(t.rows() == 6);
  const auto counts = as_doubles(t.get<std::vector<std::int64_t>>("customers"));
  const auto& clv_share = numbers(t, "clv_share");
  const auto& customer_share = numbers(t, "customer_share");
  for (std::size_t split = 0; split < 2; ++split) {
    double people = 0, value = 0, share = 0;
    for (std::size_t i = 3 * split; i < 3 * split + 3; ++i) {
      people += counts[i];
      value += clv_share[i];
      share += customer_share[i];
    }
    CHECK(people == static_cast<double>(customers.rows()));
    CHECK(value == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(share == doctest::Approx(1.0).epsilon(1e-12));
  }
  // The top level holds 20% of customers (rounded by the library's rank rule).
  CHECK(customer_share[3] == doctest::Approx(0.2).epsilon(1e-3));
  CHECK(result().headline.tier_a_customer_share == customer_share[0]);
}

TEST_CASE("early warning: the one definition, sorted by value at risk") {
  const pl::analysis_options options;
  const auto& t = result().table("early_warning");
  const auto& customers = result().table("customers");
  const auto& p = numbers(customers, "p_alive");
  const auto& purchases = numbers(customers, "purchases");
  std::size_t expected = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    expected += purchases[i] >= 3 && p[i] < options.at_risk_p_alive && p[i] >= options.gone_p_alive;
  }
  CHECK(t.rows() == expected);
  CHECK(result().headline.slipping_away == expected);
  const auto& risk = numbers(t, "value_at_risk");
  CHECK(std::is_sorted(risk.rbegin(), risk.rend()));
  const auto& revenue = numbers(t, "revenue");
  const auto& alive = numbers(t, "p_alive");
  for (std::size_t i = 0; i < t.rows(); ++i) CHECK(risk[i] == revenue[i] * (1 - alive[i]));
  // Last purchase = the end minus weeks since the last purchase.
  const auto& days = t.get<data::date_values>("last_purchase").days;
  const auto& since = numbers(t, "weeks_since_last");
  const auto summaries = pl::summarize_customers(demo(), options);
  for (std::size_t i = 0; i < t.rows(); ++i) {
    CHECK(static_cast<double>(summaries.last_day - days[i]) == doctest::Approx(since[i] * 7));
  }
}

TEST_CASE("lifecycle stages agree with lifecycle::classify and stage_migration") {
  const auto& r = result();
  const auto& stage = r.table("customers").get<data::text_values>("stage");
  const auto c = pl::summarize_customers(demo(), {});
  std::vector<pl::note> notes;
  const auto fits = pl::fit_models(c, {}, notes);
  crmkit::lifecycle::stage_options settings;
  crmkit::lifecycle::alive_model model;
  model.params = fits.purchases;
  model.time_unit = 7;
  settings.model = model;
  const auto view = crmkit::lifecycle::log_view::of(demo());
  const auto table = crmkit::lifecycle::classify(view, settings, c.last_timestamp);
  REQUIRE(table.customer == c.customer);
  for (std::size_t i = 0; i < table.size(); ++i) {
    CHECK(stage.labels[static_cast<std::size_t>(stage.codes[i])] ==
          crmkit::lifecycle::stage_name(table.stages[i]));
  }
  const auto migration = crmkit::lifecycle::stage_migration(
      view, c.last_timestamp - 13 * 7 * 86'400, c.last_timestamp, settings);
  const auto& counts = r.table("stage_migration");
  REQUIRE(counts.columns.size() == 8);
  for (std::size_t to = 0; to < 7; ++to) {
    const auto& column = std::get<std::vector<std::int64_t>>(counts.columns[to + 1].values);
    for (std::size_t from = 0; from < 8; ++from) {
      CHECK(static_cast<std::uint64_t>(column[from]) == migration.counts[from][to]);
    }
  }
  // Every customer with a stage at the end is counted once in the migration matrix.
  std::int64_t total = 0;
  for (std::size_t to = 1; to < counts.columns.size(); ++to) {
    total += sum(std::get<std::vector<std::int64_t>>(counts.columns[to].values));
  }
  CHECK(static_cast<std::size_t>(total) == c.size());
  // Cohorts: every retention rate is a share; at offset 0 every cohort is retained.
  const auto& cohorts = r.table("cohort_retention");
  for (const double rate : numbers(cohorts, "0")) CHECK(rate == 1.0);
}

TEST_CASE("tracking curve and calibration table") {
  const auto& r = result();
  const auto& curve = r.table("cumulative_transactions");
  const auto& actual = numbers(curve, "actual");
  const auto& predicted = numbers(curve, "predicted");
  CHECK(std::is_sorted(actual.begin(), actual.end()));
  CHECK(std::is_sorted(predicted.begin(), predicted.end()));
  // The last point counts every repeat purchase day: sum of frequency over customers.
  const auto c = pl::summarize_customers(demo(), {});
  const auto days = c.last_day - c.first_day + 1;
  if (days % 7 == 0) CHECK(actual.back() == sum(c.frequency));
  CHECK(actual.back() <= sum(c.frequency));
  CHECK(curve.rows() == static_cast<std::size_t>(days / 7));
  const auto& calibration = r.table("calibration_vs_holdout");
  CHECK(calibration.rows() <= 8);
  CHECK(std::isfinite(r.calibration_period));
}

TEST_CASE("the calibration check is data::calibration_and_holdout, fit_bg_nbd and "
          "clv::calibration_vs_holdout on the log, with or without the shared grouping") {
  for (const double days_per_period : {7.0, 1.0, 3.5}) {
    CAPTURE(days_per_period);
    pl::analysis_options options;
    options.days_per_period = days_per_period;
    std::vector<pl::note> notes;
    auto c = pl::summarize_customers(demo(), options);
    const auto checked = pl::calibration_check(demo(), c, options, notes);
    REQUIRE(checked.has_value());
    // The split, refit and table computed independently, from the raw log's rows.
    data::holdout_options split_options;
    split_options.freq_multiplier = days_per_period;
    split_options.calibration_period_end =
        (c.first_day + static_cast<std::int64_t>(
                           std::llround(checked->calibration_period * days_per_period))) *
        data::seconds_per_day;
    const auto split = data::calibration_and_holdout(demo(), split_options);
    const auto& cal = split.calibration;
    crmkit::clv::fit_options settings;
    settings.tolerance = 1e-7;
    const auto fit = crmkit::clv::fit_bg_nbd(cal.frequency, cal.recency, cal.T, {}, settings);
    const std::vector<double> duration{split.duration_holdout};
    const auto rows = crmkit::clv::calibration_vs_holdout(
        fit.params, cal.frequency, cal.recency, cal.T, split.frequency_holdout, duration,
        options.calibration_max_frequency);
    // model_predictions is the group's mean of every customer's CET (the scalar form) summed
    // exactly and rounded once, so that it does not depend on the customers' order or split:
    // clv::calibration_vs_holdout adds in customer order, equal to that rounding.
    const auto max = options.calibration_max_frequency;
    std::vector<crmkit::full_range_sum> expected(max + 1);
    for (std::size_t i = 0; i < cal.frequency.size(); ++i) {
      expected[std::min(static_cast<std::size_t>(cal.frequency[i]), max)].add(
          crmkit::clv::conditional_expected_number_of_purchases_up_to_time(
              fit.params, split.duration_holdout, cal.frequency[i], cal.recency[i], cal.T[i]));
    }
    const auto& table = checked->calibration_vs_holdout;
    REQUIRE(table.rows() == rows.size());
    for (std::size_t k = 0; k < rows.size(); ++k) {
      CAPTURE(k);
      CHECK(table.get<std::vector<std::int64_t>>("customers")[k] == rows[k].customers);
      CHECK(numbers(table, "frequency_holdout")[k] == rows[k].actual_holdout);
      const auto group = static_cast<std::size_t>(rows[k].frequency);
      CHECK(numbers(table, "model_predictions")[k] == expected[group].value() / rows[k].customers);
      CHECK(numbers(table, "model_predictions")[k] ==
            doctest::Approx(rows[k].predicted_holdout).epsilon(1e-12));
    }
    // The ungrouped path (summaries without the shared grouping) gives the same tables, and
    // fit_models the same fit.
    auto ungrouped = c;
    ungrouped.days.reset();
    const auto own = pl::calibration_check(demo(), ungrouped, options, notes);
    REQUIRE(own.has_value());
    CHECK(data::format_csv(own->calibration_vs_holdout) ==
          data::format_csv(checked->calibration_vs_holdout));
    CHECK(data::format_csv(own->cumulative_transactions) ==
          data::format_csv(checked->cumulative_transactions));
    CHECK(own->calibration_period == checked->calibration_period);
    const auto shared_fit = pl::fit_models(c, options, notes);
    const auto own_fit = pl::fit_models(ungrouped, options, notes);
    CHECK(pl::parameter_values(shared_fit.purchases) == pl::parameter_values(own_fit.purchases));
  }
}

TEST_CASE("repeat purchases: actual counts conserve customers; expected counts too") {
  const auto& t = result().table("repeat_purchases");
  const auto& customers = result().table("customers");
  CHECK(sum(numbers(t, "actual")) == static_cast<double>(customers.rows()));
  CHECK(sum(numbers(t, "expected")) ==
        doctest::Approx(static_cast<double>(customers.rows())).epsilon(1e-9));
}

TEST_CASE("top customers are the highest CLVs, in order") {
  const auto& top = result().table("top_customers");
  const auto& customers = result().table("customers");
  CHECK(top.rows() == 100);
  std::vector<double> clv = numbers(customers, "clv");
  std::sort(clv.rbegin(), clv.rend());
  clv.resize(100);
  CHECK(numbers(top, "clv") == clv);
}

TEST_CASE("same tables for any thread count") {
  const auto before = crmkit::num_threads();
  crmkit::set_num_threads(1);
  const auto one = pl::analyze(demo());
  crmkit::set_num_threads(2);
  const auto two = pl::analyze(demo());
  crmkit::set_num_threads(before);
  REQUIRE(one.tables.size() == two.tables.size());
  for (std::size_t i = 0; i < one.tables.size(); ++i) {
    CAPTURE(one.tables[i].name);
    CHECK(data::format_csv(one.tables[i].table) == data::format_csv(two.tables[i].table));
  }
}

TEST_CASE("notes in step order, and the first failing step's error, for any thread count") {
  const auto before = crmkit::num_threads();
  // A log too short for the calibration check (a note from the calibration step), with the
  // repeat purchases of the first customer who has any made free (a note from the fits, an
  // earlier step). The demo log lists each customer's rows together, first day first.
  pl::demo_options settings{.customers = 3000, .seed = 3};
  settings.acquisition_weeks = 1;
  settings.horizon_weeks = 9;
  auto log = pl::demo_log(settings);
  std::size_t start = 0;
  for (std::size_t i = 1; i < log.size(); ++i) {
    if (log.customer[i] != log.customer[start]) {
      start = i;
    } else if (log.timestamp[i] / 86'400 != log.timestamp[start] / 86'400) {
      for (std::size_t j = i; j < log.size() && log.customer[j] == log.customer[start]; ++j) {
        if (log.timestamp[j] / 86'400 != log.timestamp[start] / 86'400) log.amount[j] = 0;
      }
      break;
    }
  }
  std::vector<std::vector<pl::note>> notes;
  for (const std::size_t threads : {1, 2}) {
    crmkit::set_num_threads(threads);
    notes.push_back(pl::analyze(log).notes);
  }
  crmkit::set_num_threads(before);
  REQUIRE(notes[0].size() == notes[1].size());
  for (std::size_t i = 0; i < notes[0].size(); ++i) {
    CHECK(notes[0][i].code == notes[1][i].code);
    CHECK(notes[0][i].message == notes[1][i].message);
  }
  const auto position = [&](pl::note_code code) {
    return std::find_if(notes[0].begin(), notes[0].end(),
                        [&](const pl::note& n) { return n.code == code; }) -
           notes[0].begin();
  };
  const auto calibration = position(pl::note_code::log_too_short_for_calibration);
  const auto fits = position(pl::note_code::zero_spend_repeat_buyers);
  REQUIRE(calibration < static_cast<std::ptrdiff_t>(notes[0].size()));
  REQUIRE(fits < static_cast<std::ptrdiff_t>(notes[0].size()));
  CHECK(fits < calibration);

  // Three steps fail at once (the CLV intervals on their level, k-means on k_min, the tiers on
  // a cut): the error is the first of them in step order, whatever ran first.
  pl::analysis_options options;
  options.clv_interval_level = 1;
  options.k_min = 1'000'000;
  options.abc_cut_a = 2;
  for (const std::size_t threads : {1, 2}) {
    CAPTURE(threads);
    crmkit::set_num_threads(threads);
    CHECK_THROWS_WITH_AS(pl::analyze(demo(), nullptr, options),
                         doctest::Contains("clv_interval_level"), crmkit::invalid_input);
    options.clv_interval_level = 0.9;
    CHECK_THROWS_WITH_AS(pl::analyze(demo(), nullptr, options), doctest::Contains("k_min"),
                         crmkit::invalid_input);
    options.k_min = 3;
    CHECK_THROWS_WITH_AS(pl::analyze(demo(), nullptr, options), doctest::Contains("cuts[0]"),
                         crmkit::invalid_input);
    options.clv_interval_level = 1;
    options.k_min = 1'000'000;
  }
  crmkit::set_num_threads(before);
}

TEST_CASE("edge cases: the one policy") {
  SUBCASE("too few repeat buyers is a named error") {
    data::transaction_log log;
    for (std::int64_t c = 0; c < 20; ++c) {
      log.customer.push_back(c);
      log.timestamp.push_back(19'723 * 86'400 + c * 86'400);
      log.amount.push_back(10);
    }
    CHECK_THROWS_WITH_AS(pl::analyze(log), doctest::Contains("min_repeat_customers"),
                         crmkit::invalid_input);
  }
  SUBCASE("an unknown RFM rule set is named, with a suggestion") {
    pl::analysis_options options;
    options.rfm_rules = "rf_gird";
    CHECK_THROWS_WITH_AS(pl::analyze(demo(), nullptr, options), doctest::Contains("rf_grid"),
                         crmkit::invalid_input);
  }
  SUBCASE("zero-spend repeat buyers get p v / (p x + q - 1), with a note") {
    auto log = demo();
    // Customer 0's repeat purchases become free: every row after its first day costs 0.
    std::int64_t first = log.timestamp[0] / 86'400;
    std::size_t changed = 0;
    for (std::size_t i = 0; i < log.size() && log.customer[i] == 0; ++i) {
      if (log.timestamp[i] / 86'400 != first) {
        log.amount[i] = 0;
        ++changed;
      }
    }
    std::size_t customer = 0;
    while (changed == 0) {  // the demo's customer 0 may have no repeat purchase; find one
      ++customer;
      first = -1;
      for (std::size_t i = 0; i < log.size(); ++i) {
        if (log.customer[i] != static_cast<std::int64_t>(customer)) continue;
        if (first < 0) first = log.timestamp[i] / 86'400;
        if (log.timestamp[i] / 86'400 != first) {
          log.amount[i] = 0;
          ++changed;
        }
      }
    }
    const auto analysed = pl::analyze(log);
    const auto has_note = std::any_of(analysed.notes.begin(), analysed.notes.end(), [](auto& n) {
      return n.code == pl::note_code::zero_spend_repeat_buyers;
    });
    CHECK(has_note);
    const auto& customers = analysed.table("customers");
    const auto row = static_cast<std::size_t>(
        std::find(customers.get<std::vector<std::int64_t>>("customer_id").begin(),
                  customers.get<std::vector<std::int64_t>>("customer_id").end(),
                  static_cast<std::int64_t>(customer)) -
        customers.get<std::vector<std::int64_t>>("customer_id").begin());
    const double x = numbers(customers, "frequency")[row];
    CHECK(x > 0);
    CHECK(numbers(customers, "monetary_value")[row] == 0);
    const double p = analysed.gamma_gamma_p, q = analysed.gamma_gamma_q,
                 v = analysed.gamma_gamma_v;
    CHECK(numbers(customers, "expected_spend")[row] ==
          doctest::Approx(p * v / (p * x + q - 1)).epsilon(1e-14));
  }
  SUBCASE("a log too short for calibration: a note and no calibration tables") {
    pl::demo_options demo_settings{.customers = 3000, .seed = 3};
    demo_settings.acquisition_weeks = 1;
    demo_settings.horizon_weeks = 9;
    const auto analysed = pl::analyze(pl::demo_log(demo_settings));
    CHECK(analysed.find("calibration_vs_holdout") == nullptr);
    CHECK(analysed.find("cumulative_transactions") == nullptr);
    CHECK(std::any_of(analysed.notes.begin(), analysed.notes.end(), [](auto& n) {
      return n.code == pl::note_code::log_too_short_for_calibration;
    }));
    CHECK(std::isnan(analysed.calibration_period));
  }
}

TEST_CASE("clv::expected_spend: the zero-spend policy, formula by formula") {
  const crmkit::clv::gamma_gamma_params g{6.25, 3.74, 15.44};
  const std::vector<double> x{0, 2, 2, 3};
  const std::vector<double> m{0, 0, -5, 40};
  const auto spend = crmkit::clv::expected_spend(g, x, m);
  CHECK(spend[0] == doctest::Approx(g.p * g.v / (g.q - 1)));
  CHECK(spend[1] == doctest::Approx(g.p * g.v / (g.p * 2 + g.q - 1)));
  CHECK(spend[2] == spend[1]);
  CHECK(spend[3] == doctest::Approx(g.p * (g.v + 3 * 40) / (g.p * 3 + g.q - 1)));
}

TEST_CASE("survey tables: counts conserved, unknown customers noted") {
  const auto& customers = result().table("customers");
  const auto& ids = customers.get<std::vector<std::int64_t>>("customer_id");
  pl::survey_answers answers;
  auto& csat = answers.csat.emplace();
  auto& day = answers.day.emplace();
  for (std::size_t i = 0; i < ids.size(); i += 7) {
    answers.customer.push_back(ids[i]);
    answers.nps.push_back(static_cast<std::int64_t>(i % 11));
    csat.push_back(i % 3 == 0 ? -1 : static_cast<std::int64_t>(1 + i % 5));
    day.push_back(19'723 + static_cast<std::int64_t>(i % 400));
  }
  answers.customer.push_back(-42);  // not a customer
  answers.nps.push_back(5);
  csat.push_back(3);
  day.push_back(19'723);
  std::vector<pl::note> notes;
  const auto tables = pl::survey_tables(answers, customers, {}, notes);
  const std::int64_t known = static_cast<std::int64_t>(answers.size()) - 1;
  std::int64_t rated = 0;
  for (std::size_t i = 0; i + 1 < answers.size(); ++i) rated += csat[i] >= 0;
  std::vector<std::string> names;
  for (const auto& t : tables) {
    names.push_back(t.name);
    const auto n = sum(t.table.get<std::vector<std::int64_t>>("n"));
    CAPTURE(t.name);
    CHECK(n == (t.name.rfind("csat", 0) == 0 ? rated : known));
  }
  CHECK(names == std::vector<std::string>{"nps_by_segment", "nps_by_rfm_segment",
                                          "nps_by_value_tier", "nps_by_stage", "csat_by_segment",
                                          "csat_by_rfm_segment", "nps_by_month", "csat_by_month",
                                          "nps_overall"});
  CHECK(std::any_of(notes.begin(), notes.end(), [](auto& n) {
    return n.code == pl::note_code::survey_unknown_customers;
  }));
  pl::survey_answers strangers{{-1, -2}, {5, 6}, {}, {}};
  CHECK_THROWS_AS(pl::survey_tables(strangers, customers, {}, notes), crmkit::invalid_input);
}

TEST_CASE("survey tables of merged parts are those of all the answers, byte for byte") {
  // The cluster report's path: parts of the answers tallied apart (in any order), merged, then
  // the tables; the single-machine path tallies all the answers at once.
  const auto& customers = result().table("customers");
  const auto& ids = customers.get<std::vector<std::int64_t>>("customer_id");
  pl::survey_answers answers;
  auto& csat = answers.csat.emplace();
  auto& day = answers.day.emplace();
  for (std::size_t i = 0; i < ids.size(); i += 5) {
    answers.customer.push_back(i % 97 == 0 ? -7 - static_cast<std::int64_t>(i) : ids[i]);
    answers.nps.push_back(static_cast<std::int64_t>((i * 7) % 11));
    csat.push_back(i % 4 == 0 ? -1 : static_cast<std::int64_t>(1 + i % 5));
    day.push_back(19'723 + static_cast<std::int64_t>((i * 13) % 500));
  }
  std::vector<pl::note> notes_all;
  const auto all = pl::survey_tables(answers, customers, {}, notes_all);

  std::vector<std::uint8_t> in_log;
  for (const auto key : answers.customer) in_log.push_back(key >= 0 ? 1 : 0);
  const auto keys = customers.get<std::vector<std::int64_t>>("customer_id");
  const auto position_of = [&](std::int64_t key) {
    const auto at = std::lower_bound(keys.begin(), keys.end(), key);
    return at == keys.end() || *at != key ? std::size_t{0}
                                          : static_cast<std::size_t>(at - keys.begin());
  };
  // Three parts: none of the answers (a partition the join sent nothing: its state still has
  // the CSAT and month cells of the columns), the odd answers, then the even ones (so the first
  // unknown is in the last).
  pl::survey_cells merged;
  for (const std::size_t parity : {2, 1, 0}) {
    pl::survey_answers part;
    auto& part_csat = part.csat.emplace();
    auto& part_day = part.day.emplace();
    std::vector<std::uint8_t> part_in_log;
    std::vector<std::int64_t> positions;
    for (std::size_t i = parity; i < answers.size() && parity < 2; i += 2) {
      part.customer.push_back(answers.customer[i]);
      part.nps.push_back(answers.nps[i]);
      part_csat.push_back(csat[i]);
      part_day.push_back(day[i]);
      part_in_log.push_back(in_log[i]);
      positions.push_back(static_cast<std::int64_t>(i));
    }
    std::vector<pl::survey_answer_groups> groups;
    for (const auto& [name, drop] : pl::survey_groupings) {
      const auto& values = customers.get<data::text_values>(std::string(name));
      pl::survey_answer_groups group{std::string(name), values.labels, drop, {}};
      for (const auto key : part.customer) {
        group.codes.push_back(key >= 0 ? values.codes[position_of(key)] : 0);
      }
      groups.push_back(std::move(group));
    }
    const auto cells = pl::tally_survey(part, part_in_log, groups, {}, positions);
    if (parity == 2) {
      merged = cells;
    } else {
      pl::merge_survey_cells(merged, cells);
    }
  }
  std::vector<pl::note> notes_merged;
  const auto parts = pl::survey_tables(merged, {}, notes_merged);
  REQUIRE(parts.size() == all.size());
  for (std::size_t t = 0; t < all.size(); ++t) {
    CAPTURE(all[t].name);
    CHECK(parts[t].name == all[t].name);
    CHECK(data::format_csv(parts[t].table) == data::format_csv(all[t].table));
  }
  REQUIRE(notes_merged.size() == notes_all.size());
  for (std::size_t n = 0; n < notes_all.size(); ++n) {
    CHECK(notes_merged[n].message == notes_all[n].message);
  }
  CHECK(notes_all.front().message.find("(the first: answer 0, customer key -7)") !=
        std::string::npos);
}

TEST_CASE("data::table CSV: dates, flags, text and missing cells") {
  data::table t;
  t.index_columns = 1;
  t.add_strings("name", {"a", "b,c", "a"})
      .add("day", data::date_values{{19'723, data::missing_day, 0}})
      .add("flag", data::flag_values{{1, 0, 1}})
      .add("x", std::vector<double>{1.5, std::nan(""), -2})
      .add("n", std::vector<std::int64_t>{1, 2, 3});
  CHECK(data::format_csv(t) ==
        "name,day,flag,x,n\na,2024-01-01,True,1.5,1\n\"b,c\",,False,,2\na,1970-01-01,True,-2,3\n");
  CHECK_THROWS_AS(t.add("short", std::vector<double>{1}), crmkit::invalid_input);
  const auto picked = data::take_rows(t, {2, 0});
  CHECK(data::format_csv(picked) ==
        "name,day,flag,x,n\na,1970-01-01,True,-2,3\na,2024-01-01,True,1.5,1\n");
}

TEST_CASE("analyze's moved customers table is the steps' copied one; lifecycle with or without "
          "the shared grouping agrees") {
  const pl::analysis_options options;
  std::vector<pl::note> notes;
  auto c = pl::summarize_customers(demo(), options);
  REQUIRE(c.days != nullptr);
  CHECK(c.days->keys().size() == c.size());
  const auto fits = pl::fit_models(c, options, notes);
  auto predictions = pl::predict_customers(c, fits, options);
  pl::clv_intervals(c, fits, predictions, options, notes);
  const auto segments = pl::segment_customers(c, predictions, options, notes);
  const auto rfm = pl::rfm_segments(c, predictions, options);
  const auto tiers = pl::value_tiers(c, predictions, options);
  const auto shared = pl::lifecycle(demo(), c, fits, predictions, options, notes);
  REQUIRE(shared.has_value());
  auto ungrouped = c;
  ungrouped.days.reset();
  const auto own = pl::lifecycle(demo(), ungrouped, fits, predictions, options, notes);
  REQUIRE(own.has_value());
  CHECK(shared->stage == own->stage);
  for (const auto* name : {"stages", "migration", "cohort_retention"}) {
    CAPTURE(name);
    const auto& a = std::string(name) == "stages"      ? shared->stages
                    : std::string(name) == "migration" ? shared->migration
                                                       : shared->cohort_retention;
    const auto& b = std::string(name) == "stages"      ? own->stages
                    : std::string(name) == "migration" ? own->migration
                                                       : own->cohort_retention;
    CHECK(data::format_csv(a) == data::format_csv(b));
  }
  const auto copied = pl::customer_table(c, predictions, segments, rfm, tiers, &*shared, options);
  CHECK(data::format_csv(copied) == data::format_csv(result().table("customers")));
}

TEST_CASE("clv intervals: lifetime_value_delta_method on the pipeline's fits, centred on clv") {
  pl::analysis_options options;
  options.clv_interval_level = 0.8;
  std::vector<pl::note> notes;
  const auto c = pl::summarize_customers(demo(), options);
  const auto fits = pl::fit_models(c, options, notes);
  auto predictions = pl::predict_customers(c, fits, options);
  pl::clv_intervals(c, fits, predictions, options, notes);
  REQUIRE(predictions.clv_lower.size() == c.size());
  const auto& purchases = std::get<crmkit::clv::bg_nbd_params>(fits.purchases);
  const auto matrix = [](const pl::fitted_model& fit) {
    const auto n = static_cast<Eigen::Index>(fit.params.size());
    return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
               fit.covariance.data(), n, n)
        .eval();
  };
  crmkit::clv::interval_options settings;
  settings.level = 0.8;
  const auto expected = crmkit::clv::customer_lifetime_value_intervals(
      purchases, matrix(fits.purchase_fit), fits.spend, matrix(fits.spend_fit), c.frequency,
      c.recency, c.T, c.monetary_value, 12, 0.01, 4.345, settings);
  for (std::size_t i = 0; i < c.size(); ++i) {
    CHECK(predictions.clv_lower[i] == doctest::Approx(expected.customers[i].lower).epsilon(1e-12));
    CHECK(predictions.clv_upper[i] == doctest::Approx(expected.customers[i].upper).epsilon(1e-12));
    CHECK(predictions.clv_lower[i] <= predictions.clv[i]);
    CHECK(predictions.clv[i] <= predictions.clv_upper[i]);
  }
  bool noted = false;
  for (const auto& n : notes) noted = noted || n.code == pl::note_code::clv_intervals_unavailable;
  CHECK_FALSE(noted);

  SUBCASE("an unavailable covariance: NaN ends for every customer, with a note") {
    auto singular = fits;
    singular.spend_fit.covariance.assign(9, std::nan(""));
    std::vector<pl::note> more;
    pl::clv_intervals(c, singular, predictions, options, more);
    CHECK(std::all_of(predictions.clv_lower.begin(), predictions.clv_lower.end(),
                      [](double v) { return std::isnan(v); }));
    CHECK(std::all_of(predictions.clv_upper.begin(), predictions.clv_upper.end(),
                      [](double v) { return std::isnan(v); }));
    REQUIRE(more.size() == 1);
    CHECK(more[0].code == pl::note_code::clv_intervals_unavailable);
    CHECK(more[0].message.find("covariance") != std::string::npos);
  }
  SUBCASE("a level outside (0, 1) is refused, naming the option") {
    options.clv_interval_level = 1;
    CHECK_THROWS_WITH_AS(pl::clv_intervals(c, fits, predictions, options, notes),
                         doctest::Contains("clv_interval_level"), crmkit::invalid_input);
  }
}
