"""RFM segments and spend tiers: scores and names by hand, profiles that add up, the CLV
per segment, and a customer list that is safe to open in a spreadsheet."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import shared_file
from tests.fixtures import cdnow_sample_orders, tiny_orders, workspace_with

import aovlab
from aovlab.analyses import clv, segments
from aovlab.analyses.customers.segments import ACTIONS, SEGMENTS, name, score, tier


def test_scores_by_hand():
    # ties share the score of their lowest rank: the three one-order customers all get 1
    assert score([1, 1, 1, 2, 3]).tolist() == [1, 1, 1, 4, 5]
    assert score([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]).tolist() == [
        1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # days since the last purchase: fewer is better
    assert score([0, 100, 5, 300, 50], higher_is_better=False).tolist() == [5, 2, 4, 1, 3]


@given(st.lists(st.integers(0, 50), min_size=1, max_size=60))
def test_scores_are_1_to_5_and_keep_the_order(values):
    s = score(values)
    v = np.array(values)
    assert ((s >= 1) & (s <= 5)).all()
    if (v == v.max()).sum() == 1:  # a unique best customer scores 5, a unique worst 1
        assert s[v.argmax()] == 5
    if (v == v.min()).sum() == 1 and len(v) >= 5:
        assert s[v.argmin()] == 1
    for i in range(len(v)):  # a larger value never scores lower; equal values score equal
        assert (s[v > v[i]] >= s[i]).all() and (s[v == v[i]] == s[i]).all()


def test_every_rfm_lands_in_exactly_one_named_segment():
    r, f, m = (a.ravel() for a in np.meshgrid(*[np.arange(1, 6)] * 3, indexing="ij"))
    names = name(r, f, m)
    assert set(names) == set(SEGMENTS)
    got = dict(zip(zip(r, f, m, strict=True), names, strict=True))
    assert got[(5, 5, 5)] == "champions" and got[(1, 5, 5)] == "can't lose"
    assert got[(3, 4, 1)] == "loyal" and got[(2, 3, 1)] == "at risk"
    assert got[(5, 1, 1)] == "new" and got[(3, 1, 5)] == "potential loyalists"
    assert got[(2, 1, 1)] == "hibernating" and got[(1, 2, 1)] == "lost"
    spend = np.arange(1, 101, dtype=float)  # median 50.5, 80th 80.2, 95th 95.05
    t = tier(spend)
    assert (t[:50] == "low").all() and (t[50:80] == "mid").all()
    assert (t[80:95] == "high").all() and (t[95:] == "top").all()


@pytest.fixture(scope="module")
def cdnow_segments():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, cdnow_sample_orders(shared_file("cdnow", "CDNOW_sample.txt")),
                        currency="USD")
    return ws, segments(ws, cutoff="1997-09-30", definition="total")


def test_profiles_add_up_and_carry_the_clv(cdnow_segments):
    ws, r = cdnow_segments
    c = r.tables["customers"]
    assert len(c) == 2357 and c["customer_id"].is_unique
    for key in ("segments", "tiers"):
        t = r.tables[key]
        assert t["customers"].sum() == 2357 and t["orders"].sum() == c["orders"].sum()
        assert t["revenue_share"].sum() == pytest.approx(1.0)
        assert t["customer_share"].sum() == pytest.approx(1.0)
        assert np.allclose(t["aov"], t["revenue"] / t["orders"])
        assert t["action"].map(lambda a: a in ACTIONS.values()).all()
    seg = r.tables["segments"].set_index("segment")
    value = clv(ws, cutoff="1997-09-30", definition="total").table
    joined = c.merge(value[["customer_id", "clv"]], on="customer_id", suffixes=("", "_clv"))
    assert np.allclose(joined["clv"], joined["clv_clv"])
    for s_name, group in joined.groupby("segment"):
        assert seg.loc[s_name, "mean_clv"] == pytest.approx(group["clv_clv"].mean())
        assert seg.loc[s_name, "customers"] == len(group)
    # customers who bought once are F = 1; champions are recent, frequent, big spenders
    assert (c.loc[c["orders"] == 1, "f"] == 1).all()
    champions = c[c["segment"] == "champions"]
    assert ((champions[["r", "f", "m"]] >= 4).all(axis=1)).all()
    assert seg.loc["champions", "mean_clv"] > seg.loc["lost", "mean_clv"]
    tiers = r.tables["tiers"].set_index("tier")
    assert tiers.loc["top", "customer_share"] == pytest.approx(0.05, abs=0.01)
    assert np.isfinite(tiers.loc["low", "threshold"]) and np.isnan(tiers.loc["top", "threshold"])
    # the threshold of a threshold offer: the 75th percentile of the customers' own AOV
    low = c[c["tier"] == "low"]
    assert tiers.loc["low", "threshold"] == pytest.approx(
        (low["spend"] / low["orders"]).quantile(0.75))


def test_a_store_too_young_for_clv_still_gets_segments():
    r = segments(workspace_with(tiny_orders()))
    assert r.tables["customers"]["clv"].isna().all()
    assert any(n.startswith("no CLV per segment") for n in r.notes)
    c = r.tables["customers"].set_index("customer_id")
    assert c.loc["c4", "days_since_last"] == 0 and c.loc["c1", "orders"] == 2


def test_export_is_safe_in_a_spreadsheet(tmp_path):
    evil = tiny_orders()
    evil.loc[evil["customer_id"] == "c1", "customer_id"] = '=HYPERLINK("http://x","c1")'
    ws = workspace_with(evil, str(tmp_path / "ws.duckdb"))
    ws.close()
    res = subprocess.run([sys.executable, "-m", "aovlab.cli", "segments", "-w", "ws.duckdb",
                          "--export", "customers.csv"], cwd=tmp_path, capture_output=True,
                         text=True, env={"COLUMNS": "200", "PATH": ""}, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "RFM segments" in res.stdout and "wrote 4 customers to customers.csv" in res.stderr
    out = pd.read_csv(tmp_path / "customers.csv", dtype={"customer_id": str})
    assert len(out) == 4 and "'=HYPERLINK(\"http://x\",\"c1\")" in out["customer_id"].tolist()
    assert {"segment", "tier", "r", "f", "m", "clv"} <= set(out.columns)
    again = subprocess.run([sys.executable, "-m", "aovlab.cli", "segments", "-w", "ws.duckdb",
                            "--export", "customers.csv"], cwd=tmp_path, capture_output=True,
                           text=True, env={"PATH": ""}, timeout=300)
    assert again.returncode == 2 and "--force" in again.stderr  # never overwrites silently
