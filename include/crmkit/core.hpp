#pragma once

#include "crmkit/core/check.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/exact_sum.hpp"
#include "crmkit/core/limits.hpp"
#include "crmkit/core/memory.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/printable.hpp"
#include "crmkit/core/quantile.hpp"
#include "crmkit/core/radix_sort.hpp"
#include "crmkit/core/random.hpp"
#include "crmkit/core/suggest.hpp"
#include "crmkit/version.hpp"
