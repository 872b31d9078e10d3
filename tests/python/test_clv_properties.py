"""Property tests: any valid history and parameters give finite, well-ordered predictions."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import crmkit

positive = st.floats(min_value=0.02, max_value=60.0, allow_nan=False)
ages = st.floats(min_value=0.0, max_value=20_000.0, allow_nan=False)


@st.composite
def histories(draw):
    T = draw(ages)
    x = draw(st.integers(min_value=0, max_value=20_000))
    if x == 0 or T == 0:
        return 0.0, 0.0, T
    tx = draw(st.floats(min_value=1e-6, max_value=1.0)) * T
    if tx == 0:  # T so small that the product underflows: no valid repeat history
        return 0.0, 0.0, T
    return float(x), tx, T


@given(params=st.tuples(positive, positive, positive, positive), history=histories(),
       t=st.floats(min_value=0.0, max_value=1e6), modified=st.booleans())
@settings(max_examples=300, deadline=None)
def test_predictions_are_finite_and_bounded(params, history, t, modified):
    cls = crmkit.ModifiedBetaGeoFitter if modified else crmkit.BetaGeoFitter
    model = cls.from_params(dict(zip(("r", "alpha", "a", "b"), params)))
    x, tx, T = history
    alive = model.conditional_probability_alive(x, tx, T)
    assert 0.0 <= alive <= 1.0
    early = model.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
    later = model.conditional_expected_number_of_purchases_up_to_time(2 * t + 1, x, tx, T)
    assert np.isfinite(early) and np.isfinite(later)
    assert 0.0 <= early <= later * (1 + 1e-9) + 1e-12
    new = model.expected_number_of_purchases_up_to_time(t)
    assert np.isfinite(new) and new >= 0
    probability = model.probability_of_n_purchases_up_to_time(t, min(x, 50))
    assert 0.0 <= probability <= 1.0 + 1e-12


@given(params=st.tuples(positive, positive, positive), x=st.integers(0, 10_000),
       m=st.floats(min_value=1e-6, max_value=1e9))
@settings(max_examples=200, deadline=None)
def test_expected_spend_is_finite_or_flagged(params, x, m):
    model = crmkit.GammaGammaFitter.from_params(dict(zip(("p", "q", "v"), params)))
    p, q, v = params
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmkit.SpendWarning)
        spend = model.conditional_expected_average_profit(np.array([x]), np.array([m]))[0]
    if p * x + q > 1:
        assert np.isfinite(spend) and spend > 0
    else:
        assert spend == np.inf
