#pragma once

#include <vector>

#include "args.hpp"
#include "table.hpp"

/** `crmkit basket`: frequent itemsets and association rules of order lines. */
namespace crmkit::cli {

/** --order-col, --item-col, --quantity-col, thresholds and the rule filter. */
std::vector<option_spec> basket_options();

/** Rules (main table, mlxtend's columns), itemsets and the basket policy counts. */
command_output run_basket(const parsed_args& args);

}  // namespace crmkit::cli
