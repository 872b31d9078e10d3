"""crmkit.dask on a 2-worker distributed.LocalCluster (127.0.0.1, no dashboard): every
distributed result against the single-machine call on the same data."""

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

import crmkit  # noqa: E402
import crmkit.dask as cdask  # noqa: E402
from crmkit import _core  # noqa: E402

ID, DATE, AMOUNT = "customer_id", "date", "amount"


@pytest.fixture(scope="module")
def log():
    transactions, _ = crmkit.simulate_transactions(n_customers=3000, seed=7)
    # Date order spreads every repeat customer over several partitions.
    return transactions.sort_values(DATE, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def log_frame(log):
    return dd.from_pandas(log, npartitions=6, sort=False)


@pytest.fixture(scope="module")
def summary(log):
    return crmkit.summary_data_from_transaction_data(log, ID, DATE, AMOUNT, freq="W")


@pytest.fixture(scope="module")
def distributed_summary(client, log_frame):
    return cdask.summarize(log_frame, ID, DATE, AMOUNT, freq="W").persist()


def test_the_log_really_is_split_across_partitions(log_frame):
    owners = log_frame.map_partitions(lambda frame: frame[[ID]].drop_duplicates()).compute()
    assert owners[ID].duplicated().any()


def test_summary_equals_the_single_machine_summary_bit_for_bit(distributed_summary, summary):
    found = distributed_summary.compute().sort_index()
    pd.testing.assert_frame_equal(found, summary.sort_index(), check_exact=True, check_like=False)


def test_each_customer_is_in_one_partition_of_the_summary(distributed_summary):
    ids = distributed_summary.map_partitions(lambda frame: frame.index.to_frame(index=False)).compute()
    assert not ids[ID].duplicated().any()


def test_pattern_histogram_is_the_groupby_count_of_the_summary(distributed_summary, summary):
    histogram = cdask.pattern_histogram(distributed_summary)
    # Independent: pandas' count of identical (frequency, recency, T) rows, sorted.
    expected = summary.groupby(["frequency", "recency", "T"]).size().reset_index()
    np.testing.assert_array_equal(histogram["x"], expected["frequency"])
    np.testing.assert_array_equal(histogram["u"], expected["recency"])
    np.testing.assert_array_equal(histogram["v"], expected["T"])
    np.testing.assert_array_equal(histogram["weight"], expected[0].astype(float))
    assert histogram["weight"].sum() == len(summary)


@pytest.mark.parametrize("fitter", [crmkit.BetaGeoFitter, crmkit.ModifiedBetaGeoFitter,
                                    crmkit.ParetoNBDFitter])
def test_transaction_fits_are_bit_identical(distributed_summary, summary, fitter):
    found = cdask.fit_transaction_model(distributed_summary, fitter())
    expected = fitter().fit(summary["frequency"], summary["recency"], summary["T"])
    assert found.params_.to_dict() == expected.params_.to_dict()
    assert found.log_likelihood_ == expected.log_likelihood_
    pd.testing.assert_frame_equal(found.summary, expected.summary, check_exact=True)


def test_gamma_gamma_fit_equals_the_single_machine_fits(distributed_summary, summary):
    found = cdask.fit_gamma_gamma(distributed_summary)
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    # The rows stay on the workers, whose per-row sums are added partition by partition: the
    # fit of the raw rows sums in another order, so the same optimum within the tolerance
    # (tests/python/test_dask_gamma_gamma.py has the partitionings and the staged fit).
    raw_fit = crmkit.GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    np.testing.assert_allclose(found.params_.to_numpy(), raw_fit.params_.to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(found.log_likelihood_, raw_fit.log_likelihood_, rtol=1e-12)


def test_scores_equal_the_single_machine_scores(distributed_summary, summary):
    bgf = cdask.fit_transaction_model(distributed_summary)
    ggf = cdask.fit_gamma_gamma(distributed_summary)
    found = cdask.score_customers(distributed_summary, bgf, ggf).compute().sort_index()
    s = summary.sort_index()
    x, t_x, age = s["frequency"], s["recency"], s["T"]
    spend = s["monetary_value"].where(x > 0, 0.0)
    np.testing.assert_array_equal(found["p_alive"], bgf.conditional_probability_alive(x, t_x, age))
    np.testing.assert_array_equal(
        found["expected_purchases"],
        bgf.conditional_expected_number_of_purchases_up_to_time(13, x, t_x, age))
    np.testing.assert_array_equal(found["expected_spend"],
                                  ggf.conditional_expected_average_profit(x, spend))
    np.testing.assert_array_equal(
        found["clv"], ggf.customer_lifetime_value(bgf, x, t_x, age, spend, time=12,
                                                  discount_rate=0.01, freq="W"))
    assert (found["p_alive"].between(0, 1)).all()


@pytest.mark.parametrize("ties", ["average_rank", "drop_edges"])
def test_rfm_scales_and_scores_equal_the_single_machine_ones(client, log, log_frame, ties):
    rfm = cdask.summarize(log_frame, ID, DATE, AMOUNT, freq="W", include_first_transaction=True)
    scales = cdask.rfm_scales(rfm, ties=ties)
    single = crmkit.summary_data_from_transaction_data(log, ID, DATE, AMOUNT, freq="W",
                                                       include_first_transaction=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmkit.SegmentationWarning)  # drop_edges merged bins
        expected = crmkit.rfm_scores(single, ties=ties)
    for name in ("recency", "frequency", "monetary_value"):
        want = expected.attrs["rfm_scales"][name]
        assert scales[name].bins == want.bins
        np.testing.assert_array_equal(scales[name].thresholds, want.thresholds)
    found = cdask.rfm_scores(rfm, scales).compute().sort_index()
    for score in ("r_score", "f_score", "m_score"):
        np.testing.assert_array_equal(found[score], expected.sort_index()[score])


def test_scale_of_a_histogram_equals_the_scale_of_the_values():
    rng = np.random.default_rng(3)
    for trial in range(5):
        values = rng.integers(1, 13, size=400 + trial).astype(float)  # heavy ties
        distinct, counts = np.unique(values, return_counts=True)
        for ties in ("average_rank", "drop_edges"):
            for bins in (2, 5, 7):
                want = _core.segment.score_rfm(values, values, values, bins, ties)["frequency"]["scale"]
                got = _core.segment.quantile_scale_of_histogram(distinct, counts.astype(float),
                                                               bins, ties, True)
                np.testing.assert_array_equal(got["thresholds"], want["thresholds"])
                assert got["bins"] == want["bins"]


def test_scale_of_a_histogram_refuses_what_a_histogram_cannot_give():
    with pytest.raises(ValueError, match="rank_first"):
        _core.segment.quantile_scale_of_histogram([1.0, 2.0], [3.0, 1.0], 2, "rank_first", True)
    with pytest.raises(ValueError, match=r"counts\[1\]"):
        _core.segment.quantile_scale_of_histogram([1.0, 2.0], [3.0, 0.5], 2, "average_rank", True)
    with pytest.raises(ValueError, match=r"distinct\[1\]"):
        _core.segment.quantile_scale_of_histogram([2.0, 1.0], [3.0, 1.0], 2, "average_rank", True)


def test_merge_patterns_adds_counts_and_names_bad_weights():
    merged = _core.clv.merge_patterns([2.0, 1.0, 2.0], [5.0, 1.0, 5.0], [9.0, 9.0, 9.0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(merged["x"], [1.0, 2.0])
    np.testing.assert_array_equal(merged["weight"], [2.0, 4.0])
    with pytest.raises(ValueError, match=r"weights\[1\] = -1"):
        _core.clv.merge_patterns([1.0, 2.0], [1.0, 1.0], [3.0, 3.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="u"):
        _core.clv.merge_patterns([1.0, 2.0], [1.0], [3.0, 3.0], [])


def test_lifecycle_stages_equal_the_single_machine_stages(client, log, log_frame):
    expected = crmkit.lifecycle_stages(log, ID, DATE, AMOUNT, as_of=log[DATE].max(), freq="W")
    gap = expected.attrs["population_gap"]
    found = cdask.lifecycle_stages(log_frame, ID, DATE, AMOUNT, population_gap=gap, freq="W")
    pd.testing.assert_frame_equal(found.compute().sort_index(), expected.sort_index(),
                                  check_exact=True)
    # Without G the cluster finds it (population_gaps), as one machine does.
    found = cdask.lifecycle_stages(log_frame, ID, DATE, AMOUNT, freq="W")
    pd.testing.assert_frame_equal(found.compute().sort_index(), expected.sort_index(),
                                  check_exact=True)


@pytest.mark.parametrize("npartitions", [1, 3, 7])
@pytest.mark.parametrize("freq", ["D", "W"])
def test_population_gap_equals_the_single_machine_gap_at_every_date(client, log, npartitions,
                                                                    freq):
    frame = dd.from_pandas(log, npartitions=npartitions, sort=False)
    last = log[DATE].max()
    # The first date: so early that few customers have two purchase periods (an odd or even
    # count of median gaps, the two middle values averaged when even).
    dates = [log[DATE].min() + pd.Timedelta(days=40), last - pd.Timedelta(weeks=13), last]
    found = cdask.population_gaps(frame, ID, DATE, dates, freq=freq)
    expected = [crmkit.lifecycle_stages(log, ID, DATE, as_of=date, freq=freq)
                .attrs["population_gap"] for date in dates]
    assert found == expected  # exact: medians of half-integers


def test_population_gap_by_hand_with_an_even_count_and_customers_without_gaps(client):
    # Median gaps (days): customer 1: gaps 2, 4 -> 3; customer 2: gap 10 -> 10; customer 3: gaps
    # 1, 1, 7 -> 1; customer 4: one purchase (no gap, left out); customer 5: gaps 5, 6 -> 5.5.
    # G = median of {1, 3, 5.5, 10} = (3 + 5.5) / 2 = 4.25, the mean of the 2nd and 3rd values.
    days = {1: [0, 2, 6], 2: [0, 10], 3: [0, 1, 2, 9], 4: [3], 5: [1, 6, 12]}
    rows = [(c, pd.Timestamp("2024-01-01") + pd.Timedelta(days=d)) for c, ds in days.items()
            for d in ds]
    log = pd.DataFrame(rows, columns=[ID, DATE])
    for npartitions in (1, 2, 5):
        frame = dd.from_pandas(log.sample(frac=1, random_state=npartitions), npartitions=npartitions,
                               sort=False)
        assert cdask.population_gaps(frame, ID, DATE, [log[DATE].max()]) == [4.25]
    assert crmkit.lifecycle_stages(log, ID, DATE).attrs["population_gap"] == 4.25
    # Before any customer's second purchase period: G is undefined, as on one machine.
    with pytest.raises(ValueError, match="no customer has two purchase periods"):
        cdask.population_gaps(dd.from_pandas(log, npartitions=2), ID, DATE, ["2024-01-01"])


def test_a_customer_split_across_partitions_is_reported(client, log_frame):
    with pytest.raises(ValueError, match=r"customer .* has rows in partitions \[\d+, \d+"):
        cdask.summarize(log_frame, ID, DATE, AMOUNT, freq="W", partitioned_by_customer=True)


def test_a_log_partitioned_by_customer_is_summarised_without_a_shuffle(client, log, summary):
    by_customer = dd.from_pandas(log.set_index(ID, drop=False).rename_axis(None).sort_index(),
                                 npartitions=4)
    found = cdask.summarize(by_customer, ID, DATE, AMOUNT, freq="W", partitioned_by_customer=True)
    pd.testing.assert_frame_equal(found.compute().sort_index(), summary.sort_index(),
                                  check_exact=True)


def test_a_null_date_names_the_partition_and_the_row(client, log):
    bad = log.copy()
    bad.loc[bad.index[1507], DATE] = pd.NaT
    frame = dd.from_pandas(bad, npartitions=6, sort=False)
    with pytest.raises(ValueError, match=r"partition \d+, row \d+ \(index 1507\): column 'date' is NULL"):
        cdask.summarize(frame, ID, DATE, AMOUNT, freq="W").compute()


def test_schema_errors_are_named(client, log_frame):
    with pytest.raises(ValueError, match="no column 'spend'"):
        cdask.summarize(log_frame, ID, DATE, "spend")
    as_text = log_frame.assign(date=log_frame[DATE].astype(str))
    with pytest.raises(ValueError, match="column 'date' is object, not a date"):
        cdask.summarize(as_text, ID, DATE, AMOUNT)


def _write_files(folder, log, parts=3):
    paths = []
    for i, chunk in enumerate(np.array_split(log, parts)):
        path = folder / f"part-{i}.csv"
        chunk.assign(date=chunk[DATE].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
        paths.append(path)
    return paths


def test_csv_files_read_with_the_strict_reader_and_summarised(client, tmp_path, log, summary):
    _write_files(tmp_path, log)
    frame, skipped = cdask.read_transaction_files(tmp_path, ID, DATE, AMOUNT)
    assert frame.npartitions == 3
    found = cdask.summarize(frame, ID, DATE, AMOUNT, freq="W").compute().sort_index()
    pd.testing.assert_frame_equal(found, summary.sort_index(), check_exact=True)
    assert len(skipped.compute()) == 0


def test_bad_csv_rows_raise_or_are_skipped_and_counted(client, tmp_path, log):
    paths = _write_files(tmp_path, log)
    lines = paths[1].read_text().splitlines()
    lines[4] = lines[4].replace(lines[4].split(",")[1], "2024-13-45")
    paths[1].write_text("\n".join(lines) + "\n")
    frame, _ = cdask.read_transaction_files(str(tmp_path / "*.csv"), ID, DATE, AMOUNT)
    with pytest.raises(ValueError, match=r"part-1\.csv:5:.*2024-13-45"):
        frame.compute()
    frame, skipped = cdask.read_transaction_files(tmp_path, ID, DATE, AMOUNT, on_bad_row="skip")
    rows, bad = frame.compute(), skipped.compute()
    assert len(rows) == len(log) - 1
    assert len(bad) == 1 and bad["file"].iloc[0].endswith("part-1.csv") and bad["line"].iloc[0] == 5


def test_report_on_the_cluster_writes_the_single_machine_tables(client, tmp_path, log):
    # Table by table against the single-machine report: test_dask_report.py; here the command
    # line's path (CSV files, --scheduler).
    from crmkit.__main__ import main

    folder = tmp_path / "log"
    folder.mkdir()
    _write_files(folder, log)
    out = tmp_path / "report"
    assert main(["report", str(folder), "--scheduler", client.scheduler.address, "--out", str(out),
                 "--quiet"]) == 0
    found = pd.concat([pd.read_csv(path, index_col=ID, float_precision="round_trip") for path in sorted((out / "customers").glob("*.csv"))])
    found = found.sort_index()
    # The report's time unit: weeks of 7 days.
    s = crmkit.summary_data_from_transaction_data(log, ID, DATE, AMOUNT, freq="D",
                                                  freq_multiplier=7).sort_index()
    bgf = crmkit.BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    np.testing.assert_array_equal(found.index, s.index)
    # Shortest round-trip numbers: every double reads back as itself.
    np.testing.assert_array_equal(found["p_alive"],
                                  bgf.conditional_probability_alive(s["frequency"], s["recency"], s["T"]))
    rfm = crmkit.rfm_scores(crmkit.summary_data_from_transaction_data(
        log, ID, DATE, AMOUNT, freq="D", freq_multiplier=7, include_first_transaction=True)).sort_index()
    np.testing.assert_array_equal(found["r_score"], rfm["r_score"])
    np.testing.assert_array_equal(found["m_score"], rfm["m_score"])
    parameters = pd.read_csv(out / "model_parameters.csv", float_precision="round_trip")
    bg = parameters[parameters["model"] == "BG/NBD"].set_index("parameter")["estimate"]
    np.testing.assert_array_equal(bg.to_numpy(), bgf.params_[bg.index].to_numpy())
    for name in ("value_tiers", "lifecycle_stages", "stage_migration", "cohort_retention",
                 "rfm_scales", "skipped_rows"):
        assert (out / f"{name}.csv").exists()
    # The fixture's client is still the default afterwards.
    assert len(client.nthreads()) == 2


def test_report_on_the_cluster_fits_the_chosen_purchase_model(client, log_frame, log):
    from crmkit._report_cluster import cluster_tables

    tables = cluster_tables(log_frame, ID, DATE, AMOUNT, model="pareto_nbd")
    parameters = tables["model_parameters"]
    pareto = parameters[parameters["model"] == "Pareto/NBD"]["estimate"]
    assert list(pareto.index) == ["r", "alpha", "s", "beta"]
    s = crmkit.summary_data_from_transaction_data(log, ID, DATE, AMOUNT, freq="D",
                                                  freq_multiplier=7).sort_index()
    fitted = crmkit.ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"])
    # The cluster fits the merged pattern histogram, the same likelihood as the customers'.
    np.testing.assert_allclose(pareto.to_numpy(), fitted.params_[pareto.index].to_numpy(),
                               rtol=1e-6)
    with pytest.raises(ValueError, match="'nbd' is not one of 'bg_nbd', 'mbg_nbd', 'pareto_nbd'"):
        cluster_tables(log_frame, ID, DATE, AMOUNT, model="nbd")


def test_cohort_tables_equal_the_single_machine_tables(client, log, log_frame):
    found = cdask.cohort_retention(log_frame, ID, DATE, AMOUNT, freq="M")
    expected = crmkit.lifecycle.cohort_retention(log, ID, DATE, AMOUNT, freq="M")
    pd.testing.assert_frame_equal(found.counts, expected.counts, check_exact=True)
    pd.testing.assert_series_equal(found.sizes, expected.sizes, check_exact=True)
    pd.testing.assert_frame_equal(found.rates, expected.rates, check_exact=True)
    # Revenue: partition totals added in another order than the single pass.
    pd.testing.assert_frame_equal(found.revenue, expected.revenue, rtol=1e-12)
    assert int(expected.counts[0].sum()) == log[ID].nunique()


def test_stage_migration_equals_the_single_machine_table(client, log, log_frame):
    start = log[DATE].max() - pd.Timedelta(weeks=13)
    gap = crmkit.lifecycle_stages(log, ID, DATE, AMOUNT, freq="W").attrs["population_gap"]
    found = cdask.stage_migration(log_frame, ID, DATE, start, None, AMOUNT, population_gap=gap,
                                  freq="W")
    expected = crmkit.lifecycle.stage_migration(log, ID, DATE, start, None, AMOUNT,
                                                population_gap=gap, freq="W")
    pd.testing.assert_frame_equal(found.counts, expected.counts, check_exact=True)
    pd.testing.assert_frame_equal(found.rates, expected.rates, check_exact=True)
    assert int(found.counts.to_numpy().sum()) == log[ID].nunique()


@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_stage_migration_with_a_gap_per_date_equals_the_single_machine_table(client, log,
                                                                             npartitions):
    # Without population_gap each date has its own G on both sides; with the report's model.
    frame = dd.from_pandas(log, npartitions=npartitions, sort=False)
    start = log[DATE].max() - pd.Timedelta(weeks=13)
    summary = crmkit.summary_data_from_transaction_data(log, ID, DATE, freq="D", freq_multiplier=7)
    bgf = crmkit.BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    options = dict(model=bgf, model_freq="D", model_freq_multiplier=7)
    found = cdask.stage_migration(frame, ID, DATE, start, None, AMOUNT, **options)
    expected = crmkit.lifecycle.stage_migration(log, ID, DATE, start, None, AMOUNT, **options)
    pd.testing.assert_frame_equal(found.counts, expected.counts, check_exact=True)
    pd.testing.assert_frame_equal(found.rates, expected.rates, check_exact=True)
    history = crmkit.lifecycle.stage_history(log, ID, DATE, AMOUNT, [start, log[DATE].max()],
                                             **options)
    gaps = history.attrs["population_gap"]
    assert gaps[0] != gaps[1]  # so a single G could not have given the table


def test_thread_workers_have_no_memory_limit():
    # Dask counts a thread worker's memory as the whole process's (caller included) and pauses
    # it for good above 80% of its limit: under the sanitizer, with this process at 1.1 GB, a
    # 1 GB limit left every task of this module waiting until CI's limit.
    threads = cdask.local_client(n_workers=1, processes=False)
    try:
        (worker,) = threads.cluster.workers.values()
        assert worker.memory_manager.memory_limit is None
        assert threads.submit(sum, [40, 2]).result(timeout=60) == 42
    finally:
        threads.close()
        threads.cluster.close()


# --- value tiers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clv(distributed_summary):
    bgf = cdask.fit_transaction_model(distributed_summary)
    ggf = cdask.fit_gamma_gamma(distributed_summary)
    return cdask.score_customers(distributed_summary, bgf, ggf)["clv"].persist()


@pytest.mark.parametrize("rounded", [False, True])
@pytest.mark.parametrize("options", [{}, dict(by="population", labels=("high", "medium", "low"))])
def test_value_tiers_equal_the_single_machine_tiers(client, clv, rounded, options):
    values = clv.round(0) if rounded else clv  # rounded: many ties, spread over partitions
    expected = crmkit.value_tiers(values.compute(), **options)
    tiers, summary = cdask.value_tiers(values, **options)
    found = tiers.compute()
    assert clv.npartitions >= 4
    pd.testing.assert_frame_equal(found.sort_index(), expected.sort_index(), check_exact=True)
    pd.testing.assert_frame_equal(summary, expected.attrs["summary"], check_exact=True)
    assert (summary["customers"] > 0).all()


def test_value_tiers_name_the_partition_row_and_value_of_a_negative_value(client):
    values = pd.Series([5.0, 3.0, 2.0, 1.0, -4.0, 0.5, 2.0, 1.0], name="clv")
    with pytest.raises(ValueError, match=r"partition 2, row 0 \(index 4\): value -4\.0"):
        cdask.value_tiers(dd.from_pandas(values, npartitions=4, sort=False))
    with pytest.raises(ValueError, match="data: no column 'spend'"):
        cdask.value_tiers(dd.from_pandas(values.to_frame(), npartitions=2), "spend")
