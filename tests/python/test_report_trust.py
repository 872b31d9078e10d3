"""The report's "how sure" and "how well it predicted" sections (crmkit._report_trust)."""

import html

import numpy as np
import pytest

from crmkit import _report_trust, intervals
from crmkit.clv import BetaGeoFitter, GammaGammaFitter
from crmkit._report_input import simulate_demo
from crmkit.report import build_report


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    log, _ = simulate_demo(3000, 4)
    return build_report(log, str(tmp_path_factory.mktemp("trust") / "out"), progress=None)


def test_interval_centres_are_the_pipelines_numbers(report):
    sure = report.trust["how_sure"]
    customers = report.tables["customers"]
    # The refit on the customer table's columns is the pipeline's own fit (same patterns).
    params = report.tables["model_parameters"]["estimate"]
    bgf = sure["fitters"]["BG/NBD"]
    np.testing.assert_allclose(bgf.params_, params.loc[["r", "alpha", "a", "b"]], rtol=1e-9)
    # So the intervals are centred on the headline numbers, summed from the customer table.
    assert sure["value"].total["estimate"] == pytest.approx(customers["clv"].sum(), rel=1e-9)
    purchases = [c for c in customers.columns if c.startswith("expected_purchases")][0]
    assert sure["purchases"].total["estimate"] == pytest.approx(customers[purchases].sum(),
                                                                rel=1e-9)
    for total in (sure["value"].total, sure["purchases"].total):
        assert total["lower"] < total["estimate"] < total["upper"]
    headline = sure["headline"]
    assert len(headline) == 2 and (headline.iloc[:, 3] > 0).all()


def test_both_sections_are_in_the_page(report):
    with open(report.html_path, encoding="utf-8") as handle:
        page = handle.read()
    assert _report_trust.HOW_SURE_TEXT["heading"] in page
    assert _report_trust.HOW_WELL_TEXT["heading"] in page
    well = report.trust["how_well"]
    assert set(well["comparison"].index) == {"BG/NBD", "MBG/NBD", "Pareto/NBD"}
    assert well["chosen"] == well["comparison"]["bic"].idxmin()
    # The demo log (104 weeks, simulated from BG/NBD itself) has a calibration / holdout split:
    # the tracking score exists and the true model tracks its own data closely.
    curve = report.tables["cumulative_transactions"]
    assert "mape" in well
    assert 0 < well["mape"] < 0.1
    assert f"{well['mape']:.1%}" in page
    holdout = curve.iloc[-1]
    assert abs(holdout["predicted"] / holdout["actual"] - 1) < 0.2


def test_a_sampled_width_is_the_whole_bases_width(report, monkeypatch):
    # Above SAMPLE customers the widths come from a systematic sample: with the whole base's fit
    # a total's relative width is nearly the sample's, and the centre stays the whole base's.
    customers = report.tables["customers"]
    whole = _report_trust.how_sure(customers, 13, 12, 0.01, 4.345)
    assert "sample" not in _report_trust.how_well(customers, None, float("nan"))
    monkeypatch.setattr(_report_trust, "SAMPLE", len(customers) // 3)
    sampled = _report_trust.how_sure(customers, 13, 12, 0.01, 4.345)
    assert sampled["sample"] == (len(customers) // 3, len(customers))
    for name in ("purchases", "value"):
        full, part = whole[name].total, sampled[name].total
        assert part["estimate"] == pytest.approx(full["estimate"], rel=1e-9)
        for end in ("lower", "upper"):
            assert part[end] / part["estimate"] == pytest.approx(full[end] / full["estimate"],
                                                                 rel=0.02)
    monkeypatch.setattr(_report_trust, "COMPARISON_SAMPLE", 1000)
    well = _report_trust.how_well(customers, None, float("nan"))
    assert well["sample"] == (1000, len(customers))
    assert set(well["comparison"].index) == {"BG/NBD", "MBG/NBD", "Pareto/NBD"}


def test_the_pipelines_fits_are_handed_over_not_refitted(report):
    # The sections use the pipeline's own fits (covariances included); a refit here on the
    # customer table's columns (the same fitting patterns) is the independent check.
    customers = report.tables["customers"]
    handed = report.trust["how_sure"]["fitters"]
    x, tx, T, m = (customers[c].to_numpy(dtype=float)
                   for c in ("frequency", "recency", "T", "monetary_value"))
    refits = {"BG/NBD": BetaGeoFitter().fit(x, tx, T, tol=1e-7),
              "Gamma-Gamma": GammaGammaFitter().fit(x[(x > 0) & (m > 0)],
                                                    m[(x > 0) & (m > 0)], tol=1e-7)}
    for name, refit in refits.items():
        fitter = handed[name]
        assert type(fitter) is type(refit)
        np.testing.assert_allclose(fitter.params_, refit.params_, rtol=1e-9)
        np.testing.assert_allclose(fitter.variance_matrix_, refit.variance_matrix_, rtol=1e-6)
        np.testing.assert_allclose(fitter.standard_errors_, refit.standard_errors_, rtol=1e-6)
        assert fitter.log_likelihood_ == pytest.approx(refit.log_likelihood_, rel=1e-12)
        assert fitter.convergence_["converged"] and fitter.data.shape[0] == len(refit.data)
    # With the refits instead, the sections' numbers are the same.
    again = _report_trust.how_sure(customers, 13, 12, 0.01, 4.345)
    for name in ("purchases", "value"):
        np.testing.assert_allclose(report.trust["how_sure"][name].total,
                                   again[name].total, rtol=1e-6)


def test_a_fit_of_other_parameters_is_refused():
    transaction_fit = {"names": ["p", "q", "v"], "params": [1.0, 2.0, 3.0],
                       "covariance": np.eye(3).ravel().tolist()}
    with pytest.raises(ValueError, match=r"BetaGeoFitter: a fit of the parameters \['p', 'q', 'v'\]"):
        BetaGeoFitter._from_fit(transaction_fit, {})


def _delta_method_clv(bgf, ggf, x, tx, T, m, level):
    """Each customer's delta-method CLV interval, computed here independently of the library's
    per-history arrangement: CLV = E·D with D the transaction model's discounted purchases
    (lifetimes' 12-month sum at 1% a month, weekly data) and E the pipeline's spend policy
    p·(v + x·m)/(p·x + q − 1) (m = 0 for one-time and zero-spend buyers; FHL 2005 "RFM and
    CLV" eq. 5); central differences of step 1e-4 in the log-parameters, Var = g'Σ_ψ g with the
    two fits' covariances block-diagonal, and the interval g·exp(∓z·se/g) (docs/intervals.md)."""
    from scipy.stats import norm

    names = list(bgf._param_names)
    theta = np.concatenate([bgf._unload_params(), ggf._unload_params()])
    covariance = np.zeros((7, 7))
    covariance[:4, :4] = bgf.variance_matrix_.loc[names, names].to_numpy()
    covariance[4:, 4:] = ggf.variance_matrix_.loc[["p", "q", "v"], ["p", "q", "v"]].to_numpy()
    sigma = covariance / np.outer(theta, theta)
    spend_m = np.where(x > 0, np.maximum(m, 0), 0.0)

    def value(at):
        model = type(bgf).from_params(dict(zip(names, at[:4])))
        purchases = model.customer_lifetime_value(x, tx, T, np.ones_like(x), time=12,
                                                  discount_rate=0.01, freq="W")
        p, q, v = at[4:]
        return np.asarray(purchases) * p * (v + x * spend_m) / (p * x + q - 1)

    h = 1e-4
    estimate = value(theta)
    gradient = np.empty((len(x), 7))
    for k in range(7):
        up, down = theta.copy(), theta.copy()
        up[k] *= np.exp(h)
        down[k] *= np.exp(-h)
        gradient[:, k] = (value(up) - value(down)) / (2 * h)
    se = np.sqrt(np.einsum("ik,kl,il->i", gradient, sigma, gradient))
    z = norm.ppf((1 + level) / 2)
    return estimate, estimate * np.exp(-z * se / estimate), estimate * np.exp(z * se / estimate)


def test_each_customers_clv_interval_is_the_delta_methods(report):
    # customers.csv's clv_lower / clv_upper (the pipeline's clv::lifetime_value_delta_method) are
    # the delta method's intervals at the report's level, for every customer: repeat buyers,
    # one-time buyers (population mean spend) and zero-spend repeat buyers alike.
    customers = report.tables["customers"]
    assert list(customers.columns[customers.columns.get_loc("clv"):][:3]) == [
        "clv", "clv_lower", "clv_upper"]
    assert _core_level() == _report_trust.LEVEL
    fitters = report.trust["how_sure"]["fitters"]
    x, tx, T, m = (customers[c].to_numpy(dtype=float)
                   for c in ("frequency", "recency", "T", "monetary_value"))
    estimate, lower, upper = _delta_method_clv(fitters["BG/NBD"], fitters["Gamma-Gamma"], x, tx,
                                               T, m, _report_trust.LEVEL)
    # Same differences, same step: they differ by rounding only (the per-history arrangement
    # multiplies E by a difference of D instead of differencing E·D), ~1e-12 relative.
    np.testing.assert_allclose(customers["clv"], estimate, rtol=1e-10)
    np.testing.assert_allclose(customers["clv_lower"], lower, rtol=1e-10)
    np.testing.assert_allclose(customers["clv_upper"], upper, rtol=1e-10)
    # And the intervals module gives the same on the same fits.
    out = intervals.customer_lifetime_value(fitters["BG/NBD"], fitters["Gamma-Gamma"], x, tx, T,
                                            m, time=12, discount_rate=0.01, freq="W",
                                            level=_report_trust.LEVEL)
    np.testing.assert_allclose(customers["clv_lower"], out.customers["lower"], rtol=1e-12)
    np.testing.assert_allclose(customers["clv_upper"], out.customers["upper"], rtol=1e-12)
    # Every interval contains its CLV and is finite, with room on both sides where CLV > 0.
    assert np.isfinite(customers[["clv_lower", "clv_upper"]].to_numpy()).all()
    assert (customers["clv_lower"] <= customers["clv"]).all()
    assert (customers["clv"] <= customers["clv_upper"]).all()
    positive = customers["clv"] > 0
    assert (customers["clv_lower"][positive] < customers["clv"][positive]).all()
    one_time = customers["frequency"] == 0
    assert one_time.sum() > 100 and (customers["clv_upper"][one_time] > 0).all()


def _core_level():
    from crmkit import _core
    return _core.pipeline.AnalysisOptions().clv_interval_level


def test_the_page_states_the_customer_intervals(report):
    with open(report.html_path, encoding="utf-8") as handle:
        page = handle.read()
    words = _report_trust.HOW_SURE_TEXT["customers"].format(level=_report_trust.LEVEL)
    assert html.escape(words) in page
    assert "90%" in words and "clv_lower" in words
