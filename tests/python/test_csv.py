"""crmkit.read_transactions against pandas.read_csv + pd.to_datetime (the independent reference),
hand-made files for every feature and every bad input, and the CDNOW files."""

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crmkit
from crmkit._csv import SkippedRowsWarning, read_transactions

SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"
DATE_HELP = "as a date (expected YYYY-MM-DD, YYYYMMDD or ISO datetime)"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared reference data folder is not here)")
    return path


@pytest.fixture
def threads():
    saved = crmkit.num_threads()
    yield crmkit.set_num_threads
    crmkit.set_num_threads(saved)


def pandas_reference(path, id_col, date_col, amount_col=None, date_format=None, **read_csv):
    """What plain pandas makes of the same file, in crmkit's column layout."""
    frame = pd.read_csv(path, **read_csv)
    columns = [id_col, date_col] + ([amount_col] if amount_col is not None else [])
    frame = frame[columns].copy()
    frame[date_col] = pd.to_datetime(frame[date_col].astype(str), format=date_format)
    if amount_col is not None:
        frame[amount_col] = frame[amount_col].astype("float64")
    return frame.reset_index(drop=True)


def test_columns_by_name_match_pandas(tmp_path):
    path = write(
        tmp_path,
        "t.csv",
        "amount,customer_id,date,channel\n12.5,7,1997-01-01,web\n-3,42,1997-01-02,shop\n"
        "0,7,1997-12-31,web\n",
    )
    got = read_transactions(path, "customer_id", "date", "amount")
    assert list(got.columns) == ["customer_id", "date", "amount"]
    assert got.dtypes.tolist() == [np.dtype(t) for t in ("int64", "datetime64[ns]", "float64")]
    pd.testing.assert_frame_equal(got, pandas_reference(path, "customer_id", "date", "amount"))
    assert got.attrs["skipped_rows"].empty
    without_amount = read_transactions(str(path))
    assert list(without_amount.columns) == ["customer_id", "date"]


def test_positions_name_the_columns_like_pandas_without_header(tmp_path):
    path = write(tmp_path, "n.txt", "7;1997-01-01;1.5\n8;1997-01-02;2.5\n")
    got = read_transactions(path, 0, 1, 2, sep=";", header=False)
    expected = pandas_reference(path, 0, 1, 2, sep=";", header=None)
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_single_character_separators(tmp_path, sep):
    rows = [
        "customer_id,date,amount",
        "a,1997-01-01,1.25",
        "b,2000-02-29T10:30:00,-2",
        "a,19970105,0",
    ]
    path = write(tmp_path, "s.txt", "\n".join(row.replace(",", sep) for row in rows) + "\n")
    got = read_transactions(path, monetary_value_col="amount", sep=sep)
    assert got["customer_id"].tolist() == ["a", "b", "a"]
    assert got["date"].tolist() == [
        pd.Timestamp("1997-01-01"),
        pd.Timestamp("2000-02-29 10:30:00"),
        pd.Timestamp("1997-01-05"),
    ]
    assert got["amount"].tolist() == [1.25, -2.0, 0.0]


def test_whitespace_separator(tmp_path):
    text = "  id   date\tamount\r\n 7  1997-01-01   12.5  \r\n\t42\t20000229 -3\r\n\r\n"
    path = write(tmp_path, "w.txt", text)
    for sep in (r"\s+", "whitespace"):
        got = read_transactions(path, "id", "date", "amount", sep=sep)
        expected = pandas_reference(path, "id", "date", "amount", sep=r"\s+")
        pd.testing.assert_frame_equal(got, expected)


def test_string_ids_keep_their_text_and_match_pandas(tmp_path):
    path = write(
        tmp_path,
        "l.csv",
        'customer_id,date\n007,1997-01-01\n7,1997-01-02\nx,1997-01-03\n"a ""q"", b",1997-01-04\n'
        '"two\nlines",1997-01-05\n007,1997-01-06\n',
    )
    got = read_transactions(path)
    assert got["customer_id"].dtype == object
    assert all(isinstance(value, str) for value in got["customer_id"])
    expected = pandas_reference(path, "customer_id", "date", dtype={"customer_id": str})
    pd.testing.assert_frame_equal(got, expected)


def test_quotes_crlf_bom_and_blank_lines_match_pandas(tmp_path):
    text = (
        "\ufeffcustomer_id,note,date,amount\r\n"
        '1,"a, b",1997-01-01,1\r\n'
        '2,"say ""hi""\r\nthere",1997-01-02 13:45:10,2\r\n'
        "\r\n"
        "3,,1997-01-03T08:00Z,3\r\n"
        "\r\n"
    )
    path = write(tmp_path, "q.csv", text)
    got = read_transactions(path, monetary_value_col="amount")
    reference = pd.read_csv(path, encoding="utf-8-sig")
    assert got["customer_id"].tolist() == reference["customer_id"].tolist()
    assert got["amount"].tolist() == reference["amount"].tolist()
    assert got["date"].tolist() == [
        pd.Timestamp("1997-01-01"),
        pd.Timestamp("1997-01-02 13:45:10"),
        pd.Timestamp("1997-01-03 08:00"),
    ]
    assert reference["note"].tolist()[:2] == ["a, b", 'say "hi"\r\nthere']


def test_date_format_matches_pandas(tmp_path):
    path = write(tmp_path, "f.csv", "customer_id,date\n1,31/12/1997\n2,1/2/1997\n3,29/02/2000\n")
    got = read_transactions(path, date_format="%d/%m/%Y")
    expected = pandas_reference(path, "customer_id", "date", date_format="%d/%m/%Y")
    pd.testing.assert_frame_equal(got, expected)


def test_pathlike_and_str_paths_agree(tmp_path):
    path = write(tmp_path, "p.csv", "customer_id,date\n1,1997-01-01\n")
    pd.testing.assert_frame_equal(read_transactions(path), read_transactions(str(path)))


def message_of(error_info, path):
    return str(error_info.value).replace(str(path), "FILE")


@pytest.mark.parametrize(
    "row, message",
    [
        ("2,1997-13-01,5", f"FILE:3:3: column 'date': cannot parse '1997-13-01' {DATE_HELP}"),
        ("2,1997-02-29,5", f"FILE:3:3: column 'date': cannot parse '1997-02-29' {DATE_HELP}"),
        ("2,1997-01-02,abc", "FILE:3:14: column 'amount': cannot parse 'abc' as a number"),
        ("2,1997-01-02,nan", "FILE:3:14: column 'amount': 'nan' is not a finite number"),
        ("2,1997-01-02,inf", "FILE:3:14: column 'amount': 'inf' is not a finite number"),
        ("2,1997-01-02,", "FILE:3:14: column 'amount': empty field, expected a number"),
        (",1997-01-02,5", "FILE:3:1: column 'customer_id': empty customer id"),
        ("2,1997-01-02", "FILE:3:1: expected 3 fields, found 2"),
        ("2,1997-01-02,5,6", "FILE:3:1: expected 3 fields, found 4"),
        ('2,"1997-01-02,5', "FILE:3:3: unterminated quoted field: no closing '\"'"),
        (
            '2,"1997-01-02"x,5',
            "FILE:3:15: unexpected 'x' after the closing quote of a quoted field",
        ),
        (
            "2,2300-01-01,5",
            "FILE:3:3: column 'date': '2300-01-01' is outside the supported range "
            "1677-09-21T00:12:44 .. 2262-04-11T23:47:16",
        ),
    ],
)
def test_bad_rows_raise_with_file_line_column(tmp_path, row, message):
    path = write(tmp_path, "bad.csv", f"customer_id,date,amount\n1,1997-01-01,10\n{row}\n")
    with pytest.raises(ValueError) as error_info:
        read_transactions(path, monetary_value_col="amount")
    assert message_of(error_info, path) == message


def test_missing_columns_list_the_header_and_suggest(tmp_path):
    path = write(tmp_path, "c.csv", "customer_id,date,amount\n1,1997-01-01,10\n")
    with pytest.raises(ValueError) as error_info:
        read_transactions(path, monetary_value_col="amout")
    assert message_of(error_info, path) == (
        "FILE:1:1: no column named 'amout' (monetary_value_col); the header has 'customer_id', "
        "'date', 'amount' (did you mean 'amount'?)"
    )
    with pytest.raises(ValueError, match="is a column name, but the file has no header"):
        read_transactions(path, header=False)
    with pytest.raises(ValueError, match="datetime_col is position 7, but the header has 3 fields"):
        read_transactions(path, datetime_col=7)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "FILE: the file is empty (no header and no rows)"),
        ("\n\n", "FILE: the file is empty (no header and no rows)"),
        ("customer_id,date\n", "FILE:1:1: no data rows after the header"),
    ],
)
def test_empty_files_and_header_only(tmp_path, text, message):
    path = write(tmp_path, "e.csv", text)
    with pytest.raises(ValueError) as error_info:
        read_transactions(path)
    assert message_of(error_info, path) == message


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "absent.csv"
    message = f"cannot open '{path}': No such file or directory"
    with pytest.raises(ValueError, match=re.escape(message)):
        read_transactions(path)


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"sep": " "}, ValueError, re.escape("ambiguous; use sep=r'\\s+'")),
        ({"sep": ",,"}, ValueError, "must be one ASCII character"),
        ({"sep": "é"}, ValueError, "must be one ASCII character"),
        ({"header": 0}, TypeError, "header = 0 must be True"),
        ({"sep": '"'}, ValueError, "cannot be a double quote"),
        ({"sep": 5}, TypeError, "must be a str"),
        ({"customer_id_col": True}, TypeError, r"must be a column name \(str\) or a 0-based"),
        ({"datetime_col": -1}, ValueError, "datetime_col = -1 must be a 0-based position >= 0"),
        ({"on_bad_row": "ignore"}, ValueError, "on_bad_row: 'ignore' is not one of 'error', 'skip'"),
        ({"date_format": "%d/%m"}, ValueError, "date_format '%d/%m' has no year"),
        ({"date_format": 3}, TypeError, "date_format = 3 must be a str or None"),
    ],
)
def test_bad_arguments(tmp_path, arguments, error, match):
    path = write(tmp_path, "ok.csv", "customer_id,date\n1,1997-01-01\n")
    with pytest.raises(error, match=match):
        read_transactions(path, **arguments)


def test_skipped_rows_warn_and_are_listed(tmp_path):
    path = write(
        tmp_path,
        "skip.csv",
        "customer_id,date,amount\n1,1997-01-01,10\n2,1997-02-30,5\n3,1997-01-02,x\n"
        "4,1997-01-03,4\n",
    )
    expected_warning = r"skipped 2 bad row\(s\) of .*line 3, column 3: column 'date'"
    with pytest.warns(SkippedRowsWarning, match=expected_warning):
        got = read_transactions(path, monetary_value_col="amount", on_bad_row="skip")
    assert got["customer_id"].tolist() == [1, 4]
    assert got["amount"].tolist() == [10.0, 4.0]
    skipped = got.attrs["skipped_rows"]
    assert skipped["line"].tolist() == [3, 4]
    assert skipped["column"].tolist() == [3, 14]
    assert skipped["reason"].tolist() == [
        f"column 'date': cannot parse '1997-02-30' {DATE_HELP}",
        "column 'amount': cannot parse 'x' as a number",
    ]


def test_many_skipped_rows_are_summarised(tmp_path):
    rows = "".join(f"{i},bad{i}\n" for i in range(8))
    path = write(tmp_path, "many.csv", "customer_id,date\n" + rows)
    expected_warning = r"skipped 8 bad row\(s\).*; and 3 more\. All are listed"
    with pytest.warns(SkippedRowsWarning, match=expected_warning):
        got = read_transactions(path, on_bad_row="skip")
    assert len(got) == 0
    assert got.dtypes.tolist() == [np.dtype("int64"), np.dtype("datetime64[ns]")]
    assert len(got.attrs["skipped_rows"]) == 8


def big_log_text(rows: int, seed: int) -> str:
    """A log with string ids, quoted notes holding separators and line breaks, CRLF and LF."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, rows // 10 + 1, rows)
    days = rng.integers(0, 3000, rows)
    seconds = rng.integers(0, 86400, rows)
    amounts = np.round(rng.gamma(2.0, 20.0, rows), 2)
    start = np.datetime64("1995-01-01T00:00:00")
    dates = (start + days.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")).astype(str)
    notes = np.where(rng.random(rows) < 0.1, '"multi\nline, ""note"""', "plain")
    ends = np.where(rng.random(rows) < 0.5, "\r\n", "\n")
    lines = [
        f"c{i},{note},{date},{amount!r}{end}"
        for i, note, date, amount, end in zip(ids, notes, dates, amounts, ends)
    ]
    return "customer_id,note,date,amount\n" + "".join(lines)


def test_large_file_is_identical_for_1_and_4_threads_and_matches_pandas(tmp_path, threads):
    # About 12 MB: a dozen chunks of 1 MiB, with quoted line breaks across many chunk boundaries.
    path = write(tmp_path, "big.csv", big_log_text(300_000, seed=3))
    threads(1)
    one = read_transactions(path, monetary_value_col="amount")
    threads(4)
    four = read_transactions(path, monetary_value_col="amount")
    pd.testing.assert_frame_equal(one, four)
    expected = pandas_reference(path, "customer_id", "date", "amount", dtype={"customer_id": str})
    pd.testing.assert_frame_equal(four, expected)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(
        st.text(alphabet=st.sampled_from('ab ,"\n\r;x1'), min_size=1, max_size=6),
        min_size=1,
        max_size=30,
    ),
    data=st.data(),
)
def test_round_trip_of_pandas_to_csv(tmp_path, ids, data):
    # Whatever pandas writes with every field quoted, crmkit reads back exactly. The id "x"
    # makes sure not every id is an integer, so all of them stay text.
    ids = ids + ["x"]
    n = len(ids)
    seconds = data.draw(
        st.lists(st.integers(-2_000_000_000, 4_000_000_000), min_size=n, max_size=n)
    )
    amounts = data.draw(
        st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=n, max_size=n)
    )
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "date": pd.to_datetime(np.array(seconds, dtype="int64"), unit="s"),
            "amount": np.array(amounts, dtype="float64"),
        }
    )
    path = tmp_path / "round.csv"
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    got = read_transactions(path, monetary_value_col="amount")
    pd.testing.assert_frame_equal(got, frame)


def test_cdnow_sample_matches_an_independent_reading():
    path = shared_file("CDNOW_sample.txt")
    got = read_transactions(path, 1, 2, 4, sep=r"\s+", header=False)
    assert len(got) == 6919
    assert got[1].nunique() == 2357
    # Independent: split the lines by hand and add the amounts in file order.
    fields = [line.split() for line in path.read_text().splitlines() if line.strip()]
    assert sum(float(f[4]) for f in fields) == sum(got[4].tolist())
    assert [int(f[1]) for f in fields] == got[1].tolist()
    expected = pandas_reference(path, 1, 2, 4, date_format="%Y%m%d", sep=r"\s+", header=None)
    pd.testing.assert_frame_equal(got, expected)


def test_cdnow_master_with_header_matches_pandas(threads):
    path = shared_file("CDNOW_master.txt")
    threads(1)
    one = read_transactions(path, "customer_id", "date", "dollar_value", sep=r"\s+")
    threads(4)
    got = read_transactions(path, "customer_id", "date", "dollar_value", sep=r"\s+")
    pd.testing.assert_frame_equal(one, got)
    assert len(got) == 69659
    assert got["customer_id"].nunique() == 23570
    assert (got["dollar_value"] == 0).sum() == 80  # as the data README says
    expected = pandas_reference(
        path, "customer_id", "date", "dollar_value", date_format="%Y%m%d", sep=r"\s+"
    )
    pd.testing.assert_frame_equal(got, expected)


def test_write_csv_reads_back_as_pandas_to_csv_does(tmp_path):
    # Independent reference: pandas' own to_csv of the same frame, read back by read_csv.
    rng = np.random.default_rng(3)
    n = 20_000
    frame = pd.DataFrame({
        "value": rng.lognormal(size=n) * 1e3,
        "tiny": rng.random(n) * 1e-9,
        "count": rng.integers(-5, 10**12, size=n),
        "segment": pd.Categorical(rng.choice(["Champions", "At risk, high value", 'say "hi"'], n)),
        "flag": rng.random(n) > 0.5,
        "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
        "maybe": pd.array(rng.integers(0, 3, n), dtype="Int64"),
    }, index=pd.Index([f"c{i}" for i in range(n)], name="customer"))
    frame.loc["c7", "value"] = np.nan
    frame.loc["c8", "maybe"] = pd.NA
    frame.loc["c9", "segment"] = np.nan
    ours, theirs = tmp_path / "ours.csv", tmp_path / "theirs.csv"
    crmkit.data.write_csv(frame, ours)
    frame.to_csv(theirs)
    pd.testing.assert_frame_equal(pd.read_csv(ours, index_col=0), pd.read_csv(theirs, index_col=0))

    crmkit.data.write_csv(frame.reset_index(drop=True), ours, index=False)
    frame.reset_index(drop=True).to_csv(theirs, index=False)
    pd.testing.assert_frame_equal(pd.read_csv(ours), pd.read_csv(theirs))


def test_write_csv_names_the_unwritable_path(tmp_path):
    missing = tmp_path / "no-such-folder" / "table.csv"
    with pytest.raises(ValueError, match=r"cannot write '.*no-such-folder/table.csv': No such file"):
        crmkit.data.write_csv(pd.DataFrame({"a": [1.0]}), missing)
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame"):
        crmkit.data.write_csv([1, 2], tmp_path / "x.csv")


# Issue 13, defect 8: UTF-16 and Latin-1 files raised a ValueError with an empty message or a raw
# UnicodeDecodeError, and on_bad_row="skip" failed instead of skipping.
def test_utf16_file_is_refused_by_name_and_read_with_encoding(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_text("customer_id,date,amount\ncafé,2020-01-01,1.5\n", encoding="utf-16")
    with pytest.raises(ValueError, match=r"u16\.csv:1:1: the file is UTF-16-LE .*encoding='utf-16'"):
        read_transactions(path, monetary_value_col="amount")
    frame = read_transactions(path, monetary_value_col="amount", encoding="utf-16")
    assert frame["customer_id"].tolist() == ["café"]
    assert frame["amount"].tolist() == [1.5]


def test_latin1_ids_are_bad_rows_naming_the_byte_or_read_with_encoding(tmp_path):
    path = tmp_path / "l1.csv"
    path.write_bytes(b"customer_id,date\ncaf\xe9,2020-01-01\nbob,2020-01-02\n")
    with pytest.raises(ValueError, match=r"l1\.csv:2:1: column 'customer_id': byte 0xE9 at position 4 of 'caf\\xE9' is not UTF-8"):
        read_transactions(path)
    with pytest.warns(SkippedRowsWarning, match="0xE9"):
        skipped = read_transactions(path, on_bad_row="skip")
    assert skipped["customer_id"].tolist() == ["bob"]
    assert skipped.attrs["skipped_rows"]["line"].tolist() == [2]
    assert read_transactions(path, encoding="latin-1")["customer_id"].tolist() == ["café", "bob"]


def test_encoding_errors_name_file_line_column_and_byte(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"customer_id,date\n1,2020-01-01\n2,2020-\x81-01\n")
    with pytest.raises(ValueError, match=r"bad\.csv:3:8: byte 0x81 cannot be decoded as cp1252"):
        read_transactions(path, encoding="cp1252")
    with pytest.raises(ValueError, match="not a codec"):
        read_transactions(path, encoding="no-such-codec")
    # Bytes that are not UTF-8 in a date are quoted escaped, so the message is never empty.
    with pytest.raises(ValueError, match=r"cannot parse '2020-\\x81-01' as a date"):
        read_transactions(path)
