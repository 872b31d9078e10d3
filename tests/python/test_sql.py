"""crmkit.sql against a real PostgreSQL server the tests start (postgres_server.py) and stop:
read a log table (one frame, and partitioned for Dask), summarise and score it on a LocalCluster,
write the customer table back, read it again and compare; bad schemas give named errors."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sqlalchemy", reason="python3-sqlalchemy is not installed")
pytest.importorskip("psycopg2", reason="python3-psycopg2 is not installed")
pytest.importorskip("distributed", reason="python3-distributed is not installed")

import sqlalchemy as sa  # noqa: E402

import crmkit  # noqa: E402
import crmkit.dask as cdask  # noqa: E402
import crmkit.sql as csql  # noqa: E402
import postgres_server  # noqa: E402

ID, DATE, AMOUNT = "customer_id", "date", "amount"


@pytest.fixture(scope="module")
def server():
    bin_dir = postgres_server.binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found under "
                    "/usr/lib/postgresql/*/bin: install the Debian package postgresql")
    server = postgres_server.Server(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def log():
    transactions, _ = crmkit.simulate_transactions(n_customers=1500, seed=11)
    return transactions.sort_values(DATE, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def engine(server, log):
    engine = sa.create_engine(server.url)
    csql.write_customers(log.rename_axis("row_id"), "orders", engine)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE INDEX orders_customer ON orders (customer_id)"))
        connection.execute(sa.text("CREATE TABLE bad_types AS SELECT customer_id, "
                                   "CAST(date AS text) AS date, amount FROM orders"))
        connection.execute(sa.text("CREATE TABLE null_dates AS SELECT * FROM orders"))
        connection.execute(sa.text("UPDATE null_dates SET date = NULL WHERE row_id = 77"))
    yield engine
    engine.dispose()


def test_a_table_reads_as_the_log_that_was_written(engine, log):
    found = csql.read_transactions_sql("orders", engine, ID, DATE, AMOUNT)
    pd.testing.assert_frame_equal(found, log[[ID, DATE, AMOUNT]], check_exact=True)


def test_a_query_reads_its_rows(engine, log):
    found = csql.read_transactions_sql(
        "SELECT customer_id, date, amount FROM orders WHERE amount > 20 ORDER BY row_id", engine,
        ID, DATE, AMOUNT)
    expected = log[log[AMOUNT] > 20][[ID, DATE, AMOUNT]].reset_index(drop=True)
    pd.testing.assert_frame_equal(found, expected, check_exact=True)


def test_bad_schemas_are_named(engine, server):
    with pytest.raises(ValueError, match="table 'orders': no column 'spend'"):
        csql.read_transactions_sql("orders", engine, ID, DATE, "spend")
    with pytest.raises(ValueError, match="column 'date' has type object .* not a date"):
        csql.read_transactions_sql("bad_types", engine, ID, DATE, AMOUNT)
    with pytest.raises(ValueError, match=r"row \d+: column 'date' is NULL \(1 NULL rows\)"):
        csql.read_transactions_sql("SELECT * FROM null_dates ORDER BY row_id", engine, ID, DATE, AMOUNT)
    with pytest.raises(ValueError, match="no column 'spend'"):
        csql.read_transactions_dask("orders", server.url, "row_id", ID, DATE, "spend")
    with pytest.raises(ValueError, match="column 'date' is object, not a date"):
        csql.read_transactions_dask("bad_types", server.url, "customer_id", ID, DATE, AMOUNT,
                                    npartitions=2)


def test_a_null_date_in_a_partition_names_the_partition_and_row(client, server):
    frame = csql.read_transactions_dask("null_dates", server.url, "row_id", ID, DATE, AMOUNT,
                                        npartitions=3)
    with pytest.raises(ValueError, match=r"partition \d+, row \d+ \(index 77\): column 'date' is NULL"):
        cdask.summarize(frame, ID, DATE, AMOUNT, freq="W").compute()


def test_partitioned_read_summarise_score_write_back_and_compare(client, server, engine, log):
    bounds = list(np.linspace(log[ID].min(), log[ID].max() + 1, 5).astype(int))
    frame = csql.read_transactions_dask("orders", server.url, ID, ID, DATE, AMOUNT,
                                        divisions=bounds)
    assert frame.npartitions == 4
    # Partitioned by the customer id: no shuffle needed, and that is checked.
    summary = cdask.summarize(frame, ID, DATE, AMOUNT, freq="W", partitioned_by_customer=True)
    expected = crmkit.summary_data_from_transaction_data(log, ID, DATE, AMOUNT, freq="W")
    pd.testing.assert_frame_equal(summary.compute().sort_index(), expected.sort_index(),
                                  check_exact=True)

    bgf = cdask.fit_transaction_model(summary)
    ggf = cdask.fit_gamma_gamma(summary)
    single = crmkit.BetaGeoFitter().fit(expected["frequency"], expected["recency"], expected["T"])
    assert bgf.params_.to_dict() == single.params_.to_dict()
    customers = summary.join(cdask.score_customers(summary, bgf, ggf))
    csql.write_customers(customers, "customers", server.url, index_label=ID)

    back = pd.read_sql_table("customers", engine, index_col=ID).sort_index()
    local = customers.compute().sort_index()
    assert len(back) == len(expected)
    pd.testing.assert_frame_equal(back, local, check_exact=True, check_names=False)


def test_a_pandas_customer_table_round_trips(engine, log):
    summary = crmkit.summary_data_from_transaction_data(log, ID, DATE, AMOUNT, freq="W")
    scored = crmkit.rfm_segments(crmkit.summary_data_from_transaction_data(
        log, ID, DATE, AMOUNT, freq="W", include_first_transaction=True))
    table = summary.join(scored[["rfm_segment"]]) if "rfm_segment" in scored else summary
    csql.write_customers(table, "customers_single", engine, index_label=ID)
    back = pd.read_sql_table("customers_single", engine, index_col=ID).sort_index()
    expected = csql._plain_columns(table).sort_index()
    pd.testing.assert_frame_equal(back, expected, check_exact=True, check_names=False)
