#include <crmkit/core/memory.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <thread>
#include <vector>

namespace {

namespace memory = crmkit::memory;

constexpr std::size_t mib = std::size_t{1} << 20;

std::uintptr_t address(const void* data) {
  return reinterpret_cast<std::uintptr_t>(data);
}

}  // namespace

TEST_CASE("columns hold their values, small and large, and compare with std::vector") {
  memory::release_retained_blocks();
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, 3 * mib / 8}) {
    memory::column<double> column(size);
    std::iota(column.begin(), column.end(), 0.5);
    std::vector<double> expected(size);
    std::iota(expected.begin(), expected.end(), 0.5);
    CHECK(column == expected);
    CHECK(expected == column);
    if (size != 0) {
      expected.back() += 1;
      CHECK_FALSE(column == expected);
    }
    column.resize(size + 5, -1.0);  // a value given: set
    for (std::size_t i = size; i < size + 5; ++i) CHECK(column[i] == -1.0);
  }
  const memory::column<std::int64_t> large(mib);  // 8 MiB
  CHECK(address(large.data()) % memory::huge_page_bytes == 0);
}

TEST_CASE("a released large block is reused for the next column of its rounded size only") {
  memory::release_retained_blocks();
  REQUIRE(memory::retained_bytes() == 0);
  const void* first = nullptr;
  {
    memory::column<double> column(900'000);  // 7.2 MB: a block of 8 MiB
    first = column.data();
    column.back() = 1;
  }
  CHECK(memory::retained_bytes() == 8 * mib);
  {
    const memory::column<double> other_size(1'200'000);  // 9.6 MB: 10 MiB, a block of its own
    CHECK(other_size.data() != first);
    CHECK(memory::retained_bytes() == 8 * mib);
  }
  CHECK(memory::retained_bytes() == 18 * mib);
  const memory::column<std::int64_t> same_block(1'000'000);  // 8 MB: rounds to the kept 8 MiB
  CHECK(same_block.data() == first);
  CHECK(memory::retained_bytes() == 10 * mib);
  {
    const memory::column<double> small(1000);  // below 2 MiB: never kept
  }
  CHECK(memory::retained_bytes() == 10 * mib);
  memory::release_retained_blocks();
  CHECK(memory::retained_bytes() == 0);
}

TEST_CASE("at most retained_bytes_limit of released blocks are kept") {
  memory::release_retained_blocks();
  const std::size_t block = 24 * mib;
  std::vector<memory::column<char>> columns;
  const std::size_t count = memory::retained_bytes_limit / block + 2;
  for (std::size_t i = 0; i < count; ++i) columns.emplace_back(block);
  columns.clear();
  CHECK(memory::retained_bytes() == memory::retained_bytes_limit / block * block);
  CHECK(memory::retained_bytes() <= memory::retained_bytes_limit);
  memory::release_retained_blocks();
}

TEST_CASE("columns allocated and released from several threads keep their own values") {
  memory::release_retained_blocks();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int round = 0; round < 20; ++round) {
        memory::column<std::int64_t> column(
            static_cast<std::size_t>(300'000 + 100'000 * (round % 3)));
        std::fill(column.begin(), column.end(), t * 1000 + round);
        for (const std::int64_t value : column)
          failures[static_cast<std::size_t>(t)] += value != t * 1000 + round;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == std::vector<int>(4, 0));
  CHECK(memory::retained_bytes() <= memory::retained_bytes_limit);
  memory::release_retained_blocks();
}
