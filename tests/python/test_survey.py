"""crmkit.survey one-sample estimates: NPS, CSAT, CES, against independent computations.

References: the trinomial variance and adjusted-Wald interval of the NPS (Rocks 2016, The
American Statistician 70(4):365-372; MeasuringU, "Confidence Intervals for Net Promoter
Scores"), Wilson's score interval (scipy.stats.binomtest(...).proportion_ci("wilson")), the t
interval (scipy.stats.ttest_1samp(...).confidence_interval()), Kish's effective sample size.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import crmkit

Z95 = stats.norm.ppf(0.975)


def answers(promoters, passives, detractors, seed=0):
    """Shuffled 0-10 answers with the given category counts."""
    rng = np.random.default_rng(seed)
    values = np.concatenate(
        [
            rng.integers(9, 11, promoters),
            rng.integers(7, 9, passives),
            rng.integers(0, 7, detractors),
        ]
    )
    return rng.permutation(values)


def textbook_nps(p, a, d):
    """NPS, SE, Wald and adjusted-Wald intervals in points, straight from the formulas."""
    n = p + a + d
    pp, pd_ = p / n, d / n
    se = 100 * math.sqrt((pp + pd_ - (pp - pd_) ** 2) / n)
    score = 100 * (pp - pd_)
    n2 = n + 3
    pp2, pd2 = (p + 0.75) / n2, (d + 0.75) / n2
    se2 = 100 * math.sqrt((pp2 + pd2 - (pp2 - pd2) ** 2) / n2)
    center = 100 * (pp2 - pd2)
    return score, se, (score - Z95 * se, score + Z95 * se), (center - Z95 * se2, center + Z95 * se2)


@pytest.mark.parametrize("counts", [(50, 30, 20), (12, 5, 3), (7, 0, 40), (300, 150, 250)])
def test_nps_matches_textbook_formulas(counts):
    score, se, wald, adjusted = textbook_nps(*counts)
    scores = answers(*counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmkit.SmallSampleWarning)
        result = crmkit.nps(scores)
        result_wald = crmkit.nps(scores, method="wald")
    assert (result.promoters, result.passives, result.detractors) == counts
    assert result.score == pytest.approx(score, abs=1e-12)
    assert result.standard_error == pytest.approx(se, rel=1e-12)
    assert (result.lower, result.upper) == pytest.approx(
        (max(adjusted[0], -100), min(adjusted[1], 100)), rel=1e-12
    )
    assert (result_wald.lower, result_wald.upper) == pytest.approx(wald, rel=1e-12)
    assert result.method == "adjusted_wald"


def test_nps_is_the_mean_of_the_trinomial_coding():
    scores = answers(123, 77, 64, seed=3)
    coded = np.where(scores >= 9, 1, np.where(scores >= 7, 0, -1))
    result = crmkit.nps(pd.Series(scores))
    assert result.score == pytest.approx(100 * coded.mean(), abs=1e-12)
    # SE of a mean with the population (ddof=0) variance is the trinomial SE.
    assert result.standard_error == pytest.approx(100 * coded.std() / math.sqrt(coded.size))


def test_weights_of_one_equal_the_unweighted_result():
    scores = answers(80, 60, 40, seed=1)
    plain = crmkit.nps(scores)
    weighted = crmkit.nps(scores, weights=np.ones(scores.size))
    for field in ("score", "standard_error", "lower", "upper", "n_effective", "share_promoters"):
        assert getattr(plain, field) == getattr(weighted, field), field
    plain_csat = crmkit.csat(scores % 5 + 1)
    weighted_csat = crmkit.csat(scores % 5 + 1, weights=np.ones(scores.size))
    assert plain_csat.share == weighted_csat.share
    assert plain_csat.share_lower == weighted_csat.share_lower
    assert plain_csat.mean_score == weighted_csat.mean_score
    assert plain_csat.mean_upper == pytest.approx(weighted_csat.mean_upper, rel=1e-14)


def test_weighted_shares_and_kish_effective_size():
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 11, 400)
    weights = rng.lognormal(0, 0.8, 400)
    result = crmkit.nps(scores, weights=weights)
    promoter, detractor = scores >= 9, scores <= 6
    share_p = weights[promoter].sum() / weights.sum()
    share_d = weights[detractor].sum() / weights.sum()
    n_eff = weights.sum() ** 2 / (weights**2).sum()
    assert result.n_effective == pytest.approx(n_eff, rel=1e-12)
    assert result.score == pytest.approx(100 * (share_p - share_d), rel=1e-12)
    se = 100 * math.sqrt((share_p + share_d - (share_p - share_d) ** 2) / n_eff)
    assert result.standard_error == pytest.approx(se, rel=1e-12)
    assert result.weight_total == pytest.approx(weights.sum(), rel=1e-15)


def test_bootstrap_is_reproducible_and_thread_independent():
    scores = answers(50, 30, 20, seed=2)
    weights = np.random.default_rng(9).uniform(0.5, 2.0, scores.size)
    first = crmkit.nps(scores, method="bootstrap", random_state=11)
    again = crmkit.nps(scores, method="bootstrap", random_state=11)
    other = crmkit.nps(scores, method="bootstrap", random_state=12)
    assert (first.lower, first.upper) == (again.lower, again.upper)
    assert (first.lower, first.upper) != (other.lower, other.upper)
    saved = crmkit.num_threads()
    try:
        crmkit.set_num_threads(1)
        one = crmkit.nps(scores, weights, method="bootstrap", random_state=3, n_boot=500)
        crmkit.set_num_threads(4)
        four = crmkit.nps(scores, weights, method="bootstrap", random_state=3, n_boot=500)
    finally:
        crmkit.set_num_threads(saved)
    assert (one.lower, one.upper) == (four.lower, four.upper)


def test_bootstrap_interval_approaches_the_normal_interval():
    scores = answers(600, 250, 150, seed=4)
    score, _, wald, _ = textbook_nps(600, 250, 150)
    result = crmkit.nps(scores, method="bootstrap", n_boot=4000, random_state=1)
    assert result.lower == pytest.approx(wald[0], abs=1.0)
    assert result.upper == pytest.approx(wald[1], abs=1.0)
    # Independent check: numpy's own resampling of the coded answers gives a similar interval.
    coded = np.where(scores >= 9, 1.0, np.where(scores >= 7, 0.0, -1.0))
    rng = np.random.default_rng(0)
    means = 100 * coded[rng.integers(0, coded.size, (4000, coded.size))].mean(axis=1)
    assert result.lower == pytest.approx(np.quantile(means, 0.025), abs=0.8)


def test_csat_share_and_mean_intervals_match_scipy():
    rng = np.random.default_rng(6)
    scores = rng.choice([1, 2, 3, 4, 5], size=157, p=[0.1, 0.1, 0.2, 0.35, 0.25])
    result = crmkit.csat(scores)
    satisfied = int((scores >= 4).sum())
    wilson = stats.binomtest(satisfied, scores.size).proportion_ci(0.95, method="wilson")
    assert result.favourable == satisfied
    assert result.share == pytest.approx(satisfied / scores.size)
    assert (result.share_lower, result.share_upper) == pytest.approx(
        (wilson.low, wilson.high), rel=1e-10
    )
    t = stats.ttest_1samp(scores, 0).confidence_interval(0.95)
    assert result.mean_score == pytest.approx(scores.mean())
    assert result.sd == pytest.approx(scores.std(ddof=1))
    assert (result.mean_lower, result.mean_upper) == pytest.approx((t.low, t.high), rel=1e-10)
    assert (result.scale_min, result.scale_max, result.higher_is_better) == (1, 5, True)


def test_csat_on_other_scales_and_box_counts():
    scores = np.array([0, 3, 7, 8, 9, 10, 10, 6, 8, 9] * 4)
    top3 = crmkit.csat(scores, scale=(0, 10), top_boxes=3)
    assert top3.share == pytest.approx(np.mean(scores >= 8))
    with pytest.raises(ValueError, match="outside the scale 1..5"):
        crmkit.csat(scores)


def test_ces_versions_state_scale_and_direction():
    agreement = crmkit.ces([7, 6, 5, 4, 2, 1, 7, 5] * 5)
    assert (agreement.scale_min, agreement.scale_max, agreement.higher_is_better) == (1, 7, True)
    assert agreement.version == "2.0"
    assert agreement.share == pytest.approx(25 / 40)  # 5-7 agree
    effort = crmkit.ces([1, 2, 3, 5, 4, 1, 2, 2] * 5, version="1.0")
    assert (effort.scale_max, effort.higher_is_better, effort.favourable_boxes) == (5, False, 2)
    assert effort.share == pytest.approx(25 / 40)  # 1-2 = low effort
    with pytest.raises(ValueError, match="version"):
        crmkit.ces([1, 2], version="3.0")


def test_bad_input_raises_with_count_and_first_row_or_is_skipped():
    scores = pd.Series([10, 11, 4.5, np.nan, 3, -1, 8], index=list("abcdefg"))
    first = r"4 of 7 rows are invalid; the first is row 1 \(index 'b'\)"
    with pytest.raises(ValueError, match=first):
        crmkit.nps(scores)
    with pytest.warns(crmkit.SurveyWarning) as record:
        result = crmkit.nps(scores, on_bad_row="skip")
    assert {type(w.message) for w in record} == {
        crmkit.SkippedRowsWarning,
        crmkit.SmallSampleWarning,
    }
    assert "4 of 7 rows are invalid" in str(record[0].message)
    assert result.n == 3 and result.skipped == 4
    with pytest.raises(ValueError, match=r"scores\[2\] = 4.5 is not an integer"):
        crmkit.nps([9, 9, 4.5])
    with pytest.raises(ValueError, match=r"scores\[1\] is missing \(NaN\)"):
        crmkit.nps([9, np.nan])
    with pytest.raises(ValueError, match=r"weights\[1\] = -1 is not a valid weight"):
        crmkit.nps([9, 9], weights=[1, -1])
    with pytest.raises(ValueError, match="scores is empty"):
        crmkit.nps([])
    with pytest.raises(ValueError, match="no valid answers"):
        with pytest.warns(crmkit.SkippedRowsWarning):
            crmkit.nps([11, 12], on_bad_row="skip")
    with pytest.raises(ValueError, match="method"):
        crmkit.nps([9], method="exact")
    with pytest.raises(ValueError, match="confidence"):
        crmkit.nps([9] * 40, confidence=95)
    with pytest.raises(ValueError, match="weights has shape"):
        crmkit.nps([9, 9], weights=[1.0])


def test_one_answer_is_estimated_but_flagged():
    with pytest.warns(crmkit.SmallSampleWarning, match="effective sample of 1"):
        result = crmkit.nps([10])
    assert result.score == 100 and result.small_sample
    assert result.lower < result.upper  # adjusted Wald stays informative
    with pytest.warns(crmkit.SmallSampleWarning):
        single = crmkit.csat([4])
    assert single.mean_score == 4 and math.isnan(single.mean_lower) and math.isnan(single.sd)


def test_result_converts_to_series():
    series = crmkit.nps(answers(40, 20, 10)).to_series()
    assert series["promoters"] == 40
    assert set(["score", "lower", "upper", "n_effective"]) <= set(series.index)
