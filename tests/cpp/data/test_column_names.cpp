#include <crmkit/core/error.hpp>
#include <crmkit/data/column_names.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using crmkit::data::column_role;
using crmkit::data::find_common_column;
using crmkit::data::read_header;
using header_t = std::vector<std::string>;

class scratch_file {
 public:
  explicit scratch_file(std::string_view content)
      : path_(fs::temp_directory_path() /
              fmt::format("crmkit-test-header-{}.csv", std::random_device{}())) {
    std::ofstream(path_, std::ios::binary) << content;
  }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;
  ~scratch_file() {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("columns are found by their common names, case and punctuation ignored") {
  const header_t header{"Revenue", "Customer ID", "Invoice-Date", "SKU", "Qty"};
  CHECK(find_common_column(header, column_role::customer) == 1);
  CHECK(find_common_column(header, column_role::date) == 2);
  CHECK(find_common_column(header, column_role::amount) == 0);
  CHECK(find_common_column(header, column_role::product) == 3);
  CHECK(find_common_column(header, column_role::quantity) == 4);
  CHECK_FALSE(find_common_column(header, column_role::nps).has_value());
  CHECK_FALSE(find_common_column(header_t{}, column_role::customer).has_value());
}

TEST_CASE("the most preferred common name wins over the header's order") {
  // "id" is the last customer name in the list, "client" comes before it.
  CHECK(find_common_column(header_t{"id", "client"}, column_role::customer) == 1);
  // "date" is preferred to "timestamp" for a purchase date.
  CHECK(find_common_column(header_t{"timestamp", "DATE"}, column_role::date) == 1);
  // Two header names that normalise alike: the first.
  CHECK(find_common_column(header_t{"Customer_ID", "customer id"}, column_role::customer) == 0);
  // A name only containing a common name does not match it.
  CHECK_FALSE(find_common_column(header_t{"customer_id_old"}, column_role::customer).has_value());
}

TEST_CASE("normalised names keep ASCII letters and digits in lower case only") {
  CHECK(crmkit::data::normalised_column_name("Invoice Date (UTC)") == "invoicedateutc");
  CHECK(crmkit::data::normalised_column_name("Kunden-Nr. 2") == "kundennr2");
  CHECK(crmkit::data::normalised_column_name("顧客ID") == "id");
  CHECK(crmkit::data::normalised_column_name("") == "");
  for (const auto role : {column_role::customer, column_role::date, column_role::amount,
                          column_role::nps, column_role::csat, column_role::order,
                          column_role::product, column_role::quantity, column_role::survey_date}) {
    CHECK_FALSE(crmkit::data::common_column_names(role).empty());
  }
}

TEST_CASE("read_header reads the first record as the CSV reader does, and no further") {
  SUBCASE("byte-order mark, blank lines, quotes with a delimiter and a line break") {
    const scratch_file file("\xEF\xBB\xBF\n  \n\"Customer, ID\",\"Invoice\nDate\" , amount\n1,2,3\n");
    CHECK(read_header(file.path(), ',') == header_t{"Customer, ID", "Invoice\nDate", "amount"});
  }
  SUBCASE("a single line without a line end") {
    const scratch_file file("customer_id;date");
    CHECK(read_header(file.path(), ';') == header_t{"customer_id", "date"});
  }
  SUBCASE("a header longer than the first read, then one longer than the bound") {
    std::string header;
    for (int i = 0; i < 20000; ++i) header += fmt::format("column_{},", i);
    header += "last";
    const scratch_file file(header + "\n" + std::string(300000, 'x') + "\n");
    const auto read = read_header(file.path(), ',');
    REQUIRE(read.size() == 20001);
    CHECK(read.front() == "column_0");
    CHECK(read.back() == "last");
    CHECK_THROWS_AS(read_header(file.path(), ',', 4096), crmkit::invalid_input);
  }
  SUBCASE("an empty file, a missing file") {
    const scratch_file empty("\n\n");
    CHECK_THROWS_WITH_AS(read_header(empty.path(), ','), doctest::Contains("is empty"),
                         crmkit::invalid_input);
    CHECK_THROWS_AS(read_header(empty.path() + ".missing", ','), crmkit::invalid_input);
  }
  SUBCASE("an unterminated quote in a short file is a parse error at its line") {
    const scratch_file file("customer_id,\"date\n");
    CHECK_THROWS_AS(read_header(file.path(), ','), crmkit::parse_error);
  }
}
