"""Every KPI of a group as a pure function of its sufficient statistics.

AOV = Σ value / Σ orders. Its interval is a delta-method interval for that ratio over the
independent units (each known customer, and each guest order as a unit of its own), so a
customer's orders are not treated as independent (:class:`~.moments.RatioMoments`).
"""

from __future__ import annotations

import math

from .moments import Moments, RatioMoments
from .sufficient import CustomerStats, Distribution, OrderStats, TrafficStats


def ratio(num: float, den: float) -> float:
    """num / den, NaN when the denominator is 0 or missing."""
    if den == 0 or math.isnan(den) or math.isnan(num):
        return math.nan
    return num / den


def aov_moments(o: OrderStats, c: CustomerStats) -> RatioMoments:
    """AOV's ratio moments over units: each known customer, and each guest order."""
    return RatioMoments(c.customers + o.guest_orders, o.revenue, o.orders,
                        c.customer_xx + o.guest_revenue_sq, c.customer_yy + o.guest_orders,
                        c.customer_xy + o.guest_revenue)


def percentile_name(p: float) -> str:
    return "median" if p == 0.5 else f"p{round(p * 100, 1):g}"


def order_kpis(o: OrderStats, c: CustomerStats, d: Distribution, *, level: float,
               percentiles: list[float], trim: float) -> dict[str, float]:
    """AOV with its interval and spread, basket, customer, segment, discount and margin KPIs."""
    m = aov_moments(o, c)
    lo, hi = m.ci(level, floor=0.0)
    out: dict[str, float] = {
        "orders": o.orders, "revenue": o.revenue, "aov": ratio(o.revenue, o.orders),
        "aov_ci_low": lo, "aov_ci_high": hi, "aov_units": m.n,
        "aov_std": Moments(o.orders, o.revenue, o.revenue_sq).std,
        "median": d.quantiles.get(0.5, math.nan),
    }
    if trim > 0:
        out["trimmed_aov"] = ratio(d.trimmed_sum, d.trimmed_n)
        out["winsorized_aov"] = ratio(d.winsor_sum, o.orders)
    for p in percentiles:
        if p != 0.5:
            out[percentile_name(p)] = d.quantiles.get(p, math.nan)
    complete_units = o.orders_with_units == o.orders
    out.update({
        "min_value": o.min_value, "max_value": o.max_value,
        "units_per_order": ratio(o.units, o.orders) if complete_units else math.nan,
        "avg_unit_price": ratio(o.revenue, o.units) if complete_units else math.nan,
        "customers": c.customers,
        "purchase_frequency": ratio(c.customer_orders, c.customers),
        "repeat_customer_rate": ratio(c.repeat_customers, c.customers),
        "avg_customer_spend": ratio(c.customer_revenue, c.customers),
    })
    for seg in ("new", "returning", "guest"):
        n = getattr(o, f"{seg}_orders")
        out[f"{seg}_orders"] = n
        out[f"{seg}_aov"] = ratio(getattr(o, f"{seg}_revenue"), n)
    out.update({
        "discount_share": ratio(o.discounts, o.gross_sales),
        "shipping_share": ratio(o.shipping, o.total_paid),
        "margin_per_order": ratio(o.margin, o.orders_with_cost),
        "cost_coverage": ratio(o.orders_with_cost, o.orders),
    })
    return out


def traffic_kpis(o: OrderStats, t: TrafficStats | None) -> dict[str, float]:
    """Sessions, the funnel (sessions reaching each step, and each step's rate from the one
    before), conversion and revenue per visitor/session; NaN without traffic.

    Two conversion rates, each named for what it divides: ``session_conversion_rate`` =
    sessions with a purchase / sessions (GA4's session conversion rate) and
    ``orders_per_session`` = orders / sessions (a session may place two orders, and orders
    from other sources count where the traffic does not see them).
    """
    if t is None or t.traffic_rows == 0:
        sessions = visitors = view = cart = checkout = bought = math.nan
    else:
        sessions, visitors = t.sessions, t.visitors
        view, cart, checkout, bought = (
            _known(t.view_item, t.view_item_rows), _known(t.add_to_cart, t.add_to_cart_rows),
            _known(t.begin_checkout, t.begin_checkout_rows),
            _known(t.purchase_sessions, t.purchase_rows))
    return {"sessions": sessions, "visitors": visitors,
            "view_item_sessions": view, "add_to_cart_sessions": cart,
            "begin_checkout_sessions": checkout, "purchase_sessions": bought,
            "view_item_rate": ratio(view, sessions), "add_to_cart_rate": ratio(cart, view),
            "begin_checkout_rate": ratio(checkout, cart),
            "purchase_rate": ratio(bought, checkout),
            "session_conversion_rate": ratio(bought, sessions),
            "orders_per_session": ratio(o.orders, sessions),
            "revenue_per_visitor": ratio(o.revenue, visitors),
            "revenue_per_session": ratio(o.revenue, sessions)}


def _known(total: float, rows: int) -> float:
    """A funnel count, NaN when no traffic row records that step."""
    return float(total) if rows else math.nan
