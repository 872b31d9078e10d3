"""``crmkit report`` on a Dask cluster (``--scheduler ADDRESS`` or ``--scheduler local``): the
single-machine report's per-customer and lifecycle tables of a partitioned log (a folder or
glob of CSV files, or a database table), computed by :mod:`crmkit.dask`.

The log is co-located by customer once (a hash shuffle, persisted on the workers; a database
table read by customer id needs none) and summarised as the library pipeline does: time in
weeks of 7 days (``freq="D"``, ``freq_multiplier=7``), the observation end the log's last date.
Tables (into ``--out``), with the single-machine files' names, columns and number format (the
library's CSV writer, shortest round-trip numbers):

- ``customers/part-*.csv``: one file per partition, the columns of the single-machine
  ``customers.csv``: summary, purchases, weeks_since_last, mean_spend, revenue, P(alive),
  expected purchases in 13 weeks, expected spend, 12-month CLV at 1% a month and its 90%
  delta-method interval (``clv_lower``, ``clv_upper``), the k-means ``segment``, R/F/M scores on
  the exact global scales, the RFM segment of ``--rfm-rules``, value tier (ABC of CLV) and level
  (high/medium/low), lifecycle stage;
- ``segments.csv``, ``kmeans_quality.csv``, ``rfm_segments.csv``: the pipeline's own steps
  (crmkit/pipeline/segment_steps.hpp) on the workers, the customers in customer order
  (:mod:`crmkit._report_cluster_kmeans`); the driver holds the k-means sample (at most
  ``k_sample`` customers' 3 features) and k-row tables, nothing per customer;
- ``model_parameters.csv`` (the purchase model of ``--model`` and Gamma-Gamma), ``rfm_scales.csv``
  (cluster only: dimension, bins, thresholds), ``value_tiers.csv``, ``early_warning.csv``,
  ``top_customers.csv``, ``repeat_purchases.csv``, ``lifecycle_stages.csv`` (customers, share,
  mean P(alive) and CLV, total CLV and revenue per stage), ``stage_migration.csv`` (13 weeks
  before the end to the end, each date with its own population gap G,
  :func:`crmkit.dask.population_gaps`), ``cohort_retention.csv`` (monthly);
- ``calibration_vs_holdout.csv``, ``cumulative_transactions.csv``: the calibration check
  (:func:`crmkit.dask.calibration_check`; none, with a note, when the log is too short);
- with ``--survey`` (a file, a folder or glob of CSV files), the single-machine survey tables
  (``nps_by_segment`` ... ``nps_overall``, :mod:`crmkit._report_cluster_survey`);
- for CSV input, ``skipped_rows.csv``.

Equal to the single-machine files (docs/cluster.md has the table): every summary column, the
BG/NBD (MBG/NBD, Pareto/NBD) fit and what depends only on it (P(alive), expected purchases),
the scores, segments, tiers, stages, counts, rates, the lists of customers and the survey
tables, bit for bit; so are Gamma-Gamma's fit (exact row sums, :func:`crmkit.dask.fit_gamma_gamma`)
and with it expected spend, CLV and its interval. The CLV sums are sums over customers (below).
Sums and means over customers add per-partition sums: equal to rounding (another order of
addition).

The calibration check's files equal the single-machine files byte for byte (its sums over
customers are exact sums on both).

``plots/*.png`` and ``report.html``: :mod:`crmkit._report_cluster_html` (the sections whose
tables are not here left out with a note), its "how sure" and "how well it predicted" sections
from the sampled customers' rows and the fits above (:mod:`crmkit._report_cluster_trust`).
``--out`` is claimed as on one machine (``report._claim_folder``): every file is listed in the
folder's manifest before it is written.
"""

from __future__ import annotations

import os
from typing import Any, Optional, TextIO

import numpy as np
import pandas as pd

from ._report_cluster_calibration import CALIBRATION_TABLES, calibration_tables
from ._report_cluster_survey import SURVEY_TABLES, cluster_survey_tables, read_survey_files

CUSTOMER_FOLDER = "customers"
#: Enough digits that every double reads back as itself (the rfm_scales thresholds).
FLOAT_FORMAT = "%.17g"
#: The customer column of every table, as the single-machine report names it.
CUSTOMER_COLUMN = "customer_id"
NOT_YET = ("not on a cluster yet: the cross-sell tables of --order-lines (refused with "
           "--scheduler; docs/cluster.md)")
_MODEL_NAMES = {"bg_nbd": "BG/NBD", "mbg_nbd": "MBG/NBD", "pareto_nbd": "Pareto/NBD"}


def _client(scheduler: str):
    from . import dask as cdask

    if scheduler == "local":
        return cdask.local_client(), True
    from distributed import Client

    return Client(scheduler), False


def _parameters(bgf: Any, ggf: Any, transaction_model: str = "bg_nbd") -> pd.DataFrame:
    """model_parameters.csv: parameter (index), model (the single-machine names), estimate,
    standard_error."""
    rows = []
    for model, fitter in ((_MODEL_NAMES[transaction_model], bgf), ("Gamma-Gamma", ggf)):
        summary = fitter.summary
        for name in summary.index:
            rows.append({"parameter": name, "model": model, "estimate": summary.loc[name, "coef"],
                         "standard_error": summary.loc[name, "se(coef)"]})
    return pd.DataFrame(rows).set_index("parameter")


def _transaction_fitter(model: str) -> Any:
    """An unfitted fitter of the report's purchase model option (bg_nbd, mbg_nbd, pareto_nbd)."""
    from .clv import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
    from .report import _check_model

    _check_model(model)
    return {"bg_nbd": BetaGeoFitter, "mbg_nbd": ModifiedBetaGeoFitter,
            "pareto_nbd": ParetoNBDFitter}[model]()


def _rfm_names(rfm_rules: str) -> tuple:
    """The pipeline's RFM segment of every rule of the built-in set, the unmatched last (as
    ``rules.assign`` numbers it), and the segment names."""
    from . import _core

    naming = _core.pipeline.rfm_segment_naming(rfm_rules)
    of_rule = np.append(np.asarray(naming.segment_of_rule, dtype=np.int64), len(naming.names) - 1)
    return of_rule, list(naming.names)


def _rfm_segment_part(frame: pd.DataFrame, rules: Any, of_rule: np.ndarray,
                      names: list) -> pd.Series:
    matched = rules.assign(frame["r_score"], frame["f_score"], frame["m_score"])
    return pd.Series(pd.Categorical.from_codes(of_rule[matched], categories=names),
                     index=frame.index, name="rfm_segment")


def _log_part(frame: pd.DataFrame, date: str, amount: str) -> dict:
    from .plotting import exact_total

    dates = frame[date]
    return {"rows": len(frame), "first": dates.min() if len(frame) else pd.NaT,
            "last": dates.max() if len(frame) else pd.NaT,
            "amount": exact_total(frame[amount])}


def _log_facts(log: Any, date: str, amount: str) -> dict:
    """One pass over the log's partitions: its ``rows``, ``first`` and ``last`` timestamps and
    the exact sum of its amounts (``amount``, :func:`crmkit.plotting.exact_total` units)."""
    import dask

    parts = [part for part in dask.compute(*[dask.delayed(_log_part)(part, date, amount)
                                              for part in log.to_delayed()]) if part["rows"]]
    return {"rows": sum(part["rows"] for part in parts),
            "first": pd.Timestamp(min(part["first"] for part in parts)),
            "last": pd.Timestamp(max(part["last"] for part in parts)),
            "amount": sum(part["amount"] for part in parts)}


def _stage_sums_part(frame: pd.DataFrame) -> pd.DataFrame:
    grouped = frame.groupby("stage", observed=False)
    return pd.DataFrame({"customers": grouped.size().astype(np.int64),
                         "p_alive": grouped["p_alive"].sum(), "clv": grouped["clv"].sum(),
                         "revenue": grouped["revenue"].sum()})


def _stage_table(sums: list, customers: int) -> pd.DataFrame:
    """lifecycle_stages.csv from the partitions' per-stage counts and sums."""
    from .lifecycle import STAGES

    total = sum(sums[1:], sums[0]).reindex(list(STAGES), fill_value=0)
    count = total["customers"].astype(np.int64)
    present = count.where(count > 0)
    table = pd.DataFrame({"customers": count, "share": count / customers,
                          "p_alive": total["p_alive"] / present, "clv": total["clv"] / present,
                          "total_clv": total["clv"].astype(float),
                          "revenue": total["revenue"].astype(float)})
    table.index = pd.CategoricalIndex(list(STAGES), categories=list(STAGES), name="stage")
    return table


def _tier_part(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    grouped = frame.groupby(column, observed=False)
    return pd.DataFrame({"clv": grouped["clv"].sum(), "revenue": grouped["revenue"].sum(),
                         "p_alive": grouped["p_alive"].sum()})


def _tier_table(summaries: list, sums: list, total_revenue: float) -> pd.DataFrame:
    """value_tiers.csv: the distributed tiers' summaries (bit for bit) and the per-tier sums."""
    from .report import ABC_CUTS, LEVEL_CUTS

    def percent(share: float) -> str:
        return f"{share * 100:.0f}%"

    rules = (f"cumulative CLV share {percent(ABC_CUTS[0])} / {percent(ABC_CUTS[1])}",
             f"customers ranked by CLV: top {percent(LEVEL_CUTS[0])} / next "
             f"{percent(LEVEL_CUTS[1] - LEVEL_CUTS[0])} / rest")
    frames = []
    for rule, summary, part_sums in zip(rules, summaries, sums):
        added = sum(part_sums[1:], part_sums[0]).reindex(summary.index, fill_value=0)
        count = summary["customers"].astype(np.int64)
        frames.append(pd.DataFrame({
            "split": rule, "customers": count, "customer_share": summary["customer_share"],
            "clv_share": summary["value_share"], "lowest_clv": summary["lowest_value"],
            "total_clv": added["clv"], "revenue": added["revenue"],
            "revenue_share": added["revenue"] / total_revenue,
            "p_alive": added["p_alive"] / count.where(count > 0)}, index=summary.index))
    table = pd.concat(frames)
    table.index = pd.Index(list(table.index), name="tier")
    table["split"] = pd.Categorical(table["split"], categories=list(rules))
    return table


def _cohort_table(cohorts: Any) -> pd.DataFrame:
    """cohort_retention.csv: the monthly retention rates, cohorts labelled YYYY-MM, those with
    at least one observed rate."""
    rates = cohorts.rates
    rates = rates[rates.notna().any(axis=1)]
    table = pd.DataFrame(rates.to_numpy(dtype=np.float64),
                         index=pd.Index([period.strftime("%Y-%m") for period in rates.index],
                                        name="cohort"),
                         columns=[str(k) for k in rates.columns])
    return table


def _migration_table(migration: Any, start: pd.Timestamp) -> pd.DataFrame:
    counts = migration.counts.astype(np.int64)
    counts.index = pd.Index(list(counts.index), name=f"stage on {start.strftime('%Y-%m-%d')}")
    counts.columns = list(counts.columns)
    return counts


def _with_covariance(model: Any) -> Any:
    """The fitted model's parameters and covariance only (what the intervals need), for
    broadcasting without its fitting data."""
    from . import dask as cdask

    light = cdask.parameters_only(model)
    light.variance_matrix_ = model.variance_matrix_
    return light


def _interval_rows(frame: pd.DataFrame, purchases: Any, spend: Any, level: float,
                   months: float, rate: float) -> pd.DataFrame:
    from .intervals import customer_lifetime_value

    found = customer_lifetime_value(purchases, spend, frame["frequency"], frame["recency"],
                                    frame["T"], frame["monetary_value"], time=months,
                                    discount_rate=rate, freq="W", level=level).customers
    return pd.DataFrame({"clv_lower": found["lower"].to_numpy(),
                         "clv_upper": found["upper"].to_numpy()}, index=frame.index)


def _interval_part(frame: pd.DataFrame, purchases: Any, spend: Any, level: float,
                   months: float, rate: float) -> pd.DataFrame:
    """The pipeline's CLV intervals (delta method of both fits) of the partition's customers.
    A customer whose CLV is not finite at a perturbed parameter point makes the call fail; the
    partition is then done customer by customer, and theirs stay empty (NaN), as the
    single-machine report leaves them (with a note)."""
    if len(frame) == 0:
        return pd.DataFrame({"clv_lower": [], "clv_upper": []}, index=frame.index)
    try:
        return _interval_rows(frame, purchases, spend, level, months, rate)
    except (ValueError, RuntimeError, ArithmeticError):
        rows = []
        for i in range(len(frame)):
            try:
                rows.append(_interval_rows(frame.iloc[i:i + 1], purchases, spend, level, months,
                                           rate))
            except (ValueError, RuntimeError, ArithmeticError):
                rows.append(pd.DataFrame({"clv_lower": [np.nan], "clv_upper": [np.nan]},
                                         index=frame.index[i:i + 1]))
        return pd.concat(rows)


def _missing_intervals(frame: pd.DataFrame) -> int:
    return int(frame["clv_lower"].isna().sum())


def _repeat_part(frame: pd.DataFrame, model: Any, bins: int) -> Optional[pd.DataFrame]:
    if len(frame) == 0:
        return None
    return model.expected_repeat_frequency_histogram(frame["frequency"], frame["T"],
                                                     max_frequency=bins)


def _at_risk_part(frame: pd.DataFrame, purchases: float, below: float,
                  from_: float) -> pd.DataFrame:
    """The partition's early-warning customers (the pipeline's rule: at least
    early_warning_min_purchases purchases, P(alive) in [gone_p_alive, at_risk_p_alive)) with
    their value at risk, revenue · (1 − P(alive))."""
    chosen = frame[(frame["purchases"] >= purchases) & (frame["p_alive"] < below)
                   & (frame["p_alive"] >= from_)]
    return chosen.assign(value_at_risk=chosen["revenue"] * (1.0 - chosen["p_alive"]))


def _top_part(frame: pd.DataFrame, count: int) -> pd.DataFrame:
    return _by_value(frame, "clv").head(count)


def _by_value(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows by `column` descending, ties in customer order (as the pipeline's stable sorts)."""
    return frame.sort_index(kind="stable").sort_values(column, ascending=False, kind="stable")


def _early_warning_table(rows: list, end: pd.Timestamp) -> pd.DataFrame:
    from .report import DAYS_PER_WEEK

    table = _by_value(pd.concat(rows), "value_at_risk")
    days = np.floor(table["weeks_since_last"].to_numpy() * DAYS_PER_WEEK + 0.5)
    last = end.normalize() - pd.to_timedelta(days, unit="D")
    columns = ["rfm_segment", "segment", "value_tier", "purchases", "revenue",
               "weeks_since_last", "p_alive", "clv", "value_at_risk"]
    table = table[columns].copy()
    table.insert(5, "last_purchase", last.to_numpy())
    return table


def cluster_tables(log: Any, customer_id_col: str, datetime_col: str, monetary_value_col: str,
                   *, partitioned_by_customer: bool = False, model: str = "bg_nbd",
                   rfm_rules: str = "rf_grid", seed: int = 0, survey: Any = None) -> dict:
    """The report's cluster tables: ``customers`` (Dask, partitioned by customer) and the small
    tables (pandas) ``model_parameters``, ``rfm_scales``, ``segments``, ``kmeans_quality``,
    ``rfm_segments``, ``value_tiers``, ``early_warning``, ``top_customers``,
    ``repeat_purchases`` and, unless the
    lifecycle cannot be classified (no customer with two purchase periods: then ``notes`` says
    why, as the single-machine report's note), ``lifecycle_stages``, ``stage_migration`` and
    ``cohort_retention``. `model` is the purchase model, `rfm_rules` the RFM rule set, `seed`
    the k-means seed (the report's ``--seed``); `survey` (Dask) the answers of the survey tables
    (:mod:`crmkit._report_cluster_survey`)."""
    import dask

    from . import _core
    from . import dask as cdask
    from ._report_cluster_kmeans import kmeans_segments, rfm_segment_table
    from .report import (ABC_CUTS, CLV_MONTHS, DAYS_PER_WEEK, LEVEL_CUTS, MIGRATION_WEEKS,
                         MONTHLY_DISCOUNT, PREDICTION_WEEKS)
    from .segment import RFMRuleSet

    fitter = _transaction_fitter(model)
    rules = RFMRuleSet.builtin(rfm_rules)
    options = _core.pipeline.AnalysisOptions()
    options.rfm_rules = rfm_rules
    options.seed = seed
    options.transaction_model = model
    log = cdask.check_transactions(log, customer_id_col, datetime_col, monetary_value_col)
    log_facts = _log_facts(log, datetime_col, monetary_value_col)
    end = log_facts["last"]
    if not partitioned_by_customer:
        log = log.shuffle(customer_id_col).persist()
    week = dict(freq="D", freq_multiplier=DAYS_PER_WEEK, observation_period_end=end,
                partitioned_by_customer=True)
    summary = cdask.summarize(log, customer_id_col, datetime_col, monetary_value_col,
                              **week).persist()
    rfm_view = cdask.summarize(log, customer_id_col, datetime_col, monetary_value_col,
                               include_first_transaction=True, **week).persist()
    bgf = cdask.fit_transaction_model(summary, fitter)
    ggf = cdask.fit_gamma_gamma(summary)
    scales = cdask.rfm_scales(rfm_view, bins=rules.bins)
    scores = cdask.score_customers(summary, bgf, ggf, horizon=PREDICTION_WEEKS, months=CLV_MONTHS,
                                   discount_rate=MONTHLY_DISCOUNT, freq="W")
    every = rfm_view[["frequency", "recency", "monetary_value"]].rename(
        columns={"frequency": "purchases", "recency": "weeks_since_last",
                 "monetary_value": "mean_spend"})
    every = every.assign(revenue=every["purchases"] * every["mean_spend"])
    rfm = cdask.rfm_scores(rfm_view, scales)[["r_score", "f_score", "m_score"]]
    of_rule, names = _rfm_names(rfm_rules)
    segment = rfm.map_partitions(_rfm_segment_part, rules, of_rule, names,
                                 meta=pd.Series(pd.Categorical([], categories=names),
                                                name="rfm_segment",
                                                index=summary._meta.index))
    intervals = summary.map_partitions(
        _interval_part, _with_covariance(bgf), _with_covariance(ggf),
        options.clv_interval_level, CLV_MONTHS, MONTHLY_DISCOUNT,
        meta=pd.DataFrame({"clv_lower": pd.Series([], dtype=np.float64),
                           "clv_upper": pd.Series([], dtype=np.float64)},
                          index=summary._meta.index))
    customers = (summary.join(every).join(scores.rename(
        columns={"expected_purchases": f"expected_purchases_{PREDICTION_WEEKS}w"}))
        .join(intervals).join(rfm.astype(np.int64)).join(segment.to_frame()))
    tiers, tier_summary = cdask.value_tiers(customers, "clv", by="value", cuts=ABC_CUTS,
                                            labels=("A", "B", "C"))
    levels, level_summary = cdask.value_tiers(customers, "clv", by="population",
                                              cuts=LEVEL_CUTS, labels=("high", "medium", "low"))
    customers = customers.assign(value_tier=tiers["tier"], value_level=levels["tier"])
    tables, notes = calibration_tables(log, customer_id_col, datetime_col, options)
    start = end - pd.Timedelta(seconds=round(MIGRATION_WEEKS * DAYS_PER_WEEK * 86_400))
    try:
        gaps = cdask.population_gaps(log, customer_id_col, datetime_col, [start, end],
                                     partitioned_by_customer=True)
    except ValueError as error:
        notes.append(f"no lifecycle stages: {error}")
        gaps = None
    if gaps is not None:
        stage_options = dict(model=bgf, freq="D", model_freq="D",
                             model_freq_multiplier=DAYS_PER_WEEK, partitioned_by_customer=True)
        stages = cdask.lifecycle_stages(log, customer_id_col, datetime_col, monetary_value_col,
                                        population_gap=gaps[1], as_of=end, **stage_options)
        customers = customers.assign(stage=stages["stage"])
        migration = cdask.stage_migration(log, customer_id_col, datetime_col, start, end,
                                          monetary_value_col, population_gap=tuple(gaps),
                                          **stage_options)
        cohorts = cdask.cohort_retention(log, customer_id_col, datetime_col, monetary_value_col,
                                         freq="M", as_of=end, partitioned_by_customer=True)
        tables["stage_migration"] = _migration_table(migration, start)
        tables["cohort_retention"] = _cohort_table(cohorts)
    customers = customers.persist()
    order = list(customers.columns)
    order.insert(order.index("r_score"), "segment")
    customers, segments, segment_notes = kmeans_segments(customers, options)
    notes.extend(message for _, message in segment_notes)
    customers = customers[order].persist()
    segments["rfm_segments"] = rfm_segment_table(customers, rfm_rules)
    tables.update(segments)
    parts = customers.to_delayed()
    small = [[dask.delayed(_tier_part)(part, column) for part in parts]
             for column in ("value_tier", "value_level")]
    small.append([dask.delayed(len)(part) for part in parts])
    small.append([dask.delayed(lambda frame: frame["revenue"].sum())(part) for part in parts])
    small.append([dask.delayed(_repeat_part)(part, cdask.parameters_only(bgf),
                                             int(options.repeat_max_frequency))
                  for part in parts])
    rule = (float(options.early_warning_min_purchases), options.at_risk_p_alive,
            options.gone_p_alive)
    small.append([dask.delayed(_at_risk_part)(part, *rule) for part in parts])
    small.append([dask.delayed(_top_part)(part, int(options.top_customers)) for part in parts])
    if gaps is not None:
        small.append([dask.delayed(_stage_sums_part)(part) for part in parts])
    small.append([dask.delayed(_missing_intervals)(part) for part in parts])
    found = dask.compute(*small)
    missing = sum(found[-1])
    if missing:
        notes.append(f"{missing} customer(s) have no CLV interval (clv_lower, clv_upper are "
                     "empty): their CLV is not finite at the estimate or a nearby parameter "
                     "value")
    count, revenue = sum(found[2]), sum(found[3])
    tables["value_tiers"] = _tier_table([tier_summary, level_summary], found[:2], revenue)
    repeat = [part for part in found[4] if part is not None]
    tables["repeat_purchases"] = sum(repeat[1:], repeat[0])
    tables["early_warning"] = _early_warning_table(found[5], end)
    tables["top_customers"] = _by_value(pd.concat(found[6]), "clv").head(
        int(options.top_customers))
    if gaps is not None:
        tables["lifecycle_stages"] = _stage_table(found[7], count)
    scale_rows = pd.DataFrame([{"dimension": name, "bins": scale.bins,
                                "thresholds": " ".join(repr(float(t)) for t in scale.thresholds)}
                               for name, scale in scales.items()])
    if survey is not None:
        tables.update(cluster_survey_tables(survey, customers, options, notes))
    return dict(customers=customers, model_parameters=_parameters(bgf, ggf, model),
                rfm_scales=scale_rows, notes=notes, log_facts=log_facts,
                fitters={_MODEL_NAMES[model]: bgf, "Gamma-Gamma": ggf}, **tables)


def _library_columns(frame: pd.DataFrame) -> list:
    """A frame's index and columns as the library's CSV writer takes them (name, kind, values,
    labels): the single-machine report's number format."""
    columns = []
    for name, values in [(frame.index.name, frame.index.to_series())] + list(frame.items()):
        dtype = values.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            columns.append((str(name), "text", np.ascontiguousarray(values.cat.codes, np.int32),
                            [str(c) for c in dtype.categories]))
        elif pd.api.types.is_bool_dtype(dtype):
            columns.append((str(name), "flag", np.ascontiguousarray(values, np.uint8), None))
        elif pd.api.types.is_integer_dtype(dtype):
            columns.append((str(name), "integer", np.ascontiguousarray(values, np.int64), None))
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            days = values.to_numpy(dtype="datetime64[D]").astype(np.int64)
            columns.append((str(name), "date", np.ascontiguousarray(days), None))
        elif pd.api.types.is_float_dtype(dtype):
            columns.append((str(name), "number", np.ascontiguousarray(values, np.float64), None))
        else:
            codes, labels = pd.factorize(values.astype(str))
            columns.append((str(name), "text", np.ascontiguousarray(codes, np.int32),
                            list(labels)))
    return columns


def _write_table(frame: pd.DataFrame, path: str, name: str, csv_lang: str) -> int:
    from . import _core
    from ._report_text import Text

    columns = Text(csv_lang).csv_columns(name, _library_columns(frame))
    _core.pipeline.write_csv_files([(path, columns)])
    return len(frame)


def write_cluster_tables(tables: dict, out_dir: str, csv_lang: str = "en",
                         folder: Any = None) -> list:
    """Writes the tables into `out_dir` (customers one file per partition, on the workers),
    column names and the names of stages, tiers and segments in `csv_lang` as the
    single-machine report's ``--csv-lang``; returns the names of the files written. With the
    claimed output `folder` (:func:`crmkit.report._claim_folder`) each file is listed in its
    manifest before it is written."""
    import dask

    from ._report_cluster_html import plan

    os.makedirs(os.path.join(out_dir, CUSTOMER_FOLDER), exist_ok=True)
    customers = tables["customers"]
    customers.index = customers.index.rename(CUSTOMER_COLUMN)
    digits = len(str(max(customers.npartitions - 1, 0)))
    paths = [os.path.join(out_dir, CUSTOMER_FOLDER, f"part-{number:0{digits}d}.csv")
             for number in range(customers.npartitions)]
    plan(folder, [os.path.relpath(path, out_dir) for path in paths])
    dask.compute(*[dask.delayed(_write_table)(part, path, "customers", csv_lang)
                   for part, path in zip(customers.to_delayed(), paths)])
    written = [os.path.relpath(path, out_dir) for path in paths]
    for name in ("model_parameters", "segments", "kmeans_quality", "rfm_segments",
                 "value_tiers", "early_warning", "lifecycle_stages", "stage_migration",
                 "cohort_retention", "repeat_purchases", "top_customers", *CALIBRATION_TABLES,
                 *SURVEY_TABLES):
        if name in tables:
            table = tables[name]
            if name in ("early_warning", "top_customers"):
                table = table.rename_axis(CUSTOMER_COLUMN)
            plan(folder, [f"{name}.csv"])
            _write_table(table, os.path.join(out_dir, f"{name}.csv"), name, csv_lang)
            written.append(f"{name}.csv")
    plan(folder, ["rfm_scales.csv"])
    tables["rfm_scales"].to_csv(os.path.join(out_dir, "rfm_scales.csv"), index=False,
                                float_format=FLOAT_FORMAT)
    written.append("rfm_scales.csv")
    return written


def run_cluster_report(arguments: Any, out: TextIO, progress: Optional[TextIO]) -> None:
    """``crmkit report --scheduler ...``: reads the partitioned input named by the arguments,
    writes the cluster tables into ``arguments.out``."""
    from . import dask as cdask
    from . import sql as csql
    from ._report_cluster_html import plan, write_cluster_page
    from ._report_input import ReportInputError
    from .report import _claim_folder

    folder = _claim_folder(arguments.out)
    customer = arguments.customer_col or "customer_id"
    date = arguments.date_col or "date"
    amount = arguments.amount_col or "amount"
    client, owned = _client(arguments.scheduler or "local")
    try:
        skipped = None
        if arguments.sql_url:
            if not arguments.table:
                raise ReportInputError("--sql-url needs --table (a table name or a SELECT query)")
            log = csql.read_transactions_dask(arguments.table, arguments.sql_url, customer,
                                              customer, date, amount,
                                              npartitions=arguments.partitions)
            by_customer = True
        elif arguments.transactions:
            log, skipped = cdask.read_transaction_files(
                arguments.transactions, customer, date, amount, sep=arguments.sep,
                date_format=arguments.date_format, on_bad_row=arguments.on_bad_row)
            by_customer = False
        else:
            raise ReportInputError("--scheduler needs a partitioned input: a folder or glob of "
                                   "CSV files, or --sql-url with --table")
        if progress is not None:
            print(f"cluster report on {client.scheduler.address}: {log.npartitions} partitions",
                  file=progress, flush=True)
        survey = None if getattr(arguments, "survey", None) is None else read_survey_files(
            arguments.survey, log._meta[customer].dtype, arguments.survey_customer_col,
            arguments.nps_col, arguments.csat_col, arguments.survey_date_col)
        tables = cluster_tables(log, customer, date, amount, partitioned_by_customer=by_customer,
                                model=getattr(arguments, "model", "bg_nbd"),
                                rfm_rules=getattr(arguments, "rfm_rules", "rf_grid"),
                                seed=getattr(arguments, "seed", 0), survey=survey)
        written = write_cluster_tables(tables, arguments.out,
                                       getattr(arguments, "csv_lang", "en"), folder)
        for note in tables["notes"]:
            print(f"note: {note}", file=out)
        if skipped is not None:
            bad = skipped.compute()
            plan(folder, ["skipped_rows.csv"])
            bad.to_csv(os.path.join(arguments.out, "skipped_rows.csv"), index=False)
            written.append("skipped_rows.csv")
            if len(bad):
                print(f"note: {len(bad)} bad rows skipped (skipped_rows.csv)", file=out)
        page = write_cluster_page(tables, arguments.out, written, folder,
                                  getattr(arguments, "lang", "en"),
                                  input_name=arguments.transactions or arguments.table)
        written += [f"plots/{name}.png" for name in page.plots] + ["report.html"]
    except ValueError as error:
        raise ReportInputError(str(error)) from None
    finally:
        client.close()
        if owned:
            client.cluster.close()
    small = [name for name in written if not name.startswith(CUSTOMER_FOLDER + os.sep)]
    print(f"cluster report written to {arguments.out} (customers/ in "
          f"{len(written) - len(small)} partitions, {', '.join(small)}); {NOT_YET}", file=out)


def add_cluster_arguments(report: Any) -> None:
    """The report's cluster options (argparse subparser ``report``)."""
    group = report.add_argument_group("on a Dask cluster (docs/cluster.md)")
    group.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:8786), or "
                                           "'local' to start a 2-worker LocalCluster; the "
                                           "transactions argument is then a folder or glob of "
                                           "CSV files")
    group.add_argument("--sql-url", help="read the log from a database (SQLAlchemy URL, e.g. "
                                         "postgresql+psycopg2://user@host/db), with --table")
    group.add_argument("--table", help="table name or SELECT query of the log (with --sql-url)")
    group.add_argument("--partitions", type=int, default=8,
                       help="partitions of a database read, by customer id (default 8)")
    group.add_argument("--on-bad-row", choices=("error", "skip"), default="error",
                       help="bad CSV rows: stop (default) or skip and list them")
