#pragma once

#include "crmkit/core/memory.hpp"

// The data area's short names for crmkit/core/memory.hpp.
namespace crmkit::data::detail {

using memory::huge_buffer;
using memory::huge_page_bytes;
using memory::large_vector;
using memory::prefer_huge_pages;

}  // namespace crmkit::data::detail
