"""The command line: `python -m crmkit report` and the `crmkit` entry point's argument handling."""

import io
import os
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


def test_the_command_flushes_its_output_before_it_skips_the_teardown(tmp_path):
    # `run` ends the process with os._exit; redirected to a file, stdout is block-buffered (unless
    # PYTHONUNBUFFERED is set, so it is not), so the last line would be lost without a flush.
    out_file = tmp_path / "stdout.txt"
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    with open(out_file, "w") as stdout:
        run = subprocess.run([sys.executable, "-m", "crmkit", "report", "--customers", "300",
                              "--quiet", "--out", str(tmp_path / "report")], stdout=stdout,
                             stderr=subprocess.PIPE, text=True, check=False, env=buffered)
    assert run.returncode == 0, run.stderr
    assert out_file.read_text().startswith(f"report written to {tmp_path / 'report' / 'report.html'} (")
    bad = subprocess.run([sys.executable, "-m", "crmkit", "report", str(tmp_path / "absent.csv"),
                          "--out", str(tmp_path / "bad")], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "absent.csv" in bad.stderr
