"""Per-customer summary of a 10-million-row log held in memory: crmkit against pandas.

Both sides compute lifetimes' summary (daily periods, weekly units: freq="D",
freq_multiplier=7, observation end = the last date) on the same DataFrame in the same run:
pandas with a straightforward groupby implementation, crmkit with
`summary_data_from_transaction_data`. The script checks that the answers agree, prints the best
of `--repeats` timings and their ratio, then measures crmkit's peak resident memory in a fresh
process that holds only the input columns.

Usage: /usr/bin/python3 benchmarks/bench_summary.py [--customers 900000] [--repeats 3]
(with crmkit importable: pip-installed, or PYTHONPATH=<build>/python).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import crmkit

COLUMNS = ["customer_id", "date", "amount"]


def make_log(customers: int, seed: int) -> pd.DataFrame:
    """About 11 rows per customer over two years (BG/NBD + Gamma-Gamma), sorted by date."""
    log, _ = crmkit.simulate_transactions(
        customers, r=1.0, alpha=3.0, a=0.8, b=6.0, freq="W", acquisition_periods=52, horizon=104, seed=seed
    )
    order = np.argsort(log["date"].to_numpy(), kind="stable")
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
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.memory_child:
        memory_child(arguments.memory_child)
        return

    log = make_log(arguments.customers, arguments.seed)
    print(f"log: {len(log):,} rows, {log['customer_id'].nunique():,} customers, "
          f"{log['date'].min():%Y-%m-%d} to {log['date'].max():%Y-%m-%d}; crmkit threads: {crmkit.num_threads()}")

    ours, theirs = crmkit_summary(log), pandas_summary(log)
    assert ours.index.equals(theirs.index)
    np.testing.assert_array_equal(ours["frequency"], theirs["frequency"])
    for column in ["recency", "T", "monetary_value"]:
        np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-9, atol=1e-9, err_msg=column)

    pandas_seconds = best_of(arguments.repeats, pandas_summary, log)
    crmkit_seconds = best_of(arguments.repeats, crmkit_summary, log)
    print(f"pandas groupby : {pandas_seconds:8.3f} s (best of {arguments.repeats})")
    print(f"crmkit         : {crmkit_seconds:8.3f} s (best of {arguments.repeats})")
    print(f"ratio          : {pandas_seconds / crmkit_seconds:8.1f}x faster")

    with tempfile.TemporaryDirectory() as folder:
        for column in COLUMNS:
            np.save(Path(folder) / f"{column}.npy", log[column].to_numpy())
        del log, ours, theirs
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
