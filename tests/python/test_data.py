"""crmkit.data summaries: hand-worked values, input forms, bad input, order and thread independence."""

import datetime

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit import _core
from crmkit.data import calibration_and_holdout_data, summary_data_from_transaction_data

# The hand-worked log (the C++ test uses the same one). 2024-01-01 is a Monday; the observation
# end is Sunday 2024-06-30 12:00.
#   customer 7: Wed 01-03 10:00 10.0, Wed 01-03 15:00 5.0, Fri 01-05 09:00 20.0, Wed 02-14 -4.0
#   customer 3: Sat 03-30 08:00 0.0, Tue 04-02 12.0
#   customer 5: Sun 06-30 23:00 8.0
#   customer 11: Mon 07-01 99.0 (after the end)
HAND = pd.DataFrame(
    {
        "id": [3, 7, 11, 7, 5, 7, 3, 7],
        "when": pd.to_datetime(
            [
                "2024-04-02",
                "2024-01-05 09:00",
                "2024-07-01",
                "2024-01-03 15:00",
                "2024-06-30 23:00",
                "2024-02-14 12:00",
                "2024-03-30 08:00",
                "2024-01-03 10:00",
            ]
        ),
        "spend": [12.0, 20.0, 99.0, 5.0, 8.0, -4.0, 0.0, 10.0],
    }
)
END = "2024-06-30 12:00"
COLUMNS = ["frequency", "recency", "T", "monetary_value"]


def expected(rows, index_name="id"):
    frame = pd.DataFrame(rows, columns=["id"] + COLUMNS).set_index("id").astype(float)
    frame.index.name = index_name
    return frame


def summarize_hand(**kwargs):
    return summary_data_from_transaction_data(HAND, "id", "when", "spend", observation_period_end=END, **kwargs)


def test_days_weeks_in_days_and_the_rfm_view_match_hand_computation():
    # Days. Customer 3: days 03-30 and 04-02 (recency 3); 03-30 to 06-30 is 1 + 30 + 31 + 30 = 92
    # days; its repeat day spent 12. Customer 7: days 01-03 (15), 01-05 (20), 02-14 (-4):
    # recency 31 + 11 = 42, T = 31+29+31+30+31 + 27 = 179, monetary (20 - 4) / 2 = 8.
    result = summarize_hand(freq="D")
    pd.testing.assert_frame_equal(result, expected([[3, 1, 3, 92, 12], [5, 0, 0, 0, 0], [7, 2, 42, 179, 8]]))
    assert result.index.dtype == np.int64
    assert result.attrs["customers_after_end"] == 1
    assert result.attrs["rows_after_end"] == 1
    assert result.attrs["observation_period_end"] == pd.Timestamp("2024-06-30")
    # Exact weeks from daily periods, as lifetimes' freq_multiplier=7.
    weeks = summarize_hand(freq="D", freq_multiplier=7)
    pd.testing.assert_frame_equal(
        weeks, expected([[3, 1, 3 / 7, 92 / 7, 12], [5, 0, 0, 0, 0], [7, 2, 6, 179 / 7, 8]])
    )
    # RFM view: all purchase days, recency = time since the last purchase (92 - 3, 179 - 42),
    # monetary over every day: (0 + 12) / 2, 8, (15 + 20 - 4) / 3.
    rfm = summarize_hand(freq="D", include_first_transaction=True)
    pd.testing.assert_frame_equal(
        rfm, expected([[3, 2, 89, 92, 6], [5, 1, 0, 0, 8], [7, 3, 137, 179, 31 / 3]])
    )


@pytest.mark.parametrize(
    "freq, multiplier, rows",
    [
        # Hours: the end hour is 06-30 12:00, so customer 5 (23:00) is after it. Customer 3:
        # 03-30 08:00 to 04-02 00:00 = 64 h, to the end 92 days 4 h = 2212 h. Customer 7: four
        # distinct hours; 42 days 2 h = 1010 h; 179 days 2 h = 4298 h; (5 + 20 - 4) / 3 = 7.
        ("H", 1, [[3, 1, 64, 2212, 12], [7, 3, 1010, 4298, 7]]),
        # Weeks from Monday 01-01: 01-03, 01-05 -> 0; 02-14 -> 6; 03-30 -> 12; 04-02 -> 13; the
        # end -> 25. Customer 7: weeks 0 (35) and 6 (-4).
        ("W", 1, [[3, 1, 1, 13, 12], [5, 0, 0, 0, 0], [7, 1, 6, 25, -4]]),
        ("W", 2, [[3, 1, 0.5, 6.5, 12], [5, 0, 0, 0, 0], [7, 1, 3, 12.5, -4]]),
        # Months: customer 3 March, April (end June); customer 7 January (35), February (-4).
        ("M", 1, [[3, 1, 1, 3, 12], [5, 0, 0, 0, 0], [7, 1, 1, 5, -4]]),
        # Quarters: customer 3 Q1 (0.0), Q2 (12); customer 7 only Q1 (31), one quarter before Q2.
        ("Q", 1, [[3, 1, 1, 1, 12], [5, 0, 0, 0, 0], [7, 0, 0, 1, 0]]),
        # Years: the end's period is all of 2024, so customer 11 (July) is in too.
        ("Y", 1, [[3, 0, 0, 0, 0], [5, 0, 0, 0, 0], [7, 0, 0, 0, 0], [11, 0, 0, 0, 0]]),
    ],
)
def test_every_period_unit_matches_hand_computation(freq, multiplier, rows):
    pd.testing.assert_frame_equal(summarize_hand(freq=freq, freq_multiplier=multiplier), expected(rows))


def test_calibration_and_holdout_matches_hand_computation():
    # Calibration to 02-01 (days): customer 7's days 01-03 (15), 01-05 (20): frequency 1,
    # recency 2, T 29, monetary 20; holdout 02-14 (-4). Customers 3 and 5 start in the holdout
    # and are excluded; 02-01 to 06-30 is 29 + 31 + 30 + 31 + 29 = 150 days.
    split = calibration_and_holdout_data(
        HAND, "id", "when", "2024-02-01", END, monetary_value_col="spend"
    )
    assert list(split.columns) == [
        "frequency_cal",
        "recency_cal",
        "T_cal",
        "monetary_value_cal",
        "frequency_holdout",
        "monetary_value_holdout",
        "duration_holdout",
    ]
    assert split.index.tolist() == [7]
    assert split.iloc[0].tolist() == [1, 2, 29, 20, 1, -4, 150]
    assert split.attrs["customers_excluded"] == 3
    assert split.attrs["rows_holdout"] == 1
    # Without amounts there are no monetary columns, and durations honour freq_multiplier.
    weeks = calibration_and_holdout_data(HAND, "id", "when", "2024-02-01", END, freq_multiplier=7)
    assert list(weeks.columns) == ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]
    assert weeks.iloc[0].tolist() == [1, 2 / 7, 29 / 7, 1, 150 / 7]


def test_ids_and_dates_in_every_form_give_the_same_summary():
    reference = summarize_hand()
    names = {3: "carol", 5: "eve", 7: "grace", 11: "kim"}
    by_name = HAND.assign(id=HAND["id"].map(names))
    named = summary_data_from_transaction_data(by_name, "id", "when", "spend", observation_period_end=END)
    assert named.index.tolist() == ["carol", "eve", "grace"]  # sorted labels
    np.testing.assert_array_equal(named.to_numpy(), reference.to_numpy())
    as_text = HAND.assign(when=HAND["when"].dt.strftime("%d/%m/%Y %H:%M"))
    parsed = summary_data_from_transaction_data(
        as_text, "id", "when", "spend", datetime_format="%d/%m/%Y %H:%M", observation_period_end="30/06/2024 12:00"
    )
    pd.testing.assert_frame_equal(parsed, reference)
    aware = HAND.assign(when=HAND["when"].dt.tz_localize("Europe/Paris"))
    pd.testing.assert_frame_equal(
        summary_data_from_transaction_data(
            aware, "id", "when", "spend", observation_period_end=pd.Timestamp(END, tz="Europe/Paris")
        ),
        reference,
    )
    small_ints = HAND.assign(id=HAND["id"].astype(np.uint8), spend=(HAND["spend"] * 4).astype(np.int32))
    scaled = summary_data_from_transaction_data(small_ints, "id", "when", "spend", observation_period_end=END)
    np.testing.assert_array_equal(scaled["monetary_value"], reference["monetary_value"] * 4)
    # datetime.date objects, and an end given as a date or a Period.
    days = HAND.assign(when=HAND["when"].dt.date)
    assert isinstance(days["when"].iloc[0], datetime.date)
    for end in (datetime.date(2024, 6, 30), pd.Period("2024-06-30", "D")):
        pd.testing.assert_frame_equal(
            summary_data_from_transaction_data(days, "id", "when", "spend", observation_period_end=end),
            summary_data_from_transaction_data(days, "id", "when", "spend", observation_period_end="2024-06-30"),
        )


def test_duplicates_refunds_zero_amounts_and_customers_after_the_end():
    doubled = pd.concat([HAND, HAND.iloc[[0]]], ignore_index=True)  # customer 3's 04-02 row twice
    result = summary_data_from_transaction_data(doubled, "id", "when", "spend", observation_period_end=END)
    assert result.loc[3, "frequency"] == 1
    assert result.loc[3, "monetary_value"] == 24  # the duplicate doubles the day's amount
    # A refund that cancels a purchase leaves a purchase day worth 0; it still counts.
    refund = pd.DataFrame({"id": [1, 1, 1], "when": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-05"]),
                           "spend": [10.0, 7.5, -7.5]})
    result = summary_data_from_transaction_data(refund, "id", "when", "spend")
    assert result.loc[1].tolist() == [1, 4, 4, 0]
    assert 11 not in summarize_hand().index


def test_row_order_and_thread_count_do_not_change_a_single_bit():
    log, _ = crmkit.simulate_transactions(20_000, seed=3, freq="D")
    saved = crmkit.num_threads()
    try:
        crmkit.set_num_threads(1)
        one = summary_data_from_transaction_data(log, "customer_id", "date", "amount", freq="W")
        crmkit.set_num_threads(4)
        four = summary_data_from_transaction_data(log, "customer_id", "date", "amount", freq="W")
        shuffled_log = log.sample(frac=1.0, random_state=np.random.default_rng(1))
        shuffled = summary_data_from_transaction_data(shuffled_log, "customer_id", "date", "amount", freq="W")
    finally:
        crmkit.set_num_threads(saved)
    pd.testing.assert_frame_equal(one, four, check_exact=True)
    pd.testing.assert_frame_equal(one, shuffled, check_exact=True)


def test_customer_ordered_time_ordered_and_shuffled_logs_give_the_same_bits():
    # simulate_transactions writes its log by customer, then date: that order is summarised run by
    # run without a sort; by date (as a log is written) the rows are grouped by customer and each
    # customer's periods added up as they come; shuffled, each customer's rows are sorted first.
    # Every order, thread count and view must give the same bits, rows after the end included.
    log, _ = crmkit.simulate_transactions(20_000, seed=5, freq="D", acquisition_periods=60, horizon=120)
    assert log["customer_id"].is_monotonic_increasing
    by_date = log.iloc[np.argsort(log["date"].to_numpy(), kind="stable")]
    shuffled = log.sample(frac=1.0, random_state=np.random.default_rng(2))
    end = log["date"].min() + pd.Timedelta(days=40)  # some customers start after it
    saved = crmkit.num_threads()
    try:
        for first in [False, True]:
            results = []
            for threads in [1, 2, 3]:
                crmkit.set_num_threads(threads)
                for frame in [log, by_date, shuffled]:
                    results.append(summary_data_from_transaction_data(
                        frame, "customer_id", "date", "amount", freq="D", freq_multiplier=7,
                        observation_period_end=end, include_first_transaction=first))
            assert results[0].attrs["customers_after_end"] > 0
            assert results[0].attrs["rows_after_end"] > 0
            for result in results[1:]:
                pd.testing.assert_frame_equal(results[0], result, check_exact=True)
                assert result.attrs == results[0].attrs
    finally:
        crmkit.set_num_threads(saved)


def test_python_equals_the_cpp_core_exactly():
    # The DataFrame layer (nanosecond datetimes, factorised string ids) must give exactly what
    # the C++ core gives on plain arrays of integer keys and seconds.
    log, _ = crmkit.simulate_transactions(5_000, seed=8, freq="D", acquisition_periods=200, horizon=400)
    log["name"] = "c" + log["customer_id"].astype(str).str.zfill(5)  # sorts like the ids
    seconds = log["date"].to_numpy().astype("datetime64[s]").astype(np.int64)
    for freq, multiplier, first in [("D", 7, False), ("M", 1, True), ("H", 24, False)]:
        frame = summary_data_from_transaction_data(
            log, "name", "date", "amount", observation_period_end="2025-01-15",
            freq=freq, freq_multiplier=multiplier, include_first_transaction=first,
        )
        core = _core.data.summarize(
            log["customer_id"].to_numpy(), seconds, log["amount"].to_numpy(), freq=freq,
            freq_multiplier=multiplier, observation_period_end=int(pd.Timestamp("2025-01-15").timestamp()),
            include_first_transaction=first,
        )
        assert frame.index.tolist() == [f"c{key:05d}" for key in core["customer"]]
        for column in COLUMNS:
            np.testing.assert_array_equal(frame[column].to_numpy(), core[column], err_msg=column)


def test_hours_spanning_more_than_two_to_the_nineteen_periods_match_hand_computation():
    # 700,000 hourly periods (80 years) are too many for the grouping's 12-byte rows of this log
    # (periods below 2^19 with its 2^13 customer slots per bucket), so it takes its 16-byte rows;
    # the same log in days fits them. Hand-worked: customer 1 buys in hours 0 and 600,000 (two
    # rows there, 20 + 2.5), customer 2 in hour 5; the end is hour 700,000 (hour 0 is midnight,
    # so day d holds hours 24 d .. 24 d + 23).
    start = pd.Timestamp("1950-01-01")
    hours = pd.to_timedelta([0, 600_000, 600_000.5, 5], unit="h")
    log = pd.DataFrame({"id": [1, 1, 1, 2], "when": start + hours, "spend": [10.0, 20.0, 2.5, 4.0]})
    end = start + pd.Timedelta(hours=700_000)
    by_hour = summary_data_from_transaction_data(log, "id", "when", "spend", freq="H", observation_period_end=end)
    assert by_hour.loc[1].tolist() == [1, 600_000, 700_000, 22.5]
    assert by_hour.loc[2].tolist() == [0, 0, 699_995, 0]
    by_day = summary_data_from_transaction_data(log, "id", "when", "spend", freq="D", observation_period_end=end)
    assert by_day.loc[1].tolist() == [1, 600_000 // 24, 700_000 // 24, 22.5]
    assert by_day.loc[2].tolist() == [0, 0, 700_000 // 24, 0]


def test_a_summary_is_unchanged_by_the_summaries_before_it():
    # The grouping's storage is reused from call to call: a large log, a small one, the large one.
    log, _ = crmkit.simulate_transactions(20_000, seed=4, freq="D")
    first = summary_data_from_transaction_data(log, "customer_id", "date", "amount")
    # Customer 3 of the hand-worked log: days 03-30 and 04-02, T 92 days, repeat day spent 12.
    assert summarize_hand().loc[3].tolist() == [1, 3, 92, 12]
    again = summary_data_from_transaction_data(log, "customer_id", "date", "amount")
    pd.testing.assert_frame_equal(first, again, check_exact=True)


@pytest.mark.parametrize(
    "change, kwargs, message",
    [
        (None, {"customer_id_col": "who"}, "customer_id_col = 'who' is not a column of transactions"),
        (None, {"datetime_col": "date"}, "datetime_col = 'date' is not a column"),
        (None, {"monetary_value_col": "value"}, "monetary_value_col = 'value' is not a column"),
        ({"when": ["2024-01-01"] * 7 + ["yesterday"]}, {}, "datetime_col 'when': cannot read the dates"),
        ({"when": list(HAND["when"][:5]) + [pd.NaT] + list(HAND["when"][6:])}, {}, "missing date at row 5"),
        ({"spend": [1.0] * 6 + [np.nan, 1.0]}, {}, "non-finite amount nan at row 6"),
        ({"spend": [np.inf] + [1.0] * 7}, {}, "non-finite amount inf at row 0"),
        ({"spend": ["a"] * 8}, {}, "monetary_value_col 'spend' must be numeric"),
        ({"id": [1, 2, None, 4, 5, 6, 7, 8]}, {}, "missing customer id at row 2"),
        (None, {"observation_period_end": "2023-06-01"}, "observation_period_end = 2023-06-01 is before every purchase"),
        (None, {"observation_period_end": "not a date"}, "observation_period_end = 'not a date' is not a date"),
        (None, {"freq": "fortnight"}, "freq = 'fortnight' is not a period"),
        (None, {"freq_multiplier": 0}, "freq_multiplier = 0 must be positive"),
    ],
)
def test_bad_input_gets_a_clear_error(change, kwargs, message):
    frame = HAND.assign(**change) if change else HAND
    arguments = {"customer_id_col": "id", "datetime_col": "when", "monetary_value_col": "spend", **kwargs}
    with pytest.raises(ValueError, match=message):
        summary_data_from_transaction_data(frame, **arguments)


def test_more_bad_input():
    with pytest.raises(ValueError, match="the transaction log is empty"):
        summary_data_from_transaction_data(HAND.iloc[:0], "id", "when")
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        summary_data_from_transaction_data(HAND.to_numpy(), "id", "when")
    with pytest.raises(ValueError, match="must be in a period after calibration_period_end"):
        calibration_and_holdout_data(HAND, "id", "when", "2024-06-30 01:00", END)
    with pytest.raises(ValueError, match="calibration_period_end = 2023-01-01 is before every purchase"):
        calibration_and_holdout_data(HAND, "id", "when", "2023-01-01")
    with pytest.raises(ValueError, match="non-finite amount nan at row 6"):
        calibration_and_holdout_data(HAND.assign(spend=[1.0] * 6 + [np.nan, 1.0]), "id", "when", "2024-03-01",
                                     monetary_value_col="spend")


def test_lifetimes_utils_names_are_the_same_objects():
    # lifetimes keeps its data helpers in lifetimes.utils; crmkit.utils re-exports them unchanged.
    import crmkit.utils

    assert crmkit.utils.summary_data_from_transaction_data is crmkit.summary_data_from_transaction_data
    assert crmkit.utils.calibration_and_holdout_data is crmkit.calibration_and_holdout_data
    assert crmkit.utils.expected_cumulative_transactions is crmkit.expected_cumulative_transactions
