"""lifetimes-compatible home of the data helpers.

``from lifetimes.utils import summary_data_from_transaction_data`` becomes
``from crmkit.utils import summary_data_from_transaction_data``: the same names, re-exported from
:mod:`crmkit.data` and :mod:`crmkit.clv`, so a lifetimes notebook changes only its imports.
"""

import numpy as np
import pandas as pd

from .clv import expected_cumulative_transactions
from ._warnings import ConvergenceError
from .data import calibration_and_holdout_data, summary_data_from_transaction_data

__all__ = [
    "summary_data_from_transaction_data",
    "calibration_and_holdout_data",
    "expected_cumulative_transactions",
    "calculate_alive_path",
    "ConvergenceError",
]


def calculate_alive_path(model, transactions: pd.DataFrame, datetime_col, t: int, freq: str = "D"):
    """One customer's P(alive) at the end of each period since the first purchase (lifetimes'
    ``calculate_alive_path``).

    At age T (periods 0, 1, …, max(t, last purchase period)) the customer's history is the
    number of later periods with a purchase (frequency) and the last of them (recency), and the
    path is ``model.conditional_probability_alive(frequency, recency, T)``.

    Parameters
    ----------
    model : a fitted transaction model
    transactions : pandas.DataFrame
        That customer's transactions.
    datetime_col : column label
    t : int
        Periods since the first purchase.
    freq : str, default "D"
        The period (a pandas frequency), the model's time unit.

    Returns
    -------
    pandas.Series
        P(alive) indexed by age 0, 1, ….
    """
    dates = pd.to_datetime(transactions[datetime_col])
    if dates.empty or dates.isna().any():
        raise ValueError(f"calculate_alive_path: column {datetime_col!r} needs at least one date "
                         "and no missing ones")
    per_period = pd.Series(1, index=pd.DatetimeIndex(dates)).resample(freq).sum().to_numpy()
    bought = np.zeros(max(int(t) + 1, len(per_period)), dtype=bool)
    bought[:len(per_period)] = per_period > 0
    age = np.arange(len(bought), dtype=float)
    frequency = np.cumsum(bought) - 1.0
    recency = np.maximum.accumulate(np.where(bought, age, 0.0))
    return pd.Series(np.asarray(model.conditional_probability_alive(frequency, recency, age),
                                dtype=float))
