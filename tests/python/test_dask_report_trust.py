"""The cluster report's "how sure" and "how well it predicted" sections
(crmkit._report_cluster_trust) against the single-machine report of the same log: with the
systematic samples real (SAMPLE and COMPARISON_SAMPLE set below the 3000 customers) at 1, 3
and 7 partitions, and with the whole table read (the library's sizes) at 3; the sections in
report.html; and the driver gathering no more of the customer table than the sampled rows."""

import contextlib
from html import escape

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

from crmkit import _report_trust  # noqa: E402
from crmkit._report_cluster import cluster_tables  # noqa: E402
from crmkit._report_cluster_trust import TRUST_COLUMNS, sampled_customers  # noqa: E402
from crmkit._report_text import Text  # noqa: E402
from crmkit.report import build_report  # noqa: E402

from test_dask_report import AMOUNT, DATE, ID, log  # noqa: E402,F401
from test_dask_report_html import ABSENT_NOTES, _section, _write  # noqa: E402
from test_dask_report_kmeans import recording_gathers  # noqa: E402

# Of the fixture's 3000 customers: the intervals read every 4th or so (700), the comparison
# every 10th (300); the two samples' rows are not nested, so about 960 rows are read.
SMALL = {"SAMPLE": 700, "COMPARISON_SAMPLE": 300}
CASES = [(1, "sampled"), (3, "sampled"), (7, "sampled"), (3, "whole")]


@contextlib.contextmanager
def _sizes(case):
    with pytest.MonkeyPatch.context() as patch:
        if case == "sampled":
            for name, value in SMALL.items():
                patch.setattr(_report_trust, name, value)
        yield


@pytest.fixture(scope="module")
def singles(log, tmp_path_factory):
    found = {}

    def report(case):
        if case not in found:
            out = tmp_path_factory.mktemp(f"single_trust_{case}")
            with _sizes(case):
                found[case] = out, build_report(log, str(out), progress=None)
        return found[case]

    return report


@pytest.fixture(scope="module", params=CASES, ids=[f"{n}-{case}" for n, case in CASES])
def cluster(request, client, log, singles, tmp_path_factory):
    partitions, case = request.param
    out = tmp_path_factory.mktemp(f"cluster_trust{partitions}_{case}")
    frame = dd.from_pandas(log, npartitions=partitions, sort=False)
    with _sizes(case):
        tables = cluster_tables(frame, ID, DATE, AMOUNT)
        page = _write(tables, out)
    return case, out, tables, page, singles(case), frame


def test_the_samples_are_real_and_the_whole_table_is_read_when_small(cluster):
    case, _, _, page, (_, report), _ = cluster
    sure, well = page.trust["how_sure"], page.trust["how_well"]
    if case == "sampled":
        assert sure["sample"] == (700, 3000) and well["sample"] == (300, 3000)
    else:
        assert sure["sample"] is None and "sample" not in well
    assert report.trust["how_sure"]["sample"] == sure["sample"]
    assert report.trust["how_well"].get("sample") == well.get("sample")


def test_how_sure_is_the_single_machine_section(cluster):
    _, _, _, page, (_, report), _ = cluster
    found, expected = page.trust["how_sure"], report.trust["how_sure"]
    assert found["model"] == expected["model"] == "BG/NBD"
    assert found["customer_intervals"] and expected["customer_intervals"]
    # Both fits (and covariances) are the single machine's bit for bit on the cluster
    # (test_dask_report), the sampled customers the same and the sums exact: every number equal.
    purchases, value = expected["headline"].index
    pd.testing.assert_frame_equal(found["headline"], expected["headline"], check_exact=True)
    for name in ("purchases", "value"):
        pd.testing.assert_series_equal(found[name].total, expected[name].total, check_exact=True)
    assert (found["headline"].loc[value].iloc[1] < found["headline"].loc[value].iloc[0]
            < found["headline"].loc[value].iloc[2])
    assert list(found["parameters"].index) == list(expected["parameters"].index)
    pd.testing.assert_frame_equal(found["parameters"], expected["parameters"], check_exact=True)


def test_how_well_is_the_single_machine_section(cluster):
    # The tracking score of the calibration check (the same table, byte for byte) and the three
    # models fitted to the same sampled customers: only the purchase model's fit and the sample.
    _, _, _, page, (_, report), _ = cluster
    found, expected = page.trust["how_well"], report.trust["how_well"]
    assert set(found) == set(expected)
    assert np.isfinite(found["mape"]) and np.isfinite(found["holdout_mape"])
    for key in ("mape", "holdout_mape", "chosen", "why", "reason", "model"):
        assert found[key] == expected[key], key
    assert "failed" not in found
    pd.testing.assert_frame_equal(found["comparison"], expected["comparison"], check_exact=True)
    assert len(found["comparison"]) == 3


def test_report_html_shows_the_sections_instead_of_the_note(cluster):
    _, out, _, page, (single_out, _), _ = cluster
    assert "trust" not in page.absent
    html = (out / "report.html").read_text(encoding="utf-8")
    expected = (single_out / "report.html").read_text(encoding="utf-8")
    for name in ("how-sure", "how-well"):
        section = _section(html, name)
        assert "<table" in section and 'class="notes absent"' not in section
    assert _section(html, "how-well") == _section(expected, "how-well")
    assert "intervals and model comparison not available" not in html


def test_the_driver_gathers_only_the_sampled_rows(client, cluster):
    case, _, tables, _, (_, report), _ = cluster
    with _sizes(case), recording_gathers(client) as sizes:
        rows = _report_trust.sample_rows(3000)
        found = sampled_customers(tables["customers"], client)
    # The single machine's rows at the same positions of its customer table, bit for bit.
    customers = report.tables["customers"]
    expected = customers.iloc[rows][TRUST_COLUMNS]
    np.testing.assert_array_equal(found.index.to_numpy(), expected.index.to_numpy())
    np.testing.assert_array_equal(found.to_numpy(dtype=float), expected.to_numpy(dtype=float))
    # Gathered: the partitions' lengths (plain integers) and their shares of the rows, which
    # add up to the sampled rows' columns and nothing more.
    assert sizes and sum(sizes) == len(rows) * len(TRUST_COLUMNS)
    if case == "sampled":
        assert len(rows) <= SMALL["SAMPLE"] + SMALL["COMPARISON_SAMPLE"] < len(customers) // 2
    else:
        assert len(rows) == len(customers) <= _report_trust.SAMPLE


def test_sections_that_cannot_be_computed_leave_the_note_and_say_why(cluster, monkeypatch,
                                                                     tmp_path):
    # As on one machine (report._trust_or_note): the failure becomes a note, not a failed page.
    case, _, tables, _, _, frame = cluster
    if case != "whole":
        pytest.skip("one partitioning is enough")

    def failing(*args, **kwargs):
        raise RuntimeError("the interval of the total is not finite")

    monkeypatch.setattr(_report_trust.intervals, "expected_purchases", failing)
    page = _write(tables, tmp_path)
    assert not page.trust and set(page.absent) == {"trust", "survey"}
    assert ("intervals and model comparison not available: the interval of the total is not "
            "finite") in page.notes
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    note = f'<ul class="notes absent"><li>{escape(Text("en")(ABSENT_NOTES["trust"]))}</li></ul>'
    for name in ("how-sure", "how-well"):
        assert note in _section(html, name), name
