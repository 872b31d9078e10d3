#include <algorithm>
#include <limits>
#include <memory>

#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/data/grouping.hpp"
#include "crmkit/data/period.hpp"
#include "crmkit/data/summary.hpp"
#include "crmkit/pipeline/steps.hpp"

namespace crmkit::pipeline {

namespace {

/** The log's amounts summed chunk by chunk in row order (a fixed order: any thread count). */
double total_amount(const data::transaction_log& log) {
  return parallel_reduce(
      log.size(), 0.0,
      [&](std::size_t begin, std::size_t end) {
        double part = 0;
        for (std::size_t i = begin; i < end; ++i) part += log.amount[i];
        return part;
      },
      [](double a, double b) { return a + b; }, std::size_t{1} << 16);
}

}  // namespace

customer_summaries summarize_customers(const data::transaction_log& log,
                                       const analysis_options& options) {
  if (log.size() == 0) throw invalid_input("analyze: the transaction log is empty");
  if (!log.has_amount()) {
    throw invalid_input("analyze: the transaction log has no amounts; the models need them");
  }
  const data::checked_log checked = data::check_log("summarize", log.customer, log.timestamp,
                                                    log.amount, data::period_unit::day, 1);
  const std::int64_t last = checked.extent.last_tick;
  auto grouped = std::make_shared<const data::customer_periods>(
      log.customer, log.timestamp, log.amount, checked,
      checked.calendar.last_tick(checked.calendar.period(last)));
  data::summary_options settings;
  settings.freq = data::period_unit::day;
  settings.freq_multiplier = options.days_per_period;
  auto repeat = data::summarize(*grouped, settings);
  settings.include_first_transaction = true;
  auto every = data::summarize(*grouped, settings);

  customer_summaries out;
  out.customer.assign(repeat.customer.begin(), repeat.customer.end());
  out.labels = log.customer_labels;
  out.frequency.assign(repeat.frequency.begin(), repeat.frequency.end());
  out.recency.assign(repeat.recency.begin(), repeat.recency.end());
  out.T.assign(repeat.T.begin(), repeat.T.end());
  out.monetary_value.assign(repeat.monetary_value.begin(), repeat.monetary_value.end());
  out.purchases.assign(every.frequency.begin(), every.frequency.end());
  out.periods_since_last.assign(every.recency.begin(), every.recency.end());
  out.mean_spend.assign(every.monetary_value.begin(), every.monetary_value.end());
  out.revenue.resize(out.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    out.revenue[i] = out.purchases[i] * out.mean_spend[i];
  out.first_day = data::floor_div(checked.extent.first_tick, data::seconds_per_day);
  out.last_day = data::floor_div(last, data::seconds_per_day);
  out.last_timestamp = last;
  out.transactions = log.size();
  out.total_amount = total_amount(log);
  out.days = std::move(grouped);
  return out;
}

}  // namespace crmkit::pipeline
