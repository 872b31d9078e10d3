"""The cluster report's calibration check: ``calibration_vs_holdout.csv`` and
``cumulative_transactions.csv``, the single-machine report's files byte for byte
(:func:`crmkit.dask.calibration_check`: per-partition counts added exactly, the refit and both
tables by the single-machine C++ code on the driver)."""

from __future__ import annotations

from typing import Any

#: The tables this step adds to the cluster report (written like the other small tables).
CALIBRATION_TABLES = ("calibration_vs_holdout", "cumulative_transactions")


def calibration_tables(log: Any, customer_id_col: Any, datetime_col: Any,
                       options: Any) -> tuple:
    """The calibration tables of a checked log whose partitions hold whole customers, with the
    report's options (``_core.pipeline.AnalysisOptions``: model, periods): (a dict of the
    tables present and ``calibration_period``, the notes' messages)."""
    from . import dask as cdask

    found = cdask._calibration_check(log, customer_id_col, datetime_col, options)
    notes = [message for _, message in found.pop("notes")]
    return found, notes
