"""Result types and warnings of crmkit.survey."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

import pandas as pd


class SurveyWarning(UserWarning):
    """Base class of the warnings crmkit.survey emits."""


class SmallSampleWarning(SurveyWarning):
    """An estimate rests on fewer answers (effective sample size) than ``min_n``."""


class SkippedRowsWarning(SurveyWarning):
    """Invalid rows were left out on request (``on_bad="skip"``)."""


class UnmatchedResponsesWarning(SurveyWarning):
    """Responses whose customer id has no labels were kept unlabelled or dropped."""


class _Result:
    def to_series(self) -> pd.Series:
        """The fields as a pandas Series (object dtype), named by field."""
        return pd.Series(dataclasses.asdict(self), dtype=object)


@dataclass(frozen=True)
class NPSResult(_Result):
    """An NPS estimate with its uncertainty.

    Attributes
    ----------
    score : float
        Net Promoter Score in points, 100·(share of promoters − share of detractors).
    standard_error : float
        Standard error of `score` in points, from the trinomial variance
        Var = p_P + p_D − (p_P − p_D)² divided by the (effective) sample size.
    lower, upper : float
        Confidence interval of the NPS in points, by `method`.
    confidence : float
        Coverage of the interval.
    method : str
        ``"adjusted_wald"``, ``"wald"`` or ``"bootstrap"``.
    n, promoters, passives, detractors : int
        Numbers of valid answers and of answers in each category.
    share_promoters, share_passives, share_detractors : float
        Shares of the categories (weighted when weights were given).
    weight_total : float
        Sum of the weights (``n`` when unweighted).
    n_effective : float
        Kish effective sample size (Σw)²/Σw² (``n`` when unweighted).
    small_sample : bool
        True when `n_effective` is below ``min_n``.
    skipped : int
        Invalid rows left out under ``on_bad="skip"``.
    """

    score: float
    standard_error: float
    lower: float
    upper: float
    confidence: float
    method: str
    n: int
    promoters: int
    passives: int
    detractors: int
    share_promoters: float
    share_passives: float
    share_detractors: float
    weight_total: float
    n_effective: float
    small_sample: bool
    skipped: int = 0


@dataclass(frozen=True)
class RatingResult(_Result):
    """A CSAT or CES estimate: favourable share and mean score, each with an interval.

    Attributes
    ----------
    metric : str
        ``"csat"`` or ``"ces"``.
    version : str or None
        CES version (``"2.0"``: 1–7 agreement; ``"1.0"``: 1–5 effort), None for CSAT.
    scale_min, scale_max : int
        The scale the answers are on.
    higher_is_better : bool
        Direction of the scale (False for the original 1–5 effort CES).
    favourable_boxes : int
        How many boxes at the good end count as favourable (top-2-box: 2).
    share, share_se, share_lower, share_upper : float
        Favourable share (weighted when weights were given), its standard error and Wilson
        interval.
    mean_score, sd, mean_se, mean_lower, mean_upper : float
        Mean score, standard deviation, standard error and t interval (NaN spread and interval
        with fewer than two answers).
    favourable, n : int
        Numbers of favourable and of valid answers.
    weight_total, n_effective : float
        Sum of weights and Kish effective sample size (``n`` when unweighted).
    confidence : float
        Coverage of the intervals.
    small_sample : bool
        True when `n_effective` is below ``min_n``.
    skipped : int
        Invalid rows left out under ``on_bad="skip"``.
    """

    metric: str
    version: Optional[str]
    scale_min: int
    scale_max: int
    higher_is_better: bool
    favourable_boxes: int
    share: float
    share_se: float
    share_lower: float
    share_upper: float
    mean_score: float
    sd: float
    mean_se: float
    mean_lower: float
    mean_upper: float
    favourable: int
    n: int
    weight_total: float
    n_effective: float
    confidence: float
    small_sample: bool
    skipped: int = 0


@dataclass(frozen=True)
class Comparison(_Result):
    """A two-sample comparison of a − b.

    Attributes
    ----------
    difference : float
        Estimated difference a − b (NPS points, or a difference of shares).
    standard_error : float
        Standard error behind the test statistic.
    z, p_value : float
        Test statistic and its two-sided normal p-value.
    lower, upper : float
        Confidence interval of the difference.
    significant : bool
        True when ``p_value < 1 - confidence``.
    confidence : float
        Coverage of the interval.
    method : str
        How the test was made.
    """

    difference: float
    standard_error: float
    z: float
    p_value: float
    lower: float
    upper: float
    significant: bool
    confidence: float
    method: str
