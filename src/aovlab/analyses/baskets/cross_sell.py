"""Cross-sell, upsell and add-ons: the lists a storefront shows, and how well they would
have done.

* ``cross_sell``: per item, the items most often bought with it ("frequently bought
  together"), ranked by confidence P(B | A), kept where the lift is above 1 (bought
  together more often than chance) and at least ``min_together`` orders hold both.
* ``upsell``: per product, products of the same category at a higher price (a step
  between ``min_step`` and ``max_step`` above it), the most bought first.
* ``add_ons``: low-price items (at most ``addon_share`` of the AOV) bought with other
  items most often: what the articles advise for the checkout page.
* ``evaluation``: each customer's last basket is held out, the lists are built from
  every other basket, and for every item A of a held-out basket the list of A is shown:
  a hit when it names another item of that basket (hit rate@k), and the share of those
  other items' value it names (revenue-weighted); beside it a popularity baseline (the k
  best sellers other than A).
"""

from __future__ import annotations

from typing import Any, Unpack

import numpy as np
import pandas as pd
import pyarrow as pa

from ...errors import DefinitionError
from ...metrics.baskets import product_categories
from ...query import Selection, SelectionOptions
from ...stats import itemsets as mine
from ..result import Result
from .bundles import item_prices
from .labels import check_item, item_names, selected_lines
from .matrix import BasketMatrix, from_lines


def fbt_pairs(m: BasketMatrix, min_together: int, k: int,
              min_lift: float | None = 1.0) -> pd.DataFrame:
    """The top ``k`` partners of every item (codes): ``a``, ``b``, ``rank`` (1 = best),
    ``together``, ``confidence``, ``lift``."""
    sets = mine.frequent_itemsets(m.indptr, m.indices, m.n_items, min_together, max_len=2)
    single = np.zeros(m.n_items)
    i1, m1 = sets.members(1)
    single[m1[:, 0]] = sets.count[i1]
    _, pairs = sets.members(2)
    i2, _ = sets.members(2)
    nab = sets.count[i2]
    a = np.concatenate((pairs[:, 0], pairs[:, 1])) if len(pairs) else np.empty(0, int)
    b = np.concatenate((pairs[:, 1], pairs[:, 0])) if len(pairs) else np.empty(0, int)
    n = np.concatenate((nab, nab))
    conf = n / single[a]
    lift = conf / (single[b] / m.n_baskets)
    if min_lift is not None:
        ok = lift > min_lift
        a, b, n, conf, lift = a[ok], b[ok], n[ok], conf[ok], lift[ok]
    order = _best_first(a, n.astype(np.int64), single[b].astype(np.int64), b, m)
    a, b, n, conf, lift = a[order], b[order], n[order], conf[order], lift[order]
    first = np.flatnonzero(np.concatenate(([True], a[1:] != a[:-1]))) if len(a) else a
    rank = np.arange(len(a)) - np.repeat(first, np.diff(np.append(first, len(a)))) + 1
    keep = rank <= k
    return pd.DataFrame({"a": a[keep], "b": b[keep], "rank": rank[keep],
                         "together": n[keep], "confidence": conf[keep],
                         "lift": lift[keep]})


def _best_first(a: np.ndarray, nab: np.ndarray, nb: np.ndarray, b: np.ndarray,
                m: BasketMatrix) -> np.ndarray:
    """Pairs ordered by item ``a``, then by confidence (within ``a``, the count together:
    n_a is fixed), ties to the higher lift (the rarer partner), then the lower code.
    One sort of a packed integer key where it fits in 63 bits (lexsort of four keys is
    ten times slower on millions of pairs), else four stable sorts."""
    n, k = int(m.n_baskets) + 1, int(m.n_items)
    if len(a) and k * n * n * k < 2 ** 62:
        key = ((a * n + (n - 1 - nab)) * n + nb) * k + b
        return np.argsort(key, kind="stable")
    order = np.argsort(b, kind="stable")
    for col in (nb, -nab, a):
        order = order[np.argsort(col[order], kind="stable")]
    return order


def _popular(m: BasketMatrix) -> np.ndarray:
    counts = np.bincount(m.indices, minlength=m.n_items)
    return np.lexsort((np.arange(m.n_items), -counts))  # codes, best seller first


def evaluate(lines: pa.Table, *, k: int, min_together: int,
             min_lift: float | None) -> pd.DataFrame:
    """Hit rate@k and revenue-weighted hit rate of the cross-sell lists and of the
    popularity baseline on each customer's held-out last basket (module docstring)."""
    df = lines.select(["source", "order_id", "customer_id", "order_date", "item",
                       "value"]).to_pandas()
    df = df[df["customer_id"].notna()]
    if df.empty:
        return pd.DataFrame()
    orders = df.groupby(["source", "order_id"], sort=False).agg(
        who=("customer_id", "first"), day=("order_date", "first")).reset_index()
    orders = orders.sort_values(["source", "who", "day", "order_id"], kind="stable")
    last = ~orders.duplicated(["source", "who"], keep="last")
    repeat = orders.duplicated(["source", "who"], keep=False)
    held = orders[last & repeat][["source", "order_id"]]
    test = df.merge(held, on=["source", "order_id"])
    train_keys = pd.MultiIndex.from_frame(held)
    in_test = pd.MultiIndex.from_frame(lines.select(["source", "order_id"]).to_pandas()
                                       ).isin(train_keys)
    train = from_lines(lines.filter(pa.array(~in_test)))
    code = {v: i for i, v in enumerate(train.labels.tolist())}
    test = test.assign(code=test["item"].map(code))
    test = test[test["code"].notna()].astype({"code": "int64"})
    sizes = test.groupby(["source", "order_id"])["code"].transform("size")
    test = test[sizes >= 2]
    if test.empty:
        return pd.DataFrame()
    # every (basket, A, C) with C another item of A's basket
    t = test[["source", "order_id", "code", "value"]]
    trip = t.merge(t, on=["source", "order_id"], suffixes=("_a", "_c"))
    trip = trip[trip["code_a"] != trip["code_c"]]
    lists = fbt_pairs(train, min_together, k, min_lift)
    n = np.int64(train.n_items)
    rec = set((lists["a"].to_numpy(np.int64) * n + lists["b"].to_numpy(np.int64)).tolist())
    key = trip["code_a"].to_numpy(np.int64) * n + trip["code_c"].to_numpy(np.int64)
    trip["hit_cs"] = np.isin(key, np.fromiter(rec, np.int64, len(rec)))
    pop_rank = np.empty(train.n_items, np.int64)
    pop_rank[_popular(train)] = np.arange(train.n_items)
    ra, rc = pop_rank[trip["code_a"].to_numpy()], pop_rank[trip["code_c"].to_numpy()]
    # the k best sellers other than A: A inside the top k pushes the (k+1)-th in
    trip["hit_pop"] = (rc < k) | ((rc == k) & (ra < k))
    has_list = set(lists["a"].tolist())
    trip["got_cs"] = trip["value_c"].where(trip["hit_cs"], 0.0)
    trip["got_pop"] = trip["value_c"].where(trip["hit_pop"], 0.0)
    per = trip.groupby(["source", "order_id", "code_a"], sort=False).agg(
        hit_cs=("hit_cs", "any"), hit_pop=("hit_pop", "any"), rest=("value_c", "sum"),
        got_cs=("got_cs", "sum"), got_pop=("got_pop", "sum"))
    per = per.reset_index()
    covered = per["code_a"].isin(has_list).mean()
    n_baskets = int(per[["source", "order_id"]].drop_duplicates().shape[0])
    out = []
    for method, hit, got in (("cross-sell", "hit_cs", "got_cs"),
                             ("popularity", "hit_pop", "got_pop")):
        out.append({"method": method, "k": k, "baskets": n_baskets,
                    "cases": len(per), "hit_rate": float(per[hit].mean()),
                    "revenue_hit_rate": float(per[got].sum() / per["rest"].sum())
                    if per["rest"].sum() else np.nan,
                    "coverage": float(covered) if method == "cross-sell" else 1.0})
    return pd.DataFrame(out)


def cross_sell(source: Any, selection: Selection | None = None, /, *,
               item: str = "product", k: int = 5, min_together: int = 3,
               min_lift: float | None = 1.0, min_step: float = 0.1, max_step: float = 1.0,
               addon_share: float = 0.1, evaluation: bool = True,
               **options: Unpack[SelectionOptions]) -> Result:
    """Frequently-bought-together lists per item, upsell ladders, low-price add-ons and an
    offline evaluation of the lists (module docstring). Tables: ``cross_sell`` (main),
    ``upsell``, ``add_ons``, ``evaluation``."""
    from ...engines import connect

    check_item(item)
    for name, v in (("k", k), ("min_together", min_together)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise DefinitionError(f"{name} {v!r} is not a whole number ≥ 1",
                                  fix=f"pass e.g. {name}=5")
    if not (0 <= min_step < max_step):
        raise DefinitionError(f"price steps {min_step!r}..{max_step!r} are not a range",
                              fix="pass e.g. min_step=0.1, max_step=1.0 (10% to 100% more)")
    sel = Selection.of(selection, **options).with_(by=(), period=None)
    eng = connect(source, sel.engine)
    lines, currency = selected_lines(
        eng, sel, item, "cross-sell", "prices across them are meaningless", customer=True)
    m = from_lines(lines)
    prices = item_prices(lines)
    lists = fbt_pairs(m, min_together, k, min_lift)
    labels = m.labels
    cs = pd.DataFrame({"item": labels[lists["a"]], "rank": lists["rank"],
                       "recommend": labels[lists["b"]], "orders_together":
                       lists["together"].round().astype("int64"),
                       "confidence": lists["confidence"], "lift": lists["lift"]})
    cs["recommend_price"] = cs["recommend"].map(prices["price"])
    counts = pd.Series(np.bincount(m.indices, minlength=m.n_items), index=labels)
    aov = _aov(lines)
    upsell = _upsell(eng, item, prices, counts, k, min_step, max_step)
    addons = _addons(m, prices, aov, addon_share)
    names = item_names(eng, item, set(labels.tolist()))
    if names:
        cs.insert(1, "name", cs["item"].map(names))
        cs.insert(cs.columns.get_loc("recommend") + 1, "recommend_name",
                  cs["recommend"].map(names))
        for t in (upsell, addons):
            if len(t):
                t.insert(1, "name", t["item"].map(names))
        if len(upsell):
            upsell.insert(upsell.columns.get_loc("upgrade") + 1, "upgrade_name",
                          upsell["upgrade"].map(names))
    ev = (evaluate(lines, k=k, min_together=min_together, min_lift=min_lift)
          if evaluation else pd.DataFrame())
    notes = [f"cross-sell: partners in {min_together} or more orders with the item, lift "
             f"above {min_lift if min_lift is not None else '-∞'}, best {k} by confidence"]
    if item != "product":
        notes.append("upsell ladders are per product: run with item=product")
    elif upsell.empty:
        notes.append("no upsell ladders: they need product categories (none in the data) "
                     "and a dearer product of the same category")
    if len(ev):
        cs_row, pop_row = ev.iloc[0], ev.iloc[1]
        notes.append(f"held-out last baskets of {cs_row['baskets']:,} repeat customers: "
                     f"hit rate@{k} {cs_row['hit_rate']:.1%} for the cross-sell lists vs "
                     f"{pop_row['hit_rate']:.1%} for the {k} best sellers")
    elif evaluation:
        notes.append("no evaluation: it needs repeat customers with baskets of two items "
                     "or more")
    return Result("cross_sell", {"cross_sell": cs, "upsell": upsell, "add_ons": addons,
                                 "evaluation": ev}, notes=notes, meta={
        "definition": sel.definition.name, "item": item, "currency": currency,
        "orders": m.n_baskets, "k": k, "min_together": min_together, "aov": aov,
        "engine": getattr(eng, "name", sel.engine_name), "selection": sel.describe()})


def _aov(lines: pa.Table) -> float:
    o = lines.select(["source", "order_id", "order_value"]).group_by(
        ["source", "order_id"]).aggregate([("order_value", "max")])
    v = o.column("order_value_max").to_numpy()
    return float(v.mean()) if len(v) else float("nan")


def _upsell(eng, item: str, prices: pd.DataFrame, counts: pd.Series, k: int,
            min_step: float, max_step: float) -> pd.DataFrame:
    cols = ["item", "category", "price", "rank", "upgrade", "upgrade_price", "price_step",
            "upgrade_orders"]
    if item != "product":
        return pd.DataFrame(columns=cols)
    cat = eng.execute(product_categories(eng)).dropna()
    p = prices[["price"]].join(counts.rename("orders")).reset_index(names="item")
    p = p.merge(cat.rename(columns={"product_id": "item"}), on="item")
    if p.empty:
        return pd.DataFrame(columns=cols)
    j = p.merge(p, on="category", suffixes=("", "_up"))
    step = j["price_up"] / j["price"] - 1
    j = j[(j["item"] != j["item_up"]) & (step >= min_step) & (step <= max_step)].assign(
        price_step=step)
    j = j.sort_values(["item", "orders_up", "price_step", "item_up"],
                      ascending=[True, False, True, True], kind="stable")
    j["rank"] = j.groupby("item").cumcount() + 1
    j = j[j["rank"] <= k]
    return j.rename(columns={"item_up": "upgrade", "price_up": "upgrade_price",
                             "orders_up": "upgrade_orders"})[cols].reset_index(drop=True)


def _addons(m: BasketMatrix, prices: pd.DataFrame, aov: float,
            share: float) -> pd.DataFrame:
    counts = np.bincount(m.indices, minlength=m.n_items)
    with_others = np.bincount(m.indices, weights=(np.diff(m.indptr) > 1)[m.rows],
                              minlength=m.n_items)
    t = pd.DataFrame({"item": m.labels, "orders": counts,
                      "attach_rate": counts / m.n_baskets,
                      "with_other_items": with_others / np.maximum(counts, 1)})
    t["price"] = t["item"].map(prices["price"])
    t["share_of_aov"] = t["price"] / aov
    t = t[(t["share_of_aov"] <= share) & (t["price"] > 0)]
    t = t.sort_values(["attach_rate", "item"], ascending=[False, True], kind="stable")
    return t[["item", "price", "share_of_aov", "orders", "attach_rate",
              "with_other_items"]].head(50).reset_index(drop=True)
