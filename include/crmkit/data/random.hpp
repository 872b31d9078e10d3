#pragma once

#include "crmkit/core/random.hpp"

namespace crmkit::data {

/**
 * The simulator's seeded streams: each (seed, stream) pair names an independent stream, so work
 * split by customer (or by chunk) draws the same numbers whatever the thread count. The engine
 * and its seeding are documented in crmkit/core/random.hpp.
 */
using random_stream = rng::simulation_stream;

}  // namespace crmkit::data
