"""crmkit's command line: ``python -m crmkit report`` (also installed as the ``crmkit`` script).

``report`` without a transaction file simulates a demo log (BG/NBD + Gamma-Gamma customers with
the published CDNOW parameters), summarises it per customer and prints a short table.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional, TextIO

import pandas as pd

from . import __version__
from .data import simulate_transactions, summary_data_from_transaction_data

# The demo: customers acquired over a quarter and observed for two years, time in weeks.
DEMO_START = "2024-01-01"
DEMO_ACQUISITION_WEEKS = 13
DEMO_HORIZON_WEEKS = 104


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crmkit", description="Customer analytics for CRM.")
    parser.add_argument("--version", action="version", version=f"crmkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    report = commands.add_parser(
        "report",
        help="summarise customers and print a report",
        description="Without a transaction file: simulate a demo log, summarise it, print a table.",
    )
    report.add_argument("--customers", type=int, default=20_000, help="demo customers (default 20000)")
    report.add_argument("--seed", type=int, default=0, help="seed of the demo simulation (default 0)")
    return parser


def _demo_log(customers: int, seed: int) -> pd.DataFrame:
    log, _ = simulate_transactions(
        customers,
        start=DEMO_START,
        freq="W",
        acquisition_periods=DEMO_ACQUISITION_WEEKS,
        horizon=DEMO_HORIZON_WEEKS,
        seed=seed,
    )
    return log


def report(log: pd.DataFrame, out: TextIO, observation_period_end=None) -> pd.DataFrame:
    """Summarise `log` (customer_id, date, amount) in weeks and print the report to `out`."""
    summary = summary_data_from_transaction_data(
        log, "customer_id", "date", "amount", observation_period_end=observation_period_end,
        freq="D", freq_multiplier=7,
    )
    repeat = summary["frequency"] > 0
    end = summary.attrs["observation_period_end"]
    print(f"Transactions: {len(log):,} from {log['date'].min():%Y-%m-%d} to {end:%Y-%m-%d}, "
          f"revenue {log['amount'].sum():,.2f}", file=out)
    print(f"Customers:    {len(summary):,}, of whom {int(repeat.sum()):,} "
          f"({repeat.mean():.1%}) bought again", file=out)
    print("\nPer customer (recency and T in weeks; monetary value over repeat buyers):", file=out)
    table = pd.DataFrame(
        {
            "frequency": summary["frequency"].describe(),
            "recency": summary["recency"].describe(),
            "T": summary["T"].describe(),
            "monetary value": summary.loc[repeat, "monetary_value"].describe(),
        }
    ).T.drop(columns="count")
    print(table.to_string(float_format=lambda x: f"{x:,.2f}"), file=out)
    print("\nFirst customers:", file=out)
    print(summary.head(5).to_string(float_format=lambda x: f"{x:,.2f}"), file=out)
    return summary


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout) -> int:
    """Run the command line; returns the exit status."""
    arguments = _parser().parse_args(argv)
    if arguments.customers < 1:
        print(f"crmkit report: --customers {arguments.customers} must be at least 1", file=sys.stderr)
        return 2
    print(f"crmkit {__version__}: demo report on {arguments.customers:,} simulated customers "
          f"(BG/NBD + Gamma-Gamma, CDNOW parameters, seed {arguments.seed})\n", file=out)
    end = pd.Timestamp(DEMO_START) + pd.Timedelta(weeks=DEMO_HORIZON_WEEKS)
    report(_demo_log(arguments.customers, arguments.seed), out, observation_period_end=end)
    return 0


if __name__ == "__main__":
    sys.exit(main())
