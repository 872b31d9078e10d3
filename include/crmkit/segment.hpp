#pragma once

/**
 * crmkit::segment: k-means clustering (scikit-learn semantics, exact accelerated variants),
 * feature preparation and cluster profiles, cluster-quality scores, RFM scores and named
 * segments, value tiers.
 */
#include "crmkit/segment/features.hpp"
#include "crmkit/segment/kmeans.hpp"
#include "crmkit/segment/matrix.hpp"
#include "crmkit/segment/quality.hpp"
#include "crmkit/segment/random.hpp"
#include "crmkit/segment/rfm.hpp"
#include "crmkit/segment/rfm_rules.hpp"
#include "crmkit/segment/tiers.hpp"
