#include <crmkit/core/suggest.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

TEST_CASE("edit distance: the textbook pairs, ignoring case") {
  // kitten -> sitting takes 3 edits (k->s, e->i, +g); flaw -> lawn takes 2 (Wagner & Fischer).
  CHECK(crmkit::edit_distance("kitten", "sitting") == 3);
  CHECK(crmkit::edit_distance("flaw", "lawn") == 2);
  CHECK(crmkit::edit_distance("", "abc") == 3);
  CHECK(crmkit::edit_distance("Customer_ID", "customer_id") == 0);
}

TEST_CASE("closest name: a likely typo is named, a distant word is not") {
  const std::vector<std::string> columns{"customer_id", "date", "amount"};
  CHECK(crmkit::closest_name("ammount", columns) == "amount");
  CHECK(crmkit::closest_name("custmer_id", columns) == "customer_id");
  CHECK(crmkit::closest_name("price", columns).empty());
  CHECK(crmkit::closest_name("x", std::vector<std::string>{}).empty());
}
