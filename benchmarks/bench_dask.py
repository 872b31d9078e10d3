"""crmkit.dask on a 2-worker LocalCluster against the Databricks pattern, in the same run.

The log (``--scale`` transactions, one customer per 10 transactions) is generated partition by
partition on the workers (``--partition-rows`` each; customers co-located, as a table partitioned
by customer id), never materialised in one process. crmkit.dask summarises it per partition,
fits BG/NBD from tree-reduced pattern histograms and Gamma-Gamma by a map-reduce of its sums per
optimiser pass, scores every customer (P(alive), expected purchases, CLV), reducing the scores to
totals on the workers, and cuts the CLVs into ABC tiers (radix select on the workers). Each worker
has a memory limit (``--memory-limit``, below the data size at the large scales); the peak RSS of
every worker process and of the driver are reported.

The peer is the Databricks CLV accelerator's pattern: the whole log in one pandas frame
(``toPandas()``), lifetimes' ``summary_data_from_transaction_data`` and lifetimes' BG/NBD and
Gamma-Gamma fits (lifetimes 0.11.3 from its git clone, see lifetimes_peer.py; crmkit's
single-machine fit when the clone is absent, said in the output). It runs at sizes 10^5, 10^6,
... up to ``--scale`` while each run stays under ``--peer-budget`` seconds, and the ratio is
taken at the largest size both finished.

    python3 benchmarks/bench_dask.py --scale 1e7
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
START = np.datetime64("2024-01-01", "D")
DAYS = 546  # 78 weeks
TRANSACTIONS_PER_CUSTOMER = 10  # about 10.7 simulated; the counts reported are the real ones


def generate_partition(number: int, customers: int, seed: int) -> pd.DataFrame:
    """Customers number*customers ... (number+1)*customers-1, simulated from BG/NBD and
    Gamma-Gamma by crmkit.simulate_transactions (r 0.9, alpha 4, a 0.5, b 6: about 10.7
    transactions per customer over 78 weeks), seeded by (seed, number)."""
    import crmkit

    log, _ = crmkit.simulate_transactions(customers, r=0.9, alpha=4.0, a=0.5, b=6.0,
                                          start=str(START), horizon=78,
                                          seed=seed * 1_000_003 + number)
    log["customer_id"] += number * customers
    return log


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; ru_maxrss would carry a parent's peak over
    fork and exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_crmkit(transactions: int, partition_rows: int, memory_limit: str, seed: int) -> dict:
    import dask
    import dask.dataframe as dd

    import crmkit.dask as cdask

    customers_per_partition = max(1, partition_rows // TRANSACTIONS_PER_CUSTOMER)
    partitions = max(1, transactions // (customers_per_partition * TRANSACTIONS_PER_CUSTOMER))
    client = cdask.local_client(n_workers=2, threads_per_worker=1, memory_limit=memory_limit)
    try:
        began = time.perf_counter()
        meta = generate_partition(0, 1, seed).iloc[:0]
        parts = [dask.delayed(generate_partition)(k, customers_per_partition, seed)
                 for k in range(partitions)]
        log = dd.from_delayed(parts, meta=meta, verify_meta=False)
        end = START + np.timedelta64(DAYS - 1, "D")
        summary = cdask.summarize(log, "customer_id", "date", "amount", freq="W",
                                  observation_period_end=pd.Timestamp(end),
                                  partitioned_by_customer=True)
        summarised = time.perf_counter()
        driver_rss = {"summary": peak_rss_mb()}
        print(f"# summarised in {summarised - began:.1f} s, driver peak {driver_rss['summary']:.0f} MB",
              file=sys.stderr, flush=True)
        bgf = cdask.fit_transaction_model(summary)
        driver_rss["transaction_fit"] = peak_rss_mb()
        ggf = cdask.fit_gamma_gamma(summary)
        driver_rss["gamma_gamma_fit"] = peak_rss_mb()
        fitted = time.perf_counter()
        scores = cdask.score_customers(summary, bgf, ggf)
        totals, customers = dask.compute(scores.sum(), scores["clv"].count())
        customers = int(customers)
        scored = time.perf_counter()
        _, tiers = cdask.value_tiers(scores["clv"])
        driver_rss["value_tiers"] = peak_rss_mb()
        done = time.perf_counter()
        worker_rss = client.run(peak_rss_mb)
        actual = int(log.shape[0].compute())  # after the clock: one more generation pass
        return {
            "transactions_requested": transactions, "transactions": actual,
            "partitions": partitions,
            "customers": customers, "seconds": done - began,
            "summary_seconds": summarised - began, "fit_seconds": fitted - summarised,
            "score_seconds": scored - fitted, "tier_seconds": done - scored,
            "tier_customers": tiers["customers"].tolist(),
            "worker_peak_rss_mb": sorted(worker_rss.values()),
            "driver_peak_rss_mb": peak_rss_mb(), "driver_peak_rss_mb_after": driver_rss,
            "gamma_gamma_customers": ggf.convergence_["customers"],
            "gamma_gamma": ggf.params_.to_dict(), "memory_limit": memory_limit,
            "bgnbd": bgf.params_.to_dict(), "bgnbd_patterns": len(bgf.data),
            "total_clv": float(totals["clv"]),
        }
    finally:
        client.close()
        client.cluster.close()


PEER_CODE = r"""
import json, sys, time
sys.path.insert(0, {here!r})
import numpy as np, pandas as pd
from bench_dask import generate_partition, peak_rss_mb, TRANSACTIONS_PER_CUSTOMER
transactions, seed, partition_rows = {transactions}, {seed}, {partition_rows}
began = time.perf_counter()
per = max(1, partition_rows // TRANSACTIONS_PER_CUSTOMER)
parts = max(1, transactions // (per * TRANSACTIONS_PER_CUSTOMER))
log = pd.concat([generate_partition(k, per, seed) for k in range(parts)], ignore_index=True)
generated = time.perf_counter()
try:
    import lifetimes_peer
    lifetimes = lifetimes_peer.load()
    summarize = lifetimes.utils.summary_data_from_transaction_data
    BG, GG = lifetimes.BetaGeoFitter, lifetimes.GammaGammaFitter
    peer = "lifetimes 0.11.3"
except Exception as error:  # no clone: pandas summary + crmkit's single-machine fit
    import crmkit
    summarize = crmkit.summary_data_from_transaction_data
    BG, GG = crmkit.BetaGeoFitter, crmkit.GammaGammaFitter
    peer = f"crmkit single-machine ({{error}})"
summary = summarize(log, "customer_id", "date", "amount", freq="W",
                    observation_period_end=pd.Timestamp("2024-01-01") + pd.Timedelta(days=545))
summarised = time.perf_counter()
bgf = BG().fit(summary["frequency"], summary["recency"], summary["T"])
repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
ggf = GG().fit(repeat["frequency"], repeat["monetary_value"])
done = time.perf_counter()
print(json.dumps({{"peer": peer, "transactions": len(log), "customers": len(summary),
                  "seconds": done - generated, "generate_seconds": generated - began,
                  "summary_seconds": summarised - generated, "fit_seconds": done - summarised,
                  "peak_rss_mb": peak_rss_mb(),
                  "bgnbd": {{k: float(v) for k, v in bgf.params_.items()}}}}))
"""


def run_peer(transactions: int, partition_rows: int, seed: int, budget: float) -> dict | None:
    code = PEER_CODE.format(here=HERE, transactions=transactions, seed=seed,
                            partition_rows=partition_rows)
    try:
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                timeout=budget)
    except subprocess.TimeoutExpired:
        return {"transactions_requested": transactions, "failed": f"over the {budget:.0f} s budget"}
    if result.returncode != 0:
        return {"transactions_requested": transactions, "failed": result.stderr.strip()[-400:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1e8, help="transactions (default 1e8)")
    parser.add_argument("--partition-rows", type=int, default=2_000_000)
    parser.add_argument("--memory-limit", default="2GB", help="per worker")
    parser.add_argument("--peer-budget", type=float, default=300, help="seconds per peer run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    transactions = int(args.scale)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load: {os.getloadavg()}")
    ours = run_crmkit(transactions, args.partition_rows, args.memory_limit, args.seed)
    ours["rows_per_second"] = ours["transactions"] / ours["seconds"]
    print(json.dumps({"crmkit.dask": ours}))
    peers = []
    if not args.skip_peer:
        size = min(10 ** 5, transactions)
        while size <= transactions:
            found = run_peer(size, min(args.partition_rows, size), args.seed, args.peer_budget)
            print(json.dumps({"peer": found}))
            peers.append(found)
            if "failed" in found:
                break
            size *= 10
    finished = [p for p in peers if "failed" not in p]
    if finished:
        largest = finished[-1]
        largest["rows_per_second"] = largest["transactions"] / largest["seconds"]
        print(f"crmkit.dask: {ours['rows_per_second']:.3g} rows/s at {ours['transactions']:.3g} "
              f"transactions; peer ({largest['peer']}): {largest['rows_per_second']:.3g} rows/s "
              f"at {largest['transactions']:.3g}; ratio {ours['rows_per_second'] / largest['rows_per_second']:.2f}")
    print(f"# load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
