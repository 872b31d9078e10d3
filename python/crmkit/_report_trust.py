"""The report's two sections on trust (issue #16): "how sure" (intervals on the headline
numbers) and "how well it predicted" (the holdout tracking score and the model comparison).

Their words are the report catalogue's "trust.sure.*" and "trust.well.*" entries
(crmkit._report_text); HOW_SURE_TEXT and HOW_WELL_TEXT are their English forms. The numbers come from crmkit.intervals and
crmkit.evaluate on the customer table the pipeline produced and on the pipeline's own fits (its
transaction model, BG/NBD by default or MBG/NBD or Pareto/NBD with the report's `model` option,
and Gamma-Gamma, covariances included: nothing is fitted twice). Without those fits the models are
refitted on the table's (frequency, recency, T) columns, which are exactly the pipeline's fitting
patterns (pipeline whole_periods.hpp), so the estimates are the same.
"""

from __future__ import annotations

import html
from typing import Dict, NamedTuple, Optional

import numpy as np
import pandas as pd

from . import evaluate, intervals
from ._background import Background
from ._report_text import MESSAGES, Text
from .clv import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

#: Nominal coverage of the report's intervals.
LEVEL = 0.9

#: Above this many customers the intervals' widths and the model comparison use a systematic
#: sample of this many (every k-th customer of the table); the fits behind the widths and the
#: intervals' centres stay the whole base's.
SAMPLE = 100_000

#: The model comparison's sample (Pareto/NBD's fit is the slow one: about 0.45 s at this size).
COMPARISON_SAMPLE = 5_000


def _english(prefix: str) -> Dict[str, str]:
    return {key[len(prefix):]: texts["en"] for key, texts in MESSAGES.items()
            if key.startswith(prefix)}


#: The sections' English words (their zh forms are in the report's catalogue, crmkit._report_text).
HOW_SURE_TEXT = dict(_english("trust.sure."),
                     columns={"estimate": "estimate", "lower": "lower end", "upper": "upper end",
                              "relative_width": "range as a share of the estimate"})
HOW_WELL_TEXT = _english("trust.well.")

_MODELS = {"BG/NBD": BetaGeoFitter, "MBG/NBD": ModifiedBetaGeoFitter,
           "Pareto/NBD": ParetoNBDFitter}


def _columns(customers: pd.DataFrame):
    return tuple(customers[name].to_numpy(dtype=float)
                 for name in ("frequency", "recency", "T", "monetary_value"))


def _systematic_sample(size: int, sample: int) -> Optional[np.ndarray]:
    """Positions of every k-th customer, `sample` of them; None when the table is that small."""
    if size <= sample:
        return None
    return np.linspace(0, size - 1, sample).round().astype(np.int64)


class WholeBase(NamedTuple):
    """What the sections read of the whole customer table besides its sampled rows: its number
    of customers, the exact sums of its expected purchases and of its CLV (rounded once: the
    same however the table is split), whether it has the per-customer CLV intervals."""

    customers: int
    expected_purchases: float
    clv: float
    customer_intervals: bool


def whole_of(customers: pd.DataFrame) -> WholeBase:
    """The :class:`WholeBase` of a whole customer table."""
    from .plotting import exact_float, exact_total

    return WholeBase(len(customers),
                     exact_float(exact_total(customers[_purchases_column(customers)])),
                     exact_float(exact_total(customers["clv"])), "clv_lower" in customers.columns)


def sample_rows(size: int) -> np.ndarray:
    """Positions, in the table's customer order, of the rows the sections read of a table of
    `size` customers: all of them up to SAMPLE, else the intervals' and the comparison's
    systematic samples. A front end holding the table elsewhere passes just these rows, in
    this order, with the table's :class:`WholeBase` (the cluster report)."""
    wide = _systematic_sample(size, SAMPLE)
    if wide is None:
        return np.arange(size, dtype=np.int64)
    return np.union1d(wide, _systematic_sample(size, COMPARISON_SAMPLE))


def _sample_in(customers: pd.DataFrame, size: int, sample: int) -> Optional[np.ndarray]:
    """Positions in `customers` (the whole table of `size` customers, or its ``sample_rows``) of
    the table's systematic sample of `sample` customers; None when the table is that small."""
    positions = _systematic_sample(size, sample)
    if len(customers) == size:
        return positions
    rows = sample_rows(size)
    if len(customers) != len(rows):
        raise ValueError(f"customers: {len(customers)} rows are neither the whole table of "
                         f"{size} customers nor its {len(rows)} sampled rows")
    return None if positions is None else np.searchsorted(rows, positions)


def _whole_base(sampled: intervals.IntervalResult, estimate: float) -> intervals.IntervalResult:
    """A sample's total interval carried to the whole base's total: with the whole base's fit,
    the total's standard error grows in proportion to the total, so the sample's relative ends
    apply to the whole base's estimate."""
    scale = estimate / sampled.total["estimate"]
    total = sampled.total * scale
    total["estimate"] = estimate
    return intervals.IntervalResult(sampled.customers, total, sampled.level, sampled.method,
                                    sampled.draws)


def _spend_customers(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Who Gamma-Gamma is fitted to, as the pipeline fits it: repeat buyers with a positive mean
    spend."""
    return (x > 0) & (m > 0)


def fitters_of(customers: pd.DataFrame, transaction_fit: Dict[str, object],
               spend_fit: Dict[str, object], model: str = "BG/NBD") -> Dict[str, object]:
    """The pipeline's two fits (its ``transaction_fit`` and ``gamma_gamma_fit``) as fitted
    crmkit models on the customer table's columns, named as ``how_sure`` names them."""
    x, tx, T, m = _columns(customers)
    repeat = _spend_customers(x, m)
    return {model: _MODELS[model]._from_fit(transaction_fit,
                                            {"frequency": x, "recency": tx, "T": T,
                                             "weights": None}),
            "Gamma-Gamma": GammaGammaFitter._from_fit(spend_fit,
                                                      {"monetary_value": m[repeat],
                                                       "frequency": x[repeat], "weights": None})}


def how_sure(customers: pd.DataFrame, prediction_weeks: float, clv_months: float,
             monthly_discount: float, periods_per_month: float,
             model: str = "BG/NBD", fitters: Optional[Dict[str, object]] = None,
             whole: Optional[WholeBase] = None) -> Dict[str, object]:
    """The headline numbers' intervals and the parameters' (tables with HOW_SURE_TEXT labels),
    for the report's transaction model `model` ("BG/NBD", "MBG/NBD" or "Pareto/NBD"): of the
    fitted models `fitters` (``fitters_of``) when given, else of both models fitted here on the
    customer table. `customers` is the whole table, or its ``sample_rows`` with the whole
    table's `whole` (and then `fitters`)."""
    size = len(customers) if whole is None else whole.customers
    x, tx, T, m = _columns(customers)
    if fitters is None:
        if len(customers) != size:
            raise ValueError("how_sure: sampled customers need the whole table's fitters")
        bgf = _MODELS[model]().fit(x, tx, T, tol=1e-7)
        repeat = _spend_customers(x, m)
        ggf = GammaGammaFitter().fit(x[repeat], m[repeat], tol=1e-7)
    else:
        bgf, ggf = fitters[model], fitters["Gamma-Gamma"]
    sample = _sample_in(customers, size, SAMPLE)
    if sample is not None:
        x, tx, T, m = x[sample], tx[sample], T[sample], m[sample]
    purchases = intervals.expected_purchases(bgf, prediction_weeks, x, tx, T, level=LEVEL,
                                             per_customer=False)
    value = intervals.customer_lifetime_value(bgf, ggf, x, tx, T, np.maximum(m, 0),
                                              time=clv_months, discount_rate=monthly_discount,
                                              periods_per_month=periods_per_month, level=LEVEL,
                                              per_customer=False)
    if sample is not None:
        whole = whole_of(customers) if whole is None else whole
        purchases = _whole_base(purchases, whole.expected_purchases)
        value = _whole_base(value, whole.clv)
    text = HOW_SURE_TEXT
    rows = {text["purchases"].format(weeks=int(prediction_weeks)): purchases.total,
            text["value"].format(months=int(clv_months)): value.total}
    headline = pd.DataFrame(rows).T[["estimate", "lower", "upper"]]
    headline["relative_width"] = (headline["upper"] - headline["lower"]) / headline["estimate"]
    headline.columns = [text["columns"][name] for name in headline.columns]
    parameters = pd.concat([intervals.parameter_intervals(bgf, level=LEVEL),
                            intervals.parameter_intervals(ggf, level=LEVEL)])
    return {"headline": headline, "parameters": parameters, "purchases": purchases,
            "value": value, "fitters": {model: bgf, "Gamma-Gamma": ggf}, "model": model,
            "customer_intervals": ("clv_lower" in customers.columns if whole is None
                                   else whole.customer_intervals),
            "sample": None if sample is None else (len(sample), size),
            "horizons": {"weeks": int(prediction_weeks), "months": int(clv_months)}}


def _comparison_fits(customers: pd.DataFrame, fitted: Optional[BetaGeoFitter],
                     model: str, size: Optional[int] = None) -> Dict[str, object]:
    """The three models fitted for the comparison (on a systematic sample of a large table;
    the report's own fit `fitted` reused on a whole one), the failed ones' errors, the sample.
    `size`: the whole table's customers when `customers` are its ``sample_rows``."""
    x, tx, T, _ = _columns(customers)
    size = len(customers) if size is None else size
    sample = _sample_in(customers, size, COMPARISON_SAMPLE)
    out: Dict[str, object] = {"models": {}, "failed": {}}
    if sample is not None:
        x, tx, T = x[sample], tx[sample], T[sample]
        out["sample"] = (len(sample), size)
    for name, fitter in _MODELS.items():
        if name == model and fitted is not None and sample is None:
            out["models"][name] = fitted
            continue
        try:
            out["models"][name] = fitter().fit(x, tx, T, tol=1e-7)
        except (ValueError, RuntimeError) as error:
            out["failed"][name] = str(error)
    return out


def how_well(customers: pd.DataFrame, tracking: Optional[pd.DataFrame],
             calibration_period: float, fitted: Optional[BetaGeoFitter] = None,
             model: str = "BG/NBD", fits: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """Tracking MAPE of the pipeline's calibration curve (of the report's model `model`, whose
    fit `fitted` is reused) and the three models compared (fitted here, or `fits` when given:
    what ``_comparison_fits`` returned)."""
    out: Dict[str, object] = {"model": model}
    if tracking is not None and np.isfinite(calibration_period):
        calibration_rows = int(np.searchsorted(tracking.index.to_numpy(dtype=float),
                                               calibration_period, side="right"))
        if 0 < calibration_rows < len(tracking) and (tracking["actual"] > 0).all():
            out["mape"] = evaluate.tracking_mape(tracking, calibration_rows)
            out["holdout_mape"] = evaluate.tracking_mape(tracking, calibration_rows, True)
    if fits is None:
        fits = _comparison_fits(customers, fitted, model)
    if "sample" in fits:
        out["sample"] = fits["sample"]
    if fits["failed"]:
        out["failed"] = dict(fits["failed"])
    comparison = evaluate.compare_models(fits["models"])
    out["comparison"] = comparison
    chosen = comparison.index[0]
    text = HOW_WELL_TEXT
    if len(comparison) > 1 and comparison["delta_bic"].iloc[1] < 2:
        why = ("reason_close", dict(bic=comparison["bic"].iloc[0], runner_up=comparison.index[1],
                                    gap=comparison["delta_bic"].iloc[1]))
    else:
        why = ("reason_best", dict(bic=comparison["bic"].iloc[0]))
    out["chosen"], out["why"] = chosen, why
    out["reason"] = _reason(out, lambda key, **values: text[key].format(**values))
    return out


def _purchases_column(customers: pd.DataFrame) -> str:
    return next(name for name in customers.columns if name.startswith("expected_purchases"))


def trust_sections(tables: Dict[str, pd.DataFrame], calibration_period: float,
                   prediction_weeks: float, clv_months: float, monthly_discount: float,
                   periods_per_month: float, model: str = "BG/NBD",
                   fitters: Optional[Dict[str, object]] = None,
                   whole: Optional[WholeBase] = None) -> Dict[str, object]:
    """Both sections' numbers for build_report, for its transaction model `model` (fitted as
    `fitters`, when given: see how_sure); ``tables["customers"]`` the whole customer table, or
    its ``sample_rows`` with the whole table's `whole` (the cluster report)."""
    customers = tables["customers"]
    size = len(customers) if whole is None else whole.customers
    comparing = None
    if fitters is not None or size > COMPARISON_SAMPLE:
        # The comparison's fits do not need the intervals: the library runs them (without the
        # GIL) on a thread while the intervals are computed here.
        fitted = None if fitters is None else fitters[model]
        comparing = Background(_comparison_fits, customers, fitted, model, size,
                               name="crmkit-trust")
    try:
        sure = how_sure(customers, prediction_weeks, clv_months, monthly_discount,
                        periods_per_month, model, fitters, whole)
    finally:
        if comparing is not None:
            comparing.join()
    fits = None
    if comparing is not None:
        comparing.wait()
        fits = comparing.value
    well = how_well(customers, tables.get("cumulative_transactions"), calibration_period,
                    sure["fitters"][model], model, fits)
    return {"how_sure": sure, "how_well": well}


def _reason(well: Dict[str, object], words) -> str:
    key, values = well["why"]
    reason = words(key, **values)
    model = well.get("model", "BG/NBD")
    if well["chosen"] != model:
        reason += words("kept", chosen=well["chosen"], model=model)
    return reason


def render_trust(trust: Optional[Dict[str, object]], table, text: Optional[Text] = None) -> str:
    """The two sections' HTML in `text`'s language (English by default); `table(frame)` renders
    a DataFrame as the report does."""
    if not trust:
        return ""
    text = Text("en") if text is None else text
    sure, well = trust["how_sure"], trust["how_well"]

    def sure_words(key: str, **values) -> str:
        return text(f"trust.sure.{key}", **values)

    def well_words(key: str, **values) -> str:
        return text(f"trust.well.{key}", **values)

    def paragraph(words: str) -> str:
        return f'<p class="explain">{html.escape(words)}</p>'

    explain = sure_words("explain", level=LEVEL)
    if "model" in sure:
        explain += sure_words("model", model=sure["model"])
    if sure.get("sample") is not None:
        explain += sure_words("sampled", sample=sure["sample"][0], customers=sure["sample"][1])
    if sure.get("customer_intervals"):
        explain += sure_words("customers", level=LEVEL)
    headline = sure["headline"]
    if "horizons" in sure:
        headline = headline.set_axis([sure_words("purchases", weeks=sure["horizons"]["weeks"]),
                                      sure_words("value", months=sure["horizons"]["months"])])
    parts = ['<section id="how-sure">', f"<h2>{html.escape(sure_words('heading'))}</h2>",
             paragraph(explain), table(headline),
             f"<h3>{html.escape(sure_words('parameters', level=LEVEL))}</h3>",
             table(sure["parameters"]), "</section>"]
    parts += ['<section id="how-well">', f"<h2>{html.escape(well_words('heading'))}</h2>"]
    if "mape" in well:
        parts.append(paragraph(well_words("tracking", mape=well["mape"],
                                          holdout_mape=well["holdout_mape"])))
    else:
        parts.append(paragraph(well_words("no_tracking")))
    comparison = (well_words("comparison") if well.get("sample") is None else
                  well_words("comparison_sampled", sample=well["sample"][0],
                             customers=well["sample"][1]))
    parts += [paragraph(comparison),
              table(well["comparison"][["log_likelihood", "parameters", "aic", "bic",
                                        "delta_bic"]]),
              paragraph(well_words("chosen", chosen=well["chosen"],
                                   reason=_reason(well, well_words))),
              "</section>"]
    return "\n".join(parts)
