"""Relationship lifecycle stages, migration, cohorts, funnel rates and early warning.

Every customer is placed in one stage as of any date, by rules on recency measured in units of
the customer's own typical inter-purchase gap and on the trend of purchase rate and spend across
recent windows, refined by P(alive) of a fitted BG/NBD-family model when one is given. The
stages, in lifecycle order: ``prospect`` (known, no purchase yet), ``new`` (exploration),
``developing`` (formation), ``stable`` (stability), ``at_risk`` (decline), ``churned`` (lost) and
``reactivated`` (won back after churning).

Definitions (times in periods of ``freq``, days by default; a customer's rows in one period are
one purchase whose amount is their sum; purchases after the as-of period are ignored):

* n purchases in periods p_1 < ... < p_n; tenure = as-of − p_1; recency r = as-of − p_n;
* G, the population gap: the median over customers with n ≥ 2 of their median gap
  (``population_gap`` replaces it);
* g, the typical gap: the customer's median gap when n ≥ ``own_gap_min_purchases``, else G;
* W = max(``min_window``, ``window_gaps`` · g); the rate trend compares the purchases in the last
  window (as-of − W, as-of] with the previous one, (c₁ − c₀) / max(c₁, c₀), and the spend trend
  their spend likewise; both are defined once tenure + 1 ≥ 2W;
* a win-back purchase is one made when, on the period before it, the recency rule called the
  customer churned (a silence longer than ``churn_gaps`` typical gaps).

Rules, the first that holds decides (the ``rule`` column of ``explain=True`` names it):

1. churned: r > churn_gaps · g, or P(alive) < p_alive_churned (with a model);
2. at_risk: r > at_risk_gaps · g, or a trend ≤ −trend_threshold, or P(alive) < p_alive_at_risk;
3. reactivated: at most reactivated_max_purchases purchases since and including the last win-back;
4. new: n ≤ new_max_purchases or tenure < new_tenure_gaps · G;
5. developing: trends undefined, a trend ≥ +trend_threshold, or n < stable_min_purchases;
6. stable: otherwise.

Thresholds (keyword arguments of every function here; defaults in :data:`DEFAULT_THRESHOLDS`):
``at_risk_gaps=1.5``, ``churn_gaps=3``, ``trend_threshold=0.5``, ``window_gaps=3``,
``min_window=90`` (periods), ``stable_min_purchases=4``, ``new_max_purchases=1``,
``new_tenure_gaps=2``, ``own_gap_min_purchases=3``, ``reactivated_max_purchases=2``,
``p_alive_at_risk=0.5``, ``p_alive_churned=0.2``, ``population_gap=None``.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple, Optional

import numpy as np
import pandas as pd

from . import _core
from ._warnings import LifecycleWarning, warn as _warn_coded
from .data import _NANOSECONDS, _index, _log_arrays, _timestamp

__all__ = [
    "STAGES",
    "RULES",
    "DEFAULT_THRESHOLDS",
    "LifecycleWarning",
    "StageMigration",
    "CohortRetention",
    "lifecycle_stages",
    "stage_history",
    "time_in_stage",
    "stage_migration",
    "cohort_retention",
    "funnel_rates",
    "early_warning",
]

_lc = _core.lifecycle

#: Stage names in lifecycle order (the categories of every ``stage`` column).
STAGES: tuple = tuple(_lc.STAGES)
#: Names of the rules that can decide a stage (``explain=True``).
RULES: tuple = tuple(_lc.RULES)
_STAGE_DTYPE = pd.CategoricalDtype(list(STAGES), ordered=True)
_RULE_DTYPE = pd.CategoricalDtype(list(RULES), ordered=False)
_THRESHOLD_NAMES = (
    "at_risk_gaps", "churn_gaps", "trend_threshold", "window_gaps", "min_window",
    "stable_min_purchases", "new_max_purchases", "new_tenure_gaps", "own_gap_min_purchases",
    "reactivated_max_purchases", "p_alive_at_risk", "p_alive_churned", "population_gap",
)
#: The thresholds' defaults.
DEFAULT_THRESHOLDS: dict = {name: getattr(_lc.StageRules(), name) for name in _THRESHOLD_NAMES}
# Length of a period in days, to convert a model's time unit (months and longer: mean lengths).
_DAYS = {"H": 1 / 24, "D": 1.0, "W": 7.0, "M": 365.2425 / 12, "Q": 365.2425 / 4, "Y": 365.2425}


class StageMigration(NamedTuple):
    """Transition matrix between two dates: ``counts`` and row-normalised ``rates``."""

    counts: pd.DataFrame
    rates: pd.DataFrame


class CohortRetention(NamedTuple):
    """Acquisition-cohort tables (cohorts × periods since acquisition) and per-cohort totals."""

    counts: pd.DataFrame
    rates: pd.DataFrame
    revenue: Optional[pd.DataFrame]
    sizes: pd.Series
    cohort_revenue: Optional[pd.Series]


def _canonical_freq(freq: str, argument: str) -> str:
    rules = _lc.StageRules()
    try:
        rules.freq = freq
    except ValueError as error:
        raise ValueError(str(error).replace("freq", argument, 1)) from error
    return rules.freq


def _rules(freq: str, thresholds: dict) -> Any:
    unknown = sorted(set(thresholds) - set(_THRESHOLD_NAMES))
    if unknown:
        raise TypeError(f"unknown threshold(s) {unknown}; the thresholds are {list(_THRESHOLD_NAMES)}")
    rules = _lc.StageRules()
    rules.freq = freq
    for name, value in thresholds.items():
        try:
            setattr(rules, name, value)
        except TypeError as error:
            raise ValueError(f"{name} = {value!r} has the wrong type: {error}") from error
    return rules


def _alive_model(model: Any, model_freq: Optional[str], model_freq_multiplier: float, freq: str) -> Any:
    if model is None:
        return None
    from .clv import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    if isinstance(model, ModifiedBetaGeoFitter):
        kind = _core.clv.MbgNbdParams
    elif isinstance(model, ParetoNBDFitter):
        kind = _core.clv.ParetoNbdParams
    elif isinstance(model, BetaGeoFitter):
        kind = _core.clv.BgNbdParams
    else:
        raise TypeError(f"model must be a fitted BetaGeoFitter, ModifiedBetaGeoFitter or "
                        f"ParetoNBDFitter, not {type(model).__name__}")
    unit = _canonical_freq(freq if model_freq is None else model_freq, "model_freq")
    if not (np.isfinite(model_freq_multiplier) and model_freq_multiplier > 0):
        raise ValueError(f"model_freq_multiplier = {model_freq_multiplier} must be positive and finite")
    time_unit = 1.0 if unit == freq else _DAYS[unit] / _DAYS[freq]
    params = kind(**dict(zip(model._param_names, model._unload_params())))
    return _lc.AliveModel(params, time_unit * float(model_freq_multiplier))


def _prospect_keys(prospects: Any, labels: Optional[pd.Index]) -> tuple[np.ndarray, Optional[pd.Index], bool]:
    """Keys of the prospects in the log's key space; the labels, extended when needed."""
    if prospects is None:
        return np.empty(0, dtype=np.int64), labels, False
    values = pd.Index(pd.unique(pd.Series(list(prospects) if not hasattr(prospects, "__array__") else prospects)))
    if labels is None:
        if len(values) and values.dtype.kind not in "iu":
            raise ValueError(
                f"prospects must be integer ids like the log's customer ids, not {values.dtype} (e.g. {values[0]!r})"
            )
        return np.ascontiguousarray(values.to_numpy(dtype=np.int64)), None, False
    codes = labels.get_indexer(values)
    unknown = codes < 0
    if unknown.any():
        codes[unknown] = len(labels) + np.arange(int(unknown.sum()))
        labels = labels.append(values[unknown])
    return codes.astype(np.int64), labels, bool(unknown.any())


class _Log(NamedTuple):
    customer: np.ndarray
    labels: Optional[pd.Index]
    timestamp: np.ndarray
    amount: Optional[np.ndarray]
    prospects: np.ndarray
    reorder: bool
    name: Any


def _log(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, prospects=None) -> _Log:
    customer, labels, timestamp, amount = _log_arrays(
        transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format
    )
    keys, labels, extended = _prospect_keys(prospects, labels)
    return _Log(customer, labels, timestamp, amount, keys, extended, customer_id_col)


def _stage_kwargs(log: _Log, freq: str, thresholds: dict, model, model_freq, model_freq_multiplier) -> dict:
    freq = _canonical_freq(freq, "freq")
    return dict(options=_lc.StageOptions(
        rules=_rules(freq, thresholds),
        model=_alive_model(model, model_freq, model_freq_multiplier, freq),
        prospects=log.prospects,
    ))


def _warn(coded) -> None:
    _warn_coded(coded, stacklevel=3)


def _frame(log: _Log, keys: np.ndarray, columns: dict) -> pd.DataFrame:
    frame = pd.DataFrame(columns, index=_index(keys, log.labels, log.name), copy=False)
    if log.reorder:
        try:
            frame = frame.sort_index()
        except TypeError:  # ids of mutually unorderable types keep the order of their keys
            pass
    return frame


def _stages(codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int64), dtype=_STAGE_DTYPE)


def _dates(values, datetime_format, argument) -> np.ndarray:
    if values is None:
        raise ValueError(f"{argument} is required")
    items = [values] if isinstance(values, (str, pd.Timestamp)) or np.ndim(values) == 0 else list(values)
    return np.array(
        [_timestamp(v, datetime_format, f"{argument}[{i}]") for i, v in enumerate(items)], dtype=np.int64
    )


def lifecycle_stages(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    monetary_value_col: Any = None,
    as_of: Any = None,
    model: Any = None,
    prospects: Any = None,
    explain: bool = False,
    freq: str = "D",
    model_freq: Optional[str] = None,
    model_freq_multiplier: float = 1,
    datetime_format: Optional[str] = None,
    **thresholds: Any,
) -> pd.DataFrame:
    """Each customer's lifecycle stage as of a date (rules in the module docstring).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction, in any order.
    customer_id_col, datetime_col : column labels
        Customer ids and dates (as for :func:`crmkit.summary_data_from_transaction_data`).
    monetary_value_col : column label, optional
        Amounts; without them there is no spend trend and value is the number of purchases.
    as_of : date-like, optional
        The date (default the last timestamp); later transactions are ignored. A date before
        every purchase raises ValueError.
    model : BetaGeoFitter, ModifiedBetaGeoFitter or ParetoNBDFitter, optional
        A fitted model whose P(alive) refines decline and churn.
    prospects : iterable of ids, optional
        Known customers; those without a purchase by ``as_of`` get the stage ``prospect``.
    explain : bool, default False
        Add the deciding ``rule`` and the quantities the rules used.
    freq : str, default "D"
        Period unit of purchases and of every time threshold ("H", "D", "W", "M", "Q", "Y").
    model_freq : str, optional
        The time unit the model was fitted in (default ``freq``). The unit is checked against the
        log (the best-fitting time scale of the model's alpha must be within a factor 3); a
        model fitted in other units is refused with ValueError.
    model_freq_multiplier : float, default 1
        As lifetimes' ``freq_multiplier`` for the model's data (``"D"`` with 7 for weeks).
    datetime_format : str, optional
        ``strftime`` format of string dates.
    **thresholds
        Any of the thresholds listed in the module docstring.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (ascending), with ``stage``, an ordered Categorical over
        :data:`STAGES`. With ``explain``: ``rule`` (Categorical over :data:`RULES`),
        ``purchases``, ``tenure``, ``recency``, ``typical_gap``, ``own_gap``, ``window``,
        ``rate_trend``, ``spend_trend``, ``p_alive``, ``expected_purchases`` (in the next window),
        ``total_spend`` and ``last_win_back`` (start of the last win-back period). ``attrs`` hold
        ``as_of``, ``population_gap``, ``model_time_scale``, ``rows_used``, ``rows_after``.

    Raises
    ------
    ValueError
        For bad data or thresholds (naming them), an as-of date before every purchase, a log
        where no customer has two purchase periods (G undefined; pass ``population_gap``), or a
        model fitted in other time units.

    Examples
    --------
    >>> log = pd.DataFrame({"id": [1, 1, 1, 2], "day": pd.to_datetime(
    ...     ["2024-01-01", "2024-01-11", "2024-01-21", "2024-01-20"])})
    >>> lifecycle_stages(log, "id", "day", as_of="2024-01-22")["stage"].tolist()
    ['developing', 'new']
    """
    log = _log(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, prospects)
    result = _lc.classify(
        log.customer, log.timestamp, log.amount, _NANOSECONDS,
        _timestamp(as_of, datetime_format, "as_of"),
        **_stage_kwargs(log, freq, thresholds, model, model_freq, model_freq_multiplier),
    )
    _warn(result["warnings"])
    columns: dict = {"stage": _stages(result["stage"])}
    if explain:
        columns["rule"] = pd.Categorical.from_codes(result["rule"].astype(np.int64), dtype=_RULE_DTYPE)
        for name in ("purchases", "tenure", "recency", "typical_gap"):
            columns[name] = result[name]
        columns["own_gap"] = result["own_gap"].astype(bool)
        for name in ("window", "rate_trend", "spend_trend", "p_alive", "expected_purchases", "total_spend"):
            columns[name] = result[name]
        win_back = result["last_win_back"]
        columns["last_win_back"] = pd.to_datetime(np.where(win_back == np.iinfo(np.int64).min, np.iinfo(np.int64).min, win_back))
    frame = _frame(log, result["customer"], columns)
    frame.attrs.update(
        as_of=pd.Timestamp(result["as_of"]),
        population_gap=result["population_gap"],
        model_time_scale=result["model_time_scale"],
        rows_used=result["rows_used"],
        rows_after=result["rows_after"],
    )
    return frame


def _history(transactions, customer_id_col, datetime_col, monetary_value_col, dates, model, prospects, freq,
             model_freq, model_freq_multiplier, datetime_format, thresholds):
    log = _log(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, prospects)
    ticks = _dates(dates, datetime_format, "dates")
    result, days = _lc.classify_history(
        log.customer, log.timestamp, log.amount, _NANOSECONDS, ticks,
        **_stage_kwargs(log, freq, thresholds, model, model_freq, model_freq_multiplier),
    )
    _warn(result["warnings"])
    return log, ticks, result, days


def stage_history(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    monetary_value_col: Any = None,
    dates: Any = None,
    model: Any = None,
    prospects: Any = None,
    freq: str = "D",
    model_freq: Optional[str] = None,
    model_freq_multiplier: float = 1,
    datetime_format: Optional[str] = None,
    **thresholds: Any,
) -> pd.DataFrame:
    """Stages at a series of dates, each evaluated as :func:`lifecycle_stages` would.

    Parameters
    ----------
    transactions, customer_id_col, datetime_col, monetary_value_col, model, prospects, freq,
    model_freq, model_freq_multiplier, datetime_format, **thresholds
        As for :func:`lifecycle_stages`.
    dates : sequence of date-like
        Ascending dates, none before the first purchase.

    Returns
    -------
    pandas.DataFrame
        One row per customer with a purchase by the last date (and per prospect), one column per
        date (a ``DatetimeIndex``); each column an ordered Categorical over :data:`STAGES`, NaN
        where the customer had no stage yet. ``attrs["population_gap"]`` lists G per date (at a
        date where no customer had two purchases yet, G of the last date).
    """
    log, ticks, result, _ = _history(transactions, customer_id_col, datetime_col, monetary_value_col, dates, model,
                                  prospects, freq, model_freq, model_freq_multiplier, datetime_format, thresholds)
    customers = len(result["customer"])
    codes = result["stage"].reshape(len(ticks), customers).astype(np.int64)
    codes[result["present"].reshape(len(ticks), customers) == 0] = -1
    columns = {pd.Timestamp(t): pd.Categorical.from_codes(codes[i], dtype=_STAGE_DTYPE) for i, t in enumerate(ticks)}
    frame = _frame(log, result["customer"], columns)
    frame.columns = pd.DatetimeIndex(frame.columns, name="date")
    frame.attrs["population_gap"] = list(result["population_gap"])
    return frame


def time_in_stage(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    monetary_value_col: Any = None,
    dates: Any = None,
    model: Any = None,
    prospects: Any = None,
    freq: str = "D",
    model_freq: Optional[str] = None,
    model_freq_multiplier: float = 1,
    datetime_format: Optional[str] = None,
    **thresholds: Any,
) -> pd.DataFrame:
    """Days each customer spent in each stage over a grid of dates.

    The interval from ``dates[i]`` to ``dates[i + 1]`` counts for the stage at ``dates[i]`` (a
    left Riemann sum: pass a daily grid for exact times); intervals before the customer's first
    stage count nowhere.

    Parameters
    ----------
    transactions, customer_id_col, datetime_col, monetary_value_col, dates, model, prospects,
    freq, model_freq, model_freq_multiplier, datetime_format, **thresholds
        As for :func:`stage_history`.

    Returns
    -------
    pandas.DataFrame
        Float days, one row per customer (as :func:`stage_history`), one column per stage.
    """
    log, _, result, days = _history(transactions, customer_id_col, datetime_col, monetary_value_col, dates, model,
                              prospects, freq, model_freq, model_freq_multiplier, datetime_format, thresholds)
    days = days.reshape(len(result["customer"]), len(STAGES))
    frame = _frame(log, result["customer"], {name: days[:, s] for s, name in enumerate(STAGES)})
    frame.columns = pd.Index(list(STAGES), name="stage")
    return frame


def stage_migration(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    start: Any,
    end: Any = None,
    monetary_value_col: Any = None,
    model: Any = None,
    prospects: Any = None,
    freq: str = "D",
    model_freq: Optional[str] = None,
    model_freq_multiplier: float = 1,
    datetime_format: Optional[str] = None,
    **thresholds: Any,
) -> StageMigration:
    """Transition matrix between the stages as of ``start`` and as of ``end``.

    Parameters
    ----------
    transactions, customer_id_col, datetime_col, monetary_value_col, model, prospects, freq,
    model_freq, model_freq_multiplier, datetime_format, **thresholds
        As for :func:`lifecycle_stages`.
    start, end : date-like
        The two dates (``end`` defaults to the last timestamp; ``start <= end``).

    Returns
    -------
    StageMigration
        ``counts``: rows are the stages as of ``start`` plus ``"unobserved"`` (customers without a
        stage then: no purchase yet and not a prospect), columns the stages as of ``end``; each
        row sums to the number of customers in that stage at ``start``. ``rates``: each row
        divided by its sum (NaN for an empty row).
    """
    log = _log(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, prospects)
    start_tick = _timestamp(start, datetime_format, "start")
    if start_tick is None:
        raise ValueError("start is required")
    end_tick = _timestamp(end, datetime_format, "end")
    if end_tick is None:
        end_tick = int(log.timestamp.max())
    if start_tick > end_tick:
        raise ValueError(f"start = {pd.Timestamp(start_tick)} must not be after end = {pd.Timestamp(end_tick)}")
    counts = _lc.stage_migration(
        log.customer, log.timestamp, log.amount, _NANOSECONDS, start_tick, end_tick,
        **_stage_kwargs(log, freq, thresholds, model, model_freq, model_freq_multiplier),
    )
    frame = pd.DataFrame(
        counts.astype(np.int64),
        index=pd.Index(list(STAGES) + ["unobserved"], name="from"),
        columns=pd.Index(list(STAGES), name="to"),
    )
    totals = frame.sum(axis=1)
    rates = frame.div(totals.where(totals > 0), axis=0)
    return StageMigration(frame, rates)


def _periods(ticks: np.ndarray, freq: str, name: str) -> pd.PeriodIndex:
    return pd.PeriodIndex(pd.to_datetime(ticks).to_period(freq), name=name)


def cohort_retention(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    monetary_value_col: Any = None,
    freq: str = "M",
    as_of: Any = None,
    datetime_format: Optional[str] = None,
) -> CohortRetention:
    """Acquisition-cohort retention: cohorts by first-purchase period, followed period by period.

    Parameters
    ----------
    transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format
        As for :func:`lifecycle_stages`.
    freq : str, default "M"
        Cohort and column period ("D", "W", "M", "Q", "Y", "H").
    as_of : date-like, optional
        Last date observed (default the last timestamp); later transactions are ignored.

    Returns
    -------
    CohortRetention
        ``counts``: customers of cohort c (rows, a ``PeriodIndex``) with a purchase k periods
        after their acquisition period (columns 0, 1, ...; column 0 is the cohort size), nullable
        integers, ``<NA>`` where c + k is after the as-of period; ``rates``: counts / cohort size;
        ``revenue``: the cohort's spend in that period (None without amounts); ``sizes`` and
        ``cohort_revenue`` per cohort.
    """
    freq = _canonical_freq(freq, "freq")
    customer, labels, timestamp, amount = _log_arrays(
        transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format
    )
    del labels
    result = _lc.cohort_retention(customer, timestamp, amount, _NANOSECONDS, freq,
                                  _timestamp(as_of, datetime_format, "as_of"))
    shape = (len(result["cohort"]), int(result["offsets"]))
    observed = result["observed"].reshape(shape).astype(bool)
    index = _periods(result["cohort"], freq, "cohort")
    columns = pd.RangeIndex(shape[1], name="periods_since_acquisition")
    counts = pd.DataFrame(result["active"].reshape(shape).astype(np.int64), index=index, columns=columns)
    counts = counts.astype("Int64").mask(~observed)
    sizes = pd.Series(result["size"].astype(np.int64), index=index, name="size")
    rates = counts.astype("Float64").div(sizes.where(sizes > 0), axis=0).astype(float)
    revenue = cohort_revenue = None
    if result["revenue"] is not None:
        revenue = pd.DataFrame(result["revenue"].reshape(shape), index=index, columns=columns).where(observed)
        cohort_revenue = revenue.sum(axis=1).rename("revenue")
    return CohortRetention(counts, rates, revenue, sizes, cohort_revenue)


def funnel_rates(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    monetary_value_col: Any = None,
    freq: str = "M",
    as_of: Any = None,
    prospects: Any = None,
    model: Any = None,
    stage_freq: str = "D",
    model_freq: Optional[str] = None,
    model_freq_multiplier: float = 1,
    datetime_format: Optional[str] = None,
    **thresholds: Any,
) -> pd.DataFrame:
    """Funnel counts and rates per period: acquisition, conversion, retention, churn, win-back.

    For each period t of ``freq`` (from the first purchase's period to the as-of period), with
    "stage at the end of t" the stage as of t's last instant (the as-of date for the last
    period; stages use ``stage_freq`` and the thresholds) and "active in t" a purchase in t:

    * ``acquired``: customers whose first purchase is in t; ``acquisition_rate`` =
      ``prospects_acquired / prospect_pool``, the pool being the given prospects without a
      purchase before t (NaN without prospects);
    * ``converted``: customers whose second purchase is in t; ``conversion_rate`` = converted /
      ``conversion_pool`` (customers with a first purchase by the end of t and no second one
      before t);
    * ``retained``: customers active in t − 1 and in t; ``retention_rate`` = retained /
      ``previous_active``;
    * ``churned``: customers not churned at the end of t − 1 (with a purchase by then) and
      churned at the end of t; ``churn_rate`` = churned / ``churn_pool``;
    * ``won_back``: customers churned at the end of t − 1 and active in t; ``win_back_rate`` =
      won_back / ``churned_pool``.

    Rates with an empty pool, and the first period's retention, churn and win-back, are NaN.

    Parameters
    ----------
    transactions, customer_id_col, datetime_col, monetary_value_col, prospects, model,
    model_freq, model_freq_multiplier, datetime_format, **thresholds
        As for :func:`lifecycle_stages`.
    freq : str, default "M"
        The funnel's period.
    as_of : date-like, optional
        Last date (default the last timestamp).
    stage_freq : str, default "D"
        The stage rules' period unit (``freq`` of :func:`lifecycle_stages`).

    Returns
    -------
    pandas.DataFrame
        Indexed by period (a ``PeriodIndex``), with the counts and rates above and ``active``.
    """
    freq = _canonical_freq(freq, "freq")
    log = _log(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, prospects)
    result = _lc.funnel_rates(
        log.customer, log.timestamp, log.amount, _NANOSECONDS, freq,
        _timestamp(as_of, datetime_format, "as_of"),
        **_stage_kwargs(log, stage_freq, thresholds, model, model_freq, model_freq_multiplier),
    )
    _warn(result["warnings"])
    names = [k for k in result if k not in ("period", "warnings")]
    frame = pd.DataFrame({name: result[name] for name in names}, index=_periods(result["period"], freq, "period"))
    for name in names:
        if not name.endswith("_rate"):
            frame[name] = frame[name].astype(np.int64)
    return frame


def early_warning(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    since: Any,
    monetary_value_col: Any = None,
    as_of: Any = None,
    value: Optional[pd.Series] = None,
    model: Any = None,
    prospects: Any = None,
    freq: str = "D",
    model_freq: Optional[str] = None,
    model_freq_multiplier: float = 1,
    datetime_format: Optional[str] = None,
    **thresholds: Any,
) -> pd.DataFrame:
    """Customers who moved into decline since a date, ranked by value at risk.

    Listed: customers at risk as of ``as_of`` who were not at risk as of ``since``. The value at
    risk is ``value`` (e.g. predicted CLV from :meth:`crmkit.GammaGammaFitter.customer_lifetime_value`)
    when given, else the historical value: total spend up to ``as_of`` (the number of purchases
    without amounts).

    Parameters
    ----------
    transactions, customer_id_col, datetime_col, monetary_value_col, model, prospects, freq,
    model_freq, model_freq_multiplier, datetime_format, **thresholds
        As for :func:`lifecycle_stages`.
    since : date-like
        The earlier date.
    as_of : date-like, optional
        The later date (default the last timestamp).
    value : pandas.Series, optional
        Value per customer id. Customers missing from it are ranked last with NaN (and a
        :class:`LifecycleWarning`).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id in rank order: ``stage_before`` (Categorical; NaN for customers
        without a stage at ``since``), ``rule`` (the at-risk rule), ``value_at_risk``,
        ``recency``, ``typical_gap``, ``p_alive`` and ``expected_purchases`` (NaN without model).
    """
    log = _log(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, prospects)
    since_tick = _timestamp(since, datetime_format, "since")
    if since_tick is None:
        raise ValueError("since is required")
    value_keys = np.empty(0, dtype=np.int64)
    values = np.empty(0)
    if value is not None:
        if not isinstance(value, pd.Series):
            raise TypeError(f"value must be a pandas Series indexed by customer id, not {type(value).__name__}")
        series = value.astype(float)
        if log.labels is None:
            value_keys = np.ascontiguousarray(series.index.to_numpy(dtype=np.int64))
            values = series.to_numpy()
        else:
            codes = log.labels.get_indexer(series.index)
            known = codes >= 0
            value_keys = codes[known].astype(np.int64)
            values = series.to_numpy()[known]
        if not np.isfinite(values).all():
            bad = series.index[~np.isfinite(series.to_numpy())][0]
            raise ValueError(f"value has the non-finite value {series[bad]} for customer {bad!r}")
    result = _lc.early_warning(
        log.customer, log.timestamp, log.amount, _NANOSECONDS, since_tick,
        _timestamp(as_of, datetime_format, "as_of"), value_keys, values,
        **_stage_kwargs(log, freq, thresholds, model, model_freq, model_freq_multiplier),
    )
    _warn(result["warnings"])
    if result["missing_values"]:
        warnings.warn(f"value has no entry for {result['missing_values']} listed customers; they are ranked last",
                      LifecycleWarning, stacklevel=2)
    before = result["before"].astype(np.int64)
    before[result["had_stage"] == 0] = -1
    columns = {
        "stage_before": pd.Categorical.from_codes(before, dtype=_STAGE_DTYPE),
        "rule": pd.Categorical.from_codes(result["rule"].astype(np.int64), dtype=_RULE_DTYPE),
    }
    for name in ("value_at_risk", "recency", "typical_gap", "p_alive", "expected_purchases"):
        columns[name] = result[name]
    return pd.DataFrame(columns, index=_index(result["customer"], log.labels, customer_id_col), copy=False)
