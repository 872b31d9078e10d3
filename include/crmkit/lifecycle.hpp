#pragma once

/**
 * crmkit::lifecycle: relationship lifecycle stages as of any date (with the rule that decided
 * each), stage histories and transition matrices, acquisition-cohort retention, funnel rates and
 * early warning of decline.
 */
#include "crmkit/lifecycle/cohort.hpp"
#include "crmkit/lifecycle/early_warning.hpp"
#include "crmkit/lifecycle/funnel.hpp"
#include "crmkit/lifecycle/migration.hpp"
#include "crmkit/lifecycle/stage.hpp"
