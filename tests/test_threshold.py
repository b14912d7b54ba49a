"""aovlab.threshold: the free-shipping / "X off over Y" analysis, end to end on a workspace.

Stores from the seeded simulator (known padding share, reach, overshoot) go through a
workspace and the engine; the analysis must find the threshold, measure the response within
its interval, and recommend a threshold whose true profit is within 5% of the true optimum;
on a store without a threshold it says so and labels its assumptions. The real exports: UCI
Online Retail (a £300 threshold) and the Shopify AU export (none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import aovlab
from aovlab.errors import DefinitionError
from aovlab.stats.bunching import bunching
from aovlab.stats.threshold_store import ThresholdStore
from conftest import engine_for, shared_file
from fixtures import workspace_with

#: A fee low enough against the margin that some threshold beats none (an interior optimum)
FEE, MARGIN = 1.0, 0.6


def _frame(v: np.ndarray, *, fee_below: float | None = FEE, cost: bool = True,
           threshold: float = 50) -> pd.DataFrame:
    v = np.round(v, 2)
    n = len(v)
    df = pd.DataFrame({"order_id": [f"o{i}" for i in range(n)],
                       "customer_id": [f"c{i % (n // 3)}" for i in range(n)],
                       "created_at": pd.Timestamp("2024-01-01")
                       + pd.to_timedelta(np.arange(n) % 300, unit="D"),
                       "gross_sales": v, "status": "placed"})
    df["shipping"] = np.where(v < threshold, fee_below, 0.0) if fee_below else 0.0
    df["total"] = df.gross_sales + df.shipping
    if cost:
        df["cost"] = np.round((1 - MARGIN) * v, 4)
    return df


def test_a_simulated_store_measured_and_recommended(engine_name):
    """A store padding 25% of the orders within 15 below its £50 threshold: detected at
    50, the padded share's interval holds the truth, the fee and margin are read from the
    data, and the recommendation's true profit is within 5% of the best candidate's."""
    store = ThresholdStore(50, 0.25, 15, 5)
    v, truth = store.sample(40_000, 7)
    ws = workspace_with(_frame(v))
    eng = engine_for(ws, engine_name)
    r = aovlab.threshold(eng, boots=100)
    assert r.current == 50 and r.meta["current_source"] == "detected"
    lo, hi = r.meta["bunching"]["padded_share_ci"]
    assert lo <= truth <= hi
    assert r.response.measured and r.response.reach == pytest.approx(0.3)
    assert r.meta["fee"] == pytest.approx(FEE)  # every order below 50 paid it
    assert r.meta["margin"] == pytest.approx(MARGIN, abs=1e-6)
    assert not r.assumptions
    # the same excess mass as the estimator on the orders themselves (bins of 1% of T)
    vv = np.round(v, 2)
    vv = vv[vv != 90]  # NumPy closes its last bin [89.5, 90]; the engine's bins are [a, b)
    b = bunching(vv, 50, width=0.5, below=15, above=5, span=40, boots=0)
    assert r.meta["bunching"]["excess"] == pytest.approx(b.excess, rel=1e-9)
    bins = r.tables["bins"]
    assert bins["orders"].sum() == pytest.approx(b.counts.sum())
    cand = r.table.iloc[1:]
    true = {t: store.profit(t, margin=MARGIN, fee=FEE, n=400_000) for t in cand["threshold"]}
    none = MARGIN * ThresholdStore(50, 0.0).sample(400_000, 0)[0].mean()
    best = max(true.values())
    assert r.recommended is not None and best > none
    assert true[r.recommended] >= 0.95 * best
    assert true[r.recommended] - none >= 0.9 * (best - none)
    # the model at the current threshold reproduces the store as observed
    cur = r.table[r.table["label"].str.contains("current")].iloc[0]
    assert cur["aov"] == pytest.approx(r.meta["aov"], rel=0.002)
    assert cur["padded_orders"] == pytest.approx(r.meta["bunching"]["missing"], rel=0.05)
    assert r.table.iloc[0]["label"] == "no threshold"
    assert r.table.iloc[0]["orders"] == pytest.approx(len(v))


def test_simulated_stores_recommendation_within_5_percent_of_the_optimum():
    """Ten seeded stores of different responses: every recommendation's true profit is
    within 5% of the true optimum among the candidates, and keeps 90% of the best gain
    over no threshold (or there is none to have)."""
    for seed, share in enumerate([0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.2, 0.3, 0.25]):
        store = ThresholdStore(50, share, 15, 5)
        v, _ = store.sample(20_000, 100 + seed)
        r = aovlab.threshold(workspace_with(_frame(v)), boots=0, current=50)
        true = {t: store.profit(t, margin=MARGIN, fee=FEE, n=300_000)
                for t in r.table["threshold"].iloc[1:]}
        none = MARGIN * ThresholdStore(50, 0.0).sample(300_000, 0)[0].mean()
        best = max(true.values())
        if r.recommended is None:
            assert best - none <= 0.1 * abs(none) * 0.01
        else:
            assert true[r.recommended] >= 0.95 * best
            assert true[r.recommended] - none >= 0.9 * (best - none)


def test_a_store_without_a_threshold_says_so_and_labels_its_assumptions():
    v = np.random.default_rng(3).lognormal(np.log(40), 0.5, 30_000)
    r = aovlab.threshold(workspace_with(_frame(v, fee_below=None, cost=False)))
    assert r.current is None
    assert any("no threshold found" in n for n in r.notes)
    assert not r.response.measured and r.response.share == 0.2
    assert r.meta["response"]["share_band"] == [0.12, 0.28]
    joined = " ".join(r.assumptions)
    assert "assumed, not measured" in joined and "Hemmati" in joined
    assert "margin of 50% is assumed" in joined
    assert "no shipping charge" in joined
    assert r.tables["bins"]["counterfactual"].isna().all()
    assert (r.tables["detection"]["z"] < 3.5).all()
    # with nothing given away, any threshold only adds padded orders
    assert r.recommended is not None and r.table["shipping_absorbed"].eq(0).all()


def test_no_threshold_row_and_a_hand_checked_candidate():
    """No threshold: the orders and value as they are. A candidate of 100 with share 0.5
    over a reach of 30%: half of the orders in [70, 100) move to 100 + 10% / 2."""
    v = np.array([20.0, 50.0, 75.0, 80.0, 95.0, 120.0, 150.0, 90.0])
    df = _frame(v, fee_below=None, cost=False)
    r = aovlab.threshold(workspace_with(df), detect=False, candidates=[100], share=0.5,
                         reach=0.3, overshoot=0.1, fee=5, margin=0.4)
    base, c = r.table.iloc[0], r.table[r.table["threshold"] == 100].iloc[0]
    assert base["orders"] == 8 and base["revenue"] == pytest.approx(v.sum())
    near = v[(v >= 70) & (v < 100)]  # 75, 80, 95, 90
    assert c["padded_orders"] == pytest.approx(0.5 * len(near))
    assert c["revenue"] == pytest.approx(v.sum() + 0.5 * (105 * len(near) - near.sum()))
    assert c["qualifying_orders"] == pytest.approx(2 + 2)
    assert c["shipping_absorbed"] == pytest.approx(5 * 4)
    assert c["gross_profit"] == pytest.approx(0.4 * c["revenue"] - 20)
    assert c["profit_low"] == c["profit_high"] == pytest.approx(c["gross_profit"])
    assert "set by hand" in " ".join(r.assumptions)


def test_a_discount_offer_costs_its_amount_per_qualifying_order():
    v = np.random.default_rng(5).lognormal(np.log(40), 0.5, 5_000)
    ws = workspace_with(_frame(v, fee_below=None))
    r = aovlab.threshold(ws, offer="discount", amount=5, current=50, boots=0)
    t = r.table.iloc[1:]
    assert (t["shipping_absorbed"] == 0).all()
    np.testing.assert_allclose(t["discount_cost"], 5 * t["qualifying_orders"])
    r = aovlab.threshold(ws, offer="discount", rate=0.1, current=50, boots=0,
                         candidates=[60])
    assert r.table.iloc[-1]["discount_cost"] > 0


@pytest.mark.parametrize(("kw", "match"), [
    ({"offer": "coupon"}, "offer 'coupon'"),
    ({"offer": "discount"}, "needs an amount or a rate"),
    ({"offer": "discount", "amount": 5, "rate": 0.1}, "not both"),
    ({"margin": 1.5}, "margin 1.5"),
    ({"current": -10}, "current threshold -10"),
    ({"candidates": [50, float("nan")]}, "candidate threshold nan"),
    ({"boots": -1}, "boots -1"),
])
def test_bad_settings_are_clear_errors(kw, match):
    ws = workspace_with(_frame(np.linspace(10, 100, 50)))
    with pytest.raises(DefinitionError, match=match):
        aovlab.threshold(ws, **kw)


def test_uci_online_retail_end_to_end():
    """The bundled UCI Online Retail data: the £300 threshold detected, its response
    measured (a fifth to a third of the orders within £90 below it padded over), the fee
    from the shipping charged below it, the margin assumed (no costs) and said so."""
    from aovlab.importers import bundled_online_retail

    ws = aovlab.Workspace(":memory:")
    aovlab.import_files(ws, bundled_online_retail(), "online_retail")
    r = aovlab.threshold(ws, boots=100)
    assert r.current == 300 and r.meta["current_source"] == "detected"
    b = r.meta["bunching"]
    assert 600 < b["excess"] < 900
    assert 0.18 < b["padded_share"] < 0.30 and b["padded_share_ci"][0] > 0.1
    assert 0 < r.meta["fee"] < 20
    assert r.meta["margin_source"] == "assumed"
    assert any("margin of 50% is assumed" in a for a in r.assumptions)
    # on the analysis' grid of fine bins (half a pound here)
    assert r.meta["rule_of_thumb"] == pytest.approx(1.3 * r.meta["aov"],
                                                    abs=r.meta["bin_width"] / 2)
    assert r.reason


@pytest.mark.parametrize(("name", "currency"), [("au_store_orders_export.csv", "AUD"),
                                              ("devstore_orders_export.csv", None)])
def test_shopify_exports_have_no_threshold_and_say_so(name, currency):
    ws = aovlab.Workspace(":memory:")
    aovlab.import_files(ws, shared_file("shopify", name), "shopify",
                        **({"currency": currency} if currency else {}))
    r = aovlab.threshold(ws)
    assert r.current is None and any("no threshold found" in n for n in r.notes)
    assert not r.response.measured and r.assumptions
    assert r.table.iloc[0]["orders"] == r.meta["orders"]
    if name.startswith("devstore"):  # 19 orders
        assert any("only 19 orders" in n for n in r.notes)
    else:
        assert r.meta["currency"] == "AUD"


def test_one_huge_order_does_not_move_the_candidates():
    """One order of 10 million on a store of 40,000 around £45: the AOV jumps sixfold,
    the candidates stay on the orders (around P90) and the recommendation stays put."""
    v, _ = ThresholdStore(50, 0.25, 15, 5).sample(40_000, 7)
    plain = aovlab.threshold(workspace_with(_frame(v)), boots=0)
    big = aovlab.threshold(workspace_with(_frame(np.append(v, 1e7))), boots=0)
    assert big.meta["aov"] > 5 * plain.meta["aov"]
    assert any("pull it up" in n for n in big.notes)
    assert any("rule of thumb" in n for n in big.notes) and big.meta["rule_of_thumb"] is None
    assert big.table["threshold"].max() < 200
    assert big.recommended == pytest.approx(plain.recommended, abs=5)
    assert big.meta["bin_width"] == plain.meta["bin_width"]
    assert all(t == round(t, 9) for t in big.table["threshold"].dropna())


def test_the_demo_ends_with_the_threshold(tmp_path):
    import io

    from rich.console import Console

    from aovlab.cli.demo import run_demo

    out = io.StringIO()
    res = run_demo(tmp_path / "demo.duckdb", console=Console(file=out, width=200))
    text = out.getvalue()
    assert "6/6" in text and "A threshold at £300 (detected)" in text
    assert "within £90 below it" in text and res["threshold"].current == 300
