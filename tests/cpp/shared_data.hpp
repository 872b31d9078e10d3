#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <initializer_list>

/**
 * The reference data folder (CDNOW, donations; CMake's CRMKIT_SHARED_DATA_DIR) and the decorator
 * for test cases that need it. A case whose files are absent is skipped and counted as skipped
 * in doctest's summary (and named on stderr), never passed silently; run with --no-skip and it
 * fails on the missing file.
 */
namespace crmkit_test {

inline const std::filesystem::path shared_data_dir{CRMKIT_SHARED_DATA_DIR};

/** doctest::skip(true) unless every file is in shared_data_dir: `TEST_CASE("..." *
 * needs_data(...))`. */
inline doctest::skip needs_data(std::initializer_list<const char*> files) {
  for (const char* file : files) {
    if (shared_data_dir.empty() || !std::filesystem::exists(shared_data_dir / file)) {
      std::fprintf(stderr,
                   "skipping a test case: %s is absent from the reference data folder '%s'\n", file,
                   shared_data_dir.string().c_str());
      return doctest::skip(true);
    }
  }
  return doctest::skip(false);
}

}  // namespace crmkit_test
