"""The whole report (``python -m crmkit report``) on a million customers, stage by stage, against
the baseline commit b5e1301 in the same run.

The script simulates one transaction log of about 10^7 rows (BG/NBD + Gamma-Gamma, the
parameters of bench_lifecycle.py: 10^6 customers joining over 52 weeks, observed for 104) and
survey answers from a tenth of the customers, writes both as CSV, and then runs each side on
these files:

- in process, stage by stage: reading the two files (``load_transactions``, ``load_survey``)
  and ``build_report`` with its timestamped progress lines, each stage timed to the next line.
  *compute* is everything but the plots and the HTML (reading, analysis, CSV tables);
- as a command: ``python -m crmkit report LOG --survey SURVEY --out DIR --quiet`` in a child
  process, wall time and peak resident memory (``os.wait4``'s ``ru_maxrss``);
- as a command on the built-in demo (``--customers``, demo generation included).

The baseline is a git worktree of b5e1301 installed into its own venv (made when missing:
``git worktree add``, ``python3 -m venv --system-site-packages``, ``pip install
--no-build-isolation --no-index``; the compile takes about 7 CPU-minutes).

Usage: /usr/bin/python3 benchmarks/bench_report.py [--customers 1000000] [--repeats 1]
       [--python .venv/bin/python] [--baseline-dir build/bench-baseline] [--work build/bench-report]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "b5e1301"
TARGET_COMPUTE_S = 3.0
TARGET_WALL_S = 6.0
TARGET_SPEEDUP = 3.0
TARGET_RSS_GB = 1.2

# Runs inside the python under test; prints one JSON object with the stages.
DRIVER = r"""
import io, json, os, re, sys, time
def now():  # wall, and CPU of every thread and of every reaped child (the report's plot process)
    cpu = os.times()
    return (time.perf_counter(),
            cpu.user + cpu.system + cpu.children_user + cpu.children_system)
started = now()
from crmkit._report_input import load_survey, load_transactions
from crmkit.report import build_report
imported = now()
log, columns = load_transactions(sys.argv[1])
loaded_log = now()
survey = load_survey(sys.argv[2], log[columns.customer])
loaded_survey = now()

class Lines(io.StringIO):
    def write(self, text):
        stamp = now()
        for line in text.splitlines():
            if line.strip():
                lines.append((stamp, re.sub(r"^\[\s*[0-9.]+s\]\s*", "", line)))
        return len(text)

lines = []
report = build_report(log, sys.argv[3], columns, survey, progress=Lines())
finished = now()
stages = [("import crmkit", started, imported), ("read transactions CSV", imported, loaded_log),
          ("read survey CSV", loaded_log, loaded_survey)]
stamps = [loaded_survey] + [stamp for stamp, _ in lines[1:]] + [finished]
for (stamp, message), end in zip(lines, stamps[1:]):
    stages.append((message, stamp, end))
print(json.dumps({"stages": [(name, end[0] - start[0], end[1] - start[1])
                             for name, start, end in stages],
                  "rows": len(log), "customers": len(report.tables["customers"]),
                  "tables": len(report.tables), "total": finished[0] - imported[0],
                  "total_cpu": finished[1] - imported[1]}))
"""

PRESENTATION = ("drawing plots", "writing report.html")
# The current report writes the CSV tables on a thread while it draws the plots, and then says
# how long the writing took; that time counts as compute in full, and the wait for the thread
# after the plots (a part of it) is not counted again.
BACKGROUND_CSV = re.compile(r"wrote \d+ CSV tables in ([0-9.]+) s")
WAIT_FOR_CSV = "plots drawn; waiting for the CSV tables"


def is_presentation(stage: str, baseline: bool) -> bool:
    """Plots and HTML; the baseline writes CSV, PNG and HTML in one "writing" stage, counted here
    as presentation (which favours the baseline's compute time)."""
    return stage.startswith(PRESENTATION) or (baseline and stage.startswith("writing"))


def compute_seconds(stages, baseline: bool) -> float:
    """Wall seconds of everything but the plots and the HTML (reading, analysis, CSV tables)."""
    total = 0.0
    for stage, seconds, _ in stages:
        background = BACKGROUND_CSV.match(stage)
        if background:
            total += float(background.group(1))
        elif stage != WAIT_FOR_CSV and not is_presentation(stage, baseline):
            total += seconds
    return total


def timed_child(command, env=None):
    """Runs a child and waits for it with wait4: (wall seconds, peak RSS bytes, stdout, CPU
    seconds (user + system, every thread))."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, command))} failed ({child.returncode}):\n"
                               f"{err.read().decode()[-3000:]}")
        return (wall, usage.ru_maxrss * 1024, out.read().decode(),
                usage.ru_utime + usage.ru_stime)


def ensure_baseline(directory: Path) -> Path:
    """The python of a venv with crmkit at BASELINE_COMMIT installed (built when missing)."""
    directory = directory.resolve()
    python = directory / "venv" / "bin" / "python"
    source = directory / "src"
    if python.exists() and subprocess.run([python, "-c", "import crmkit._core"],
                                          capture_output=True).returncode == 0:
        return python
    if not source.exists():
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", source, BASELINE_COMMIT],
                       check=True)
    if not python.exists():
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages",
                        directory / "venv"], check=True)
    print(f"building crmkit {BASELINE_COMMIT} into {directory / 'venv'} (several minutes)",
          flush=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-build-isolation",
                    "--no-index", "--disable-pip-version-check", "."], cwd=source, check=True)
    return python


def make_inputs(python: str, work: Path, customers: int, seed: int) -> tuple[Path, Path]:
    """The transaction log and survey CSV files (made once per size and seed)."""
    log_path = work / f"log_{customers}_{seed}.csv"
    survey_path = work / f"survey_{customers}_{seed}.csv"
    if log_path.exists() and survey_path.exists():
        return log_path, survey_path
    script = f"""
import numpy as np, pandas as pd, crmkit
from crmkit.data import write_csv
log, truth = crmkit.simulate_transactions({customers}, r=1.0, alpha=3.4, a=0.8, b=6.0, freq="W",
                                          acquisition_periods=52, horizon=104, seed={seed})
log["date"] = log["date"].dt.normalize()
write_csv(log[["customer_id", "date", "amount"]], r"{log_path}.part", index=False)
rng = np.random.default_rng([{seed}, 7])
who = np.sort(rng.choice({customers}, size=max(1, {customers} // 10), replace=False))
alive = truth["death"].to_numpy()[who] > 104
mood = 5.4 + 2.2 * alive + rng.normal(0.0, 1.7, len(who))
survey = pd.DataFrame({{"customer_id": who,
    "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(52 * 7 + rng.integers(0, 52 * 7, len(who)), unit="D"),
    "nps": np.clip(np.rint(mood), 0, 10).astype(np.int64),
    "csat": np.clip(np.rint(1 + (mood + rng.normal(0, 0.8, len(who))) * 0.45), 1, 5).astype(np.int64)}})
write_csv(survey, r"{survey_path}.part", index=False)
print(len(log))
"""
    rows = subprocess.run([python, "-c", script], check=True, capture_output=True, text=True).stdout
    os.replace(f"{log_path}.part", log_path)
    os.replace(f"{survey_path}.part", survey_path)
    print(f"simulated {int(rows):,} transactions of {customers:,} customers -> {log_path}",
          flush=True)
    return log_path, survey_path


def fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    return path


def measure(name: str, python: str, log: Path, survey: Path, work: Path, customers: int,
            repeats: int) -> dict:
    baseline = name == "baseline"
    # The baseline's venv must import its own crmkit, never one on PYTHONPATH.
    env = {k: v for k, v in os.environ.items() if not (baseline and k == "PYTHONPATH")}
    best = None
    for _ in range(repeats):
        out = timed_child([python, "-c", DRIVER, log, survey, fresh(work / f"{name}-inproc")],
                          env)[2]
        result = json.loads(out.strip().splitlines()[-1])
        stages = [stage for stage in result["stages"] if stage[0] != "import crmkit"]
        result["compute"] = compute_seconds(stages, baseline)
        result["presentation"] = sum(s for stage, s, _ in stages if is_presentation(stage, baseline))
        if best is None or result["compute"] < best["compute"]:
            best = result
    command = [python, "-m", "crmkit", "report", log, "--survey", survey, "--quiet"]
    best["wall"], best["rss"], _, best["cpu"] = min(
        timed_child(command + ["--out", fresh(work / f"{name}-cli")], env)
        for _ in range(repeats))
    demo = [python, "-m", "crmkit", "report", "--customers", str(customers), "--quiet"]
    best["demo_wall"], best["demo_rss"], _, best["demo_cpu"] = min(
        timed_child(demo + ["--out", fresh(work / f"{name}-demo")], env)
        for _ in range(repeats))
    return best


def print_stages(name: str, result: dict) -> None:
    print(f"\n{name}: {result['rows']:,} transactions, {result['customers']:,} customers, "
          f"{result['tables']} tables (wall s, CPU s of every thread and child process)")
    for stage, seconds, cpu in result["stages"]:
        print(f"  {seconds:7.2f} s {cpu:7.2f} s  {stage}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--python", default=sys.executable, help="python with the crmkit under test")
    parser.add_argument("--baseline-dir", default=str(ROOT / "build" / "bench-baseline"),
                        help=f"worktree (src/) and venv (venv/) of {BASELINE_COMMIT}")
    parser.add_argument("--work", default=str(ROOT / "build" / "bench-report"),
                        help="folder for the simulated files and the reports")
    arguments = parser.parse_args()
    work = Path(arguments.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"load at the start: {os.getloadavg()}", flush=True)
    baseline_python = ensure_baseline(Path(arguments.baseline_dir))
    log, survey = make_inputs(arguments.python, work, arguments.customers, arguments.seed)
    results = {}
    for name, python in (("baseline", baseline_python), ("current", arguments.python)):
        results[name] = measure(name, str(python), log, survey, work, arguments.customers,
                                arguments.repeats)
        print_stages(f"{name} ({python})", results[name])
    old, new = results["baseline"], results["current"]
    print(f"\n{'':34}{BASELINE_COMMIT:>12}{'current':>12}{'ratio':>9}   target")
    rows = [("compute in process (s)", "compute", f"<= {TARGET_COMPUTE_S} s"),
            ("plots + HTML in process (s)", "presentation", ""),
            ("in process, total (s)", "total", ""),
            ("in process, total CPU (s)", "total_cpu", ""),
            ("whole command on the log (s)", "wall",
             f">= {TARGET_SPEEDUP}x, < {TARGET_WALL_S} s"),
            ("whole command on the log, CPU (s)", "cpu", ""),
            ("whole command, demo (s)", "demo_wall", ""),
            ("whole command, demo, CPU (s)", "demo_cpu", ""),
            ("peak RSS, command on log (GB)", "rss", f"<= {TARGET_RSS_GB} GB"),
            ("peak RSS, demo (GB)", "demo_rss", "")]
    for label, key, target in rows:
        scale = 1e-9 if "rss" in key else 1.0
        a, b = old[key] * scale, new[key] * scale
        print(f"{label:34}{a:12.2f}{b:12.2f}{a / b:8.2f}x   {target}")
    met = (new["compute"] <= TARGET_COMPUTE_S, new["wall"] <= TARGET_WALL_S,
           old["wall"] / new["wall"] >= TARGET_SPEEDUP, new["rss"] * 1e-9 <= TARGET_RSS_GB)
    print(f"load at the end: {os.getloadavg()}")
    print("\ntargets: compute {}, wall {}, speed-up {}, RSS {}".format(
        *("met" if ok else "MISSED" for ok in met)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
