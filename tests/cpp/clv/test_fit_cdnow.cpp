#include <crmkit/clv.hpp>

#include <doctest/doctest.h>

#include <cmath>

#include "clv/cdnow.hpp"

namespace clv = crmkit::clv;

namespace {
bool relative_close(double actual, double expected, double tolerance) {
  return std::fabs(actual - expected) <= tolerance * std::fabs(expected);
}
}  // namespace

// Reference values: CLV-NOTES §3 (MLE on lifetimes' cdnow_customers_summary.csv, matching
// FHL 2005 and CLVTools test_correctness_bgnbd.R: 0.2425945, 4.4136019, 0.7929199, 2.4258881,
// LL −9582.429); standard errors from a numerical Hessian in the notes.
TEST_CASE("BG/NBD on CDNOW reproduces the published estimates, log-likelihood and errors") {
  const auto data = crmkit_test::read_cdnow("cdnow_customers_summary.csv");
  if (data.empty()) return;
  const auto fit = clv::fit_bg_nbd(data.x, data.t_x, data.T);
  CHECK(fit.converged);
  CHECK(fit.customers == 2357);
  CHECK(fit.patterns < fit.customers);
  CHECK(relative_close(fit.params.r, 0.24259, 1e-3));
  CHECK(relative_close(fit.params.alpha, 4.41353, 1e-3));
  CHECK(relative_close(fit.params.a, 0.79289, 1e-3));
  CHECK(relative_close(fit.params.b, 2.42575, 1e-3));
  CHECK(std::fabs(fit.log_likelihood + 9582.42556) < 0.01);
  CHECK(relative_close(fit.standard_errors[0], 0.0126, 0.02));
  CHECK(relative_close(fit.standard_errors[1], 0.378, 0.02));
  CHECK(relative_close(fit.standard_errors[2], 0.186, 0.02));
  CHECK(relative_close(fit.standard_errors[3], 0.705, 0.02));
  MESSAGE(fit.params.r << " " << fit.params.alpha << " " << fit.params.a << " " << fit.params.b
                       << " LL " << fit.log_likelihood << " it " << fit.iterations << " SE "
                       << fit.standard_errors[0] << " " << fit.standard_errors[1] << " "
                       << fit.standard_errors[2] << " " << fit.standard_errors[3]);
}

// MBG/NBD: CLV-NOTES §3 (0.524838, 6.182993, 0.891356, 1.613999; LL −9582.13268), agreeing with
// the BTYDplus CDNOW demo and lifetimes' test (0.525, 6.183, 0.891, 1.614).
TEST_CASE("MBG/NBD on CDNOW reproduces the reference estimates and log-likelihood") {
  const auto data = crmkit_test::read_cdnow("cdnow_customers_summary.csv");
  if (data.empty()) return;
  const auto fit = clv::fit_mbg_nbd(data.x, data.t_x, data.T);
  CHECK(fit.converged);
  CHECK(relative_close(fit.params.r, 0.52484, 1e-3));
  CHECK(relative_close(fit.params.alpha, 6.18299, 1e-3));
  CHECK(relative_close(fit.params.a, 0.89136, 1e-3));
  CHECK(relative_close(fit.params.b, 1.61400, 1e-3));
  CHECK(std::fabs(fit.log_likelihood + 9582.13) < 0.01);
  MESSAGE(fit.params.r << " " << fit.params.alpha << " " << fit.params.a << " " << fit.params.b
                       << " LL " << fit.log_likelihood);
}

// Gamma-Gamma: note 025 (p, q, γ = 6.25, 3.74, 15.44) and CLV-NOTES §3 (6.248802, 3.744589,
// 15.447752, LL −4055.92324) on the 946 CDNOW customers with repeat purchases.
TEST_CASE("Gamma-Gamma on CDNOW's repeat buyers reproduces note 025") {
  const auto data = crmkit_test::read_cdnow("cdnow_customers_summary_with_transactions.csv");
  if (data.empty()) return;
  std::vector<double> x, m;
  for (std::size_t i = 0; i < data.x.size(); ++i) {
    if (data.x[i] > 0) {
      x.push_back(data.x[i]);
      m.push_back(data.zbar[i]);
    }
  }
  REQUIRE(x.size() == 946);
  const auto fit = clv::fit_gamma_gamma(x, m);
  CHECK(fit.converged);
  CHECK(relative_close(fit.params.p, 6.2488, 1e-3));
  CHECK(relative_close(fit.params.q, 3.7446, 1e-3));
  CHECK(relative_close(fit.params.v, 15.4478, 1e-3));
  CHECK(std::fabs(fit.log_likelihood + 4055.92) < 0.01);
  CHECK(fit.warnings.empty());
  MESSAGE(fit.params.p << " " << fit.params.q << " " << fit.params.v << " LL "
                       << fit.log_likelihood);
}
