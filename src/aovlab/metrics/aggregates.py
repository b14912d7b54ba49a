"""Sufficient statistics as Ibis aggregates, compiled from the stats layer's declarations.

A statistics class (``OrderStats``, ``CustomerStats``, ``TrafficStats`` of
:mod:`aovlab.stats`) declares per field an aggregate over named columns and predicates;
:func:`aggregates` turns those declarations into Ibis expressions on a relation, so the
aggregate names are the field names and nothing is spelt twice. The classes are passed in
by the caller: this layer sits below the statistics and does not import them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import ibis

from ..query import TRAFFIC_DIMENSIONS, Selection
from .facts import period_start

#: Named predicates the declarations may restrict an aggregate to.
PREDICATES: dict[str, Callable] = {
    "new": lambda t: t.customer_type == "new",
    "returning": lambda t: t.customer_type == "returning",
    "guest": lambda t: t.customer_type == "guest",
    "repeat": lambda t: t.y >= 2,
    # an experiment's units (metrics.experiments)
    "converted": lambda t: t.c > 0,
    "visited": lambda t: t.v > 0,
}


def aggregates(t, stats: type) -> dict[str, object]:
    """Aggregate name -> Ibis expression on ``t`` for each declared field of ``stats``."""
    out: dict[str, object] = {}
    for name, agg in stats.aggregates().items():
        where = PREDICATES[agg.where](t) if agg.where else None
        if agg.op == "count":
            out[name] = t.count(where=where) if agg.of is None else t[agg.of].count(where=where)
            continue
        col = t[agg.of]
        if agg.times is not None:
            col = col * t[agg.times]
        out[name] = getattr(col, agg.op)(where=where)
    return out


def _group(t, keys: Sequence[str]):
    return t.group_by(list(keys)) if keys else t


def order_stats(f, keys: Sequence[str], stats: type, quantiles: Sequence[float] = (),
                trim: float = 0.0):
    """Per group: the declared order statistics, currencies seen, and — from the group's
    values sorted once — the value quantiles and the trimmed and winsorized sums."""
    aggs = aggregates(f, stats)
    aggs["currencies"] = f.currency.nunique()
    aggs["currency_code"] = f.currency.max()
    aggs["first_date"] = f.order_date.min()
    aggs["last_date"] = f.order_date.max()
    if not quantiles and trim <= 0:
        return _group(f, keys).aggregate(**aggs)
    # One sorted list per group serves every quantile and both cut means: a rank window
    # over the orders (the trimmed means' first form) sorted them all again, by group.
    # (Collected, then sorted: Spark has no ordered collect.)
    aggs["_values"] = f.value.collect()
    g = _group(f, keys).aggregate(**aggs)
    g = g.mutate(_sorted=g._values.sort()).drop("_values")
    g = g.mutate(**sorted_stats(g._sorted, g._sorted.length().cast("int32"), quantiles,
                                trim)).drop("_sorted")
    if trim <= 0:
        return g
    # in a step of its own: PostgreSQL's compiled array sum cannot be used twice in one
    return g.mutate(winsor_sum=g.trimmed_sum + g._cut.cast("float64") * (g._lo + g._hi)
                    ).drop("_cut", "_lo", "_hi")


def sorted_stats(values, n, quantiles: Sequence[float], trim: float) -> dict[str, object]:
    """From ``values`` sorted ascending (``n`` of them, no NULL): ``quantiles`` interpolated
    linearly between the two nearest ranks — position q·(n − 1), as ``quantile_cont``,
    numpy and pandas — and, with ``trim``, the trimmed mean's sum and count as SciPy
    defines them, with the cut ``_cut`` and the values at it (for the winsorized sum).

    ``k = ⌊n·trim⌋`` orders are cut from each end (``scipy.stats.trim_mean``), or replaced
    by the nearest value kept (``scipy.stats.mstats.winsorize``): ties at a cut are split
    by rank, so 80 orders at one price keep exactly n − 2k of them. ``n·trim`` is computed
    in double precision, as SciPy does, so both agree on every n (a DOUBLE literal: SQL
    reads 0.29 as an exact DECIMAL, and n·0.29 then floors differently)."""
    out: dict[str, object] = {}
    if quantiles:
        qs = []
        for q in quantiles:
            pos = (n - 1).cast("float64") * ibis.literal(q, "float64")
            # int32 positions: Spark's element_at takes no other (and lists are that short)
            lo, hi = pos.floor().cast("int32"), pos.ceil().cast("int32")
            a, b = values[lo], values[hi]
            qs.append(a + (b - a) * (pos - lo.cast("float64")))
        out["quantiles"] = ibis.array(qs)
    if trim > 0:
        k = (n.cast("float64") * ibis.literal(trim, "float64")).floor().cast("int32")
        out["trimmed_sum"] = values[k:n - k].sums()
        out["trimmed_n"] = n - 2 * k
        # the winsorized sum: the trimmed one + k times each cut value (order_stats)
        out["_cut"], out["_lo"], out["_hi"] = k, values[k], values[n - 1 - k]
    return out


def unit_stats(f, keys: Sequence[str], stats: type):
    """Per group: the declared statistics over known customers (x = revenue, y = orders)."""
    k = f.filter(f.customer_id.notnull())
    # the integer key stored at import where the facts have it, else (source, customer_id)
    who = ["customer_key"] if "customer_key" in f.columns else ["source", "customer_id"]
    per = k.group_by([*dict.fromkeys([*keys, *who])]).aggregate(
        x=k.value.sum(), y=k.count())
    return _group(per, keys).aggregate(**aggregates(per, stats))


def kpi_stats(f, keys: Sequence[str], orders: type, customers: type,
              quantiles: Sequence[float], trim: float):
    """Order statistics (with the quantiles and cut means of each group's sorted values)
    and customer-unit statistics per group, in one expression.

    The order facts are shared by the two aggregates. Returns the expression and the
    sorted quantile list its ``quantiles`` column follows.
    """
    keys = list(keys)
    qs = sorted(set(quantiles))
    main = order_stats(f, keys, orders, qs, trim)
    units = unit_stats(f, keys, customers)
    # Left join: a group of guest orders only has no known-customer units.
    out = (main.left_join(units, keys).drop(*(f"{k}_right" for k in keys)) if keys
           else main.cross_join(units))
    return out, qs


def traffic_stats(engine, sel: Selection, stats: type, *, by: Sequence[str] | None = None,
                  period: str | None | bool = True):
    """Traffic statistics per group, or ``None`` when the grouping is not in the traffic
    table (traffic is by channel, country and device only)."""
    by = list(sel.by if by is None else by)
    period = sel.period if period is True else period or None
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
    keys = (["period"] if period else []) + by
    return _group(t, keys).aggregate(**aggregates(t, stats))


def histogram_stats(f, lo: float, width: float, bins: int, fence: float):
    """Orders and value per equal-width bin from ``lo``; orders above ``fence`` are outliers.

    Values below ``lo`` fall in bin 0 and values beyond the last edge in the last bin, so no
    order is lost.
    """
    raw = ((f.value - lo) / width).floor().cast("int64")
    t = f.mutate(bin=ibis.greatest(ibis.least(raw, bins - 1), 0), outlier=f.value > fence)
    return t.group_by(["bin", "outlier"]).aggregate(orders=t.count(), revenue=t.value.sum())


#: Added to (value − lo) / width before the floor: a value on an edge (an order of exactly
#: 50.00 at a threshold of 50) belongs to the bin above it, and 50 / 0.05 is 999.99… in
#: binary floating point. Far below a cent at any bin width aovlab uses.
EDGE_GUARD = 1e-9


def value_bins(f, lo: float, width: float, bins: int):
    """Orders, value and shipping charged per equal-width bin over [lo, lo + bins × width):
    the binned order-value distribution the bunching estimator reads (orders outside the
    range are left out, unlike :func:`histogram_stats`, so no bin is inflated by a clamp).
    ``shipped``: the orders that paid shipping (more than 0)."""
    hi = lo + bins * width
    t = f.filter((f.value >= lo) & (f.value < hi))
    t = t.mutate(bin=ibis.least(((t.value - lo) / width + EDGE_GUARD).floor().cast("int64"),
                                bins - 1))
    return t.group_by("bin").aggregate(orders=t.count(), revenue=t.value.sum(),
                                       shipping=t.shipping.sum(),
                                       shipped=(t.shipping > 0).sum().cast("int64"))


#: Significant digits an order value keeps in :func:`value_digits` (floored): a group is
#: at most 0.01% wide, so quantiles from the groups are within 0.01% of the exact ones, and
#: any bins of a width that is a multiple of the groups' (0.05 for values 10–99.99, 0.5 for
#: 100–999.99, …) are exact.
DIGITS = 5
#: The key of a group: sign × ((m + OFFSET) · SCALE + d), m the value's power of ten and
#: d its first DIGITS digits (values < 10^-99 or ≥ 10^100 are not orders).
OFFSET, SCALE = 100, 10 ** 7


def value_digits(f, *, shipping: bool = True, costed: bool = False):
    """The orders grouped by their currency and the first :data:`DIGITS` significant digits
    of their value (``key``; :func:`digit_bounds` gives each group's [low, high)): the
    orders and value of each, with ``shipping`` the shipping charged, with ``costed`` the
    orders that have a cost. One grouped scan gives the distribution exactly enough for
    the quantiles, any fine bins and the totals: no sort of every order, no second pass
    (the currency is a key, not a min/max: a string aggregate costs more than the key)."""
    # log10 of 1e-300 is finite: zero gets a finite key, multiplied by its sign 0
    t = f.mutate(_a=ibis.greatest(f.value.abs(), 1e-300))
    t = t.mutate(_m=(t._a.log10() + EDGE_GUARD).floor())
    t = t.mutate(key=(t.value.sign() * ((t._m + OFFSET) * SCALE + (
        t._a * ibis.literal(10.0).pow(DIGITS - 1 - t._m) + EDGE_GUARD).floor())
                      ).cast("int64"))
    aggs = {"orders": t.count(), "revenue": t.value.sum()}
    if shipping:
        aggs["shipping"] = t.shipping.sum()
    if costed:
        aggs["orders_with_cost"] = t.cost.count()
    return t.group_by(["key", "currency"]).aggregate(**aggs)


def cost_totals(f):
    """Σ margin and Σ cost of the orders with a cost (the margin is NULL without one)."""
    return f.aggregate(margin=f.margin.sum(), cost=f.cost.sum())


def digit_bounds(keys):
    """Each :func:`value_digits` group's lowest and highest possible value: [low, high)
    for values above 0, (low, high] for negative ones (the floor is of the absolute
    value), [0, 0] for zero."""
    import numpy as np

    k = np.asarray(keys, dtype=np.int64)
    a = np.abs(k)
    m = a // SCALE - OFFSET
    d = a % SCALE
    e = (m - (DIGITS - 1)).astype(np.float64)
    # dividing by an exact power of ten: 9999 × 0.01 is 99.99000000000001, 9999 / 100 not
    low = np.where(e < 0, d / np.power(10.0, -e), d * np.power(10.0, e))
    high = np.where(e < 0, (d + 1) / np.power(10.0, -e), (d + 1) * np.power(10.0, e))
    neg = k < 0
    zero = k == 0
    return (np.where(neg, -high, np.where(zero, 0.0, low)),
            np.where(neg, -low, np.where(zero, 0.0, high)))


def rows(df) -> list[Mapping[str, object]]:
    """An engine's result frame as plain row mappings (what the statistics read)."""
    return df.to_dict("records")
