// NPS by customer value tier: survey answers joined to tiers computed from the transaction log.
//
// Reads <data>/example_transactions.csv (argv[1] is the shared data folder), puts each customer
// in a tier by number of purchases (one-time, repeat, loyal), simulates one 0-10 answer per
// customer whose chance of promoting rises with the tier, and reports the NPS of each tier with
// its adjusted-Wald interval and the significance of the loyal vs one-time gap. The program
// checks its own results and returns 1 if any check fails.
#include <crmkit/data/csv.hpp>
#include <crmkit/survey.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace survey = crmkit::survey;

namespace {

int failures = 0;

void check(bool condition, const char* what) {
  if (!condition) {
    std::printf("CHECK FAILED: %s\n", what);
    ++failures;
  }
}

// Purchases per customer, from the log if present, else a synthetic stand-in of 5,000 customers.
std::map<std::int64_t, int> purchases_per_customer(const std::filesystem::path& folder) {
  std::map<std::int64_t, int> purchases;
  const auto file = folder / "example_transactions.csv";
  if (std::filesystem::exists(file)) {
    crmkit::data::csv_options options;
    options.customer_id_col = "id";
    options.datetime_col = "date";
    for (const auto id : crmkit::data::read_transactions(file.string(), options).customer) {
      ++purchases[id];
    }
  } else {
    std::printf("%s not found: using synthetic customers\n", file.string().c_str());
    for (std::int64_t id = 0; id < 5000; ++id) purchases[id] = 1 + static_cast<int>(id % 6);
  }
  return purchases;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path folder = argc > 1 ? argv[1] : ".";
  const auto purchases = purchases_per_customer(folder);

  // Tiers as a segmentation step elsewhere in crmkit would label them; codes for the grouping.
  const std::array<const char*, 3> tier_names{"one-time", "repeat", "loyal"};
  const std::array<double, 3> promoter_chance{0.25, 0.40, 0.60};
  std::vector<std::int64_t> tier;
  std::vector<std::int64_t> score;
  std::mt19937_64 engine(2024);
  const auto uniform = [&] { return static_cast<double>(engine() >> 11) * 0x1.0p-53; };
  const auto pick = [&](std::int64_t low, int count) {
    return low + static_cast<std::int64_t>(count * uniform());
  };
  for (const auto& [id, count] : purchases) {
    const std::int64_t t = count == 1 ? 0 : (count <= 3 ? 1 : 2);
    const double u = uniform();
    const double p = promoter_chance[static_cast<std::size_t>(t)];
    tier.push_back(t);
    score.push_back(u < p ? pick(9, 2) : (u < p + 0.25 ? pick(7, 2) : pick(0, 7)));
  }

  survey::response_grouping by_tier;
  by_tier.codes = {tier};
  by_tier.levels = {3};
  const auto table = survey::aggregate_nps(std::span<const std::int64_t>(score), {}, by_tier);

  std::printf("%-9s %6s %7s %18s\n", "tier", "n", "NPS", "95% adjusted Wald");
  std::int64_t answers = 0;
  survey::nps_accumulator merged;
  for (std::size_t t = 0; t < 3; ++t) {
    const auto& cell = table.cells[t];
    std::printf("%-9s %6lld %7.1f   [%6.1f, %6.1f]\n", tier_names[t],
                static_cast<long long>(cell.n), cell.score, cell.ci.lower, cell.ci.upper);
    answers += cell.n;
    check(cell.ci.lower < cell.score && cell.score < cell.ci.upper, "interval brackets the NPS");
  }
  for (std::size_t i = 0; i < score.size(); ++i) merged(score[i]);

  const auto overall = survey::nps(std::span<const std::int64_t>(score));
  const auto& one_time = table.cells[0];
  const auto& loyal = table.cells[2];
  const auto gap = survey::compare_nps(
      {static_cast<double>(loyal.n), static_cast<double>(loyal.promoters),
       static_cast<double>(loyal.passives), static_cast<double>(loyal.detractors)},
      {static_cast<double>(one_time.n), static_cast<double>(one_time.promoters),
       static_cast<double>(one_time.passives), static_cast<double>(one_time.detractors)});
  std::printf("overall NPS %.1f from %lld answers; loyal - one-time = %.1f points, p = %.2g\n",
              overall.score, static_cast<long long>(overall.n), gap.difference, gap.p_value);

  check(answers == static_cast<std::int64_t>(purchases.size()), "every customer counted once");
  check(table.rows.bad == 0, "no invalid answers");
  std::int64_t promoters = 0;
  for (const auto& cell : table.cells) promoters += cell.promoters;
  check(promoters == merged.count(survey::nps_category::promoter) && promoters == overall.promoters,
        "tiers add up to the whole");
  check(loyal.score > one_time.score, "loyal customers promote more");
  check(gap.significant && gap.ci.lower > 0, "the loyal vs one-time gap is significant");
  return failures == 0 ? 0 : 1;
}
