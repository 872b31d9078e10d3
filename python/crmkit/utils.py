"""lifetimes-compatible home of the data helpers.

``from lifetimes.utils import summary_data_from_transaction_data`` becomes
``from crmkit.utils import summary_data_from_transaction_data``: the same names, re-exported from
:mod:`crmkit.data` and :mod:`crmkit.clv`, so a lifetimes notebook changes only its imports.
"""

from .clv import expected_cumulative_transactions
from .data import calibration_and_holdout_data, summary_data_from_transaction_data

__all__ = [
    "summary_data_from_transaction_data",
    "calibration_and_holdout_data",
    "expected_cumulative_transactions",
]
