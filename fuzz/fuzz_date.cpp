// libFuzzer target: the date parsers. parse_iso_timestamp on the whole input, and date_format
// with a format taken from the input's first line applied to the rest. Every timestamp that is
// read must round-trip: civil time -> seconds -> civil time, and ISO text -> seconds -> text.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crmkit/core/error.hpp"
#include "crmkit/data/date_parse.hpp"
#include "fuzz_check.hpp"

namespace {

void require_round_trip(std::int64_t seconds) {
  const crmkit::data::civil_time civil = crmkit::data::civil_from_timestamp(seconds);
  const std::optional<std::int64_t> back = crmkit::data::to_timestamp(civil);
  CRMKIT_FUZZ_REQUIRE(back.has_value() && *back == seconds);
  const std::optional<std::int64_t> reparsed =
      crmkit::data::parse_iso_timestamp(crmkit::data::format_timestamp(seconds));
  CRMKIT_FUZZ_REQUIRE(reparsed.has_value() && *reparsed == seconds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto seconds = crmkit::data::parse_iso_timestamp(text)) require_round_trip(*seconds);

  const std::size_t line_end = text.find('\n');
  if (line_end == std::string_view::npos) return 0;
  try {
    const crmkit::data::date_format format{std::string(text.substr(0, line_end))};
    if (const auto seconds = format.parse(text.substr(line_end + 1))) require_round_trip(*seconds);
  } catch (const crmkit::invalid_input&) {
  }
  return 0;
}
