"""The report's "how sure" and "how well it predicted" sections (crmkit._report_trust)."""

import numpy as np
import pytest

from crmkit import _report_trust
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
