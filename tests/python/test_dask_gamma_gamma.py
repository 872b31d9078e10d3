"""crmkit.dask.fit_gamma_gamma on a 2-worker distributed.LocalCluster: the (x, mean spend) rows
stay on the workers and every pass of the single-machine C++ fit is one map-reduce of the
per-row sums. Against the single-machine fit of the same rows (crmkit.GammaGammaFitter)."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

import dask  # noqa: E402

import crmkit  # noqa: E402
import crmkit.dask as cdask  # noqa: E402


def _summary(n, seed=4):
    """A summary whose repeat buyers' spends follow Gamma-Gamma (Fader, Hardie & Lee 2005:
    ν ~ Gamma(q, rate v), mean of x purchases ~ Gamma(p x, rate ν x)) with p, q, v = 6, 3.7, 15;
    a fifth of the customers made no repeat purchase, a few repeat buyers spent nothing."""
    rng = np.random.default_rng(seed)
    x = 1.0 + rng.poisson(2.0, n)
    nu = rng.gamma(3.7, 1 / 15.0, n)
    m = rng.gamma(6.0 * x, 1 / (nu * x))
    x[: n // 5] = 0.0
    m[: n // 5] = 0.0
    m[n // 5: n // 5 + 10] = 0.0
    recency = x * 2.0
    return pd.DataFrame({"frequency": x, "recency": recency, "T": recency + 5.0,
                         "monetary_value": m}, index=pd.RangeIndex(n, name="customer_id"))


def _single(summary, **kwargs):
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    return crmkit.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"], **kwargs)


def _split(frame, sizes):
    edges = np.concatenate([[0], np.cumsum(sizes)])
    assert edges[-1] == len(frame)
    pieces = [dask.delayed(frame.iloc[a:b].copy)() for a, b in zip(edges[:-1], edges[1:])]
    return dd.from_delayed(pieces, meta=frame.iloc[:0])


def _assert_same(found, expected):
    # Every sum over the rows is exact on both sides (long accumulators, merged through their
    # limbs, rounded once) and a staged fit starts from the same hashed sample, so the cluster
    # runs the very single-machine fit: the same bits, whatever the partitioning.
    assert found.params_.to_dict() == expected.params_.to_dict()
    assert found.standard_errors_.to_dict() == expected.standard_errors_.to_dict()
    assert found.log_likelihood_ == expected.log_likelihood_
    for key in ("customers", "patterns", "iterations", "evaluations", "converged"):
        assert found.convergence_[key] == expected.convergence_[key], key


@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_fit_equals_the_single_machine_fit(client, npartitions):
    summary = _summary(3_000)
    found = cdask.fit_gamma_gamma(dd.from_pandas(summary, npartitions=npartitions, sort=False))
    expected = _single(summary)
    _assert_same(found, expected)
    assert found.convergence_["converged"]
    assert len(found.data) == 0


def test_the_same_partitioning_gives_the_same_bits(client):
    data = dd.from_pandas(_summary(3_000), npartitions=5, sort=False)
    first = cdask.fit_gamma_gamma(data)
    second = cdask.fit_gamma_gamma(data)
    assert first.params_.to_dict() == second.params_.to_dict()
    assert first.standard_errors_.to_dict() == second.standard_errors_.to_dict()


def test_empty_and_one_row_partitions(client):
    summary = _summary(2_000, seed=9)
    data = _split(summary, [0, 1, 1, 900, 0, 1, 1097, 0])
    _assert_same(cdask.fit_gamma_gamma(data), _single(summary))


@pytest.mark.parametrize("npartitions", [1, 4, 9])
def test_the_staged_fit_starts_from_the_single_machine_sample(client, npartitions):
    # More than sample_threshold (40,000) repeat buyers: the first stage runs on the gathered
    # hashed sample (rows chosen by their values), Newton's polish and the standard errors on
    # all rows (one round trip per pass). The rows in another order (shuffled) give the same.
    summary = _summary(60_000, seed=2)
    expected = _single(summary)
    assert expected.convergence_["patterns"] > 40_000
    shuffled = summary.sample(frac=1.0, random_state=npartitions)
    found = cdask.fit_gamma_gamma(dd.from_pandas(shuffled, npartitions=npartitions, sort=False))
    _assert_same(found, expected)


def test_fit_options_reach_the_fit(client):
    summary = _summary(3_000, seed=6)
    data = dd.from_pandas(summary, npartitions=3, sort=False)
    found = cdask.fit_gamma_gamma(data, crmkit.GammaGammaFitter(penalizer_coef=1e-4),
                                  q_constraint=True, tol=1e-8)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    expected = crmkit.GammaGammaFitter(penalizer_coef=1e-4).fit(
        repeat["frequency"], repeat["monetary_value"], q_constraint=True, tol=1e-8)
    _assert_same(found, expected)
    assert found.penalizer_coef == 1e-4


class _CountingClient:
    """The client, counting the numbers every gather brings to the driver."""

    def __init__(self, client):
        self._client = client
        self.received = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def gather(self, futures, *args, **kwargs):
        found = self._client.gather(futures, *args, **kwargs)

        def numbers(item):
            if isinstance(item, dict):
                return sum(numbers(v) for v in item.values())
            if isinstance(item, (list, tuple)):
                return sum(numbers(v) for v in item)
            return int(np.size(item)) if item is not None else 0

        self.received.append(numbers(found))
        return found


def test_the_driver_receives_sums_and_a_sample_not_the_rows(client):
    summary = _summary(150_000, seed=8)
    counting = _CountingClient(client)
    found = cdask.fit_gamma_gamma(dd.from_pandas(summary, npartitions=6, sort=False),
                                  client=counting)
    rows = found.convergence_["customers"]
    assert rows > 110_000
    # Once: counts, W_x histograms, three exact sums (68 limbs and a non-finite part each) and
    # a sample of ~20,000 rows (x, m, weight; sd of its size ~130); then six exact sums per
    # partition and pass. Far below the 2 x 110,000 numbers of the rows themselves.
    assert max(counting.received) < 3 * 20_600 + 6 * (100 + 3 * 69)
    assert sorted(counting.received)[-2] <= 6 * 6 * 69
    _assert_same(found, _single(summary))


def test_a_bad_frequency_names_the_partition(client):
    summary = _summary(100, seed=1)
    summary.iloc[60, 0] = 2.5
    with pytest.raises(ValueError, match=r"summary partition 1: .*frequency\[\d+\] = 2\.5"):
        cdask.fit_gamma_gamma(dd.from_pandas(summary, npartitions=3, sort=False))


def test_no_repeat_buyer_is_an_error(client):
    summary = _summary(50).assign(frequency=0.0)
    with pytest.raises(ValueError, match="no customer with repeat purchases"):
        cdask.fit_gamma_gamma(dd.from_pandas(summary, npartitions=2, sort=False))
