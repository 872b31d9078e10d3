// Built against an installed crmkit by the find_package_consumer test.
#include <crmkit/crmkit.hpp>

#include <cstdio>
#include <vector>

int main() {
  std::vector<double> values(100'000, 0.5);
  const double total = crmkit::parallel_reduce(
      values.size(), 0.0,
      [&](std::size_t begin, std::size_t end) {
        double sum = 0;
        for (std::size_t i = begin; i < end; ++i) sum += values[i];
        return sum;
      },
      [](double a, double b) { return a + b; });
  std::printf("crmkit %s: sum = %.1f\n", crmkit::version_string, total);
  return total == 50'000.0 ? 0 : 1;
}
