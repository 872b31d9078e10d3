"""Two crmkit builds side by side in the same run (issue 13's "no slowdown"): BG/NBD +
Gamma-Gamma at 10⁶ simulated CDNOW-like customers, and the summary of a 10⁷-row log.

Each build runs in its own interpreter (``--baseline-python`` with the older crmkit installed,
``--python`` with the current one, default this interpreter), in alternating rounds
(baseline, current, baseline, ...), each round a fresh process timing every task best of
``--repeats``; the table gives each build's best and median round and the ratio of the bests.
Both sides compute on the same data (numpy's default_rng with fixed seeds, generated in the
worker) and the worker prints a checksum of each answer, which must agree between builds. The
load average is printed with every round: on a shared machine only same-run ratios mean
anything.

    /usr/bin/python3 benchmarks/bench_clv_side.py --baseline-python <venv>/bin/python \\
        [--python .venv/bin/python] [--rounds 3] [--repeats 5] [--tasks clv summary]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CLV_TASKS = ["bg_nbd fit", "gamma_gamma fit", "p_alive", "expected purchases", "clv 12 months"]


def clv_data(n: int):
    """BG/NBD customers at CDNOW's estimates, continuous ages on (0, 39] weeks, Gamma-Gamma spend."""
    import numpy as np

    rng = np.random.default_rng(0)
    T = 39.0 * (1 - rng.random(n))
    lam = rng.gamma(0.243, 1 / 4.414, n)
    p = rng.beta(0.793, 2.426, n)
    arrivals = rng.poisson(lam * T)
    x = np.minimum(rng.geometric(p), arrivals).astype(float)
    tx = np.zeros(n)
    has = x > 0
    tx[has] = T[has] * rng.beta(x[has], arrivals[has] - x[has] + 1)
    m = np.where(has, rng.gamma(6.25, 1 / 3.74, n) * 15.44 / 4, 0.0)
    return x, tx, T, m, has


def summary_log(rows: int, customers: int):
    """A log of `rows` purchases by `customers` customers over two years, sorted by date."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    seconds = np.sort(rng.integers(0, 2 * 365 * 86400, rows))
    dates = np.datetime64("2024-01-01", "ns") + seconds.astype("timedelta64[s]")
    return pd.DataFrame({"customer_id": rng.integers(0, customers, rows), "date": dates,
                         "amount": np.round(rng.gamma(2.0, 20.0, rows), 2)})


def best_of(repeats: int, function):
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def checksum(value) -> str:
    import numpy as np

    if hasattr(value, "params_"):
        return " ".join(f"{v:.6g}" for v in value.params_.to_numpy())
    array = np.asarray(value, dtype=float)
    return f"{float(np.sum(array)):.10g}"


def worker(tasks: list[str], n: int, rows: int, repeats: int) -> dict:
    import numpy as np
    import crmkit

    results = {"crmkit": (0.0, crmkit.__file__)}
    if "clv" in tasks:
        x, tx, T, m, has = clv_data(n)
        bgf = crmkit.BetaGeoFitter().fit(x, tx, T)
        ggf = crmkit.GammaGammaFitter().fit(x[has], m[has])
        spend = np.where(has, m, 1.0)
        work = {
            "bg_nbd fit": lambda: crmkit.BetaGeoFitter().fit(x, tx, T),
            "gamma_gamma fit": lambda: crmkit.GammaGammaFitter().fit(x[has], m[has]),
            "p_alive": lambda: bgf.conditional_probability_alive(x, tx, T),
            "expected purchases":
                lambda: bgf.conditional_expected_number_of_purchases_up_to_time(10, x, tx, T),
            "clv 12 months":
                lambda: ggf.customer_lifetime_value(bgf, x, tx, T, spend, time=12, freq="W"),
        }
        for name, function in work.items():
            seconds, value = best_of(repeats, function)
            results[name] = (seconds, checksum(value))
    if "summary" in tasks:
        log = summary_log(rows, rows // 11)
        seconds, value = best_of(repeats, lambda: crmkit.summary_data_from_transaction_data(
            log, "customer_id", "date", monetary_value_col="amount", freq="D", freq_multiplier=7))
        results["summary 1e7 rows"] = (seconds, checksum(value[["frequency", "recency", "T"]].to_numpy()))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-python", required=True,
                        help="interpreter with the baseline crmkit installed")
    parser.add_argument("--python", default=sys.executable, help="interpreter with the current crmkit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the summary's log")
    parser.add_argument("--tasks", nargs="+", default=["clv", "summary"], choices=["clv", "summary"])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.tasks, args.customers, args.rows, args.repeats)))
        return
    sides = {"baseline": args.baseline_python, "current": args.python}
    times: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
    answers: dict[str, dict[str, str]] = {side: {} for side in sides}
    command = [os.path.abspath(__file__), "--worker", "--baseline-python", "-", "--repeats",
               str(args.repeats), "--customers", str(args.customers), "--rows", str(args.rows),
               "--tasks", *args.tasks]
    # The baseline's interpreter must import its own crmkit, not one put first by PYTHONPATH.
    environments = {"baseline": {k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
                    "current": dict(os.environ)}
    for round_ in range(args.rounds):
        for side, python in sides.items():
            output = subprocess.run([python, *command], check=True, capture_output=True, text=True,
                                    cwd="/", env=environments[side]).stdout
            result = json.loads(output.splitlines()[-1])
            print(f"round {round_ + 1} {side:<8} imports {result.pop('crmkit')[1]}")
            for task, (seconds, answer) in result.items():
                times[side].setdefault(task, []).append(seconds)
                answers[side][task] = answer
            print(f"round {round_ + 1} {side:<8} load {os.getloadavg()[0]:.1f}: " +
                  ", ".join(f"{task} {seconds:.4f}" for task, (seconds, _) in result.items()),
                  flush=True)
    print(f"\n{'task':<22}{'baseline best / median':>26}{'current best / median':>26}"
          f"{'current/baseline':>18}  answers")
    for task in times["baseline"]:
        base, current = times["baseline"][task], times["current"][task]
        same = "same" if answers["baseline"][task] == answers["current"][task] else (
            f"DIFFER: {answers['baseline'][task]} vs {answers['current'][task]}")
        print(f"{task:<22}{min(base):>13.4f} / {statistics.median(base):<10.4f}"
              f"{min(current):>13.4f} / {statistics.median(current):<10.4f}"
              f"{min(current) / min(base):>16.3f}  {same}")


if __name__ == "__main__":
    main()
