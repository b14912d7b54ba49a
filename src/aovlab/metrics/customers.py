"""The RFM summary the customer models fit, as one Ibis expression (DuckDB and Spark alike).

Per customer — a (source, customer_id) pair; guests have no history and are left out — up
to a cut-off date: their purchase *days* (one customer's orders of one day are one
transaction, the usual practice of Fader, Hardie & Lee), the first of them, the last, and
the values. In days, so that the caller divides by the unit it reports in:

* ``frequency`` x: purchase days after the first;
* ``recency_days`` t_x: from the first purchase day to the last;
* ``age_days`` T: from the first purchase day to the cut-off;
* ``repeat_value``: the value of the repeat transactions together (their mean is
  ``repeat_value / frequency``), under the selection's AOV definition.
"""

from __future__ import annotations

from datetime import date

import ibis

from ..query import Selection
from .facts import order_facts


def rfm_summary(engine, sel: Selection, cutoff: date):
    """One row per customer with a first purchase on or before ``cutoff``."""
    f = order_facts(engine, sel.with_(by=(), period=None, end=cutoff), by=(), period=False)
    f = f.filter(f.customer_id.notnull())
    days = f.group_by(["source", "customer_id", "order_date"]).aggregate(value=f.value.sum())
    per = days.group_by(["source", "customer_id"]).aggregate(
        transactions=days.count(), first=days.order_date.min(), last=days.order_date.max(),
        total=days.value.sum(), first_value=days.value.argmin(days.order_date))
    end = ibis.date(cutoff)
    return per.select(
        "source", "customer_id", "first",
        frequency=(per.transactions - 1).cast("int64"),
        recency_days=per.last.delta(per.first, unit="day").cast("float64"),
        age_days=end.delta(per.first, unit="day").cast("float64"),
        repeat_value=(per.total - per.first_value).cast("float64"),
        first_value=per.first_value.cast("float64"))
