// Built against an installed crmkit by the find_package_consumer test: simulate a log, summarise
// it, and check the summary against the simulation's own rows.
#include <crmkit/crmkit.hpp>
#include <crmkit/data.hpp>

#include <cstdio>
#include <set>
#include <utility>

int main() {
  namespace cd = crmkit::data;
  const auto simulated = cd::simulate_transactions({.customers = 2'000, .horizon = 52, .seed = 7});
  // Whole-week periods: the simulated time (in weeks) as seconds, then freq = week.
  std::vector<std::int64_t> seconds(simulated.size());
  std::set<std::pair<std::int64_t, std::int64_t>> purchase_weeks;
  for (std::size_t k = 0; k < simulated.size(); ++k) {
    seconds[k] = static_cast<std::int64_t>(simulated.time[k] * 604'800);
    purchase_weeks.emplace(simulated.customer[k],
                           cd::period_index(seconds[k], cd::period_unit::week));
  }
  const auto summary =
      cd::summarize(simulated.customer, seconds, simulated.amount, {.freq = cd::period_unit::week});
  std::size_t purchases = 0;
  for (const double frequency : summary.frequency)
    purchases += static_cast<std::size_t>(frequency) + 1;
  std::printf("crmkit %s: %zu rows, %zu customers, %zu purchase weeks\n", crmkit::version_string,
              simulated.size(), summary.size(), purchases);
  return summary.size() == 2'000 && purchases == purchase_weeks.size() ? 0 : 1;
}
