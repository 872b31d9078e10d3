"""crmkit.clv against published CDNOW estimates and independent numpy/scipy computations."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, expit, gammaln, hyp2f1

import crmkit
from crmkit.clv import ConvergenceWarning, SpendWarning
from clv_reference import pareto_probability_alive

DATA = Path(__file__).parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data directory absent")

FHL = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005 CDNOW estimates
MBG = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}


@pytest.fixture(scope="module")
def cdnow():
    return pd.read_csv(DATA / "cdnow_customers_summary.csv", index_col="ID")


@pytest.fixture(scope="module")
def cdnow_spend():
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")


def bg_log_likelihood(params, x, tx, T):
    """lifetimes' BetaGeoFitter._negative_log_likelihood terms in plain numpy."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(tx + alpha)
    return np.sum(a1 + a2 + np.logaddexp(a3, np.where(x > 0, a4, -np.inf)))


def bg_cet_scipy(params, t, x, tx, T):
    """FHL 2005 eq. (10) as lifetimes writes it, with scipy's hyp2f1 (accurate for small x)."""
    r, alpha, a, b = params
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    first = (a + b + x - 1) / (a - 1) * (1 - hyp * ((alpha + T) / (alpha + t + T)) ** (r + x))
    return first / (1 + (x > 0) * (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x))


def mbg_cet_scipy(params, t, x, tx, T):
    """lifetimes' ModifiedBetaGeoFitter conditional expectation with scipy's hyp2f1."""
    r, alpha, a, b = params
    hyp = hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T + t))
    first = (a + b + x) / (a - 1) * (1 - hyp * ((alpha + T) / (alpha + t + T)) ** (r + x))
    return first / (1 + (a / (b + x)) * ((alpha + T) / (alpha + tx)) ** (r + x))


# ---------------------------------------------------------------------------------- CDNOW fits


@needs_data
def test_bg_nbd_cdnow_matches_published_estimates_and_errors(cdnow):
    # FHL 2005 / CLV-NOTES §3; standard errors from the notes' numerical Hessian.
    bgf = crmkit.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    expected = [0.24259, 4.41353, 0.79289, 2.42575]
    np.testing.assert_allclose(bgf.params_[["r", "alpha", "a", "b"]], expected, rtol=1e-3)
    assert abs(bgf.log_likelihood_ - (-9582.43)) < 0.01
    np.testing.assert_allclose(bgf.summary["se(coef)"], [0.0126, 0.378, 0.186, 0.705], rtol=0.02)
    assert list(bgf.summary.columns) == ["coef", "se(coef)", "lower 95% bound", "upper 95% bound"]
    assert bgf.convergence_["converged"]
    assert bgf.convergence_["patterns"] == 1016  # CLV-NOTES §5: 1,016 unique triples
    # The reported log-likelihood is the plain numpy likelihood at the estimate.
    params = bgf.params_[["r", "alpha", "a", "b"]].to_numpy()
    x, tx, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    assert bgf.log_likelihood_ == pytest.approx(bg_log_likelihood(params, x, tx, T), abs=1e-8)


@needs_data
def test_mbg_nbd_cdnow_matches_reference(cdnow):
    mbgf = crmkit.ModifiedBetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    np.testing.assert_allclose(mbgf.params_[["r", "alpha", "a", "b"]],
                               [0.52484, 6.18299, 0.89136, 1.61400], rtol=1e-3)
    assert abs(mbgf.log_likelihood_ - (-9582.13)) < 0.01


@needs_data
def test_gamma_gamma_cdnow_matches_note_025(cdnow_spend):
    repeat = cdnow_spend[cdnow_spend["x"] > 0]
    assert len(repeat) == 946
    ggf = crmkit.GammaGammaFitter().fit(repeat["x"], repeat["zbar"])
    np.testing.assert_allclose(ggf.params_[["p", "q", "v"]], [6.2488, 3.7446, 15.4478], rtol=1e-3)
    assert abs(ggf.log_likelihood_ - (-4055.92)) < 0.01
    # The expected spend is note 025 eq. (5) evaluated by hand.
    p, q, v = ggf.params_[["p", "q", "v"]]
    x, m = repeat["x"].to_numpy(float), repeat["zbar"].to_numpy(float)
    np.testing.assert_allclose(ggf.conditional_expected_average_profit(repeat["x"], repeat["zbar"]),
                               (p * v + p * x * m) / (p * x + q - 1), rtol=1e-13)


@needs_data
def test_weighted_fit_of_compressed_rows_equals_the_full_fit(cdnow):
    grouped = cdnow.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    full = crmkit.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    weighted = crmkit.BetaGeoFitter().fit(grouped["frequency"], grouped["recency"], grouped["T"],
                                          weights=grouped["n"])
    np.testing.assert_allclose(weighted.params_, full.params_, rtol=1e-8)
    assert weighted.log_likelihood_ == pytest.approx(full.log_likelihood_, abs=1e-7)


# -------------------------------------------------------------------------------- predictions


def test_conditional_expectation_matches_scipy_hyp2f1_where_it_is_accurate():
    bgf = crmkit.BetaGeoFitter.from_params(FHL)
    mbgf = crmkit.ModifiedBetaGeoFitter.from_params(MBG)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 15, 300).astype(float)
    T = rng.uniform(1, 60, 300)
    tx = np.where(x > 0, rng.uniform(0.01, 1, 300) * T, 0.0)
    t = rng.uniform(0.1, 100, 300)
    params = list(FHL.values())
    np.testing.assert_allclose(bgf.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T),
                               bg_cet_scipy(params, t, x, tx, T), rtol=1e-9)
    np.testing.assert_allclose(mbgf.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T),
                               mbg_cet_scipy(list(MBG.values()), t, x, tx, T), rtol=1e-9)
    # lifetimes' test value from Hardie's spreadsheet (tests/test_estimation.py).
    assert abs(bgf.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86) - 1.226) < 1e-3


def test_new_customer_expectation_and_pmf_match_the_published_formulas():
    r, alpha, a, b = FHL.values()
    bgf = crmkit.BetaGeoFitter.from_params(FHL)
    t = np.array([0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0, 500.0])
    expected = (a + b - 1) / (a - 1) * (1 - hyp2f1(r, b, a + b - 1, t / (alpha + t)) * (alpha / (alpha + t)) ** r)
    np.testing.assert_allclose(bgf.expected_number_of_purchases_up_to_time(t), expected, rtol=1e-10)
    # FHL 2005 eq. (8) with the raw finite sum, as lifetimes evaluates it (fine for small n).
    for n in range(6):
        for time in (1.0, 10.0, 39.0):
            j = np.arange(n)
            nb = np.exp(gammaln(r + n) - gammaln(r) - gammaln(n + 1)) * (alpha / (alpha + time)) ** r * (time / (alpha + time)) ** n
            first = np.exp(betaln(a, b + n) - betaln(a, b)) * nb
            finite = np.sum(np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1)) * (time / (alpha + time)) ** j)
            second = np.exp(betaln(a + 1, b + n - 1) - betaln(a, b)) * (1 - (alpha / (alpha + time)) ** r * finite) if n > 0 else 0
            assert bgf.probability_of_n_purchases_up_to_time(time, n) == pytest.approx(first + second, rel=1e-10)


def test_probability_alive_matches_the_closed_form_and_output_follows_the_input():
    bgf = crmkit.BetaGeoFitter.from_params(FHL)
    r, alpha, a, b = FHL.values()
    x = pd.Series([0.0, 1, 4, 20], index=["w", "x", "y", "z"])
    tx = pd.Series([0.0, 5, 30, 2], index=x.index)
    T = 39.0
    alive = bgf.conditional_probability_alive(x, tx, T)
    assert isinstance(alive, pd.Series) and list(alive.index) == ["w", "x", "y", "z"]
    expected = 1 / (1 + (x > 0) * a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    np.testing.assert_allclose(alive, expected, rtol=1e-13)
    assert isinstance(bgf.conditional_probability_alive(1, 5, 39), float)
    assert isinstance(bgf.conditional_probability_alive(np.array([1.0]), np.array([5.0]), np.array([39.0])), np.ndarray)


def test_extreme_histories_are_finite():
    bgf = crmkit.BetaGeoFitter.from_params(FHL)
    mbgf = crmkit.ModifiedBetaGeoFitter.from_params(MBG)
    small_b = crmkit.BetaGeoFitter.from_params({"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 0.3})
    near_one = crmkit.BetaGeoFitter.from_params({"r": 0.24, "alpha": 4.4, "a": 1.0, "b": 2.4})
    x = np.array([10_000, 10_000, 0, 3, 200])
    tx = np.array([10_000, 1, 0, 10, 5])
    T = np.array([10_000, 10_000, 10, 10, 10])
    for model in (bgf, mbgf, small_b, near_one):
        for t in (1e-9, 1.0, 500.0, 1e6):
            values = model.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)
            assert np.all(np.isfinite(values)) and np.all(values >= 0)
    # lifetimes' direct hyp2f1 overflows at x = 200 (CLV-NOTES §2); the stable form does not.
    assert np.isfinite(bgf.conditional_expected_number_of_purchases_up_to_time(500, 200, 5, 10))


def test_lifetime_value_follows_lifetimes_discounted_cash_flow():
    bgf = crmkit.BetaGeoFitter.from_params(FHL)
    ggf = crmkit.GammaGammaFitter.from_params({"p": 6.25, "q": 3.74, "v": 15.44})
    x = pd.Series([0.0, 2, 7]); tx = pd.Series([0.0, 30.43, 20]); T = pd.Series([38.86, 38.86, 30])
    m = pd.Series([0.0, 22.35, 41.0])
    clv = ggf.customer_lifetime_value(bgf, x, tx, T, m, time=12, discount_rate=0.01, freq="W")
    # lifetimes utils._customer_lifetime_value, with scipy's CET and note 025's spend.
    p, q, v = 6.25, 3.74, 15.44
    spend = np.where(x > 0, (p * v + p * x * m) / (p * x + q - 1), p * v / (q - 1))
    factor, expected = 4.345, np.zeros(3)
    for i in np.arange(1, 13) * factor:
        increment = bg_cet_scipy(list(FHL.values()), i, x, tx, T) - bg_cet_scipy(list(FHL.values()), i - factor, x, tx, T)
        expected += spend * increment / 1.01 ** (i / factor)
    np.testing.assert_allclose(clv, expected, rtol=1e-9)
    continuous = bgf.customer_lifetime_value_continuous(x, tx, T, spend, freq="W")
    np.testing.assert_allclose(continuous, expected, rtol=0.01)


def test_grids_and_diagnostics():
    bgf = crmkit.BetaGeoFitter.from_params(FHL)
    grid = bgf.conditional_probability_alive_matrix(max_frequency=5, max_recency=10)
    assert grid.shape == (11, 6)
    assert grid[4, 2] == pytest.approx(bgf.conditional_probability_alive(2, 4, 10))
    x = np.array([0, 0, 1, 3, 9.0]); T = np.full(5, 12.0)
    hist = bgf.expected_repeat_frequency_histogram(x, T, max_frequency=4)
    assert hist["actual"].sum() == 5 and hist["expected"].sum() == pytest.approx(5)
    table = bgf.calibration_vs_holdout(x, np.array([0, 0, 4, 9, 10.0]), T, np.array([0, 1, 2, 2, 6.0]), 10.0, 3)
    assert list(table.index) == [0, 1, 3]
    assert table.loc[0, "frequency_holdout"] == 0.5


def test_expected_cumulative_transactions_counts_and_predicts_like_lifetimes():
    transactions = pd.DataFrame({
        "id": [1, 1, 1, 2, 2, 3],
        "date": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-04", "2020-01-02",
                                "2020-01-05", "2020-01-03"]),
    })
    bgf = crmkit.BetaGeoFitter.from_params(FHL)
    out = crmkit.expected_cumulative_transactions(bgf, transactions, "date", "id", t=5)
    # Repeats (deduplicated per day, first day excluded): customer 1 on day 3, customer 2 on day 4.
    assert list(out["actual"]) == [0, 0, 0, 1, 2]
    e = bgf.expected_number_of_purchases_up_to_time
    # Births: day 0 (customer 1), day 1 (customer 2), day 2 (customer 3).
    assert out["predicted"].iloc[4] == pytest.approx(e(5) + e(4) + e(3))
    assert out["predicted"].iloc[0] == pytest.approx(e(1))



@pytest.mark.parametrize("column, missing", [("date", pd.NaT), ("id", np.nan)])
def test_expected_cumulative_transactions_refuses_a_missing_date_or_id_by_row(column, missing):
    # Issue 13, defect 6: a row with a missing date (or id) used to vanish from the counts.
    transactions = pd.DataFrame({
        "id": [1.0, 1, 1, 2, 2, 3],
        "date": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-04", "2020-01-02",
                                "2020-01-05", "2020-01-03"]),
    }, index=[10, 11, 12, 13, 14, 15])
    transactions.loc[14, column] = missing
    bgf = crmkit.BetaGeoFitter.from_params(FHL)
    with pytest.raises(ValueError, match=rf"'{column}'.*row 14 .*missing"):
        crmkit.expected_cumulative_transactions(bgf, transactions, "date", "id", t=5)


# -------------------------------------------------------------------- errors, warnings, state


@pytest.mark.parametrize(
    "frequency, recency, T, message",
    [
        ([0, 1], [0, 5], [3, 4], r"recency\[1\] = 5 is greater than T\[1\] = 4"),
        ([0, 2], [0, 0], [3, 4], r"frequency\[1\] = 2 but recency\[1\] = 0"),
        ([0, 1.5], [0, 1], [3, 4], r"frequency\[1\] = 1.5 must be an integer"),
        ([0, -1], [0, 1], [3, 4], r"frequency\[1\] = -1 must be finite and >= 0"),
        ([0, 1], [0, np.nan], [3, 4], r"recency\[1\] = nan must be finite"),
        ([0, 1], [0, 1], [3], r"differ in length"),
        ([], [], [], r"frequency is empty"),
        ([0, 0], [0, 0], [3, 4], r"every customer has frequency 0"),
        # pandas' nullable columns: a missing value is named like a NaN, text by its argument
        (pd.Series([0, None], dtype="Int64"), [0, 1], [3, 4], r"frequency\[1\] = nan must be finite"),
        ([0, 1], pd.Series(["0", "x"], dtype="string"), [3, 4],
         r"recency must be numbers: could not convert string to float: 'x'"),
    ],
)
def test_bad_input_names_the_argument_index_and_value(frequency, recency, T, message):
    with pytest.raises(ValueError, match=message):
        crmkit.BetaGeoFitter().fit(frequency, recency, T)


def test_histories_no_customer_has_give_the_formula_with_one_warning_as_lifetimes():
    # lifetimes evaluates its frequency × recency grid, frequency 0 with recency > 0 included.
    bgf = crmkit.BetaGeoFitter.from_params(FHL)
    r, alpha, a, b = FHL.values()
    x, tx, T = np.array([0.0, 0.0, 3.0, 2.0]), np.array([0.0, 7.0, 0.0, 9.0]), 39.0
    with pytest.warns(crmkit.HistoryWarning, match="2 histories .* position 1: frequency 0, recency 7") as caught:
        alive = bgf.conditional_probability_alive(x, tx, T)
    assert len(caught) == 1
    # FHL 2005 eq. (13) evaluated as written: the recency enters only through x > 0.
    expected = 1 / (1 + (x > 0) * a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    np.testing.assert_allclose(alive, expected, rtol=1e-13)
    pnbd = crmkit.ParetoNBDFitter.from_params(dict(r=0.55, alpha=10.58, s=0.61, beta=11.67))
    with pytest.warns(crmkit.HistoryWarning):
        value = pnbd.conditional_probability_alive(0, 7, 39)
    reference = float(pareto_probability_alive(0.55, 10.58, 0.61, 11.67, 0, 7, 39))  # note 009 in mpmath
    assert value == pytest.approx(reference, rel=1e-10)
    # Still errors: what no formula evaluates.
    with pytest.raises(ValueError, match=r"recency\[0\] = 40 is greater than T\[0\] = 39"):
        bgf.conditional_probability_alive(1, 40, 39)
    with pytest.raises(ValueError, match=r"recency\[0\] = -1"):
        bgf.conditional_probability_alive(0, -1, 39)
    with pytest.raises(ValueError, match="frequency 0 but recency|frequency\\[0\\] = 0 but recency"):
        crmkit.BetaGeoFitter().fit([0, 1], [3, 2], [5, 5])  # fitting data must be observable


def test_unknown_fit_arguments_warn_instead_of_failing():
    with pytest.warns(UserWarning, match=r"ignores the keyword arguments \['callback'\]"):
        crmkit.BetaGeoFitter().fit([0, 1, 2, 4], [0, 3, 8, 11], [10, 10, 12, 12], callback=print)
    assert issubclass(crmkit.ConvergenceError, ValueError)
    from crmkit.utils import ConvergenceError
    assert ConvergenceError is crmkit.ConvergenceError


def test_bad_spend_input():
    with pytest.raises(ValueError, match=r"monetary_value\[1\] = 0 must be positive"):
        crmkit.GammaGammaFitter().fit([1, 2], [10.0, 0.0])
    with pytest.raises(ValueError, match=r"frequency\[0\] = 0 must be >= 1"):
        crmkit.GammaGammaFitter().fit([0, 2], [10.0, 3.0])
    with pytest.raises(ValueError, match="has not been fit"):
        crmkit.BetaGeoFitter().conditional_probability_alive(1, 1, 2)


def test_non_convergence_warns_and_still_returns_a_model():
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        bgf = crmkit.BetaGeoFitter().fit([0, 1, 2, 4], [0, 3, 8, 11], [10, 10, 12, 12], maxiter=1)
    assert not bgf.convergence_["converged"]
    assert np.isfinite(bgf.log_likelihood_)


def test_heavy_tailed_spend_warns_that_the_mean_is_undefined():
    rng = np.random.default_rng(5)
    x = 1 + np.arange(4000) % 5
    nu = rng.gamma(0.8, 1 / 10, 4000)
    m = rng.gamma(2.0 * x, 1 / (x * nu))
    with pytest.warns(SpendWarning, match="q = "):
        ggf = crmkit.GammaGammaFitter().fit(x, m)
    assert ggf.params_["q"] < 1
    with pytest.warns(SpendWarning, match="infinite"):
        spend = ggf.conditional_expected_average_profit(np.array([0, 3]), np.array([0.0, 10.0]))
    assert np.isinf(spend[0]) and np.isfinite(spend[1])


@needs_data
def test_save_load_json_pickle_and_params_assignment(tmp_path, cdnow):
    bgf = crmkit.BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    path = tmp_path / "bgf.json"
    bgf.save_model(path)
    loaded = crmkit.BetaGeoFitter().load_model(path)
    pd.testing.assert_series_equal(loaded.params_, bgf.params_)
    pd.testing.assert_frame_equal(loaded.summary, bgf.summary)
    assert loaded.log_likelihood_ == bgf.log_likelihood_
    clone = pickle.loads(pickle.dumps(bgf))
    assert clone.conditional_probability_alive(2, 20, 39) == bgf.conditional_probability_alive(2, 20, 39)
    with pytest.raises(ValueError, match="holds a BetaGeoFitter"):
        crmkit.GammaGammaFitter().load_model(path)
    # Assigning params_ as in lifetimes changes the predictions.
    bgf.params_ = pd.Series(FHL)
    assert bgf.conditional_probability_alive(2, 30.43, 38.86) == pytest.approx(
        crmkit.BetaGeoFitter.from_params(FHL).conditional_probability_alive(2, 30.43, 38.86))
    with pytest.raises(ValueError, match="missing"):
        crmkit.BetaGeoFitter.from_params({"r": 1.0})
