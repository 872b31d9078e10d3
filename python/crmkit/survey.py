"""Satisfaction and loyalty: NPS, CSAT and CES with honest uncertainty.

Every estimate comes with its standard error, a confidence interval and a small-sample flag;
aggregation by segment and period runs in one parallel pass in C++ over mergeable accumulators,
so results are exact and independent of the thread count. Changes between periods or groups are
tested (adjusted-Wald for NPS, two-proportion for CSAT), and key drivers are ranked by the
Shapley decomposition of R².
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _core
from ._survey_input import (
    NS_PER_DAY,
    PERIODS,
    choice,
    factorize,
    period_labels,
    scores_array,
    seed_from,
    timestamps_array,
    weights_array,
)
from ._survey_results import (
    Comparison,
    NPSResult,
    RatingResult,
    SkippedRowsWarning,
    SmallSampleWarning,
    SurveyWarning,
    UnmatchedResponsesWarning,
)

__all__ = [
    "Comparison",
    "NPSResult",
    "RatingResult",
    "SkippedRowsWarning",
    "SmallSampleWarning",
    "SurveyWarning",
    "UnmatchedResponsesWarning",
    "aggregate",
    "attach_labels",
    "ces",
    "compare_csat",
    "compare_nps",
    "csat",
    "drivers",
    "nps",
    "period_over_period",
]

_METHODS = ("adjusted_wald", "wald", "bootstrap")
_ON_BAD = ("error", "skip")
_ATTRS_KEY = "crmkit.survey"
_NPS_COLUMNS = ("n", "promoters", "passives", "detractors", "share_promoters", "share_passives",
                "share_detractors", "nps", "se", "lower", "upper")
_RATING_COLUMNS = ("n", "favourable", "share", "share_se", "share_lower", "share_upper",
                   "mean_score", "sd", "mean_se", "mean_lower", "mean_upper")

RandomState = Union[None, int, np.random.Generator]


# --------------------------------------------------------------------------- engine calls


def _run(
    metric: str,
    scores: np.ndarray,
    weights: Optional[np.ndarray],
    codes: List[np.ndarray],
    levels: List[int],
    timestamps: Optional[np.ndarray],
    period: Optional[str],
    window: int,
    confidence: float,
    min_n: float,
    method: str,
    n_boot: int,
    random_state: RandomState,
    scale: Tuple[int, int, bool, int],
) -> Dict[str, Any]:
    """One call of the C++ aggregation; invalid rows are always skipped and reported here."""
    common = dict(
        scores=scores,
        weights=weights,
        codes=codes,
        levels=levels,
        timestamps=timestamps,
        ticks_per_day=NS_PER_DAY,
        period=period,
        window=window,
    )
    if metric == "nps":
        seed = seed_from(random_state) if method == "bootstrap" else 0
        out, first_period_day = _core.survey.aggregate_nps(
            **common, confidence=confidence, method=method, n_boot=n_boot, seed=seed,
            min_n=min_n, on_bad_row="skip",
        )
    else:
        low, high, higher_is_better, boxes = scale
        out, first_period_day = _core.survey.aggregate_rating(
            **common, scale_min=low, scale_max=high, higher_is_better=higher_is_better,
            favourable_boxes=boxes, confidence=confidence, min_n=min_n, on_bad_row="skip",
        )
    return dict(out, first_period_day=first_period_day)


def _report_bad_rows(out: Dict[str, Any], on_bad_row: str,
                     labels: Optional[pd.Index] = None) -> int:
    """Raise (on_bad_row="error") or warn about the invalid rows; returns their number."""
    bad = int(out["bad_rows"])
    if bad == 0:
        return 0
    first = int(out["first_bad_row"])
    where = f"row {first}" if labels is None else f"row {first} (index {labels[first]!r})"
    text = f"{bad} of {out['rows']} rows are invalid; the first is {where}: {out['first_problem']}"
    if on_bad_row == "error":
        raise ValueError(text + ". Pass on_bad_row='skip' to leave invalid rows out.")
    warnings.warn(text + "; they were left out.", SkippedRowsWarning, stacklevel=3)
    return bad


def _scale_of(metric: str, scale: Optional[Tuple[int, int]], top_boxes: int, version: str):
    if metric == "ces":
        if scale is not None:
            raise ValueError("scale is set by the CES version; pass version='2.0' or '1.0'")
        return tuple(_core.survey.ces_scale(version))
    low, high = (1, 5) if scale is None else scale
    for name, value in (("scale[0]", low), ("scale[1]", high), ("top_boxes", top_boxes)):
        if isinstance(value, (bool, np.bool_)) or not float(value).is_integer():
            raise ValueError(f"{name} = {value!r} must be an integer (rating scales are integer)")
    return (int(low), int(high), True, int(top_boxes))


def _check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence = {confidence} must lie strictly between 0 and 1")
    return float(confidence)


# --------------------------------------------------------------------------- one sample


def _one_sample(metric, scores, weights, confidence, min_n, on_bad_row, method="adjusted_wald",
                n_boot=2000, random_state=None, scale=(0, 10, True, 2)):
    choice("on_bad_row", on_bad_row, _ON_BAD)
    values = scores_array(scores)
    if values.size == 0:
        raise ValueError("scores is empty")
    labels = scores.index if isinstance(scores, pd.Series) else None
    weight_values = weights_array(weights, values.size)
    if weight_values is not None and weight_values.size and not weight_values.any():
        raise ValueError(f"{metric}: every weight is 0, so the estimate is undefined "
                         "(give some answer a weight)")
    out = _run(metric, values, weight_values, [], [], None, None, 1,
               _check_confidence(confidence), min_n, method, n_boot, random_state, scale)
    skipped = _report_bad_rows(out, on_bad_row, labels)
    row = {name: column[0] for name, column in out["columns"].items()}
    if row["n"] == 0:
        raise ValueError(f"no valid answers: all {out['rows']} rows were invalid")
    if row["small_sample"]:
        warnings.warn(
            f"the estimate rests on an effective sample of {row['n_effective']:.4g} answers, "
            f"fewer than min_n = {min_n}; its interval is only a rough guide",
            SmallSampleWarning, stacklevel=3,
        )
    return row, skipped


def nps(
    scores: Any,
    weights: Any = None,
    confidence: float = 0.95,
    method: str = "adjusted_wald",
    n_boot: int = 2000,
    random_state: RandomState = None,
    min_n: float = 30,
    on_bad_row: str = "error",
) -> NPSResult:
    """Net Promoter Score of 0–10 answers, with standard error and confidence interval.

    Promoters answer 9–10, passives 7–8, detractors 0–6; NPS = 100·(%P − %D) in points.

    Parameters
    ----------
    scores : array-like or Series
        Integer answers 0–10 (floats must be whole numbers; NaN counts as invalid).
    weights : array-like, optional
        Survey weights (0, or between about 9.1e-13 and 1.1e12). Shares become weighted and the
        standard error uses Kish's effective sample size (Σw)²/Σw².
    confidence : float, default 0.95
        Coverage of the interval.
    method : {"adjusted_wald", "wald", "bootstrap"}, default "adjusted_wald"
        Interval method. Adjusted Wald (add 3/4 to promoters and detractors, 3 to n; Rocks 2016,
        *The American Statistician* 70(4)) covers best; "bootstrap" is the percentile interval of
        `n_boot` seeded resamples.
    n_boot : int, default 2000
        Bootstrap resamples.
    random_state : int, numpy Generator or None
        Bootstrap seed; the same seed gives the same interval, whatever the thread count.
    min_n : float, default 30
        Below this effective sample size the result is flagged (`small_sample`) and a
        `SmallSampleWarning` is emitted.
    on_bad_row : {"error", "skip"}, default "error"
        Invalid answers (off the scale, not whole, NaN, bad weight) raise ValueError naming their
        number and the first one, or are left out with a `SkippedRowsWarning`.

    Returns
    -------
    NPSResult

    Examples
    --------
    >>> crmkit.nps([10, 9, 9, 8, 7, 6, 3, 10], min_n=5).score
    25.0
    """
    choice("method", method, _METHODS)
    row, skipped = _one_sample("nps", scores, weights, confidence, min_n, on_bad_row, method,
                               n_boot, random_state)
    return NPSResult(
        score=float(row["score"]), standard_error=float(row["standard_error"]),
        lower=float(row["lower"]), upper=float(row["upper"]), confidence=float(confidence),
        method=method, n=int(row["n"]), promoters=int(row["promoters"]),
        passives=int(row["passives"]), detractors=int(row["detractors"]),
        share_promoters=float(row["share_promoters"]),
        share_passives=float(row["share_passives"]),
        share_detractors=float(row["share_detractors"]),
        weight_total=float(row["weight_total"]), n_effective=float(row["n_effective"]),
        small_sample=bool(row["small_sample"]), skipped=skipped,
    )


def _rating_result(metric, version, scale, row, confidence, skipped) -> RatingResult:
    return RatingResult(
        metric=metric, version=version, scale_min=scale[0], scale_max=scale[1],
        higher_is_better=bool(scale[2]), favourable_boxes=scale[3],
        share=float(row["share"]), share_se=float(row["share_se"]),
        share_lower=float(row["share_lower"]), share_upper=float(row["share_upper"]),
        mean_score=float(row["mean_score"]), sd=float(row["sd"]), mean_se=float(row["mean_se"]),
        mean_lower=float(row["mean_lower"]), mean_upper=float(row["mean_upper"]),
        favourable=int(row["favourable"]), n=int(row["n"]),
        weight_total=float(row["weight_total"]), n_effective=float(row["n_effective"]),
        confidence=float(confidence), small_sample=bool(row["small_sample"]), skipped=skipped,
    )


def csat(
    scores: Any,
    weights: Any = None,
    scale: Tuple[int, int] = (1, 5),
    top_boxes: int = 2,
    confidence: float = 0.95,
    min_n: float = 30,
    on_bad_row: str = "error",
) -> RatingResult:
    """Customer satisfaction: top-box share (Wilson interval) and mean score (t interval).

    Parameters
    ----------
    scores : array-like or Series
        Integer answers on `scale`.
    weights : array-like, optional
        Survey weights; see `nps`.
    scale : (int, int), default (1, 5)
        Lowest and highest answer (integers within ±1000).
    top_boxes : int, default 2
        Answers in the top `top_boxes` boxes are satisfied (top-2-box: 4–5 on 1–5).
    confidence, min_n, on_bad_row
        As in `nps`. The share interval is Wilson's (1927) score interval; the mean's is
        Student's t with n − 1 (Kish n_eff − 1 when weighted) degrees of freedom.

    Returns
    -------
    RatingResult
        With ``metric="csat"``; `share` is the CSAT.
    """
    resolved = _scale_of("csat", scale, top_boxes, "2.0")
    row, skipped = _one_sample("csat", scores, weights, confidence, min_n, on_bad_row,
                               scale=resolved)
    return _rating_result("csat", None, resolved, row, confidence, skipped)


def ces(
    scores: Any,
    weights: Any = None,
    version: str = "2.0",
    confidence: float = 0.95,
    min_n: float = 30,
    on_bad_row: str = "error",
) -> RatingResult:
    """Customer Effort Score: mean score and favourable (low-effort) share, with intervals.

    Parameters
    ----------
    scores : array-like or Series
        Integer answers on the version's scale.
    weights : array-like, optional
        Survey weights; see `nps`.
    version : {"2.0", "1.0"}, default "2.0"
        "2.0": 1–7 agreement with "the company made it easy to handle my issue", higher is
        better, favourable = 5–7. "1.0" (the original, Dixon et al. 2010): 1–5 effort, lower is
        better, favourable = 1–2. The result states the scale and direction.
    confidence, min_n, on_bad_row
        As in `csat`.

    Returns
    -------
    RatingResult
        With ``metric="ces"``.
    """
    resolved = _scale_of("ces", None, 0, version)
    row, skipped = _one_sample("ces", scores, weights, confidence, min_n, on_bad_row,
                               scale=resolved)
    return _rating_result("ces", version, resolved, row, confidence, skipped)


# --------------------------------------------------------------------------- aggregation


def _as_list(columns: Union[None, str, Sequence[str]]) -> List[str]:
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def _result_index(level_sets: List[pd.Index], periods: Optional[pd.PeriodIndex]) -> pd.Index:
    levels = level_sets + ([periods] if periods is not None else [])
    if not levels:
        return pd.Index(["all"])
    if len(levels) == 1:
        return levels[0]
    return pd.MultiIndex.from_product(levels)


def aggregate(
    df: pd.DataFrame,
    score_col: str,
    metric: str = "nps",
    by: Union[None, str, Sequence[str]] = None,
    period: Optional[str] = None,
    date_col: Optional[str] = None,
    weights_col: Optional[str] = None,
    window: int = 1,
    confidence: float = 0.95,
    method: str = "adjusted_wald",
    scale: Optional[Tuple[int, int]] = None,
    top_boxes: int = 2,
    version: str = "2.0",
    min_n: float = 30,
    n_boot: int = 2000,
    random_state: RandomState = None,
    on_bad_row: str = "error",
) -> pd.DataFrame:
    """NPS, CSAT or CES of every group × period of a responses table, in one pass.

    The grouping and the statistics run in C++ (parallel, deterministic). Every combination of
    the groups' levels and every period between the first and last date is reported, empty ones
    included (``n == 0``, ``is_empty == True``, NaN estimates), like ``groupby(observed=False)``.

    Parameters
    ----------
    df : DataFrame
        One row per answer.
    score_col : str
        Column of answers (0–10 for NPS; the scale's integers for CSAT/CES).
    metric : {"nps", "csat", "ces"}, default "nps"
    by : str or list of str, optional
        Grouping columns (segment, channel, lifecycle stage, ...). Categorical columns keep
        unobserved categories; missing keys form their own group.
    period : {"D", "W", "M", "Q", "Y"}, optional
        Calendar period of `date_col` (day, Monday-to-Sunday week, month, quarter, year), as
        pandas' ``to_period``.
    date_col : str, optional
        Column of dates; required with `period`.
    weights_col : str, optional
        Column of survey weights (see `nps`).
    window : int, default 1
        With ``window > 1``, each period's row covers the trailing `window` periods (rolling
        windows, e.g. ``period="D", window=30``); rows are labelled by the window's last period
        and only complete windows are returned.
    confidence, method, n_boot, random_state, min_n, on_bad_row
        As in `nps` (`method`, `n_boot` and `random_state` apply to NPS).
    scale, top_boxes
        CSAT scale and top boxes, as in `csat`.
    version : {"2.0", "1.0"}
        CES version, as in `ces`.

    Returns
    -------
    DataFrame
        Indexed by the grouping columns' levels and ``period`` (a MultiIndex when there are two
        or more). NPS columns: n, promoters, passives, detractors, share_promoters,
        share_passives, share_detractors, nps, se, lower, upper (points); CSAT/CES columns: n,
        favourable, share, share_se, share_lower, share_upper, mean_score, sd, mean_se,
        mean_lower, mean_upper. Both: n_effective, weight_total (when weighted), small_sample,
        is_empty.
        ``attrs["crmkit.survey"]`` records the metric, scale, period, window and confidence
        (used by `period_over_period`).
    """
    by_columns, resolved = _aggregate_options(metric, by, period, date_col, window, method, scale,
                                              top_boxes, version, on_bad_row)
    for name in [score_col, *by_columns] + [c for c in (date_col, weights_col) if c is not None]:
        if name not in df.columns:
            raise ValueError(f"column {name!r} is not in the DataFrame")
    factorized = [factorize(df[name]) for name in by_columns]
    out = _run(
        metric,
        scores_array(df[score_col], score_col),
        None if weights_col is None else weights_array(df[weights_col], len(df), weights_col),
        [codes for codes, _ in factorized],
        [len(levels) for _, levels in factorized],
        None if period is None else timestamps_array(df[date_col], date_col),
        period,
        int(window),
        _check_confidence(confidence),
        min_n,
        method,
        n_boot,
        random_state,
        resolved,
    )
    skipped = _report_bad_rows(out, on_bad_row, df.index)
    periods = None
    if period is not None:
        periods = period_labels(out["first_period_day"], out["periods"], period)
    index = _result_index([levels for _, levels in factorized], periods)
    return _cells_frame(out["columns"], index, metric=metric, scale=resolved, version=version,
                        period=period, window=int(window), confidence=confidence, method=method,
                        weighted=weights_col is not None, skipped=skipped, min_n=min_n)


def _aggregate_options(metric: str, by: Any, period: Optional[str], date_col: Optional[str],
                       window: Any, method: str, scale: Optional[Tuple[int, int]], top_boxes: int,
                       version: str, on_bad_row: str) -> Tuple[List[str], Tuple[int, int, bool, int]]:
    """Checks `aggregate`'s options (also crmkit.dask's); returns the grouping columns and the
    resolved (min, max, higher_is_better, favourable_boxes) scale."""
    choice("metric", metric, ("nps", "csat", "ces"))
    choice("method", method, _METHODS)
    choice("on_bad_row", on_bad_row, _ON_BAD)
    if period is not None:
        choice("period", period, PERIODS)
        if date_col is None:
            raise ValueError(f"period = {period!r} needs date_col, the column of answer dates")
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window = {window!r} must be a positive integer")
    if window > 1 and period is None:
        raise ValueError(f"window = {window} needs a period")
    resolved = _scale_of(metric, scale, top_boxes, version) if metric != "nps" else (0, 10, True, 2)
    return _as_list(by), resolved


def _cells_frame(cell_columns: Dict[str, Any], index: pd.Index, *, metric: str, scale: Any,
                 version: str, period: Optional[str], window: int, confidence: float,
                 method: str, weighted: bool, skipped: int, min_n: float) -> pd.DataFrame:
    """The result frame of `aggregate` from the C++ cells' columns (also used by crmkit.dask)."""
    columns = dict(cell_columns)
    if metric == "nps":
        columns["nps"] = columns.pop("score")
        columns["se"] = columns.pop("standard_error")
    order = list(_NPS_COLUMNS if metric == "nps" else _RATING_COLUMNS) + ["n_effective"]
    if weighted:
        order.append("weight_total")
    frame = pd.DataFrame({name: columns[name] for name in order + ["small_sample"]}, index=index)
    frame["is_empty"] = frame["n"].to_numpy() == 0
    frame.attrs[_ATTRS_KEY] = {
        "metric": metric,
        "scale": scale,
        "version": version if metric == "ces" else None,
        "period": period,
        "window": window,
        "confidence": float(confidence),
        "method": method if metric == "nps" else "wilson",
        "weighted": weighted,
        "skipped_rows": skipped,
    }
    _warn_small_cells(frame, min_n)
    return frame


def _warn_small_cells(frame: pd.DataFrame, min_n: float) -> None:
    small = frame["small_sample"].to_numpy()
    if not small.any():
        return
    empty = int(frame["is_empty"].sum())
    first = frame.index[np.flatnonzero(small)[0]]
    warnings.warn(
        f"{int(small.sum())} of {len(frame)} cells have an effective sample below min_n = "
        f"{min_n} ({empty} are empty); the first is {first!r}. See the small_sample and "
        "is_empty columns.",
        SmallSampleWarning,
        stacklevel=3,
    )


# --------------------------------------------------------------------------- change


def _nps_counts(result: NPSResult) -> Tuple[float, float, float, float]:
    if result.weight_total == result.n == result.n_effective:
        return (result.n, result.promoters, result.passives, result.detractors)
    n = result.n_effective
    return (n, result.share_promoters * n, result.share_passives * n, result.share_detractors * n)


def _comparison(columns: Dict[str, np.ndarray], confidence: float, method: str) -> Comparison:
    return Comparison(
        difference=float(columns["difference"][0]),
        standard_error=float(columns["standard_error"][0]),
        z=float(columns["z"][0]), p_value=float(columns["p_value"][0]),
        lower=float(columns["lower"][0]), upper=float(columns["upper"][0]),
        significant=bool(columns["significant"][0]), confidence=float(confidence), method=method,
    )


def compare_nps(
    a: Any,
    b: Any,
    weights_a: Any = None,
    weights_b: Any = None,
    confidence: float = 0.95,
    method: str = "adjusted_wald",
    on_bad_row: str = "error",
) -> Comparison:
    """Test whether two independent samples' NPS differ.

    Parameters
    ----------
    a, b : array-like of 0–10 answers, or NPSResult
        The two samples (e.g. two periods or two segments).
    weights_a, weights_b : array-like, optional
        Survey weights of raw answers (effective counts are used).
    confidence : float, default 0.95
        Coverage of the interval of the difference; significant means p < 1 − confidence.
    method : {"adjusted_wald", "wald"}, default "adjusted_wald"
        Adjusted Wald is MeasuringU's test (Sauro, "How to Statistically Compare Two Net
        Promoter Scores"): z = (NPS'_a − NPS'_b)/√(SE'_a² + SE'_b²) on adjusted counts
        (n + 3, P + 3/4, D + 3/4). "wald" is the unadjusted test of R's ``NPS::nps_test``.
    on_bad_row : {"error", "skip"}
        For raw answers, as in `nps`.

    Returns
    -------
    Comparison
        `difference` is the unadjusted NPS_a − NPS_b in points; the interval is centred on the
        adjusted difference.
    """
    choice("method", method, ("adjusted_wald", "wald"))
    samples = []
    for sample, weights in ((a, weights_a), (b, weights_b)):
        if not isinstance(sample, NPSResult):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallSampleWarning)
                sample = nps(sample, weights, confidence=confidence, on_bad_row=on_bad_row)
        samples.append(_nps_counts(sample))
    columns = _core.survey.compare_nps(samples[0], samples[1], confidence=confidence,
                                       method=method)
    return _comparison(columns, confidence, method)


def compare_csat(
    a: Any,
    b: Any,
    weights_a: Any = None,
    weights_b: Any = None,
    scale: Tuple[int, int] = (1, 5),
    top_boxes: int = 2,
    confidence: float = 0.95,
    on_bad_row: str = "error",
) -> Comparison:
    """Test whether two independent samples' favourable (top-box) shares differ.

    Parameters
    ----------
    a, b : array-like of answers, or RatingResult (from `csat` or `ces`)
        The two samples.
    weights_a, weights_b : array-like, optional
        Survey weights of raw answers (effective counts are used).
    scale, top_boxes
        For raw answers, as in `csat`.
    confidence : float, default 0.95
        Coverage of the interval; significant means p < 1 − confidence.
    on_bad_row : {"error", "skip"}
        For raw answers, as in `csat`.

    Returns
    -------
    Comparison
        z from the pooled two-proportion test; the interval of the difference is Newcombe's
        (1998) hybrid score interval from the two Wilson intervals.
    """
    samples = []
    for sample, weights in ((a, weights_a), (b, weights_b)):
        if not isinstance(sample, RatingResult):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallSampleWarning)
                sample = csat(sample, weights, scale=scale, top_boxes=top_boxes,
                              confidence=confidence, on_bad_row=on_bad_row)
        if sample.weight_total == sample.n == sample.n_effective:
            samples.append((sample.n, sample.favourable))
        else:
            samples.append((sample.n_effective, sample.share * sample.n_effective))
    columns = _core.survey.compare_proportions(samples[0], samples[1], confidence=confidence)
    return _comparison(columns, confidence, "two_proportion")


def period_over_period(
    table: pd.DataFrame,
    lag: Optional[int] = None,
    confidence: Optional[float] = None,
) -> pd.DataFrame:
    """Changes from each period to the one `lag` periods earlier, with significance.

    Parameters
    ----------
    table : DataFrame
        The result of `aggregate` with a `period` (all groups × periods, in order).
    lag : int, optional
        Periods between the compared rows; defaults to the aggregation's window, so rolling
        windows are compared with the previous non-overlapping window.
    confidence : float, optional
        Defaults to the aggregation's confidence.

    Returns
    -------
    DataFrame
        Indexed like `table`: the current and previous estimate (NPS points, or favourable
        share for CSAT/CES), change, standard error, z, p_value, lower, upper (interval of the
        change), significant, and direction ("up", "down", or "" when not significant). The
        first `lag` periods of each group have NaN changes. Tests: `compare_nps` (adjusted Wald)
        for NPS, two-proportion (`compare_csat`) for CSAT/CES.
    """
    info = table.attrs.get(_ATTRS_KEY)
    if info is None or info.get("period") is None:
        raise ValueError("table must be the result of crmkit.aggregate(..., period=...)")
    periods = len(table.index.levels[-1]) if isinstance(table.index, pd.MultiIndex) else len(table)
    lag = info["window"] if lag is None else lag
    confidence = info["confidence"] if confidence is None else confidence
    n = table["n_effective"].to_numpy(dtype=np.float64)
    if info["metric"] == "nps":
        method = "wald" if info["method"] == "wald" else "adjusted_wald"
        columns = _core.survey.nps_period_over_period(
            n, table["share_promoters"].to_numpy() * n, table["share_passives"].to_numpy() * n,
            table["share_detractors"].to_numpy() * n, periods=periods, lag=lag,
            confidence=confidence, method=method,
        )
        current = table["nps"].to_numpy()
    else:
        columns = _core.survey.proportion_period_over_period(
            n, table["share"].to_numpy() * n, periods=periods, lag=lag, confidence=confidence,
        )
        current = table["share"].to_numpy()
    previous = np.full(len(table), np.nan)
    has_previous = np.arange(len(table)) % periods >= lag
    previous[has_previous] = current[np.flatnonzero(has_previous) - lag]
    change = pd.DataFrame(
        {
            "current": current,
            "previous": previous,
            "change": columns["difference"],
            "se": columns["standard_error"],
            "z": columns["z"],
            "p_value": columns["p_value"],
            "lower": columns["lower"],
            "upper": columns["upper"],
            "significant": columns["significant"],
        },
        index=table.index,
    )
    direction = np.where(change["change"].to_numpy() > 0, "up", "down")
    change["direction"] = np.where(change["significant"].to_numpy(), direction, "")
    return change


# --------------------------------------------------------------------------- drivers


def drivers(
    data: pd.DataFrame,
    outcome: str,
    attributes: Optional[Sequence[str]] = None,
    target: str = "score",
    method: str = "shapley",
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: RandomState = None,
    on_bad_row: str = "error",
) -> pd.DataFrame:
    """Key-driver analysis: how much each attribute rating explains the overall score.

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    outcome : str
        Column of the overall score (e.g. satisfaction, or likelihood to recommend 0–10).
    attributes : list of str, optional
        Attribute rating columns (delivery, price, service, ...); default: every other numeric
        column.
    target : {"score", "nps"}, default "score"
        "score" regresses on the outcome as it is; "nps" first codes 0–10 answers as promoter
        +1, passive 0, detractor −1, so the importances explain the NPS.
    method : {"shapley", "johnson"}, default "shapley"
        Shapley decomposition of R² (LMG; exact over all 2^p subsets, p ≤ 16) or Johnson's (2000)
        relative weights. Both sum to the full model's R².
    n_boot : int, default 1000
        Bootstrap resamples of respondents for the intervals (0: none).
    confidence : float, default 0.95
        Coverage of the percentile intervals.
    random_state : int, numpy Generator or None
        Bootstrap seed; the same seed gives the same intervals.
    on_bad_row : {"error", "skip"}, default "error"
        Rows with a missing value raise ValueError (their number and the first), or are left
        out with a `SkippedRowsWarning`.

    Returns
    -------
    DataFrame
        Indexed by attribute: importance (share of variance explained; they sum to R²), share
        (importance / R²), lower, upper, rank (1 = most important). ``attrs`` holds r_squared,
        n, failed_resamples, method and target.
    """
    choice("target", target, ("score", "nps"))
    choice("method", method, ("shapley", "johnson"))
    choice("on_bad_row", on_bad_row, _ON_BAD)
    if outcome not in data.columns:
        raise ValueError(f"column {outcome!r} is not in the DataFrame")
    if attributes is None:
        attributes = [c for c in data.select_dtypes("number").columns if c != outcome]
    attributes = list(attributes)
    missing = [c for c in attributes if c not in data.columns]
    if missing:
        raise ValueError(f"attribute columns {missing} are not in the DataFrame")
    if not attributes:
        raise ValueError("no attribute columns: pass attributes=[...]")
    frame = data[attributes + [outcome]].apply(pd.to_numeric, errors="coerce")
    incomplete = frame.isna().any(axis=1).to_numpy()
    if incomplete.any():
        first = data.index[np.flatnonzero(incomplete)[0]]
        text = (f"{int(incomplete.sum())} of {len(frame)} rows have a missing or non-numeric "
                f"value; the first is index {first!r}")
        if on_bad_row == "error":
            raise ValueError(text + ". Pass on_bad_row='skip' to leave them out.")
        warnings.warn(text + "; they were left out.", SkippedRowsWarning, stacklevel=2)
        frame = frame[~incomplete]
    y = frame[outcome].to_numpy(dtype=np.float64)
    if target == "nps":
        if not np.all((y >= 0) & (y <= 10) & (y == np.round(y))):
            raise ValueError(f"target='nps' needs whole 0-10 answers in {outcome!r}")
        y = np.where(y >= 9, 1.0, np.where(y >= 7, 0.0, -1.0))
    result = _core.survey.driver_importance(
        np.ascontiguousarray(frame[attributes].to_numpy(dtype=np.float64)), y, method=method,
        n_boot=n_boot, seed=seed_from(random_state) if n_boot > 0 else 0,
        confidence=_check_confidence(confidence),
    )
    importance = result["importance"]
    table = pd.DataFrame(
        {
            "importance": importance,
            "share": importance / result["r_squared"],
            "lower": result["lower"],
            "upper": result["upper"],
        },
        index=pd.Index(attributes, name="attribute"),
    )
    table["rank"] = table["importance"].rank(ascending=False, method="min").astype(int)
    table.attrs.update(
        r_squared=float(result["r_squared"]), n=int(len(frame)),
        failed_resamples=int(result["failed_resamples"]), method=method, target=target,
    )
    if result["failed_resamples"]:
        warnings.warn(
            f"{result['failed_resamples']} of {n_boot} bootstrap resamples had a constant or "
            "collinear attribute and were left out of the intervals",
            SurveyWarning, stacklevel=2,
        )
    return table


# --------------------------------------------------------------------------- joining


def attach_labels(
    responses: pd.DataFrame,
    labels: pd.DataFrame,
    on: str = "customer_id",
    columns: Optional[Sequence[str]] = None,
    missing: str = "error",
) -> pd.DataFrame:
    """Attach customer-level labels (RFM segment, value tier, lifecycle stage) to responses.

    Parameters
    ----------
    responses : DataFrame
        Survey answers with a customer id column `on`.
    labels : DataFrame
        One row per customer: indexed by customer id, or with a column `on`. Typically the
        output of crmkit's segmentation, value or lifecycle functions.
    on : str, default "customer_id"
        The customer id column of `responses` (and of `labels` when not its index).
    columns : list of str, optional
        Label columns to attach (default: all).
    missing : {"error", "keep", "drop"}, default "error"
        Responses whose customer has no labels: raise ValueError (their number and the first),
        keep them with missing labels, or drop them; both of the latter warn with
        `UnmatchedResponsesWarning`.

    Returns
    -------
    DataFrame
        `responses` (same index and order, minus dropped rows) with the label columns added;
        pass the result to `aggregate(..., by=[...])`.
    """
    choice("missing", missing, ("error", "keep", "drop"))
    if on not in responses.columns:
        raise ValueError(f"responses has no column {on!r}")
    table = labels.set_index(on) if on in labels.columns else labels
    if table.index.has_duplicates:
        duplicate = table.index[table.index.duplicated()][0]
        raise ValueError(f"labels has more than one row for customer {duplicate!r}")
    columns = list(table.columns if columns is None else columns)
    clashes = [c for c in columns if c in responses.columns]
    if clashes:
        raise ValueError(f"responses already has columns {clashes}")
    ids = responses[on]
    matched = ids.isin(table.index).to_numpy()
    if not matched.all():
        first = np.flatnonzero(~matched)[0]
        text = (f"{int((~matched).sum())} of {len(ids)} responses have a customer id without "
                f"labels; the first is index {responses.index[first]!r} "
                f"(customer {ids.iloc[first]!r})")
        if missing == "error":
            raise ValueError(text + ". Pass missing='keep' or 'drop'.")
        warnings.warn(text + ("; they were dropped." if missing == "drop" else
                              "; their labels are missing."),
                      UnmatchedResponsesWarning, stacklevel=2)
    attached = table[columns].reindex(ids.to_numpy())
    attached.index = responses.index
    result = pd.concat([responses, attached], axis=1)
    return result[matched] if missing == "drop" else result
