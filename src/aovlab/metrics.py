"""Metric expressions, written once in Ibis and compiled for every engine.

Each function returns *sufficient statistics* per group (counts, sums, sums of squares,
quantiles), never ratios: ratios, confidence intervals and deltas are computed by
:mod:`aovlab.kpis` from these sums, so that groups add up and every engine agrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import ibis

from . import schema
from .definitions import Definition
from .errors import DefinitionError

PERIODS = {"day": None, "week": "W", "month": "M", "quarter": "Q", "year": "Y"}

#: Dimensions an order can be grouped by, and where they come from.
ORDER_DIMENSIONS = ("channel", "country", "device", "currency", "source", "coupon")
DERIVED_DIMENSIONS = ("customer_type", "category")
DIMENSIONS = ORDER_DIMENSIONS + DERIVED_DIMENSIONS
#: Dimensions the traffic table shares with orders (conversion rate needs them).
TRAFFIC_DIMENSIONS = ("channel", "country", "device")


@dataclass(frozen=True)
class Selection:
    """Which orders a metric looks at."""

    definition: Definition
    start: date | None = None  # inclusive, on order_date
    end: date | None = None  # inclusive, on order_date
    statuses: tuple[str, ...] = schema.COUNTED_STATUSES
    currency: str | None = None
    filters: tuple[tuple[str, str], ...] = ()  # (dimension, value) equalities


def check_grouping(by: Sequence[str], period: str | None) -> None:
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise DefinitionError(f"unknown dimension(s) {unknown}",
                              fix=f"group by any of {', '.join(DIMENSIONS)}")
    if period is not None and period not in PERIODS:
        raise DefinitionError(f"unknown period {period!r}", fix=f"use one of {', '.join(PERIODS)}")


def period_start(col, period: str):
    unit = PERIODS[period]
    return col if unit is None else col.truncate(unit)


def order_facts(engine, sel: Selection, by: Sequence[str], period: str | None):
    """One row per selected order: ``value`` per the definition plus the grouping keys.

    Only the columns the statistics read are kept (no order id unless the category join
    needs it): the facts are scanned by several aggregates, and every column carried costs
    memory and time on large stores.
    """
    o = engine.table("orders")
    o = o.filter(o.status.isin(list(sel.statuses)))
    wanted = set(by) | {k for k, _ in sel.filters}
    with_category = "category" in wanted
    cols = {
        "customer_id": o.customer_id,
        "order_date": o.order_date,
        "value": sel.definition.value(o).cast("float64"),
        "net_value": (o.gross_sales - o.discounts - o.returns).cast("float64"),
        "units": o.units,
        "gross_sales": o.gross_sales,
        "discounts": o.discounts,
        "shipping": o.shipping,
        "total": o.total,
        "cost": o.cost,
        "currency": o.currency,
    }
    if with_category:
        cols["order_id"] = o.order_id
    # New = the customer's first counted order in the whole workspace, not just the window,
    # so the window runs before the date filters below.
    first = o.created_at.min().over(ibis.window(group_by=o.customer_id))
    cols["customer_type"] = ibis.cases(
        (o.customer_id.isnull(), "guest"), (o.created_at == first, "new"), else_="returning"
    )
    for d in ORDER_DIMENSIONS:
        if d != "currency" and d in wanted:
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
    if with_category:
        f = f.left_join(main_category(engine), "order_id").drop("order_id", "order_id_right")
        f = f.mutate(category=f.category.fill_null(schema.NOT_SET))
    for k, v in sel.filters:
        f = f.filter(f[k] == v)
    return f


def main_category(engine):
    """Each order's category: that of its product lines with the largest value."""
    lines = engine.table("order_lines")
    lines = lines.filter(lines.line_type == "product")
    per = lines.group_by(["order_id", "category"]).aggregate(
        v=(lines.quantity * lines.unit_price).sum())
    per = per.mutate(category=per.category.fill_null(schema.NOT_SET))
    return per.group_by("order_id").aggregate(category=per.category.argmax(per.v))


def keys_of(by: Sequence[str], period: str | None) -> list[str]:
    return (["period"] if period else []) + list(by)


def _group(t, keys: list[str]):
    return t.group_by(keys) if keys else t


def order_stats(f, keys: list[str], quantiles: Sequence[float]):
    """Order-level sufficient statistics per group."""
    v = f.value
    new, ret, guest = (f.customer_type == s for s in ("new", "returning", "guest"))
    has_cost = f.cost.notnull()
    aggs = {
        "orders": f.count(),
        "revenue": v.sum(),
        "revenue_sq": (v * v).sum(),
        "min_value": v.min(),
        "max_value": v.max(),
        "quantiles": v.quantile(list(quantiles)),
        "units": f.units.sum(),
        "orders_with_units": f.units.count(),
        "gross_sales": f.gross_sales.sum(),
        "discounts": f.discounts.sum(),
        "shipping": f.shipping.sum(),
        "total_paid": f.total.sum(),
        "orders_with_cost": f.cost.count(),
        "margin": (f.net_value - f.cost).sum(where=has_cost),
        "currencies": f.currency.nunique(),
        "currency_code": f.currency.max(),
    }
    for name, cond in (("new", new), ("returning", ret), ("guest", guest)):
        aggs[f"{name}_orders"] = f.count(where=cond)
        aggs[f"{name}_revenue"] = v.sum(where=cond)
    aggs["guest_revenue_sq"] = (v * v).sum(where=guest)
    return _group(f, keys).aggregate(**aggs)


def unit_stats(f, keys: list[str]):
    """Per-customer sums for the delta-method AOV interval and the customer metrics.

    A known customer's orders form one unit. A guest order is a unit of its own, so its part
    of the unit sums (x = value, y = 1) is already in :func:`order_stats` (``guest_*``);
    grouping only known customers spares a string key per guest order.
    """
    k = f.filter(f.customer_id.notnull())
    per = k.group_by([*keys, "customer_id"]).aggregate(x=k.value.sum(), y=k.count())
    return _group(per, keys).aggregate(
        customers=per.count(),
        repeat_customers=per.count(where=per.y >= 2),
        customer_orders=per.y.sum(),
        customer_revenue=per.x.sum(),
        customer_xx=(per.x * per.x).sum(),
        customer_yy=(per.y * per.y).sum(),
        customer_xy=(per.x * per.y).sum(),
    )


def trimmed_stats(f, keys: list[str], cuts):
    """Mean of orders inside [lo, hi] per group, and the mean with values clipped to it.

    ``cuts`` holds ``keys`` plus ``lo``/``hi`` (the trim quantiles, taken from
    :func:`order_stats` so that no second sort is needed).
    """
    j = f.cross_join(cuts) if not keys else f.join(cuts, keys)
    inside = (j.value >= j.lo) & (j.value <= j.hi)
    clipped = ibis.greatest(j.lo, ibis.least(j.hi, j.value))
    return _group(j, keys).aggregate(
        trim_lo=j.lo.max(), trim_hi=j.hi.max(),
        trimmed_sum=j.value.sum(where=inside), trimmed_n=j.count(where=inside),
        winsor_sum=clipped.sum(),
    )


def kpi_stats(f, keys: list[str], quantiles: Sequence[float], trim: float):
    """All per-group sufficient statistics of :func:`aovlab.kpis.kpis` in one expression.

    The order facts are shared by the three aggregates (one scan, one window), and the trim
    cut points come from the same quantile list as the percentiles.
    """
    qs = sorted(set(quantiles) | ({trim, 1 - trim} if trim > 0 else set()))
    main = order_stats(f, keys, qs)
    units = unit_stats(f, keys)
    # Left join: a group of guest orders only has no known-customer units.
    out = (main.left_join(units, keys).drop(*(f"{k}_right" for k in keys)) if keys
           else main.cross_join(units))
    if trim > 0:
        cuts = main.select(*keys, lo=main.quantiles[qs.index(trim)],
                           hi=main.quantiles[qs.index(1 - trim)])
        trimmed = trimmed_stats(f, keys, cuts)
        out = out.join(trimmed, keys) if keys else out.cross_join(trimmed)
    return out, qs


def traffic_stats(engine, sel: Selection, by: Sequence[str], period: str | None):
    """Traffic sums per group, or ``None`` when the grouping is not in the traffic table."""
    if any(d not in TRAFFIC_DIMENSIONS for d in by):
        return None
    if any(k not in TRAFFIC_DIMENSIONS for k, _ in sel.filters):
        return None
    t = engine.table("traffic")
    if sel.start is not None:
        t = t.filter(t.date >= sel.start)
    if sel.end is not None:
        t = t.filter(t.date <= sel.end)
    for k, v in sel.filters:
        t = t.filter(t[k] == v)
    if period is not None:
        t = t.mutate(period=period_start(t.date, period))
    keys = keys_of(by, period)
    return _group(t, keys).aggregate(
        traffic_days=t.date.nunique(),
        sessions=t.sessions.sum(), visitors=t.visitors.sum(),
        view_item=t.view_item.sum(), add_to_cart=t.add_to_cart.sum(),
        begin_checkout=t.begin_checkout.sum(), purchase_sessions=t.purchases.sum(),
    )


def histogram_stats(f, lo: float, width: float, bins: int, fence: float):
    """Orders and value per equal-width bin from ``lo``; orders above ``fence`` are outliers.

    Values below ``lo`` fall in bin 0 and values beyond the last edge in the last bin, so no
    order is lost.
    """
    raw = ((f.value - lo) / width).floor().cast("int64")
    t = f.mutate(bin=ibis.greatest(ibis.least(raw, bins - 1), 0), outlier=f.value > fence)
    return t.group_by(["bin", "outlier"]).aggregate(orders=t.count(), revenue=t.value.sum())
