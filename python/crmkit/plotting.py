"""Plots of crmkit's models and tables (matplotlib).

The CLV plots are lifetimes.plotting's (0.11.3): the same names, arguments, defaults, titles,
labels, orientation and data, with ``**kwargs`` passed on to matplotlib as lifetimes does.
crmkit's extras are options: exact expected counts and an "N+" bar in
:func:`plot_period_transactions`, a precomputed ``table=`` where the report already has one, the
most recent customers at the top of the matrices. Every function also takes ``ax=`` (default
``matplotlib.pyplot.gca()``; the heterogeneity plots open a figure, as lifetimes does) and
returns the Axes it drew on: pass an Axes of a ``matplotlib.figure.Figure`` to draw without
pyplot (as ``crmkit report`` does).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd

from . import _core

__all__ = [
    "plot_period_transactions",
    "plot_calibration_purchases_vs_holdout_purchases",
    "plot_frequency_recency_matrix",
    "plot_probability_alive_matrix",
    "plot_expected_repeat_purchases",
    "plot_history_alive",
    "plot_cumulative_transactions",
    "plot_incremental_transactions",
    "plot_transaction_rate_heterogeneity",
    "plot_dropout_rate_heterogeneity",
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


def _grid_heatmap(ax, grid: np.ndarray, title: str, xlabel: str, ylabel: str, recent_at_top: bool,
                  kwargs: dict):
    """lifetimes' matrix plot: imshow of the [recency, frequency] grid (recency 0 at the top
    unless `recent_at_top`), square, with a colour bar."""
    ax = _axes(ax)
    kwargs.setdefault("interpolation", "none")
    if recent_at_top:
        kwargs.setdefault("origin", "lower")
    image = ax.imshow(grid, **kwargs)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    left, right, bottom, top = image.get_extent()
    ax.set_aspect(abs((right - left) / (top - bottom)))
    ax.figure.colorbar(image, ax=ax)
    return ax


def plot_frequency_recency_matrix(model, T: float = 1, max_frequency: Optional[int] = None,
                                  max_recency: Optional[int] = None, title: Optional[str] = None,
                                  xlabel: str = "Customer's Historical Frequency",
                                  ylabel: str = "Customer's Recency", ax=None,
                                  recent_at_top: bool = False, **kwargs):
    """Expected purchases in the next `T` periods by frequency and recency (a heat map).

    Entry [recency, frequency] is ``conditional_expected_number_of_purchases_up_to_time(T,
    frequency, recency, max_recency)``: customers of age ``max_recency``.

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter
        A fitted model.
    T : float, default 1
        Horizon, in the model's time unit.
    max_frequency, max_recency : int, optional
        Grid size; default the fitted data's maximum frequency and T.
    title, xlabel, ylabel : str, optional
        lifetimes' defaults.
    ax : matplotlib.axes.Axes, optional
    recent_at_top : bool, default False
        Draw recency ``max_recency`` at the top (lifetimes draws recency 0 there).
    **kwargs
        Passed to ``Axes.imshow`` (default ``interpolation="none"``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    grid = model.conditional_expected_number_of_purchases_matrix(T, max_frequency, max_recency)
    if title is None:
        title = (f"Expected Number of Future Purchases for {T} Unit{'s'[T == 1:]} of Time,"
                 "\nby Frequency and Recency of a Customer")
    return _grid_heatmap(ax, grid, title, xlabel, ylabel, recent_at_top, kwargs)


def plot_probability_alive_matrix(model, max_frequency: Optional[int] = None,
                                  max_recency: Optional[int] = None,
                                  title: str = "Probability Customer is Alive,\nby Frequency and "
                                               "Recency of a Customer",
                                  xlabel: str = "Customer's Historical Frequency",
                                  ylabel: str = "Customer's Recency", ax=None,
                                  recent_at_top: bool = False, **kwargs):
    """P(alive) by frequency and recency, for customers of age ``max_recency`` (a heat map).

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter
        A fitted model.
    max_frequency, max_recency : int, optional
        Grid size; default the fitted data's maximum frequency and T.
    title, xlabel, ylabel : str, optional
        lifetimes' defaults.
    ax : matplotlib.axes.Axes, optional
    recent_at_top : bool, default False
        Draw recency ``max_recency`` at the top (lifetimes draws recency 0 there).
    **kwargs
        Passed to ``Axes.imshow`` (default ``interpolation="none"``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    grid = model.conditional_probability_alive_matrix(max_frequency, max_recency)
    return _grid_heatmap(ax, grid, title, xlabel, ylabel, recent_at_top, kwargs)


def _bars(ax, table: pd.DataFrame, kwargs: dict):
    """pandas' ``DataFrame.plot(kind="bar")`` layout: one group per row, the columns side by
    side in half a unit, x labels rotated 90°."""
    width = 0.5 / table.shape[1]
    positions = np.arange(len(table))
    for k, column in enumerate(table.columns):
        offset = (k - (table.shape[1] - 1) / 2) * width
        ax.bar(positions + offset, table[column].to_numpy(), width=width, label=str(column),
               color=f"C{k}", **kwargs)
    ax.set_xticks(positions, [str(label) for label in table.index], rotation=90)
    ax.set_xlim(-0.5, len(table) - 0.5)
    return ax


def plot_period_transactions(model, max_frequency: int = 7,
                             title: str = "Frequency of Repeat Transactions",
                             xlabel: str = "Number of Calibration Period Transactions",
                             ylabel: str = "Customers", ax=None, expected: str = "simulated",
                             open_ended: bool = False, histogram=None, **kwargs):
    """Customers by number of repeat purchases: the fitted data beside the model.

    As lifetimes, the model's bars count a data set of the same size simulated from the fitted
    model (``model.generate_new_data``) and the bars are the ``max_frequency`` lowest
    frequencies seen (0 … max_frequency − 1).

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter
        A fitted model.
    max_frequency : int, default 7
        Number of bars.
    title, xlabel, ylabel : str, optional
        lifetimes' defaults.
    ax : matplotlib.axes.Axes, optional
    expected : {"simulated", "exact"}, default "simulated"
        "exact": the expected counts Σ_i P(X(T_i) = k) instead of one simulation
        (``model.expected_repeat_frequency_histogram``).
    open_ended : bool, default False
        With "exact": the last bar collects max_frequency and more ("N+").
    histogram : pandas.DataFrame, optional
        With "exact": ``model.expected_repeat_frequency_histogram(max_frequency=...)`` when
        already computed.
    **kwargs
        ``label`` (default ``["Actual", "Model"]``); the rest to ``Axes.bar``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    labels = list(kwargs.pop("label", ["Actual", "Model"]))
    if expected == "simulated":
        if open_ended or histogram is not None:
            raise ValueError("open_ended and histogram need expected='exact'")
        observed = model.data["frequency"]
        simulated = model.generate_new_data(size=len(observed))["frequency"]
        counts = [pd.Series(values).value_counts().sort_index().iloc[:max_frequency]
                  for values in (observed, simulated)]
        table = pd.concat(counts, axis=1).fillna(0)
    elif expected == "exact":
        histogram = (model.expected_repeat_frequency_histogram(max_frequency=max_frequency)
                     if histogram is None else histogram)
        table = histogram[["actual", "expected"]]
        if not open_ended:
            table = table.iloc[:-1]
    else:
        raise ValueError(f"expected must be 'simulated' or 'exact', got {expected!r}")
    table.columns = labels
    if expected == "exact":
        table.index = [str(int(k)) + ("+" if open_ended and i == len(table) - 1 else "")
                       for i, k in enumerate(table.index)]
    _bars(ax, table, kwargs)
    ax.legend()
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    return ax


_HOLDOUT_AXES = {
    "frequency_cal": "Purchases in calibration period",
    "recency_cal": "Age of customer at last purchase",
    "T_cal": "Age of customer at the end of calibration period",
    "time_since_last_purchase": "Time since user made last purchase",
}


def plot_calibration_purchases_vs_holdout_purchases(model, calibration_holdout_matrix: pd.DataFrame,
                                                    kind: str = "frequency_cal", n: int = 7,
                                                    ax=None, table=None, **kwargs):
    """Mean actual and predicted holdout purchases, by a calibration-period quantity.

    As lifetimes: predictions for the first row's ``duration_holdout``, the means over the
    first `n` distinct values of `kind`, one line each.

    Parameters
    ----------
    model : BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter
        Fitted on the calibration columns.
    calibration_holdout_matrix : pandas.DataFrame
        From :func:`crmkit.calibration_and_holdout_data`.
    kind : {"frequency_cal", "recency_cal", "T_cal", "time_since_last_purchase"}
        The x axis (the last is T_cal − recency_cal).
    n : int, default 7
        Number of x values shown.
    ax : matplotlib.axes.Axes, optional
    table : pandas.DataFrame, optional
        Means already computed (columns frequency_holdout and model_predictions, e.g.
        ``model.calibration_vs_holdout(...)``, whose last row collects the higher
        frequencies); then `model`, `calibration_holdout_matrix`, `kind` and `n` are not used.
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if kind not in _HOLDOUT_AXES:
        raise ValueError(f"kind must be one of {sorted(_HOLDOUT_AXES)}, got {kind!r}")
    ax = _axes(ax)
    if table is None:
        summary = calibration_holdout_matrix
        predictions = model.conditional_expected_number_of_purchases_up_to_time(
            summary["duration_holdout"].iloc[0], summary["frequency_cal"], summary["recency_cal"],
            summary["T_cal"])
        key = (summary["T_cal"] - summary["recency_cal"] if kind == "time_since_last_purchase"
               else summary[kind]).rename(kind)
        columns = pd.DataFrame({"frequency_holdout": summary["frequency_holdout"],
                                "model_predictions": predictions})
        table = columns.groupby(key).mean().iloc[:n]
    for column in ("frequency_holdout", "model_predictions"):
        ax.plot(table.index, table[column], label=column, **kwargs)
    ax.set_title("Actual Purchases in Holdout Period vs Predicted Purchases")
    ax.set_xlabel(_HOLDOUT_AXES[kind])
    ax.set_ylabel("Average of Purchases in Holdout Period")
    ax.legend()
    return ax


def plot_expected_repeat_purchases(model, title: str = "Expected Number of Repeat Purchases per Customer",
                                   xlabel: str = "Time Since First Purchase", ax=None,
                                   label: Optional[str] = None, **kwargs):
    """E[X(t)] of a new customer: solid up to the fitted data's largest T, dashed to 1.5 times it.

    Parameters
    ----------
    model : a fitted transaction model (BG/NBD, MBG/NBD, Pareto/NBD)
    title, xlabel : str, optional
        lifetimes' defaults.
    ax : matplotlib.axes.Axes, optional
    label : str, optional
        Legend label of the curve.
    **kwargs
        Passed to ``Axes.plot`` (``c``/``color`` sets the colour of both parts).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    color = kwargs.pop("c", None) or kwargs.pop("color", None) or ax._get_lines.get_next_color()
    end = float(model.data["T"].max())
    for times, style, name in ((np.linspace(0, end, 100), "-", label),
                               (np.linspace(end, 1.5 * end, 100), "--", None)):
        ax.plot(times, model.expected_number_of_purchases_up_to_time(times), color=color, ls=style,
                label=name, **kwargs)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower right")
    return ax


def plot_history_alive(model, t: int, transactions: pd.DataFrame, datetime_col, freq: str = "D",
                       start_date=None, ax=None, **kwargs):
    """One customer's P(alive) over `t` periods since the first purchase, with the purchases.

    Parameters
    ----------
    model : a fitted transaction model
    t : int
        Periods since the first purchase.
    transactions : pandas.DataFrame
        That customer's transactions.
    datetime_col : column label
    freq : str, default "D"
        The period (a pandas frequency), the model's time unit.
    start_date : date-like, optional
        Left end of the x axis (default the first purchase).
    ax : matplotlib.axes.Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .utils import calculate_alive_path

    ax = _axes(ax)
    dates = pd.to_datetime(transactions[datetime_col])
    first = dates.min()
    path = calculate_alive_path(model, transactions, datetime_col, t, freq)
    path_dates = pd.date_range(start=first, periods=len(path), freq=freq)
    ax.plot(path_dates, path, "-", label="P_alive", **kwargs)
    per_period = pd.Series(1, index=pd.DatetimeIndex(dates)).resample(freq).sum()
    ax.vlines(per_period.index[per_period >= 1].values, ymin=0, ymax=1, colors="r",
              linestyles="dashed", label="purchases")
    ax.set_ylim(0, 1.0)
    ax.set_yticks(np.arange(0, 1.1, 0.1))
    ax.set_xlim(pd.Timestamp(first if start_date is None else start_date), path_dates[-1])
    ax.legend(loc=3)
    ax.set_ylabel("P_alive")
    ax.set_title("History of P_alive")
    return ax


def _tracking(model, transactions, datetime_col, customer_id_col, t, t_cal, datetime_format, freq,
              set_index_date, title, xlabel, ylabel, ax, incremental, kwargs):
    ax = _axes(ax)
    if isinstance(model, pd.DataFrame):
        table = model[["actual", "predicted"]]
    else:
        from .clv import expected_cumulative_transactions

        table = expected_cumulative_transactions(model, transactions, datetime_col, customer_id_col, t,
                                                 datetime_format=datetime_format, freq=freq,
                                                 set_index_date=set_index_date)
    if incremental:
        table = table - table.shift(1)
    for column in table.columns:
        ax.plot(table.index, table[column], label=column, **kwargs)
    ax.set_title(title)
    ax.legend()
    if set_index_date:
        ax.axvline(x=table.index[int(t_cal)], color="r", linestyle="--")
        xlabel = "date"
    elif t_cal is not None:
        ax.axvline(x=t_cal, color="r", linestyle="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_cumulative_transactions(model, transactions: Optional[pd.DataFrame] = None, datetime_col=None,
                                 customer_id_col=None, t: Optional[int] = None,
                                 t_cal: Optional[float] = None, datetime_format: Optional[str] = None,
                                 freq: str = "D", set_index_date: bool = False,
                                 title: str = "Tracking Cumulative Transactions", xlabel: str = "day",
                                 ylabel: str = "Cumulative Transactions", ax=None, **kwargs):
    """Actual and predicted cumulative repeat transactions (the tracking plot), with a dashed
    red line where calibration ends.

    Parameters
    ----------
    model : a fitted transaction model, or a pandas.DataFrame
        The model (lifetimes' form: the table is then
        :func:`crmkit.expected_cumulative_transactions` of the other arguments), or that table
        already computed (columns ``actual`` and ``predicted``).
    transactions, datetime_col, customer_id_col, t, datetime_format, freq, set_index_date
        As for :func:`crmkit.expected_cumulative_transactions`.
    t_cal : float
        Where calibration ends (with ``set_index_date``: its period number).
    title, xlabel, ylabel : str, optional
        lifetimes' defaults (``set_index_date`` labels the x axis "date").
    ax : matplotlib.axes.Axes, optional
    **kwargs
        Passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    return _tracking(model, transactions, datetime_col, customer_id_col, t, t_cal, datetime_format,
                     freq, set_index_date, title, xlabel, ylabel, ax, False, kwargs)


def plot_incremental_transactions(model, transactions: Optional[pd.DataFrame] = None,
                                  datetime_col=None, customer_id_col=None, t: Optional[int] = None,
                                  t_cal: Optional[float] = None,
                                  datetime_format: Optional[str] = None, freq: str = "D",
                                  set_index_date: bool = False,
                                  title: str = "Tracking Daily Transactions", xlabel: str = "day",
                                  ylabel: str = "Transactions", ax=None, **kwargs):
    """Actual and predicted repeat transactions per period: :func:`plot_cumulative_transactions`
    differenced (the first period NaN, as lifetimes).

    Parameters and returns as :func:`plot_cumulative_transactions`.
    """
    return _tracking(model, transactions, datetime_col, customer_id_col, t, t_cal, datetime_format,
                     freq, set_index_date, title, xlabel, ylabel, ax, True, kwargs)


def _density(ax, distribution, points_to, suptitle, suptitle_fontsize, xlabel, ylabel, kwargs):
    """lifetimes' heterogeneity figure: the density on [0, its 99% quantile], mean and variance
    in the title."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(1)
    x = np.linspace(0, points_to, 100)
    ax.figure.suptitle(suptitle, fontsize=suptitle_fontsize, fontweight="bold")
    mean, variance = distribution.stats(moments="mv")
    ax.set_title(f"mean: {float(mean):.3f}, var: {float(variance):.3f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.figure.tight_layout(rect=[0, 0.03, 1, 0.95])
    ax.plot(x, distribution.pdf(x), **kwargs)
    return ax


def plot_transaction_rate_heterogeneity(model, suptitle: str = "Heterogeneity in Transaction Rate",
                                        xlabel: str = "Transaction Rate", ylabel: str = "Density",
                                        suptitle_fontsize: int = 14, ax=None, **kwargs):
    """The fitted gamma distribution of purchase rates λ ~ Gamma(r, α) (BG/NBD, MBG/NBD,
    Pareto/NBD), on [0, its 99% quantile], on a new figure unless `ax` is given.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from scipy import stats

    r, alpha = model._unload_params("r", "alpha")
    rates = stats.gamma(r, scale=1 / alpha)
    return _density(ax, rates, rates.ppf(0.99), suptitle, suptitle_fontsize, xlabel, ylabel, kwargs)


def plot_dropout_rate_heterogeneity(model, suptitle: str = "Heterogeneity in Dropout Probability",
                                    xlabel: str = "Dropout Probability p", ylabel: str = "Density",
                                    suptitle_fontsize: int = 14, ax=None, **kwargs):
    """The fitted beta distribution of dropout probabilities p ~ Beta(a, b) (BG/NBD, MBG/NBD),
    on [0, its 99% quantile], on a new figure unless `ax` is given. For Pareto/NBD the dropout
    rate μ ~ Gamma(s, β) (then pass an `xlabel` that says so).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from scipy import stats

    if {"a", "b"} <= set(model.params_.index):
        a, b = model._unload_params("a", "b")
        dropout = stats.beta(a, b)
    else:
        s, beta = model._unload_params("s", "beta")
        dropout = stats.gamma(s, scale=1 / beta)
    return _density(ax, dropout, dropout.ppf(0.99), suptitle, suptitle_fontsize, xlabel, ylabel,
                    kwargs)


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


# Exact sums of doubles as integers in units of 2^-1127 (every finite double is a whole number of
# them): the library's full_range_sum (crmkit/core/exact_sum.hpp) through _core.exact_sums.
_EXACT_UNIT_BITS = 1127


def _exact_sums(values: Any, ends: Any) -> list:
    """The exact sums of values[0:ends[0]], values[ends[0]:ends[1]], ... (finite doubles) as
    Python integers in units of 2^-1127: independent of the order of addition, so sums of
    parts add to the sum of the whole."""
    return _core.exact_sums(values, ends)


def exact_total(values: Any) -> int:
    """The exact sum of `values` (finite doubles) in :func:`_exact_sums`' units."""
    values = np.asarray(values, dtype=np.float64)
    return _exact_sums(values, [len(values)])[0]


def exact_float(units: int) -> float:
    """An exact sum of :func:`_exact_sums` as the nearest double (rounded once)."""
    return units / (1 << _EXACT_UNIT_BITS)


class ValueCurve:
    """What :func:`plot_value_curve` draws of one value per customer: the customer shares and
    value shares of the drawn points (customers most valuable first; negative values count as
    zero) and, at each mark, the value share the top customers hold.

    Every value share is an exact sum divided by the exact total, rounded once, so the curve of
    the same values is the same however they were split to be added (:meth:`of_top_sums`, used
    by the cluster report with sums added on the workers)."""

    def __init__(self, share: np.ndarray, cumulative: np.ndarray, marks: tuple, held: tuple):
        self.share, self.cumulative, self.marks, self.held = share, cumulative, marks, held

    @staticmethod
    def ranks(customers: int, marks: Any = ()) -> np.ndarray:
        """The numbers of top customers whose value sums the curve needs (0 and `customers`
        included): every k-th of about _CURVE_POINTS drawn, and those around each mark."""
        n = int(customers)
        drawn = np.arange(0, n + 1, max(1, (n + 1) // _CURVE_POINTS))
        near = [int(np.floor(mark * n)) + step for mark in marks for step in (-1, 0, 1, 2)]
        return np.unique(np.clip(np.r_[drawn, n, near], 0, n).astype(np.int64))

    @classmethod
    def of_top_sums(cls, customers: int, top_sums: dict, marks: Any = ()) -> "ValueCurve":
        """The curve from the exact sums (:func:`_exact_sums` units) of the top r values for
        every r of :meth:`ranks`."""
        n = int(customers)
        marks = tuple(float(mark) for mark in marks)
        total = top_sums[n] if top_sums[n] > 0 else 1

        def share(r: np.ndarray) -> np.ndarray:  # numpy.linspace(0, 1, n + 1)[r]
            return np.where(r == n, 1.0, r * (1.0 / n)) if n else np.zeros(len(r))

        def cumulative(r: np.ndarray) -> np.ndarray:
            return np.array([top_sums[int(k)] / total for k in r], dtype=np.float64)

        drawn = np.unique(np.r_[np.arange(0, n + 1, max(1, (n + 1) // _CURVE_POINTS)), n])
        near = cls.ranks(n, marks)
        held = tuple(float(np.interp(mark, share(near), cumulative(near))) for mark in marks)
        return cls(share(drawn), cumulative(drawn), marks, held)

    @classmethod
    def of_values(cls, values: Any, marks: Any = ()) -> "ValueCurve":
        """The curve of one value per customer (on one machine)."""
        values = np.asarray(values, dtype=float)
        if not np.isfinite(values).all():
            first = int(np.flatnonzero(~np.isfinite(values))[0])
            raise ValueError(f"values: value {values[first]} at position {first} is not finite")
        ordered = np.sort(np.clip(values, 0, None))[::-1]
        ranks = cls.ranks(len(ordered), marks)
        parts = _exact_sums(ordered, ranks)
        return cls.of_top_sums(len(ordered), dict(zip(ranks.tolist(), np.cumsum(
            np.array(parts, dtype=object)).tolist())), marks)


def plot_value_curve(values: Any, ax=None, marks=(0.2, 0.5)):
    """Pareto curve: cumulative share of value against the share of customers, best first.

    Parameters
    ----------
    values : array-like or ValueCurve
        One value per customer (e.g. CLV); negative values count as zero. Or the curve already
        reduced (:class:`ValueCurve`, its own marks).
    ax : matplotlib.axes.Axes, optional
    marks : sequence of float
        Customer shares to annotate with the value share they hold.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    curve = values if isinstance(values, ValueCurve) else ValueCurve.of_values(values, marks)
    ax.plot(curve.share, curve.cumulative, label="customers, most valuable first")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="equal value")
    for mark, held in zip(curve.marks, curve.held):
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
