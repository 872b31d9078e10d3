#pragma once

#define CRMKIT_VERSION_MAJOR 0
#define CRMKIT_VERSION_MINOR 1
#define CRMKIT_VERSION_PATCH 0

namespace crmkit {

/** The library version as "major.minor.patch". */
inline constexpr const char* version_string = "0.1.0";

}  // namespace crmkit
