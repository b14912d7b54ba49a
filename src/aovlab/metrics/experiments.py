"""An experiment's units as facts, and their sums per arm (and segment).

Each assigned unit (``assignments``) is joined to its orders by source and
``customer_id = unit_id``: orders from ``first_exposure`` on (within the window) are its
outcomes, orders before it its pre-period. One row per unit carries r (revenue, each order
capped at ``cap`` when given), o (orders), u (product units), m (margin, the same cap taken
off), x (pre-exposure spend: the assignment's ``pre_value``, else its orders in the
``pre_days`` before exposure), c (converted), v (visits) and the segment columns; units
without orders count 0. The statistics class is passed in by the caller, as for the other
aggregates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis

from .. import schema
from .aggregates import aggregates
from .facts import order_value

#: Segments a result can be broken down by: assignment columns, and new vs returning.
SEGMENTS = ("channel", "country", "device", "customer_type")


def experiment_list(engine):
    """Experiments in the workspace with their units, arms and exposure range."""
    a = engine.table("assignments")
    return a.group_by(["source", "experiment"]).aggregate(
        units=a.count(), variants=a.variant.nunique(),
        first_exposure=a.first_exposure.min(), last_exposure=a.first_exposure.max()
    ).order_by(["source", "experiment"])


def _orders(engine, definition: schema.Definition, statuses: Sequence[str],
            currency: str | None):
    o = engine.table("orders")
    o = o.filter(o.status.isin(list(statuses)))
    if currency is not None:
        o = o.filter(o.currency == currency)
    return o.select(
        source=o.source, customer_id=o.customer_id, created_at=o.created_at,
        order_date=o.order_date, currency=o.currency,
        value=order_value(definition, o).cast("float64"), units=o.units,
        margin=(o.gross_sales - o.discounts - o.returns - o.cost).cast("float64"))


def _assigned(engine, experiment: str, source: str | None, end: date | None = None):
    """The experiment's units; with ``end``, those first exposed by then (a unit exposed
    later has had no chance to order, and would count as a zero)."""
    a = engine.table("assignments")
    a = a.filter(a.experiment == experiment)
    if source is not None:
        a = a.filter(a.source == source)
    if end is not None:
        a = a.filter(a.first_exposure.date() <= end)
    return a


def _post(engine, experiment: str, source: str | None, definition: schema.Definition,
          statuses: Sequence[str], currency: str | None, window_days: int | None,
          end: date | None):
    """The experiment's orders placed from each unit's first exposure on."""
    a = _assigned(engine, experiment, source, end).select("source", "unit_id",
                                                          "first_exposure")
    o = _orders(engine, definition, statuses, currency)
    j = a.join(o, [a.source == o.source, a.unit_id == o.customer_id])
    keep = j.created_at >= j.first_exposure
    if window_days is not None:
        keep &= j.created_at < j.first_exposure + ibis.interval(days=window_days)
    if end is not None:
        keep &= j.order_date <= end
    return j.filter(keep)


def post_order_summary(engine, experiment: str, source: str | None,
                       definition: schema.Definition, statuses: Sequence[str],
                       currency: str | None, window_days: int | None, end: date | None,
                       quantile: float | None = None):
    """Post-exposure orders of all arms together: count, currencies and, when asked, the
    order value at ``quantile`` (the shared population a percentile cap is taken from)."""
    p = _post(engine, experiment, source, definition, statuses, currency, window_days, end)
    aggs = {"orders": p.count(), "currencies": p.currency.nunique(),
            "currency_code": p.currency.max()}
    if quantile is not None:
        aggs["cap"] = p.value.quantile(quantile)
    return p.aggregate(**aggs)


def experiment_stats(engine, experiment: str, stats: type, *, source: str | None,
                     definition: schema.Definition, statuses: Sequence[str],
                     currency: str | None, cap: float | None, window_days: int | None,
                     end: date | None, pre_days: int, segment: str | None = None):
    """Per arm (and ``segment``), the declared statistics over the experiment's units."""
    a = _assigned(engine, experiment, source, end)
    p = _post(engine, experiment, source, definition, statuses, currency, window_days, end)
    capped = p.value if cap is None else ibis.least(p.value, ibis.literal(cap))
    p = p.mutate(cv=capped.cast("float64"), over=(p.value > cap) if cap is not None
                 else ibis.literal(False))
    # A capped order loses the same amount from its margin as from its revenue.
    post = p.group_by(["source", "unit_id"]).aggregate(
        o=p.count(), r=p.cv.sum(), u=p.units.sum(), ou=p.units.count(),
        m=(p.margin - (p.value - p.cv)).sum(), oc=p.margin.count(),
        capped=p.count(where=p.over))
    o = _orders(engine, definition, statuses, currency)
    b = a.select("source", "unit_id", "first_exposure")
    j = b.join(o, [b.source == o.source, b.unit_id == o.customer_id])
    j = j.filter(j.created_at < j.first_exposure)
    in_pre = j.created_at >= j.first_exposure - ibis.interval(days=pre_days)
    pre = j.group_by(["source", "unit_id"]).aggregate(
        pre_spend=j.value.sum(where=in_pre), pre_orders=j.count())
    u = a.left_join(post, ["source", "unit_id"]).drop("source_right", "unit_id_right")
    u = u.left_join(pre, ["source", "unit_id"]).drop("source_right", "unit_id_right")
    orders = u.o.fill_null(0).cast("float64")
    facts = {
        "variant": u.variant,
        "o": orders,
        "r": u.r.fill_null(0.0),
        "u": u.u.fill_null(0.0).cast("float64"),
        "orders_with_units": u.ou.fill_null(0).cast("float64"),
        "m": u.m.fill_null(0.0),
        "orders_with_cost": u.oc.fill_null(0).cast("float64"),
        "capped": u.capped.fill_null(0).cast("float64"),
        "x": u.pre_value.fill_null(u.pre_spend.fill_null(0.0)).cast("float64"),
        "c": ibis.ifelse(orders > 0, 1.0, 0.0),  # PostgreSQL casts no boolean to double
        "v": u.visits.cast("float64"),
        "customer_type": u.customer_type.fill_null(
            ibis.cases((u.pre_orders.fill_null(0) > 0, "returning"), else_="new")),
    }
    keys = ["variant"]
    if segment is not None and segment != "customer_type":
        facts["segment"] = u[segment].fill_null(schema.NOT_SET)
        keys.append("segment")
    elif segment == "customer_type":
        keys.append("segment")
    f = u.select(**facts)
    if segment == "customer_type":
        f = f.mutate(segment=f.customer_type)
    return f.group_by(keys).aggregate(**aggregates(f, stats)).order_by(keys)

