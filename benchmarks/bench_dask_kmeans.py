"""crmkit.dask.kmeans on a 2-worker LocalCluster against the single-machine crmkit.KMeans of the
same rows, interleaved in the same run; also checks that both give the same fit bit for bit.

Rows: Gaussian blobs (``--clusters`` of them) in ``--dims`` dimensions, ``--rows`` rows in
``--partitions`` partitions of a Dask DataFrame (materialised on the workers before the clock).

    python3 benchmarks/bench_dask_kmeans.py --rows 1e6 --partitions 8 --k 8
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

import numpy as np
import pandas as pd


def make_rows(rows: int, dims: int, clusters: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(clusters, dims))
    points = centres[rng.integers(0, clusters, size=rows)] + rng.normal(0, 2.0, size=(rows, dims))
    return pd.DataFrame(points, columns=[f"x{j}" for j in range(dims)])


def main() -> None:
    import dask.dataframe as dd

    import crmkit
    import crmkit.dask as cdask

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e6)
    parser.add_argument("--dims", type=int, default=4)
    parser.add_argument("--clusters", type=int, default=8, help="blobs in the data")
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    frame = make_rows(int(args.rows), args.dims, args.clusters, args.seed)
    x = frame.to_numpy()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load: {os.getloadavg()}")
    client = cdask.local_client(n_workers=2, threads_per_worker=1, memory_limit="2GB")
    try:
        data = dd.from_pandas(frame, npartitions=args.partitions, sort=False).persist()
        single_times, dask_times = [], []
        for _ in range(args.repeats):
            began = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = crmkit.KMeans(args.k, random_state=args.seed).fit(x)
            single_times.append(time.perf_counter() - began)
            began = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = cdask.kmeans(data, args.k, random_state=args.seed, client=client)
                labels = found.labels_.compute().to_numpy()
            dask_times.append(time.perf_counter() - began)
        same = (np.array_equal(labels, expected.labels_)
                and np.array_equal(found.cluster_centers_, expected.cluster_centers_)
                and found.inertia_ == expected.inertia_ and found.n_iter_ == expected.n_iter_)
        print(json.dumps({"rows": len(x), "dims": args.dims, "k": args.k,
                          "partitions": args.partitions, "n_iter": int(expected.n_iter_),
                          "single_machine_seconds": single_times, "dask_seconds": dask_times,
                          "ratio_dask_over_single": min(dask_times) / min(single_times),
                          "bit_identical": bool(same)}))
    finally:
        client.close()
        client.cluster.close()
    print(f"# load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
