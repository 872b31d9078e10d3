"""crmkit.generate_data: lifetimes' generators (names, columns, index), seeded and deterministic,
and drawing from the models they name: fitting the matching crmkit model to a large generated
sample recovers the parameters."""

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.generate_data import (beta_geometric_beta_binom_model, beta_geometric_nbd_model,
                                  beta_geometric_nbd_model_transactional_data,
                                  modified_beta_geometric_nbd_model, pareto_nbd_model)

BGBB = dict(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)  # FHS 2010


def test_columns_and_index_follow_lifetimes():
    frame = beta_geometric_nbd_model(39, 0.243, 4.414, 0.793, 2.426, size=10, seed=1)
    assert list(frame.columns) == ["frequency", "recency", "T", "lambda", "p", "alive"]
    assert frame.index.name == "customer_id" and len(frame) == 10
    frame = modified_beta_geometric_nbd_model([5, 10], 0.5, 6.0, 0.9, 1.6, size=2, seed=1)
    assert list(frame.columns) == ["frequency", "recency", "T", "lambda", "p", "alive"]
    frame = pareto_nbd_model(39, 0.553, 10.578, 0.606, 11.669, size=10, seed=1)
    assert list(frame.columns) == ["frequency", "recency", "T", "lambda", "mu", "alive"]
    frame = beta_geometric_beta_binom_model(6, size=10, seed=1, **BGBB)
    assert list(frame.columns) == ["frequency", "recency", "n_periods", "p", "theta", "alive", "customer_id"]
    log = beta_geometric_nbd_model_transactional_data(30, 0.5, 4.0, 0.8, 2.4, size=5, seed=1)
    assert list(log.columns) == ["customer_id", "date"] and log["customer_id"].nunique() == 5


def test_same_seed_same_data_and_numpy_global_seed_works():
    first = pareto_nbd_model(39, 0.553, 10.578, 0.606, 11.669, size=500, seed=7)
    assert first.equals(pareto_nbd_model(39, 0.553, 10.578, 0.606, 11.669, size=500, seed=7))
    assert not first.equals(pareto_nbd_model(39, 0.553, 10.578, 0.606, 11.669, size=500, seed=8))
    np.random.seed(188898)
    a = beta_geometric_beta_binom_model(6, size=100, **BGBB)
    np.random.seed(188898)
    assert a.equals(beta_geometric_beta_binom_model(6, size=100, **BGBB))


def test_histories_are_consistent():
    for frame in (beta_geometric_nbd_model(39, 0.243, 4.414, 0.793, 2.426, size=3000, seed=2),
                  modified_beta_geometric_nbd_model(39, 0.525, 6.183, 0.891, 1.614, size=3000, seed=2),
                  pareto_nbd_model(39, 0.553, 10.578, 0.606, 11.669, size=3000, seed=2)):
        assert (frame["recency"] <= frame["T"]).all()
        assert ((frame["frequency"] == 0) == (frame["recency"] == 0)).all()
        assert frame["frequency"].max() > 0
    bb = beta_geometric_beta_binom_model(6, size=5000, seed=3, **BGBB)
    assert (bb["frequency"] <= bb["recency"]).all() and (bb["recency"] <= 6).all()
    # lifetimes' test_hitting_max.
    assert bb["frequency"].max() == 6 and bb["recency"].max() == 6


def test_bg_bb_generator_reproduces_the_fit_and_table_6():
    data = beta_geometric_beta_binom_model(N=6, size=100_000, seed=4, **BGBB)
    grouped = data.groupby(["frequency", "recency", "n_periods"])["customer_id"].count()
    grouped = grouped.reset_index().rename(columns={"customer_id": "weights"})
    model = crmkit.BetaGeoBetaBinomFitter().fit(grouped["frequency"], grouped["recency"],
                                                grouped["n_periods"], grouped["weights"])
    for name, value in BGBB.items():
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name
    regenerated = model.generate_new_data(size=1000, seed=5)
    assert len(regenerated) == 1000 and (regenerated["n_periods"] == 6).all()
    # lifetimes' test_alive_probs: the share alive after one more opportunity, FHS 2010 Table 6.
    for (x, tx), share in {(0, 0): 0.11, (2, 4): 0.59, (6, 6): 0.93}.items():
        alive = data.loc[(data["frequency"] == x) & (data["recency"] == tx), "alive"].mean()
        assert abs(alive - share) < 0.02


@pytest.mark.parametrize("fitter, generator, params", [
    (crmkit.BetaGeoFitter, beta_geometric_nbd_model, dict(r=0.243, alpha=441.4, a=0.793, b=2.426)),
    (crmkit.ModifiedBetaGeoFitter, modified_beta_geometric_nbd_model, dict(r=0.525, alpha=618.3, a=0.891, b=1.614)),
    (crmkit.ParetoNBDFitter, pareto_nbd_model, dict(r=0.553, alpha=1057.8, s=0.606, beta=1166.9)),
])
def test_fitting_generated_customers_recovers_the_parameters(fitter, generator, params):
    # frequency counts whole time units with a purchase (lifetimes' convention), which undercounts
    # when two purchases fall into one unit. The published CDNOW estimates (weeks) are used in
    # units of 1/100 week (alpha, beta × 100, T of 10–39 weeks = 1,000–3,900 units), where that
    # almost never happens, so that frequency is the purchase count the likelihoods assume.
    ages = np.random.default_rng(5).uniform(1000, 3900, 30_000)
    data = generator(ages, size=30_000, seed=6, **params)
    model = fitter().fit(data["frequency"], data["recency"], data["T"])
    for name, value in params.items():
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name


def test_transactional_data_summarises_to_the_summary_generator():
    # lifetimes' test: the same seed gives the same customers in both generators.
    log = beta_geometric_nbd_model_transactional_data(100, 0.24, 4.41, 0.79, 2.43, size=500, seed=9)
    summary = crmkit.summary_data_from_transaction_data(log, "customer_id", "date",
                                                        observation_period_end="2019-1-1", freq="D")
    expected = beta_geometric_nbd_model(100, 0.24, 4.41, 0.79, 2.43, size=500, seed=9)
    np.testing.assert_array_equal(summary["frequency"].to_numpy(), expected["frequency"].to_numpy())
    np.testing.assert_array_equal(summary["recency"].to_numpy(), np.ceil(expected["recency"].to_numpy()))
    np.testing.assert_array_equal(summary["T"].to_numpy(), expected["T"].to_numpy())


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="alpha = -1"):
        beta_geometric_beta_binom_model(6, -1, 1, 1, 1)
    with pytest.raises(ValueError, match="T has 2 values but size = 3"):
        pareto_nbd_model([1, 2], 1, 1, 1, 1, size=3)
    with pytest.raises(ValueError, match="whole numbers"):
        beta_geometric_beta_binom_model(6.5, 1, 1, 1, 1)
