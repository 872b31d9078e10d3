"""What every benchmark shares: the machine it ran on, timings as medians with their spread, and
the result rows handed to run_all.py.

Peers and crmkit are timed in the same run, interleaved (peer, crmkit, peer, crmkit, ...), so a
change of load hits both; the median of the repeats is reported with the min-max spread, and
the 1-minute load average before and after.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_description() -> str:
    """The BLAS numpy/scikit-learn load and its thread count (threadpoolctl), e.g. 'openblas 0.3.21 pthreads, 2 threads'."""
    try:  # numpy, imported above, has loaded the BLAS
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl missing)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return "none found"
    return "; ".join(f"{p['internal_api']} {p.get('version')} {p.get('threading_layer', '')}".strip()
                     + f", {p['num_threads']} threads" for p in pools)


def openmp_threads() -> int | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = [p for p in threadpool_info() if p.get("user_api") == "openmp"]
    return pools[0]["num_threads"] if pools else None


def load() -> float:
    return os.getloadavg()[0]


def environment() -> dict:
    import crmkit

    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu_name(),
        "cpus": os.cpu_count(),
        "load": load(),
        "blas": blas_description(),
        "openmp_threads": openmp_threads(),
        "crmkit_threads": crmkit.num_threads(),
    }


def print_environment() -> dict:
    env = environment()
    print(f"date {env['date']}; CPU {env['cpu']} x {env['cpus']}; load (1 min) {env['load']:.2f}")
    print(f"BLAS {env['blas']}; OpenMP threads {env['openmp_threads']}; crmkit threads {env['crmkit_threads']}")
    return env


@dataclass
class Timing:
    """Seconds of the repeated runs of one side."""

    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def spread(self) -> str:
        return f"{min(self.seconds):.3g}-{max(self.seconds):.3g}"


def timed(function, *arguments):
    start = time.perf_counter()
    result = function(*arguments)
    return time.perf_counter() - start, result


def interleaved(repeats: int, sides: dict):
    """Runs every side once per round, `repeats` rounds; returns ({name: Timing}, {name: last result})."""
    timings = {name: Timing() for name in sides}
    results = {}
    for _ in range(repeats):
        for name, function in sides.items():
            seconds, results[name] = timed(function)
            timings[name].seconds.append(seconds)
    return timings, results


def row(benchmark: str, case: str, peer: str, peer_timing: Timing, crmkit_timing: Timing,
        target: float | None = None, **extra) -> dict:
    """One result row: medians, spreads, ratio (peer median / crmkit median) and the target."""
    ratio = peer_timing.median / crmkit_timing.median
    return {"benchmark": benchmark, "case": case, "peer": peer,
            "peer_s": peer_timing.median, "peer_spread": peer_timing.spread(),
            "crmkit_s": crmkit_timing.median, "crmkit_spread": crmkit_timing.spread(),
            "repeats": len(crmkit_timing.seconds), "ratio": ratio, "target": target,
            "met": None if target is None else ratio >= target, **extra}


def _words(column: np.ndarray) -> np.ndarray:
    """The column's bytes as 64-bit words (bytes when its size is not a multiple of 8)."""
    data = np.ascontiguousarray(column).reshape(-1).view(np.uint8)
    return data.view(np.uint64) if data.nbytes % 8 == 0 else data


def read_floor(columns: list[np.ndarray], threads: int, repeats: int) -> Timing:
    """The memory-bandwidth floor: the time to read every byte of `columns` once, each cut into
    `threads` parts read concurrently (numpy's reductions release the GIL), over `repeats` runs
    (the best is the floor). The read is an OR of 64-bit words, which numpy vectorises; a sum is
    no floor here, as numpy adds floats pairwise at about half the memory's speed (an 80 MB column:
    4.9 ms summed, 2.2 ms OR-ed on the machine of RESULTS.md). The columns must be larger than the
    last-level cache for this to be a read from memory."""
    parts = [words[i * len(words) // threads:(i + 1) * len(words) // threads]
             for words in map(_words, columns) for i in range(threads)]
    timing = Timing()
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeats):
            start = time.perf_counter()
            list(pool.map(np.bitwise_or.reduce, parts))
            timing.seconds.append(time.perf_counter() - start)
    return timing


def floor_row(benchmark: str, case: str, columns: list[np.ndarray], crmkit_timing: Timing, repeats: int,
              target: float | None = None) -> dict:
    """Prints the floor of reading `columns` once on one thread and on two (with the target, which
    is for the two-thread floor), and returns the result row of the two-thread floor: its ratio is
    floor / crmkit (crmkit at 5x the floor: 0.2)."""
    size = sum(np.asarray(column).nbytes for column in columns)
    floors = {threads: min(read_floor(columns, threads, repeats).seconds) for threads in (1, 2)}
    for threads, seconds in floors.items():
        print(f"floor, {threads} thread{'s' if threads > 1 else ' '}: {seconds * 1e3:8.2f} ms (read the "
              f"{size / 2**20:.0f} MiB input once, {size / 2**30 / seconds:.1f} GiB/s); crmkit "
              f"{crmkit_timing.median / seconds:.1f}x that"
              + ("" if target is None or threads == 1 else f" (target <= {1 / target:g}x)"))
    return row(benchmark, case, f"floor: read the input once ({size / 2**20:.0f} MiB), 2 threads",
               Timing([floors[2]]), crmkit_timing, target, floor=True,
               note="ratio = floor / crmkit" + ("" if target is None else f"; target: crmkit within "
                                                 f"{1 / target:g}x of the floor"))


def write_rows(path: str | None, env: dict, rows: list[dict]) -> None:
    """Appends the rows (with the environment and the load after the run) as JSON lines."""
    if not path:
        return
    env = dict(env, load_after=load())
    with open(path, "a", encoding="utf-8") as out:
        for r in rows:
            out.write(json.dumps({**env, **r}) + "\n")
