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
from dataclasses import dataclass, field


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
    try:
        import numpy  # noqa: F401  (loads the BLAS)
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


def write_rows(path: str | None, env: dict, rows: list[dict]) -> None:
    """Appends the rows (with the environment and the load after the run) as JSON lines."""
    if not path:
        return
    env = dict(env, load_after=load())
    with open(path, "a", encoding="utf-8") as out:
        for r in rows:
            out.write(json.dumps({**env, **r}) + "\n")
