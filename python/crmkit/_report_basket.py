"""The report's "what to offer whom" section, from order lines (crmkit.basket)."""

from __future__ import annotations

import html
from typing import Dict, Iterable, Optional

import pandas as pd

from ._report_html import _paragraph, _table
from ._report_text import Text
from .basket import association_rules, fpgrowth, recommend

OFFER_GROUPS = (("early_warning", "slipping away"), ("top_customers", "top value"))
"""The report's tables naming the customers to make offers to, and the group's name in offers.csv
(the early-warning customers first: a customer in both is listed as slipping away)."""


def _text(itemset: Iterable) -> str:
    return " & ".join(sorted(map(str, itemset)))


def _customer_ids(table: pd.DataFrame, customer: str) -> pd.Index:
    if customer in table.columns:
        return pd.Index(table[customer])
    return pd.Index(table.index)


def cross_sell_tables(order_lines: pd.DataFrame, tables: Dict[str, pd.DataFrame], *,
                      customer: str = "customer_id", order: str = "order_id",
                      item: str = "product_id", date: str = "date",
                      quantity: Optional[str] = None,
                      min_support: float = 0.005, k: int = 5) -> Dict[str, pd.DataFrame]:
    """Rules, top cross-sell pairs and offers for the early-warning and top-value customers.

    ``tables`` are the report's (``early_warning`` and ``top_customers`` name the customers to
    make offers to, in their order). Returns ``cross_sell_rules`` (lift >= 1, strongest first),
    ``cross_sell_pairs`` (one product -> one product, each pair once) and ``offers`` (the
    top-``k`` of :func:`crmkit.recommend` for those customers, with the group in ``who``).
    """
    itemsets = fpgrowth(order_lines, min_support=min_support, max_len=3, use_colnames=True,
                        order=order, item=item, quantity=quantity)
    rules = association_rules(itemsets, metric="lift", min_threshold=1.0)
    rules = rules.sort_values(["lift", "support"], ascending=False, kind="stable")
    single = (rules["antecedents"].map(len) == 1) & (rules["consequents"].map(len) == 1)
    pairs = rules[single].copy()
    pairs["pair"] = [_text(a | c) for a, c in zip(pairs["antecedents"], pairs["consequents"])]
    pairs = pairs.drop_duplicates("pair")[["pair", "support", "confidence", "lift"]]
    shown = rules.copy()
    shown["antecedents"] = shown["antecedents"].map(_text)
    shown["consequents"] = shown["consequents"].map(_text)
    who = [pd.DataFrame({customer: _customer_ids(tables[name], customer), "who": label})
           for name, label in OFFER_GROUPS if name in tables]
    offers = recommend(order_lines, k=k, order=order, item=item, customer=customer, date=date,
                       quantity=quantity)
    if who:
        targets = pd.concat(who).drop_duplicates(customer)
        offers = targets.merge(offers, on=customer, how="inner")
    return {"cross_sell_rules": shown.reset_index(drop=True),
            "cross_sell_pairs": pairs.reset_index(drop=True),
            "offers": offers.reset_index(drop=True)}


def cross_sell_csv(frame: pd.DataFrame, text: Text) -> pd.DataFrame:
    """A cross-sell table as its CSV file holds it in `text`'s language (``--csv-lang``): column
    names and the names of offer groups and reasons (English: the table itself)."""
    if text.english:
        return frame
    shown = frame.copy()
    for column, kind in (("who", "offer_group"), ("reason", "offer_reason")):
        if column in shown.columns:
            shown[column] = [text.domain(kind, str(value)) for value in shown[column]]
    shown.columns = [text.column(name) for name in shown.columns]
    return shown


def _offer_lists(offers: pd.DataFrame, customer: str, item: str, text: Text) -> pd.DataFrame:
    """One row per customer: the offers in rank order, each with its reason."""
    def offer(row) -> str:
        because = row.because if row.because is not None and pd.notna(row.because) else ""
        reason = text(f"cross_sell.reason.{row.reason}",
                      **({"because": because} if row.reason == "cross_sell" else {}))
        return text("cross_sell.offer", product=getattr(row, item), reason=reason)

    listed = offers.assign(offer=[offer(row) for row in offers.itertuples(index=False)])
    return (listed.groupby(customer, sort=False)["offer"].agg(text("cross_sell.separator").join)
            .to_frame(text("cross_sell.offers_column")))


def cross_sell_html(tables: Dict[str, pd.DataFrame], rows: int, text: Optional[Text] = None, *,
                    customer: str = "customer_id", item: str = "product_id") -> str:
    """The section: top pairs, rules, offers by reason, and for each group of customers
    (slipping away, top value) the first `rows` customers' offers with their reasons.
    ``tables`` hold the three tables of :func:`cross_sell_tables` and, to tell an empty group
    from one without order lines, the report's ``early_warning`` and ``top_customers``."""
    text = Text() if text is None else text
    rules, pairs, offers = (tables[name] for name in ("cross_sell_rules", "cross_sell_pairs",
                                                      "offers"))
    reasons = offers["reason"].astype(str).value_counts().rename("offers").to_frame()
    reasons.index = pd.Index([text.domain("offer_reason", code) for code in reasons.index],
                             name="reason")
    parts = [f'<section id="cross_sell"><h2>{html.escape(text("cross_sell.heading"))}</h2>',
             _paragraph(text("cross_sell.explain", rules=f"{len(rules):,}")),
             _table(pairs.set_index("pair"), rows, text),
             f"<h3>{html.escape(text('cross_sell.rules'))}</h3>",
             _table(rules.set_index("antecedents"), rows, text),
             f"<h3>{html.escape(text('cross_sell.offers'))}</h3>",
             _paragraph(text("cross_sell.reasons")),
             _table(reasons, rows, text)]
    groups = ([(name, offers[offers["who"] == label]) for name, label in OFFER_GROUPS]
              if "who" in offers.columns else [("", offers)])
    for name, chosen in groups:
        if name:
            parts.append(f"<h3>{html.escape(text('cross_sell.group_' + name))}</h3>")
        if len(chosen):
            parts.append(_table(_offer_lists(chosen, customer, item, text), rows, text))
        elif name in tables and len(tables[name]) == 0:
            parts.append(_paragraph(text("cross_sell.no_customers")))
        else:
            parts.append(_paragraph(text("cross_sell.no_offers")))
    parts.append("</section>")
    return "\n".join(parts)
