"""crmkit.simulate_transactions: reproducible, thread-independent, faithful to its model."""

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.data import simulate_transactions


def test_same_seed_same_log_whatever_the_thread_count():
    saved = crmkit.num_threads()
    try:
        crmkit.set_num_threads(1)
        log_one, truth_one = simulate_transactions(20_000, seed=11)
        crmkit.set_num_threads(4)
        log_four, truth_four = simulate_transactions(20_000, seed=11)
    finally:
        crmkit.set_num_threads(saved)
    pd.testing.assert_frame_equal(log_one, log_four, check_exact=True)
    pd.testing.assert_frame_equal(truth_one, truth_four, check_exact=True)
    other, _ = simulate_transactions(20_000, seed=12)
    assert not other["amount"].equals(log_one["amount"])


def test_log_follows_the_model_and_the_calendar():
    n = 100_000
    log, truth = simulate_transactions(n, seed=5, start="2020-03-01", freq="D", acquisition_periods=30, horizon=365)
    assert list(log.columns) == ["customer_id", "date", "amount"]
    assert log["date"].dtype == "datetime64[ns]"
    assert truth.index.name == "customer_id" and len(truth) == n
    # Purchase rates, dropout probabilities and spend rates have the defaults' means:
    # r / alpha, a / (a + b), q / gamma (CDNOW), each within 4 standard errors.
    for column, mean in [("lambda", 0.243 / 4.414), ("p", 0.793 / (0.793 + 2.426)), ("nu", 3.74 / 15.44)]:
        values = truth[column]
        assert abs(values.mean() - mean) < 4 * values.std() / np.sqrt(n), column
    # Every amount times its customer's nu is Gamma(p = 6.25, 1): mean 6.25, variance 6.25.
    scaled = log["amount"].to_numpy() * truth["nu"].to_numpy()[log["customer_id"].to_numpy()]
    assert abs(scaled.mean() - 6.25) < 4 * np.sqrt(6.25 / len(scaled))
    # Each customer's first purchase is at birth (dates floored to whole seconds), in the
    # acquisition window; nothing is after the horizon; dates increase within a customer.
    first = log.groupby("customer_id")["date"].min()
    birth_dates = pd.Timestamp("2020-03-01") + pd.to_timedelta(np.floor(truth["birth"] * 86400), unit="s")
    pd.testing.assert_series_equal(first, birth_dates, check_names=False)
    assert truth["birth"].between(0, 30).all()
    assert log["date"].max() <= pd.Timestamp("2020-03-01") + pd.Timedelta(days=365)
    assert log.groupby("customer_id")["date"].apply(lambda d: d.is_monotonic_increasing).all()
    assert (truth["alive"] == np.isinf(truth["death"])).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="freq = 'M' must be 'H', 'D' or 'W'"):
        simulate_transactions(10, freq="M")
    with pytest.raises(ValueError, match="alpha = 0 must be positive"):
        simulate_transactions(10, alpha=0)
    with pytest.raises(ValueError, match="n_customers = 0 must be at least 1"):
        simulate_transactions(0)
    with pytest.raises(ValueError, match="more than max_transactions = 100"):
        simulate_transactions(1000, max_transactions=100)
