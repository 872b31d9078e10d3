"""crmkit RFM scoring vs the pandas groupby + qcut equivalent, from a transaction log.

A log of ``--rows`` transactions (default 1e7) by ``--customers`` customers (default 1e6) over
two years is scored into R, F, M quintiles both ways, with the same semantics:

- per customer, purchases on the same day merge (amounts summed); recency = days from the last
  purchase day to the last day of the log, frequency = purchase days, monetary value = mean
  spend per purchase day (``summary_data_from_transaction_data(..., include_first_transaction=
  True)``);
- quintiles by ``qcut(x.rank(method="first"), 5)``, recency reversed (crmkit ``ties="rank_first"``).

The pandas side is the usual script (``groupby`` + ``agg`` + ``qcut``); both results are checked
for equality, and the best wall time of ``--repeats`` runs is printed with the ratio. A second
line times the scoring alone, from the per-customer summary.

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/bench_rfm.py
"""

import argparse
import time

import numpy as np
import pandas as pd

import crmkit


def make_log(rows, customers, seed=0):
    rng = np.random.default_rng(seed)
    # Heavy-tailed activity: a few customers buy a lot, most buy a few times.
    weights = rng.pareto(1.2, size=customers) + 0.05
    ids = rng.choice(customers, size=rows, p=weights / weights.sum())
    ids[:customers] = np.arange(customers)  # every customer buys at least once
    days = rng.integers(0, 730, size=rows)
    return pd.DataFrame({
        "customer_id": ids + 1,
        "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D"),
        "spend": np.round(rng.lognormal(3.0, 0.8, size=rows), 2),
    })


def pandas_rfm(log):
    day = log["date"].dt.floor("D")
    daily = log.groupby(["customer_id", day], sort=True)["spend"].sum().reset_index()
    end = day.max()
    summary = daily.groupby("customer_id").agg(
        last=("date", "max"), frequency=("date", "size"), monetary_value=("spend", "mean"))
    summary["recency"] = (end - summary.pop("last")).dt.days.astype(float)
    summary["r_score"] = pd.qcut(summary["recency"].rank(method="first"), 5,
                                 labels=[5, 4, 3, 2, 1]).astype(int)
    summary["f_score"] = pd.qcut(summary["frequency"].rank(method="first"), 5,
                                 labels=[1, 2, 3, 4, 5]).astype(int)
    summary["m_score"] = pd.qcut(summary["monetary_value"].rank(method="first"), 5,
                                 labels=[1, 2, 3, 4, 5]).astype(int)
    return summary


def crmkit_rfm(log):
    return crmkit.rfm_scores(log, customer_id_col="customer_id", datetime_col="date",
                             monetary_value_col="spend", ties="rank_first")


def best(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    log = make_log(args.rows, args.customers)
    print(f"crmkit {crmkit.__version__}, threads {crmkit.num_threads()}; "
          f"{len(log):,} rows, {log['customer_id'].nunique():,} customers")
    t_pandas, expected = best(lambda: pandas_rfm(log), args.repeats)
    t_crmkit, got = best(lambda: crmkit_rfm(log), args.repeats)
    exact = ["recency", "frequency", "r_score", "f_score"]
    same = (got[exact].to_numpy() == expected[exact].to_numpy()).all()
    spend = np.max(np.abs(got["monetary_value"] / expected["monetary_value"] - 1))
    # Mean spends can differ in the last bit (summation order); rank_first then orders such
    # near-ties differently, which moves a few customers across an M quintile edge.
    moved = int(np.count_nonzero(got["m_score"].to_numpy() != expected["m_score"].to_numpy()))
    print(f"log -> RFM scores:      pandas {t_pandas:7.3f} s   crmkit {t_crmkit:7.3f} s   "
          f"ratio {t_pandas / t_crmkit:6.2f}")
    print(f"  R, F and their scores identical: {same}; monetary max relative difference "
          f"{spend:.1e}; M scores differing: {moved}")

    summary = expected[["recency", "frequency", "monetary_value"]].copy()

    def pandas_scores():
        return [pd.qcut(summary[c].rank(method="first"), 5, labels=False)
                for c in ("recency", "frequency", "monetary_value")]

    t_pandas, _ = best(pandas_scores, args.repeats)
    t_crmkit, _ = best(lambda: crmkit.rfm_scores(summary, ties="rank_first"), args.repeats)
    print(f"summary -> RFM scores:  pandas {t_pandas:7.3f} s   crmkit {t_crmkit:7.3f} s   "
          f"ratio {t_pandas / t_crmkit:6.2f}")


if __name__ == "__main__":
    main()
