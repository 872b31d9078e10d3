"""The cluster report's k-means segments computed on the workers (crmkit._report_cluster_kmeans:
the library steps of crmkit/pipeline/segment_steps.hpp, the final fit by crmkit.dask.kmeans)
against the single-machine report of the same log, at 1, 3 and 7 partitions, and against the
pipeline's one-piece step (_core.pipeline.segment_tables) on partitions with an empty one."""

import contextlib

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

import dask  # noqa: E402

from crmkit import _core  # noqa: E402
from crmkit._report_cluster_kmeans import PROFILE_COLUMNS, kmeans_segments  # noqa: E402
from crmkit.report import _frame  # noqa: E402
from test_dask_report import ID, _customers, cluster, log, single  # noqa: E402,F401

# Every cell of segments.csv and rfm_segments.csv is the single machine's, byte for byte: their
# CLV columns too (exact sums of CLVs that are bit for bit, Gamma-Gamma's fit being the
# single-machine fit on a cluster: test_dask_report.py).


def test_kmeans_quality_file_is_the_single_machine_file(single, cluster):
    expected = (single / "kmeans_quality.csv").read_text()
    assert (cluster / "kmeans_quality.csv").read_text() == expected
    assert len(expected.splitlines()) == 1 + 6  # k = 3 .. 8


@pytest.mark.parametrize("name", ["segments", "rfm_segments"])
def test_segment_tables_are_the_single_machine_cells(single, cluster, name):
    expected = pd.read_csv(single / f"{name}.csv", dtype=str)
    found = pd.read_csv(cluster / f"{name}.csv", dtype=str)
    assert list(found.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(found, expected)
    assert len(expected) >= 3


def test_every_customer_has_the_single_machine_segment(single, cluster):
    expected = pd.read_csv(single / "customers.csv", index_col=ID, dtype=str)["segment"]
    found = _customers(cluster, dtype=str)["segment"]
    found.index = found.index.astype(np.int64)
    expected.index = expected.index.astype(np.int64)
    pd.testing.assert_series_equal(found.sort_index(), expected.sort_index())
    assert expected.nunique() >= 3


@pytest.fixture(scope="module")
def columns(single):
    """The single-machine report's own customer columns (read back exactly), in customer
    order."""
    frame = pd.read_csv(single / "customers.csv", index_col=ID, float_precision="round_trip")
    return frame[list(PROFILE_COLUMNS)].sort_index()


def _options(k_sample):
    options = _core.pipeline.AnalysisOptions()
    options.k_sample = k_sample
    options.seed = 5
    return options


def _one_piece(columns, options):
    names = ["weeks_since_last", "purchases", "mean_spend", "revenue", "p_alive", "clv"]
    return _core.pipeline.segment_tables(
        *(np.ascontiguousarray(columns[name], dtype=np.float64) for name in names), options)


def _assert_same(found, expected, index):
    labelled, tables, notes = found
    segment = labelled["segment"].compute()
    assert segment.index.equals(index)  # in customer order, every customer once
    codes = pd.Categorical.from_codes(np.asarray(expected["segment"], dtype=np.int64),
                                      categories=list(expected["segment_names"]))
    np.testing.assert_array_equal(segment.astype(str).to_numpy(), np.asarray(codes).astype(str))
    pd.testing.assert_frame_equal(tables["segments"], _frame(expected["segments"]))
    pd.testing.assert_frame_equal(tables["kmeans_quality"], _frame(expected["kmeans_quality"]))
    assert notes == list(expected["notes"])


def _with_empty_partition(columns, cuts):
    """Sorted partitions with known divisions, one of them empty (cuts repeat a position)."""
    pieces = [columns.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    index = columns.index
    divisions = [index[a] if a < len(index) else index[-1] for a in cuts[:-1]] + [index[-1]]
    # an empty piece's division is its successor's start: still sorted, still disjoint
    return dd.from_delayed([dask.delayed(piece) for piece in pieces], meta=columns.iloc[:0],
                           divisions=divisions)


def test_sorted_partitions_with_an_empty_one_give_the_one_piece_step(client, columns):
    options = _options(300)
    expected = _one_piece(columns, options)
    frame = _with_empty_partition(columns, [0, 900, 900, 2100, len(columns)])
    assert frame.npartitions == 4 and len(frame.get_partition(1).compute()) == 0
    _assert_same(kmeans_segments(frame, options, client), expected, columns.index)


@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_unsorted_partitions_are_put_in_customer_order(client, columns, npartitions):
    # Hash-like order (shuffled rows, unknown divisions), as the report's summary leaves them.
    options = _options(400)
    shuffled = columns.sample(frac=1.0, random_state=npartitions)
    frame = dd.from_pandas(shuffled, npartitions=npartitions, sort=False)
    assert not frame.known_divisions
    _assert_same(kmeans_segments(frame, options, client), _one_piece(columns, options),
                 columns.index)


def _gathered_sizes(value):
    if isinstance(value, np.ndarray):
        yield value.size
    elif isinstance(value, (pd.DataFrame, pd.Series, pd.Index)):
        yield value.size
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _gathered_sizes(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _gathered_sizes(item)


@contextlib.contextmanager
def recording_gathers(client):
    """The sizes of everything `client.gather` returns inside the block (a list)."""
    sizes = []
    original = client.gather

    def recording_gather(futures, *args, **kwargs):
        result = original(futures, *args, **kwargs)
        sizes.extend(_gathered_sizes(result))
        return result

    client.gather = recording_gather
    try:
        yield sizes
    finally:
        del client.gather


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_the_driver_gathers_no_per_customer_object(client, columns, order):
    # Every client.gather of the segments is recorded (the shuffled input includes putting the
    # customers in order): the largest legitimate object is a partition's share of the sample
    # (at most k_sample rows of 3 features) or an exact sum (68 limbs), while each of the 3
    # partitions holds about 1000 customers of 6 columns; a gathered customer column, label
    # array or frame would show as an object of 1000+ numbers.
    k_sample = 100
    options = _options(k_sample)
    if order == "sorted":
        frame = _with_empty_partition(columns, [0, 1000, 2000, len(columns)])
    else:
        frame = dd.from_pandas(columns.sample(frac=1.0, random_state=1), npartitions=3,
                               sort=False)
    with recording_gathers(client) as sizes:
        found = kmeans_segments(frame, options, client)
    _assert_same(found, _one_piece(columns, options), columns.index)
    assert sizes, "the steps gather through client.gather"
    assert max(sizes) <= max(3 * k_sample, 68)
    assert len(columns) // 3 > 3 * k_sample
