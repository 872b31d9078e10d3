#include <crmkit/core/describe.hpp>
#include <crmkit/core/error.hpp>
#include <crmkit/core/warning.hpp>

#include <fmt/format.h>

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace sample {

enum class colour { red, green, blue };

constexpr auto description(std::type_identity<colour>) {
  return crmkit::describe::enum_table<colour, 4>{"colour",
                                                 {{{colour::red, "red"},
                                                   {colour::green, "green"},
                                                   {colour::blue, "blue"},
                                                   {colour::red, "crimson"}}}};
}

struct options {
  double tolerance = 1e-6;
  int iterations = 10;
  colour paint = colour::green;
};

constexpr auto description(std::type_identity<options>) {
  namespace d = crmkit::describe;
  return std::tuple{d::field{"tolerance", &options::tolerance, "stop below this"},
                    d::field{"iterations", &options::iterations, "at most this many"},
                    d::field{"paint", &options::paint, "the colour"}};
}

}  // namespace sample

namespace describe = crmkit::describe;

TEST_CASE("describe: a struct's fields in order, read and written through their pointers") {
  static_assert(describe::described_struct<sample::options>);
  static_assert(!describe::described_struct<std::string>);
  static_assert(describe::field_count<sample::options> == 3);
  CHECK(describe::field_names<sample::options>() ==
        std::vector<std::string_view>{"tolerance", "iterations", "paint"});

  sample::options value;
  std::vector<std::string> docs;
  describe::for_each_field<sample::options>([&](const auto& field) {
    docs.emplace_back(field.doc);
    if constexpr (std::is_same_v<typename std::decay_t<decltype(field)>::member_type, int>) {
      field.get(value) = 42;
    }
  });
  CHECK(value.iterations == 42);
  CHECK(docs.front() == "stop below this");
}

TEST_CASE("describe: an enum's names, aliases and parse errors with a suggestion") {
  using sample::colour;
  static_assert(describe::described_enum<colour>);
  static_assert(describe::name_of(colour::blue) == "blue");
  static_assert(describe::name_of(colour::red) == "red");  // the first row, not the alias
  static_assert(describe::try_parse<colour>("crimson") == colour::red);
  CHECK(describe::names<colour>() == std::vector<std::string_view>{"red", "green", "blue"});
  CHECK(describe::parse<colour>("green") == colour::green);
  CHECK_THROWS_WITH_AS(describe::parse<colour>("gren"),
                       "colour: 'gren' is not one of 'red', 'green', 'blue' (did you mean 'green'?)",
                       crmkit::invalid_input);
  CHECK_THROWS_WITH_AS(describe::parse<colour>("purple", "paint"),
                       "paint: 'purple' is not one of 'red', 'green', 'blue'", crmkit::invalid_input);
}

TEST_CASE("describe: warning codes have one name each") {
  CHECK(describe::name_of(crmkit::warning_code::not_converged) == "not_converged");
  CHECK(describe::parse<crmkit::warning_code>("undefined_mean") ==
        crmkit::warning_code::undefined_mean);
  CHECK(describe::field_count<crmkit::warning> == 2);
}

TEST_CASE("describe: a computed field reads through its getter; warnings keep code and text") {
  struct pair_row {
    int low = 1;
    int high = 5;
  };
  const auto width = crmkit::describe::computed<pair_row>(
      "width", [](const pair_row& row) { return row.high - row.low; }, "high - low");
  static_assert(crmkit::describe::is_computed<decltype(width)>);
  CHECK(width.get(pair_row{}) == 4);

  crmkit::coded_warnings warnings;
  warnings.add(crmkit::warning_code::unchecked_model, "too few repeat buyers");
  CHECK(warnings.has(crmkit::warning_code::unchecked_model));
  CHECK_FALSE(warnings.has(crmkit::warning_code::not_converged));
  const std::vector<std::string> text = warnings;
  CHECK(text == std::vector<std::string>{"too few repeat buyers"});
  CHECK(fmt::format("{}", warnings.front()) == "too few repeat buyers");
}
