"""NPS by segment x month: crmkit.aggregate vs the pandas groupby equivalent, same data, same run.

Default: 10^7 answers (0-10), 100 segments, dates over 24 months. Both sides produce the same
table (every segment x month cell: n, promoters, passives, detractors, NPS, SE, adjusted-Wald
interval); the script checks they agree, then prints the best of several repeats and the ratio.
Three peers are timed — the idiomatic pandas one (`dt.to_period("M")`), pandas with integer
month codes, and plain numpy (month codes from `datetime64[M]`, one `np.bincount` over
segment x month x answer class: the fastest idiomatic form, issue #17) — interleaved with
crmkit in the same run; crmkit is compared with the fastest, by medians (min-max spread shown).

    PYTHONPATH=build/<dir>/python /usr/bin/python3 benchmarks/bench_survey.py [--rows N]
"""

import argparse

import numpy as np
import pandas as pd
from scipy import stats

import crmkit
from benchkit import floor_row, interleaved, print_environment, row, write_rows

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


def numpy_bincount(df: pd.DataFrame) -> pd.DataFrame:
    """Counts per segment x month x class with one bincount; the NPS columns as above."""
    month = df.date.to_numpy().astype("datetime64[M]").astype(np.int64)
    first = month.min()
    months = int(month.max() - first) + 1
    segment = df.segment.cat.codes.to_numpy().astype(np.int64)
    score = df.score.to_numpy()
    answer_class = (score >= 7).astype(np.int64) + (score >= 9)  # 0 detractor, 1 passive, 2 promoter
    cell = (segment * months + (month - first)) * 3 + answer_class
    segments = len(df.segment.cat.categories)
    counts = np.bincount(cell, minlength=segments * months * 3).reshape(-1, 3)
    index = pd.MultiIndex.from_product([df.segment.cat.categories, np.arange(months) + first],
                                       names=["segment", "month"])
    return nps_columns(pd.DataFrame({"promoters": counts[:, 2], "passives": counts[:, 1],
                                     "detractors": counts[:, 0]}, index=index))


def crmkit_nps(df: pd.DataFrame) -> pd.DataFrame:
    return crmkit.aggregate(df, "score", by="segment", period="M", date_col="date")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="crmkit threads (0: default)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10^5 answers, one repeat")
    parser.add_argument("--json", help="append result rows (JSON lines) to this file")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeats = 100_000, 1
    if args.threads:
        crmkit.set_num_threads(args.threads)
    env = print_environment()
    df = make_responses(args.rows, args.segments)
    sides = {"crmkit": lambda: crmkit_nps(df), "to_period": lambda: pandas_idiomatic(df),
             "month codes": lambda: pandas_fast(df), "numpy bincount": lambda: numpy_bincount(df)}
    timings, results = interleaved(args.repeats, sides)
    ours = results["crmkit"]
    for name in ("to_period", "month codes", "numpy bincount"):
        other = results[name]
        assert len(ours) == len(other) == args.segments * 24, name
        for column in ("n", "promoters", "passives", "detractors"):
            np.testing.assert_array_equal(ours[column].to_numpy(), other[column].to_numpy())
        for column in ("nps", "se", "lower", "upper"):
            np.testing.assert_allclose(ours[column].to_numpy(), other[column].to_numpy(), rtol=1e-12, atol=1e-12)
    peer = min(("to_period", "month codes", "numpy bincount"), key=lambda name: timings[name].median)
    print(f"NPS of {args.rows:,} answers by {args.segments} segments x 24 months "
          f"(medians of {args.repeats} interleaved runs, min-max in brackets)")
    for name, label in (("crmkit", "crmkit.aggregate"), ("to_period", "pandas groupby (to_period)"),
                        ("month codes", "pandas groupby (int month codes)"),
                        ("numpy bincount", "numpy (one bincount)")):
        print(f"  {label:<33}{timings[name].median * 1e3:9.1f} ms  [{timings[name].spread()} s]")
    ratio = timings[peer].median / timings["crmkit"].median
    print(f"  ratio (fastest peer, {peer} / crmkit) {ratio:9.1f}x (target >= 10x)")
    case = f"NPS {args.rows:,} answers, {args.segments} segments x 24 months"
    columns = [df["score"].to_numpy(), df["segment"].cat.codes.to_numpy(), df["date"].to_numpy()]
    write_rows(args.json, env, [row("survey", case, peer, timings[peer], timings["crmkit"], 10.0),
                                floor_row("survey", case, columns, timings["crmkit"], 3 * args.repeats)])


if __name__ == "__main__":
    main()
