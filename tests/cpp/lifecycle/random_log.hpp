// A random purchase log for the lifecycle tests (test_stage_dates.cpp, test_engine_kernels.cpp).
#pragma once

#include <crmkit/lifecycle.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace lifecycle_test {

namespace lc = crmkit::lifecycle;

constexpr std::int64_t base_day = 19'723;  // 2024-01-01
inline std::int64_t day(std::int64_t n) { return (base_day + n) * 86'400 + 12 * 3600; }

/**
 * 400 customers over 600 days: bursts of purchases a few days apart separated by pauses of up to
 * 250 days (so that many purchases win a customer back, judged by its own median or, early on,
 * by G), some customers buying only once.
 */
struct random_log {
  std::vector<std::int64_t> customer, timestamp;
  std::vector<double> amount;

  random_log() {
    std::mt19937_64 random(20261206);
    std::uniform_int_distribution<int> short_gap(1, 12), pause(30, 250), start(0, 400),
        burst(1, 6);
    std::uniform_real_distribution<double> spend(0.5, 80);
    for (std::int64_t id = 0; id < 400; ++id) {
      int on = start(random);
      const int bursts = static_cast<int>(id % 5);
      for (int b = 0; b <= bursts && on < 600; ++b) {
        for (int k = burst(random); k > 0 && on < 600; --k) {
          customer.push_back(id);
          timestamp.push_back(day(on));
          amount.push_back(spend(random));
          on += short_gap(random);
        }
        on += pause(random);
      }
    }
  }
  [[nodiscard]] lc::log_view view() const { return {customer, timestamp, amount, 1}; }
};

}  // namespace lifecycle_test
