"""crmkit.dask's survey aggregates on a 2-worker distributed.LocalCluster (127.0.0.1, no
dashboard): NPS, CSAT and CES, weighted or not, by group, period and rolling window, against
crmkit.survey.aggregate of the same answers on one machine."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed", reason="python3-distributed is not installed")
dd = pytest.importorskip("dask.dataframe", reason="python3-dask is not installed")

import crmkit  # noqa: E402
import crmkit.dask as cdask  # noqa: E402
from crmkit import _core  # noqa: E402
from crmkit.survey import SkippedRowsWarning  # noqa: E402


@pytest.fixture(scope="module")
def answers():
    rng = np.random.default_rng(14)
    n = 900
    # "enterprise" is a category nobody answered in: both paths must report it as an empty group.
    segment = pd.Categorical(rng.choice(["new", "loyal", "lapsed"], n),
                             categories=["enterprise", "lapsed", "loyal", "new"])
    frame = pd.DataFrame({
        "nps": rng.integers(0, 11, n),
        "csat": rng.integers(1, 6, n),
        "ces": rng.integers(1, 8, n).astype(np.float64),
        "segment": segment,
        # Missing channels form a group of their own (last) on both paths.
        "channel": rng.choice(np.array(["mail", "web", None], dtype=object), n, p=[0.5, 0.45, 0.05]),
        "date": pd.Timestamp("2024-01-03") + pd.to_timedelta(rng.integers(0, 120, n), unit="D"),
        # Survey weights spread over 2^-3..2^3 with every mantissa bit in use: the sums of
        # weights and of squared weights are not exact in doubles, so equality needs the
        # accumulators' exact sums.
        "weight": np.exp(rng.normal(0.0, 0.7, n)),
    })
    frame.loc[::97, "weight"] = 0.0  # zero weights are valid answers that count for nothing
    # Date order gives every partition its own range of periods, so merging aligns the ranges.
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


METRICS = [("nps", {}), ("csat", {}), ("ces", {}), ("ces", {"version": "1.0"}),
           ("csat", {"scale": (0, 10), "top_boxes": 3})]
COLUMN = {"nps": "nps", "csat": "csat", "ces": "ces"}


def _score_column(metric, options):
    if options.get("version") == "1.0":
        return "csat"  # CES 1.0 is a 1-5 scale
    if options.get("scale") == (0, 10):
        return "nps"
    return COLUMN[metric]


def _compare(answers, parts, score_col, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-cell warnings, the same on both paths
        expected = crmkit.survey.aggregate(answers, score_col, date_col="date", **options)
        got = cdask.survey_aggregate(dd.from_pandas(answers, npartitions=parts, sort=False),
                                     score_col, date_col="date", **options)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs == expected.attrs
    return got


@pytest.mark.parametrize("metric, metric_options", METRICS)
@pytest.mark.parametrize("weights_col", [None, "weight"])
@pytest.mark.parametrize("by, period, window", [(None, None, 1), ("segment", None, 1),
                                                (["segment", "channel"], "M", 1),
                                                ("channel", "W", 4), (None, "D", 30)])
def test_aggregate_equals_the_single_machine_aggregate(client, answers, metric, metric_options,
                                                        weights_col, by, period, window):
    score_col = _score_column(metric, metric_options)
    for parts in (1, 3, 7):
        got = _compare(answers, parts, score_col, metric=metric, by=by, period=period,
                       window=window, weights_col=weights_col, **metric_options)
        if window == 1:
            assert got["n"].sum() == len(answers)
        if weights_col is not None:  # the weights really were used
            assert (got["n_effective"] <= got["n"]).all()
            assert (got["n_effective"] < got["n"]).any()


def test_rolling_windows_cover_the_trailing_periods(client, answers):
    # Independent of crmkit: a 4-week window's count is the sum of its weeks' counts.
    weekly = _compare(answers, 3, "nps", period="W")
    rolling = _compare(answers, 3, "nps", period="W", window=4)
    assert len(rolling) == len(weekly) - 3
    expected = weekly["n"].rolling(4).sum().dropna().astype(np.int64).to_numpy()
    np.testing.assert_array_equal(rolling["n"].to_numpy(), expected)


def test_nps_bootstrap_interval_equals_the_single_machine_one(client, answers):
    got = _compare(answers, 4, "nps", by="channel", method="bootstrap", n_boot=200,
                   random_state=3)
    assert np.isfinite(got["lower"]).all()
    frame = dd.from_pandas(answers, npartitions=2, sort=False)
    with pytest.raises(ValueError, match="bootstrap' with weights_col resamples the answers"):
        cdask.survey_aggregate(frame, "nps", weights_col="weight", method="bootstrap")


def test_survey_nps_is_the_unweighted_nps_aggregate(client, answers):
    frame = dd.from_pandas(answers, npartitions=5, sort=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = crmkit.survey.aggregate(answers, "nps", by="segment", period="M",
                                           date_col="date")
        got = cdask.survey_nps(frame, "nps", by="segment", period="M", date_col="date")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_an_empty_partition_is_merged(client, answers):
    frame = dd.concat([dd.from_pandas(answers.iloc[:0], npartitions=1),
                       dd.from_pandas(answers, npartitions=3, sort=False)])
    assert frame.npartitions == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = crmkit.survey.aggregate(answers, "csat", metric="csat", period="M",
                                           date_col="date", weights_col="weight")
        got = cdask.survey_aggregate(frame, "csat", metric="csat", period="M", date_col="date",
                                     weights_col="weight")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


# Partitions of from_pandas(npartitions=4) on 900 rows hold rows 0-224, 225-449, 450-674 and
# 675-899, so row 700 is row 25 of partition 3.
@pytest.mark.parametrize("column, value, metric, problem", [
    ("nps", np.nan, "nps", r"scores\[25\] is missing \(NaN\)"),
    ("nps", 11, "nps", r"scores\[25\] = 11 is outside the scale 0\.\.10"),
    ("ces", 2.5, "ces", r"scores\[25\] = 2\.5 is not an integer"),
    ("weight", -1.0, "csat", r"weights\[25\] = -1 is not a valid weight"),
])
def test_a_bad_row_names_the_partition_the_row_and_the_value(client, answers, column, value,
                                                              metric, problem):
    bad = answers.copy()
    bad[column] = bad[column].astype(np.float64)
    bad.loc[700, column] = value
    bad.loc[880, column] = value
    frame = dd.from_pandas(bad, npartitions=4, sort=False)
    score_col = column if column != "weight" else "csat"
    options = dict(metric=metric, weights_col="weight", by="segment")
    with pytest.raises(ValueError, match=r"partition 3, row 25 \(index 700\): " + problem
                       + r".* \(2 of 225 rows of the partition are invalid\)"):
        cdask.survey_aggregate(frame, score_col, **options)
    # Skipped on request, as on one machine: the same cells, and the skipped rows counted.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmkit.survey.SmallSampleWarning)
        with pytest.warns(SkippedRowsWarning, match="2 of 900 rows are invalid; the first is "
                          r"in partition 3, row 25 \(index 700\)"):
            got = cdask.survey_aggregate(frame, score_col, on_bad_row="skip", **options)
        with pytest.warns(SkippedRowsWarning):
            expected = crmkit.survey.aggregate(bad, score_col, on_bad_row="skip", **options)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs["crmkit.survey"]["skipped_rows"] == 2


def test_a_null_date_and_a_missing_column_are_named(client, answers):
    bad = answers.copy()
    bad.loc[300, "date"] = pd.NaT  # partition 1 of 4, its row 75
    frame = dd.from_pandas(bad, npartitions=4, sort=False)
    with pytest.raises(ValueError, match=r"partition 1, row 75 \(index 300\): timestamps\[75\] "
                       r"is missing \(NaT\)"):
        cdask.survey_aggregate(frame, "nps", period="M", date_col="date")
    with pytest.raises(ValueError, match="answers: no column 'region'"):
        cdask.survey_aggregate(frame, "nps", by="region")
    with pytest.raises(ValueError, match="window = 3 needs a period"):
        cdask.survey_aggregate(frame, "nps", window=3)


def test_cell_tables_pickle_and_refuse_to_merge_other_accumulators(answers):
    scores = answers["csat"].to_numpy()
    weights = answers["weight"].to_numpy()
    rating = _core.survey.tally_rating(scores, weights, [], [], None, 1, None, 1, 5, True, 2)
    copy = pickle.loads(pickle.dumps(rating))
    assert (copy.rows, copy.bad_rows) == (len(answers), 0)
    assert (_core.survey.summarize_rating_cells(copy, 1, 0.95, 30)[0]["columns"]["mean_score"]
            == _core.survey.summarize_rating_cells(rating, 1, 0.95, 30)[0]["columns"]["mean_score"])
    unweighted = _core.survey.tally_rating(scores, None, [], [], None, 1, None, 1, 5, True, 2)
    with pytest.raises(ValueError, match="different accumulators"):
        _core.survey.merge_cells([rating, unweighted])
    with pytest.raises(ValueError, match="holds rating cells"):
        _core.survey.summarize_nps_cells(rating, 1, 0.95, "wald", 0, 0, 30)
