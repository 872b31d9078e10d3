#pragma once

#include "crmkit/core/random.hpp"

namespace crmkit::segment {

/**
 * The random stream behind every seeded choice in crmkit::segment (k-means++ and random
 * initialisation, silhouette sampling): MT19937-64 seeded with `seed` (crmkit/core/random.hpp).
 */
using random_stream = rng::uniform_stream;

}  // namespace crmkit::segment
