#include <crmkit/core/check.hpp>

#include <doctest/doctest.h>

#include <limits>
#include <vector>

TEST_CASE("errors carry the argument, the index and the value") {
  const std::vector<double> frequency{0, 2, -1, 3};
  CHECK_THROWS_WITH_AS(crmkit::check::all_nonnegative<double>("fit", "frequency", frequency),
                       "fit: frequency[2] = -1 must be finite and >= 0", std::invalid_argument);

  const std::vector<double> recency{1, std::numeric_limits<double>::quiet_NaN()};
  CHECK_THROWS_WITH_AS(crmkit::check::all_finite<double>("fit", "recency", recency),
                       "fit: recency[1] = nan must be finite", std::invalid_argument);

  CHECK_THROWS_WITH_AS(crmkit::check::same_size("fit", "frequency", 4, "T", 3),
                       "fit: frequency has 4 elements but T has 3; they must match",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(crmkit::check::positive("nps", "confidence", 0.0),
                       "nps: confidence = 0 must be positive and finite", std::invalid_argument);
  CHECK_NOTHROW(crmkit::check::all_positive<double>("fit", "T", std::vector<double>{1, 2}));
}

TEST_CASE("every crmkit error is catchable as crmkit::error and as its standard kind") {
  try {
    crmkit::check::not_empty("fit", "frequency", 0);
    FAIL("expected a throw");
  } catch (const crmkit::error& caught) {
    CHECK(std::string(caught.what()) == "fit: frequency is empty");
  }
  CHECK_THROWS_AS(throw crmkit::numerical_error("diverged"), std::runtime_error);
  const crmkit::parse_error parse("t.csv:3:2: column 'date': cannot read 'x'", "t.csv", 3, 2);
  CHECK(parse.line() == 3);
  CHECK(parse.column() == 2);
  CHECK(parse.file() == "t.csv");
}
