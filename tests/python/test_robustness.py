"""Issue 13 ("never silently wrong"): regression tests for the data, survey and segment defects.

Each test failed before the fix: the number in the test name is the defect's number in the issue.
"""

import numpy as np
import pandas as pd
import pytest

import crmkit


def _log(dates, ids=(1, 1, 2)):
    return pd.DataFrame({"id": list(ids), "date": dates, "amount": [1.0, 2.0, 3.0]})


def test_4_integer_dates_are_yyyymmdd_not_nanoseconds():
    summary = crmkit.summary_data_from_transaction_data(
        _log(np.array([20240101, 20240111, 20240105])), "id", "date")
    # Customer 1 bought on 2024-01-01 and 2024-01-11; the log ends 2024-01-11.
    assert summary.loc[1, "recency"] == 10
    assert summary.loc[1, "T"] == 10
    assert summary.loc[2, "T"] == 6
    with pytest.raises(ValueError, match=r"integer dates are read as YYYYMMDD, but the value at row 1"):
        crmkit.summary_data_from_transaction_data(_log(np.array([20240101, 5, 20240105])), "id", "date")
    with pytest.raises(ValueError, match=r"holds numbers of dtype float64"):
        crmkit.summary_data_from_transaction_data(_log(np.array([1.7e18, 1.8e18, 1.9e18])), "id", "date")


def test_4_simulated_dates_past_the_datetime64_range_are_refused():
    with pytest.raises(ValueError, match=r"ends after 2262-04-11"):
        crmkit.simulate_transactions(10, start="2261-06-01", seed=1)
    log, _ = crmkit.simulate_transactions(10, start="2200-01-01", seed=1)
    assert log["date"].min() >= pd.Timestamp("2200-01-01")


def test_5_uint64_ids_keep_their_value_in_the_summary_and_in_write_csv(tmp_path):
    ids = np.array([2**64 - 1, 2**63 + 5, 2**64 - 1], dtype=np.uint64)
    log = pd.DataFrame({"id": ids, "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05"])})
    summary = crmkit.summary_data_from_transaction_data(log, "id", "date")
    assert sorted(int(i) for i in summary.index) == [2**63 + 5, 2**64 - 1]
    path = tmp_path / "ids.csv"
    crmkit.write_csv(pd.DataFrame({"id": ids}), path, index=False)
    assert path.read_text().split() == ["id", str(2**64 - 1), str(2**63 + 5), str(2**64 - 1)]


def test_6_freq_multiplier_outside_its_limits_is_refused():
    log = _log(pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-05"]))
    with pytest.raises(ValueError, match=r"freq_multiplier = 1e-320 must lie in \[1e-06, 1000000\]"):
        crmkit.summary_data_from_transaction_data(log, "id", "date", freq_multiplier=1e-320)


def test_6_survey_zero_weights_nan_min_n_and_fractional_scales_are_refused():
    with pytest.raises(ValueError, match="every weight is 0"):
        crmkit.nps([10, 9, 3], weights=[0, 0, 0])
    with pytest.raises(ValueError, match=r"min_n \(small_sample_below\) = nan"):
        crmkit.nps([10, 9, 3], min_n=float("nan"))
    with pytest.raises(ValueError, match=r"scale\[0\] = 1.5 must be an integer"):
        crmkit.csat([1, 2, 5], scale=(1.5, 5))


def test_3_kmeans_on_huge_features_asks_to_rescale():
    x = np.arange(6, dtype=float).reshape(-1, 1) * 1e154
    with pytest.raises(ValueError, match="spreads too far for squared distances"):
        crmkit.KMeans(n_clusters=2, random_state=0, n_init=1).fit(x)


def test_3_summary_mean_spend_of_amounts_near_the_double_range_is_finite():
    log = pd.DataFrame({"id": [7, 7, 7], "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                        "amount": [1.0, 1.5e308, 1.5e308]})
    summary = crmkit.summary_data_from_transaction_data(log, "id", "date", monetary_value_col="amount")
    assert summary.loc[7, "monetary_value"] == 1.5e308


def test_7_size_options_beyond_their_limits_are_refused():
    x = np.arange(20, dtype=float).reshape(-1, 2)
    with pytest.raises(ValueError, match=r"n_init = 1000000000 exceeds its limit of 1000"):
        crmkit.KMeans(n_clusters=2, n_init=10**9).fit(x)
