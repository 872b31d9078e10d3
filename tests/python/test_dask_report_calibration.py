"""The cluster report's calibration check (``calibration_vs_holdout.csv``,
``cumulative_transactions.csv``) against the single-machine report of the same log, byte for
byte, for 1, 3 and 7 partitions; and :func:`crmkit.dask.calibration_check` on its own."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

import crmkit.dask as cdask  # noqa: E402
from crmkit import _core  # noqa: E402
from crmkit._report_cluster import cluster_tables, write_cluster_tables  # noqa: E402
from crmkit._report_cluster_calibration import CALIBRATION_TABLES  # noqa: E402
from crmkit.report import Columns, _analyze, build_report  # noqa: E402

from test_dask_report import AMOUNT, DATE, ID, cluster, log, single  # noqa: E402,F401


@pytest.mark.parametrize("name", CALIBRATION_TABLES)
def test_calibration_files_are_the_single_machine_files(single, cluster, name):
    # Integer counts and exact sums rounded once on both sides: the same bytes.
    expected = (single / f"{name}.csv").read_text()
    assert (cluster / f"{name}.csv").read_text() == expected
    assert len(expected.splitlines()) >= 6  # a header and at least five rows


def _library_tables(frame, **options):
    """The single-machine pipeline's calibration tables and notes (``_core.pipeline.analyze``)."""
    from crmkit.report import _frame

    result, _ = _analyze(frame, Columns(ID, DATE, AMOUNT), None, 0, "rf_grid", **options)
    tables = {name: _frame(result.take_columns(name)) for name in CALIBRATION_TABLES
              if name in result.table_names}
    return tables, [message for _, message in result.notes]


def test_library_function_equals_the_pipeline_for_any_partitioning(client, log):
    expected, _ = _library_tables(log)
    assert set(expected) == set(CALIBRATION_TABLES)
    named = log.assign(**{ID: "C-" + log[ID].astype(str).str.zfill(5)})
    for frame, options in ((dd.from_pandas(log, npartitions=5, sort=False), {}),
                           (dd.from_pandas(named, npartitions=2, sort=False), {}),
                           (dd.from_pandas(log.set_index(ID, drop=False).sort_index(),
                                           npartitions=4), {"partitioned_by_customer": True})):
        found = cdask.calibration_check(frame, ID, DATE, **options)
        for name in CALIBRATION_TABLES:
            pd.testing.assert_frame_equal(found[name], expected[name], check_exact=True)
        assert 0 < found["calibration_period"] < found["cumulative_transactions"].index[-1] + 1


def test_a_customer_split_across_partitions_is_reported_not_double_counted(client, log):
    # Date order spreads the repeat customers over the partitions.
    frame = dd.from_pandas(log, npartitions=3, sort=False)
    with pytest.raises(ValueError, match=r"customer \d+ has rows in partitions \[\d+, \d+"):
        cdask.calibration_check(frame, ID, DATE, partitioned_by_customer=True)


def test_another_purchase_model_gives_the_single_machine_tables(client, log):
    expected, _ = _library_tables(log, model="pareto_nbd")
    options = _core.pipeline.AnalysisOptions()
    options.transaction_model = "pareto_nbd"
    found = cdask.calibration_check(dd.from_pandas(log, npartitions=3, sort=False), ID, DATE,
                                    options=options)
    for name in CALIBRATION_TABLES:
        pd.testing.assert_frame_equal(found[name], expected[name], check_exact=True)
    bg_nbd, _ = _library_tables(log)
    assert not found["calibration_vs_holdout"].equals(bg_nbd["calibration_vs_holdout"])


def test_a_short_log_gets_the_single_machine_note_and_no_files(client, log, tmp_path):
    short = log[log[DATE] < log[DATE].min() + pd.Timedelta(days=50)].reset_index(drop=True)
    expected, notes = _library_tables(short)
    assert expected == {}
    too_short = [note for note in notes if "too short for a calibration/holdout check" in note]
    assert len(too_short) == 1
    tables = cluster_tables(dd.from_pandas(short, npartitions=3, sort=False), ID, DATE, AMOUNT)
    assert too_short[0] in tables["notes"]
    written = write_cluster_tables(tables, str(tmp_path))
    assert not any(name.startswith(("calibration", "cumulative")) for name in written)
    assert not (tmp_path / "calibration_vs_holdout.csv").exists()


def test_merging_counts_names_a_malformed_part():
    split = {"first_day": 0, "last_day": 2, "calibration_day": 1}
    good = _core.pipeline.calibration_counts(np.array([1, 1, 2], dtype=np.int64),
                                             np.array([0, 1, 2], dtype=np.int64) * 86_400 * 10**9,
                                             split)
    # Customer 1 bought on days 0 and 1 (calibration: one repeat), customer 2 on day 2 (holdout
    # only: not in the calibration part, born on day 2).
    assert list(good["frequency"]) == [1] and list(good["customers"]) == [1]
    assert list(good["births"]) == [1, 0, 1] and list(good["repeats"]) == [0, 1, 0]
    bad = dict(good, holdout=np.array([-3]))
    with pytest.raises(ValueError, match="part 1 has the negative count -3 in column 'holdout'"):
        _core.pipeline.merge_calibration_counts([good, bad], split)
    with pytest.raises(ValueError, match="merge_calibration_counts: the dict has no 'repeats'"):
        _core.pipeline.merge_calibration_counts([{k: v for k, v in good.items()
                                                  if k != "repeats"}], split)
