#include <crmkit/basket.hpp>
#include <crmkit/core/memory.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "bindings.hpp"
#include "schema.hpp"

namespace crmkit::python {

std::vector<std::uint32_t> item_codes(const int64_array& codes, const char* argument) {
  auto out = memory::large_vector<std::uint32_t>(static_cast<std::size_t>(codes.size()));
  const auto in = as_span(codes);
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] < 0 || in[i] >= std::int64_t{0xffffffff}) {
      check::fail_at("basket", argument, i, in[i], "must be an item code in [0, 2^32 - 1)");
    }
    out[i] = static_cast<std::uint32_t>(in[i]);
  }
  return out;
}

namespace {

using namespace pybind11::literals;

std::vector<std::uint64_t> offsets_of(const int64_array& offsets) {
  const auto in = as_span(offsets);
  std::vector<std::uint64_t> out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] < 0) check::fail_at("basket", "offsets", i, in[i], "must be >= 0");
    out[i] = static_cast<std::uint64_t>(in[i]);
  }
  return out;
}

std::span<const std::int64_t> optional_int64(const std::optional<int64_array>& array) {
  return array ? as_span(*array) : std::span<const std::int64_t>{};
}

basket::basket_matrix baskets_of_lines(const int64_array& order, const int64_array& item,
                                       const std::optional<double_array>& quantity,
                                       const std::optional<int64_array>& customer,
                                       const std::optional<int64_array>& timestamp,
                                       const basket::basket_options& options) {
  const auto codes = item_codes(item, "item");
  const py::gil_scoped_release release;
  return basket::make_baskets({.order = as_span(order),
                               .item = codes,
                               .quantity = optional_span(quantity),
                               .customer = optional_int64(customer),
                               .timestamp = optional_int64(timestamp)},
                              options);
}

basket::customer_segments segments_of(const std::optional<int64_array>& customer,
                                      const std::optional<int64_array>& segment) {
  return {optional_int64(customer), optional_int64(segment)};
}

/**
 * Binds `name`: order lines with customers and times (and optional segments) to baskets, then
 * `offers(baskets, options, segments)` without the GIL — recommend and its evaluation.
 */
template <class Offers>
void def_offers(py::module_& module, const char* name, Offers offers, const char* doc) {
  module.def(
      name,
      [offers](const int64_array& order, const int64_array& item,
               const std::optional<double_array>& quantity, const int64_array& customer,
               const int64_array& timestamp, const basket::recommend_options& options,
               const std::optional<int64_array>& segment_customer,
               const std::optional<int64_array>& segment) {
        auto baskets = baskets_of_lines(order, item, quantity, customer, timestamp, {});
        return export_without_gil(
            [&] { return offers(baskets, options, segments_of(segment_customer, segment)); });
      },
      "order"_a, "item"_a, "quantity"_a, "customer"_a, "timestamp"_a, "options"_a,
      "segment_customer"_a = py::none(), "segment"_a = py::none(), doc);
}

}  // namespace

void register_basket(py::module_& module) {
  bind_struct<basket::basket_options>(module, "BasketOptions",
                                      "What makes a basket (crmkit::basket::basket_options).");
  bind_struct<basket::itemset_options>(
      module, "ItemsetOptions",
      "Thresholds of frequent_itemsets (crmkit::basket::itemset_options).");
  bind_struct<basket::recommend_options>(
      module, "RecommendOptions", "Options of recommend (crmkit::basket::recommend_options).");
  bind_struct<basket::basket_simulation_options>(
      module, "SimulationOptions",
      "Options of the basket simulator (crmkit::basket::basket_simulation_options).");
  module.attr("METRICS") = enum_names<basket::rule_metric>();
  module.attr("REASONS") = enum_names<basket::offer_reason>();
  module.attr("METHODS") = enum_names<basket::offer_method>();
  record_schema<basket::basket_simulation>(module, "BasketSimulation", {"simulate_baskets"});
  record_schema<basket::recommendation_table>(module, "RecommendationTable", {"recommend"});
  record_schema<basket::evaluation_table>(module, "EvaluationTable", {"evaluate_recommendations"});
  record_schema<basket::basket_matrix>(module, "BasketMatrix", {"make_baskets"});
  record_schema<basket::itemset_table>(module, "ItemsetTable",
                                       {"frequent_itemsets", "frequent_itemsets_csr"});
  record_schema<basket::rule_table>(module, "RuleTable", {"association_rules"});

  module.def(
      "make_baskets",
      [](const int64_array& order, const int64_array& item,
         const std::optional<double_array>& quantity, const std::optional<int64_array>& customer,
         const std::optional<int64_array>& timestamp, const basket::basket_options& options) {
        return export_result(baskets_of_lines(order, item, quantity, customer, timestamp, options));
      },
      "order"_a, "item"_a, "quantity"_a = py::none(), "customer"_a = py::none(),
      "timestamp"_a = py::none(), "options"_a = basket::basket_options{},
      "Order lines (item codes) to baskets (crmkit::basket::make_baskets): the fields of "
      "BasketMatrix.");

  module.def(
      "frequent_itemsets",
      [](const int64_array& order, const int64_array& item,
         const std::optional<double_array>& quantity, const std::optional<int64_array>& customer,
         const std::optional<int64_array>& timestamp, const basket::basket_options& basket_options,
         const basket::itemset_options& options) {
        auto baskets = baskets_of_lines(order, item, quantity, customer, timestamp, basket_options);
        return export_without_gil([&] { return basket::frequent_itemsets(baskets, options); });
      },
      "order"_a, "item"_a, "quantity"_a = py::none(), "customer"_a = py::none(),
      "timestamp"_a = py::none(), "basket_options"_a = basket::basket_options{},
      "options"_a = basket::itemset_options{},
      "Frequent itemsets of order lines (make_baskets, then crmkit::basket::frequent_itemsets): "
      "the fields of ItemsetTable. Use crmkit.fpgrowth.");

  module.def(
      "frequent_itemsets_csr",
      [](const int64_array& offsets, const int64_array& items, std::uint32_t item_count,
         const basket::itemset_options& options) {
        const auto starts = offsets_of(offsets);
        const auto codes = item_codes(items, "items");
        return export_without_gil([&] {
          return basket::frequent_itemsets(basket::baskets_from_csr(starts, codes, item_count),
                                           options);
        });
      },
      "offsets"_a, "items"_a, "item_count"_a, "options"_a = basket::itemset_options{},
      "Frequent itemsets of baskets given as a CSR matrix (row offsets, column codes), e.g. a "
      "one-hot table's nonzeros: the fields of ItemsetTable. Use crmkit.fpgrowth.");

  module.def(
      "association_rules",
      [](const int64_array& offsets, const int64_array& items, const double_array& support,
         const std::string& metric, double min_threshold, const int64_array& antecedent,
         const int64_array& consequent, bool support_only) {
        basket::itemset_table table;
        table.offsets = offsets_of(offsets);
        table.items = item_codes(items, "items");
        table.support.assign(support.data(), support.data() + support.size());
        if (table.offsets.empty() || table.offsets.front() != 0 ||
            table.offsets.back() != table.items.size()) {
          check::fail("association_rules", "offsets must run from 0 to the number of items");
        }
        basket::rule_options options{
            .metric = describe::parse<basket::rule_metric>(metric, "metric"),
            .min_threshold = min_threshold,
            .antecedent = item_codes(antecedent, "antecedent"),
            .consequent = item_codes(consequent, "consequent"),
            .support_only = support_only};
        return export_without_gil([&] { return basket::association_rules(table, options); });
      },
      "offsets"_a, "items"_a, "support"_a, "metric"_a = "confidence", "min_threshold"_a = 0.8,
      "antecedent"_a = int64_array(0), "consequent"_a = int64_array(0), "support_only"_a = false,
      "Association rules of itemsets given as CSR (offsets, item codes) with their supports "
      "(crmkit::basket::association_rules): the fields of RuleTable. Use "
      "crmkit.association_rules.");

  module.def(
      "simulate_baskets",
      [](const basket::basket_simulation_options& options) {
        return export_without_gil([&] { return basket::simulate_baskets(options); });
      },
      "options"_a = basket::basket_simulation_options{},
      "Simulated order lines with planted pairs, triples, repurchase cycles and segment tastes "
      "(crmkit::basket::simulate_baskets): the fields of BasketSimulation. Use "
      "crmkit.simulate_baskets.");

  def_offers(
      module, "recommend",
      [](const basket::basket_matrix& baskets, const basket::recommend_options& options,
         const basket::customer_segments& segments) {
        return basket::recommend(baskets, options, segments);
      },
      "Top-k offers per customer with reasons (crmkit::basket::recommend): the fields of "
      "RecommendationTable; reason codes index REASONS. Use crmkit.recommend.");
  def_offers(module, "evaluate_recommendations", &basket::evaluate_recommendations,
             "Time-split holdout of recommend against global popularity and personal frequency "
             "(crmkit::basket::evaluate_recommendations): the fields of EvaluationTable; method "
             "codes index METHODS. Use crmkit.evaluate_recommendations.");
}

}  // namespace crmkit::python
