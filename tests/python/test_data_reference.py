"""crmkit's summaries equal an independent plain-pandas implementation on random logs.

The reference below follows the documented semantics with pandas' own Period arithmetic
(``to_period``, Period subtraction) and groupby, sharing no code with crmkit. Amounts are
multiples of 1/4, so every sum is exact whatever the order of addition and the comparison can
be exact.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.data import calibration_and_holdout_data, summary_data_from_transaction_data

FREQS = ["H", "D", "W", "M", "Q", "Y"]
FIRST = pd.Timestamp("2019-12-20").value // 10**9
LAST = pd.Timestamp("2021-03-10").value // 10**9


def periods(later, earlier):
    """Whole periods between two pandas Periods (``Period - Period`` is an offset of n periods)."""
    return np.array([(a - b).n for a, b in zip(later, earlier)], dtype=float)


def per_period_totals(log, freq, end):
    log = log.assign(period=log["when"].dt.to_period(freq))
    log = log[log["period"] <= end]
    return log.groupby(["id", "period"], as_index=False)["spend"].sum()


def reference_summary(log, freq, multiplier, end, include_first):
    end = pd.Timestamp(end).to_period(freq)
    totals = per_period_totals(log, freq, end)
    grouped = totals.groupby("id")
    first, last, count = grouped["period"].min(), grouped["period"].max(), grouped.size()
    out = pd.DataFrame(index=first.index)
    out["frequency"] = (count if include_first else count - 1).astype(float)
    if include_first:
        out["recency"] = periods([end] * len(last), last) / multiplier
    else:
        out["recency"] = periods(last, first) / multiplier
    out["T"] = periods([end] * len(first), first) / multiplier
    if include_first:
        spend = totals
    else:
        spend = totals[totals["period"] != totals["id"].map(first)]
    out["monetary_value"] = spend.groupby("id")["spend"].mean().reindex(out.index).fillna(0.0)
    return out


def reference_holdout(log, freq, multiplier, calibration_end, end):
    calibration_end = pd.Timestamp(calibration_end).to_period(freq)
    end_period = pd.Timestamp(end).to_period(freq)
    totals = per_period_totals(log, freq, end_period)
    calibration = reference_summary(
        log[log["when"].dt.to_period(freq) <= calibration_end], freq, multiplier, calibration_end.to_timestamp(), False
    ).add_suffix("_cal")
    holdout = totals[totals["period"] > calibration_end].groupby("id")["spend"]
    calibration["frequency_holdout"] = holdout.size().reindex(calibration.index).fillna(0).astype(float)
    calibration["monetary_value_holdout"] = holdout.mean().reindex(calibration.index).fillna(0.0)
    calibration["duration_holdout"] = (end_period - calibration_end).n / multiplier
    return calibration


logs = st.lists(
    st.tuples(
        st.integers(0, 12),  # customer
        st.integers(FIRST, LAST),  # seconds
        st.integers(-40, 400),  # quarter-units of money
    ),
    min_size=1,
    max_size=80,
).map(
    lambda rows: pd.DataFrame(
        {
            "id": [r[0] * 7 - 20 for r in rows],
            "when": pd.to_datetime([r[1] for r in rows], unit="s"),
            "spend": [r[2] / 4 for r in rows],
        }
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=logs,
    freq=st.sampled_from(FREQS),
    multiplier=st.sampled_from([1, 2, 7, 0.5]),
    include_first=st.booleans(),
    end_seconds=st.one_of(st.none(), st.integers(FIRST, LAST)),
)
def test_summary_equals_the_pandas_reference(log, freq, multiplier, include_first, end_seconds):
    end = log["when"].max() if end_seconds is None else pd.Timestamp(end_seconds, unit="s")
    if (log["when"].dt.to_period(freq) <= end.to_period(freq)).sum() == 0:
        with pytest.raises(ValueError, match="is before every purchase"):
            summary_data_from_transaction_data(log, "id", "when", "spend", observation_period_end=end, freq=freq)
        return
    expected = reference_summary(log, freq, multiplier, end, include_first)
    result = summary_data_from_transaction_data(
        log, "id", "when", "spend",
        observation_period_end=None if end_seconds is None else end,
        freq=freq, freq_multiplier=multiplier, include_first_transaction=include_first,
    )
    pd.testing.assert_frame_equal(result, expected, check_exact=True, check_names=False, check_index_type=False)
    assert result.attrs["customers_after_end"] == log["id"].nunique() - len(expected)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log=logs,
    freq=st.sampled_from(FREQS),
    multiplier=st.sampled_from([1, 7]),
    cut=st.floats(0.05, 0.95),
)
def test_calibration_and_holdout_equals_the_pandas_reference(log, freq, multiplier, cut):
    first, end = log["when"].min(), log["when"].max()
    calibration_end = first + (end - first) * cut
    if calibration_end.to_period(freq) >= end.to_period(freq):
        with pytest.raises(ValueError, match="must be in a period after"):
            calibration_and_holdout_data(log, "id", "when", calibration_end, freq=freq)
        return
    expected = reference_holdout(log, freq, multiplier, calibration_end, end)
    result = calibration_and_holdout_data(
        log, "id", "when", calibration_end, freq=freq, freq_multiplier=multiplier, monetary_value_col="spend"
    )
    pd.testing.assert_frame_equal(result, expected, check_exact=True, check_names=False, check_index_type=False)
