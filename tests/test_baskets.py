"""Frequent itemsets and association rules against published results: mlxtend's documented
toy example, arules on Groceries, mlxtend's fpgrowth on UCI Online Retail; a brute-force
property test; the workspace analysis on DuckDB and Spark."""

from __future__ import annotations

import io
import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import engine_for, shared_file

import aovlab
from aovlab import AovlabError
from aovlab.importers import bundled_online_retail
from aovlab.stats import itemsets as mine

# mlxtend's user guide (frequent_patterns/apriori and association_rules): five baskets
TOY = [["Milk", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"],
       ["Dill", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"],
       ["Milk", "Apple", "Kidney Beans", "Eggs"],
       ["Milk", "Unicorn", "Corn", "Kidney Beans", "Yogurt"],
       ["Corn", "Onion", "Onion", "Kidney Beans", "Ice cream", "Eggs"]]


def _long(baskets: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame([(i, x) for i, b in enumerate(baskets) for x in b],
                        columns=["basket", "item"])


def _s(*items: str) -> tuple:
    return tuple(sorted(items))


def test_mlxtend_toy_itemsets():
    f = aovlab.baskets.frequent_itemsets(_long(TOY), min_support=0.6)
    got = dict(zip(f["itemset"], f["support"], strict=True))
    assert got == pytest.approx({
        _s("Eggs"): .8, _s("Kidney Beans"): 1.0, _s("Milk"): .6, _s("Onion"): .6,
        _s("Yogurt"): .6, _s("Eggs", "Kidney Beans"): .8, _s("Eggs", "Onion"): .6,
        _s("Kidney Beans", "Milk"): .6, _s("Kidney Beans", "Onion"): .6,
        _s("Kidney Beans", "Yogurt"): .6, _s("Eggs", "Kidney Beans", "Onion"): .6})
    assert f["support"].is_monotonic_decreasing


def test_mlxtend_toy_rules_table():
    r = aovlab.baskets.association_rules(_long(TOY), min_support=0.6, min_confidence=0.7)
    got = {(a, c): row for a, c, row in zip(r["antecedent"], r["consequent"],
                                            r.to_dict("records"), strict=True)}
    # (antecedent, consequent): support, confidence, lift, leverage, conviction, zhang,
    # jaccard — the rules table of mlxtend's association_rules example
    inf = math.inf
    published = {
        (_s("Eggs"), _s("Kidney Beans")): (.8, 1.0, 1.0, 0.0, inf, 0.0, .8),
        (_s("Kidney Beans"), _s("Eggs")): (.8, .8, 1.0, 0.0, 1.0, 0.0, .8),
        (_s("Onion"), _s("Eggs")): (.6, 1.0, 1.25, .12, inf, .5, .75),
        (_s("Eggs"), _s("Onion")): (.6, .75, 1.25, .12, 1.6, 1.0, .75),
        (_s("Milk"), _s("Kidney Beans")): (.6, 1.0, 1.0, 0.0, inf, 0.0, .6),
        (_s("Onion"), _s("Kidney Beans")): (.6, 1.0, 1.0, 0.0, inf, 0.0, .6),
        (_s("Yogurt"), _s("Kidney Beans")): (.6, 1.0, 1.0, 0.0, inf, 0.0, .6),
        (_s("Onion", "Eggs"), _s("Kidney Beans")): (.6, 1.0, 1.0, 0.0, inf, 0.0, .6),
        (_s("Onion", "Kidney Beans"), _s("Eggs")): (.6, 1.0, 1.25, .12, inf, .5, .75),
        (_s("Kidney Beans", "Eggs"), _s("Onion")): (.6, .75, 1.25, .12, 1.6, 1.0, .75),
        (_s("Onion"), _s("Kidney Beans", "Eggs")): (.6, 1.0, 1.25, .12, inf, .5, .75),
        (_s("Eggs"), _s("Onion", "Kidney Beans")): (.6, .75, 1.25, .12, 1.6, 1.0, .75),
    }
    assert set(got) == set(published)
    cols = ("support", "confidence", "lift", "leverage", "conviction", "zhangs_metric",
            "jaccard")
    for key, want in published.items():
        assert tuple(got[key][c] for c in cols) == pytest.approx(want, abs=1e-12), key
    # one item on the right only, as arules' apriori
    one = aovlab.baskets.association_rules(_long(TOY), min_support=0.6, min_confidence=0.7,
                                           max_consequent=1)
    assert len(one) == 10 and (one["consequent"].map(len) == 1).all()


def _groceries() -> pd.DataFrame:
    path = shared_file("groceries", "groceries.csv")
    rows = [line.rstrip("\n").split(",") for line in path.open(encoding="utf-8")]
    assert len(rows) == 9835
    return _long(rows)


def test_arules_groceries():
    """arules: apriori(Groceries, parameter = list(supp = 0.001, conf = 0.8)) -> 410 rules,
    29/229/140/12 of length 3/4/5/6; highest lift {liquor, red/blush wine} => {bottled
    beer}, 11.23527."""
    pairs = _groceries()
    r = aovlab.baskets.association_rules(pairs, min_support=0.001, min_confidence=0.8,
                                         max_consequent=1)
    assert len(r) == 410
    lengths = (r["antecedent"].map(len) + 1).value_counts().to_dict()
    assert lengths == {3: 29, 4: 229, 5: 140, 6: 12}
    top = r.iloc[0]
    assert top["antecedent"] == ("liquor", "red/blush wine")
    assert top["consequent"] == ("bottled beer",)
    assert top["lift"] == pytest.approx(11.23527, abs=5e-6)
    # arules' summary of the same run: 13,492 frequent itemsets (eclat, supp 0.001)
    assert len(aovlab.baskets.frequent_itemsets(pairs, min_support=0.001)) == 13_492


@pytest.fixture(scope="module")
def uci():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_files(ws, bundled_online_retail(), "online_retail")
    yield ws
    ws.close()


@pytest.mark.parametrize("support, sizes", [
    # mlxtend 0.25 fpgrowth on the same 19,865 x 3,914 basket matrix (product lines bought
    # in the placed invoices): itemsets by size
    (0.01, [821, 874, 248, 24, 1]),
    (0.005, [1538, 7831, 4806, 1858, 398, 29]),
])
def test_online_retail_matches_mlxtend_fpgrowth(uci, support, sizes):
    r = aovlab.baskets(uci, min_support=support, min_confidence=0.5)
    assert r.meta["baskets"] == 19_865 and r.meta["items"] == 3_914
    its = r.tables["itemsets"]
    assert its["size"].value_counts().sort_index().tolist() == sizes


def _brute(baskets: list[set[int]], n_items: int, mc: int) -> dict[frozenset, int]:
    out = {}
    for k in range(1, n_items + 1):
        for c in itertools.combinations(range(n_items), k):
            n = sum(1 for b in baskets if set(c) <= b)
            if n >= mc:
                out[frozenset(c)] = n
    return out


@settings(deadline=None, max_examples=150)
@given(st.lists(st.sets(st.integers(0, 6), max_size=7), min_size=1, max_size=30),
       st.integers(1, 5), st.sampled_from([0.0, 4.0, 1e9]))
def test_miner_equals_brute_force(baskets, mc, dense):
    old = mine._DENSE
    mine._DENSE = dense  # both counting paths: sorting and bincount
    try:
        indptr = np.concatenate(([0], np.cumsum([len(b) for b in baskets])))
        indices = np.array([x for b in baskets for x in sorted(b)], dtype=np.int64)
        sets = mine.frequent_itemsets(indptr, indices, 7, mc)
    finally:
        mine._DENSE = old
    got = {}
    for k in range(1, 8):
        idx, members = sets.members(k)
        for i, row in zip(idx, members, strict=True):
            got[frozenset(row.tolist())] = int(sets.count[i])
    brute = _brute(baskets, 7, mc)
    assert got == brute
    # items and pairs only: all pairs counted at once, densely or by sorting
    old_pairs = mine._DENSE_PAIRS
    mine._DENSE_PAIRS = 0 if dense == 0.0 else old_pairs
    try:
        two = mine.frequent_itemsets(indptr, indices, 7, mc, max_len=2)
    finally:
        mine._DENSE_PAIRS = old_pairs
    got2 = {}
    for k in (1, 2):
        idx, members = two.members(k)
        for i, row in zip(idx, members, strict=True):
            got2[frozenset(row.tolist())] = int(two.count[i])
    assert got2 == {s: n for s, n in brute.items() if len(s) <= 2}
    # every rule's counts are the brute-force counts of its parts
    rules = mine.association_rules(sets)
    for a, c, na, nc, nac in zip(rules.antecedent, rules.consequent, rules.antecedent_count,
                                 rules.consequent_count, rules.count, strict=True):
        assert got[frozenset(a.tolist())] == na and got[frozenset(c.tolist())] == nc
        assert got[frozenset(a.tolist()) | frozenset(c.tolist())] == nac


def test_weights_count_repeated_baskets():
    sets_w = mine.frequent_itemsets(np.array([0, 2, 3]), np.array([0, 1, 1]), 2, 3,
                                    weights=np.array([3.0, 1.0]))
    got = sorted(zip(sets_w.size.tolist(), sets_w.count.tolist(), strict=True))
    assert got == [(1, 3.0), (1, 4.0), (2, 3.0)]


def test_min_support_fraction_or_count():
    assert mine.min_count(0.6, 5) == 3
    assert mine.min_count(0.001, 9835) == 10
    assert mine.min_count(0.005, 19865) == 100  # 99/19865 < 0.005
    assert mine.min_count(20, 10) == 20
    for bad in (0, -0.1, 1.5, float("nan"), True, "1%"):
        with pytest.raises(ValueError):
            mine.min_count(bad, 10)


def test_frames_of_every_kind_agree():
    import polars as pl

    df = _long(TOY)
    want = aovlab.baskets.frequent_itemsets(df, min_support=0.4)
    for other in (pa.Table.from_pandas(df), pl.from_pandas(df),
                  df.rename(columns={"basket": "order", "item": "sku"})):
        got = aovlab.baskets.frequent_itemsets(other, min_support=0.4)
        pd.testing.assert_frame_equal(got, want)
    named = df.assign(extra=1)
    got = aovlab.baskets.frequent_itemsets(named, min_support=2, basket="basket",
                                           item="item")
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("call, words", [
    (lambda df: aovlab.baskets.frequent_itemsets(df.assign(x=1)), "which are the basket"),
    (lambda df: aovlab.baskets.frequent_itemsets(df, basket="order", item="item"),
     "no column 'order'"),
    (lambda df: aovlab.baskets.frequent_itemsets(df, min_support=1.5), "min_support"),
    (lambda df: aovlab.baskets.frequent_itemsets(df.iloc[:0]), "no (basket, item) rows"),
    (lambda df: aovlab.baskets.frequent_itemsets(df, min_support=1, max_itemsets=10),
     "more than 10 itemsets"),
    (lambda df: aovlab.baskets.association_rules(df, min_confidence=2), "min_confidence"),
    (lambda df: aovlab.baskets.frequent_itemsets([1, 2]), "cannot read baskets"),
])
def test_clear_errors(call, words):
    with pytest.raises(AovlabError) as e:
        call(_long(TOY))
    assert words in str(e.value) and e.value.fix


def test_nulls_and_repeats_are_counted_not_lost():
    df = pd.DataFrame({"basket": [1, 1, 1, 2, None, 2, 3], "item": ["a", "a", "b", None, "c",
                                                                     "b", " "]})
    from aovlab.analyses.baskets import from_pairs

    m = from_pairs(df)
    assert m.n_baskets == 2 and m.dropped["an empty basket, item or value"] == 3
    assert m.notes() == ["3 rows left out: an empty basket, item or value",
                         "1 rows left out: an item repeated within its basket (counted once)"]


def _shop() -> pd.DataFrame:
    """Six hand-checkable orders: a+b three times, a+b+c twice, c alone once."""
    rows = []
    baskets = [("a", "b"), ("a", "b"), ("a", "b", "c"), ("a", "b", "c"), ("c",), ("a", "b")]
    price = {"a": 10.0, "b": 5.0, "c": 2.0}
    for i, b in enumerate(baskets):
        for item in b:
            rows.append((f"o{i}", f"c{i % 3}", f"2024-01-0{i + 1}", item, 1 + (item == "a"),
                         price[item]))
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "created_at", "product_id",
                                       "quantity", "unit_price"])


@pytest.fixture(scope="module")
def shop():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, _shop(), kind="lines", currency="EUR")
    yield ws
    ws.close()


def test_workspace_rules_ranked_by_money(shop):
    r = aovlab.baskets(shop, min_support=2, min_confidence=0.5, min_lift=None)
    rules = r.table
    ab = rules[(rules["antecedent"] == ("a",)) & (rules["consequent"] == ("b",))].iloc[0]
    assert ab["baskets"] == 5 and ab["confidence"] == 1.0
    assert ab["revenue"] == pytest.approx(5 * 5.0)  # b's value in the 5 baskets with a and b
    ba = rules[(rules["antecedent"] == ("b",)) & (rules["consequent"] == ("a",))].iloc[0]
    assert ba["revenue"] == pytest.approx(5 * 20.0)  # a: 2 units at 10
    assert rules["revenue"].is_monotonic_decreasing
    items = r.tables["items"].set_index("item")
    assert items.loc["a", "revenue"] == pytest.approx(100.0)
    assert items.loc["c", "baskets"] == 3


def test_pairs_in_the_engine_equal_the_matrix(shop, engine_name):
    mem = aovlab.baskets(shop, min_support=2, min_confidence=0.0, min_lift=None,
                         max_size=2)
    eng = aovlab.baskets(engine_for(shop, engine_name), min_support=2, min_confidence=0.0,
                         min_lift=None, method="engine")
    cols = ["antecedent", "consequent", "baskets", "support", "confidence", "lift"]
    key = ["antecedent", "consequent"]
    a = mem.table[cols].sort_values(key).reset_index(drop=True)
    b = eng.table[cols].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert sorted(mem.tables["itemsets"]["itemset"]) == sorted(eng.tables["itemsets"]["itemset"])


def test_memory_mining_on_spark_equals_duckdb(shop, engine_name):
    a = aovlab.baskets(shop, min_support=2, min_confidence=0.3)
    b = aovlab.baskets(engine_for(shop, engine_name), min_support=2, min_confidence=0.3)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.tables["itemsets"], b.tables["itemsets"])


def test_workspace_errors(shop):
    with pytest.raises(AovlabError, match="item 'colour'"):
        aovlab.baskets(shop, item="colour")
    with pytest.raises(AovlabError, match="no product lines"):
        aovlab.baskets(shop, start="2030-01-01")
    with pytest.raises(AovlabError, match="method"):
        aovlab.baskets(shop, method="gpu")


# --- the money: bundles, cross-sell, movers, replenishment -------------------------------

def test_the_articles_bundle_example():
    """Three $100 items offered together at $225 (the source articles)."""
    offer = aovlab.baskets.bundle_price([100, 100, 100], discount=0.25)
    assert (offer.list_price, offer.price, offer.saving) == (300, 225, 75)
    # a 40% margin floor on $60 items caps the discount: 180 / (0.6 × 300) → 0%
    floored = aovlab.baskets.bundle_price([100] * 3, [60] * 3, discount=0.25,
                                          margin_floor=0.4)
    assert floored.discount == pytest.approx(0.0) and floored.margin == pytest.approx(0.4)
    capped = aovlab.baskets.bundle_price([100] * 3, [60] * 3, discount=0.25, margin_floor=0.3)
    assert capped.price == pytest.approx(180 / 0.7) and capped.margin == pytest.approx(0.3)
    with pytest.raises(ValueError):
        aovlab.baskets.bundle_price([100], discount=1.5)


def test_bundles_hand_computed(shop):
    r = aovlab.baskets.bundles(shop, min_support=2, discount=0.1, margin_floor=None,
                               take_rate=0.1, margin=0.5)
    t = r.table.set_index("bundle")
    ab = t.loc[[("a", "b")]].iloc[0]
    # every order with a or b holds both: nobody completes it, the 5 pay 10% less of 15
    assert ab["orders_together"] == 5 and ab["co_purchase_rate"] == 1.0
    assert ab["list_price"] == pytest.approx(15) and ab["bundle_price"] == pytest.approx(13.5)
    assert ab["expected_revenue"] == pytest.approx(-7.5)
    assert ab["revenue_together"] == pytest.approx(5 * 25.0)
    abc = t.loc[[("a", "b", "c")]].iloc[0]
    # 2 whole orders, 4 partial (3 × a+b, 1 × c); held Σ p_i (n_i − 2) = 30 + 15 + 2
    assert abc["expected_revenue"] == pytest.approx(0.1 * (4 * 15.3 - 47) - 2 * 1.7)
    assert abc["expected_aov_change"] == pytest.approx(abc["expected_revenue"] / 6)
    # margin 50%: costs are half the prices
    assert abc["expected_gross_profit"] == pytest.approx(
        0.1 * (4 * (15.3 - 8.5) - (5 * 3 + 2.5 * 3 + 1 * 1)) - 2 * 1.7)
    assert r.meta["ranked_by"] == "expected_gross_profit"


def test_cross_sell_lists_and_evaluation(shop):
    r = aovlab.baskets.cross_sell(shop, k=1, min_together=2)
    cs = r.table
    # a→b and b→a (lift 1.2); a→c, c→a lift 0.8: not above chance
    assert sorted(zip(cs["item"], cs["recommend"], strict=True)) == [("a", "b"), ("b", "a")]
    assert cs["confidence"].tolist() == [1.0, 1.0]
    # held out: o3 (a, b, c) and o5 (a, b); trained on o0..o2, where every basket holds a
    # and b: lift exactly 1, so no list above chance, every case a miss
    ev = r.tables["evaluation"].set_index("method")
    assert ev.loc["cross-sell", "hit_rate"] == 0 and ev.loc["cross-sell", "coverage"] == 0
    ev = aovlab.baskets.cross_sell(shop, k=1, min_together=2, min_lift=None).tables[
        "evaluation"].set_index("method")
    assert ev.loc["cross-sell", "baskets"] == 2 and ev.loc["cross-sell", "cases"] == 5
    assert ev.loc["cross-sell", "hit_rate"] == pytest.approx(4 / 5)
    assert ev.loc["cross-sell", "revenue_hit_rate"] == pytest.approx(50 / 79)
    assert ev.loc["popularity", "hit_rate"] == pytest.approx(1.0)
    addons = r.tables["add_ons"]
    assert set(addons["item"]) <= {"a", "b", "c"}
    assert (addons["share_of_aov"] <= 0.1).all()


def test_upsell_ladders_by_category():
    rows = [("o1", "c1", "2024-01-01", "mug", "kitchen", 1, 10.0),
            ("o1", "c1", "2024-01-01", "big mug", "kitchen", 1, 12.0),
            ("o2", "c2", "2024-01-02", "bigger mug", "kitchen", 1, 30.0),
            ("o2", "c2", "2024-01-02", "hat", "clothes", 1, 11.0)]
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "created_at", "product_id",
                                     "category", "quantity", "unit_price"])
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, df, kind="lines", currency="EUR")
    up = aovlab.baskets.cross_sell(ws, evaluation=False).tables["upsell"]
    got = list(zip(up["item"], up["upgrade"], up["price_step"].round(2), strict=True))
    # 10 → 12 (+20%) only: 12 → 30 is +150% (over the 100% step); a hat is no mug
    assert got == [("mug", "big mug", 0.2)]
    up = aovlab.baskets.cross_sell(ws, evaluation=False, max_step=2.0).tables["upsell"]
    got = list(zip(up["item"], up["upgrade"], up["price_step"].round(2), strict=True))
    assert got == [("big mug", "bigger mug", 1.5), ("mug", "big mug", 0.2),
                   ("mug", "bigger mug", 2.0)]


def _random_shop(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for o in range(400):
        cust = f"c{rng.integers(0, 60)}" if rng.random() > 0.1 else None
        day = str(pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 90))))
        items = rng.choice(list("abcdefg"), size=int(rng.integers(1, 5)), replace=False)
        for it in items:
            rows.append((f"o{o}", cust, day, it, int(rng.integers(1, 4)),
                         float({"a": 30, "b": 12, "c": 5}.get(it, 8) + rng.random())))
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "created_at", "product_id",
                                       "quantity", "unit_price"])


def _welch(a: pd.DataFrame, b: pd.DataFrame) -> tuple[float, float, float]:
    """b.aov − a.aov with the Welch interval of two delta-method ratios, from per-unit
    totals (x = value, y = orders), written out independently of aovlab."""
    from scipy import stats

    def ratio_var(g):
        n = len(g)
        (vx, cxy), (_, vy) = np.cov(g.x, g.y, ddof=1)
        r = g.x.sum() / g.y.sum()
        return r, max(vx - 2 * r * cxy + r * r * vy, 0) / (n * g.y.mean() ** 2), n

    ra, va, na = ratio_var(a)
    rb, vb, nb = ratio_var(b)
    df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    return rb - ra, rb - ra - half, rb - ra + half


def test_movers_against_an_independent_calculation(engine_name):
    df = _random_shop()
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, df, kind="lines", currency="EUR")
    r = aovlab.baskets.movers(engine_for(ws, engine_name), min_orders=10)
    t = r.table.set_index("item")
    df["v"] = df["quantity"] * df["unit_price"]
    orders = df.groupby("order_id").agg(value=("v", "sum"), cust=("customer_id", "first"))
    orders["unit"] = orders["cust"].where(orders["cust"].notna(), "g:" + orders.index)
    for item in "abcdefg":
        holding = set(df.loc[df["product_id"] == item, "order_id"])
        has = orders.index.isin(holding)
        w = orders[has].groupby("unit").agg(x=("value", "sum"), y=("value", "size"))
        wo = orders[~has].groupby("unit").agg(x=("value", "sum"), y=("value", "size"))
        d, lo, hi = _welch(wo, w)
        row = t.loc[item]
        assert row["orders"] == has.sum()
        assert row["aov_with"] == pytest.approx(orders.loc[has, "value"].mean())
        assert row["aov_without"] == pytest.approx(orders.loc[~has, "value"].mean())
        assert (row["difference"], row["ci_low"], row["ci_high"]) == pytest.approx((d, lo, hi))
    by = aovlab.baskets.movers(ws, min_orders=10, by="customer_type")
    assert set(by.table["customer_type"]) <= {"new", "returning", "guest"}


def test_replenishment_hand_computed(shop, engine_name):
    r = aovlab.baskets.replenishment(engine_for(shop, engine_name), min_buyers=2)
    iv = r.table.set_index("item")
    assert sorted(iv.index) == ["a", "b"]  # c: nobody bought it twice
    assert iv.loc["a", "repeat_buyers"] == 2 and iv.loc["a", "median_days"] == 3
    due = r.tables["due"]
    # as of 2024-01-06: c1 last bought a and b on 01-02, 4 days ago (one to two intervals)
    assert sorted(zip(due["customer_id"], due["item"], strict=True)) == [("c1", "a"),
                                                                       ("c1", "b")]
    assert due["days_overdue"].tolist() == [1, 1]
    nxt = r.tables["next_product"]
    got = sorted(zip(nxt["item"], nxt["then"], nxt["customers"], nxt["median_gap_days"],
                     strict=True))
    assert got == [("a", "c", 2, 3.0), ("b", "c", 2, 3.0)]
    with pytest.raises(AovlabError, match="bought again"):
        aovlab.baskets.replenishment(shop, min_buyers=50)


# --- the commands -------------------------------------------------------------------------

def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aovlab.cli", *args], cwd=cwd,
                          capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""},
                          timeout=300)


@pytest.fixture(scope="module")
def shop_file(tmp_path_factory):
    from tests.fixtures import shop_lines

    d = tmp_path_factory.mktemp("baskets")
    with aovlab.Workspace(d / "ws.duckdb") as ws:
        aovlab.import_frame(ws, shop_lines(), kind="lines", currency="EUR")
    return d


def test_cli_commands(shop_file):
    from tests.fixtures import EVIL_PRODUCT

    res = _cli("baskets", "-w", "ws.duckdb", "--min-support", "5", "--min-lift", "0",
               "-f", "csv", "--table", "itemsets", cwd=shop_file)
    assert res.returncode == 0, res.stderr
    its = pd.read_csv(io.StringIO(res.stdout))
    # the mug is in all 90 orders, the formula-named product in every fourth (23)
    assert dict(zip(its["itemset"], its["baskets"], strict=True))["mug"] == 90
    assert its["baskets"].max() == 90 and len(its) == 3
    assert not any(line.startswith("=") or ",=" in line for line in res.stdout.splitlines())
    assert EVIL_PRODUCT not in res.stdout.replace("'" + EVIL_PRODUCT, "")
    res = _cli("cross-sell", "-w", "ws.duckdb", "--min-together", "2", "-f", "json",
               cwd=shop_file)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc["tables"]) == {"cross_sell", "upsell", "add_ons", "evaluation"}
    for cmd in ("baskets", "bundles", "cross-sell", "movers", "replenish"):
        res = _cli(cmd, "-w", "ws.duckdb", *(["--min-support", "5"] if cmd in (
            "baskets", "bundles") else []), *(["--min-orders", "5"] if cmd == "movers"
                                             else []),
                   *(["--min-buyers", "2"] if cmd == "replenish" else []), cwd=shop_file)
        assert res.returncode == 0, (cmd, res.stderr)
        assert "Traceback" not in res.stderr
    res = _cli("baskets", "-w", "ws.duckdb", "--min-support", "1%", cwd=shop_file)
    assert res.returncode == 2 and "not a number" in res.stderr and "fix:" in res.stderr
    res = _cli("baskets", "-w", "ws.duckdb", "--min-support", "inf", cwd=shop_file)
    assert res.returncode == 2 and "not a number" in res.stderr
    res = _cli("movers", "-w", "ws.duckdb", "--by", "colour", cwd=shop_file)
    assert res.returncode == 2 and "not offered" in res.stderr


def test_one_huge_basket_stops_cleanly():
    """A 1,100-item basket at a count of 1 would need 2^1100 itemsets: a clear error, not
    Python's recursion limit."""
    df = pd.DataFrame({"b": [0] * 1100 + [1, 1], "i": list(range(1100)) + [0, 1]})
    with pytest.raises(AovlabError, match="itemsets are in"):
        aovlab.baskets.frequent_itemsets(df, min_support=0.5)


def test_results_do_not_depend_on_row_order():
    df = _groceries()
    a = aovlab.baskets.association_rules(df, min_support=0.005, min_confidence=0.2)
    b = aovlab.baskets.association_rules(df.sample(frac=1, random_state=3),
                                         min_support=0.005, min_confidence=0.2)
    pd.testing.assert_frame_equal(a, b)


def test_top_rules_are_the_top_by_money(uci):
    every = aovlab.baskets(uci, min_support=0.01, min_confidence=0.5)
    top = aovlab.baskets(uci, min_support=0.01, min_confidence=0.5, top=10)
    pd.testing.assert_frame_equal(top.table, every.table.head(10))


def test_replenishment_as_of_sees_nothing_later(uci):
    r = aovlab.baskets.replenishment(uci, as_of="2011-06-30")
    cut = aovlab.baskets.replenishment(uci, as_of="2011-06-30", end="2011-06-30")
    pd.testing.assert_frame_equal(r.tables["due"], cut.tables["due"])
    assert (r.tables["due"]["last"] <= pd.Timestamp("2011-06-30")).all()


def test_mixed_currencies_are_refused():
    from tests.fixtures import shop_lines

    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, shop_lines(), kind="lines", currency="EUR")
    aovlab.import_frame(ws, shop_lines().assign(order_id=lambda d: "u" + d.order_id),
                        kind="lines", currency="USD", source="us")
    for run in (aovlab.baskets, aovlab.bundles, aovlab.cross_sell, aovlab.movers):
        with pytest.raises(aovlab.CurrencyMixError, match="mixes currencies"):
            run(ws)
    assert aovlab.baskets(ws, currency="EUR", min_support=5).meta["currency"] == "EUR"
