"""Every plot function draws on the given Axes (or the current one), returns it, and shows data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import crmkit  # noqa: E402
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


def test_matrices_show_the_models_grids_as_lifetimes_orients_them(fitted):
    model = fitted[0]
    ax = _axes()
    assert plotting.plot_frequency_recency_matrix(model, T=4, max_frequency=10, max_recency=40,
                                                  ax=ax) is ax
    grid = model.conditional_expected_number_of_purchases_matrix(4, 10, 40)
    np.testing.assert_array_equal(_image(ax), grid)  # lifetimes: recency 0 in the top row
    assert ax.images[0].origin == "upper" and ax.images[0].get_interpolation() == "none"
    # lifetimes' defaults: the title names the horizon, the labels the axes.
    assert ax.get_title() == ("Expected Number of Future Purchases for 4 Units of Time,\n"
                              "by Frequency and Recency of a Customer")
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Customer's Historical Frequency",
                                                  "Customer's Recency")
    ax = _axes()
    assert plotting.plot_probability_alive_matrix(model, 10, 40, ax=ax, cmap="RdYlGn",
                                                  recent_at_top=True) is ax
    np.testing.assert_array_equal(_image(ax), model.conditional_probability_alive_matrix(10, 40))
    assert ax.images[0].origin == "lower" and ax.images[0].get_cmap().name == "RdYlGn"
    assert ax.get_title().startswith("Probability Customer is Alive")


def test_period_transactions_exact_option_with_an_open_ended_bar(fitted):
    model = fitted[0]
    ax = _axes()
    assert plotting.plot_period_transactions(model, max_frequency=5, ax=ax, expected="exact",
                                             open_ended=True) is ax
    heights = [bar.get_height() for bar in ax.patches]
    table = model.expected_repeat_frequency_histogram(max_frequency=5)
    assert heights == pytest.approx(list(table["actual"]) + list(table["expected"]))
    assert sum(heights[:6]) == 1500  # every customer in one actual bar
    assert [label.get_text() for label in ax.get_xticklabels()][-1] == "5+"
    assert ax.get_legend_handles_labels()[1] == ["Actual", "Model"]
    ax = _axes()
    plotting.plot_period_transactions(model, max_frequency=5, ax=ax, expected="exact",
                                      label=["observed", "expected"])
    assert len(ax.patches) == 10 and ax.get_legend_handles_labels()[1] == ["observed", "expected"]
    assert ax.get_title() == "Frequency of Repeat Transactions"
    with pytest.raises(ValueError, match="expected"):
        plotting.plot_period_transactions(model, ax=_axes(), expected="mean")


def test_holdout_plot_groups_by_the_chosen_kind_as_lifetimes(fitted):
    _, calibrated, split = fitted
    duration = split["duration_holdout"].iloc[0]
    predicted = calibrated.conditional_expected_number_of_purchases_up_to_time(
        duration, split["frequency_cal"], split["recency_cal"], split["T_cal"])
    for kind, key in [("frequency_cal", split["frequency_cal"]),
                      ("time_since_last_purchase", split["T_cal"] - split["recency_cal"])]:
        ax = _axes()
        assert plotting.plot_calibration_purchases_vs_holdout_purchases(
            calibrated, split, kind=kind, n=5, ax=ax) is ax
        actual, model_line = ax.lines
        # The first n distinct values of `kind`, no open-ended last group (lifetimes' iloc[:n]).
        first = np.sort(key.unique())[:5]
        np.testing.assert_allclose(actual.get_xdata(), first)
        means = [split["frequency_holdout"][key == v].mean() for v in first]
        np.testing.assert_allclose(actual.get_ydata(), means)
        np.testing.assert_allclose(model_line.get_ydata(), [predicted[key == v].mean() for v in first])
    assert ax.get_xlabel() == "Time since user made last purchase"
    assert ax.get_legend_handles_labels()[1] == ["frequency_holdout", "model_predictions"]
    with pytest.raises(ValueError, match="kind"):
        plotting.plot_calibration_purchases_vs_holdout_purchases(calibrated, split, kind="x",
                                                                 ax=_axes())


def test_tracking_plots_from_a_table_and_from_the_model():
    table = pd.DataFrame({"actual": [1.0, 3.0, 6.0], "predicted": [1.5, 3.2, 5.0]})
    ax = _axes()
    assert plotting.plot_cumulative_transactions(table, t_cal=1.5, ax=ax) is ax
    assert len(ax.lines) == 3
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), table["actual"])
    assert ax.lines[2].get_xdata()[0] == 1.5 and ax.lines[2].get_color() == "r"
    ax = _axes()
    plotting.plot_incremental_transactions(table, t_cal=1.5, ax=ax)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [np.nan, 2.0, 3.0])
    assert ax.get_title() == "Tracking Daily Transactions" and ax.get_xlabel() == "day"

    log, _ = simulate_transactions(300, seed=2, horizon=20)
    summary = summary_data_from_transaction_data(log, "customer_id", "date", freq="D")
    model = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    ax = _axes()
    plotting.plot_cumulative_transactions(model, log, "date", "customer_id", 100, 60, ax=ax)
    expected = crmkit.expected_cumulative_transactions(model, log, "date", "customer_id", 100)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), expected["predicted"])


def test_expected_repeat_purchases_and_heterogeneity(fitted):
    from scipy import stats

    model = fitted[0]
    ax = _axes()
    assert plotting.plot_expected_repeat_purchases(model, ax=ax, label="BG/NBD") is ax
    solid, dashed = ax.lines
    end = model.data["T"].max()
    assert solid.get_xdata()[-1] == pytest.approx(end) and dashed.get_xdata()[-1] == pytest.approx(1.5 * end)
    np.testing.assert_allclose(dashed.get_ydata(),
                               model.expected_number_of_purchases_up_to_time(dashed.get_xdata()))
    assert solid.get_color() == dashed.get_color() and dashed.get_linestyle() == "--"
    r, alpha, a, b = model._unload_params("r", "alpha", "a", "b")
    ax = plotting.plot_transaction_rate_heterogeneity(model, ax=_axes())
    x, y = ax.lines[0].get_data()
    assert x[-1] == pytest.approx(stats.gamma(r, scale=1 / alpha).ppf(0.99))
    np.testing.assert_allclose(y[1:], stats.gamma(r, scale=1 / alpha).pdf(x[1:]))
    assert ax.get_title() == f"mean: {r / alpha:.3f}, var: {r / alpha ** 2:.3f}"
    ax = plotting.plot_dropout_rate_heterogeneity(model, ax=_axes())
    mean = a / (a + b)
    assert ax.get_title().startswith(f"mean: {mean:.3f}")
    assert ax.figure._suptitle.get_text() == "Heterogeneity in Dropout Probability"


def test_alive_path_follows_the_definition_and_the_history_plot_shows_it():
    from crmkit.utils import calculate_alive_path

    model = BetaGeoFitter.from_params(dict(r=0.243, alpha=4.414, a=0.793, b=2.426))
    dates = pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-05", "2024-01-20"])
    history = pd.DataFrame({"date": dates})
    path = calculate_alive_path(model, history, "date", 30)
    # The definition, period by period: purchases in days 0, 4 and 19 since the first.
    expected = []
    for age in range(31):
        later = [d for d in (4, 19) if d <= age]
        expected.append(model.conditional_probability_alive(len(later), max(later, default=0), age))
    np.testing.assert_allclose(path, expected, rtol=1e-14)
    assert len(calculate_alive_path(model, history, "date", 5)) == 20  # the history is kept
    ax = plotting.plot_history_alive(model, 30, history, "date", ax=_axes())
    np.testing.assert_allclose(ax.lines[0].get_ydata(), path)
    assert ax.get_title() == "History of P_alive" and len(ax.collections) == 1  # purchase lines
    with pytest.raises(ValueError, match="date"):
        calculate_alive_path(model, history.iloc[:0], "date", 5)


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


def test_period_transactions_by_default_simulates_like_lifetimes(fitted):
    model = fitted[0]
    np.random.seed(11)
    ax = _axes()
    assert plotting.plot_period_transactions(model, ax=ax) is ax
    np.random.seed(11)
    simulated = model.generate_new_data(size=len(model.data))["frequency"]
    # lifetimes: the first max_frequency sorted counts of each, merged on frequency.
    counts = [values.value_counts().sort_index().iloc[:7] for values in (model.data["frequency"], simulated)]
    table = pd.concat(counts, axis=1).fillna(0)
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == list(table.iloc[:, 0]) + list(table.iloc[:, 1])
    assert ax.get_xlabel() == "Number of Calibration Period Transactions"


def test_generated_customers_come_from_the_fitted_model(fitted):
    from crmkit.generate_data import beta_geometric_nbd_model

    model = fitted[0]
    simulated = model.generate_new_data(size=100_000, seed=1)
    ages = np.resize(model.data["T"].to_numpy(), 100_000)
    pd.testing.assert_frame_equal(
        simulated, beta_geometric_nbd_model(ages, *model._unload_params(), size=100_000, seed=1))
    # P(X(T) = 0) (FHL 2005 eq. 8) averaged over the ages; lifetimes' generator counts distinct
    # whole periods, which changes the other counts but never a customer without purchases.
    none = model.probability_of_n_purchases_up_to_time(ages, 0).mean()
    share = (simulated["frequency"] == 0).mean()
    assert abs(share - none) < 4 * np.sqrt(none * (1 - none) / len(simulated))
