"""crmkit's frequent itemsets vs scipy.sparse co-occurrence (pairs) and node-fpgrowth (itemsets).

Two simulated order-line sets (crmkit's basket simulator: long-tail popularity, segment tastes,
repurchase cycles, planted pairs and triples):

* ``retail``: 33,841 orders x 1,587 products (the shape of mlxtend #644), min support 0.005;
* ``big``: 10^6 orders x 5*10^4 products (~5*10^6 lines).

Peers, in the same run:

* pairs: ``scipy.sparse`` co-occurrence — the order x product 0/1 CSR matrix built from the
  lines, then X^T X, its upper triangle thresholded — against ``crmkit.fpgrowth``'s C++ core
  with ``max_len=2`` (both timed from the order-line columns to the frequent pairs);
* itemsets: node-fpgrowth (npm, under Debian's nodejs; installed outside the repository with
  ``npm install --prefix /tmp/crmkit-peers node-fpgrowth``), timed inside node around
  ``exec`` only (reading its JSON input excluded), against crmkit from the order-line columns.

Both must give identical itemsets and counts (checked). The node threshold is
ceil(min_support * n) baskets, crmkit's is the same count (passed as min_count). Peak memory:
crmkit's run in a fresh subprocess, VmHWM minus VmRSS before the call, against the bytes of the
order-line input (two int64 columns). Times are medians of ``--repeats`` runs; the machine is
shared, so the load average is printed with them.

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/bench_basket.py
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

import crmkit
from crmkit import _core

NODE_SCRIPT = r"""
const fs = require('fs');
const { FPGrowth } = require(process.argv[2]);
const tx = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const support = Number(process.argv[4]);
const t0 = process.hrtime.bigint();
new FPGrowth(support).exec(tx).then(itemsets => {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.writeFileSync(process.argv[5], JSON.stringify({seconds, itemsets: itemsets.map(s => [s.items, s.support])}));
});
"""


def simulate(orders, products, basket_size, seed):
    planted_pairs, planted_triples = 10, 4
    base = products - 2 * planted_pairs - 3 * planted_triples
    customers = int(orders / (0.05 * 365) * 1.1) + 10
    options = _core.basket.SimulationOptions(
        customers=customers, products=base, basket_size=basket_size, seed=seed,
        planted_pairs=planted_pairs, planted_triples=planted_triples, taste_items=min(25, base))
    sim = _core.basket.simulate_baskets(options)
    order = np.asarray(sim["order"], dtype=np.int64)
    keep = order < orders
    return order[keep].copy(), np.asarray(sim["item"], dtype=np.int64)[keep].copy(), products


def median_time(run, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def crmkit_itemsets(order, item, min_count, max_len):
    options = _core.basket.ItemsetOptions(min_count=min_count, max_len=max_len,
                                          max_itemsets=100_000_000)
    table = _core.basket.frequent_itemsets(order, item, options=options)
    offsets, items, count = (np.asarray(table[k]) for k in ("offsets", "items", "count"))
    return {tuple(items[offsets[i]:offsets[i + 1]].tolist()): int(count[i])
            for i in range(len(count))}


def scipy_pairs(order, item, products, min_count):
    n = int(order.max()) + 1
    x = sp.csr_matrix((np.ones(len(order), dtype=np.int32), (order, item)), shape=(n, products))
    x.sum_duplicates()
    x.data[:] = 1
    co = sp.triu(x.T.tocsr() @ x, k=1).tocoo()
    keep = co.data >= min_count
    return {(int(a), int(b)): int(c)
            for a, b, c in zip(co.row[keep], co.col[keep], co.data[keep])}


def node_fpgrowth(order, item, min_support, peer_dir, timeout):
    module = os.path.join(peer_dir, "node_modules", "node-fpgrowth")
    if not os.path.isdir(module):
        return None, "node-fpgrowth not installed (npm install --prefix %s node-fpgrowth)" % peer_dir
    cut = np.flatnonzero(np.diff(order)) + 1
    baskets = [b.tolist() for b in np.split(item, cut)]
    with tempfile.TemporaryDirectory() as folder:
        source, data, out = (os.path.join(folder, f) for f in ("run.js", "tx.json", "out.json"))
        with open(source, "w") as f:
            f.write(NODE_SCRIPT)
        with open(data, "w") as f:
            json.dump(baskets, f)
        try:
            subprocess.run(["node", "--max-old-space-size=8192", "--stack-size=30000", source,
                            module, data, repr(min_support), out], check=True, timeout=timeout,
                           capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            return None, f"node-fpgrowth did not finish in {timeout} s"
        except subprocess.CalledProcessError as error:
            last = (error.stderr.strip().splitlines() or ["?"])
            reason = next((line for line in last if "Error" in line), last[-1])
            return None, f"node-fpgrowth failed (exit {error.returncode}): {reason}"
        with open(out) as f:
            result = json.load(f)
    itemsets = {tuple(sorted(items)): count for items, count in result["itemsets"]}
    return result["seconds"], itemsets


MEMORY_CHILD = r"""
import sys, numpy as np
from crmkit import _core
order = np.load(sys.argv[1]); item = np.load(sys.argv[2])
def status(key):
    with open('/proc/self/status') as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key))
before = status('VmRSS:')
options = _core.basket.ItemsetOptions(min_count=int(sys.argv[3]), max_len=int(sys.argv[4]),
                                      max_itemsets=100_000_000)
table = _core.basket.frequent_itemsets(order, item, options=options)
print(status('VmHWM:') - before)
"""


def peak_memory(order, item, min_count, max_len):
    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, "order.npy"), os.path.join(folder, "item.npy")]
        np.save(paths[0], order)
        np.save(paths[1], item)
        out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, *paths, str(min_count),
                              str(max_len)], check=True, capture_output=True, text=True,
                             env=dict(os.environ))
    return int(out.stdout.split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-dir", default="/tmp/crmkit-peers")
    parser.add_argument("--big-orders", type=int, default=1_000_000)
    parser.add_argument("--big-products", type=int, default=50_000)
    parser.add_argument("--big-support", type=float, nargs="+", default=[1e-4, 2e-5])
    parser.add_argument("--node-timeout", type=float, default=600)
    parser.add_argument("--skip-node-big", action="store_true")
    parser.add_argument("--sets", nargs="+", default=["retail", "big"])
    args = parser.parse_args()
    print(f"crmkit {crmkit.__version__}, threads {crmkit.num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f} (shared machine)")

    sets = [("retail", 33_841, 1_587, 10.0, [0.005]),
            ("big", args.big_orders, args.big_products, 4.5, args.big_support)]
    for name, orders, products, basket_size, supports in sets:
        if name not in args.sets:
            continue
        order, item, products = simulate(orders, products, basket_size, seed=7)
        n = int(order.max()) + 1
        print(f"\n{name}: {n:,} orders x {products:,} products, {len(order):,} lines")
        for min_support in supports:
            min_count = math.ceil(min_support * n)
            t_ck, pairs_ck = median_time(lambda: crmkit_itemsets(order, item, min_count, 2),
                                         args.repeats)
            t_sp, pairs_sp = median_time(lambda: scipy_pairs(order, item, products, min_count),
                                         args.repeats)
            pairs_ck = {k: v for k, v in pairs_ck.items() if len(k) == 2}
            print(f"  pairs   min_support {min_support:g} (>= {min_count} orders): "
                  f"{len(pairs_ck):,} pairs; crmkit {t_ck:.3f} s, scipy XtX {t_sp:.3f} s, "
                  f"ratio {t_sp / t_ck:.1f}x, identical {pairs_ck == pairs_sp}, "
                  f"load {os.getloadavg()[0]:.1f}")
            t_all, sets_ck = median_time(lambda: crmkit_itemsets(order, item, min_count, 0),
                                         args.repeats)
            line = (f"  itemsets min_support {min_support:g}: {len(sets_ck):,} itemsets "
                    f"(largest {max(map(len, sets_ck), default=0)}); crmkit {t_all:.3f} s")
            if name == "big" and args.skip_node_big:
                print(line + "; node-fpgrowth skipped")
            else:
                t_node, sets_node = node_fpgrowth(order, item, min_support, args.peer_dir,
                                                  args.node_timeout)
                if t_node is None:
                    print(line + f"; {sets_node}")
                else:
                    print(line + f", node-fpgrowth {t_node:.3f} s, ratio {t_node / t_all:.1f}x, "
                          f"identical {sets_node == sets_ck}, load {os.getloadavg()[0]:.1f}")
            input_bytes = order.nbytes + item.nbytes
            peak = peak_memory(order, item, min_count, 0)
            print(f"  memory  input {input_bytes / 2**20:.1f} MiB, crmkit peak increase "
                  f"{peak / 2**20:.1f} MiB = {peak / input_bytes:.2f}x the input")


if __name__ == "__main__":
    main()
