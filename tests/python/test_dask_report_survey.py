"""The survey tables of ``crmkit report --scheduler ... --survey`` on a 2-worker LocalCluster
against the single-machine report of the same log and answers: the same files, byte for byte,
for 1, 3 and 7 partitions, and the same notes and errors."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

from crmkit._report_cluster import cluster_tables, write_cluster_tables  # noqa: E402
from crmkit._report_cluster_survey import SURVEY_TABLES  # noqa: E402
from crmkit.report import build_report  # noqa: E402
from test_dask_report import AMOUNT, DATE, ID, log, write_log_parts  # noqa: E402,F401

UNKNOWN = 10**6  # customer ids from here on are not in the log
SURVEY_NOTES = ("survey answers are from customers not in the transaction log",
                "have an effective sample below 30")


@pytest.fixture(scope="module")
def survey(log):
    """Answers of 700 of the log's customers (some twice), NPS 0-10, CSAT 1-5 or blank, dated
    over the last year of the log except one month, and 7 answers from unknown customers (the
    first at position 5)."""
    rng = np.random.default_rng(14)
    customers = rng.choice(log[ID].unique(), size=700, replace=True)
    end = log[DATE].max().normalize()
    days = rng.integers(0, 365, size=len(customers))
    dates = end - pd.to_timedelta(days, unit="D")
    gap = (end - pd.DateOffset(months=5)).to_period("M")
    dates = dates.where(dates.to_period("M") != gap, dates - pd.DateOffset(months=1))
    csat = rng.integers(1, 6, size=len(customers)).astype(float)
    csat[rng.random(len(customers)) < 0.3] = np.nan
    answers = pd.DataFrame({"customer_id": customers,
                            "nps": rng.integers(0, 11, size=len(customers)),
                            "csat": csat, "date": dates})
    strangers = pd.DataFrame({"customer_id": UNKNOWN + np.arange(7), "nps": 7, "csat": 4.0,
                              "date": end})
    positions = [5, 90, 200, 333, 512, 640, 699]
    for row, position in enumerate(positions):
        answers = pd.concat([answers.iloc[:position], strangers.iloc[[row]],
                             answers.iloc[position:]], ignore_index=True)
    return answers


@pytest.fixture(scope="module")
def single(log, survey, tmp_path_factory):
    out = tmp_path_factory.mktemp("single_survey")
    report = build_report(log, str(out), survey=survey, progress=None)
    return out, [n for n in report.notes if any(s in n for s in SURVEY_NOTES)]


@pytest.fixture(scope="module", params=[1, 3, 7])
def cluster(request, client, log, survey, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"cluster_survey{request.param}")
    tables = cluster_tables(dd.from_pandas(log, npartitions=request.param, sort=False), ID, DATE,
                            AMOUNT,
                            survey=dd.from_pandas(survey, npartitions=request.param, sort=False))
    write_cluster_tables(tables, str(out))
    return out, [n for n in tables["notes"] if any(s in n for s in SURVEY_NOTES)]


def test_every_survey_table_is_the_single_machine_file(single, cluster):
    (expected, _), (found, _) = single, cluster
    written = [name for name in SURVEY_TABLES if (expected / f"{name}.csv").exists()]
    assert written == list(SURVEY_TABLES)  # stage, CSAT and dates: every table
    for name in written:
        assert (found / f"{name}.csv").read_bytes() == (expected / f"{name}.csv").read_bytes(), name


def test_the_tables_show_the_rules_they_are_compared_on(single):
    folder, _ = single
    month = pd.read_csv(folder / "nps_by_month.csv")
    assert month["is_empty"].sum() == 1 and len(month) >= 12  # the month without answers
    rfm = pd.read_csv(folder / "rfm_segments.csv")
    by_rfm = pd.read_csv(folder / "nps_by_rfm_segment.csv")
    assert by_rfm["n"].min() > 0 and set(by_rfm["rfm_segment"]) <= set(rfm["rfm_segment"])
    overall = pd.read_csv(folder / "nps_overall.csv")
    assert overall["n"].iloc[0] == 700  # the 7 strangers left out


def test_survey_notes_are_the_single_machine_notes(single, cluster):
    (_, expected), (_, found) = single, cluster
    assert found == expected
    assert expected[0].startswith("7 survey answers are from customers not in the transaction "
                                  f"log (the first: answer 5, customer key {UNKNOWN})")


def _write_inputs(log, survey, folder):
    write_log_parts(log, folder / "log", 3)
    (folder / "survey").mkdir()
    for i, chunk in enumerate(np.array_split(survey, 2)):
        chunk.assign(date=chunk["date"].dt.strftime("%Y-%m-%d"),
                     csat=chunk["csat"].map(lambda x: "" if np.isnan(x) else str(int(x)))).to_csv(
            folder / "survey" / f"answers-{i}.csv", index=False)


def test_the_command_reads_a_glob_of_survey_files(client, log, survey, single, tmp_path, capsys):
    from crmkit.__main__ import main

    _write_inputs(log, survey, tmp_path)
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "log"), "--scheduler", client.scheduler.address,
                 "--survey", str(tmp_path / "survey" / "answers-*.csv"), "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    expected, notes = single
    for name in SURVEY_TABLES:
        assert (out / f"{name}.csv").read_bytes() == (expected / f"{name}.csv").read_bytes(), name
        assert f"{name}.csv" in printed
    assert f"note: {notes[0]}" in printed


def test_a_bad_survey_row_is_named_with_its_file_and_row(client, log, survey, tmp_path, capsys):
    from crmkit.__main__ import main

    _write_inputs(log, survey, tmp_path)
    bad = tmp_path / "survey" / "answers-1.csv"
    lines = bad.read_text().splitlines()
    fields = lines[3].split(",")
    fields[1] = "11"
    lines[3] = ",".join(fields)
    bad.write_text("\n".join(lines) + "\n")
    assert main(["report", str(tmp_path / "log"), "--scheduler", client.scheduler.address,
                 "--survey", str(tmp_path / "survey"), "--out", str(tmp_path / "out"),
                 "--quiet"]) == 2
    message = capsys.readouterr().err
    # The single-machine reader's message: file:line (the header is line 1), column, value.
    assert f"{bad}:4: column 'nps': '11' is not a whole number from 0 to 10" in message


def test_answers_from_no_customer_of_the_log_stop_the_report(client, log, survey):
    strangers = survey.assign(customer_id=UNKNOWN + np.arange(len(survey)))
    with pytest.raises(ValueError, match="no survey answer is from a customer of the "
                                         "transaction log"):
        cluster_tables(dd.from_pandas(log, npartitions=2, sort=False), ID, DATE, AMOUNT,
                       survey=dd.from_pandas(strangers, npartitions=2, sort=False))


def test_text_customer_ids_give_the_single_machine_survey_files(client, log, survey, tmp_path):
    def named(ids):
        return "C-" + ids.astype(str).str.zfill(7)

    text_log = log.assign(**{ID: named(log[ID])})
    text_survey = survey.assign(customer_id=named(survey["customer_id"]))
    report = build_report(text_log, str(tmp_path / "single"), survey=text_survey, progress=None)
    tables = cluster_tables(dd.from_pandas(text_log, npartitions=3, sort=False), ID, DATE, AMOUNT,
                            survey=dd.from_pandas(text_survey, npartitions=2, sort=False))
    write_cluster_tables(tables, str(tmp_path / "cluster"))
    for name in SURVEY_TABLES:
        assert ((tmp_path / "cluster" / f"{name}.csv").read_bytes()
                == (tmp_path / "single" / f"{name}.csv").read_bytes()), name
    notes = [n for n in report.notes if SURVEY_NOTES[0] in n]
    assert notes and notes == [n for n in tables["notes"] if SURVEY_NOTES[0] in n]


def test_survey_partitions_without_answers_add_nothing(client, log, survey, single, tmp_path):
    # A partition of the answers can be empty (a file of headers only, or a join that sends no
    # answer there); its state has no CSAT or month cells and must not stop the merge (it did).
    expected, _ = single
    empty = dd.from_pandas(survey.iloc[:0], npartitions=1, sort=False)
    answers = dd.concat([empty, dd.from_pandas(survey, npartitions=2, sort=False), empty])
    lengths = [len(part) for part in answers.partitions]
    assert lengths[0] == lengths[-1] == 0 and sum(lengths) == len(survey)
    tables = cluster_tables(dd.from_pandas(log, npartitions=3, sort=False), ID, DATE, AMOUNT,
                            survey=answers)
    write_cluster_tables(tables, str(tmp_path))
    for name in SURVEY_TABLES:
        assert (tmp_path / f"{name}.csv").read_bytes() == (expected / f"{name}.csv").read_bytes()
