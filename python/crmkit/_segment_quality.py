"""Cluster-quality scores (scikit-learn's definitions) and choosing the number of clusters."""

import numpy as np
import pandas as pd

from . import _core
from ._segment_common import as_samples, as_seed, as_weights, positive_int

__all__ = [
    "calinski_harabasz_score",
    "choose_k",
    "davies_bouldin_score",
    "silhouette_samples",
    "silhouette_score",
]


def _samples_and_codes(X, labels):
    x, _ = as_samples(X)
    values = np.asarray(labels)
    if values.ndim != 1 or values.shape[0] != x.shape[0]:
        raise ValueError(
            f"labels must have shape ({x.shape[0]},) to match X; got {values.shape}")
    _, codes = np.unique(values, return_inverse=True)
    return x, np.ascontiguousarray(codes.astype(np.int64))


def silhouette_samples(X, labels):
    """Silhouette value of every sample (Rousseeuw 1987), Euclidean distance.

    ``s(i) = (b - a) / max(a, b)``, with ``a`` the mean distance from i to the other members of
    its cluster and ``b`` the smallest mean distance from i to another cluster; 0 for members
    of one-point clusters. Equal to ``sklearn.metrics.silhouette_samples``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
        Any hashable cluster labels; 2 to n_samples - 1 distinct values.

    Returns
    -------
    ndarray of shape (n_samples,)
    """
    x, codes = _samples_and_codes(X, labels)
    return _core.segment.silhouette_samples(x, codes)


def silhouette_score(X, labels, *, sample_size=None, random_state=None):
    """Mean silhouette value (scikit-learn's ``silhouette_score``, Euclidean distance).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)
    sample_size : int, optional
        Compute the score on this many samples drawn without replacement (O(m^2) instead of
        O(n^2) work); the whole data when None or >= n_samples.
    random_state : None, int, numpy RandomState or Generator
        Seed of the sample (crmkit's own stream, so other samples than scikit-learn's).

    Returns
    -------
    float
    """
    x, codes = _samples_and_codes(X, labels)
    size = 0 if sample_size is None else positive_int(sample_size, "sample_size", minimum=2)
    score, _ = _core.segment.silhouette_score(x, codes, size, as_seed(random_state))
    return score


def calinski_harabasz_score(X, labels):
    """Calinski-Harabasz index: between- over within-cluster dispersion, each per degree of
    freedom; higher is better. Equal to ``sklearn.metrics.calinski_harabasz_score``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)

    Returns
    -------
    float
    """
    x, codes = _samples_and_codes(X, labels)
    return _core.segment.calinski_harabasz_score(x, codes)


def davies_bouldin_score(X, labels):
    """Davies-Bouldin index: mean over clusters of the worst ratio of summed within-cluster
    scatter to centroid separation; lower is better. Equal to
    ``sklearn.metrics.davies_bouldin_score``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)

    Returns
    -------
    float
    """
    x, codes = _samples_and_codes(X, labels)
    return _core.segment.davies_bouldin_score(x, codes)


def choose_k(X, k_range=range(2, 11), *, sample_weight=None, init="k-means++", n_init="auto",
             max_iter=300, tol=1e-4, random_state=None, algorithm="auto",
             silhouette_sample_size=10_000):
    """Fit k-means for every k in a range and score each fit.

    The suggested k is the one with the highest silhouette (the smallest such k on ties): the
    silhouette needs no tuning and, unlike inertia, does not always improve with more clusters.
    Calinski-Harabasz (higher is better) and Davies-Bouldin (lower is better) are reported
    beside it. Scores ignore ``sample_weight``, as scikit-learn's do.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    k_range : range with step 1, default range(2, 11)
        Numbers of clusters to try; 2 <= k <= n_samples - 1.
    sample_weight : array-like of shape (n_samples,), optional
        Used by the k-means fits.
    init, n_init, max_iter, tol, random_state, algorithm
        As for :class:`KMeans`; the same seed is used for every k.
    silhouette_sample_size : int or None, default 10000
        Silhouettes are computed on a seeded sample of this size (exact when None or when
        n_samples is smaller).

    Returns
    -------
    table : pandas.DataFrame indexed by k
        Columns inertia, silhouette, calinski_harabasz, davies_bouldin, n_iter and
        distinct_clusters (scores are NaN when a fit found fewer than 2 distinct clusters).
    suggested_k : int
    """
    if not isinstance(k_range, range) or k_range.step != 1 or len(k_range) == 0:
        raise ValueError(f"k_range = {k_range!r} must be a non-empty range with step 1")
    x, _ = as_samples(X)
    weights = as_weights(sample_weight, x.shape[0])
    if n_init == "auto":
        n_init = 0
    else:
        n_init = positive_int(n_init, "n_init")
    size = 0 if silhouette_sample_size is None else positive_int(
        silhouette_sample_size, "silhouette_sample_size", minimum=2)
    columns, suggested, _ = _core.segment.choose_k(
        x, k_range.start, k_range.stop - 1, sample_weight=weights, init=init, n_init=n_init,
        max_iter=positive_int(max_iter, "max_iter"), tol=float(tol),
        seed=as_seed(random_state), algorithm=algorithm, silhouette_sample_size=size)
    table = pd.DataFrame(columns).set_index("k")
    return table, int(suggested)
