"""Key drivers (Shapley decomposition of R^2, Johnson's weights) and joining customer labels."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

import crmkit


def ratings(n=600, p=5, seed=0):
    """Attribute ratings 1-5 sharing a common 'mood', and an overall 0-10 score driven by them."""
    rng = np.random.default_rng(seed)
    mood = rng.normal(size=n)
    columns = {}
    for j in range(p):
        columns[f"a{j}"] = np.clip(np.round(3 + 0.8 * mood + rng.normal(size=n)), 1, 5)
    frame = pd.DataFrame(columns)
    overall = sum(frame[f"a{j}"] / (j + 1) for j in range(p)) + 1.2 * rng.normal(size=n)
    frame["overall"] = np.clip(np.round(overall * 10 / overall.max()), 0, 10)
    return frame


def r_squared(x, y):
    """R^2 of least squares with intercept, by numpy.linalg.lstsq."""
    design = np.column_stack([np.ones(len(y)), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ beta
    return 1 - residual @ residual / ((y - y.mean()) @ (y - y.mean()))


def brute_force_shapley(x, y):
    """Shapley values of R^2 by enumerating every subset with a separate lstsq fit."""
    p = x.shape[1]
    r2 = {(): 0.0}
    for size in range(1, p + 1):
        for subset in itertools.combinations(range(p), size):
            r2[subset] = r_squared(x[:, subset], y)
    values = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in itertools.combinations(others, size):
                with_j = tuple(sorted(subset + (j,)))
                values[j] += weight * (r2[with_j] - r2[subset])
    return values


def test_shapley_equals_brute_force_and_sums_to_r_squared():
    data = ratings()
    table = crmkit.drivers(data, "overall", n_boot=0)
    x = data[[f"a{j}" for j in range(5)]].to_numpy()
    y = data.overall.to_numpy()
    np.testing.assert_allclose(table.importance, brute_force_shapley(x, y), rtol=1e-9, atol=1e-12)
    assert table.importance.sum() == pytest.approx(r_squared(x, y), rel=1e-12)
    assert table.attrs["r_squared"] == pytest.approx(r_squared(x, y), rel=1e-12)
    assert table.share.sum() == pytest.approx(1.0)
    assert sorted(table["rank"]) == [1, 2, 3, 4, 5]
    assert table["rank"].idxmin() == "a0"  # the attribute with the largest simulated weight
    assert table[["lower", "upper"]].isna().all().all()


def test_nps_target_codes_promoters_and_detractors():
    data = ratings(seed=1)
    table = crmkit.drivers(data, "overall", target="nps", n_boot=0)
    coded = np.where(data.overall >= 9, 1.0, np.where(data.overall >= 7, 0.0, -1.0))
    x = data[[f"a{j}" for j in range(5)]].to_numpy()
    assert table.importance.sum() == pytest.approx(r_squared(x, coded), rel=1e-12)


def test_johnson_weights_sum_to_r_squared():
    data = ratings(seed=2)
    table = crmkit.drivers(data, "overall", method="johnson", n_boot=0)
    x = data[[f"a{j}" for j in range(5)]].to_numpy()
    assert table.importance.sum() == pytest.approx(r_squared(x, data.overall.to_numpy()), rel=1e-10)
    assert (table.importance > 0).all()


def test_bootstrap_intervals_are_reproducible_and_bracket_the_estimate():
    data = ratings(n=300, p=3, seed=3)
    first = crmkit.drivers(data, "overall", n_boot=300, random_state=4)
    again = crmkit.drivers(data, "overall", n_boot=300, random_state=4)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert (first.lower < first.importance).all() and (first.importance < first.upper).all()
    other = crmkit.drivers(data, "overall", n_boot=300, random_state=5)
    assert not np.array_equal(first.lower, other.lower)


def test_driver_input_errors():
    data = ratings(n=100, p=3, seed=4)
    data.loc[7, "a1"] = np.nan
    with pytest.raises(ValueError, match="1 of 100 rows have a missing .* index 7"):
        crmkit.drivers(data, "overall")
    with pytest.warns(crmkit.SkippedRowsWarning):
        table = crmkit.drivers(data, "overall", n_boot=0, on_bad_row="skip")
    assert table.attrs["n"] == 99
    constant = ratings(n=100, p=3, seed=4).assign(a2=3.0)
    with pytest.raises(ValueError, match="attribute column 2 is constant"):
        crmkit.drivers(constant, "overall", n_boot=0)
    collinear = ratings(n=100, p=3, seed=4)
    collinear["a2"] = collinear.a0 + collinear.a1
    with pytest.raises(ValueError, match="collinear"):
        crmkit.drivers(collinear, "overall", n_boot=0)
    with pytest.raises(ValueError, match="not in the DataFrame"):
        crmkit.drivers(collinear, "overall", attributes=["zz"])


def test_attach_labels_joins_customer_segments_then_aggregates():
    customers = pd.DataFrame(
        {"customer_id": [1, 2, 3, 4], "tier": ["gold", "silver", "gold", "bronze"]}
    )
    responses = pd.DataFrame(
        {"customer_id": [3, 1, 2, 2, 4, 3], "score": [10, 9, 3, 7, 0, 8]},
        index=list("uvwxyz"),
    )
    joined = crmkit.attach_labels(responses, customers)
    assert list(joined.index) == list("uvwxyz")
    assert list(joined.tier) == ["gold", "gold", "silver", "silver", "bronze", "gold"]
    with pytest.warns(crmkit.SmallSampleWarning):
        table = crmkit.aggregate(joined, "score", by="tier")
    assert table.loc["gold", "n"] == 3 and table.loc["gold", "promoters"] == 2

    stray = pd.concat([responses, pd.DataFrame({"customer_id": [9], "score": [5]}, index=["q"])])
    with pytest.raises(ValueError, match=r"1 of 7 responses .* index 'q' \(customer 9\)"):
        crmkit.attach_labels(stray, customers)
    with pytest.warns(crmkit.UnmatchedResponsesWarning):
        kept = crmkit.attach_labels(stray, customers, missing="keep")
    assert len(kept) == 7 and pd.isna(kept.loc["q", "tier"])
    with pytest.warns(crmkit.UnmatchedResponsesWarning):
        dropped = crmkit.attach_labels(stray, customers.set_index("customer_id"), missing="drop")
    assert list(dropped.index) == list("uvwxyz")
    with pytest.raises(ValueError, match="more than one row for customer 2"):
        crmkit.attach_labels(responses, pd.concat([customers, customers.iloc[[1]]]))
