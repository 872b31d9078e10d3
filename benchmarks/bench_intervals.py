"""Intervals at scale: the customer bootstrap (1,000 refits) and the delta method on 10^6
simulated BG/NBD customers (issue #16: the bootstrap within 2 minutes on 2 cores).

Customers are simulated at CDNOW's BG/NBD estimates (FHL 2005) with ages uniform on (0, 39]
weeks, then dated as a log would date them: recency and age in whole days (/7, the report's
weekly unit) or in whole weeks. The bootstrap resamples the compressed patterns (multinomial
counts) and refits each replicate from the estimate; the delta method computes per-customer and
whole-base intervals of the 39-week expected purchases and of the 12-month CLV (Gamma-Gamma
spend simulated at note 025's estimates; clv::lifetime_value_delta_method, the work shared over
identical (x, t_x, T) histories, as the pipeline's clv_lower / clv_upper columns use it). Times are medians of --repeats runs; the load average
is printed with them (the machine is shared).

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/bench_intervals.py \
        [--customers 1000000] [--draws 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from crmkit import intervals
from crmkit.clv import BetaGeoFitter, GammaGammaFitter

TRUE_BG = (0.243, 4.414, 0.793, 2.426)
TRUE_GG = (6.25, 3.74, 15.44)


def simulate(n, rng, resolution):
    r, alpha, a, b = TRUE_BG
    T = 39.0 * (1 - rng.random(n))
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(rng.geometric(p), arrivals).astype(float)
    tx = np.zeros(n)
    has = x > 0
    tx[has] = T[has] * rng.beta(x[has], arrivals[has] - x[has] + 1)
    T = np.ceil(T * resolution) / resolution
    tx = np.where(has, np.maximum(np.ceil(tx * resolution), 1) / resolution, 0.0)
    tx = np.minimum(tx, T)
    pp, q, v = TRUE_GG
    nu = rng.gamma(q, 1 / v, n)
    m = np.where(has, rng.gamma(pp * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1), 0.0)
    return x, tx, T, m


def timed(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}; CRMKIT_NUM_THREADS = "
          f"{os.environ.get('CRMKIT_NUM_THREADS', 'all cores')}")
    for name, resolution in (("whole weeks", 1.0), ("whole days (/7)", 7.0)):
        rng = np.random.default_rng(16)
        x, tx, T, m = simulate(args.customers, rng, resolution)
        bgf = BetaGeoFitter().fit(x, tx, T)
        repeat = x > 0
        ggf = GammaGammaFitter().fit(x[repeat], m[repeat])
        patterns = bgf.convergence_["patterns"]
        fit_time, _ = timed(lambda: BetaGeoFitter().fit(x, tx, T), args.repeats)
        boot_time, boot = timed(
            lambda: intervals.customer_bootstrap(bgf, draws=args.draws, seed=1), 1)
        print(f"{name}: {args.customers:,} customers, {patterns:,} patterns; one fit "
              f"{fit_time:.3f} s; customer bootstrap of {args.draws} refits {boot_time:.1f} s "
              f"({boot.failed} failed); load {os.getloadavg()[0]:.1f}")
        spread = boot.draws.std() / bgf.standard_errors_
        print(f"  bootstrap sd / standard error: {spread.round(3).to_dict()}")
        delta_time, out = timed(lambda: intervals.expected_purchases(bgf, 39, x, tx, T),
                                args.repeats)
        print(f"  delta method, 39-week expected purchases, per customer + total: "
              f"{delta_time:.2f} s; total {out.total['estimate']:,.0f} "
              f"[{out.total['lower']:,.0f}, {out.total['upper']:,.0f}]")
        clv_time, value = timed(
            lambda: intervals.customer_lifetime_value(bgf, ggf, x, tx, T, m, time=12, freq="W"),
            args.repeats)
        print(f"  delta method, 12-month CLV, per customer + total: {clv_time:.2f} s; total "
              f"{value.total['estimate']:,.0f} [{value.total['lower']:,.0f}, "
              f"{value.total['upper']:,.0f}]")
        boot_value_time, boot_value = timed(
            lambda: intervals.expected_purchases(bgf, 39, x, tx, T, method="customer_bootstrap",
                                                 bootstrap=boot, per_customer=False), 1)
        print(f"  39-week purchases over the {len(boot.draws)} refits (total only): "
              f"{boot_value_time:.1f} s; [{boot_value.total['lower']:,.0f}, "
              f"{boot_value.total['upper']:,.0f}]")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
