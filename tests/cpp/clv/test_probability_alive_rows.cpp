// The vectorised P(alive) of BG/NBD and MBG/NBD (probability_alive_rows, through the vector
// conditional_probability_alive) against the same formula evaluated row by row with the C
// library's log, log1p and exp: FHL note 021 / FHL 2005 eq. (13) for BG/NBD, Batislam et al.
// 2007 for MBG/NBD, P(alive) = 1 / (1 + a/(b + x + o − 1) · ((α + T)/(α + t_x))^(r + x)).
#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "clv/simulate.hpp"

namespace clv = crmkit::clv;

namespace {

constexpr double epsilon = std::numeric_limits<double>::epsilon();

/** The formula row by row with glibc, as probability_alive computed it before vectorisation,
 * and the size of its log-odds' terms (what the rounding of either evaluation scales with). */
struct scalar_alive {
  double value, scale;
};

scalar_alive scalar_formula(double r, double alpha, double a, double b, int offset, double x,
                            double t_x, double age) {
  if (x + offset == 0) return {1.0, 0.0};
  const double log_b = std::log(b + (x + offset - 1));
  const double rate_term = (r + x) * std::log1p((age - t_x) / (alpha + t_x));
  const double s = (std::log(a) - log_b) + rate_term;
  return {crmkit::math::expit(-s),
          2 + std::fabs(std::log(a)) + std::fabs(log_b) + std::fabs(rate_term)};
}

template <class P>
void check_against_scalar(const P& p, int offset, const std::vector<double>& x,
                          const std::vector<double>& t_x, const std::vector<double>& age,
                          double relative) {
  const auto vectorised = clv::conditional_probability_alive(p, x, t_x, age);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto expected = scalar_formula(p.r, p.alpha, p.a, p.b, offset, x[i], t_x[i], age[i]);
    const double allowed =
        (relative > 0 ? relative : 4 * epsilon * expected.scale) * expected.value +
        4 * std::numeric_limits<double>::denorm_min();
    const double value = vectorised[i];
    if (!(std::isfinite(value) && value >= 0 && value <= 1 &&
          std::fabs(value - expected.value) <= allowed)) {
      CHECK_MESSAGE(false, "x ", x[i], " t_x ", t_x[i], " T ", age[i], ": ", value, " vs ",
                    expected.value);
    }
  }
}

}  // namespace

TEST_CASE("vectorised P(alive) equals the row-by-row formula to 1e-14 on simulated customers") {
  // bench_clv.py's customers: CDNOW's estimates (FHL 2005), ages up to 39 weeks.
  const auto data =
      crmkit_test::simulate_beta_geometric(20'000, 0.243, 4.414, 0.793, 2.426, false, 39, 2024);
  check_against_scalar(clv::bg_nbd_params{0.2425, 4.41, 0.7929, 2.4259}, 0, data.x, data.t_x,
                       data.T, 1e-14);
  check_against_scalar(clv::mbg_nbd_params{0.2425, 4.41, 0.7929, 2.4259}, 1, data.x, data.t_x,
                       data.T, 1e-14);
}

TEST_CASE("vectorised P(alive) is finite and equals the formula at extreme parameters") {
  // Parameters at the limits the optimiser can reach (test_extreme_parameters.cpp) and
  // histories from none to 10^4 purchases over up to 10^6 periods, last purchase at 0 or now.
  const double parameter_sets[][4] = {
      {0.243, 4.414, 0.793, 2.426}, {0.243, 4.414, 1e8, 1e8},    {0.243, 4.414, 1e-6, 1e8},
      {2.0, 1e-6, 0.8, 2.4},        {1e-6, 4.414, 0.793, 2.426}, {1e8, 1e8, 0.793, 2.426},
      {0.243, 4.414, 1e90, 1e74},   {50, 1e-8, 1e-8, 1e-8},      {1e-8, 1e8, 1e8, 1e-8}};
  std::vector<double> x, t_x, age;
  for (const double frequency : {0.0, 1.0, 2.0, 7.0, 100.0, 1e4}) {
    for (const double customer_age : {1e-6, 1.0, 39.0, 1e6}) {
      for (const double share : {0.0, 1e-9, 0.5, 1.0}) {
        if ((frequency == 0) != (share == 0)) continue;
        x.push_back(frequency);
        t_x.push_back(share * customer_age);
        age.push_back(customer_age);
      }
    }
  }
  for (const auto& values : parameter_sets) {
    CAPTURE(values[0]);
    CAPTURE(values[1]);
    CAPTURE(values[2]);
    CAPTURE(values[3]);
    check_against_scalar(clv::bg_nbd_params{values[0], values[1], values[2], values[3]}, 0, x, t_x,
                         age, 0);
    check_against_scalar(clv::mbg_nbd_params{values[0], values[1], values[2], values[3]}, 1, x, t_x,
                         age, 0);
  }
}

TEST_CASE("vectorised P(alive) is the same with 1 and 2 threads and counts odd histories") {
  const auto data =
      crmkit_test::simulate_beta_geometric(30'000, 0.243, 4.414, 0.793, 2.426, false, 39, 11);
  auto x = data.x;
  x[20'000] = 0;  // a repeat buyer's recency with no repeat purchase, past the first chunk
  const clv::bg_nbd_params p{0.243, 4.414, 0.793, 2.426};
  crmkit::set_num_threads(1);
  clv::history_check one_found;
  const auto one = clv::conditional_probability_alive(p, x, data.t_x, data.T, &one_found);
  crmkit::set_num_threads(2);
  clv::history_check two_found;
  const auto two = clv::conditional_probability_alive(p, x, data.t_x, data.T, &two_found);
  crmkit::set_num_threads(0);
  CHECK(one == two);
  const bool repeat_buyer = data.x[20'000] > 0;
  CHECK(one_found.unobservable == (repeat_buyer ? 1u : 0u));
  CHECK(two_found.unobservable == one_found.unobservable);
  CHECK(two_found.first_unobservable == (repeat_buyer ? 20'000u : 0u));
  // An invalid row after the first chunk is still named.
  auto late = data.t_x;
  late[25'000] = data.T[25'000] + 1;
  CHECK_THROWS_AS(clv::conditional_probability_alive(p, data.x, late, data.T),
                  crmkit::invalid_input);
}

TEST_CASE("P(alive) into a caller's buffer writes every row, as the vector form returns them") {
  // The Python binding writes into a new numpy array, whose memory is not initialised: every
  // element must be written, including the rows that cannot be dead (BG/NBD x = 0) and the
  // frequencies above the tabled ln(b + x − 1) (100, 1e4; test above for their values).
  auto data =
      crmkit_test::simulate_beta_geometric(20'000, 0.243, 4.414, 0.793, 2.426, false, 39, 5);
  data.x[3] = 100;
  data.x[19'999] = 1e4;
  data.t_x[3] = data.t_x[19'999] = 0.5 * data.T[3];
  data.T[19'999] = data.T[3];
  const clv::bg_nbd_params bg{0.243, 4.414, 0.793, 2.426};
  const clv::mbg_nbd_params mbg{0.243, 4.414, 0.793, 2.426};
  std::vector<double> out(data.x.size(), std::numeric_limits<double>::quiet_NaN());
  clv::history_check found;
  clv::conditional_probability_alive(bg, data.x, data.t_x, data.T, std::span<double>(out), &found);
  CHECK(out == clv::conditional_probability_alive(bg, data.x, data.t_x, data.T));
  CHECK(std::count(data.x.begin(), data.x.end(), 0.0) > 0);
  CHECK(out[3] < 1);
  CHECK(out[19'999] < 1);
  std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
  clv::conditional_probability_alive(mbg, data.x, data.t_x, data.T, std::span<double>(out));
  CHECK(out == clv::conditional_probability_alive(mbg, data.x, data.t_x, data.T));
  std::vector<double> short_out(data.x.size() - 1);
  CHECK_THROWS_AS(clv::conditional_probability_alive(bg, data.x, data.t_x, data.T,
                                                     std::span<double>(short_out)),
                  crmkit::invalid_input);
}
