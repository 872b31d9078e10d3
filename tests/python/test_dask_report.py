"""``crmkit report`` on a 2-worker LocalCluster against the single-machine report of the same log:
every table the cluster writes is read back and compared with the single-machine CSV file of
the same name, for 1, 3 and 7 partitions."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

import crmkit  # noqa: E402
from crmkit._report_cluster import cluster_tables, write_cluster_tables  # noqa: E402
from crmkit.report import build_report  # noqa: E402

ID, DATE, AMOUNT = "customer_id", "date", "amount"
# Gamma-Gamma: the cluster's fit (crmkit.dask.fit_gamma_gamma, exact row sums) is the
# single-machine report's fit bit for bit, so expected spend, CLV and its interval are the same
# cells; sums of them over customers agree to SUM_RTOL.
# Sums over customers: the single-machine report adds them in customer order, the cluster adds
# per-partition sums; the relative rounding error of n additions is below n * 2^-53 (3e-13 here).
SUM_RTOL = 1e-12
EXACT = ["frequency", "recency", "T", "monetary_value", "purchases", "weeks_since_last",
         "mean_spend", "revenue", "p_alive", "expected_purchases_13w", "r_score", "f_score",
         "m_score", "rfm_segment", "value_tier", "value_level", "stage", "segment"]
# The CLV and what depends on Gamma-Gamma's estimates.
SPEND = ["expected_spend", "clv", "clv_lower", "clv_upper"]


@pytest.fixture(scope="module")
def log():
    transactions, _ = crmkit.simulate_transactions(n_customers=3000, seed=7)
    # Date order spreads every repeat customer over several partitions.
    return transactions.sort_values(DATE, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def single(log, tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    build_report(log, str(out), progress=None)
    return out


@pytest.fixture(scope="module", params=[1, 3, 7])
def cluster(request, client, log, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"cluster{request.param}")
    frame = dd.from_pandas(log, npartitions=request.param, sort=False)
    tables = cluster_tables(frame, ID, DATE, AMOUNT)
    write_cluster_tables(tables, str(out))
    return out


def write_log_parts(log, folder, parts):
    """The log as `parts` CSV files ``part-<i>.csv`` in `folder` (made here), rows in order."""
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(log, parts)):
        chunk.assign(date=chunk[DATE].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(
            folder / f"part-{i}.csv", index=False)


def _customers(folder, **options):
    parts = sorted((folder / "customers").glob("part-*.csv"))
    return pd.concat([pd.read_csv(path, index_col=ID, **options) for path in parts]).sort_index()


def test_customer_table_has_the_single_machine_columns_in_order(single, cluster):
    expected = pd.read_csv(single / "customers.csv", index_col=ID, nrows=1)
    found = pd.read_csv(next((cluster / "customers").glob("part-*.csv")), index_col=ID, nrows=1)
    assert list(found.columns) == list(expected.columns)


def test_customer_table_cells_are_the_single_machine_cells(single, cluster):
    # As text: the same values written by the same writer give the same bytes.
    expected = pd.read_csv(single / "customers.csv", index_col=ID, dtype=str)
    expected.index = expected.index.astype(np.int64)
    found = _customers(cluster, dtype=str)
    found.index = found.index.astype(np.int64)
    found = found.sort_index()
    assert found.index.equals(expected.index)
    pd.testing.assert_frame_equal(found[EXACT], expected[EXACT])
    pd.testing.assert_frame_equal(found[SPEND], expected[SPEND])
    assert found[SPEND].notna().all().all()


def test_value_tiers_equal_the_single_machine_table(single, cluster):
    expected = pd.read_csv(single / "value_tiers.csv", index_col="tier",
                           float_precision="round_trip")
    found = pd.read_csv(cluster / "value_tiers.csv", index_col="tier",
                        float_precision="round_trip")
    pd.testing.assert_frame_equal(found[["split", "customers", "customer_share"]],
                                  expected[["split", "customers", "customer_share"]])
    pd.testing.assert_frame_equal(found[["clv_share", "lowest_clv"]],
                                  expected[["clv_share", "lowest_clv"]], check_exact=True)
    pd.testing.assert_frame_equal(found[["total_clv", "revenue", "revenue_share", "p_alive"]],
                                  expected[["total_clv", "revenue", "revenue_share", "p_alive"]],
                                  rtol=SUM_RTOL)


def test_stage_counts_equal_the_single_machine_table(single, cluster):
    expected = pd.read_csv(single / "lifecycle_stages.csv", index_col="stage",
                           float_precision="round_trip")
    found = pd.read_csv(cluster / "lifecycle_stages.csv", index_col="stage",
                        float_precision="round_trip")
    pd.testing.assert_frame_equal(found[["customers", "share"]], expected[["customers", "share"]])
    pd.testing.assert_frame_equal(found[["p_alive", "revenue"]], expected[["p_alive", "revenue"]],
                                  rtol=SUM_RTOL)
    pd.testing.assert_frame_equal(found[["clv", "total_clv"]], expected[["clv", "total_clv"]],
                                  rtol=SUM_RTOL)
    assert expected["customers"].sum() == 3000 and (expected["customers"] > 0).sum() >= 4


@pytest.mark.parametrize("name", ["stage_migration", "cohort_retention"])
def test_migration_and_cohort_files_are_the_single_machine_files(single, cluster, name):
    # Integer counts and rates of integer counts: the same bytes.
    expected = (single / f"{name}.csv").read_text()
    assert (cluster / f"{name}.csv").read_text() == expected
    assert len(expected.splitlines()) >= 4  # a header and at least three rows


def test_model_parameters_equal_the_single_machine_table(single, cluster):
    expected = pd.read_csv(single / "model_parameters.csv", index_col="parameter",
                           float_precision="round_trip")
    found = pd.read_csv(cluster / "model_parameters.csv", index_col="parameter",
                        float_precision="round_trip")
    assert list(found.columns) == list(expected.columns)
    assert list(found["model"]) == list(expected["model"])
    # BG/NBD: the same merged pattern histogram, fitted by the same code; Gamma-Gamma: the same
    # fit with exact row sums.
    pd.testing.assert_frame_equal(found, expected, check_exact=True)


def test_a_log_partitioned_by_customer_gives_the_same_tables(client, log, single, tmp_path):
    # As crmkit.sql.read_transactions_dask reads a table by customer id: indexed by the id (the
    # index named as the column), no shuffle.
    by_customer = dd.from_pandas(log.set_index(ID, drop=False).sort_index(), npartitions=4)
    tables = cluster_tables(by_customer, ID, DATE, AMOUNT, partitioned_by_customer=True)
    write_cluster_tables(tables, str(tmp_path))
    expected = pd.read_csv(single / "customers.csv", index_col=ID, dtype=str)
    found = _customers(tmp_path, dtype=str)
    assert list(found.index) == list(expected.index)
    pd.testing.assert_frame_equal(found[EXACT], expected[EXACT])
    for name in ("stage_migration", "cohort_retention"):
        assert (tmp_path / f"{name}.csv").read_text() == (single / f"{name}.csv").read_text()


def test_early_warning_and_top_customers_equal_the_single_machine_tables(single, cluster):
    for name in ("early_warning", "top_customers"):
        expected = pd.read_csv(single / f"{name}.csv", index_col=ID, dtype=str)
        found = pd.read_csv(cluster / f"{name}.csv", index_col=ID, dtype=str)
        # Same customers in the same order (value at risk, CLV descending).
        assert list(found.index) == list(expected.index) and len(found) >= 20
        assert list(found.columns) == list(expected.columns)
        pd.testing.assert_frame_equal(found, expected)


def test_repeat_purchases_equal_the_single_machine_table(single, cluster):
    expected = pd.read_csv(single / "repeat_purchases.csv", index_col="frequency",
                           float_precision="round_trip")
    found = pd.read_csv(cluster / "repeat_purchases.csv", index_col="frequency",
                        float_precision="round_trip")
    pd.testing.assert_series_equal(found["actual"], expected["actual"], check_exact=True)
    pd.testing.assert_series_equal(found["expected"], expected["expected"], rtol=SUM_RTOL)


def test_csv_language_on_a_cluster(client, log, tmp_path):
    from crmkit.__main__ import main

    folder = tmp_path / "log"
    write_log_parts(log, folder, 3)
    out = tmp_path / "zh"
    assert main(["report", str(folder), "--scheduler", client.scheduler.address, "--out",
                 str(out), "--csv-lang", "zh", "--quiet"]) == 0
    build_report(log, str(tmp_path / "single_zh"), progress=None, csv_lang="zh")
    for name in ("stage_migration", "cohort_retention", "lifecycle_stages"):
        assert (out / f"{name}.csv").read_text().splitlines()[:2] == \
            (tmp_path / "single_zh" / f"{name}.csv").read_text().splitlines()[:2]
    expected = pd.read_csv(tmp_path / "single_zh" / "customers.csv", index_col=0, dtype=str)
    found = pd.concat(
        [pd.read_csv(path, index_col=0, dtype=str)
         for path in sorted((out / "customers").glob("part-*.csv"))]).sort_index()
    assert expected.columns[-1] != "stage"  # translated
    shared = [c for c in found.columns if c in expected.columns]
    assert len(shared) == len(found.columns) == len(expected.columns)
    stage = expected.columns[-1]
    pd.testing.assert_series_equal(found[stage], expected[stage])


def test_text_customer_ids_give_the_single_machine_files(client, log, tmp_path):
    named = log.assign(**{ID: "C-" + log[ID].astype(str).str.zfill(5)})
    build_report(named, str(tmp_path / "single"), progress=None)
    tables = cluster_tables(dd.from_pandas(named, npartitions=3, sort=False), ID, DATE, AMOUNT)
    write_cluster_tables(tables, str(tmp_path / "cluster"))
    expected = pd.read_csv(tmp_path / "single" / "customers.csv", index_col=ID, dtype=str)
    found = pd.concat([pd.read_csv(path, index_col=ID, dtype=str) for path in
                       sorted((tmp_path / "cluster" / "customers").glob("part-*.csv"))])
    assert found.index.str.startswith("C-").all()
    pd.testing.assert_frame_equal(found.sort_index()[EXACT], expected[EXACT])
    for name in ("stage_migration", "cohort_retention"):
        assert ((tmp_path / "cluster" / f"{name}.csv").read_text()
                == (tmp_path / "single" / f"{name}.csv").read_text())
    for name in ("early_warning", "top_customers"):
        ids = [pd.read_csv(tmp_path / side / f"{name}.csv", dtype=str)[ID].tolist()
               for side in ("single", "cluster")]
        assert ids[0] == ids[1]


def test_a_customer_without_a_finite_clv_interval_gets_empty_ends_the_others_theirs():
    from crmkit._report_cluster import _interval_part
    from crmkit.intervals import customer_lifetime_value

    purchases = crmkit.BetaGeoFitter.from_params({"r": 0.25, "alpha": 4.7, "a": 0.9, "b": 2.8})
    # Gamma-Gamma's mean spend p·v / (p·x + q − 1) is infinite for x = 1 (0.5 + 0.2 <= 1).
    spend = crmkit.GammaGammaFitter.from_params({"p": 0.5, "q": 0.2, "v": 10.0})
    for model in (purchases, spend):
        names = list(model._param_names)
        model.variance_matrix_ = pd.DataFrame(np.eye(len(names)) * 1e-4, index=names,
                                              columns=names)
    frame = pd.DataFrame({"frequency": [1.0, 5.0], "recency": [10.0, 30.0], "T": [40.0, 40.0],
                          "monetary_value": [20.0, 30.0]}, index=pd.Index([7, 9], name=ID))
    with pytest.raises((ValueError, RuntimeError, ArithmeticError)):
        customer_lifetime_value(purchases, spend, frame["frequency"], frame["recency"],
                                frame["T"], frame["monetary_value"], freq="W")
    found = _interval_part(frame, purchases, spend, 0.9, 12, 0.01)
    alone = customer_lifetime_value(purchases, spend, frame["frequency"].iloc[1:],
                                    frame["recency"].iloc[1:], frame["T"].iloc[1:],
                                    frame["monetary_value"].iloc[1:], freq="W").customers
    assert found.loc[7].isna().all()
    assert found.loc[9, "clv_lower"] == alone["lower"].iloc[0]
    assert found.loc[9, "clv_upper"] == alone["upper"].iloc[0]


def test_segment_tables_equal_the_single_machine_tables(single, cluster):
    # The pipeline's own k-means and RFM steps on the gathered columns in customer order.
    assert (cluster / "kmeans_quality.csv").read_text() == (single / "kmeans_quality.csv").read_text()
    for name, index, spend in (("segments", "segment", ["clv", "total_clv"]),
                               ("rfm_segments", "rfm_segment", ["clv", "total_clv", "clv_share"])):
        expected = pd.read_csv(single / f"{name}.csv", index_col=index, dtype=str)
        found = pd.read_csv(cluster / f"{name}.csv", index_col=index, dtype=str)
        assert list(found.index) == list(expected.index)
        assert list(found.columns) == list(expected.columns)
        exact = [c for c in found.columns if c not in spend]
        pd.testing.assert_frame_equal(found[exact], expected[exact])
        np.testing.assert_allclose(found[spend].astype(float), expected[spend].astype(float),
                                   rtol=SUM_RTOL, atol=0)


def test_rfm_rule_set_and_seed_reach_the_cluster_segments(client, log, tmp_path):
    build_report(log, str(tmp_path / "single"), progress=None, rfm_rules="chinese_value", seed=3)
    tables = cluster_tables(dd.from_pandas(log, npartitions=3, sort=False), ID, DATE, AMOUNT,
                            rfm_rules="chinese_value", seed=3)
    write_cluster_tables(tables, str(tmp_path / "cluster"))
    expected = pd.read_csv(tmp_path / "single" / "customers.csv", index_col=ID, dtype=str)
    found = _customers(tmp_path / "cluster", dtype=str)
    pd.testing.assert_frame_equal(found[["segment", "rfm_segment"]],
                                  expected[["segment", "rfm_segment"]])
    assert ((tmp_path / "cluster" / "kmeans_quality.csv").read_text()
            == (tmp_path / "single" / "kmeans_quality.csv").read_text())
    names = pd.read_csv(tmp_path / "cluster" / "rfm_segments.csv")["rfm_segment"]
    assert list(names) == list(pd.read_csv(tmp_path / "single" / "rfm_segments.csv")["rfm_segment"])


def test_segment_tables_name_a_column_of_the_wrong_length():
    from crmkit import _core

    columns = [np.ones(4)] * 6
    columns[2] = np.ones(3)
    with pytest.raises(ValueError, match="purchases has 4 elements but mean_spend has 3"):
        _core.pipeline.segment_tables(*columns, _core.pipeline.AnalysisOptions())
