"""The RFM summary the customer models fit, as one Ibis expression (DuckDB and Spark alike).

Per customer — a (source, customer_id) pair; guests have no history and are left out — up
to a cut-off date: their purchase *days* (one customer's orders of one day are one
transaction, the usual practice of Fader, Hardie & Lee), the first of them, the last, and
the values. In days, so that the caller divides by the unit it reports in:

* ``frequency`` x: purchase days after the first;
* ``recency_days`` t_x: from the first purchase day to the last;
* ``age_days`` T: from the first purchase day to the cut-off;
* ``repeat_value``: the value of the repeat transactions together (their mean is
  ``repeat_value / frequency``), under the selection's AOV definition;
* ``orders`` and ``total_value``: their orders (not days) and the value of all of them.
"""

from __future__ import annotations

from datetime import date

import ibis

from ..query import Selection
from .facts import order_facts


def rfm_summary(engine, sel: Selection, cutoff: date):
    """One row per customer with a first purchase on or before ``cutoff``."""
    f = order_facts(engine, sel.with_(by=(), period=None, end=cutoff), by=(), period=False,
                    customer_type=False)
    f = f.filter(f.customer_id.notnull())
    days = f.group_by(["source", "customer_id", "order_date"]).aggregate(
        value=f.value.sum(), orders=f.count())
    per = days.group_by(["source", "customer_id"]).aggregate(
        transactions=days.count(), first=days.order_date.min(), last=days.order_date.max(),
        total=days.value.sum(), first_value=days.value.argmin(days.order_date),
        orders=days.orders.sum())
    end = ibis.date(cutoff)
    return per.select(
        "source", "customer_id", "first", "last",
        frequency=(per.transactions - 1).cast("int64"),
        recency_days=per.last.delta(per.first, unit="day").cast("float64"),
        age_days=end.delta(per.first, unit="day").cast("float64"),
        repeat_value=(per.total - per.first_value).cast("float64"),
        first_value=per.first_value.cast("float64"),
        orders=per.orders.cast("int64"), total_value=per.total.cast("float64"))


def cost_margin(engine, sel: Selection, cutoff: date):
    """Σ margin and Σ net sales (gross − discounts − returns) of the known customers'
    orders that have a cost, how many orders there are with and without one, and their
    currencies."""
    f = order_facts(engine, sel.with_(by=(), period=None, end=cutoff), by=(), period=False,
                    customer_type=False)
    f = f.filter(f.customer_id.notnull())
    costed = f.cost.notnull()
    return f.aggregate(
        orders=f.count(), orders_with_cost=costed.sum().cast("int64"),
        currencies=f.currency.nunique(), currency=f.currency.max(),
        margin=f.margin.sum(),
        net_sales=(f.margin + f.cost).sum())


def _purchase_days(engine, sel: Selection, end: date):
    """(source, customer_id, order_date) once per purchase day, with the customer's first
    purchase day, for the known customers' orders up to ``end``."""
    f = order_facts(engine, sel.with_(by=(), period=None, end=end), by=(), period=False,
                    customer_type=False)
    f = f.filter(f.customer_id.notnull())
    days = f.group_by(["source", "customer_id", "order_date"]).aggregate(n=f.count())
    w = ibis.window(group_by=[days.source, days.customer_id])
    return days.mutate(first=days.order_date.min().over(w)).drop("n")


def holdout_purchases(engine, sel: Selection, calibration_end: date, end: date):
    """Per customer whose first purchase is on or before ``calibration_end``: their
    purchase days after it, up to ``end`` (customers without one are absent)."""
    d = _purchase_days(engine, sel, end)
    d = d.filter((d.first <= ibis.date(calibration_end))
                 & (d.order_date > ibis.date(calibration_end)))
    return d.group_by(["source", "customer_id"]).aggregate(holdout=d.count())


def repeat_days(engine, sel: Selection, calibration_end: date, end: date):
    """Repeat purchase days (after each customer's first) per calendar day, up to ``end``,
    of the customers whose first purchase is on or before ``calibration_end``."""
    d = _purchase_days(engine, sel, end)
    d = d.filter((d.first <= ibis.date(calibration_end)) & (d.order_date > d.first))
    return d.group_by("order_date").aggregate(repeats=d.count())


def cohort_orders(engine, sel: Selection, cutoff: date, key: str):
    """Per (cohort, months since the first order): active customers, orders and value, and
    the first-day orders among them; and, apart, the customers per (cohort, first month).

    A customer's cohort is the month of their first order (``key="month"``) or that
    order's channel, country or coupon (of two first-day orders, the smaller value).
    Returns the two expressions (activity, sizes)."""
    by = () if key == "month" else (key,)
    f = order_facts(engine, sel.with_(by=by, period=None, end=cutoff), by=by, period=False,
                    customer_type=False)
    f = f.filter(f.customer_id.notnull())
    w = ibis.window(group_by=[f.source, f.customer_id])
    first = f.order_date.min().over(w)
    f = f.mutate(first=first)
    if key == "month":
        cohort = f.first.truncate("M").cast("string")
    else:
        ordered = ibis.window(group_by=[f.source, f.customer_id],
                              order_by=[f.order_date, f[key]])
        cohort = f[key].first().over(ordered)
    f = f.mutate(cohort=cohort, first_month=f.first.truncate("M"))
    f = f.mutate(months=((f.order_date.year() - f.first.year()) * 12
                         + f.order_date.month() - f.first.month()).cast("int64"),
                 who=f.source + "\x1f" + f.customer_id,
                 is_first=(f.order_date == f.first))
    activity = f.group_by(["cohort", "months"]).aggregate(
        active=f.who.nunique(), orders=f.count(), value=f.value.sum(),
        first_orders=f.is_first.sum().cast("int64"),
        first_value=f.value.sum(where=f.is_first),
        currency_min=f.currency.min(), currency_max=f.currency.max())
    people = f.filter(f.is_first).group_by(["source", "customer_id"]).aggregate(
        cohort=f.cohort.min(), first_month=f.first_month.min())
    sizes = people.group_by(["cohort", "first_month"]).aggregate(customers=people.count())
    return activity, sizes
