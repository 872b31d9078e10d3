// The pipeline's private fitting rows (src/lib/pipeline/whole_periods.hpp).
#include <crmkit/core/error.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pipeline/whole_periods.hpp"

namespace detail = crmkit::pipeline::detail;

TEST_CASE("fitting_patterns: an error on the columns names the fit being prepared") {
  // Columns that do not match `whole` take clv::transaction_patterns' path, which rejects a
  // recency above the age; the message must name the caller's fit, not fit_bg_nbd.
  const detail::whole_period_summaries whole;
  const std::vector<double> frequency{1, 2}, recency{3, 1}, age{2, 4};
  for (const std::string function : {"fit_pareto_nbd", "fit_mbg_nbd"}) {
    try {
      (void)detail::fitting_patterns(function, whole, 1.0, frequency, recency, age);
      FAIL("expected invalid_input");
    } catch (const crmkit::invalid_input& error) {
      const std::string message = error.what();
      CHECK(message.find(function) == 0);
      CHECK(message.find("fit_bg_nbd") == std::string::npos);
    }
  }
}
