#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

/**
 * Memory for large working arrays, backed by transparent huge pages. Summarising 10^7 rows touches
 * hundreds of megabytes at random; with 4 KiB pages every access is a TLB miss and every first
 * touch a page fault (on virtual machines these cost tens of microseconds each). numpy madvises its
 * large arrays the same way. Where the kernel does not offer huge pages this changes nothing.
 */
namespace crmkit::memory {

inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

/** Asks for huge pages on the 2 MiB-aligned part of `[data, data + bytes)`. */
inline void prefer_huge_pages([[maybe_unused]] void* data,
                              [[maybe_unused]] std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const auto address = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t begin = (address + huge_page_bytes - 1) & ~(huge_page_bytes - 1);
  const std::uintptr_t end = (address + bytes) & ~(huge_page_bytes - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

/** Reserves room for `size` elements in `vector` on huge pages: pages are touched (and count in
 * the resident memory) only as the vector fills, so an upper bound costs nothing unused. */
template <class T>
void reserve_large(std::vector<T>& vector, std::size_t size) {
  vector.reserve(size);
  prefer_huge_pages(vector.data(), size * sizeof(T));
}

/** A `std::vector` of `size` copies of `value` whose storage asked for huge pages before use. */
template <class T>
std::vector<T> large_vector(std::size_t size, const T& value = T{}) {
  std::vector<T> vector;
  reserve_large(vector, size);
  vector.resize(size, value);
  return vector;
}

/**
 * Large result blocks released by `column_allocator` are kept for the next allocation of the same
 * size (rounded up to 2 MiB) instead of going back to the kernel: fresh memory costs a page fault
 * and the kernel's zeroing of every page, and on a virtual machine the host's own faults on top
 * (the five 7.2 MB columns of a summary of 900,000 customers: about 10 ms of an 80 ms call, in
 * 4 KiB or 2 MiB pages alike). At most `retained_bytes_limit` are kept, each block for at most 10 s
 * after its release (checked on every allocation and release), as jemalloc keeps dirty pages.
 */
inline constexpr std::size_t retained_bytes_limit = std::size_t{64} << 20;

/** Returns every kept block to the kernel. */
void release_retained_blocks() noexcept;
/** The bytes of released blocks kept now. */
[[nodiscard]] std::size_t retained_bytes() noexcept;

namespace detail {
/** A kept block of exactly `bytes` (a multiple of 2 MiB), or nullptr. */
[[nodiscard]] void* take_retained_block(std::size_t bytes) noexcept;
/** Keeps `block` of `bytes` (a multiple of 2 MiB) when there is room; false: not kept. */
[[nodiscard]] bool retain_block(void* block, std::size_t bytes) noexcept;
}  // namespace detail

/**
 * The allocator of crmkit's result columns (`column<T>`). Blocks of 2 MiB or more are
 * 2 MiB-aligned, on huge pages and reused (see retained_bytes_limit); `resize(n)` and
 * `column<T>(n)` default-initialise, so trivial elements are left unwritten until the pass that
 * fills them (pass a value to set them).
 */
template <class T>
struct column_allocator {
  using value_type = T;

  column_allocator() = default;
  template <class U>
  explicit(false) column_allocator(const column_allocator<U>&) noexcept {}

  [[nodiscard]] T* allocate(std::size_t size) {
    if (size > (std::size_t(-1) - huge_page_bytes) / sizeof(T)) throw std::bad_array_new_length();
    if (size * sizeof(T) < huge_page_bytes)
      return static_cast<T*>(::operator new(size * sizeof(T)));
    const std::size_t bytes = block_bytes(size);
    if (void* kept = detail::take_retained_block(bytes)) return static_cast<T*>(kept);
    void* memory = std::aligned_alloc(huge_page_bytes, bytes);
    if (memory == nullptr) throw std::bad_alloc();
    prefer_huge_pages(memory, bytes);
    return static_cast<T*>(memory);
  }
  void deallocate(T* data, std::size_t size) noexcept {
    if (size * sizeof(T) < huge_page_bytes) {
      ::operator delete(data);
    } else if (!detail::retain_block(data, block_bytes(size))) {
      std::free(data);
    }
  }
  template <class U>
  void construct(U* at) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(at)) U;
  }
  template <class U, class... Args>
  void construct(U* at, Args&&... args) {
    ::new (static_cast<void*>(at)) U(std::forward<Args>(args)...);
  }
  template <class U>
  bool operator==(const column_allocator<U>&) const noexcept {
    return true;
  }

 private:
  static std::size_t block_bytes(std::size_t size) noexcept {
    return (size * sizeof(T) + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
  }
};

/** A result column: a `std::vector` with crmkit's column_allocator. */
template <class T>
using column = std::vector<T, column_allocator<T>>;

/** Element-wise equality of a column and a `std::vector`. */
template <class T>
bool operator==(const column<T>& a, const std::vector<T>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

/** An uninitialised array of trivial `T`, 2 MiB-aligned and on huge pages. */
template <class T>
class huge_buffer {
 public:
  huge_buffer() = default;
  explicit huge_buffer(std::size_t size) : size_(size) {
    if (size == 0) return;
    const std::size_t bytes =
        (size * sizeof(T) + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
    void* memory = std::aligned_alloc(huge_page_bytes, bytes);
    if (memory == nullptr) throw std::bad_alloc();
    prefer_huge_pages(memory, bytes);
    data_.reset(static_cast<T*>(memory));
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] T* data() noexcept { return data_.get(); }
  [[nodiscard]] const T* data() const noexcept { return data_.get(); }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  struct release {
    void operator()(T* memory) const noexcept { std::free(memory); }
  };
  std::unique_ptr<T[], release> data_;
  std::size_t size_ = 0;
};

}  // namespace crmkit::memory
