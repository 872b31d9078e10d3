"""The cluster report's "how sure" and "how well it predicted" sections (``crmkit report
--scheduler``): the single-machine code (:func:`crmkit._report_trust.trust_sections`, through
:func:`crmkit.report._trust_or_note`) on the rows it reads of the customer table and on the
cluster's own fits (covariances included).

The customers are in the report's customer order (:mod:`crmkit._report_cluster_kmeans`), so the
single machine's systematic samples are the same global rows
(:func:`crmkit._report_trust.sample_rows`: every customer up to ``SAMPLE``, else the intervals'
``SAMPLE`` and the comparison's ``COMPARISON_SAMPLE``); each partition returns its own of them,
the columns the sections read only. What they read of the whole table
(:class:`crmkit._report_trust.WholeBase`: its size and the exact sums of expected purchases and
CLV) is the page's headline, reduced on the workers
(:func:`crmkit._report_cluster_html.page_inputs`).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

#: The customer columns the sections read (crmkit._report_trust._columns).
TRUST_COLUMNS = ["frequency", "recency", "T", "monetary_value"]


def _rows(frame: pd.DataFrame, rows: Any) -> pd.DataFrame:
    return frame.iloc[rows][TRUST_COLUMNS]


def sampled_customers(customers: Any, client: Any = None) -> pd.DataFrame:
    """The rows of `customers` (Dask, in customer order) at ``sample_rows`` of its size, their
    TRUST_COLUMNS, gathered in customer order."""
    from distributed import default_client

    from ._report_cluster_kmeans import gather_rows
    from ._report_trust import sample_rows

    client = default_client() if client is None else client
    parts = client.compute(customers.to_delayed())
    sizes = client.gather(client.map(len, parts, pure=False))
    return pd.concat(gather_rows(client, parts, sizes, sample_rows(int(sum(sizes))), _rows))


def add_cluster_trust(page: Any, tables: dict, inputs: dict, calibration_period: Any,
                      client: Any = None) -> bool:
    """Sets ``page.trust`` (as the single-machine report's) from the cluster tables (their
    ``customers`` in customer order, ``fitters``, ``cumulative_transactions``), the page's
    `inputs` and the holdout's `calibration_period` (None: none); a failure becomes a note.
    Whether they were computed."""
    from ._report_trust import WholeBase
    from .report import _trust_or_note

    customers = tables["customers"]
    headline = inputs["headline"]
    whole = WholeBase(int(headline["customers"]), headline["expected_purchases"],
                      headline["expected_value"], "clv_lower" in customers.columns)
    small = {"customers": sampled_customers(customers, client)}
    if "cumulative_transactions" in tables:
        small["cumulative_transactions"] = tables["cumulative_transactions"]
    period = math.nan if calibration_period is None else float(calibration_period)
    return _trust_or_note(page, small, period, page.transaction_model,
                          lambda: tables["fitters"], whole)
