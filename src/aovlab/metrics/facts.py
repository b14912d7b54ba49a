"""The order facts every order metric aggregates: one row per selected order.

``value`` is the order value under the selection's definition; the grouping keys, the
customer type (new / returning / guest) and the columns the sufficient statistics read sit
beside it. Only what is read is kept (no order id unless a line dimension needs it): the
facts are scanned by several aggregates, and every column carried costs memory and time on
large stores.
"""

from __future__ import annotations

import ibis

from .. import schema
from ..query import ORDER_DIMENSIONS, Selection

#: Ibis truncation unit of each period (a day is the order date itself).
TRUNCATE = {"day": None, "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def order_value(definition: schema.Definition, t):
    """The definition's signed sum of ``orders`` columns, as an Ibis expression."""
    expr = None
    for col, sign in definition.columns:
        term = t[col] if sign > 0 else -t[col]
        expr = term if expr is None else expr + term
    return expr


def period_start(col, period: str):
    unit = TRUNCATE[period]
    return col if unit is None else col.truncate(unit)


#: The customer facts derived at import (storage/facts.py).
CUSTOMER_FACTS = ("customer_key", "customer_seq")


def customer_facts(engine, sel: Selection) -> bool:
    """Whether the orders' derived customer facts answer ``sel``: the engine's orders
    table stores them (a workspace, or an export of one) and the selection counts the
    statuses they count. Otherwise the metrics compute them, a window per query."""
    lacks = getattr(engine, "lacks", None)
    return (lacks is not None and not set(CUSTOMER_FACTS) & lacks("orders")
            and set(sel.statuses) == set(schema.COUNTED_STATUSES))


def order_facts(engine, sel: Selection, *, by: tuple[str, ...] | None = None,
                period: str | None | bool = True, customer_type: bool = True,
                order_id: bool = False):
    """The selected orders as facts, grouped by ``sel`` (or ``by``/``period`` if given).

    ``customer_type=False`` leaves out the new/returning/guest column unless a filter or
    grouping needs it: it is a window over the whole orders table, which a per-customer
    query (the RFM summary) does not read and should not pay for."""
    by = sel.by if by is None else by
    period = sel.period if period is True else period or None
    o = engine.table("orders")
    o = o.filter(o.status.isin(list(sel.statuses)))
    wanted = set(by) | {k for k, _ in sel.filters}
    lined = [d for d in LINE_DIMENSIONS if d in wanted]
    cols = {
        # A customer is (source, customer_id): two stores' customer 42 are two people.
        "source": o.source,
        "customer_id": o.customer_id,
        "order_date": o.order_date,
        "value": order_value(sel.definition, o).cast("float64"),
        "units": o.units,
        "gross_sales": o.gross_sales,
        "discounts": o.discounts,
        "shipping": o.shipping,
        "total": o.total,
        "cost": o.cost,
        # NULL without a cost, so that Σ margin covers the orders with a cost only
        "margin": (o.gross_sales - o.discounts - o.returns - o.cost).cast("float64"),
        "currency": o.currency,
    }
    if lined or order_id:
        cols["order_id"] = o.order_id
    # New = the customer's first counted order in the whole workspace, not just the window,
    # so the window runs before the date filters below. Exactly one order is first: of two
    # placed at the same instant (a CDNOW day, a UCI minute), the lower order id. The
    # workspace stores that position (customer_seq) for the default statuses.
    facts = customer_facts(engine, sel)
    if facts:  # an integer per customer to group by (metrics.aggregates.unit_stats)
        cols["customer_key"] = o.customer_key
    if customer_type or "customer_type" in wanted:
        first = (o.customer_seq == 1) if facts else ibis.row_number().over(ibis.window(
            group_by=[o.source, o.customer_id], order_by=[o.created_at, o.order_id])) == 0
        cols["customer_type"] = ibis.cases(
            (o.customer_id.isnull(), "guest"), (first, "new"), else_="returning"
        )
    for d in ORDER_DIMENSIONS:
        if d not in ("currency", "source") and d in wanted:
            cols[d] = o[d].fill_null(schema.NOT_SET)
    if period is not None:  # in the same projection: one relation for the aggregates to share
        cols["period"] = period_start(o.order_date, period)
    f = o.select(**cols)
    if sel.start is not None:
        f = f.filter(f.order_date >= sel.start)
    if sel.end is not None:
        f = f.filter(f.order_date <= sel.end)
    if sel.currency is not None:
        f = f.filter(f.currency == sel.currency)
    for dim in lined:
        f = f.left_join(main_line(engine, dim), ["source", "order_id"]).drop(
            "order_id_right", "source_right")
        f = f.mutate(**{dim: f[dim].fill_null(schema.NOT_SET)})
    if lined and not order_id:
        f = f.drop("order_id")
    for k, v in sel.filters:
        f = f.filter(f[k] == v)
    return f


def data_range(engine, sel: Selection):
    """The first and last order date of the orders ``sel`` picks, whatever its date
    filter: a period cut by them is partial, and ``--last`` counts back from the last.

    Statuses, currency and the filters on order columns apply (a store of the workspace
    whose export ends earlier has its own last day); filters on derived dimensions
    (customer type, category, product) do not, as they need the whole fact table.
    """
    o = engine.table("orders")
    o = o.filter(o.status.isin(list(sel.statuses)))
    if sel.currency is not None:
        o = o.filter(o.currency == sel.currency)
    for k, v in sel.filters:
        if k in ORDER_DIMENSIONS:
            o = o.filter(o[k].fill_null(schema.NOT_SET) == v)
    return o.aggregate(first_date=o.order_date.min(), last_date=o.order_date.max())


#: Dimensions read from an order's lines: the category or product of its largest line value.
LINE_DIMENSIONS = {"category": "category", "product": "product_id"}


def main_line(engine, dim: str):
    """Each order's ``dim`` (category or product): that of its product lines with the
    largest value, so every order sits in exactly one group and groups add up."""
    col = LINE_DIMENSIONS[dim]
    lines = engine.table("order_lines")
    lines = lines.filter(lines.line_type == "product")
    per = lines.group_by(["source", "order_id", col]).aggregate(
        v=(lines.quantity * lines.unit_price).sum())
    per = per.mutate(**{dim: per[col].fill_null(schema.NOT_SET)})
    # Ties (two with the same value) go to the alphabetically first, so that every run and
    # every engine puts the order in the same group.
    w = ibis.window(group_by=[per.source, per.order_id], order_by=[ibis.desc(per.v), per[dim]])
    ranked = per.mutate(_rank=ibis.row_number().over(w))
    return ranked.filter(ranked._rank == 0).select("source", "order_id", dim)


def main_category(engine):
    """Each order's category: that of its product lines with the largest value."""
    return main_line(engine, "category")
