// fit_models runs the Gamma-Gamma fit on a thread of its own beside the transaction model's
// pattern building and fit: each fit must stay the fit it is alone, whatever the thread count
// and whether fit_models is itself called from inside a parallel worker.
#include <crmkit/clv.hpp>
#include <crmkit/core/parallel.hpp>
#include <crmkit/pipeline.hpp>

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

namespace pl = crmkit::pipeline;

namespace {

struct fit_run {
  pl::model_fits fits;
  std::vector<pl::note> notes;
};

fit_run fit_with_threads(const pl::customer_summaries& customers, std::size_t threads) {
  crmkit::set_num_threads(threads);
  fit_run run;
  run.fits = pl::fit_models(customers, {}, run.notes);
  crmkit::set_num_threads(0);
  return run;
}

void check_same_fit(const pl::fitted_model& a, const pl::fitted_model& b) {
  CHECK(a.params == b.params);
  CHECK(a.standard_errors == b.standard_errors);
  CHECK(a.covariance == b.covariance);
  CHECK(a.log_likelihood == b.log_likelihood);
  CHECK(a.iterations == b.iterations);
  CHECK(a.evaluations == b.evaluations);
  CHECK(a.status == b.status);
}

void check_same_run(const fit_run& a, const fit_run& b) {
  CHECK(pl::parameter_values(a.fits.purchases) == pl::parameter_values(b.fits.purchases));
  CHECK(a.fits.spend.p == b.fits.spend.p);
  CHECK(a.fits.spend.q == b.fits.spend.q);
  CHECK(a.fits.spend.v == b.fits.spend.v);
  check_same_fit(a.fits.purchase_fit, b.fits.purchase_fit);
  check_same_fit(a.fits.spend_fit, b.fits.spend_fit);
  CHECK(a.fits.repeat_buyers == b.fits.repeat_buyers);
  REQUIRE(a.notes.size() == b.notes.size());
  for (std::size_t i = 0; i < a.notes.size(); ++i) {
    CHECK(a.notes[i].code == b.notes[i].code);
    CHECK(a.notes[i].message == b.notes[i].message);
  }
}

}  // namespace

TEST_CASE("fit_models: the same fits, bit for bit, at 1, 2 and 3 threads and inside a worker") {
  for (const std::size_t customers : {3000u, 20000u}) {
    CAPTURE(customers);
    const auto log = pl::demo_log({.customers = customers, .seed = 11});
    const auto summaries = pl::summarize_customers(log, {});
    const auto one = fit_with_threads(summaries, 1);
    const auto two = fit_with_threads(summaries, 2);
    const auto three = fit_with_threads(summaries, 3);
    check_same_run(one, two);
    check_same_run(one, three);
    // Called from inside a parallel task (as analyze's later steps are), fit_models starts no
    // thread of its own: the fits run one after the other, with the same results.
    crmkit::set_num_threads(2);
    std::vector<fit_run> nested(2);
    crmkit::parallel_chunks(2, 1, [&](std::size_t task, std::size_t, std::size_t) {
      nested[task].fits = pl::fit_models(summaries, {}, nested[task].notes);
    });
    crmkit::set_num_threads(0);
    check_same_run(one, nested[0]);
    check_same_run(one, nested[1]);
  }
}

TEST_CASE("fit_models: the Gamma-Gamma fit beside the transaction model's is the standalone fit") {
  // The independent computation: clv::fit_gamma_gamma on the repeat buyers with a positive mean
  // spend, at fit_models' tolerance 1e-7, alone on the calling thread.
  const auto log = pl::demo_log({.customers = 20000, .seed = 5});
  const auto summaries = pl::summarize_customers(log, {});
  std::vector<double> x, m;
  for (std::size_t i = 0; i < summaries.size(); ++i) {
    if (summaries.frequency[i] > 0 && summaries.monetary_value[i] > 0) {
      x.push_back(summaries.frequency[i]);
      m.push_back(summaries.monetary_value[i]);
    }
  }
  crmkit::clv::fit_options settings;
  settings.tolerance = 1e-7;
  crmkit::set_num_threads(1);
  const auto alone = crmkit::clv::fit_gamma_gamma(x, m, {}, settings);
  const auto bg = crmkit::clv::fit_bg_nbd(summaries.frequency, summaries.recency, summaries.T, {},
                                          settings);
  crmkit::set_num_threads(0);
  const auto run = fit_with_threads(summaries, 2);
  CHECK(run.fits.spend.p == alone.params.p);
  CHECK(run.fits.spend.q == alone.params.q);
  CHECK(run.fits.spend.v == alone.params.v);
  CHECK(run.fits.spend_fit.log_likelihood == alone.log_likelihood);
  const auto& purchases = std::get<crmkit::clv::bg_nbd_params>(run.fits.purchases);
  CHECK(purchases.r == bg.params.r);
  CHECK(purchases.alpha == bg.params.alpha);
  CHECK(purchases.a == bg.params.a);
  CHECK(purchases.b == bg.params.b);
  CHECK(run.fits.purchase_fit.log_likelihood == bg.log_likelihood);
}
