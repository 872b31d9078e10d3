"""The cluster report's k-means segments on the workers (``crmkit report --scheduler``): the
library steps of ``crmkit/pipeline/segment_steps.hpp`` that the single-machine report runs in
one piece (``crmkit::pipeline::segment_customers``), each where its data are.

The customers are first put in the report's customer order (sorted by id, range-partitioned:
``set_index`` on the workers), so that every partition's rows are a run of the global row
order the single machine uses (for the sample and the k-means++ walk). Then:

- the standardisation's exact column sums and squared deviations per partition
  (``_core.segment.kmeans_column_sums`` / ``kmeans_column_deviations``), merged on the driver;
- the sample that chooses k: ``segment_sample_rows(n, k_sample, seed)`` as global rows, each
  partition returns its own (at most ``k_sample`` rows in all) and the driver runs
  ``choose_segment_k`` on them;
- the final fit of every customer: :func:`crmkit.dask.kmeans` (the exact distributed steps);
- per-cluster counts and exact sums per partition (``segment_cluster_sums``), merged and ranked
  by mean CLV on a worker (``segment_profiles``): the driver receives the k-row tables;
- the segment of every customer is set on the workers.

Nothing per customer reaches the driver; the labels and tables are the single machine's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: The customer columns the k-means segments read, in segment_cluster_sums' order.
PROFILE_COLUMNS = ("weeks_since_last", "purchases", "mean_spend", "p_alive", "clv", "revenue")


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return np.ascontiguousarray(frame[name], dtype=np.float64)


def _features(frame: pd.DataFrame, scaling: Any = None) -> np.ndarray:
    from . import _core

    return _core.pipeline.segment_features(*(_column(frame, name) for name in PROFILE_COLUMNS[:3]),
                                           scaling=scaling)


def _feature_sums(frame: pd.DataFrame) -> tuple:
    from . import _core

    return _core.segment.kmeans_column_sums(_features(frame))


def _feature_deviations(frame: pd.DataFrame, mean: np.ndarray) -> tuple:
    from . import _core

    return _core.segment.kmeans_column_deviations(_features(frame), mean)


def _sampled(frame: pd.DataFrame, rows: np.ndarray, scaling: dict) -> np.ndarray:
    return np.ascontiguousarray(_features(frame.iloc[rows], scaling))


def _standardised(frame: pd.DataFrame, scaling: dict) -> pd.DataFrame:
    return pd.DataFrame(_features(frame, scaling), index=frame.index, columns=["r", "f", "m"])


def _cluster_sums(frame: pd.DataFrame, labels: pd.Series, k: int) -> tuple:
    from . import _core

    return _core.pipeline.segment_cluster_sums(np.ascontiguousarray(labels, dtype=np.int32), k,
                                               *(_column(frame, name) for name in PROFILE_COLUMNS))


def _profiles(k: int, *parts: tuple) -> dict:
    from . import _core

    return _core.pipeline.segment_profiles(list(parts), k)


def _with_segment(frame: pd.DataFrame, labels: pd.Series, segment_of_cluster: np.ndarray,
                  names: list) -> pd.DataFrame:
    codes = segment_of_cluster[np.asarray(labels, dtype=np.int64)]
    return frame.assign(segment=pd.Categorical.from_codes(codes, categories=names))


def in_customer_order(customers: Any) -> Any:
    """`customers` range-partitioned by their sorted id (the report's customer order); as it is
    when its divisions are known (then it is sorted already)."""
    if customers.known_divisions:
        return customers
    name = customers.index.name
    frame = customers.reset_index().set_index("index" if name is None else name)
    if name is None:
        frame.index = frame.index.rename(None)
    return frame


def gather_rows(client: Any, parts: list, sizes: list, rows: np.ndarray, take: Any,
                *args: Any) -> list:
    """Each partition's ``take(part, local_rows, *args)`` of the sorted global `rows` of
    customers in customer order (:func:`in_customer_order`; `parts` their partitions' futures,
    `sizes` their lengths), gathered in partition order."""
    offsets = np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=np.int64))])
    cuts = np.searchsorted(rows, offsets)
    return client.gather([client.submit(take, part, rows[cuts[p]:cuts[p + 1]] - offsets[p],
                                        *args, pure=False)
                          for p, part in enumerate(parts)])


def kmeans_segments(customers: Any, options: Any, client: Any = None) -> tuple:
    """(customers in customer order with their k-means ``segment`` column, {"segments",
    "kmeans_quality"} tables, notes [(code, message)]): the single-machine report's segments of
    the same customers (``options``: the report's AnalysisOptions), computed on the workers."""
    import dask
    import dask.dataframe as dd
    from distributed import default_client

    from . import _core
    from . import dask as cdask
    from .report import _frame

    client = default_client() if client is None else client
    customers = in_customer_order(customers).persist()
    parts = client.compute(customers.to_delayed())
    sums = client.gather(client.map(_feature_sums, parts, pure=False))
    mean = _core.segment.kmeans_column_mean(sums)
    deviations = client.gather(client.map(_feature_deviations, parts, mean=mean, pure=False))
    scaling = _core.pipeline.segment_feature_scaling(sums, deviations)
    sizes = [int(part[0]) for part in sums]
    rows = _core.pipeline.segment_sample_rows(sum(sizes), int(options.k_sample),
                                              int(options.seed))
    sample = gather_rows(client, parts, sizes, rows, _sampled, scaling)
    choice = _core.pipeline.choose_segment_k(np.ascontiguousarray(np.concatenate(sample)), options)
    k = int(choice["k"])
    features = customers.map_partitions(
        _standardised, scaling,
        meta=pd.DataFrame({c: pd.Series([], dtype=np.float64) for c in "rfm"},
                          index=customers._meta.index))
    fit = cdask.kmeans(features, client=client, **choice["kmeans"])
    labels = fit.labels_.to_delayed()
    cluster_sums = [dask.delayed(_cluster_sums)(part, part_labels, k)
                    for part, part_labels in zip(customers.to_delayed(), labels)]
    found = client.gather(client.compute(dask.delayed(_profiles)(k, *cluster_sums)))
    names = list(found["names"])
    segment_of_cluster = np.asarray(found["segment_of_cluster"], dtype=np.int64)
    meta = customers._meta.assign(segment=pd.Categorical([], categories=names))
    labelled = dd.from_delayed(
        [dask.delayed(_with_segment)(part, part_labels, segment_of_cluster, names)
         for part, part_labels in zip(customers.to_delayed(), labels)],
        meta=meta, divisions=customers.divisions)
    tables = {"segments": _frame(found["segments"]),
              "kmeans_quality": _frame(choice["kmeans_quality"])}
    return labelled, tables, list(choice["notes"])


def _rfm_sums(frame: pd.DataFrame, k: int) -> tuple:
    from . import _core

    codes = np.ascontiguousarray(frame["rfm_segment"].cat.codes, dtype=np.int32)
    return _core.pipeline.segment_cluster_sums(codes, k,
                                               *(_column(frame, name) for name in PROFILE_COLUMNS))


def _rfm_table(rfm_rules: str, *parts: tuple) -> tuple:
    from . import _core

    return _core.pipeline.rfm_segment_table(list(parts), rfm_rules)


def rfm_segment_table(customers: Any, rfm_rules: str, client: Any = None) -> pd.DataFrame:
    """rfm_segments.csv of customers with their ``rfm_segment`` (categories: the rule set's
    segments, the unmatched last): per-segment counts and exact sums per partition, merged and
    tabled on a worker (``_core.pipeline.rfm_segment_table``), as the single machine tables
    them."""
    import dask
    from distributed import default_client

    from .report import _frame

    client = default_client() if client is None else client
    k = len(customers._meta["rfm_segment"].cat.categories)
    parts = [dask.delayed(_rfm_sums)(part, k) for part in customers.to_delayed()]
    return _frame(client.gather(client.compute(dask.delayed(_rfm_table)(rfm_rules, *parts))))
