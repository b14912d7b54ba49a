"""The basket lines every basket analysis reads, and the pair counts mined in the engine.

A basket is one selected order's product lines bought (quantity > 0: a negative line is
goods coming back, not bought); an item is the line's product, category or name. Lines of
one order with the same item are one basket item, their quantities and values summed.
"""

from __future__ import annotations

import ibis

from ..query import Selection
from .facts import order_facts

#: What an item can be, and the order line column it is read from.
ITEM_COLUMNS = {"product": "product_id", "category": "category", "name": "name"}


def basket_lines(engine, sel: Selection, item: str = "product", *, customer: bool = False,
                 extra: tuple[str, ...] = ()):
    """One row per (order, item) of the selection's orders: ``source``, ``order_id``,
    ``item``, ``quantity``, ``value`` (Σ quantity × unit price − line discount), ``cost``
    (Σ quantity × unit cost, NULL unless every line has a cost) and the order's ``currency``,
    ``order_value`` (under the definition), ``order_date``, with ``customer`` its
    ``customer_id`` and the order dimensions named in ``extra`` (e.g. channel). Lines
    without the item (no product id, no category) are left out."""
    col = ITEM_COLUMNS[item]
    f = order_facts(engine, sel.with_(by=(), period=None), by=extra, period=False,
                    customer_type="customer_type" in extra, order_id=True)
    keep = ["source", "order_id", "currency", "value", "order_date", *extra]
    if customer:
        keep.append("customer_id")
    f = f.select(*keep).rename(order_value="value")
    lines = engine.table("order_lines")
    lines = lines.filter((lines.line_type == "product") & (lines.quantity > 0)
                         & lines[col].notnull())
    lines = lines.select(source=lines.source, order_id=lines.order_id, item=lines[col],
                         quantity=lines.quantity,
                         value=(lines.quantity * lines.unit_price - lines.line_discount),
                         cost=lines.quantity * lines.unit_cost)
    j = lines.join(f, ["source", "order_id"])
    by = ["source", "order_id", "item", "currency", "order_value", "order_date", *extra]
    if customer:
        by.append("customer_id")
    return j.group_by(by).aggregate(
        quantity=j.quantity.sum(), value=j.value.sum().cast("float64"),
        # a cost only where every line of the item has one
        cost=ibis.cases((j.cost.count() == j.count(), j.cost.sum()), else_=ibis.null())
        .cast("float64"))


def item_counts(engine, sel: Selection, item: str = "product"):
    """Per item, the number of baskets holding it (``baskets``), and one row more with
    ``item`` NULL: the number of baskets in the selection. One expression, so that the
    engine builds the basket lines once for both."""
    b = basket_lines(engine, sel, item)
    per = b.group_by("item").aggregate(baskets=b.count())
    orders = b.select("source", "order_id").distinct()
    total = orders.aggregate(baskets=orders.count()).mutate(
        item=ibis.null().cast(per.item.type())).select("item", "baskets")
    return per.union(total)


def pair_counts(engine, sel: Selection, item: str = "product", *, min_count: int = 1):
    """Per pair of items (``a`` < ``b``), the number of baskets holding both, for the pairs
    in at least ``min_count`` baskets: a self-join of the basket lines on the order,
    restricted first to the items that are themselves in ``min_count`` baskets (a pair is
    never more frequent than its items), aggregated in the engine."""
    b = basket_lines(engine, sel, item).select("source", "order_id", "item")
    per = b.group_by("item").aggregate(n=b.count())
    frequent = per.filter(per.n >= min_count).select("item")
    b = b.semi_join(frequent, "item")
    left = b.rename(a="item")
    right = b.rename(b="item")
    j = left.join(right, [left.source == right.source, left.order_id == right.order_id,
                          left.a < right.b])
    pairs = j.group_by(["a", "b"]).aggregate(baskets=j.count())
    return pairs.filter(pairs.baskets >= min_count)


def product_categories(engine):
    """Per product id, its category: the products table's where it has one, else the
    smallest category its order lines name."""
    lines = engine.table("order_lines")
    lines = lines.filter(lines.product_id.notnull() & lines.category.notnull())
    from_lines = lines.group_by("product_id").aggregate(line_category=lines.category.min())
    p = engine.table("products")
    p = p.filter(p.category.notnull()).group_by("product_id").aggregate(
        product_category=p.category.min())
    j = from_lines.outer_join(p, "product_id")
    return j.select(product_id=ibis.coalesce(j.product_id, j.product_id_right),
                    category=ibis.coalesce(j.product_category, j.line_category))


def _purchases(engine, sel: Selection, item: str):
    """Distinct (source, customer, item, order date) of the customers' basket lines."""
    b = basket_lines(engine, sel, item, customer=True)
    b = b.filter(b.customer_id.notnull())
    return b.select("source", "customer_id", "item", "order_date").distinct()


def repurchase_gaps(engine, sel: Selection, item: str = "product"):
    """Per (customer, item): purchases (distinct days), the last one, and each gap in days
    between consecutive purchase days, as two expressions: ``(gaps, last)``."""
    p = _purchases(engine, sel, item)
    w = ibis.window(group_by=[p.source, p.customer_id, p.item], order_by=p.order_date)
    g = p.mutate(prev=p.order_date.lag().over(w))
    gaps = g.filter(g.prev.notnull())
    gaps = gaps.select("source", "customer_id", "item",
                       days=gaps.order_date.delta(gaps.prev, unit="day"))
    last = p.group_by(["source", "customer_id", "item"]).aggregate(
        purchases=p.count(), last=p.order_date.max())
    return gaps, last


def next_purchases(engine, sel: Selection, item: str = "product"):
    """Pairs (``item``, ``then``): a customer bought ``item`` on one purchase day and
    bought ``then`` for the first time on their next purchase day, ``days`` later; one
    row per (customer, item, then)."""
    p = _purchases(engine, sel, item)
    days = p.select("source", "customer_id", "order_date").distinct()
    w = ibis.window(group_by=[days.source, days.customer_id], order_by=days.order_date)
    days = days.mutate(k=ibis.dense_rank().over(w))
    pk = p.join(days, ["source", "customer_id", "order_date"])
    fw = ibis.window(group_by=[pk.source, pk.customer_id, pk.item])
    pk = pk.mutate(first=pk.order_date.min().over(fw))
    new = pk.filter(pk.order_date == pk.first).select(
        "source", "customer_id", then="item", k_then="k", then_date="order_date")
    before = pk.select("source", "customer_id", "item", "k", "order_date")
    j = before.join(new, [before.source == new.source,
                          before.customer_id == new.customer_id,
                          before.k + 1 == new.k_then, before.item != new.then])
    return j.select(source=before.source, customer_id=before.customer_id, item=j.item,
                    then=j.then, days=j.then_date.delta(j.order_date, unit="day"))
