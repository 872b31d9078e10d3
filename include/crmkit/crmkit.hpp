#pragma once

/** Everything crmkit offers, in one include. Area umbrellas: core, data, clv, segment, survey, lifecycle. */
#include "crmkit/core.hpp"
