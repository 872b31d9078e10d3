"""Gamma-Gamma fits: q_constraint=True (q > 1 by the reparametrisation q = 1 + e^θ; lifetimes
0.11.3 bounds log q >= 0 in L-BFGS-B for the same option), and a tolerance below the rounding
floor of the likelihood. The references here are
independent of crmkit's core: the Gamma-Gamma log-likelihood written out in numpy/scipy
(Fader & Hardie 2013, note 025; the same expression as lifetimes' `gamma_gamma_fitter.py`),
maximised by scipy.optimize with the bound q >= 1.
"""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import gammaln

import crmkit
from crmkit.clv import ConvergenceWarning, SpendWarning


def spend_log_likelihood(params, x, m):
    """Σ ℓ, ℓ = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln v + (px−1) ln m + px ln x − (px+q) ln(v+xm)."""
    p, q, v = params
    px = p * x
    return float(np.sum(gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
                        + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + x * m)))


def simulate_spend(n, p, q, v, seed):
    """Repeat buyers (x = 1 + Poisson(2)) whose mean spend follows the Gamma-Gamma model."""
    rng = np.random.default_rng(seed)
    x = 1.0 + rng.poisson(2.0, n)
    nu = rng.gamma(q, 1 / v, n)
    return x, rng.gamma(p * x, 1 / (x * nu))


def scipy_constrained_maximum(x, m, start):
    """max Σ ℓ over p, v > 0, q >= 1 by L-BFGS-B in (ln p, q, ln v), as lifetimes bounds it."""
    def negative(z):
        return -spend_log_likelihood((np.exp(z[0]), z[1], np.exp(z[2])), x, m) / len(x)
    z0 = np.array([np.log(start[0]), max(start[1], 1.0), np.log(start[2])])
    best = minimize(negative, z0, method="L-BFGS-B", bounds=[(None, None), (1.0, None), (None, None)],
                    options=dict(ftol=1e-15, gtol=1e-10, maxiter=10_000))
    return -best.fun * len(x), (np.exp(best.x[0]), best.x[1], np.exp(best.x[2]))


def test_constraint_keeps_q_above_one_where_the_free_fit_has_q_below_one():
    # Heavy-tailed spend rates (q = 0.6): the free maximum has q < 1, an infinite mean spend.
    x, m = simulate_spend(20_000, 4.0, 0.6, 10.0, seed=7)
    with pytest.warns(SpendWarning, match="q = 0.6"):
        free = crmkit.GammaGammaFitter().fit(x, m)
    assert free.params_["q"] < 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bounded = crmkit.GammaGammaFitter().fit(x, m, q_constraint=True)
    assert bounded.params_["q"] > 1
    assert not any(issubclass(w.category, SpendWarning) for w in caught)
    # The maximum lies beyond the bound, so the fit runs to it and says so.
    assert any(issubclass(w.category, ConvergenceWarning) and "q = 1" in str(w.message)
               and "lower bound 1" in str(w.message) for w in caught)
    # The reported log-likelihood is the independent formula's at the estimate ...
    assert bounded.log_likelihood_ == pytest.approx(
        spend_log_likelihood(bounded.params_[["p", "q", "v"]], x, m), rel=1e-12)
    # ... at least as high as scipy's constrained maximum, and below the free maximum.
    reference, _ = scipy_constrained_maximum(x, m, free.params_[["p", "q", "v"]].to_numpy())
    assert bounded.log_likelihood_ >= reference - 1e-6
    assert bounded.log_likelihood_ <= free.log_likelihood_
    # Finite expected spend for everyone now, as lifetimes' option intends.
    assert np.isfinite(bounded.conditional_expected_average_profit(x, m)).all()


def test_inactive_constraint_gives_the_free_fit_and_delta_method_errors():
    x, m = simulate_spend(5_000, 6.25, 3.74, 15.44, seed=3)  # CDNOW's estimates (note 025)
    free = crmkit.GammaGammaFitter().fit(x, m)
    bounded = crmkit.GammaGammaFitter().fit(x, m, q_constraint=True)
    np.testing.assert_allclose(bounded.params_, free.params_, rtol=1e-6)
    assert bounded.log_likelihood_ == pytest.approx(free.log_likelihood_, abs=1e-8)
    reference, params = scipy_constrained_maximum(x, m, (1.0, 3.0, 10.0))
    assert bounded.log_likelihood_ >= reference - 1e-6
    np.testing.assert_allclose(bounded.params_, params, rtol=1e-4)
    # Delta method from θ = (ln p, ln(q − 1), ln v): Cov(p, q, v) = J Cov(θ) J, J = diag(∂/∂θ),
    # Cov(θ) the inverse of the negative log-likelihood's Hessian in θ (central differences).
    p, q, v = bounded.params_[["p", "q", "v"]]
    theta = np.array([np.log(p), np.log(q - 1), np.log(v)])

    def negative(t):
        return -spend_log_likelihood((np.exp(t[0]), 1 + np.exp(t[1]), np.exp(t[2])), x, m)

    h = 1e-4
    hessian = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            step_i, step_j = np.eye(3)[i] * h, np.eye(3)[j] * h
            hessian[i, j] = (negative(theta + step_i + step_j) - negative(theta + step_i - step_j)
                             - negative(theta - step_i + step_j) + negative(theta - step_i - step_j)) / (4 * h * h)
    jacobian = np.diag([p, q - 1, v])
    covariance = jacobian @ np.linalg.inv(hessian) @ jacobian
    np.testing.assert_allclose(bounded.standard_errors_[["p", "q", "v"]], np.sqrt(np.diag(covariance)),
                               rtol=1e-4)


def test_constraint_accepts_a_start_below_the_bound_and_rejects_bad_bounds():
    x, m = simulate_spend(2_000, 6.25, 3.74, 15.44, seed=5)
    fitted = crmkit.GammaGammaFitter().fit(x, m, q_constraint=True, initial_params=[1.0, 0.5, 10.0])
    reference = crmkit.GammaGammaFitter().fit(x, m)
    np.testing.assert_allclose(fitted.params_, reference.params_, rtol=1e-6)
    options = crmkit._core.clv.FitOptions(lower_bounds=[0.0, 1.0])
    with pytest.raises(ValueError, match="lower_bounds"):
        crmkit._core.clv.fit_gamma_gamma(x, m, np.empty(0), options)
    options = crmkit._core.clv.FitOptions(lower_bounds=[0.0, -1.0, 0.0])
    with pytest.raises(ValueError, match=r"lower_bounds\[1\] = -1"):
        crmkit._core.clv.fit_gamma_gamma(x, m, np.empty(0), options)


def test_a_tolerance_below_the_rounding_floor_stops_there_instead_of_running_bfgs():
    # bench_clv's "many repeat buyers" at 10^6 rows: at tol = 1e-8 the gradient of the mean
    # log-likelihood stays at ~4e-8 (the rounding of sums over 10^6 rows), where Newton's steps no
    # longer change f; the fit used to hand over to BFGS over all rows then (1,002 evaluations).
    x, m = simulate_spend(1_000_000, 6.25, 3.74, 15.44, seed=2024)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        tight = crmkit.GammaGammaFitter().fit(x, m, tol=1e-8)
    default = crmkit.GammaGammaFitter().fit(x, m)
    assert tight.convergence_["converged"]
    assert tight.convergence_["evaluations"] < 100
    np.testing.assert_allclose(tight.params_, default.params_, rtol=1e-6)
    if tight.convergence_["gradient_norm"] > 1e-8:
        assert "rounding floor" in tight.convergence_["status"]
