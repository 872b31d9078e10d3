"""How well did the model predict: a holdout scorecard and model comparison.

Split a transaction log at a calibration end (:func:`crmkit.data.calibration_and_holdout_data`),
fit on the calibration period, and score the predictions against what happened in the holdout:

- :func:`tracking_mape`: the cumulative repeat transactions of the cohort over the holdout (the
  tracking curve of Fader, Hardie & Lee 2005, fig. 3), actual against predicted;
- :func:`holdout_errors`: per-customer MAE / RMSE of holdout purchases;
- :func:`alive_scores`: P(alive) against holdout activity: AUC, Brier score, calibration by
  decile (:func:`scorecard` also scores P(a purchase in the holdout) = 1 − P(Y = 0) from the
  conditional PMF, :func:`crmkit.intervals.predictive_interval`);
- :func:`value_scores`: predicted value against holdout spend: Gini of the gain curve and decile
  calibration, as google/lifetime_value's ``gini_from_gain`` and ``decile_stats``;
- :func:`compare_models`: log-likelihood, AIC and BIC of fitted models;
  :func:`likelihood_ratio_test` for nested ones;
- :func:`scorecard`: all of these for BG/NBD, MBG/NBD and Pareto/NBD side by side, with the
  model it would choose and why.

Plots: :func:`plot_tracking`, :func:`plot_alive_calibration`, :func:`plot_gain_curve`,
:func:`plot_value_deciles`, :func:`plot_model_errors` (matplotlib, lifetimes' look).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from . import intervals
from .clv import (BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, ParetoNBDFitter,
                  expected_cumulative_transactions)

__all__ = [
    "tracking_curve",
    "tracking_mape",
    "holdout_errors",
    "alive_scores",
    "value_scores",
    "gain_curve",
    "compare_models",
    "likelihood_ratio_test",
    "scorecard",
    "Scorecard",
    "MODELS",
    "plot_tracking",
    "plot_alive_calibration",
    "plot_gain_curve",
    "plot_value_deciles",
    "plot_model_errors",
]

#: The transaction models :func:`scorecard` compares, by the names its tables use.
MODELS = {"BG/NBD": BetaGeoFitter, "MBG/NBD": ModifiedBetaGeoFitter, "Pareto/NBD": ParetoNBDFitter}


def tracking_curve(model, transactions: pd.DataFrame, customer_id_col, datetime_col, t: int,
                   freq: str = "D", freq_multiplier: int = 1) -> pd.DataFrame:
    """Actual and predicted cumulative repeat transactions of the cohort, period by period
    (:func:`crmkit.clv.expected_cumulative_transactions`; one row per model time unit)."""
    return expected_cumulative_transactions(model, transactions, datetime_col, customer_id_col, t,
                                            freq=freq, freq_multiplier=freq_multiplier)


def tracking_mape(curve: pd.DataFrame, calibration_periods: int,
                  from_calibration_end: bool = False) -> float:
    """Mean absolute percentage error of cumulative repeat transactions over the holdout.

    MAPE = mean over holdout periods k of |predicted_k − actual_k| / actual_k, periods k after the
    first ``calibration_periods`` rows of ``curve`` (:func:`tracking_curve`). By default the
    cumulative counts run from the start of the log, as in FHL 2005's tracking plot; with
    ``from_calibration_end`` they are restarted at the calibration end (holdout transactions only),
    a stricter score because calibration-period transactions no longer dilute the error.
    """
    if not 0 < calibration_periods < len(curve):
        raise ValueError(f"calibration_periods = {calibration_periods} must leave at least one "
                         f"holdout period of the curve's {len(curve)}")
    actual = curve["actual"].to_numpy(dtype=float)
    predicted = curve["predicted"].to_numpy(dtype=float)
    if from_calibration_end:
        base = calibration_periods - 1
        actual = actual - actual[base]
        predicted = predicted - predicted[base]
    actual, predicted = actual[calibration_periods:], predicted[calibration_periods:]
    if (actual <= 0).any():
        raise ValueError("tracking_mape: a holdout period has no cumulative repeat transactions; "
                         "the percentage error is undefined")
    return float(np.mean(np.abs(predicted - actual) / actual))


def holdout_errors(predicted, actual) -> pd.Series:
    """Per-customer errors of predicted holdout purchases: ``mae``, ``rmse``, ``bias`` (mean of
    predicted − actual), ``mean_actual``, ``mean_predicted`` and ``customers``."""
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    if predicted.shape != actual.shape or predicted.size == 0:
        raise ValueError(f"predicted ({predicted.size}) and actual ({actual.size}) must be "
                         "non-empty and of equal length")
    error = predicted - actual
    return pd.Series({"mae": np.mean(np.abs(error)), "rmse": math.sqrt(np.mean(error ** 2)),
                      "bias": np.mean(error), "mean_actual": actual.mean(),
                      "mean_predicted": predicted.mean(), "customers": float(actual.size)})


def _auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve by the Mann-Whitney rank sum (ties get mid-ranks)."""
    ranks = pd.Series(score).rank(method="average").to_numpy()
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _deciles(score: np.ndarray, buckets: int = 10) -> np.ndarray:
    """Decile of each score, 0 = lowest, by rank (ties broken by position), so each bucket holds
    n/10 customers even when many scores are equal."""
    order = pd.Series(score).rank(method="first").to_numpy() - 1
    return np.minimum((order * buckets / score.size).astype(int), buckets - 1)


def alive_scores(p_alive, holdout_frequency) -> tuple[pd.Series, pd.DataFrame]:
    """P(alive) at the calibration end against activity in the holdout (a purchase or more).

    Returns ``(scores, calibration)``: scores ``auc`` (ranking), ``brier`` (mean of
    (P(alive) − active)²), ``active_share``; calibration has one row per decile of P(alive) with
    the mean predicted P(alive) and the share active. P(alive) is the chance of being alive, not
    of buying within the holdout, so a well-fitted model's deciles lie above the diagonal: read
    AUC for ranking, the deciles for how far the two differ.
    """
    p = np.asarray(p_alive, dtype=float)
    active = np.asarray(holdout_frequency, dtype=float) > 0
    decile = _deciles(p)
    calibration = pd.DataFrame({"decile": decile, "p_alive": p, "active": active}).groupby(
        "decile").agg(mean_p_alive=("p_alive", "mean"), active_share=("active", "mean"),
                      customers=("active", "size"))
    scores = pd.Series({"auc": _auc(p, active), "brier": float(np.mean((p - active) ** 2)),
                        "active_share": float(active.mean())})
    return scores, calibration


def gain_curve(predicted, actual) -> np.ndarray:
    """Cumulative share of the actual total, customers sorted by predicted value (descending):
    google/lifetime_value's ``cumulative_true``."""
    order = np.argsort(-np.asarray(predicted, dtype=float), kind="stable")
    actual = np.asarray(actual, dtype=float)[order]
    total = actual.sum()
    if total <= 0:
        raise ValueError("gain_curve: the actual values sum to 0 or less")
    return np.cumsum(actual) / total


def value_scores(predicted, actual) -> tuple[pd.Series, pd.DataFrame]:
    """Predicted value against realised holdout spend, google/lifetime_value's metrics.

    Returns ``(scores, deciles)``: ``gini`` = 2·mean(gain curve) − 1 of the model's ranking,
    ``gini_perfect`` of the actual values' own ranking, ``normalized_gini`` = their ratio
    (``gini_from_gain``), and ``spearman``; ``deciles`` (``decile_stats``, decile 0 = lowest
    prediction) has per-decile ``label_mean``, ``pred_mean``, ``normalized_rmse``,
    ``normalized_mae`` (divided by the decile's label mean) and ``decile_mape``.
    """
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    gini = 2 * gain_curve(predicted, actual).mean() - 1
    perfect = 2 * gain_curve(actual, actual).mean() - 1
    frame = pd.DataFrame({"y_true": actual, "y_pred": predicted, "decile": _deciles(predicted)})
    grouped = frame.groupby("decile")
    deciles = pd.DataFrame({"label_mean": grouped["y_true"].mean(),
                            "pred_mean": grouped["y_pred"].mean()})
    error = frame["y_pred"] - frame["y_true"]
    deciles["normalized_rmse"] = np.sqrt((error ** 2).groupby(frame["decile"]).mean()) / deciles["label_mean"]
    deciles["normalized_mae"] = error.abs().groupby(frame["decile"]).mean() / deciles["label_mean"]
    deciles["decile_mape"] = (deciles["pred_mean"] - deciles["label_mean"]).abs() / deciles["label_mean"]
    spearman = pd.Series(predicted).corr(pd.Series(actual), method="spearman")
    scores = pd.Series({"gini": gini, "gini_perfect": perfect, "normalized_gini": gini / perfect,
                        "spearman": spearman})
    return scores, deciles


def _parameters(model) -> int:
    return len(model.params_)


def _observations(model) -> float:
    columns, _ = model._data_columns
    weights = columns.get("weights")
    if weights is None or len(weights) == 0:
        return float(len(columns["frequency"]))
    return float(np.sum(weights))


def compare_models(models: Mapping[str, object]) -> pd.DataFrame:
    """Log-likelihood, parameters k, customers n, AIC = 2k − 2 LL and BIC = k ln n − 2 LL of
    fitted models (same data), sorted by BIC; ``delta_bic`` is the gap to the best."""
    rows = {}
    for name, model in models.items():
        ll = float(model.log_likelihood_)
        k = _parameters(model)
        n = _observations(model)
        rows[name] = {"log_likelihood": ll, "parameters": k, "customers": n,
                      "aic": 2 * k - 2 * ll, "bic": k * math.log(n) - 2 * ll,
                      "converged": bool(model.convergence_["converged"])}
    table = pd.DataFrame.from_dict(rows, orient="index").sort_values("bic")
    table["delta_bic"] = table["bic"] - table["bic"].min()
    return table


def likelihood_ratio_test(restricted_log_likelihood: float, general_log_likelihood: float,
                          df: int, on_boundary: bool = False) -> pd.Series:
    """Likelihood-ratio test of a restricted model nested in a general one.

    Λ = 2 (LL_general − LL_restricted) is χ²_df under the restricted model (Wilks 1938). When the
    restriction puts a parameter on the boundary of its space (e.g. no dropout: BG/NBD's p → 0),
    Λ follows the 50:50 mixture of χ²_{df−1} and χ²_df (Self & Liang 1987), ``on_boundary=True``.
    Non-nested pairs (BG/NBD vs Pareto/NBD, BG/NBD vs MBG/NBD) are compared by AIC/BIC instead.
    """
    from scipy.stats import chi2

    if df < 1:
        raise ValueError(f"df = {df} must be at least 1")
    statistic = max(0.0, 2 * (general_log_likelihood - restricted_log_likelihood))
    p_value = float(chi2.sf(statistic, df))
    if on_boundary:
        lower = float(chi2.sf(statistic, df - 1)) if df > 1 else float(statistic <= 0)
        p_value = 0.5 * (lower + p_value)
    return pd.Series({"statistic": statistic, "df": float(df), "p_value": p_value})


@dataclass
class Scorecard:
    """Everything :func:`scorecard` measured. Tables are indexed by model name."""

    models: pd.DataFrame
    purchases: pd.DataFrame
    alive: pd.DataFrame
    tracking_mape: pd.Series
    activity: Optional[pd.DataFrame] = None
    value: Optional[pd.DataFrame] = None
    tracking: dict = field(default_factory=dict)
    alive_calibration: dict = field(default_factory=dict)
    value_deciles: dict = field(default_factory=dict)
    gains: dict = field(default_factory=dict)
    fitted: dict = field(default_factory=dict)
    chosen: str = ""
    reason: str = ""


def _choose(models: pd.DataFrame, purchases: pd.DataFrame) -> tuple[str, str]:
    converged = models.index[models["converged"]]
    candidates = purchases.loc[[name for name in purchases.index if name in converged]]
    if candidates.empty:
        candidates = purchases
    best = candidates["mae"].idxmin()
    by_bic = models["bic"].idxmin()
    reason = (f"{best} predicted the holdout purchases best (per-customer MAE "
              f"{purchases.loc[best, 'mae']:.4f}, RMSE {purchases.loc[best, 'rmse']:.4f})")
    reason += ("; it also has the lowest BIC" if by_bic == best else
               f"; {by_bic} has the lowest BIC (ΔBIC of {best}: "
               f"{models.loc[best, 'delta_bic']:.1f}), but out-of-sample accuracy decides")
    return best, reason


def scorecard(split: pd.DataFrame, transactions: Optional[pd.DataFrame] = None,
              customer_id_col=None, datetime_col=None, calibration_periods: Optional[int] = None,
              holdout_periods: Optional[int] = None, freq: str = "D", freq_multiplier: int = 1,
              models: Sequence[str] = tuple(MODELS), monetary_value: bool = False) -> Scorecard:
    """Fit each model on the calibration period and score it on the holdout.

    Parameters
    ----------
    split : pandas.DataFrame
        :func:`crmkit.data.calibration_and_holdout_data`'s output (``frequency_cal``,
        ``recency_cal``, ``T_cal``, ``frequency_holdout``, ``duration_holdout`` and, with
        ``monetary_value``, ``monetary_value_cal`` and ``monetary_value_holdout``).
    transactions, customer_id_col, datetime_col : optional
        The log, for the tracking curve (skipped without it).
    calibration_periods, holdout_periods : int, optional
        Model time units of the calibration and holdout periods (for the tracking curve);
        ``freq`` and ``freq_multiplier`` as for the split.
    models : sequence of str
        Names from :data:`MODELS`.
    monetary_value : bool
        Also score predicted holdout spend (expected holdout purchases × Gamma-Gamma expected
        spend, undiscounted) against realised holdout spend (total = mean × purchases).

    Returns
    -------
    Scorecard
    """
    x = split["frequency_cal"].to_numpy(dtype=float)
    tx = split["recency_cal"].to_numpy(dtype=float)
    T = split["T_cal"].to_numpy(dtype=float)
    actual = split["frequency_holdout"].to_numpy(dtype=float)
    duration = float(split["duration_holdout"].iloc[0])
    fitted, purchases, alive, mape, tracking, calibration = {}, {}, {}, {}, {}, {}
    activity = {}
    predictions = {}
    for name in models:
        model = MODELS[name]().fit(x, tx, T)
        fitted[name] = model
        predicted = model.conditional_expected_number_of_purchases_up_to_time(duration, x, tx, T)
        predictions[name] = np.asarray(predicted, dtype=float)
        purchases[name] = holdout_errors(predicted, actual)
        scores, calibration[name] = alive_scores(model.conditional_probability_alive(x, tx, T),
                                                 actual)
        alive[name] = scores
        buys = 1 - intervals.predictive_interval(model, duration, x, tx, T)["probability_none"]
        activity[name] = alive_scores(buys.to_numpy(), actual)[0]
        if transactions is not None and calibration_periods and holdout_periods:
            total = (calibration_periods + holdout_periods) * freq_multiplier
            curve = tracking_curve(model, transactions, customer_id_col, datetime_col, total, freq,
                                   freq_multiplier)
            tracking[name] = curve
            mape[name] = pd.Series({
                "from_start": tracking_mape(curve, calibration_periods),
                "from_calibration_end": tracking_mape(curve, calibration_periods, True)})
    comparison = compare_models(fitted)
    purchases_table = pd.DataFrame(purchases).T
    chosen, reason = _choose(comparison, purchases_table)
    card = Scorecard(comparison, purchases_table, pd.DataFrame(alive).T,
                     pd.DataFrame(mape).T if mape else pd.DataFrame(), tracking=tracking,
                     activity=pd.DataFrame(activity).T, alive_calibration=calibration,
                     fitted=fitted, chosen=chosen, reason=reason)
    if monetary_value:
        repeat = (x > 0) & (split["monetary_value_cal"].to_numpy(dtype=float) > 0)
        m = split["monetary_value_cal"].to_numpy(dtype=float)
        spend = GammaGammaFitter().fit(x[repeat], m[repeat])
        mean_spend = np.asarray(spend.conditional_expected_average_profit(x, np.maximum(m, 0)))
        realised = split["monetary_value_holdout"].to_numpy(dtype=float) * actual
        value = {}
        for name, predicted in predictions.items():
            scores, card.value_deciles[name] = value_scores(predicted * mean_spend, realised)
            card.gains[name] = gain_curve(predicted * mean_spend, realised)
            value[name] = scores
        card.gains["perfect"] = gain_curve(realised, realised)
        card.value = pd.DataFrame(value).T
        fitted["Gamma-Gamma"] = spend
    return card


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure().gca()
    return ax


def plot_tracking(curve: pd.DataFrame, calibration_periods: int, ax=None,
                  title: str = "Tracking Cumulative Transactions", xlabel: str = "day",
                  ylabel: str = "Cumulative Transactions"):
    """The tracking curve (lifetimes' ``plot_cumulative_transactions`` look): actual solid,
    predicted dashed, the calibration end marked."""
    ax = _axes(ax)
    ax.plot(curve.index, curve["actual"], label="actual")
    ax.plot(curve.index, curve["predicted"], "--", label="predicted")
    ax.axvline(calibration_periods, color="r", linestyle="--")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(loc="lower right")
    return ax


def plot_alive_calibration(calibration: pd.DataFrame, ax=None,
                           title: str = "P(alive) vs activity in the holdout, by decile"):
    """Mean P(alive) against the share active in the holdout, one point per decile."""
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="equal")
    ax.plot(calibration["mean_p_alive"], calibration["active_share"], "o-", label="deciles")
    ax.set(title=title, xlabel="mean P(alive) at the calibration end",
           ylabel="share who bought in the holdout", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left")
    return ax


def plot_gain_curve(gains: Mapping[str, np.ndarray], ax=None,
                    title: str = "Gain curve: holdout spend captured"):
    """Share of holdout spend held by the customers ranked highest by predicted value."""
    ax = _axes(ax)
    for name, gain in gains.items():
        share = np.arange(1, gain.size + 1) / gain.size
        ax.plot(share, gain, ":" if name == "perfect" else "-", label=name)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="random")
    ax.set(title=title, xlabel="share of customers (highest predicted first)",
           ylabel="share of holdout spend")
    ax.legend(loc="lower right")
    return ax


def _paired_bars(ax, labels, first, second, names, title, xlabel, ylabel, legend):
    ax = _axes(ax)
    positions = np.arange(len(labels))
    ax.bar(positions - 0.2, first, width=0.4, label=names[0])
    ax.bar(positions + 0.2, second, width=0.4, label=names[1])
    ax.set_xticks(positions)
    ax.set_xticklabels([str(label) for label in labels])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(loc=legend)
    return ax


def plot_value_deciles(deciles: pd.DataFrame, ax=None,
                       title: str = "Predicted vs realised holdout spend by decile"):
    """google/lifetime_value's decile chart: mean predicted and mean realised spend per decile."""
    return _paired_bars(ax, deciles.index, deciles["pred_mean"], deciles["label_mean"],
                        ("predicted", "realised"), title, "decile of predicted value",
                        "mean holdout spend", "upper left")


def plot_model_errors(purchases: pd.DataFrame, ax=None,
                      title: str = "Per-customer holdout errors by model"):
    """MAE and RMSE of holdout purchases, one group of bars per model."""
    return _paired_bars(ax, purchases.index, purchases["mae"], purchases["rmse"], ("MAE", "RMSE"),
                        title, "", "holdout purchases per customer", "upper right")
