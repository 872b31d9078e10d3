"""crmkit's command line: ``python -m crmkit`` (also installed as the ``crmkit`` script).

``crmkit report [transactions.csv] [--survey responses.csv] [--order-lines lines.csv] --out DIR``
writes every table as CSV and one self-contained ``report.html`` into DIR. Without a transaction
file it simulates a demo (purchases and survey answers). Order lines add the section "what to
offer whom". Problems with the input stop the command with one line on stderr and exit status 2.

Every other subcommand (``summary``, ``clv``, ``rfm``, ``kmeans``, ``nps``, ``lifecycle``) is the
C++ ``crmkit`` tool's: it is handed over unchanged to the tool shipped in the package
(``crmkit/bin/crmkit``, or ``$CRMKIT_CLI``), so one ``crmkit`` command has one set of
subcommands.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import List, NoReturn, Optional, TextIO

import pandas as pd

from . import __version__
from ._background import Background
from ._report_input import (
    DEMO_HORIZON_WEEKS,
    DEMO_START,
    Columns,
    ReportInputError,
    load_order_lines,
    load_survey,
    load_transactions,
    read_survey_cells,
    simulate_demo,
)
from ._report_cluster import add_cluster_arguments, run_cluster_report
from ._report_text import LANGUAGES, Text
from .report import RFM_RULES, TRANSACTION_MODEL, build_report
from .segment import RFMRuleSet

__all__ = ["main", "run", "DEMO_START", "DEMO_HORIZON_WEEKS"]

EXIT_BAD_INPUT = 2
TOOL_COMMANDS = ("summary", "clv", "rfm", "kmeans", "nps", "lifecycle")
"""Subcommands of the C++ tool, handed over to it."""


def tool_path() -> Optional[str]:
    """The C++ ``crmkit`` tool: ``$CRMKIT_CLI``, else the one shipped in the package (None if
    neither is an executable)."""
    given = os.environ.get("CRMKIT_CLI")
    shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "crmkit")
    for path in (given, shipped):
        if path and os.access(path, os.X_OK):
            return path
    return None


def _run_tool(argv: List[str]) -> int:
    tool = tool_path()
    if tool is None:
        print(f"crmkit {argv[0]}: error: the C++ crmkit tool is not in this installation (build "
              "the package with setup.py, or set CRMKIT_CLI to the tool's path)", file=sys.stderr)
        return EXIT_BAD_INPUT
    sys.stdout.flush()
    sys.stderr.flush()
    return subprocess.run([tool, *argv], check=False).returncode


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmkit", description="Customer analytics for CRM.",
        epilog=f"Also: {', '.join(TOOL_COMMANDS)} (the C++ tool's subcommands; "
               "crmkit COMMAND --help lists their options).")
    parser.add_argument("--version", action="version", version=f"crmkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    report = commands.add_parser(
        "report",
        help="segments, lifetime value, satisfaction: CSV tables and one HTML report",
        description="Summarise a transaction log, fit BG/NBD and Gamma-Gamma, segment customers, "
                    "aggregate survey answers, and write CSV tables and report.html into --out. "
                    "Without a transaction file, a simulated demo is used.",
    )
    report.add_argument("transactions", nargs="?", help="transaction CSV (default: simulated demo)")
    report.add_argument("--survey", help="survey answers CSV: customer id, NPS 0-10 [, CSAT 1-5, "
                                         "date] (with --scheduler also a folder or glob of "
                                         "them)")
    report.add_argument("--out", default="crmkit-report", help="output folder (default "
                                                               "crmkit-report)")
    report.add_argument("--customer-col", help="customer id column (default: found by name, "
                                               "e.g. customer_id)")
    report.add_argument("--date-col", help="date column (default: found by name, e.g. date)")
    report.add_argument("--amount-col", help="amount column (default: found by name, e.g. "
                                             "amount, revenue)")
    report.add_argument("--sep", default=",", help="field separator (default ','; '\\s+' for "
                                                   "runs of spaces)")
    report.add_argument("--date-format", help="strptime date format, e.g. %%d/%%m/%%Y (default "
                                              "ISO YYYY-MM-DD)")
    report.add_argument("--survey-customer-col", help="customer id column of the survey file")
    report.add_argument("--nps-col", help="NPS answer column of the survey file")
    report.add_argument("--csat-col", help="CSAT answer column of the survey file")
    report.add_argument("--survey-date-col", help="answer date column of the survey file")
    report.add_argument("--order-lines", metavar="FILE",
                        help="order lines CSV (order id, customer id, date, product id [, "
                             "quantity]): adds the section \"what to offer whom\" (rules, "
                             "product pairs, offers for the customers slipping away and the "
                             "top-value customers); read with --sep and --date-format")
    report.add_argument("--order-col", help="order id column of the order lines (default: found "
                                            "by name, e.g. order_id, invoice)")
    report.add_argument("--product-col", help="product id column of the order lines (default: "
                                              "found by name, e.g. product_id, sku)")
    report.add_argument("--lines-customer-col", help="customer id column of the order lines")
    report.add_argument("--lines-date-col", help="date column of the order lines")
    report.add_argument("--quantity-col", help="quantity column of the order lines (optional; "
                                               "default: found by name, e.g. quantity, qty; "
                                               "negative = a return)")
    report.add_argument("--rfm-rules", default=RFM_RULES,
                        help=f"RFM rule set naming the segments: {', '.join(RFMRuleSet.BUILTIN)} "
                             f"(default {RFM_RULES}, the 10-segment R x F map)")
    report.add_argument("--model", "--transaction-model", dest="model", default=TRANSACTION_MODEL,
                        help="purchase model behind P(alive), expected purchases, CLV and the "
                             "lifecycle stages: bg_nbd, mbg_nbd or pareto_nbd "
                             f"(default {TRANSACTION_MODEL})")
    report.add_argument("--lang", default="en", choices=LANGUAGES,
                        help="language of report.html and the plots: en (default) or zh "
                             "(Chinese); the CSV tables keep their English column names")
    report.add_argument("--csv-lang", default="en", choices=LANGUAGES,
                        help="language of the CSV tables' column names and of the names of "
                             "stages, tiers and segments in them: en (default, stable names) "
                             "or zh")
    report.add_argument("--customers", type=int, default=20_000,
                        help="demo size in customers (default 20000)")
    report.add_argument("--seed", type=int, default=0, help="seed of the demo and of k-means")
    report.add_argument("--quiet", action="store_true", help="no progress lines")
    add_cluster_arguments(report)
    return parser


def _transactions(arguments: argparse.Namespace, progress: Optional[TextIO], text: Text):
    """The log (read, or simulated with its own survey answers), its columns, and the source."""
    if arguments.transactions is None:
        if arguments.customers < 1:
            raise ReportInputError(f"--customers {arguments.customers} must be at least 1")
        if progress is not None:
            print(f"simulating a demo of {arguments.customers:,} customers "
                  f"(seed {arguments.seed})", file=progress, flush=True)
        log, survey = simulate_demo(arguments.customers, arguments.seed)
        source = text("source.demo", customers=f"{arguments.customers:,}",
                      weeks=DEMO_HORIZON_WEEKS, start=text.date(pd.Timestamp(DEMO_START)),
                      seed=arguments.seed)
        return log, Columns("customer_id", "date", "amount"), survey, source
    log, columns = load_transactions(arguments.transactions, arguments.customer_col,
                                     arguments.date_col, arguments.amount_col, arguments.sep,
                                     arguments.date_format)
    return log, columns, None, text("source.transactions", path=arguments.transactions)


def _run(arguments: argparse.Namespace, out: TextIO) -> None:
    progress = None if arguments.quiet else sys.stderr
    if arguments.scheduler or arguments.sql_url:
        if arguments.order_lines is not None:
            raise ReportInputError("--order-lines is not available with --scheduler or "
                                   "--sql-url yet; run the report on one machine for the "
                                   "\"what to offer whom\" section")
        run_cluster_report(arguments, out, progress)
        return
    text = Text(arguments.lang)
    # The survey file is read on a thread while the transaction log is read or simulated (the
    # library's reader releases the GIL); its errors still come after the log's.
    survey_cells = (None if arguments.survey is None else
                    Background(read_survey_cells, arguments.survey, name="crmkit-survey"))
    try:
        log, columns, survey, source = _transactions(arguments, progress, text)
    finally:
        if survey_cells is not None:
            survey_cells.join()
    if survey_cells is not None:
        survey_cells.wait()
        survey = load_survey(arguments.survey, log[columns.customer], arguments.survey_customer_col,
                             arguments.nps_col, arguments.csat_col, arguments.survey_date_col,
                             cells=survey_cells.value)
        source += text("source.survey", path=arguments.survey)
    order_lines = None
    if arguments.order_lines is not None:
        order_lines = load_order_lines(
            arguments.order_lines, log[columns.customer], columns.customer, arguments.order_col,
            arguments.product_col, arguments.lines_customer_col, arguments.lines_date_col,
            arguments.quantity_col, arguments.sep, arguments.date_format)
        source += text("source.order_lines", path=arguments.order_lines)
    result = build_report(log, arguments.out, columns, survey, seed=arguments.seed,
                          progress=progress, source=source, rfm_rules=arguments.rfm_rules,
                          lang=arguments.lang, csv_lang=arguments.csv_lang,
                          order_lines=order_lines, model=arguments.model)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"report written to {result.html_path} ({len(result.tables)} tables)", file=out)


def main(argv: Optional[List[str]] = None, out: Optional[TextIO] = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, with one line on stderr).
    `out` defaults to the ``sys.stdout`` of the call, not of the import."""
    argv = sys.argv[1:] if argv is None else list(argv)
    out = sys.stdout if out is None else out
    if argv and argv[0] in TOOL_COMMANDS:
        return _run_tool(argv)
    arguments = _parser().parse_args(argv)
    try:
        _run(arguments, out)
    except ReportInputError as error:
        print(f"crmkit {arguments.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def run() -> NoReturn:
    """The installed ``crmkit`` command and ``python -m crmkit``: :func:`main`, then the process
    ends as soon as its output is flushed.

    By then every file is written and closed; what remains is the interpreter freeing what the
    analysis built one object at a time (about a gigabyte of frames and arrays for a report on
    10^6 customers), which took 0.7-1.0 s after the last file was written in a report at that
    size (benchmarks/RESULTS.md, session 9). ``os._exit`` skips it. Exceptions, including
    argparse's ``SystemExit``, still leave through the ordinary path.
    """
    status = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(status)


if __name__ == "__main__":
    run()
