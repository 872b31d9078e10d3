// Reads the CDNOW master file (whitespace-separated, with a header) and checks what the data's
// README says about it: 69,659 transactions of 23,570 customers, 80 of them with amount 0,
// dated 1997-01-01 .. 1998-06-30. Usage: example_read_cdnow <shared data folder>.
#include <crmkit/data/csv.hpp>
#include <crmkit/data/date_parse.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <folder holding CDNOW_master.txt>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path file = std::filesystem::path(argv[1]) / "CDNOW_master.txt";
  if (!std::filesystem::exists(file)) {
    std::printf("skipped: %s is absent\n", file.c_str());
    return 0;
  }

  crmkit::data::csv_options options;
  options.delimiter = crmkit::data::whitespace_delimiter;
  options.customer_id_col = "customer_id";
  options.datetime_col = "date";
  options.monetary_value_col = crmkit::data::column_ref("dollar_value");
  const crmkit::data::transaction_log log = crmkit::data::read_transactions(file.string(), options);

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
