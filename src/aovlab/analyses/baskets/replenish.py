"""Replenishment: how often customers buy an item again, who is due for a reminder now,
and what they buy next.

* ``intervals``: per item, the median (and mean) days between a customer's consecutive
  purchase days of it, with the repeat buyers and repurchases behind it;
* ``due``: the customers whose last purchase of an item is at least one typical interval
  old but less than two (due now: older ones have most likely moved on), as of
  ``as_of`` (default the data's last order date);
* ``next_product``: "bought A, then B": pairs where a customer's next purchase day after
  buying A brought B for the first time, with the customers behind each and the typical
  gap.

Purchases are purchase days: two orders of one customer on one day are one purchase.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Unpack

import pandas as pd

from ...errors import DefinitionError, NoDataError
from ...metrics import data_range
from ...metrics.baskets import next_purchases, repurchase_gaps
from ...query import Selection, SelectionOptions, parse_date
from ..result import Result
from .labels import check_item, item_names


def replenishment(source: Any, selection: Selection | None = None, /, *,
                  item: str = "product", min_buyers: int = 5,
                  as_of: date | str | None = None, **options: Unpack[SelectionOptions]
                  ) -> Result:
    """Repurchase intervals per item (from at least ``min_buyers`` repeat buyers), the
    customers due for a reminder ``as_of`` a date, and next-product-to-buy pairs (at
    least ``min_buyers`` customers each). Tables: ``intervals`` (main), ``due``,
    ``next_product``."""
    from ...engines import connect

    check_item(item)
    if isinstance(min_buyers, bool) or not isinstance(min_buyers, int) or min_buyers < 1:
        raise DefinitionError(f"min_buyers {min_buyers!r} is not a whole number ≥ 1",
                              fix="pass e.g. 5")
    sel = Selection.of(selection, **options).with_(by=(), period=None)
    eng = connect(source, sel.engine)
    if as_of is None:
        rng = eng.execute(data_range(eng, sel))
        last = rng["last_date"].iloc[0]
        if pd.isna(last):
            raise NoDataError("the selection has no orders",
                              fix="widen the dates or filters")
        as_of = pd.Timestamp(last).date()
    else:
        as_of = parse_date(as_of, "as-of")
        # nothing after the date counts: the list is what was known that day
        sel = sel.with_(end=as_of if sel.end is None else min(sel.end, as_of))
    gaps_expr, last_expr = repurchase_gaps(eng, sel, item)
    g = gaps_expr
    per = g.group_by("item").aggregate(
        repeat_buyers=(g.source + "\x1f" + g.customer_id).nunique(), repurchases=g.count(),
        median_days=g.days.median(), mean_days=g.days.mean())
    per = per.filter(per.repeat_buyers >= min_buyers)
    intervals = eng.execute(per).sort_values(["repeat_buyers", "item"],
                                             ascending=[False, True], kind="stable")
    if intervals.empty:
        raise NoDataError(f"no item was bought again by {min_buyers} or more customers",
                          fix="repurchase intervals need repeat buyers of an item; lower "
                              "--min-buyers or widen the dates")
    intervals = intervals.astype({"repeat_buyers": "int64", "repurchases": "int64",
                                  "median_days": "float64"}).reset_index(drop=True)
    # due now: at least one median interval since the last purchase, less than two
    lt = last_expr
    med = per.select("item", "median_days")
    j = lt.join(med, "item")
    j = j.mutate(days_since=ibis_date(as_of).delta(j.last, unit="day"))
    j = j.filter((j.days_since >= j.median_days) & (j.days_since < 2 * j.median_days)
                 & (j.last <= ibis_date(as_of)))
    due = eng.execute(j.select("source", "customer_id", "item", "purchases", "last", "median_days",
                               "days_since"))
    due["days_overdue"] = due["days_since"] - due["median_days"]
    due = due.sort_values(["days_overdue", "source", "customer_id", "item"],
                          kind="stable").reset_index(drop=True)
    n = next_purchases(eng, sel, item)
    pairs = n.group_by(["item", "then"]).aggregate(
        customers=(n.source + "\x1f" + n.customer_id).nunique(), median_gap_days=n.days.median())
    pairs = pairs.filter(pairs.customers >= min_buyers)
    nxt = eng.execute(pairs).sort_values(["customers", "item", "then"],
                                         ascending=[False, True, True], kind="stable")
    nxt = nxt.reset_index(drop=True)
    names = item_names(eng, item, set(intervals["item"]) | set(due["item"])
                       | set(nxt["item"]) | set(nxt["then"]))
    if names:
        intervals.insert(1, "name", intervals["item"].map(names))
        due.insert(3, "name", due["item"].map(names))
        nxt.insert(1, "name", nxt["item"].map(names))
        nxt.insert(3, "then_name", nxt["then"].map(names))
    notes = [f"purchases are purchase days; intervals from items with {min_buyers} or more "
             "repeat buyers",
             f"due as of {as_of}: last purchase one to two typical intervals ago"]
    return Result("replenishment", {"intervals": intervals, "due": due,
                                    "next_product": nxt}, notes=notes, meta={
        "definition": sel.definition.name, "item": item, "as_of": as_of,
        "min_buyers": min_buyers, "engine": getattr(eng, "name", sel.engine_name),
        "selection": sel.describe()})


def ibis_date(d: date):
    import ibis

    return ibis.date(d.year, d.month, d.day)


