#include "crmkit/core/memory.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace crmkit::memory {
namespace {

using clock = std::chrono::steady_clock;
constexpr auto kept_for = std::chrono::seconds(10);

struct kept_block {
  void* block;
  std::size_t bytes;
  clock::time_point released;
};

/** The kept blocks, oldest first; every access under `lock`. */
class retained_blocks {
 public:
  void* take(std::size_t bytes) noexcept {
    const std::scoped_lock guard(lock_);
    drop_expired(clock::now());
    const auto found = std::find_if(blocks_.rbegin(), blocks_.rend(),
                                    [&](const kept_block& kept) { return kept.bytes == bytes; });
    if (found == blocks_.rend()) return nullptr;
    void* block = found->block;
    total_ -= bytes;
    blocks_.erase(std::next(found).base());
    return block;
  }

  bool keep(void* block, std::size_t bytes) noexcept {
    const std::scoped_lock guard(lock_);
    const auto now = clock::now();
    drop_expired(now);
    if (bytes > retained_bytes_limit - total_) return false;
    try {
      blocks_.push_back({block, bytes, now});
    } catch (...) {
      return false;
    }
    total_ += bytes;
    return true;
  }

  std::size_t bytes() noexcept {
    const std::scoped_lock guard(lock_);
    drop_expired(clock::now());
    return total_;
  }

  void release_all() noexcept {
    const std::scoped_lock guard(lock_);
    drop_expired(clock::time_point::max());
  }

 private:
  void drop_expired(clock::time_point now) noexcept {
    const bool every_block = now == clock::time_point::max();
    const auto expired = std::find_if(blocks_.begin(), blocks_.end(), [&](const kept_block& kept) {
      return !every_block && now - kept.released < kept_for;
    });
    for (auto at = blocks_.begin(); at != expired; ++at) {
      std::free(at->block);
      total_ -= at->bytes;
    }
    blocks_.erase(blocks_.begin(), expired);
  }

  std::mutex lock_;
  std::vector<kept_block> blocks_;
  std::size_t total_ = 0;
};

retained_blocks& kept() {
  static retained_blocks* blocks = new retained_blocks;  // never destroyed: used at exit
  return *blocks;
}

}  // namespace

void release_retained_blocks() noexcept {
  kept().release_all();
}

std::size_t retained_bytes() noexcept {
  return kept().bytes();
}

void* detail::take_retained_block(std::size_t bytes) noexcept {
  return kept().take(bytes);
}

bool detail::retain_block(void* block, std::size_t bytes) noexcept {
  return kept().keep(block, bytes);
}

}  // namespace crmkit::memory
