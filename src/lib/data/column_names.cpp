#include "crmkit/data/column_names.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"
#include "crmkit/data/read_records.hpp"

namespace crmkit::data {

namespace {

using namespace std::string_view_literals;

constexpr std::array customer_names{
    "customer_id"sv, "customer"sv, "customerid"sv, "cust_id"sv, "client_id"sv, "client"sv,
    "user_id"sv,     "user"sv,     "member_id"sv,  "account_id"sv, "buyer_id"sv, "id"sv};
constexpr std::array date_names{
    "date"sv,     "order_date"sv, "transaction_date"sv, "invoice_date"sv, "purchase_date"sv,
    "datetime"sv, "timestamp"sv,  "time"sv,             "created_at"sv,   "order_datetime"sv,
    "invoicedate"sv};
constexpr std::array amount_names{
    "amount"sv, "revenue"sv,        "sales"sv,        "value"sv, "order_value"sv,
    "total"sv,  "spend"sv,          "monetary_value"sv, "dollar_value"sv, "price"sv,
    "net_amount"sv, "gross_amount"sv};
constexpr std::array nps_names{"nps"sv,       "nps_score"sv, "score"sv,
                               "likelihood_to_recommend"sv, "recommend"sv, "ltr"sv};
constexpr std::array csat_names{"csat"sv, "csat_score"sv, "satisfaction"sv,
                                "satisfaction_score"sv};
constexpr std::array order_names{
    "order_id"sv,   "order"sv,          "order_no"sv,  "order_number"sv, "invoice"sv,
    "invoice_no"sv, "invoiceno"sv,      "invoice_id"sv, "transaction_id"sv, "basket_id"sv,
    "receipt_id"sv};
constexpr std::array product_names{"product_id"sv, "product"sv,    "item_id"sv,    "item"sv,
                                   "sku"sv,        "stockcode"sv,  "stock_code"sv, "article"sv,
                                   "article_id"sv, "product_code"sv};
constexpr std::array quantity_names{"quantity"sv, "qty"sv, "units"sv, "count"sv};
constexpr std::array survey_date_names{"date"sv,         "response_date"sv, "survey_date"sv,
                                       "answered_at"sv,  "submitted_at"sv,  "created_at"sv,
                                       "timestamp"sv,    "datetime"sv};

bool is_ascii_alphanumeric(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::span<const std::string_view> common_column_names(column_role role) noexcept {
  switch (role) {
    case column_role::customer: return customer_names;
    case column_role::date: return date_names;
    case column_role::amount: return amount_names;
    case column_role::nps: return nps_names;
    case column_role::csat: return csat_names;
    case column_role::order: return order_names;
    case column_role::product: return product_names;
    case column_role::quantity: return quantity_names;
    case column_role::survey_date: return survey_date_names;
  }
  return {};
}

std::string normalised_column_name(std::string_view name) {
  std::string normalised;
  normalised.reserve(name.size());
  for (const char c : name) {
    if (is_ascii_alphanumeric(c)) normalised.push_back(ascii_lower(c));
  }
  return normalised;
}

std::optional<std::size_t> find_common_column(std::span<const std::string> header,
                                              column_role role) {
  std::vector<std::string> normalised_header;
  normalised_header.reserve(header.size());
  for (const auto& name : header) normalised_header.push_back(normalised_column_name(name));
  for (const auto candidate : common_column_names(role)) {
    const std::string wanted = normalised_column_name(candidate);
    for (std::size_t i = 0; i < normalised_header.size(); ++i) {
      if (normalised_header[i] == wanted) return i;
    }
  }
  return std::nullopt;
}

std::vector<std::string> read_header(const std::string& path, char delimiter,
                                     std::size_t max_header_bytes) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw invalid_input(fmt::format("cannot read '{}': it is a directory", path));
  }
  using file_handle = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;
  const file_handle file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw invalid_input(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  // Grows the prefix read until it holds a whole first record: a second record has begun after
  // it, or the file has ended.
  std::string prefix;
  std::size_t wanted = std::min<std::size_t>(max_header_bytes, std::size_t{1} << 16);
  for (;;) {
    const std::size_t before = prefix.size();
    prefix.resize(wanted);
    const std::size_t count = std::fread(prefix.data() + before, 1, wanted - before, file.get());
    prefix.resize(before + count);
    if (std::ferror(file.get())) {
      throw invalid_input(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
    }
    const bool whole_file = prefix.size() < wanted;
    if (whole_file) {
      auto records = parse_records(prefix, delimiter, path, 1);
      if (records.fields.empty()) {
        throw invalid_input(fmt::format("{} is empty: it needs a header line", path));
      }
      return std::move(records.fields.front());
    }
    std::exception_ptr problem;
    try {
      auto records = parse_records(prefix, delimiter, path, 2);
      if (records.fields.size() == 2) return std::move(records.fields.front());
    } catch (const parse_error&) {
      problem = std::current_exception();  // perhaps a quoted field cut by the prefix's end
    }
    if (wanted >= max_header_bytes) {
      if (problem) std::rethrow_exception(problem);
      throw invalid_input(fmt::format("the first record of {} is longer than {} bytes", path,
                                      max_header_bytes));
    }
    wanted = std::min(max_header_bytes, wanted * 2);
  }
}

}  // namespace crmkit::data
