"""The CDNOW sample summarised in Python reproduces the published calibration summary."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmkit import _core
from crmkit.data import calibration_and_holdout_data, summary_data_from_transaction_data

DATA = Path(__file__).parents[2].parent / "shared" / "data"
HALF_CENT = 0.005 + 1e-9  # the published values are rounded to 0.01


@pytest.fixture(scope="module")
def cdnow():
    path = DATA / "CDNOW_sample.txt"
    if not path.exists():
        pytest.skip(f"reference data not found: {path}")
    # Whitespace-separated, no header: master id, customer id, YYYYMMDD, CDs, dollars.
    log = pd.read_csv(path, sep=r"\s+", header=None, names=["master", "id", "date", "cds", "dollars"])
    log["date"] = pd.to_datetime(log["date"].astype(str), format="%Y%m%d")
    return log


def test_cdnow_summary_matches_the_published_one(cdnow):
    summary = summary_data_from_transaction_data(
        cdnow, "id", "date", "dollars", observation_period_end="1997-09-30", freq="D", freq_multiplier=7
    )
    published = pd.read_csv(DATA / "cdnow_customers_summary.csv", index_col="ID")
    # This file has CRLF line endings; pandas reads them.
    with_spend = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    assert len(summary) == len(published) == len(with_spend) == 2357
    assert (summary.index == published.index).all()
    np.testing.assert_array_equal(summary["frequency"], published["frequency"])
    np.testing.assert_array_equal(summary["frequency"], with_spend["x"])
    assert np.abs(summary["recency"] - published["recency"]).max() <= HALF_CENT
    assert np.abs(summary["T"] - published["T"]).max() <= HALF_CENT
    # zbar averages repeat purchase *days* (same-day transactions summed); averaging single
    # transactions instead would miss it for 51 customers.
    assert np.abs(summary["monetary_value"] - with_spend["zbar"]).max() <= HALF_CENT


def test_cdnow_python_equals_cpp_exactly(cdnow):
    summary = summary_data_from_transaction_data(
        cdnow, "id", "date", "dollars", observation_period_end="1997-09-30", freq="D", freq_multiplier=7
    )
    seconds = cdnow["date"].to_numpy().astype("datetime64[s]").astype(np.int64)
    core = _core.data.summarize(
        cdnow["id"].to_numpy(), seconds, cdnow["dollars"].to_numpy(), freq="D", freq_multiplier=7,
        observation_period_end=int(pd.Timestamp("1997-09-30").timestamp()),
    )
    np.testing.assert_array_equal(summary.index, core["customer"])
    for column in ["frequency", "recency", "T", "monetary_value"]:
        np.testing.assert_array_equal(summary[column].to_numpy(), core[column])


def test_cdnow_calibration_and_holdout(cdnow):
    split = calibration_and_holdout_data(
        cdnow, "id", "date", "1997-09-30", "1998-06-30", freq="D", freq_multiplier=7, monetary_value_col="dollars"
    )
    published = pd.read_csv(DATA / "cdnow_customers_summary.csv", index_col="ID")
    assert len(split) == 2357
    assert np.abs(split["T_cal"] - published["T"]).max() <= HALF_CENT
    # Holdout purchase days counted independently: distinct (id, day) pairs after 1997-09-30.
    later = cdnow[cdnow["date"] > "1997-09-30"]
    days = later.groupby("id")["date"].nunique().reindex(split.index).fillna(0)
    np.testing.assert_array_equal(split["frequency_holdout"], days)
    assert split["duration_holdout"].iloc[0] == 273 / 7  # 1997-09-30 to 1998-06-30
