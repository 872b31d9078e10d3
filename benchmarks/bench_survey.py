"""NPS by segment x month: crmkit.aggregate vs the pandas groupby equivalent, same data, same run.

Default: 10^7 answers (0-10), 100 segments, dates over 24 months. Both sides produce the same
table (every segment x month cell: n, promoters, passives, detractors, NPS, SE, adjusted-Wald
interval); the script checks they agree, then prints the best of several repeats and the ratio.
Two pandas versions are timed — the idiomatic one (`dt.to_period("M")`) and a faster one with
integer month codes — and crmkit is compared with the faster.

    PYTHONPATH=build/<dir>/python /usr/bin/python3 benchmarks/bench_survey.py [--rows N]
"""

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats

import crmkit

Z95 = stats.norm.ppf(0.975)


def make_responses(rows: int, segments: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"segment_{k:03d}" for k in range(segments)]
    start = np.datetime64("2023-01-01", "ns")
    span = (np.datetime64("2025-01-01", "ns") - start).astype(np.int64)
    return pd.DataFrame(
        {
            "score": rng.integers(0, 11, rows),
            "segment": pd.Categorical.from_codes(rng.integers(0, segments, rows), names),
            "date": start + rng.integers(0, span, rows).astype("timedelta64[ns]"),
        }
    )


def nps_columns(counts: pd.DataFrame) -> pd.DataFrame:
    """NPS, SE and adjusted-Wald interval from per-cell counts (vectorised formulas)."""
    p, a, d = counts.promoters, counts.passives, counts.detractors
    n = p + a + d
    pp, pdt = p / n, d / n
    n2 = n + 3
    pp2, pd2 = (p + 0.75) / n2, (d + 0.75) / n2
    se2 = 100 * np.sqrt((pp2 + pd2 - (pp2 - pd2) ** 2) / n2)
    return counts.assign(
        n=n,
        nps=100 * (pp - pdt),
        se=100 * np.sqrt((pp + pdt - (pp - pdt) ** 2) / n),
        lower=(100 * (pp2 - pd2) - Z95 * se2).clip(-100, 100),
        upper=(100 * (pp2 - pd2) + Z95 * se2).clip(-100, 100),
    )


def pandas_idiomatic(df: pd.DataFrame) -> pd.DataFrame:
    flags = pd.DataFrame(
        {
            "segment": df.segment,
            "period": df.date.dt.to_period("M"),
            "promoters": df.score >= 9,
            "passives": df.score.between(7, 8),
            "detractors": df.score <= 6,
        }
    )
    counts = flags.groupby(["segment", "period"], observed=False).sum()
    return nps_columns(counts)


def pandas_fast(df: pd.DataFrame) -> pd.DataFrame:
    dates = df.date.dt
    month = (dates.year.to_numpy() - 1970) * 12 + dates.month.to_numpy() - 1
    score = df.score.to_numpy()
    flags = pd.DataFrame(
        {
            "segment": df.segment,
            "month": month,
            "promoters": score >= 9,
            "passives": (score >= 7) & (score <= 8),
            "detractors": score <= 6,
        }
    )
    counts = flags.groupby(["segment", "month"], observed=False).sum()
    return nps_columns(counts)


def crmkit_nps(df: pd.DataFrame) -> pd.DataFrame:
    return crmkit.aggregate(df, "score", by="segment", period="M", date_col="date")


def best_time(function, df, repeats):
    best = float("inf")
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(df)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="crmkit threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        crmkit.set_num_threads(args.threads)

    df = make_responses(args.rows, args.segments)
    t_crmkit, ours = best_time(crmkit_nps, df, args.repeats)
    t_idiomatic, idiomatic = best_time(pandas_idiomatic, df, args.repeats)
    t_fast, fast = best_time(pandas_fast, df, args.repeats)

    assert len(ours) == len(idiomatic) == len(fast) == args.segments * 24
    for column in ("n", "promoters", "passives", "detractors"):
        np.testing.assert_array_equal(ours[column].to_numpy(), idiomatic[column].to_numpy())
        np.testing.assert_array_equal(ours[column].to_numpy(), fast[column].to_numpy())
    for column in ("nps", "se", "lower", "upper"):
        np.testing.assert_allclose(ours[column], idiomatic[column], rtol=1e-12, atol=1e-12)

    peer = min(t_idiomatic, t_fast)
    print(f"NPS of {args.rows:,} answers by {args.segments} segments x 24 months "
          f"(best of {args.repeats}; crmkit threads: {crmkit.num_threads()})")
    print(f"  crmkit.aggregate                 {t_crmkit * 1e3:9.1f} ms")
    print(f"  pandas groupby (to_period)       {t_idiomatic * 1e3:9.1f} ms")
    print(f"  pandas groupby (int month codes) {t_fast * 1e3:9.1f} ms")
    print(f"  ratio (faster pandas / crmkit)   {peer / t_crmkit:9.1f}x")


if __name__ == "__main__":
    main()
