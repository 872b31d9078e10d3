"""crmkit.ParetoNBDFitter: the published CDNOW fit, lifetimes' interface, and every prediction
against the papers' closed forms evaluated by mpmath at 50 digits (clv_reference.py), over the
whole parameter range an optimiser can reach (1e-6 .. 1e8)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import crmkit
from clv_reference import (within, pareto_conditional_expected, pareto_dert, pareto_expected_new,
                           pareto_probability_alive)

DATA = Path(__file__).parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data directory absent")

CDNOW = dict(r=0.553276, alpha=10.577614, s=0.606214, beta=11.667911)  # CLV-NOTES §3 MLE


def _model(**params):
    return crmkit.ParetoNBDFitter.from_params(params)


@pytest.fixture(scope="module")
def cdnow():
    return pd.read_csv(DATA / "cdnow_customers_summary.csv", index_col="ID")


@needs_data
def test_cdnow_fit_matches_the_published_estimates_and_errors(cdnow):
    model = crmkit.ParetoNBDFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    # Issue #12 (lifetimes 0.11.3 refit to 1e-12) and CLV-NOTES §3.
    expected = {"r": 0.55328, "alpha": 10.5776, "s": 0.60621, "beta": 11.6679}
    for name, value in expected.items():
        assert model.params_[name] == pytest.approx(value, rel=5e-4)
    assert model.log_likelihood_ == pytest.approx(-9594.974, abs=0.01)
    # CLVTools test_correctness_pnbd_nocovstaticcov.R standard errors.
    np.testing.assert_allclose(model.standard_errors_.to_numpy(),
                               [0.0476264, 0.8427222, 0.1872594, 6.2105448], rtol=1e-2)
    assert list(model.summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert model.convergence_["converged"]
    alive = model.conditional_probability_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert isinstance(alive, pd.Series) and alive.index.equals(cdnow.index)


@needs_data
def test_weighted_fit_equals_the_fit_on_every_customer(cdnow):
    grouped = cdnow.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
    weighted = crmkit.ParetoNBDFitter().fit(grouped["frequency"], grouped["recency"], grouped["T"],
                                            weights=grouped["weights"])
    plain = crmkit.ParetoNBDFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert weighted.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-12)
    np.testing.assert_allclose(weighted.params_, plain.params_, rtol=1e-6)


def test_lifetimes_fit_arguments_are_accepted():
    # Simulated from the model's definition: λ ~ Gamma(0.6, 8), μ ~ Gamma(0.8, 10), Poisson
    # purchases until min(death, T); the last of x uniform purchase times is end·Beta(x, 1).
    rng = np.random.default_rng(3)
    n = 3000
    T = rng.uniform(10, 52, n)
    end = np.minimum(T, rng.exponential(1 / rng.gamma(0.8, 1 / 10, n)))
    x = rng.poisson(rng.gamma(0.6, 1 / 8, n) * end).astype(float)
    tx = np.where(x > 0, end * rng.beta(np.maximum(x, 1), 1), 0.0)
    model = crmkit.ParetoNBDFitter(penalizer_coef=0.0).fit(
        x, tx, T, iterative_fitting=3, fit_method="Nelder-Mead", maxiter=3000, verbose=False)
    assert list(model.params_.index) == ["r", "alpha", "s", "beta"]
    assert model.predict == model.conditional_expected_number_of_purchases_up_to_time


HISTORIES = [(0, 0, 38.86), (2, 30.43, 38.86), (5, 39, 39), (40, 30, 39), (300, 38, 39),
             (1, 0.5, 1), (3, 1e-3, 1e4), (10_000, 9_999, 10_000)]
PARAMETERS = [CDNOW, dict(r=0.55, alpha=10.58, s=0.61, beta=10.58), dict(r=1.7, alpha=0.3, s=3.1, beta=0.6),
              dict(r=5.0, alpha=50.0, s=2.0, beta=0.5)]


@pytest.mark.parametrize("params", PARAMETERS)
def test_predictions_match_the_closed_forms_at_fifty_digits(params):
    model = _model(**params)
    p = tuple(params[k] for k in ("r", "alpha", "s", "beta"))
    for x, tx, T in HISTORIES:
        alive = model.conditional_probability_alive(x, tx, T)
        assert alive == pytest.approx(float(pareto_probability_alive(*p, x, tx, T)), rel=1e-10, abs=1e-300)
        for t in (1.0, 39.0, 500.0):
            expected = float(pareto_conditional_expected(*p, t, x, tx, T))
            got = model.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
            assert got == pytest.approx(expected, rel=1e-10, abs=1e-300)
        for delta in (np.log(1.15) / 52, 0.1):
            dert = model.discounted_expected_residual_transactions(x, tx, T, delta)
            assert dert == pytest.approx(float(pareto_dert(*p, delta, x, tx, T)), rel=1e-10, abs=1e-300)
    t = np.array([0.5, 39.0, 1e4])
    np.testing.assert_allclose(model.expected_number_of_purchases_up_to_time(t),
                               [float(pareto_expected_new(*p, v)) for v in t], rtol=1e-12)


def test_dert_at_integer_s_where_gamma_based_forms_break():
    # BTYD's pnbd.DERT builds U from Γ(1 − s), which is infinite at integer s; mpmath's hyperu
    # takes the limit.
    for s in (1.0, 2.0, 3.0):
        p = dict(r=0.55, alpha=10.58, s=s, beta=11.67)
        model = _model(**p)
        got = model.discounted_expected_residual_transactions(2, 30.43, 38.86, 0.01)
        expected = float(pareto_dert(0.55, 10.58, s, 11.67, 0.01, 2, 30.43, 38.86))
        assert got == pytest.approx(expected, rel=1e-10)


def test_value_and_probabilities_are_consistent():
    model = _model(**CDNOW)
    x, tx, T = np.array([0.0, 2, 7]), np.array([0.0, 30.43, 20]), np.array([38.86, 38.86, 30])
    n = np.arange(0, 400)
    for i in range(3):
        pmf = model.conditional_probability_of_n_purchases_up_to_time(n, 39.0, x[i], tx[i], T[i])
        assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
        cet = model.conditional_expected_number_of_purchases_up_to_time(39.0, x[i], tx[i], T[i])
        assert (n * pmf).sum() == pytest.approx(cet, rel=1e-8)
    later = model.conditional_probability_alive_at(10.0, x, tx, T)
    assert np.all(later < model.conditional_probability_alive(x, tx, T))
    pmf = model.probability_of_n_purchases_up_to_time(39.0, np.arange(0, 2000))
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    spend = np.array([20.0, 35.0, 12.0])
    value = model.residual_lifetime_value(x, tx, T, spend, 0.01)
    np.testing.assert_allclose(value, spend * model.discounted_expected_residual_transactions(x, tx, T, 0.01))
    dcf = model.customer_lifetime_value(x, tx, T, spend, time=12, discount_rate=0.01, freq="W")
    assert np.all(np.isfinite(dcf)) and np.all(dcf > 0)
    gg = crmkit.GammaGammaFitter.from_params(dict(p=6.25, q=3.74, v=15.44))
    via_gamma_gamma = gg.customer_lifetime_value(model, x, tx, T, spend, time=12, freq="W")
    assert np.all(np.isfinite(via_gamma_gamma))


def test_bad_input_raises_named_errors():
    model = _model(**CDNOW)
    with pytest.raises(ValueError, match=r"recency\[1\] = 50"):
        model.conditional_probability_alive([0, 1], [0, 50], [10, 40])
    with pytest.raises(ValueError, match="discount_rate"):
        model.discounted_expected_residual_transactions(1, 5, 10, -0.1)
    with pytest.raises(ValueError, match="frequency"):
        model.conditional_expected_number_of_purchases_up_to_time(1, [np.nan], [0], [1])
    with pytest.raises(ValueError, match="s"):
        _model(r=1, alpha=1, s=-1, beta=1).conditional_probability_alive(1, 1, 2)
    with pytest.raises(ValueError, match="every customer has frequency 0"):
        crmkit.ParetoNBDFitter().fit([0, 0], [0, 0], [3, 4])


log_uniform = st.floats(min_value=-6.0, max_value=8.0).map(lambda e: float(10.0**e))


@st.composite
def histories(draw):
    T = draw(st.floats(min_value=-1.0, max_value=4.0).map(lambda e: float(10.0**e)))
    x = draw(st.sampled_from([0, 1, 2, 5, 50, 2000, 10_000]))
    if x == 0:
        return 0.0, 0.0, T
    return float(x), draw(st.sampled_from([1e-6, 0.3, 0.9, 1.0])) * T, T


@given(params=st.tuples(log_uniform, log_uniform, log_uniform, log_uniform), history=histories(),
       t=st.floats(min_value=-3.0, max_value=5.0).map(lambda e: float(10.0**e)))
@example(params=(1.0, 1.0, 1e8, 0.01), history=(0.0, 0.0, 1.0), t=1.0)  # P(X=0) was 1 + 2e-8
@settings(max_examples=300, deadline=None)
def test_predictions_are_finite_and_bounded_over_the_whole_range(params, history, t):
    model = _model(**dict(zip(("r", "alpha", "s", "beta"), params)))
    x, tx, T = history
    alive = model.conditional_probability_alive(x, tx, T)
    assert 0.0 <= alive <= 1.0
    early = model.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    later = model.conditional_expected_number_of_purchases_up_to_time(2 * t + 1, x, tx, T)
    assert np.isfinite(later) and 0.0 <= early <= later * (1 + 1e-12) + 1e-300
    assert 0.0 <= model.conditional_probability_alive_at(t, x, tx, T) <= alive
    dert = model.discounted_expected_residual_transactions(x, tx, T, 0.01)
    assert np.isfinite(dert) and dert >= 0
    probability = model.probability_of_n_purchases_up_to_time(t, min(x, 50))
    assert np.isfinite(probability) and 0.0 <= probability <= 1.0 + 1e-12
    value = model.customer_lifetime_value(x, tx, T, 1.0, time=12, discount_rate=0.01, freq="W")
    assert np.isfinite(value) and value >= 0


# Both examples once lost ~2e-8 to rounding: s·ln(β+T) ≈ 1e8 met (s+1)·ln(β+t_x) in one sum.
@example(params=(1.0, 1.0, 1e7, 1e6), history=(0.0, 0.0, 1.0))
@example(params=(1.0, 1.0, 1e8, 0.01), history=(0.0, 0.0, 1.0))
@given(params=st.tuples(log_uniform, log_uniform, log_uniform, log_uniform), history=histories())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_probability_alive_matches_fifty_digit_references_over_the_whole_range(params, history):
    # P(alive) is the alive term over the likelihood: it checks the likelihood's integral (note
    # 009's A₀, by mpmath's ₂F₁) wherever the two terms are comparable.
    r, alpha, s, beta = params
    x, tx, T = history
    alive = within(3, pareto_probability_alive, r, alpha, s, beta, x, tx, T,
                   failures=(ZeroDivisionError,))
    assume(alive is not None)
    got = _model(r=r, alpha=alpha, s=s, beta=beta).conditional_probability_alive(x, tx, T)
    assert got == pytest.approx(float(alive), rel=1e-8, abs=1e-14)
