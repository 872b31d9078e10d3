"""Customer lifetime value: BG/NBD, Modified BG/NBD, Pareto/NBD, BG/BB and Gamma-Gamma models.

Drop-in replacements for the archived ``lifetimes`` fitters (same constructor arguments, method
names and attributes), computed by crmkit's C++ core: maximum likelihood with analytic
gradients and Hessians, numerically stable predictions (Euler-transformed hypergeometric series,
log-space likelihoods), parallel and deterministic.

Inputs are numpy arrays, pandas Series or scalars. Outputs follow the inputs: a pandas Series
indexed like the first Series among the customer arguments; a numpy array for array input; a
float when every argument is a scalar.

Differences from lifetimes, all deliberate:

* bad input raises ``ValueError`` naming the argument, the index and the value (lifetimes
  truncates non-integer frequencies and accepts NaN);
* a fit that does not converge emits :class:`ConvergenceWarning` instead of raising
  :class:`ConvergenceError` (which exists, for code that catches it);
* keyword arguments to ``fit`` that lifetimes passed on to scipy and crmkit does not use give a
  warning naming them;
* a prediction for a history no customer can have (frequency 0 with recency > 0, as on
  lifetimes' grids) returns the formula's value with one :class:`HistoryWarning` per call;
* ``initial_params`` are natural parameter values in the data's time unit (lifetimes takes
  log-parameters in its rescaled time);
* ``save_model``/``load_model`` write and read JSON, not dill pickles (pickling also works);
* ``GammaGammaFitter.fit(q_constraint=True)`` keeps q > 1 by fitting q = 1 + e^θ (lifetimes
  bounds log q >= 0 in L-BFGS-B); an unconstrained fit with q <= 1 is reported by
  :class:`SpendWarning`.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import _core
from ._warnings import ConvergenceError, ConvergenceWarning, HistoryWarning, SpendWarning
from ._warnings import warn as _warn_coded

__all__ = [
    "BetaGeoFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "BetaGeoBetaBinomFitter",
    "GammaGammaFitter",
    "ConvergenceWarning",
    "ConvergenceError",
    "HistoryWarning",
    "SpendWarning",
    "expected_cumulative_transactions",
]

_clv = _core.clv


def _column(name: str, values: Any) -> np.ndarray:
    try:
        if isinstance(values, (pd.Series, pd.Index)) and pd.api.types.is_extension_array_dtype(values):
            values = values.to_numpy(dtype=float, na_value=np.nan)  # pandas' NA: a NaN the core names
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numbers: {error}") from None
    if array.ndim > 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return np.atleast_1d(array)


def _index_of(*values: Any) -> pd.Index | None:
    for value in values:
        if isinstance(value, (pd.Series, pd.DataFrame)):
            return value.index
    return None


def _broadcast(strict: bool = False, **columns: Any) -> tuple[list[np.ndarray], pd.Index | None, bool]:
    """Arrays of equal length, the index to put on the result, and whether all were scalars.

    Length-1 arguments broadcast unless ``strict`` (fitting data must match exactly).
    """
    arrays = {name: _column(name, value) for name, value in columns.items()}
    sizes = {len(a) for a in arrays.values() if strict or len(a) != 1}
    if len(sizes) > 1:
        described = ", ".join(f"{name} has {len(a)}" for name, a in arrays.items())
        raise ValueError(f"arguments differ in length ({described}); they must match")
    size = sizes.pop() if sizes else 1
    out = [np.ascontiguousarray(np.broadcast_to(a, (size,))) for a in arrays.values()]
    scalar = all(np.ndim(value) == 0 for value in columns.values())
    index = _index_of(*columns.values())
    if index is not None and len(index) != size:
        index = None
    return out, index, scalar


def _checked(result: tuple[np.ndarray, int, int], frequency: np.ndarray, recency: np.ndarray,
             stacklevel: int = 3) -> np.ndarray:
    """The values of a continuous-time prediction, with one HistoryWarning per call when the core
    counted (frequency, recency, T) histories the data cannot produce but the formulas evaluate
    (lifetimes evaluates them silently). The core counts them in its validity pass; BG/BB's
    discrete histories (n_periods) are checked by the core alone."""
    values, unobservable, first = result
    if unobservable:
        warnings.warn(
            f"{unobservable} histories no customer can have (frequency 0 with recency > 0, or "
            f"repeat purchases with recency 0; the first at position {first}: frequency "
            f"{frequency[first]:g}, recency {recency[first]:g}): the formula's value is returned, "
            "as lifetimes does",
            HistoryWarning, stacklevel=stacklevel)
    return values


def _result(values: np.ndarray, index: pd.Index | None, scalar: bool, name: str | None = None):
    if scalar:
        return float(values[0])
    if index is not None:
        return pd.Series(values, index=index, name=name)
    return values


def _fit_options(tol: float, kwargs: dict[str, Any], penalizer_coef: float, initial_params,
                 lower_bounds=()) -> Any:
    options = dict(kwargs)
    max_iterations = int(options.pop("maxiter", options.pop("max_iterations", 500)))
    tol = float(options.pop("gtol", tol))
    options.pop("disp", None)
    if options:
        warnings.warn(f"fit ignores the keyword arguments {sorted(options)}: lifetimes passed them "
                      "to scipy.optimize.minimize, which crmkit does not use", UserWarning,
                      stacklevel=3)
    return _clv.FitOptions(
        penalizer_coef=float(penalizer_coef), tolerance=tol, max_iterations=max_iterations,
        initial_params=[] if initial_params is None else [float(v) for v in initial_params],
        lower_bounds=[float(v) for v in lower_bounds],
    )


class _BaseFitter:
    """Shared state and persistence of the crmkit fitters."""

    _param_names: tuple[str, ...] = ()

    def __init__(self, penalizer_coef: float = 0.0):
        self.penalizer_coef = penalizer_coef
        self.params_names = list(self._param_names)

    def __repr__(self) -> str:
        name = type(self).__name__
        if not hasattr(self, "params_"):
            return f"<crmkit.{name}>"
        subjects = ""
        if "_data_columns" in self.__dict__ or "_data_frame" in self.__dict__:
            subjects = f" fitted with {self.data.shape[0]} subjects,"
        params = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(self.params_.items()))
        return f"<crmkit.{name}:{subjects} {params}>"

    @classmethod
    def from_params(cls, params: Mapping[str, float], penalizer_coef: float = 0.0):
        """Build a model from known parameters, to predict without fitting.

        Parameters
        ----------
        params : mapping
            Every parameter by its lifetimes name (e.g. ``r, alpha, a, b``).
        penalizer_coef : float, optional
            Stored for reference.

        Returns
        -------
        fitter
            A model whose ``params_`` is set.
        """
        model = cls(penalizer_coef=penalizer_coef)
        missing = [name for name in cls._param_names if name not in params]
        if missing:
            raise ValueError(f"params is missing {missing}; {cls.__name__} needs {list(cls._param_names)}")
        model.params_ = pd.Series({name: float(params[name]) for name in cls._param_names})
        return model

    @classmethod
    def _from_fit(cls, fit: Mapping[str, Any], data: dict[str, Any], index=None):
        """The model as fitted elsewhere in crmkit (a ``crmkit::pipeline::fitted_model`` dict:
        names, params, covariance row-major, ...) on ``data`` (``fit``'s columns), without
        fitting again; its warnings were the fitter's to give."""
        names = list(fit["names"])
        if names != list(cls._param_names):
            raise ValueError(f"{cls.__name__}: a fit of the parameters {names}, not "
                             f"{list(cls._param_names)}")
        size = len(names)
        result = dict(fit, params=dict(zip(names, fit["params"])), warnings=[],
                      covariance=np.reshape(np.asarray(fit["covariance"], dtype=float),
                                            (size, size)))
        model = cls()
        model._store_fit(result, data, index, verbose=False)
        return model

    def _unload_params(self, *names: str) -> list[float]:
        if not hasattr(self, "params_"):
            raise ValueError("Model has not been fit yet. Please call the .fit method first.")
        params = self.params_
        values = [float(params[name]) for name in (names or self._param_names)]
        for name, value in zip(names or self._param_names, values):
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"params_['{name}'] = {value} must be positive and finite")
        return values

    @property
    def data(self) -> pd.DataFrame:
        """The data given to ``fit`` (built on first access; weights default to 1)."""
        if "_data_frame" not in self.__dict__:
            if "_data_columns" not in self.__dict__:
                raise AttributeError("data: the model has not been fit")
            columns, index = self._data_columns
            size = len(next(iter(columns.values())))
            filled = {k: (np.ones(size) if v is None else v) for k, v in columns.items()}
            self._data_frame = pd.DataFrame(filled, index=index)
        return self._data_frame

    @data.setter
    def data(self, frame: pd.DataFrame) -> None:
        self._data_frame = frame

    def _store_fit(self, result: dict[str, Any], data: dict[str, Any], index, verbose: bool) -> None:
        names = list(result["params"])
        self.params_ = pd.Series(list(result["params"].values()), index=names)
        self.standard_errors_ = pd.Series(result["standard_errors"], index=names)
        self.variance_matrix_ = pd.DataFrame(result["covariance"], index=names, columns=names)
        self.confidence_intervals_ = pd.DataFrame(
            {"lower 95% bound": result["lower"], "upper 95% bound": result["upper"]}, index=names
        )
        self.log_likelihood_ = float(result["log_likelihood"])
        self._negative_log_likelihood_ = float(result["objective"])
        self.nit = int(result["iterations"])
        self.convergence_ = {
            key: result[key]
            for key in (
                "converged",
                "status",
                "iterations",
                "evaluations",
                "gradient_norm",
                "starts_tried",
                "customers",
                "patterns",
            )
        }
        self.convergence_["warnings"] = [message for _, message in result["warnings"]]
        self.__dict__.pop("_data_frame", None)
        self._data_columns = (data, index)
        _warn_coded(result["warnings"], stacklevel=3)
        if verbose:
            print(
                f"{type(self).__name__}: {result['status']} after {result['iterations']} iterations, "
                f"gradient norm {result['gradient_norm']:.3g}, log-likelihood {self.log_likelihood_:.4f}"
            )

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% bounds (lifetimes' columns).

        Returns
        -------
        pandas.DataFrame
            Columns ``coef``, ``se(coef)``, ``lower 95% bound``, ``upper 95% bound``.
        """
        if not hasattr(self, "standard_errors_"):
            raise ValueError("Model has not been fit yet. Please call the .fit method first.")
        df = pd.DataFrame(index=self.params_.index)
        df["coef"] = self.params_
        df["se(coef)"] = self.standard_errors_
        df["lower 95% bound"] = self.confidence_intervals_["lower 95% bound"]
        df["upper 95% bound"] = self.confidence_intervals_["upper 95% bound"]
        return df

    def save_model(self, path, save_data: bool = True, save_generate_data_method: bool = True,
                   values_to_save=None) -> None:
        """Write the model as JSON.

        Parameters
        ----------
        path : str or path-like
            Destination file.
        save_data : bool, optional
            Include the fitted data.
        save_generate_data_method, values_to_save
            Accepted for lifetimes compatibility; unused.
        """
        state: dict[str, Any] = {
            "model": type(self).__name__,
            "penalizer_coef": self.penalizer_coef,
        }
        if hasattr(self, "params_"):
            state["params"] = {k: float(v) for k, v in self.params_.items()}
        if hasattr(self, "standard_errors_"):
            state["standard_errors"] = {k: float(v) for k, v in self.standard_errors_.items()}
            state["variance_matrix"] = self.variance_matrix_.values.tolist()
            state["confidence_intervals"] = self.confidence_intervals_.values.tolist()
            state["log_likelihood"] = self.log_likelihood_
            state["negative_log_likelihood"] = self._negative_log_likelihood_
            state["convergence"] = self.convergence_
        if save_data and ("_data_columns" in self.__dict__ or "_data_frame" in self.__dict__):
            state["data"] = {
                "index": [str(i) for i in self.data.index],
                "columns": {c: self.data[c].tolist() for c in self.data.columns},
            }
        with open(path, "w", encoding="utf-8") as out:
            json.dump(state, out, indent=1, allow_nan=True)

    def load_model(self, path):
        """Read a model written by :meth:`save_model` into this object.

        Parameters
        ----------
        path : str or path-like
            File written by ``save_model``.

        Returns
        -------
        self
        """
        with open(path, encoding="utf-8") as source:
            state = json.load(source)
        if state.get("model") != type(self).__name__:
            raise ValueError(f"{path} holds a {state.get('model')}, not a {type(self).__name__}")
        self.penalizer_coef = state["penalizer_coef"]
        if "params" in state:
            self.params_ = pd.Series(state["params"])
        if "standard_errors" in state:
            names = list(state["params"])
            self.standard_errors_ = pd.Series(state["standard_errors"])
            self.variance_matrix_ = pd.DataFrame(state["variance_matrix"], index=names, columns=names)
            self.confidence_intervals_ = pd.DataFrame(
                state["confidence_intervals"], index=names, columns=["lower 95% bound", "upper 95% bound"]
            )
            self.log_likelihood_ = state["log_likelihood"]
            self._negative_log_likelihood_ = state["negative_log_likelihood"]
            self.convergence_ = state["convergence"]
            self.nit = self.convergence_["iterations"]
        if "data" in state:
            self.data = pd.DataFrame(state["data"]["columns"])
        return self


class BetaGeoFitter(_BaseFitter):
    """The BG/NBD model (Fader, Hardie & Lee 2005), lifetimes' ``BetaGeoFitter``.

    Purchases follow a Poisson process with rate λ ~ Gamma(r, alpha); after each repeat purchase
    the customer drops out with probability p ~ Beta(a, b).

    Parameters
    ----------
    penalizer_coef : float, optional
        L2 penalty c: the fit minimises mean negative log-likelihood + c·Σ params², the
        parameters taken in lifetimes' rescaled time (max T = 1), exactly as lifetimes does.

    Attributes
    ----------
    params_ : pandas.Series
        ``r, alpha, a, b``; assignable.
    summary : pandas.DataFrame
        coef, se(coef), lower/upper 95% bound.
    log_likelihood_ : float
        Log-likelihood at the estimate (without penalty).
    convergence_ : dict
        converged, status, iterations, evaluations, gradient_norm, starts_tried, customers,
        patterns (rows fitted: distinct rows when identical ones were merged), warnings.
    variance_matrix_, standard_errors_, confidence_intervals_, data
        As in lifetimes.
    """

    _param_names = ("r", "alpha", "a", "b")
    _generator = "beta_geometric_nbd_model"
    _prefix = "bg_nbd"

    def _call(self, operation: str, *args, **kwargs):
        return getattr(_clv, f"{self._prefix}_{operation}")(self._unload_params(), *args, **kwargs)

    def fit(self, frequency, recency, T, weights=None, initial_params=None, verbose=False,
            tol=1e-7, index=None, **kwargs):
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        frequency, recency, T : array_like
            Repeat purchases, time of the last purchase and age, per customer.
        weights : array_like, optional
            Number of customers with each row (defaults to 1).
        initial_params : array_like, optional
            Starting (r, alpha, a, b) in the data's time unit.
        verbose : bool, optional
            Print a convergence line.
        tol : float, optional
            Gradient tolerance on the mean negative log-likelihood in log-parameters.
        index : array_like, optional
            Index of ``self.data``.
        **kwargs
            ``maxiter`` (iteration budget), ``gtol`` (overrides tol), ``disp`` (ignored).

        Returns
        -------
        self
        """
        options = _fit_options(tol, kwargs, self.penalizer_coef, initial_params)
        columns, series_index, _ = _broadcast(True, frequency=frequency, recency=recency, T=T)
        frequency_, recency_, T_ = columns
        weights_ = np.empty(0) if weights is None else _column("weights", weights)
        result = getattr(_clv, f"fit_{self._prefix}")(frequency_, recency_, T_, weights_, options)
        data = {"frequency": frequency_, "recency": recency_, "T": T_,
                "weights": weights_ if weights is not None else None}
        self._store_fit(result, data, index if index is not None else series_index, verbose)
        self.predict = self.conditional_expected_number_of_purchases_up_to_time
        return self

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T):
        """Expected purchases in the next t periods given each customer's history.

        Uses FHL 2005 eq. (10) through the Euler-transformed hypergeometric series, finite for
        any history.

        Parameters
        ----------
        t : float or array_like
            Horizon(s).
        frequency, recency, T : float or array_like
            Customer histories.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        (t_, x, tx, age), index, scalar = _broadcast(t=t, frequency=frequency, recency=recency, T=T)
        values = _checked(
            self._call("conditional_expected_number_of_purchases_up_to_time", t_, x, tx, age), x, tx)
        return _result(values, index, scalar)

    def conditional_probability_alive(self, frequency, recency, T):
        """Probability that each customer is still active.

        Parameters
        ----------
        frequency, recency, T : float or array_like
            Customer histories.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Values in [0, 1].
        """
        (x, tx, age), index, scalar = _broadcast(frequency=frequency, recency=recency, T=T)
        return _result(_checked(self._call("conditional_probability_alive", x, tx, age), x, tx),
                       index, scalar)

    def expected_number_of_purchases_up_to_time(self, t):
        """Expected repeat purchases by time t of a new customer (FHL 2005 eq. 9).

        Parameters
        ----------
        t : float or array_like
            Time(s) since the first purchase.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        (t_,), index, scalar = _broadcast(t=t)
        return _result(self._call("expected_number_of_purchases_up_to_time", t_), index, scalar)

    def probability_of_n_purchases_up_to_time(self, t, n):
        """P(X(t) = n): probability of exactly n repeat purchases by time t (FHL 2005 eq. 8).

        Parameters
        ----------
        t : float or array_like
            Time(s).
        n : int or array_like
            Number(s) of purchases.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        (t_, n_), index, scalar = _broadcast(t=t, n=n)
        return _result(self._call("probability_of_n_purchases_up_to_time", t_, n_), index, scalar)

    def _grid_bounds(self, max_frequency, max_recency):
        if max_frequency is None or max_recency is None:
            if not ("_data_columns" in self.__dict__ or "_data_frame" in self.__dict__):
                raise ValueError("give max_frequency and max_recency, or fit the model first")
        max_frequency = int(self.data["frequency"].max()) if max_frequency is None else int(max_frequency)
        max_recency = int(self.data["T"].max()) if max_recency is None else int(max_recency)
        if max_frequency < 0 or max_recency < 0:
            raise ValueError("max_frequency and max_recency must be >= 0")
        return max_frequency, max_recency

    def conditional_probability_alive_matrix(self, max_frequency=None, max_recency=None):
        """P(alive) on a grid, as lifetimes: entry [recency, frequency] with T = max_recency.

        Parameters
        ----------
        max_frequency, max_recency : int, optional
            Grid size; default the fitted data's maximum frequency and T.

        Returns
        -------
        numpy.ndarray
            Shape (max_recency + 1, max_frequency + 1).
        """
        max_frequency, max_recency = self._grid_bounds(max_frequency, max_recency)
        return self._call("probability_alive_matrix", max_frequency, max_recency)

    def conditional_expected_number_of_purchases_matrix(self, t=1, max_frequency=None, max_recency=None):
        """Expected purchases in the next t periods on the [recency, frequency] grid.

        Parameters
        ----------
        t : float, optional
            Horizon (lifetimes' frequency-recency plot uses 1).
        max_frequency, max_recency : int, optional
            Grid size; default the fitted data's maximum frequency and T.

        Returns
        -------
        numpy.ndarray
            Shape (max_recency + 1, max_frequency + 1).
        """
        max_frequency, max_recency = self._grid_bounds(max_frequency, max_recency)
        return self._call("expected_purchases_matrix", float(t), max_frequency, max_recency)

    def calibration_vs_holdout(self, frequency_cal, recency_cal, T_cal, frequency_holdout,
                               duration_holdout, max_frequency=7):
        """Mean actual vs predicted holdout purchases by calibration frequency.

        Parameters
        ----------
        frequency_cal, recency_cal, T_cal : array_like
            Calibration-period summaries.
        frequency_holdout : array_like
            Purchases in the holdout period.
        duration_holdout : float or array_like
            Holdout length(s).
        max_frequency : int, optional
            Groups 0..max_frequency, the last collecting every higher frequency.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``frequency_cal``; columns customers, frequency_holdout, model_predictions.
        """
        (x, tx, age, holdout), _, _ = _broadcast(
            frequency_cal=frequency_cal, recency_cal=recency_cal, T_cal=T_cal,
            frequency_holdout=frequency_holdout,
        )
        duration = _column("duration_holdout", duration_holdout)
        table = self._call("calibration_vs_holdout", x, tx, age, holdout, duration, int(max_frequency))
        return pd.DataFrame(table).set_index("frequency_cal")

    def generate_new_data(self, size=1, seed=None):
        """Customers drawn from the fitted model (lifetimes' ``generate_new_data``), with the
        fitted rows' T (cycled to ``size``).

        Parameters
        ----------
        size : int, optional
            Number of customers.
        seed : int, numpy.random.Generator or None, optional
            Random stream (None: numpy's global state, as lifetimes).

        Returns
        -------
        pandas.DataFrame
            As the model's generator in :mod:`crmkit.generate_data`.
        """
        from . import generate_data

        generator = getattr(generate_data, self._generator)
        ages = np.resize(self.data["T"].to_numpy(dtype=float), int(size))
        return generator(ages, *self._unload_params(), size=int(size), seed=seed)

    def expected_repeat_frequency_histogram(self, frequency=None, T=None, max_frequency=7):
        """Actual vs expected numbers of customers by repeat-purchase count.

        Expected counts are Σ_i P(X(T_i) = k) over customers at their own ages T_i (exact pmf,
        as BTYD's frequency-in-calibration plot; lifetimes simulates instead).

        Parameters
        ----------
        frequency, T : array_like, optional
            Customers; default the fitted data (weights are not applied).
        max_frequency : int, optional
            Bins 0..max_frequency − 1 and a last bin "max_frequency or more".

        Returns
        -------
        pandas.DataFrame
            Indexed by frequency; columns actual, expected.
        """
        if frequency is None or T is None:
            frequency, T = self.data["frequency"], self.data["T"]
        (x, age), _, _ = _broadcast(frequency=frequency, T=T)
        table = self._call("repeat_frequency_histogram", x, age, int(max_frequency))
        return pd.DataFrame(table).set_index("frequency")

    def _lifetime_value(self, frequency, recency, T, monetary_value, time, rate, freq, continuous):
        (x, tx, age, m), index, scalar = _broadcast(
            frequency=frequency, recency=recency, T=T, monetary_value=monetary_value
        )
        values = _checked(self._call(
            "customer_lifetime_value", x, tx, age, m, float(time), float(rate),
            _clv.periods_per_month(freq), continuous=continuous,
        ), x, tx, stacklevel=4)
        return _result(values, index, scalar, name="clv")

    def customer_lifetime_value(self, frequency, recency, T, monetary_value, time=12,
                                discount_rate=0.01, freq="D"):
        """lifetimes' discounted cash flow with a given value per purchase.

        Σ_{i=1..time} m·(CET(i·f) − CET((i−1)·f))/(1 + discount_rate)^i, f the periods per
        month of ``freq`` (D 30, W 4.345, M 1, H 720).

        Parameters
        ----------
        frequency, recency, T : array_like
            Customer histories, in units of ``freq``.
        monetary_value : array_like
            Value of each future purchase (e.g. Gamma-Gamma expected spend).
        time : int, optional
            Months.
        discount_rate : float, optional
            Monthly discount rate.
        freq : {"D", "W", "M", "H"}, optional
            Time unit of the data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._lifetime_value(frequency, recency, T, monetary_value, time, discount_rate,
                                    freq, False)

    def customer_lifetime_value_continuous(self, frequency, recency, T, monetary_value, time=12,
                                           continuous_discount_rate=np.log(1.01), freq="D"):
        """Continuously discounted value: m·∫_0^H e^{−δ s/f} dCET(s), H = time·f.

        Parameters
        ----------
        frequency, recency, T, monetary_value : array_like
            As in :meth:`customer_lifetime_value`.
        time : float, optional
            Months.
        continuous_discount_rate : float, optional
            δ per month; ln(1 + d) matches a monthly rate d.
        freq : {"D", "W", "M", "H"}, optional
            Time unit of the data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._lifetime_value(frequency, recency, T, monetary_value, time,
                                    continuous_discount_rate, freq, True)


class ModifiedBetaGeoFitter(BetaGeoFitter):
    """The MBG/NBD model (Batislam et al. 2007; Wagner & Hoppe 2008), lifetimes'
    ``ModifiedBetaGeoFitter``: customers may also drop out right after their first purchase.

    Same parameters, attributes and methods as :class:`BetaGeoFitter`.
    """

    _prefix = "mbg_nbd"
    _generator = "modified_beta_geometric_nbd_model"


class ParetoNBDFitter(BetaGeoFitter):
    """The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), lifetimes' ``ParetoNBDFitter``.

    While alive a customer buys at Poisson rate λ ~ Gamma(r, alpha) and dies at exponential
    rate μ ~ Gamma(s, beta). Fitted by maximum likelihood with exact gradients and Hessian, so
    unlike lifetimes it reports standard errors and intervals; the likelihood's integral is
    evaluated in log space by quadrature, finite for any history (frequency 10⁴ and beyond,
    recency 0 or T, alpha = beta).

    Beyond lifetimes' methods: :meth:`probability_of_n_purchases_up_to_time` (a new customer),
    :meth:`conditional_probability_alive_at`, :meth:`discounted_expected_residual_transactions`
    (DERT, Fader, Hardie & Lee 2005) and :meth:`residual_lifetime_value` (DERT × value), beside
    lifetimes' discrete ``customer_lifetime_value``.

    Parameters
    ----------
    penalizer_coef : float, optional
        L2 penalty, as for :class:`BetaGeoFitter`.

    Attributes
    ----------
    params_ : pandas.Series
        ``r, alpha, s, beta``; assignable.
    summary, log_likelihood_, convergence_, variance_matrix_, standard_errors_,
    confidence_intervals_, data
        As for :class:`BetaGeoFitter`.
    """

    _param_names = ("r", "alpha", "s", "beta")
    _generator = "pareto_nbd_model"
    _prefix = "pareto_nbd"

    def fit(self, frequency, recency, T, weights=None, iterative_fitting=1, initial_params=None,
            verbose=False, tol=1e-7, index=None, fit_method="Nelder-Mead", maxiter=2000, **kwargs):
        """Fit the model by maximum likelihood (lifetimes' arguments).

        Parameters
        ----------
        frequency, recency, T : array_like
            Repeat purchases, time of the last purchase and age, per customer.
        weights : array_like, optional
            Number of customers with each row (defaults to 1).
        iterative_fitting : int, optional
            Accepted for lifetimes compatibility: crmkit tries its own starting points in turn
            until one converges.
        initial_params : array_like, optional
            Starting (r, alpha, s, beta) in the data's time unit.
        verbose : bool, optional
            Print a convergence line.
        tol : float, optional
            Gradient tolerance on the mean negative log-likelihood in log-parameters (lifetimes'
            1e-4 is a Nelder-Mead tolerance; crmkit's Newton/BFGS converges to 1e-7 at no cost).
        index : array_like, optional
            Index of ``self.data``.
        fit_method : str, optional
            Accepted for lifetimes compatibility; crmkit always uses BFGS with exact gradients.
        maxiter : int, optional
            Iteration budget per starting point.
        **kwargs
            ``gtol`` (overrides tol), ``disp`` (ignored).

        Returns
        -------
        self
        """
        kwargs.setdefault("maxiter", maxiter)
        return super().fit(frequency, recency, T, weights=weights, initial_params=initial_params,
                           verbose=verbose, tol=tol, index=index, **kwargs)

    def _per_history(self, operation, leading, frequency, recency, T):
        (*arguments, x, tx, age), index, scalar = _broadcast(**leading, frequency=frequency,
                                                             recency=recency, T=T)
        return _result(_checked(self._call(operation, *arguments, x, tx, age), x, tx, stacklevel=4),
                       index, scalar)

    def conditional_probability_of_n_purchases_up_to_time(self, n, t, frequency, recency, T):
        """P(exactly n purchases in (T, T + t] | history) (Fader & Hardie note 028).

        Parameters
        ----------
        n : int or array_like
            Number(s) of purchases.
        t : float or array_like
            Horizon(s).
        frequency, recency, T : float or array_like
            Customer histories.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._per_history("conditional_probability_of_n_purchases_up_to_time", dict(n=n, t=t),
                                 frequency, recency, T)

    def conditional_probability_alive_at(self, t, frequency, recency, T):
        """P(alive at T + t | history) = P(alive)·((beta+T)/(beta+T+t))^s.

        Parameters
        ----------
        t : float or array_like
            Time(s) after T.
        frequency, recency, T : float or array_like
            Customer histories.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._per_history("conditional_probability_alive_at", dict(t=t), frequency, recency, T)

    def discounted_expected_residual_transactions(self, frequency, recency, T, discount_rate):
        """DERT: expected future purchases discounted continuously (Fader, Hardie & Lee 2005, JMR).

        DERT = P(alive)·(r+x)/(alpha+T)·(beta+T)^s·δ^(s−1)·U(s, s; δ(beta+T)), U Tricomi's
        confluent hypergeometric function (as CLVTools' ``pnbd`` DERT).

        Parameters
        ----------
        frequency, recency, T : float or array_like
            Customer histories.
        discount_rate : float
            Continuous discount rate δ per time unit of the data (ln(1 + d) for a per-period
            rate d; e.g. ln(1.15)/52 for 15% a year on weekly data).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        (x, tx, age), index, scalar = _broadcast(frequency=frequency, recency=recency, T=T)
        values = _checked(self._call("discounted_expected_residual_transactions", float(discount_rate),
                                     x, tx, age), x, tx)
        return _result(values, index, scalar)

    def residual_lifetime_value(self, frequency, recency, T, monetary_value, discount_rate):
        """Lifetime value over the whole future: DERT × value per purchase (FHL 2005 JMR).

        Parameters
        ----------
        frequency, recency, T : array_like
            Customer histories.
        monetary_value : array_like
            Value of each future purchase (e.g. Gamma-Gamma expected spend).
        discount_rate : float
            Continuous discount rate per time unit, as in
            :meth:`discounted_expected_residual_transactions`.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        (x, tx, age, m), index, scalar = _broadcast(
            frequency=frequency, recency=recency, T=T, monetary_value=monetary_value
        )
        values = _checked(self._call("discounted_expected_residual_transactions", float(discount_rate),
                                     x, tx, age), x, tx)
        return _result(values * m, index, scalar, name="clv")



class BetaGeoBetaBinomFitter(_BaseFitter):
    """The BG/BB model (Fader, Hardie & Shang 2010), lifetimes' ``BetaGeoBetaBinomFitter``.

    For discrete transaction opportunities (donation appeals, events, days): while alive a
    customer transacts at each opportunity with probability p ~ Beta(alpha, beta) and dies before
    each opportunity with probability θ ~ Beta(gamma, delta). Fitted by maximum likelihood with
    exact gradients and Hessian (standard errors from the observed information); the likelihood
    is summed in log space, finite for parameters 1e-6 .. 1e8 and histories of 10⁴ opportunities
    (lifetimes sums linear-space beta functions plus 1e-15).

    Beyond lifetimes' methods: :meth:`probability_of_n_purchases_up_to_time` and
    :meth:`expected_number_of_purchases_up_to_time` (a new customer, FHS 2010 eqs. 7–8),
    :meth:`discounted_expected_residual_transactions` (DERT, eq. 14) and
    :meth:`residual_lifetime_value`.

    Differences from lifetimes: non-integer histories raise ``ValueError`` (lifetimes truncates
    them with ``astype(int)``), as do frequency > recency and recency > n_periods.

    Parameters
    ----------
    penalizer_coef : float, optional
        L2 penalty c: the fit minimises mean negative log-likelihood + c·Σ params².

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha, beta, gamma, delta``; assignable.
    summary, log_likelihood_, convergence_, variance_matrix_, standard_errors_,
    confidence_intervals_
        As for :class:`BetaGeoFitter`.
    data : pandas.DataFrame
        ``frequency, recency, n_periods, weights`` as given to ``fit``.
    """

    _param_names = ("alpha", "beta", "gamma", "delta")

    def _call(self, operation: str, *args):
        return getattr(_clv, f"bg_bb_{operation}")(self._unload_params(), *args)

    def fit(self, frequency, recency, n_periods, weights=None, initial_params=None, verbose=False,
            tol=1e-7, index=None, **kwargs):
        """Fit the BG/BB model by maximum likelihood (lifetimes' arguments).

        Parameters
        ----------
        frequency : array_like
            Opportunities with a transaction (after the first).
        recency : array_like
            Opportunity of the most recent transaction (0 without one).
        n_periods : array_like
            Number of transaction opportunities.
        weights : array_like, optional
            Number of customers with each (frequency, recency, n_periods) row (default 1).
        initial_params : array_like, optional
            Starting (alpha, beta, gamma, delta).
        verbose : bool, optional
            Print a convergence line.
        tol : float, optional
            Gradient tolerance on the mean negative log-likelihood in log-parameters.
        index : array_like, optional
            Index of ``self.data``.
        **kwargs
            ``maxiter`` (iteration budget), ``gtol`` (overrides tol), ``disp`` (ignored).

        Returns
        -------
        self
        """
        options = _fit_options(tol, kwargs, self.penalizer_coef, initial_params)
        (x, tx, n), series_index, _ = _broadcast(True, frequency=frequency, recency=recency,
                                                 n_periods=n_periods)
        weights_ = np.empty(0) if weights is None else _column("weights", weights)
        result = _clv.fit_bg_bb(x, tx, n, weights_, options)
        data = {"frequency": x, "recency": tx, "n_periods": n,
                "weights": weights_ if weights is not None else None}
        self._store_fit(result, data, index if index is not None else series_index, verbose)
        return self

    def generate_new_data(self, size=1, seed=None):
        """Customers drawn from the fitted model (lifetimes' ``generate_new_data``).

        Their numbers of opportunities are the fitted rows' n_periods, each repeated by its
        weight (cycled to ``size``).

        Parameters
        ----------
        size : int, optional
            Number of customers.
        seed : int, numpy.random.Generator or None, optional
            Random stream (None: numpy's global state).

        Returns
        -------
        pandas.DataFrame
            As :func:`crmkit.generate_data.beta_geometric_beta_binom_model`.
        """
        from .generate_data import beta_geometric_beta_binom_model

        weights = np.rint(self.data["weights"].to_numpy()).astype(np.int64)
        periods = np.resize(np.repeat(self.data["n_periods"].to_numpy(), weights), size)
        return beta_geometric_beta_binom_model(periods, *self._unload_params(), size=size, seed=seed)

    def _per_history(self, operation, leading, frequency, recency, n_periods, name=None):
        (*arguments, x, tx, n), index, scalar = _broadcast(**leading, frequency=frequency,
                                                           recency=recency, n_periods=n_periods)
        return _result(self._call(operation, *arguments, x, tx, n), index, scalar, name)

    def conditional_expected_number_of_purchases_up_to_time(self, m_periods_in_future, frequency,
                                                            recency, n_periods):
        """Expected transactions in the next m_periods_in_future opportunities (FHS 2010 eq. 13).

        Parameters
        ----------
        m_periods_in_future : int or array_like
            Future opportunities.
        frequency, recency, n_periods : int or array_like
            Customer histories.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._per_history("conditional_expected_number_of_purchases_up_to_time",
                                 dict(m_periods_in_future=m_periods_in_future), frequency, recency,
                                 n_periods)

    def conditional_probability_alive(self, m_periods_in_future, frequency, recency, n_periods):
        """P(alive at opportunity n_periods + m_periods_in_future | history) (FHS 2010 eq. A10).

        ``m_periods_in_future=1`` is the paper's "P(alive in 2002)" (Table 6).

        Parameters
        ----------
        m_periods_in_future : int or array_like
            Future opportunities (0: alive at n_periods).
        frequency, recency, n_periods : int or array_like
            Customer histories.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        return self._per_history("conditional_probability_alive",
                                 dict(m_periods_in_future=m_periods_in_future), frequency, recency,
                                 n_periods)

    def expected_number_of_transactions_in_first_n_periods(self, n):
        """Expected customers with each fitted frequency after n opportunities (FHS 2010 eq. 7).

        Parameters
        ----------
        n : int
            Number of transaction opportunities.

        Returns
        -------
        pandas.DataFrame
            Column ``model`` (total customers × P(X(n) = x)), indexed by ``frequency`` over the
            frequencies of the fitted data.
        """
        counts = self.data.groupby("frequency")["weights"].sum()
        x = counts.index.to_numpy(dtype=float)
        probabilities = self._call("probability_of_n_purchases_up_to_time",
                                   np.array([float(n)]), x)
        return pd.DataFrame({"model": probabilities * counts.sum()},
                            index=pd.Index(counts.index, name="frequency"))

    def probability_of_n_purchases_up_to_time(self, n_periods, n):
        """P(X(n_periods) = n): exactly n transactions in n_periods opportunities (new customer).

        Parameters
        ----------
        n_periods : int or array_like
            Opportunities.
        n : int or array_like
            Number(s) of transactions.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        (periods, counts), index, scalar = _broadcast(n_periods=n_periods, n=n)
        return _result(self._call("probability_of_n_purchases_up_to_time", periods, counts), index,
                       scalar)

    def expected_number_of_purchases_up_to_time(self, n_periods):
        """E[X(n_periods)]: expected transactions of a new customer (FHS 2010 eq. 8).

        Parameters
        ----------
        n_periods : int or array_like
            Opportunities.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        (periods,), index, scalar = _broadcast(n_periods=n_periods)
        return _result(self._call("expected_number_of_purchases_up_to_time", periods), index, scalar)

    def discounted_expected_residual_transactions(self, frequency, recency, n_periods, discount_rate):
        """DERT: future transactions discounted at rate d per opportunity (FHS 2010 eq. 14).

        DERT = Σ_{j≥1} E[transaction at n+j | history]/(1+d)^j, in closed form through
        ₂F₁(1, δ+n+1; γ+δ+n+1; 1/(1+d)).

        Parameters
        ----------
        frequency, recency, n_periods : int or array_like
            Customer histories.
        discount_rate : float
            Discount rate d > 0 per opportunity (e.g. 0.1 per year for yearly appeals).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        (x, tx, n), index, scalar = _broadcast(frequency=frequency, recency=recency, n_periods=n_periods)
        values = self._call("discounted_expected_residual_transactions", float(discount_rate), x, tx, n)
        return _result(values, index, scalar)

    def residual_lifetime_value(self, frequency, recency, n_periods, monetary_value, discount_rate):
        """Lifetime value over the whole future: DERT × value per transaction (FHS 2010 §4).

        Parameters
        ----------
        frequency, recency, n_periods : array_like
            Customer histories.
        monetary_value : array_like
            Value of each future transaction.
        discount_rate : float
            Discount rate per opportunity, as in :meth:`discounted_expected_residual_transactions`.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        (x, tx, n, m), index, scalar = _broadcast(frequency=frequency, recency=recency,
                                                  n_periods=n_periods, monetary_value=monetary_value)
        values = self._call("discounted_expected_residual_transactions", float(discount_rate), x, tx, n)
        return _result(values * m, index, scalar, name="clv")

class GammaGammaFitter(_BaseFitter):
    """The Gamma-Gamma spend model (Fader & Hardie 2013, note 025), lifetimes'
    ``GammaGammaFitter``.

    Parameters
    ----------
    penalizer_coef : float, optional
        L2 penalty c on (p, q, v) added to the mean negative log-likelihood, as in lifetimes.

    Attributes
    ----------
    params_ : pandas.Series
        ``p, q, v``; assignable.
    summary, log_likelihood_, convergence_, variance_matrix_, standard_errors_,
    confidence_intervals_, data
        As for :class:`BetaGeoFitter`.
    """

    _param_names = ("p", "q", "v")

    def fit(self, frequency, monetary_value, weights=None, initial_params=None, verbose=False,
            tol=1e-7, index=None, q_constraint=False, **kwargs):
        """Fit to customers with repeat purchases.

        Parameters
        ----------
        frequency : array_like
            Repeat purchases (each >= 1).
        monetary_value : array_like
            Mean value of the repeat purchases (each > 0).
        weights : array_like, optional
            Customers per row.
        initial_params : array_like, optional
            Starting (p, q, v).
        verbose : bool, optional
            Print a convergence line.
        tol : float, optional
            Gradient tolerance.
        index : array_like, optional
            Index of ``self.data``.
        q_constraint : bool, optional
            Keep q > 1, so that the population mean spend p·v/(q − 1) is finite (lifetimes'
            option): q is fitted as 1 + e^θ; its standard error is the delta method's (the
            covariance is that of (p, q, v) at the estimate). An estimate at the bound q → 1
            (the unconstrained maximum has q <= 1) emits a :class:`ConvergenceWarning` naming
            it. Without it, a fitted q <= 1 emits :class:`SpendWarning`.
        **kwargs
            ``maxiter``, ``gtol``, ``disp`` as for :meth:`BetaGeoFitter.fit`.

        Returns
        -------
        self
        """
        options = _fit_options(tol, kwargs, self.penalizer_coef, initial_params,
                               (0.0, 1.0, 0.0) if q_constraint else ())
        (x, m), series_index, _ = _broadcast(True, frequency=frequency, monetary_value=monetary_value)
        weights_ = np.empty(0) if weights is None else _column("weights", weights)
        result = _clv.fit_gamma_gamma(x, m, weights_, options)
        data = {"monetary_value": m, "frequency": x, "weights": weights_ if weights is not None else None}
        self._store_fit(result, data, index if index is not None else series_index, verbose)
        return self

    def _fit_elsewhere(self, fit, initial_params=None, verbose=False, tol=1e-7,
                       q_constraint=False, **kwargs):
        """Fit to rows held elsewhere (:func:`crmkit.dask.fit_gamma_gamma`): ``fit(options)``
        runs ``_core.clv.fit_gamma_gamma_elsewhere``; arguments as :meth:`fit`. ``data`` is
        then empty (the rows stay where they are)."""
        options = _fit_options(tol, kwargs, self.penalizer_coef, initial_params,
                               (0.0, 1.0, 0.0) if q_constraint else ())
        empty = np.empty(0)
        self._store_fit(fit(options), {"monetary_value": empty, "frequency": empty, "weights": None},
                        None, verbose)
        return self

    def conditional_expected_average_profit(self, frequency=None, monetary_value=None):
        """Expected mean spend per purchase given each customer's history (note 025 eq. 5).

        Customers with frequency 0 get the population mean p·v/(q − 1). When p·x + q <= 1 the
        expectation is infinite: those entries are ``inf`` and a :class:`SpendWarning` is emitted.

        Parameters
        ----------
        frequency, monetary_value : array_like, optional
            Default: the fitted data.

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        if frequency is None:
            frequency = self.data["frequency"]
        if monetary_value is None:
            monetary_value = self.data["monetary_value"]
        (x, m), index, scalar = _broadcast(frequency=frequency, monetary_value=monetary_value)
        values = _clv.gamma_gamma_conditional_expected_average_profit(self._unload_params(), x, m)
        if np.isinf(values).any():
            warnings.warn(
                f"q = {self.params_['q']:.4g}: the expected spend is infinite for "
                f"{int(np.isinf(values).sum())} customers (p·x + q <= 1)", SpendWarning, stacklevel=2,
            )
        return _result(values, index, scalar)

    def customer_lifetime_value(self, transaction_prediction_model, frequency, recency, T,
                                monetary_value, time=12, discount_rate=0.01, freq="D"):
        """lifetimes' CLV: the transaction model's discounted purchases times expected spend.

        Parameters
        ----------
        transaction_prediction_model : BetaGeoFitter or ModifiedBetaGeoFitter
            Fitted (or ``from_params``) transaction model.
        frequency, recency, T : array_like
            Customer histories in units of ``freq``.
        monetary_value : array_like
            Mean repeat spend (ignored where frequency is 0).
        time : int, optional
            Months.
        discount_rate : float, optional
            Monthly discount rate.
        freq : {"D", "W", "M", "H"}, optional
            Time unit of the data.

        Returns
        -------
        pandas.Series or numpy.ndarray
        """
        spend = self.conditional_expected_average_profit(frequency, monetary_value)
        return transaction_prediction_model.customer_lifetime_value(
            frequency, recency, T, spend, time=time, discount_rate=discount_rate, freq=freq
        )


def expected_cumulative_transactions(model, transactions, datetime_col, customer_id_col, t,
                                     datetime_format=None, freq="D", freq_multiplier=1,
                                     set_index_date=False):
    """Actual and predicted cumulative repeat transactions of a cohort (lifetimes semantics).

    Customers enter at their first purchase; the prediction at period i sums
    E[X((i − b)/freq_multiplier)] over customers whose first period b precedes i.

    Parameters
    ----------
    model : BetaGeoFitter or ModifiedBetaGeoFitter
        Fitted model (time unit: ``freq`` × ``freq_multiplier``).
    transactions : pandas.DataFrame
        One row per transaction.
    datetime_col, customer_id_col : str
        Column names.
    t : int
        Number of periods of ``freq`` from the first transaction.
    datetime_format : str, optional
        Format for ``pandas.to_datetime``.
    freq : str, optional
        pandas period code.
    freq_multiplier : int, optional
        Periods of ``freq`` per model time unit.
    set_index_date : bool, optional
        Index by period instead of 0..t//freq_multiplier − 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``actual`` and ``predicted``.

    Raises
    ------
    ValueError
        A row whose date or customer id is missing (NaT/NaN), naming the column and the row.
    """
    if t <= 0 or freq_multiplier <= 0:
        raise ValueError(f"t = {t} and freq_multiplier = {freq_multiplier} must be positive")
    dates = pd.to_datetime(transactions[datetime_col], format=datetime_format)
    for name, values in ((datetime_col, dates), (customer_id_col, transactions[customer_id_col])):
        missing = values.isna().to_numpy()
        if missing.any():
            raise ValueError(
                f"expected_cumulative_transactions: column {name!r} of row "
                f"{values.index[missing.argmax()]!r} is missing ({int(missing.sum()):,} row(s) in "
                "all); every transaction needs a customer id and a date")
    start = dates.min().to_period(freq)
    offsets = pd.PeriodIndex(dates.dt.to_period(freq)).asi8 - start.ordinal
    frame = pd.DataFrame({"customer": transactions[customer_id_col].values, "period": offsets})
    frame = frame[frame["period"] <= t].drop_duplicates()
    first = frame.groupby("customer")["period"].transform("min")
    births = frame.loc[frame["period"] == first].drop_duplicates("customer")["period"]
    birth_counts = births.value_counts().sort_index()
    repeat_per_period = frame.loc[frame["period"] != first, "period"].value_counts()
    steps = np.arange(freq_multiplier, t + 1, freq_multiplier)
    predicted = model._call(
        "expected_cumulative_transactions",
        birth_counts.index.to_numpy(dtype=float) / freq_multiplier,
        birth_counts.to_numpy(dtype=float),
        steps.astype(float) / freq_multiplier,
    )
    actual_by_period = repeat_per_period.reindex(np.arange(0, t + 1), fill_value=0).to_numpy()
    actual = np.array([actual_by_period[:step].sum() for step in steps], dtype=float)
    if set_index_date:
        index = pd.period_range(start, periods=t + 1, freq=freq)[freq_multiplier - 1:-1:freq_multiplier]
    else:
        index = range(0, t // freq_multiplier)
    return pd.DataFrame({"actual": actual, "predicted": predicted}, index=index)
