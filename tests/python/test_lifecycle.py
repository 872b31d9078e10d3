"""crmkit.lifecycle: hand-built stages, an independent pure-Python implementation of the documented
rules, as-of dates, migration, cohorts, funnel, early warning and bad input."""

import math

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.lifecycle import (
    RULES,
    STAGES,
    LifecycleWarning,
    cohort_retention,
    early_warning,
    funnel_rates,
    lifecycle_stages,
    stage_history,
    stage_migration,
    time_in_stage,
)

DAY0 = pd.Timestamp("2024-01-01 12:00")


def hand_log():
    """The C++ test's hand-built histories (tests/cpp/lifecycle/test_stage.cpp), shuffled."""
    rows = []

    def buy(cid, day, spend=10.0):
        rows.append((cid, DAY0 + pd.Timedelta(days=day), spend))

    for d in range(0, 201, 10):
        buy(1, d)
    buy(2, 195)
    for d in range(150, 201, 10):
        buy(3, d)
    for d in range(0, 181, 10):
        buy(4, d)
    for d in range(0, 101, 10):
        buy(5, d)
    buy(5, 230)
    for d in range(0, 81, 10):
        buy(6, d)
    buy(6, 195)
    for d in range(0, 171, 5):
        buy(7, d, 1.0)
    buy(7, 185, 1.0)
    buy(7, 200, 1.0)
    for d in range(0, 201, 10):
        buy(8, d, 100.0 if d <= 170 else 10.0)
    for d in range(0, 201, 10):
        buy(9, d, 10.0 if d <= 170 else 100.0)
    buy(10, 195)
    buy(10, 198)
    for d in range(0, 171, 10):
        buy(11, d)
    for d in range(175, 201, 5):
        buy(11, d)
    buy(12, 0)
    frame = pd.DataFrame(rows, columns=["id", "when", "spend"])
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)


HAND_OPTIONS = dict(population_gap=10, min_window=30)
AS_OF = DAY0 + pd.Timedelta(days=200)
# Expected stage and rule per customer; the reasoning for each is in the C++ test.
HAND_EXPECTED = {
    1: ("stable", "stable_steady"),
    2: ("new", "new_few_purchases"),
    3: ("developing", "developing_short_history"),
    4: ("at_risk", "at_risk_recency"),
    5: ("churned", "churned_recency"),
    6: ("reactivated", "reactivated_win_back"),
    7: ("at_risk", "at_risk_rate_trend"),
    8: ("at_risk", "at_risk_spend_trend"),
    9: ("developing", "developing_rising_spend"),
    10: ("new", "new_short_tenure"),
    11: ("developing", "developing_rising_rate"),
    12: ("churned", "churned_recency"),
    20: ("prospect", "no_purchase"),
}


def test_hand_built_histories_get_their_documented_stages():
    result = lifecycle_stages(hand_log(), "id", "when", "spend", as_of=AS_OF, prospects=[20, 3], explain=True,
                              **HAND_OPTIONS)
    assert list(result.index) == sorted(HAND_EXPECTED)
    assert result.index.name == "id"
    for cid, (stage, rule) in HAND_EXPECTED.items():
        assert (result.at[cid, "stage"], result.at[cid, "rule"]) == (stage, rule), cid
    assert isinstance(result["stage"].dtype, pd.CategoricalDtype)
    assert list(result["stage"].cat.categories) == list(STAGES)
    assert result["stage"].cat.ordered
    assert set(result["rule"].cat.categories) == set(RULES)
    assert result.at[6, "last_win_back"] == pd.Timestamp("2024-07-14")  # day 195
    assert result.at[7, "typical_gap"] == 5.0 and bool(result.at[7, "own_gap"])
    assert result.attrs["rows_after"] == 1
    assert result.attrs["as_of"] == pd.Timestamp("2024-07-19")
    # Without explain only the stage.
    plain = lifecycle_stages(hand_log(), "id", "when", "spend", as_of=AS_OF, **HAND_OPTIONS)
    assert list(plain.columns) == ["stage"]
    assert plain["stage"].equals(result["stage"].drop(20))


def reference_stages(frame, as_of_day, population_gap=None, **overrides):
    """The rules of crmkit.lifecycle's docstring, written independently in plain Python (days)."""
    rules = dict(crmkit.lifecycle.DEFAULT_THRESHOLDS)
    rules.update(overrides)
    days = (frame["when"].dt.floor("D") - pd.Timestamp("1970-01-01")).dt.days
    data = pd.DataFrame({"id": frame["id"], "day": days, "spend": frame["spend"]})
    data = data[data["day"] <= as_of_day]
    histories = {
        cid: g.groupby("day")["spend"].apply(lambda s: math.fsum(sorted(s))).sort_index()
        for cid, g in data.groupby("id")
    }
    own_medians = [float(np.median(np.diff(h.index))) for h in histories.values() if len(h) >= 2]
    G = population_gap if population_gap is not None else float(np.median(own_medians))
    out = {}
    for cid, h in histories.items():
        p = np.asarray(h.index, dtype=np.int64)
        s = h.to_numpy()
        n = len(p)
        tenure, recency = as_of_day - p[0], as_of_day - p[-1]
        gaps = np.diff(p)
        g = float(np.median(gaps)) if n >= rules["own_gap_min_purchases"] else G
        W = max(rules["min_window"], rules["window_gaps"] * g)
        defined = tenure + 1 >= 2 * W
        rate = spend = None
        if defined:
            last = (p > as_of_day - W) & (p <= as_of_day)
            prev = (p > as_of_day - 2 * W) & (p <= as_of_day - W)

            def change(a, b):
                scale = max(abs(a), abs(b))
                return (a - b) / scale if scale > 0 else 0.0

            rate = change(last.sum(), prev.sum())
            spend = change(s[last].sum(), s[prev].sum())
        win_back = 0
        for k in range(n - 1):
            before = gaps[:k]
            gk = float(np.median(before)) if k + 1 >= rules["own_gap_min_purchases"] else G
            if gaps[k] - 1 > rules["churn_gaps"] * gk:
                win_back = k + 1
        d = rules["trend_threshold"]
        if recency > rules["churn_gaps"] * g:
            stage = "churned"
        elif recency > rules["at_risk_gaps"] * g or (defined and (rate <= -d or spend <= -d)):
            stage = "at_risk"
        elif win_back and n - win_back <= rules["reactivated_max_purchases"]:
            stage = "reactivated"
        elif n <= rules["new_max_purchases"] or tenure < rules["new_tenure_gaps"] * G:
            stage = "new"
        elif not defined or rate >= d or spend >= d or n < rules["stable_min_purchases"]:
            stage = "developing"
        else:
            stage = "stable"
        out[cid] = stage
    return pd.Series(out).sort_index()


def random_log(seed, customers=400):
    rng = np.random.default_rng(seed)
    rows = []
    for cid in range(customers):
        start = rng.integers(0, 500)
        gap = rng.choice([3, 7, 14, 30, 60])
        day = start
        stop = start + rng.integers(0, 700)
        while day < stop:
            rows.append((cid * 7 + 1, DAY0 + pd.Timedelta(days=int(day), hours=int(rng.integers(0, 24))),
                         float(rng.gamma(2.0, 20.0))))
            day += max(1, int(rng.exponential(gap)))
            if rng.random() < 0.02:
                day += int(rng.integers(100, 300))  # a long silence: churn and return
    return pd.DataFrame(rows, columns=["id", "when", "spend"])


@pytest.mark.parametrize("seed, overrides", [(1, {}), (2, {"at_risk_gaps": 2.0, "churn_gaps": 5.0}),
                                             (3, {"trend_threshold": 0.3, "min_window": 30, "window_gaps": 2.0})])
def test_stages_equal_an_independent_implementation_of_the_rules(seed, overrides):
    log = random_log(seed)
    as_of = DAY0 + pd.Timedelta(days=900)
    as_of_day = (as_of.floor("D") - pd.Timestamp("1970-01-01")).days
    expected = reference_stages(log, as_of_day, **overrides)
    result = lifecycle_stages(log, "id", "when", "spend", as_of=as_of, explain=True, **overrides)
    assert result["stage"].astype(str).to_dict() == expected.to_dict()
    assert len(set(expected)) >= 4  # the comparison covers several stages
    # The population gap is the median of the customers' median gaps.
    days = (log["when"].dt.floor("D") - pd.Timestamp("1970-01-01")).dt.days
    kept = pd.DataFrame({"id": log["id"], "day": days})
    kept = kept[kept["day"] <= as_of_day].drop_duplicates()
    medians = [np.median(np.diff(np.sort(g["day"]))) for _, g in kept.groupby("id") if len(g) >= 2]
    assert result.attrs["population_gap"] == np.median(medians)


def test_as_of_in_the_past_ignores_later_transactions_and_rows_need_no_order():
    log = random_log(4)
    as_of = DAY0 + pd.Timedelta(days=600)
    full = lifecycle_stages(log, "id", "when", "spend", as_of=as_of, explain=True)
    truncated = log[log["when"] < as_of.floor("D") + pd.Timedelta(days=1)]
    cut = lifecycle_stages(truncated.iloc[::-1], "id", "when", "spend", as_of=as_of, explain=True)
    pd.testing.assert_frame_equal(full, cut)
    assert full.attrs["rows_after"] == len(log) - len(truncated)


def test_string_ids_and_prospects():
    log = hand_log()
    log["id"] = "c" + log["id"].astype(str).str.zfill(2)
    result = lifecycle_stages(log, "id", "when", "spend", as_of=AS_OF, prospects=["c20", "c03", "zz"],
                              **HAND_OPTIONS)
    assert result.at["c06", "stage"] == "reactivated"
    assert result.at["zz", "stage"] == "prospect"
    assert result.at["c03", "stage"] == "developing"
    assert list(result.index) == sorted(result.index)


def test_history_migration_rows_sum_to_stage_counts_and_time_in_stage():
    log = hand_log()
    dates = [DAY0 + pd.Timedelta(days=d) for d in (100, 150, 200)]
    history = stage_history(log, "id", "when", "spend", dates=dates, prospects=[20], **HAND_OPTIONS)
    for date in history.columns:
        single = lifecycle_stages(log, "id", "when", "spend", as_of=date, prospects=[20], **HAND_OPTIONS)
        pd.testing.assert_series_equal(history[date].dropna(), single["stage"], check_names=False)
    counts, rates = stage_migration(log, "id", "when", dates[0], dates[2], "spend", prospects=[20], **HAND_OPTIONS)
    at_start = lifecycle_stages(log, "id", "when", "spend", as_of=dates[0], prospects=[20], **HAND_OPTIONS)
    at_end = lifecycle_stages(log, "id", "when", "spend", as_of=dates[2], prospects=[20], **HAND_OPTIONS)
    start_counts = at_start["stage"].value_counts().reindex(list(STAGES), fill_value=0)
    assert counts.drop("unobserved").sum(axis=1).tolist() == start_counts.tolist()
    assert counts.sum(axis=0).tolist() == at_end["stage"].value_counts().reindex(list(STAGES)).tolist()
    # Cross-tabulation of the two single-date tables, done by pandas.
    joined = pd.crosstab(at_start["stage"].astype(str), at_end["stage"].reindex(at_start.index).astype(str))
    for source in joined.index:
        for target in joined.columns:
            assert counts.at[source, target] == joined.at[source, target]
    assert counts.loc["unobserved"].sum() == 3  # customers 2, 3 and 10 (here 3 is no prospect)
    np.testing.assert_allclose(rates.dropna().sum(axis=1), 1.0)
    days = time_in_stage(log, "id", "when", "spend", dates=dates, **HAND_OPTIONS)
    assert days.at[6, "at_risk"] == 50 and days.at[6, "churned"] == 50
    assert days.loc[1].sum() == 100


def test_cohort_table_on_a_hand_made_log():
    log = pd.DataFrame(
        {
            "id": ["a", "a", "a", "b", "b", "c", "d"],
            "when": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-03-09", "2024-01-20", "2024-03-01",
                                    "2024-02-10", "2024-04-02"]),
            "spend": [10.0, 20.0, 30.0, 5.0, 7.0, 8.0, 100.0],
        }
    )
    result = cohort_retention(log, "id", "when", "spend", freq="M", as_of="2024-03-31")
    # January: a and b (size 2); February: a; March: a and b. February cohort: c only.
    assert result.sizes.tolist() == [2, 1, 0]
    assert result.counts.iloc[0].tolist() == [2, 1, 2]
    assert result.counts.iloc[1, :2].tolist() == [1, 0] and result.counts.iloc[1, 2] is pd.NA
    np.testing.assert_allclose(result.rates.iloc[0], [1.0, 0.5, 1.0])
    np.testing.assert_allclose(result.revenue.iloc[0], [15.0, 20.0, 37.0])
    assert result.cohort_revenue.tolist()[:2] == [72.0, 8.0]
    assert str(result.counts.index[0]) == "2024-01"
    # d (April) is after as_of: ignored.
    assert result.sizes.sum() == 3


def test_cohort_counts_equal_a_pandas_computation():
    log = random_log(6)
    result = cohort_retention(log, "id", "when", "spend", freq="M")
    period = log["when"].dt.to_period("M")
    cohort = period.groupby(log["id"]).transform("min")
    offset = (period - cohort).apply(lambda d: d.n)
    expected = pd.DataFrame({"id": log["id"], "cohort": cohort, "k": offset}).drop_duplicates()
    table = expected.groupby(["cohort", "k"])["id"].nunique().unstack(fill_value=0)
    for c in table.index:
        for k in table.columns:
            count = result.counts.at[c, k]
            assert (0 if count is pd.NA else count) == table.at[c, k]
    revenue = log.groupby([cohort, offset])["spend"].sum().unstack(fill_value=0.0)
    np.testing.assert_allclose(result.revenue.loc[revenue.index, revenue.columns].fillna(0), revenue, rtol=1e-12)


def test_funnel_counts_equal_a_pandas_computation():
    log = random_log(7)
    funnel = funnel_rates(log, "id", "when", "spend", freq="M", prospects=list(range(0, 3000, 7)) + [10**6])
    day = log["when"].dt.floor("D")
    month = log["when"].dt.to_period("M")
    firsts = day.groupby(log["id"]).min().dt.to_period("M")
    distinct = pd.DataFrame({"id": log["id"], "day": day}).drop_duplicates().sort_values(["id", "day"])
    seconds = distinct[distinct.groupby("id").cumcount() == 1]["day"].dt.to_period("M")
    assert funnel["acquired"].to_dict() == firsts.value_counts().reindex(funnel.index, fill_value=0).to_dict()
    assert funnel["converted"].to_dict() == seconds.value_counts().reindex(funnel.index, fill_value=0).to_dict()
    active = pd.DataFrame({"id": log["id"], "m": month}).drop_duplicates()
    sets = active.groupby("m")["id"].apply(set).reindex(funnel.index, fill_value=set())
    for t in range(1, len(funnel)):
        previous, current = sets.iloc[t - 1], sets.iloc[t]
        assert funnel["previous_active"].iloc[t] == len(previous)
        assert funnel["retained"].iloc[t] == len(previous & current)
    assert np.isnan(funnel["retention_rate"].iloc[0])
    # The prospect pool: ids 1, 8, 15, ... are both prospects and customers (ids are 7k + 1 in
    # the log; prospects are multiples of 7), so no prospect ever buys: the pool stays constant.
    assert (funnel["prospect_pool"] == len(range(0, 3000, 7)) + 1).all()
    assert (funnel["acquisition_rate"] == 0).all()
    # Churn and win-back agree with the stage histories at the month ends.
    ends = [min(p.to_timestamp(how="end"), log["when"].max()) for p in funnel.index]
    history = stage_history(log, "id", "when", "spend", dates=ends)
    for t in range(1, len(funnel)):
        before, after = history.iloc[:, t - 1], history.iloc[:, t]
        pool = before.notna() & (before != "churned")
        assert funnel["churn_pool"].iloc[t] == pool.sum()
        assert funnel["churned"].iloc[t] == (pool & (after == "churned")).sum()
        churned = before == "churned"
        assert funnel["churned_pool"].iloc[t] == churned.sum()
        buyers = sets.iloc[t]
        assert funnel["won_back"].iloc[t] == sum(1 for cid in before.index[churned] if cid in buyers)


def test_early_warning_ranks_by_value():
    log = hand_log()
    listed = early_warning(log, "id", "when", DAY0 + pd.Timedelta(days=100), "spend", as_of=AS_OF, **HAND_OPTIONS)
    assert listed.index.tolist() == [8, 4, 7]
    assert listed["value_at_risk"].tolist() == [1830.0, 190.0, 37.0]
    assert (listed["stage_before"] == "stable").all()
    clv = pd.Series({7: 500.0, 4: 20.0, 1: 3.0})
    with pytest.warns(LifecycleWarning, match="no entry for 1"):
        ranked = early_warning(log, "id", "when", DAY0 + pd.Timedelta(days=100), "spend", as_of=AS_OF, value=clv,
                               **HAND_OPTIONS)
    assert ranked.index.tolist() == [7, 4, 8]


def test_bad_input():
    log = hand_log()
    with pytest.raises(ValueError, match="as_of = 2023-12-20.*before every purchase"):
        lifecycle_stages(log, "id", "when", as_of="2023-12-20")
    one_day = pd.DataFrame({"id": [1, 2, 3], "when": pd.to_datetime(["2024-05-01 09:00", "2024-05-01 10:00",
                                                                      "2024-05-01 11:00"])})
    with pytest.raises(ValueError, match="population_gap"):
        lifecycle_stages(one_day, "id", "when")
    same_day = lifecycle_stages(one_day, "id", "when", population_gap=7)
    assert (same_day["stage"] == "new").all()
    single = lifecycle_stages(log[log["id"] == 2], "id", "when", population_gap=7, as_of="2024-08-01", explain=True)
    assert single.at[2, "stage"] == "at_risk" and single.at[2, "recency"] == 18  # 10.5 < 18 <= 21
    with pytest.raises(TypeError, match="unknown threshold"):
        lifecycle_stages(log, "id", "when", churn_gap=3)
    with pytest.raises(ValueError, match="churn_gaps = 1 must be >= at_risk_gaps"):
        lifecycle_stages(log, "id", "when", churn_gaps=1.0)
    with pytest.raises(ValueError, match="'X' is not a period"):
        lifecycle_stages(log, "id", "when", freq="X")
    with pytest.raises(ValueError, match="missing date"):
        lifecycle_stages(log.assign(when=log["when"].where(log.index != 5)), "id", "when")
    with pytest.raises(ValueError, match="dates\\[1\\]"):
        stage_history(log, "id", "when", dates=["2024-05-01", "2024-03-01"])
    with pytest.raises(ValueError, match="start"):
        stage_migration(log, "id", "when", "2024-05-01", "2024-03-01")


@pytest.fixture(scope="module")
def cdnow():
    path = crmkit.data._SHARED if hasattr(crmkit.data, "_SHARED") else None
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "data" / "CDNOW_master.txt"
    if not root.exists():
        pytest.skip(f"{root} is absent")
    del path
    frame = pd.read_csv(root, sep=r"\s+")
    frame["date"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d")
    return frame


def test_a_model_fitted_in_other_time_units_is_refused(cdnow):
    # Fader, Hardie & Lee (2005): BG/NBD on CDNOW with time in weeks.
    weekly = crmkit.BetaGeoFitter.from_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    as_of = "1997-09-30"
    with pytest.raises(ValueError, match="time unit"):
        lifecycle_stages(cdnow, "customer_id", "date", "dollar_value", as_of=as_of, model=weekly)
    with pytest.raises(ValueError, match="time unit"):
        lifecycle_stages(cdnow, "customer_id", "date", "dollar_value", as_of=as_of, model=weekly, model_freq="M")
    result = lifecycle_stages(cdnow, "customer_id", "date", "dollar_value", as_of=as_of, model=weekly,
                              model_freq="W", explain=True)
    assert 1 / 3 <= result.attrs["model_time_scale"] <= 3
    days = lifecycle_stages(cdnow, "customer_id", "date", "dollar_value", as_of=as_of, model=weekly,
                            model_freq="D", model_freq_multiplier=7, explain=True)
    pd.testing.assert_series_equal(days["p_alive"], result["p_alive"])
    # P(alive) is the model's own prediction on the customers' (x, t_x, T) in weeks.
    summary = crmkit.summary_data_from_transaction_data(cdnow, "customer_id", "date", observation_period_end=as_of,
                                                        freq="D", freq_multiplier=7)
    expected = weekly.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
    np.testing.assert_allclose(result["p_alive"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert (result.loc[result["p_alive"] < 0.2, "stage"] == "churned").all()


def test_unchecked_model_unit_warns():
    tiny = hand_log()
    model = crmkit.BetaGeoFitter.from_params({"r": 1.0, "alpha": 10.0, "a": 4.0, "b": 1.0})
    with pytest.warns(LifecycleWarning, match="not checked"):
        result = lifecycle_stages(tiny, "id", "when", "spend", as_of=AS_OF, model=model, explain=True, **HAND_OPTIONS)
    assert result.at[10, "stage"] == "churned"  # P(alive) = 0.158 (see the C++ test)


def test_a_pareto_nbd_model_refines_the_stages_and_its_time_unit_is_checked(cdnow):
    # Pareto/NBD on CDNOW in weeks (issue 12's reference fit): α and β both carry the time unit,
    # and the unit check scales both. Every 10th customer keeps the test small.
    cdnow = cdnow[cdnow["customer_id"] % 10 == 0]
    weekly = crmkit.ParetoNBDFitter.from_params({"r": 0.55328, "alpha": 10.5776, "s": 0.60621,
                                                 "beta": 11.6679})
    as_of = "1997-09-30"
    with pytest.raises(ValueError, match="time unit"):
        lifecycle_stages(cdnow, "customer_id", "date", "dollar_value", as_of=as_of, model=weekly)
    result = lifecycle_stages(cdnow, "customer_id", "date", "dollar_value", as_of=as_of,
                              model=weekly, model_freq="W", explain=True)
    assert 1 / 3 <= result.attrs["model_time_scale"] <= 3
    summary = crmkit.summary_data_from_transaction_data(cdnow, "customer_id", "date",
                                                        observation_period_end=as_of, freq="D",
                                                        freq_multiplier=7)
    expected = weekly.conditional_probability_alive(summary["frequency"], summary["recency"],
                                                    summary["T"])
    np.testing.assert_allclose(result["p_alive"].to_numpy(), expected.to_numpy(), rtol=1e-12)
