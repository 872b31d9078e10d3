"""Input conversion for crmkit.survey: answers, weights, grouping codes, dates and seeds."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

NS_PER_DAY = 86_400 * 10**9
PERIODS = ("D", "W", "M", "Q", "Y")


def choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """Return `value` if it is one of `allowed`, else raise ValueError naming `name`."""
    if value not in allowed:
        raise ValueError(f"{name} = {value!r} is not one of {', '.join(repr(a) for a in allowed)}")
    return value


def scores_array(scores: Any, name: str = "scores") -> np.ndarray:
    """Answers as int64 (integer input, no copy when already int64) or float64 (NaN = missing)."""
    if isinstance(scores, (pd.Series, pd.Index)):
        dtype = scores.dtype
        if pd.api.types.is_bool_dtype(dtype) or (
            pd.api.types.is_integer_dtype(dtype) and not scores.hasnans
        ):
            return scores.to_numpy(dtype=np.int64)
        try:
            return scores.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric, got dtype {dtype}") from exc
    array = np.asarray(scores)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype.kind in "iub":
        return array.astype(np.int64, copy=False)
    try:
        return array.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}") from exc


def weights_array(weights: Any, size: int, name: str = "weights") -> Optional[np.ndarray]:
    """Survey weights as float64 (NaN = missing; validated in C++), or None."""
    if weights is None:
        return None
    if isinstance(weights, (pd.Series, pd.Index)):
        array = weights.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        array = np.asarray(weights, dtype=np.float64)
    if array.shape != (size,):
        raise ValueError(f"{name} has shape {array.shape}; expected ({size},) like the answers")
    return array


def factorize(column: pd.Series) -> Tuple[np.ndarray, pd.Index]:
    """Signed integer codes (any width) and the levels of a grouping column.

    Categorical columns keep all their categories (unobserved ones become empty groups); other
    columns get their sorted distinct values. Missing keys form a group of their own (last), so
    no answer is dropped.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()  # int8 for up to 127 categories: passed as is
        levels = pd.Index(column.cat.categories, name=column.name)
        if (codes < 0).any():
            codes = np.where(codes < 0, len(levels), codes).astype(np.int64)
            levels = levels.insert(len(levels), np.nan)
        return codes, levels
    codes, uniques = pd.factorize(column, sort=True, use_na_sentinel=False)
    return codes, pd.Index(uniques, name=column.name)


def timestamps_array(dates: pd.Series, name: str) -> np.ndarray:
    """Dates as int64 nanoseconds since 1970 (NaT = INT64_MIN); time zones keep wall time."""
    if not pd.api.types.is_datetime64_any_dtype(dates.dtype):
        try:
            dates = pd.to_datetime(dates)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must hold dates: {exc}") from exc
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.to_numpy(dtype="datetime64[ns]").view(np.int64)


def period_labels(first_day: int, periods: int, period: str) -> pd.PeriodIndex:
    """The pandas periods numbered from the one starting on day `first_day` since 1970."""
    start = (pd.Timestamp(0) + pd.Timedelta(days=int(first_day))).to_period(period)
    return pd.period_range(start=start, periods=periods, freq=period, name="period")


def seed_from(random_state: Union[None, int, np.random.Generator]) -> int:
    """A 64-bit bootstrap seed: the int itself, one drawn from a Generator, or fresh entropy."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state = {random_state} must be >= 0")
        return int(random_state)
    raise ValueError(
        f"random_state must be None, a non-negative int or a numpy Generator, got {random_state!r}"
    )
