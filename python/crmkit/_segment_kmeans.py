"""k-means with scikit-learn's interface, on crmkit's exact accelerated C++ core."""

import warnings

import numpy as np

from . import _core
from ._segment_common import (
    SegmentationWarning,
    as_samples,
    as_seed,
    as_weights,
    positive_int,
)

__all__ = ["KMeans", "kmeans_plusplus"]

_ALGORITHMS = ("auto", "lloyd", "hamerly", "elkan", "screened")


def _warn_about_fit(distinct_clusters, n_clusters, converged, max_iter, tolerance, stacklevel):
    """The warnings of a fit that found duplicate points or ran out of iterations."""
    if distinct_clusters < n_clusters:
        warnings.warn(
            f"Number of distinct clusters ({distinct_clusters}) found smaller than "
            f"n_clusters ({n_clusters}). Possibly due to duplicate points in X.",
            SegmentationWarning, stacklevel=stacklevel)
    if not converged:
        warnings.warn(
            f"k-means stopped after max_iter={max_iter} iterations without converging "
            f"(tolerance {tolerance:.3g} on the summed squared centre shift); "
            "raise max_iter or tol.", SegmentationWarning, stacklevel=stacklevel)


def _init_arguments(init, n_init, stacklevel):
    """(init name, initial centres or None) for the C++ fit from scikit-learn's ``init``."""
    if not isinstance(init, str):
        initial_centers, _ = as_samples(init, "init")
        if n_init > 1:
            warnings.warn(
                f"Explicit initial centres passed: performing only one run instead of "
                f"n_init={n_init}.", RuntimeWarning, stacklevel=stacklevel)
        return "k-means++", initial_centers
    if init not in ("k-means++", "random"):
        raise ValueError(
            f"init = {init!r} must be 'k-means++', 'random' or an array of initial centres")
    return init, None


class KMeans:
    """K-means clustering with scikit-learn's names, defaults and semantics.

    Same arguments, attributes and methods as ``sklearn.cluster.KMeans`` (1.2), with the
    future default ``n_init="auto"``. From the same initial centres it reaches the same labels
    and inertia as scikit-learn (up to rounding), faster: the default ``algorithm="auto"``
    screens every sample in float (up to 32 clusters) or uses Hamerly's exact bounds, and
    every variant gives bit-identical results to Lloyd's algorithm. Results do not depend on the number of threads (``crmkit.set_num_threads``).

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters, between 1 and the number of samples.
    init : {"k-means++", "random"} or array-like of shape (n_clusters, n_features)
        Initial centres: greedy k-means++ (``2 + floor(ln k)`` candidates per centre, drawn
        with probability proportional to ``sample_weight * D^2``), ``n_clusters`` samples
        drawn by weight without replacement, or the given centres (then one run is made).
    n_init : "auto" or int, default="auto"
        Number of runs from different initial centres; the run with the lowest inertia is
        kept. "auto" means 1 for k-means++ or given centres and 10 for "random".
    max_iter : int, default=300
        Iterations per run.
    tol : float, default=1e-4
        Relative tolerance: a run stops when the summed squared centre shift is at most
        ``tol`` times the mean feature variance.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Seed of crmkit's random stream (``std::mt19937_64``). Its draws differ from
        scikit-learn's, so the same integer gives other k-means++ centres than scikit-learn.
    algorithm : {"auto", "lloyd", "hamerly", "elkan", "screened"}, default="auto"
        "lloyd" is the plain reference; "hamerly" (Hamerly 2010, one lower bound per sample)
        and "elkan" (Elkan 2003, one per sample and cluster) skip distance computations their
        bounds prove unnecessary; "screened" keeps no bounds and screens every sample against
        every centre in float each iteration, computing exactly only the samples whose
        nearest centre rounding could change. "auto" uses "screened" for up to 32 clusters
        and 64 features, else "hamerly".

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,), dtype int32
    inertia_ : float
        Sum of squared distances of samples to their closest centre, weighted.
    n_iter_ : int
        Iterations of the kept run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when X had string column names.
    converged_ : bool
        Whether the kept run stopped before ``max_iter`` (crmkit extension).
    algorithm_ : str
        The algorithm actually used (crmkit extension).

    Warns
    -----
    SegmentationWarning
        When fewer distinct clusters than ``n_clusters`` were found (duplicate points), or a
        run stopped at ``max_iter`` without converging.

    Notes
    -----
    Empty clusters are relocated as scikit-learn does: to the points farthest from their
    centres. The data are centred before iterating, as scikit-learn does for dense input.
    """

    def __init__(self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300,
                 tol=1e-4, random_state=None, algorithm="auto"):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.algorithm = algorithm

    def get_params(self, deep=True):
        """Constructor arguments, as scikit-learn estimators report them."""
        return {name: getattr(self, name) for name in (
            "n_clusters", "init", "n_init", "max_iter", "tol", "random_state", "algorithm")}

    def set_params(self, **params):
        """Sets constructor arguments; returns self."""
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for KMeans; valid: {sorted(valid)}")
            setattr(self, name, value)
        return self

    def _settings(self):
        n_clusters = positive_int(self.n_clusters, "n_clusters")
        max_iter = positive_int(self.max_iter, "max_iter")
        if self.n_init == "auto":
            n_init = 0
        else:
            n_init = positive_int(self.n_init, "n_init")
        try:
            tol = float(self.tol)
        except (TypeError, ValueError):
            raise ValueError(f"tol = {self.tol!r} must be a number >= 0") from None
        if not (tol >= 0 and np.isfinite(tol)):
            raise ValueError(f"tol = {self.tol!r} must be a finite number >= 0")
        if self.algorithm not in _ALGORITHMS:
            raise ValueError(f"algorithm = {self.algorithm!r} must be one of {_ALGORITHMS}")
        return n_clusters, n_init, max_iter, tol

    def fit(self, X, y=None, sample_weight=None):
        """Compute k-means clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite numeric samples.
        y : ignored
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights, not all zero; weighted means and inertia.

        Returns
        -------
        self
        """
        n_clusters, n_init, max_iter, tol = self._settings()
        x, columns = as_samples(X)
        weights = as_weights(sample_weight, x.shape[0])
        init, initial_centers = _init_arguments(self.init, n_init, stacklevel=3)
        result = _core.segment.kmeans(
            x, sample_weight=weights, initial_centers=initial_centers, n_clusters=n_clusters,
            init=init, n_init=n_init, max_iter=max_iter, tol=tol,
            seed=as_seed(self.random_state), algorithm=self.algorithm)
        _warn_about_fit(result.distinct_clusters, n_clusters, result.converged, max_iter,
                        result.tolerance, stacklevel=3)
        self.cluster_centers_ = result.centers
        self.labels_ = result.labels
        self.inertia_ = result.inertia
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.algorithm_ = result.algorithm
        self.n_features_in_ = x.shape[1]
        if columns is not None:
            self.feature_names_in_ = columns
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def _check_fitted(self, X):
        if not hasattr(self, "cluster_centers_"):
            raise ValueError("This KMeans instance is not fitted yet; call fit first.")
        x, _ = as_samples(X)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features, but KMeans was fitted with "
                f"{self.n_features_in_}")
        return x

    def predict(self, X, sample_weight=None):
        """Index of the closest centre of each sample (ties go to the lower index).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        sample_weight : ignored (accepted for scikit-learn compatibility)

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int32
        """
        x = self._check_fitted(X)
        labels, _ = _core.segment.kmeans_predict(x, self.cluster_centers_)
        return labels

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Euclidean distances from every sample to every centre.

        Returns
        -------
        distances : ndarray of shape (n_samples, n_clusters)
        """
        x = self._check_fitted(X)
        return _core.segment.kmeans_transform(x, self.cluster_centers_)

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return ``transform(X)``."""
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) inertia of X on the fitted centres.

        Returns
        -------
        score : float
        """
        x = self._check_fitted(X)
        weights = as_weights(sample_weight, x.shape[0])
        _, inertia = _core.segment.kmeans_predict(x, self.cluster_centers_, weights)
        return -inertia

    def __repr__(self):
        shown = []
        for name, value in self.get_params().items():
            text = repr(value) if value is None or np.isscalar(value) else "<array>"
            shown.append(f"{name}={text}")
        return f"KMeans({', '.join(shown)})"


def kmeans_plusplus(X, n_clusters, *, sample_weight=None, random_state=None,
                    n_local_trials=None):
    """Greedy weighted k-means++ seeding (scikit-learn's ``kmeans_plusplus`` interface).

    The first centre is a sample drawn with probability proportional to its weight; each
    further centre is, among ``n_local_trials`` candidates drawn with probability proportional
    to ``weight * D^2`` (D = distance to the nearest centre so far), the one leaving the lowest
    potential ``sum(weight * D^2)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), optional
    random_state : None, int, numpy RandomState or Generator
    n_local_trials : int, optional
        Candidates per centre; default ``2 + floor(ln(n_clusters))``; 1 is vanilla k-means++.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    indices : ndarray of shape (n_clusters,)
        ``X[indices[j]] == centers[j]``.
    """
    x, _ = as_samples(X)
    n_clusters = positive_int(n_clusters, "n_clusters")
    trials = 0 if n_local_trials is None else positive_int(n_local_trials, "n_local_trials")
    weights = as_weights(sample_weight, x.shape[0])
    centers, indices = _core.segment.kmeans_plus_plus(
        x, n_clusters, as_seed(random_state), sample_weight=weights, n_local_trials=trials)
    return centers, indices.astype(np.intp)
