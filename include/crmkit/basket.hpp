#pragma once

/**
 * crmkit::basket: cross-sell — order lines into sparse baskets, frequent itemsets, association
 * rules (mlxtend's measures).
 */
#include "crmkit/basket/baskets.hpp"
#include "crmkit/basket/item_index.hpp"
#include "crmkit/basket/itemsets.hpp"
#include "crmkit/basket/rules.hpp"
