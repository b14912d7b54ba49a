"""Cohorts, as Shopify's cohort report and Lifetimely show them: customers grouped by the
month of their first order (or that order's channel, country or coupon), followed month by
month after it.

Per cohort and month since the first order (month 0 is the month of the first order):

* ``retention``: the share of the cohort's customers who ordered in that month, among those
  observed that long (a customer first seen in May is not yet observed for month 3 in June);
* cumulative orders and revenue per customer, the basis of the historical CLV;
* the AOV of first orders (the first purchase day's) against later ones.

Tables: ``cohorts`` (one row per cohort and month), ``triangle`` (retention, cohorts ×
months), ``aov`` (one row per cohort).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Unpack

import numpy as np
import pandas as pd

from ...errors import CurrencyMixError, DefinitionError, NoDataError
from ...metrics.customers import cohort_orders
from ...query import Selection, SelectionOptions, parse_date
from ..result import Result
from .summary import last_order_date

KEYS = ("month", "channel", "country", "coupon")


def cohorts(source: Any, selection: Selection | None = None, /, *, by: str = "month",
            cutoff: date | str | None = None, months: int | None = None,
            **options: Unpack[SelectionOptions]) -> Result:
    """Retention, cumulative orders and revenue per customer, and first vs later AOV, of
    the cohorts ``by`` first-order month (or channel, country, coupon), up to ``cutoff``
    (default: the last order date); ``months`` caps the months since the first order."""
    from ...engines import connect

    if by not in KEYS:
        raise DefinitionError(f"cohorts by {by!r} are not offered",
                              fix=f"use one of {', '.join(KEYS)}")
    if months is not None and not (isinstance(months, int) and months >= 0):
        raise DefinitionError(f"months {months!r} is not a number of months",
                              fix="pass e.g. --months 12")
    sel = Selection.of(selection, **options).with_(by=(), period=None, start=None)
    eng = connect(source, sel.engine)
    cut = last_order_date(eng, sel) if cutoff is None else parse_date(cutoff, "cutoff")
    act_expr, size_expr = cohort_orders(eng, sel, cut, by)
    act, sizes = eng.execute(act_expr), eng.execute(size_expr)
    if act.empty:
        raise NoDataError(f"no customer with an id ordered on or before {cut}",
                          fix="guests (orders without a customer id) have no history to "
                              "follow; pick a later --cutoff")
    currencies = set(act["currency_min"].dropna()) | set(act["currency_max"].dropna())
    if len(currencies) > 1:
        raise CurrencyMixError("the selection mixes currencies; revenue per customer "
                               "across them is meaningless", fix="choose one with --currency")
    act["cohort"] = act["cohort"].astype(str).str[:7] if by == "month" else act[
        "cohort"].astype(str)
    sizes["cohort"] = sizes["cohort"].astype(str).str[:7] if by == "month" else sizes[
        "cohort"].astype(str)
    cut_month = cut.year * 12 + cut.month - 1
    sizes["observable"] = cut_month - (pd.to_datetime(sizes["first_month"]).dt.year * 12
                                       + pd.to_datetime(sizes["first_month"]).dt.month - 1)
    table = _table(act, sizes, months)
    triangle = table.pivot(index="cohort", columns="months", values="retention")
    triangle.columns = [f"m{c}" for c in triangle.columns]
    aov = _aov(act, sizes)
    notes = [f"month 0 is the month of a customer's first order; the last month, "
             f"{cut:%Y-%m}, may be partial (cut-off {cut})",
             "first orders are those of a customer's first purchase day; guests are left out"]
    return Result("cohorts", {"cohorts": table, "triangle": triangle.reset_index(),
                              "aov": aov}, notes=notes, meta={
        "definition": sel.definition.name, "by": by, "cutoff": cut,
        "currency": next(iter(currencies), None), "cohorts": int(aov.shape[0]),
        "customers": int(sizes["customers"].sum()),
        "engine": getattr(eng, "name", sel.engine_name), "selection": sel.describe()})


def _table(act: pd.DataFrame, sizes: pd.DataFrame, cap: int | None) -> pd.DataFrame:
    rows = []
    for cohort, s in sizes.groupby("cohort"):
        size = int(s["customers"].sum())
        longest = int(s["observable"].max())
        if cap is not None:
            longest = min(longest, cap)
        a = act[act["cohort"] == cohort].set_index("months")
        span = np.arange(longest + 1)
        a = a.reindex(span)
        # the customers observed m months after their first order's month
        eligible = np.array([int(s.loc[s["observable"] >= m, "customers"].sum()) for m in span])
        orders = a["orders"].fillna(0).to_numpy(float)
        value = a["value"].fillna(0).to_numpy(float)
        active = a["active"].fillna(0).to_numpy(float)
        rows.append(pd.DataFrame({
            "cohort": cohort, "customers": size, "months": span, "observed": eligible,
            "active_customers": active.astype(int),
            "retention": np.where(eligible > 0, active / np.maximum(eligible, 1), np.nan),
            "orders": orders.astype(int), "revenue": value,
            "aov": np.where(orders > 0, value / np.maximum(orders, 1), np.nan),
            # cumulative per customer of the cohort: every customer counts from month 0
            "cumulative_orders_per_customer": np.cumsum(orders) / size,
            "cumulative_revenue_per_customer": np.cumsum(value) / size}))
    return pd.concat(rows, ignore_index=True)


def _aov(act: pd.DataFrame, sizes: pd.DataFrame) -> pd.DataFrame:
    g = act.groupby("cohort")
    out = pd.DataFrame({"orders": g["orders"].sum(), "revenue": g["value"].sum(),
                        "first_orders": g["first_orders"].sum(),
                        "first_revenue": g["first_value"].sum()})
    out.insert(0, "customers", sizes.groupby("cohort")["customers"].sum())
    out["later_orders"] = out["orders"] - out["first_orders"]
    out["later_revenue"] = out["revenue"] - out["first_revenue"]
    out["first_order_aov"] = out["first_revenue"] / out["first_orders"]
    out["later_order_aov"] = np.where(out["later_orders"] > 0,
                                      out["later_revenue"] / out["later_orders"].clip(lower=1),
                                      np.nan)
    out["orders_per_customer"] = out["orders"] / out["customers"]
    out["revenue_per_customer"] = out["revenue"] / out["customers"]
    return out.rename_axis("cohort").reset_index()
