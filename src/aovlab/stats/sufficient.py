"""The engine→stats contract: sufficient statistics as frozen dataclasses.

Each field declares the aggregate that fills it (:func:`stat`): an operation (``count``,
``sum``, ``min``, ``max``) over a column of the facts the metrics layer builds, optionally
multiplied by a second column (Σx·y) and restricted by a named predicate. The metrics layer
compiles these declarations into Ibis aggregates, so the aggregate names are the field
names, declared once, here; :meth:`Sufficient.from_row` reads an engine's row back, and
``+`` merges two groups (counts and sums add, minima and maxima combine), so groups add up
to their total.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class Agg:
    """One aggregate: ``op`` of column ``of`` (× ``times``) where predicate ``where``."""

    op: str  # count | sum | min | max
    of: str | None = None  # None with count: count rows
    times: str | None = None
    where: str | None = None


def stat(op: str, of: str | None = None, times: str | None = None,
         where: str | None = None) -> Any:
    """A sufficient-statistic field filled by the aggregate described."""
    return dataclasses.field(metadata={"agg": Agg(op, of, times, where)})


def _missing(v: Any) -> bool:
    # None, NaN, or pandas' NA (whose truth value raises, hence the type check)
    return v is None or type(v).__name__ == "NAType" or (isinstance(v, float) and v != v)


class Sufficient:
    """Mixin: aggregate declarations, reading engine rows, merging with ``+``."""

    prefix: ClassVar[str] = ""  # prepended to the aggregate names in a joined row

    @classmethod
    def aggregates(cls) -> dict[str, Agg]:
        """Aggregate name -> declaration, in field order."""
        return {cls.prefix + f.name: f.metadata["agg"] for f in dataclasses.fields(cls)}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """The statistics in ``row``; an empty sum or count is 0, an empty min/max NaN."""
        values = {}
        for f in dataclasses.fields(cls):
            v = row[cls.prefix + f.name]
            op = f.metadata["agg"].op
            if _missing(v):
                v = math.nan if op in ("min", "max") else 0
            # + 0.0: PostgreSQL sums negative zeros to -0.0, DuckDB to 0.0; a share must
            # not print as -0.00% on one engine
            values[f.name] = int(v) if op == "count" else float(v) + 0.0
        return cls(**values)

    @classmethod
    def zero(cls) -> Self:
        """The statistics of an empty group."""
        return cls(**{f.name: (math.nan if f.metadata["agg"].op in ("min", "max")
                               else 0 if f.metadata["agg"].op == "count" else 0.0)
                      for f in dataclasses.fields(cls)})

    def __add__(self, other: Self) -> Self:
        out = {}
        for f in dataclasses.fields(self):
            a, b, op = getattr(self, f.name), getattr(other, f.name), f.metadata["agg"].op
            if op in ("min", "max"):
                pick = min if op == "min" else max
                out[f.name] = b if math.isnan(a) else a if math.isnan(b) else pick(a, b)
            else:
                out[f.name] = a + b
        return type(self)(**out)


@dataclass(frozen=True)
class OrderStats(Sufficient):
    """Order-level sums of one group (the facts' ``value`` is the order value)."""

    orders: int = stat("count")
    revenue: float = stat("sum", "value")
    revenue_sq: float = stat("sum", "value", "value")
    min_value: float = stat("min", "value")
    max_value: float = stat("max", "value")
    units: float = stat("sum", "units")
    orders_with_units: int = stat("count", "units")
    gross_sales: float = stat("sum", "gross_sales")
    discounts: float = stat("sum", "discounts")
    shipping: float = stat("sum", "shipping")
    total_paid: float = stat("sum", "total")
    orders_with_cost: int = stat("count", "cost")
    margin: float = stat("sum", "margin")
    new_orders: int = stat("count", where="new")
    new_revenue: float = stat("sum", "value", where="new")
    returning_orders: int = stat("count", where="returning")
    returning_revenue: float = stat("sum", "value", where="returning")
    guest_orders: int = stat("count", where="guest")
    guest_revenue: float = stat("sum", "value", where="guest")
    guest_revenue_sq: float = stat("sum", "value", "value", where="guest")


@dataclass(frozen=True)
class CustomerStats(Sufficient):
    """Sums over known customers of one group: x = a customer's revenue, y = their orders.

    A guest order is a unit of its own; its part of these sums (x = value, y = 1) is in
    :class:`OrderStats` (``guest_*``), so only known customers need a per-customer key.
    """

    customers: int = stat("count")
    repeat_customers: int = stat("count", where="repeat")
    customer_orders: float = stat("sum", "y")
    customer_revenue: float = stat("sum", "x")
    customer_xx: float = stat("sum", "x", "x")
    customer_yy: float = stat("sum", "y", "y")
    customer_xy: float = stat("sum", "x", "y")


@dataclass(frozen=True)
class TrafficStats(Sufficient):
    """Traffic and funnel sums of one group (``traffic_rows`` = 0: no traffic recorded)."""

    traffic_rows: int = stat("count")
    sessions: float = stat("sum", "sessions")
    visitors: float = stat("sum", "visitors")
    view_item: float = stat("sum", "view_item")
    add_to_cart: float = stat("sum", "add_to_cart")
    begin_checkout: float = stat("sum", "begin_checkout")
    purchase_sessions: float = stat("sum", "purchases")
    # rows that record each funnel step (a traffic source may record sessions only)
    view_item_rows: int = stat("count", "view_item")
    add_to_cart_rows: int = stat("count", "add_to_cart")
    begin_checkout_rows: int = stat("count", "begin_checkout")
    purchase_rows: int = stat("count", "purchases")


@dataclass(frozen=True)
class Distribution:
    """What does not merge: quantiles and the trimmed/winsorized sums at the group's cuts."""

    quantiles: dict[float, float]
    trimmed_sum: float = math.nan
    trimmed_n: int = 0
    winsor_sum: float = math.nan
