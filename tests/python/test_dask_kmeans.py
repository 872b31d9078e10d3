"""crmkit.dask.kmeans on a 2-worker distributed.LocalCluster (127.0.0.1): the distributed fit
against the single-machine crmkit.KMeans fit of the same rows, which it must equal bit for bit
(labels, centres, inertia, iteration count) whatever the partitioning."""

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")
da = pytest.importorskip("dask.array", reason="python3-dask is not installed")

import dask  # noqa: E402

import crmkit  # noqa: E402
import crmkit.dask as cdask  # noqa: E402

FEATURES = ["recency", "frequency", "monetary"]


@pytest.fixture(scope="module")
def client():
    client = cdask.local_client(n_workers=2, threads_per_worker=1)
    yield client
    client.close()
    client.cluster.close()


@pytest.fixture(scope="module")
def frame():
    # Five overlapping blobs of unequal spread, plus a uniform background: many points near
    # cluster boundaries, so the fit takes several iterations and rounding could matter.
    rng = np.random.default_rng(14)
    centres = rng.normal(0, 4, size=(5, 3))
    points = np.concatenate([rng.normal(c, 1 + i, size=(900, 3)) for i, c in enumerate(centres)]
                            + [rng.uniform(-12, 12, size=(500, 3))])
    points = points[rng.permutation(len(points))]
    weights = rng.gamma(2.0, 1.5, size=len(points))
    return pd.DataFrame(points, columns=FEATURES).assign(weight=weights)


def single(frame, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = options.pop("weights", None)
        return crmkit.KMeans(**options).fit(frame[FEATURES].to_numpy(), sample_weight=weights)


def distributed(data, client, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cdask.kmeans(data, client=client, **options)


def assert_same_fit(found, expected, index=None):
    labels = found.labels_.compute()
    np.testing.assert_array_equal(np.asarray(labels), expected.labels_)
    if index is not None:
        pd.testing.assert_index_equal(labels.index, index)
    # Bit for bit: exact comparisons, no tolerance.
    np.testing.assert_array_equal(found.cluster_centers_, expected.cluster_centers_)
    assert found.inertia_ == expected.inertia_
    assert found.n_iter_ == expected.n_iter_
    assert found.converged_ == expected.converged_


@pytest.mark.parametrize("npartitions", [1, 3, 7])
@pytest.mark.parametrize("n_clusters, seed", [(5, 0), (3, 11), (9, 2026)])
def test_equals_the_single_machine_fit_bit_for_bit(client, frame, npartitions, n_clusters, seed):
    expected = single(frame, n_clusters=n_clusters, random_state=seed)
    assert expected.n_iter_ > 2  # the iterations, not only the seeding, are compared
    data = dd.from_pandas(frame[FEATURES], npartitions=npartitions, sort=False)
    assert data.npartitions == npartitions
    found = distributed(data, client, n_clusters=n_clusters, random_state=seed)
    assert_same_fit(found, expected, frame.index)
    assert found.labels_.npartitions == npartitions


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "elkan", "screened"])
def test_every_single_machine_algorithm_gives_the_distributed_result(client, frame, algorithm):
    expected = single(frame, n_clusters=6, random_state=5, algorithm=algorithm)
    data = dd.from_pandas(frame[FEATURES], npartitions=4, sort=False)
    assert_same_fit(distributed(data, client, n_clusters=6, random_state=5), expected)


def test_weighted_fit_and_random_init_with_several_runs(client, frame):
    expected = single(frame, n_clusters=4, init="random", n_init=4, random_state=3,
                      weights=frame["weight"].to_numpy())
    data = dd.from_pandas(frame, npartitions=5, sort=False)
    found = distributed(data, client, n_clusters=4, init="random", n_init=4, random_state=3,
                        sample_weight="weight")
    assert_same_fit(found, expected)
    assert list(found.feature_names_in_) == FEATURES


def test_given_centres_and_max_iter_stop(client, frame):
    start = frame[FEATURES].to_numpy()[[0, 10, 20, 30]]
    expected = single(frame, n_clusters=4, init=start, max_iter=2, tol=0)
    assert not expected.converged_
    found = distributed(dd.from_pandas(frame[FEATURES], npartitions=3, sort=False), client,
                        n_clusters=4, init=start, max_iter=2, tol=0)
    assert_same_fit(found, expected)


def test_empty_partitions_and_a_partition_of_one_row(client, frame):
    pieces = [frame.iloc[:0], frame.iloc[:1000], frame.iloc[1000:1000], frame.iloc[1000:1001],
              frame.iloc[1001:], frame.iloc[:0]]
    data = dd.from_delayed([dask.delayed(p[FEATURES]) for p in pieces], meta=frame[FEATURES].iloc[:0])
    expected = single(frame, n_clusters=5, random_state=8)
    found = distributed(data, client, n_clusters=5, random_state=8)
    assert_same_fit(found, expected, frame.index)
    assert found.labels_.npartitions == len(pieces)


def test_dask_array_input(client, frame):
    x = frame[FEATURES].to_numpy()
    expected = single(frame, n_clusters=5, random_state=1)
    found = distributed(da.from_array(x, chunks=(1300, 3)), client, n_clusters=5, random_state=1)
    assert_same_fit(found, expected)
    assert found.labels_.chunks[0] == da.from_array(x, chunks=(1300, 3)).chunks[0]


def test_empty_clusters_are_relocated_as_on_one_machine(client, frame):
    # Centre 2 is far from every row: its cluster is empty after the first E-step and takes the
    # row farthest from its centre (the relocation every partition proposes rows for).
    x = frame[FEATURES].to_numpy()
    start = np.vstack([x[:2], [[1e3, 1e3, 1e3]], x[2:4]])
    expected = single(frame, n_clusters=5, init=start)
    assert (expected.labels_ == 2).any()
    found = distributed(dd.from_pandas(frame[FEATURES], npartitions=7, sort=False), client,
                        n_clusters=5, init=start)
    assert_same_fit(found, expected)


def test_duplicate_points_give_the_same_relocation_and_warning(client):
    # 40 rows on 3 distinct points, k = 5: clusters stay empty, every point sits on its centre.
    x = np.repeat(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]]), [20, 10, 10], axis=0)
    frame = pd.DataFrame(x, columns=["a", "b"])
    with pytest.warns(crmkit.SegmentationWarning, match="distinct clusters"):
        expected = crmkit.KMeans(5, random_state=4).fit(x)
    with pytest.warns(crmkit.SegmentationWarning, match="distinct clusters"):
        found = cdask.kmeans(dd.from_pandas(frame, npartitions=3, sort=False), 5, random_state=4,
                             client=client)
    assert_same_fit(found, expected)


def test_a_nan_feature_names_partition_row_index_and_column(client, frame):
    bad = frame[FEATURES].copy()
    bad.iloc[1000 + 7, 1] = np.nan  # partition 1 (rows 1000-1999), row 7
    data = dd.from_pandas(bad, npartitions=5, sort=False)
    assert list(data.map_partitions(len).compute()) == [1000] * 5
    with pytest.raises(ValueError, match=r"partition 1, row 7 \(index 1007\): column 'frequency' "
                                         r"= nan must be finite"):
        cdask.kmeans(data, 3, random_state=0, client=client)


def test_a_negative_weight_is_named(client, frame):
    bad = frame.copy()
    bad.loc[4, "weight"] = -1.0
    data = dd.from_pandas(bad, npartitions=3, sort=False)
    with pytest.raises(ValueError, match=r"partition 0, row 4 \(index 4\): column 'weight' = "
                                         r"-1.0 must be finite and >= 0"):
        cdask.kmeans(data, 3, sample_weight="weight", random_state=0, client=client)


def test_bad_settings_are_named_as_in_kmeans(client, frame):
    data = dd.from_pandas(frame[FEATURES], npartitions=2, sort=False)
    with pytest.raises(ValueError, match="n_clusters"):
        cdask.kmeans(data, 0, client=client)
    with pytest.raises(ValueError, match="n_clusters = 6001 must be between 1 and the number of "
                                         "samples, 5000"):
        cdask.kmeans(data, 6001, client=client)
    with pytest.raises(ValueError, match="no column .nope."):
        cdask.kmeans(data, 3, columns=["nope"], client=client)


def _gathered_arrays(value):
    """The numpy arrays (and lists of numbers) inside a gathered result, recursively."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _gathered_arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _gathered_arrays(item)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_the_driver_never_gathers_rows_or_labels(client, frame, init):
    # Issue 14: every step, the plan and the seeding included, runs on the workers. Every
    # client.gather of the fit is recorded: no gathered array may be longer than a partition
    # could hold in O(k d) numbers (the largest legitimate one is a column's exact sum, 68
    # limbs), while each of the 7 partitions holds about 700 rows (3 columns): gathering rows,
    # labels or distances would show as an array of hundreds of elements. The result must still
    # equal the single-machine fit bit for bit.
    data = dd.from_pandas(frame, npartitions=7, sort=False)
    sizes = []
    original = client.gather

    def recording_gather(futures, *args, **kwargs):
        result = original(futures, *args, **kwargs)
        sizes.extend(array.size for array in _gathered_arrays(result))
        return result

    client.gather = recording_gather
    try:
        found = distributed(data, client, n_clusters=6, columns=FEATURES, sample_weight="weight",
                            init=init, n_init=2, random_state=8)
    finally:
        del client.gather
    expected = single(frame, n_clusters=6, init=init, n_init=2, random_state=8,
                      weights=frame["weight"].to_numpy())
    assert_same_fit(found, expected)
    assert sizes, "the fit gathers its sums through client.gather"
    assert max(sizes) <= 68
    rows_per_partition = len(frame) // 7
    assert rows_per_partition > 10 * 68


def test_the_distributed_plan_equals_the_single_machine_plan(client, frame):
    # The plan's pieces (mean, tolerance, scales, starts) computed on 1, 3 and 7 partitions equal
    # _core.segment.kmeans_plan on the concatenated rows bit for bit.
    from crmkit import _core
    x = np.ascontiguousarray(frame[FEATURES].to_numpy())
    expected = _core.segment.kmeans_plan(x, n_clusters=7, n_init=3, seed=5)
    for npartitions in (1, 3, 7):
        parts = client.compute([dask.delayed(cdask._kmeans_part)(part, number, FEATURES, None)
                                for number, part in enumerate(dd.from_pandas(
                                    frame[FEATURES], npartitions=npartitions,
                                    sort=False).to_delayed())])
        sums = client.gather(client.map(cdask._kmeans_sums, parts, pure=False))
        mean = _core.segment.kmeans_column_mean(sums)
        deviations = client.gather(client.map(cdask._kmeans_deviations, parts, mean=mean,
                                              pure=False))
        plan = _core.segment.kmeans_plan_of(sums, deviations, n_clusters=7, n_init=3, seed=5)
        scale = dict(radius=plan["radius"], largest_weight=plan["largest_weight"])
        starts = cdask._kmeans_seed(client, parts, plan, scale,
                                    dict(n_clusters=7, init="k-means++", n_init=3, seed=5))
        for key in ("mean", "tolerance", "radius", "largest_weight"):
            np.testing.assert_array_equal(plan[key], expected[key])
        assert len(starts) == 3
        for found, wanted in zip(starts, expected["starts"]):
            np.testing.assert_array_equal(found, wanted)
