"""The report's "what to offer whom" section, from order lines (crmkit.basket)."""

from __future__ import annotations

import html
from typing import Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

from . import _core
from ._report_html import _paragraph, _table
from ._report_text import Text
from .basket import _history_arguments

OFFER_GROUPS = tuple(zip(_core.pipeline.OFFER_GROUP_TABLES, _core.pipeline.OFFER_GROUPS))
"""The report's tables naming the customers to make offers to, and the group's name in offers.csv
(the early-warning customers first: a customer in both is listed as slipping away); the
library's crmkit::pipeline::offer_group_tables and offer_group."""

_NAMED = {"who": "offer_group", "reason": "offer_reason"}
"""The cross-sell columns holding names of things, and the kind of names each holds."""


def _customer_ids(table: pd.DataFrame, customer: str) -> pd.Index:
    if customer in table.columns:
        return pd.Index(table[customer])
    return pd.Index(table.index)


def _target_arguments(tables: Dict[str, pd.DataFrame], customer: str,
                      customers: Optional[pd.Index]) -> dict:
    """The offer targets as the library takes them (keys like the order lines' customers, group
    codes); None when `tables` name no group. Customers without order lines are left out."""
    keys, groups = [], []
    for group, name in enumerate(_core.pipeline.OFFER_GROUP_TABLES):
        if name not in tables:
            continue
        ids = _customer_ids(tables[name], customer)
        if customers is not None:
            found = customers.get_indexer(ids)
            chosen = found[found >= 0]
        elif pd.api.types.is_integer_dtype(ids.dtype):
            chosen = ids.to_numpy(np.int64)
        else:
            chosen = np.zeros(0, dtype=np.int64)
        keys.append(np.asarray(chosen, dtype=np.int64))
        groups.append(np.full(len(chosen), group, dtype=np.int64))
    if not keys:
        return dict(target_customer=None, target_group=None)
    return dict(target_customer=np.concatenate(keys), target_group=np.concatenate(groups))


class CrossSell:
    """The tables of the library's "what to offer whom" step (crmkit::pipeline::cross_sell) as
    it returns them (:attr:`taken`: name -> (index_columns, [(name, kind, values, labels)])),
    with the product and customer ids its codes stand for."""

    def __init__(self, taken: List[Tuple[str, tuple]], products: pd.Index,
                 customers: Optional[pd.Index], customer: str, item: str):
        self.taken = dict(taken)
        self.products, self.customers = products, customers
        self.customer, self.item = customer, item

    def _column(self, name: str, kind: str, values: np.ndarray, labels) -> object:
        if kind != "text":
            return values
        if name == "reason":
            return pd.Categorical.from_codes(values, labels)
        if name in (self.item, "because"):
            return np.asarray([*self.products, None], dtype=object)[values]
        if name == self.customer and self.customers is not None:
            return np.asarray(self.customers, dtype=object)[values]
        return np.asarray([*labels, None], dtype=object)[values]

    def frames(self) -> Dict[str, pd.DataFrame]:
        """Each table as a DataFrame: texts as strings, products and customers as the order
        lines' ids, reasons categorical."""
        return {name: pd.DataFrame({column: self._column(column, kind, values, labels)
                                    for column, kind, values, labels in columns})
                for name, (_, columns) in self.taken.items()}

    def csv_columns(self, name: str, text: Text) -> list:
        """Table `name`'s columns for its CSV file in `text`'s language (``--csv-lang``): column
        names and the names of offer groups and reasons (English: the table itself)."""
        columns = self.taken[name][1]
        if text.english:
            return columns
        named = [(column, kind, values,
                  [text.domain(_NAMED[column], label) for label in labels]
                  if kind == "text" and column in _NAMED else labels)
                 for column, kind, values, labels in columns]
        return text.csv_columns(name, named)


def cross_sell_step(order_lines: pd.DataFrame, tables: Dict[str, pd.DataFrame], *,
                    customer: str = "customer_id", order: str = "order_id",
                    item: str = "product_id", date: str = "date",
                    quantity: Optional[str] = None,
                    min_support: float = 0.005, k: int = 5) -> CrossSell:
    """The library's step on order lines and the report's `tables` (see
    :func:`cross_sell_tables`)."""
    arguments, products, _, customers = _history_arguments(order_lines, order, item, customer,
                                                           date, quantity, None)
    options = _core.pipeline.CrossSellOptions(min_support=float(min_support),
                                              offers_per_customer=int(k))
    taken = _core.pipeline.cross_sell(
        **arguments, products=[str(product) for product in products],
        customers=[] if customers is None else [str(each) for each in customers],
        **_target_arguments(tables, customer, customers), options=options,
        customer_column=customer, product_column=item)
    return CrossSell(taken, products, customers, customer, item)


def cross_sell_tables(order_lines: pd.DataFrame, tables: Dict[str, pd.DataFrame], *,
                      customer: str = "customer_id", order: str = "order_id",
                      item: str = "product_id", date: str = "date",
                      quantity: Optional[str] = None,
                      min_support: float = 0.005, k: int = 5) -> Dict[str, pd.DataFrame]:
    """Rules, top cross-sell pairs and offers for the early-warning and top-value customers.

    ``tables`` are the report's (``early_warning`` and ``top_customers`` name the customers to
    make offers to, in their order). Returns ``cross_sell_rules`` (lift >= 1, strongest first),
    ``cross_sell_pairs`` (one product -> one product, each pair once) and ``offers`` (the
    top-``k`` of :func:`crmkit.recommend` for those customers, with the group in ``who``; every
    customer, without ``who``, when ``tables`` hold neither list). Computed by the library's
    step crmkit::pipeline::cross_sell (docs/pipeline.md), the same as the C++ tool's.
    """
    return cross_sell_step(order_lines, tables, customer=customer, order=order, item=item,
                           date=date, quantity=quantity, min_support=min_support,
                           k=k).frames()


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
