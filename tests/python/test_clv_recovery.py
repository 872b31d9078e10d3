"""Parameter recovery on data simulated with numpy, and thread-count independence."""

import numpy as np
import pytest

import crmkit


def simulate_bg_nbd(n, r, alpha, a, b, rng, modified=False, max_age=52.0):
    """BG/NBD (FHL 2005 §3) in numpy, independent of crmkit: λ ~ Gamma(r, rate α),
    p ~ Beta(a, b); the customer drops out after each repeat purchase with probability p
    (MBG/NBD: also at the start). Given N(T) = n Poisson arrivals, the x-th is T·Beta(x, n−x+1)."""
    T = max_age * (1 - rng.random(n))
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    lifetime = rng.geometric(p) - (1 if modified else 0)  # numpy's geometric counts trials >= 1
    arrivals = rng.poisson(lam * T)
    x = np.minimum(lifetime, arrivals)
    tx = np.zeros(n)
    has = x > 0
    tx[has] = T[has] * rng.beta(x[has], arrivals[has] - x[has] + 1)
    return x.astype(float), tx, T


@pytest.mark.parametrize("cls, truth, modified", [
    (crmkit.BetaGeoFitter, (0.25, 4.0, 0.8, 2.5), False),
    (crmkit.ModifiedBetaGeoFitter, (0.5, 6.0, 0.9, 1.6), True),
])
def test_true_parameters_fall_inside_the_95_percent_intervals(cls, truth, modified):
    # 8 replicates × 4 parameters = 32 intervals, 30.4 expected to cover; fewer than 27 has
    # probability < 0.5% when the standard errors are right.
    covered = 0
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        x, tx, T = simulate_bg_nbd(20_000, *truth, rng, modified)
        model = cls().fit(x, tx, T)
        summary = model.summary
        lower, upper = summary["lower 95% bound"].to_numpy(), summary["upper 95% bound"].to_numpy()
        covered += int(np.sum((lower < truth) & (np.array(truth) < upper)))
        assert np.all(np.abs(summary["coef"] - truth) < 4 * summary["se(coef)"])
    assert covered >= 27


def test_gamma_gamma_recovery():
    rng = np.random.default_rng(3)
    p, q, v = 6.0, 4.0, 15.0
    x = rng.integers(1, 10, 20_000)
    nu = rng.gamma(q, 1 / v, x.size)
    m = rng.gamma(p * x, 1 / (x * nu))  # mean of x Gamma(p, ν) spends
    summary = crmkit.GammaGammaFitter().fit(x, m).summary
    assert np.all(summary["lower 95% bound"] < [p, q, v])
    assert np.all(summary["upper 95% bound"] > [p, q, v])


def test_fits_are_bit_identical_for_1_and_4_threads():
    rng = np.random.default_rng(9)
    x, tx, T = simulate_bg_nbd(100_000, 0.25, 4.0, 0.8, 2.5, rng)
    saved = crmkit.num_threads()
    try:
        crmkit.set_num_threads(1)
        one = crmkit.BetaGeoFitter().fit(x, tx, T)
        alive_one = one.conditional_probability_alive(x, tx, T)
        crmkit.set_num_threads(4)
        four = crmkit.BetaGeoFitter().fit(x, tx, T)
        alive_four = four.conditional_probability_alive(x, tx, T)
    finally:
        crmkit.set_num_threads(saved)
    assert one.log_likelihood_ == four.log_likelihood_
    assert one.params_.to_numpy().tobytes() == four.params_.to_numpy().tobytes()
    assert one.standard_errors_.to_numpy().tobytes() == four.standard_errors_.to_numpy().tobytes()
    assert alive_one.tobytes() == alive_four.tobytes()
