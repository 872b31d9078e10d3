"""Lifecycle stages of a million customers from a ten-million-row log: crmkit against pandas.

Both sides apply the same documented rules (crmkit.lifecycle's module docstring; daily periods,
default thresholds, population gap computed, as of the last date) to the same DataFrame in the
same run: pandas with a vectorised groupby implementation written here, crmkit with
`lifecycle_stages`. The script checks that every customer gets the same stage, prints the best of
`--repeats` timings and their ratio.

Usage: /usr/bin/python3 benchmarks/bench_lifecycle.py [--customers 1000000] [--repeats 3]
(with crmkit importable: pip-installed, or PYTHONPATH=<build>/python).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import crmkit
from crmkit.lifecycle import DEFAULT_THRESHOLDS


def make_log(customers: int, seed: int) -> pd.DataFrame:
    """About 10 rows per customer over two years (BG/NBD + Gamma-Gamma), sorted by date."""
    log, _ = crmkit.simulate_transactions(
        customers, r=1.0, alpha=3.4, a=0.8, b=6.0, freq="W", acquisition_periods=52, horizon=104, seed=seed
    )
    order = np.argsort(log["date"].to_numpy(), kind="stable")
    return pd.DataFrame({c: log[c].to_numpy()[order] for c in ["customer_id", "date", "amount"]})


def pandas_stages(log: pd.DataFrame, rules: dict) -> pd.Series:
    """The stage rules in plain pandas (days as periods, as of the last date)."""
    day = (log["date"].to_numpy().astype("datetime64[D]")).astype(np.int64)
    end = int(day.max())
    per_day = (
        pd.DataFrame({"id": log["customer_id"].to_numpy(), "day": day, "amount": log["amount"].to_numpy()})
        .groupby(["id", "day"], sort=True)["amount"]
        .sum()
        .reset_index()
    )
    ids, days, spend = per_day["id"].to_numpy(), per_day["day"].to_numpy(), per_day["amount"].to_numpy()
    grouped = per_day.groupby("id", sort=True)
    n = grouped.size().to_numpy()
    first = grouped["day"].first().to_numpy()
    last = grouped["day"].last().to_numpy()
    position = grouped.cumcount().to_numpy()  # 0-based purchase index
    gap = np.where(position > 0, np.diff(days, prepend=days[0]), np.nan)
    per_day["gap"] = gap
    own = per_day.groupby("id", sort=True)["gap"].median().to_numpy()
    population = float(np.median(own[n >= 2]))
    g = np.where(n >= rules["own_gap_min_purchases"], own, population)
    window = np.maximum(rules["min_window"], rules["window_gaps"] * g)
    tenure, recency = end - first, end - last
    defined = tenure + 1 >= 2 * window

    customer = np.repeat(np.arange(len(n)), n)
    row_window = window[customer]
    in_last = days > np.floor(end - row_window)
    in_previous = ~in_last & (days > np.floor(end - 2 * row_window))
    frame = pd.DataFrame({"c": customer, "l": in_last, "p": in_previous,
                          "sl": np.where(in_last, spend, 0.0), "sp": np.where(in_previous, spend, 0.0)})
    sums = frame.groupby("c", sort=True)[["l", "p", "sl", "sp"]].sum()

    def change(current, previous):
        scale = np.maximum(np.abs(current), np.abs(previous))
        return np.divide(current - previous, scale, out=np.zeros_like(scale, dtype=float), where=scale > 0)

    rate = change(sums["l"].to_numpy(float), sums["p"].to_numpy(float))
    spend_trend = change(sums["sl"].to_numpy(), sums["sp"].to_numpy())

    # Win-back: the gap before purchase i exceeds churn_gaps times the typical gap of the
    # purchases before it (own median of the earlier gaps from own_gap_min_purchases on).
    earlier = per_day.groupby("id", sort=True)["gap"].expanding().median().to_numpy()
    earlier = pd.Series(earlier).groupby(customer).shift(1).to_numpy()
    g_before = np.where(position >= rules["own_gap_min_purchases"], earlier, population)
    flag = (position > 0) & (gap - 1 > rules["churn_gaps"] * g_before)
    win_back = pd.Series(np.where(flag, position, 0)).groupby(customer).max().to_numpy()

    d = rules["trend_threshold"]
    conditions = [
        recency > rules["churn_gaps"] * g,
        (recency > rules["at_risk_gaps"] * g) | (defined & ((rate <= -d) | (spend_trend <= -d))),
        (win_back > 0) & (n - win_back <= rules["reactivated_max_purchases"]),
        (n <= rules["new_max_purchases"]) | (tenure < rules["new_tenure_gaps"] * population),
        ~defined | (rate >= d) | (spend_trend >= d) | (n < rules["stable_min_purchases"]),
    ]
    stage = np.select(conditions, ["churned", "at_risk", "reactivated", "new", "developing"], "stable")
    del ids
    return pd.Series(stage, index=grouped.size().index)


def best_of(repeats: int, run):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    log = make_log(args.customers, args.seed)
    print(f"log: {len(log):,} rows, {log['customer_id'].nunique():,} customers, threads {crmkit.get_num_threads()}"
          if hasattr(crmkit, "get_num_threads") else f"log: {len(log):,} rows")
    rules = dict(DEFAULT_THRESHOLDS)
    ours_time, ours = best_of(args.repeats, lambda: crmkit.lifecycle_stages(log, "customer_id", "date", "amount"))
    peer_time, peer = best_of(args.repeats, lambda: pandas_stages(log, rules))
    same = (ours["stage"].astype(str).to_numpy() == peer.to_numpy()).mean()
    print(f"stage agreement: {same:.6%} of {len(peer):,} customers")
    print(ours["stage"].value_counts().to_string())
    print(f"crmkit lifecycle_stages: {ours_time:8.3f} s (best of {args.repeats})")
    print(f"pandas implementation:   {peer_time:8.3f} s (best of {args.repeats})")
    print(f"ratio pandas / crmkit:   {peer_time / ours_time:8.1f}x")
    if same != 1.0:
        raise SystemExit("the two implementations disagree")


if __name__ == "__main__":
    main()
