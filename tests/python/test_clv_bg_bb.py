"""crmkit.BetaGeoBetaBinomFitter: the published donations fit (Fader, Hardie & Shang 2010),
lifetimes' interface, and every prediction against the paper's closed forms evaluated by mpmath at
50 digits (clv_reference.py), over the whole parameter range an optimiser can reach (1e-6 .. 1e8)
and histories of up to 10⁴ opportunities."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import crmkit
from clv_reference import (within, bgbb_conditional_expected, bgbb_dert, bgbb_log_likelihood, bgbb_pmf,
                           bgbb_probability_alive)

DATA = Path(__file__).parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data directory absent")

NAMES = ("alpha", "beta", "gamma", "delta")
MLE = dict(alpha=1.203522, beta=0.749716, gamma=0.656718, delta=2.783443)  # CLV-NOTES §3


def _model(**params):
    return crmkit.BetaGeoBetaBinomFitter.from_params(params)


@pytest.fixture(scope="module")
def donations():
    return pd.read_csv(DATA / "donations.csv")


@needs_data
def test_donations_fit_matches_the_published_estimates(donations):
    model = crmkit.BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                                donations["periods"], donations["weights"])
    # Issue #12 / FHS 2010: 1.2035, 0.7497, 0.6567, 2.7834; log-likelihood −33,225.58.
    np.testing.assert_allclose(model.params_[list(NAMES)], [1.2035, 0.7497, 0.6567, 2.7834], rtol=1e-4)
    assert model.log_likelihood_ == pytest.approx(-33225.58, abs=0.01)
    assert list(model.params_.index) == list(NAMES)
    assert np.all(np.isfinite(model.standard_errors_)) and np.all(model.standard_errors_ > 0)
    assert list(model.summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert list(model.data.columns) == ["frequency", "recency", "n_periods", "weights"]
    assert model.convergence_["converged"]
    # lifetimes' test_fit_with_index: `index` becomes the data's index.
    index = range(len(donations), 0, -1)
    indexed = crmkit.BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                                  donations["periods"], donations["weights"], index=index)
    assert list(indexed.data.index) == list(index)


@needs_data
def test_weighted_fit_equals_the_fit_on_every_donor(donations):
    expanded = donations.loc[donations.index.repeat(donations["weights"])]
    assert len(expanded) == 11_104
    plain = crmkit.BetaGeoBetaBinomFitter().fit(expanded["frequency"], expanded["recency"], expanded["periods"])
    weighted = crmkit.BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                                   donations["periods"], weights=donations["weights"])
    assert plain.log_likelihood_ == pytest.approx(weighted.log_likelihood_, rel=1e-12)
    np.testing.assert_allclose(plain.params_, weighted.params_, rtol=1e-6)


@needs_data
def test_table_6_and_hardies_spreadsheet_are_reproduced(donations):
    x, tx, n = donations["frequency"], donations["recency"], donations["periods"]
    model = crmkit.BetaGeoBetaBinomFitter().fit(x, tx, n, donations["weights"])
    fitted_params = [model.params_[name] for name in NAMES]
    alive = model.conditional_probability_alive(1, x, tx, n)
    assert isinstance(alive, pd.Series) and alive.index.equals(donations.index)
    table = dict(zip(zip(x, tx), alive))
    # FHS 2010 Table 6 "P(alive in 2002)", the entries lifetimes' test quotes.
    assert table[(0, 0)] == pytest.approx(0.11, abs=0.005)
    assert table[(2, 4)] == pytest.approx(0.59, abs=0.005)
    assert table[(6, 6)] == pytest.approx(0.93, abs=0.005)
    # Every entry of the table against eq. (A10) in 50 digits.
    for (xi, ti), value in table.items():
        assert value == pytest.approx(float(bgbb_probability_alive(*fitted_params, 1, xi, ti, 6)), rel=1e-12)
    # Hardie's BG/BB spreadsheet (note 010): Σ E[X(6, 11)] = 12,884.2; in-sample fit cells C18, C24.
    expected = model.conditional_expected_number_of_purchases_up_to_time(5, x, tx, n) * donations["weights"]
    assert expected.sum() == pytest.approx(12884.2, abs=0.5)
    fitted = model.expected_number_of_transactions_in_first_n_periods(6)
    assert list(fitted.columns) == ["model"] and fitted.index.name == "frequency"
    assert fitted.loc[0, "model"] == pytest.approx(3454.9, abs=0.5)
    assert fitted.loc[6, "model"] == pytest.approx(1253.1, abs=0.5)


HISTORIES = [(0, 0, 6), (2, 4, 6), (6, 6, 6), (1, 1, 30), (0, 0, 0), (40, 90, 100), (3, 3, 1000)]
PARAMETERS = [MLE, dict(alpha=0.3, beta=5.0, gamma=1.0, delta=2.0), dict(alpha=20.0, beta=2.0, gamma=0.05, delta=0.2)]


@pytest.mark.parametrize("params", PARAMETERS)
def test_predictions_match_the_closed_forms_at_fifty_digits(params):
    model = _model(**params)
    p = tuple(params[k] for k in NAMES)
    for x, tx, n in HISTORIES:
        for m in (0, 1, 10):
            got = model.conditional_probability_alive(m, x, tx, n)
            assert got == pytest.approx(float(bgbb_probability_alive(*p, m, x, tx, n)), rel=1e-11)
        for m in (1, 5, 200):
            got = model.conditional_expected_number_of_purchases_up_to_time(m, x, tx, n)
            assert got == pytest.approx(float(bgbb_conditional_expected(*p, m, x, tx, n)), rel=1e-11)
        for rate in (0.1, 0.01):
            got = model.discounted_expected_residual_transactions(x, tx, n, rate)
            assert got == pytest.approx(float(bgbb_dert(*p, rate, x, tx, n)), rel=1e-10)
    counts = np.arange(0, 8)
    np.testing.assert_allclose(model.probability_of_n_purchases_up_to_time(7, counts),
                               [float(bgbb_pmf(*p, 7, k)) for k in counts], rtol=1e-11)


def test_new_customer_mean_and_lifetime_value_are_consistent():
    model = _model(**MLE)
    n = np.array([1.0, 6.0, 50.0])
    pmf_means = [sum(k * model.probability_of_n_purchases_up_to_time(v, k) for k in range(int(v) + 1)) for v in n]
    np.testing.assert_allclose(model.expected_number_of_purchases_up_to_time(n), pmf_means, rtol=1e-10)
    x, tx, periods = np.array([0, 3, 6]), np.array([0, 5, 6]), np.array([6, 6, 6])
    value = model.residual_lifetime_value(x, tx, periods, np.array([10.0, 20.0, 30.0]), 0.1)
    np.testing.assert_allclose(value, [10, 20, 30] * model.discounted_expected_residual_transactions(x, tx, periods, 0.1))


def test_bad_input_raises_named_errors():
    model = _model(**MLE)
    with pytest.raises(ValueError, match=r"recency\[1\] = 8 is greater than n_periods\[1\] = 6"):
        model.conditional_probability_alive(0, [0, 1], [0, 8], [6, 6])
    with pytest.raises(ValueError, match=r"frequency\[0\] = 5 is greater than recency\[0\] = 4"):
        model.conditional_expected_number_of_purchases_up_to_time(1, 5, 4, 6)
    with pytest.raises(ValueError, match=r"frequency\[0\] = nan"):
        crmkit.BetaGeoBetaBinomFitter().fit([np.nan, 1], [0, 1], [6, 6])
    with pytest.raises(ValueError, match=r"recency\[0\] = -1"):
        model.discounted_expected_residual_transactions(1, -1, 6, 0.1)
    with pytest.raises(ValueError, match=r"n_periods\[0\] = 6.5 must be an integer"):
        crmkit.BetaGeoBetaBinomFitter().fit([1], [2], [6.5])
    with pytest.raises(ValueError, match="discount_rate"):
        model.discounted_expected_residual_transactions(1, 2, 6, 0.0)
    with pytest.raises(ValueError, match="gamma"):
        _model(alpha=1, beta=1, gamma=-1, delta=1).conditional_probability_alive(0, 1, 1, 2)
    with pytest.raises(ValueError, match="every customer has frequency 0"):
        crmkit.BetaGeoBetaBinomFitter().fit([0, 0], [0, 0], [3, 4])


def test_parameter_recovery_on_simulated_donors():
    # Simulated from the model's definition (FHS 2010 §2): p ~ Beta(α, β), θ ~ Beta(γ, δ); before
    # each of 8 opportunities an alive donor dies with probability θ, else gives with probability p.
    truth = dict(alpha=1.2, beta=0.75, gamma=0.65, delta=2.8)
    rng = np.random.default_rng(12)
    size, n = 30_000, 8
    p = rng.beta(truth["alpha"], truth["beta"], size)
    theta = rng.beta(truth["gamma"], truth["delta"], size)
    lifetime = rng.geometric(theta) - 1  # opportunities survived
    gives = rng.random((size, n)) < p[:, None]
    alive = np.arange(1, n + 1)[None, :] <= lifetime[:, None]
    given_ = gives & alive
    x = given_.sum(axis=1)
    tx = np.where(x > 0, n - np.argmax(given_[:, ::-1], axis=1), 0)
    model = crmkit.BetaGeoBetaBinomFitter().fit(x, tx, np.full(size, n))
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name


log_uniform = st.floats(min_value=-6.0, max_value=8.0).map(lambda e: float(10.0**e))


@st.composite
def discrete_histories(draw):
    n = draw(st.sampled_from([0, 1, 6, 50, 1000, 10_000]))
    tx = draw(st.integers(min_value=0, max_value=n))
    x = 0 if tx == 0 else draw(st.integers(min_value=1, max_value=tx))
    return x, tx, n


@given(params=st.tuples(log_uniform, log_uniform, log_uniform, log_uniform), history=discrete_histories(),
       m=st.sampled_from([1, 7, 10_000]))
# DERT lost 1e-9: γΔ − (γ+b)·log1p(...) cancelled terms of size γ ~ 1e8 in the posterior Beta.
@example(params=(1.0, 1.0, 99998250.17144732, 0.001), history=(0, 0, 1), m=1)
# ln L lost 1.4e-9: Boost's tgamma_delta_ratio(1e8 + 1, 20) (now Stirling's series for z >= 1e4).
@example(params=(1.0, 1.0, 1.0, 1e8), history=(1, 19, 50), m=1)
@settings(max_examples=60, deadline=None)
def test_predictions_match_fifty_digit_references_over_the_whole_range(params, history, m):
    model = _model(**dict(zip(NAMES, params)))
    x, tx, n = history
    log_likelihood = within(5, bgbb_log_likelihood, *params, x, tx, n)
    assume(log_likelihood is not None)
    got = crmkit._core.clv.bg_bb_log_likelihood(list(params), [x], [tx], [n])[0]
    assert got == pytest.approx(float(log_likelihood), rel=1e-10, abs=1e-10)
    alive = model.conditional_probability_alive(m, x, tx, n)
    assert alive == pytest.approx(float(bgbb_probability_alive(*params, m, x, tx, n)), rel=1e-9, abs=1e-300)
    expected = model.conditional_expected_number_of_purchases_up_to_time(m, x, tx, n)
    reference = within(5, bgbb_conditional_expected, *params, m, x, tx, n)
    if reference is not None:
        assert expected == pytest.approx(float(reference), rel=1e-9, abs=1e-300)
    dert = model.discounted_expected_residual_transactions(x, tx, n, 0.05)
    reference = within(5, bgbb_dert, *params, 0.05, x, tx, n)
    if reference is not None:
        assert dert == pytest.approx(float(reference), rel=1e-9, abs=1e-300)
    assert np.isfinite(dert) and dert >= 0 and 0.0 <= alive <= 1.0
