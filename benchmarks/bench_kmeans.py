"""crmkit KMeans vs scikit-learn KMeans from identical initial centres.

For every cell of the grid n = 1e6, d in {4, 8, 16}, k in {8, 32}, clustered (Gaussian blobs,
one per cluster, centres uniform in [-10, 10]^d, unit spread) and unstructured (uniform in
[0, 1]^d) data, both libraries start from the same k-means++ centres (scikit-learn's
``kmeans_plusplus``) with n_init=1, tol=1e-4, max_iter=300, and the wall time of ``fit`` is the
best of ``--repeats`` runs. The script checks that both reach the same labels (or reports how
many differ) and the relative inertia difference, and prints per-cell times and the ratio.

Run from the repository root with a built package on PYTHONPATH:

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/bench_kmeans.py
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.cluster import kmeans_plusplus

import crmkit


def make_data(n, d, k, clustered, seed):
    rng = np.random.default_rng(seed)
    if clustered:
        means = rng.uniform(-10, 10, size=(k, d))
        return means[rng.integers(0, k, size=n)] + rng.standard_normal((n, d))
    return rng.uniform(size=(n, d))


def best_time(fit, repeats):
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fit()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--ks", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--kinds", nargs="+", default=["clustered", "unstructured"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--algorithm", default="auto", help="crmkit algorithm")
    args = parser.parse_args()

    print(f"crmkit {crmkit.__version__}, threads {crmkit.num_threads()}; n = {args.n}")
    header = (f"{'kind':>12} {'d':>3} {'k':>3} {'iter sk':>7} {'iter ck':>7} "
              f"{'sklearn s':>9} {'crmkit s':>9} {'ratio':>6} {'labels differ':>13} "
              f"{'inertia rel':>11}")
    print(header)
    ratios = []
    for kind in args.kinds:
        for d in args.dims:
            for k in args.ks:
                X = make_data(args.n, d, k, kind == "clustered", seed=d * 100 + k)
                init, _ = kmeans_plusplus(X, k, random_state=0)
                settings = dict(n_clusters=k, init=init, n_init=1, max_iter=300, tol=1e-4)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # non-convergence within max_iter
                    t_sk, sk = best_time(lambda: SklearnKMeans(**settings).fit(X), args.repeats)
                    t_ck, ck = best_time(
                        lambda: crmkit.KMeans(**settings, algorithm=args.algorithm).fit(X),
                        args.repeats)
                differ = int(np.count_nonzero(sk.labels_ != ck.labels_))
                rel = abs(sk.inertia_ - ck.inertia_) / sk.inertia_
                ratio = t_sk / t_ck
                ratios.append(ratio)
                print(f"{kind:>12} {d:>3} {k:>3} {sk.n_iter_:>7} {ck.n_iter_:>7} {t_sk:>9.3f} "
                      f"{t_ck:>9.3f} {ratio:>6.2f} {differ:>13} {rel:>11.1e}", flush=True)
    print(f"ratio (scikit-learn time / crmkit time): min {min(ratios):.2f}, "
          f"geometric mean {np.exp(np.mean(np.log(ratios))):.2f}")


if __name__ == "__main__":
    main()
