"""How sure are the numbers: intervals for the fitted models' parameters and forecasts.

Every fitter of :mod:`crmkit.clv` (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, Gamma-Gamma) gets
intervals for its parameters and for its forecasts, per customer and for the whole base:

- ``method="delta"`` (default): the delta method from the fit's covariance (gradients by central
  differences in the log-parameters, intervals on the log scale for positive quantities);
- ``method="parametric_bootstrap"``: parameters drawn from their asymptotic normal distribution
  on the log scale, percentile intervals; seeded, the same at any thread count;
- ``method="customer_bootstrap"``: refits on resampled customers (:func:`customer_bootstrap`,
  multinomial counts of the compressed patterns), percentile intervals.

These intervals carry the uncertainty of the estimated parameters. How many purchases one
customer will actually make is a wider question, answered by :func:`predictive_interval`.
Everything is computed in the compiled core (crmkit/clv/interval.hpp and the headers it names);
formulas and citations are in docs/intervals.md.

Example
-------
>>> from crmkit import BetaGeoFitter, intervals                      # doctest: +SKIP
>>> bgf = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
>>> intervals.parameter_intervals(bgf, level=0.9)
>>> out = intervals.expected_purchases(bgf, 39, data["frequency"], data["recency"], data["T"])
>>> out.total            # the whole base's expected purchases with its 90% interval
>>> out.customers        # one row per customer: estimate, lower, upper, standard_error
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from . import _core

__all__ = [
    "IntervalResult",
    "BootstrapResult",
    "parameter_intervals",
    "customer_bootstrap",
    "expected_purchases",
    "expected_spend",
    "customer_lifetime_value",
    "predictive_interval",
    "METHODS",
]

_clv = _core.clv

#: The interval methods, as ``method=`` accepts them.
METHODS = ("delta", "parametric_bootstrap", "customer_bootstrap")

_COLUMNS = ["estimate", "lower", "upper", "standard_error"]


@dataclass
class IntervalResult:
    """Intervals of a forecast: ``customers`` (one row per customer, columns estimate, lower,
    upper, standard_error; empty when ``per_customer=False``), ``total`` (the same for the sum over
    the customers) and the settings used."""

    customers: pd.DataFrame
    total: pd.Series
    level: float
    method: str
    draws: int


@dataclass
class BootstrapResult:
    """The refits of a customer bootstrap: ``draws`` has one row per converged refit and one
    column per parameter; ``failed`` counts refits that did not converge (left out)."""

    draws: pd.DataFrame
    replicates: int
    failed: int
    seed: int

    def as_list(self) -> list:
        return [list(row) for row in self.draws.to_numpy()]


def _prefix(fitter) -> str:
    prefix = getattr(fitter, "_prefix", None)
    if prefix is not None:
        return prefix
    names = tuple(getattr(fitter, "_param_names", ()))
    if names == ("alpha", "beta", "gamma", "delta"):
        return "bg_bb"
    if names == ("p", "q", "v"):
        return "gamma_gamma"
    raise TypeError(f"{type(fitter).__name__} is not a crmkit fitter")


def _fitted(fitter, name: str = "fitter"):
    if not hasattr(fitter, "variance_matrix_"):
        raise ValueError(f"{name}: the model has not been fit (intervals need the fit's covariance; "
                         "a model built with from_params has none)")
    values = fitter._unload_params()
    covariance = np.ascontiguousarray(
        fitter.variance_matrix_.loc[list(fitter._param_names), list(fitter._param_names)],
        dtype=float)
    return values, covariance


def _options(level: float, method: str, draws: int, seed: int, per_customer: bool = True):
    if method not in METHODS:
        raise ValueError(f"method = {method!r} must be one of {', '.join(METHODS)}")
    return _clv.IntervalOptions(level=float(level), method=method, draws=int(draws),
                                seed=int(seed), per_customer=bool(per_customer))


def _bootstrap_draws(method: str, bootstrap: Optional[BootstrapResult], fitter, draws: int,
                     seed: int) -> list:
    if method != "customer_bootstrap":
        return []
    if bootstrap is None:
        bootstrap = customer_bootstrap(fitter, draws=draws, seed=seed)
    return bootstrap.as_list()


def _result(out: dict, index, level: float, method: str) -> IntervalResult:
    customers = pd.DataFrame({name: np.asarray(out["customers"][name]) for name in _COLUMNS},
                             columns=_COLUMNS)
    if index is not None and len(customers) == len(index):
        customers.index = index
    return IntervalResult(customers, pd.Series({name: out["total"][name] for name in _COLUMNS}),
                          float(level), method, int(out["draws"]))


def _array(values) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=float))


def _index(*values):
    for value in values:
        if isinstance(value, pd.Series):
            return value.index
    return None


def parameter_intervals(fitter, level: float = 0.9, method: str = "delta", draws: int = 1000,
                        seed: int = 0, bootstrap: Optional[BootstrapResult] = None) -> pd.DataFrame:
    """Intervals of a fitted model's parameters.

    The delta-method interval of θ is θ̂·exp(∓z·se/θ̂) (the interval of ln θ), unlike
    ``fitter.confidence_intervals_`` (θ̂ ∓ 1.96·se, lifetimes'), so its ends stay positive.

    Parameters
    ----------
    fitter : fitted crmkit fitter
    level : float, default 0.9
        Nominal coverage.
    method : {"delta", "parametric_bootstrap", "customer_bootstrap"}
    draws, seed : int
        Bootstrap replicates and seed (bootstraps only).
    bootstrap : BootstrapResult, optional
        Refits from :func:`customer_bootstrap` to reuse (else they are run here).

    Returns
    -------
    pandas.DataFrame
        One row per parameter: estimate, lower, upper, standard_error.
    """
    values, covariance = _fitted(fitter)
    options = _options(level, method, draws, seed)
    out = _clv.parameter_intervals(values, covariance, options,
                                   _bootstrap_draws(method, bootstrap, fitter, draws, seed))
    frame = _result(out, None, level, method).customers
    frame.index = list(fitter._param_names)
    return frame


def customer_bootstrap(fitter, draws: int = 1000, seed: int = 0) -> BootstrapResult:
    """Refit the model on ``draws`` resamples of its customers.

    Each replicate draws as many customers as were fitted, with replacement, by drawing the
    counts of the compressed (frequency, recency, T) patterns from a multinomial, and refits on
    the patterns, starting at the estimate: one compressed fit per replicate, whatever the
    number of customers. Replicate b uses the stream (seed, b), so the refits are the same at
    any thread count. The fit's weights must be whole numbers (counts of customers).

    Returns
    -------
    BootstrapResult
    """
    values, _ = _fitted(fitter)
    prefix = _prefix(fitter)
    columns, _ = fitter._data_columns
    weights = columns.get("weights")
    weights = np.empty(0) if weights is None else _array(weights)
    options = _clv.FitOptions(penalizer_coef=float(fitter.penalizer_coef), tolerance=1e-7)
    if prefix == "gamma_gamma":
        arrays = (columns["frequency"], columns["monetary_value"])
    elif prefix == "bg_bb":
        arrays = (columns["frequency"], columns["recency"], columns["n_periods"])
    else:
        arrays = (columns["frequency"], columns["recency"], columns["T"])
    out = getattr(_clv, f"{prefix}_customer_bootstrap")(
        values, *map(_array, arrays), weights, options, int(draws), int(seed))
    table = pd.DataFrame([list(row) for row in out["draws"]], columns=list(fitter._param_names))
    return BootstrapResult(table, int(out["replicates"]), int(out["failed"]), int(seed))


def expected_purchases(fitter, t, frequency, recency, T, level: float = 0.9,
                       method: str = "delta", draws: int = 1000, seed: int = 0,
                       per_customer: bool = True,
                       bootstrap: Optional[BootstrapResult] = None) -> IntervalResult:
    """Intervals of each customer's expected purchases in the next ``t`` periods (lifetimes'
    ``conditional_expected_number_of_purchases_up_to_time``) and of their sum.

    For :class:`~crmkit.BetaGeoBetaBinomFitter` pass ``t`` = m_periods_in_future and ``T`` =
    n_periods. ``per_customer=False`` computes the total only (a bootstrap over 10^6 customers
    then needs no per-customer table).
    """
    values, covariance = _fitted(fitter)
    options = _options(level, method, draws, seed, per_customer)
    out = getattr(_clv, f"{_prefix(fitter)}_expected_purchases_intervals")(
        values, covariance, float(t), _array(frequency), _array(recency), _array(T), options,
        _bootstrap_draws(method, bootstrap, fitter, draws, seed))
    return _result(out, _index(frequency, recency, T), level, method)


def expected_spend(gamma_gamma_fitter, frequency, monetary_value, level: float = 0.9,
                   method: str = "delta", draws: int = 1000, seed: int = 0,
                   per_customer: bool = True,
                   bootstrap: Optional[BootstrapResult] = None) -> IntervalResult:
    """Intervals of each customer's expected mean spend (Gamma-Gamma, crmkit's policy for
    one-time and zero-spend buyers as in :func:`crmkit.clv`) and of their sum."""
    values, covariance = _fitted(gamma_gamma_fitter, "gamma_gamma_fitter")
    options = _options(level, method, draws, seed, per_customer)
    out = _clv.gamma_gamma_expected_spend_intervals(
        values, covariance, _array(frequency), _array(monetary_value), options,
        _bootstrap_draws(method, bootstrap, gamma_gamma_fitter, draws, seed))
    return _result(out, _index(frequency, monetary_value), level, method)


def customer_lifetime_value(transaction_fitter, gamma_gamma_fitter, frequency, recency, T,
                            monetary_value, time: float = 12, discount_rate: float = 0.01,
                            freq: str = "D", level: float = 0.9, method: str = "delta",
                            draws: int = 1000, seed: int = 0, per_customer: bool = True,
                            bootstrap: Optional[BootstrapResult] = None,
                            spend_bootstrap: Optional[BootstrapResult] = None,
                            periods_per_month: Optional[float] = None) -> IntervalResult:
    """Intervals of each customer's lifetime value (lifetimes' monthly discounted cash flow over
    ``time`` months at ``discount_rate`` a month, ``freq`` the data's period) and of the base's
    total, from both fits: their covariances are combined block-diagonally (the fits are
    independent). With ``method="customer_bootstrap"`` refit pairs (b, b) of the two models are
    used (each model's refits run here unless given). ``periods_per_month``, when given,
    replaces the ``freq`` code (e.g. 4.345·7/d for periods of d days)."""
    values, covariance = _fitted(transaction_fitter, "transaction_fitter")
    spend_values, spend_covariance = _fitted(gamma_gamma_fitter, "gamma_gamma_fitter")
    prefix = _prefix(transaction_fitter)
    if prefix == "bg_bb":
        raise ValueError("customer_lifetime_value: BG/BB's value is its discounted expected "
                         "residual transactions; use a continuous-time model here")
    options = _options(level, method, draws, seed, per_customer)
    out = getattr(_clv, f"{prefix}_customer_lifetime_value_intervals")(
        values, covariance, spend_values, spend_covariance, _array(frequency), _array(recency),
        _array(T), _array(monetary_value), float(time), float(discount_rate),
        _clv.periods_per_month(freq) if periods_per_month is None else float(periods_per_month),
        options,
        _bootstrap_draws(method, bootstrap, transaction_fitter, draws, seed),
        _bootstrap_draws(method, spend_bootstrap, gamma_gamma_fitter, draws, seed + 1))
    return _result(out, _index(frequency, recency, T, monetary_value), level, method)



def predictive_interval(fitter, t, frequency, recency, T, level: float = 0.9) -> pd.DataFrame:
    """Each customer's predictive interval of the number of purchases in the next ``t`` periods.

    From the model's conditional distribution of the future count at the fitted parameters,
    P(Y(t) = y | history) = (1 − P(alive))·1[y = 0] + P(alive)·P_new(y; posterior given alive)
    (Fader, Hardie & Lee's conditional PMF of the BG/NBD; note 028 for Pareto/NBD; FHS 2010 for
    BG/BB): ``lower`` and ``upper`` are its (1 − level)/2 and (1 + level)/2 quantiles (so at
    least ``level`` of the probability lies within), ``probability_none`` is P(Y(t) = 0). This is
    the spread of what the customer will do, not of the parameters' estimates.

    Returns
    -------
    pandas.DataFrame
        Columns lower, upper, probability_none; one row per customer.
    """
    values = fitter._unload_params()
    out = getattr(_clv, f"{_prefix(fitter)}_predictive_intervals")(
        values, float(t), _array(frequency), _array(recency), _array(T), float(level))
    frame = pd.DataFrame({name: np.asarray(out[name]) for name in
                          ("lower", "upper", "probability_none")})
    index = _index(frequency, recency, T)
    if index is not None:
        frame.index = index
    return frame
