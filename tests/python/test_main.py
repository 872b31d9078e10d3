"""The main job: `python -m crmkit report` simulates a demo log and prints its summary."""

import io
import subprocess
import sys

import pandas as pd

from crmkit.__main__ import DEMO_HORIZON_WEEKS, DEMO_START, main
from crmkit.data import simulate_transactions


def test_report_prints_the_counts_of_its_simulation():
    out = io.StringIO()
    assert main(["report", "--customers", "3000", "--seed", "4"], out=out) == 0
    text = out.getvalue()
    # The same simulation, summarised independently with pandas: transactions, revenue and the
    # number of customers who bought on more than one day.
    log, _ = simulate_transactions(3000, seed=4, start=DEMO_START, freq="W", acquisition_periods=13,
                                   horizon=DEMO_HORIZON_WEEKS)
    repeaters = (log.groupby("customer_id")["date"].apply(lambda d: d.dt.normalize().nunique()) > 1).sum()
    assert f"Transactions: {len(log):,} " in text
    assert f"revenue {log['amount'].sum():,.2f}" in text
    assert f"Customers:    3,000, of whom {repeaters:,} " in text
    end = pd.Timestamp(DEMO_START) + pd.Timedelta(weeks=DEMO_HORIZON_WEEKS)
    assert f"to {end:%Y-%m-%d}" in text
    for row in ("frequency", "recency", "T", "monetary value", "First customers:"):
        assert row in text


def test_module_entry_point_and_argument_errors():
    run = subprocess.run([sys.executable, "-m", "crmkit", "report", "--customers", "500"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "demo report on 500 simulated customers" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "crmkit", "report", "--customers", "0"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "--customers 0 must be at least 1" in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "crmkit"], capture_output=True, text=True, check=False)
    assert missing.returncode == 2
