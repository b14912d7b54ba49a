"""Bundles ranked by money: which items to offer together, at what price, and what that
would do to AOV and gross profit under a stated take rate.

Candidates are the frequent itemsets of two or more items. Per candidate: how often the
items are bought together (``orders_together``; ``co_purchase_rate``: the share of the
orders holding any of them that hold all), what they sold together, the list price (one
unit of each at its average realised unit price), a proposed bundle price
(:func:`aovlab.stats.bundles.bundle_price`: the target discount, capped by the margin
floor where costs are known) and the expected effect
(:func:`aovlab.stats.bundles.bundle_effect`).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Unpack

import numpy as np
import pandas as pd
import pyarrow as pa

from ...errors import DefinitionError
from ...query import Selection, SelectionOptions
from ...stats.bundles import bundle_effect, bundle_price
from ..result import Result
from .labels import check_item, item_names, selected_lines
from .matrix import from_lines
from .mining import mine_matrix


def _share(name: str, v: float | None, *, upper_open: bool = False) -> None:
    if v is None:
        return
    ok = 0 <= v < 1 if upper_open else 0 <= v <= 1
    if isinstance(v, bool) or not isinstance(v, int | float) or not ok:
        raise DefinitionError(f"{name} {v!r} is not a share between 0 and 1",
                              fix=f"pass e.g. {name}=0.1 for 10%")


def item_prices(lines: pa.Table) -> pd.DataFrame:
    """Per item: units, average realised unit price (Σ value / Σ units) and unit cost
    (Σ cost / Σ units, NaN unless every line of the item has a cost)."""
    df = lines.select(["item", "quantity", "value", "cost"]).to_pandas()
    g = df.groupby("item", sort=False)
    out = pd.DataFrame({"units": g["quantity"].sum(), "value": g["value"].sum(),
                        "cost": g["cost"].sum(min_count=1),
                        "costed": g["cost"].count(), "lines": g["cost"].size()})
    out["price"] = out["value"] / out["units"]
    out["unit_cost"] = np.where(out["costed"] == out["lines"], out["cost"] / out["units"],
                                np.nan)
    return out[["units", "price", "unit_cost"]]


def bundles(source: Any, selection: Selection | None = None, /, *,
            item: str = "product", min_support: float | int = 0.005, max_size: int = 3,
            discount: float = 0.1, margin_floor: float | None = 0.2,
            margin: float | None = None, take_rate: float = 0.1, top: int | None = 50,
            **options: Unpack[SelectionOptions]) -> Result:
    """Candidate bundles (itemsets of 2 to ``max_size`` items in at least
    ``min_support`` of the baskets) with their co-purchase rate, revenue together, list
    and proposed bundle price (``discount`` off the list, capped so that the bundle keeps
    ``margin_floor`` where costs are known), and the expected change in revenue, gross
    profit and AOV if ``take_rate`` of the orders holding some of the items completed the
    bundle. Costs come from the order lines where every line has one, else from
    ``margin`` (the share of the price kept); without either, gross profit is left out.
    Ranked by expected gross profit (revenue without costs); the ``top`` best kept."""
    from ...engines import connect

    check_item(item)
    if not (isinstance(max_size, int) and max_size >= 2):
        raise DefinitionError(f"max_size {max_size!r}: a bundle has two items or more",
                              fix="pass e.g. max_size=3")
    _share("discount", discount, upper_open=True)
    _share("margin_floor", margin_floor, upper_open=True)
    _share("margin", margin)
    _share("take_rate", take_rate)
    sel = Selection.of(selection, **options).with_(by=(), period=None)
    eng = connect(source, sel.engine)
    lines, currency = selected_lines(
        eng, sel, item, "bundles", "bundle prices across them are meaningless")
    m = from_lines(lines)
    sets = mine_matrix(m, min_support, max_len=max_size)
    prices = item_prices(lines).reindex(m.labels)
    p = prices["price"].to_numpy(float)
    c = prices["unit_cost"].to_numpy(float)
    costed = ~np.isnan(c)
    if margin is not None:
        c = np.where(costed, c, p * (1 - margin))
    n_orders = m.n_baskets
    single = np.zeros(m.n_items)
    idx1, mem1 = sets.members(1)
    single[mem1[:, 0]] = sets.count[idx1]
    rows = []
    for k in range(2, max_size + 1):
        idx, members = sets.members(k)
        if not len(idx):
            continue
        whole = sets.count[idx]
        # orders holding any of the items, by inclusion–exclusion over the subsets (all
        # frequent, so all in the tree)
        anyn = np.zeros(len(idx))
        for j in range(1, k + 1):
            for sub in combinations(range(k), j):
                cnt = sets.count[sets.lookup(members[:, list(sub)])]
                anyn += (-1) ** (j + 1) * cnt
        for r in range(len(idx)):
            codes = members[r]
            offer = bundle_price(p[codes].tolist(), c[codes].tolist(), discount=discount,
                                 margin_floor=margin_floor)
            eff = bundle_effect(offer, p[codes].tolist(), c[codes].tolist(),
                                single[codes].tolist(), whole[r], anyn[r], n_orders,
                                take_rate=take_rate)
            rows.append((codes, k, int(whole[r]), whole[r] / anyn[r], whole[r] / n_orders,
                         offer.list_price, offer.price, offer.discount,
                         offer.margin, eff.completed_orders, eff.revenue,
                         eff.gross_profit, eff.aov))
    cols = ["codes", "size", "orders_together", "co_purchase_rate", "support",
            "list_price", "bundle_price", "discount", "bundle_margin",
            "completing_orders", "expected_revenue", "expected_gross_profit",
            "expected_aov_change"]
    t = pd.DataFrame(rows, columns=cols)
    has_gp = t["expected_gross_profit"].notna().any()
    key = "expected_gross_profit" if has_gp else "expected_revenue"
    t = t.sort_values([key, "orders_together"], ascending=False, kind="stable")
    if top is not None:
        t = t.head(top)
    # what the items sold together, for the bundles kept only (one pass over their orders)
    t.insert(5, "revenue_together", m.value_in(list(t["codes"]), list(t["codes"])))
    t.insert(0, "bundle", [tuple(sorted(m.labels[x].tolist(), key=str)) for x in t["codes"]])
    names = item_names(eng, item, {x for b in t["bundle"] for x in b})
    if names:
        t.insert(1, "names", [tuple(names.get(x, x) for x in b) for b in t["bundle"]])
    t = t.drop(columns="codes").reset_index(drop=True)
    notes = [f"assumed: {take_rate:.0%} of the orders holding some of a bundle's items "
             "complete it at the bundle price; orders holding all of them get the "
             "discount too; no order is gained or lost",
             f"list price: one unit of each item at its average realised price (an order "
             f"with several units of each counts as one bundle); target discount "
             f"{discount:.0%}"
             + (f", capped to keep a {margin_floor:.0%} margin where costs are known"
                if margin_floor is not None else "")]
    if not costed.any() and margin is None:
        notes.append("no costs in the data and no --margin: gross profit is not known, "
                     "bundles are ranked by expected revenue")
    elif has_gp and t["expected_gross_profit"].isna().any():
        notes.append("bundles with an item without a cost have no gross profit and rank "
                     "last: pass --margin to cost those items")
    elif margin is not None and not costed.all():
        notes.append(f"items without a cost are costed at {1 - margin:.0%} of their price "
                     f"(margin {margin:.0%})")
    return Result("bundles", {"bundles": t}, notes=notes, meta={
        "definition": sel.definition.name, "item": item, "currency": currency,
        "orders": n_orders, "min_count": sets.min_count, "take_rate": take_rate,
        "discount": discount, "margin_floor": margin_floor, "margin": margin,
        "ranked_by": key, "engine": getattr(eng, "name", sel.engine_name),
        "selection": sel.describe()})


