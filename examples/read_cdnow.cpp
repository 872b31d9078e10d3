// Reads the CDNOW master file (whitespace-separated, with a header) and checks what the data's
// README says about it: 69,659 transactions of 23,570 customers, 80 of them with amount 0,
// dated 1997-01-01 .. 1998-06-30. Usage: example_read_cdnow <shared data folder>.
#include <crmkit/data/date_parse.hpp>

#include "cdnow.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>

int main(int argc, char** argv) {
  int exit_code = 0;
  const auto cdnow = read_cdnow_master(argc, argv, exit_code);
  if (!cdnow) return exit_code;
  const crmkit::data::transaction_log& log = *cdnow;

  const std::set<std::int64_t> customers(log.customer.begin(), log.customer.end());
  const auto zero_amounts = std::count(log.amount.begin(), log.amount.end(), 0.0);
  const auto [first, last] = std::minmax_element(log.timestamp.begin(), log.timestamp.end());
  const std::string first_date = crmkit::data::format_timestamp(*first);
  const std::string last_date = crmkit::data::format_timestamp(*last);
  std::printf("%zu transactions of %zu customers, %td with amount 0, from %s to %s\n", log.size(),
              customers.size(), zero_amounts, first_date.c_str(), last_date.c_str());

  const bool as_documented = log.size() == 69659 && customers.size() == 23570 &&
                             zero_amounts == 80 && first_date == "1997-01-01" &&
                             last_date == "1998-06-30" && log.skipped.empty();
  if (!as_documented) std::fprintf(stderr, "unexpected: the README documents other numbers\n");
  return as_documented ? 0 : 1;
}
