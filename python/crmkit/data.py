"""Transaction logs: per-customer summaries, calibration/holdout splits, simulated logs.

The functions follow the `lifetimes` package (``lifetimes.utils``) in names, arguments and
semantics, computed by crmkit's C++ core. Where crmkit differs, the docstring says so.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np
import pandas as pd

from . import _core
from ._csv import SkippedRowsWarning, read_transactions, write_csv

__all__ = [
    "summary_data_from_transaction_data",
    "calibration_and_holdout_data",
    "simulate_transactions",
    "read_transactions",
    "write_csv",
    "SkippedRowsWarning",
]

_NANOSECONDS = 1_000_000_000
_NAT = np.iinfo(np.int64).min
# Simulated times are in periods of fixed length; months and longer have none.
_SIMULATION_PERIOD_SECONDS = {"H": 3600, "h": 3600, "D": 86_400, "W": 7 * 86_400, "W-SUN": 7 * 86_400}


def _column(transactions: pd.DataFrame, argument: str, name: Any) -> pd.Series:
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, not {type(transactions).__name__}")
    if name not in transactions.columns:
        available = ", ".join(repr(c) for c in transactions.columns)
        raise ValueError(f"{argument} = {name!r} is not a column of transactions (columns: {available})")
    return transactions[name]


def _first_bad_row(series: pd.Series, bad: np.ndarray) -> str:
    position = int(np.flatnonzero(bad)[0])
    return f"row {position} (index {series.index[position]!r})"


def _customer_keys(ids: pd.Series, argument: str) -> Tuple[np.ndarray, Optional[pd.Index]]:
    """int64 keys for the C++ core, and the labels they index (None: the keys are the ids)."""
    dtype = ids.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":  # numpy integers cannot be missing
        if dtype.kind == "i" or len(ids) == 0 or ids.max() <= np.iinfo(np.int64).max:
            return np.ascontiguousarray(ids.to_numpy(dtype=np.int64)), None
    try:
        codes, labels = pd.factorize(ids, sort=True)
    except TypeError:  # ids of mutually unorderable types keep their order of appearance
        codes, labels = pd.factorize(ids, sort=False)
    if len(codes) and codes.min() < 0:
        where = _first_bad_row(ids, codes < 0)
        raise ValueError(f"{argument} {ids.name!r} has a missing customer id at {where}")
    return codes.astype(np.int64, copy=False), pd.Index(labels)


_YYYYMMDD_RANGE = (1000_01_01, 9999_12_31)


def _numeric_dates(dates: pd.Series, datetime_format: Optional[str], argument: str) -> pd.Series:
    """Numbers as dates: integers YYYYMMDD (as the CSV reader reads "20240101"), else an error.

    pandas would read any number as nanoseconds since 1970, so 20240101 became 1970-01-01; a
    number is never taken as a count of (nano)seconds here.
    """
    if pd.api.types.is_integer_dtype(dates.dtype) and not pd.api.types.is_bool_dtype(dates.dtype):
        outside = (dates < _YYYYMMDD_RANGE[0]) | (dates > _YYYYMMDD_RANGE[1])
        if not outside.any():
            try:
                return pd.to_datetime(dates.astype(str), format=datetime_format or "%Y%m%d")
            except (ValueError, TypeError) as error:
                raise ValueError(
                    f"{argument} {dates.name!r}: integer dates are read as YYYYMMDD: {error}"
                ) from None
        where = _first_bad_row(dates, outside.to_numpy())
        raise ValueError(
            f"{argument} {dates.name!r}: integer dates are read as YYYYMMDD, but the value at "
            f"{where} is not one; give datetime64 values or date strings"
        )
    raise ValueError(
        f"{argument} {dates.name!r} holds numbers of dtype {dates.dtype}; give datetime64 values, "
        "date strings or YYYYMMDD integers (numbers are not read as seconds since 1970)"
    )


def _timestamps(dates: pd.Series, datetime_format: Optional[str], argument: str, check_missing: bool = True) -> np.ndarray:
    """Nanoseconds since 1970-01-01 (int64), wall-clock time for time-zone-aware columns; a
    missing date (NaT) is an error, or with check_missing=False left as the core's minimum tick,
    which every core function rejects."""
    if pd.api.types.is_numeric_dtype(dates.dtype) and not pd.api.types.is_datetime64_any_dtype(
        dates.dtype
    ):
        dates = _numeric_dates(dates, datetime_format, argument)
    if not pd.api.types.is_datetime64_dtype(dates.dtype):
        if isinstance(dates.dtype, pd.DatetimeTZDtype):
            dates = dates.dt.tz_localize(None)
        else:
            try:
                dates = pd.to_datetime(dates, format=datetime_format)
            except (ValueError, TypeError, OverflowError) as error:
                raise ValueError(f"{argument} {dates.name!r}: cannot read the dates: {error}") from error
    ticks = np.ascontiguousarray(dates.to_numpy(dtype="datetime64[ns]").view(np.int64))
    if check_missing and len(ticks) and ticks.min() == _NAT:
        where = _first_bad_row(dates, ticks == _NAT)
        raise ValueError(f"{argument} {dates.name!r} has a missing date at {where}")
    return ticks


def _timestamp(value: Any, datetime_format: Optional[str], argument: str) -> Optional[int]:
    """One date (str, date, datetime, numpy or pandas timestamp, Period) as nanoseconds."""
    if value is None:
        return None
    if isinstance(value, pd.Period):
        value = value.to_timestamp()
    try:
        stamp = pd.Timestamp(pd.to_datetime(value, format=datetime_format))
    except (ValueError, TypeError, OverflowError) as error:
        raise ValueError(f"{argument} = {value!r} is not a date: {error}") from error
    if stamp is pd.NaT:
        raise ValueError(f"{argument} = {value!r} is not a date")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return int(stamp.value)


def _check_finite(transactions: pd.DataFrame, monetary_value_col: Any, amounts: Optional[np.ndarray]) -> None:
    """A non-finite amount as an error naming its row and index label."""
    # min and max propagate NaN and reach any infinity, without a temporary array.
    if amounts is None or not len(amounts) or (np.isfinite(amounts.min()) and np.isfinite(amounts.max())):
        return
    bad = ~np.isfinite(amounts)
    position = int(np.flatnonzero(bad)[0])
    raise ValueError(
        f"monetary_value_col {monetary_value_col!r} has the non-finite amount {amounts[position]} "
        f"at {_first_bad_row(transactions[monetary_value_col], bad)}"
    )


def _amounts(transactions: pd.DataFrame, monetary_value_col: Any, check_finite: bool = True) -> Optional[np.ndarray]:
    if monetary_value_col is None:
        return None
    values = _column(transactions, "monetary_value_col", monetary_value_col)
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        raise ValueError(f"monetary_value_col {monetary_value_col!r} must be numeric, not {values.dtype}")
    if values.dtype == np.float64:
        amounts = np.ascontiguousarray(values.to_numpy())  # a view, not a copy
    else:
        amounts = np.ascontiguousarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if check_finite:
        _check_finite(transactions, monetary_value_col, amounts)
    return amounts


def _log_arrays(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format,
                checked_by_core=False):
    """The core's columns. checked_by_core=True leaves missing dates and non-finite amounts to a
    core function that rejects them anyway (see `_core_call`): a valid log is then not read
    twice."""
    ids = _column(transactions, "customer_id_col", customer_id_col)
    dates = _column(transactions, "datetime_col", datetime_col)
    customer, labels = _customer_keys(ids, "customer_id_col")
    timestamp = _timestamps(dates, datetime_format, "datetime_col", check_missing=not checked_by_core)
    return customer, labels, timestamp, _amounts(transactions, monetary_value_col, not checked_by_core)


def _core_call(call, transactions: pd.DataFrame, datetime_col: Any, datetime_format: Optional[str],
               monetary_value_col: Any, amounts: Optional[np.ndarray]):
    """`call()`, a core function on `_log_arrays(..., checked_by_core=True)`; when it fails, a
    missing date or a non-finite amount is reported as `_log_arrays` reports it (naming the
    index label), else the core's own error."""
    try:
        return call()
    except ValueError:
        _timestamps(_column(transactions, "datetime_col", datetime_col), datetime_format, "datetime_col")
        _check_finite(transactions, monetary_value_col, amounts)
        raise


def _index(keys: np.ndarray, labels: Optional[pd.Index], name: Any) -> pd.Index:
    values = keys if labels is None else labels.take(keys)
    return pd.Index(values, name=name)


def summary_data_from_transaction_data(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    monetary_value_col: Any = None,
    datetime_format: Optional[str] = None,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    include_first_transaction: bool = False,
) -> pd.DataFrame:
    """Summarise a transaction log per customer: frequency, recency, T and monetary value.

    The semantics of ``lifetimes.utils.summary_data_from_transaction_data``, computed in C++:

    - every timestamp is floored to its period (pandas ``to_period(freq)``: ``"H"`` hours,
      ``"D"`` days, ``"W"`` weeks Monday to Sunday, ``"M"`` months, ``"Q"`` quarters, ``"Y"``
      years); the observation end is floored too, and rows in later periods are ignored;
    - a customer's rows in one period merge into one purchase whose amount is their sum, so
      duplicated rows double the amount, refunds (negative amounts) reduce it, and a purchase of
      zero still counts;
    - with K distinct purchase periods, the first f, the last l and the end e, and durations in
      periods divided by ``freq_multiplier``: ``frequency = K - 1`` (repeat purchases),
      ``recency = l - f``, ``T = e - f``, ``monetary_value`` = mean of the K - 1 repeat periods'
      totals (0 without repeat purchases);
    - ``include_first_transaction=True`` gives the RFM view instead: ``frequency = K``,
      ``recency = e - l`` (time since the last purchase; **lifetimes keeps l - f here**) and
      ``monetary_value`` = mean over all K periods.

    Customers whose every row is after the observation end are absent; the counts are in
    ``result.attrs`` (``customers_after_end``, ``rows_after_end``, ``rows_used``,
    ``observation_period_end``). Row order does not matter: amounts within a period are added in
    ascending order, so any permutation of the log gives identical numbers.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_id_col : column label
        Customer ids: integers go to the core as they are; any other hashable ids (strings...)
        are factorised first.
    datetime_col : column label
        Dates or datetimes: a ``datetime64`` column (time-zone-aware ones use their wall-clock
        time), or strings / ``datetime.date`` objects read with :func:`pandas.to_datetime`.
    monetary_value_col : column label, optional
        Purchase amounts; without it there is no ``monetary_value`` column.
    datetime_format : str, optional
        ``strftime`` format of string dates (and of ``observation_period_end``).
    observation_period_end : date-like, optional
        End of observation, default the last timestamp in the log.
    freq : str, default "D"
        Period unit: "H", "D", "W", "M", "Q" or "Y" (aliases "h", "W-SUN", "MS", "QS", "A", "YS").
    freq_multiplier : float, default 1
        Durations are divided by it; ``freq="D", freq_multiplier=7`` gives exact weeks.
    include_first_transaction : bool, default False
        False: the lifetimes view (repeat purchases); True: the RFM view described above.

    Returns
    -------
    pandas.DataFrame
        Float columns ``frequency``, ``recency``, ``T`` (and ``monetary_value``), indexed by
        customer id (named ``customer_id_col``), sorted.

    Raises
    ------
    ValueError
        For a missing column, a missing id or date, unreadable dates, a non-finite amount (each
        naming the row), an unknown ``freq``, a non-positive ``freq_multiplier``, or an
        observation end before every purchase.

    Examples
    --------
    >>> log = pd.DataFrame({"id": [1, 1, 2], "date": ["2024-01-01", "2024-01-08", "2024-01-03"],
    ...                     "spend": [10.0, 20.0, 5.0]})
    >>> summary_data_from_transaction_data(log, "id", "date", "spend",
    ...                                    observation_period_end="2024-01-15")
        frequency  recency     T  monetary_value
    id
    1         1.0      7.0  14.0            20.0
    2         0.0      0.0  12.0             0.0
    """
    customer, labels, timestamp, amount = _log_arrays(
        transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, checked_by_core=True
    )
    result = _core_call(
        lambda: _core.data.summarize(
            customer,
            timestamp,
            amount,
            freq=freq,
            freq_multiplier=float(freq_multiplier),
            observation_period_end=_timestamp(observation_period_end, datetime_format, "observation_period_end"),
            include_first_transaction=bool(include_first_transaction),
            ticks_per_second=_NANOSECONDS,
        ),
        transactions, datetime_col, datetime_format, monetary_value_col, amount,
    )
    columns = ["frequency", "recency", "T"] + (["monetary_value"] if amount is not None else [])
    summary = pd.DataFrame(
        {name: result[name] for name in columns},
        index=_index(result["customer"], labels, customer_id_col),
        copy=False,
    )
    summary.attrs.update(
        observation_period_end=pd.Timestamp(result["observation_period_end"]),
        rows_used=result["rows_used"],
        rows_after_end=result["rows_after_end"],
        customers_after_end=result["customers_after_end"],
    )
    return summary


def calibration_and_holdout_data(
    transactions: pd.DataFrame,
    customer_id_col: Any,
    datetime_col: Any,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    datetime_format: Optional[str] = None,
    monetary_value_col: Any = None,
    include_first_transaction: bool = False,
) -> pd.DataFrame:
    """Split a log at a calibration end: calibration summary and holdout outcomes per customer.

    ``lifetimes.utils.calibration_and_holdout_data``, computed in C++ with the period rules of
    :func:`summary_data_from_transaction_data`. With c the calibration end's period and e the
    observation end's period:

    - ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_value_cal``: the summary of the
      periods up to c, with c as observation end;
    - ``frequency_holdout``: distinct purchase periods in (c, e];
      ``monetary_value_holdout``: the mean of those periods' totals (0 when none);
      ``duration_holdout = (e - c) / freq_multiplier``;
    - customers whose first purchase is after c are excluded (their number is in
      ``result.attrs["customers_excluded"]``), as in lifetimes.

    Differences from lifetimes: the split is by period (a row belongs to calibration when its
    period is at or before c; lifetimes compares raw timestamps, which only differs for rows
    later in c's own period), and ``monetary_value_holdout`` averages holdout *periods* like every
    other monetary value here (lifetimes averages raw holdout rows).

    Parameters
    ----------
    transactions, customer_id_col, datetime_col : DataFrame and column labels
        As for :func:`summary_data_from_transaction_data`.
    monetary_value_col, datetime_format, freq, freq_multiplier, include_first_transaction
        As for :func:`summary_data_from_transaction_data`.
    calibration_period_end : date-like
        Last date of calibration (inclusive, floored to its period).
    observation_period_end : date-like, optional
        End of the holdout, default the last timestamp in the log; its period must come after
        the calibration end's period.

    Returns
    -------
    pandas.DataFrame
        Float columns ``frequency_cal``, ``recency_cal``, ``T_cal`` [``monetary_value_cal``],
        ``frequency_holdout`` [``monetary_value_holdout``], ``duration_holdout``, indexed by
        customer id, sorted.

    Raises
    ------
    ValueError
        As :func:`summary_data_from_transaction_data`, and when the calibration end is before
        every purchase or the observation end is not in a later period.
    """
    customer, labels, timestamp, amount = _log_arrays(
        transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format, checked_by_core=True
    )

    def split():
        calibration_end = _timestamp(calibration_period_end, datetime_format, "calibration_period_end")
        if calibration_end is None:
            raise ValueError("calibration_period_end is required")
        return _core.data.calibration_and_holdout(
            customer,
            timestamp,
            amount,
            calibration_end,
            observation_period_end=_timestamp(observation_period_end, datetime_format, "observation_period_end"),
            freq=freq,
            freq_multiplier=float(freq_multiplier),
            include_first_transaction=bool(include_first_transaction),
            ticks_per_second=_NANOSECONDS,
        )

    result = _core_call(split, transactions, datetime_col, datetime_format, monetary_value_col, amount)
    calibration = result["calibration"]
    columns = {"frequency_cal": calibration["frequency"], "recency_cal": calibration["recency"],
               "T_cal": calibration["T"]}
    if amount is not None:
        columns["monetary_value_cal"] = calibration["monetary_value"]
    columns["frequency_holdout"] = result["frequency_holdout"]
    if amount is not None:
        columns["monetary_value_holdout"] = result["monetary_value_holdout"]
    index = _index(calibration["customer"], labels, customer_id_col)
    split = pd.DataFrame(columns, index=index, copy=False)
    split["duration_holdout"] = float(result["duration_holdout"])
    split.attrs.update(
        calibration_period_end=pd.Timestamp(calibration["observation_period_end"]),
        observation_period_end=pd.Timestamp(result["observation_period_end"]),
        rows_calibration=calibration["rows_used"],
        rows_holdout=result["rows_holdout"],
        rows_after_end=result["rows_after_end"],
        customers_excluded=calibration["customers_after_end"],
    )
    return split


def simulate_transactions(
    n_customers: int,
    r: float = 0.243,
    alpha: float = 4.414,
    a: float = 0.793,
    b: float = 2.426,
    p: float = 6.25,
    q: float = 3.74,
    gamma: float = 15.44,
    start: Any = "2024-01-01",
    freq: str = "W",
    acquisition_periods: float = 13,
    horizon: float = 78,
    seed: int = 0,
    max_transactions: int = 100_000_000,
) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate a transaction log from the BG/NBD and Gamma-Gamma models, with the truth.

    Each customer draws a purchase rate ``lambda ~ Gamma(r, rate alpha)``, a dropout
    probability ``p_i ~ Beta(a, b)`` and a spend rate ``nu ~ Gamma(q, rate gamma)``, and is born
    at a time uniform over the first ``acquisition_periods`` periods. The first purchase is at
    birth; while alive, repeat purchases arrive as a Poisson process with rate ``lambda``, and
    after each repeat purchase the customer drops out with probability ``p_i``. Every amount is
    ``Gamma(p, rate nu)`` (mean ``p / nu``). Purchases after ``horizon`` periods are not observed.
    Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2),
    and "RFM and CLV", Journal of Marketing Research 42(4).

    The defaults are the published CDNOW estimates with time in weeks (BG/NBD r = 0.243,
    alpha = 4.414, a = 0.793, b = 2.426; Gamma-Gamma p = 6.25, q = 3.74, gamma = 15.44), a
    13-week acquisition window and 78 weeks of observation, like the CDNOW cohort. Customer i
    uses its own random streams, so a seed gives the same log whatever the thread count.

    Parameters
    ----------
    n_customers : int
        Number of customers (ids 0 .. n_customers - 1).
    r, alpha, a, b : float
        BG/NBD heterogeneity parameters (rates per period).
    p, q, gamma : float
        Gamma-Gamma spend parameters.
    start : date-like, default "2024-01-01"
        Calendar date of time 0.
    freq : {"H", "D", "W"}, default "W"
        Length of one period; months and longer have no fixed length and are refused.
    acquisition_periods : float, default 13
        Births are uniform on ``[0, acquisition_periods]``; at most ``horizon``.
    horizon : float, default 78
        Observation length in periods.
    seed : int, default 0
        Seed of the random streams.
    max_transactions : int, default 100_000_000
        Refuse (ValueError) to produce a longer log.

    Returns
    -------
    log : pandas.DataFrame
        Columns ``customer_id`` (int64), ``date`` (datetime64[ns], floored to whole seconds) and
        ``amount`` (float64); ordered by customer, then date.
    truth : pandas.DataFrame
        Indexed by ``customer_id``: ``lambda``, ``p`` (dropout probability), ``nu``, ``birth``
        and ``death`` (in periods; death is the time of the last purchase, ``inf`` while alive)
        and ``alive`` (bool, alive at the horizon).

    Raises
    ------
    ValueError
        For non-positive parameters, an unsupported ``freq``, an acquisition window longer than
        the horizon, or a log longer than ``max_transactions``.
    """
    if freq not in _SIMULATION_PERIOD_SECONDS:
        raise ValueError(f"freq = {freq!r} must be 'H', 'D' or 'W' (periods of a fixed length)")
    if isinstance(n_customers, (bool, np.bool_)) or not isinstance(n_customers, (int, np.integer)):
        raise TypeError(f"n_customers = {n_customers!r} must be an int")
    if n_customers < 1:
        raise ValueError(f"n_customers = {n_customers} must be at least 1")
    origin = _timestamp(start, None, "start")
    if origin is None:
        raise ValueError("start is required")
    last = origin + float(horizon) * _SIMULATION_PERIOD_SECONDS[freq] * _NANOSECONDS
    if not last <= pd.Timestamp.max.value:
        raise ValueError(
            f"simulate_transactions: start = {start!r} plus horizon = {horizon} periods of "
            f"{freq!r} ends after {pd.Timestamp.max.date()}, the last date a datetime64[ns] "
            "column can hold (see docs/limits.md)"
        )
    options = _core.data.SimulationOptions(
        customers=int(n_customers), r=r, alpha=alpha, a=a, b=b, p=p, q=q, gamma=gamma,
        acquisition_periods=acquisition_periods, horizon=horizon, seed=int(seed),
        max_transactions=int(max_transactions),
    )
    result = _core.data.simulate_transactions(options)
    seconds = np.floor(result["time"] * _SIMULATION_PERIOD_SECONDS[freq]).astype(np.int64)
    dates = (origin + seconds * _NANOSECONDS).view("datetime64[ns]")
    # The columns are the arrays the library filled (copy=False: no second copy of the log).
    log = pd.DataFrame({"customer_id": result["customer"], "date": dates, "amount": result["amount"]},
                       copy=False)
    truth = pd.DataFrame(
        {
            "lambda": result["lambda"],
            "p": result["dropout"],
            "nu": result["nu"],
            "birth": result["birth"],
            "death": result["death"],
            "alive": result["alive"].astype(bool),
        },
        index=pd.RangeIndex(int(n_customers), name="customer_id"),
        copy=False,
    )
    return log, truth

