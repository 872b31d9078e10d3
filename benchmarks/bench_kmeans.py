"""crmkit KMeans vs scikit-learn KMeans at its best, from identical initial centres.

For every cell of the grid n = 1e6, d in {4, 8, 16}, k in {8, 32}, clustered (Gaussian blobs,
one per cluster, centres uniform in [-10, 10]^d, unit spread) and unstructured (uniform in
[0, 1]^d) data, both libraries start from the same k-means++ centres (scikit-learn's
``kmeans_plusplus``) with n_init=1, tol=1e-4, max_iter=300. scikit-learn runs on the BLAS
numpy loads (printed, with its thread count, through threadpoolctl; OpenBLAS when
libopenblas0-pthread is installed, see scripts/deps.sh) and with both of its algorithms, lloyd
and elkan; its faster one per cell is the peer. Each side's ``fit`` is timed ``--repeats``
times, interleaved with the others in the same run; the medians are compared and the min-max
spread printed. The labels must be identical to scikit-learn's (the script fails otherwise).

Run from the repository root with a built package on PYTHONPATH:

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/bench_kmeans.py [--quick]
"""

import argparse
import sys
import warnings

import numpy as np
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus

import crmkit
from benchkit import interleaved, load, print_environment, row, timed, write_rows

TARGET = 3.0


def make_data(n, d, k, clustered, seed):
    rng = np.random.default_rng(seed)
    if clustered:
        means = rng.uniform(-10, 10, size=(k, d))
        return means[rng.integers(0, k, size=n)] + rng.standard_normal((n, d))
    return rng.uniform(size=(n, d))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--ks", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--kinds", nargs="+", default=["clustered", "unstructured"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--algorithm", default="auto", help="crmkit algorithm")
    parser.add_argument("--quick", action="store_true", help="smoke run: n = 20000, one repeat")
    parser.add_argument("--json", help="append result rows (JSON lines) to this file")
    args = parser.parse_args()
    if args.quick:
        args.n, args.repeats = 20_000, 1

    env = print_environment()
    print(f"n = {args.n}; medians of {args.repeats} interleaved runs; target >= {TARGET}x in every cell")
    print(f"{'kind':>12} {'d':>3} {'k':>3} {'iter':>4} {'lloyd s':>8} {'elkan s':>8} {'peer':>5} "
          f"{'crmkit s':>8} {'spread peer':>12} {'spread crmkit':>13} {'ratio':>6} {'load':>5}")
    rows, ratios, failures = [], [], []
    for kind in args.kinds:
        for d in args.dims:
            for k in args.ks:
                X = make_data(args.n, d, k, kind == "clustered", seed=d * 100 + k)
                init, _ = kmeans_plusplus(X, k, random_state=0)
                settings = dict(n_clusters=k, init=init, n_init=1, max_iter=300, tol=1e-4)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # non-convergence within max_iter
                    sides = {
                        "lloyd": lambda: SklearnKMeans(**settings, algorithm="lloyd").fit(X),
                        "crmkit": lambda: crmkit.KMeans(**settings, algorithm=args.algorithm).fit(X),
                    }
                    # scikit-learn's elkan is timed in full only where one run shows it can win.
                    elkan_once, _ = timed(lambda: SklearnKMeans(**settings, algorithm="elkan").fit(X))
                    timings, fits = interleaved(args.repeats, sides)
                    if elkan_once < 1.5 * min(timings["lloyd"].seconds):
                        elkan, _ = interleaved(args.repeats, {
                            "elkan": lambda: SklearnKMeans(**settings, algorithm="elkan").fit(X)})
                        timings["elkan"] = elkan["elkan"]
                sk, ck = fits["lloyd"], fits["crmkit"]
                peer = "elkan" if "elkan" in timings and timings["elkan"].median < timings["lloyd"].median else "lloyd"
                differ = int(np.count_nonzero(sk.labels_ != ck.labels_))
                if differ:
                    failures.append(f"{kind} d={d} k={k}: {differ} labels differ from scikit-learn's")
                ratio = timings[peer].median / timings["crmkit"].median
                ratios.append(ratio)
                elkan_text = f"{timings['elkan'].median:8.3f}" if "elkan" in timings else f"{elkan_once:7.1f}*"
                now = load()
                print(f"{kind:>12} {d:>3} {k:>3} {ck.n_iter_:>4} {timings['lloyd'].median:8.3f} {elkan_text} "
                      f"{peer:>5} {timings['crmkit'].median:8.3f} {timings[peer].spread():>12} "
                      f"{timings['crmkit'].spread():>13} {ratio:6.2f} {now:5.1f}", flush=True)
                rows.append(row("kmeans", f"{kind} d={d} k={k}", f"scikit-learn {peer}", timings[peer],
                                timings["crmkit"], TARGET, n=args.n, n_iter=int(ck.n_iter_),
                                sklearn_n_iter=int(sk.n_iter_), labels_differ=differ, load_cell=now))
    print("(* elkan: one run, slower than 1.5x lloyd's fastest, not repeated)")
    print(f"ratio (scikit-learn's faster algorithm / crmkit, medians): min {min(ratios):.2f}, "
          f"geometric mean {np.exp(np.mean(np.log(ratios))):.2f}; load now {load():.2f}")
    write_rows(args.json, env, rows)
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
