"""The plots of ``crmkit report``: one PNG per figure, drawn with matplotlib's Agg renderer from
the report's tables (counts, bins, grids and curves). What they need of the per-customer table
is :class:`CustomerPlotInputs`: the largest frequency and age (the matrices' extent) and the
value curve of the CLV column (:class:`crmkit.plotting.ValueCurve`, a few thousand points), found
from the table on one machine and on the workers by the cluster report.

On Linux, when crmkit may use more than one thread and no other Python thread runs, two forked
children draw the figures, each about half of them (split by their usual cost), at a lower
priority than this process, and send the PNG bytes back through pipes: the report's CSV tables,
written meanwhile by this process, get the cores first. Should a child fail, this process draws
its figures, so the bytes never depend on which process drew them.
"""

from __future__ import annotations

import functools
import gc
import glob
import io
import os
import pickle
import sys
import threading
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import pandas as pd

from . import _core, plotting
from ._report_html import abc_tiers
from ._report_text import Text
from .clv import BetaGeoFitter

__all__ = ["import_matplotlib", "plot_names", "PlotDrawing", "cjk_font", "plot_text",
           "CustomerPlotInputs"]

CJK_FONT_PACKAGE = "fonts-noto-cjk"
# CJK font files by the start of their names, the preferred first, and where systems keep fonts.
_CJK_FILES = ("NotoSansCJK", "NotoSansSC", "SourceHanSans", "wqy-zenhei", "wqy-microhei")
_FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts",
                 "~/.fonts", "/Library/Fonts", "/System/Library/Fonts")
_CJK_FAMILIES = ("Noto Sans CJK", "Noto Sans SC", "Source Han Sans", "WenQuanYi")

# Relative cost of each figure (about its CPU time in tenths of a second on 10^6 customers), only
# to split the figures between the two processes; figures not listed cost 1.
_COST = {"cohort_retention": 4, "probability_alive": 3, "value_curve": 2, "frequency_recency": 2,
         "stage_migration": 2}
# How much nicer than the report the processes drawing the figures run (os.nice).
_NICENESS = 10


def import_matplotlib() -> None:
    """Imports what the plots need (run on a thread while the library analyses, at a lower
    priority than the analysis, so that it takes the cores the analysis leaves idle; a missing
    matplotlib is reported where the plots import it)."""
    _lower_this_threads_priority()
    try:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
        import matplotlib.ticker  # noqa: F401
    except ImportError:
        pass


def _lower_this_threads_priority() -> None:
    """On Linux a thread has its own nice value: this one's is raised by _NICENESS (the thread
    only imports modules and ends, so it never needs the priority back)."""
    if sys.platform.startswith("linux") and hasattr(os, "setpriority"):
        try:
            thread = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, thread,
                           min(19, os.getpriority(os.PRIO_PROCESS, thread) + _NICENESS))
        except OSError:
            pass


@functools.lru_cache(maxsize=None)
def cjk_font() -> Optional[str]:
    """The family name of a font with Chinese glyphs that matplotlib can use, or None.

    matplotlib's font list is a cache made when it was first imported; a CJK font installed
    later (the Debian package fonts-noto-cjk) is looked up by its file name in the usual font
    folders and registered."""
    from matplotlib import font_manager

    for entry in font_manager.fontManager.ttflist:
        if entry.name.startswith(_CJK_FAMILIES):
            return entry.name
    for start in _CJK_FILES:
        for folder in _FONT_FOLDERS:
            found = sorted(glob.glob(os.path.join(os.path.expanduser(folder), "**",
                                                  f"{start}*"), recursive=True))
            regular = [path for path in found if "Regular" in path] or found
            if regular:
                font_manager.fontManager.addfont(regular[0])
                return font_manager.FontProperties(fname=regular[0]).get_name()
    return None


def plot_text(text: Text, report) -> Text:
    """The language of the figures: the report's, or English with a warning (and a note in the
    report) when no font can draw its script."""
    if text.english or cjk_font() is not None:
        return text
    message = (f"no CJK font found for the plots: install the Debian package {CJK_FONT_PACKAGE} "
               "(scripts/deps.sh); the plots keep their English labels")
    warnings.warn(message, RuntimeWarning, stacklevel=3)
    report.notes.append(message)
    report.note_codes.append("no_cjk_font")
    return Text("en")


def _translate(ax, text: Text) -> None:
    """Puts every English text of the figure of `ax`, just drawn (titles, axis labels, legends,
    annotations, colour bars, fixed tick labels), into the language of `text`."""
    from matplotlib.text import Text as Label
    from matplotlib.ticker import FixedLocator

    figure = ax.figure
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            if isinstance(axis.get_major_locator(), FixedLocator):
                labels = [label.get_text() for label in axis.get_majorticklabels()]
                axis.set_ticklabels([text.plot(label) for label in labels])
    for label in figure.findobj(Label):
        if label.get_text():
            label.set_text(text.plot(label.get_text()))


_figure_language = threading.local()
"""``text``: the language of the figure being drawn on this thread (unset: English)."""


def _in_language(draw: Callable[[], bytes], text: Optional[Text]) -> Callable[[], bytes]:
    """`draw`, drawing its figure in the language of `text`."""
    if text is None or text.english:
        return draw

    def drawn() -> bytes:
        _figure_language.text = text
        try:
            return draw()
        finally:
            _figure_language.text = None

    return drawn


def _labelled(tables: Dict[str, pd.DataFrame], text: Optional[Text]) -> Dict[str, pd.DataFrame]:
    """The tables whose row or column labels are names of segments and stages, with the names
    in the language of `text` (English: the tables themselves)."""
    if text is None or text.english:
        return tables
    named = dict(tables)
    for name, kind, columns_too in (("rfm_segments", "rfm_segment", False),
                                    ("segments", "segment", False),
                                    ("stage_migration", "stage", True)):
        if name in tables:
            named[name] = tables[name].rename(
                index=lambda value, kind=kind: text.domain(kind, value),
                columns=(lambda value, kind=kind: text.domain(kind, value)) if columns_too
                else None)
    return named


def _png(draw: Callable, width: float = 7.0, height: float = 4.2) -> bytes:
    text = getattr(_figure_language, "text", None)
    if text is None:
        return _figure_png(draw, width, height)
    from matplotlib import rc_context

    def draw_in_language(ax) -> None:
        draw(ax)
        _translate(ax, text)

    # Latin letters and digits as in English; the glyphs DejaVu Sans lacks from the CJK font.
    with rc_context({"font.family": ["DejaVu Sans", cjk_font()]}):
        return _figure_png(draw_in_language, width, height)


def _figure_png(draw: Callable, width: float, height: float) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    # Drawn on an Agg canvas from the start, tight_layout and savefig share one renderer and
    # its text-layout cache (the same PNG bytes as a Figure without a canvas).
    FigureCanvasAgg(figure)
    draw(figure.subplots())
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def plot_names(tables: Dict[str, pd.DataFrame]) -> List[str]:
    """The figures the report draws, in the order it lists them."""
    names = ["value_curve", "rfm_segments", "segments", "segment_profiles", "probability_alive",
             "frequency_recency", "repeat_purchases"]
    if "calibration_vs_holdout" in tables:
        names += ["calibration_vs_holdout", "cumulative_transactions"]
    if "stage_migration" in tables:
        names += ["stage_migration", "cohort_retention"]
    if "nps_by_month" in tables:
        names.append("nps_trend")
    return names


def _tier_ends(tiers: pd.DataFrame) -> tuple:
    """Shares of customers at the ends of the top tiers of the ABC split (A, then A and B)."""
    return tuple(abc_tiers(tiers)["customer_share"].cumsum().iloc[:-1])


def _used(counts: pd.DataFrame) -> pd.DataFrame:
    """The migration counts without stages nobody was or is in."""
    return counts.loc[(counts.sum(axis=1) > 0).to_numpy(), (counts.sum(axis=0) > 0).to_numpy()]


class CustomerPlotInputs:
    """What the figures need of the per-customer table: the extent of the P(alive) and
    expected-purchases matrices (the largest frequency, at most 30, and the largest age T, in
    periods) and the value curve of the CLV column, its marks at the ends of tiers A and B."""

    def __init__(self, max_frequency: float, max_age: float, value_curve: Any):
        self.max_frequency = min(30, int(max_frequency))
        self.max_recency = int(max_age)
        self._value_curve = value_curve

    @property
    def value_curve(self) -> Any:
        """The :class:`crmkit.plotting.ValueCurve` (found on first use when given as a
        function: on one machine, in the process that draws the figure)."""
        if callable(self._value_curve):
            self._value_curve = self._value_curve()
        return self._value_curve

    @classmethod
    def of_customers(cls, customers: pd.DataFrame,
                     tiers: pd.DataFrame) -> "CustomerPlotInputs":
        """The inputs of the single-machine report's customer table and value tiers."""
        return cls(customers["frequency"].max(), customers["T"].max(),
                   lambda: plotting.ValueCurve.of_values(customers["clv"], _tier_ends(tiers)))


def _transaction_fitter(model: Any) -> Any:
    """The report's fitted transaction model: a crmkit fitter as given, or BG/NBD parameters (a
    mapping r, alpha, a, b) made into one."""
    return BetaGeoFitter.from_params(model) if isinstance(model, Mapping) else model


def _drawers(tables: Dict[str, pd.DataFrame], bg_nbd_params: Any,
             calibration_period: float, prediction_weeks: int,
             text: Optional[Text] = None,
             customers: Optional[CustomerPlotInputs] = None) -> Dict[str, Callable[[], bytes]]:
    tables = _labelled(tables, text)
    if customers is None:
        customers = CustomerPlotInputs.of_customers(tables["customers"], tables["value_tiers"])
    bgf = _transaction_fitter(bg_nbd_params)
    max_frequency = customers.max_frequency
    max_recency = customers.max_recency
    return {
        "value_curve": lambda: _png(lambda ax: plotting.plot_value_curve(
            customers.value_curve, ax=ax)),
        "rfm_segments": lambda: _png(lambda ax: plotting.plot_segment_sizes(
            tables["rfm_segments"], "customers", "revenue", ax=ax),
            height=0.35 * len(tables["rfm_segments"]) + 2),
        "segments": lambda: _png(lambda ax: plotting.plot_segment_sizes(
            tables["segments"], "customers", "total_clv", ax=ax)),
        "segment_profiles": lambda: _png(lambda ax: plotting.plot_cluster_profiles(
            tables["segments"], ["weeks_since_last", "purchases", "mean_spend", "p_alive", "clv"],
            ax=ax), height=0.5 * len(tables["segments"]) + 2),
        "probability_alive": lambda: _png(lambda ax: plotting.plot_probability_alive_matrix(
            bgf, max_frequency=max_frequency, max_recency=max_recency, ax=ax,
            recent_at_top=True, cmap="RdYlGn")),
        "frequency_recency": lambda: _png(lambda ax: plotting.plot_frequency_recency_matrix(
            bgf, T=prediction_weeks, max_frequency=max_frequency, max_recency=max_recency,
            ax=ax, recent_at_top=True)),
        "repeat_purchases": lambda: _png(lambda ax: plotting.plot_period_transactions(
            bgf, ax=ax, expected="exact", open_ended=True, histogram=tables["repeat_purchases"])),
        "calibration_vs_holdout": lambda: _png(
            lambda ax: plotting.plot_calibration_purchases_vs_holdout_purchases(
                None, None, ax=ax, table=tables["calibration_vs_holdout"])),
        "cumulative_transactions": lambda: _png(lambda ax: plotting.plot_cumulative_transactions(
            tables["cumulative_transactions"], t_cal=calibration_period, xlabel="week", ax=ax)),
        "stage_migration": lambda: _png(lambda ax: plotting.plot_stage_migration(
            _used(tables["stage_migration"]), ax=ax), height=5.0),
        "cohort_retention": lambda: _png(lambda ax: plotting.plot_cohort_retention(
            tables["cohort_retention"], ax=ax), width=9.0, height=6.0),
        "nps_trend": lambda: _png(lambda ax: plotting.plot_nps_trend(
            tables["nps_by_month"][~tables["nps_by_month"]["is_empty"]], ax=ax)),
    }


def _split(names: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Two lists of figures of about equal cost (costliest first, each to the lighter list)."""
    lists: Tuple[List[str], List[str]] = ([], [])
    loads = [0, 0]
    for name in sorted(names, key=lambda each: -_COST.get(each, 1)):
        lighter = 0 if loads[0] <= loads[1] else 1
        lists[lighter].append(name)
        loads[lighter] += _COST.get(name, 1)
    return lists


def _exit_status(child: int) -> int:
    try:
        return os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): draw its figures here
        return -1


def _two_processes() -> bool:
    """Fork only on Linux, with more than one crmkit thread allowed, and from a process running
    no other Python thread (a child must not inherit locks that another thread holds, as in a
    notebook kernel)."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and _core.num_threads() > 1 and threading.active_count() == 1)


class PlotDrawing:
    """The report's figures as PNG bytes by name.

    Made before any other thread starts (it may fork two children that start drawing at once);
    :meth:`result` collects the children's figures and draws here whatever they did not send.
    ``bg_nbd_params`` is the report's fitted transaction model: a crmkit fitter (BG/NBD, MBG/NBD
    or Pareto/NBD) or a mapping of BG/NBD parameters. ``customers``: what the figures need of the
    per-customer table (default: found from ``tables["customers"]``).
    """

    def __init__(self, tables: Dict[str, pd.DataFrame], bg_nbd_params: Any,
                 calibration_period: float, prediction_weeks: int, text: Optional[Text] = None,
                 customers: Optional[CustomerPlotInputs] = None):
        self._names = plot_names(tables)
        self._draw = {name: _in_language(draw, text) for name, draw in
                      _drawers(tables, bg_nbd_params, calibration_period, prediction_weeks,
                               text, customers).items()}
        self._children: List[Tuple[int, Any, List[str]]] = []
        if len(self._names) > 1 and _two_processes():
            # Objects older than the forks are left out of every process's garbage collections,
            # so no process copies the memory pages that hold them (copy on write) to scan them.
            gc.freeze()
            for names in _split(self._names):
                self._fork(names)

    def _fork(self, names: List[str]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:  # the child: draw, send, and leave without Python's shutdown
            status = 1
            try:
                os.close(read_end)
                for _, pipe, _ in self._children:
                    pipe.close()
                os.nice(_NICENESS)
                payload = pickle.dumps({name: self._draw[name]() for name in names})
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._children.append((child, os.fdopen(read_end, "rb"), names))

    def result(self) -> Dict[str, bytes]:
        """Every figure, in the report's order."""
        sent: Dict[str, bytes] = {}
        try:
            for child, pipe, _ in self._children:
                payload = pipe.read()
                pipe.close()
                if _exit_status(child) == 0:
                    try:
                        sent.update(pickle.loads(payload))
                    except (pickle.UnpicklingError, EOFError, ValueError):
                        pass
        finally:
            for child, pipe, _ in self._children:
                if not pipe.closed:
                    pipe.close()
                    _exit_status(child)
            if self._children:
                self._children = []
                gc.unfreeze()
        return {name: sent[name] if name in sent else self._draw[name]() for name in self._names}
