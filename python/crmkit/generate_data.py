"""Artificial customers from the BTYD models, with lifetimes' generator names and semantics.

Each function of ``lifetimes.generate_data`` (0.11.3) is here with the same arguments, columns and
index, and the same model: the same draws per customer in distribution, vectorised over
customers instead of a Python loop per customer. One argument is added, ``seed``: an int (or a
``numpy.random.Generator``) makes the result deterministic; ``None`` (the default) draws from
numpy's global state, so ``np.random.seed(...)`` before a call works as it does with lifetimes.

As in lifetimes, ``frequency`` of the continuous-time models counts the distinct whole time
units in which a repeat purchase fell (``np.unique(times.astype(int))``) and ``recency`` is the
time of the last repeat purchase.

For a transaction *log* with spend from the BG/NBD and Gamma-Gamma models, calendar dates and
staggered births, see :func:`crmkit.simulate_transactions`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "beta_geometric_nbd_model",
    "beta_geometric_nbd_model_transactional_data",
    "pareto_nbd_model",
    "modified_beta_geometric_nbd_model",
    "beta_geometric_beta_binom_model",
]


class _GlobalState:
    """numpy's global RandomState behind the Generator methods used here."""

    def __getattr__(self, name):
        if name == "exponential":
            return np.random.exponential
        if name == "random":
            return np.random.random_sample
        return getattr(np.random, name)


def _rng(seed: Any):
    if seed is None:
        return _GlobalState()
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _ages(T: Any, size: int) -> np.ndarray:
    if np.ndim(T) == 0:
        ages = np.full(size, float(T))
    else:
        ages = np.asarray(T, dtype=float)
        if ages.shape != (size,):
            raise ValueError(f"T has {ages.size} values but size = {size}; they must match")
    if not (np.all(np.isfinite(ages)) and np.all(ages >= 0)):
        raise ValueError("T must be finite and >= 0")
    return ages


def _check_positive(**params: float) -> None:
    for name, value in params.items():
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} = {value} must be positive and finite")


def _purchase_times(rng, lambdas: np.ndarray, ends: np.ndarray, limits: np.ndarray):
    """Each customer's first min(limit, N) arrival times of a Poisson process of rate λ on
    [0, end) (N the number of arrivals there): as the first of N sorted uniforms on [0, end)."""
    arrivals = rng.poisson(lambdas * ends)
    owner = np.repeat(np.arange(len(ends)), arrivals)
    times = rng.random(owner.size) * ends[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    starts = np.concatenate(([0], np.cumsum(arrivals)[:-1]))
    rank = np.arange(owner.size) - starts[owner]
    kept = rank < limits[owner]
    return owner[kept], times[kept], arrivals


def _summaries(owner: np.ndarray, times: np.ndarray, size: int):
    """lifetimes' frequency (distinct whole time units) and recency (last time) per customer."""
    recency = np.zeros(size)
    np.maximum.at(recency, owner, times)
    units = np.unique(np.stack([owner, np.floor(times)]), axis=1) if owner.size else np.empty((2, 0))
    frequency = np.bincount(units[0].astype(np.int64), minlength=size).astype(float)
    return frequency, recency


def _beta_geometric(T, r, alpha, a, b, size, seed, modified):
    _check_positive(r=r, alpha=alpha, a=a, b=b)
    rng = _rng(seed)
    ages = _ages(T, size)
    p = rng.beta(a, b, size=size)
    lambdas = rng.gamma(r, scale=1.0 / alpha, size=size)
    # The death draws before a purchase may happen: the first fatal one is after purchase F
    # (BG/NBD: F ≥ 1, draws after each purchase; MBG/NBD: F ≥ 0, a draw before the first too).
    fatal = rng.geometric(p).astype(float) - (1 if modified else 0)
    owner, times, arrivals = _purchase_times(rng, lambdas, ages, fatal)
    frequency, recency = _summaries(owner, times, size)
    frame = pd.DataFrame({"frequency": frequency, "recency": recency, "T": ages, "lambda": lambdas,
                          "p": p, "alive": (fatal > arrivals).astype(float),
                          "customer_id": np.arange(size, dtype=float)})
    return frame.set_index("customer_id")


def beta_geometric_nbd_model(T, r, alpha, a, b, size=1, seed=None):
    """Customers from the BG/NBD model (Fader, Hardie & Lee 2005), lifetimes' generator.

    Purchase rate λ ~ Gamma(r, rate alpha); after each repeat purchase the customer dies with
    probability p ~ Beta(a, b); purchases arrive at rate λ during (0, T).

    Parameters
    ----------
    T : float or array_like
        Observation length per customer.
    r, alpha, a, b : float
        Model parameters.
    size : int, optional
        Number of customers.
    seed : int, numpy.random.Generator or None, optional
        Random stream (crmkit's addition; None: numpy's global state).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``; columns frequency, recency, T, lambda, p, alive.
    """
    return _beta_geometric(T, r, alpha, a, b, size, seed, modified=False)


def modified_beta_geometric_nbd_model(T, r, alpha, a, b, size=1, seed=None):
    """Customers from the MBG/NBD model (Batislam et al. 2007), lifetimes' generator: as
    :func:`beta_geometric_nbd_model`, but a customer may also die before the first repeat
    purchase.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``; columns frequency, recency, T, lambda, p, alive.
    """
    return _beta_geometric(T, r, alpha, a, b, size, seed, modified=True)


def pareto_nbd_model(T, r, alpha, s, beta, size=1, seed=None):
    """Customers from the Pareto/NBD model (Schmittlein et al. 1987), lifetimes' generator.

    Purchase rate λ ~ Gamma(r, rate alpha) and death rate μ ~ Gamma(s, rate beta); the customer
    dies at an Exp(μ) time and buys at rate λ until min(death, T).

    Parameters
    ----------
    T : float or array_like
        Observation length per customer.
    r, alpha, s, beta : float
        Model parameters.
    size : int, optional
        Number of customers.
    seed : int, numpy.random.Generator or None, optional
        Random stream (None: numpy's global state).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``; columns frequency, recency, T, lambda, mu, alive.
    """
    _check_positive(r=r, alpha=alpha, s=s, beta=beta)
    rng = _rng(seed)
    ages = _ages(T, size)
    lambdas = rng.gamma(r, scale=1.0 / alpha, size=size)
    mus = rng.gamma(s, scale=1.0 / beta, size=size)
    death = rng.exponential(scale=1.0 / mus)
    owner, times, _ = _purchase_times(rng, lambdas, np.minimum(death, ages), np.full(size, np.inf))
    frequency, recency = _summaries(owner, times, size)
    frame = pd.DataFrame({"frequency": frequency, "recency": recency, "T": ages, "lambda": lambdas,
                          "mu": mus, "alive": (death > ages).astype(float),
                          "customer_id": np.arange(size, dtype=float)})
    return frame.set_index("customer_id")


def beta_geometric_nbd_model_transactional_data(T, r, alpha, a, b, observation_period_end="2019-1-1",
                                                freq="D", size=1, seed=None):
    """A BG/NBD transaction log, lifetimes' generator.

    Customer i is first seen at ``observation_period_end − T_i`` (a row one ``freq`` before its
    start ``observation_period_end − (T_i − 1)``), then buys at rate λ_i until it dies (after each
    purchase with probability p_i) or its T_i units of ``freq`` have passed.

    Parameters
    ----------
    T : float or array_like
        Observation length per customer, in units of ``freq``.
    r, alpha, a, b : float
        Model parameters.
    observation_period_end : date-like, optional
        The last date observed.
    freq : str, optional
        pandas time unit of T ('D', 'W', 'h', ...).
    size : int, optional
        Number of customers.
    seed : int, numpy.random.Generator or None, optional
        Random stream (None: numpy's global state).

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` and ``date``, one row per transaction (first purchases included),
        ordered by customer and date.
    """
    _check_positive(r=r, alpha=alpha, a=a, b=b)
    rng = _rng(seed)
    ages = _ages(T, size)
    end = pd.to_datetime(observation_period_end)
    p = rng.beta(a, b, size=size)
    lambdas = rng.gamma(r, scale=1.0 / alpha, size=size)
    fatal = rng.geometric(p).astype(float)
    owner, times, _ = _purchase_times(rng, lambdas, ages, fatal)
    start = end - pd.to_timedelta(ages - 1, unit=freq)
    first = pd.DataFrame({"customer_id": np.arange(size), "date": start - pd.Timedelta(1, unit=freq)})
    repeat = pd.DataFrame({"customer_id": owner,
                           "date": start[owner] + pd.to_timedelta(times, unit=freq)})
    log = pd.concat([first, repeat], ignore_index=True)
    return log.sort_values(["customer_id", "date"], kind="stable").reset_index(drop=True)


def beta_geometric_beta_binom_model(N, alpha, beta, gamma, delta, size=1, seed=None):
    """Customers from the BG/BB model (Fader, Hardie & Shang 2010), lifetimes' generator.

    Transaction probability p ~ Beta(alpha, beta) and dropout probability θ ~ Beta(gamma, delta);
    before each of the N opportunities an alive customer dies with probability θ, else transacts
    with probability p; ``alive`` also survives one last death opportunity after the N-th (as
    lifetimes, "to agree with" the paper). recency is the opportunity (1..N) of the last
    transaction, 0 without one.

    Parameters
    ----------
    N : int or array_like
        Transaction opportunities per customer.
    alpha, beta, gamma, delta : float
        Model parameters.
    size : int, optional
        Number of customers.
    seed : int, numpy.random.Generator or None, optional
        Random stream (None: numpy's global state).

    Returns
    -------
    pandas.DataFrame
        Columns frequency, recency, n_periods, p, theta, alive, customer_id (a column, not the
        index, as in lifetimes).
    """
    _check_positive(alpha=alpha, beta=beta, gamma=gamma, delta=delta)
    rng = _rng(seed)
    periods = _ages(N, size)
    if np.any(periods != np.floor(periods)):
        raise ValueError("N must hold whole numbers of opportunities")
    p = rng.beta(alpha, beta, size=size)
    theta = rng.beta(gamma, delta, size=size)
    survived = rng.geometric(theta).astype(float) - 1  # opportunities survived
    opportunities = np.minimum(survived, periods)
    # The last transaction among `opportunities` Bernoulli(p) trials: trailing failures are
    # Geometric(p) − 1 (none at all if that reaches the number of trials); before it, a
    # Binomial(recency − 1, p) count.
    trailing = rng.geometric(p).astype(float) - 1
    recency = np.where(trailing < opportunities, opportunities - trailing, 0.0)
    earlier = rng.binomial(np.maximum(recency - 1, 0).astype(np.int64), p)
    frequency = np.where(recency > 0, earlier + 1, 0).astype(float)
    return pd.DataFrame({"frequency": frequency, "recency": recency, "n_periods": periods, "p": p,
                         "theta": theta, "alive": (survived > periods).astype(float),
                         "customer_id": np.arange(size, dtype=float)})
