"""crmkit.KMeans against scikit-learn 1.2's KMeans from the same initial centres.

scikit-learn is the independent reference: the same data and initial centres go to both, and
labels, inertia, centres and iteration counts are compared.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans as SklearnKMeans

import crmkit
from crmkit import KMeans, SegmentationWarning

ALGORITHMS = ["lloyd", "hamerly", "elkan", "screened", "auto"]


def blobs(n, d, k, seed, spread=1.0, offset=0.0):
    rng = np.random.default_rng(seed)
    means = rng.uniform(-10, 10, size=(k, d))
    return means[rng.integers(0, k, size=n)] + spread * rng.standard_normal((n, d)) + offset


def uniform(n, d, seed, offset=0.0):
    return np.random.default_rng(seed).uniform(size=(n, d)) + offset


def initial(X, k, seed):
    rng = np.random.default_rng(seed)
    return X[rng.choice(X.shape[0], size=k, replace=False)].copy()


def sklearn_fit(X, init, sample_weight=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SklearnKMeans(n_clusters=init.shape[0], init=init, n_init=1, **kw).fit(
            X, sample_weight=sample_weight)


def assert_same_fit(ours, reference, rtol=1e-9):
    np.testing.assert_array_equal(ours.labels_, reference.labels_)
    assert ours.inertia_ == pytest.approx(reference.inertia_, rel=rtol)
    np.testing.assert_allclose(ours.cluster_centers_, reference.cluster_centers_, rtol=0,
                               atol=1e-9 * np.abs(reference.cluster_centers_).max())
    assert ours.n_iter_ == reference.n_iter_


CASES = {
    "blobs 1e5 x 4, k=8": (lambda: blobs(100_000, 4, 8, 1), 8, {}),
    "blobs 2e4 x 16, k=5, far from origin": (lambda: blobs(20_000, 16, 5, 2, offset=1e4), 5, {}),
    "uniform 5e4 x 8, k=32, max_iter=40": (lambda: uniform(50_000, 8, 3), 32, {"max_iter": 40}),
    "uniform 1e5 x 2, k=3": (lambda: uniform(100_000, 2, 4, offset=-5), 3, {}),
    "overlapping blobs 3e4 x 20, k=12": (lambda: blobs(30_000, 20, 12, 5, spread=6.0), 12, {}),
}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_labels_inertia_and_iterations_as_sklearn(case, algorithm):
    make, k, settings = CASES[case]
    X = make()
    init = initial(X, k, seed=len(case))
    reference = sklearn_fit(X, init, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SegmentationWarning)  # max_iter reached on purpose
        ours = KMeans(k, init=init, algorithm=algorithm, **settings).fit(X)
    assert_same_fit(ours, reference)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_weighted_fit_matches_sklearn(algorithm):
    X = blobs(20_000, 3, 6, 7, spread=2.0)
    w = np.random.default_rng(8).gamma(2.0, size=X.shape[0])
    init = initial(X, 6, seed=9)
    assert_same_fit(KMeans(6, init=init, algorithm=algorithm).fit(X, sample_weight=w),
                    sklearn_fit(X, init, sample_weight=w))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_empty_cluster_relocation_matches_sklearn(algorithm):
    # One initial centre far from every point: its cluster is empty after the first E-step and
    # both libraries move it to the point farthest from its centre.
    X = blobs(5000, 2, 3, 10)
    init = initial(X, 4, seed=11)
    init[2] = [1e3, 1e3]
    assert_same_fit(KMeans(4, init=init, algorithm=algorithm).fit(X), sklearn_fit(X, init))


def test_tolerance_stop_and_final_e_step_match_sklearn():
    X = uniform(30_000, 3, 12)
    init = initial(X, 7, seed=13)
    for tol in (1e-1, 1e-2, 0.0):
        assert_same_fit(KMeans(7, init=init, tol=tol).fit(X), sklearn_fit(X, init, tol=tol))


def test_predict_transform_score_match_sklearn():
    X = blobs(10_000, 5, 4, 14)
    init = initial(X, 4, seed=15)
    ours, reference = KMeans(4, init=init).fit(X), sklearn_fit(X, init)
    new = blobs(2000, 5, 4, 16)
    np.testing.assert_array_equal(ours.predict(new), reference.predict(new))
    np.testing.assert_allclose(ours.transform(new), reference.transform(new), rtol=1e-9)
    assert ours.score(new) == pytest.approx(reference.score(new), rel=1e-9)
    w = np.linspace(0.5, 2, new.shape[0])
    assert ours.score(new, sample_weight=w) == pytest.approx(
        reference.score(new, sample_weight=w), rel=1e-9)
    np.testing.assert_array_equal(KMeans(4, init=init).fit_predict(X), reference.labels_)
    np.testing.assert_allclose(KMeans(4, init=init).fit_transform(X), reference.transform(X),
                               rtol=1e-9)
    assert ours.labels_.dtype == np.int32
    assert ours.cluster_centers_.shape == (4, 5)


def test_threads_do_not_change_the_result():
    X = blobs(40_000, 6, 10, 17, spread=3.0)
    w = np.random.default_rng(18).uniform(0.1, 1, X.shape[0])
    saved = crmkit.num_threads()
    try:
        fits = []
        for threads in (1, 4):
            crmkit.set_num_threads(threads)
            fits.append(KMeans(10, n_init=3, random_state=5).fit(X, sample_weight=w))
    finally:
        crmkit.set_num_threads(saved)
    one, four = fits
    np.testing.assert_array_equal(one.labels_, four.labels_)
    assert one.inertia_ == four.inertia_
    assert np.array_equal(one.cluster_centers_, four.cluster_centers_)


def test_seeded_runs_repeat_and_reach_a_good_clustering():
    X = blobs(20_000, 2, 5, 19, spread=0.3)
    a = KMeans(5, random_state=3).fit(X)
    b = KMeans(5, random_state=3).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    # Well separated blobs: k-means++ finds them, as scikit-learn's own seeding does.
    reference = SklearnKMeans(5, n_init=10, random_state=0).fit(X)
    assert a.inertia_ == pytest.approx(reference.inertia_, rel=1e-6)
    r = KMeans(5, init="random", random_state=np.random.default_rng(4)).fit(X)
    assert r.inertia_ == pytest.approx(reference.inertia_, rel=1e-6)


def test_kmeans_plusplus_returns_rows_of_x_with_positive_weight():
    X = blobs(3000, 3, 4, 20)
    w = np.where(np.arange(3000) % 2 == 0, 0.0, 1.0)
    centers, indices = crmkit.kmeans_plusplus(X, 6, sample_weight=w, random_state=1)
    np.testing.assert_array_equal(centers, X[indices])
    assert (w[indices] > 0).all()
    again, _ = crmkit.kmeans_plusplus(X, 6, sample_weight=w, random_state=1)
    np.testing.assert_array_equal(centers, again)


def test_dataframe_input_records_feature_names():
    X = pd.DataFrame(blobs(500, 2, 2, 21), columns=["recency", "frequency"])
    model = KMeans(2, random_state=0).fit(X)
    assert list(model.feature_names_in_) == ["recency", "frequency"]
    assert model.n_features_in_ == 2
    assert model.get_params()["n_clusters"] == 2
    assert "n_clusters=2" in repr(model)


def test_soft_problems_warn():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 10, axis=0)
    with pytest.warns(SegmentationWarning, match=r"distinct clusters \(2\).*n_clusters \(3\)"):
        KMeans(3, random_state=0).fit(X)
    with pytest.warns(SegmentationWarning, match="max_iter=1"):
        KMeans(8, max_iter=1, tol=0, random_state=0).fit(uniform(2000, 2, 22))
    with pytest.warns(RuntimeWarning, match="one run"):
        KMeans(2, init=X[:2] + [[0, 0], [1, 1]], n_init=3).fit(X)


@pytest.mark.parametrize("settings, X, message", [
    ({"n_clusters": 0}, np.zeros((5, 2)), "n_clusters = 0 must be an integer >= 1"),
    ({"n_clusters": 6}, np.arange(10.0).reshape(5, 2),
     "n_clusters = 6 must be between 1 and the number of samples, 5"),
    ({"n_clusters": 2}, np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0]]),
     r"x\[1, 0\] = nan \(row 1, column 0\) must be finite"),
    ({"n_clusters": 2}, np.array([[0.0, 1.0], [np.inf, 2.0]]), r"row 1, column 0"),
    ({"n_clusters": 1}, np.zeros((0, 3)), "x is empty"),
    ({"n_clusters": 1}, np.zeros(4), "must be 2-d"),
    ({"n_clusters": 2, "tol": -1}, np.zeros((5, 2)), "tol"),
    ({"n_clusters": 2, "max_iter": 0}, np.zeros((5, 2)), "max_iter"),
    ({"n_clusters": 2, "n_init": 0}, np.zeros((5, 2)), "n_init"),
    ({"n_clusters": 2, "algorithm": "full"}, np.zeros((5, 2)), "algorithm"),
    ({"n_clusters": 2, "init": "kmeans++"}, np.zeros((5, 2)), "init"),
    ({"n_clusters": 2, "init": np.zeros((3, 2))}, np.zeros((5, 2)), "initial_centers has shape"),
    ({"n_clusters": 2, "random_state": -3}, np.zeros((5, 2)), "random_state"),
])
def test_bad_input_raises_value_error(settings, X, message):
    with pytest.raises(ValueError, match=message):
        KMeans(**settings).fit(X)


@pytest.mark.parametrize("weights, message", [
    (np.array([1.0, -1.0, 1.0]), r"sample_weight\[1\] = -1 must be finite and >= 0"),
    (np.zeros(3), "sample_weight is all zero"),
    (np.ones(2), r"must have shape \(3,\)"),
    (np.array([1.0, np.nan, 1.0]), r"sample_weight\[1\] = nan"),
])
def test_bad_weights_raise_value_error(weights, message):
    with pytest.raises(ValueError, match=message):
        KMeans(2).fit(np.arange(6.0).reshape(3, 2), sample_weight=weights)


def test_predict_before_fit_and_wrong_width():
    with pytest.raises(ValueError, match="not fitted"):
        KMeans(2).predict(np.zeros((2, 2)))
    model = KMeans(2, random_state=0).fit(np.arange(10.0).reshape(5, 2))
    with pytest.raises(ValueError, match="X has 3 features, but KMeans was fitted with 2"):
        model.predict(np.zeros((2, 3)))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_constant_feature_matches_sklearn(algorithm):
    X = blobs(5000, 3, 4, 23)
    X[:, 1] = 7.0  # a constant column changes neither distances nor the fit
    init = initial(X, 4, seed=24)
    assert_same_fit(KMeans(4, init=init, algorithm=algorithm).fit(X), sklearn_fit(X, init))


def test_all_identical_points_warn_and_give_zero_inertia():
    X = np.full((30, 2), 3.5)
    with pytest.warns(SegmentationWarning, match=r"distinct clusters \(1\)"):
        model = KMeans(3, random_state=0).fit(X)
    assert model.inertia_ == 0
    np.testing.assert_array_equal(model.cluster_centers_, np.full((3, 2), 3.5))
