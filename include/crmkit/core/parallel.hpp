#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "crmkit/core/error.hpp"

/**
 * The one parallel facility of crmkit. Work is cut into chunks whose boundaries depend only on
 * the problem size and the grain (never on the thread count); partial results are combined in
 * chunk order. Any associative-in-exact-arithmetic reduction therefore gives bit-identical
 * results for 1, 2 or 64 threads.
 *
 * The thread count comes from `set_num_threads`, else the environment variable
 * `CRMKIT_NUM_THREADS`, else `std::thread::hardware_concurrency()`. Calls made from inside a
 * worker run serially, so nested loops never oversubscribe.
 */
namespace crmkit {

namespace detail {

inline std::size_t threads_from_environment() {
  if (const char* text = std::getenv("CRMKIT_NUM_THREADS")) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end != text && *end == '\0' && value > 0) return static_cast<std::size_t>(value);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

inline std::atomic<std::size_t>& thread_setting() {
  static std::atomic<std::size_t> setting{threads_from_environment()};
  return setting;
}

inline bool& inside_worker() {
  thread_local bool inside = false;
  return inside;
}

}  // namespace detail

/** Default number of loop iterations per chunk. */
inline constexpr std::size_t default_grain = 8192;

/** The number of threads parallel loops use. */
inline std::size_t num_threads() { return detail::thread_setting().load(); }

/**
 * Sets the number of threads parallel loops use; 0 restores the default (environment variable
 * `CRMKIT_NUM_THREADS`, else the hardware concurrency).
 */
inline void set_num_threads(std::size_t count) {
  detail::thread_setting().store(count == 0 ? detail::threads_from_environment() : count);
}

/** Number of chunks `[0, n)` is cut into for a given grain (at least one for n > 0). */
inline std::size_t chunk_count(std::size_t n, std::size_t grain = default_grain) {
  grain = std::max<std::size_t>(grain, 1);
  return (n + grain - 1) / grain;
}

/**
 * Calls `body(chunk, begin, end)` for every chunk of `[0, n)`, in parallel. Chunk `c` covers
 * `[c * grain, min(n, (c + 1) * grain))`. Every chunk runs even when one throws; the exception
 * of the lowest failing chunk is rethrown on the calling thread, so errors are deterministic too.
 */
template <class Body>
void parallel_chunks(std::size_t n, std::size_t grain, Body&& body) {
  grain = std::max<std::size_t>(grain, 1);
  const std::size_t chunks = chunk_count(n, grain);
  if (chunks == 0) return;
  const std::size_t workers = detail::inside_worker() ? 1 : std::min(num_threads(), chunks);
  auto run_chunk = [&](std::size_t chunk) {
    const std::size_t begin = chunk * grain;
    body(chunk, begin, std::min(n, begin + grain));
  };
  if (workers <= 1) {
    for (std::size_t chunk = 0; chunk < chunks; ++chunk) run_chunk(chunk);
    return;
  }

  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> failures(chunks);
  auto work = [&] {
    detail::inside_worker() = true;
    for (std::size_t chunk = next++; chunk < chunks; chunk = next++) {
      try {
        run_chunk(chunk);
      } catch (...) {
        failures[chunk] = std::current_exception();
      }
    }
    detail::inside_worker() = false;
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  try {
    for (std::size_t i = 1; i < workers; ++i) pool.emplace_back(work);
  } catch (const std::system_error&) {
    // Fewer threads than asked for still gives the same answer; carry on with what started.
  }
  work();
  for (auto& thread : pool) thread.join();
  for (auto& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
}

/** Calls `body(begin, end)` over chunks of `[0, n)` in parallel. */
template <class Body>
void parallel_for(std::size_t n, Body&& body, std::size_t grain = default_grain) {
  parallel_chunks(n, grain, [&](std::size_t, std::size_t begin, std::size_t end) {
    body(begin, end);
  });
}

/**
 * Deterministic reduction: `map(begin, end)` computes one chunk's partial result, and the
 * partials are folded left to right with `combine(accumulated, partial)`, starting from
 * `identity`. The answer does not depend on the thread count.
 */
template <class T, class Map, class Combine>
T parallel_reduce(std::size_t n, T identity, Map&& map, Combine&& combine,
                  std::size_t grain = default_grain) {
  std::vector<T> partials(chunk_count(n, grain), identity);
  parallel_chunks(n, grain, [&](std::size_t chunk, std::size_t begin, std::size_t end) {
    partials[chunk] = map(begin, end);
  });
  T result = std::move(identity);
  for (auto& partial : partials) result = combine(std::move(result), std::move(partial));
  return result;
}

}  // namespace crmkit
