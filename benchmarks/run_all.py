"""Runs every benchmark that reports result rows and writes the RESULTS table.

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/run_all.py --quick   # smoke, minutes
    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/run_all.py --write   # full; RESULTS.md

Each script runs in its own process (peer and crmkit interleaved inside it, medians of repeated
runs with the min-max spread, see benchkit.py) and appends JSON rows; this script prints one
Markdown section with the date, CPU, load before and after, BLAS and thread counts, and with
``--write`` inserts it at the top of benchmarks/RESULTS.md (older sections stay below it).
A benchmark that fails (e.g. labels differ from scikit-learn's) is reported as failed, and the
exit status is non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_kmeans", "bench_rfm", "bench_survey", "bench_summary", "bench_lifecycle"]
MARKER = "<!-- run_all.py inserts new sections below this line -->"


def run(script: str, quick: bool, rows_file: str, log_folder: Path) -> tuple[bool, float]:
    command = [sys.executable, str(HERE / f"{script}.py"), "--json", rows_file]
    if quick:
        command.append("--quick")
    start = time.perf_counter()
    with open(log_folder / f"{script}.log", "w", encoding="utf-8") as log:
        status = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=HERE.parent,
                                env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                                    filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))).returncode
    return status == 0, time.perf_counter() - start


def seconds(value: float) -> str:
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.3g} s"


def section(rows: list[dict], failed: list[str], quick: bool, load_before: float, load_after: float) -> str:
    first = rows[0] if rows else {}
    lines = [f"## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `run_all.py`{' --quick (smoke sizes)' if quick else ''}",
             "",
             f"CPU {first.get('cpu', '?')} x {first.get('cpus', '?')}; load average (1 min) {load_before:.1f} before, "
             f"{load_after:.1f} after; BLAS {first.get('blas', '?')}; OpenMP threads {first.get('openmp_threads')}; "
             f"crmkit threads {first.get('crmkit_threads')}. Peer and crmkit interleaved in the same process; "
             "medians of the repeats, [min-max] (summary: best of runs).",
             "",
             "| benchmark | case | peer | peer median [min-max] | crmkit median [min-max] | ratio | target | load |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        met = "" if r.get("target") is None else " met" if r["met"] else " **missed**"
        if r.get("floor"):  # benchkit.floor_row's ratio is floor / crmkit: shown as crmkit's multiple of the floor
            ratio = f"crmkit at {1 / r['ratio']:.1f}× the floor"
            target = "" if r.get("target") is None else f"≤ {1 / r['target']:g}×{met}"
        else:
            ratio = f"{r['ratio']:.2f}×"
            target = "" if r.get("target") is None else f"≥ {r['target']:g}×{met}"
        lines.append(f"| {r['benchmark']} | {r['case']} | {r['peer']} | {seconds(r['peer_s'])} [{r['peer_spread']}] | "
                     f"{seconds(r['crmkit_s'])} [{r['crmkit_spread']}] | {ratio} | {target} | "
                     f"{r.get('load_cell', r['load']):.1f} |")
    for script in failed:
        lines.append(f"| {script} | **failed** (see its log) | | | | | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke sizes, one repeat")
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, help="run these benchmarks only")
    parser.add_argument("--write", action="store_true", help="insert the section into benchmarks/RESULTS.md")
    parser.add_argument("--logs", help="folder for each script's output (default: a temporary folder)")
    args = parser.parse_args()
    log_folder = Path(args.logs or tempfile.mkdtemp(prefix="crmkit-bench-"))
    log_folder.mkdir(parents=True, exist_ok=True)
    rows_file = str(log_folder / "rows.jsonl")
    Path(rows_file).write_text("")
    load_before = os.getloadavg()[0]
    failed = []
    for script in args.only or SCRIPTS:
        ok, took = run(script, args.quick, rows_file, log_folder)
        print(f"{script}: {'ok' if ok else 'FAILED'} in {took:.0f} s (output: {log_folder / (script + '.log')})", flush=True)
        if not ok:
            failed.append(script)
    rows = [json.loads(line) for line in Path(rows_file).read_text().splitlines() if line.strip()]
    text = section(rows, failed, args.quick, load_before, os.getloadavg()[0])
    print()
    print(text)
    if args.write:
        results = HERE / "RESULTS.md"
        current = results.read_text(encoding="utf-8")
        if MARKER not in current:
            raise SystemExit(f"{results} lacks the marker line {MARKER!r}")
        results.write_text(current.replace(MARKER, MARKER + "\n\n" + text, 1), encoding="utf-8")
        print(f"inserted at the top of {results}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
