"""Plots of crmkit's models and tables (matplotlib).

Every function takes ``ax=None`` (then draws on ``matplotlib.pyplot.gca()``) and returns the
Axes it drew on. They import nothing that needs a display: pass an Axes of a
``matplotlib.figure.Figure`` to draw without pyplot at all (as ``crmkit report`` does).
The names of the CLV plots follow ``lifetimes.plotting``.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd

__all__ = [
    "plot_frequency_recency_matrix",
    "plot_probability_alive_matrix",
    "plot_period_transactions",
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_cumulative_transactions",
    "plot_cluster_profiles",
    "plot_segment_sizes",
    "plot_value_curve",
    "plot_nps_trend",
    "plot_cohort_retention",
    "plot_stage_migration",
]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def _matrix(ax, values: np.ndarray, title: str, xlabel: str, ylabel: str, colorbar: str,
            cmap: str = "viridis", xticks=None, yticks=None, annotate: bool = False, fmt="{:.0%}"):
    image = ax.imshow(values, aspect="auto", cmap=cmap, interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label=colorbar)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if xticks is not None:
        ax.set_xticks(range(len(xticks)), [str(t) for t in xticks], rotation=45, ha="right")
    if yticks is not None:
        ax.set_yticks(range(len(yticks)), [str(t) for t in yticks])
    if annotate:
        finite = values[np.isfinite(values)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for (row, column), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(column, row, fmt.format(value), ha="center", va="center", fontsize=8,
                        color="white" if value < middle else "black")
    return ax


def plot_frequency_recency_matrix(model, T: float = 1, max_frequency: Optional[int] = None,
                                  max_recency: Optional[int] = None, ax=None):
    """Expected purchases in the next `T` periods by frequency and recency (lifetimes' plot).

    Parameters
    ----------
    model : BetaGeoFitter or ModifiedBetaGeoFitter
        A fitted model.
    T : float, default 1
        Horizon, in the model's time unit.
    max_frequency, max_recency : int, optional
        Grid size; default the fitted data's maximum frequency and T.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    grid = model.conditional_expected_number_of_purchases_matrix(T, max_frequency, max_recency)
    return _matrix(ax, grid[::-1], f"Expected purchases in the next {T:g} periods",
                   "customer's repeat purchases (frequency)", "customer's recency",
                   "expected purchases", yticks=None)


def plot_probability_alive_matrix(model, max_frequency: Optional[int] = None,
                                  max_recency: Optional[int] = None, ax=None):
    """P(alive) by frequency and recency, for a customer of age ``max_recency``.

    Parameters
    ----------
    model : BetaGeoFitter or ModifiedBetaGeoFitter
        A fitted model.
    max_frequency, max_recency : int, optional
        Grid size; default the fitted data's maximum frequency and T.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    grid = model.conditional_probability_alive_matrix(max_frequency, max_recency)
    _matrix(ax, grid[::-1], "Probability a customer is still active",
            "customer's repeat purchases (frequency)", "customer's recency (top = most recent)",
            "P(alive)", cmap="RdYlGn")
    ax.set_yticks([])
    return ax


def plot_period_transactions(model, max_frequency: int = 7, ax=None, histogram=None):
    """Actual vs expected numbers of customers by repeat purchases (fitted data).

    Parameters
    ----------
    model : BetaGeoFitter or ModifiedBetaGeoFitter
        A fitted model; expected counts are exact (``expected_repeat_frequency_histogram``).
    max_frequency : int, default 7
        The last bar collects every higher count.
    ax : matplotlib.axes.Axes, optional
    histogram : pandas.DataFrame, optional
        ``model.expected_repeat_frequency_histogram(max_frequency=max_frequency)`` when already
        computed (it takes a pass over every fitted customer).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    table = (model.expected_repeat_frequency_histogram(max_frequency=max_frequency)
             if histogram is None else histogram)
    positions = np.arange(len(table))
    ax.bar(positions - 0.2, table["actual"], width=0.4, label="actual", color="#4C72B0")
    ax.bar(positions + 0.2, table["expected"], width=0.4, label="model", color="#DD8452")
    labels = [str(int(k)) for k in table.index]
    labels[-1] += "+"
    ax.set_xticks(positions, labels)
    ax.set_xlabel("repeat purchases")
    ax.set_ylabel("customers")
    ax.set_title("Repeat purchases: actual vs model")
    ax.legend()
    return ax


def plot_calibration_purchases_vs_holdout_purchases(model, calibration_holdout_matrix: pd.DataFrame,
                                                    n: int = 7, ax=None, table=None):
    """Mean actual and predicted holdout purchases by calibration frequency.

    Parameters
    ----------
    model : BetaGeoFitter or ModifiedBetaGeoFitter
        Fitted on the calibration columns.
    calibration_holdout_matrix : pandas.DataFrame
        From :func:`crmkit.calibration_and_holdout_data`.
    n : int, default 7
        Frequencies 0..n, the last collecting every higher one.
    ax : matplotlib.axes.Axes, optional
    table : pandas.DataFrame, optional
        ``model.calibration_vs_holdout(...)`` when already computed (then `model` and
        `calibration_holdout_matrix` are not used).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    if table is None:
        data = calibration_holdout_matrix
        table = model.calibration_vs_holdout(data["frequency_cal"], data["recency_cal"],
                                             data["T_cal"], data["frequency_holdout"],
                                             data["duration_holdout"], n)
    ax.plot(table.index, table["frequency_holdout"], "o-", label="actual")
    ax.plot(table.index, table["model_predictions"], "s--", label="model")
    ax.set_xlabel("purchases in calibration period")
    ax.set_ylabel("mean purchases in holdout period")
    ax.set_title("Calibration vs holdout")
    ax.legend()
    return ax


def plot_cumulative_transactions(cumulative: pd.DataFrame, t_cal: Optional[float] = None, ax=None):
    """Actual and predicted cumulative repeat transactions (tracking plot).

    Parameters
    ----------
    cumulative : pandas.DataFrame
        Columns ``actual`` and ``predicted``, e.g. from
        :func:`crmkit.expected_cumulative_transactions`.
    t_cal : float, optional
        Where calibration ends (x position); drawn as a vertical line.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    ax.plot(cumulative.index, cumulative["actual"], label="actual")
    ax.plot(cumulative.index, cumulative["predicted"], "--", label="model")
    if t_cal is not None:
        ax.axvline(t_cal, color="grey", linestyle=":", label="end of calibration")
    ax.set_xlabel("time")
    ax.set_ylabel("cumulative repeat transactions")
    ax.set_title("Tracking cumulative transactions")
    ax.legend()
    return ax


def plot_cluster_profiles(profiles: pd.DataFrame, features: Optional[list] = None, ax=None):
    """Cluster means per feature as z-scores across clusters (a heat map, annotated).

    Parameters
    ----------
    profiles : pandas.DataFrame
        One row per cluster, one column per feature (mean values in original units).
    features : list of str, optional
        Columns to show (default: every numeric column).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    table = profiles[features] if features is not None else profiles.select_dtypes("number")
    values = table.to_numpy(dtype=float)
    spread = values.std(axis=0)
    z = (values - values.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    _matrix(ax, z, "Cluster profiles (colour: z-score across clusters; text: mean)", "",
            "", "z-score", cmap="coolwarm", xticks=list(table.columns),
            yticks=[str(i) for i in table.index])
    for (row, column), value in np.ndenumerate(values):
        ax.text(column, row, f"{value:,.3g}", ha="center", va="center", fontsize=8)
    return ax


def plot_segment_sizes(table: pd.DataFrame, size_col: str = "customers", value_col: str = "value",
                       ax=None):
    """Share of customers and share of value per segment, side by side (horizontal bars).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per segment (the index names it).
    size_col, value_col : str
        Columns with the customer count and the segment's total value.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    sizes = table[size_col].to_numpy(dtype=float)
    values = table[value_col].to_numpy(dtype=float)
    positions = np.arange(len(table))
    ax.barh(positions - 0.2, sizes / sizes.sum(), height=0.4, label="share of customers")
    total = values.sum()
    ax.barh(positions + 0.2, values / total if total else values, height=0.4,
            label=f"share of {value_col}")
    ax.set_yticks(positions, [str(i) for i in table.index])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(_percent())
    ax.set_title("Segments: size and value")
    ax.legend(loc="lower right")
    return ax


_CURVE_POINTS = 4000


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)


def plot_value_curve(values: Any, ax=None, marks=(0.2, 0.5)):
    """Pareto curve: cumulative share of value against the share of customers, best first.

    Parameters
    ----------
    values : array-like
        One value per customer (e.g. CLV); negative values count as zero.
    ax : matplotlib.axes.Axes, optional
    marks : sequence of float
        Customer shares to annotate with the value share they hold.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    ordered = np.sort(np.clip(np.asarray(values, dtype=float), 0, None))[::-1]
    total = ordered.sum()
    cumulative = np.concatenate([[0.0], np.cumsum(ordered) / (total if total > 0 else 1.0)])
    share = np.linspace(0.0, 1.0, len(cumulative))
    # Beyond a few thousand points the line looks the same: draw every k-th (and the last).
    shown = np.unique(np.r_[np.arange(0, len(share), max(1, len(share) // _CURVE_POINTS)),
                            len(share) - 1])
    ax.plot(share[shown], cumulative[shown], label="customers, most valuable first")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="equal value")
    for mark in marks:
        held = float(np.interp(mark, share, cumulative))
        ax.plot([mark], [held], "o", color="black")
        ax.annotate(f"top {mark:.0%} hold {held:.0%}", (mark, held), textcoords="offset points",
                    xytext=(8, -12))
    ax.xaxis.set_major_formatter(_percent())
    ax.yaxis.set_major_formatter(_percent())
    ax.set_xlabel("share of customers")
    ax.set_ylabel("share of value")
    ax.set_title("Value concentration (Pareto curve)")
    ax.legend(loc="lower right")
    return ax


def plot_nps_trend(table: pd.DataFrame, ax=None, score_col="nps", lower_col="lower",
                   upper_col="upper"):
    """NPS per period with its confidence band.

    Parameters
    ----------
    table : pandas.DataFrame
        Indexed by period (e.g. :func:`crmkit.aggregate` with ``period=``), with the score and
        interval columns; empty periods (NaN) are gaps.
    ax : matplotlib.axes.Axes, optional
    score_col, lower_col, upper_col : str
        Column names.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    index = table.index
    x = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
    ax.fill_between(x, table[lower_col], table[upper_col], alpha=0.25, label="95% interval")
    ax.plot(x, table[score_col], "o-", label=score_col.upper())
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel("points")
    ax.set_title("Net Promoter Score over time")
    ax.legend()
    return ax


def plot_cohort_retention(table: pd.DataFrame, ax=None):
    """Retention heat map: acquisition cohorts (rows) by periods since acquisition (columns).

    Parameters
    ----------
    table : pandas.DataFrame
        Rates in [0, 1]; NaN cells (not yet observed) stay blank.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    values = table.to_numpy(dtype=float)
    return _matrix(ax, values, "Cohort retention", "periods since first purchase",
                   "acquisition cohort", "share active", cmap="Blues",
                   xticks=list(table.columns), yticks=list(table.index),
                   annotate=values.size <= 400)


def plot_stage_migration(matrix: pd.DataFrame, ax=None):
    """Lifecycle migration: share of each starting stage (rows) in each later stage (columns).

    Parameters
    ----------
    matrix : pandas.DataFrame
        Counts or row rates, stages as index and columns; counts are turned into row shares.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    values = matrix.to_numpy(dtype=float)
    totals = values.sum(axis=1, keepdims=True)
    if np.nanmax(values, initial=0.0) > 1.0:
        values = np.divide(values, totals, out=np.full_like(values, np.nan), where=totals > 0)
    return _matrix(ax, values, "Lifecycle migration", "stage now", "stage before", "share of row",
                   cmap="Purples", xticks=list(matrix.columns), yticks=list(matrix.index),
                   annotate=True)
