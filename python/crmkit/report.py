"""The main job: from a transaction log (and survey answers) to CSV tables and one HTML report.

:func:`build_report` runs every step on a log and writes the tables (``*.csv``), the plots
(``plots/*.png``) and ``report.html`` (self-contained: plots embedded as base64 PNG, inline CSS)
into a folder. ``python -m crmkit report`` is its command line.

Steps: summarise the log per customer (time in weeks); fit BG/NBD on a calibration period and
compare with the holdout; fit BG/NBD and Gamma-Gamma on the whole log; predict P(alive),
expected purchases and 12-month CLV; cluster customers with k-means on standardised log-scaled
recency, frequency and spend (k chosen by the silhouette score); list valuable customers who are
slipping away; score RFM and name segments with a rule set (default: the 10-segment R x F
map); split customers into value tiers (ABC by cumulative share of predicted CLV, and
high/medium/low by rank); aggregate NPS/CSAT by segment and by month with confidence
intervals.
"""

from __future__ import annotations

import io
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, TextIO

import numpy as np
import pandas as pd

from . import plotting
from ._report_html import abc_tiers, render_html
from ._report_input import CSAT_SCALE, Columns, ReportInputError
from .clv import BetaGeoFitter, GammaGammaFitter, expected_cumulative_transactions
from .data import calibration_and_holdout_data, summary_data_from_transaction_data, write_csv
from .segment import KMeans, RFMRuleSet, choose_k, rfm_scores, rfm_segments, segment_summary, \
    value_tiers
from .survey import aggregate, attach_labels

__all__ = ["ReportInputError", "Report", "build_report"]

DAYS_PER_WEEK = 7
PREDICTION_WEEKS = 13
MIGRATION_WEEKS = 13
CLV_MONTHS = 12
MONTHLY_DISCOUNT = 0.01
MAX_HOLDOUT_WEEKS = 26
MIN_CALIBRATION_WEEKS = 8
MIN_REPEAT_CUSTOMERS = 10
K_RANGE = range(3, 9)
K_SAMPLE = 20_000
SILHOUETTE_SAMPLE = 4_000
AT_RISK_P_ALIVE = 0.5
GONE_P_ALIVE = 0.1
TABLE_ROWS_IN_HTML = 15
RFM_RULES = "rf_grid"
ABC_CUTS = (0.8, 0.95)
LEVEL_CUTS = (0.2, 0.5)
MANIFEST = ".crmkit-report"
MANIFEST_HEADER = ("# crmkit report: the files it wrote into this folder (replaced or removed by "
                   "the next report here)")


@dataclass
class Report:
    """What :func:`build_report` produced.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        Every table, by the name of its CSV file (without ``.csv``).
    plots : dict of str to bytes
        Every plot as PNG bytes, by name.
    headline : dict of str to str
        The headline numbers as shown in the report.
    notes : list of str
        Warnings raised on the way (small samples, slow convergence, ...), one line each.
    html_path : str
        Where ``report.html`` was written.
    """

    tables: Dict[str, pd.DataFrame] = field(default_factory=dict)
    plots: Dict[str, bytes] = field(default_factory=dict)
    headline: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    html_path: str = ""


class _Progress:
    def __init__(self, stream: Optional[TextIO]):
        self.stream = stream
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.stream is not None:
            print(f"[{time.perf_counter() - self.start:6.1f}s] {message}", file=self.stream,
                  flush=True)


def _png(draw: Callable, width: float = 7.0, height: float = 4.2) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    draw(figure.subplots())
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _standardised(features: np.ndarray) -> np.ndarray:
    spread = features.std(axis=0)
    return (features - features.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def _choose_k(points: np.ndarray, seed: int) -> tuple[pd.DataFrame, int]:
    rng = np.random.default_rng(seed)
    sample = points if len(points) <= K_SAMPLE else points[rng.choice(len(points), K_SAMPLE,
                                                                      replace=False)]
    distinct = len(np.unique(sample, axis=0))
    if distinct <= K_RANGE.start:
        raise ReportInputError(
            f"only {distinct} distinct customer profiles: too few customers to segment"
        )
    k_range = range(K_RANGE.start, min(K_RANGE.stop, distinct))
    table, best = choose_k(sample, k_range, random_state=seed,
                           silhouette_sample_size=SILHOUETTE_SAMPLE)
    table = table[["inertia", "silhouette", "calinski_harabasz", "davies_bouldin"]].copy()
    table["chosen"] = table.index == best
    return table, best


def _describe(profile: pd.Series, means: pd.Series) -> str:
    recent = "recent" if profile["weeks_since_last"] <= means["weeks_since_last"] else "lapsed"
    often = "frequent" if profile["purchases"] > means["purchases"] else "occasional"
    spend = "high-spend" if profile["mean_spend"] > means["mean_spend"] else "low-spend"
    return f"{recent}, {often}, {spend}"


def _segments(customers: pd.DataFrame, seed: int, progress) -> Dict[str, pd.DataFrame]:
    features = ["weeks_since_last", "purchases", "mean_spend"]
    raw = customers[features].to_numpy(dtype=float)
    points = _standardised(np.log1p(np.clip(raw, 0, None)))
    progress(f"choosing k for k-means (k = {K_RANGE.start}..{K_RANGE.stop - 1}, silhouette on a "
             f"sample of {min(SILHOUETTE_SAMPLE, len(points)):,})")
    quality, k = _choose_k(points, seed)
    progress(f"k-means with k = {k} on {len(points):,} customers")
    labels = KMeans(k, random_state=seed).fit(points).labels_
    by_cluster = customers.assign(cluster=labels).groupby("cluster")
    value = by_cluster["clv"].mean().sort_values(ascending=False)
    rank = pd.Series(np.arange(1, k + 1), index=value.index)
    names = [f"C{i}" for i in range(1, k + 1)]
    cluster = pd.Categorical.from_codes(rank.loc[labels].to_numpy() - 1, names)
    customers["segment"] = cluster
    grouped = customers.groupby("segment", observed=False)
    profiles = grouped[features + ["p_alive", "clv"]].mean()
    profiles.insert(0, "customers", grouped.size())
    profiles.insert(1, "share", profiles["customers"] / len(customers))
    profiles["total_clv"] = grouped["clv"].sum()
    profiles["revenue"] = grouped["revenue"].sum()
    means = customers[features].mean()
    profiles.insert(0, "description", [_describe(row, means) for _, row in profiles.iterrows()])
    return {"kmeans_quality": quality, "segments": profiles}


def _rule_definitions(rule_set: RFMRuleSet) -> Dict[str, str]:
    """Each rule's scores in words: "R 4-5, F 4-5" for a box (dimensions spanning the whole
    scale left out; several boxes joined by "or"), "RFM cells 344, 444" for a list of cells."""
    full = (1, rule_set.bins)
    boxes: Dict[str, List[tuple]] = {}
    for row in rule_set.to_frame().itertuples(index=False):
        bounds = (("R", row.r_low, row.r_high), ("F", row.f_low, row.f_high),
                  ("M", row.m_low, row.m_high))
        boxes.setdefault(row.english_name or row.rule, []).append(bounds)
    definitions = {}
    for name, rule in boxes.items():
        if len(rule) > 1 and all(low == high for box in rule for _, low, high in box):
            definitions[name] = "RFM cells " + ", ".join(
                "".join(str(low) for _, low, _ in box) for box in rule)
            continue
        definitions[name] = " or ".join(
            ", ".join(f"{letter} {low}" if low == high else f"{letter} {low}-{high}"
                      for letter, low, high in box if (low, high) != full) or "any scores"
            for box in rule)
    return definitions


def _rfm_segments(customers: pd.DataFrame, rules: str, progress) -> Dict[str, pd.DataFrame]:
    rule_set = RFMRuleSet.builtin(rules)
    progress(f"RFM scores (1-{rule_set.bins}) and named segments ({rule_set.name}: "
             f"{len(rule_set.rules)} rules)")
    summary = pd.DataFrame({"recency": customers["weeks_since_last"],
                            "frequency": customers["purchases"],
                            "monetary_value": customers["mean_spend"]})
    scored = rfm_segments(rfm_scores(summary, bins=rule_set.bins), rules=rule_set)
    named = scored["segment_english"] if "segment_english" in scored.columns else scored["segment"]
    for column in ("r_score", "f_score", "m_score"):
        customers[column] = scored[column]
    customers["rfm_segment"] = named
    table = segment_summary(scored.assign(segment=named), revenue=customers["revenue"])
    table = table.rename(columns={"count": "customers", "mean_recency": "weeks_since_last",
                                  "mean_frequency": "purchases",
                                  "mean_monetary_value": "mean_spend"})
    grouped = customers.groupby("rfm_segment", observed=True)
    table["p_alive"] = grouped["p_alive"].mean()
    table["clv"] = grouped["clv"].mean()
    table["total_clv"] = grouped["clv"].sum()
    total_clv = customers["clv"].sum()
    table["clv_share"] = table["total_clv"] / total_clv if total_clv > 0 else np.nan
    definitions = _rule_definitions(rule_set)
    table.insert(0, "definition", [definitions.get(name, "no rule matches") for name in table.index])
    table.index.name = "rfm_segment"
    table = table.sort_values("revenue", ascending=False)
    table.attrs["bins"] = rule_set.bins
    return {"rfm_segments": table}


def _value_tiers(customers: pd.DataFrame, progress) -> Dict[str, pd.DataFrame]:
    progress("value tiers by predicted CLV")
    splits = {
        "value_tier": (f"cumulative CLV share {ABC_CUTS[0]:.0%} / {ABC_CUTS[1]:.0%}",
                       value_tiers(customers["clv"], by="value", cuts=ABC_CUTS)),
        "value_level": (f"customers ranked by CLV: top {LEVEL_CUTS[0]:.0%} / next "
                        f"{LEVEL_CUTS[1] - LEVEL_CUTS[0]:.0%} / rest",
                        value_tiers(customers["clv"], by="population", cuts=LEVEL_CUTS,
                                    labels=("high", "medium", "low"))),
    }
    total_revenue = customers["revenue"].sum()
    tables = []
    for column, (rule, tiers) in splits.items():
        customers[column] = tiers["tier"]
        grouped = customers.groupby(column, observed=False)
        table = tiers.attrs["summary"].rename(columns={"value_share": "clv_share",
                                                       "lowest_value": "lowest_clv"})
        table.insert(0, "split", rule)
        table["total_clv"] = grouped["clv"].sum()
        table["revenue"] = grouped["revenue"].sum()
        table["revenue_share"] = table["revenue"] / total_revenue
        table["p_alive"] = grouped["p_alive"].mean()
        tables.append(table)
    return {"value_tiers": pd.concat(tables)}


def _calibration(log: pd.DataFrame, columns: Columns, end: pd.Timestamp, start: pd.Timestamp,
                 progress, notes: List[str]) -> Dict[str, object]:
    span_weeks = (end - start).days / DAYS_PER_WEEK
    holdout_weeks = min(MAX_HOLDOUT_WEEKS, np.floor(span_weeks / 3))
    if span_weeks - holdout_weeks < MIN_CALIBRATION_WEEKS or holdout_weeks < 2:
        notes.append(f"the log covers {span_weeks:.1f} weeks: too short for a calibration/holdout "
                     "check (needs 10 or more)")
        return {}
    calibration_end = end - pd.Timedelta(weeks=float(holdout_weeks))
    progress(f"calibration/holdout split at {calibration_end:%Y-%m-%d} "
             f"({holdout_weeks:.0f} weeks of holdout)")
    split = calibration_and_holdout_data(log, columns.customer, columns.date, calibration_end,
                                         observation_period_end=end, freq="D",
                                         freq_multiplier=DAYS_PER_WEEK)
    model = BetaGeoFitter().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    table = model.calibration_vs_holdout(split["frequency_cal"], split["recency_cal"],
                                         split["T_cal"], split["frequency_holdout"],
                                         split["duration_holdout"])
    progress("cumulative transactions, actual vs model")
    total_days = int((end.normalize() - log[columns.date].min().normalize()).days) + 1
    cumulative = expected_cumulative_transactions(model, log, columns.date, columns.customer,
                                                  t=total_days, freq="D",
                                                  freq_multiplier=DAYS_PER_WEEK)
    cumulative.index.name = "week"
    calibration_week = (calibration_end.normalize() - log[columns.date].min().normalize()).days
    return {"split": split, "model": model, "table": table, "cumulative": cumulative,
            "calibration_week": calibration_week / DAYS_PER_WEEK}


def _customer_table(log: pd.DataFrame, columns: Columns, end, progress):
    progress(f"summarising {len(log):,} transactions")
    summary = summary_data_from_transaction_data(log, columns.customer, columns.date,
                                                 columns.amount, observation_period_end=end,
                                                 freq="D", freq_multiplier=DAYS_PER_WEEK)
    rfm = summary_data_from_transaction_data(log, columns.customer, columns.date, columns.amount,
                                             observation_period_end=end, freq="D",
                                             freq_multiplier=DAYS_PER_WEEK,
                                             include_first_transaction=True)
    customers = summary.copy()
    customers.index.name = "customer_id"
    customers["purchases"] = rfm["frequency"]
    customers["weeks_since_last"] = rfm["recency"]
    customers["mean_spend"] = rfm["monetary_value"]
    customers["revenue"] = rfm["frequency"] * rfm["monetary_value"]
    return customers


def _fit_models(customers: pd.DataFrame, amount: str, progress,
                notes: List[str]) -> Dict[str, object]:
    repeaters = customers[(customers["frequency"] > 0) & (customers["monetary_value"] > 0)]
    if len(repeaters) < MIN_REPEAT_CUSTOMERS:
        raise ReportInputError(
            f"only {len(repeaters)} customer(s) bought more than once with a positive amount; "
            f"the models need at least {MIN_REPEAT_CUSTOMERS}: is the log complete, and is the "
            f"amount column '{amount}' right (--amount-col)?"
        )
    progress(f"fitting BG/NBD on {len(customers):,} customers")
    bgf = BetaGeoFitter().fit(customers["frequency"], customers["recency"], customers["T"])
    progress(f"fitting Gamma-Gamma on {len(repeaters):,} repeat customers")
    ggf = GammaGammaFitter().fit(repeaters["frequency"], repeaters["monetary_value"])
    progress("predicting P(alive), expected purchases and CLV")
    frequency, recency, age = customers["frequency"], customers["recency"], customers["T"]
    customers["p_alive"] = bgf.conditional_probability_alive(frequency, recency, age)
    customers[f"expected_purchases_{PREDICTION_WEEKS}w"] = (
        bgf.conditional_expected_number_of_purchases_up_to_time(PREDICTION_WEEKS, frequency,
                                                                recency, age))
    # Gamma-Gamma needs a positive mean spend; for repeat buyers whose repeat purchases were free
    # (or refunded) the conditional mean is taken in its limit at zero observed spend.
    free = int(((frequency > 0) & (customers["monetary_value"] <= 0)).sum())
    if free:
        notes.append(f"{free:,} customer(s) bought again but spent nothing on their repeat "
                     "purchases: their expected spend is the Gamma-Gamma mean at zero observed "
                     "spend")
    spend = ggf.conditional_expected_average_profit(
        frequency, customers["monetary_value"].clip(lower=np.finfo(float).tiny))
    customers["expected_spend"] = spend
    customers["clv"] = bgf.customer_lifetime_value(frequency, recency, age, spend,
                                                   time=CLV_MONTHS, discount_rate=MONTHLY_DISCOUNT,
                                                   freq="W")
    params = pd.concat([
        pd.DataFrame({"model": "BG/NBD", "estimate": bgf.params_,
                      "standard_error": bgf.standard_errors_}),
        pd.DataFrame({"model": "Gamma-Gamma", "estimate": ggf.params_,
                      "standard_error": ggf.standard_errors_}),
    ])
    params.index.name = "parameter"
    return {"bgf": bgf, "ggf": ggf, "params": params}


def _early_warning(customers: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    p_alive = customers["p_alive"]
    slipping = customers[(customers["purchases"] >= 3) & (p_alive < AT_RISK_P_ALIVE)
                         & (p_alive >= GONE_P_ALIVE)]
    table = slipping[["rfm_segment", "segment", "value_tier", "purchases", "revenue",
                      "weeks_since_last", "p_alive", "clv"]].copy()
    table.insert(table.columns.get_loc("weeks_since_last"), "last_purchase",
                 (end - pd.to_timedelta(table["weeks_since_last"] * DAYS_PER_WEEK, unit="D"))
                 .dt.normalize())
    table["value_at_risk"] = table["revenue"] * (1.0 - table["p_alive"])
    return table.sort_values("value_at_risk", ascending=False)


def _survey_tables(survey: pd.DataFrame, customers: pd.DataFrame, notes: List[str],
                   progress) -> Dict[str, pd.DataFrame]:
    known = survey["customer_id"].isin(customers.index)
    if not known.all():
        first = survey.loc[~known, "customer_id"].iloc[0]
        notes.append(f"{int((~known).sum()):,} survey answers are from customers not in the "
                     f"transaction log (the first: {first!r}) and were left out")
        survey = survey[known]
    if len(survey) == 0:
        raise ReportInputError("no survey answer is from a customer of the transaction log: do "
                               "the customer ids match (--survey-customer-col)?")
    progress(f"aggregating {len(survey):,} survey answers")
    labels = [c for c in ("segment", "rfm_segment", "value_tier", "stage") if c in customers]
    answers = attach_labels(survey, customers[labels], on="customer_id")
    answers["rfm_segment"] = answers["rfm_segment"].cat.remove_unused_categories()
    tables = {"nps_by_segment": aggregate(answers, "nps", "nps", by="segment"),
              "nps_by_rfm_segment": aggregate(answers, "nps", "nps", by="rfm_segment"),
              "nps_by_value_tier": aggregate(answers, "nps", "nps", by="value_tier")}
    if "stage" in customers.columns:
        tables["nps_by_stage"] = aggregate(answers, "nps", "nps", by="stage")
    if "csat" in answers.columns:
        rated = answers.dropna(subset=["csat"])
        for by in ("segment", "rfm_segment"):
            tables[f"csat_by_{by}"] = aggregate(rated, "csat", "csat", by=by, scale=CSAT_SCALE)
    if "date" in answers.columns:
        tables["nps_by_month"] = aggregate(answers, "nps", "nps", period="M", date_col="date")
        if "csat" in answers.columns:
            tables["csat_by_month"] = aggregate(rated, "csat", "csat", period="M",
                                                date_col="date", scale=CSAT_SCALE)
    tables["nps_overall"] = aggregate(answers.assign(all="all"), "nps", "nps", by="all")
    return tables


def _lifecycle(log: pd.DataFrame, columns: Columns, end: pd.Timestamp, bgf, customers,
               notes: List[str], progress) -> Dict[str, pd.DataFrame]:
    from . import lifecycle

    common = dict(monetary_value_col=columns.amount, model=bgf, model_freq="D",
                  model_freq_multiplier=DAYS_PER_WEEK)
    progress("lifecycle stages, migration and cohorts")
    try:
        stages = lifecycle.lifecycle_stages(log, columns.customer, columns.date, as_of=end,
                                            **common)
        earlier = end - pd.Timedelta(weeks=MIGRATION_WEEKS)
        migration = lifecycle.stage_migration(log, columns.customer, columns.date, start=earlier,
                                              end=end, **common)
    except ValueError as error:
        notes.append(f"no lifecycle stages: {' '.join(str(error).split())}")
        return {}
    customers["stage"] = stages["stage"].reindex(customers.index)
    grouped = customers.groupby("stage", observed=False)
    table = pd.DataFrame({"customers": grouped.size(), "share": grouped.size() / len(customers),
                          "p_alive": grouped["p_alive"].mean(), "clv": grouped["clv"].mean(),
                          "total_clv": grouped["clv"].sum(), "revenue": grouped["revenue"].sum()})
    counts = migration.counts.copy()
    counts.index = counts.index.astype(str)
    counts.columns = counts.columns.astype(str)
    counts.index.name, counts.columns.name = f"stage on {earlier:%Y-%m-%d}", f"stage on {end:%Y-%m-%d}"
    cohorts = lifecycle.cohort_retention(log, columns.customer, columns.date, columns.amount,
                                         freq="M", as_of=end)
    rates = cohorts.rates.astype(float).dropna(how="all")
    rates.index = rates.index.astype(str)
    rates.index.name = "cohort"
    return {"lifecycle_stages": table, "stage_migration": counts, "cohort_retention": rates}


def _listed_files(out_dir: str) -> List[str]:
    """The files an earlier report listed in its manifest (only plain paths inside the folder)."""
    with open(os.path.join(out_dir, MANIFEST), encoding="utf-8") as handle:
        names = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    return [name for name in names
            if not os.path.isabs(name) and ".." not in name.replace("\\", "/").split("/")]


def _write_manifest(out_dir: str, names: List[str]) -> None:
    with open(os.path.join(out_dir, MANIFEST), "w", encoding="utf-8") as handle:
        handle.write("\n".join([MANIFEST_HEADER, *names, ""]))


def _claim_folder(out_dir: str) -> None:
    """Make `out_dir` the report's folder: create it, or take back a folder an earlier report
    wrote (recognised by its manifest; the files listed there are removed, so no stale table
    stays). A folder holding anything else is refused: the user's files are never overwritten."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ReportInputError(f"--out {out_dir} is a file, not a folder; name a new or empty "
                               "folder")
    try:
        os.makedirs(out_dir, exist_ok=True)
        entries = os.listdir(out_dir)
        if entries and MANIFEST not in entries:
            raise ReportInputError(
                f"--out {out_dir} is not empty and holds no report of crmkit (no {MANIFEST} "
                "file): name a new or empty folder, so that none of your files is overwritten")
        if entries:
            for name in _listed_files(out_dir):
                path = os.path.join(out_dir, name)
                if os.path.isfile(path) or os.path.islink(path):
                    os.remove(path)
            plots = os.path.join(out_dir, "plots")
            if os.path.isdir(plots) and not os.listdir(plots):
                os.rmdir(plots)
        _write_manifest(out_dir, [])
    except OSError as error:
        raise ReportInputError(f"cannot write the report into --out {out_dir}: "
                               f"{error.strerror or error}") from None


def _write_outputs(report: Report, out_dir: str, html: str) -> None:
    """The tables, plots and page, listed in the manifest before any of them is written; a file
    of that name that the report did not write stops it."""
    files = ([f"{name}.csv" for name in report.tables]
             + [f"plots/{name}.png" for name in report.plots] + ["report.html"])
    taken = [name for name in files if os.path.lexists(os.path.join(out_dir, name))]
    if taken:
        raise ReportInputError(f"--out {out_dir} already holds {taken[0]}, which crmkit report "
                               "did not write: move it away or name a new folder")
    try:
        _write_manifest(out_dir, files)
        if report.plots:
            os.makedirs(os.path.join(out_dir, "plots"), exist_ok=True)
        for name, table in report.tables.items():
            write_csv(table, os.path.join(out_dir, f"{name}.csv"))
        for name, png in report.plots.items():
            with open(os.path.join(out_dir, "plots", f"{name}.png"), "wb") as handle:
                handle.write(png)
        report.html_path = os.path.join(out_dir, "report.html")
        with open(report.html_path, "w", encoding="utf-8") as handle:
            handle.write(html)
    except OSError as error:
        raise ReportInputError(f"cannot write the report into --out {out_dir}: "
                               f"{error.strerror or error}") from None


def _require_finite(customers: pd.DataFrame, names: List[str], why: str) -> None:
    for name in names:
        values = customers[name].to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ReportInputError(
                f"{name} of customer {customers.index[first]!r} is {values[first]} "
                f"({int(bad.sum()):,} customer(s) in all): {why}")


def _money(value: float) -> str:
    return f"{value:,.0f}"


def build_report(log: pd.DataFrame, out_dir: str, columns: Columns = Columns("customer_id", "date",
                                                                            "amount"),
                 survey: Optional[pd.DataFrame] = None, seed: int = 0,
                 progress: Optional[TextIO] = sys.stderr, title: str = "Customer report",
                 source: str = "", rfm_rules: str = RFM_RULES) -> Report:
    """Run every step on a transaction log and write the tables, plots and ``report.html``.

    Parameters
    ----------
    log : pandas.DataFrame
        One row per transaction, with the columns named in `columns` (dates as datetime64).
    out_dir : str
        Folder for the output (created when missing).
    columns : Columns
        Names of the customer id, date and amount columns.
    survey : pandas.DataFrame, optional
        Answers: ``customer_id``, ``nps`` (0-10) and optionally ``csat`` (1-5) and ``date``.
    seed : int, default 0
        Seed of the k-means runs and the silhouette sample.
    progress : file-like or None, default sys.stderr
        Where progress lines go (None: nowhere).
    title, source : str
        Report title and a description of the data shown under it.
    rfm_rules : str, default "rf_grid"
        The built-in RFM rule set naming the segments (see
        :meth:`crmkit.segment.RFMRuleSet.builtin`): "rf_grid" (the 10-segment R x F map),
        "rfm_package", "pymc_marketing" or "chinese_value".

    Returns
    -------
    Report

    Raises
    ------
    ReportInputError
        Data the models cannot use (too few repeat buyers, too few distinct customers,
        survey ids that match no customer, invalid survey answers).
    """
    if rfm_rules not in RFMRuleSet.BUILTIN:
        raise ReportInputError(f"unknown RFM rule set {rfm_rules!r} (--rfm-rules); built in: "
                               f"{', '.join(RFMRuleSet.BUILTIN)}")
    step = _Progress(progress)
    report = Report()
    _claim_folder(out_dir)
    end = log[columns.date].max()
    start = log[columns.date].min()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        customers = _customer_table(log, columns, end, step)
        too_large = (f"the amounts (column '{columns.amount}') are too large to add up in "
                     "double precision; use a larger currency unit")
        _require_finite(customers, ["monetary_value", "mean_spend", "revenue"], too_large)
        if not np.isfinite(customers["revenue"].sum()):
            largest = customers["revenue"].idxmax()
            raise ReportInputError(f"the revenue of all customers adds up to inf (the largest: "
                                   f"customer {largest!r}, {customers['revenue'][largest]:.6g}): "
                                   + too_large)
        models = _fit_models(customers, columns.amount, step, report.notes)
        _require_finite(customers, ["p_alive", f"expected_purchases_{PREDICTION_WEEKS}w",
                                    "expected_spend", "clv"],
                        "the fitted models give no finite prediction for it (parameters: "
                        + ", ".join(f"{name} = {value:.4g}" for name, value in
                                    models["params"]["estimate"].items()) + ")")
        try:
            calibration = _calibration(log, columns, end, start, step, report.notes)
        except ValueError as error:
            report.notes.append(f"no calibration/holdout check: {' '.join(str(error).split())}")
            calibration = {}
        report.tables.update(_segments(customers, seed, step))
        report.tables.update(_rfm_segments(customers, rfm_rules, step))
        report.tables.update(_value_tiers(customers, step))
        report.tables["early_warning"] = _early_warning(customers, end)
        report.tables.update(_lifecycle(log, columns, end, models["bgf"], customers,
                                        report.notes, step))
        try:
            if survey is not None:
                report.tables.update(_survey_tables(survey, customers, report.notes, step))
        except ValueError as error:
            if isinstance(error, ReportInputError):
                raise
            raise ReportInputError(f"survey answers: {' '.join(str(error).split())}") from None
    for caught_warning in caught:
        note = " ".join(str(caught_warning.message).split())
        if note not in report.notes:
            report.notes.append(note)

    bgf = models["bgf"]
    report.tables["customers"] = customers
    report.tables["model_parameters"] = models["params"]
    report.tables["repeat_purchases"] = bgf.expected_repeat_frequency_histogram()
    report.tables["top_customers"] = customers.sort_values("clv", ascending=False).head(100)
    if calibration:
        report.tables["calibration_vs_holdout"] = calibration["table"]
        report.tables["cumulative_transactions"] = calibration["cumulative"]

    step("drawing plots")
    report.plots.update(_plots(report, models, calibration, customers))
    total_clv = customers["clv"].sum()
    top = customers["clv"].sort_values(ascending=False)
    top_share = top.head(max(1, len(top) // 5)).sum() / total_clv if total_clv > 0 else np.nan
    abc_share = report.tables["value_tiers"]["customer_share"].iloc[0]
    report.headline = {
        "Customers": f"{len(customers):,}",
        "Transactions": f"{len(log):,}",
        "Period": f"{start:%Y-%m-%d} to {end:%Y-%m-%d}",
        "Revenue": _money(log[columns.amount].sum()),
        "Bought more than once": f"{(customers['frequency'] > 0).mean():.0%}",
        "Likely still active": f"{(customers['p_alive'] >= AT_RISK_P_ALIVE).mean():.0%}",
        f"Expected purchases, next {PREDICTION_WEEKS} weeks": _money(
            customers[f"expected_purchases_{PREDICTION_WEEKS}w"].sum()),
        f"Expected value, next {CLV_MONTHS} months": _money(total_clv),
        "Value held by the top 20%": f"{top_share:.0%}",
        f"Customers holding {ABC_CUTS[0]:.0%} of the value": f"{abc_share:.0%}",
        "Valuable customers slipping away": f"{len(report.tables['early_warning']):,}",
    }
    if "nps_overall" in report.tables:
        overall = report.tables["nps_overall"].iloc[0]
        report.headline["NPS"] = (f"{overall['nps']:+.0f} ({overall['lower']:+.0f} to "
                                  f"{overall['upper']:+.0f}, n = {int(overall['n']):,})")

    step(f"writing {len(report.tables)} tables and report.html to {out_dir}")
    _write_outputs(report, out_dir, render_html(report, title, source, TABLE_ROWS_IN_HTML))
    step("done")
    return report


def _tier_ends(tiers: pd.DataFrame) -> tuple:
    """Shares of customers at the ends of the top tiers of the ABC split (A, then A and B)."""
    return tuple(abc_tiers(tiers)["customer_share"].cumsum().iloc[:-1])


def _plots(report: Report, models, calibration, customers) -> Dict[str, bytes]:
    bgf = models["bgf"]
    tables = report.tables
    plots = {
        "value_curve": _png(lambda ax: plotting.plot_value_curve(
            customers["clv"], marks=_tier_ends(tables["value_tiers"]), ax=ax)),
        "rfm_segments": _png(lambda ax: plotting.plot_segment_sizes(
            tables["rfm_segments"], "customers", "revenue", ax=ax),
            height=0.35 * len(tables["rfm_segments"]) + 2),
        "segments": _png(lambda ax: plotting.plot_segment_sizes(tables["segments"], "customers",
                                                                "total_clv", ax=ax)),
        "segment_profiles": _png(lambda ax: plotting.plot_cluster_profiles(
            tables["segments"], ["weeks_since_last", "purchases", "mean_spend", "p_alive", "clv"],
            ax=ax), height=0.5 * len(tables["segments"]) + 2),
        "probability_alive": _png(lambda ax: plotting.plot_probability_alive_matrix(
            bgf, max_frequency=min(30, int(customers["frequency"].max())), ax=ax)),
        "frequency_recency": _png(lambda ax: plotting.plot_frequency_recency_matrix(
            bgf, T=PREDICTION_WEEKS, max_frequency=min(30, int(customers["frequency"].max())),
            ax=ax)),
        "repeat_purchases": _png(lambda ax: plotting.plot_period_transactions(
            bgf, ax=ax, histogram=tables["repeat_purchases"])),
    }
    if calibration:
        plots["calibration_vs_holdout"] = _png(
            lambda ax: plotting.plot_calibration_purchases_vs_holdout_purchases(
                calibration["model"], calibration["split"], ax=ax))
        plots["cumulative_transactions"] = _png(lambda ax: plotting.plot_cumulative_transactions(
            calibration["cumulative"], t_cal=calibration["calibration_week"], ax=ax))
    if "stage_migration" in tables:
        counts = tables["stage_migration"]
        used = (counts.sum(axis=1) > 0).to_numpy(), (counts.sum(axis=0) > 0).to_numpy()
        plots["stage_migration"] = _png(lambda ax: plotting.plot_stage_migration(
            counts.loc[used[0], used[1]], ax=ax), height=5.0)
        plots["cohort_retention"] = _png(lambda ax: plotting.plot_cohort_retention(
            tables["cohort_retention"], ax=ax), width=9.0, height=6.0)
    if "nps_by_month" in tables:
        plots["nps_trend"] = _png(lambda ax: plotting.plot_nps_trend(
            tables["nps_by_month"][~tables["nps_by_month"]["is_empty"]], ax=ax))
    return plots

