"""Every plot function draws on the given Axes (or the current one), returns it, and shows data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from crmkit import plotting  # noqa: E402
from crmkit.clv import BetaGeoFitter  # noqa: E402
from crmkit.data import calibration_and_holdout_data, simulate_transactions  # noqa: E402
from crmkit.data import summary_data_from_transaction_data  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    log, _ = simulate_transactions(1500, seed=5, horizon=60)
    summary = summary_data_from_transaction_data(log, "customer_id", "date", "amount",
                                                 freq="D", freq_multiplier=7)
    model = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    split = calibration_and_holdout_data(log, "customer_id", "date", "2024-10-01", freq="D",
                                         freq_multiplier=7)
    calibrated = BetaGeoFitter().fit(split["frequency_cal"], split["recency_cal"], split["T_cal"])
    return model, calibrated, split


def _axes():
    return Figure().subplots()


def _image(ax):
    assert len(ax.images) == 1
    return ax.images[0].get_array()


def test_matrices_show_the_models_grids(fitted):
    model = fitted[0]
    ax = _axes()
    assert plotting.plot_frequency_recency_matrix(model, T=4, max_frequency=10, max_recency=40,
                                                  ax=ax) is ax
    grid = model.conditional_expected_number_of_purchases_matrix(4, 10, 40)
    np.testing.assert_array_equal(_image(ax), grid[::-1])  # most recent at the top
    ax = _axes()
    assert plotting.plot_probability_alive_matrix(model, 10, 40, ax=ax) is ax
    values = _image(ax)
    assert values.shape == (41, 11) and 0 <= values.min() and values.max() <= 1


def test_period_transactions_and_holdout_plots(fitted):
    model, calibrated, split = fitted
    ax = _axes()
    assert plotting.plot_period_transactions(model, max_frequency=5, ax=ax) is ax
    heights = [bar.get_height() for bar in ax.patches]
    table = model.expected_repeat_frequency_histogram(max_frequency=5)
    assert heights == pytest.approx(list(table["actual"]) + list(table["expected"]))
    assert sum(heights[:6]) == 1500  # every customer in one actual bar
    ax = _axes()
    assert plotting.plot_calibration_purchases_vs_holdout_purchases(calibrated, split, n=5,
                                                                    ax=ax) is ax
    actual, predicted = ax.lines
    holdout = split.groupby(split["frequency_cal"].clip(upper=5))["frequency_holdout"].mean()
    np.testing.assert_allclose(actual.get_ydata(), holdout.to_numpy())
    assert len(predicted.get_xdata()) == 6


def test_cumulative_tracking_draws_both_series_and_the_calibration_line():
    table = pd.DataFrame({"actual": [1.0, 3.0, 6.0], "predicted": [1.5, 3.2, 5.0]})
    ax = _axes()
    assert plotting.plot_cumulative_transactions(table, t_cal=1.5, ax=ax) is ax
    assert len(ax.lines) == 3
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), table["actual"])
    assert ax.lines[2].get_xdata()[0] == 1.5


def test_cluster_profiles_and_segment_sizes():
    profiles = pd.DataFrame({"recency": [2.0, 30.0, 10.0], "frequency": [9.0, 1.0, 3.0]},
                            index=["C1", "C2", "C3"])
    ax = _axes()
    assert plotting.plot_cluster_profiles(profiles, ax=ax) is ax
    z = _image(ax)
    expected = (profiles - profiles.mean()) / profiles.std(ddof=0)
    np.testing.assert_allclose(z, expected.to_numpy())
    assert len(ax.texts) == 6
    sizes = pd.DataFrame({"customers": [10, 30, 60], "value": [500.0, 300.0, 200.0]},
                         index=["A", "B", "C"])
    ax = _axes()
    assert plotting.plot_segment_sizes(sizes, ax=ax) is ax
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == pytest.approx([0.1, 0.3, 0.6, 0.5, 0.3, 0.2])


def test_value_curve_is_the_sorted_cumulative_share():
    values = np.array([1.0, 7.0, 2.0, 0.0, -3.0])
    ax = _axes()
    assert plotting.plot_value_curve(values, ax=ax, marks=(0.2,)) is ax
    curve = ax.lines[0]
    # Best first: 7, 2, 1, 0, 0 (negative counts as 0) of a total of 10.
    np.testing.assert_allclose(curve.get_ydata(), [0, 0.7, 0.9, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(curve.get_xdata(), np.linspace(0, 1, 6))
    assert "top 20% hold 70%" in ax.texts[0].get_text()


def test_nps_trend_band_and_heatmaps():
    months = pd.period_range("2024-01", periods=4, freq="M")
    trend = pd.DataFrame({"nps": [10.0, 12.0, 8.0, 15.0], "lower": [2.0, 4.0, 0.0, 7.0],
                          "upper": [18.0, 20.0, 16.0, 23.0]}, index=months)
    ax = _axes()
    assert plotting.plot_nps_trend(trend, ax=ax) is ax
    assert len(ax.collections) == 1  # the interval band
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), trend["nps"])
    cohorts = pd.DataFrame([[1.0, 0.5, 0.3], [1.0, 0.4, np.nan]], index=["2024-01", "2024-02"],
                           columns=[0, 1, 2])
    ax = _axes()
    assert plotting.plot_cohort_retention(cohorts, ax=ax) is ax
    assert _image(ax).shape == (2, 3) and len(ax.texts) == 5  # no label on the unobserved cell
    counts = pd.DataFrame([[8, 2], [1, 3]], index=["new", "stable"], columns=["new", "stable"])
    ax = _axes()
    assert plotting.plot_stage_migration(counts, ax=ax) is ax
    np.testing.assert_allclose(_image(ax), [[0.8, 0.2], [0.25, 0.75]])  # row shares


def test_without_ax_the_current_axes_is_used():
    figure = plt.figure()
    try:
        ax = plotting.plot_value_curve([3.0, 1.0])
        assert ax is figure.axes[0]
    finally:
        plt.close(figure)
