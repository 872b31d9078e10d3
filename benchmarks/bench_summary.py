"""Per-customer summary of a 10-million-row log held in memory: crmkit against pandas and numpy.

Every side computes lifetimes' summary (daily periods, weekly units: freq="D",
freq_multiplier=7, observation end = the last date) on the same DataFrame in the same run:
pandas with a straightforward groupby implementation, plain numpy with one argsort of a
(customer, day) key and `np.add.reduceat` (single thread; the fast formulation of issue #17),
crmkit with `summary_data_from_transaction_data`. The script checks that the answers agree,
prints the best of `--repeats` timings and the ratios, and the memory-bandwidth floor measured
in the same run: the time to read the three input columns once, on one thread and split over
two (benchkit.read_floor). It then measures crmkit's peak resident memory in a fresh process
that holds only the input columns.

Usage: /usr/bin/python3 benchmarks/bench_summary.py [--customers 900000] [--repeats 3]
[--order time|customer|shuffled]
(with crmkit importable: pip-installed, or PYTHONPATH=<build>/python).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import crmkit
from benchkit import Timing, floor_row, print_environment, row, write_rows

COLUMNS = ["customer_id", "date", "amount"]


def make_log(customers: int, seed: int, row_order: str = "time") -> pd.DataFrame:
    """About 11 rows per customer over two years (BG/NBD + Gamma-Gamma), in `row_order`: "time"
    (by date, as a log is written; the default), "customer" (by customer, then date, as a
    customer-sorted export) or "shuffled" (no order)."""
    log, _ = crmkit.simulate_transactions(
        customers, r=1.0, alpha=3.0, a=0.8, b=6.0, freq="W", acquisition_periods=52, horizon=104, seed=seed
    )
    if row_order == "time":
        order = np.argsort(log["date"].to_numpy(), kind="stable")
    elif row_order == "customer":
        order = np.lexsort((log["date"].to_numpy(), log["customer_id"].to_numpy()))
    else:
        order = np.random.default_rng(seed).permutation(len(log))
    return pd.DataFrame({column: log[column].to_numpy()[order] for column in COLUMNS})


def pandas_summary(log: pd.DataFrame) -> pd.DataFrame:
    """The same semantics in plain pandas: floor to days, merge days, aggregate per customer."""
    day = log["date"].dt.floor("D")
    end = day.max()
    per_day = (
        pd.DataFrame({"customer_id": log["customer_id"], "day": day, "amount": log["amount"]})
        .groupby(["customer_id", "day"], sort=True)["amount"]
        .sum()
        .reset_index()
    )
    grouped = per_day.groupby("customer_id", sort=True)
    first, last, count = grouped["day"].first(), grouped["day"].last(), grouped.size()
    repeat_spend = grouped["amount"].sum() - grouped["amount"].first()
    week = pd.Timedelta(days=7)
    return pd.DataFrame(
        {
            "frequency": (count - 1).astype(float),
            "recency": (last - first) / week,
            "T": (end - first) / week,
            "monetary_value": np.where(count > 1, repeat_spend / (count - 1).clip(lower=1), 0.0),
        }
    )


NANOSECONDS_PER_DAY = 86_400 * 10**9


def numpy_summary(log: pd.DataFrame) -> pd.DataFrame:
    """The same semantics in plain numpy: one argsort of a (customer, day) key, then reduceat."""
    customer = log["customer_id"].to_numpy()
    day = log["date"].to_numpy().view(np.int64) // NANOSECONDS_PER_DAY
    amount = log["amount"].to_numpy()
    first_customer, first_day, end = customer.min(), day.min(), day.max()
    days = end - first_day + 1
    key = (customer - first_customer) * days + (day - first_day)
    order = np.argsort(key)
    key, amount = key[order], amount[order]
    period_start = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    totals = np.add.reduceat(amount, period_start)
    period_key = key[period_start]
    period_customer, period_day = np.divmod(period_key, days)
    customer_start = np.flatnonzero(np.concatenate(([True], period_customer[1:] != period_customer[:-1])))
    count = np.diff(np.append(customer_start, len(period_key)))
    first = period_day[customer_start]
    last = period_day[np.append(customer_start[1:], len(period_key)) - 1]
    totals[customer_start] = 0.0  # the first purchase period is not a repeat purchase
    repeat_spend = np.add.reduceat(totals, customer_start)
    frequency = (count - 1).astype(float)
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first) / 7.0,
            "T": (end - first_day - first) / 7.0,
            "monetary_value": np.where(count > 1, repeat_spend / np.maximum(frequency, 1.0), 0.0),
        },
        index=pd.Index(period_customer[customer_start] + first_customer, name="customer_id"),
    )


def crmkit_summary(log: pd.DataFrame) -> pd.DataFrame:
    return crmkit.summary_data_from_transaction_data(
        log, "customer_id", "date", "amount", freq="D", freq_multiplier=7
    )


def best_of(repeats: int, function, *arguments) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*arguments)
        times.append(time.perf_counter() - start)
    return min(times)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(folder: str) -> None:
    """In a fresh process: load the columns, reset the peak-RSS mark, summarise, report."""
    log = pd.DataFrame({column: np.load(Path(folder) / f"{column}.npy") for column in COLUMNS}, copy=False)
    input_bytes = int(sum(log[column].to_numpy().nbytes for column in COLUMNS))
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux)
    summary = crmkit_summary(log)
    peak = _status_kib("VmHWM")
    print(json.dumps({"input_bytes": input_bytes, "rss_before_kib": before, "peak_kib": peak,
                      "customers": len(summary)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=900_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--order", choices=["time", "customer", "shuffled"], default="time",
                        help="row order of the log (default: by date, as logs are written)")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 customers, one repeat")
    parser.add_argument("--json", help="append result rows (JSON lines) to this file")
    arguments = parser.parse_args()
    if arguments.memory_child:
        memory_child(arguments.memory_child)
        return
    if arguments.quick:
        arguments.customers, arguments.repeats = 20_000, 1
    env = print_environment()

    log = make_log(arguments.customers, arguments.seed, arguments.order)
    print(f"log: {len(log):,} rows in {arguments.order} order, {log['customer_id'].nunique():,} customers, "
          f"{log['date'].min():%Y-%m-%d} to {log['date'].max():%Y-%m-%d}; crmkit threads: {crmkit.num_threads()}")

    ours = crmkit_summary(log)
    for peer in [pandas_summary(log), numpy_summary(log)]:
        assert ours.index.equals(peer.index)
        np.testing.assert_array_equal(ours["frequency"], peer["frequency"])
        for column in ["recency", "T", "monetary_value"]:
            np.testing.assert_allclose(ours[column], peer[column], rtol=1e-9, atol=1e-9, err_msg=column)
    del peer

    columns = [log["customer_id"].to_numpy(), log["date"].to_numpy().view(np.int64), log["amount"].to_numpy()]
    repeats = arguments.repeats
    pandas_seconds = best_of(repeats, pandas_summary, log)
    numpy_seconds = best_of(repeats, numpy_summary, log)
    crmkit_seconds = best_of(max(repeats, 5), crmkit_summary, log)
    crmkit_timing = Timing([crmkit_seconds])
    print(f"pandas groupby : {pandas_seconds:8.3f} s (best of {repeats})")
    print(f"numpy argsort  : {numpy_seconds:8.3f} s (best of {repeats}; one thread)")
    print(f"crmkit         : {crmkit_seconds:8.3f} s (best of {max(repeats, 5)}; {crmkit.num_threads()} threads)")
    print(f"vs pandas      : {pandas_seconds / crmkit_seconds:8.1f}x faster")
    print(f"vs numpy       : {numpy_seconds / crmkit_seconds:8.1f}x faster (target >= 20x)")
    case = f"summary, {len(log):,} rows" + ("" if arguments.order == "time" else f" in {arguments.order} order") + " (best of runs)"
    floor = floor_row("summary", case, columns, crmkit_timing, max(repeats, 5) * 3, 0.2)
    print(f"load average   : {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")
    write_rows(arguments.json, env, [
        row("summary", case, "numpy argsort + reduceat", Timing([numpy_seconds]), crmkit_timing, 20.0),
        row("summary", case, "pandas groupby", Timing([pandas_seconds]), crmkit_timing),
        floor])

    with tempfile.TemporaryDirectory() as folder:
        for column in COLUMNS:
            np.save(Path(folder) / f"{column}.npy", log[column].to_numpy())
        del log, ours, columns
        child = subprocess.run([sys.executable, __file__, "--memory-child", folder],
                               capture_output=True, text=True, check=True)
    memory = json.loads(child.stdout)
    input_mib = memory["input_bytes"] / 2**20
    print(f"memory         : input columns {input_mib:.0f} MiB; process RSS before the call "
          f"{memory['rss_before_kib'] / 1024:.0f} MiB, peak during it {memory['peak_kib'] / 1024:.0f} MiB "
          f"= {memory['peak_kib'] * 1024 / memory['input_bytes']:.2f}x the input "
          f"(crmkit's own increase {(memory['peak_kib'] - memory['rss_before_kib']) / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
