#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
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
