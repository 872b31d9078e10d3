#include "crmkit/version.hpp"

namespace crmkit {

/** The version the library binary was built as (may differ from the headers in a mixed install). */
const char* built_version() noexcept { return version_string; }

}  // namespace crmkit
