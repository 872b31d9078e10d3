"""crmkit's BTYD fits and predictions against lifetimes 0.11.3 on the same simulated customers in
the same run.

The peer is lifetimes itself, imported from its source (benchmarks/lifetimes_peer.py says how,
and what stands in for dill), called as its documentation shows: ``fit(frequency, recency, T)``
with the defaults, predictions on pandas Series. Both sides compute the standard errors where
lifetimes does (BG/NBD and Gamma-Gamma: autograd's Hessian; lifetimes' Pareto/NBD has none, crmkit's
Pareto/NBD time includes them). Every line checks that the two answers agree. Times are the best
of several repeats for crmkit and of ``--peer-repeats`` for lifetimes (the machine is shared); the
load average is printed with them.

Data shapes (``--sizes`` customers each):
- BG/NBD customers at CDNOW's estimates with continuous ages on (0, 39] weeks, and the same
  customers "dated" (T and t_x in whole days / 7, so that many share (x, T));
- Pareto/NBD customers at CDNOW's Pareto/NBD estimates, continuous ages (every row distinct);
- Gamma-Gamma spend: "many repeat buyers" (x = 1 + Poisson(2) for every customer) and
  "CDNOW-like" (the repeat buyers of the BG/NBD customers above, most with x = 1 or 2).

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/bench_clv.py [--sizes 1000000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

import crmkit
import lifetimes_peer

TRUE_BG = (0.243, 4.414, 0.793, 2.426)  # CDNOW estimates (FHL 2005)
TRUE_PARETO = (0.5533, 10.5776, 0.6062, 11.6679)  # CDNOW Pareto/NBD estimates (issue 12)
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


def simulate_pareto_nbd(n, rng, r, alpha, s, beta, max_age=39.0):
    """Pareto/NBD customers: Poisson purchases at λ ~ Gamma(r, α) until min(death, T), death
    exponential at μ ~ Gamma(s, β); the last of x uniform purchase times is end·Beta(x, 1)."""
    T = max_age * (1 - rng.random(n))
    end = np.minimum(T, rng.exponential(1 / rng.gamma(s, 1 / beta, n)))
    x = rng.poisson(rng.gamma(r, 1 / alpha, n) * end).astype(float)
    tx = np.where(x > 0, end * rng.beta(np.maximum(x, 1), 1), 0.0)
    return x, tx, T


def spend_of(x, rng, p, q, v):
    """Mean spend of customers with x repeat purchases under the Gamma-Gamma model."""
    nu = rng.gamma(q, 1 / v, len(x))
    return rng.gamma(p * x, 1 / (x * nu))


def dated(x, tx, T):
    """The same customers as a log with daily dates summarised in weeks: T and t_x in whole days
    / 7 (a repeat purchase at least one day after the first), so that many share (x, T)."""
    T_days = np.ceil(T * 7)
    tx_days = np.where(x > 0, np.clip(np.floor(tx * 7), 1, T_days), 0)
    return tx_days / 7, T_days / 7


def best_of(repeats, function):
    best, value = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def max_relative(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    return float(np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-300)))


class Table:
    def __init__(self, args):
        self.args = args
        print(f"{'task':<44}{'n':>9}{'crmkit s':>11}{'lifetimes s':>13}{'ratio':>8}  agreement (load)")

    def row(self, task, n, ours, theirs, agreement):
        ratio = theirs[0] / ours[0]
        load = os.getloadavg()[0]
        print(f"{task:<44}{n:>9}{ours[0]:>11.4f}{theirs[0]:>13.3f}{ratio:>8.1f}  {agreement} "
              f"(load {load:.1f})", flush=True)
        return ours[1], theirs[1]

    def time_both(self, task, n, ours, theirs, agreement):
        mine = best_of(self.args.repeats, ours)
        peer = best_of(self.args.peer_repeats, theirs)
        return self.row(task, n, mine, peer, agreement(mine[1], peer[1]))


def fit_agreement(names):
    def agreement(ours, theirs):
        ours_params = ours.params_[names].to_numpy()
        theirs_params = theirs.params_[names].to_numpy()
        return f"params rel {max_relative(ours_params, theirs_params):.1e}"
    return agreement


def bench_transactions(table, lt, n, x, tx, T, label):
    """BG/NBD fit (continuous shape only) and the three predictions."""
    frame = pd.DataFrame({"frequency": x, "recency": tx, "T": T})
    f, r, age = frame["frequency"], frame["recency"], frame["T"]
    if label == "":
        names = ["r", "alpha", "a", "b"]
        ours, theirs = table.time_both(
            "BG/NBD fit + SEs", n, lambda: crmkit.BetaGeoFitter().fit(f, r, age),
            lambda: lt.BetaGeoFitter().fit(f, r, age), fit_agreement(names))
    else:
        ours, theirs = table.models
    table.models = ours, theirs
    theirs = lt.BetaGeoFitter()
    theirs.params_ = pd.Series(ours.params_.to_numpy(), index=["r", "alpha", "a", "b"])
    theirs.predict = theirs.conditional_expected_number_of_purchases_up_to_time

    rel = lambda a, b: f"max rel {max_relative(a, b):.1e}"
    table.time_both("BG/NBD P(alive)" + label, n, lambda: ours.conditional_probability_alive(f, r, age),
                    lambda: theirs.conditional_probability_alive(f, r, age), rel)
    table.time_both(
        "BG/NBD conditional expected (39 wk)" + label, n,
        lambda: ours.conditional_expected_number_of_purchases_up_to_time(39.0, f, r, age),
        lambda: theirs.conditional_expected_number_of_purchases_up_to_time(39.0, f, r, age), rel)
    gg = crmkit.GammaGammaFitter.from_params(dict(zip("pqv", TRUE_GG)))
    gg_peer = lt.GammaGammaFitter()
    gg_peer.params_ = pd.Series(TRUE_GG, index=["p", "q", "v"])
    spend = pd.Series(np.where(x > 0, 20.0, 0.0), index=frame.index)
    table.time_both(
        "BG/NBD 12-month CLV (GG, weekly)" + label, n,
        lambda: gg.customer_lifetime_value(ours, f, r, age, spend, time=12, freq="W"),
        lambda: gg_peer.customer_lifetime_value(theirs, f, r, age, spend, time=12, freq="W"), rel)


def bench_pareto(table, lt, n, rng):
    x, tx, T = simulate_pareto_nbd(n, rng, *TRUE_PARETO)
    f, r, age = pd.Series(x), pd.Series(tx), pd.Series(T)

    def peer():
        np.random.seed(0)  # lifetimes starts Nelder-Mead at a random point
        return lt.ParetoNBDFitter().fit(f, r, age)

    def agreement(ours, theirs):
        # lifetimes' value is −Σ w·ℓ / mean(w) in time scaled by 1/max T (weights 1 here).
        theirs_ll = -theirs._negative_log_likelihood_ + np.sum(x) * np.log(1 / T.max())
        return (f"params rel {max_relative(ours.params_.to_numpy(), theirs.params_.to_numpy()):.1e}, "
                f"LL crmkit − lifetimes {ours.log_likelihood_ - theirs_ll:+.2e}")

    ours, theirs = table.time_both("Pareto/NBD fit (+ SEs in crmkit)", n,
                                   lambda: crmkit.ParetoNBDFitter().fit(f, r, age), peer, agreement)
    return ours, theirs


def bench_gamma_gamma(table, lt, n, x, m, label):
    names = ["p", "q", "v"]

    def agreement(ours, theirs):
        return (f"{fit_agreement(names)(ours, theirs)}, {len(x)} repeat buyers, "
                f"{np.mean(x <= 2):.0%} with x <= 2")

    xs, ms = pd.Series(x), pd.Series(m)
    table.time_both(f"Gamma-Gamma fit + SEs, {label}", n,
                    lambda: crmkit.GammaGammaFitter().fit(xs, ms),
                    lambda: lt.GammaGammaFitter().fit(xs, ms), agreement)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeats", type=int, default=5, help="crmkit repeats (best is kept)")
    parser.add_argument("--peer-repeats", type=int, default=1)
    parser.add_argument("--skip-pareto", action="store_true",
                        help="leave out the Pareto/NBD fit (lifetimes takes minutes at 1e6)")
    parser.add_argument("--lifetimes-git", help="git directory of a lifetimes clone")
    parser.add_argument("--autograd-git", help="git directory of an autograd clone")
    args = parser.parse_args()
    lt = lifetimes_peer.load(args.lifetimes_git, args.autograd_git)
    print(f"crmkit {crmkit.__version__}, {crmkit.num_threads()} threads; lifetimes {lt.__version__} "
          f"from source (numpy {np.__version__}, pandas {pd.__version__}); "
          f"load {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    table = Table(args)
    for n in args.sizes:
        rng = np.random.default_rng(2024)
        x, tx, T = simulate_bg_nbd(n, rng, *TRUE_BG)
        bench_transactions(table, lt, n, x, tx, T, "")
        bench_transactions(table, lt, n, x, *dated(x, tx, T), ", dated")
        xs = 1.0 + rng.poisson(2.0, n)
        bench_gamma_gamma(table, lt, n, xs, spend_of(xs, rng, *TRUE_GG), "many repeat buyers")
        repeat = x[x > 0]
        bench_gamma_gamma(table, lt, n, repeat, spend_of(repeat, rng, *TRUE_GG), "CDNOW-like")
        if not args.skip_pareto:
            bench_pareto(table, lt, n, rng)


if __name__ == "__main__":
    main()
