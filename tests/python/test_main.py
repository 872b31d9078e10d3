"""The command line: `python -m crmkit report` and the `crmkit` entry point's argument handling."""

import io
import subprocess
import sys

import pandas as pd

from crmkit.__main__ import main


def test_report_on_a_small_demo_writes_the_page_and_says_where(tmp_path):
    out = io.StringIO()
    assert main(["report", "--customers", "800", "--seed", "4", "--out", str(tmp_path), "--quiet"],
                out=out) == 0
    assert f"report written to {tmp_path / 'report.html'}" in out.getvalue()
    customers = pd.read_csv(tmp_path / "customers.csv", index_col=0)
    assert len(customers) == 800


def test_module_entry_point_progress_and_argument_errors(tmp_path):
    run = subprocess.run([sys.executable, "-m", "crmkit", "report", "--customers", "600",
                          "--out", str(tmp_path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "simulating a demo of 600 customers" in run.stderr
    assert "fitting BG/NBD on 600 customers" in run.stderr
    assert (tmp_path / "report.html").exists()
    missing = subprocess.run([sys.executable, "-m", "crmkit"], capture_output=True, text=True,
                             check=False)
    assert missing.returncode == 2
    unknown = subprocess.run([sys.executable, "-m", "crmkit", "report", "--nope"],
                             capture_output=True, text=True, check=False)
    assert unknown.returncode == 2 and "unrecognized arguments: --nope" in unknown.stderr
