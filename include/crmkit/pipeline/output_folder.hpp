#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crmkit::pipeline {

/**
 * The report's own output folder (`--out`), the one rule of both front ends (`crmkit report`
 * in C++ and `crmkit.report.build_report` in Python):
 *
 * - a missing folder is created; an empty one is taken;
 * - a folder an earlier report wrote is recognised by its manifest (`.crmkit-report`, one
 *   relative path a line) and the files listed there are removed first, so no stale table of
 *   the earlier report stays; listed paths that are absolute or climb out with `..` are ignored;
 * - a non-empty folder without a manifest, a path that is a file, and a folder that cannot be
 *   made or written are refused with a one-line `invalid_input` naming `--out` and the path,
 *   so a user's files are never overwritten;
 * - `plan` lists the files the report is about to write in the manifest *before* any is written
 *   (so a report stopped half-way is still cleaned up by the next one) and refuses a file of
 *   that name the report did not write.
 */
class output_folder {
 public:
  static constexpr std::string_view manifest_name = ".crmkit-report";

  /** Claims `folder` for the report (see the class comment); throws `invalid_input`. */
  explicit output_folder(std::string folder);

  /**
   * Records `files` (paths relative to the folder, '/'-separated, e.g. "plots/x.png") in the
   * manifest and creates their subfolders; throws `invalid_input` if one already exists.
   */
  void plan(const std::vector<std::string>& files);

  /** The path of `file` (relative to the folder) to write. */
  [[nodiscard]] std::string path_of(std::string_view file) const;

  /** The folder as given. */
  [[nodiscard]] const std::string& folder() const noexcept { return folder_; }

  /** The files recorded by `plan`. */
  [[nodiscard]] const std::vector<std::string>& files() const noexcept { return files_; }

 private:
  void write_manifest() const;

  std::string folder_;
  std::vector<std::string> files_;
};

}  // namespace crmkit::pipeline
