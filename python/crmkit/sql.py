"""Transaction logs from SQL databases (PostgreSQL through SQLAlchemy + psycopg2), and customer
tables back into them.

- :func:`read_transactions_sql`: a table or a query as one pandas DataFrame, for the
  single-machine functions;
- :func:`read_transactions_dask`: a table or a query as a ``dask.dataframe`` partitioned by an
  indexed column (``dask.dataframe.read_sql_table`` / ``read_sql_query`` with divisions), for
  :mod:`crmkit.dask`;
- :func:`write_customers`: a pandas or Dask customer table (scores, segments, stages, CLV) into a
  table; a Dask frame is written partition by partition from the workers.

Input is checked as the CSV reader checks it: a missing column, a date column that is not a date
or timestamp, an amount that is not a number, a NULL id, date or amount raise ValueError naming
the column (and the row: its position in the result, or the partition and row for Dask).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd

__all__ = ["read_transactions_sql", "read_transactions_dask", "write_customers"]


def _quiet_sqlalchemy() -> None:
    """pandas 1.5 calls SQLAlchemy 1.4 APIs that 2.0 removes; SQLAlchemy then warns once per
    process that such calls were seen (its "uber warning"), about pandas' code, not the
    caller's. Debian 12 pins both versions, so the message is silenced, as its text suggests."""
    from sqlalchemy.util import deprecations

    deprecations.SILENCE_UBER_WARNING = True


def _engine(con: Any):
    import sqlalchemy as sa

    _quiet_sqlalchemy()
    return sa.create_engine(con) if isinstance(con, str) else con


def _is_query(source: str) -> bool:
    return source.lstrip().split(None, 1)[0].lower() in ("select", "with")


def _check_schema(frame: pd.DataFrame, source: str, customer_id_col: Any, datetime_col: Any,
                  monetary_value_col: Any) -> None:
    present = list(frame.columns)
    for column in (customer_id_col, datetime_col, monetary_value_col):
        if column is not None and column not in present:
            raise ValueError(f"{source}: no column {column!r} (columns: {present})")
    dates = frame[datetime_col]
    if not pd.api.types.is_datetime64_any_dtype(dates.dtype) and len(dates.dropna()) > 0:
        raise ValueError(f"{source}: column {datetime_col!r} has type {dates.dtype} (e.g. "
                         f"{dates.dropna().iloc[0]!r}), not a date or timestamp")
    if monetary_value_col is not None and not pd.api.types.is_numeric_dtype(frame[monetary_value_col].dtype):
        raise ValueError(f"{source}: column {monetary_value_col!r} has type "
                         f"{frame[monetary_value_col].dtype}, not a number")


def _check_values(frame: pd.DataFrame, source: str, customer_id_col: Any, datetime_col: Any,
                  monetary_value_col: Any) -> None:
    for column in (customer_id_col, datetime_col, monetary_value_col):
        if column is None:
            continue
        bad = frame[column].isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{source}: row {row}: column {column!r} is NULL "
                             f"({int(bad.sum())} NULL rows)")


def read_transactions_sql(source: str, con: Any, customer_id_col: str = "customer_id",
                          datetime_col: str = "date", monetary_value_col: Optional[str] = None,
                          params: Any = None) -> pd.DataFrame:
    """A transaction log from a table (name) or a query (text starting with SELECT or WITH), as
    one pandas DataFrame with the id, the date (datetime64[ns]) and the amount (float64).

    ``con``: an SQLAlchemy URL (``"postgresql+psycopg2://user@host:port/db"``) or engine.
    Raises ValueError naming a missing column, a wrong type or a NULL (with its row).
    """
    engine = _engine(con)
    columns = [c for c in (customer_id_col, datetime_col, monetary_value_col) if c is not None]
    if _is_query(source):
        frame = pd.read_sql_query(source, engine, params=params)
        name = "query"
    else:
        import sqlalchemy as sa

        inspector = sa.inspect(engine)
        present = [column["name"] for column in inspector.get_columns(source)]
        for column in columns:
            if column not in present:
                raise ValueError(f"table {source!r}: no column {column!r} (columns: {present})")
        frame = pd.read_sql_table(source, engine, columns=columns)
        name = f"table {source!r}"
    _check_schema(frame, name, customer_id_col, datetime_col, monetary_value_col)
    _check_values(frame, name, customer_id_col, datetime_col, monetary_value_col)
    out = frame[columns].copy()
    out[datetime_col] = pd.to_datetime(out[datetime_col]).dt.tz_localize(None) \
        if getattr(out[datetime_col].dtype, "tz", None) is not None else out[datetime_col]
    if monetary_value_col is not None:
        out[monetary_value_col] = out[monetary_value_col].astype(np.float64)
    return out


def read_transactions_dask(source: str, uri: str, index_col: str,
                           customer_id_col: str = "customer_id", datetime_col: str = "date",
                           monetary_value_col: Optional[str] = None, *,
                           npartitions: Optional[int] = None,
                           divisions: Optional[Sequence[Any]] = None):
    """A transaction log from a table or a query as a ``dask.dataframe``, partitioned by
    ``index_col`` (an indexed column: each partition is one range query on it).

    ``divisions`` (ascending bounds) fix the partitions; otherwise ``npartitions`` equal ranges
    between the column's minimum and maximum (Dask's default). Partitioning by the customer id
    keeps each customer in one partition (then pass ``partitioned_by_customer=True`` to
    :func:`crmkit.dask.summarize`, which checks it). The schema is checked at once; NULL values
    when computed, naming the partition and row (:func:`crmkit.dask.check_transactions`).
    """
    import dask.dataframe as dd
    import sqlalchemy as sa

    from .dask import check_transactions

    columns = [c for c in (customer_id_col, datetime_col, monetary_value_col) if c is not None]
    engine = _engine(uri)
    if _is_query(source):
        selectable = sa.select(sa.text("*")).select_from(sa.text(f"({source}) AS crmkit_query"))
        probe = pd.read_sql_query(f"SELECT * FROM ({source}) AS crmkit_query LIMIT 0", engine)
        present = list(probe.columns)
        name = "query"
    else:
        present = [column["name"] for column in sa.inspect(engine).get_columns(source)]
        selectable = None
        name = f"table {source!r}"
    for column in columns + [index_col]:
        if column not in present:
            raise ValueError(f"{name}: no column {column!r} (columns: {present})")
    wanted = list(dict.fromkeys(columns + [index_col]))
    if selectable is None:
        table = sa.Table(source, sa.MetaData(), autoload_with=engine)
        query = sa.select(*[table.c[c] for c in wanted])
    else:
        sub = sa.text(source).columns(*[sa.column(c) for c in present]).subquery("crmkit_query")
        query = sa.select(*[sub.c[c] for c in wanted])
    kwargs = {"divisions": [b.item() if isinstance(b, np.generic) else b for b in divisions]} \
        if divisions is not None else {"npartitions": npartitions or 1}
    index = index_col if index_col not in columns else f"{index_col}"
    frame = dd.read_sql_query(query, uri, index_col=index, **kwargs)
    if index_col in columns:
        frame = frame.assign(**{index_col: frame.index})
    frame = frame[columns]
    return check_transactions(frame, customer_id_col, datetime_col, monetary_value_col)


def write_customers(customers: Any, table: str, con: Any, if_exists: str = "replace",
                    index_label: Optional[str] = None) -> None:
    """Writes a customer table (index: customer id) into ``table``: a pandas frame in one call, a
    Dask frame partition by partition from the workers (``con`` then an URL). Categorical
    columns are written as text."""
    frame_type = type(customers).__module__
    if frame_type.startswith("dask"):
        import dask.dataframe as dd

        if not isinstance(con, str):
            raise ValueError("con: a Dask frame is written from the workers; give an URL string")
        text = customers.map_partitions(_plain_columns)
        if if_exists == "replace":
            _plain_columns(customers._meta).to_sql(table, _engine(con), if_exists="replace",
                                                   index=True, index_label=index_label)
            if_exists = "append"
        dd.to_sql(text, table, con, if_exists=if_exists, index=True, index_label=index_label,
                  parallel=True)
        return
    _plain_columns(customers).to_sql(table, _engine(con), if_exists=if_exists, index=True,
                                     index_label=index_label)


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(str)
    return out
