// The CDNOW sample summarised for the 39 weeks to 1997-09-30 (daily periods, weekly units) must
// reproduce the published calibration summary (Fader, Hardie & Lee 2005; the files in
// ../shared/data, values rounded to 0.01).
#include <crmkit/data/summary.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "shared_data.hpp"

namespace cd = crmkit::data;

namespace {

const std::filesystem::path& data_dir = crmkit_test::shared_data_dir;

std::int64_t seconds_of(int yyyymmdd) {
  using namespace std::chrono;
  const year_month_day date{year{yyyymmdd / 10'000},
                            month{static_cast<unsigned>(yyyymmdd / 100 % 100)},
                            day{static_cast<unsigned>(yyyymmdd % 100)}};
  REQUIRE(date.ok());
  return sys_days{date}.time_since_epoch().count() * 86'400;
}

/** CDNOW_sample.txt: "master id, customer id, YYYYMMDD, CDs, dollars", whitespace-separated. */
cd::transaction_log read_cdnow_sample() {
  std::ifstream file(data_dir / "CDNOW_sample.txt");
  REQUIRE(file.good());
  cd::transaction_log log;
  long master = 0, customer = 0, cds = 0;
  int date = 0;
  double dollars = 0;
  while (file >> master >> customer >> date >> cds >> dollars) {
    log.customer.push_back(customer);
    log.timestamp.push_back(seconds_of(date));
    log.amount.push_back(dollars);
  }
  REQUIRE(file.eof());
  return log;
}

/** A CSV with a header line, first column an integer id: id -> the other columns. */
std::map<std::int64_t, std::vector<double>> read_reference(const std::string& name) {
  std::ifstream file(data_dir / name);
  REQUIRE(file.good());
  std::map<std::int64_t, std::vector<double>> rows;
  std::string line;
  std::getline(file, line);
  while (std::getline(file, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // the file has CRLF endings
    if (line.empty()) continue;
    std::stringstream fields(line);
    std::string field;
    std::getline(fields, field, ',');
    const std::int64_t id = std::stoll(field);
    while (std::getline(fields, field, ',')) rows[id].push_back(std::stod(field));
  }
  return rows;
}

}  // namespace

TEST_CASE("CDNOW sample: frequency, recency, T and zbar of all 2,357 customers" *
          crmkit_test::needs_data({"CDNOW_sample.txt",
                                   "cdnow_customers_summary_with_transactions.csv"})) {
  const cd::transaction_log log = read_cdnow_sample();
  REQUIRE(log.size() == 6'919);
  const auto summary = cd::summarize(log, {.freq = cd::period_unit::day,
                                           .freq_multiplier = 7,
                                           .observation_period_end = seconds_of(19970930)});
  const auto published = read_reference("cdnow_customers_summary.csv");
  const auto with_spend = read_reference("cdnow_customers_summary_with_transactions.csv");
  REQUIRE(published.size() == 2'357);
  REQUIRE(with_spend.size() == 2'357);
  REQUIRE(summary.size() == 2'357);
  CHECK(summary.customers_after_end == 0);  // the sample is the 1997-Q1 cohort

  // Published values are rounded to 0.01, so agreement means |ours - published| <= 0.005
  // (plus a hair for the decimal representation of the rounded value).
  constexpr double half_cent = 0.005 + 1e-9;
  for (std::size_t j = 0; j < summary.size(); ++j) {
    const std::int64_t id = summary.customer[j];
    CAPTURE(id);
    const auto& row = published.at(id);     // frequency, recency, T
    const auto& spend = with_spend.at(id);  // x, t_x, T, zbar
    REQUIRE(summary.frequency[j] == row[0]);
    REQUIRE(std::abs(summary.recency[j] - row[1]) <= half_cent);
    REQUIRE(std::abs(summary.T[j] - row[2]) <= half_cent);
    REQUIRE(summary.frequency[j] == spend[0]);
    // zbar is the mean over repeat purchase *days* (same-day transactions summed): 112
    // customer-days to 1997-09-30 hold two or more transactions, and averaging transactions
    // instead misses the published zbar of 51 customers.
    REQUIRE(std::abs(summary.monetary_value[j] - spend[3]) <= half_cent);
  }
}
