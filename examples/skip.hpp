#pragma once

#include <cstdio>
#include <filesystem>

/**
 * The exit code of an example that could not run because its reference data is absent.
 * examples/CMakeLists.txt maps it to CTest's SKIP_RETURN_CODE, so a missing file shows as
 * "Skipped" in ctest's summary, never as a pass (77 is the Automake convention).
 */
inline constexpr int example_skipped = 77;

/**
 * True when `folder / name` exists; otherwise says on stdout that the check is skipped. An empty
 * folder (no reference data configured) is absent data, not the current directory.
 */
inline bool data_file_present(const std::filesystem::path& folder, const char* name) {
  if (!folder.empty() && std::filesystem::exists(folder / name)) return true;
  std::printf("skipped: %s is absent from the reference data folder '%s'\n", name,
              folder.string().c_str());
  return false;
}
