"""Property tests over the whole parameter space an optimiser can reach (issue 13).

Parameters are drawn log-uniformly over 1e-6 .. 1e8 (the optimiser works on log-parameters, and
fits on small or degenerate logs do reach both ends), not just the [0.02, 60] of
test_clv_properties.py. Every prediction must be finite and within its bounds there, and a
sample is compared with the papers' closed forms evaluated by mpmath at 50 digits
(clv_reference.py: FHL 2005, Batislam et al. 2007, Fader & Hardie note 025).
"""

import signal
import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import crmkit
from clv_reference import (bg_conditional_expected, bg_expected_new, bg_pmf,
                           bg_probability_alive, gamma_gamma_expected_spend)

log_uniform = st.floats(min_value=-6.0, max_value=8.0).map(lambda e: float(10.0**e))
horizons = st.floats(min_value=-3.0, max_value=5.0).map(lambda e: float(10.0**e))


@st.composite
def histories(draw):
    T = draw(st.floats(min_value=-1.0, max_value=4.0).map(lambda e: float(10.0**e)))
    x = draw(st.sampled_from([0, 1, 2, 5, 50, 2000]))
    if x == 0:
        return 0.0, 0.0, T
    return float(x), draw(st.floats(min_value=1e-6, max_value=1.0)) * T, T


def _model(params, modified):
    cls = crmkit.ModifiedBetaGeoFitter if modified else crmkit.BetaGeoFitter
    return cls.from_params(dict(zip(("r", "alpha", "a", "b"), params)))


class _Slow(Exception):
    pass


def _reference(function, *args, **kwargs):
    """The mpmath value, or None where mpmath's own series does not converge within 3 s."""

    def give_up(*_):
        raise _Slow()

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(3)
    try:
        return function(*args, **kwargs)
    except (_Slow, mpmath.libmp.NoConvergence):
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@given(params=st.tuples(log_uniform, log_uniform, log_uniform, log_uniform), history=histories(),
       t=horizons, modified=st.booleans())
@settings(max_examples=400, deadline=None)
def test_predictions_are_finite_and_bounded_over_the_whole_range(params, history, t, modified):
    model = _model(params, modified)
    x, tx, T = history
    alive = model.conditional_probability_alive(x, tx, T)
    assert 0.0 <= alive <= 1.0
    early = model.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    later = model.conditional_expected_number_of_purchases_up_to_time(2 * t + 1, x, tx, T)
    assert np.isfinite(early) and np.isfinite(later)
    assert 0.0 <= early <= later * (1 + 1e-9) + 1e-300
    new = model.expected_number_of_purchases_up_to_time(np.array([t, 2 * t + 1]))
    assert np.all(np.isfinite(new)) and 0.0 <= new[0] <= new[1] * (1 + 1e-9) + 1e-300
    probability = model.probability_of_n_purchases_up_to_time(t, min(x, 50))
    assert np.isfinite(probability) and 0.0 <= probability <= 1.0 + 1e-12
    value = model.customer_lifetime_value(x, tx, T, 1.0, time=12, discount_rate=0.01, freq="W")
    assert np.isfinite(value) and value >= 0


@given(params=st.tuples(log_uniform, log_uniform, log_uniform, log_uniform), history=histories(),
       t=horizons, modified=st.booleans())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_predictions_match_fifty_digit_references(params, history, t, modified):
    r, alpha, a, b = params
    assume(abs(a - 1) > 1e-3)  # the papers' (a+b−1)/(a−1) form is 0/0 at a = 1
    model = _model(params, modified)
    x, tx, T = history
    expected = _reference(bg_conditional_expected, r, alpha, a, b, t, x, tx, T, modified)
    assume(expected is not None and expected > 1e-290)
    got = model.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    assert got == pytest.approx(float(expected), rel=1e-10)
    alive = float(bg_probability_alive(r, alpha, a, b, x, tx, T, modified))
    assert model.conditional_probability_alive(x, tx, T) == pytest.approx(alive, rel=1e-12,
                                                                          abs=1e-300)


@given(params=st.tuples(log_uniform, log_uniform, log_uniform, log_uniform), t=horizons,
       modified=st.booleans())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_new_customer_expectation_matches_fifty_digit_references(params, t, modified):
    r, alpha, a, b = params
    assume(abs(a - 1) > 1e-3)
    expected = _reference(bg_expected_new, r, alpha, a, b, t, modified)
    assume(expected is not None and expected > 1e-290)
    got = _model(params, modified).expected_number_of_purchases_up_to_time(t)
    assert got == pytest.approx(float(expected), rel=1e-10)


@given(params=st.tuples(log_uniform, log_uniform, log_uniform, log_uniform), t=horizons,
       n=st.integers(0, 12), modified=st.booleans())
@settings(max_examples=80, deadline=None)
def test_pmf_matches_fifty_digit_references(params, t, n, modified):
    # The reference adds eq. (8)'s two terms at 50 digits; in double the smaller can be below
    # the larger's rounding, so compare with an absolute floor relative to the total mass 1.
    r, alpha, a, b = params
    expected = float(bg_pmf(r, alpha, a, b, t, n, modified))
    got = _model(params, modified).probability_of_n_purchases_up_to_time(t, n)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-13)


@given(params=st.tuples(log_uniform, log_uniform, log_uniform), x=st.integers(0, 10_000),
       m=st.floats(min_value=1e-6, max_value=1e9))
@settings(max_examples=200, deadline=None)
def test_expected_spend_over_the_whole_range(params, x, m):
    p, q, v = params
    model = crmkit.GammaGammaFitter.from_params(dict(zip(("p", "q", "v"), params)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmkit.SpendWarning)
        spend = model.conditional_expected_average_profit(np.array([x]), np.array([m]))[0]
    if p * x + q - 1 > 1e-6 * (p * x + q):  # well away from the pole p·x + q = 1
        expected = float(gamma_gamma_expected_spend(p, q, v, x, m))
        assert spend == pytest.approx(expected, rel=1e-10)
    elif p * x + q <= 1:
        assert spend == np.inf


def test_large_a_regression_value():
    # Issue 13 defect 1: was 0.0; 0.0481492... by the 50-digit evaluation of FHL eq. (10).
    model = crmkit.BetaGeoFitter.from_params(dict(r=0.243, alpha=4.414, a=1e4, b=3))
    got = model.conditional_expected_number_of_purchases_up_to_time(10, 0, 0, 40)
    assert got == pytest.approx(float(bg_conditional_expected(0.243, 4.414, 1e4, 3, 10, 0, 0, 40)),
                                rel=1e-11)
    assert got == pytest.approx(0.0481492, rel=1e-6)


@pytest.mark.parametrize("cls", [crmkit.BetaGeoFitter, crmkit.ModifiedBetaGeoFitter])
def test_expected_purchases_at_b_equal_one(cls):
    # Issue 13 defect 2: NaN at b == 1 exactly for t ≫ alpha.
    t = np.array([0.5, 10.0, 1e4])
    at_one = cls.from_params(dict(r=0.243, alpha=4.414, a=0.793, b=1.0)).expected_number_of_purchases_up_to_time(t)
    modified = cls is crmkit.ModifiedBetaGeoFitter
    expected = [float(bg_expected_new(0.243, 4.414, 0.793, 1.0, s, modified)) for s in t]
    np.testing.assert_allclose(at_one, expected, rtol=1e-10)
    for delta in (1e-9, -1e-9):
        near = cls.from_params(dict(r=0.243, alpha=4.414, a=0.793, b=1.0 + delta))
        np.testing.assert_allclose(near.expected_number_of_purchases_up_to_time(t), at_one, rtol=1e-8)


def test_clv_with_a_billion_month_horizon():
    # Issue 13 defect 7: time=1e9 looped 1e9 times per customer. Discounted, the sum stops once
    # the rest is below 1e-17 of it; undiscounted it telescopes; a negative rate is refused.
    model = crmkit.BetaGeoFitter.from_params(dict(r=0.243, alpha=4.414, a=0.793, b=2.426))
    x, tx, T, m = np.array([0.0, 2, 7]), np.array([0.0, 30.43, 20]), np.array([38.86, 38.86, 30]), 10.0
    huge = model.customer_lifetime_value(x, tx, T, m, time=1e9, discount_rate=0.01, freq="W")
    long = model.customer_lifetime_value(x, tx, T, m, time=6000, discount_rate=0.01, freq="W")
    np.testing.assert_allclose(huge, long, rtol=1e-14)
    flat = model.customer_lifetime_value(x, tx, T, m, time=1e9, discount_rate=0.0, freq="W")
    cet = model.conditional_expected_number_of_purchases_up_to_time(1e9 * 4.345, x, tx, T)
    np.testing.assert_allclose(flat, m * cet, rtol=1e-14)
    with pytest.raises(ValueError, match="max_discounted_months"):
        model.customer_lifetime_value(x, tx, T, m, time=1e9, discount_rate=-0.01, freq="W")


def test_fit_at_the_no_dropout_boundary_warns():
    # Every customer bought at the end of the window: no sign of dropout, a/(a+b) → 0.
    T = 20.0 + np.arange(300) % 17
    frequency = 1.0 + np.arange(300) % 5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = crmkit.BetaGeoFitter().fit(frequency, T, T)
    messages = [str(w.message) for w in caught]
    assert any("a/(a+b) → 0" in text and "reduces to the NBD" in text for text in messages)
    assert any("at the boundary" in text for text in model.convergence_["warnings"])
    prediction = model.conditional_expected_number_of_purchases_up_to_time(10, frequency, T, T)
    assert np.all(np.isfinite(prediction))
