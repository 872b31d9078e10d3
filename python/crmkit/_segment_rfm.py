"""RFM scores, named segments as data (rule sets and their checker), segment summaries."""

import dataclasses
import warnings
from typing import Optional, Tuple

import numpy as np
import pandas as pd

from . import _core
from ._segment_common import SegmentationWarning, positive_int

__all__ = [
    "RFMRule",
    "RFMRuleSet",
    "RFMScale",
    "RuleSetReport",
    "rfm_scores",
    "rfm_segments",
    "segment_summary",
]

_TIES = ("rank_first", "average_rank", "drop_edges", "fixed_thresholds")
_DIMENSIONS = (("recency", "r_score"), ("frequency", "f_score"), ("monetary_value", "m_score"))
_CORE_NAMES = {"recency": "recency", "frequency": "frequency", "monetary_value": "monetary"}


@dataclasses.dataclass(frozen=True)
class RFMScale:
    """How one dimension's raw values become scores, reusable on new data.

    A value's bin is ``1 + (number of thresholds below it)``; its score is the bin, or
    ``bins + 1 - bin`` when lower values are better (recency).

    Attributes
    ----------
    thresholds : ndarray
        Ascending; ``-inf`` marks bins left empty by ties.
    bins : int
    higher_is_better : bool
    requested_bins : int
        Bins asked for; more than ``bins`` when ``ties="drop_edges"`` merged some.
    """

    thresholds: np.ndarray
    bins: int
    higher_is_better: bool
    requested_bins: int

    def score(self, values):
        """Scores of ``values`` (array-like of finite numbers) on this scale.

        Returns
        -------
        ndarray of int32
        """
        array = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
        return _core.segment.score_with_scale(array, np.asarray(self.thresholds, dtype=np.float64),
                                              self.bins, self.higher_is_better)


def _summary(data, recency, frequency, monetary_value, customer_id_col, datetime_col,
             monetary_value_col, datetime_format, observation_period_end, freq,
             freq_multiplier):
    """The per-customer recency / frequency / monetary_value table, indexed like its source."""
    if customer_id_col is not None or datetime_col is not None:
        if customer_id_col is None or datetime_col is None or monetary_value_col is None:
            raise ValueError("a transaction log needs customer_id_col, datetime_col and "
                             "monetary_value_col")
        from .data import summary_data_from_transaction_data

        summary = summary_data_from_transaction_data(
            data, customer_id_col, datetime_col, monetary_value_col,
            datetime_format=datetime_format, observation_period_end=observation_period_end,
            freq=freq, freq_multiplier=freq_multiplier, include_first_transaction=True)
        return summary[["recency", "frequency", "monetary_value"]]
    if data is not None:
        if not isinstance(data, pd.DataFrame):
            raise ValueError("data must be a pandas DataFrame with columns recency, frequency "
                             "and monetary_value (or pass the three arrays)")
        missing = [c for c, _ in _DIMENSIONS if c not in data.columns]
        if missing:
            raise ValueError(f"data lacks the column(s) {missing}; it needs recency (time since "
                             "the last purchase), frequency and monetary_value")
        return data[[c for c, _ in _DIMENSIONS]]
    arrays = {"recency": recency, "frequency": frequency, "monetary_value": monetary_value}
    absent = [name for name, value in arrays.items() if value is None]
    if absent:
        raise ValueError(f"pass a summary DataFrame, a transaction log, or all three arrays; "
                         f"missing {absent}")
    index = next((a.index for a in arrays.values() if isinstance(a, pd.Series)), None)
    columns = {name: np.asarray(value, dtype=np.float64) for name, value in arrays.items()}
    lengths = {name: column.shape for name, column in columns.items()}
    if len(set(lengths.values())) != 1 or any(len(s) != 1 for s in lengths.values()):
        raise ValueError(f"recency, frequency and monetary_value must be 1-d of one length; "
                         f"got shapes {lengths}")
    return pd.DataFrame(columns, index=index)


def _as_float(frame, column):
    return np.ascontiguousarray(frame[column].to_numpy(dtype=np.float64))


def rfm_scores(data=None, *, recency=None, frequency=None, monetary_value=None,
               customer_id_col=None, datetime_col=None, monetary_value_col=None,
               datetime_format=None, observation_period_end=None, freq="D", freq_multiplier=1,
               bins=5, ties=None, thresholds=None, scales=None):
    """RFM scores 1..bins per customer, recency inverted so that higher is always better.

    Three ways in: a per-customer summary DataFrame with columns ``recency`` (time since the
    last purchase), ``frequency`` (purchases) and ``monetary_value`` — e.g. from
    ``crmkit.summary_data_from_transaction_data(..., include_first_transaction=True)`` —; a
    transaction log (pass ``customer_id_col``, ``datetime_col`` and ``monetary_value_col``;
    it is summarised that way); or three arrays.

    Parameters
    ----------
    data : pandas.DataFrame, optional
        The summary, or the transaction log.
    recency, frequency, monetary_value : array-like, optional
        Used when ``data`` is None.
    customer_id_col, datetime_col, monetary_value_col, datetime_format,
    observation_period_end, freq, freq_multiplier
        For a transaction log, as in ``summary_data_from_transaction_data``.
    bins : int, default 5
        Quantile bins (quintiles).
    ties : {"average_rank", "rank_first", "drop_edges", "fixed_thresholds"}, optional
        How tied values are scored (default "average_rank"; "fixed_thresholds" when
        ``thresholds`` is given): "average_rank" gives equal values equal scores (bins may be
        uneven); "rank_first" is pandas ``qcut(x.rank(method="first"), bins)`` (equal bins, ties
        split by row order); "drop_edges" is ``qcut(x, bins, duplicates="drop")`` (ties can
        leave fewer bins; a warning says so); "fixed_thresholds" uses ``thresholds``.
    thresholds : dict, optional
        ``{"recency": [...], "frequency": [...], "monetary_value": [...]}``: ascending cut
        points; a value's bin is 1 + the number of cut points below it.
    scales : dict, optional
        The ``attrs["rfm_scales"]`` of an earlier result: score new customers on the same
        scales (no quantiles are computed).

    Returns
    -------
    pandas.DataFrame
        Indexed like the input: recency, frequency, monetary_value, r_score, f_score,
        m_score (int32) and rfm_score (the digits, e.g. "535", as a categorical over all
        cells, when bins <= 9).
        ``attrs["rfm_scales"]`` maps each dimension to its :class:`RFMScale`.

    Raises
    ------
    ValueError
        For NaN/inf (naming the row), negative recency, a customer with frequency <= 0 (no
        purchases), bad thresholds or ties, missing columns.

    Warns
    -----
    SegmentationWarning
        When ``ties="drop_edges"`` merged bins.
    """
    summary = _summary(data, recency, frequency, monetary_value, customer_id_col, datetime_col,
                       monetary_value_col, datetime_format, observation_period_end, freq,
                       freq_multiplier)
    result = summary.copy()
    values = {column: _as_float(summary, column) for column, _ in _DIMENSIONS}
    if scales is not None:
        for column, score in _DIMENSIONS:
            scale = scales[column]
            result[score] = scale.score(values[column])
        found = dict(scales)
    else:
        if ties is None:
            ties = "fixed_thresholds" if thresholds is not None else "average_rank"
        if ties not in _TIES:
            raise ValueError(f"ties = {ties!r} must be one of {_TIES}")
        if (thresholds is None) != (ties != "fixed_thresholds"):
            raise ValueError("thresholds go with ties='fixed_thresholds', and only with it")
        bins = positive_int(bins, "bins")
        cut = {}
        for column, _ in _DIMENSIONS:
            points = () if thresholds is None else thresholds.get(column, None)
            if points is None:
                raise ValueError(f"thresholds lacks {column!r}")
            cut[_CORE_NAMES[column] + "_thresholds"] = np.ascontiguousarray(
                np.asarray(points, dtype=np.float64))
        scored = _core.segment.score_rfm(values["recency"], values["frequency"],
                                         values["monetary_value"], bins, ties, **cut)
        found = {}
        for column, score in _DIMENSIONS:
            entry = scored[_CORE_NAMES[column]]
            result[score] = entry["scores"]
            found[column] = RFMScale(**entry["scale"])
            if found[column].bins < found[column].requested_bins:
                warnings.warn(
                    f"{column} scores use {found[column].bins} bins instead of "
                    f"{found[column].requested_bins}: tied values gave duplicate quantile edges "
                    "(ties='drop_edges'); 'average_rank' keeps the scale", SegmentationWarning,
                    stacklevel=2)
    if all(scale.bins <= 9 for scale in found.values()):
        # A categorical over every cell "111".."qqq": building a million strings would
        # dominate the run time.
        size = [found[column].bins for column, _ in _DIMENSIONS]
        cells = [f"{r}{f}{m}" for r in range(1, size[0] + 1) for f in range(1, size[1] + 1)
                 for m in range(1, size[2] + 1)]
        codes = ((result["r_score"].to_numpy() - 1) * size[1]
                 + result["f_score"].to_numpy() - 1) * size[2] + result["m_score"].to_numpy() - 1
        result["rfm_score"] = pd.Categorical.from_codes(codes, categories=cells)
    result.attrs["rfm_scales"] = found
    return result


@dataclasses.dataclass(frozen=True)
class RFMRule:
    """A named segment: the union of boxes of (R, F, M) scores.

    Each box is ``(r_low, r_high, f_low, f_high, m_low, m_high)``, bounds inclusive; None
    means the whole scale of the rule set. Build boxes with :meth:`box` and single cells with
    :meth:`cells`.
    """

    name: str
    boxes: Tuple[tuple, ...]
    english_name: str = ""

    @classmethod
    def box(cls, name, recency=None, frequency=None, monetary=None, english_name=""):
        """A rule of one box; each dimension a ``(low, high)`` pair or None (any score)."""
        bounds = []
        for argument, pair in (("recency", recency), ("frequency", frequency),
                               ("monetary", monetary)):
            if pair is None:
                bounds += [None, None]
            else:
                low, high = pair
                bounds += [int(low), int(high)]
        return cls(name, (tuple(bounds),), english_name)

    @classmethod
    def cells(cls, name, cells, english_name=""):
        """A rule listing cells, as strings of three digits ("435") or (r, f, m) triples."""
        boxes = []
        for cell in cells:
            r, f, m = (int(c) for c in cell)
            boxes.append((r, r, f, f, m, m))
        return cls(name, tuple(boxes), english_name)


@dataclasses.dataclass
class RuleSetReport:
    """What :meth:`RFMRuleSet.check` found.

    Attributes
    ----------
    uncovered : pandas.DataFrame
        Cells (r, f, m) no rule matches; their customers get the unmatched segment.
    overlaps : pandas.DataFrame
        Pairs of rules sharing cells: first, second, cells (count) and the cells.
    unreachable : list of str
        Rules that win no cell under the match policy.
    cells_won : pandas.Series
        Cells each rule wins.
    cells : int
        bins ** 3.
    """

    uncovered: pd.DataFrame
    overlaps: pd.DataFrame
    unreachable: list
    cells_won: pd.Series
    cells: int

    @property
    def clean(self):
        """No uncovered cells, no overlaps, no unreachable rules."""
        return self.uncovered.empty and self.overlaps.empty and not self.unreachable

    def __str__(self):
        if self.clean:
            return f"clean: every one of {self.cells} cells is covered by exactly one rule"
        return (f"{len(self.uncovered)} of {self.cells} cells uncovered, {len(self.overlaps)} "
                f"overlapping rule pairs, unreachable rules: {self.unreachable or 'none'}")


class RFMRuleSet:
    """An ordered list of :class:`RFMRule` on a 1..bins score scale, with a match policy.

    Parameters
    ----------
    rules : sequence of RFMRule
    bins : int, default 5
        The score scale the rules are written for.
    match : {"first", "last"}, default "first"
        A customer matching several rules gets the first (if/elif chains) or the last (later
        rules overwrite, as R's ``rfm::rfm_segment`` does).
    unmatched : str, default "Other"
        Segment of customers no rule matches.
    name : str, default "custom"

    Examples
    --------
    >>> rules = RFMRuleSet([RFMRule.box("best", recency=(4, 5), frequency=(4, 5)),
    ...                     RFMRule.box("rest")], bins=5)
    >>> rules.check().clean
    False
    """

    BUILTIN = ("rf_grid", "rfm_package", "pymc_marketing", "chinese_value")

    def __init__(self, rules, *, bins=5, match="first", unmatched="Other", name="custom"):
        self.rules = tuple(rules)
        self.bins = positive_int(bins, "bins")
        if match not in ("first", "last"):
            raise ValueError(f"match = {match!r} must be 'first' or 'last'")
        self.match = match
        self.unmatched = str(unmatched)
        self.name = name
        names = [rule.name for rule in self.rules]
        if len(set(names)) != len(names) or self.unmatched in names:
            raise ValueError(f"rule names must be distinct and differ from unmatched = "
                             f"{self.unmatched!r}; got {names}")

    @classmethod
    def builtin(cls, name, **options):
        """A built-in rule set.

        - ``"rf_grid"``: the 10-segment R x F map (hibernating ... champions; M ignored), every
          R x F cell covered once; quintiles.
        - ``"rfm_package"``: the 11-segment R/F/M map of R's rfm package lineage (Champions ...
          Lost); ``match="last"`` reproduces the package's overwriting. It has gaps and shadowed
          rules (see :meth:`check`).
        - ``"pymc_marketing"``: PyMC-Marketing's 5 segments on quartiles (bins=4).
        - ``"chinese_value"``: the 8-class 重要/一般 value map; options ``bins`` (5) and
          ``high_from`` (score from which R, F, M count as high; default ``(bins + 3) // 2``).
          English names are in each rule's ``english_name``.
        """
        if name == "rf_grid":
            data = _core.segment.rf_grid_segments(**options)
        elif name == "rfm_package":
            data = _core.segment.rfm_package_segments(**options)
        elif name == "pymc_marketing":
            data = _core.segment.pymc_marketing_segments(**options)
        elif name == "chinese_value":
            data = _core.segment.chinese_value_segments(**options)
        else:
            raise ValueError(f"unknown rule set {name!r}; built in: {cls.BUILTIN}")
        set_name, bins, rules, match, unmatched = data
        return cls([RFMRule(rule, tuple(boxes), english) for rule, english, boxes in rules],
                   bins=bins, match=match, unmatched=unmatched, name=set_name)

    def _core_data(self):
        rules = []
        for rule in self.rules:
            boxes = []
            for box in rule.boxes:
                if len(box) != 6:
                    raise ValueError(f"rule {rule.name!r}: a box has 6 bounds, got {box!r}")
                boxes.append(tuple(int(b) if b is not None else (1 if k % 2 == 0 else self.bins)
                                   for k, b in enumerate(box)))
            rules.append((rule.name, rule.english_name, boxes))
        return (self.name, self.bins, rules, self.match, self.unmatched)

    @property
    def segment_names(self):
        """Rule names in order, then the unmatched segment."""
        return [rule.name for rule in self.rules] + [self.unmatched]

    def check(self):
        """Report uncovered cells, overlapping rules and unreachable rules.

        Returns
        -------
        RuleSetReport
        """
        found = _core.segment.check_rule_set(self._core_data())
        names = [rule.name for rule in self.rules]
        pairs = found["overlaps"]
        overlaps = pd.DataFrame(
            [(names[a], names[b], len(cells), [tuple(int(v) for v in c) for c in cells])
             for a, b, cells in zip(pairs["first_rule"], pairs["second_rule"], pairs["cells"])],
            columns=["first", "second", "cells", "shared"])
        return RuleSetReport(
            uncovered=pd.DataFrame(found["uncovered"], columns=["r", "f", "m"], dtype=int),
            overlaps=overlaps,
            unreachable=[names[i] for i in found["unreachable"]],
            cells_won=pd.Series(found["cells_won"], index=names, name="cells_won", dtype=int),
            cells=found["cells"])

    def assign(self, r_score, f_score, m_score):
        """Index of the winning rule for every (r, f, m), -1 when none matches.

        Returns
        -------
        ndarray of int32
        """
        arrays = [np.ascontiguousarray(np.asarray(a, dtype=np.int32))
                  for a in (r_score, f_score, m_score)]
        return _core.segment.assign_segments(self._core_data(), *arrays)

    def to_frame(self):
        """One row per box: rule, english_name and the bounds."""
        rows = []
        for rule, english, boxes in self._core_data()[2]:
            for box in boxes:
                rows.append((rule, english, *box))
        return pd.DataFrame(rows, columns=["rule", "english_name", "r_low", "r_high", "f_low",
                                           "f_high", "m_low", "m_high"])

    def __repr__(self):
        return (f"RFMRuleSet({self.name!r}, {len(self.rules)} rules, bins={self.bins}, "
                f"match={self.match!r})")


def _rule_set(rules, match):
    if isinstance(rules, str):
        options = {} if match is None or rules != "rfm_package" else {"match": match}
        rule_set = RFMRuleSet.builtin(rules, **options)
    elif isinstance(rules, RFMRuleSet):
        rule_set = rules
    else:
        raise ValueError(f"rules must be a built-in name {RFMRuleSet.BUILTIN} or an RFMRuleSet; "
                         f"got {rules!r}")
    if match is not None and match != rule_set.match:
        rule_set = RFMRuleSet(rule_set.rules, bins=rule_set.bins, match=match,
                              unmatched=rule_set.unmatched, name=rule_set.name)
    return rule_set


def rfm_segments(data=None, *, rules="rf_grid", match=None, warn_unmatched=True, **scoring):
    """Named RFM segments per customer.

    Parameters
    ----------
    data : pandas.DataFrame, optional
        Scores from :func:`rfm_scores` (columns r_score, f_score, m_score), or anything
        :func:`rfm_scores` accepts (then it is scored on the rule set's scale).
    rules : str or RFMRuleSet, default "rf_grid"
        A built-in name (see :meth:`RFMRuleSet.builtin`) or your own rule set.
    match : {"first", "last"}, optional
        Overrides the rule set's match policy.
    warn_unmatched : bool, default True
        Warn when customers match no rule.
    **scoring
        Passed to :func:`rfm_scores` (ties, arrays, transaction-log columns...).

    Returns
    -------
    pandas.DataFrame
        The scores with a categorical ``segment`` column (categories in rule order, the
        unmatched last) and, for rule sets with English names, ``segment_english``.
        ``attrs["rfm_rule_set"]`` holds the rule set.

    Warns
    -----
    SegmentationWarning
        When customers fall in cells no rule covers.
    """
    rule_set = _rule_set(rules, match)
    if isinstance(data, pd.DataFrame) and {"r_score", "f_score", "m_score"} <= set(data.columns):
        if scoring:
            raise ValueError(f"data already holds scores; unexpected arguments {sorted(scoring)}")
        scored = data.copy()
    else:
        bins = scoring.pop("bins", rule_set.bins)
        if bins != rule_set.bins:
            raise ValueError(f"bins = {bins} but the rule set {rule_set.name!r} is written for "
                             f"bins = {rule_set.bins}")
        scored = rfm_scores(data, bins=bins, **scoring)
    winners = rule_set.assign(scored["r_score"], scored["f_score"], scored["m_score"])
    unmatched = int(np.count_nonzero(winners < 0))
    codes = np.where(winners < 0, len(rule_set.rules), winners)
    names = rule_set.segment_names
    scored["segment"] = pd.Categorical.from_codes(codes, categories=names)
    if any(rule.english_name for rule in rule_set.rules):
        english = [rule.english_name or rule.name for rule in rule_set.rules] + [rule_set.unmatched]
        scored["segment_english"] = pd.Categorical.from_codes(codes, categories=english)
    scored.attrs["rfm_rule_set"] = rule_set
    if unmatched and warn_unmatched:
        warnings.warn(
            f"{unmatched} of {len(scored)} customers ({unmatched / len(scored):.1%}) match no rule "
            f"of {rule_set.name!r} and are labelled {rule_set.unmatched!r}; "
            "RFMRuleSet.check() lists the uncovered cells", SegmentationWarning, stacklevel=2)
    return scored


def segment_summary(segmented, revenue=None):
    """Per segment: customers, their share, mean recency / frequency / monetary value, revenue
    and revenue share.

    Parameters
    ----------
    segmented : pandas.DataFrame
        The result of :func:`rfm_segments`.
    revenue : array-like or str, optional
        Revenue per customer (or a column name); default ``frequency * monetary_value``, the
        total spend when monetary_value is the mean per purchase (as in the RFM summary).

    Returns
    -------
    pandas.DataFrame
        Indexed by segment (rule order, unmatched last; only segments with customers).
    """
    if "segment" not in segmented.columns:
        raise ValueError("segmented needs a 'segment' column (use rfm_segments)")
    segment = pd.Categorical(segmented["segment"])
    if revenue is None:
        values = segmented["frequency"].to_numpy(float) * segmented["monetary_value"].to_numpy(float)
    elif isinstance(revenue, str):
        values = segmented[revenue].to_numpy(float)
    else:
        values = np.asarray(revenue, dtype=np.float64)
    columns = _core.segment.segment_summary(
        np.ascontiguousarray(segment.codes, dtype=np.int32), _as_float(segmented, "recency"),
        _as_float(segmented, "frequency"), _as_float(segmented, "monetary_value"),
        np.ascontiguousarray(values))
    table = pd.DataFrame(columns)
    # Code -1 (customers without a segment) becomes NaN, not the last category.
    names = pd.Categorical.from_codes(table.pop("segment"), categories=segment.categories)
    table.index = pd.Index(names.astype(object), name="segment")
    return table.rename(columns={"mean_monetary": "mean_monetary_value"})
