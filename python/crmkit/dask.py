"""crmkit on a Dask cluster: the analysis of a transaction log spread over many partitions.

Every step gives what the single-machine call gives on the same data:

- **Summary** (:func:`summarize`): customers are co-located by id (one hash shuffle, or a check
  that the input already is), then each partition is summarised by crmkit's C++ summary. A
  customer's summary depends only on their own rows and the observation end (computed once over
  all partitions), and amounts are added in ascending order, so the result equals
  :func:`crmkit.summary_data_from_transaction_data` of the whole log, bit for bit.
- **Fits** (:func:`fit_transaction_model`, :func:`fit_gamma_gamma`): for the transaction
  models each partition compresses its customers to a histogram of patterns (x, t_x, T) with customer counts; the histograms are merged
  by a tree reduction (``_core.clv.merge_patterns``: sort and add counts, exact for counts below
  2^53) and fitted once on the driver by the weighted fit. The single-machine fit compresses the
  same customers into the same sorted histogram first, so parameters, log-likelihood and standard
  errors are **bit-identical** whenever the single-machine fit merges identical rows (periods
  such as days or weeks: always). When it does not (continuous times with more than 16,384
  customers and almost no equal ages, see ``clv::detail::merging_pays``) it fits the customers
  grouped by x in input order: the same optimum, equal within the optimiser's tolerance.
  Gamma-Gamma's (x, mean spend) rows rarely coincide, so they stay on the workers: the driver
  runs the single-machine C++ fit and each of its passes over the rows is one map-reduce of the
  per-row sums (:func:`fit_gamma_gamma`), kept exactly (long accumulators merged through their
  limbs) as the single-machine fit keeps them: the single-machine fit bit for bit, whatever the
  partitioning.
- **Scores** (:func:`score_customers`, :func:`rfm_scores`, :func:`lifecycle_stages`): per
  partition with the fitted parameters broadcast (``map_partitions``); global statistics, such as
  the RFM quantile scales, from merged histograms (:func:`rfm_scales`); value tiers
  (:func:`value_tiers`) from merged buckets of the values' bit patterns (a radix select); the
  lifecycle's population gap G (:func:`population_gaps`) from the merged counts of the
  customers' median gaps.
- **Survey aggregates** (:func:`survey_aggregate`, :func:`survey_nps`): NPS, CSAT and CES,
  weighted or not, by group, period and rolling window. Each partition fills the survey area's
  mergeable C++ accumulators per (group, period) (counts; exact sums of weights, squared weights
  and weighted scores); a tree reduction merges them exactly and the driver summarises them with
  the single-machine C++ code: the single-machine frame, bit for bit.
- **Calibration check** (:func:`calibration_check`): the report's calibration/holdout split,
  refit and tables. Each partition adds its customers' counts (``_core.pipeline.calibration_counts``:
  the calibration part as a histogram of whole-day patterns with customer counts and summed
  holdout purchase days, and the tracking curve's daily first and repeat purchases); a tree
  reduction adds them (integers: exact); the driver refits and builds both tables with the
  single-machine C++ code, whose sums over customers are exact sums rounded once: the
  single-machine tables, bit for bit.
- **k-means** (:func:`kmeans`): the driver fixes the centring, tolerance and initial centres from
  the gathered feature rows with the single-machine C++ code; every Lloyd iteration runs on the
  workers, which return exact (fixed-point) per-cluster sums, so labels, centres, inertia and the
  iteration count equal :class:`crmkit.KMeans`'s bit for bit, whatever the partitioning.

Inputs: a ``dask.dataframe`` of transactions (from :func:`read_transaction_files`, a folder or
glob of CSV files read by crmkit's strict reader; from :func:`crmkit.sql.read_transactions_dask`;
or any Dask source). Bad rows fail naming the partition and the row; the CSV reader's
``on_bad_row="skip"`` policy reports the skipped rows with their file, line and reason.
"""

from __future__ import annotations

import glob as _glob
import os
from typing import Any, Iterable, Optional, Sequence

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from . import _core
from ._csv import _read_log
from ._survey_input import NS_PER_DAY as _NS_PER_DAY, factorize as _factorize
from ._survey_input import period_labels as _period_labels, scores_array as _scores_array
from ._survey_input import seed_from as _seed_from, timestamps_array as _timestamps_array
from ._survey_input import weights_array as _weights_array
from ._survey_results import SkippedRowsWarning as _SkippedRowsWarning
from ._segment_tiers import _tier_options, _tier_summary
from ._segment_rfm import RFMScale, rfm_scores as _rfm_scores_frame
from .clv import BetaGeoFitter, GammaGammaFitter
from .data import _customer_keys, _timestamps, summary_data_from_transaction_data
from .lifecycle import CohortRetention, StageMigration
from .lifecycle import STAGES as _STAGES, _canonical_freq
from .lifecycle import stage_migration as _stage_migration_frame
from .lifecycle import cohort_retention as _cohort_retention_frame
from .lifecycle import lifecycle_stages as _lifecycle_stages_frame
from .survey import _aggregate_options, _cells_frame, _check_confidence, _result_index

__all__ = [
    "local_client",
    "read_transaction_files",
    "check_transactions",
    "summarize",
    "pattern_histogram",
    "spend_histogram",
    "fit_transaction_model",
    "fit_gamma_gamma",
    "score_customers",
    "parameters_only",
    "rfm_scales",
    "rfm_scores",
    "population_gaps",
    "lifecycle_stages",
    "cohort_retention",
    "stage_migration",
    "survey_aggregate",
    "survey_nps",
    "value_tiers",
    "kmeans",
    "KMeansFit",
    "calibration_check",
]

#: How many partial results one task of a tree reduction merges.
SPLIT_EVERY = 8


def _asan_preloaded() -> bool:
    return "libasan" in os.environ.get("LD_PRELOAD", "")


def local_client(n_workers: int = 2, threads_per_worker: int = 1, memory_limit: Any = None,
                 processes: Optional[bool] = None, **cluster_kwargs: Any):
    """A ``distributed.Client`` on a new LocalCluster bound to 127.0.0.1 (every port chosen
    free), dashboard off.

    ``processes=None`` means worker processes, except when AddressSanitizer is preloaded
    (``LD_PRELOAD`` names libasan, as in CI's sanitizer run): then the workers are threads of
    this process, so no child process inherits the sanitizer's preload.

    ``memory_limit=None`` means 2 GB per worker process, and no limit for thread workers: Dask
    measures a thread worker's memory as the whole process's, caller included, and pauses the
    worker (for good: the tasks then wait forever) once that passes 80% of the limit. Close the
    client and its cluster with ``client.close(); client.cluster.close()``.
    """
    import warnings

    from distributed import Client, LocalCluster

    if processes is None:
        processes = not _asan_preloaded()
    if memory_limit is None:
        memory_limit = "2GB" if processes else 0
    with warnings.catch_warnings():
        # Debian's distributed 2022.12 calls tornado's deprecated make_current on start.
        warnings.filterwarnings("ignore", "make_current is deprecated", DeprecationWarning)
        # The scheduler always serves HTTP (health, metrics); on a free loopback port, so that a
        # busy 8787 neither clashes nor leaks a socket, and without the dashboard.
        # TCP on the loopback interface for thread workers too: Dask 2022.12's in-process
        # transport (its default for threads) does not deserialise some messages.
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                               processes=processes, protocol="tcp://", host="127.0.0.1",
                               dashboard_address="127.0.0.1:0",
                               scheduler_kwargs={"dashboard": False},
                               memory_limit=memory_limit, **cluster_kwargs)
        return Client(cluster)


# --- input ----------------------------------------------------------------------------------


def _expand(paths: Any) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        path = os.fspath(paths)
        if os.path.isdir(path):
            found = sorted(os.path.join(path, name) for name in os.listdir(path)
                           if name.endswith((".csv", ".txt", ".tsv")))
        else:
            found = sorted(_glob.glob(path))
    else:
        found = [os.fspath(path) for path in paths]
    if not found:
        raise ValueError(f"paths = {paths!r}: no file matches")
    return found


def _read_file(path: str, options: dict) -> pd.DataFrame:
    # Not read_transactions: its SkippedRowsWarning would need warnings.catch_warnings, which
    # is not thread-safe (with thread workers one file's exit restored pytest's "error" filter
    # while another file was being read).
    return _read_log(path, **options)


def _log_part(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.attrs = {}
    return out


def _skipped_part(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    skipped = frame.attrs.get("skipped_rows", pd.DataFrame(columns=["line", "column", "reason"]))
    out = pd.DataFrame({"file": pd.Series([path] * len(skipped), dtype=object)})
    for column in ("line", "column", "reason"):
        out[column] = skipped[column].to_numpy() if len(skipped) else pd.Series([], dtype=object)
    return out


def read_transaction_files(paths: Any, customer_id_col: Any = "customer_id",
                           datetime_col: Any = "date", monetary_value_col: Any = None, *,
                           sep: str = ",", date_format: Optional[str] = None,
                           on_bad_row: str = "error", encoding: Optional[str] = None):
    """A partitioned transaction log from CSV files: one partition per file.

    Each file is read on a worker by :func:`crmkit.read_transactions` (the strict C++ reader),
    with the same arguments. ``paths``: a folder (its .csv/.txt/.tsv files), a glob pattern, or
    a list of files. Nothing is read until the result is computed, except the first file, whose
    columns and types become the frame's (every other file must give the same types; a file
    that does not fails naming itself).

    Returns
    -------
    (log, skipped) : tuple of dask.dataframe.DataFrame
        The log, and the rows left out under ``on_bad_row="skip"`` (columns file, line, column,
        reason; empty under "error", where the first bad row raises ``file:line:column: ...``).
        Computing both with one ``dask.compute(log, skipped)`` reads every file once.
    """
    files = _expand(paths)
    options = dict(customer_id_col=customer_id_col, datetime_col=datetime_col,
                   monetary_value_col=monetary_value_col, sep=sep, date_format=date_format,
                   on_bad_row=on_bad_row, encoding=encoding)
    frames = [dask.delayed(_read_file, pure=True)(path, options) for path in files]
    meta = _log_part(_read_file(files[0], options)).iloc[:0]
    parts = [dask.delayed(_checked_like)(frame, meta, path) for frame, path in zip(frames, files)]
    log = dd.from_delayed(parts, meta=meta, verify_meta=False)
    skipped_meta = pd.DataFrame({"file": pd.Series([], dtype=object), "line": pd.Series([], dtype=object),
                                 "column": pd.Series([], dtype=object), "reason": pd.Series([], dtype=object)})
    skipped = dd.from_delayed([dask.delayed(_skipped_part)(frame, path) for frame, path in zip(frames, files)],
                              meta=skipped_meta, verify_meta=False)
    return log, skipped


def _checked_like(frame: pd.DataFrame, meta: pd.DataFrame, path: str) -> pd.DataFrame:
    frame = _log_part(frame)
    for column in meta.columns:
        if frame[column].dtype != meta[column].dtype:
            raise ValueError(f"{path}: column {column!r} is {frame[column].dtype} but the first "
                             f"file's is {meta[column].dtype} (customer ids must be integers in "
                             "every file or text in every file)")
    return frame


# --- validation -----------------------------------------------------------------------------


def _require_columns(frame: Any, columns: Iterable[Any], argument: str = "log") -> None:
    present = list(frame.columns)
    for column in columns:
        if column is not None and column not in present:
            raise ValueError(f"{argument}: no column {column!r} (columns: {present})")


def _check_partition(frame: pd.DataFrame, customer_id_col: Any, datetime_col: Any,
                     monetary_value_col: Any, partition_info: Optional[dict] = None) -> pd.DataFrame:
    number = None if partition_info is None else partition_info.get("number")

    def fail(column: Any, bad: np.ndarray, problem: str) -> None:
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"partition {number}, row {row} (index {frame.index[row]!r}): column "
                         f"{column!r} {problem} ({int(bad.sum())} such rows in the partition)")

    ids = frame[customer_id_col]
    bad = ids.isna().to_numpy()
    if bad.any():
        fail(customer_id_col, bad, "is NULL")
    dates = frame[datetime_col]
    bad = dates.isna().to_numpy()
    if bad.any():
        fail(datetime_col, bad, "is NULL (NaT)")
    if monetary_value_col is not None:
        amounts = frame[monetary_value_col].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(amounts)
        if bad.any():
            fail(monetary_value_col, bad, f"is NULL, NaN or infinite ('{amounts[bad][0]}')")
    return frame


def check_transactions(log: dd.DataFrame, customer_id_col: Any, datetime_col: Any,
                       monetary_value_col: Any = None) -> dd.DataFrame:
    """The log, checked lazily partition by partition.

    At once: a missing column, a date column that is not datetime64 or an amount column that is
    not numeric raise ValueError naming the column and its type. When computed: a NULL customer
    id, a NULL (NaT) date or a NULL/NaN/infinite amount raises ValueError naming the partition,
    the row within it, its index label and how many rows of the partition share the problem.
    """
    _require_columns(log, [customer_id_col, datetime_col, monetary_value_col])
    if not pd.api.types.is_datetime64_any_dtype(log[datetime_col].dtype):
        raise ValueError(f"log: column {datetime_col!r} is {log[datetime_col].dtype}, not a "
                         "date/datetime type")
    if monetary_value_col is not None and not pd.api.types.is_numeric_dtype(log[monetary_value_col].dtype):
        raise ValueError(f"log: column {monetary_value_col!r} is {log[monetary_value_col].dtype}, "
                         "not a number type")
    return log.map_partitions(_check_partition, customer_id_col, datetime_col, monetary_value_col,
                              meta=log._meta)


# --- summary --------------------------------------------------------------------------------


def _summary_part(frame: pd.DataFrame, customer_id_col: Any, datetime_col: Any,
                  monetary_value_col: Any, end: pd.Timestamp, options: dict,
                  meta: pd.DataFrame) -> pd.DataFrame:
    if len(frame) == 0:
        return meta
    summary = summary_data_from_transaction_data(frame, customer_id_col, datetime_col,
                                                 monetary_value_col, observation_period_end=end,
                                                 **options)
    summary.attrs = {}
    return summary.sort_index()


def _split_customers(summary: dd.DataFrame) -> Optional[tuple[Any, list[int]]]:
    """A customer whose summary rows sit in two partitions (their log rows were split), or None."""
    def ids(frame: pd.DataFrame, partition_info: Optional[dict] = None) -> pd.DataFrame:
        number = -1 if partition_info is None else partition_info["number"]
        return pd.DataFrame({"id": frame.index.to_numpy(),
                             "partition": np.full(len(frame), number, np.int64)})

    meta = pd.DataFrame({"id": pd.Series(summary._meta.index.to_numpy()),
                         "partition": pd.Series([], dtype=np.int64)})
    pairs = summary.map_partitions(ids, meta=meta)
    spread = pairs.groupby("id")["partition"].count()
    split = spread[spread > 1].head(1, npartitions=-1, compute=True)
    if len(split) == 0:
        return None
    customer = split.index[0]
    partitions = sorted(pairs[pairs["id"] == customer]["partition"].compute().tolist())
    return customer, partitions


def _check_colocated(frame: dd.DataFrame) -> None:
    """ValueError naming a customer whose rows (index = id) sit in two partitions of `frame`."""
    split = _split_customers(frame)
    if split is not None:
        customer, partitions = split
        raise ValueError(f"partitioned_by_customer=True, but customer {customer!r} has rows in "
                         f"partitions {partitions}; pass partitioned_by_customer=False to "
                         "shuffle the log by customer")


def summarize(log: dd.DataFrame, customer_id_col: Any, datetime_col: Any,
              monetary_value_col: Any = None, *, observation_period_end: Any = None,
              freq: str = "D", freq_multiplier: float = 1,
              include_first_transaction: bool = False, npartitions: Optional[int] = None,
              partitioned_by_customer: bool = False) -> dd.DataFrame:
    """Per-customer summaries of a partitioned log, as
    :func:`crmkit.summary_data_from_transaction_data` (same arguments and columns).

    The rows are hash-partitioned by customer id (one shuffle; ``npartitions`` partitions, by
    default as many as the log has), unless ``partitioned_by_customer=True`` says the log already
    keeps each customer's rows in one partition: then the summary is persisted on the workers and
    checked (each customer's summary row must come from one partition), and a customer found in
    two partitions raises ValueError naming the customer and the partitions (never counted
    twice).
    The observation end defaults to the last date of the whole log. Each partition of the result
    holds whole customers, indexed by id and sorted within the partition.
    """
    log = check_transactions(log, customer_id_col, datetime_col, monetary_value_col)
    if observation_period_end is None:
        observation_period_end = log[datetime_col].max().compute()
    end = pd.Timestamp(observation_period_end)
    if not partitioned_by_customer:
        log = log.shuffle(customer_id_col, npartitions=npartitions or log.npartitions)
    options = dict(freq=freq, freq_multiplier=freq_multiplier,
                   include_first_transaction=include_first_transaction)
    columns = ["frequency", "recency", "T"] + ([] if monetary_value_col is None else ["monetary_value"])
    meta = pd.DataFrame({name: pd.Series([], dtype=np.float64) for name in columns},
                        index=pd.Index(log[customer_id_col]._meta.iloc[:0], name=customer_id_col))
    summary = log.map_partitions(_summary_part, customer_id_col, datetime_col, monetary_value_col,
                                 end, options, meta, meta=meta, align_dataframes=False)
    if partitioned_by_customer:
        summary = summary.persist()
        _check_colocated(summary)
    return summary


# --- tree reductions ------------------------------------------------------------------------


def _pattern_columns(x, u, v, weights=None) -> dict:
    empty = np.empty(0)
    return _core.clv.merge_patterns(np.ascontiguousarray(x, dtype=np.float64),
                                    np.ascontiguousarray(u, dtype=np.float64),
                                    np.ascontiguousarray(v, dtype=np.float64),
                                    empty if weights is None else np.ascontiguousarray(weights, dtype=np.float64))


def _merge(*histograms: dict) -> dict:
    def joined(name: str) -> np.ndarray:
        return np.concatenate([np.asarray(h[name], dtype=np.float64) for h in histograms])

    return _pattern_columns(joined("x"), joined("u"), joined("v"), joined("weight"))


def _tree_reduce(parts: list, merge: Any = None) -> Any:
    merge = _merge if merge is None else merge
    if not parts:
        raise ValueError("the frame has no partitions")
    while len(parts) > 1:
        parts = [dask.delayed(merge)(*parts[i:i + SPLIT_EVERY])
                 for i in range(0, len(parts), SPLIT_EVERY)]
    return dask.delayed(merge)(parts[0])


def _histogram(frame: dd.DataFrame, chunk) -> pd.DataFrame:
    merged = _tree_reduce([dask.delayed(chunk)(part) for part in frame.to_delayed()]).compute()
    return pd.DataFrame({name: np.asarray(merged[name]) for name in ("x", "u", "v", "weight")})


def _transaction_chunk(columns: Sequence[str]):
    def chunk(frame: pd.DataFrame) -> dict:
        return _pattern_columns(*(frame[name].to_numpy() for name in columns))

    return chunk


def pattern_histogram(summary: dd.DataFrame,
                      columns: Sequence[str] = ("frequency", "recency", "T")) -> pd.DataFrame:
    """The histogram of (x, t_x, T) over all customers: columns x, u (t_x), v (T) and weight
    (customers), sorted by (x, u, v); per-partition histograms merged by a tree reduction."""
    _require_columns(summary, columns, "summary")
    return _histogram(summary[list(columns)], _transaction_chunk(columns))


def _spend_chunk(frame: pd.DataFrame) -> dict:
    repeat = frame[(frame["frequency"] > 0) & (frame["monetary_value"] > 0)]
    spend = repeat["monetary_value"].to_numpy()
    return _pattern_columns(repeat["frequency"].to_numpy(), spend, spend)


def spend_histogram(summary: dd.DataFrame) -> pd.DataFrame:
    """The histogram of (x, mean spend) over repeat customers with positive spend (the
    Gamma-Gamma data; zero-spend repeat buyers are left out, as in the pipeline): columns x,
    u (mean spend), v (= u) and weight."""
    _require_columns(summary, ["frequency", "monetary_value"], "summary")
    return _histogram(summary[["frequency", "monetary_value"]], _spend_chunk)


# --- fits -----------------------------------------------------------------------------------


def fit_transaction_model(summary: dd.DataFrame, fitter: Any = None,
                          columns: Sequence[str] = ("frequency", "recency", "T"),
                          **fit_kwargs: Any):
    """Fits a transaction model (default ``BetaGeoFitter()``; also ModifiedBetaGeoFitter,
    ParetoNBDFitter, BetaGeoBetaBinomFitter with ``columns=("frequency", "recency",
    "n_periods")``) to the merged pattern histogram, once, on the driver. Returns the fitter,
    whose ``data`` are the patterns and their weights."""
    fitter = BetaGeoFitter() if fitter is None else fitter
    histogram = pattern_histogram(summary, columns)
    return fitter.fit(histogram["x"].to_numpy(), histogram["u"].to_numpy(),
                      histogram["v"].to_numpy(), weights=histogram["weight"].to_numpy(), **fit_kwargs)


def _spend_rows_part(frame: pd.DataFrame) -> tuple:
    repeat = frame[(frame["frequency"] > 0) & (frame["monetary_value"] > 0)]
    return (np.ascontiguousarray(repeat["frequency"].to_numpy(dtype=np.float64)),
            np.ascontiguousarray(repeat["monetary_value"].to_numpy(dtype=np.float64)))


def _spend_rows_count(rows: tuple) -> int:
    return len(rows[0])


def _spend_rows_summary(rows: tuple, sample_target: int, total_rows: int,
                        partition: int) -> Optional[dict]:
    if len(rows[0]) == 0:
        return None
    try:
        return _core.clv.gamma_gamma_rows_summary(rows[0], rows[1], sample_target, total_rows)
    except ValueError as error:
        raise ValueError(f"summary partition {partition}: {error}") from None


def _spend_row_sums(rows: tuple, v: float, with_hessian: bool) -> tuple:
    return _core.clv.gamma_gamma_row_sums(rows[0], rows[1], v, with_hessian)


def fit_gamma_gamma(summary: dd.DataFrame, fitter: Any = None, *, client: Any = None,
                    **fit_kwargs: Any):
    """Fits Gamma-Gamma (default ``GammaGammaFitter()``) to the repeat customers with positive
    spend, whose (x, mean spend) rows stay on the workers; returns the fitter (``data`` empty).

    The rows are persisted on the workers once. The driver receives each partition's count,
    W_x histogram (distinct x: a few hundred), exact sums of m, ln m and x ln m (as limbs) and
    its rows of the hashed sample of about ``sample_threshold / 2`` rows of all (rows chosen by
    their values alone; for the fit's first stage); then the single-machine C++ fit runs on the driver
    (``_core.clv.fit_gamma_gamma_elsewhere``) and each of its passes over the rows is one round
    trip: the driver sends v, every partition returns its six per-row sums exactly (limbs,
    ``gamma_gamma_row_sums``), the driver merges them exactly and rounds each once.
    ``fit_kwargs`` as :meth:`crmkit.GammaGammaFitter.fit` (``initial_params``, ``tol``,
    ``q_constraint``, ``maxiter``...). ``client``: default the current one.

    The estimates equal the single-machine fit of the same rows bit for bit, whatever the
    partitioning and the rows' order: every sum over rows is exact on both sides, and the
    sample is the one the single machine draws.
    """
    from distributed import default_client

    client = default_client() if client is None else client
    fitter = GammaGammaFitter() if fitter is None else fitter
    _require_columns(summary, ["frequency", "monetary_value"], "summary")
    rows = client.compute([dask.delayed(_spend_rows_part)(part)
                           for part in summary[["frequency", "monetary_value"]].to_delayed()])
    try:
        sizes = client.gather(client.map(_spend_rows_count, rows, pure=False))
        total = sum(sizes)
        if total == 0:
            raise ValueError("summary: no customer with repeat purchases and positive spend; the "
                             "Gamma-Gamma model has nothing to fit")

        def fit(options: Any) -> dict:
            staged = options.sample_threshold > 0 and total > options.sample_threshold
            target = options.sample_threshold // 2 if staged else 0
            found = client.gather([
                client.submit(_spend_rows_summary, part, target, total, number, pure=False)
                for number, part in enumerate(rows)])
            found = [f for f in found if f is not None]
            levels, where = np.unique(np.concatenate([f["levels"] for f in found]),
                                      return_inverse=True)
            level_weights = np.bincount(where, np.concatenate([f["level_weights"] for f in found]),
                                        minlength=len(levels))
            sample = {name: np.concatenate([f[name] for f in found])
                      for name in ("sample_x", "sample_m", "sample_w")}

            def sums(v: float, with_hessian: bool) -> list:
                return client.gather(client.map(_spend_row_sums, rows, v=v,
                                                with_hessian=with_hessian, pure=False))

            return _core.clv.fit_gamma_gamma_elsewhere(total, levels, level_weights,
                                                       [f["fixed"] for f in found], **sample,
                                                       sums=sums, options=options)

        return fitter._fit_elsewhere(fit, **fit_kwargs)
    finally:
        client.cancel(rows)


# --- scores ---------------------------------------------------------------------------------


def _score_part(frame: pd.DataFrame, transaction_model: Any, spend_model: Any, horizon: float,
                months: float, discount_rate: float, freq: str) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    if len(frame) == 0:
        return out.assign(p_alive=np.float64(), expected_purchases=np.float64(),
                          expected_spend=np.float64(), clv=np.float64())
    x, t_x, age = frame["frequency"], frame["recency"], frame["T"]
    out["p_alive"] = transaction_model.conditional_probability_alive(x, t_x, age)
    out["expected_purchases"] = transaction_model.conditional_expected_number_of_purchases_up_to_time(
        horizon, x, t_x, age)
    spend = frame["monetary_value"].where(x > 0, 0.0)
    out["expected_spend"] = spend_model.conditional_expected_average_profit(x, spend)
    out["clv"] = spend_model.customer_lifetime_value(transaction_model, x, t_x, age, spend,
                                                     time=months, discount_rate=discount_rate,
                                                     freq=freq)
    return out


def parameters_only(model: Any):
    """A copy of a fitted model holding only its parameters (``from_params``), for broadcasting:
    a fitted model keeps its fitting data (one row per repeat buyer for Gamma-Gamma), which
    would otherwise travel with every task."""
    return type(model).from_params(model.params_.to_dict(), model.penalizer_coef)


def score_customers(summary: dd.DataFrame, transaction_model: Any, spend_model: Any, *,
                    horizon: float = 13, months: float = 12, discount_rate: float = 0.01,
                    freq: str = "W") -> dd.DataFrame:
    """P(alive), expected purchases in the next ``horizon`` periods, expected mean spend
    (Gamma-Gamma conditional mean; zero-spend repeat buyers at zero observed spend) and CLV
    (lifetimes' monthly DCF over ``months`` at ``discount_rate``; ``freq`` the summary's time
    unit) per customer, per partition with the fitted models broadcast; partitioned as the
    summary."""
    meta = pd.DataFrame({name: pd.Series([], dtype=np.float64)
                         for name in ("p_alive", "expected_purchases", "expected_spend", "clv")},
                        index=summary._meta.index)
    return summary.map_partitions(_score_part, parameters_only(transaction_model),
                                  parameters_only(spend_model), horizon, months, discount_rate,
                                  freq, meta=meta)


_RFM_DIMENSIONS = (("recency", False), ("frequency", True), ("monetary_value", True))


def _values_chunk(column: str):
    def chunk(frame: pd.DataFrame) -> dict:
        values = frame[column].to_numpy()
        return _pattern_columns(values, values, values)

    return chunk


def rfm_scales(summary: dd.DataFrame, bins: int = 5, ties: str = "average_rank") -> dict:
    """The exact quantile scales of :func:`crmkit.rfm_scores` (``ties`` "average_rank" or
    "drop_edges") over all customers of an RFM summary (``include_first_transaction=True``),
    from the merged histograms of each dimension's distinct values
    (``_core.segment.quantile_scale_of_histogram``). Returns ``{"recency": RFMScale, ...}``."""
    _require_columns(summary, [name for name, _ in _RFM_DIMENSIONS], "summary")
    parts = summary.to_delayed()
    histograms = [_tree_reduce([dask.delayed(_values_chunk(name))(part) for part in parts])
                  for name, _ in _RFM_DIMENSIONS]
    merged = dask.compute(*histograms)
    scales = {}
    for (name, higher), histogram in zip(_RFM_DIMENSIONS, merged):
        scale = _core.segment.quantile_scale_of_histogram(
            np.asarray(histogram["x"]), np.asarray(histogram["weight"]), bins, ties, higher)
        scales[name] = RFMScale(**scale)
    return scales


def _rfm_part(frame: pd.DataFrame, scales: dict) -> pd.DataFrame:
    columns = [name for name, _ in _RFM_DIMENSIONS]
    if len(frame) == 0:
        return frame[columns].assign(r_score=np.int32(), f_score=np.int32(), m_score=np.int32())
    scored = _rfm_scores_frame(frame[columns], scales=scales)[columns + ["r_score", "f_score", "m_score"]]
    scored.attrs = {}
    return scored


def rfm_scores(summary: dd.DataFrame, scales: Optional[dict] = None, bins: int = 5,
               ties: str = "average_rank") -> dd.DataFrame:
    """RFM scores per customer on the global scales (:func:`rfm_scales` unless given): the
    r_score, f_score and m_score of :func:`crmkit.rfm_scores` on the whole summary."""
    scales = rfm_scales(summary, bins, ties) if scales is None else scales
    columns = [name for name, _ in _RFM_DIMENSIONS]
    meta = summary._meta[columns].assign(r_score=np.int32(), f_score=np.int32(), m_score=np.int32())
    return summary.map_partitions(_rfm_part, scales, meta=meta)


def _stages_part(frame: pd.DataFrame, customer_id_col: Any, datetime_col: Any,
                 monetary_value_col: Any, as_of: pd.Timestamp, options: dict,
                 meta: pd.DataFrame) -> pd.DataFrame:
    if len(frame) == 0:
        return meta
    stages = _lifecycle_stages_frame(frame, customer_id_col, datetime_col, monetary_value_col,
                                     as_of=as_of, **options)
    stages.attrs = {}
    return stages.sort_index()


def _stage_inputs(log: dd.DataFrame, customer_id_col: Any, datetime_col: Any,
                  monetary_value_col: Any, population_gap: Optional[float], last_date: Any,
                  npartitions, partitioned_by_customer: bool, options: dict,
                  first_date: Any = None):
    """The checked log co-located by customer, the last date (the log's when not given; taken
    before the shuffle so that computing it does not run the shuffle) and the stage options with
    the population gap (when given; else :func:`population_gaps` at the last date, unless a
    `first_date` asks the caller to find a G per date) and the model as parameters only."""
    log = check_transactions(log, customer_id_col, datetime_col, monetary_value_col)
    if last_date is None:
        last_date = log[datetime_col].max().compute()
    if not partitioned_by_customer:
        log = log.shuffle(customer_id_col, npartitions=npartitions or log.npartitions)
    if population_gap is None and first_date is None:
        population_gap = population_gaps(log, customer_id_col, datetime_col, [last_date],
                                         freq=options.get("freq", "D"),
                                         partitioned_by_customer=True)[0]
    options = dict(options)
    if population_gap is not None:
        options["population_gap"] = population_gap
    if options.get("model") is not None:
        options["model"] = parameters_only(options["model"])
    return log, last_date, options


def _gap_counts_part(frame: pd.DataFrame, customer_id_col: Any, datetime_col: Any,
                     dates: list, freq: str) -> list:
    """Per date: how many customers of the partition with two purchase periods or more by then
    have each median gap (in periods of `freq`)."""
    counts = []
    for date in dates:
        if len(frame) == 0 or frame[datetime_col].min().to_period(freq) > date.to_period(freq):
            counts.append(pd.Series([], dtype=np.int64))
            continue
        # With own_gap_min_purchases=2 the typical gap of every customer with two purchase
        # periods is their own median gap (the C++ engine's, as an exact half-integer); the
        # population gap given only lets the classification run.
        explained = _lifecycle_stages_frame(frame, customer_id_col, datetime_col, as_of=date,
                                            explain=True, freq=freq, population_gap=1.0,
                                            own_gap_min_purchases=2)
        gaps = explained["typical_gap"][explained["purchases"] >= 2]
        counts.append(gaps.value_counts().astype(np.int64))
    return counts


def _add_gap_counts(*parts: list) -> list:
    return [pd.concat(per_date).groupby(level=0).sum().astype(np.int64)
            for per_date in zip(*parts)]


def population_gaps(log: dd.DataFrame, customer_id_col: Any, datetime_col: Any,
                    dates: Sequence[Any], *, freq: str = "D", npartitions=None,
                    partitioned_by_customer: bool = False) -> list:
    """G, the population gap of :mod:`crmkit.lifecycle`, at each date, exactly as one machine
    finds it: the median, over the customers with at least two purchase periods by the date,
    of their median gap between purchase periods (in periods of ``freq``).

    Each customer's median gap is their own, so each partition (customers co-located as in
    :func:`summarize`) counts its customers' median gaps, found by the single-machine engine;
    the counts are added by a tree reduction and the driver picks the two middle order
    statistics, the ((t + 1) / 2)-th and ((t + 2) / 2)-th smallest of the t values (the same
    value when t is odd), and averages them, as the engine does. The medians are
    half-integers, so the result is the single-machine G bit for bit.

    As for :func:`crmkit.lifecycle.stage_history`: a date by which no customer has two purchase
    periods takes the last date's G; if that is undefined too, ValueError.
    """
    freq = _canonical_freq(freq, "freq")
    stamps = [pd.Timestamp(date) for date in dates]
    if not stamps:
        raise ValueError("dates: at least one date is required")
    if not partitioned_by_customer:
        log = log.shuffle(customer_id_col, npartitions=npartitions or log.npartitions)
    parts = [dask.delayed(_gap_counts_part)(part, customer_id_col, datetime_col, stamps, freq)
             for part in log.to_delayed()]
    while len(parts) > 1:
        parts = [dask.delayed(_add_gap_counts)(*parts[i:i + SPLIT_EVERY])
                 for i in range(0, len(parts), SPLIT_EVERY)]
    merged = dask.delayed(_add_gap_counts)(parts[0]).compute()
    gaps = []
    for counts in merged:
        counts = counts.sort_index()
        total = int(counts.sum())
        if total == 0:
            gaps.append(None)
            continue
        seen = np.cumsum(counts.to_numpy())
        values = counts.index.to_numpy(dtype=np.float64)
        low = values[np.searchsorted(seen, (total + 1) // 2)]
        high = values[np.searchsorted(seen, (total + 2) // 2)]
        gaps.append((low + high) / 2)
    if gaps[-1] is None:
        raise ValueError(f"no customer has two purchase periods by {stamps[-1]}, so the "
                         "population's typical gap is undefined; set population_gap")
    return [gaps[-1] if gap is None else gap for gap in gaps]


def lifecycle_stages(log: dd.DataFrame, customer_id_col: Any, datetime_col: Any,
                     monetary_value_col: Any = None, *, population_gap: Optional[float] = None,
                     as_of: Any = None, npartitions=None, partitioned_by_customer: bool = False,
                     **options: Any) -> dd.DataFrame:
    """:func:`crmkit.lifecycle_stages` per customer over a partitioned log (co-located by
    customer as in :func:`summarize`; ``as_of`` defaults to the log's last date); further
    keyword arguments (``model``, ``freq``, thresholds) as there.

    ``population_gap`` (G, in periods of ``freq``) defaults, as on one machine, to the median
    over all customers of their median gaps, found exactly across partitions by
    :func:`population_gaps` (one more pass over the log). Every customer's stage equals the
    single-machine stage.
    """
    log, as_of, options = _stage_inputs(log, customer_id_col, datetime_col, monetary_value_col,
                                      population_gap, as_of, npartitions,
                                      partitioned_by_customer, options)
    import warnings

    with warnings.catch_warnings():
        # Dask's made-up sample rows (for the columns' types) may warn, e.g. that a model's
        # time unit cannot be checked on them.
        warnings.simplefilter("ignore")
        meta = _stages_part(log._meta_nonempty, customer_id_col, datetime_col,
                            monetary_value_col, pd.Timestamp(as_of), options, None).iloc[:0]
    return log.map_partitions(_stages_part, customer_id_col, datetime_col, monetary_value_col,
                              pd.Timestamp(as_of), options, meta, meta=meta,
                              align_dataframes=False)


def _cohort_part(frame: pd.DataFrame, customer_id_col: Any, datetime_col: Any,
                 monetary_value_col: Any, freq: str, as_of: pd.Timestamp) -> Optional[CohortRetention]:
    if len(frame) == 0:
        return None
    return _cohort_retention_frame(frame, customer_id_col, datetime_col, monetary_value_col,
                                   freq=freq, as_of=as_of)


def _add_cohorts(*parts: Optional[CohortRetention]) -> Optional[CohortRetention]:
    found = [part for part in parts if part is not None]
    if len(found) <= 1:
        return found[0] if found else None

    def added(tables: list) -> pd.DataFrame:
        return pd.concat(tables).groupby(level=0, sort=True).sum(min_count=1)

    counts = added([part.counts for part in found])
    sizes = added([part.sizes.to_frame() for part in found])["size"]
    revenue = None if found[0].revenue is None else added([part.revenue for part in found])
    return CohortRetention(counts, None, revenue, sizes, None)


def cohort_retention(log: dd.DataFrame, customer_id_col: Any, datetime_col: Any,
                     monetary_value_col: Any = None, *, freq: str = "M", as_of: Any = None,
                     npartitions=None, partitioned_by_customer: bool = False) -> CohortRetention:
    """:func:`crmkit.lifecycle.cohort_retention` of a partitioned log: each partition's cohort
    tables (customers co-located as in :func:`summarize`; ``as_of`` the log's last date unless
    given) added up by a tree reduction. Counts and sizes are integers, so they and the rates
    equal the single-machine tables exactly; revenue sums add partition totals, equal to the
    single-machine sums up to rounding (another order of addition)."""
    log = check_transactions(log, customer_id_col, datetime_col, monetary_value_col)
    if as_of is None:
        as_of = log[datetime_col].max().compute()
    if not partitioned_by_customer:
        log = log.shuffle(customer_id_col, npartitions=npartitions or log.npartitions)
    parts = [dask.delayed(_cohort_part)(part, customer_id_col, datetime_col, monetary_value_col,
                                        freq, pd.Timestamp(as_of))
             for part in log.to_delayed()]
    while len(parts) > 1:
        parts = [dask.delayed(_add_cohorts)(*parts[i:i + SPLIT_EVERY])
                 for i in range(0, len(parts), SPLIT_EVERY)]
    merged = dask.delayed(_add_cohorts)(parts[0]).compute()
    if merged is None:
        raise ValueError("log: no transactions")
    counts = merged.counts.astype("Int64")
    sizes = merged.sizes.astype(np.int64)
    rates = counts.astype("Float64").div(sizes.where(sizes > 0), axis=0).astype(float)
    cohort_revenue = None if merged.revenue is None else merged.revenue.sum(axis=1).rename("revenue")
    return CohortRetention(counts, rates, merged.revenue, sizes, cohort_revenue)


def _migration_part(frame: pd.DataFrame, customer_id_col: Any, datetime_col: Any,
                    monetary_value_col: Any, start: pd.Timestamp, end: pd.Timestamp,
                    options: dict) -> Optional[pd.DataFrame]:
    if len(frame) == 0:
        return None
    return _stage_migration_frame(frame, customer_id_col, datetime_col, start, end,
                                  monetary_value_col, **options).counts


def _stage_at(frame: pd.DataFrame, customer_id_col: Any, datetime_col: Any,
              monetary_value_col: Any, date: pd.Timestamp, options: dict, gap: float) -> pd.Series:
    """The partition's stages as of `date` with population gap `gap` (none before the first
    purchase period)."""
    freq = _canonical_freq(options.get("freq", "D"), "freq")
    if frame[datetime_col].min().to_period(freq) > date.to_period(freq):
        return pd.Series([], dtype=object, index=frame[customer_id_col].iloc[:0])
    return _lifecycle_stages_frame(frame, customer_id_col, datetime_col, monetary_value_col,
                                   as_of=date, **dict(options, population_gap=gap))["stage"]


def _migration_by_date_part(frame: pd.DataFrame, customer_id_col: Any, datetime_col: Any,
                            monetary_value_col: Any, start: pd.Timestamp, end: pd.Timestamp,
                            options: dict, gaps: list) -> Optional[pd.DataFrame]:
    """Transition counts of the partition when G differs between the dates (stage_migration
    takes one G): the stages at both dates, cross-tabulated as stage_migration tabulates them
    (rows: the stage at `start`, or "unobserved"; columns: the stage at `end`)."""
    if len(frame) == 0:
        return None
    before = _stage_at(frame, customer_id_col, datetime_col, monetary_value_col, start, options,
                       gaps[0])
    after = _stage_at(frame, customer_id_col, datetime_col, monetary_value_col, end, options,
                      gaps[1])
    rows = pd.Categorical(before.reindex(after.index).astype(object).fillna("unobserved"),
                          categories=list(_STAGES) + ["unobserved"])
    columns = pd.Categorical(after.astype(object), categories=list(_STAGES))
    counts = pd.crosstab(rows, columns, dropna=False).astype(np.int64)
    counts.index.name, counts.columns.name = "from", "to"
    return counts.reindex(index=list(_STAGES) + ["unobserved"], columns=list(_STAGES),
                          fill_value=0)


def _add_tables(*tables: Optional[pd.DataFrame]) -> Optional[pd.DataFrame]:
    found = [table for table in tables if table is not None]
    if not found:
        return None
    total = found[0].copy()
    for table in found[1:]:
        total += table
    return total


def stage_migration(log: dd.DataFrame, customer_id_col: Any, datetime_col: Any, start: Any,
                    end: Any = None, monetary_value_col: Any = None, *,
                    population_gap: Any = None, npartitions=None,
                    partitioned_by_customer: bool = False, **options: Any) -> StageMigration:
    """:func:`crmkit.lifecycle.stage_migration` of a partitioned log: per-partition transition
    counts (customers co-located; ``end`` the log's last date unless given) added by a tree
    reduction, exactly the single-machine counts and rates. A given ``population_gap`` replaces
    G at both dates, as there; by default each date has its own G, found exactly by
    :func:`population_gaps` (a pair (G at start, G at end) gives them)."""
    start = pd.Timestamp(start)
    pair = population_gap is not None and np.ndim(population_gap) == 1
    if pair and len(population_gap) != 2:
        raise ValueError(f"population_gap = {population_gap!r}: one value, or a pair (G at "
                         "start, G at end)")
    log, end, options = _stage_inputs(log, customer_id_col, datetime_col, monetary_value_col,
                                    None if pair else population_gap, end, npartitions,
                                    partitioned_by_customer, options, first_date=start)
    end = pd.Timestamp(end)
    if start > end:
        raise ValueError(f"start = {start} must not be after end = {end}")
    if population_gap is None or pair:
        gaps = [float(g) for g in population_gap] if pair else population_gaps(
            log, customer_id_col, datetime_col, [start, end], freq=options.get("freq", "D"),
            partitioned_by_customer=True)
        parts = [dask.delayed(_migration_by_date_part)(part, customer_id_col, datetime_col,
                                                       monetary_value_col, start, end, options,
                                                       gaps)
                 for part in log.to_delayed()]
    else:
        parts = [dask.delayed(_migration_part)(part, customer_id_col, datetime_col,
                                               monetary_value_col, start, end, options)
                 for part in log.to_delayed()]
    while len(parts) > 1:
        parts = [dask.delayed(_add_tables)(*parts[i:i + SPLIT_EVERY])
                 for i in range(0, len(parts), SPLIT_EVERY)]
    counts = parts[0].compute()
    if counts is None:
        raise ValueError("log: no transactions")
    totals = counts.sum(axis=1)
    return StageMigration(counts, counts.div(totals.where(totals > 0), axis=0))


# --- survey aggregates ----------------------------------------------------------------------


def _survey_levels(answers: dd.DataFrame, by_columns: list) -> list[pd.Index]:
    """Each grouping column's levels as the single-machine call finds them (crmkit.survey's
    factorize of the whole column: a categorical's categories, else the sorted distinct values;
    missing keys last), from the column's distinct values."""
    distinct = dask.compute(*[answers[column].drop_duplicates() for column in by_columns])
    return [_factorize(values)[1] for values in distinct]


def _survey_codes(column: pd.Series, levels: pd.Index) -> np.ndarray:
    codes = levels.get_indexer(column).astype(np.int64)
    missing = column.isna().to_numpy()
    if missing.any():
        codes[missing] = len(levels) - 1  # factorize puts the missing keys' group last
    return codes


def _survey_tally_part(frame: pd.DataFrame, spec: dict, partition: int) -> tuple:
    """The partition's raw (group, period) accumulators, and its first bad row (or None)."""
    scores = _scores_array(frame[spec["score_col"]], spec["score_col"])
    weights = (None if spec["weights_col"] is None else
               _weights_array(frame[spec["weights_col"]], len(frame), spec["weights_col"]))
    codes = [_survey_codes(frame[column], levels)
             for column, levels in zip(spec["by"], spec["levels"])]
    sizes = [len(levels) for levels in spec["levels"]]
    period = spec["period"]
    stamps = None if period is None else _timestamps_array(frame[spec["date_col"]], spec["date_col"])
    if spec["metric"] == "nps":
        table = _core.survey.tally_nps(scores, weights, codes, sizes, stamps, _NS_PER_DAY, period)
    else:
        table = _core.survey.tally_rating(scores, weights, codes, sizes, stamps, _NS_PER_DAY,
                                          period, *spec["scale"])
    if table.bad_rows == 0:
        return table, None
    row = table.first_bad_row
    where = (f"partition {partition}, row {row} (index {frame.index[row]!r}): "
             f"{table.first_problem}")
    if spec["on_bad_row"] == "error":
        raise ValueError(f"answers: {where} ({table.bad_rows} of {table.rows} rows of the "
                         "partition are invalid). Pass on_bad_row='skip' to leave invalid rows "
                         "out.")
    return table, where


def _merge_survey_tallies(*parts: tuple) -> tuple:
    found = [where for _, where in parts if where is not None]
    return _core.survey.merge_cells([table for table, _ in parts]), (found[0] if found else None)


def survey_aggregate(answers: dd.DataFrame, score_col: Any, metric: str = "nps", by: Any = None,
                     period: Optional[str] = None, date_col: Any = None, weights_col: Any = None,
                     window: int = 1, *, confidence: float = 0.95, method: str = "adjusted_wald",
                     scale: Optional[tuple] = None, top_boxes: int = 2, version: str = "2.0",
                     min_n: float = 30, n_boot: int = 2000, random_state: Any = None,
                     on_bad_row: str = "error") -> pd.DataFrame:
    """:func:`crmkit.survey.aggregate` of a partitioned table of answers: NPS, CSAT or CES of
    every group × period (rolling windows of ``window`` periods), weighted or not, with the same
    arguments and the same result.

    Each partition accumulates its answers into the survey area's mergeable C++ accumulators,
    one per (group, period) cell (``_core.survey.tally_nps`` / ``tally_rating``): answer counts,
    and for weighted answers the exact sums of the weights, of the squared weights (Kish's
    effective sample size) and, for CSAT/CES, of w·x and w·x² (crmkit/core/exact_sum.hpp). The
    partitions' tables are merged by a tree reduction (``merge_cells``, aligning their period
    ranges; exact: integer counts, exact sums), and the driver forms the rolling windows and
    summarises every cell with the C++ code of the single-machine call
    (``summarize_nps_cells`` / ``summarize_rating_cells``). So the frame, its index (every
    level and period, empty cells included) and attrs equal the single-machine result bit for
    bit, unweighted bootstrap intervals included for the same ``random_state``. A bootstrap
    interval of weighted answers resamples the answers themselves, which the merged tables do
    not keep: it raises ValueError (use ``method="adjusted_wald"`` or ``"wald"``).

    Grouping columns other than categoricals with known categories cost one more pass over
    those columns (their distinct values, so that every partition codes its groups alike).

    An invalid row (an answer off the scale, not whole or NULL; a negative, NaN or out-of-range
    weight; a NULL date under ``period``) raises ValueError naming the partition, the row, its
    index label and the value; under ``on_bad_row="skip"`` invalid rows are left out with one
    ``SkippedRowsWarning`` (their total and the first one) and counted in
    ``attrs["crmkit.survey"]["skipped_rows"]``, as on one machine.
    """
    by_columns, resolved = _aggregate_options(metric, by, period, date_col, window, method, scale,
                                              top_boxes, version, on_bad_row)
    confidence = _check_confidence(confidence)
    _require_columns(answers, [score_col, *by_columns, date_col if period else None, weights_col],
                     "answers")
    if metric == "nps" and method == "bootstrap" and weights_col is not None:
        raise ValueError("method = 'bootstrap' with weights_col resamples the answers "
                         "themselves, which a cluster does not gather; use 'adjusted_wald' or "
                         "'wald'")
    seed = _seed_from(random_state) if metric == "nps" and method == "bootstrap" else 0
    spec = dict(metric=metric, score_col=score_col, weights_col=weights_col, by=by_columns,
                levels=_survey_levels(answers, by_columns), period=period, date_col=date_col,
                scale=resolved, on_bad_row=on_bad_row)
    parts = [dask.delayed(_survey_tally_part)(part, spec, number)
             for number, part in enumerate(answers.to_delayed())]
    while len(parts) > 1:
        parts = [dask.delayed(_merge_survey_tallies)(*parts[i:i + SPLIT_EVERY])
                 for i in range(0, len(parts), SPLIT_EVERY)]
    table, first_bad = parts[0].compute()
    if table.rows == 0:
        raise ValueError("answers: no rows")
    if first_bad is not None:
        import warnings

        warnings.warn(f"{table.bad_rows} of {table.rows} rows are invalid; the first is in "
                      f"{first_bad}; they were left out.", _SkippedRowsWarning, stacklevel=2)
    if metric == "nps":
        out, first_period_day = _core.survey.summarize_nps_cells(
            table, int(window), confidence, method, n_boot, seed, min_n)
    else:
        out, first_period_day = _core.survey.summarize_rating_cells(table, int(window),
                                                                    confidence, min_n)
    periods = None if period is None else _period_labels(first_period_day, out["periods"], period)
    return _cells_frame(out["columns"], _result_index(spec["levels"], periods), metric=metric,
                        scale=resolved, version=version, period=period, window=int(window),
                        confidence=confidence, method=method, weighted=weights_col is not None,
                        skipped=table.bad_rows, min_n=min_n)


def survey_nps(answers: dd.DataFrame, score_col: Any, by: Any = None, period: Optional[str] = None,
               date_col: Any = None, *, confidence: float = 0.95, method: str = "adjusted_wald",
               n_boot: int = 2000, random_state: Any = None, min_n: float = 30) -> pd.DataFrame:
    """Unweighted NPS by group and period: :func:`survey_aggregate` with ``metric="nps"``."""
    return survey_aggregate(answers, score_col, "nps", by, period, date_col,
                            confidence=confidence, method=method, n_boot=n_boot,
                            random_state=random_state, min_n=min_n)


# --- value tiers ----------------------------------------------------------------------------


def _tier_values(frame: Any, partition: Optional[int]) -> np.ndarray:
    values = np.asarray(frame.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    bad = ~(np.isfinite(values) & (values >= 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"partition {partition}, row {row} (index {frame.index[row]!r}): value "
                         f"{values[row]!r} must be finite and >= 0 ({int(bad.sum())} such rows "
                         "in the partition)")
    return values


def _buckets_part(frame: Any, partition: int, widths: np.ndarray, keys: np.ndarray) -> dict:
    return _core.segment.value_buckets(_tier_values(frame, partition), widths, keys)


def _gather_buckets(parts: list, widths: np.ndarray, keys: np.ndarray) -> dict:
    """Every partition's buckets of its values (all values at width 16 with no parents; else the
    values inside the parent buckets (widths, keys), 16 bits finer), concatenated."""
    found = dask.compute(*[dask.delayed(_buckets_part)(part, number, widths, keys)
                           for number, part in enumerate(parts)])
    return {name: np.concatenate([f[name] for f in found]) for name in found[0]}


def _tiers_part(frame: Any, lowest: np.ndarray, tiers: np.ndarray, labels: tuple,
                partition_info: Optional[dict] = None) -> pd.DataFrame:
    number = None if partition_info is None else partition_info.get("number")
    values = _tier_values(frame, number)
    # Tiers hold consecutive ranges of the ranked values: a value's tier is the first non-empty
    # tier whose lowest value it reaches.
    codes = tiers[np.searchsorted(-lowest, -values, side="left")]
    return pd.DataFrame({"value": values,
                         "tier": pd.Categorical.from_codes(codes, categories=labels, ordered=True)},
                        index=frame.index)


def value_tiers(data: Any, column: Any = None, *, by: str = "value", cuts: Any = None,
                labels: Any = None) -> tuple[dd.DataFrame, pd.DataFrame]:
    """:func:`crmkit.value_tiers` (ABC / high-medium-low) of a partitioned value (CLV, spend):
    a Dask Series, or a Dask DataFrame and its ``column``.

    The values are persisted on the workers and never gathered: a radix select over their bit
    patterns (``crmkit/segment/tier_buckets.hpp``). Each partition returns, per bucket of the
    values' top 16 bits, the count, the lowest and highest value and the exact sum; the driver
    walks the merged buckets with the single-machine C++ code and exact sums
    (``_core.segment.value_tiers_of_buckets``) and asks only for the buckets in which a tier
    could change to be split 16 bits finer (at most three rounds; at 64 bits a bucket is one
    value). Each partition then labels its rows by the tiers' lowest values. Every tier and the
    summary equal the single-machine result bit for bit.

    Returns
    -------
    (tiers, summary)
        ``tiers``: value and tier (ordered categorical, top first) per row, partitioned as the
        input; ``summary``: the single-machine ``attrs["summary"]`` (customers, customer_share,
        value_share, lowest_value per tier). A NaN, infinite or negative value raises ValueError
        naming the partition, the row, its index label and the value.
    """
    if isinstance(data, dd.DataFrame):
        _require_columns(data, [column], "data")
        if column is None:
            raise ValueError("column: required with a DataFrame (the column of values)")
        data = data[column]
    cuts, labels = _tier_options(by, cuts, labels)
    data = data.persist()
    parts = data.to_delayed()
    buckets = _gather_buckets(parts, np.empty(0, np.int32), np.empty(0, np.uint64))
    for _ in range(4):  # widths 16, 32, 48, 64: a width-64 bucket (one value) is never split
        found = _core.segment.value_tiers_of_buckets(buckets, cuts, by)
        split = found["split"]
        if len(split["width"]) == 0:
            break
        children = _gather_buckets(parts, split["width"], split["key"])
        keep = np.ones(len(buckets["width"]), dtype=bool)
        for width, key in zip(split["width"], split["key"]):
            keep &= ~((buckets["width"] == width) & (buckets["key"] == key))
        buckets = {name: np.concatenate([column[keep], children[name]])
                   for name, column in buckets.items()}
    found = found["result"]
    lowest = np.asarray(found["lowest_values"], dtype=np.float64)
    filled = np.flatnonzero(~np.isnan(lowest))
    meta = pd.DataFrame({"value": pd.Series([], dtype=np.float64),
                         "tier": pd.Categorical([], categories=labels, ordered=True)},
                        index=data._meta.index)
    tiers = data.map_partitions(_tiers_part, lowest[filled], filled.astype(np.int32), labels,
                                meta=meta)
    return tiers, _tier_summary(found, labels)


# --- k-means ----------------------------------------------------------------------------------


class KMeansFit:
    """A distributed k-means fit (:func:`kmeans`), with :class:`crmkit.KMeans`'s attribute names.

    Attributes
    ----------
    labels_ : dask Series (DataFrame input, the input's index) or dask Array, int32
        Nearest centre of every row, partitioned like the input.
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    inertia_ : float
    n_iter_ : int
    converged_ : bool
    algorithm_ : str
        The iteration the single-machine fit would use (results are the same for all).
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only for DataFrame input.
    """

    def __repr__(self) -> str:
        return (f"KMeansFit(n_clusters={len(self.cluster_centers_)}, inertia={self.inertia_!r}, "
                f"n_iter={self.n_iter_})")


def _kmeans_part(frame: Any, partition: int, columns: Optional[list],
                 weight_col: Any) -> tuple:
    """(rows, weights or None, index or None) of one partition, or ValueError naming the bad
    partition, row, index label, column and value."""
    index = None
    weights = None
    if isinstance(frame, pd.DataFrame):
        index = frame.index
        if weight_col is not None:
            weights = np.ascontiguousarray(
                frame[weight_col].to_numpy(dtype=np.float64, na_value=np.nan))
        frame = frame[columns].to_numpy(dtype=np.float64, na_value=np.nan)
    rows = np.ascontiguousarray(np.asarray(frame, dtype=np.float64))
    if rows.ndim != 2:
        raise ValueError(f"partition {partition}: the samples must be 2-d, got {rows.ndim} "
                         "dimensions")
    for values, what in ((rows, None), (weights, weight_col)):
        if values is None:
            continue
        bad = ~np.isfinite(values) if what is None else ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            row, *column = np.argwhere(bad)[0]
            label = "" if index is None else f" (index {index[row]!r})"
            if what is None:
                name = column[0] if columns is None else columns[column[0]]
                value = values[row, column[0]]
                problem = "must be finite"
            else:
                name, value, problem = what, values[row], "must be finite and >= 0"
            raise ValueError(f"kmeans: partition {partition}, row {row}{label}: column {name!r} "
                             f"= {value!r} {problem} ({int(bad.sum())} such values in the "
                             "partition)")
    return rows, weights, index


def _kmeans_sums(part: tuple) -> tuple:
    rows, weights, _ = part
    return _core.segment.kmeans_column_sums(rows, sample_weight=weights)


def _kmeans_deviations(part: tuple, mean: np.ndarray) -> tuple:
    return _core.segment.kmeans_column_deviations(part[0], mean)


def _kmeans_weight_total(part: tuple, radius: float, largest_weight: float) -> int:
    rows, weights, _ = part
    return _core.segment.kmeans_seed_weight_total(len(rows), radius, largest_weight,
                                                  sample_weight=weights)


def _kmeans_add_centre(part: tuple, closest: Optional[np.ndarray], mean: np.ndarray,
                       centre: np.ndarray, radius: float, largest_weight: float) -> tuple:
    rows, weights, _ = part
    return _core.segment.kmeans_seed_add_centre(rows, mean, centre, radius, largest_weight,
                                                closest=closest, sample_weight=weights)


def _kmeans_find(part: tuple, closest: Optional[np.ndarray], mean: np.ndarray, draws: list,
                 radius: float, largest_weight: float) -> list:
    rows, weights, _ = part
    return _core.segment.kmeans_seed_find(rows, mean, radius, largest_weight, draws,
                                          closest=closest, sample_weight=weights)


def _kmeans_potentials(part: tuple, closest: np.ndarray, mean: np.ndarray,
                       candidates: np.ndarray, radius: float, largest_weight: float) -> list:
    rows, weights, _ = part
    return _core.segment.kmeans_seed_potentials(rows, mean, candidates, radius, largest_weight,
                                                closest, sample_weight=weights)


def _kmeans_inertia(part: tuple, labels: np.ndarray, mean: np.ndarray,
                    centres: np.ndarray) -> np.ndarray:
    rows, weights, _ = part
    return _core.segment.kmeans_inertia_sum(rows, mean, centres, labels, sample_weight=weights)


def _kmeans_mapping(labels: np.ndarray, best: np.ndarray, k: int) -> np.ndarray:
    return _core.segment.kmeans_label_mapping(labels, best, k)


def _kmeans_used(labels: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(labels, minlength=k) > 0


def _first(pair: tuple) -> Any:
    return pair[0]


def _second(pair: tuple) -> Any:
    return pair[1]


def _kmeans_assign(part: tuple, previous: Optional[np.ndarray], mean: np.ndarray,
                   centres: np.ndarray, radius: float, largest_weight: float) -> tuple:
    rows, weights, _ = part
    return _core.segment.kmeans_assign_partition(rows, mean, centres, radius, largest_weight,
                                                 sample_weight=weights, previous=previous)


def _kmeans_labels(step: tuple) -> np.ndarray:
    return step[0]


def _kmeans_counts(step: tuple) -> tuple:
    return step[1], step[2]


def _kmeans_far(part: tuple, labels: np.ndarray, mean: np.ndarray, centres: np.ndarray,
                count: int) -> tuple:
    """The `count` rows of a partition farthest from their centres: (distances, local rows,
    weights, labels, rows), farthest first, ties to the lower row."""
    rows, weights, _ = part
    if len(rows) == 0:
        return (np.empty(0), np.empty(0, dtype=np.int64), np.empty(0), labels,
                rows)
    distances = _core.segment.kmeans_own_distances(rows, mean, centres, labels)
    order = np.lexsort((np.arange(len(rows)), -distances))[:count]
    w = np.ones(len(order)) if weights is None else weights[order]
    return distances[order], order, w, labels[order], rows[order]


def _labels_series(labels: np.ndarray, part: tuple, name: str) -> pd.Series:
    return pd.Series(labels, index=part[2], name=name)


def _wide_total(sums: list, count: int) -> list:
    """The first `count` exact sums added over the partitions, as Python integers."""
    totals = [0] * count
    for part in sums:
        for m in range(count):
            low, high = (int(v) for v in part[m])
            totals[m] += (high << 64) | (low & ((1 << 64) - 1))
    return totals


def _same_clustering(client: Any, labels: list, best: list, k: int) -> bool:
    """Whether two runs' labels (futures per partition) are one clustering up to relabelling."""
    mappings = client.gather(client.map(_kmeans_mapping, labels, best, k=k, pure=False))
    return _core.segment.kmeans_same_clustering_of_mappings(mappings, k)


def _kmeans_seed(client: Any, parts: list, plan: dict, scale: dict, settings: dict) -> list:
    """The starts of every run (``_core.segment.kmeans_seed``), each step on the partitions:
    their ``closest`` distances stay on the workers, the driver sees exact totals and drawn rows."""
    mean = plan["mean"]
    closest = [None] * len(parts)

    def weight_totals() -> list:
        return client.gather(client.map(_kmeans_weight_total, parts, **scale, pure=False))

    def add_centre(centre: np.ndarray, first: bool) -> list:
        nonlocal closest
        steps = client.map(_kmeans_add_centre, parts, [None] * len(parts) if first else closest,
                           mean=mean, centre=centre, **scale, pure=False)
        closest = client.map(_first, steps, pure=False)
        return client.gather(client.map(_second, steps, pure=False))

    def find(draws: list, by_potential: bool) -> list:
        asked: dict = {}
        for number, (partition, target, skip) in enumerate(draws):
            asked.setdefault(partition, []).append((number, (target, skip)))
        futures = {partition: client.submit(
            _kmeans_find, parts[partition], closest[partition] if by_potential else None, mean,
            [draw for _, draw in wanted], **scale, pure=False)
            for partition, wanted in asked.items()}
        found = [None] * len(draws)
        for partition, rows in zip(futures, client.gather(list(futures.values()))):
            for (number, _), row in zip(asked[partition], rows):
                found[number] = row
        return found

    def candidate_potentials(candidates: np.ndarray) -> list:
        parts_potentials = client.gather(client.map(
            _kmeans_potentials, parts, closest, mean=mean, candidates=candidates, **scale,
            pure=False))
        return [sum(column) for column in zip(*parts_potentials)]

    return _core.segment.kmeans_seed(plan, weight_totals, add_centre, find, candidate_potentials,
                                     **settings)


def kmeans(data: Any, n_clusters: int = 8, *, columns: Optional[Sequence[Any]] = None,
           sample_weight: Any = None, init: Any = "k-means++", n_init: Any = "auto",
           max_iter: int = 300, tol: float = 1e-4, random_state: Any = None,
           client: Any = None, name: str = "segment") -> KMeansFit:
    """:class:`crmkit.KMeans` of rows spread over partitions: a Dask DataFrame (its ``columns``,
    default all) or a 2-d Dask Array chunked along rows.

    Every result equals the single-machine ``crmkit.KMeans(n_clusters, init=init, n_init=n_init,
    max_iter=max_iter, tol=tol, random_state=random_state).fit(X, sample_weight=...)`` of the
    concatenated rows bit for bit (labels, centres, inertia, iteration count), whatever the
    partitioning (see ``crmkit/segment/kmeans_steps.hpp``):

    - The plan is computed on the workers, with the same C++ steps as the single-machine fit:
      exact column sums and squared deviations per partition (merged in any order) give the
      centring mean, the tolerance and the scale of the exact sums; k-means++ or random seeding
      draws with exact fixed-point masses, each partition keeping its distances to the chosen
      centres, so the driver sees only totals and the drawn rows. No step gathers the rows or
      the labels: the driver receives O(k d) numbers per partition and step.
    - Each Lloyd iteration runs on the workers: every partition labels its rows (the exact kernel
      and tie rule every single-machine algorithm shares) and returns its exact per-cluster sums
      (128-bit fixed point), which add up to the single-machine sums in any order; the driver
      computes the new centres, relocates empty clusters to the farthest rows (each partition
      proposes its farthest), and stops as the single-machine fit stops. The labels stay on the
      workers between iterations.

    Parameters
    ----------
    data : dask.dataframe.DataFrame or dask.array.Array
    n_clusters, init, n_init, max_iter, tol, random_state
        As :class:`crmkit.KMeans`.
    columns : list, optional
        Feature columns of a DataFrame (default: every column but ``sample_weight``).
    sample_weight : column name, optional
        Non-negative weights (DataFrame input).
    client : distributed.Client, optional
        Default: the current client.
    name : str
        Name of the labels Series.

    Returns
    -------
    KMeansFit

    Raises
    ------
    ValueError
        A NaN or infinite feature, or a bad weight, names the partition, the row, its index label,
        the column and the value; bad settings as :class:`crmkit.KMeans`.
    """
    import dask.array as da
    from distributed import default_client

    from ._segment_kmeans import KMeans, _init_arguments, _warn_about_fit
    from ._segment_common import as_seed

    client = default_client() if client is None else client
    settings = KMeans(n_clusters, init=init, n_init=n_init, max_iter=max_iter, tol=tol)
    n_clusters, n_init, max_iter, tol = settings._settings()
    init, initial_centers = _init_arguments(init, n_init, stacklevel=3)
    frame_input = isinstance(data, dd.DataFrame)
    if frame_input:
        if sample_weight is not None:
            _require_columns(data, [sample_weight], "data")
        if columns is None:
            columns = [c for c in data.columns if c != sample_weight]
        columns = list(columns)
        _require_columns(data, columns, "data")
        parts = data.to_delayed()
    elif isinstance(data, da.Array):
        if data.ndim != 2:
            raise ValueError(f"data: a 2-d Dask Array is required, got {data.ndim} dimensions")
        if sample_weight is not None:
            raise ValueError("sample_weight: a column name, so only with a Dask DataFrame")
        parts = list(data.rechunk({1: -1}).to_delayed().ravel())
        columns = None
    else:
        raise TypeError(f"data: a Dask DataFrame or Array is required, got {type(data).__name__}")
    part_futures = client.compute(
        [dask.delayed(_kmeans_part)(part, number, columns, sample_weight)
         for number, part in enumerate(parts)])
    settings = dict(n_clusters=n_clusters, init=init, n_init=n_init, seed=as_seed(random_state))
    sums = client.gather(client.map(_kmeans_sums, part_futures, pure=False))
    mean = _core.segment.kmeans_column_mean(sums)
    deviations = client.gather(client.map(_kmeans_deviations, part_futures, mean=mean,
                                          pure=False))
    plan = _core.segment.kmeans_plan_of(sums, deviations, initial_centers=initial_centers,
                                        max_iter=max_iter, tol=tol, **settings)
    mean, radius, largest = plan["mean"], plan["radius"], plan["largest_weight"]
    scale = dict(radius=radius, largest_weight=largest)
    k = n_clusters
    d = len(mean)
    sizes = [int(part[0]) for part in sums]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    if not plan["starts"]:
        plan["starts"] = _kmeans_seed(client, part_futures, plan, scale, settings)

    def step(centres: np.ndarray, previous: list) -> tuple:
        steps = client.map(_kmeans_assign, part_futures, previous, mean=mean, centres=centres,
                           **scale, pure=False)
        counts = client.gather(client.map(_kmeans_counts, steps, pure=False))
        return client.map(_kmeans_labels, steps, pure=False), counts

    def far_points(centres: np.ndarray, labels: list, count: int) -> dict:
        proposals = client.gather(client.map(_kmeans_far, part_futures, labels, mean=mean,
                                             centres=centres, count=count, pure=False))
        distances = np.concatenate([p[0] for p in proposals])
        if len(distances) == 0 or distances.max() == 0:
            return {}
        rows = np.concatenate([p[1] + offsets[number] for number, p in enumerate(proposals)])
        order = np.lexsort((rows, -distances))[:count]
        return dict(far_rows=np.ascontiguousarray(np.concatenate([p[4] for p in proposals])[order]),
                    far_weights=np.concatenate([p[2] for p in proposals])[order],
                    far_labels=np.concatenate([p[3] for p in proposals])[order].astype(np.int32))

    best = None
    for run, start in enumerate(plan["starts"]):
        centres = start
        labels = [None] * len(part_futures)
        strict = stopped = False
        n_iter = max_iter
        for iteration in range(max_iter):
            labels, counts = step(centres, labels)
            changes = sum(int(c) for c, _ in counts)
            sums = [s for _, s in counts]
            empty = sum(total == 0 for total in _wide_total(sums, k))
            far = far_points(centres, labels, empty) if empty else {}
            centres, shift_total = _core.segment.kmeans_update_centres(
                np.stack(sums), centres, mean, **scale, **far)
            if changes == 0 or shift_total <= plan["tolerance"]:
                strict, stopped, n_iter = changes == 0, True, iteration + 1
                break
        if not strict:
            labels, _ = step(centres, labels)
        inertia = _core.segment.exact_total(client.gather(client.map(
            _kmeans_inertia, part_futures, labels, mean=mean, centres=centres, pure=False)))
        if best is None or (inertia < best["inertia"] and not _same_clustering(
                client, labels, best["labels"], k)):
            best = dict(centres=centres, labels=labels, inertia=inertia, n_iter=n_iter,
                        converged=stopped)
    distinct = int(np.logical_or.reduce(client.gather(client.map(
        _kmeans_used, best["labels"], k=k, pure=False))).sum())
    _warn_about_fit(distinct, k, best["converged"], max_iter, plan["tolerance"], stacklevel=3)

    fit = KMeansFit()
    fit.cluster_centers_ = best["centres"] + mean
    fit.inertia_ = best["inertia"]
    fit.n_iter_ = best["n_iter"]
    fit.converged_ = best["converged"]
    fit.algorithm_ = plan["algorithm"]
    fit.n_features_in_ = d
    if frame_input:
        fit.feature_names_in_ = np.asarray(columns, dtype=object)
        series = client.map(_labels_series, best["labels"], part_futures, name=name, pure=False)
        fit.labels_ = dd.from_delayed(series, meta=pd.Series([], dtype=np.int32, name=name,
                                                             index=data._meta.index),
                                      divisions=data.divisions)
    else:
        fit.labels_ = da.concatenate([
            da.from_delayed(dask.delayed(f), shape=(int(size),), dtype=np.int32)
            for f, size in zip(best["labels"], sizes)])
    return fit


# --- calibration check ----------------------------------------------------------------------


def _timestamp_extent_part(frame: pd.DataFrame, datetime_col: Any) -> Optional[tuple]:
    if len(frame) == 0:
        return None
    ticks = _timestamps(frame[datetime_col], None, "date column")
    return int(ticks.min()), int(ticks.max())


def _calibration_counts_part(frame: pd.DataFrame, customer_id_col: Any, datetime_col: Any,
                             split: dict) -> dict:
    keys, _ = _customer_keys(frame[customer_id_col], "customer column")
    ticks = _timestamps(frame[datetime_col], None, "date column")
    return _core.pipeline.calibration_counts(keys, ticks, split)


def _merge_calibration_counts(split: dict, *parts: dict) -> dict:
    return _core.pipeline.merge_calibration_counts(list(parts), split)


def _calibration_check(log: dd.DataFrame, customer_id_col: Any, datetime_col: Any,
                       options: Any) -> dict:
    """calibration_check of a checked log whose partitions hold whole customers."""
    from functools import partial

    from .report import _frame

    parts = log.to_delayed()
    extents = [extent for extent in dask.compute(
        *[dask.delayed(_timestamp_extent_part)(part, datetime_col) for part in parts])
        if extent is not None]
    if not extents:
        raise ValueError("the log is empty")
    split, notes = _core.pipeline.calibration_split(min(first for first, _ in extents),
                                                    max(last for _, last in extents), options)
    out: dict = {"notes": list(notes)}
    if split is None:
        return out
    counts = _tree_reduce(
        [dask.delayed(_calibration_counts_part)(part, customer_id_col, datetime_col, split)
         for part in parts], partial(_merge_calibration_counts, split)).compute()
    found = _core.pipeline.calibration_tables(counts, split, options)
    out["notes"].extend(found["notes"])
    for name in ("calibration_vs_holdout", "cumulative_transactions"):
        if name in found:
            out[name] = _frame(found[name])
    if "calibration_period" in found:
        out["calibration_period"] = found["calibration_period"]
    return out


def calibration_check(log: dd.DataFrame, customer_id_col: Any, datetime_col: Any, *,
                      options: Any = None, partitioned_by_customer: bool = False) -> dict:
    """The report's calibration/holdout check of a partitioned log, equal to the single-machine
    report's (``crmkit.report``, crmkit::pipeline::calibration_check) bit for bit, whatever the
    partitioning.

    The log is split at the day of its last transaction minus H periods, H = min(max_holdout_periods,
    ⌊span / 3⌋) whole periods of ``options.days_per_period`` days (a
    ``_core.pipeline.AnalysisOptions``, the report's by default: weeks). Each partition counts its
    customers (the calibration part compressed to (frequency, recency, age) in whole days with
    customer counts and summed holdout purchase days; first and repeat purchase days per day),
    a tree reduction adds the counts exactly, and the driver refits ``options.transaction_model``
    to the merged histogram and builds both tables: every mean over customers is an integer sum
    or an exact sum of per-pattern terms rounded once, so it depends only on the merged counts.

    Customers must be co-located: the log is hash-partitioned by customer id (one shuffle)
    unless ``partitioned_by_customer=True`` says each customer's rows already sit in one
    partition (checked: a customer found in two partitions raises ValueError naming it).

    Returns a dict: ``calibration_vs_holdout`` (index frequency_cal; customers,
    frequency_holdout, model_predictions) and ``cumulative_transactions`` (index week; actual,
    predicted) as DataFrames and ``calibration_period`` (the calibration end in periods since the
    first day), all absent when there is no check, and ``notes`` [(code, message)] (e.g.
    ``log_too_short_for_calibration``, ``calibration_failed``).
    """
    options = _core.pipeline.AnalysisOptions() if options is None else options
    log = check_transactions(log, customer_id_col, datetime_col, None)
    if partitioned_by_customer:
        def ids(frame: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame(index=pd.Index(frame[customer_id_col].unique(),
                                               name=customer_id_col))

        meta = pd.DataFrame(index=pd.Index(log[customer_id_col]._meta, name=customer_id_col))
        _check_colocated(log.map_partitions(ids, meta=meta))
    else:
        log = log.shuffle(customer_id_col)
    return _calibration_check(log, customer_id_col, datetime_col, options)
