"""`crmkit report`: every table and plot of the demo and of a user-style CSV, and the HTML page."""

import json
import os
import re
import shutil
import struct
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import _core
from crmkit.__main__ import main
from crmkit._report_input import load_transactions, simulate_demo
from crmkit.data import simulate_transactions
from crmkit.report import build_report

DEMO_CUSTOMERS = 3000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

CUSTOMER_COLUMNS = ["frequency", "recency", "T", "monetary_value", "purchases", "weeks_since_last",
                    "mean_spend", "revenue", "p_alive", "expected_purchases_13w",
                    "expected_spend", "clv", "clv_lower", "clv_upper", "segment", "r_score",
                    "f_score", "m_score", "rfm_segment", "value_tier", "value_level", "stage"]
TABLES = {
    "customers": CUSTOMER_COLUMNS,
    "segments": ["description", "customers", "share", "weeks_since_last", "purchases",
                 "mean_spend", "p_alive", "clv", "total_clv", "revenue"],
    "rfm_segments": ["definition", "customers", "share", "weeks_since_last", "purchases",
                     "mean_spend", "revenue", "revenue_share", "p_alive", "clv", "total_clv",
                     "clv_share"],
    "value_tiers": ["split", "customers", "customer_share", "clv_share", "lowest_clv",
                    "total_clv", "revenue", "revenue_share", "p_alive"],
    "kmeans_quality": ["inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "chosen"],
    "early_warning": ["rfm_segment", "segment", "value_tier", "purchases", "revenue",
                      "last_purchase", "weeks_since_last", "p_alive", "clv", "value_at_risk"],
    "top_customers": CUSTOMER_COLUMNS,
    "model_parameters": ["model", "estimate", "standard_error"],
    "repeat_purchases": ["actual", "expected"],
    "calibration_vs_holdout": ["customers", "frequency_holdout", "model_predictions"],
    "cumulative_transactions": ["actual", "predicted"],
    "nps_by_segment": ["n", "nps", "lower", "upper", "small_sample"],
    "csat_by_segment": ["n", "share", "share_lower", "share_upper", "mean_score"],
    "nps_by_month": ["n", "nps", "lower", "upper", "is_empty"],
    "csat_by_month": ["n", "share", "share_lower", "share_upper"],
    "nps_overall": ["n", "nps", "lower", "upper"],
    "nps_by_stage": ["n", "nps", "lower", "upper", "small_sample"],
    "nps_by_rfm_segment": ["n", "nps", "lower", "upper", "small_sample"],
    "nps_by_value_tier": ["n", "nps", "lower", "upper", "small_sample"],
    "csat_by_rfm_segment": ["n", "share", "share_lower", "share_upper", "mean_score"],
    "lifecycle_stages": ["customers", "share", "p_alive", "clv", "total_clv", "revenue"],
    "stage_migration": ["prospect", "new", "developing", "stable", "at_risk", "churned",
                        "reactivated"],
    "cohort_retention": ["0", "1", "2"],
}
PLOTS = ["value_curve", "rfm_segments", "segments", "segment_profiles", "probability_alive", "frequency_recency",
         "repeat_purchases", "calibration_vs_holdout", "cumulative_transactions", "nps_trend",
         "stage_migration", "cohort_retention"]


def _png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == PNG_SIGNATURE, path
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def _read(out, name):
    return pd.read_csv(os.path.join(out, f"{name}.csv"), index_col=0)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["report", "--customers", str(DEMO_CUSTOMERS), "--seed", "3", "--out", str(out),
                 "--quiet"]) == 0
    return str(out)


def test_demo_writes_every_table_with_its_columns_and_no_missing_values(demo):
    for name, columns in TABLES.items():
        table = _read(demo, name)
        assert list(table.columns[: len(columns)]) == columns or set(columns) <= set(table.columns), name
        assert len(table) > 0, name
    customers = _read(demo, "customers")
    assert len(customers) == DEMO_CUSTOMERS
    assert not customers[CUSTOMER_COLUMNS].isna().any().any()
    assert customers["p_alive"].between(0, 1).all()
    assert (customers["clv"] >= 0).all()
    quality = _read(demo, "kmeans_quality")
    chosen = int(quality.index[quality["chosen"]][0])
    assert chosen == int(quality["silhouette"].idxmax())
    segments = _read(demo, "segments")
    assert len(segments) == chosen
    assert segments["customers"].sum() == DEMO_CUSTOMERS
    counted = customers["segment"].value_counts()
    assert (counted.reindex(segments.index) == segments["customers"]).all()
    assert segments["clv"].is_monotonic_decreasing  # C1 is the most valuable segment


def test_demo_numbers_agree_with_independent_pandas_computations(demo):
    log, survey = simulate_demo(DEMO_CUSTOMERS, 3)
    customers = _read(demo, "customers")
    # Revenue per customer and number of distinct purchase days, straight from the log.
    revenue = log.groupby("customer_id")["amount"].sum()
    days = log.groupby("customer_id")["date"].apply(lambda d: d.dt.normalize().nunique())
    np.testing.assert_allclose(customers["revenue"], revenue.reindex(customers.index), rtol=1e-5)
    np.testing.assert_array_equal(customers["purchases"], days.reindex(customers.index))
    # NPS per segment: 100 * (share of 9-10 minus share of 0-6) among the segment's answers.
    labelled = survey.join(customers["segment"], on="customer_id")
    expected = labelled.groupby("segment")["nps"].apply(
        lambda s: 100 * ((s >= 9).mean() - (s <= 6).mean()))
    by_segment = _read(demo, "nps_by_segment")
    np.testing.assert_allclose(by_segment["nps"], expected.reindex(by_segment.index), atol=1e-6)
    assert (by_segment["lower"] <= by_segment["nps"]).all()
    assert (by_segment["nps"] <= by_segment["upper"]).all()
    assert by_segment["n"].sum() == len(survey)
    # Early warning: valuable (3+ purchases) customers with 0.1 <= P(alive) < 0.5, by value at risk.
    warning = _read(demo, "early_warning")
    flagged = customers[(customers["purchases"] >= 3) & customers["p_alive"].between(0.1, 0.5,
                                                                                     "left")]
    assert set(warning.index) == set(flagged.index)
    assert warning["value_at_risk"].is_monotonic_decreasing


def test_demo_lifecycle_tables_are_consistent_and_cohorts_match_pandas(demo):
    customers = _read(demo, "customers")
    stages = _read(demo, "lifecycle_stages")
    assert stages["customers"].sum() == DEMO_CUSTOMERS
    counted = customers["stage"].value_counts()
    assert (counted.reindex(stages.index, fill_value=0) == stages["customers"]).all()
    # Migration: columns are the stages now, so their sums are today's stage counts.
    migration = _read(demo, "stage_migration")
    assert (migration.sum(axis=0).reindex(stages.index) == stages["customers"]).all()
    # Cohorts by first-purchase month; column k is the share of the cohort buying k months later.
    log, _ = simulate_demo(DEMO_CUSTOMERS, 3)
    month = log["date"].dt.to_period("M")
    first = month.groupby(log["customer_id"]).transform("min")
    offset = (month - first).apply(lambda d: d.n)
    active = pd.DataFrame({"cohort": first.astype(str), "k": offset,
                           "customer": log["customer_id"]}).drop_duplicates()
    sizes = active[active["k"] == 0].groupby("cohort").size()
    retained = active[active["k"] == 1].groupby("cohort").size() / sizes
    cohorts = _read(demo, "cohort_retention")
    np.testing.assert_allclose(cohorts["1"], retained.reindex(cohorts.index), rtol=1e-9)
    assert (cohorts["0"] == 1).all()


# The 10-segment R x F map as the Kaggle/Miuul notebooks write it: regular expressions over the
# string "<R score><F score>", replaced by the segment name.
RF_GRID = {r"[1-2][1-2]": "hibernating", r"[1-2][3-4]": "at_risk", r"[1-2]5": "cant_loose",
           r"3[1-2]": "about_to_sleep", r"33": "need_attention", r"[3-4][4-5]": "loyal",
           r"41": "promising", r"51": "new", r"[4-5][2-3]": "potential_loyalists",
           r"5[4-5]": "champions"}


def _quintile_scores(values, invert):
    # Independent average-rank scoring: pandas mid-ranks binned by the quintile edges of the
    # ranks 1..n (pandas' right-closed bins), recency inverted so that recent scores high.
    n = len(values)
    edges = np.quantile(np.arange(1, n + 1, dtype=float), np.linspace(0, 1, 6))
    bins = np.maximum(np.searchsorted(edges, values.rank(method="average"), side="left"), 1)
    return 6 - bins if invert else bins


def test_demo_rfm_scores_and_named_segments_match_pandas(demo):
    customers = _read(demo, "customers")
    for column, score, invert in (("weeks_since_last", "r_score", True),
                                  ("purchases", "f_score", False),
                                  ("mean_spend", "m_score", False)):
        np.testing.assert_array_equal(customers[score], _quintile_scores(customers[column], invert))
    keys = customers["r_score"].astype(str) + customers["f_score"].astype(str)
    expected = keys.replace(RF_GRID, regex=True)
    assert (customers["rfm_segment"] == expected).all()

    table = _read(demo, "rfm_segments")
    assert table["customers"].sum() == DEMO_CUSTOMERS
    np.testing.assert_allclose(table["share"].sum(), 1.0)
    np.testing.assert_allclose(table["revenue_share"].sum(), 1.0)
    np.testing.assert_allclose(table["clv_share"].sum(), 1.0)
    assert table["revenue"].is_monotonic_decreasing
    grouped = customers.groupby("rfm_segment")
    np.testing.assert_array_equal(table["customers"], grouped.size().reindex(table.index))
    for column in ("weeks_since_last", "purchases", "mean_spend", "p_alive", "clv"):
        np.testing.assert_allclose(table[column], grouped[column].mean().reindex(table.index),
                                   rtol=1e-9)
    np.testing.assert_allclose(table["revenue"], grouped["revenue"].sum().reindex(table.index),
                               rtol=1e-9)
    assert table.loc["champions", "definition"] == "R 5, F 4-5"
    assert table.loc["need_attention", "definition"] == "R 3, F 3"


def test_demo_value_tiers_follow_the_cumulative_share_rules(demo):
    customers = _read(demo, "customers")
    clv = customers["clv"]
    # ABC: a customer is in A while the customers ranked above hold < 80 % of the total, in B
    # while they hold < 95 %; equal values share a tier (count the strictly larger ones).
    ordered = np.sort(clv.to_numpy())
    above_value = ordered.sum() - np.cumsum(ordered)[np.searchsorted(ordered, clv, "right") - 1]
    value_share = above_value / ordered.sum()
    abc = np.where(value_share < 0.8, "A", np.where(value_share < 0.95, "B", "C"))
    assert (customers["value_tier"] == abc).all()
    above_count = len(ordered) - np.searchsorted(ordered, clv, "right")
    count_share = above_count / len(ordered)
    level = np.where(count_share < 0.2, "high", np.where(count_share < 0.5, "medium", "low"))
    assert (customers["value_level"] == level).all()

    tiers = _read(demo, "value_tiers")
    assert list(tiers.index) == ["A", "B", "C", "high", "medium", "low"]
    total = clv.sum()
    for column in ("value_tier", "value_level"):
        grouped = customers.groupby(column)
        rows = tiers.loc[grouped.size().index]
        np.testing.assert_array_equal(rows["customers"], grouped.size())
        assert rows["customers"].sum() == DEMO_CUSTOMERS
        np.testing.assert_allclose(rows["clv_share"], grouped["clv"].sum() / total, rtol=1e-9)
        np.testing.assert_allclose(rows["clv_share"].sum(), 1.0)
        np.testing.assert_allclose(rows["revenue_share"].sum(), 1.0)
        np.testing.assert_allclose(rows["lowest_clv"], grouped["clv"].min(), rtol=1e-12)
    assert tiers.loc["A", "clv_share"] >= 0.8 and tiers.loc[["A", "B"], "clv_share"].sum() >= 0.95
    np.testing.assert_allclose(tiers.loc["high", "customer_share"], 0.2, atol=0.01)


def test_demo_satisfaction_by_named_segment_and_value_tier(demo):
    _, survey = simulate_demo(DEMO_CUSTOMERS, 3)
    customers = _read(demo, "customers")
    labelled = survey.join(customers[["rfm_segment", "value_tier"]], on="customer_id")
    for by in ("rfm_segment", "value_tier"):
        expected = labelled.groupby(by)["nps"].apply(
            lambda s: 100 * ((s >= 9).mean() - (s <= 6).mean()))
        table = _read(demo, f"nps_by_{by}")
        assert set(table.index) == set(expected.index)
        np.testing.assert_allclose(table["nps"], expected.reindex(table.index), atol=1e-6)
        assert table["n"].sum() == len(survey)
    csat = _read(demo, "csat_by_rfm_segment")
    top_two = labelled.groupby("rfm_segment")["csat"].apply(lambda s: (s >= 4).mean())
    np.testing.assert_allclose(csat["share"], top_two.reindex(csat.index), atol=1e-9)


def test_demo_page_reads_the_named_segments_and_tiers_in_words(demo):
    with open(os.path.join(demo, "report.html"), encoding="utf-8") as handle:
        page = handle.read()
    champions = _read(demo, "rfm_segments").loc["champions"]
    assert (f"<b>Champions</b> (R 5, F 4-5): {champions['customers']:,.0f} customers "
            f"({champions['share']:.0%}), {champions['revenue_share']:.0%} of revenue") in page
    tier = _read(demo, "value_tiers").loc["A"]
    assert (f"Tier A: {tier['customers']:,.0f} customers ({tier['customer_share']:.0%}) hold "
            f"{tier['clv_share']:.0%} of the expected value") in page


def test_demo_plots_are_png_files_embedded_in_a_self_contained_page(demo):
    for name in PLOTS:
        width, height = _png_size(os.path.join(demo, "plots", f"{name}.png"))
        assert width >= 300 and height >= 200, name
    with open(os.path.join(demo, "report.html"), encoding="utf-8") as handle:
        page = handle.read()
    assert page.count('src="data:image/png;base64,') == len(PLOTS)
    assert not re.search(r"(src|href)=\"(https?:|//)", page)
    # One inline script (sorting and filtering the customer lists), nothing loaded from outside.
    assert "<link" not in page and page.count("<script") == page.count("<script>") == 1
    for heading in ("Headline numbers", "Who the customers are: named segments",
                    "Who the customers are: data-driven segments", "Who is worth most",
                    "Who is slipping away", "How satisfaction moves"):
        assert heading in page
    assert f"{DEMO_CUSTOMERS:,}" in page


def test_report_tables_are_ordinary_dataframes_whose_cells_can_be_edited(tmp_path):
    log, survey = simulate_demo(2000, 4)
    out = tmp_path / "out"
    report = build_report(log, str(out), survey=survey, progress=None)
    written = {name: (out / f"{name}.csv").read_bytes() for name in report.tables}
    customers = report.tables["customers"]
    first, second = customers.index[:2]
    # One cell of each kind the library hands over: number, integer, text, flag, date.
    customers.loc[first, "clv"] = -1.5
    customers.loc[first, "purchases"] = 1234
    customers.loc[first, "rfm_segment"] = customers.loc[second, "rfm_segment"]
    nps = report.tables["nps_by_segment"]
    nps.iloc[0, nps.columns.get_loc("small_sample")] = not nps["small_sample"].iloc[0]
    warning = report.tables["early_warning"]
    warning.iloc[0, warning.columns.get_loc("last_purchase")] = pd.Timestamp("2020-02-29")
    assert customers.loc[first, "clv"] == -1.5
    assert customers.loc[first, "purchases"] == 1234
    assert customers.loc[first, "rfm_segment"] == customers.loc[second, "rfm_segment"]
    assert warning["last_purchase"].iloc[0] == pd.Timestamp("2020-02-29")
    customers["clv"] *= 2
    assert customers.loc[first, "clv"] == -3.0
    # The files were written from the library's values before anyone could edit them.
    assert {name: (out / f"{name}.csv").read_bytes() for name in report.tables} == written
    assert _read(out, "customers").loc[first, "clv"] != -1.5


def test_a_read_log_lent_to_the_library_gives_the_tables_of_a_copy_and_stays_as_it_was(tmp_path):
    # The library analyses the customer and amount columns of a log that
    # crmkit.read_transactions read in place (swapped into the analysis and back, not copied);
    # a copy of the same log (columns numpy owns) is copied in. Both must give the same files,
    # and the read log must hold its values afterwards, also after an analysis that failed.
    log, _ = simulate_demo(2000, 6)
    path = tmp_path / "log.csv"
    crmkit.data.write_csv(log, str(path), index=False)
    read, columns = load_transactions(str(path))
    before = read.copy(deep=True)
    options = _core.pipeline.AnalysisOptions()
    options.clv_interval_level = 2.0
    customer = read[columns.customer].to_numpy()
    ticks = read[columns.date].to_numpy().view(np.int64)
    amount = read[columns.amount].to_numpy()
    with pytest.raises(ValueError, match="clv_interval_level"):
        _core.pipeline.analyze(customer, [], ticks, amount, options=options)
    pd.testing.assert_frame_equal(read, before)
    lent = build_report(read, str(tmp_path / "lent"), columns, progress=None)
    copied = build_report(before.copy(deep=True), str(tmp_path / "copied"), columns,
                          progress=None)
    pd.testing.assert_frame_equal(read, before)
    for name in lent.tables:
        assert (tmp_path / "lent" / f"{name}.csv").read_bytes() == \
            (tmp_path / "copied" / f"{name}.csv").read_bytes(), name


def test_user_style_csv_with_string_ids_iso_dates_and_other_column_names(tmp_path):
    log, _ = simulate_transactions(1500, seed=11, start="2023-03-01", freq="W", horizon=80)
    user = pd.DataFrame({
        "order_date": log["date"].dt.strftime("%Y-%m-%d"),
        "customer": "C-" + log["customer_id"].astype(str).str.zfill(5),
        "revenue": log["amount"].round(2),
        "channel": "web",
    })
    path = tmp_path / "orders.csv"
    user.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["report", str(path), "--out", str(out), "--quiet"]) == 0
    customers = pd.read_csv(out / "customers.csv", index_col=0)
    assert customers.index[0].startswith("C-")
    expected = user.groupby("customer")["revenue"].sum()
    np.testing.assert_allclose(customers["revenue"], expected.reindex(customers.index), rtol=1e-5)
    for name in ("customers", "segments", "early_warning", "calibration_vs_holdout"):
        assert (out / f"{name}.csv").exists()
    assert not (out / "nps_by_segment.csv").exists()
    with open(out / "report.html", encoding="utf-8") as handle:
        page = handle.read()
    assert "orders.csv" in page and "How satisfaction moves" not in page


def test_another_rfm_rule_set_names_the_segments_in_english(tmp_path):
    log, _ = simulate_transactions(1500, seed=5, start="2023-03-01", freq="W", horizon=80)
    path = tmp_path / "tx.csv"
    log.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["report", str(path), "--rfm-rules", "chinese_value", "--out", str(out),
                 "--quiet"]) == 0
    customers = pd.read_csv(out / "customers.csv", index_col=0)
    # The 8-class map: R, F and M count as high from score 4 of 5; (R, F, M) high/low.
    names = {(1, 1, 1): "Important value", (1, 0, 1): "Important development",
             (0, 1, 1): "Important retention", (0, 0, 1): "Important win-back",
             (1, 1, 0): "General value", (1, 0, 0): "General development",
             (0, 1, 0): "General retention", (0, 0, 0): "General win-back"}
    high = customers[["r_score", "f_score", "m_score"]] >= 4
    expected = [names[tuple(int(v) for v in row)] for row in high.to_numpy()]
    assert (customers["rfm_segment"] == expected).all()
    table = pd.read_csv(out / "rfm_segments.csv", index_col=0)
    assert table["customers"].sum() == len(customers)
    assert table.loc["Important value", "definition"] == "R 4-5, F 4-5, M 4-5"


def test_repeat_buyers_who_spent_nothing_get_the_gamma_gamma_limit(tmp_path, capsys):
    log, _ = simulate_transactions(1500, seed=8, start="2023-03-01", freq="W", horizon=80)
    free = pd.DataFrame({"customer_id": 99999, "amount": 0.0,
                         "date": pd.to_datetime(["2023-03-02", "2023-06-01", "2023-09-01"])})
    path = tmp_path / "tx.csv"
    pd.concat([log, free]).to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["report", str(path), "--out", str(out), "--quiet"]) == 0
    assert "1 customer(s) bought again but spent nothing" in capsys.readouterr().err
    customers = pd.read_csv(out / "customers.csv", index_col=0)
    params = pd.read_csv(out / "model_parameters.csv", index_col=0)
    p, q, v = (params.loc[name, "estimate"] for name in ("p", "q", "v"))
    # Gamma-Gamma posterior mean spend (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 5):
    # p (v + x zbar) / (p x + q - 1), here with zbar = 0 and x = 2 repeat purchases.
    row = customers.loc[99999]
    assert row["frequency"] == 2 and row["monetary_value"] == 0
    np.testing.assert_allclose(row["expected_spend"], p * v / (p * 2 + q - 1), rtol=1e-9)
    assert row["clv"] > 0


def test_rule_sets_listing_cells_are_defined_by_their_cells(small_log, tmp_path):
    from crmkit.segment import RFMRuleSet

    out = tmp_path / "out"
    assert main(["report", str(small_log), "--rfm-rules", "pymc_marketing", "--out", str(out),
                 "--quiet"]) == 0
    definitions = pd.read_csv(out / "rfm_segments.csv", index_col=0)["definition"]
    rules = RFMRuleSet.builtin("pymc_marketing")
    named = [rule for rule in rules.rules if rule.name in definitions.index]
    assert len(named) >= 3
    for rule in named:
        # PyMC-Marketing's rules are lists of single (r, f, m) cells.
        cells = {f"{box[0]}{box[2]}{box[4]}" for box in rule.boxes}
        assert definitions[rule.name].startswith("RFM cells ")
        assert set(definitions[rule.name][len("RFM cells "):].split(", ")) == cells


def _bad(args, tmp_path, out=None):
    run = subprocess.run([sys.executable, "-m", "crmkit", "report", *args, "--out",
                          str(out if out is not None else tmp_path / "out"), "--quiet"],
                         capture_output=True, text=True, check=False)
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 2, run.stderr
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


@pytest.fixture()
def orders(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("order_date,customer,amount\n2024-01-03,a,10.5\n2024-02-01,b,3\n")
    return path


def test_bad_input_missing_column_lists_the_available_ones(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("when,customer,amount\n2024-01-03,a,10.5\n")
    line = _bad([str(path)], tmp_path)
    assert f"column 'date' not found in {path}" in line
    assert "available: when, customer, amount" in line and "--date-col" in line


def test_bad_input_column_typo_suggests_the_close_name(orders, tmp_path):
    line = _bad([str(orders), "--date-col", "order_dat"], tmp_path)
    assert "column 'order_dat' (--date-col) not found" in line
    assert "did you mean 'order_date'?" in line


def test_bad_input_wrong_date_format_names_file_line_and_fix(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_text("date,customer_id,amount\n2024-01-03,1,10\n03/02/2024,2,5\n")
    line = _bad([str(path)], tmp_path)
    assert f"{path}:3:" in line and "03/02/2024" in line and "--date-format" in line


def test_bad_input_the_log_is_reported_before_the_survey(orders, tmp_path):
    # The command reads the survey file on a thread while it reads the log; a bad log still
    # stops it first, and a bad survey file is named once the log has been read.
    missing_survey = tmp_path / "nothere.csv"
    line = _bad([str(tmp_path / "no_log.csv"), "--survey", str(missing_survey)], tmp_path)
    assert f"{tmp_path / 'no_log.csv'} not found" in line and "survey file" not in line
    line = _bad([str(orders), "--survey", str(missing_survey)], tmp_path)
    assert f"survey file {missing_survey} not found" in line


def test_bad_input_empty_or_answerless_survey_file(orders, tmp_path):
    empty = tmp_path / "survey.csv"
    empty.write_text("")
    line = _bad([str(orders), "--survey", str(empty)], tmp_path)
    assert f"survey file {empty} is empty" in line
    empty.write_text("customer_id,nps\n")
    line = _bad([str(orders), "--survey", str(empty)], tmp_path)
    assert "has a header but no answers" in line


def test_bad_input_missing_file_and_bad_demo_size(tmp_path):
    line = _bad([str(tmp_path / "nope.csv")], tmp_path)
    assert "nope.csv not found" in line
    line = _bad(["--customers", "0"], tmp_path)
    assert "--customers 0 must be at least 1" in line


def test_report_renders_in_headless_chromium(demo, tmp_path):
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium")
                                            else None)
    if chromium is None:
        pytest.skip("chromium is not installed (Debian package 'chromium')")
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                    f"--screenshot={shot}", "--window-size=1280,2000",
                    "file://" + os.path.join(demo, "report.html")],
                   capture_output=True, timeout=120, check=False)
    assert _png_size(shot) == (1280, 2000)
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.std() > 0.05  # a blank page is one colour
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50


def test_bad_input_rows_wrong_separator_and_answers_off_the_scale(orders, tmp_path):
    amounts = tmp_path / "amounts.csv"
    amounts.write_text("customer_id,date,amount\n1,2024-01-03,10\n2,2024-01-05,abc\n")
    line = _bad([str(amounts)], tmp_path)
    assert f"{amounts}:3:14: column 'amount': cannot parse 'abc' as a number" in line
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("customer_id,date,amount\n1;2024-01-03;10\n")
    line = _bad([str(semicolons)], tmp_path)
    assert "expected 3 fields, found 1" in line and "--sep" in line
    survey = tmp_path / "answers.csv"
    survey.write_text("customer,score,csat\na,9,4\nb,11,5\n")
    line = _bad([str(orders), "--survey", str(survey)], tmp_path)
    assert f"{survey}:3: column 'score': '11' is not a whole number from 0 to 10" in line
    survey.write_text("customer,score,csat\na,9,4\nb,10,7\n")
    line = _bad([str(orders), "--survey", str(survey)], tmp_path)
    assert "column 'csat': '7' is not a whole number from 1 to 5" in line
    line = _bad([str(orders), "--survey", str(survey), "--nps-col", "nsp"], tmp_path)
    assert "column 'nsp' (--nps-col) not found" in line and "available: customer, score, csat" in line


def test_survey_answers_with_spaces_around_them_and_blank_csat_are_read(tmp_path):
    from crmkit._report_input import load_survey

    survey = tmp_path / "answers.csv"
    # Spaces, a tab and no-break spaces (U+00A0) around the numbers; one blank CSAT cell.
    survey.write_text("customer_id,nps,csat\n 7 ,9 ,\xa04\n8,\t10, \n\xa09\xa0,0,1\n",
                      encoding="utf-8")
    answers = load_survey(str(survey), pd.Series([7, 8, 9]))
    assert answers["customer_id"].tolist() == [7, 8, 9]
    assert answers["nps"].tolist() == [9, 10, 0]
    assert answers["csat"].iloc[[0, 2]].tolist() == [4, 1] and np.isnan(answers["csat"].iloc[1])
    survey.write_text("customer_id,nps,csat\n7,9,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r":2: column 'csat': 'x' is not a whole number"):
        load_survey(str(survey), pd.Series([7]))
    survey.write_text("customer_id,nps\n7, \n", encoding="utf-8")
    with pytest.raises(ValueError, match=r":2: column 'nps': '' is not a whole number"):
        load_survey(str(survey), pd.Series([7]))


def test_bad_input_unknown_rfm_rule_set_lists_the_built_in_ones(orders, tmp_path):
    line = _bad([str(orders), "--rfm-rules", "rf-grid"], tmp_path)
    assert "unknown RFM rule set 'rf-grid' (--rfm-rules)" in line
    assert "rf_grid, rfm_package, pymc_marketing, chinese_value" in line


def test_too_small_a_log_says_why_the_spend_model_cannot_be_fitted(orders, tmp_path):
    line = _bad([str(orders)], tmp_path)
    assert "only 0 customer(s) bought more than once" in line and "--amount-col" in line


@pytest.fixture(scope="module")
def small_log(tmp_path_factory):
    log, _ = simulate_transactions(800, seed=4, start="2023-03-01", freq="W", horizon=80)
    path = tmp_path_factory.mktemp("small") / "tx.csv"
    log.to_csv(path, index=False)
    return path


def test_out_refuses_a_folder_holding_files_the_report_did_not_write(small_log, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "customers.csv").write_text("my own table\n")
    line = _bad([str(small_log)], tmp_path, out=out)
    assert f"--out {out} is not empty" in line and "new or empty folder" in line
    assert sorted(os.listdir(out)) == ["customers.csv"]
    assert (out / "customers.csv").read_text() == "my own table\n"


def test_out_naming_a_file_or_a_folder_that_cannot_be_made_is_one_line(small_log, tmp_path):
    user_file = tmp_path / "notes.txt"
    user_file.write_text("keep me\n")
    line = _bad([str(small_log)], tmp_path, out=user_file)
    assert f"--out {user_file} is a file, not a folder" in line
    assert user_file.read_text() == "keep me\n"
    line = _bad([str(small_log)], tmp_path, out=user_file / "report")
    assert f"cannot write the report into --out {user_file / 'report'}" in line
    assert user_file.read_text() == "keep me\n"


def test_out_in_a_folder_without_write_permission_is_one_line(small_log, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running with a user that may write anywhere (root): permissions are not "
                        "enforced")
        line = _bad([str(small_log)], tmp_path, out=locked / "report")
        assert f"cannot write the report into --out {locked / 'report'}" in line
        assert "Permission denied" in line
    finally:
        locked.chmod(0o700)


def test_a_second_report_into_its_own_folder_leaves_no_stale_table(small_log, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", "--customers", "1500", "--seed", "2", "--out", str(out),
                 "--quiet"]) == 0
    assert (out / "nps_by_segment.csv").exists() and (out / "plots" / "nps_trend.png").exists()
    manifest = (out / ".crmkit-report").read_text().splitlines()
    assert "nps_by_segment.csv" in manifest and "report.html" in manifest
    (out / "my_notes.txt").write_text("added by the user\n")
    assert main(["report", str(small_log), "--out", str(out), "--quiet"]) == 0
    assert not (out / "nps_by_segment.csv").exists()
    assert not (out / "plots" / "nps_trend.png").exists()
    assert (out / "my_notes.txt").read_text() == "added by the user\n"
    written = set((out / ".crmkit-report").read_text().splitlines()[1:])
    on_disk = {str(path.relative_to(out)) for path in out.rglob("*") if path.is_file()}
    assert on_disk == written | {".crmkit-report", "my_notes.txt"}
    customers = pd.read_csv(out / "customers.csv", index_col=0)
    assert len(customers) == pd.read_csv(small_log)["customer_id"].nunique()


def test_a_manifest_naming_files_outside_the_folder_removes_nothing_there(small_log, tmp_path):
    outside = tmp_path / "precious.csv"
    outside.write_text("1\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".crmkit-report").write_text(f"# crmkit report\n../precious.csv\n{outside}\n")
    assert main(["report", str(small_log), "--out", str(out), "--quiet"]) == 0
    assert outside.read_text() == "1\n"


def test_amounts_that_overflow_the_sums_are_one_line_with_the_fix(tmp_path):
    log, _ = simulate_transactions(300, seed=6, start="2023-03-01", freq="W", horizon=60)
    path = tmp_path / "huge.csv"
    repeat_buyer = log["customer_id"].value_counts().index[0]
    log.loc[log["customer_id"] == repeat_buyer, "amount"] = 1e308
    log.to_csv(path, index=False)
    line = _bad([str(path)], tmp_path)
    assert "inf" in line and "column 'amount'" in line and "larger currency unit" in line
    # Three one-time buyers of 1e308 each: every customer's revenue is finite, their sum is not.
    others = log[log["customer_id"] != repeat_buyer]
    huge = others.drop_duplicates("customer_id").head(3).assign(amount=1e308)
    rest = others[~others["customer_id"].isin(huge["customer_id"])]
    pd.concat([huge, rest]).to_csv(path, index=False)
    line = _bad([str(path)], tmp_path)
    assert "the revenue of all customers adds up to inf" in line
    assert "column 'amount'" in line and "larger currency unit" in line


def test_a_report_either_has_finite_predictions_or_stops_with_one_line(tmp_path):
    # Every customer buys twice in the first weeks and never again: BG/NBD then puts the dropout
    # probability near 1 (a >> b), the region where predictions used to come out NaN (issue 13,
    # defect 1). Whatever the fit, the report must not print a NaN CLV or a traceback.
    rng = np.random.default_rng(5)
    customers = np.repeat(np.arange(400), 2)
    days = np.stack([rng.integers(0, 20, 400), rng.integers(21, 40, 400)], axis=1).ravel()
    days = np.concatenate([days, [400]])
    customers = np.concatenate([customers, [400]])
    log = pd.DataFrame({"customer_id": customers,
                        "date": pd.Timestamp("2023-01-02") + pd.to_timedelta(days, unit="D"),
                        "amount": rng.uniform(5, 50, len(days)).round(2)})
    path = tmp_path / "dropouts.csv"
    log.to_csv(path, index=False)
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "crmkit", "report", str(path), "--out", str(out),
                          "--quiet"], capture_output=True, text=True, check=False)
    assert "Traceback" not in run.stderr
    if run.returncode == 0:
        customers = pd.read_csv(out / "customers.csv", index_col=0)
        for column in ("p_alive", "expected_purchases_13w", "expected_spend", "clv"):
            assert np.isfinite(customers[column]).all(), column
    else:
        assert run.returncode == 2
        errors = [line for line in run.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1 and "customer" in errors[0], run.stderr


def _cli_binary():
    """The C++ command-line tool: $CRMKIT_CLI (scripts/test.sh sets it to the build tree's
    binary, so CI never skips), else the release build tree's, else None."""
    given = os.environ.get("CRMKIT_CLI")
    if given:
        assert os.access(given, os.X_OK), f"CRMKIT_CLI={given} is not an executable"
        return given
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    built = os.path.join(root, "build", "release", "tools", "cli", "crmkit")
    return built if os.access(built, os.X_OK) else None


def _cli_binary_or_skip():
    cli = _cli_binary()
    if cli is None:
        pytest.skip("the C++ crmkit tool is not built (set CRMKIT_CLI or build "
                    "build/release/tools/cli/crmkit; scripts/test.sh sets it)")
    return cli


def _demo_order_lines(customers: int, seed: int, days: int, return_every: int) -> pd.DataFrame:
    """Order lines of the demo's customers over the last `days` days from 2025-08-01: text order
    and product ids (text order differs from number order), every `return_every`-th line a
    return (none when 0)."""
    lines = crmkit.simulate_baskets(customers=customers, seed=seed, days=days)["lines"]
    returned = (np.arange(len(lines)) % return_every == 0) if return_every else False
    return pd.DataFrame({"order_id": "o" + lines["order_id"].astype(str),
                         "customer_id": lines["customer_id"],
                         "date": (pd.Timestamp("2025-08-01")
                                  + pd.to_timedelta(lines["day"], "D")).dt.strftime("%Y-%m-%d"),
                         "product_id": "sku" + lines["product_id"].astype(str),
                         "quantity": np.where(returned, -1, 1)})


def test_the_cli_and_python_reports_write_byte_identical_tables(tmp_path):
    cli = _cli_binary_or_skip()
    log, survey = simulate_demo(2500, 9)
    # A repeat buyer whose repeat purchases were free: both front ends must use the same
    # zero-spend policy (Gamma-Gamma mean at zero observed spend, p v / (p x + q - 1)).
    free = pd.DataFrame({"customer_id": 99999, "amount": 0.0,
                         "date": pd.to_datetime(["2024-01-02", "2024-05-01", "2024-09-01"])})
    log_path, survey_path = tmp_path / "tx.csv", tmp_path / "survey.csv"
    pd.concat([log, free]).to_csv(log_path, index=False)
    survey.to_csv(survey_path, index=False)
    # Order lines of the demo's customers over its last 120 days ("what to offer whom"): text
    # product ids (text order differs from number order), returns, a line for a customer absent
    # from the log.
    lines = _demo_order_lines(2500, seed=9, days=120, return_every=41)
    lines.loc[len(lines)] = ["o-extra", 123456, "2025-09-01", "sku1", 2]
    lines_path = tmp_path / "lines.csv"
    lines.to_csv(lines_path, index=False)
    python_out, cli_out = tmp_path / "python", tmp_path / "cli"
    assert main(["report", str(log_path), "--survey", str(survey_path), "--order-lines",
                 str(lines_path), "--out", str(python_out), "--quiet"]) == 0
    run = subprocess.run([cli, "report", str(log_path), "--survey", str(survey_path),
                          "--order-lines", str(lines_path), "--out", str(cli_out)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    python_tables = sorted(p.name for p in python_out.glob("*.csv"))
    cli_tables = sorted(p.name for p in cli_out.glob("*.csv"))
    assert python_tables == cli_tables
    for name in ("customers.csv", "early_warning.csv", "nps_by_segment.csv",
                 "cross_sell_rules.csv", "cross_sell_pairs.csv", "offers.csv"):
        assert name in python_tables
    offers = pd.read_csv(python_out / "offers.csv")
    assert set(offers["who"]) == {"slipping away", "top value"}
    assert len(pd.read_csv(python_out / "cross_sell_pairs.csv")) > 0
    for name in python_tables:
        assert (python_out / name).read_bytes() == (cli_out / name).read_bytes(), name
    customers = pd.read_csv(python_out / "customers.csv", index_col=0)
    # Each customer's CLV interval is in both tables (compared byte for byte above), around clv.
    assert (customers["clv_lower"] <= customers["clv"]).all()
    assert (customers["clv"] <= customers["clv_upper"]).all()
    params = pd.read_csv(python_out / "model_parameters.csv", index_col=0)
    p, q, v = (params.loc[name, "estimate"] for name in ("p", "q", "v"))
    # Fader, Hardie & Lee (2005), "RFM and CLV", eq. 5 at zbar = 0 and x = 2.
    np.testing.assert_allclose(customers.loc[99999, "expected_spend"], p * v / (p * 2 + q - 1),
                               rtol=1e-9)
    # The early-warning list is the library's one definition (crmkit::pipeline::early_warning):
    # repeat customers with P(alive) in [0.1, 0.5), by value at risk.
    warning = pd.read_csv(python_out / "early_warning.csv", index_col=0)
    expected = customers[(customers["purchases"] >= 3) & (customers["p_alive"] < 0.5)
                         & (customers["p_alive"] >= 0.1)]
    assert set(warning.index) == set(expected.index)
    at_risk = expected["revenue"] * (1 - expected["p_alive"])
    np.testing.assert_allclose(warning["value_at_risk"], at_risk.reindex(warning.index),
                               rtol=1e-12)
    assert warning["value_at_risk"].is_monotonic_decreasing


def test_text_customer_ids_give_byte_identical_tables_whatever_the_row_order(tmp_path):
    # Text ids are numbered in text order by both readers (the C++ reader sorts its labels as
    # pandas.factorize(sort=True) does), so the customer order, and with it the fits' sums and
    # k-means' seeding, does not depend on the front end or on the order of the log's rows.
    # (The C++ tool used to number them in order of first appearance: its Gamma-Gamma estimates
    # differed in the last digits and a k-means segment took another name.)
    cli = _cli_binary_or_skip()
    log, _ = simulate_demo(900, 5)
    log["customer_id"] = "c" + log["customer_id"].astype(str)
    shuffled = log.sample(frac=1.0, random_state=3)
    assert list(shuffled["customer_id"].drop_duplicates()[:3]) != sorted(set(log["customer_id"]))[:3]
    outputs = {}
    for name, frame in (("sorted", log), ("shuffled", shuffled)):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        outputs[f"python-{name}"] = tmp_path / f"python-{name}"
        assert main(["report", str(path), "--out", str(outputs[f"python-{name}"]), "--quiet"]) == 0
        outputs[f"cli-{name}"] = tmp_path / f"cli-{name}"
        run = subprocess.run([cli, "report", str(path), "--out", str(outputs[f"cli-{name}"])],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
    reference = outputs["python-sorted"]
    tables = sorted(p.name for p in reference.glob("*.csv"))
    assert "customers.csv" in tables and "segments.csv" in tables
    customers = pd.read_csv(reference / "customers.csv", index_col=0)
    assert list(customers.index) == sorted(customers.index)
    for folder in outputs.values():
        assert sorted(p.name for p in folder.glob("*.csv")) == tables
        for name in tables:
            assert (folder / name).read_bytes() == (reference / name).read_bytes(), (folder.name, name)


def test_both_front_ends_find_columns_by_their_common_names_alike(tmp_path):
    # Without column options, the Python report and the C++ tool find each input column among the
    # names people commonly give it (one list, crmkit::data::common_column_names), case and
    # punctuation ignored: the same tables as the same data under the standard names.
    cli = _cli_binary_or_skip()
    log, survey = simulate_demo(700, 4)
    lines = _demo_order_lines(700, seed=4, days=60, return_every=0)
    renamed = {
        "log": log.rename(columns={"customer_id": "Client", "date": "Invoice Date",
                                   "amount": "Revenue"})[["Revenue", "Client", "Invoice Date"]],
        "survey": survey.rename(columns={"customer_id": "Customer", "nps": "Likelihood to recommend",
                                         "csat": "Satisfaction", "date": "Response-Date"}),
        "lines": lines.rename(columns={"order_id": "Invoice No", "customer_id": "CLIENT_ID",
                                       "date": "InvoiceDate", "product_id": "StockCode",
                                       "quantity": "Qty"}),
    }
    standard = {"log": log, "survey": survey, "lines": lines}
    outputs = {}
    for variant, frames in (("standard", standard), ("renamed", renamed)):
        paths = {}
        for name, frame in frames.items():
            paths[name] = tmp_path / f"{variant}-{name}.csv"
            frame.to_csv(paths[name], index=False)
        arguments = ["report", str(paths["log"]), "--survey", str(paths["survey"]),
                     "--order-lines", str(paths["lines"])]
        outputs[f"python-{variant}"] = tmp_path / f"python-{variant}"
        assert main(arguments + ["--out", str(outputs[f"python-{variant}"]), "--quiet"]) == 0
        outputs[f"cli-{variant}"] = tmp_path / f"cli-{variant}"
        run = subprocess.run([cli] + arguments + ["--out", str(outputs[f"cli-{variant}"])],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
    reference = outputs["python-standard"]
    tables = sorted(p.name for p in reference.glob("*.csv"))
    for name in ("customers.csv", "nps_by_segment.csv", "cross_sell_pairs.csv"):
        assert name in tables
    for folder in outputs.values():
        assert sorted(p.name for p in folder.glob("*.csv")) == tables, folder.name
        for name in tables:
            assert (folder / name).read_bytes() == (reference / name).read_bytes(), (folder.name, name)


def test_the_cli_report_names_what_is_wrong_with_order_lines(tmp_path):
    cli = _cli_binary_or_skip()
    log, _ = simulate_demo(300, 2)
    log.to_csv(tmp_path / "tx.csv", index=False)
    lines = crmkit.simulate_baskets(customers=300, seed=2, days=60)["lines"]
    lines = lines.assign(date="2025-08-01", quantity="1").drop(columns="day").astype(str)
    cases = {
        "bad_date": (lines.assign(date=lines["date"].where(lines.index != 3, "31/12/2024")), [],
                     r"bad_date.csv:5:\d+: column 'date': cannot read '31/12/2024' as a date; "
                     "give the format with --date-format"),
        "bad_customer": (lines.assign(customer_id=lines["customer_id"].where(lines.index != 0,
                                                                             "c7")), [],
                         r"bad_customer.csv:2:\d+: column 'customer_id': 'c7' is not a customer "
                         "id like those of the transaction log"),
        "bad_quantity": (lines.assign(quantity=lines["quantity"].where(lines.index != 1, "x")),
                         [], r"bad_quantity.csv:3:\d+: column 'quantity': cannot parse 'x'"),
        "empty_product": (lines.assign(product_id=lines["product_id"].where(lines.index != 2,
                                                                            "")), [],
                          r"empty_product.csv:4:\d+: column 'product_id' is empty"),
        "wrong_option": (lines, ["--order-col", "orderid"],
                         r"no column named 'orderid' \(--order-col\).*did you mean 'order_id'"),
        "bad_support": (lines, ["--min-support", "2"], r"min_support = 2 must be in \(0, 1\]"),
    }
    for name, (frame, options, message) in cases.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        run = subprocess.run([cli, "report", str(tmp_path / "tx.csv"), "--order-lines",
                              str(tmp_path / f"{name}.csv"), *options, "--out",
                              str(tmp_path / f"out_{name}"), "--quiet"],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 2, (name, run.stderr)
        assert re.search(message, run.stderr), (name, run.stderr)
        assert run.stderr.count("\n") == 1, (name, run.stderr)


def test_the_cli_report_writes_every_table_as_json_equal_to_its_csv(tmp_path):
    cli = _cli_binary_or_skip()
    log, survey = simulate_demo(1500, 4)
    log_path, survey_path = tmp_path / "tx.csv", tmp_path / "survey.csv"
    log.to_csv(log_path, index=False)
    survey.to_csv(survey_path, index=False)
    tables = {}
    for form in ("csv", "json"):
        run = subprocess.run([cli, "report", str(log_path), "--survey", str(survey_path), "--out",
                              str(tmp_path / form), "--format", form, "--quiet"],
                             capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stderr
        tables[form] = sorted(p.stem for p in (tmp_path / form).glob(f"*.{form}"))
    assert tables["json"] == tables["csv"]
    assert {"customers", "rfm_segments", "nps_by_month", "lifecycle_stages"} <= set(tables["csv"])
    for name in tables["csv"]:
        # Both files hold the shortest round-trip text of each double: read it exactly.
        expected = pd.read_csv(tmp_path / "csv" / f"{name}.csv", keep_default_na=False,
                               na_values=[""], float_precision="round_trip")
        with open(tmp_path / "json" / f"{name}.json", encoding="utf-8") as handle:
            records = json.load(handle)
        assert isinstance(records, list) and len(records) == len(expected), name
        got = pd.DataFrame.from_records(records, columns=list(expected.columns))
        for column in expected.columns:
            want, have = expected[column], got[column]
            if pd.api.types.is_bool_dtype(want):
                assert list(have) == list(want), (name, column)
            elif pd.api.types.is_numeric_dtype(want):
                np.testing.assert_array_equal(have.astype(float).to_numpy(),
                                              want.astype(float).to_numpy(), err_msg=name)
            else:
                assert list(have.where(have.notna(), None)) == \
                    list(want.where(want.notna(), None)), (name, column)
