"""The report's "what to offer whom" section, from order lines (crmkit.basket)."""

from __future__ import annotations

import html
from typing import Dict, Iterable

import pandas as pd

from .basket import association_rules, fpgrowth, recommend


def _text(itemset: Iterable) -> str:
    return " & ".join(sorted(map(str, itemset)))


def _customer_ids(table: pd.DataFrame, customer: str) -> pd.Index:
    if customer in table.columns:
        return pd.Index(table[customer])
    return pd.Index(table.index)


def cross_sell_tables(order_lines: pd.DataFrame, tables: Dict[str, pd.DataFrame], *,
                      customer: str = "customer_id", order: str = "order_id",
                      item: str = "product_id", date: str = "date",
                      min_support: float = 0.005, k: int = 5) -> Dict[str, pd.DataFrame]:
    """Rules, top cross-sell pairs and offers for the early-warning and top-value customers.

    ``tables`` are the report's (``early_warning`` and ``top_customers`` name the customers to
    make offers to). Returns ``cross_sell_rules`` (lift >= 1, strongest first),
    ``cross_sell_pairs`` (one product -> one product, each pair once) and ``offers``.
    """
    itemsets = fpgrowth(order_lines, min_support=min_support, max_len=3, use_colnames=True,
                        order=order, item=item)
    rules = association_rules(itemsets, metric="lift", min_threshold=1.0)
    rules = rules.sort_values(["lift", "support"], ascending=False, kind="stable")
    single = (rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)
    pairs = rules[single].copy()
    pairs["pair"] = [_text(a | c) for a, c in zip(pairs["antecedents"], pairs["consequents"])]
    pairs = pairs.drop_duplicates("pair")[["pair", "support", "confidence", "lift"]]
    shown = rules.copy()
    shown["antecedents"] = shown["antecedents"].map(_text)
    shown["consequents"] = shown["consequents"].map(_text)
    who = []
    for name, label in (("early_warning", "slipping away"), ("top_customers", "top value")):
        if name in tables:
            who.append(pd.DataFrame({customer: _customer_ids(tables[name], customer),
                                     "who": label}))
    offers = recommend(order_lines, k=k, order=order, item=item, customer=customer, date=date)
    if who:
        targets = pd.concat(who).drop_duplicates(customer)
        offers = targets.merge(offers, on=customer, how="inner")
    return {"cross_sell_rules": shown.reset_index(drop=True),
            "cross_sell_pairs": pairs.reset_index(drop=True),
            "offers": offers.reset_index(drop=True)}


def cross_sell_html(tables: Dict[str, pd.DataFrame], rows: int) -> str:
    """The section: top pairs, rules, and the offers with their reasons."""
    def table(frame: pd.DataFrame) -> str:
        return frame.head(rows).to_html(index=False, float_format=lambda v: f"{v:.3g}",
                                        border=0, classes="data")

    rules, pairs, offers = (tables[name] for name in ("cross_sell_rules", "cross_sell_pairs",
                                                      "offers"))
    reasons = offers["reason"].astype(str).value_counts() if len(offers) else pd.Series(dtype=int)
    reading = ", ".join(f"{count:,} {html.escape(reason.replace('_', ' '))}"
                        for reason, count in reasons.items())
    return "\n".join([
        '<section id="cross_sell"><h2>What to offer whom</h2>',
        f"<p>{len(rules):,} association rules with lift above 1; the strongest product pairs "
        "first (lift: how many times more often bought together than by chance).</p>",
        table(pairs),
        "<h3>Rules</h3>", table(rules),
        "<h3>Offers for the customers slipping away and the top-value customers</h3>",
        f"<p>Reasons: {reading or 'none'}. The full list is in offers.csv.</p>",
        table(offers),
        "</section>",
    ])
