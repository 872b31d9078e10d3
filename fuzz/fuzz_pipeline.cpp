// libFuzzer target: transaction log -> summary -> BG/NBD and Gamma-Gamma fits -> predictions.
// Each 6-byte record is one transaction: customer (1 byte), day offset (2 bytes, signed) and an
// amount code (3 bytes: mantissa and a decimal exponent, so amounts span 1e-30 .. 1e300 and both
// signs). The first byte picks the period unit and whether the first purchase counts.
// Invariants: rows are conserved (used + after the end = input), every summary value is finite
// (the input is), recency <= T, and whatever a fit returns predicts finite values with P(alive) in
// [0, 1]. Bad input and fits that cannot succeed must end in crmkit::error, never a wrong number.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crmkit/clv/bg_nbd.hpp"
#include "crmkit/clv/gamma_gamma.hpp"
#include "crmkit/clv/predict.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/data/summary.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr std::size_t record_bytes = 6;
constexpr std::size_t max_records = 256;
constexpr std::int64_t day_seconds = 86400;
constexpr std::int64_t first_day = 18262;  // 2020-01-01

bool all_finite(std::span<const double> values) {
  for (const double value : values) {
    if (!std::isfinite(value)) return false;
  }
  return true;
}

void predict_bg_nbd(const crmkit::data::customer_summary& summary) {
  const auto fit = crmkit::clv::fit_bg_nbd(summary.frequency, summary.recency, summary.T);
  CRMKIT_FUZZ_REQUIRE(std::isfinite(fit.log_likelihood));
  const auto alive = crmkit::clv::conditional_probability_alive(fit.params, summary.frequency,
                                                                summary.recency, summary.T);
  for (const double p : alive) CRMKIT_FUZZ_REQUIRE(p >= 0 && p <= 1);
  const std::vector<double> horizon{30};
  const auto expected = crmkit::clv::conditional_expected_number_of_purchases_up_to_time(
      fit.params, horizon, summary.frequency, summary.recency, summary.T);
  for (const double e : expected) CRMKIT_FUZZ_REQUIRE(std::isfinite(e) && e >= 0);
}

void predict_spend(const crmkit::data::customer_summary& summary) {
  std::vector<double> frequency;
  std::vector<double> monetary;
  for (std::size_t i = 0; i < summary.size(); ++i) {
    if (summary.frequency[i] > 0 && summary.monetary_value[i] > 0) {
      frequency.push_back(summary.frequency[i]);
      monetary.push_back(summary.monetary_value[i]);
    }
  }
  const auto fit = crmkit::clv::fit_gamma_gamma(frequency, monetary);
  for (std::size_t i = 0; i < frequency.size(); ++i) {
    const double profit =
        crmkit::clv::conditional_expected_average_profit(fit.params, frequency[i], monetary[i]);
    // +inf only where the model says so: px + q <= 1 (documented, with a fit warning).
    CRMKIT_FUZZ_REQUIRE(profit > 0 &&
                        (std::isfinite(profit) || fit.params.p * frequency[i] + fit.params.q <= 1));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 + record_bytes) return 0;
  const std::uint8_t selector = data[0];
  std::vector<std::int64_t> customer;
  std::vector<std::int64_t> timestamp;
  std::vector<double> amount;
  for (std::size_t at = 1; at + record_bytes <= size && customer.size() < max_records;
       at += record_bytes) {
    const std::uint8_t* record = data + at;
    customer.push_back(record[0]);
    const auto day = static_cast<std::int16_t>(record[1] | (record[2] << 8));
    timestamp.push_back((first_day + day) * day_seconds);
    const double mantissa = (static_cast<int>(record[3]) - 128) + record[4] / 256.0;
    const int exponent = static_cast<int>(record[5] % 68) * 5 - 30;
    amount.push_back(mantissa * std::pow(10.0, exponent));
  }

  crmkit::data::summary_options options;
  constexpr crmkit::data::period_unit units[] = {
      crmkit::data::period_unit::day, crmkit::data::period_unit::week,
      crmkit::data::period_unit::month, crmkit::data::period_unit::hour};
  options.freq = units[selector & 3U];
  options.include_first_transaction = (selector & 4U) != 0;

  crmkit::data::customer_summary summary;
  try {
    summary = crmkit::data::summarize(customer, timestamp, amount, options);
  } catch (const crmkit::error&) {
    return 0;
  }
  CRMKIT_FUZZ_REQUIRE(summary.rows_used + summary.rows_after_end == customer.size());
  CRMKIT_FUZZ_REQUIRE(all_finite(summary.frequency) && all_finite(summary.recency) &&
                      all_finite(summary.T) && all_finite(summary.monetary_value));
  double purchases = 0;
  for (std::size_t i = 0; i < summary.size(); ++i) {
    CRMKIT_FUZZ_REQUIRE(summary.frequency[i] >= 0 && summary.recency[i] >= 0);
    CRMKIT_FUZZ_REQUIRE(summary.recency[i] <= summary.T[i]);
    purchases += summary.frequency[i] + (options.include_first_transaction ? 0 : 1);
  }
  CRMKIT_FUZZ_REQUIRE(purchases <= static_cast<double>(summary.rows_used));
  if (options.include_first_transaction) return 0;

  try {
    predict_bg_nbd(summary);
  } catch (const crmkit::error&) {
  }
  try {
    predict_spend(summary);
  } catch (const crmkit::error&) {
  }
  return 0;
}
