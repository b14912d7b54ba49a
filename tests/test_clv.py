"""Customer lifetime value from a workspace: the CDNOW fits through ``aovlab.clv`` on every
engine, the CDNOW master imported as a user would, lifetimes' CLV, the margin from costs,
the historical CLV by hand, and errors that say what to do."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from tests.conftest import engine_for, shared_file
from tests.fixtures import cdnow_sample_orders, tiny_orders, workspace_with

import aovlab
from aovlab.analyses import clv
from aovlab.analyses.customers import summarise
from aovlab.errors import AovlabError, CurrencyMixError, NoDataError
from aovlab.models import BetaGeo

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


def _sample_frame(cost_share: float | None = None) -> pd.DataFrame:
    df = cdnow_sample_orders(shared_file("cdnow", "CDNOW_sample.txt"))
    if cost_share is not None:  # every other order has a cost of cost_share × its value
        df["cost"] = np.where(np.arange(len(df)) % 2 == 0, cost_share * df["gross_sales"],
                              np.nan)
    return df


@pytest.fixture(scope="module")
def cdnow_ws():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, _sample_frame(), currency="USD")
    return ws


@pytest.fixture(scope="module")
def cdnow_clv(cdnow_ws):
    return clv(cdnow_ws, cutoff="1997-09-30", definition="total", compare=True)


def test_clv_gives_the_papers_fits(cdnow_clv):
    r = cdnow_clv
    assert {k: round(v, 3) for k, v in r.meta["params"].items()} == PUBLISHED
    p, q, v = (r.meta["spend_params"][k] for k in "pqv")
    assert (round(p, 2), round(q, 2), np.floor(v * 100) / 100) == (6.25, 3.74, 15.44)
    assert r.meta["customers"] == 2357 and r.meta["repeat_customers"] == 946
    assert not r.meta["degenerate"] and r.meta["margin_source"] == "none"
    params = r.tables["parameters"].set_index(["model", "parameter"])
    assert round(params.loc[("BG/NBD", "a"), "standard_error"], 4) == 0.1857
    models = r.tables["models"].set_index("model")
    # FHL 2005 and Batislam et al.: BG/NBD −9582.4, Pareto/NBD −9595.0; MBG/NBD fits best
    assert models.loc["BG/NBD", "log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    assert models.loc["Pareto/NBD", "log_likelihood"] == pytest.approx(-9595.0, abs=0.05)
    assert r.tables["models"]["model"].iloc[0] == "MBG/NBD"
    assert models["delta_aic"].min() == 0 and (models["aic"] == models["aic"]).all()
    assert any("same day" in n or "one day" in n for n in r.notes)


def test_clv_matches_lifetimes(cdnow_ws):
    # lifetimes 0.11.3: GammaGammaFitter.customer_lifetime_value(BetaGeoFitter, ...,
    # time=12, discount_rate=0.01 (a month), freq="W") on the published summary. lifetimes'
    # month is 4.345 weeks (ours 365.25/12/7 = 4.348) and its zbar is rounded to the cent:
    # agreement to 0.2%.
    r = clv(cdnow_ws, cutoff="1997-09-30", definition="total", discount_rate=1.01 ** 12 - 1)
    t = r.table.set_index("customer_id")
    lifetimes = {"509": 1174.7942918752237, "1081": 1002.7578591189779,
                 "157": 625.3500337089599, "1": 36.27849576362541, "2": 4.637466328569604}
    for cid, value in lifetimes.items():
        assert t.loc[cid, "clv"] == pytest.approx(value, rel=2e-3), cid
    # conditional_expected_average_profit, same fit
    assert t.loc["509", "expected_value_per_purchase"] == pytest.approx(77.5948, rel=1e-4)
    assert t.loc["1", "expected_value_per_purchase"] == pytest.approx(24.6586, rel=5e-4)
    # a customer who never bought again gets the store's mean spend p v / (q − 1)
    p, q, v = (r.meta["spend_params"][k] for k in "pqv")
    zero = t[t["frequency"] == 0]
    assert np.allclose(zero["expected_value_per_purchase"], p * v / (q - 1))
    assert (t["clv"] >= 0).all() and (t["probability_alive"].between(0, 1)).all()
    assert r.table["clv"].is_monotonic_decreasing
    # undiscounted, the CLV is the expected spend over the horizon
    flat = clv(cdnow_ws, cutoff="1997-09-30", definition="total", discount_rate=0.0).table
    assert np.allclose(flat["clv"], flat["expected_spend"])
    undiscounted = flat.set_index("customer_id")["clv"].loc[t.index]
    assert (undiscounted >= t["clv"] - 1e-9).all()


def test_the_same_clv_on_every_engine(cdnow_ws, cdnow_clv, engine_name):
    r = clv(cdnow_ws, cutoff="1997-09-30", definition="total",
            engine=engine_for(cdnow_ws, engine_name))
    a = r.table.sort_values("customer_id").reset_index(drop=True)
    b = cdnow_clv.table.sort_values("customer_id").reset_index(drop=True)
    assert a["customer_id"].tolist() == b["customer_id"].tolist()
    for col in ("frequency", "recency", "T", "monetary_value"):
        assert np.allclose(a[col], b[col], rtol=1e-12), col
    # the sums of spend differ in their last bits between engines; the optimum is flat in
    # Gamma-Gamma's v (standard error 4), so the fits agree to 1e-6
    for col in ("probability_alive", "expected_value_per_purchase", "clv"):
        assert np.allclose(a[col], b[col], rtol=1e-6), col
    assert r.meta["params"] == pytest.approx(cdnow_clv.meta["params"], rel=1e-9)
    assert r.meta["spend_params"] == pytest.approx(cdnow_clv.meta["spend_params"], rel=1e-6)


@pytest.mark.realdata
def test_cdnow_master_imported_gives_the_published_summary_and_fit(tmp_path):
    ws = aovlab.Workspace(tmp_path / "cdnow.duckdb")
    aovlab.import_files(ws, shared_file("cdnow", "CDNOW_master.txt"), "cdnow")
    s = summarise(ws, cutoff="1997-09-30", definition="total").customers
    assert len(s) == 23_570
    # the 1/10 sample's customers, by their master id, are the published summary row by row
    sample = pd.read_csv(shared_file("cdnow", "CDNOW_sample.txt"), sep=r"\s+", header=None,
                         usecols=[0, 1], names=["master", "ID"]).drop_duplicates()
    pub = pd.read_csv(shared_file("cdnow", "cdnow_customers_summary.csv"))
    s = s.assign(master=s["customer_id"].astype(int)).merge(sample, on="master")
    m = s.merge(pub, on="ID", suffixes=("", "_pub"), validate="one_to_one")
    assert len(m) == 2357
    assert (m["frequency"] == m["frequency_pub"]).all()
    assert np.abs(m["recency"].round(2) - m["recency_pub"]).max() == 0
    assert np.abs(m["T"].round(2) - m["T_pub"]).max() == 0
    bg = BetaGeo().fit(m["frequency"], m["recency"], m["T"])
    assert {k: round(v, 3) for k, v in bg.params_.items()} == PUBLISHED
    # and clv on the whole master equals fitting a summary written by hand in pandas
    raw = pd.read_csv(shared_file("cdnow", "CDNOW_master.txt"), sep=r"\s+",
                      dtype={"customer_id": str, "date": str})
    raw["day"] = pd.to_datetime(raw["date"])
    raw = raw[raw["day"] <= "1997-09-30"]
    days = raw.groupby(["customer_id", "day"], as_index=False)["dollar_value"].sum()
    g = days.groupby("customer_id")
    first, last = g["day"].min(), g["day"].max()
    hand = pd.DataFrame({"x": g.size() - 1, "t_x": (last - first).dt.days / 7,
                         "T": (pd.Timestamp("1997-09-30") - first).dt.days / 7})
    reference = BetaGeo().fit(hand["x"], hand["t_x"], hand["T"])
    r = clv(ws, cutoff="1997-09-30", definition="total")
    assert r.meta["params"] == pytest.approx(reference.params_, rel=1e-6)
    assert r.meta["log_likelihood"] == pytest.approx(reference.log_likelihood_, rel=1e-9)


def test_margin_from_costs_and_set_by_hand():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, _sample_frame(cost_share=0.6), currency="USD")
    costed = clv(ws, cutoff="1997-09-30", definition="total")
    assert costed.meta["margin"] == pytest.approx(0.4) and costed.meta["margin_source"] == "costs"
    assert any("margin 40.0%" in n for n in costed.notes)
    revenue = clv(ws, cutoff="1997-09-30", definition="total", margin=1.0)
    a = costed.table.set_index("customer_id")["clv"]
    b = revenue.table.set_index("customer_id")["clv"]
    assert np.allclose(a, 0.4 * b.loc[a.index])
    assert costed.tables["historical"]["historical_clv"].iloc[0] == pytest.approx(
        0.4 * revenue.tables["historical"]["historical_clv"].iloc[0])


def test_historical_clv_by_hand(cdnow_clv):
    h = cdnow_clv.tables["historical"].iloc[0]
    orders = pd.read_csv(shared_file("cdnow", "CDNOW_sample.txt"), sep=r"\s+", header=None,
                         names=["master", "id", "date", "cds", "value"], dtype={"date": str})
    orders = orders[pd.to_datetime(orders["date"]) <= "1997-09-30"]
    assert h["orders"] == len(orders) and h["customers"] == 2357
    assert h["revenue"] == pytest.approx(orders["value"].sum())
    assert h["aov"] == pytest.approx(orders["value"].sum() / len(orders))
    # with the observed lifespan the formula is the average customer spend to date
    assert h["historical_clv"] == pytest.approx(orders["value"].sum() / 2357)
    assert h["average_customer_spend"] == pytest.approx(h["historical_clv"])


def test_historical_clv_over_a_set_lifespan(cdnow_ws, cdnow_clv):
    r = clv(cdnow_ws, cutoff="1997-09-30", definition="total", lifespan_years=3, margin=0.25)
    h = r.tables["historical"].iloc[0]
    base = cdnow_clv.tables["historical"].iloc[0]
    assert h["lifespan_source"] == "as set"
    assert h["historical_clv"] == pytest.approx(
        base["aov"] * base["purchase_frequency_per_year"] * 3 * 0.25)


def test_errors_say_what_to_do(cdnow_ws):
    for bad, match in (({"model": "lstm"}, "bgnbd"), ({"horizon": 0}, "horizon"),
                       ({"margin": 30}, "--margin 0.3"), ({"discount_rate": -1}, "rate"),
                       ({"lifespan_years": 0}, "lifespan")):
        with pytest.raises(AovlabError, match=match):
            clv(cdnow_ws, **bad)
    with pytest.raises(NoDataError, match="too little history"):
        clv(cdnow_ws, cutoff="1997-01-10")
    once = tiny_orders().assign(customer_id=lambda d: "k" + d["order_id"])
    with pytest.raises(NoDataError, match="0 of 7 customers bought again"):
        clv(workspace_with(once))  # every customer bought once
    guests = tiny_orders().assign(customer_id=None)
    with pytest.raises(NoDataError, match="guests"):
        clv(workspace_with(guests))
    two = pd.concat([tiny_orders(), tiny_orders().assign(
        order_id=lambda d: d["order_id"] + "u", currency="USD")])
    with pytest.raises(CurrencyMixError, match="--currency"):
        clv(workspace_with(two))


def test_cli_clv(tmp_path):
    ws = aovlab.Workspace(tmp_path / "ws.duckdb")
    aovlab.import_frame(ws, _sample_frame(), currency="USD")
    ws.close()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "aovlab.cli", "clv", "-w", "ws.duckdb",
                               "--cutoff", "1997-09-30", "-d", "total", *args], cwd=tmp_path,
                              capture_output=True, text=True, env={"COLUMNS": "200",
                                                                    "PATH": ""}, timeout=300)

    res = run("--top", "3")
    assert res.returncode == 0, res.stderr
    assert "BG/NBD + Gamma-Gamma on 2,357 customers" in res.stdout
    assert "Top 3 customers by CLV" in res.stdout and "509" in res.stdout
    assert "one transaction" in res.stderr  # the notes go to stderr
    res = run("-f", "json", "--compare")
    doc = json.loads(res.stdout)
    assert {"customers", "historical", "parameters", "models"} <= set(doc["tables"])
    assert round(doc["meta"]["params"]["alpha"], 3) == 4.414
    res = run("-f", "csv", "-o", "clv.csv")
    assert res.returncode == 0, res.stderr
    assert len(pd.read_csv(tmp_path / "clv.csv")) == 2357
    res = run("--model", "lstm")
    assert res.returncode == 2 and "bgnbd" in res.stderr and "Traceback" not in res.stderr
    res = subprocess.run([sys.executable, "-m", "aovlab.cli", "holdout", "-w", "ws.duckdb",
                          "--calibration-end", "1997-09-30", "-d", "total", "-f", "csv",
                          "--table", "weekly"], cwd=tmp_path, capture_output=True, text=True,
                         env={"PATH": ""}, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0].startswith("week,week_end,period,actual_cumulative")
    assert len(res.stdout.splitlines()) == 79  # a header and 78 weeks


def _sample_days() -> pd.DataFrame:
    """The CDNOW sample's purchase days per customer, by hand in pandas."""
    raw = pd.read_csv(shared_file("cdnow", "CDNOW_sample.txt"), sep=r"\s+", header=None,
                      names=["master", "id", "date", "cds", "value"], dtype={"date": str})
    raw["day"] = pd.to_datetime(raw["date"])
    days = raw.drop_duplicates(["id", "day"])[["id", "day"]]
    return days.assign(first=days.groupby("id")["day"].transform("min"))


def test_holdout_against_a_hand_count(cdnow_ws):
    from aovlab.analyses import holdout

    r = holdout(cdnow_ws, calibration_end="1997-09-30", definition="total")
    assert r.meta["end"].isoformat() == "1998-06-30" and r.meta["holdout_length"] == 39.0
    days = _sample_days()
    cal = pd.Timestamp("1997-09-30")
    later = days[(days["first"] <= cal) & (days["day"] > cal)]
    per = later.groupby("id").size()
    by = r.tables["by_frequency"].set_index("calibration_frequency")
    assert by.loc["all", "actual_total"] == len(later) and by.loc["all", "customers"] == 2357
    # the calibration frequency of each customer, by hand; 7+ pooled
    x = days[days["day"] <= cal].groupby("id").size() - 1
    for bucket in ("0", "3", "7+"):
        ids = x.index[(x >= 7) if bucket == "7+" else (x == int(bucket))]
        assert by.loc[bucket, "customers"] == len(ids)
        assert by.loc[bucket, "actual_total"] == per.reindex(ids, fill_value=0).sum()
    # predictions: E[Y(39) | x, t_x, T] summed, from the published summary and the fit
    pub = pd.read_csv(shared_file("cdnow", "cdnow_customers_summary.csv"))
    bg = BetaGeo().fit(pub["frequency"], pub["recency"], pub["T"])
    expected = bg.conditional_expected_purchases(39, pub["frequency"], pub["recency"],
                                                 pub["T"]).sum()
    assert by.loc["all", "predicted_total"] == pytest.approx(expected, rel=1e-3)
    assert by["predicted_mean"].loc[["0", "1", "2", "3"]].is_monotonic_increasing
    # the weekly curve: cumulative repeat days by hand, at a calibration and a hold-out week
    w = r.tables["weekly"].set_index("week")
    repeats = days[(days["first"] <= cal) & (days["day"] > days["first"])]
    for week in (10, 39, 78):
        end = w.loc[week, "week_end"]
        assert w.loc[week, "actual_cumulative"] == (repeats["day"] <= pd.Timestamp(end)).sum()
    assert w.loc[39, "period"] == "calibration" and w.loc[40, "period"] == "holdout"
    # expected: Σ over customers of E[X(age)], by hand at week 39
    firsts = days.groupby("id")["first"].min()
    age = ((cal - firsts).dt.days + 1) / 7
    assert w.loc[39, "predicted_cumulative"] == pytest.approx(
        bg.expected_purchases(age.to_numpy()).sum(), rel=1e-3)
    assert w["actual_cumulative"].is_monotonic_increasing
    assert not r.meta["poor_fit"] and abs(r.meta["curve_error_at_calibration_end"]) < 0.05


def test_holdout_warns_of_a_poor_fit():
    from aovlab.analyses import holdout

    df = _sample_frame()
    late = df[df["created_at"] > "1997-09-30"]
    # the store doubles its repeat business after the calibration period
    extra = late.assign(order_id=late["order_id"] + "x",
                        created_at=(pd.to_datetime(late["created_at"]) + pd.Timedelta(days=1)
                                    ).dt.strftime("%Y-%m-%d"))
    extra = extra[extra["created_at"] <= "1998-06-30"]
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, pd.concat([df, extra]), currency="USD")
    r = holdout(ws, calibration_end="1997-09-30", definition="total")
    assert r.meta["poor_fit"] and r.meta["total_error"] < -0.3
    assert any(n.startswith("poor fit") for n in r.notes)
    with pytest.raises(AovlabError, match="not after the calibration end"):
        holdout(ws, calibration_end="1998-06-30")
