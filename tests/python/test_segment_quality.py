"""Cluster-quality scores against scikit-learn 1.2's sklearn.metrics on the same labels."""

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

import crmkit
from crmkit import (
    KMeans,
    calinski_harabasz_score,
    choose_k,
    davies_bouldin_score,
    silhouette_samples,
    silhouette_score,
)


def blobs(n, d, k, seed, spread=1.0):
    rng = np.random.default_rng(seed)
    means = rng.uniform(-10, 10, size=(k, d))
    labels = rng.integers(0, k, size=n)
    return means[labels] + spread * rng.standard_normal((n, d)), labels


def label_sets():
    X, truth = blobs(1500, 3, 5, 1, spread=3.0)
    rng = np.random.default_rng(2)
    singleton = truth.copy()
    singleton[17] = 99  # a one-point cluster: its silhouette is 0
    yield "true blobs", X, truth
    yield "random labels", X, rng.integers(0, 7, size=X.shape[0])
    yield "with a singleton", X, singleton
    yield "string labels", X, np.array(["a", "b", "c"])[truth % 3]
    yield "two clusters, 8-d", *blobs(800, 8, 2, 3)
    yield "many clusters", X, rng.integers(0, 60, size=X.shape[0])


CASES = {name: (X, labels) for name, X, labels in label_sets()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_silhouette_equals_sklearn(case):
    X, labels = CASES[case]
    np.testing.assert_allclose(silhouette_samples(X, labels),
                               metrics.silhouette_samples(X, labels), rtol=1e-9, atol=1e-12)
    assert silhouette_score(X, labels) == pytest.approx(metrics.silhouette_score(X, labels),
                                                        rel=1e-9)


def davies_bouldin_by_definition(X, labels):
    """Davies & Bouldin (1979) written out with numpy, distances as norms of differences."""
    names = np.unique(labels)
    centroids = np.array([X[labels == c].mean(axis=0) for c in names])
    scatter = np.array([np.linalg.norm(X[labels == c] - m, axis=1).mean()
                        for c, m in zip(names, centroids)])
    ratios = [max((scatter[i] + scatter[j]) / np.linalg.norm(centroids[i] - centroids[j])
                  for j in range(len(names)) if j != i) for i in range(len(names))]
    return np.mean(ratios)


@pytest.mark.parametrize("case", sorted(CASES))
def test_calinski_harabasz_and_davies_bouldin_equal_sklearn(case):
    X, labels = CASES[case]
    assert calinski_harabasz_score(X, labels) == pytest.approx(
        metrics.calinski_harabasz_score(X, labels), rel=1e-9)
    ours = davies_bouldin_score(X, labels)
    assert ours == pytest.approx(davies_bouldin_by_definition(X, labels), rel=1e-12)
    # scikit-learn measures a one-point cluster's scatter as the distance of the point to
    # itself via ||x||^2 - 2 x.c + ||c||^2, whose rounding leaves ~1e-8 after the square root
    # (here 1.3e-8 relative); crmkit's difference-based distance gives the exact 0.
    rel = 1e-7 if case == "with a singleton" else 1e-9
    assert ours == pytest.approx(metrics.davies_bouldin_score(X, labels), rel=rel)


def test_degenerate_dispersions_follow_sklearn():
    # Every cluster a single repeated point: no within-cluster dispersion, so CH is 1 and DB 0.
    X = np.repeat(np.array([[0.0, 0.0], [5.0, 1.0], [2.0, 7.0]]), 4, axis=0)
    labels = np.repeat([0, 1, 2], 4)
    assert calinski_harabasz_score(X, labels) == metrics.calinski_harabasz_score(X, labels) == 1.0
    assert davies_bouldin_score(X, labels) == metrics.davies_bouldin_score(X, labels) == 0.0
    assert silhouette_score(X, labels) == metrics.silhouette_score(X, labels) == 1.0


def test_sampled_silhouette_is_the_exact_score_of_its_sample():
    X, labels = CASES["true blobs"]
    codes = np.unique(labels, return_inverse=True)[1].astype(np.int64)
    score, indices = crmkit._core.segment.silhouette_score(X, codes, 400, 12)
    assert len(indices) == len(set(indices)) == 400
    assert score == pytest.approx(metrics.silhouette_score(X[indices], labels[indices]), rel=1e-9)
    assert silhouette_score(X, labels, sample_size=400, random_state=12) == score
    # A sample at least as large as the data is the exact score.
    assert silhouette_score(X, labels, sample_size=10**6, random_state=1) == pytest.approx(
        metrics.silhouette_score(X, labels), rel=1e-9)


def test_choose_k_reports_each_fit_and_suggests_the_true_k():
    X, _ = blobs(3000, 2, 4, 5, spread=0.5)
    table, suggested = choose_k(X, range(2, 8), random_state=3, silhouette_sample_size=None)
    assert list(table.index) == list(range(2, 8))
    assert suggested == 4 == table["silhouette"].idxmax()
    for k in (2, 4, 7):
        fit = KMeans(k, random_state=3).fit(X)
        row = table.loc[k]
        assert row["inertia"] == fit.inertia_
        assert row["silhouette"] == pytest.approx(metrics.silhouette_score(X, fit.labels_),
                                                  rel=1e-9)
        assert row["calinski_harabasz"] == pytest.approx(
            metrics.calinski_harabasz_score(X, fit.labels_), rel=1e-9)
        assert row["davies_bouldin"] == pytest.approx(
            metrics.davies_bouldin_score(X, fit.labels_), rel=1e-9)
    assert table["inertia"].is_monotonic_decreasing


def test_choose_k_with_sampled_silhouettes_and_duplicates():
    # Only 3 distinct points: k = 4 finds 3 clusters (scores still defined), and the table
    # says so.
    X = np.repeat(np.array([[0.0], [10.0], [20.0]]), 50, axis=0)
    with pytest.warns(crmkit.SegmentationWarning, match="distinct clusters"):
        KMeans(4, random_state=0).fit(X)
    table, suggested = choose_k(X, range(2, 5), random_state=0, silhouette_sample_size=60)
    assert table.loc[4, "distinct_clusters"] == 3
    assert suggested == 3


@pytest.mark.parametrize("labels, message", [
    (np.zeros(10), "labels has 1 distinct values; a score needs between 2 and n_samples - 1 = 9"),
    (np.arange(10), "labels has 10 distinct values"),
    (np.zeros(9), r"labels must have shape \(10,\)"),
])
def test_bad_labels_raise(labels, message):
    X = np.arange(20.0).reshape(10, 2)
    for score in (silhouette_score, calinski_harabasz_score, davies_bouldin_score,
                  silhouette_samples):
        with pytest.raises(ValueError, match=message):
            score(X, labels)


def test_bad_samples_and_ranges_raise():
    X = np.arange(20.0).reshape(10, 2)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"x\[3, 1\] = nan \(row 3, column 1\)"):
        davies_bouldin_score(X, np.arange(10) % 2)
    with pytest.raises(ValueError, match="sample_size = 1 must be an integer >= 2"):
        silhouette_score(np.ones((10, 2)), np.arange(10) % 2, sample_size=1)
    with pytest.raises(ValueError, match="k_range"):
        choose_k(np.ones((10, 2)), range(2, 9, 2))
    with pytest.raises(ValueError, match="k_max = 10 must satisfy"):
        choose_k(np.random.default_rng(0).normal(size=(10, 2)), range(2, 11))
    with pytest.raises(ValueError, match="k_min = 1"):
        choose_k(np.random.default_rng(0).normal(size=(10, 2)), range(1, 4))


def test_scores_accept_dataframes():
    X, labels = CASES["true blobs"]
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    assert calinski_harabasz_score(frame, pd.Series(labels)) == calinski_harabasz_score(X, labels)
