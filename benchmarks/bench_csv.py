"""CSV reading: crmkit.read_transactions against pandas.read_csv(parse_dates=...) on the same file.

Writes a log of `--rows` transactions (integer customer ids, ISO dates YYYY-MM-DD, amounts with
two decimals) to a temporary folder once, reads it with both (best of `--repeats`, in the same
run), checks that both give the same frame, and prints the times and the ratio.

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/bench_csv.py [--rows 10000000]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import crmkit
from crmkit._csv import read_transactions  # re-exported as crmkit.read_transactions


def write_log(path: Path, rows: int, seed: int, datetimes: bool) -> None:
    rng = np.random.default_rng(seed)
    days = np.arange(np.datetime64("2015-01-01"), np.datetime64("2025-01-01"))
    with open(path, "w", newline="\n") as out:
        out.write("customer_id,date,amount\n")
        block = 1_000_000
        for start in range(0, rows, block):
            n = min(block, rows - start)
            ids = rng.integers(1, max(2, rows // 10), n)
            when = days[rng.integers(0, days.size, n)]
            if datetimes:
                when = when + rng.integers(0, 86400, n).astype("timedelta64[s]")
            cents = rng.integers(1, 100_000, n)
            frame = pd.DataFrame(
                {"customer_id": ids, "date": when.astype(str), "amount": cents / 100.0}
            )
            out.write(frame.to_csv(index=False, header=False, float_format="%.2f"))


def best_time(function, repeats: int):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--datetimes", action="store_true", help="ISO datetimes, not dates")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crmkit-bench-csv-") as folder:
        path = Path(folder) / "transactions.csv"
        start = time.perf_counter()
        write_log(path, arguments.rows, arguments.seed, arguments.datetimes)
        size_mb = os.path.getsize(path) / 1e6
        seconds = time.perf_counter() - start
        print(f"wrote {arguments.rows:,} rows ({size_mb:.0f} MB) in {seconds:.1f} s")

        pandas_time, expected = best_time(
            lambda: pd.read_csv(path, parse_dates=["date"]), arguments.repeats
        )
        crmkit_time, got = best_time(
            lambda: read_transactions(path, "customer_id", "date", "amount"),
            arguments.repeats,
        )
        pd.testing.assert_frame_equal(got, expected, check_exact=True)

    print(f"threads: {crmkit.num_threads()}")
    best_of = f"(best of {arguments.repeats})"
    print(f"pandas.read_csv(parse_dates=['date']): {pandas_time:.3f} s {best_of}")
    print(f"crmkit.read_transactions:              {crmkit_time:.3f} s {best_of}")
    print(f"ratio (pandas / crmkit): {pandas_time / crmkit_time:.1f}x")


if __name__ == "__main__":
    main()
