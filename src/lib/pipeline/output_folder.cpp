#include "crmkit/pipeline/output_folder.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "crmkit/core/error.hpp"

namespace crmkit::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view manifest_header =
    "# crmkit report: the files it wrote into this folder (replaced or removed by the next "
    "report here)";

[[noreturn]] void fail_to_write(const std::string& folder, const std::error_code& failure) {
  throw invalid_input(
      fmt::format("cannot write the report into --out {}: {}", folder, failure.message()));
}

void check(const std::string& folder, const std::error_code& failure) {
  if (failure) fail_to_write(folder, failure);
}

/** A manifest line names a file of the folder: relative, never climbing out with "..". */
bool inside_folder(std::string name) {
  for (auto& c : name) {
    if (c == '\\') c = '/';
  }
  if (name.empty() || fs::path(name).is_absolute() || name.front() == '/') return false;
  for (std::size_t start = 0; start <= name.size();) {
    const auto end = std::min(name.find('/', start), name.size());
    if (name.compare(start, end - start, "..") == 0 && end - start == 2) return false;
    start = end + 1;
  }
  return true;
}

std::string trimmed(const std::string& line) {
  const auto first = line.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return line.substr(first, line.find_last_not_of(" \t\r\n") - first + 1);
}

/** The files an earlier report listed in the manifest of `folder`. */
std::vector<std::string> listed_files(const fs::path& folder) {
  std::ifstream manifest(folder / std::string(output_folder::manifest_name));
  std::vector<std::string> names;
  for (std::string line; std::getline(manifest, line);) {
    if (line.starts_with('#')) continue;
    auto name = trimmed(line);
    if (inside_folder(name)) names.push_back(std::move(name));
  }
  return names;
}

/** Removes the files of an earlier report and the subfolders left empty by that. */
void remove_listed(const std::string& folder) {
  const fs::path root(folder);
  std::error_code failure;
  for (const auto& name : listed_files(root)) {
    const auto path = root / name;
    const auto status = fs::symlink_status(path, failure);
    if (failure || !(fs::is_regular_file(status) || fs::is_symlink(status))) continue;
    fs::remove(path, failure);
    check(folder, failure);
    for (auto parent = path.parent_path(); parent != root && parent.has_relative_path();
         parent = parent.parent_path()) {
      if (!fs::is_directory(parent, failure) || !fs::is_empty(parent, failure)) break;
      fs::remove(parent, failure);
    }
  }
}

}  // namespace

output_folder::output_folder(std::string folder) : folder_(std::move(folder)) {
  std::error_code failure;
  const auto status = fs::status(folder_, failure);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw invalid_input(
        fmt::format("--out {} is a file, not a folder; name a new or empty folder", folder_));
  }
  fs::create_directories(folder_, failure);
  check(folder_, failure);
  const bool empty = fs::is_empty(folder_, failure);
  check(folder_, failure);
  if (!empty) {
    if (!fs::exists(fs::symlink_status(fs::path(folder_) / std::string(manifest_name)))) {
      throw invalid_input(fmt::format(
          "--out {} is not empty and holds no report of crmkit (no {} file): name a new or "
          "empty folder, so that none of your files is overwritten",
          folder_, manifest_name));
    }
    remove_listed(folder_);
  }
  write_manifest();
}

void output_folder::plan(const std::vector<std::string>& files) {
  std::error_code failure;
  for (const auto& name : files) {
    if (fs::exists(fs::symlink_status(path_of(name), failure))) {
      throw invalid_input(fmt::format(
          "--out {} already holds {}, which crmkit report did not write: move it away or name "
          "a new folder",
          folder_, name));
    }
  }
  files_.insert(files_.end(), files.begin(), files.end());
  write_manifest();
  for (const auto& name : files) {
    const auto parent = fs::path(path_of(name)).parent_path();
    fs::create_directories(parent, failure);
    check(folder_, failure);
  }
}

std::string output_folder::path_of(std::string_view file) const {
  return (fs::path(folder_) / fs::path(file)).string();
}

void output_folder::write_manifest() const {
  std::ofstream manifest(path_of(manifest_name), std::ios::binary | std::ios::trunc);
  if (manifest) {
    manifest << manifest_header << '\n';
    for (const auto& name : files_) manifest << name << '\n';
    manifest.flush();
  }
  if (!manifest) fail_to_write(folder_, std::error_code(errno ? errno : EIO, std::generic_category()));
}

}  // namespace crmkit::pipeline
