#pragma once

#include <cstdint>
#include <random>

namespace crmkit::segment {

/**
 * The random stream behind every seeded choice in crmkit::segment (k-means++ and random
 * initialisation, silhouette sampling): `std::mt19937_64` seeded with `seed`, whose output
 * sequence the C++ standard fixes, turned into doubles in [0, 1) as `(bits >> 11) * 2^-53`.
 * The same seed therefore gives the same draws on every platform and compiler.
 */
class random_stream {
 public:
  explicit random_stream(std::uint64_t seed) : engine_(seed) {}

  /** The next uniform draw in [0, 1), with 53 random bits. */
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /** The next raw 64-bit output (used to derive seeds). */
  std::uint64_t bits() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace crmkit::segment
