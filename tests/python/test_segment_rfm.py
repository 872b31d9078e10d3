"""RFM scores, rule sets, segment summaries, value tiers and feature preparation.

References are independent computations in the tests: pandas qcut / rank / groupby, numpy
quantiles, scikit-learn's scalers, and the published rule sets re-implemented the way their
sources apply them (regex replacement, dictionary lookup, if/elif or R's overwriting loop).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import RobustScaler, StandardScaler

import crmkit
from crmkit import (
    FeatureScaler,
    RFMRule,
    RFMRuleSet,
    SegmentationWarning,
    cluster_profile,
    rfm_scores,
    rfm_segments,
    segment_summary,
    value_tiers,
)


def heavy_ties(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "recency": rng.choice([0, 1, 2, 7, 30, 90, 365], size=n).astype(float),
        "frequency": np.minimum(rng.geometric(0.6, size=n), 12).astype(float),
        "monetary_value": np.round(rng.lognormal(3, 1, size=n), 0),
    }, index=pd.Index(rng.permutation(n) + 1000, name="customer"))


def qcut_bins(values, q, **kw):
    return pd.qcut(values, q, labels=False, **kw).to_numpy() + 1


@pytest.mark.parametrize("n", [3, 7, 10, 11, 57, 500, 4001])
@pytest.mark.parametrize("q", [2, 3, 4, 5, 10])
def test_rank_first_and_drop_edges_equal_pandas_qcut(n, q):
    frame = heavy_ties(n, seed=n * 31 + q)
    scored = rfm_scores(frame, bins=q, ties="rank_first")
    for column, score, invert in (("recency", "r_score", True), ("frequency", "f_score", False),
                                  ("monetary_value", "m_score", False)):
        bins = qcut_bins(frame[column].rank(method="first"), q)
        expected = q + 1 - bins if invert else bins
        np.testing.assert_array_equal(scored[score].to_numpy(), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SegmentationWarning)  # merged bins: tested below
        dropped = rfm_scores(frame, bins=q, ties="drop_edges")
    for column, score, invert in (("recency", "r_score", True), ("frequency", "f_score", False),
                                  ("monetary_value", "m_score", False)):
        if frame[column].nunique() == 1:
            continue  # pandas returns NaN when every edge is the same; crmkit gives score 1
        bins = qcut_bins(frame[column], q, duplicates="drop")
        top = bins.max() if len(bins) else 1
        scale = dropped.attrs["rfm_scales"][column]
        expected = scale.bins + 1 - bins if invert else bins
        np.testing.assert_array_equal(dropped[score].to_numpy(), expected)
        assert top <= scale.bins <= q


def test_drop_edges_warns_when_ties_merge_bins():
    frame = heavy_ties(300, seed=1)
    with pytest.warns(SegmentationWarning, match=r"frequency scores use \d bins instead of 5"):
        rfm_scores(frame, ties="drop_edges")
    # A single customer: every edge is its own value, one bin, best recency score.
    one = rfm_scores(recency=[3.0], frequency=[2.0], monetary_value=[9.0], ties="rank_first")
    assert one[["r_score", "f_score", "m_score"]].values.tolist() == [[5, 1, 1]]


@pytest.mark.parametrize("n, q", [(10, 5), (233, 5), (1000, 4), (64, 7)])
def test_average_rank_bins_mid_ranks_on_the_rank_scale(n, q):
    frame = heavy_ties(n, seed=q)
    scored = rfm_scores(frame, bins=q)  # average_rank is the default
    # Independent: pandas mid-ranks, numpy edges of the ranks 1..n, pandas' bin rule.
    edges = np.quantile(np.arange(1, n + 1, dtype=float), np.linspace(0, 1, q + 1))
    for column, score, invert in (("recency", "r_score", True), ("frequency", "f_score", False),
                                  ("monetary_value", "m_score", False)):
        ranks = frame[column].rank(method="average").to_numpy()
        bins = np.maximum(np.searchsorted(edges, ranks, side="left"), 1)
        np.testing.assert_array_equal(scored[score].to_numpy(), q + 1 - bins if invert else bins)
        # Equal values share a score.
        assert (scored.groupby(frame[column])[score].nunique() == 1).all()


@pytest.mark.parametrize("ties", ["average_rank", "drop_edges"])
def test_scales_reproduce_the_scores_on_new_data(ties):
    frame = heavy_ties(800, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SegmentationWarning)  # merged bins: tested elsewhere
        scored = rfm_scores(frame, ties=ties)
    again = rfm_scores(frame, scales=scored.attrs["rfm_scales"])
    pd.testing.assert_frame_equal(again[["r_score", "f_score", "m_score"]],
                                  scored[["r_score", "f_score", "m_score"]])
    new = heavy_ties(50, seed=3)
    fresh = rfm_scores(new, scales=scored.attrs["rfm_scales"])
    scale = scored.attrs["rfm_scales"]["monetary_value"]
    expected = 1 + np.searchsorted(scale.thresholds, new["monetary_value"], side="left")
    np.testing.assert_array_equal(fresh["m_score"], expected)


def test_fixed_thresholds():
    frame = heavy_ties(100, seed=4)
    cuts = {"recency": [1, 7, 30, 90], "frequency": [1, 2, 3, 5], "monetary_value": [10, 50, 100, 500]}
    scored = rfm_scores(frame, thresholds=cuts)
    np.testing.assert_array_equal(
        scored["r_score"], 5 - np.searchsorted(cuts["recency"], frame["recency"], side="left"))
    np.testing.assert_array_equal(
        scored["f_score"], 1 + np.searchsorted(cuts["frequency"], frame["frequency"], side="left"))


def test_rfm_from_a_transaction_log_matches_a_pandas_summary():
    rng = np.random.default_rng(5)
    n = 3000
    log = pd.DataFrame({
        "id": rng.integers(1, 400, size=n),
        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, size=n), "D"),
        "spend": np.round(rng.gamma(2, 20, size=n), 2),
    })
    scored = rfm_scores(log, customer_id_col="id", datetime_col="date", monetary_value_col="spend")
    # Independent RFM view: purchases on distinct days; recency = days from the last purchase
    # to the last date in the log; monetary = mean daily spend.
    daily = log.groupby(["id", "date"])["spend"].sum().reset_index()
    end = log["date"].max()
    expected = daily.groupby("id").agg(
        recency=("date", lambda d: (end - d.max()).days), frequency=("date", "size"),
        monetary_value=("spend", "mean"))
    pd.testing.assert_frame_equal(scored[["recency", "frequency", "monetary_value"]],
                                  expected.astype(float), check_names=False)
    summary = crmkit.summary_data_from_transaction_data(log, "id", "date", "spend",
                                                        include_first_transaction=True)
    pd.testing.assert_frame_equal(rfm_scores(summary), scored)


def rf_regex_reference(r, f):
    # The Kaggle/Miuul lineage, applied as in its notebooks: "RF" strings through a regex map.
    seg_map = {
        r"[1-2][1-2]": "hibernating", r"[1-2][3-4]": "at_risk", r"[1-2]5": "cant_loose",
        r"3[1-2]": "about_to_sleep", r"33": "need_attention", r"[3-4][4-5]": "loyal",
        r"41": "promising", r"51": "new", r"[4-5][2-3]": "potential_loyalists",
        r"5[4-5]": "champions",
    }
    return (pd.Series(r).astype(str) + pd.Series(f).astype(str)).replace(seg_map, regex=True)


def all_cells(bins):
    grid = np.array(np.meshgrid(*[np.arange(1, bins + 1)] * 3, indexing="ij")).reshape(3, -1)
    return grid[0], grid[1], grid[2]


def test_rf_grid_matches_the_regex_map_and_is_clean():
    rules = RFMRuleSet.builtin("rf_grid")
    assert rules.check().clean
    r, f, m = all_cells(5)
    names = np.asarray(rules.segment_names)[rules.assign(r, f, m)]
    np.testing.assert_array_equal(names, rf_regex_reference(r, f).to_numpy())


# PyMC-Marketing's default segment_config (pymc_marketing/clv/utils.py).
PYMC_CONFIG = {
    "Premium Customer": ["334", "443", "444", "344", "434", "433", "343", "333"],
    "Repeat Customer": ["244", "234", "232", "332", "143", "233", "243"],
    "Top Spender": ["424", "414", "144", "314", "324", "124", "224", "423", "413", "133", "323",
                    "313", "134"],
    "At Risk Customer": ["422", "223", "212", "122", "222", "132", "322", "312", "412", "123",
                         "214"],
    "Inactive Customer": ["411", "111", "113", "114", "112", "211", "311"],
}


def test_pymc_marketing_segments_match_its_lookup():
    rules = RFMRuleSet.builtin("pymc_marketing")
    assert rules.bins == 4
    report = rules.check()
    assert len(report.uncovered) == 64 - sum(len(v) for v in PYMC_CONFIG.values()) == 18
    assert report.overlaps.empty and not report.unreachable
    r, f, m = all_cells(4)
    codes = pd.Series([f"{a}{b}{c}" for a, b, c in zip(r, f, m)])
    expected = pd.Series("Other", index=codes.index)
    for key, cells in PYMC_CONFIG.items():
        expected[codes.isin(cells)] = key
    np.testing.assert_array_equal(np.asarray(rules.segment_names)[rules.assign(r, f, m)],
                                  expected.to_numpy())


def test_chinese_value_map_by_high_low_code():
    rules = RFMRuleSet.builtin("chinese_value")
    assert rules.check().clean
    names = {"111": "重要价值客户", "101": "重要发展客户", "011": "重要保持客户", "001": "重要挽留客户",
             "110": "一般价值客户", "100": "一般发展客户", "010": "一般保持客户", "000": "一般挽留客户"}
    r, f, m = all_cells(5)
    code = [f"{int(a >= 4)}{int(b >= 4)}{int(c >= 4)}" for a, b, c in zip(r, f, m)]
    got = np.asarray(rules.segment_names)[rules.assign(r, f, m)]
    assert list(got) == [names[c] for c in code]
    assert rules.rules[0].english_name == "Important value"
    three = RFMRuleSet.builtin("chinese_value", high_from=3)
    assert three.rules[0].boxes == ((3, 5, 3, 5, 3, 5),)


RFM_PACKAGE = [  # name, recency, frequency, monetary (lower, upper), in the package's order
    ("Champions", 4, 5, 4, 5, 4, 5), ("Loyal Customers", 2, 4, 3, 4, 4, 5),
    ("Potential Loyalist", 3, 5, 1, 3, 1, 3), ("New Customers", 4, 5, 1, 1, 1, 1),
    ("Promising", 3, 4, 1, 1, 1, 1), ("Need Attention", 3, 4, 3, 4, 3, 4),
    ("About To Sleep", 2, 3, 1, 2, 1, 2), ("At Risk", 1, 2, 2, 5, 2, 5),
    ("Can't Lose Them", 1, 1, 4, 5, 4, 5), ("Hibernating", 2, 3, 2, 3, 2, 3),
    ("Lost", 1, 1, 1, 1, 1, 1),
]


@pytest.mark.parametrize("match", ["first", "last"])
def test_rfm_package_map_follows_if_elif_or_overwriting(match):
    rules = RFMRuleSet.builtin("rfm_package", match=match)
    r, f, m = all_cells(5)
    expected = []
    for a, b, c in zip(r, f, m):
        found = "Other"
        for name, r0, r1, f0, f1, m0, m1 in RFM_PACKAGE:  # R's loop: later boxes overwrite
            if r0 <= a <= r1 and f0 <= b <= f1 and m0 <= c <= m1:
                found = name
                if match == "first":
                    break
        expected.append(found)
    assert list(np.asarray(rules.segment_names)[rules.assign(r, f, m)]) == expected
    report = rules.check()
    assert len(report.uncovered) == expected.count("Other") == 46
    won = pd.Series(expected).value_counts()
    assert report.unreachable == [n for n, *_ in RFM_PACKAGE if n not in won]


def test_rfm_segments_and_summary_against_pandas_groupby():
    frame = heavy_ties(2000, seed=6)
    with pytest.warns(SegmentationWarning, match="match no rule"):
        segmented = rfm_segments(frame, rules="pymc_marketing")
    assert segmented.index.equals(frame.index)
    assert list(segmented["segment"].cat.categories) == list(PYMC_CONFIG) + ["Other"]
    expected = pd.Series("Other", index=segmented.index)
    for key, cells in PYMC_CONFIG.items():
        expected[segmented["rfm_score"].isin(cells)] = key
    np.testing.assert_array_equal(segmented["segment"].astype(str), expected)
    summary = segment_summary(segmented)
    revenue = frame["frequency"] * frame["monetary_value"]
    groups = pd.DataFrame({"segment": expected, "revenue": revenue, **frame}).groupby("segment")
    for name, row in summary.iterrows():
        group = groups.get_group(name)
        assert row["count"] == len(group)
        assert row["share"] == pytest.approx(len(group) / len(frame))
        assert row["mean_recency"] == pytest.approx(group["recency"].mean())
        assert row["mean_monetary_value"] == pytest.approx(group["monetary_value"].mean())
        assert row["revenue"] == pytest.approx(group["revenue"].sum())
        assert row["revenue_share"] == pytest.approx(group["revenue"].sum() / revenue.sum())
    assert list(summary.index) == [s for s in segmented["segment"].cat.categories
                                   if s in set(expected)]


def test_user_rules_and_match_override():
    rules = RFMRuleSet([RFMRule.box("recent", recency=(4, 5)),
                        RFMRule.box("big", monetary=(5, 5)),
                        RFMRule.cells("one", ["111"])], bins=5, unmatched="Rest")
    report = rules.check()
    assert not report.clean
    assert report.overlaps.loc[0, ["first", "second", "cells"]].tolist() == ["recent", "big", 10]
    frame = heavy_ties(300, seed=7)
    scored = rfm_scores(frame)
    first = rfm_segments(scored, rules=rules, warn_unmatched=False)
    last = rfm_segments(scored, rules=rules, match="last", warn_unmatched=False)
    both = (scored["r_score"] >= 4) & (scored["m_score"] == 5)
    assert (first.loc[both, "segment"] == "recent").all()
    assert (last.loc[both, "segment"] == "big").all()
    assert set(first["segment"].cat.categories) == {"recent", "big", "one", "Rest"}


def test_value_tiers_against_a_numpy_cumulative_share():
    rng = np.random.default_rng(8)
    values = pd.Series(np.round(rng.pareto(1.5, size=5000) * 10), index=np.arange(5000) * 3)
    tiers = value_tiers(values)
    order = np.argsort(-values.to_numpy(), kind="stable")
    ranked = values.to_numpy()[order]
    above = np.concatenate([[0], np.cumsum(ranked)[:-1]]) / ranked.sum()
    # a tie group takes the share above its first member
    first_of_group = pd.Series(above).groupby(ranked).transform("min").to_numpy()
    expected = np.searchsorted([0.8, 0.95], first_of_group, side="right")
    got = tiers["tier"].cat.codes.to_numpy()[order]
    np.testing.assert_array_equal(got, expected)
    summary = tiers.attrs["summary"]
    assert summary.loc["A", "value_share"] >= 0.8
    assert summary["customers"].sum() == 5000
    people = value_tiers(pd.DataFrame({"clv": values}), "clv", by="population",
                         labels=("high", "medium", "low"))
    assert list(people["tier"].cat.categories) == ["high", "medium", "low"]
    shares = people.attrs["summary"]["customer_share"]
    assert shares["high"] == pytest.approx(0.2, abs=0.02)  # ties can move a few customers


def test_value_tiers_do_not_depend_on_the_row_order():
    # Totals run over the ranked values, so shuffled rows give the same summary bit for bit
    # (what lets crmkit.dask rebuild it from merged histograms).
    rng = np.random.default_rng(21)
    values = pd.Series(rng.pareto(1.2, size=3000) * 7.3)
    shuffled = values.sample(frac=1.0, random_state=5)
    first = value_tiers(values)
    second = value_tiers(shuffled)
    pd.testing.assert_frame_equal(first.attrs["summary"], second.attrs["summary"], check_exact=True)
    pd.testing.assert_series_equal(first["tier"], second["tier"].sort_index())


def test_feature_scaler_against_sklearn_and_inverse():
    frame = heavy_ties(500, seed=9)
    scaler = FeatureScaler("standard", log1p=["frequency", "monetary_value"])
    scaled = scaler.fit_transform(frame)
    logged = frame.assign(frequency=np.log1p(frame["frequency"]),
                          monetary_value=np.log1p(frame["monetary_value"]))
    np.testing.assert_allclose(scaled.to_numpy(), StandardScaler().fit_transform(logged),
                               rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(scaler.inverse_transform(scaled), frame, rtol=1e-12)
    robust = FeatureScaler("robust").fit(frame)
    np.testing.assert_allclose(robust.transform(frame).to_numpy(),
                               RobustScaler().fit_transform(frame), rtol=1e-12, atol=1e-12)
    centres = pd.DataFrame(scaled.to_numpy()[:3], columns=frame.columns)
    np.testing.assert_allclose(scaler.inverse_transform(centres).to_numpy(),
                               frame.to_numpy()[:3], rtol=1e-12)
    with pytest.warns(SegmentationWarning, match=r"columns \[1\] are constant"):
        FeatureScaler().fit(np.column_stack([np.arange(5.0), np.ones(5)]))


def test_cluster_profile_against_pandas_groupby():
    frame = heavy_ties(400, seed=10)
    labels = np.random.default_rng(11).choice(["a", "b", "c"], size=400)
    profile = cluster_profile(frame, labels)
    groups = frame.groupby(labels)
    pd.testing.assert_series_equal(profile["size"], groups.size(), check_names=False)
    for column in frame.columns:
        np.testing.assert_allclose(profile[f"{column}_mean"], groups[column].mean())
        np.testing.assert_allclose(profile[f"{column}_median"], groups[column].median())


@pytest.mark.parametrize("change, message", [
    (lambda f: f.assign(frequency=f["frequency"].where(f.index != f.index[3], 0)),
     r"frequency\[3\] = 0 must be > 0: a customer without purchases"),
    (lambda f: f.assign(recency=f["recency"].where(f.index != f.index[5], np.nan)),
     r"recency\[5\] = nan must be finite"),
    (lambda f: f.assign(recency=-f["recency"] - 1), r"recency\[0\] = -\d+ must be finite and >= 0"),
    (lambda f: f.drop(columns="monetary_value"), r"lacks the column\(s\) \['monetary_value'\]"),
    (lambda f: f.iloc[:0], "recency is empty"),
])
def test_rfm_bad_input(change, message):
    with pytest.raises(ValueError, match=message):
        rfm_scores(change(heavy_ties(20, seed=12)))


def test_rfm_bad_settings():
    frame = heavy_ties(20, seed=13)
    with pytest.raises(ValueError, match="ties"):
        rfm_scores(frame, ties="first")
    with pytest.raises(ValueError, match="thresholds go with ties='fixed_thresholds'"):
        rfm_scores(frame, ties="rank_first", thresholds={"recency": [1]})
    with pytest.raises(ValueError, match=r"recency_thresholds\[1\] = 1 must be greater"):
        rfm_scores(frame, thresholds={"recency": [1, 1], "frequency": [2], "monetary_value": [5]})
    with pytest.raises(ValueError, match="bins = 5 but the rule set 'pymc_marketing'"):
        rfm_segments(frame, rules="pymc_marketing", bins=5)
    with pytest.raises(ValueError, match="unknown rule set"):
        rfm_segments(frame, rules="putler")
    with pytest.raises(ValueError, match=r"rule 0 \('x'\) box 0: recency range 0..2"):
        RFMRuleSet([RFMRule("x", ((0, 2, 1, 5, 1, 5),))]).check()
    with pytest.raises(ValueError, match="distinct"):
        RFMRuleSet([RFMRule.box("a"), RFMRule.box("a")])
    with pytest.raises(ValueError, match=r"values\[1\] = -1 must be finite and >= 0"):
        value_tiers([3.0, -1.0])
    with pytest.raises(ValueError, match="labels must be 3 distinct"):
        value_tiers([3.0, 1.0], labels=("x", "y"))
    with pytest.raises(ValueError, match=r"x\[2, 0\] = -1 \(row 2, column 0\) must be > -1"):
        FeatureScaler(log1p=True).fit(np.array([[0.0], [1.0], [-1.0]]))


def test_segment_summary_keeps_customers_without_a_segment_apart():
    # Counted by hand: 'a' holds customer 0, 'b' customers 2 and 3; customer 1 has no segment
    # and must form its own row (NaN), not be added under the last category's name.
    segmented = pd.DataFrame({
        "recency": [1.0, 2.0, 3.0, 4.0], "frequency": [1.0, 2.0, 3.0, 4.0],
        "monetary_value": [1.0, 2.0, 3.0, 4.0], "segment": ["a", None, "b", "b"]})
    summary = segment_summary(segmented)
    assert summary.index.is_unique
    assert list(summary.index[:2]) == ["a", "b"] and pd.isna(summary.index[2])
    assert summary["count"].tolist() == [1, 2, 1]
    assert summary["revenue"].tolist() == [1.0, 9.0 + 16.0, 4.0]
