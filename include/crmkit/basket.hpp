#pragma once

/**
 * crmkit::basket: cross-sell — order lines into sparse baskets, frequent itemsets, association
 * rules (mlxtend's measures), per-customer offers with reasons and their holdout evaluation,
 * and a simulator with planted structure.
 */
#include "crmkit/basket/baskets.hpp"
#include "crmkit/basket/item_index.hpp"
#include "crmkit/basket/itemsets.hpp"
#include "crmkit/basket/rules.hpp"
#include "crmkit/basket/recommend.hpp"
#include "crmkit/basket/simulate.hpp"
