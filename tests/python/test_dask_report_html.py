"""The cluster report's ``report.html`` and ``plots/*.png`` (crmkit._report_cluster_html) against
the single-machine report of the same log, for 1, 3 and 7 partitions: the same headline and
section tables in the page, the same plot inputs, and a visible note for each section the
cluster leaves out."""

import re
from fractions import Fraction
from html import escape

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

from crmkit import _core  # noqa: E402
from crmkit._report_cluster import cluster_tables, write_cluster_tables  # noqa: E402
from crmkit._report_cluster_html import write_cluster_page  # noqa: E402
from crmkit._report_plots import CustomerPlotInputs, plot_names  # noqa: E402
from crmkit._report_text import Text  # noqa: E402
from crmkit.plotting import ValueCurve  # noqa: E402
from crmkit.report import build_report  # noqa: E402

from test_dask_report import AMOUNT, DATE, ID, log, write_log_parts  # noqa: E402,F401

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Sections of the page whose tables the cluster writes: compared as HTML, plots left out (their
# PNG bytes are compared through their inputs below).
SHARED_SECTIONS = ["headline", "rfm", "segments", "value", "slipping", "lifecycle"]
ABSENT_NOTES = {"survey": "absent.survey", "calibration": "absent.calibration",
                "trust": "absent.trust"}


@pytest.fixture(scope="module")
def survey(log):
    # Answers of every tenth customer, NPS and CSAT drawn independently of the purchases.
    rng = np.random.default_rng(5)
    ids = np.sort(log[ID].unique())[::10]
    return pd.DataFrame({"customer_id": ids, "nps": rng.integers(0, 11, len(ids)),
                         "csat": rng.integers(1, 6, len(ids)),
                         "date": log[DATE].max() - pd.to_timedelta(rng.integers(0, 300, len(ids)),
                                                                   unit="D")})


@pytest.fixture(scope="module")
def single(log, tmp_path_factory):
    out = tmp_path_factory.mktemp("single_page")
    return out, build_report(log, str(out), progress=None)


@pytest.fixture(scope="module")
def single_with_survey(log, survey, tmp_path_factory):
    out = tmp_path_factory.mktemp("single_survey")
    return out, build_report(log, str(out), survey=survey, progress=None)


def _write(tables, out):
    folder = _core.pipeline.OutputFolder(str(out))
    written = write_cluster_tables(tables, str(out), folder=folder)
    return write_cluster_page(tables, str(out), written, folder)


@pytest.fixture(scope="module", params=[1, 3, 7])
def cluster(request, client, log, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"cluster_page{request.param}")
    frame = dd.from_pandas(log, npartitions=request.param, sort=False)
    tables = cluster_tables(frame, ID, DATE, AMOUNT)
    return out, tables, frame, _write(tables, out)


def _section(page: str, name: str) -> str:
    found = re.search(rf'<section id="{name}">.*?</section>', page, flags=re.S)
    assert found is not None, name
    return re.sub(r'<img alt="[^"]*" src="[^"]*">', "<img>", found.group(0))


def test_the_page_and_the_plots_are_written_and_listed_in_the_manifest(cluster):
    out, _, _, page = cluster
    names = plot_names(page.tables)
    assert names == ["value_curve", "rfm_segments", "segments", "segment_profiles",
                     "probability_alive", "frequency_recency", "repeat_purchases",
                     "calibration_vs_holdout", "cumulative_transactions", "stage_migration",
                     "cohort_retention"]
    for name in names:
        assert (out / "plots" / f"{name}.png").read_bytes() == page.plots[name]
        assert page.plots[name].startswith(PNG_SIGNATURE)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == len(names)
    manifest = (out / _core.pipeline.OutputFolder.MANIFEST).read_text().split()
    assert {"report.html", "value_tiers.csv", "rfm_scales.csv"} <= set(manifest)
    assert {f"plots/{name}.png" for name in names} <= set(manifest)
    assert sum(name.startswith("customers/part-") for name in manifest) == \
        len(list((out / "customers").glob("part-*.csv")))
    # The page lists the files the cluster wrote, not a customers.csv it did not.
    files = _section(html, "files")
    assert "in full: customers/part-*.csv, model_parameters.csv, " in files
    assert " customers.csv" not in files


def test_the_headline_is_the_single_machine_headline(single, cluster):
    # Counts, the period, exact sums rounded once, shares: the same text on every card.
    assert cluster[3].headline == single[1].headline
    assert len(single[1].headline) == 11


def test_the_sections_of_the_cluster_tables_are_the_single_machine_sections(single, cluster):
    expected = (single[0] / "report.html").read_text(encoding="utf-8")
    found = (cluster[0] / "report.html").read_text(encoding="utf-8")
    for name in SHARED_SECTIONS:
        assert _section(found, name) == _section(expected, name), name
    # The model section: the same parameters table (the holdout check is left out, with a note).
    tables = [re.search(r"<table.*?</table>", _section(page, "models"), flags=re.S).group(0)
              for page in (found, expected)]
    assert tables[0] == tables[1]


def test_the_plot_inputs_are_the_single_machine_ones(single, cluster):
    report = single[1]
    expected = CustomerPlotInputs.of_customers(report.tables["customers"],
                                               report.tables["value_tiers"])
    found = cluster[3].inputs["plots"]
    assert (found.max_frequency, found.max_recency) == (expected.max_frequency,
                                                        expected.max_recency)
    curve, reference = found.value_curve, expected.value_curve
    assert len(curve.share) > 2000  # about 4000 points for 3000 customers: every customer
    np.testing.assert_array_equal(curve.share, reference.share)
    assert curve.marks == reference.marks and len(curve.marks) == 2
    # The CLVs themselves are the single machine's bit for bit (test_dask_report), so the shares.
    np.testing.assert_array_equal(curve.cumulative, reference.cumulative)
    assert curve.held == reference.held


def test_the_value_curve_on_the_workers_is_exact_whatever_the_partitioning(cluster):
    # The curve of the cluster's own CLVs on one machine is the same bit for bit (exact sums,
    # rounded once), and each point is the exact rational share rounded once (Fraction).
    _, tables, _, page = cluster
    clv = tables["customers"]["clv"].compute().to_numpy()
    curve = page.inputs["plots"].value_curve
    local = ValueCurve.of_values(clv, curve.marks)
    np.testing.assert_array_equal(curve.cumulative, local.cumulative)
    assert curve.held == local.held
    ordered = sorted((Fraction(v) for v in clv), reverse=True)
    total = sum(ordered)
    n = len(clv)
    for point in (1, 7, len(curve.share) // 2, len(curve.share) - 2):
        rank = round(curve.share[point] * n)
        assert curve.cumulative[point] == float(sum(ordered[:rank]) / total)
    # numpy.linspace(0, 1, n + 1) at the drawn ranks, as the plot always drew them.
    np.testing.assert_array_equal(curve.share,
                                  np.linspace(0, 1, n + 1)[np.round(curve.share * n).astype(int)])


def test_the_sections_left_out_carry_a_note_saying_why(cluster):
    # Without survey answers the survey is left out; the holdout check and the trust sections
    # are computed on the cluster (test_dask_report_calibration.py, test_dask_report_trust.py).
    html = (cluster[0] / "report.html").read_text(encoding="utf-8")
    text = Text("en")
    note = f'<ul class="notes absent"><li>{escape(text(ABSENT_NOTES["survey"]))}</li></ul>'
    assert note in _section(html, "satisfaction")
    assert set(cluster[3].absent) == {"survey"}
    for section in ("how-sure", "how-well", "models"):
        assert 'class="notes absent"' not in _section(html, section), section
    assert escape(text("models.explain")) in html


def test_survey_and_calibration_tables_bring_their_sections_and_plots(client, cluster,
                                                                      single_with_survey,
                                                                      tmp_path):
    # The tables under the single-machine names (as the survey and calibration steps on the
    # cluster will give them): the page shows their sections and plots with no further change.
    out, report = single_with_survey
    _, tables, frame, _ = cluster
    added = {name: table for name, table in report.tables.items()
             if name.startswith(("nps_", "csat_")) or name in ("calibration_vs_holdout",
                                                                "cumulative_transactions")}
    assert {"nps_by_segment", "nps_by_month", "nps_overall", "calibration_vs_holdout"} <= set(added)
    page = _write({**tables, **added}, tmp_path)
    assert {"nps_trend", "calibration_vs_holdout", "cumulative_transactions"} <= set(page.plots)
    assert set(page.absent) == set()
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    expected = (out / "report.html").read_text(encoding="utf-8")
    assert _section(html, "satisfaction") == _section(expected, "satisfaction")
    assert page.headline == report.headline  # the NPS card included
    assert "NPS" in " ".join(page.headline)


def test_the_command_line_writes_the_page_and_refuses_a_folder_it_did_not_write(client, log,
                                                                                  tmp_path):
    from crmkit.__main__ import main

    folder = tmp_path / "log"
    write_log_parts(log, folder, 2)
    out = tmp_path / "out"
    arguments = ["report", str(folder), "--scheduler", client.scheduler.address, "--out",
                 str(out), "--quiet"]
    assert main(arguments) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f"Transactions: {folder}" in page
    assert (out / "plots" / "value_curve.png").read_bytes().startswith(PNG_SIGNATURE)
    # Again into the same folder: the earlier report's files (its manifest) are replaced.
    (out / "plots" / "value_curve.png").write_bytes(b"stale")
    assert main(arguments) == 0
    assert (out / "plots" / "value_curve.png").read_bytes().startswith(PNG_SIGNATURE)
    # A folder holding a file the report did not write is refused, the file kept.
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("my notes")
    assert main(arguments[:-2] + [str(mine), "--quiet"]) == 2
    assert (mine / "report.html").read_text() == "my notes"


def test_exact_sums_are_the_exact_rational_sums_of_any_doubles():
    # Reference: Python's exact rationals of the same doubles (units of 2^-1127).
    from crmkit.plotting import _exact_sums, exact_float

    rng = np.random.default_rng(3)
    values = np.r_[rng.lognormal(3, 2, 500), -rng.lognormal(0, 3, 100), 5e-324, 2.2e-308,
                   1.7e308, -1.7e308, 1e-300, 0.0, -0.0, 0.1, 0.2, 0.3]
    for ordered in (values, np.sort(values)):
        ends = [0, 7, 300, 301, len(ordered)]
        found = _exact_sums(ordered, ends)
        starts = [0] + ends[:-1]
        for start, end, units in zip(starts, ends, found):
            exact = sum((Fraction(v) for v in ordered[start:end]), Fraction(0))
            assert Fraction(units, 2**1127) == exact
            assert exact_float(units) == float(exact)


def test_the_value_curve_refuses_a_value_that_is_not_finite():
    with pytest.raises(ValueError, match="value nan at position 2 is not finite"):
        ValueCurve.of_values([1.0, 2.0, np.nan])
