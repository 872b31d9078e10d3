// Per-customer summaries in C++: a simulated log, and the CDNOW sample read from its text file.
// Run by CTest with the shared data folder as argv[1]; checks its own output.
#include <crmkit/data.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <utility>

#include "skip.hpp"

namespace cd = crmkit::data;

namespace {

int failures = 0;

void expect(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

/** Simulated customers, summarised in daily periods: every purchase day must be counted. */
void simulated_log() {
  const auto simulated = cd::simulate_transactions(
      {.customers = 10'000, .acquisition_periods = 13, .horizon = 52, .seed = 42});
  // Time is in weeks; as seconds since 2024-01-01 (1704067200) it becomes a calendar log.
  std::vector<std::int64_t> seconds(simulated.size());
  std::set<std::pair<std::int64_t, std::int64_t>> purchase_days;
  for (std::size_t k = 0; k < simulated.size(); ++k) {
    seconds[k] = 1'704'067'200 + static_cast<std::int64_t>(std::floor(simulated.time[k] * 604'800));
    purchase_days.emplace(simulated.customer[k], cd::floor_div(seconds[k], 86'400));
  }
  const auto summary = cd::summarize(simulated.customer, seconds, simulated.amount,
                                     {.freq = cd::period_unit::day, .freq_multiplier = 7});
  double purchases = 0, repeat_buyers = 0;
  for (std::size_t j = 0; j < summary.size(); ++j) {
    purchases += summary.frequency[j] + 1;
    repeat_buyers += summary.frequency[j] > 0 ? 1 : 0;
  }
  std::printf("simulated: %zu rows, %zu customers, %.0f repeat buyers, %.0f purchase days\n",
              simulated.size(), summary.size(), repeat_buyers, purchases);
  expect(summary.size() == 10'000, "every simulated customer is summarised");
  expect(purchases == static_cast<double>(purchase_days.size()),
         "frequency + 1 summed over customers equals the distinct (customer, day) pairs");
}

/**
 * The CDNOW sample: customer 1 of the published summary is (2, 30.43, 38.86). Returns false
 * when the sample is absent (the check was skipped).
 */
bool cdnow(const std::filesystem::path& folder) {
  if (!data_file_present(folder, "CDNOW_sample.txt")) return false;
  const auto path = folder / "CDNOW_sample.txt";
  cd::csv_options options;
  options.header = false;
  options.delimiter = ' ';  // runs of spaces
  options.customer_id_col = cd::column_ref::at(1);
  options.datetime_col = cd::column_ref::at(2);
  options.monetary_value_col = cd::column_ref::at(4);
  const auto log = cd::read_transactions(path.string(), options);
  const auto summary = cd::summarize(log, {.freq = cd::period_unit::day,
                                           .freq_multiplier = 7,
                                           .observation_period_end = 875'577'600});  // 1997-09-30
  std::printf(
      "CDNOW: %zu rows, %zu customers; customer %lld: frequency %.0f, recency %.2f, "
      "T %.2f, monetary value %.2f\n",
      log.size(), summary.size(), static_cast<long long>(summary.customer[0]), summary.frequency[0],
      summary.recency[0], summary.T[0], summary.monetary_value[0]);
  expect(summary.size() == 2357, "2,357 CDNOW customers");
  expect(summary.customer[0] == 1 && summary.frequency[0] == 2, "customer 1 bought on 3 days");
  expect(std::abs(summary.recency[0] - 30.43) <= 0.005 && std::abs(summary.T[0] - 38.86) <= 0.005,
         "customer 1's recency and T match the published 30.43 and 38.86");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  simulated_log();
  const bool ran_cdnow = cdnow(argc > 1 ? argv[1] : "../shared/data");
  if (failures > 0) return 1;
  return ran_cdnow ? 0 : example_skipped;
}
