// Built against an installed crmkit by the find_package_consumer test: the CSV -> summary ->
// BG/NBD path. It simulates a log with known truth, writes it as a user would have it (string
// ids, ISO timestamps), reads it back with the CSV reader, summarises it in weeks, fits BG/NBD
// and checks the results against the simulation. Exits non-zero when a check fails.
#include <crmkit/crmkit.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace {

int failures = 0;

void check(bool condition, const char* what) {
  if (!condition) {
    std::printf("CHECK FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  namespace cd = crmkit::data;
  namespace clv = crmkit::clv;
  constexpr std::size_t customers = 2'000;
  const auto simulated =
      cd::simulate_transactions({.customers = customers, .horizon = 52, .seed = 7});

  // Time 0 is 2024-01-01 (a Monday); simulated time is in weeks.
  const std::int64_t start = cd::days_from_civil(2024, 1, 1) * cd::seconds_per_day;
  const std::filesystem::path file = "crmkit_consumer_log.csv";
  std::set<std::pair<std::int64_t, std::int64_t>> purchase_days;
  {
    std::ofstream out(file);
    out << "customer,date,amount\n";
    for (std::size_t k = 0; k < simulated.size(); ++k) {
      const auto seconds = start + static_cast<std::int64_t>(simulated.time[k] * 604'800);
      out << "c" << simulated.customer[k] << ',' << cd::format_timestamp(seconds) << ','
          << simulated.amount[k] << '\n';
      purchase_days.emplace(simulated.customer[k], cd::floor_div(seconds, cd::seconds_per_day));
    }
  }
  const auto log =
      cd::read_transactions(file.string(), {.customer_id_col = "customer",
                                            .datetime_col = "date",
                                            .monetary_value_col = cd::column_ref("amount")});
  std::filesystem::remove(file);
  check(log.size() == simulated.size(), "every row read back");
  check(log.customer_labels.size() == customers, "string ids become labels");

  // Daily periods in units of 7 days: recency and T in weeks, as the simulation's time.
  const auto summary = cd::summarize(log, {.freq = cd::period_unit::day,
                                           .freq_multiplier = 7,
                                           .observation_period_end = start + 52 * 604'800});
  std::size_t purchases = 0;
  for (const double frequency : summary.frequency)
    purchases += static_cast<std::size_t>(frequency) + 1;
  check(summary.size() == customers, "one summary row per customer (all buy at time 0)");
  check(purchases == purchase_days.size(), "frequency counts distinct purchase days");

  const auto fit = clv::fit_bg_nbd(summary.frequency, summary.recency, summary.T);
  const auto& p = fit.params;
  std::printf("crmkit %s: %zu rows, %zu customers; BG/NBD r=%.3f alpha=%.3f a=%.3f b=%.3f\n",
              crmkit::version_string, log.size(), summary.size(), p.r, p.alpha, p.a, p.b);
  check(fit.converged, "the fit converged");
  check(std::isfinite(fit.log_likelihood), "finite log-likelihood");
  for (const double value : {p.r, p.alpha, p.a, p.b}) {
    check(std::isfinite(value) && value > 0, "parameters positive and finite");
  }
  // The simulation's truth is the CDNOW estimate r/alpha = 0.243/4.414 = 0.055 purchases per
  // week while alive; 2,000 customers pin the mean rate to well within a factor of 2.
  check(std::abs(std::log((p.r / p.alpha) / (0.243 / 4.414))) < std::log(2.0),
        "mean purchase rate near the truth");
  const auto alive =
      clv::conditional_probability_alive(p, summary.frequency, summary.recency, summary.T);
  bool in_unit_interval = true;
  for (const double value : alive) in_unit_interval = in_unit_interval && value >= 0 && value <= 1;
  check(in_unit_interval, "P(alive) in [0, 1]");
  return failures == 0 ? 0 : 1;
}
