"""crmkit.fpgrowth / association_rules against brute-force counts (itertools over every subset)."""

import re
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

import crmkit


def random_one_hot(seed, rows=60, cols=8, density=0.4):
    rng = np.random.default_rng(seed)
    share = density * rng.uniform(0.2, 1.8, cols)
    return pd.DataFrame(rng.uniform(size=(rows, cols)) < share,
                        columns=[f"p{j}" for j in range(cols)])


def brute_itemsets(df, min_support, max_len=None):
    """Every subset of the columns, its support counted row by row."""
    values = df.to_numpy(bool)
    out = {}
    for size in range(1, (max_len or df.shape[1]) + 1):
        for subset in combinations(range(df.shape[1]), size):
            support = values[:, list(subset)].all(axis=1).mean()
            if support >= min_support:
                out[frozenset(subset)] = support
    return out


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("max_len", [None, 2, 3])
def test_fpgrowth_equals_brute_force(seed, max_len):
    df = random_one_hot(seed)
    got = crmkit.fpgrowth(df, min_support=0.1, max_len=max_len)
    assert list(got.columns) == ["support", "itemsets"]
    assert dict(zip(got["itemsets"], got["support"])) == pytest.approx(
        brute_itemsets(df, 0.1, max_len), rel=1e-15)


def test_colnames_sparse_and_integer_one_hot_agree():
    df = random_one_hot(7)
    named = crmkit.fpgrowth(df, min_support=0.15, use_colnames=True)
    positions = crmkit.fpgrowth(df.astype(int), min_support=0.15)
    sparse = crmkit.fpgrowth(df.astype(pd.SparseDtype(bool, False)), min_support=0.15)
    assert [frozenset(df.columns[list(s)]) for s in positions["itemsets"]] == list(named["itemsets"])
    assert list(sparse["itemsets"]) == list(positions["itemsets"])
    assert crmkit.apriori(df, min_support=0.15).equals(positions)


def test_order_lines_with_string_ids_match_the_one_hot_table():
    rng = np.random.default_rng(3)
    products = np.array(["milk", "bread", "eggs", "tea", "jam", "rice"])
    lines = pd.DataFrame({"order_id": rng.integers(0, 80, 600),
                          "product_id": products[rng.integers(0, 6, 600)]})
    one_hot = pd.crosstab(lines["order_id"], lines["product_id"]) > 0
    from_lines = crmkit.fpgrowth(lines, min_support=0.2, use_colnames=True,
                                 order="order_id", item="product_id")
    from_table = crmkit.fpgrowth(one_hot, min_support=0.2, use_colnames=True)
    assert dict(zip(from_lines["itemsets"], from_lines["support"])) == dict(
        zip(from_table["itemsets"], from_table["support"]))


def test_returns_and_duplicates_follow_the_policy():
    lines = pd.DataFrame({"order": [1, 1, 1, 2, 2, 3],
                          "item": ["a", "a", "b", "a", "b", "c"],
                          "qty": [1, 1, 2, 1, -1, -1]})
    baskets = crmkit.order_baskets(lines, order="order", item="item", quantity="qty")
    assert baskets["duplicate_lines"] == 1
    assert baskets["return_lines"] == 2
    assert baskets["empty_baskets"] == 1  # order 3 only returned c
    got = crmkit.fpgrowth(lines, min_support=0.01, use_colnames=True, order="order",
                          item="item", quantity="qty")
    # order 1 = {a, b}; order 2 = {a} (b returned); order 3 dropped: two baskets
    assert dict(zip(got["itemsets"], got["support"])) == {
        frozenset("a"): 1.0, frozenset("b"): 0.5, frozenset("ab"): 0.5}


def test_rules_equal_brute_force_measures():
    df = random_one_hot(11, rows=120)
    values = df.to_numpy(bool)
    itemsets = crmkit.fpgrowth(df, min_support=0.08)
    rules = crmkit.association_rules(itemsets, metric="support", min_threshold=0.0)
    assert list(rules.columns) == [
        "antecedents", "consequents", "antecedent support", "consequent support", "support",
        "confidence", "lift", "leverage", "conviction", "zhangs_metric"]
    expected = sum(2 ** len(s) - 2 for s in itemsets["itemsets"] if len(s) > 1)
    assert len(rules) == expected

    def share(items):
        return values[:, sorted(items)].all(axis=1).mean()

    for row in rules.itertuples(index=False):
        a, c = row.antecedents, row.consequents
        s_a, s_c, s_ac = share(a), share(c), share(a | c)
        conf = s_ac / s_a
        assert row[2:6] == pytest.approx((s_a, s_c, s_ac, conf), rel=1e-14)
        assert row.lift == pytest.approx(conf / s_c, rel=1e-14)
        assert row.leverage == pytest.approx(s_ac - s_a * s_c, rel=1e-12, abs=1e-15)
        assert row.conviction == (np.inf if conf == 1 else pytest.approx((1 - s_c) / (1 - conf)))
        denominator = max(s_ac * (1 - s_a), s_a * (s_c - s_ac))
        assert row.zhangs_metric == pytest.approx(
            0 if denominator == 0 else (s_ac - s_a * s_c) / denominator, rel=1e-12, abs=1e-15)


def test_rule_filters_fixed_sides_and_old_signature():
    df = random_one_hot(12, rows=200, density=0.5)
    itemsets = crmkit.fpgrowth(df, min_support=0.05, use_colnames=True)
    everything = crmkit.association_rules(itemsets, metric="support", min_threshold=0)
    lifted = crmkit.association_rules(itemsets, metric="lift", min_threshold=1.1)
    assert len(lifted) == (everything["lift"] >= 1.1).sum() > 0
    assert crmkit.association_rules(itemsets, "lift", 1.1).equals(lifted)
    offer = crmkit.association_rules(itemsets, metric="confidence", min_threshold=0.0,
                                     antecedent="p1")
    assert len(offer) == (everything["antecedents"] == frozenset({"p1"})).sum() > 0
    assert set(offer["antecedents"]) == {frozenset({"p1"})}
    to = crmkit.association_rules(itemsets, metric="confidence", min_threshold=0.0,
                                  consequent=["p2", "p3"])
    assert set(to["consequents"]) <= {frozenset({"p2", "p3"})}


def test_bad_input_is_named():
    df = random_one_hot(1)
    with pytest.raises(ValueError, match="max_itemsets = 3"):
        crmkit.fpgrowth(df, min_support=0.01, max_itemsets=3)
    with pytest.raises(ValueError, match="min_support"):
        crmkit.fpgrowth(df, min_support=0.0)
    bad = df.astype(int)
    bad.iloc[4, 2] = 7
    with pytest.raises(ValueError, match="row 4, column 'p2' holds 7"):
        crmkit.fpgrowth(bad)
    with pytest.raises(ValueError, match="item = 'sku'"):
        crmkit.fpgrowth(pd.DataFrame({"order": [1]}), order="order", item="sku")
    partial = pd.DataFrame({"support": [0.5, 0.5, 0.3],
                            "itemsets": [frozenset("a"), frozenset("b"), frozenset("abc")]})
    with pytest.raises(ValueError, match="not in the table"):
        crmkit.association_rules(partial)
    only = crmkit.association_rules(partial, support_only=True, min_threshold=0.1)
    assert len(only) == 6 and only["confidence"].isna().all()
    with pytest.raises(ValueError, match="metric"):
        crmkit.association_rules(partial, metric="lyft")


def test_simulator_is_deterministic_and_reports_its_plant():
    one = crmkit.simulate_baskets(customers=300, seed=4)
    two = crmkit.simulate_baskets(customers=300, seed=4)
    assert one["lines"].equals(two["lines"])
    assert len(one["planted"]) == 14 and (one["planted"]["lift"] > 1).all()
    assert not crmkit.simulate_baskets(customers=300, seed=5)["lines"].equals(one["lines"])
    with pytest.raises(ValueError, match="planted_rate"):
        crmkit.simulate_baskets(planted_rate=2.0)


def test_planted_pairs_come_out_on_top_of_the_rules():
    sim = crmkit.simulate_baskets(customers=3000, seed=8)
    itemsets = crmkit.fpgrowth(sim["lines"], min_support=0.002, max_len=2, order="order_id",
                               item="product_id", use_colnames=True)
    rules = crmkit.association_rules(itemsets, metric="lift", min_threshold=5)
    planted = set(sim["planted"]["itemset"][sim["planted"]["itemset"].map(len) == 2])
    found = {a | c for a, c in zip(rules["antecedents"], rules["consequents"])}
    assert planted <= found


def test_recommend_and_evaluate():
    sim = crmkit.simulate_baskets(customers=800, seed=3, cycle_max=120)
    lines = sim["lines"].rename(columns={"day": "date"})
    segments = sim["segments"].set_index("customer_id")["segment"]
    offers = crmkit.recommend(lines, k=5, as_of=300, segments=segments)
    assert list(offers.columns) == ["customer_id", "rank", "product_id", "score", "reason",
                                    "because"]
    assert (offers.groupby("customer_id").size() == 5).all()
    history = lines[lines["date"] < 300]
    owned = set(zip(history["customer_id"], history["product_id"]))
    is_owned = [(c, p) in owned for c, p in zip(offers["customer_id"], offers["product_id"])]
    reason = offers["reason"].astype(str)
    assert all(o for o, r in zip(is_owned, reason) if r == "repurchase_due")
    assert not any(o for o, r in zip(is_owned, reason) if r in ("cross_sell", "segment_popular"))
    assert offers["because"].notna().tolist() == (reason == "cross_sell").tolist()
    table = crmkit.evaluate_recommendations(lines, as_of=300, horizon=30, segments=segments)
    assert list(table.index) == ["crmkit", "global_popularity", "personal_frequency"]
    assert table.loc["crmkit", "ndcg"] > table.loc["global_popularity", "ndcg"]
    assert (table["precision"] <= table["hit_rate"]).all()
    with pytest.raises(ValueError, match="date = 'when'"):
        crmkit.recommend(lines, date="when")


def _report_input(customers=400, seed=2):
    """Simulated order lines in which a quarter of the customers stop buying after day 150 (so
    the report's early-warning list is not empty), and the transaction log of their orders."""
    lines = crmkit.simulate_baskets(customers=customers, seed=seed)["lines"]
    stopped = (lines["customer_id"] % 4 == 0) & (lines["day"] >= 150)
    lines = lines[~stopped.to_numpy()]
    lines = lines.assign(date=pd.Timestamp("2024-01-01") + pd.to_timedelta(lines["day"], "D"))
    log = lines.groupby("order_id").agg(customer_id=("customer_id", "first"),
                                        date=("date", "first"),
                                        amount=("product_id", "size")).reset_index(drop=True)
    return lines, log


def _check_offers_follow_the_lists(offers, early_warning, top_customers, k=5):
    """Both groups have offers; each group's customers come from its list, in the list's order,
    with k ranked offers each; a customer in both lists is offered to once, as slipping away."""
    for group, listed in (("slipping away", early_warning), ("top value", top_customers)):
        chosen = offers[offers["who"] == group]
        assert len(chosen) > 0, group
        order = list(dict.fromkeys(chosen["customer_id"]))
        assert order == [c for c in listed if c in set(order)], group
        assert all(ranks == list(range(1, k + 1))
                   for ranks in chosen.groupby("customer_id")["rank"].apply(list))
    assert not offers.duplicated(["customer_id", "rank"]).any()
    both = set(early_warning) & set(top_customers)
    assert set(offers.loc[offers["customer_id"].isin(both), "who"]) <= {"slipping away"}


def test_report_section_what_to_offer_whom(tmp_path):
    from crmkit.report import build_report

    lines, log = _report_input()
    report = build_report(log, str(tmp_path / "out"), progress=None, order_lines=lines)
    for name in ("cross_sell_rules", "cross_sell_pairs", "offers"):
        assert (tmp_path / "out" / f"{name}.csv").exists()
    _check_offers_follow_the_lists(report.tables["offers"],
                                   list(report.tables["early_warning"].index),
                                   list(report.tables["top_customers"].index))
    page = (tmp_path / "out" / "report.html").read_text()
    assert '<section id="cross_sell"><h2>What to offer whom</h2>' in page
    section = page[page.index('<section id="cross_sell">'):]
    section = section[:section.index("</section>")]
    first_slipping = report.tables["offers"].query("who == 'slipping away'")["customer_id"].iloc[0]
    first_top = report.tables["offers"].query("who == 'top value'")["customer_id"].iloc[0]
    slipping = section.index("Customers slipping away: what to offer")
    top = section.index("Top-value customers: what to offer")
    assert slipping < section.index(f"<th>{first_slipping}</th>") < top
    assert top < section.index(f"<th>{first_top}</th>")


def test_the_command_line_reads_order_lines_and_writes_the_section(tmp_path):
    from crmkit.__main__ import main

    lines, log = _report_input()
    log.to_csv(tmp_path / "log.csv", index=False)
    # names the reader finds by itself (invoice, sku, qty) and one it is told (--lines-customer-col)
    file = lines.rename(columns={"order_id": "invoice", "product_id": "sku",
                                 "customer_id": "buyer"})
    file.assign(qty=1)[["invoice", "buyer", "date", "sku", "qty"]].to_csv(
        tmp_path / "lines.csv", index=False, date_format="%Y-%m-%d")
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "log.csv"), "--order-lines", str(tmp_path / "lines.csv"),
                 "--lines-customer-col", "buyer", "--out", str(out), "--quiet"]) == 0
    offers = pd.read_csv(out / "offers.csv")
    assert list(offers.columns) == ["customer_id", "who", "rank", "product_id", "score", "reason",
                                    "because"]
    _check_offers_follow_the_lists(offers, list(pd.read_csv(out / "early_warning.csv")
                                                .iloc[:, 0]),
                                   list(pd.read_csv(out / "top_customers.csv").iloc[:, 0]))
    pairs = pd.read_csv(out / "cross_sell_pairs.csv")
    assert len(pairs) > 0 and (pairs["lift"] >= 1).all()
    page = (out / "report.html").read_text()
    assert '<section id="cross_sell">' in page and "; order lines: " in page


def test_the_command_line_names_what_is_wrong_with_order_lines(tmp_path, capsys):
    from crmkit.__main__ import main

    lines, log = _report_input(customers=200)
    log.to_csv(tmp_path / "log.csv", index=False)
    cases = {
        "no_product": (lines[["order_id", "customer_id", "date"]], [],
                       r"column 'product_id' not found in .*no_product.csv .*--product-col NAME"),
        "bad_date": (lines.assign(date=lines["date"].astype(str).where(
            np.arange(len(lines)) != 3, "31/12/2024")), [],
                     r"bad_date.csv:5: column 'date': cannot read '31/12/2024' as a date; .*"
                     "--date-format"),
        "bad_customer": (lines.assign(customer_id=lines["customer_id"].astype(str).where(
            np.arange(len(lines)) != 0, "c7")), [],
                         r"bad_customer.csv:2: column 'customer_id': 'c7' is not a customer id"),
        "bad_quantity": (lines.assign(quantity="x"), [],
                         r"bad_quantity.csv:2: column 'quantity': 'x' is not a number"),
        "wrong_option": (lines, ["--order-col", "orderid"],
                         r"column 'orderid' \(--order-col\) not found .*did you mean 'order_id'"),
    }
    for name, (frame, options, message) in cases.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        status = main(["report", str(tmp_path / "log.csv"), "--order-lines",
                       str(tmp_path / f"{name}.csv"), *options, "--out",
                       str(tmp_path / f"out_{name}"), "--quiet"])
        assert status == 2, name
        error = capsys.readouterr().err
        assert re.search(message, error), (name, error)
        assert error.count("\n") == 1, name
    assert main(["report", "--scheduler", "local", "--order-lines", str(tmp_path / "bad_date.csv"),
                 "--out", str(tmp_path / "out_cluster"), "--quiet"]) == 2
    assert "--order-lines is not available with --scheduler" in capsys.readouterr().err


def test_recommend_takes_customer_ids_of_any_type():
    lines = crmkit.simulate_baskets(customers=300, seed=4)["lines"]
    named = lines.assign(customer_id="c" + lines["customer_id"].astype(str))
    by_number = crmkit.recommend(lines, k=3, date="day")
    by_name = crmkit.recommend(named, k=3, date="day")
    # the same offers whatever the ids are called; the codes follow first appearance
    by_name["customer_id"] = by_name["customer_id"].str[1:].astype(np.int64)
    merged = by_number.merge(by_name, on=["customer_id", "rank"], suffixes=("", "_named"))
    assert len(merged) == len(by_number) == len(by_name)
    assert (merged["product_id"] == merged["product_id_named"]).all()
