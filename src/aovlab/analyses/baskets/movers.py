"""Products that move AOV: per item, its attach rate and the AOV of the orders holding it
against the orders without it, with an interval — so a store sees which items pull the
basket up and which arrive alone.

AOV is a ratio (Σ order value / orders) whose orders are not independent: a customer's
orders go together. The intervals therefore take the customer as the unit (a guest order
is a unit of its own) with the delta method (:class:`aovlab.stats.RatioMoments`), and the
difference uses Welch's degrees of freedom. A customer can sit on both sides (some orders
with the item, some without); their spend is positively correlated, so the interval errs
wide rather than narrow.
"""

from __future__ import annotations

from typing import Any, Unpack

import numpy as np
import pandas as pd

from ...errors import DefinitionError
from ...query import ORDER_DIMENSIONS, Selection, SelectionOptions
from ...stats import RatioMoments, difference_ci
from ..result import Result
from .labels import check_item, item_names, selected_lines


def movers(source: Any, selection: Selection | None = None, /, *, item: str = "product",
           by: str | None = None, min_orders: int = 30, level: float = 0.95,
           **options: Unpack[SelectionOptions]) -> Result:
    """Per item (product, category or name) with at least ``min_orders`` orders: orders,
    attach rate (share of the orders holding it), ``alone_rate`` (share of its orders
    where it is the only item), the item's share of those orders' value, AOV with and
    without it and the difference with its ``level`` interval; ``by`` (e.g. channel)
    repeats the table per group. Sorted by the difference × orders (the money the item
    moves)."""
    from ...engines import connect

    check_item(item)
    if not (isinstance(min_orders, int) and min_orders >= 1):
        raise DefinitionError(f"min_orders {min_orders!r} is not a whole number ≥ 1",
                              fix="pass e.g. 30")
    by_ok = tuple(d for d in ORDER_DIMENSIONS if d not in ("currency", "source")) + (
        "customer_type",)
    if by is not None and by not in by_ok:
        raise DefinitionError(f"movers by {by!r} are not offered",
                              fix=f"use one of {', '.join(by_ok)}")
    sel = Selection.of(selection, **options).with_(by=(), period=None)
    eng = connect(source, sel.engine)
    lines, currency = selected_lines(eng, sel, item, "movers", "AOV across them is meaningless",
                                     customer=True,
                                     extra=(by,) if by else (), arrow=False)
    groups = [(None, lines)] if by is None else list(lines.groupby(by, sort=True))
    parts = []
    for key, g in groups:
        t = _movers(g, min_orders, level)
        if by is not None:
            t.insert(0, by, key)
        if len(t):
            parts.append(t)
    table = pd.concat(parts, ignore_index=True) if parts else _movers(lines.iloc[:0],
                                                                      min_orders, level)
    names = item_names(eng, item, table["item"]) if len(table) else {}
    if names:
        table.insert(table.columns.get_loc("item") + 1, "name", table["item"].map(names))
    notes = [f"items in fewer than {min_orders} orders are left out",
             "intervals take the customer as the unit (guest orders alone), delta method; "
             "a customer on both sides makes them err wide"]
    return Result("movers", {"movers": table}, notes=notes, meta={
        "definition": sel.definition.name, "item": item, "by": by,
        "currency": currency,
        "orders": int(lines[["source", "order_id"]].drop_duplicates().shape[0]),
        "engine": getattr(eng, "name", sel.engine_name), "selection": sel.describe()})


def _movers(lines: pd.DataFrame, min_orders: int, level: float) -> pd.DataFrame:
    # one row per order: its value and number of items; its unit (customer, or itself)
    orders = lines.groupby(["source", "order_id"], sort=False).agg(
        value=("order_value", "first"), unit=("customer_id", "first"),
        n_items=("item", "size")).reset_index()
    guest = orders["unit"].isna()
    orders["unit"] = np.where(guest, "\x00" + orders["source"] + "\x1f" + orders["order_id"],
                              orders["source"] + "\x1f" + orders["unit"].astype(str))
    per_unit = orders.groupby("unit", sort=False).agg(x=("value", "sum"),
                                                       y=("value", "size"))
    X, Y = per_unit["x"].to_numpy(float), per_unit["y"].to_numpy(float)
    total = RatioMoments(len(X), X.sum(), Y.sum(), (X * X).sum(), (Y * Y).sum(),
                         (X * Y).sum())
    n_orders = len(orders)
    li = lines.merge(orders[["source", "order_id", "unit", "n_items"]],
                     on=["source", "order_id"])
    # per (item, unit): value and orders holding the item
    iu = li.groupby(["item", "unit"], sort=False).agg(
        xw=("order_value", "sum"), yw=("order_value", "size")).reset_index()
    iu = iu.join(per_unit, on="unit")
    xw, yw, x, y = (iu[c].to_numpy(float) for c in ("xw", "yw", "x", "y"))
    xo, yo = x - xw, y - yw
    iu = iu.assign(n=1.0, xx=xw * xw, yy=yw * yw, xy=xw * yw,
                   # the same unit's orders without the item, and what they replace
                   n_o=(yo > 0).astype(float), xo=xo, yo=yo, xxo=xo * xo - x * x,
                   yyo=yo * yo - y * y, xyo=xo * yo - x * y, n_full=1.0)
    s = iu.groupby("item", sort=False)[["n", "xw", "yw", "xx", "yy", "xy", "n_o", "xo", "yo",
                                        "xxo", "yyo", "xyo"]].sum()
    per_item = li.groupby("item", sort=False).agg(
        orders=("order_id", "size"), alone=("n_items", lambda v: int((v == 1).sum())),
        item_value=("value", "sum"), orders_value=("order_value", "sum"))
    s = s.join(per_item)
    s = s[s["orders"] >= min_orders]
    rows = []
    for name, r in s.iterrows():
        with_ = RatioMoments(int(r["n"]), r["xw"], r["yw"], r["xx"], r["yy"], r["xy"])
        # without: every unit's orders without the item (units that never bought it
        # keep all their orders): the totals minus what the item's orders take away
        without = RatioMoments(
            total.n - int(r["n"]) + int(r["n_o"]), total.sum_x - r["xw"],
            total.sum_y - r["yw"], total.sum_xx + r["xxo"], total.sum_yy + r["yyo"],
            total.sum_xy + r["xyo"])
        d, lo, hi = difference_ci(without, with_, level)
        rows.append((name, int(r["orders"]), r["orders"] / n_orders,
                     r["alone"] / r["orders"], r["item_value"] / r["orders_value"]
                     if r["orders_value"] else np.nan, with_.ratio, without.ratio, d, lo, hi,
                     d * r["orders"]))
    t = pd.DataFrame(rows, columns=["item", "orders", "attach_rate", "alone_rate",
                                    "value_share", "aov_with", "aov_without", "difference",
                                    "ci_low", "ci_high", "moved"])
    t["beyond_noise"] = (t["ci_low"] > 0) | (t["ci_high"] < 0)
    return t.sort_values("moved", ascending=False, kind="stable").reset_index(drop=True)
