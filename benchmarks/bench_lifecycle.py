"""Lifecycle stages of a million customers from a ten-million-row log: crmkit against pandas.

Both sides apply the same documented rules (crmkit.lifecycle's module docstring; daily periods,
default thresholds, population gap computed, as of the last date) to the same DataFrame in the
same run: a vectorised pandas/numpy implementation written here, crmkit with `lifecycle_stages`.
The peer's running median of each customer's earlier gaps (the win-back rule) is computed with
one `np.median` per purchase position over the customers that reach it, not with pandas' `groupby().expanding().median()`, a Python loop
per group in pandas 1.5 that took 80 % of the old peer's time (issue #17; `--slow-peer` times
that old form too). The script checks that every customer gets the same stage, and prints the
medians of `--repeats` interleaved runs with their spread and the ratio.

Usage: /usr/bin/python3 benchmarks/bench_lifecycle.py [--customers 1000000] [--repeats 3]
(with crmkit importable: pip-installed, or PYTHONPATH=<build>/python).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import crmkit
from crmkit.lifecycle import DEFAULT_THRESHOLDS
from benchkit import floor_row, interleaved, print_environment, row, write_rows


def make_log(customers: int, seed: int) -> pd.DataFrame:
    """About 10 rows per customer over two years (BG/NBD + Gamma-Gamma), sorted by date."""
    log, _ = crmkit.simulate_transactions(
        customers, r=1.0, alpha=3.4, a=0.8, b=6.0, freq="W", acquisition_periods=52, horizon=104, seed=seed
    )
    order = np.argsort(log["date"].to_numpy(), kind="stable")
    return pd.DataFrame({c: log[c].to_numpy()[order] for c in ["customer_id", "date", "amount"]})


def earlier_gap_medians(gap: np.ndarray, n: np.ndarray, first_position: int) -> np.ndarray:
    """At purchase position p >= max(2, first_position) of each customer, the median of the
    customer's gaps 1..p-1 (rows grouped by customer, gap[0] of each customer undefined); NaN
    elsewhere. One np.median per position, over the customers that reach it."""
    out = np.full(len(gap), np.nan)
    starts = np.concatenate(([0], np.cumsum(n)[:-1]))
    by_length = np.argsort(-n, kind="stable")
    lengths = n[by_length]
    for position in range(max(2, first_position), int(n.max())):
        reach = starts[by_length[: np.searchsorted(-lengths, -position, side="left")]]
        out[reach + position] = np.median(gap[reach[:, None] + np.arange(1, position)], axis=1)
    return out


def pandas_stages(log: pd.DataFrame, rules: dict, slow: bool = False) -> pd.Series:
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
    if slow:
        earlier = per_day.groupby("id", sort=True)["gap"].expanding().median().to_numpy()
        earlier = pd.Series(earlier).groupby(customer).shift(1).to_numpy()
    else:
        earlier = earlier_gap_medians(gap, n, rules["own_gap_min_purchases"])
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow-peer", action="store_true",
                        help="also time the old peer with groupby().expanding().median()")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 customers, one repeat")
    parser.add_argument("--json", help="append result rows (JSON lines) to this file")
    args = parser.parse_args()
    if args.quick:
        args.customers, args.repeats = 20_000, 1
    env = print_environment()
    log = make_log(args.customers, args.seed)
    print(f"log: {len(log):,} rows, {log['customer_id'].nunique():,} customers; medians of "
          f"{args.repeats} interleaved runs")
    rules = dict(DEFAULT_THRESHOLDS)
    sides = {"crmkit": lambda: crmkit.lifecycle_stages(log, "customer_id", "date", "amount"),
             "vectorised": lambda: pandas_stages(log, rules)}
    if args.slow_peer:
        sides["expanding"] = lambda: pandas_stages(log, rules, slow=True)
    timings, results = interleaved(args.repeats, sides)
    ours = results["crmkit"]["stage"].astype(str).to_numpy()
    for name in sides:
        if name == "crmkit":
            continue
        same = (ours == results[name].to_numpy()).mean()
        print(f"stage agreement with {name}: {same:.6%} of {len(ours):,} customers")
        if same != 1.0:
            raise SystemExit(f"crmkit and the {name} peer disagree")
    print(results["crmkit"]["stage"].value_counts().to_string())
    for name in sides:
        print(f"{name:<11} {timings[name].median:8.3f} s  [{timings[name].spread()} s]")
    ratio = timings["vectorised"].median / timings["crmkit"].median
    print(f"ratio vectorised peer / crmkit: {ratio:8.1f}x (target >= 10x)")
    case = f"stages, {len(log):,} rows"
    write_rows(args.json, env, [
        row("lifecycle", case, "pandas/numpy vectorised", timings["vectorised"], timings["crmkit"], 10.0),
        floor_row("lifecycle", case, [log[column].to_numpy() for column in log.columns], timings["crmkit"],
                  3 * args.repeats)])


if __name__ == "__main__":
    main()
