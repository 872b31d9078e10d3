#pragma once

#include "crmkit/core/check.hpp"
#include "crmkit/core/describe.hpp"
#include "crmkit/core/error.hpp"
#include "crmkit/core/parallel.hpp"
#include "crmkit/core/suggest.hpp"
#include "crmkit/core/warning.hpp"
#include "crmkit/version.hpp"
