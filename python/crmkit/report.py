"""The main job: from a transaction log (and survey answers) to CSV tables and one HTML report.

:func:`build_report` hands the log to the library's pipeline (``crmkit::pipeline::analyze``,
the same analysis as the C++ command line's ``crmkit report``), which returns every table; this
module turns them into DataFrames, writes them with the library's CSV writer (so both front
ends write the same bytes), draws the plots (``plots/*.png``) and writes ``report.html``
(self-contained: plots embedded as base64 PNG, inline CSS) into a folder.
``python -m crmkit report`` is its command line.

The analysis: summarise the log per customer (time in weeks); fit BG/NBD on a calibration
period and compare with the holdout; fit BG/NBD and Gamma-Gamma on the whole log; predict
P(alive), expected purchases and 12-month CLV; cluster customers with k-means on standardised
log-scaled recency, frequency and spend (k chosen by the silhouette score); list valuable
customers who are slipping away; score RFM and name segments with a rule set (default: the
10-segment R x F map); split customers into value tiers; lifecycle stages, migration and
cohorts; aggregate NPS/CSAT by segment and by month with confidence intervals. The constants
and the edge-case policy are documented once, in crmkit/pipeline/options.hpp.

The output folder is the report's own: a folder holding files the report did not write is
refused, and the files of an earlier report there (listed in its manifest, ``.crmkit-report``)
are removed first, so no stale table stays.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, TextIO

import numpy as np
import pandas as pd

from . import _core
from ._report_basket import CrossSell, cross_sell_html, cross_sell_step
from . import _report_trust
from ._background import Background
from ._report_html import render_html
from ._report_input import Columns, ReportInputError
from ._report_plots import PlotDrawing, import_matplotlib, plot_names, plot_text
from ._report_text import LANGUAGES, Text
from .data import _customer_keys, _timestamps
from .segment import RFMRuleSet

__all__ = ["ReportInputError", "Report", "build_report", "LANGUAGES"]

_DEFAULTS = _core.pipeline.AnalysisOptions()
DAYS_PER_WEEK = int(_DEFAULTS.days_per_period)
PREDICTION_WEEKS = int(_DEFAULTS.prediction_periods)
MIGRATION_WEEKS = int(_DEFAULTS.migration_periods)
CLV_MONTHS = int(_DEFAULTS.clv_months)
MONTHLY_DISCOUNT = _DEFAULTS.monthly_discount
AT_RISK_P_ALIVE = _DEFAULTS.at_risk_p_alive
GONE_P_ALIVE = _DEFAULTS.gone_p_alive
RFM_RULES = _DEFAULTS.rfm_rules
TRANSACTION_MODEL = _DEFAULTS.transaction_model
ABC_CUTS = (_DEFAULTS.abc_cut_a, _DEFAULTS.abc_cut_b)
LEVEL_CUTS = (_DEFAULTS.level_cut_high, _DEFAULTS.level_cut_medium)
TABLE_ROWS_IN_HTML = 15
MANIFEST = _core.pipeline.OutputFolder.MANIFEST
_NANOSECONDS_PER_DAY = 86_400 * 10**9


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
    note_codes : list of str
        The kind of each note (the library's note codes, e.g. ``survey_small_sample``;
        ``warning`` for a Python warning).
    html_path : str
        Where ``report.html`` was written.
    sections : list of str
        Extra HTML sections (e.g. "what to offer whom" when order lines were given).
    trust : dict
        The "how sure" and "how well it predicted" sections' numbers
        (:func:`crmkit._report_trust.trust_sections`); empty if they could not be computed.
    transaction_model : str
        The purchase model fitted: "BG/NBD", "MBG/NBD" or "Pareto/NBD" (``model``).
    transaction_log_likelihood : float
        Its log-likelihood at the estimates in ``tables["model_parameters"]``.
    """

    tables: Dict[str, pd.DataFrame] = field(default_factory=dict)
    plots: Dict[str, bytes] = field(default_factory=dict)
    headline: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    html_path: str = ""
    note_codes: List[str] = field(default_factory=list)
    sections: List[str] = field(default_factory=list)
    trust: Dict[str, object] = field(default_factory=dict)
    transaction_model: str = "BG/NBD"
    transaction_log_likelihood: float = float("nan")


class _Progress:
    def __init__(self, stream: Optional[TextIO]):
        self.stream = stream
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.stream is not None:
            print(f"[{time.perf_counter() - self.start:6.1f}s] {message}", file=self.stream,
                  flush=True)


def _pandas_column(kind: str, values: np.ndarray, labels: Optional[List[str]]):
    """One column of a library table as pandas holds it: text categorical (from its codes), days
    datetime64[ns], flags bool (a view), numbers as they are (the array itself)."""
    if kind == "text":
        return pd.Categorical.from_codes(values, labels)
    if kind == "date":
        return values.view("datetime64[D]").astype("datetime64[ns]")
    if kind == "flag":
        return values.view(bool)
    return values


def _index_column(kind: str, values: np.ndarray, labels: Optional[List[str]]) -> np.ndarray:
    if kind == "text":  # an index of labels, not categories; code -1 (missing) takes the None
        return np.asarray([*labels, None], dtype=object)[values]
    return _pandas_column(kind, values, labels)


def _frame(taken) -> pd.DataFrame:
    """One library table as an ordinary DataFrame (its index columns as the index) over the
    numpy arrays that took over the library's buffers (AnalysisResult.take_columns): numbers
    are not copied, and every cell can be edited."""
    index_columns, columns = taken
    data = {name: _pandas_column(kind, values, labels)
            for name, kind, values, labels in columns[index_columns:]}
    index = None
    if index_columns == 1:
        name, kind, values, labels = columns[0]
        index = pd.Index(_index_column(kind, values, labels), name=name)
    elif index_columns > 1:
        index = pd.MultiIndex.from_arrays(
            [_index_column(kind, values, labels) for _, kind, values, labels in
             columns[:index_columns]], names=[name for name, *_ in columns[:index_columns]])
    return pd.DataFrame(data, index=index, copy=False)


def _wait_for_tables(writing: Background, out_dir: str) -> float:
    try:
        return writing.wait()
    except ValueError as error:  # the library's writer: the path and the system's reason
        raise ReportInputError(f"cannot write the report into --out {out_dir}: "
                               f"{_one_line(error)}") from None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _survey_arrays(survey: pd.DataFrame, labels: Optional[pd.Index]) -> dict:
    ids = survey["customer_id"]
    if labels is None:
        keys = pd.to_numeric(ids, errors="coerce")
        keys = np.where(keys.isna(), np.iinfo(np.int64).min, keys.fillna(0)).astype(np.int64)
    else:
        keys = labels.get_indexer(ids).astype(np.int64)
    arrays = {"survey_customer": keys,
              "survey_nps": survey["nps"].to_numpy(dtype=np.int64)}
    if "csat" in survey.columns:
        arrays["survey_csat"] = survey["csat"].fillna(-1).to_numpy(dtype=np.int64)
    if "date" in survey.columns:
        arrays["survey_day"] = (_timestamps(survey["date"], None, "survey date")
                                // _NANOSECONDS_PER_DAY)
    return arrays


def _analyze(log: pd.DataFrame, columns: Columns, survey: Optional[pd.DataFrame], seed: int,
             rfm_rules: str, model: str = TRANSACTION_MODEL):
    customer, labels = _customer_keys(log[columns.customer], "customer column")
    timestamp = _timestamps(log[columns.date], None, "date column")
    amount = np.ascontiguousarray(log[columns.amount].to_numpy(dtype=np.float64))
    if len(amount) and not (np.isfinite(amount.min()) and np.isfinite(amount.max())):
        row = int(np.flatnonzero(~np.isfinite(amount))[0])
        raise ReportInputError(f"column '{columns.amount}' has the amount {amount[row]} at row "
                               f"{row + 1}: amounts must be finite numbers")
    options = _core.pipeline.AnalysisOptions()
    options.seed = seed
    options.rfm_rules = rfm_rules
    options.transaction_model = model
    try:
        arrays = _survey_arrays(survey, labels) if survey is not None else {}
    except (ValueError, TypeError) as error:
        raise ReportInputError(f"survey answers: {_one_line(error)}") from None
    try:
        result = _core.pipeline.analyze(customer, [] if labels is None else list(map(str, labels)),
                                        timestamp, amount, options=options, **arrays)
    except (ValueError, RuntimeError) as error:
        message = _one_line(error)
        if "min_repeat_customers" in message:
            message += f" (the amount column used is '{columns.amount}': --amount-col)"
        elif re.search(r"\binf\b", message):
            message += ": " + _too_large(columns.amount)
        raise ReportInputError(message) from None
    return result, labels


def _check_model(model: str) -> None:
    """The library's own check of the option (its message names the option, the value and the
    models there are), as a ReportInputError."""
    try:
        _core.pipeline.AnalysisOptions().transaction_model = model
    except (ValueError, TypeError) as error:
        raise ReportInputError(f"{_one_line(error)} (--model)") from None


def _transaction_fitter(result):
    """The fitted transaction model as its crmkit fitter (for the plots)."""
    fitter = _report_trust._MODELS[result.transaction_model_name]
    return fitter.from_params(result.transaction_params)


def _require_finite(customers: pd.DataFrame, names: List[str], why: str) -> None:
    for name in names:
        values = customers[name].to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ReportInputError(
                f"{name} of customer {customers.index[first]!r} is {values[first]} "
                f"({int(bad.sum()):,} customer(s) in all): {why}")


def _too_large(amount: str) -> str:
    return (f"the amounts (column '{amount}') are too large to add up in double precision; use "
            "a larger currency unit")


def _check_numbers(customers: pd.DataFrame, amount: str, result) -> None:
    too_large = _too_large(amount)
    _require_finite(customers, ["monetary_value", "mean_spend", "revenue"], too_large)
    if not np.isfinite(customers["revenue"].sum()):
        largest = customers["revenue"].idxmax()
        raise ReportInputError(f"the revenue of all customers adds up to inf (the largest: "
                               f"customer {largest!r}, {customers['revenue'][largest]:.6g}): "
                               + too_large)
    params = {**result.transaction_params, **result.gamma_gamma_params}
    _require_finite(customers, ["p_alive", f"expected_purchases_{PREDICTION_WEEKS}w",
                                "expected_spend", "clv"],
                    "the fitted models give no finite prediction for it (parameters: "
                    + ", ".join(f"{name} = {value:.4g}" for name, value in params.items()) + ")")


def _claim_folder(out_dir: str):
    """The report's folder, claimed by the library's one rule (crmkit::pipeline::output_folder):
    created, or cleaned of the files an earlier report listed in its manifest; any other
    non-empty folder, a file or an unwritable path stops the report with one line."""
    try:
        return _core.pipeline.OutputFolder(os.fspath(out_dir))
    except ValueError as error:
        raise ReportInputError(str(error)) from None


def _plan_files(folder, tables: List[str], plots: List[str]) -> None:
    """Lists the files the report will write in the manifest before any is written; a file of
    that name that the report did not write stops it."""
    try:
        folder.plan([f"{name}.csv" for name in tables] + [f"plots/{name}.png" for name in plots]
                    + ["report.html"])
    except ValueError as error:
        raise ReportInputError(str(error)) from None


def _money(value: float) -> str:
    return f"{value:,.0f}"


def _signed(value: float) -> str:
    return f"{value:+.0f}"


def _day(days: int) -> pd.Timestamp:
    return pd.Timestamp(days * _NANOSECONDS_PER_DAY)


def _headline(result, log_rows: int, text: Text) -> Dict[str, str]:
    h = result.headline
    headline = {
        text("headline.customers"): f"{h['customers']:,}",
        text("headline.transactions"): f"{log_rows:,}",
        text("headline.period"): text("headline.period_value",
                                      first=text.date(_day(h["first_day"])),
                                      last=text.date(_day(h["last_day"]))),
        text("headline.revenue"): _money(h["revenue"]),
        text("headline.repeat_share"): f"{h['repeat_share']:.0%}",
        text("headline.active_share"): f"{h['active_share']:.0%}",
        text("headline.expected_purchases", weeks=PREDICTION_WEEKS): _money(
            h["expected_purchases"]),
        text("headline.expected_value", months=CLV_MONTHS): _money(h["expected_value"]),
        text("headline.top_fifth"): f"{h['top_fifth_value_share']:.0%}",
        text("headline.tier_a", share=f"{ABC_CUTS[0]:.0%}"): f"{h['tier_a_customer_share']:.0%}",
        text("headline.slipping"): f"{h['slipping_away']:,}",
    }
    if h["nps_answers"]:
        headline[text("headline.nps")] = text(
            "headline.nps_value", nps=_signed(h["nps"]), lower=_signed(h["nps_lower"]),
            upper=_signed(h["nps_upper"]), n=f"{h['nps_answers']:,}")
    return headline


def _trust_or_note(report: Report, tables: Dict[str, pd.DataFrame], calibration_period: float,
                   model: str, fitters: Callable[[], Dict[str, object]],
                   whole: Optional[_report_trust.WholeBase] = None) -> bool:
    """Sets ``report.trust`` to the "how sure" and "how well it predicted" sections
    (crmkit._report_trust.trust_sections with the report's horizons, of the fits `fitters()`;
    `tables`, `whole`: its customers and tables); a failure becomes a note, not a failed
    report. Whether they were computed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report.trust = _report_trust.trust_sections(
                tables, calibration_period, PREDICTION_WEEKS, CLV_MONTHS, MONTHLY_DISCOUNT,
                4.345 * 7 / DAYS_PER_WEEK, model, fitters(), whole)
    except (ValueError, RuntimeError) as error:
        report.notes.append(f"intervals and model comparison not available: {_one_line(error)}")
        return False
    return True


def _add_trust_sections(report: Report, result, step) -> None:
    """The "how sure" and "how well it predicted" sections (crmkit._report_trust)."""
    step(f"intervals on the headline numbers ({_report_trust.LEVEL:.0%}) and the model comparison")
    _trust_or_note(report, report.tables, result.calibration_period,
                   result.transaction_model_name,
                   lambda: _report_trust.fitters_of(report.tables["customers"],
                                                    result.transaction_fit, result.gamma_gamma_fit,
                                                    result.transaction_model_name))


def _cross_sell(order_lines: pd.DataFrame, tables: Dict[str, pd.DataFrame],
                customer: str) -> CrossSell:
    """The "what to offer whom" tables (the library's step, crmkit._report_basket); order lines
    the basket methods refuse stop the report with their reason."""
    quantity = "quantity" if "quantity" in order_lines.columns else None
    # offers.csv names the customer column as every other table does, whatever the log calls it.
    key = tables["customers"].index.name
    lines = order_lines.rename(columns={customer: key}, copy=False)
    try:
        return cross_sell_step(lines, tables, customer=key, quantity=quantity)
    except (ValueError, TypeError) as error:
        raise ReportInputError(f"order lines: {_one_line(error)}") from None


def _cross_sell_files(cross_sell: Optional[CrossSell], folder, csv_lang: str) -> list:
    """The cross-sell tables' (path, columns) for the library's CSV writer (none without)."""
    if cross_sell is None:
        return []
    return [(folder.path_of(f"{name}.csv"), cross_sell.csv_columns(name, Text(csv_lang)))
            for name in cross_sell.taken]


def build_report(log: pd.DataFrame, out_dir: str, columns: Columns = Columns("customer_id", "date",
                                                                            "amount"),
                 survey: Optional[pd.DataFrame] = None, seed: int = 0,
                 progress: Optional[TextIO] = sys.stderr, title: Optional[str] = None,
                 source: str = "", rfm_rules: str = RFM_RULES, lang: str = "en",
                 csv_lang: str = "en",
                 order_lines: Optional[pd.DataFrame] = None,
                 model: str = TRANSACTION_MODEL) -> Report:
    """Run every step on a transaction log and write the tables, plots and ``report.html``.

    Parameters
    ----------
    log : pandas.DataFrame
        One row per transaction, with the columns named in `columns` (dates as datetime64).
    out_dir : str
        Folder for the output: created when missing; a folder an earlier report wrote is
        cleaned of that report's files; any other non-empty folder is refused.
    columns : Columns
        Names of the customer id, date and amount columns.
    survey : pandas.DataFrame, optional
        Answers: ``customer_id``, ``nps`` (0-10) and optionally ``csat`` (1-5) and ``date``.
    seed : int, default 0
        Seed of the k-means runs and the silhouette sample.
    progress : file-like or None, default sys.stderr
        Where progress lines go (None: nowhere).
    title, source : str
        Report title (default: "Customer report" in the report's language) and a description
        of the data shown under it.
    rfm_rules : str, default "rf_grid"
        The built-in RFM rule set naming the segments (see
        :meth:`crmkit.segment.RFMRuleSet.builtin`): "rf_grid" (the 10-segment R x F map),
        "rfm_package", "pymc_marketing" or "chinese_value".
    lang : {"en", "zh"}, default "en"
        Language of the page and the plots: headings, notes, table labels, the names of stages,
        tiers and segments, dates. The CSV tables keep their English column names and values.
    csv_lang : {"en", "zh"}, default "en"
        Language of the CSV files' column names and of the names of stages, tiers and segments
        in them (numbers and dates stay machine-readable). ``Report.tables`` stay English.
    order_lines : pandas.DataFrame, optional
        Order lines (``order_id``, the customer column, ``date``, ``product_id`` and optionally
        ``quantity``, negative for a return): adds the section "what to offer whom"
        (cross_sell_rules, cross_sell_pairs and offers tables; offers for the early-warning and
        the top-value customers). ``python -m crmkit report --order-lines FILE`` reads them
        (:func:`crmkit._report_input.load_order_lines`).
    model : {"bg_nbd", "mbg_nbd", "pareto_nbd"}, default "bg_nbd"
        The purchase (transaction) model behind P(alive), expected purchases, CLV, the holdout
        check, the lifecycle stages, the model parameters and the trust sections: BG/NBD
        (Fader, Hardie & Lee 2005), MBG/NBD (Batislam et al. 2007) or Pareto/NBD (Schmittlein,
        Morrison & Colombo 1987). The library's ``analysis_options.transaction_model``.

    Returns
    -------
    Report

    Raises
    ------
    ReportInputError
        Data the models cannot use (too few repeat buyers, too few distinct customers,
        survey ids that match no customer, invalid survey answers, amounts too large to add up,
        predictions that are not finite), or an output folder that is not the report's.
    """
    for language, option in ((lang, "--lang"), (csv_lang, "--csv-lang")):
        if language not in LANGUAGES:
            raise ReportInputError(f"unknown report language {language!r} ({option}); "
                                   f"available: {', '.join(LANGUAGES)}")
    text = Text(lang)
    if rfm_rules not in RFMRuleSet.BUILTIN:
        raise ReportInputError(f"unknown RFM rule set {rfm_rules!r} (--rfm-rules); built in: "
                               f"{', '.join(RFMRuleSet.BUILTIN)}")
    _check_model(model)
    step = _Progress(progress)
    report = Report()
    folder = _claim_folder(out_dir)
    step(f"analysing {len(log):,} transactions"
         + (f" and {len(survey):,} survey answers" if survey is not None else ""))
    importing = threading.Thread(target=import_matplotlib, name="crmkit-import", daemon=True)
    importing.start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, _ = _analyze(log, columns, survey, seed, rfm_rules, model)
        report.transaction_model = result.transaction_model_name
        report.transaction_log_likelihood = result.transaction_log_likelihood
        step(f"done in the library: summaries, fitting {result.transaction_model_name} on "
             f"{result.headline['customers']:,} customers, Gamma-Gamma, k-means, RFM, tiers, "
             "lifecycle" + (", survey" if survey is not None else "") + "; tables to pandas")
        taken = {name: result.take_columns(name) for name in result.table_names}
        report.tables = {name: _frame(columns) for name, columns in taken.items()}
    report.tables["rfm_segments"].attrs["bins"] = RFMRuleSet.builtin(rfm_rules).bins
    customers = report.tables["customers"]
    _check_numbers(customers, columns.amount, result)
    report.notes = [message for _, message in result.notes]
    report.note_codes = [str(code) for code, _ in result.notes]
    for caught_warning in caught:
        note = _one_line(caught_warning.message)
        if note not in report.notes:
            report.notes.append(note)
            report.note_codes.append("warning")
    report.headline = _headline(result, len(log), text)
    cross_sell = None
    if order_lines is not None:
        step(f"cross-sell: frequent itemsets, rules and offers of {len(order_lines):,} order lines")
        cross_sell = _cross_sell(order_lines, report.tables, columns.customer)
        report.tables.update(cross_sell.frames())
        report.sections.append(cross_sell_html(report.tables, TABLE_ROWS_IN_HTML, text,
                                               customer=report.tables["customers"].index.name))
    _add_trust_sections(report, result, step)

    try:
        _plan_files(folder, list(report.tables), plot_names(report.tables))
        step(f"drawing plots; writing {len(report.tables)} CSV tables to {out_dir} alongside")
        importing.join()  # before PlotDrawing may fork, and before any other thread starts
        drawing = PlotDrawing(report.tables, _transaction_fitter(result), result.calibration_period,
                              PREDICTION_WEEKS, plot_text(text, report))
        writing = Background(_core.pipeline.write_csv_files,
                              [(folder.path_of(f"{name}.csv"),
                                Text(csv_lang).csv_columns(name, table_columns))
                               for name, (_, table_columns) in taken.items()]
                              + _cross_sell_files(cross_sell, folder, csv_lang))
        try:
            report.plots = drawing.result()
            step("plots drawn; waiting for the CSV tables")
        finally:
            seconds = _wait_for_tables(writing, out_dir)
        step(f"wrote {len(taken)} CSV tables in {seconds:.2f} s, alongside the plots")
        step("writing report.html and plots")
        for name, png in report.plots.items():
            with open(folder.path_of(f"plots/{name}.png"), "wb") as handle:
                handle.write(png)
        report.html_path = folder.path_of("report.html")
        with open(report.html_path, "w", encoding="utf-8") as handle:
            handle.write(render_html(report, text("title") if title is None else title, source,
                                     TABLE_ROWS_IN_HTML, text))
    except OSError as error:
        raise ReportInputError(f"cannot write the report into --out {out_dir}: "
                               f"{error.strerror or error}") from None
    step("done")
    return report
