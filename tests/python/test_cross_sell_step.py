"""The "what to offer whom" step (crmkit::pipeline::cross_sell) against the report's earlier
Python composition of the public basket functions: the same rows, order and values."""

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit._report_basket import OFFER_GROUPS, cross_sell_tables


def _text(itemset):
    return " & ".join(sorted(map(str, itemset)))


def composed_in_pandas(order_lines, tables, customer="customer_id", order="order_id",
                       item="product_id", date="date", quantity=None, min_support=0.005, k=5):
    """crmkit._report_basket.cross_sell_tables as it was before the step existed (commit
    7c7fa10): fpgrowth -> association_rules -> sort and filter in pandas -> recommend -> merge
    with the offer targets. The reference the library step must equal."""
    itemsets = crmkit.fpgrowth(order_lines, min_support=min_support, max_len=3, use_colnames=True,
                               order=order, item=item, quantity=quantity)
    rules = crmkit.association_rules(itemsets, metric="lift", min_threshold=1.0)
    rules = rules.sort_values(["lift", "support"], ascending=False, kind="stable")
    single = (rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)
    pairs = rules[single].copy()
    pairs["pair"] = [_text(a | c) for a, c in zip(pairs["antecedents"], pairs["consequents"])]
    pairs = pairs.drop_duplicates("pair")[["pair", "support", "confidence", "lift"]]
    shown = rules.copy()
    shown["antecedents"] = shown["antecedents"].map(_text)
    shown["consequents"] = shown["consequents"].map(_text)
    ids = {name: (pd.Index(tables[name][customer]) if customer in tables[name].columns
                  else pd.Index(tables[name].index)) for name in tables}
    who = [pd.DataFrame({customer: ids[name], "who": label})
           for name, label in OFFER_GROUPS if name in tables]
    offers = crmkit.recommend(order_lines, k=k, order=order, item=item, customer=customer,
                              date=date, quantity=quantity)
    if who:
        targets = pd.concat(who).drop_duplicates(customer)
        offers = targets.merge(offers, on=customer, how="inner")
    return {"cross_sell_rules": shown.reset_index(drop=True),
            "cross_sell_pairs": pairs.reset_index(drop=True),
            "offers": offers.reset_index(drop=True)}


def _lines(seed, customers=300):
    lines = crmkit.simulate_baskets(customers=customers, seed=seed, days=150)["lines"]
    return lines.assign(date=pd.Timestamp("2024-01-01") + pd.to_timedelta(lines["day"], "D"))


def _targets(lines, seed):
    """Early-warning and top-value lists drawn from the customers (some in both, some with no
    order lines), indexed by customer id as the report's tables are."""
    rng = np.random.default_rng(seed)
    ids = np.unique(lines["customer_id"])
    slipping = rng.choice(ids, 25, replace=False)
    top = np.concatenate([rng.choice(ids, 20, replace=False), slipping[:5],
                          [ids.max() + 1000]])
    return {"early_warning": pd.DataFrame({"clv": 1.0}, index=pd.Index(slipping,
                                                                       name="customer_id")),
            "top_customers": pd.DataFrame({"clv": 1.0}, index=pd.Index(top, name="customer_id"))}


def _assert_same(got, want):
    assert list(got) == list(want)
    for name in want:
        g, w = got[name], want[name]
        assert list(g.columns) == list(w.columns), name
        assert len(g) == len(w) and len(w) > 0, name
        for column in w.columns:
            have, expected = g[column], w[column]
            if pd.api.types.is_float_dtype(expected):
                np.testing.assert_array_equal(have.to_numpy(float), expected.to_numpy(float),
                                              err_msg=f"{name}.{column}")
            else:
                assert [None if pd.isna(v) else v for v in have.astype(object)] == \
                    [None if pd.isna(v) else v for v in expected.astype(object)], \
                    f"{name}.{column}"


@pytest.mark.parametrize("seed", [3, 8])
def test_the_step_equals_the_pandas_composition(seed):
    lines = _lines(seed)
    tables = _targets(lines, seed)
    _assert_same(cross_sell_tables(lines, tables, min_support=0.004),
                 composed_in_pandas(lines, tables, min_support=0.004))


def test_text_ids_returns_and_a_larger_k_equal_the_pandas_composition():
    lines = _lines(5, customers=200)
    rng = np.random.default_rng(5)
    # text customers and products (text order differs from number order: "p10" < "p9"), a
    # quantity column with returns and duplicate lines
    lines = lines.assign(customer_id="c" + lines["customer_id"].astype(str),
                         product_id="p" + lines["product_id"].astype(str),
                         quantity=np.where(rng.uniform(size=len(lines)) < 0.05, -1.0, 2.0))
    lines = pd.concat([lines, lines.iloc[::17]]).sort_values("order_id", kind="stable")
    tables = _targets(lines.assign(customer_id=lines["customer_id"].str[1:].astype(int)), 5)
    tables = {name: frame.set_axis("c" + frame.index.astype(str), axis=0)
              for name, frame in tables.items()}
    _assert_same(cross_sell_tables(lines, tables, quantity="quantity", min_support=0.003, k=7),
                 composed_in_pandas(lines, tables, quantity="quantity", min_support=0.003, k=7))


def test_without_target_tables_every_customer_is_offered_to_as_before():
    lines = _lines(2, customers=120)
    _assert_same(cross_sell_tables(lines, {}, min_support=0.01),
                 composed_in_pandas(lines, {}, min_support=0.01))


def test_bad_order_lines_are_named():
    lines = _lines(2, customers=50)
    with pytest.raises(ValueError, match=r"quantity\[4\] = nan must be finite"):
        cross_sell_tables(lines.assign(quantity=np.where(np.arange(len(lines)) == 4, np.nan, 1.0)),
                          {}, quantity="quantity")
    with pytest.raises(ValueError, match="min_support"):
        cross_sell_tables(lines, {}, min_support=1.5)
    with pytest.raises(ValueError, match="no order lines"):
        cross_sell_tables(lines.iloc[:0], {})
    with pytest.raises(ValueError, match="max_itemsets"):
        crmkit._core.pipeline.cross_sell(
            np.arange(3), np.arange(3), None, np.zeros(3, np.int64), np.zeros(3, np.int64),
            ["a", "b", "c"], [], None, None,
            crmkit._core.pipeline.CrossSellOptions(min_support=0.1, max_itemsets=2))
    with pytest.raises(ValueError, match=r"target_group\[1\] = 7"):
        crmkit._core.pipeline.cross_sell(
            np.arange(3), np.arange(3), None, np.zeros(3, np.int64), np.zeros(3, np.int64),
            ["a", "b", "c"], [], np.zeros(2, np.int64), np.array([0, 7]))
    with pytest.raises(ValueError, match=r"item\[2\] = 3 is a product code without text"):
        crmkit._core.pipeline.cross_sell(
            np.arange(3), np.array([0, 1, 3]), None, np.zeros(3, np.int64),
            np.zeros(3, np.int64), ["a", "b", "c"], [], None, None)
