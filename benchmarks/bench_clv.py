"""crmkit's BG/NBD and Gamma-Gamma against a plain numpy/scipy implementation of the same
likelihoods, on the same simulated customers in the same run.

The peer is what a careful user writes without crmkit: the lifetimes likelihood (log-space,
time rescaled to max T = 1) minimised by ``scipy.optimize.minimize`` with its default method
(BFGS) and its default numerical gradient, standard errors from the BFGS inverse-Hessian
estimate. crmkit's timings include compression, the fit and the standard errors (observed
information). Times are the best of several repeats (the machine is shared).

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/bench_clv.py [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

import crmkit

TRUE_BG = (0.243, 4.414, 0.793, 2.426)  # CDNOW estimates (FHL 2005)
TRUE_GG = (6.25, 3.74, 15.44)  # CDNOW spend (note 025)


def simulate_bg_nbd(n, rng, r, alpha, a, b, max_age=39.0):
    """Continuous-time BG/NBD customers (FHL 2005 §3), ages uniform on (0, max_age]."""
    T = max_age * (1 - rng.random(n))
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    lifetime = rng.geometric(p)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(lifetime, arrivals)
    tx = np.zeros(n)
    has = x > 0
    tx[has] = T[has] * rng.beta(x[has], arrivals[has] - x[has] + 1)
    return x.astype(float), tx, T


def simulate_spend(n, rng, p, q, v):
    """Repeat customers' (x >= 1, mean spend) under the Gamma-Gamma model."""
    x = 1 + rng.poisson(2.0, n)
    nu = rng.gamma(q, 1 / v, n)
    return x.astype(float), rng.gamma(p * x, 1 / (x * nu))


def scipy_bg_nbd(x, tx, T):
    scale = 1 / T.max()
    tx_s, T_s = tx * scale, T * scale

    def nll(log_params):
        r, alpha, a, b = np.exp(log_params)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + T_s)
        a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(tx_s + alpha)
        return -np.mean(a1 + a2 + np.logaddexp(a3, np.where(x > 0, a4, -np.inf)))

    result = minimize(nll, 0.1 * np.ones(4))
    params = np.exp(result.x)
    se = params * np.sqrt(np.diag(result.hess_inv) / len(x))
    params[1] /= scale
    se[1] /= scale
    ll = -nll(result.x) * len(x) + np.sum(x) * np.log(scale)
    return params, se, ll


def scipy_gamma_gamma(x, m):
    def nll(log_params):
        p, q, v = np.exp(log_params)
        ll = (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
              + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(x * m + v))
        return -np.mean(ll)

    result = minimize(nll, 0.1 * np.ones(3))
    params = np.exp(result.x)
    se = params * np.sqrt(np.diag(result.hess_inv) / len(x))
    return params, se, -nll(result.x) * len(x)


def scipy_conditional_expectation(params, t, x, tx, T):
    """lifetimes' BG/NBD conditional expectation with scipy's hyp2f1 (its overflow fallback)."""
    r, alpha, a, b = params
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        log_hyp = np.log(hyp2f1(r + x, b + x, a + b + x - 1, z))
        alternative = np.log(hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)) + (a - 1 - r - x) * np.log(1 - z)
    log_hyp = np.where(np.isinf(log_hyp), alternative, log_hyp)
    first = (a + b + x - 1) / (a - 1)
    second = 1 - np.exp(log_hyp + (r + x) * np.log((alpha + T) / (alpha + t + T)))
    return first * second / (1 + (x > 0) * (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x))


def dated(x, tx, T):
    """The same customers as a log with daily dates summarised in weeks: T and t_x in whole days
    / 7 (a repeat purchase at least one day after the first), so that many share (x, T)."""
    T_days = np.ceil(T * 7)
    tx_days = np.where(x > 0, np.clip(np.floor(tx * 7), 1, T_days), 0)
    return tx_days / 7, T_days / 7


def time_predictions(model, gg, n, x, tx, T, repeats, label):
    ours_time, _ = best_of(repeats, lambda: model.conditional_probability_alive(x, tx, T))
    print(f"{'P(alive)' + label:<34}{n:>10}{ours_time:>12.4f}")
    ours_time, _ = best_of(repeats, lambda: model.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T))
    print(f"{'conditional expected' + label:<34}{n:>10}{ours_time:>12.4f}")
    spend = gg.conditional_expected_average_profit(x, np.where(x > 0, 20.0, 0.0))
    ours_time, _ = best_of(repeats, lambda: model.customer_lifetime_value(x, tx, T, spend, time=12, freq="W"))
    print(f"{'CLV (12 monthly DCF steps)' + label:<34}{n:>10}{ours_time:>12.4f}")


def best_of(repeats, function):
    best, value = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=5, help="crmkit repeats (best is kept)")
    parser.add_argument("--peer-repeats", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(2024)
    print(f"crmkit {crmkit.__version__}, {crmkit.num_threads()} threads")
    print(f"{'task':<34}{'n':>10}{'crmkit s':>12}{'scipy s':>12}{'ratio':>9}  agreement")
    for n in args.sizes:
        x, tx, T = simulate_bg_nbd(n, rng, *TRUE_BG)
        ours_time, model = best_of(args.repeats, lambda: crmkit.BetaGeoFitter().fit(x, tx, T))
        peer_time, (params, se, ll) = best_of(args.peer_repeats, lambda: scipy_bg_nbd(x, tx, T))
        rel = np.max(np.abs(model.params_.to_numpy() / params - 1))
        print(f"{'BG/NBD fit + SEs':<34}{n:>10}{ours_time:>12.4f}{peer_time:>12.3f}"
              f"{peer_time / ours_time:>9.1f}  params rel {rel:.1e}, LL diff "
              f"{model.log_likelihood_ - ll:+.2e} (patterns {model.convergence_['patterns']})")

        xs, ms = simulate_spend(n, rng, *TRUE_GG)
        ours_time, gg = best_of(args.repeats, lambda: crmkit.GammaGammaFitter().fit(xs, ms))
        peer_time, (gparams, gse, gll) = best_of(args.peer_repeats, lambda: scipy_gamma_gamma(xs, ms))
        rel = np.max(np.abs(gg.params_.to_numpy() / gparams - 1))
        print(f"{'Gamma-Gamma fit + SEs':<34}{n:>10}{ours_time:>12.4f}{peer_time:>12.3f}"
              f"{peer_time / ours_time:>9.1f}  params rel {rel:.1e}, LL diff {gg.log_likelihood_ - gll:+.2e}")

        theta = model.params_.to_numpy()
        ours_time, cet = best_of(args.repeats, lambda: model.conditional_expected_number_of_purchases_up_to_time(39.0, x, tx, T))
        peer_time, peer_cet = best_of(args.peer_repeats, lambda: scipy_conditional_expectation(theta, 39.0, x, tx, T))
        finite = np.isfinite(peer_cet)
        rel = np.max(np.abs(cet[finite] / peer_cet[finite] - 1))
        print(f"{'conditional expected purchases':<34}{n:>10}{ours_time:>12.4f}{peer_time:>12.3f}"
              f"{peer_time / ours_time:>9.1f}  max rel {rel:.1e}, scipy non-finite {np.sum(~finite)}")
        time_predictions(model, gg, n, x, tx, T, args.repeats, "")
        # Dated logs: customers share (x, T), whose expensive factor is evaluated once per pair.
        tx_d, T_d = dated(x, tx, T)
        time_predictions(model, gg, n, x, tx_d, T_d, args.repeats, ", dated")


if __name__ == "__main__":
    main()
