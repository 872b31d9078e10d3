"""``crmkit report`` on a Dask cluster (``--scheduler ADDRESS`` or ``--scheduler local``): the
customer table and the model parameters of a partitioned log (a folder or glob of CSV files, or
a database table), computed by :mod:`crmkit.dask` and written partition by partition.

Tables (into ``--out``): ``customers/part-*.csv`` (one file per partition: the summary in weeks,
P(alive), expected purchases in 13 weeks, expected spend, 12-month CLV at 1% a month, R, F and M
scores on the exact global scales), ``model_parameters.csv`` (parameter, model, estimate,
standard_error; the purchase model of ``--model``, BG/NBD by default, and Gamma-Gamma),
``rfm_scales.csv`` (dimension, bins, thresholds) and,
for CSV input, ``skipped_rows.csv``. The single-machine report's other sections (k-means,
survey, lifecycle, HTML) are not computed on a cluster yet.
"""

from __future__ import annotations

import os
from typing import Any, Optional, TextIO

import pandas as pd

CUSTOMER_FOLDER = "customers"
#: Enough digits that every double reads back as itself.
FLOAT_FORMAT = "%.17g"


def _client(scheduler: str):
    from . import dask as cdask

    if scheduler == "local":
        return cdask.local_client(), True
    from distributed import Client

    return Client(scheduler), False


def _parameters(bgf: Any, ggf: Any, transaction_model: str = "bg_nbd") -> pd.DataFrame:
    rows = []
    for model, fitter in ((transaction_model, bgf), ("gamma_gamma", ggf)):
        summary = fitter.summary
        for name in summary.index:
            rows.append({"parameter": name, "model": model, "estimate": summary.loc[name, "coef"],
                         "standard_error": summary.loc[name, "se(coef)"]})
    return pd.DataFrame(rows)


def _transaction_fitter(model: str) -> Any:
    """An unfitted fitter of the report's purchase model option (bg_nbd, mbg_nbd, pareto_nbd)."""
    from .clv import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
    from .report import _check_model

    _check_model(model)
    return {"bg_nbd": BetaGeoFitter, "mbg_nbd": ModifiedBetaGeoFitter,
            "pareto_nbd": ParetoNBDFitter}[model]()


def cluster_tables(log: Any, customer_id_col: str, datetime_col: str, monetary_value_col: str,
                   *, partitioned_by_customer: bool = False, model: str = "bg_nbd") -> dict:
    """The report's cluster tables as lazy or small frames: ``customers`` (Dask),
    ``model_parameters`` and ``rfm_scales`` (pandas); `model` is the purchase model."""
    from . import dask as cdask

    fitter = _transaction_fitter(model)

    summary = cdask.summarize(log, customer_id_col, datetime_col, monetary_value_col, freq="W",
                              partitioned_by_customer=partitioned_by_customer).persist()
    rfm_view = cdask.summarize(log, customer_id_col, datetime_col, monetary_value_col, freq="W",
                               include_first_transaction=True,
                               partitioned_by_customer=partitioned_by_customer)
    bgf = cdask.fit_transaction_model(summary, fitter)
    ggf = cdask.fit_gamma_gamma(summary)
    scales = cdask.rfm_scales(rfm_view)
    scores = cdask.score_customers(summary, bgf, ggf).rename(
        columns={"expected_purchases": "expected_purchases_13w"})
    rfm = cdask.rfm_scores(rfm_view, scales)[["r_score", "f_score", "m_score"]]
    customers = summary.join(scores).join(rfm)
    scale_rows = pd.DataFrame([{"dimension": name, "bins": scale.bins,
                                "thresholds": " ".join(repr(float(t)) for t in scale.thresholds)}
                               for name, scale in scales.items()])
    return {"customers": customers, "model_parameters": _parameters(bgf, ggf, model),
            "rfm_scales": scale_rows}


def run_cluster_report(arguments: Any, out: TextIO, progress: Optional[TextIO]) -> None:
    """``crmkit report --scheduler ...``: reads the partitioned input named by the arguments,
    writes the cluster tables into ``arguments.out``."""
    from . import dask as cdask
    from . import sql as csql
    from ._report_input import ReportInputError

    customer = arguments.customer_col or "customer_id"
    date = arguments.date_col or "date"
    amount = arguments.amount_col or "amount"
    client, owned = _client(arguments.scheduler or "local")
    try:
        skipped = None
        if arguments.sql_url:
            if not arguments.table:
                raise ReportInputError("--sql-url needs --table (a table name or a SELECT query)")
            log = csql.read_transactions_dask(arguments.table, arguments.sql_url, customer,
                                              customer, date, amount,
                                              npartitions=arguments.partitions)
            by_customer = True
        elif arguments.transactions:
            log, skipped = cdask.read_transaction_files(
                arguments.transactions, customer, date, amount, sep=arguments.sep,
                date_format=arguments.date_format, on_bad_row=arguments.on_bad_row)
            by_customer = False
        else:
            raise ReportInputError("--scheduler needs a partitioned input: a folder or glob of "
                                   "CSV files, or --sql-url with --table")
        if progress is not None:
            print(f"cluster report on {client.scheduler.address}: {log.npartitions} partitions",
                  file=progress, flush=True)
        tables = cluster_tables(log, customer, date, amount, partitioned_by_customer=by_customer,
                                model=getattr(arguments, "model", "bg_nbd"))
        os.makedirs(arguments.out, exist_ok=True)
        folder = os.path.join(arguments.out, CUSTOMER_FOLDER)
        os.makedirs(folder, exist_ok=True)
        tables["customers"].to_csv(os.path.join(folder, "part-*.csv"), index_label=customer,
                                   float_format=FLOAT_FORMAT)
        for name in ("model_parameters", "rfm_scales"):
            tables[name].to_csv(os.path.join(arguments.out, f"{name}.csv"), index=False,
                                float_format=FLOAT_FORMAT)
        if skipped is not None:
            bad = skipped.compute()
            bad.to_csv(os.path.join(arguments.out, "skipped_rows.csv"), index=False)
            if len(bad):
                print(f"note: {len(bad)} bad rows skipped (skipped_rows.csv)", file=out)
    except ValueError as error:
        raise ReportInputError(str(error)) from None
    finally:
        client.close()
        if owned:
            client.cluster.close()
    print(f"cluster report written to {arguments.out} (customers/ in {log.npartitions} "
          "partitions, model_parameters.csv, rfm_scales.csv)", file=out)


def add_cluster_arguments(report: Any) -> None:
    """The report's cluster options (argparse subparser ``report``)."""
    group = report.add_argument_group("on a Dask cluster (docs/cluster.md)")
    group.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:8786), or "
                                           "'local' to start a 2-worker LocalCluster; the "
                                           "transactions argument is then a folder or glob of "
                                           "CSV files")
    group.add_argument("--sql-url", help="read the log from a database (SQLAlchemy URL, e.g. "
                                         "postgresql+psycopg2://user@host/db), with --table")
    group.add_argument("--table", help="table name or SELECT query of the log (with --sql-url)")
    group.add_argument("--partitions", type=int, default=8,
                       help="partitions of a database read, by customer id (default 8)")
    group.add_argument("--on-bad-row", choices=("error", "skip"), default="error",
                       help="bad CSV rows: stop (default) or skip and list them")
