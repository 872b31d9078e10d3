// libFuzzer target: the CSV reader (crmkit::data::parse_transactions) on arbitrary bytes.
// The first byte picks the options (delimiter, header, bad-row policy, amount column, date
// format); the rest is the file. Bad input must end in crmkit::error; a log that is read must be
// consistent (equal column lengths, labels in range, finite amounts, every row kept or skipped),
// and the same (or the same error) when every row goes through the record scanner.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crmkit/core/error.hpp"
#include "crmkit/data/csv.hpp"
#include "data/read_csv_rows.hpp"
#include "fuzz_check.hpp"

namespace {

/** The log read with every row through the record scanner, or its error's message. */
std::optional<crmkit::data::transaction_log> scanned(std::string_view text,
                                                     const crmkit::data::csv_options& options,
                                                     std::string& error) {
  try {
    return crmkit::data::detail::parse_transactions(
        text, options, "fuzz", crmkit::data::detail::row_reading::record_scanner_only);
  } catch (const crmkit::error& caught) {
    error = caught.what();
    return std::nullopt;
  }
}

bool same_log(const crmkit::data::transaction_log& a, const crmkit::data::transaction_log& b) {
  if (a.customer != b.customer || a.customer_labels != b.customer_labels ||
      a.timestamp != b.timestamp || a.amount.size() != b.amount.size() ||
      a.skipped.size() != b.skipped.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.amount.size(); ++i) {
    if (std::bit_cast<std::uint64_t>(a.amount[i]) != std::bit_cast<std::uint64_t>(b.amount[i])) {
      return false;
    }
  }
  for (std::size_t i = 0; i < a.skipped.size(); ++i) {
    if (a.skipped[i].line != b.skipped[i].line || a.skipped[i].column != b.skipped[i].column ||
        a.skipped[i].reason != b.skipped[i].reason) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  crmkit::data::csv_options options;
  constexpr char delimiters[] = {',', ';', '\t', crmkit::data::whitespace_delimiter};
  options.delimiter = delimiters[selector & 3U];
  options.header = (selector & 4U) == 0;
  if (!options.header) {
    options.customer_id_col = crmkit::data::column_ref::at(0);
    options.datetime_col = crmkit::data::column_ref::at(1);
  }
  if ((selector & 8U) != 0) {
    options.monetary_value_col =
        options.header ? crmkit::data::column_ref("amount") : crmkit::data::column_ref::at(2);
  }
  const bool skip = (selector & 16U) != 0;
  options.on_bad_row = skip ? crmkit::data::bad_row_policy::skip : crmkit::data::bad_row_policy::error;
  if ((selector & 32U) != 0) options.date_format = "%d/%m/%Y";
  options.chunk_bytes = (selector & 64U) != 0 ? 16 : std::size_t{1} << 20;

  std::string scanned_error;
  const std::optional<crmkit::data::transaction_log> scanned_log =
      scanned(text, options, scanned_error);
  try {
    const crmkit::data::transaction_log log = crmkit::data::parse_transactions(text, options, "fuzz");
    CRMKIT_FUZZ_REQUIRE(scanned_log.has_value() && same_log(log, *scanned_log));
    CRMKIT_FUZZ_REQUIRE(log.timestamp.size() == log.size());
    CRMKIT_FUZZ_REQUIRE(log.amount.empty() || log.amount.size() == log.size());
    CRMKIT_FUZZ_REQUIRE(log.size() == 0 || options.monetary_value_col.has_value() == log.has_amount());
    CRMKIT_FUZZ_REQUIRE(skip || log.skipped.empty());
    CRMKIT_FUZZ_REQUIRE(std::all_of(log.amount.begin(), log.amount.end(),
                                    [](double amount) { return std::isfinite(amount); }));
    if (log.has_labels()) {
      for (const std::int64_t key : log.customer) {
        CRMKIT_FUZZ_REQUIRE(key >= 0 && static_cast<std::size_t>(key) < log.customer_labels.size());
      }
    }
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    CRMKIT_FUZZ_REQUIRE(log.size() + log.skipped.size() <= lines);
    for (const auto& skipped : log.skipped) {
      CRMKIT_FUZZ_REQUIRE(skipped.line >= 1 && skipped.line <= lines);
      CRMKIT_FUZZ_REQUIRE(skipped.reason.find('\n') == std::string::npos);
    }
  } catch (const crmkit::error& error) {
    CRMKIT_FUZZ_REQUIRE(std::string_view(error.what()).find('\n') == std::string_view::npos);
    CRMKIT_FUZZ_REQUIRE(!scanned_log.has_value() && scanned_error == error.what());
  }
  return 0;
}
