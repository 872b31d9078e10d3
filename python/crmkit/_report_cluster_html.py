"""``plots/*.png`` and ``report.html`` of the cluster report (``crmkit report --scheduler``),
drawn and rendered by the single-machine code (:class:`crmkit._report_plots.PlotDrawing`,
:func:`crmkit._report_html.render_html`, the headline of :mod:`crmkit.report`) from the cluster
tables and from what the page needs of the per-customer table and of the log, reduced on the
workers (:func:`page_inputs`); no per-customer column reaches the driver:

- headline: counts (customers, transactions, repeat buyers, customers with P(alive) at least
  the at-risk threshold), the first and last day, exact sums (revenue, expected purchases, CLV:
  rounded once, so the same whatever the partitioning), the top fifth's share of CLV from the
  value curve's exact sums; tier A's share and the slipping-away count from the tables, NPS from
  ``nps_overall`` when the survey tables are there;
- plots: the matrices' extent (largest frequency and age) and the value curve of the CLV column
  (:class:`crmkit.plotting.ValueCurve`): CLV sorted across the workers (Dask ``sort_values``),
  each partition returning the exact sums between the ranks the curve draws;
- the customer lists: the ``top_customers`` and ``early_warning`` tables;
- "how sure" and "how well it predicted": :mod:`crmkit._report_cluster_trust` (the sampled
  customers' rows, at most ``SAMPLE + COMPARISON_SAMPLE`` of 4 columns, reach the driver).

Sections whose tables are not among the cluster tables are left out with a note saying why
(the survey without survey answers, the holdout check when the log is too short for it, the
trust sections when they cannot be computed); tables under the single-machine names bring
their section and plots with no change here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import numpy as np
import pandas as pd

from .plotting import ValueCurve, _exact_sums, exact_float, exact_total
from .report import Report

#: Entries of the cluster tables dict that are not tables of the page.
_NOT_TABLES = ("customers", "notes", "fitters")
_NANOSECONDS_PER_DAY = 86_400 * 10**9


@dataclass
class ClusterPage(Report):
    """:class:`crmkit.report.Report` of the cluster report, with the files it wrote (the page's
    file list), per section left out (``survey``, ``calibration``, ``trust``) why, and what
    the page took from the workers (:func:`page_inputs`)."""

    files: List[str] = field(default_factory=list)
    absent: Dict[str, str] = field(default_factory=dict)
    inputs: Dict[str, Any] = field(default_factory=dict)


def plan(folder: Any, files: List[str]) -> List[str]:
    """Lists `files` in the claimed output folder's manifest before they are written
    (:func:`crmkit.report._plan_files`'s rule; nothing without a folder); returns them."""
    from ._report_input import ReportInputError

    if folder is not None:
        try:
            folder.plan(list(files))
        except ValueError as error:
            raise ReportInputError(str(error)) from None
    return list(files)


def _sorted(values: Any) -> np.ndarray:
    return np.sort(np.asarray(values, dtype=np.float64))


def _customer_part(frame: pd.DataFrame, expected: str, at_risk: float) -> dict:
    empty = len(frame) == 0
    return {"customers": len(frame), "repeat": int((frame["frequency"] > 0).sum()),
            "active": int((frame["p_alive"] >= at_risk).sum()),
            "max_frequency": -math.inf if empty else float(frame["frequency"].max()),
            "max_age": -math.inf if empty else float(frame["T"].max()),
            "expected_purchases": exact_total(frame[expected]),
            "clv": exact_total(frame["clv"])}


def _lowest_sums_part(frame: pd.DataFrame, ends: List[int]) -> list:
    return _exact_sums(_sorted(frame["clv"]), ends)


def _top_sums(customers: Any, ranks: np.ndarray) -> dict:
    """The exact sums of the top r CLVs (negative as zero) for every r in `ranks`: the values
    sorted across the workers, each partition adding its values between the cuts."""
    import dask

    ordered = customers[["clv"]].clip(lower=0).sort_values("clv").persist()
    parts = ordered.to_delayed()
    lengths = dask.compute(*[dask.delayed(len)(part) for part in parts])
    n = int(sum(lengths))
    lowest_counts = sorted({n - int(r) for r in ranks})
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    ends = [[q - int(start) for q in lowest_counts if start < q < start + length] + [length]
            for start, length in zip(offsets, lengths)]
    found = dask.compute(*[dask.delayed(_lowest_sums_part)(part, cuts)
                           for part, cuts in zip(parts, ends)])
    lowest = {0: 0}
    running = 0
    for start, cuts, sums in zip(offsets, ends, found):
        for end, part_sum in zip(cuts, sums):
            running += part_sum
            lowest[int(start) + end] = running
    return {int(r): lowest[n] - lowest[n - int(r)] for r in ranks}


def _nps_headline(tables: dict) -> dict:
    """The NPS headline fields from ``nps_overall``, as the library reads them."""
    if "nps_overall" not in tables:
        return {"nps_answers": 0}
    overall = tables["nps_overall"].iloc[0]
    return {"nps": float(overall["nps"]), "nps_lower": float(overall["lower"]),
            "nps_upper": float(overall["upper"]), "nps_answers": int(overall["n"])}


def page_inputs(tables: dict) -> dict:
    """What the page needs of the per-customer table, reduced on the workers, and of the log
    (``tables["log_facts"]``, from the cluster tables' pass over it):
    ``headline`` (the library's headline fields, ``crmkit::pipeline::headline_numbers``),
    ``transactions`` (rows of the log), ``plots``
    (:class:`crmkit._report_plots.CustomerPlotInputs`)."""
    import dask

    from ._report_html import abc_tiers
    from ._report_plots import CustomerPlotInputs, _tier_ends
    from .report import AT_RISK_P_ALIVE, PREDICTION_WEEKS

    customers = tables["customers"]
    expected = f"expected_purchases_{PREDICTION_WEEKS}w"
    sums = dask.compute(*[dask.delayed(_customer_part)(part, expected, AT_RISK_P_ALIVE)
                          for part in customers.to_delayed()])
    log = tables["log_facts"]
    n = sum(part["customers"] for part in sums)
    marks = _tier_ends(tables["value_tiers"])
    top = max(1, n // 5)
    tops = _top_sums(customers, np.union1d(ValueCurve.ranks(n, marks), [top]))
    clv = sum(part["clv"] for part in sums)
    headline = {
        "customers": n,
        "first_day": log["first"].value // _NANOSECONDS_PER_DAY,
        "last_day": log["last"].value // _NANOSECONDS_PER_DAY,
        "revenue": exact_float(log["amount"]),
        "repeat_share": sum(part["repeat"] for part in sums) / n,
        "active_share": sum(part["active"] for part in sums) / n,
        "expected_purchases": exact_float(sum(part["expected_purchases"] for part in sums)),
        "expected_value": exact_float(clv),
        # CLV is never negative, so its top sums are the clipped ones of the value curve.
        "top_fifth_value_share": tops[top] / clv if clv > 0 else math.nan,
        "tier_a_customer_share": float(abc_tiers(tables["value_tiers"])["customer_share"].iloc[0]),
        "slipping_away": len(tables["early_warning"]),
        **_nps_headline(tables)}
    curve = ValueCurve.of_top_sums(n, tops, marks)
    return {"headline": headline, "transactions": log["rows"],
            "plots": CustomerPlotInputs(max(part["max_frequency"] for part in sums),
                                        max(part["max_age"] for part in sums), curve)}


def _page_tables(tables: dict) -> dict:
    """The small tables as the page takes them (``rfm_segments`` with its rule set's bins)."""
    page = {name: table for name, table in tables.items()
            if name not in _NOT_TABLES and isinstance(table, pd.DataFrame)}
    rfm = page["rfm_segments"].copy(deep=False)
    rfm.attrs["bins"] = int(tables["rfm_scales"]["bins"].iloc[0])
    page["rfm_segments"] = rfm
    return page


def _calibration_period(tables: dict) -> Optional[float]:
    """The calibration period of the holdout check, where the cluster tables give it (an entry
    ``calibration_period`` or the cumulative_transactions table's attrs); None draws no line."""
    period = tables.get("calibration_period")
    if period is None and "cumulative_transactions" in tables:
        period = tables["cumulative_transactions"].attrs.get("calibration_period")
    return None if period is None else float(period)


def _absent(tables: dict, text: Any) -> dict:
    absent = {"trust": text("absent.trust")}
    if "nps_by_segment" not in tables:
        absent["survey"] = text("absent.survey")
    if "calibration_vs_holdout" not in tables:
        absent["calibration"] = text("absent.calibration")
    return absent


def cluster_page(tables: dict, inputs: dict, files: List[str], lang: str = "en") -> ClusterPage:
    """The page's report (tables, headline, notes, sections left out) without its plots."""
    from ._report_text import Text
    from .report import _headline

    text = Text(lang)
    page = _page_tables(tables)
    parameters = page["model_parameters"]
    headline = _headline(SimpleNamespace(headline=inputs["headline"]), inputs["transactions"],
                         text)
    return ClusterPage(tables=page, headline=headline, notes=list(tables.get("notes", [])),
                       transaction_model=str(parameters["model"].iloc[0]), files=files,
                       absent=_absent(page, text))


def _transaction_fitter(parameters: pd.DataFrame, model: str) -> Any:
    from ._report_trust import _MODELS

    rows = parameters[parameters["model"] == model]
    return _MODELS[model].from_params({str(name): float(value)
                                       for name, value in rows["estimate"].items()})


def write_cluster_page(tables: dict, out_dir: str, written: List[str], folder: Any = None,
                       lang: str = "en",
                       title: Optional[str] = None, input_name: str = "") -> ClusterPage:
    """Draws the plots and writes ``plots/*.png`` and ``report.html`` into `out_dir` (listed in
    the manifest of the claimed `folder` first), `written` the cluster tables' files,
    `input_name` the log's files or table (the page's source line)."""
    import os

    from ._report_html import render_html
    from ._report_plots import PlotDrawing, plot_names, plot_text
    from ._report_text import Text
    from .report import PREDICTION_WEEKS, TABLE_ROWS_IN_HTML

    from ._report_cluster import CUSTOMER_FOLDER
    from ._report_cluster_trust import add_cluster_trust

    text = Text(lang)
    source = text("source.transactions", path=input_name) if input_name else ""
    shown = [f"{CUSTOMER_FOLDER}/part-*.csv"] + [
        name for name in written if not name.startswith(CUSTOMER_FOLDER + os.sep)]
    inputs = page_inputs(tables)
    page = cluster_page(tables, inputs, shown, lang)
    page.inputs = inputs
    if add_cluster_trust(page, tables, inputs, _calibration_period(tables)):
        del page.absent["trust"]
    names = plot_names(page.tables)
    plan(folder, [f"plots/{name}.png" for name in names] + ["report.html"])
    os.makedirs(os.path.join(out_dir, "plots"), exist_ok=True)
    fitter = _transaction_fitter(page.tables["model_parameters"], page.transaction_model)
    page.plots = PlotDrawing(page.tables, fitter, _calibration_period(tables), PREDICTION_WEEKS,
                             plot_text(text, page), customers=inputs["plots"]).result()
    for name, png in page.plots.items():
        with open(os.path.join(out_dir, "plots", f"{name}.png"), "wb") as handle:
            handle.write(png)
    page.html_path = os.path.join(out_dir, "report.html")
    with open(page.html_path, "w", encoding="utf-8") as handle:
        handle.write(render_html(page, text("title") if title is None else title, source,
                                 TABLE_ROWS_IN_HTML, text))
    return page
