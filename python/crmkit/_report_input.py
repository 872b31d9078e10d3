"""Input of the report: reading and checking the user's CSV files, or simulating the demo.

Every problem a user can fix becomes one :class:`ReportInputError` whose message says what is
wrong, where, and how to fix it; ``python -m crmkit report`` prints it as one line.
"""

from __future__ import annotations

import csv
import difflib
import os
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from . import _core
from ._csv import read_transactions
from .data import simulate_transactions

__all__ = ["ReportInputError", "Columns", "load_transactions", "load_survey",
           "load_order_lines", "read_survey_cells", "simulate_demo"]

# Column roles: each is found among the header names people commonly use for it, by the
# library (crmkit::data::find_common_column), as the C++ tool finds them.
# The demo: customers acquired over a quarter, observed for two years (time in weeks).
DEMO_START = "2024-01-01"
DEMO_ACQUISITION_WEEKS = 13
DEMO_HORIZON_WEEKS = 104
DEMO_SURVEY_SHARE = 0.1
DEMO_SURVEY_WEEKS = 52
NPS_SCALE = (0, 10)
CSAT_SCALE = (1, 5)


class ReportInputError(ValueError):
    """A problem with the report's input files or options, with the fix in its message."""


@dataclass(frozen=True)
class Columns:
    """The columns of a transaction log: customer id, date and amount."""

    customer: str
    date: str
    amount: str


def _read_header(path: str, sep: str) -> List[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for line in handle:
                if line.strip():
                    if sep in (r"\s+", "whitespace"):
                        return line.split()
                    return [field.strip() for field in next(csv.reader([line], delimiter=sep))]
    except FileNotFoundError:
        raise ReportInputError(f"file {path} not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ReportInputError(f"cannot read {path}: {error}") from None
    raise ReportInputError(f"{path} is empty: it needs a header line and one row per transaction")


def _pick_column(header: Sequence[str], given: Optional[str], role: str, what: str, option: str,
                 path: str) -> str:
    available = ", ".join(header)
    if given is not None:
        if given in header:
            return given
        close = difflib.get_close_matches(given, header, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ReportInputError(
            f"column '{given}' ({option}) not found in {path}; available: {available}; "
            f"{hint}use {option} NAME"
        )
    found = _optional(header, role)
    if found is not None:
        return found
    raise ReportInputError(
        f"column '{_core.data.common_column_names(role)[0]}' not found in {path} (no {what} "
        "column among the usual names); "
        f"available: {available}; use {option} NAME"
    )


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def load_transactions(path: str, customer_col: Optional[str] = None, date_col: Optional[str] = None,
                      amount_col: Optional[str] = None, sep: str = ",",
                      date_format: Optional[str] = None) -> Tuple[pd.DataFrame, Columns]:
    """Read a transaction CSV, finding the customer, date and amount columns by common names.

    Parameters
    ----------
    path : str
        The file.
    customer_col, date_col, amount_col : str, optional
        Column names; by default the first header name matching a common name
        (``customer_id``, ``order_date``, ``revenue``, ...; case and punctuation ignored).
    sep : str, default ","
        Field separator (see :func:`crmkit.read_transactions`).
    date_format : str, optional
        strptime-style date format; default ISO dates.

    Returns
    -------
    log : pandas.DataFrame
        The three columns, under their names in the file.
    columns : Columns
        The names used.

    Raises
    ------
    ReportInputError
        A missing file or column (listing the available columns and the option to use), or an
        unreadable row (file:line:column, and the ``--date-format`` hint for dates).
    """
    path = os.fspath(path)
    header = _read_header(path, sep)
    if len(header) < 3:
        raise ReportInputError(
            f"{path} has {len(header)} column(s) with sep {sep!r} ({', '.join(header)}); a "
            "transaction log needs customer, date and amount columns; check --sep"
        )
    columns = Columns(
        _pick_column(header, customer_col, "customer", "customer id", "--customer-col", path),
        _pick_column(header, date_col, "date", "date", "--date-col", path),
        _pick_column(header, amount_col, "amount", "amount", "--amount-col", path),
    )
    try:
        log = read_transactions(path, columns.customer, columns.date, columns.amount, sep=sep,
                                date_format=date_format)
    except ValueError as error:
        message = _one_line(error)
        if "fields, found" in message:
            message += f"; is the separator right? (--sep, now {sep!r})"
        elif "as a date" in message and date_format is None:
            message += "; give the format with --date-format, e.g. --date-format %d/%m/%Y"
        elif "as a date" in message:
            message += f"; --date-format is {date_format!r}"
        raise ReportInputError(message) from None
    if len(log) == 0:
        raise ReportInputError(f"{path} has a header but no transactions")
    return log, columns


def read_survey_cells(path: str, text: bool = False) -> pd.DataFrame:
    """Every cell of a survey file (the first step of :func:`load_survey`): as text, or, unless
    `text`, as int64 where every cell of a column is a whole number (pandas' parser reads those
    without making a text object of each cell).

    Raises
    ------
    ReportInputError
        A missing, empty or unreadable file.
    """
    typed = {"low_memory": False} if not text else {"dtype": str}
    try:
        return pd.read_csv(path, keep_default_na=False, skipinitialspace=True, **typed)
    except FileNotFoundError:
        raise ReportInputError(f"survey file {path} not found") from None
    except pd.errors.EmptyDataError:
        raise ReportInputError(
            f"survey file {path} is empty; it needs a header line (customer_id, nps[, csat, "
            "date]) and one row per answer, or leave out --survey"
        ) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise ReportInputError(f"cannot read survey file {path}: {_one_line(error)}") from None


def load_survey(path: str, customer_ids: pd.Series, customer_col: Optional[str] = None,
                nps_col: Optional[str] = None, csat_col: Optional[str] = None,
                date_col: Optional[str] = None,
                cells: Optional[pd.DataFrame] = None) -> pd.DataFrame:
    """Read survey answers: customer id, NPS answer (0-10), optional CSAT (1-5) and date.

    Parameters
    ----------
    path : str
        The CSV file.
    customer_ids : pandas.Index
        The customers of the transaction log; survey ids are read with their type.
    customer_col, nps_col, csat_col, date_col : str, optional
        Column names; by default found by common names (``customer_id``, ``nps``/``score``,
        ``csat``, ``date``/``response_date``). CSAT and date are optional.
    cells : pandas.DataFrame, optional
        ``read_survey_cells(path)`` when already read (the command reads the file on a thread
        while it reads the transaction log).

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id``, ``nps`` and, when present, ``csat`` and ``date``.

    Raises
    ------
    ReportInputError
        An empty file, a missing column, unreadable dates.
    """
    path = os.fspath(path)
    raw = read_survey_cells(path) if cells is None else cells
    columns = (customer_col, nps_col, csat_col, date_col)
    if not (raw.dtypes == object).all():
        # Whole-number columns read as numbers: the answers they give are the same as from
        # their text, but a refusal quotes the cells as written, so it comes from the text.
        try:
            return _survey(raw, path, customer_ids, *columns, text=False)
        except ReportInputError:
            pass
        raw = read_survey_cells(path, text=True)
    return _survey(raw, path, customer_ids, *columns, text=True)


def _survey(raw: pd.DataFrame, path: str, customer_ids: pd.Series, customer_col: Optional[str],
            nps_col: Optional[str], csat_col: Optional[str], date_col: Optional[str],
            text: bool) -> pd.DataFrame:
    """:func:`load_survey` of cells read by :func:`read_survey_cells`; unless `text`, a column
    read as numbers that is not the one a text column would give stops it (ReportInputError)."""
    header = [str(c) for c in raw.columns]
    raw.columns = header
    if len(raw) == 0:
        raise ReportInputError(f"survey file {path} has a header but no answers; add answers or "
                               "leave out --survey")
    customer = _pick_column(header, customer_col, "customer", "customer id",
                            "--survey-customer-col", path)
    score = _pick_column(header, nps_col, "nps", "NPS answer", "--nps-col", path)
    ids = _cells(raw, customer, text, pd.api.types.is_integer_dtype(customer_ids.dtype))
    survey = pd.DataFrame({"customer_id": _ids_like(ids, customer_ids)})
    survey["nps"] = _answers(_cells(raw, score, text), score, path, NPS_SCALE, required=True)
    wanted_csat = csat_col if csat_col is not None else _optional(header, "csat")
    if wanted_csat is not None:
        name = _pick_column(header, wanted_csat, "csat", "CSAT", "--csat-col", path)
        survey["csat"] = _answers(_cells(raw, name, text), name, path, CSAT_SCALE,
                                  required=False)
    wanted_date = date_col if date_col is not None else _optional(header, "survey_date")
    if wanted_date is not None:
        name = _pick_column(header, wanted_date, "survey_date", "date", "--survey-date-col",
                            path)
        dates = pd.to_datetime(_cells(raw, name, text, numbers=False), errors="coerce")
        if dates.isna().any():
            row = int(np.flatnonzero(dates.isna().to_numpy())[0])
            raise ReportInputError(
                f"{path}:{row + 2}: column '{name}': cannot read {raw[name].iloc[row]!r} as a date; "
                "use ISO dates (YYYY-MM-DD)"
            )
        survey["date"] = dates
    return survey


def _cells(raw: pd.DataFrame, name: str, text: bool, numbers: bool = True) -> pd.Series:
    """Column `name` of the cells; unless `text`, one read as anything but text (or, when
    `numbers`, int64) stops the reading of numbers (ReportInputError)."""
    column = raw[name]
    if not text and column.dtype != object and not (numbers and column.dtype == np.int64):
        raise ReportInputError(f"column '{name}' is read from its text")
    return column


def _optional(header: Sequence[str], role: str) -> Optional[str]:
    position = _core.data.find_common_column(list(header), role)
    return None if position is None else header[position]


def _numbers(text: pd.Series) -> pd.Series:
    """The numbers in text cells, white space around them ignored (NaN where there is none):
    pandas' parser for all cells, Python's str.strip only for those it does not read (it leaves
    e.g. no-break spaces)."""
    values = pd.to_numeric(text, errors="coerce")
    unread = values.isna().to_numpy()
    if unread.any():
        values[unread] = pd.to_numeric(text[unread].str.strip(), errors="coerce").to_numpy()
    return values


def _answers(column: pd.Series, name: str, path: str, scale: Tuple[int, int],
             required: bool) -> pd.Series:
    values = _numbers(column)
    low, high = scale
    ok = (values.between(low, high) & (values == values.round())).to_numpy()
    if not required:  # a blank cell is no answer; any other text that is not a number is bad
        blank = values.isna().to_numpy()
        if blank.any():
            blank[blank] = column[blank].str.strip().to_numpy() == ""
        ok |= blank
    bad = ~ok
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ReportInputError(
            f"{path}:{row + 2}: column '{name}': {column.iloc[row]!r} is not a whole number from "
            f"{low} to {high} ({int(bad.sum())} such answer(s)); fix or remove those rows"
        )
    return values


def _ids_like(ids: pd.Series, customer_ids: pd.Index) -> pd.Series:
    if pd.api.types.is_integer_dtype(customer_ids.dtype):
        numeric = _numbers(ids)
        if not numeric.isna().any():
            return numeric.astype(np.int64)
    return ids.str.strip()


def load_order_lines(path: str, customer_ids: pd.Series, customer: str,
                     order_col: Optional[str] = None, product_col: Optional[str] = None,
                     customer_col: Optional[str] = None, date_col: Optional[str] = None,
                     quantity_col: Optional[str] = None, sep: str = ",",
                     date_format: Optional[str] = None) -> pd.DataFrame:
    """Read order lines for the "what to offer whom" section: order id, customer id, date,
    product id and, when present, quantity (a negative quantity is a return).

    Parameters
    ----------
    path : str
        The CSV file.
    customer_ids : pandas.Series
        The customers of the transaction log; the lines' customer ids are read with their type.
    customer : str
        The name the customer column takes (the transaction log's), so offers.csv joins the
        other tables.
    order_col, product_col, customer_col, date_col, quantity_col : str, optional
        Column names; by default found by common names (``order_id``/``invoice``,
        ``product_id``/``sku``/``stockcode``, ``customer_id``, ``date``/``invoice_date``,
        ``quantity``/``qty``). The quantity is optional. Product ids are read as text.
    sep, date_format : str
        As for the transaction log (``--sep``, ``--date-format``).

    Returns
    -------
    pandas.DataFrame
        Columns ``order_id``, `customer`, ``date`` (datetime64), ``product_id`` and, when
        present, ``quantity``.

    Raises
    ------
    ReportInputError
        A missing or empty file, a missing column (with the option to use), a missing id or
        an unreadable date, quantity or customer id (file:line and the column).
    """
    path = os.fspath(path)
    sep_regex = sep in (r"\s+", "whitespace")
    header = _read_header(path, sep)
    names = {
        "order_id": _pick_column(header, order_col, "order", "order id", "--order-col", path),
        customer: _pick_column(header, customer_col, "customer", "customer id",
                               "--lines-customer-col", path),
        "date": _pick_column(header, date_col, "date", "date", "--lines-date-col", path),
        "product_id": _pick_column(header, product_col, "product", "product id",
                                   "--product-col", path),
    }
    wanted_quantity = quantity_col if quantity_col is not None else _optional(header,
                                                                              "quantity")
    if wanted_quantity is not None:
        names["quantity"] = _pick_column(header, wanted_quantity, "quantity", "quantity",
                                         "--quantity-col", path)
    try:
        raw = pd.read_csv(path, sep=r"\s+" if sep_regex else sep, dtype=str,
                          keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig",
                          usecols=sorted(set(names.values())))
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as error:
        raise ReportInputError(f"cannot read order lines {path}: {_one_line(error)}") from None
    if len(raw) == 0:
        raise ReportInputError(f"order lines {path} have a header but no lines; add lines or "
                               "leave out --order-lines")
    for role, name in names.items():
        blank = (raw[name].str.strip() == "").to_numpy()
        if blank.any() and role != "quantity":
            row = int(np.flatnonzero(blank)[0])
            raise ReportInputError(f"{path}:{row + 2}: column '{name}' is empty "
                                   f"({int(blank.sum())} such line(s)); every line needs it")
    lines = pd.DataFrame({"order_id": raw[names["order_id"]].str.strip()})
    lines[customer] = _ids_like(raw[names[customer]], pd.Index(customer_ids))
    if pd.api.types.is_integer_dtype(pd.Index(customer_ids).dtype) and not \
            pd.api.types.is_integer_dtype(lines[customer].dtype):
        row = int(np.flatnonzero(_numbers(raw[names[customer]]).isna().to_numpy())[0])
        raise ReportInputError(
            f"{path}:{row + 2}: column '{names[customer]}': {raw[names[customer]].iloc[row]!r} "
            "is not a customer id like those of the transaction log (whole numbers); check "
            "--lines-customer-col")
    lines["date"] = _dates(raw[names["date"]], names["date"], path, date_format)
    lines["product_id"] = raw[names["product_id"]].str.strip()
    if "quantity" in names:
        quantity = _numbers(raw[names["quantity"]])
        bad = quantity.isna().to_numpy() | ~np.isfinite(quantity.to_numpy(dtype=float))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ReportInputError(
                f"{path}:{row + 2}: column '{names['quantity']}': "
                f"{raw[names['quantity']].iloc[row]!r} is not a number; check --quantity-col")
        lines["quantity"] = quantity.to_numpy(dtype=np.float64)
    return lines


def _dates(cells: pd.Series, name: str, path: str, date_format: Optional[str]) -> pd.Series:
    cells = cells.str.strip()
    if date_format is None:  # ISO dates, a time of day after them ignored (offers are by day)
        iso = cells.str.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[ T].*)?").fillna(False)
        dates = pd.to_datetime(cells.str[:10].where(iso.to_numpy()), format="%Y-%m-%d",
                               errors="coerce")
    else:
        dates = pd.to_datetime(cells, format=date_format, errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        hint = (f"--date-format is {date_format!r}" if date_format else
                "give the format with --date-format, e.g. --date-format %d/%m/%Y")
        raise ReportInputError(f"{path}:{row + 2}: column '{name}': cannot read "
                               f"{cells.iloc[row]!r} as a date; {hint}")
    return dates


def simulate_demo(customers: int, seed: int) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """A demo transaction log and survey answers for a sample of its customers.

    Purchases follow BG/NBD + Gamma-Gamma with the published CDNOW parameters
    (:func:`crmkit.simulate_transactions`), customers joining over 13 weeks and observed for
    104 weeks. A tenth of the customers answer one survey in the last year, at a uniform time
    after their first purchase. Answers depend on the customer's true state: a customer still
    active at the time of answering, buying often and spending much is likelier to recommend;
    satisfaction drifts slightly upwards over the year. NPS is 0-10 and CSAT 1-5.

    Parameters
    ----------
    customers : int
        Number of customers.
    seed : int
        Seed of the purchases and of the answers.

    Returns
    -------
    log : pandas.DataFrame
        ``customer_id``, ``date``, ``amount``.
    survey : pandas.DataFrame
        ``customer_id``, ``date``, ``nps``, ``csat``.
    """
    log, truth = simulate_transactions(customers, start=DEMO_START, freq="W",
                                       acquisition_periods=DEMO_ACQUISITION_WEEKS,
                                       horizon=DEMO_HORIZON_WEEKS, seed=seed)
    rng = np.random.default_rng([seed, 7])
    answering = max(1, int(round(customers * DEMO_SURVEY_SHARE)))
    who = np.sort(rng.choice(customers, size=min(answering, customers), replace=False))
    facts = truth.iloc[who]
    first_week = np.maximum(facts["birth"].to_numpy(), DEMO_HORIZON_WEEKS - DEMO_SURVEY_WEEKS)
    week = first_week + rng.random(len(who)) * (DEMO_HORIZON_WEEKS - first_week)
    active = (facts["death"].to_numpy() > week).astype(float)
    weekly_rate = facts["lambda"].to_numpy()
    mean_spend = 6.25 / facts["nu"].to_numpy()
    drift = (week - (DEMO_HORIZON_WEEKS - DEMO_SURVEY_WEEKS)) / DEMO_SURVEY_WEEKS
    mood = (5.4 + 2.2 * active + 1.5 * np.tanh(4 * weekly_rate) + 0.4 * np.tanh(mean_spend / 50)
            + 0.8 * drift + rng.normal(0.0, 1.7, len(who)))
    nps = np.clip(np.rint(mood), 0, 10).astype(np.int64)
    csat = np.clip(np.rint(1 + (mood + rng.normal(0.0, 0.8, len(who))) * 0.45), 1, 5)
    dates = pd.Timestamp(DEMO_START) + pd.to_timedelta(np.floor(week * 7), unit="D")
    survey = pd.DataFrame({"customer_id": facts.index.to_numpy(dtype=np.int64), "date": dates,
                           "nps": nps, "csat": csat.astype(np.int64)})
    return log, survey
