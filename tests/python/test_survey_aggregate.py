"""crmkit.aggregate and period_over_period against pandas groupby computations."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import crmkit

Z95 = stats.norm.ppf(0.975)


def responses(n=20_000, seed=0, segments=("north", "south", "west")):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "score": rng.integers(0, 11, n),
            "segment": rng.choice(list(segments), n),
            "channel": rng.choice(["web", "phone"], n),
            "date": pd.Timestamp("2023-11-03") + pd.to_timedelta(rng.integers(0, 240, n), "D"),
            "weight": rng.lognormal(0, 0.5, n),
        },
        index=pd.RangeIndex(1000, 1000 + n),
    )


def pandas_nps(df, keys):
    """The pandas groupby equivalent, with the adjusted-Wald interval from the formulas."""
    flags = df.assign(
        promoter=df.score >= 9, passive=df.score.between(7, 8), detractor=df.score <= 6
    )
    g = flags.groupby(keys)[["promoter", "passive", "detractor"]].sum()
    n = g.sum(axis=1)
    nps = 100 * (g.promoter - g.detractor) / n
    pp, pdt = g.promoter / n, g.detractor / n
    se = 100 * np.sqrt((pp + pdt - (pp - pdt) ** 2) / n)
    n2 = n + 3
    pp2, pd2 = (g.promoter + 0.75) / n2, (g.detractor + 0.75) / n2
    se2 = 100 * np.sqrt((pp2 + pd2 - (pp2 - pd2) ** 2) / n2)
    centre = 100 * (pp2 - pd2)
    return pd.DataFrame(
        {
            "n": n,
            "promoters": g.promoter,
            "detractors": g.detractor,
            "nps": nps,
            "se": se,
            "lower": (centre - Z95 * se2).clip(-100, 100),
            "upper": (centre + Z95 * se2).clip(-100, 100),
        }
    )


def test_nps_by_segment_and_month_equals_pandas_groupby():
    df = responses()
    table = crmkit.aggregate(df, "score", by="segment", period="M", date_col="date")
    expected = pandas_nps(df, [df.segment, df.date.dt.to_period("M")])
    assert table.index.names == ["segment", "period"]
    assert list(table.index) == list(expected.index)
    for column in expected.columns:
        np.testing.assert_allclose(table[column], expected[column], rtol=1e-12, err_msg=column)
    assert not table.is_empty.any()
    assert table.attrs["crmkit.survey"]["metric"] == "nps"


@pytest.mark.parametrize("period", ["D", "W", "Q"])
def test_period_labels_match_pandas(period):
    df = responses(n=3000, seed=1)
    table = crmkit.aggregate(df, "score", period=period, date_col="date", min_n=0)
    counts = df.groupby(df.date.dt.to_period(period)).size()
    full = pd.period_range(counts.index.min(), counts.index.max(), freq=period)
    assert list(table.index) == list(full)
    np.testing.assert_array_equal(table.n, counts.reindex(full, fill_value=0))


def test_empty_groups_are_reported_not_dropped():
    df = responses(n=5000, seed=2)
    df["segment"] = pd.Categorical(df.segment, categories=["north", "south", "west", "east"])
    df.loc[df.segment == "west", "channel"] = "web"
    with pytest.warns(crmkit.SmallSampleWarning, match=r"3 of 8 cells .*\(3 are empty\)"):
        table = crmkit.aggregate(df, "score", by=["segment", "channel"])
    assert len(table) == 8  # 4 segments x 2 channels, like groupby(observed=False)
    assert table.loc[("east", "web"), "is_empty"] and table.loc[("west", "phone"), "n"] == 0
    assert math.isnan(table.loc[("east", "phone"), "nps"])
    assert table.loc[("east", "phone"), "small_sample"]
    assert table.n.sum() == len(df)


def test_missing_group_keys_form_their_own_group():
    df = responses(n=2000, seed=3)
    df.loc[df.index[:25], "segment"] = None
    table = crmkit.aggregate(df, "score", by="segment", min_n=20)
    assert table.n.sum() == len(df)
    assert table.n.iloc[-1] == 25 and pd.isna(table.index[-1])


def test_rolling_windows_sum_consecutive_months():
    df = responses(n=8000, seed=4)
    monthly = crmkit.aggregate(df, "score", by="segment", period="M", date_col="date")
    rolling = crmkit.aggregate(df, "score", by="segment", period="M", date_col="date", window=3)
    expected = (
        monthly.groupby(level="segment")[["n", "promoters"]]
        .rolling(3)
        .sum()
        .droplevel(0)
        .dropna()
    )
    assert list(rolling.index) == list(expected.index)
    np.testing.assert_array_equal(rolling.n, expected.n)
    np.testing.assert_array_equal(rolling.promoters, expected.promoters)


def test_weighted_groups_equal_one_sample_estimates_exactly():
    # 100k rows are accumulated in several chunks and merged; each group alone in other chunks.
    df = responses(n=100_000, seed=5)
    table = crmkit.aggregate(df, "score", by="segment", weights_col="weight")
    for segment, part in df.groupby("segment"):
        alone = crmkit.nps(part.score, weights=part.weight)
        row = table.loc[segment]
        assert row.nps == alone.score  # bit for bit: the sums are exact
        assert row.upper == alone.upper
        assert row.n_effective == alone.n_effective
        assert row.weight_total == alone.weight_total


def test_results_do_not_depend_on_the_thread_count():
    df = responses(n=60_000, seed=6)
    saved = crmkit.num_threads()
    try:
        tables = []
        for threads in (1, 4):
            crmkit.set_num_threads(threads)
            tables.append(
                crmkit.aggregate(
                    df, "score", by="segment", period="M", date_col="date",
                    weights_col="weight", method="bootstrap", n_boot=200, random_state=5,
                )
            )
    finally:
        crmkit.set_num_threads(saved)
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 10), st.integers(0, 3), st.floats(0.1, 10.0)), min_size=1,
             max_size=300),
    st.integers(1, 5),
)
def test_splitting_the_rows_and_merging_equals_one_pass(rows, parts):
    # Property: cells of a table equal the sum of the cells of any partition of its rows.
    df = pd.DataFrame(rows, columns=["score", "group", "weight"])
    df["group"] = pd.Categorical(df.group, categories=range(4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmkit.SmallSampleWarning)
        whole = crmkit.aggregate(df, "score", by="group", weights_col="weight")
        pieces = [
            crmkit.aggregate(df.iloc[k::parts], "score", by="group", weights_col="weight")
            for k in range(parts)
        ]
    for column in ("n", "promoters", "passives", "detractors"):
        np.testing.assert_array_equal(whole[column], sum(p[column] for p in pieces))
    np.testing.assert_allclose(
        whole.weight_total, sum(p.weight_total for p in pieces), rtol=1e-13
    )


def test_csat_and_ces_aggregation():
    df = responses(n=6000, seed=7)
    df["csat"] = df.score % 5 + 1
    table = crmkit.aggregate(df, "csat", metric="csat", by="channel")
    for channel, part in df.groupby("channel"):
        assert table.loc[channel, "share"] == pytest.approx((part.csat >= 4).mean())
        assert table.loc[channel, "mean_score"] == pytest.approx(part.csat.mean())
        assert table.loc[channel, "sd"] == pytest.approx(part.csat.std())
    df["effort"] = df.score % 5 + 1
    ces = crmkit.aggregate(df, "effort", metric="ces", version="1.0", by="channel")
    assert ces.attrs["crmkit.survey"]["scale"] == (1, 5, False, 2)
    assert ces.loc["web", "share"] == pytest.approx((df.effort[df.channel == "web"] <= 2).mean())


def test_bad_rows_raise_with_index_label_or_are_skipped():
    df = responses(n=500, seed=8)
    df.loc[1010, "score"] = 12
    df.loc[1020, "date"] = pd.NaT
    with pytest.raises(ValueError, match=r"2 of 500 rows are invalid; the first is row 10 "
                                         r"\(index 1010\): scores\[10\] = 12 is outside"):
        crmkit.aggregate(df, "score", period="M", date_col="date")
    with pytest.warns(crmkit.SkippedRowsWarning, match="2 of 500"):
        table = crmkit.aggregate(df, "score", period="M", date_col="date", on_bad_row="skip")
    assert table.n.sum() == 498
    assert table.attrs["crmkit.survey"]["skipped_rows"] == 2
    with pytest.raises(ValueError, match="needs date_col"):
        crmkit.aggregate(df, "score", period="M")
    with pytest.raises(ValueError, match="not in the DataFrame"):
        crmkit.aggregate(df, "nope")
    with pytest.raises(ValueError, match="metric"):
        crmkit.aggregate(df, "score", metric="ltv")
    with pytest.raises(ValueError, match="longer than the"):
        crmkit.aggregate(df, "score", period="Q", date_col="date", window=9, on_bad_row="skip")


def test_period_over_period_marks_real_moves():
    rng = np.random.default_rng(9)
    months = pd.period_range("2024-01", periods=4, freq="M")
    frames = []
    for k, month in enumerate(months):
        # Segment A drops sharply in month 3; segment B stays the same.
        promoter_share = 0.6 if (k < 2) else 0.3
        for segment, share in (("A", promoter_share), ("B", 0.45)):
            scores = np.where(rng.random(800) < share, 10, 3)
            frames.append(pd.DataFrame({"score": scores, "segment": segment,
                                        "date": month.to_timestamp()}))
    df = pd.concat(frames, ignore_index=True)
    table = crmkit.aggregate(df, "score", by="segment", period="M", date_col="date")
    change = crmkit.period_over_period(table)
    assert change.index.equals(table.index)
    assert change.loc[("A", months[2]), "significant"]
    assert change.loc[("A", months[2]), "direction"] == "down"
    assert not change.xs("B", level="segment").significant.any()
    assert change.loc[("A", months[0]), ["change", "previous"]].isna().all()
    # The same test through compare_nps on the raw answers of the two months.
    a = df[(df.segment == "A") & (df.date == months[2].to_timestamp())].score
    b = df[(df.segment == "A") & (df.date == months[1].to_timestamp())].score
    direct = crmkit.compare_nps(a, b)
    assert change.loc[("A", months[2]), "z"] == pytest.approx(direct.z, rel=1e-12)
    assert change.loc[("A", months[2]), "p_value"] == pytest.approx(direct.p_value, rel=1e-9)

    csat_table = crmkit.aggregate(df.assign(c=np.where(df.score > 5, 5, 1)), "c", metric="csat",
                                  by="segment", period="M", date_col="date")
    csat_change = crmkit.period_over_period(csat_table)
    assert csat_change.loc[("A", months[2]), "significant"]
    with pytest.raises(ValueError, match="period"):
        crmkit.period_over_period(crmkit.aggregate(df, "score", by="segment"))
