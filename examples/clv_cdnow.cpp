// Customer lifetime value on the CDNOW sample (FHL 2005): fit BG/NBD and Gamma-Gamma, then rank
// customers by their 12-month discounted value. Usage: example_clv_cdnow <shared data dir>.
// Checks its own output against the published estimates; exits non-zero on a mismatch.

#include <crmkit/clv.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "skip.hpp"

namespace {

struct table {
  std::vector<double> x, t_x, T, spend;
};

table read_summary(const std::filesystem::path& file) {
  table out;
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);  // ID,x,t_x,T,zbar
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream fields(line);
    std::string cell;
    std::vector<double> values;
    while (std::getline(fields, cell, ',')) values.push_back(std::stod(cell));
    out.x.push_back(values[1]);
    out.t_x.push_back(values[2]);
    out.T.push_back(values[3]);
    out.spend.push_back(values[4]);
  }
  return out;
}

bool near(double actual, double expected, double relative) {
  return std::fabs(actual - expected) <= relative * std::fabs(expected);
}

}  // namespace

int main(int argc, char** argv) {
  namespace clv = crmkit::clv;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <shared data directory>\n", argv[0]);
    return 2;
  }
  const char* name = "cdnow_customers_summary_with_transactions.csv";
  if (!data_file_present(argv[1], name)) return example_skipped;
  const auto file = std::filesystem::path(argv[1]) / name;
  const table data = read_summary(file);

  const auto purchases = clv::fit_bg_nbd(data.x, data.t_x, data.T);
  const auto& p = purchases.params;
  std::printf("BG/NBD  r=%.4f alpha=%.4f a=%.4f b=%.4f  LL=%.2f  (%zu customers, %zu patterns)\n",
              p.r, p.alpha, p.a, p.b, purchases.log_likelihood, purchases.customers,
              purchases.patterns);

  std::vector<double> repeat_x, repeat_spend;
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    if (data.x[i] > 0) {
      repeat_x.push_back(data.x[i]);
      repeat_spend.push_back(data.spend[i]);
    }
  }
  const auto spend_model = clv::fit_gamma_gamma(repeat_x, repeat_spend);
  const auto& g = spend_model.params;
  std::printf("Gamma-Gamma  p=%.4f q=%.4f v=%.4f  LL=%.2f\n", g.p, g.q, g.v,
              spend_model.log_likelihood);

  // 12 months of weekly data, 1% monthly discount (lifetimes' defaults with freq = "W").
  const auto spend = clv::conditional_expected_average_profit(g, data.x, data.spend);
  const auto value = clv::customer_lifetime_value(p, data.x, data.t_x, data.T, spend, 12, 0.01,
                                                  clv::periods_per_month("W"));
  std::vector<std::size_t> order(value.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                    [&](std::size_t i, std::size_t j) { return value[i] > value[j]; });
  std::printf("top customers by 12-month CLV:\n");
  for (std::size_t k = 0; k < 5; ++k) {
    const std::size_t i = order[k];
    std::printf("  row %4zu  x=%2.0f t_x=%5.2f T=%5.2f  P(alive)=%.3f  CLV=%8.2f\n", i, data.x[i],
                data.t_x[i], data.T[i],
                clv::conditional_probability_alive(p, data.x[i], data.t_x[i], data.T[i]), value[i]);
  }

  // FHL 2005 and note 025 (CLV-NOTES §3).
  const bool ok =
      purchases.converged && spend_model.converged && near(p.r, 0.24259, 1e-3) &&
      near(p.alpha, 4.41353, 1e-3) && near(p.a, 0.79289, 1e-3) && near(p.b, 2.42575, 1e-3) &&
      near(g.p, 6.2488, 1e-3) && near(g.q, 3.7446, 1e-3) && near(g.v, 15.4478, 1e-3) &&
      value[order[0]] > value[order[4]] &&
      std::all_of(value.begin(), value.end(), [](double v) { return std::isfinite(v) && v >= 0; });
  std::printf(ok ? "OK\n" : "MISMATCH\n");
  return ok ? 0 : 1;
}
