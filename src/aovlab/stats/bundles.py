"""Bundle pricing and its expected effect, as plain arithmetic on counts and prices.

The source articles' example: three $100 items offered together at $225 — a 25% discount
on a $300 list price. :func:`bundle_price` proposes the discount (a target, capped so that
the bundle keeps a margin floor where costs are known); :func:`bundle_effect` states what
the bundle would do to revenue, gross profit and AOV under one explicit assumption: the
*take rate*, the share of the orders holding some but not all of the bundle's items that
would complete it at the bundle price.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BundlePrice:
    """``list_price`` (Σ of the items' prices), the bundle ``price``, its ``discount``
    (share of the list price), ``cost`` (NaN when unknown) and the bundle's ``margin``
    (share of its price kept after cost)."""

    list_price: float
    price: float
    discount: float
    cost: float
    margin: float

    @property
    def saving(self) -> float:
        return self.list_price - self.price


def bundle_price(prices: Sequence[float], costs: Sequence[float] | None = None, *,
                 discount: float = 0.1, margin_floor: float | None = None) -> BundlePrice:
    """The bundle of items at ``prices`` (one unit each) offered at ``discount`` off the
    list price — lowered, where ``costs`` are known and ``margin_floor`` is given, to the
    largest discount that keeps the margin (price − cost) / price at the floor:
    d ≤ 1 − cost / ((1 − floor) · list). Never negative: a bundle already below its floor
    at list price gets no discount."""
    if not prices or any(not math.isfinite(p) or p < 0 for p in prices):
        raise ValueError(f"prices {list(prices)!r} must be finite and not negative")
    if not (0 <= discount < 1):
        raise ValueError(f"discount {discount!r} is not a share in [0, 1)")
    if margin_floor is not None and not (0 <= margin_floor < 1):
        raise ValueError(f"margin_floor {margin_floor!r} is not a share in [0, 1)")
    lst = float(sum(prices))
    cost = (math.nan if costs is None or any(c is None or math.isnan(c) for c in costs)
            else float(sum(costs)))
    d = discount
    if margin_floor is not None and not math.isnan(cost) and lst > 0:
        d = max(0.0, min(d, 1 - cost / ((1 - margin_floor) * lst)))
    price = lst * (1 - d)
    margin = (price - cost) / price if price > 0 and not math.isnan(cost) else math.nan
    return BundlePrice(list_price=lst, price=price, discount=d, cost=cost, margin=margin)


@dataclass(frozen=True)
class BundleEffect:
    """The expected change in revenue and gross profit over the period's orders, and in
    AOV (the same orders, each worth more or less)."""

    revenue: float
    gross_profit: float
    aov: float
    completed_orders: float


def bundle_effect(offer: BundlePrice, item_prices: Sequence[float],
                  item_costs: Sequence[float], item_orders: Sequence[float],
                  whole_orders: float, any_orders: float, orders: float, *,
                  take_rate: float) -> BundleEffect:
    """What offering the bundle would have done over a period of ``orders`` orders.

    * ``whole_orders`` already held every item: they now pay the bundle price, losing
      the saving: ΔR = −whole × saving (cost unchanged).
    * ``any_orders − whole_orders`` held some of the items: ``take_rate`` of them complete
      the bundle. Such an order paid Σ p_i for its items and now pays the bundle price,
      and buys the cost of the items it lacked. Summed over them, the items they held are
      Σ_i p_i (n_i − whole) (n_i: orders holding item i), so
      ΔR = τ [(any − whole) · price − Σ_i p_i (n_i − whole)] and
      ΔGP = τ [(any − whole) · (price − cost) − Σ_i (p_i − c_i)(n_i − whole)] − whole ×
      saving.

    Nobody places an extra order for a bundle here and no order is lost: ΔAOV = ΔR /
    orders."""
    if not (0 <= take_rate <= 1):
        raise ValueError(f"take_rate {take_rate!r} is not a share in [0, 1]")
    partial = any_orders - whole_orders
    held = sum(p * (n - whole_orders) for p, n in zip(item_prices, item_orders, strict=True))
    held_gp = sum((p - c) * (n - whole_orders)
                  for p, c, n in zip(item_prices, item_costs, item_orders, strict=True))
    lost = whole_orders * offer.saving
    d_rev = take_rate * (partial * offer.price - held) - lost
    d_gp = take_rate * (partial * (offer.price - offer.cost) - held_gp) - lost
    return BundleEffect(revenue=d_rev, gross_profit=d_gp,
                        aov=d_rev / orders if orders else math.nan,
                        completed_orders=take_rate * partial)
