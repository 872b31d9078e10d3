#include <crmkit/core/parallel.hpp>

#include <doctest/doctest.h>

#include "data/bucket_rows.hpp"
#include "data/row_writers.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

// The grouping's scatter hands each chunk of the log a run of rows in every bucket (the runs of
// one bucket adjacent, chunk after chunk) and writes the chunk's rows through line_writer, whose
// staged blocks of cache lines go out with non-temporal stores while the partial lines at the
// ends of a run, shared with the neighbouring runs that other threads write, go out byte by byte.
// The reference here is the obvious placement, row by row, of the same rows at the same offsets.
namespace cdd = crmkit::data::detail;

namespace {

struct free_memory {
  void operator()(std::byte* memory) const noexcept { std::free(memory); }
};

/** One scatter: each chunk's rows as (bucket, row), and every run's first row. */
template <class Row>
struct scatter_plan {
  std::size_t buckets = 0, rows = 0;
  std::vector<std::vector<std::pair<std::size_t, Row>>> chunks;
  std::vector<std::uint32_t>
      first;  // chunk c's run in bucket b starts at row first[c * buckets + b]

  scatter_plan(std::size_t bucket_count, std::size_t chunk_count, std::size_t max_chunk_rows,
               std::uint64_t seed)
      : buckets(bucket_count), chunks(chunk_count), first(chunk_count * bucket_count) {
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<std::size_t> chunk_rows(0, max_chunk_rows);
    // A skewed choice of bucket, so that runs of every length occur, empty ones included.
    std::geometric_distribution<std::size_t> bucket_of(2.0 / static_cast<double>(buckets + 1));
    std::vector<std::uint32_t> count(chunk_count * buckets, 0);
    for (std::size_t c = 0; c < chunk_count; ++c) {
      for (std::size_t r = chunk_rows(random); r > 0; --r) {
        const std::size_t b = bucket_of(random) % buckets;
        Row row{};
        row.key = static_cast<decltype(row.key)>(random());
        row.amount = std::uniform_real_distribution<double>(-1e6, 1e6)(random);
        chunks[c].emplace_back(b, row);
        ++count[c * buckets + b];
      }
    }
    std::uint32_t running = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      for (std::size_t c = 0; c < chunk_count; ++c) {
        first[c * buckets + b] = running;
        running += count[c * buckets + b];
      }
    }
    rows = running;
  }

  /** The bytes of every row placed one by one (the reference). */
  [[nodiscard]] std::vector<std::byte> placed() const {
    std::vector<std::byte> out(rows * sizeof(Row));
    std::vector<std::uint32_t> next = first;
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      for (const auto& [b, row] : chunks[c])
        std::memcpy(out.data() + next[c * buckets + b]++ * sizeof(Row), &row, sizeof(Row));
    }
    return out;
  }

  /** The bytes written by `Writer`, the chunks in parallel, the rows from byte `shift` after a
   * block boundary, with a block of room before them (the writer's staged blocks are aligned
   * as in the grouping's 2 MiB-aligned storage). */
  template <class Writer>
  [[nodiscard]] std::vector<std::byte> written(std::size_t shift) const {
    constexpr std::size_t block = cdd::line_writer::block;
    const std::size_t bytes = rows * sizeof(Row);
    const std::size_t before = block + shift;
    std::unique_ptr<std::byte, free_memory> memory(static_cast<std::byte*>(
        std::aligned_alloc(block, (before + bytes + block) / block * block)));
    std::byte* const base = memory.get() + before;
    std::memset(memory.get(), 0x5a, before + bytes);
    crmkit::parallel_chunks(chunks.size(), 1, [&](std::size_t c, std::size_t, std::size_t) {
      std::vector<std::uint32_t> next(
          first.begin() + static_cast<std::ptrdiff_t>(c * buckets),
          first.begin() + static_cast<std::ptrdiff_t>((c + 1) * buckets));
      if constexpr (std::is_same_v<Writer, cdd::line_writer>) {
        cdd::line_writer writer(buckets);
        writer.start(base, next.data(), sizeof(Row));
        for (const auto& [b, row] : chunks[c]) writer.put(b, row);
        writer.finish();
      } else {
        cdd::plain_writer<Row> writer{reinterpret_cast<Row*>(base), next.data()};
        for (const auto& [b, row] : chunks[c]) writer.put(b, row);
        writer.finish();
      }
    });
    CHECK(std::all_of(memory.get(), base, [](std::byte b) { return b == std::byte{0x5a}; }));
    return {base, base + bytes};
  }
};

template <class Row>
void check_writers(std::size_t buckets, std::size_t chunks, std::size_t max_chunk_rows,
                   std::uint64_t seed) {
  const scatter_plan<Row> plan(buckets, chunks, max_chunk_rows, seed);
  const auto expected = plan.placed();
  // Row starts at every 4-byte offset of a cache line (narrow rows are 4-byte aligned in the
  // grouping's storage only per bucket; here every alignment of a run's first row occurs).
  for (std::size_t shift = 0; shift < 64; shift += 4) {
    CAPTURE(shift);
    CHECK(plan.template written<cdd::line_writer>(shift) == expected);
  }
  CHECK(plan.template written<cdd::plain_writer<Row>>(0) == expected);
}

}  // namespace

TEST_CASE("row writers: every row at its place, whatever the runs' lengths and alignments") {
  const std::size_t saved = crmkit::num_threads();
  for (const std::size_t threads : {1, 2, 3}) {
    CAPTURE(threads);
    crmkit::set_num_threads(threads);
    std::uint64_t seed = 1;
    for (const std::size_t buckets : {1, 2, 5, 40}) {
      CAPTURE(buckets);
      // Chunks of up to 3 rows (runs within one line), of up to 60 (runs within one staged
      // block), and of up to 4,000 (runs of many blocks, most lines streamed).
      for (const std::size_t max_chunk_rows : {3, 60, 4000}) {
        CAPTURE(max_chunk_rows);
        check_writers<cdd::narrow_row>(buckets, 17, max_chunk_rows, ++seed);
        check_writers<cdd::wide_row>(buckets, 17, max_chunk_rows, ++seed);
      }
    }
  }
  crmkit::set_num_threads(saved);
}
