#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>

#include <boost/random/mersenne_twister.hpp>

/**
 * crmkit's random numbers, all in one place. Every seeded result in crmkit (simulated logs,
 * k-means starts, silhouette samples, bootstrap replicates) comes from one of two engines, each
 * written out or taken from Boost so that a seed gives the same numbers on every platform,
 * compiler and standard library:
 *
 * - `simulation_stream`: xoshiro256** with its own samplers (uniform, exponential, normal, gamma,
 *   beta), for the transaction simulator (`data::random_stream` is this type).
 * - `mt_engine`: MT19937-64 (Matsumoto & Nishimura 2000), for k-means and the silhouette through
 *   `uniform_stream` (`segment::random_stream`), and for the bootstrap with Boost's
 *   distributions (`survey::detail::bootstrap_engine`). Its output sequence is fixed by the C++
 *   standard ([rand.predef]), so Boost's and the standard library's engines agree bit for bit.
 *
 * **Seeding scheme.** Work that is split (by customer chunk, by bootstrap block, by group) draws
 * from streams named by a (seed, stream) pair, so the numbers do not depend on the thread count:
 * - `stream_seed(seed, stream)` = splitmix64_mix(seed + γ·(stream + 1)), γ = 0x9e3779b97f4a7c15
 *   (the golden-ratio increment of SplitMix64, Steele, Lea & Flood 2014), seeds one MT19937-64
 *   per stream; the bootstrap chains it: block b of stream s uses
 *   stream_seed(stream_seed(seed, s), b).
 * - `simulation_stream(seed, stream)` fills xoshiro's 256-bit state with SplitMix64 started at
 *   splitmix64_mix(seed) XOR splitmix64_mix(stream XOR 0x6a09e667f3bcc909).
 * - `uniform_stream(seed)` is one MT19937-64 seeded with `seed` itself.
 * These are part of crmkit's results: changing any of them changes seeded outputs, so they are
 * kept exactly as they are, and new code picks one of the facilities above instead of adding one.
 */
namespace crmkit::rng {

/** SplitMix64's output function (Steele, Lea & Flood 2014): a bijective 64-bit mixer. */
[[nodiscard]] constexpr std::uint64_t splitmix64_mix(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/** The seed of stream `stream` of `seed`: decorrelates the seeds of neighbouring streams. */
[[nodiscard]] constexpr std::uint64_t stream_seed(std::uint64_t seed,
                                                  std::uint64_t stream) noexcept {
  return splitmix64_mix(seed + 0x9e3779b97f4a7c15ULL * (stream + 1));
}

/** MT19937-64, Boost's implementation (its distributions are platform-independent too). */
using mt_engine = boost::random::mt19937_64;

/**
 * xoshiro256** (Blackman & Vigna 2021, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 47(4)) with its state filled by splitmix64 from a hash of (seed, stream), plus the
 * samplers the simulator needs. All samplers are written out here, so a seed gives the same
 * draws on every platform and standard library.
 */
class simulation_stream {
 public:
  simulation_stream(std::uint64_t seed, std::uint64_t stream) noexcept {
    std::uint64_t x = splitmix64_mix(seed) ^ splitmix64_mix(stream ^ 0x6a09e667f3bcc909ULL);
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
    return splitmix64_mix(x);
  }

  std::uint64_t state_[4];
};

/**
 * Uniform doubles from one MT19937-64 seeded with `seed`: `(bits >> 11) * 2^-53` in [0, 1).
 * The stream behind every seeded choice in crmkit::segment (k-means++ and random
 * initialisation, silhouette sampling).
 */
class uniform_stream {
 public:
  explicit uniform_stream(std::uint64_t seed) : engine_(seed) {}

  /** The next uniform draw in [0, 1), with 53 random bits. */
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /** The next raw 64-bit output (used to derive seeds). */
  std::uint64_t bits() { return engine_(); }

 private:
  mt_engine engine_;
};

}  // namespace crmkit::rng
