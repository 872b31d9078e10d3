#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// How the grouping's scatter (grouping.cpp) writes a chunk of rows into its runs of each bucket:
// `put(bucket, row)` for each row in input order, then `finish()`. Each chunk owns the run of
// every bucket it writes; neighbouring runs of one bucket are adjacent and belong to other
// chunks, written concurrently.
namespace crmkit::data::detail {

/**
 * A chunk's writes into its runs of bucket rows through a staged block of eight cache lines per
 * bucket, laid out as the block it mirrors: every line the chunk fills completely is written
 * with non-temporal stores (no read of the line before it is overwritten, no eviction of the
 * cache), and the partial lines at either end of a run with plain stores of the chunk's own
 * bytes (the neighbouring runs fill the rest).
 */
class line_writer {
 public:
  static constexpr std::size_t line = 64;
  static constexpr std::size_t block = 8 * line;

  explicit line_writer(std::size_t buckets) : stages_(buckets) {}

  /** Starts a chunk whose run in bucket b begins at `base + first[b] * row_bytes`. */
  void start(std::byte* base, const std::uint32_t* first, std::size_t row_bytes) {
    for (std::size_t b = 0; b < stages_.size(); ++b)
      stages_[b].at = stages_[b].run_begin = base + first[b] * row_bytes;
  }

  template <class Row>
  [[gnu::always_inline]] void put(std::size_t bucket, const Row& row) noexcept {
    static_assert(sizeof(Row) <= sizeof(stage::bytes) - block);
    stage& s = stages_[bucket];
    std::byte* const at = s.at;
    const std::size_t offset = reinterpret_cast<std::uintptr_t>(at) % block;
    std::memcpy(s.bytes + offset, &row, sizeof(Row));
    s.at = at + sizeof(Row);
    if (offset + sizeof(Row) < block) [[likely]]
      return;
    write_block(at - offset, s.bytes, s.run_begin);
    std::memcpy(s.bytes, s.bytes + block, offset + sizeof(Row) - block);
  }

  /** Writes the partial last block of every run; the chunk's rows are then all in place. */
  void finish() noexcept {
    for (const stage& s : stages_) {
      const std::size_t offset = reinterpret_cast<std::uintptr_t>(s.at) % block;
      if (offset == 0 || s.at == s.run_begin) continue;
      std::byte* const from = std::max(s.at - offset, s.run_begin);
      std::memcpy(from, s.bytes + (from - (s.at - offset)), static_cast<std::size_t>(s.at - from));
    }
#if defined(__SSE2__)
    _mm_sfence();
#endif
  }

 private:
  /** A bucket's staged block (and what of a row went beyond it), and where it goes in the run. */
  struct alignas(line) stage {
    std::byte bytes[block + 16];
    std::byte* at;  // the run's next byte
    std::byte* run_begin;
  };

  /** Writes a full staged block to `to`, except the bytes before the run. */
  [[gnu::noinline]] static void write_block(std::byte* to, const std::byte* from,
                                            std::byte* run_begin) noexcept {
    for (std::size_t k = 0; k < block; k += line) {
      if (to + k >= run_begin) {
        stream_line(to + k, from + k);
      } else if (to + k + line > run_begin) {
        const auto skip = static_cast<std::size_t>(run_begin - (to + k));
        std::memcpy(run_begin, from + k + skip, line - skip);
      }
    }
  }

  static void stream_line(std::byte* to, const std::byte* from) noexcept {
#if defined(__SSE2__)
    for (std::size_t k = 0; k < line; k += 16) {
      _mm_stream_si128(reinterpret_cast<__m128i*>(to + k),
                       _mm_load_si128(reinterpret_cast<const __m128i*>(from + k)));
    }
#else
    std::memcpy(to, from, line);
#endif
  }

  std::vector<stage> stages_;
};

/** Writes a chunk's rows straight into its runs: for many buckets with a few rows each. */
template <class Row>
struct plain_writer {
  Row* rows;
  std::uint32_t* next;  // the chunk's next row in each bucket

  [[gnu::always_inline]] void put(std::size_t bucket, const Row& row) noexcept {
    rows[next[bucket]++] = row;
  }
  void finish() noexcept {}
};

}  // namespace crmkit::data::detail
