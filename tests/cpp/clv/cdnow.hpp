#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "shared_data.hpp"

/** The CDNOW summaries in the reference data folder (absent file: empty columns). */
namespace crmkit_test {

struct cdnow_columns {
  std::vector<double> x, t_x, T, zbar;
  [[nodiscard]] bool empty() const { return x.empty(); }
};

/** Reads ID,x,t_x,T[,zbar] (CRLF or LF) from the shared data directory. */
inline cdnow_columns read_cdnow(const std::string& file) {
  cdnow_columns columns;
  std::ifstream in(shared_data_dir / file);
  if (!in) return columns;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream fields(line);
    std::string cell;
    std::vector<double> values;
    while (std::getline(fields, cell, ',')) values.push_back(std::stod(cell));
    columns.x.push_back(values.at(1));
    columns.t_x.push_back(values.at(2));
    columns.T.push_back(values.at(3));
    if (values.size() > 4) columns.zbar.push_back(values[4]);
  }
  return columns;
}

}  // namespace crmkit_test
