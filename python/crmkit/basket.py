"""Cross-sell: frequent itemsets and association rules, in mlxtend's shape.

``fpgrowth`` (and its alias ``apriori``) take mlxtend's one-hot DataFrame (bool or 0/1 columns,
dense or pandas-sparse) or order lines (an order id and a product id column), and return
mlxtend's frame: ``support`` (a share of baskets) and ``itemsets`` (frozensets of column
positions, or of names/product ids with ``use_colnames=True``). ``association_rules`` takes that
frame and returns mlxtend's rule table (antecedents, consequents, antecedent support, consequent
support, support, confidence, lift, leverage, conviction, zhangs_metric).

The computation is crmkit's C++ (``crmkit/basket/``): exact (equal to counting every itemset in
every basket), parallel and deterministic, with memory in order lines, never in orders x
products. Order lines follow one policy: duplicate lines of a product in an order are one item,
returns (negative quantities) net out and a product whose net quantity is <= 0 leaves the
basket, and an order left empty is not a basket. More than ``max_itemsets`` frequent itemsets
stop with a ``ValueError`` naming the option and the count instead of exhausting memory.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from . import _core

_basket = _core.basket

__all__ = [
    "apriori",
    "association_rules",
    "evaluate_recommendations",
    "fpgrowth",
    "order_baskets",
    "recommend",
    "simulate_baskets",
]

_RULE_COLUMNS = (
    "antecedent support",
    "consequent support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "zhangs_metric",
)


def _codes(values: pd.Series | np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """Product ids of any type mapped once to codes 0..k-1, in sorted id order when sortable."""
    try:
        codes, uniques = pd.factorize(pd.Series(values), sort=True)
    except TypeError:
        codes, uniques = pd.factorize(pd.Series(values), sort=False)
    if (codes < 0).any():
        raise ValueError(f"item: {int((codes < 0).sum())} missing product ids (first at row "
                         f"{int(np.flatnonzero(codes < 0)[0])})")
    return codes.astype(np.int64), pd.Index(uniques)


def _int64_keys(values, argument: str) -> np.ndarray:
    series = pd.Series(values)
    if series.isna().any():
        raise ValueError(f"{argument}: missing value at row {int(np.flatnonzero(series.isna())[0])}")
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(np.int64)
    return pd.factorize(series, sort=True)[0].astype(np.int64)


def _days(values, argument: str) -> np.ndarray:
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _int64_keys(series, argument)
    stamps = pd.to_datetime(series)
    if stamps.isna().any():
        raise ValueError(f"{argument}: missing date at row {int(np.flatnonzero(stamps.isna())[0])}")
    return stamps.to_numpy("datetime64[D]").astype(np.int64)


def _line_arguments(lines: pd.DataFrame, order: str, item: str, quantity: str | None,
                    customer: str | None, date: str | None, basket_by: str):
    for argument, column in (("order", order), ("item", item), ("quantity", quantity),
                             ("customer", customer), ("date", date)):
        if column is not None and column not in lines.columns:
            raise ValueError(f"{argument} = {column!r} is not a column of the order lines "
                             f"(columns: {list(lines.columns)})")
    codes, labels = _codes(lines[item])
    arguments = dict(
        order=_int64_keys(lines[order], "order"),
        item=codes,
        quantity=None if quantity is None else lines[quantity].to_numpy(np.float64),
        customer=None if customer is None else _int64_keys(lines[customer], "customer"),
        timestamp=None if date is None else _days(lines[date], "date"),
    )
    options = _basket.BasketOptions(by=basket_by, ticks_per_day=1)
    return arguments, options, labels


def order_baskets(lines: pd.DataFrame, order: str = "order_id", item: str = "product_id",
                  quantity: str | None = None, customer: str | None = None,
                  date: str | None = None, basket_by: str = "order") -> dict:
    """Order lines to baskets (CSR): ``offsets``, ``items`` (codes), ``key``, the policy counts
    (``duplicate_lines``, ``return_lines``, ``dropped_items``, ``empty_baskets``) and ``labels``
    (the product id of each code)."""
    arguments, options, labels = _line_arguments(lines, order, item, quantity, customer, date,
                                                 basket_by)
    out = dict(_basket.make_baskets(**arguments, options=options))
    out["labels"] = labels
    return out


def _one_hot_csr(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row offsets and column codes of a one-hot frame's true cells (dense or sparse)."""
    if any(isinstance(dtype, pd.SparseDtype) for dtype in df.dtypes):
        coo = df.sparse.to_coo().tocsr()
        coo.eliminate_zeros()
        return coo.indptr.astype(np.int64), coo.indices.astype(np.int64)
    values = df.to_numpy()
    if values.dtype != bool:
        allowed = np.isin(values, (0, 1, True, False))
        if not allowed.all():
            row, col = np.argwhere(~allowed)[0]
            raise ValueError(f"df: one-hot cells must be 0/1 or bool; row {row}, column "
                             f"{df.columns[col]!r} holds {values[row, col]!r}")
        values = values.astype(bool)
    rows, cols = np.nonzero(values)
    offsets = np.zeros(len(df) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(df)), out=offsets[1:])
    return offsets, cols.astype(np.int64)


def _itemset_frame(table: dict, labels) -> pd.DataFrame:
    offsets = np.asarray(table["offsets"])
    items = np.asarray(table["items"])
    named = np.asarray(labels, dtype=object)[items] if labels is not None else items.tolist()
    itemsets = [frozenset(named[offsets[i]:offsets[i + 1]]) for i in range(len(offsets) - 1)]
    return pd.DataFrame({"support": np.asarray(table["support"], dtype=np.float64),
                         "itemsets": itemsets})


def fpgrowth(df: pd.DataFrame, min_support: float = 0.5, use_colnames: bool = False,
             max_len: int | None = None, verbose: int = 0, *, order: str | None = None,
             item: str | None = None, quantity: str | None = None,
             customer: str | None = None, date: str | None = None, basket_by: str = "order",
             min_count: int | None = None, max_itemsets: int = 10_000_000) -> pd.DataFrame:
    """Frequent itemsets, mlxtend's ``fpgrowth`` signature and output.

    ``df`` is a one-hot frame (baskets x items, bool or 0/1, dense or sparse; an all-false row
    is a basket) or, with ``order`` and ``item`` naming its columns, order lines (optional
    ``quantity``; ``basket_by="customer_day"`` with ``customer`` and ``date`` makes one basket
    of a customer's lines on one day). Keeps itemsets with support >= ``min_support`` (a share of
    baskets) or, with ``min_count``, contained in at least that many baskets; ``max_len`` bounds
    their size. Returns ``support`` and ``itemsets`` (frozensets of column positions, or of
    column names / product ids when ``use_colnames``), ordered by size, then items.
    ``verbose`` is accepted for compatibility and ignored.
    """
    options = _basket.ItemsetOptions(min_support=float(min_support),
                                     min_count=int(min_count or 0),
                                     max_len=int(max_len or 0),
                                     max_itemsets=int(max_itemsets))
    if max_len is not None and max_len < 1:
        raise ValueError(f"max_len = {max_len} must be >= 1 or None")
    if (order is None) != (item is None):
        raise ValueError("order lines need both `order` and `item` column names")
    if order is not None:
        arguments, basket_options, labels = _line_arguments(df, order, item, quantity, customer,
                                                            date, basket_by)
        table = _basket.frequent_itemsets(**arguments, basket_options=basket_options,
                                          options=options)
        if not use_colnames:
            labels = None
    else:
        offsets, items = _one_hot_csr(df)
        table = _basket.frequent_itemsets_csr(offsets, items, df.shape[1], options)
        labels = df.columns if use_colnames else None
    return _itemset_frame(table, labels)


def apriori(df: pd.DataFrame, min_support: float = 0.5, use_colnames: bool = False,
            max_len: int | None = None, verbose: int = 0, low_memory: bool = False,
            **kwargs) -> pd.DataFrame:
    """mlxtend's ``apriori``: the same itemsets as :func:`fpgrowth` (exact either way)."""
    return fpgrowth(df, min_support=min_support, use_colnames=use_colnames, max_len=max_len,
                    **kwargs)


def _itemsets_csr(itemsets: Iterable, index: dict) -> tuple[np.ndarray, np.ndarray]:
    lengths, codes = [], []
    for itemset in itemsets:
        mapped = sorted(index.setdefault(item, len(index)) for item in itemset)
        lengths.append(len(mapped))
        codes.extend(mapped)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets, np.asarray(codes, dtype=np.int64)


def _fixed(items, index: dict, argument: str) -> np.ndarray:
    if items is None:
        return np.zeros(0, dtype=np.int64)
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        items = [items]
    missing = [item for item in items if item not in index]
    if missing:
        raise ValueError(f"{argument}: {missing[0]!r} is in no frequent itemset")
    return np.asarray(sorted(index[item] for item in items), dtype=np.int64)


def association_rules(df: pd.DataFrame, num_itemsets: int | None = None, df_orig=None,
                      null_values: bool = False, metric: str = "confidence",
                      min_threshold: float = 0.8, support_only: bool = False,
                      return_metrics: Iterable[str] = _RULE_COLUMNS, *, antecedent=None,
                      consequent=None) -> pd.DataFrame:
    """Association rules, mlxtend's ``association_rules`` signature and columns.

    ``df`` holds ``support`` and ``itemsets`` (as :func:`fpgrowth` or mlxtend return). Keeps
    rules whose ``metric`` ("support", "confidence", "lift", "leverage", "conviction",
    "zhangs_metric", "antecedent support", "consequent support") is >= ``min_threshold``.
    ``antecedent`` / ``consequent`` (an item or items) keep only rules with exactly that side
    ("given product A, what to offer"). ``support_only`` allows itemsets whose subsets are
    missing and fills every column but support with NaN, as mlxtend. ``num_itemsets``,
    ``df_orig`` and ``null_values`` (mlxtend 0.23) are accepted; the measures need only the
    supports. The older positional form ``association_rules(df, "lift", 1.2)`` works too.
    """
    if isinstance(num_itemsets, str):  # mlxtend < 0.23: association_rules(df, metric, threshold)
        metric, num_itemsets = num_itemsets, None
        if isinstance(df_orig, (int, float)) and not isinstance(df_orig, bool):
            min_threshold, df_orig = df_orig, None
    for column in ("support", "itemsets"):
        if column not in df.columns:
            raise ValueError(f"df: frequent itemsets need a {column!r} column "
                             f"(columns: {list(df.columns)})")
    index: dict = {}
    offsets, items = _itemsets_csr(df["itemsets"], index)
    fixed_a = _fixed(antecedent, index, "antecedent")
    fixed_c = _fixed(consequent, index, "consequent")
    table = _basket.association_rules(offsets, items, df["support"].to_numpy(np.float64),
                                      metric=metric, min_threshold=float(min_threshold),
                                      antecedent=fixed_a, consequent=fixed_c,
                                      support_only=bool(support_only))
    labels = np.empty(len(index), dtype=object)
    for item, code in index.items():
        labels[code] = item

    def sides(name: str) -> list:
        starts = np.asarray(table[f"{name}_offsets"])
        named = labels[np.asarray(table[f"{name}_items"], dtype=np.int64)]
        return [frozenset(named[starts[i]:starts[i + 1]]) for i in range(len(starts) - 1)]

    out = pd.DataFrame({"antecedents": sides("antecedent"), "consequents": sides("consequent")})
    for column in _RULE_COLUMNS:
        if column in return_metrics:
            out[column] = np.asarray(table[column.replace(" ", "_")], dtype=np.float64)
    return out


def simulate_baskets(customers: int = 2000, products: int = 500, seed: int = 1,
                     **options) -> dict:
    """Simulated order lines with planted structure (crmkit's C++ simulator, deterministic per
    seed). Keyword options are those of ``crmkit._core.basket.SimulationOptions`` (segments,
    days, orders_per_day, basket_size, popularity_exponent, taste_items, segment_boost, staples,
    cycle_min, cycle_max, staple_probability, planted_pairs, planted_triples, planted_rate,
    planted_noise). Returns a dict of frames: ``lines`` (order_id, customer_id, day,
    product_id), ``segments`` (customer_id, segment), ``planted`` (itemset, lift: the planted
    lift of the pair, or of the rule {two} -> third for a triple) and ``staples`` (customer_id,
    product_id, cycle in days)."""
    settings = _basket.SimulationOptions(customers=customers, products=products, seed=seed,
                                         **options)
    sim = _basket.simulate_baskets(settings)
    offsets = np.asarray(sim["planted_offsets"])
    planted_items = np.asarray(sim["planted_items"])
    return {
        "lines": pd.DataFrame({"order_id": sim["order"], "customer_id": sim["customer"],
                               "day": sim["day"], "product_id": sim["item"]}),
        "segments": pd.DataFrame({"customer_id": np.arange(len(sim["segment"])),
                                  "segment": sim["segment"]}),
        "planted": pd.DataFrame({
            "itemset": [frozenset(planted_items[offsets[i]:offsets[i + 1]].tolist())
                        for i in range(len(offsets) - 1)],
            "lift": sim["planted_lift"]}),
        "staples": pd.DataFrame({"customer_id": sim["staple_customer"],
                                 "product_id": sim["staple_item"],
                                 "cycle": sim["staple_cycle"]}),
    }


def _history_arguments(lines: pd.DataFrame, order: str, item: str, customer: str, date: str,
                       quantity: str | None, segments):
    """The C++ arguments of a customer history, the product labels, the segment arguments and
    the customer ids of the codes (None when the ids are integers, passed as they are)."""
    arguments, _, labels = _line_arguments(lines, order, item, quantity, customer, date, "order")
    customer_keys = pd.Series(lines[customer])
    customers = None
    if not pd.api.types.is_integer_dtype(customer_keys.dtype):
        customers = pd.Index(pd.unique(customer_keys))
        arguments["customer"] = customers.get_indexer(customer_keys).astype(np.int64)
    extra = {}
    if segments is not None:
        segments = pd.Series(segments)
        keys = segments.index
        if customers is not None:
            known = customers.get_indexer(keys) >= 0
            segments, keys = segments[known], customers.get_indexer(keys[known])
        extra = dict(segment_customer=np.asarray(keys, dtype=np.int64),
                     segment=_int64_keys(segments, "segments"))
    return arguments, labels, extra, customers


def _day_of(value, dates: pd.Series) -> int:
    if pd.api.types.is_numeric_dtype(dates.dtype):
        return int(value)
    return int(np.datetime64(pd.Timestamp(value), "D").astype(np.int64))


def _recommend_options(lines, date, k, as_of, horizon, owned_weight, min_lift, min_pair_count):
    days = _days(lines[date], "date")
    day = int(days.max()) + 1 if as_of is None else _day_of(as_of, lines[date])
    return _basket.RecommendOptions(k=int(k), as_of=day, horizon=int(horizon),
                                    owned_weight=float(owned_weight), min_lift=float(min_lift),
                                    min_pair_count=int(min_pair_count))


def recommend(lines: pd.DataFrame, k: int = 10, as_of=None, horizon: int = 30, *,
              order: str = "order_id", item: str = "product_id", customer: str = "customer_id",
              date: str = "date", quantity: str | None = None, segments=None,
              owned_weight: float = 0.0, min_lift: float = 1.5,
              min_pair_count: int = 5) -> pd.DataFrame:
    """What to offer whom: top-``k`` products per customer, each with its reason.

    ``lines`` are order lines (customer ids of any type; ``date`` as dates or whole days). History
    is every order before ``as_of`` (default: after the last); scores estimate the chance of a
    purchase in the next ``horizon`` days. Reasons: ``repurchase_due`` (a product bought
    regularly whose cycle falls due), ``cross_sell`` (bought with a product the customer owns:
    pairs with lift >= ``min_lift`` in >= ``min_pair_count`` orders; ``because`` names that
    product), ``segment_popular`` (popular in the customer's segment — ``segments``, a Series
    of segment labels indexed by customer id — and not yet bought), ``popular`` (filler).
    Owned products are offered again only as repurchases unless ``owned_weight`` > 0. Returns
    customer, rank, product, score, reason, because.
    """
    arguments, labels, extra, customers = _history_arguments(lines, order, item, customer, date,
                                                             quantity, segments)
    options = _recommend_options(lines, date, k, as_of, horizon, owned_weight, min_lift,
                                 min_pair_count)
    table = _basket.recommend(**arguments, options=options, **extra)
    reasons = np.asarray(_basket.REASONS, dtype=object)
    because = np.asarray(table["because"], dtype=np.int64)
    named = np.asarray(labels, dtype=object)
    ids = np.asarray(table["customer"], dtype=np.int64)
    return pd.DataFrame({
        customer: ids if customers is None else customers[ids],
        "rank": table["rank"],
        item: named[np.asarray(table["item"], dtype=np.int64)],
        "score": table["score"],
        "reason": pd.Categorical(reasons[np.asarray(table["reason"], dtype=np.int64)],
                                 categories=list(_basket.REASONS)),
        "because": np.where(because >= 0, named[np.maximum(because, 0)], None),
    })


def evaluate_recommendations(lines: pd.DataFrame, as_of, horizon: int = 30, k: int = 10, *,
                             order: str = "order_id", item: str = "product_id",
                             customer: str = "customer_id", date: str = "date",
                             quantity: str | None = None, segments=None,
                             owned_weight: float = 0.0, min_lift: float = 1.5,
                             min_pair_count: int = 5) -> pd.DataFrame:
    """Time-split holdout: :func:`recommend` trained on orders before ``as_of`` and scored on the
    products each customer bought in the next ``horizon`` days, against the global-popularity
    and personal-frequency baselines. One row per method: precision, recall, hit_rate, ndcg
    (all @k), recall_repeat / recall_new (recall of products bought before / new to the
    customer) and the number of customers scored."""
    arguments, _, extra, _ = _history_arguments(lines, order, item, customer, date, quantity,
                                                segments)
    options = _recommend_options(lines, date, k, as_of, horizon, owned_weight, min_lift,
                                 min_pair_count)
    table = dict(_basket.evaluate_recommendations(**arguments, options=options, **extra))
    methods = [_basket.METHODS[code] for code in np.asarray(table.pop("method"))]
    table.pop("k")
    return pd.DataFrame(table, index=pd.Index(methods, name="method"))
