"""crmkit.dask.value_tiers on a 2-worker distributed.LocalCluster: the radix select over the
values' bit patterns (crmkit/segment/tier_buckets.hpp) against the single-machine
crmkit.value_tiers of the same values, which it must equal bit for bit whatever the partitioning,
and the single-machine sums against exact rational arithmetic."""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

import dask  # noqa: E402

import crmkit  # noqa: E402
import crmkit.dask as cdask  # noqa: E402

OPTIONS = [{}, dict(by="population", labels=("high", "medium", "low")),
           dict(cuts=(0.5, 0.9, 0.99))]


def _values(n=20_000, seed=3):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(3.0, 2.0, n)
    values[:500] = 0.0                        # zero CLVs
    values[500:900] = np.round(values[500:900])  # ties
    values[900:950] = values[n // 2]          # a tie group
    return pd.Series(values, index=pd.RangeIndex(n) * 3, name="clv")


def _split(series, sizes):
    """A Dask Series whose partitions hold `sizes` rows in turn (0 = an empty partition)."""
    edges = np.concatenate([[0], np.cumsum(sizes)])
    assert edges[-1] == len(series)
    pieces = [dask.delayed(series.iloc[a:b].copy)() for a, b in zip(edges[:-1], edges[1:])]
    return dd.from_delayed(pieces, meta=series.iloc[:0])


def _count_buckets(monkeypatch):
    """The number of buckets the driver receives in each round, recorded as it receives them."""
    received = []
    gather = cdask._gather_buckets

    def counted(parts, widths, keys):
        found = gather(parts, widths, keys)
        received.append(len(found["width"]))
        return found

    monkeypatch.setattr(cdask, "_gather_buckets", counted)
    return received


def _check_equal(data, values, options):
    expected = crmkit.value_tiers(values, **options)
    tiers, summary = cdask.value_tiers(data, **options)
    pd.testing.assert_frame_equal(tiers.compute().sort_index(), expected.sort_index(),
                                  check_exact=True)
    pd.testing.assert_frame_equal(summary, expected.attrs["summary"], check_exact=True)
    return summary


@pytest.mark.parametrize("npartitions", [1, 3, 7])
@pytest.mark.parametrize("options", OPTIONS)
def test_tiers_equal_the_single_machine_tiers_for_any_partitioning(client, npartitions, options):
    values = _values()
    _check_equal(dd.from_pandas(values, npartitions=npartitions, sort=False), values, options)


def test_empty_and_one_row_partitions(client):
    values = _values(n=2_000, seed=5)
    data = _split(values, [0, 1, 700, 0, 1, 1, 1297, 0])
    assert data.npartitions == 8
    for options in OPTIONS:
        _check_equal(data, values, options)


def test_one_value_per_partition(client):
    values = pd.Series([7.0, 1.0, 7.0, 3.5, 0.0, 2.25], name="spend")
    data = _split(values, [1] * len(values))
    for options in OPTIONS:
        _check_equal(data, values, options)


def test_values_equal_to_their_top_48_bits_are_split_down_to_single_values(client, monkeypatch):
    # 1 + k·2^-45 share their top 48 bits (sign, exponent, 36 significand bits) in groups of
    # 2^7, so a cut falls inside a bucket at widths 16, 32 and 48: three splitting rounds.
    values = pd.Series(1.0 + np.arange(5_000) * 2.0 ** -45, name="v")
    calls = _count_buckets(monkeypatch)
    _check_equal(dd.from_pandas(values, npartitions=4, sort=False), values, {})
    assert len(calls) == 4  # widths 16, 32, 48, 64


def test_the_driver_receives_buckets_not_values(client, monkeypatch):
    # Continuous values: about one distinct value per customer.
    values = _values(n=200_000, seed=11)
    received = _count_buckets(monkeypatch)
    _check_equal(dd.from_pandas(values, npartitions=5, sort=False), values, {})
    # The buckets of 16 bits number a few per binade and partition; the split rounds add the
    # children of at most two buckets per cut. Far below the 199,000 distinct values.
    assert values.nunique() > 190_000
    assert sum(received) < 20_000


def test_single_machine_shares_are_exact_sums_rounded_once():
    # Independent reference: Python's exact rationals; float(Fraction) rounds once, to nearest.
    values = _values(n=3_000, seed=2).to_numpy()
    for options in OPTIONS[:2]:
        found = crmkit.value_tiers(values, **options)
        codes = found["tier"].cat.codes.to_numpy()
        total = float(sum(Fraction(v) for v in values))
        for tier, share in enumerate(found.attrs["summary"]["value_share"]):
            exact = sum(Fraction(v) for v in values[codes == tier])
            assert share == float(exact) / total


def test_sums_past_the_double_range_are_taken_in_units_of_the_largest_value(client):
    # Σ values overflows a double: shares are exact sums in units of 2^ilogb(largest), rounded
    # once (reference: exact rationals), and the cluster agrees bit for bit.
    values = pd.Series([1.5e308, 1.2e308, 9e307, 3e307, 1.0, 0.0, 2.5e307] * 3, name="v")
    expected = crmkit.value_tiers(values)
    unit = Fraction(2) ** (math.frexp(values.max())[1] - 1)
    codes = expected["tier"].cat.codes.to_numpy()
    total = float(sum(Fraction(v) for v in values) / unit)
    for tier, share in enumerate(expected.attrs["summary"]["value_share"]):
        exact = sum(Fraction(v) for v in values[codes == tier]) / unit
        assert share == float(exact) / total
    _check_equal(dd.from_pandas(values, npartitions=3, sort=False), values, {})
