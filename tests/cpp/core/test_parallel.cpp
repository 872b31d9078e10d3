#include <crmkit/core/parallel.hpp>

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <string>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace {

struct thread_count_guard {
  std::size_t saved = crmkit::num_threads();
  ~thread_count_guard() { crmkit::set_num_threads(saved); }
};

// Values spanning many magnitudes, so floating-point addition order changes the sum's last bits.
std::vector<double> ill_conditioned_values(std::size_t n) {
  std::vector<double> values(n);
  std::uint64_t state = 12345;
  for (auto& value : values) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double unit = static_cast<double>(state >> 11) * 0x1.0p-53;
    value = std::ldexp(unit - 0.5, static_cast<int>(state % 60) - 30);
  }
  return values;
}

double chunked_sum(const std::vector<double>& values, std::size_t grain) {
  return crmkit::parallel_reduce(
      values.size(), 0.0,
      [&](std::size_t begin, std::size_t end) {
        double sum = 0;
        for (std::size_t i = begin; i < end; ++i) sum += values[i];
        return sum;
      },
      [](double total, double part) { return total + part; }, grain);
}

}  // namespace

TEST_CASE("parallel_reduce is bit-identical for 1, 2 and 8 threads") {
  thread_count_guard guard;
  const auto values = ill_conditioned_values(1'000'003);
  crmkit::set_num_threads(1);
  const double one = chunked_sum(values, 1000);
  crmkit::set_num_threads(2);
  const double two = chunked_sum(values, 1000);
  crmkit::set_num_threads(8);
  const double eight = chunked_sum(values, 1000);
  CHECK(std::bit_cast<std::uint64_t>(one) == std::bit_cast<std::uint64_t>(two));
  CHECK(std::bit_cast<std::uint64_t>(one) == std::bit_cast<std::uint64_t>(eight));

  // The reduction really is chunked: it differs from a left-to-right sum in the last bits for
  // these values, which is why the chunking must not depend on the thread count.
  double serial = 0;
  for (double value : values) serial += value;
  CHECK(one == doctest::Approx(serial).epsilon(1e-9));
}

TEST_CASE("parallel_for visits every index exactly once") {
  thread_count_guard guard;
  crmkit::set_num_threads(4);
  std::vector<int> visits(100'001, 0);
  crmkit::parallel_for(
      visits.size(),
      [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) ++visits[i];
      },
      777);
  for (int count : visits) REQUIRE(count == 1);
}

TEST_CASE("chunk boundaries depend on size and grain only") {
  CHECK(crmkit::chunk_count(0, 10) == 0);
  CHECK(crmkit::chunk_count(1, 10) == 1);
  CHECK(crmkit::chunk_count(10, 10) == 1);
  CHECK(crmkit::chunk_count(11, 10) == 2);
  CHECK(crmkit::chunk_count(5, 0) == 5);
}

TEST_CASE("the lowest failing chunk's exception reaches the caller whatever the thread count") {
  thread_count_guard guard;
  for (std::size_t threads : {1u, 2u, 8u}) {
    crmkit::set_num_threads(threads);
    auto failing = [] {
      crmkit::parallel_for(
          1000,
          [](std::size_t begin, std::size_t) {
            if (begin >= 300) throw std::runtime_error("chunk at " + std::to_string(begin));
          },
          100);
    };
    CHECK_THROWS_WITH_AS(failing(), "chunk at 300", std::runtime_error);
  }
}

TEST_CASE("nested loops run serially inside workers and still give the right answer") {
  thread_count_guard guard;
  crmkit::set_num_threads(4);
  const double total = crmkit::parallel_reduce(
      64, 0.0,
      [](std::size_t begin, std::size_t end) {
        double sum = 0;
        for (std::size_t i = begin; i < end; ++i) {
          sum += crmkit::parallel_reduce(
              10, 0.0, [](std::size_t b, std::size_t e) { return static_cast<double>(e - b); },
              [](double x, double y) { return x + y; }, 3);
        }
        return sum;
      },
      [](double x, double y) { return x + y; }, 8);
  CHECK(total == 640.0);
}

TEST_CASE("set_num_threads(0) restores the default") {
  thread_count_guard guard;
  crmkit::set_num_threads(3);
  CHECK(crmkit::num_threads() == 3);
  crmkit::set_num_threads(0);
  CHECK(crmkit::num_threads() >= 1);
}
