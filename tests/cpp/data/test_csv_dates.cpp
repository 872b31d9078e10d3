#include <crmkit/data/date_parse.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>

// Reference timestamps were computed independently with Python's datetime module (proleptic
// Gregorian, no time zone): int((datetime(Y, M, D, h, m, s) - datetime(1970, 1,
// 1)).total_seconds()).

using crmkit::data::civil_from_days;
using crmkit::data::date_format;
using crmkit::data::days_from_civil;
using crmkit::data::days_in_month;
using crmkit::data::format_timestamp;
using crmkit::data::parse_iso_timestamp;

TEST_CASE("days_from_civil matches Python's datetime on known dates") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(1969, 12, 31) == -1);
  CHECK(days_from_civil(1997, 1, 1) == 9862);
  CHECK(days_from_civil(2000, 2, 29) == 11016);
  CHECK(days_from_civil(1600, 2, 29) == -135081);
  CHECK(days_from_civil(1, 1, 1) == -719162);
  CHECK(days_from_civil(9999, 12, 31) == 2932896);
}

TEST_CASE("days_from_civil counts every day once, and civil_from_days inverts it") {
  // Walk the calendar day by day from 1599-12-31 to 2401-01-01 with the month lengths of the
  // Gregorian rules (an independent calendar), checking the day number goes up by exactly one.
  std::int64_t year = 1599;
  unsigned month = 12;
  unsigned day = 31;
  std::int64_t expected = days_from_civil(year, month, day);
  std::int64_t mismatches = 0;
  while (year <= 2400) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const unsigned length = month == 2 ? (leap ? 29 : 28)
                            : (month == 4 || month == 6 || month == 9 || month == 11) ? 30
                                                                                      : 31;
    if (++day > length) {
      day = 1;
      if (++month > 12) {
        month = 1;
        ++year;
      }
    }
    ++expected;
    const auto back = civil_from_days(expected);
    if (days_from_civil(year, month, day) != expected || back.year != year || back.month != month ||
        back.day != day) {
      ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  CHECK(days_in_month(1900, 2) == 28);
  CHECK(days_in_month(2000, 2) == 29);
  CHECK(days_in_month(2023, 2) == 28);
  CHECK(days_in_month(2024, 2) == 29);
}

TEST_CASE("parse_iso_timestamp reads dates, compact dates and ISO datetimes") {
  CHECK(parse_iso_timestamp("1997-01-01") == 852076800);
  CHECK(parse_iso_timestamp("19970101") == 852076800);
  CHECK(parse_iso_timestamp("2000-02-29") == 951782400);
  CHECK(parse_iso_timestamp("2024-03-05T14:07:09") == 1709647629);
  CHECK(parse_iso_timestamp("2024-03-05 14:07:09") == 1709647629);
  CHECK(parse_iso_timestamp("2024-03-05T14:07:09Z") == 1709647629);
  CHECK(parse_iso_timestamp("2024-03-05T14:07") == 1709647629 - 9);
  CHECK(parse_iso_timestamp("2024-03-05 14:07Z") == 1709647629 - 9);
  // Fractions of a second are truncated (timestamps are whole seconds).
  CHECK(parse_iso_timestamp("2024-03-05T14:07:09.999") == 1709647629);
  CHECK(parse_iso_timestamp("2024-03-05T14:07:09.123456789Z") == 1709647629);
  CHECK(parse_iso_timestamp("1969-12-31T23:59:59") == -1);
  CHECK(parse_iso_timestamp("9999-12-31T23:59:59") == 253402300799);
  CHECK(parse_iso_timestamp("0001-01-01") == -62135596800);
}

TEST_CASE("parse_iso_timestamp rejects invalid calendar fields and other shapes") {
  for (const char* text : {"1997-13-01",
                           "1997-00-10",
                           "1997-02-29",
                           "1900-02-29",
                           "1996-02-30",
                           "1997-04-31",
                           "1997-01-00",
                           "19971301",
                           "19970230",
                           "1997-1-01",
                           "1997-01-1",
                           "97-01-01",
                           "1997/01/01",
                           "1997-01-01T24:00",
                           "1997-01-01T10:60",
                           "1997-01-01T10:00:60",
                           "1997-01-01T10",
                           "1997-01-01T1:00",
                           "1997-01-01 10:00+01:00",
                           "1997-01-01T10:00:00.",
                           "1997-01-01T10:00:00.1234567890",
                           "1997-01-01Z",
                           "1997-01-01T",
                           "1997-01-01x",
                           "1997-01-01T10:00:00ZZ",
                           "",
                           "abcd-ef-gh",
                           "1997010",
                           "199701011",
                           " 1997-01-01",
                           "-997-01-01"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_iso_timestamp(text).has_value());
  }
}

TEST_CASE("date_format reads strptime-style formats") {
  CHECK(date_format("%d/%m/%Y").parse("31/12/1997") == 883526400);
  CHECK(date_format("%d/%m/%Y").parse("5/2/1997") == 855100800);
  CHECK(date_format("%m/%d/%y").parse("02/05/97") == 855100800);
  // POSIX pivot: 00-68 are 2000-2068, 69-99 are 1969-1999.
  CHECK(date_format("%y-%m-%d").parse("68-01-01") == 3092601600);
  CHECK(date_format("%y-%m-%d").parse("69-01-01") == -31536000);
  CHECK(date_format("%d %b %Y").parse("05 Feb 1997") == 855100800);
  CHECK(date_format("%d %b %Y").parse("05 FEBRUARY 1997") == 855100800);
  CHECK(date_format("%Y%m%d").parse("19970205") == 855100800);
  CHECK(date_format("%Y-%m").parse("1997-12") == 880934400);
  CHECK(date_format("%Y-%m-%dT%H:%M:%S.%f").parse("2024-03-05T14:07:09.5") == 1709647629);
  CHECK(date_format("%H:%M:%S %d.%m.%Y").parse("14:07:09 05.03.2024") == 1709647629);
  CHECK(date_format("100%% %Y").parse("100% 1997") == 852076800);

  CHECK_FALSE(date_format("%d/%m/%Y").parse("31/13/1997").has_value());
  CHECK_FALSE(date_format("%d/%m/%Y").parse("29/02/1997").has_value());
  CHECK_FALSE(date_format("%d/%m/%Y").parse("31/12/1997 ").has_value());
  CHECK_FALSE(date_format("%d/%m/%Y").parse("31-12-1997").has_value());
  CHECK_FALSE(date_format("%d/%m/%Y").parse("31/12/97").has_value());
  CHECK_FALSE(date_format("%d %b %Y").parse("05 Fbr 1997").has_value());
  CHECK(date_format("%d/%m/%Y").text() == "%d/%m/%Y");
}

TEST_CASE("date_format rejects formats it cannot apply, naming them") {
  CHECK_THROWS_WITH_AS(date_format("%d/%m/%Q"),
                       "date_format '%d/%m/%Q' has the unsupported directive '%Q'",
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(date_format("%d/%m"), "date_format '%d/%m' has no year (%Y or %y)",
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(date_format("%Y%"), "date_format '%Y%' ends with a lone '%'",
                       crmkit::invalid_input);
}

TEST_CASE("format_timestamp writes dates and datetimes") {
  CHECK(format_timestamp(852076800) == "1997-01-01");
  CHECK(format_timestamp(1709647629) == "2024-03-05T14:07:09");
  CHECK(format_timestamp(-1) == "1969-12-31T23:59:59");
}

TEST_CASE("parse_iso_timestamp agrees with days_from_civil across the tabulated years and beyond") {
  // The fast path looks month starts up for 1900-2149; days_from_civil (checked above against a
  // day-by-day walk of the calendar) is the reference on both sides of the table's edges.
  std::int64_t mismatches = 0;
  for (std::int64_t days = days_from_civil(1898, 1, 1); days <= days_from_civil(2152, 12, 31);
       ++days) {
    const auto date = civil_from_days(days);
    const std::string text =
        fmt::format("{:04}-{:02}-{:02}T12:34:56", date.year, date.month, date.day);
    const std::string compact = fmt::format("{:04}{:02}{:02}", date.year, date.month, date.day);
    if (parse_iso_timestamp(text) != days * 86400 + 45296 ||
        parse_iso_timestamp(compact) != days * 86400) {
      ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  CHECK_FALSE(parse_iso_timestamp("2149-02-29").has_value());
  CHECK_FALSE(parse_iso_timestamp("2150-02-29").has_value());
  CHECK(parse_iso_timestamp("2148-02-29").has_value());
  CHECK(parse_iso_timestamp("2149-12-31") == days_from_civil(2149, 12, 31) * 86400);
  CHECK(parse_iso_timestamp("2150-01-01") == days_from_civil(2150, 1, 1) * 86400);
  CHECK(parse_iso_timestamp("1899-12-31") == days_from_civil(1899, 12, 31) * 86400);
}
