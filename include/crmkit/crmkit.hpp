#pragma once

/**
 * Everything crmkit offers, in one include. The area umbrellas can be included on their own:
 * core (errors, checks, parallel loops), math, data, clv, survey, segment, lifecycle.
 */
#include "crmkit/basket.hpp"
#include "crmkit/clv.hpp"
#include "crmkit/core.hpp"
#include "crmkit/data.hpp"
#include "crmkit/lifecycle.hpp"
#include "crmkit/math.hpp"
#include "crmkit/segment.hpp"
#include "crmkit/survey.hpp"
