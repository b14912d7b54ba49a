"""Frequent itemsets and association rules, from any (basket, item) table or from a
workspace's orders.

``frequent_itemsets`` and ``association_rules`` take a long table of (basket, item) rows
— a pandas or polars frame or an Arrow table — so transactions from anywhere can be mined;
``baskets`` mines the product lines of a selection's counted orders and ranks what it finds
by money. The mining itself is :mod:`aovlab.stats.itemsets` (depth-first pattern growth on
a sparse basket matrix).
"""

from __future__ import annotations

from typing import Any, Unpack

import numpy as np
import pandas as pd

from ...errors import DefinitionError
from ...metrics.baskets import pair_counts
from ...query import Selection, SelectionOptions
from ...stats import itemsets as mine
from ..result import Result
from .labels import PLURAL, check_item, item_names, no_lines, selected_lines
from .matrix import BasketMatrix, from_lines, from_pairs

#: Mining stops past this many itemsets or rules: a support too low for the data would
#: otherwise fill the memory. Raise it with ``max_itemsets`` / ``max_rules``.
MAX_ITEMSETS = 2_000_000
MAX_RULES = 2_000_000


def _threshold(min_support: float | int, n: float) -> int:
    try:
        return mine.min_count(min_support, n)
    except ValueError as e:
        raise DefinitionError(str(e), fix="pass a fraction such as 0.01 (1% of the "
                                          "baskets) or a whole number of baskets") from None


def _check_len(name: str, v: int | None) -> None:
    if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
        raise DefinitionError(f"{name} {v!r} is not a whole number ≥ 1",
                              fix=f"pass e.g. {name}=3, or leave it out for no limit")


def mine_matrix(m: BasketMatrix, min_support: float | int, *, max_len: int | None = None,
                max_itemsets: int | None = MAX_ITEMSETS) -> mine.Itemsets:
    """The frequent itemsets of a basket matrix, with a clear error when there are too
    many for the support asked."""
    _check_len("max_len", max_len)
    mc = _threshold(min_support, m.n_baskets)
    try:
        return mine.frequent_itemsets(m.indptr, m.indices, m.n_items, mc, max_len=max_len,
                                      max_itemsets=max_itemsets)
    except OverflowError:
        raise DefinitionError(
            f"more than {max_itemsets:,} itemsets are in {mc:,} or more of the "
            f"{m.n_baskets:,} baskets", fix="raise the minimum support, cap the itemset "
            "size (max_len / --max-size), or raise max_itemsets") from None


def _label_rows(labels: np.ndarray, rows: np.ndarray) -> list[tuple]:
    """Each row of item codes as a tuple of labels, in label order (readable, stable)."""
    return [tuple(sorted(labels[r].tolist(), key=str)) for r in rows]


def itemset_frame(sets: mine.Itemsets, labels: np.ndarray) -> pd.DataFrame:
    """One row per itemset: ``itemset`` (tuple of items), ``size``, ``baskets``,
    ``support``; by support, then size, then items."""
    parts = []
    for k in range(1, int(sets.size.max(initial=0)) + 1):
        idx, members = sets.members(k)
        if len(idx):
            parts.append(pd.DataFrame({"itemset": _label_rows(labels, members), "size": k,
                                       "baskets": sets.count[idx],
                                       "support": sets.support[idx]}))
    if not parts:
        return pd.DataFrame({"itemset": pd.Series([], dtype=object), "size": [],
                             "baskets": [], "support": []})
    out = pd.concat(parts, ignore_index=True)
    out["baskets"] = out["baskets"].round().astype("int64")
    out["_key"] = out["itemset"].map(lambda t: "\x1f".join(map(str, t)))
    out = out.sort_values(["support", "size", "_key"], ascending=[False, True, True],
                          kind="stable").drop(columns="_key")
    return out.reset_index(drop=True)


def rules_frame(rules: mine.Rules, labels: np.ndarray) -> pd.DataFrame:
    """One row per rule: ``antecedent``, ``consequent`` (tuples), the baskets of the
    rule, then every metric of :data:`aovlab.stats.itemsets.RULE_METRICS`; by lift, then
    confidence, then support."""
    out = pd.DataFrame({"antecedent": _label_rows(labels, rules.antecedent),
                        "consequent": _label_rows(labels, rules.consequent),
                        "baskets": np.round(rules.count).astype("int64"),
                        **{k: rules.metrics[k] for k in mine.RULE_METRICS}})
    return out.sort_values(["lift", "confidence", "support"], ascending=False,
                           kind="stable").reset_index(drop=True)


def frequent_itemsets(pairs: Any, min_support: float | int = 0.01, *,
                      basket: str | None = None, item: str | None = None,
                      max_len: int | None = None,
                      max_itemsets: int | None = MAX_ITEMSETS) -> pd.DataFrame:
    """Every itemset in at least ``min_support`` of the baskets (a fraction, or a whole
    number of baskets), of at most ``max_len`` items, from a long table of (basket, item)
    rows (pandas, polars, Arrow; a two-column table needs no names).

    Columns: ``itemset`` (a tuple of items), ``size``, ``baskets`` (how many hold it) and
    ``support`` (that share of the baskets), as mlxtend's ``fpgrowth`` finds them."""
    m = from_pairs(pairs, basket, item)
    return itemset_frame(mine_matrix(m, min_support, max_len=max_len,
                                     max_itemsets=max_itemsets), m.labels)


def association_rules(pairs: Any, min_support: float | int = 0.01,
                      min_confidence: float = 0.5, *, basket: str | None = None,
                      item: str | None = None, min_lift: float | None = None,
                      max_len: int | None = None, max_consequent: int | None = None,
                      max_itemsets: int | None = MAX_ITEMSETS,
                      max_rules: int | None = MAX_RULES) -> pd.DataFrame:
    """The association rules A → C of the frequent itemsets of a (basket, item) table, with
    confidence ≥ ``min_confidence`` (and lift ≥ ``min_lift``): ``antecedent``,
    ``consequent``, ``baskets`` (holding both), ``antecedent_support``,
    ``consequent_support``, ``support``, ``confidence``, ``lift``, ``leverage``,
    ``conviction``, ``zhangs_metric``, ``jaccard``.

    ``max_consequent=None`` splits every itemset every way (mlxtend's
    ``association_rules``); ``max_consequent=1`` keeps one item on the right, as arules'
    ``apriori`` does."""
    m = from_pairs(pairs, basket, item)
    sets = mine_matrix(m, min_support, max_len=max_len, max_itemsets=max_itemsets)
    return rules_frame(_rules(sets, min_confidence, min_lift, max_consequent, max_rules),
                       m.labels)


def _rules(sets: mine.Itemsets, min_confidence: float, min_lift: float | None,
           max_consequent: int | None, max_rules: int | None) -> mine.Rules:
    if not (0 <= min_confidence <= 1):
        raise DefinitionError(f"min_confidence {min_confidence!r} is not a share in [0, 1]",
                              fix="pass e.g. 0.5")
    _check_len("max_consequent", max_consequent)
    try:
        return mine.association_rules(sets, min_confidence=min_confidence,
                                      min_lift=min_lift, max_consequent=max_consequent,
                                      max_rules=max_rules)
    except OverflowError:
        raise DefinitionError(f"more than {max_rules:,} rules meet the thresholds",
                              fix="raise min_confidence or min_support, or pass "
                                  "min_lift / max_consequent") from None


def baskets(source: Any, selection: Selection | None = None, /, *,
            min_support: float | int = 0.01, min_confidence: float = 0.3,
            item: str = "product", max_size: int | None = None,
            min_lift: float | None = 1.0, max_consequent: int | None = 1,
            method: str = "memory", top: int | None = None,
            **options: Unpack[SelectionOptions]) -> Result:
    """Frequent itemsets and association rules over the product lines of the selection's
    counted orders, ranked by money: each rule's ``revenue`` is what its consequent sold
    in the baskets that hold the whole rule, ``value_per_basket`` what a basket with the
    antecedent spends on the consequent on average (confidence × the consequent's mean
    value there).

    ``item``: product, category or name. ``min_support``: a fraction of the baskets or a
    whole number of them. ``method="memory"`` mines itemsets of any size on a sparse
    matrix; ``"engine"`` counts item pairs as one SQL aggregate in the engine (DuckDB or
    Spark) and never brings the lines out — for stores too big for the matrix.

    Tables: ``rules`` (main), ``itemsets``, ``items`` (per item: baskets, support,
    revenue)."""
    from ...engines import connect

    check_item(item)
    if method not in ("memory", "engine"):
        raise DefinitionError(f"method {method!r} is not offered", fix="use memory or engine")
    _check_len("max_size", max_size)
    sel = Selection.of(selection, **options).with_(by=(), period=None)
    eng = connect(source, sel.engine)
    notes = []
    if method == "engine":
        if not (0 <= min_confidence <= 1):
            raise DefinitionError(f"min_confidence {min_confidence!r} is not a share in "
                                  "[0, 1]", fix="pass e.g. 0.5")
        if max_size is not None and max_size > 2:
            notes.append(f"method engine mines pairs: max_size {max_size} is read as 2")
        return _engine_pairs(eng, sel, item, min_support, min_confidence, min_lift, top,
                             notes)
    lines, currency = selected_lines(
        eng, sel, item, "mining", "basket revenue across them is meaningless")
    m = from_lines(lines)
    sets = mine_matrix(m, min_support, max_len=max_size)
    rules = _rules(sets, min_confidence, min_lift, max_consequent, MAX_RULES)
    rf = rules_frame(rules, m.labels)
    # money, computed in the frame's order on the codes; the top rules by money are kept
    order = np.lexsort((-rules.metrics["support"], -rules.metrics["confidence"],
                        -rules.metrics["lift"]))
    whole = [np.concatenate((rules.antecedent[i], rules.consequent[i])) for i in order]
    rf["revenue"] = m.value_in(whole, [rules.consequent[i] for i in order])
    rf["value_per_basket"] = rf["revenue"] / rf["baskets"] * rf["confidence"]
    rf = rf.sort_values(["revenue", "lift"], ascending=False, kind="stable").reset_index(
        drop=True)
    if top is not None:
        rf = rf.head(top)
    items = _items_table(m)
    its = itemset_frame(sets, m.labels)
    names = item_names(eng, item, m.labels.tolist())
    if names:
        def named(col: pd.Series) -> list[tuple]:
            return [tuple(names.get(x, x) for x in t) for t in col]

        rf.insert(2, "antecedent_names", named(rf["antecedent"]))
        rf.insert(3, "consequent_names", named(rf["consequent"]))
        its.insert(1, "names", named(its["itemset"]))
        items.insert(1, "name", items["item"].map(names))
    notes.append(f"{m.n_baskets:,} baskets (orders with product lines), {m.n_items:,} "
                 f"{PLURAL[item]}; support counted in {sets.min_count:,} or more baskets")
    notes += m.notes()
    return Result("baskets", {"rules": rf, "itemsets": its, "items": items}, notes=notes,
                  meta={"definition": sel.definition.name, "item": item,
                        "currency": currency, "baskets": m.n_baskets,
                        "items": m.n_items, "min_support": min_support,
                        "min_count": sets.min_count, "min_confidence": min_confidence,
                        "method": method, "engine": getattr(eng, "name", sel.engine_name),
                        "selection": sel.describe()})


def _items_table(m: BasketMatrix) -> pd.DataFrame:
    n = np.bincount(m.indices, minlength=m.n_items)
    rev = np.bincount(m.indices, weights=m.values, minlength=m.n_items)
    t = pd.DataFrame({"item": m.labels, "baskets": n, "support": n / m.n_baskets,
                      "revenue": rev})
    return t.sort_values(["revenue", "baskets"], ascending=False, kind="stable").reset_index(
        drop=True)


def _engine_pairs(eng, sel: Selection, item: str, min_support: float | int,
                  min_confidence: float, min_lift: float | None, top: int | None,
                  notes: list[str]) -> Result:
    from ...metrics.baskets import item_counts

    counts = eng.execute(item_counts(eng, sel, item))
    total = counts["item"].isna()
    n = int(counts.loc[total, "baskets"].sum())
    if n == 0:
        raise no_lines(eng, item, "mining")
    mc = _threshold(min_support, n)
    per = counts[~total]
    pairs = eng.execute(pair_counts(eng, sel, item, min_count=mc))
    per = per[per["baskets"] >= mc]
    cnt = pd.Series(per["baskets"].to_numpy(), index=per["item"])
    a, b, nab = pairs["a"], pairs["b"], pairs["baskets"]
    df = pd.DataFrame({"a": pd.concat([a, b], ignore_index=True),
                       "c": pd.concat([b, a], ignore_index=True),
                       "nac": pd.concat([nab, nab], ignore_index=True)})
    df["na"] = cnt.reindex(df["a"]).to_numpy()
    df["nc"] = cnt.reindex(df["c"]).to_numpy()
    met = mine.rule_metrics(df["na"].to_numpy(float), df["nc"].to_numpy(float),
                            df["nac"].to_numpy(float), float(n))
    rf = pd.DataFrame({"antecedent": [(x,) for x in df["a"]],
                       "consequent": [(x,) for x in df["c"]],
                       "baskets": df["nac"].astype("int64"), **met})
    keep = rf["confidence"] >= min_confidence
    if min_lift is not None:
        keep &= rf["lift"] >= min_lift
    rf["_key"] = [f"{a}\x1f{c}" for a, c in zip(df["a"], df["c"], strict=True)]
    rf = rf[keep].sort_values(["lift", "confidence", "support", "_key"],
                              ascending=[False, False, False, True], kind="stable")
    rf = rf.drop(columns="_key").reset_index(drop=True)
    if top is not None:
        rf = rf.head(top)
    its = pd.concat([
        pd.DataFrame({"itemset": [(x,) for x in per["item"]], "size": 1,
                      "baskets": per["baskets"].astype("int64"), "support": per["baskets"] / n}),
        pd.DataFrame({"itemset": [tuple(sorted((a, b), key=str)) for a, b in
                                  zip(pairs["a"], pairs["b"], strict=True)], "size": 2,
                      "baskets": pairs["baskets"].astype("int64"),
                      "support": pairs["baskets"] / n})], ignore_index=True)
    its["_key"] = its["itemset"].map(lambda t: "\x1f".join(map(str, t)))
    its = its.sort_values(["support", "size", "_key"], ascending=[False, True, True],
                          kind="stable").drop(columns="_key")
    notes.append(f"{n:,} baskets; item pairs counted in the engine (method engine: "
                 f"itemsets of one and two items), in {mc:,} or more baskets")
    return Result("baskets", {"rules": rf, "itemsets": its.reset_index(drop=True)},
                  notes=notes, meta={"definition": sel.definition.name, "item": item,
                                     "baskets": n, "min_support": min_support,
                                     "min_count": mc, "min_confidence": min_confidence,
                                     "method": "engine",
                                     "engine": getattr(eng, "name", sel.engine_name),
                                     "selection": sel.describe()})
