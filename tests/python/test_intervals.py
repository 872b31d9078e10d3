"""crmkit.intervals on the CDNOW summary (shipped with crmkit.datasets) and the donations data.

Coverage by simulation is a C++ test (tests/cpp/clv/test_interval_coverage.cpp); here the Python
surface: the numbers equal independent computations from the fits' own covariance and
predictions, the bootstraps are seeded, and bad input names the argument.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from crmkit import intervals
from crmkit.clv import (BetaGeoBetaBinomFitter, BetaGeoFitter, GammaGammaFitter,
                        ModifiedBetaGeoFitter, ParetoNBDFitter)
from crmkit.datasets import load_cdnow_summary_data_with_monetary_value, load_donations


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def bgf(cdnow):
    return BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def ggf(cdnow):
    repeat = cdnow[cdnow["frequency"] > 0]
    return GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])


def test_parameter_intervals_are_the_log_scale_intervals_of_the_standard_errors(bgf):
    out = intervals.parameter_intervals(bgf, level=0.9)
    z = norm.ppf(0.95)
    se = bgf.standard_errors_
    np.testing.assert_allclose(out["standard_error"], se, rtol=1e-6)
    np.testing.assert_allclose(out["lower"], bgf.params_ * np.exp(-z * se / bgf.params_), rtol=1e-6)
    np.testing.assert_allclose(out["upper"], bgf.params_ * np.exp(z * se / bgf.params_), rtol=1e-6)
    assert list(out.index) == ["r", "alpha", "a", "b"]


@pytest.mark.parametrize("fitter", [BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter])
def test_expected_purchases_intervals_bracket_the_fitters_predictions(cdnow, fitter):
    model = fitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    out = intervals.expected_purchases(model, 39, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    predicted = model.conditional_expected_number_of_purchases_up_to_time(
        39, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(out.customers["estimate"], predicted, rtol=1e-12)
    assert (out.customers.index == cdnow.index).all()
    assert out.total["estimate"] == pytest.approx(predicted.sum(), rel=1e-12)
    assert (out.customers["lower"] <= out.customers["estimate"]).all()
    assert (out.customers["upper"] >= out.customers["estimate"]).all()
    assert np.isfinite(out.customers[["lower", "upper"]].to_numpy()).all()
    # The base's total is known to a few percent from 2,357 customers, not to 0 or 100%.
    width = (out.total["upper"] - out.total["lower"]) / out.total["estimate"]
    assert 0.01 < width < 0.5


def test_delta_method_standard_error_of_the_total_by_hand(cdnow, bgf):
    # Var(G) = ∇G' Σ ∇G with ∇G from scipy-free central differences on the fitter's own
    # predictions (relative step 1e-5 in θ, independent of the core's log-space step).
    args = (39, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    base = bgf.params_.copy()
    gradient = []
    for name in base.index:
        step = base[name] * 1e-5
        up = BetaGeoFitter.from_params({**base, name: base[name] + step})
        down = BetaGeoFitter.from_params({**base, name: base[name] - step})
        gradient.append((up.conditional_expected_number_of_purchases_up_to_time(*args).sum()
                         - down.conditional_expected_number_of_purchases_up_to_time(*args).sum())
                        / (2 * step))
    gradient = np.array(gradient)
    se = np.sqrt(gradient @ bgf.variance_matrix_.to_numpy() @ gradient)
    out = intervals.expected_purchases(bgf, *args, per_customer=False)
    assert out.customers.empty
    assert out.total["standard_error"] == pytest.approx(se, rel=1e-5)


def test_lifetime_value_interval_matches_the_gamma_gamma_clv(cdnow, bgf, ggf):
    args = (cdnow["frequency"], cdnow["recency"], cdnow["T"], cdnow["monetary_value"])
    clv = ggf.customer_lifetime_value(bgf, *args, time=12, discount_rate=0.01, freq="W")
    out = intervals.customer_lifetime_value(bgf, ggf, *args, time=12, discount_rate=0.01,
                                            freq="W", level=0.95)
    np.testing.assert_allclose(out.customers["estimate"], clv, rtol=1e-10)
    assert out.total["lower"] < clv.sum() < out.total["upper"]
    spend = intervals.expected_spend(ggf, cdnow["frequency"], cdnow["monetary_value"])
    np.testing.assert_allclose(spend.customers["estimate"],
                               ggf.conditional_expected_average_profit(cdnow["frequency"],
                                                                       cdnow["monetary_value"]),
                               rtol=1e-12)


def test_parametric_bootstrap_is_seeded_and_agrees_with_the_delta_method(cdnow, bgf):
    args = (39, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    one = intervals.expected_purchases(bgf, *args, method="parametric_bootstrap", draws=500,
                                       seed=3, per_customer=False)
    two = intervals.expected_purchases(bgf, *args, method="parametric_bootstrap", draws=500,
                                       seed=3, per_customer=False)
    other = intervals.expected_purchases(bgf, *args, method="parametric_bootstrap", draws=500,
                                         seed=4, per_customer=False)
    delta = intervals.expected_purchases(bgf, *args, per_customer=False)
    assert one.total.equals(two.total)
    assert not one.total.equals(other.total)
    assert one.draws == 500
    # 500 draws estimate a standard deviation to ~3%.
    assert one.total["standard_error"] == pytest.approx(delta.total["standard_error"], rel=0.1)


def test_customer_bootstrap_refits_are_seeded_and_spread_like_the_standard_errors(cdnow, bgf):
    first = intervals.customer_bootstrap(bgf, draws=120, seed=1)
    again = intervals.customer_bootstrap(bgf, draws=120, seed=1)
    pd.testing.assert_frame_equal(first.draws, again.draws)
    assert first.replicates == 120 and first.failed == 0 and len(first.draws) == 120
    assert list(first.draws.columns) == ["r", "alpha", "a", "b"]
    # On simulated BG/NBD data the refits' spread matches the inverse information (C++ test,
    # within 20%). On CDNOW it is wider (robust spread, IQR/1.349, measured 1.14, 1.44, 0.95, 1.01
    # times the standard errors of r, alpha, a, b): the model is not exactly right for these
    # customers, and the bootstrap, unlike the information, carries that (White 1982). Same order
    # of magnitude, not equal:
    quartiles = first.draws.quantile([0.25, 0.75])
    robust = (quartiles.iloc[1] - quartiles.iloc[0]) / 1.349 / bgf.standard_errors_
    assert ((robust > 0.7) & (robust < 2.0)).all()
    out = intervals.parameter_intervals(bgf, method="customer_bootstrap", bootstrap=first)
    assert (out["lower"] < bgf.params_).all() and (out["upper"] > bgf.params_).all()


def test_bg_bb_and_gamma_gamma_bootstraps():
    donations = load_donations()
    bbf = BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                       donations["periods"], weights=donations["weights"])
    boot = intervals.customer_bootstrap(bbf, draws=30, seed=2)
    assert boot.failed == 0 and len(boot.draws) == 30
    out = intervals.expected_purchases(bbf, 5, donations["frequency"], donations["recency"],
                                       donations["periods"], method="customer_bootstrap",
                                       bootstrap=boot)
    predicted = bbf.conditional_expected_number_of_purchases_up_to_time(
        5, donations["frequency"], donations["recency"], donations["periods"])
    np.testing.assert_allclose(out.customers["estimate"], predicted, rtol=1e-12)
    assert out.draws == 30


def test_bad_input_is_named(cdnow, bgf):
    with pytest.raises(ValueError, match="method = 'jackknife'"):
        intervals.parameter_intervals(bgf, method="jackknife")
    with pytest.raises(ValueError, match="level = 1.5"):
        intervals.parameter_intervals(bgf, level=1.5)
    with pytest.raises(ValueError, match="has not been fit"):
        intervals.parameter_intervals(BetaGeoFitter.from_params(bgf.params_))
    with pytest.raises(ValueError, match="recency"):
        intervals.expected_purchases(bgf, 1, [1.0], [2.0], [1.0])
    weighted = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"],
                                   weights=np.full(len(cdnow), 0.5))
    with pytest.raises(ValueError, match="whole number"):
        intervals.customer_bootstrap(weighted, draws=5)


def test_predictive_interval_from_the_conditional_pmf(cdnow, bgf):
    from crmkit.clv import ParetoNBDFitter

    out = intervals.predictive_interval(bgf, 39, cdnow["frequency"], cdnow["recency"], cdnow["T"],
                                        level=0.9)
    assert (out.index == cdnow.index).all()
    assert (out["lower"] <= out["upper"]).all()
    # P(Y = 0) is the conditional PMF at 0: (1 − P(alive)) + P(alive)·P_new(0), and P_new(0) for
    # the alive customer's posterior is FHL 2005 eq. 8 at n = 0 (through the fitter's own
    # probability_of_n_purchases_up_to_time with the posterior parameters r+x, α+T, a, b+x).
    row = cdnow.iloc[3]
    x, tx, T = row["frequency"], row["recency"], row["T"]
    alive = bgf.conditional_probability_alive(x, tx, T)
    p = bgf.params_
    posterior = BetaGeoFitter.from_params({"r": p["r"] + x, "alpha": p["alpha"] + T, "a": p["a"],
                                           "b": p["b"] + x})
    expected_none = (1 - alive) + alive * posterior.probability_of_n_purchases_up_to_time(39, 0)
    assert out["probability_none"].iloc[3] == pytest.approx(expected_none, rel=1e-10)
    pnf = ParetoNBDFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    pareto = intervals.predictive_interval(pnf, 39, cdnow["frequency"], cdnow["recency"],
                                           cdnow["T"])
    none = pnf.conditional_probability_of_n_purchases_up_to_time(0, 39, cdnow["frequency"],
                                                                 cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(pareto["probability_none"], none, rtol=1e-12)
