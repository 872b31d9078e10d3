"""Reading transaction logs from delimited text files (CSV, TSV, whitespace-separated)."""

from __future__ import annotations

import codecs
import os
import warnings
from typing import Optional, Union

import numpy as np
import pandas as pd

from . import _core

__all__ = ["read_transactions", "write_csv"]

Column = Union[str, int]

_WHITESPACE = " "
_SEPARATOR_ALIASES = {r"\s+": _WHITESPACE, "whitespace": _WHITESPACE}

# The whole seconds pandas can hold as datetime64[ns]: pd.Timestamp.min and .max are
# 1677-09-21 00:12:43.145224193 and 2262-04-11 23:47:16.854775807.
_MIN_SECONDS = -9_223_372_036
_MAX_SECONDS = 9_223_372_036
_NANOSECONDS_PER_SECOND = 1_000_000_000
_ROWS_NAMED_IN_WARNING = 5


class SkippedRowsWarning(UserWarning):
    """``read_transactions(..., on_bad_row="skip")`` left rows out.

    The warning says how many and names the first few; the returned DataFrame lists all of
    them in ``df.attrs["skipped_rows"]``.
    """


def _column_argument(name: str, column: Column) -> Column:
    if isinstance(column, str):
        return column
    if isinstance(column, (int, np.integer)) and not isinstance(column, (bool, np.bool_)):
        if column < 0:
            raise ValueError(
                f"read_transactions: {name} = {column} must be a 0-based position >= 0"
            )
        return int(column)
    raise TypeError(
        f"read_transactions: {name} = {column!r} must be a column name (str) or a 0-based "
        f"position (int), not {type(column).__name__}"
    )


def _delimiter(sep: str) -> str:
    if not isinstance(sep, str):
        raise TypeError(f"read_transactions: sep = {sep!r} must be a str")
    if sep in _SEPARATOR_ALIASES:
        return _SEPARATOR_ALIASES[sep]
    if sep == _WHITESPACE:
        raise ValueError(
            "read_transactions: sep = ' ' (one space) is ambiguous; use sep=r'\\s+' to split on "
            "runs of spaces and tabs"
        )
    if len(sep) != 1 or not sep.isascii():
        raise ValueError(
            f"read_transactions: sep = {sep!r} must be one ASCII character (such as ',', ';', "
            "'\\t', '|') or r'\\s+' for runs of spaces and tabs"
        )
    return sep


_UTF8_CODECS = {"utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig", "u8"}


def _transcoded_to_utf8(source: str, encoding: Optional[str]) -> Optional[bytes]:
    """The file as UTF-8 bytes when ``encoding`` is another codec; None lets C++ read it."""
    if encoding is None:
        return None
    if not isinstance(encoding, str):
        raise TypeError(f"read_transactions: encoding = {encoding!r} must be a str or None")
    if encoding.lower() in _UTF8_CODECS:
        return None
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(
            f"read_transactions: encoding = {encoding!r} is not a codec Python knows"
        ) from None
    try:
        with open(source, "rb") as file:
            raw = file.read()
    except OSError as error:
        raise ValueError(f"read_transactions: cannot open {source!r}: {error.strerror}") from None
    try:
        return raw.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise ValueError(
            f"{source}:{line}:{column}: byte 0x{raw[error.start]:02X} cannot be decoded as "
            f"{encoding} ({error.reason})"
        ) from None


def read_transactions(
    path: Union[str, os.PathLike],
    customer_id_col: Column = "customer_id",
    datetime_col: Column = "date",
    monetary_value_col: Optional[Column] = None,
    sep: str = ",",
    header: bool = True,
    date_format: Optional[str] = None,
    on_bad_row: str = "error",
    encoding: Optional[str] = None,
) -> pd.DataFrame:
    """Read a transaction log from a delimited text file, strictly and in parallel.

    The file is parsed by crmkit's C++ reader (``crmkit::data::read_transactions``), which cuts
    it into chunks at line ends and reads them on all threads (see
    ``crmkit.set_num_threads``); the result does not depend on the thread count.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    customer_id_col : str or int, default "customer_id"
        The customer id column: a header name, or a 0-based position (with or without a header).
    datetime_col : str or int, default "date"
        The transaction date or datetime column.
    monetary_value_col : str or int, optional
        The amount column; without it the result has no amount column.
    sep : str, default ","
        Field separator: one character (``","``, ``";"``, ``"\\t"``, ``"|"``, ...), or
        ``r"\\s+"`` (also ``"whitespace"``) for runs of spaces and tabs, ignored at the start and
        end of a line, as in the CDNOW files.
    header : bool, default True
        Whether the first non-blank line holds column names. Without a header, columns must be
        given by position and every row must have as many fields as the first.
    date_format : str, optional
        A strptime-style format such as ``"%d/%m/%Y"`` (directives ``%Y %y %m %d %b %H %M %S
        %f %%``). By default dates are read as ``YYYY-MM-DD``, ``YYYYMMDD``,
        ``YYYY-MM-DDTHH:MM[:SS[.fff]]`` or ``YYYY-MM-DD HH:MM[:SS[.fff]]``, optionally ending
        in ``Z``.
    on_bad_row : {"error", "skip"}, default "error"
        ``"error"`` raises on the first row that cannot be read; ``"skip"`` leaves such rows
        out, warns with a :class:`SkippedRowsWarning` and lists them in
        ``df.attrs["skipped_rows"]``.
    encoding : str, optional
        The file's text encoding. By default (or ``"utf-8"``, ``"utf-8-sig"``) the file is read
        as UTF-8, with or without a byte-order mark: a UTF-16/UTF-32 file raises a ValueError
        saying so, and a customer id that is not UTF-8 is a bad row naming the byte. Any other
        Python codec (``"latin-1"``, ``"utf-16"``, ``"cp1252"``, ...) decodes the file first;
        a byte the codec cannot decode raises a ValueError naming file:line:column and the byte.

    Returns
    -------
    pandas.DataFrame
        One row per transaction in file order, with a RangeIndex and the columns named as the
        arguments given: the customer id (int64 when every id is an integer, else str objects
        holding each id's exact text), the datetime (datetime64[ns]) and, when asked for, the
        amount (float64). ``df.attrs["skipped_rows"]`` is a DataFrame with columns ``line``,
        ``column`` and ``reason`` (empty unless rows were skipped).

    Raises
    ------
    ValueError
        A file that cannot be read, a missing column (the message lists the header and
        suggests a close match), an empty file or a header without rows, and, unless
        ``on_bad_row="skip"``, any bad row: the message reads
        ``file:line:column: column 'date': cannot parse '1997-13-01' as a date (expected ...)``.
    TypeError
        A column argument that is neither a str nor an int.

    Warns
    -----
    SkippedRowsWarning
        With ``on_bad_row="skip"``, when rows were left out: how many, and the first few.

    Notes
    -----
    Format: quoted fields (``"..."``, with ``""`` for a quote) may hold separators and line
    breaks; LF and CRLF line ends; a UTF-8 byte-order mark is ignored; blank lines are ignored;
    spaces and tabs around unquoted fields are trimmed.

    Bad rows: a wrong number of fields, an unterminated quote or text after a closing quote, an
    empty customer id, a date that is not one of the forms above or not a calendar date (month
    1-12, day within the month, leap years), a date outside pandas' datetime64[ns] range, and
    an amount that is empty, not a number, NaN or infinite. Nothing is silently dropped or
    turned into NaN.

    Customer ids: when every id is an integer (``"00042"`` is 42), the column is int64;
    otherwise every id keeps its exact text (``"007"`` and ``"7"`` are different customers).
    Times carry no time zone and are whole seconds (fractions are truncated).

    Differences from ``pandas.read_csv(..., parse_dates=[...])``: pandas pads short rows with
    NaN, keeps unparsable dates as strings or NaT and reads ``"nan"`` amounts as NaN; crmkit
    treats each of these as a bad row.

    Examples
    --------
    >>> import crmkit
    >>> df = crmkit.read_transactions("CDNOW_master.txt", "customer_id", "date",
    ...                               "dollar_value", sep=r"\\s+")  # doctest: +SKIP
    >>> sample = crmkit.read_transactions("CDNOW_sample.txt", 1, 2, 4, sep=r"\\s+",
    ...                                   header=False)  # doctest: +SKIP
    """
    frame = _read_log(path, customer_id_col, datetime_col, monetary_value_col, sep, header,
                      date_format, on_bad_row, encoding)
    skipped = frame.attrs["skipped_rows"]
    if len(skipped):
        named = "; ".join(
            f"line {row.line}, column {row.column}: {row.reason}"
            for row in skipped.head(_ROWS_NAMED_IN_WARNING).itertuples()
        )
        more = len(skipped) - _ROWS_NAMED_IN_WARNING
        warnings.warn(
            f"read_transactions: skipped {len(skipped)} bad row(s) of {os.fspath(path)!r}: {named}"
            + (f"; and {more} more" if more > 0 else "")
            + ". All are listed in df.attrs['skipped_rows'].",
            SkippedRowsWarning,
            stacklevel=2,
        )
    return frame


def _read_log(path, customer_id_col, datetime_col, monetary_value_col=None, sep=",",
              header=True, date_format=None, on_bad_row="error", encoding=None) -> pd.DataFrame:
    """:func:`read_transactions` without its warning: the skipped rows only in
    ``attrs["skipped_rows"]`` (for Dask's thread workers, where ``warnings.catch_warnings`` is
    not thread-safe)."""
    source = os.fspath(path)
    customer_id_col = _column_argument("customer_id_col", customer_id_col)
    datetime_col = _column_argument("datetime_col", datetime_col)
    if monetary_value_col is not None:
        monetary_value_col = _column_argument("monetary_value_col", monetary_value_col)
    if not isinstance(header, (bool, np.bool_)):
        raise TypeError(
            f"read_transactions: header = {header!r} must be True (the first line names the "
            "columns) or False"
        )
    if date_format is not None and not isinstance(date_format, str):
        raise TypeError(f"read_transactions: date_format = {date_format!r} must be a str or None")

    result = _core.data.read_transactions(
        source,
        text=_transcoded_to_utf8(source, encoding),
        customer_id_col=customer_id_col,
        datetime_col=datetime_col,
        monetary_value_col=monetary_value_col,
        delimiter=_delimiter(sep),
        header=bool(header),
        date_format=date_format or "",
        on_bad_row=on_bad_row,
        min_timestamp=_MIN_SECONDS,
        max_timestamp=_MAX_SECONDS,
    )

    customer = result["customer"]
    if result["customer_labels"]:
        customer = np.array(result["customer_labels"], dtype=object)[customer]
    timestamp = result["timestamp"]
    timestamp *= _NANOSECONDS_PER_SECOND
    columns = {customer_id_col: customer, datetime_col: timestamp.view("datetime64[ns]")}
    if monetary_value_col is not None:
        columns[monetary_value_col] = result["amount"]
    frame = pd.DataFrame(columns, copy=False)

    frame.attrs["skipped_rows"] = pd.DataFrame(result["skipped"]).astype({"reason": object})
    return frame


def _csv_cells(values: pd.Series):
    """A column as the C++ writer takes it: float64, int64, or (int32 codes, str labels)."""
    dtype = values.dtype
    integer = pd.api.types.is_integer_dtype(dtype)  # False for bool and categorical columns
    if integer and dtype.kind == "u" and len(values) and values.max() > np.iinfo(np.int64).max:
        integer = False  # uint64 beyond int64: written as the text of each value, not wrapped
    elif integer and not values.hasnans:
        return np.ascontiguousarray(values.to_numpy(dtype=np.int64))
    if integer or pd.api.types.is_float_dtype(dtype):
        return np.ascontiguousarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
    if pd.api.types.is_datetime64_dtype(dtype):
        dates = values.dropna()
        midnight = (dates == dates.dt.normalize()).all()
        values = values.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S")
    codes, uniques = pd.factorize(values, sort=False)
    return codes.astype(np.int32), [str(label) for label in uniques]


def write_csv(frame: pd.DataFrame, path: Union[str, os.PathLike], index: bool = True) -> None:
    """Write a DataFrame as CSV, like ``frame.to_csv(path, index=index)`` but many times faster.

    Rows are formatted in parallel by crmkit's C++ writer and written in order, so the file does
    not depend on the thread count. Numbers use the fewest digits that read back to the same
    float64 (``1.0`` is written ``1``), missing values are empty cells, and text is quoted only
    where it holds a comma, a quote or a line break.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table. Numeric columns are written as numbers; every other column (text,
        categorical, boolean, dates) as the text of its values.
    path : str or os.PathLike
        The file to write.
    index : bool, default True
        Write the index (its levels) as the first column(s), as pandas does.

    Raises
    ------
    ValueError
        When the file cannot be written (naming the path and the reason).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"write_csv: frame must be a pandas DataFrame, got {type(frame).__name__}")
    names, columns = [], []
    if index:
        for level, name in enumerate(frame.index.names):
            names.append("" if name is None else str(name))
            columns.append(_csv_cells(pd.Series(frame.index.get_level_values(level))))
    for position, name in enumerate(frame.columns):
        names.append(str(name))
        columns.append(_csv_cells(frame.iloc[:, position]))
    _core.data.write_csv(os.fspath(path), names, columns)
