#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>

/**
 * Seeded random streams for simulation. Each (seed, stream) pair names an independent stream, so
 * work split by customer (or by chunk) draws the same numbers whatever the thread count.
 */
namespace crmkit::data {

/**
 * xoshiro256** (Blackman & Vigna 2021, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 47(4)) with its state filled by splitmix64 from a hash of (seed, stream), plus the
 * samplers the simulator needs. All samplers are written out here, so a seed gives the same
 * draws on every platform and standard library.
 */
class random_stream {
 public:
  random_stream(std::uint64_t seed, std::uint64_t stream) noexcept {
    std::uint64_t x = mix(seed) ^ mix(stream ^ 0x6a09e667f3bcc909ULL);
    for (auto& word : state_) word = splitmix64(x);
  }

  /** The next 64 random bits. */
  std::uint64_t bits() noexcept {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t shifted = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= shifted;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  /** Uniform on [0, 1), 53 random bits. */
  double uniform() noexcept { return static_cast<double>(bits() >> 11) * 0x1.0p-53; }

  /** Uniform on (0, 1]: safe to take the logarithm of. */
  double uniform_positive() noexcept { return static_cast<double>((bits() >> 11) + 1) * 0x1.0p-53; }

  /** Exponential with the given rate (mean 1 / rate). */
  double exponential(double rate) noexcept { return -std::log(uniform_positive()) / rate; }

  /** Standard normal (Box-Muller, one draw per pair of uniforms). */
  double normal() noexcept {
    const double radius = std::sqrt(-2.0 * std::log(uniform_positive()));
    return radius * std::cos(2.0 * std::numbers::pi * uniform());
  }

  /**
   * The logarithm of a Gamma(shape, 1) draw: Marsaglia & Tsang (2000), "A simple method for
   * generating gamma variables", ACM TOMS 26(3), with the boost for shape < 1 (a Gamma(shape + 1)
   * draw times U^(1/shape)) applied on the log scale so tiny shapes do not underflow.
   */
  double log_gamma(double shape) noexcept {
    if (shape < 1) return log_gamma(shape + 1) + std::log(uniform_positive()) / shape;
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      const double x = normal();
      const double root = 1.0 + c * x;
      if (root <= 0) continue;
      const double v = root * root * root;
      const double u = uniform_positive();
      if (u < 1.0 - 0.0331 * (x * x) * (x * x) ||
          std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) {
        return std::log(d * v);
      }
    }
  }

  /** Gamma with the given shape and rate (mean shape / rate); may underflow to 0 for tiny shapes.
   */
  double gamma(double shape, double rate) noexcept { return std::exp(log_gamma(shape)) / rate; }

  /** Beta(a, b) as X / (X + Y) for X ~ Gamma(a), Y ~ Gamma(b), computed from their logarithms. */
  double beta(double a, double b) noexcept {
    const double log_x = log_gamma(a);
    const double log_y = log_gamma(b);
    return 1.0 / (1.0 + std::exp(log_y - log_x));
  }

 private:
  static std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    return mix(x);
  }
  static std::uint64_t mix(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t state_[4];
};

}  // namespace crmkit::data
