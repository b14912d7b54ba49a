"""Cohorts by hand on the nine-order fixture, on the CDNOW master against pandas, and the
same on every engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import engine_for, shared_file
from tests.fixtures import tiny_orders, workspace_with

import aovlab
from aovlab.analyses import cohorts
from aovlab.errors import AovlabError, CurrencyMixError, NoDataError


@pytest.fixture(scope="module")
def tiny():
    return workspace_with(tiny_orders())


def test_month_cohorts_by_hand(tiny, engine_name):
    # counted orders, net: c1 o1 01-05 90, o3 01-20 180; c2 o2 01-06 50, o6 02-02 80
    # (refunded, counted); c3 o7 02-03 270; c4 o8 02-10 60. Cut-off: 2024-02-10
    r = cohorts(tiny, engine=engine_for(tiny, engine_name))
    t = r.tables["cohorts"].set_index(["cohort", "months"])
    jan, feb = t.loc["2024-01"], t.loc["2024-02"]
    assert jan.loc[0, ["customers", "active_customers", "orders"]].tolist() == [2, 2, 3]
    assert jan.loc[0, "revenue"] == 320 and jan.loc[1, "revenue"] == 80
    assert jan.loc[1, "retention"] == 0.5 and jan.loc[1, "observed"] == 2
    assert jan.loc[1, "cumulative_revenue_per_customer"] == 200
    assert jan.loc[1, "cumulative_orders_per_customer"] == 2
    assert list(feb.index) == [0] and feb.loc[0, "revenue"] == 330  # not observed for m1
    a = r.tables["aov"].set_index("cohort")
    assert a.loc["2024-01", ["first_orders", "first_order_aov"]].tolist() == [2, 70]
    assert a.loc["2024-01", ["later_orders", "later_order_aov"]].tolist() == [2, 130]
    assert np.isnan(a.loc["2024-02", "later_order_aov"])
    tri = r.tables["triangle"].set_index("cohort")
    assert tri.loc["2024-01", "m1"] == 0.5 and np.isnan(tri.loc["2024-02", "m1"])
    assert r.meta["customers"] == 4 and r.meta["currency"] == "EUR"


def test_channel_cohorts_follow_the_first_order(tiny):
    # first orders: c1 o1 web, c2 o2 web, c3 o7 app, c4 o8 web; c1's later app order o3
    # stays in the web cohort
    t = cohorts(tiny, by="channel").tables["cohorts"].set_index(["cohort", "months"])
    assert t.loc[("web", 0), ["customers", "active_customers", "orders"]].tolist() == [3, 3, 4]
    assert t.loc[("web", 0), "revenue"] == 380
    # month 1 is observed for the customers first seen in January only (c1, c2)
    assert t.loc[("web", 1), ["observed", "active_customers", "retention"]].tolist() == [
        2, 1, 0.5]
    assert t.loc[("app", 0), "customers"] == 1


def test_errors(tiny):
    with pytest.raises(AovlabError, match="month, channel"):
        cohorts(tiny, by="weekday")
    with pytest.raises(NoDataError, match="guests"):
        cohorts(workspace_with(tiny_orders().assign(customer_id=None)))
    two = pd.concat([tiny_orders(), tiny_orders().assign(
        order_id=lambda d: d["order_id"] + "u", currency="USD")])
    with pytest.raises(CurrencyMixError, match="--currency"):
        cohorts(workspace_with(two))


@pytest.mark.realdata
def test_cdnow_master_cohorts_against_pandas(tmp_path):
    ws = aovlab.Workspace(tmp_path / "cdnow.duckdb")
    aovlab.import_files(ws, shared_file("cdnow", "CDNOW_master.txt"), "cdnow")
    r = cohorts(ws, definition="total")
    raw = pd.read_csv(shared_file("cdnow", "CDNOW_master.txt"), sep=r"\s+",
                      dtype={"customer_id": str, "date": str})
    raw["day"] = pd.to_datetime(raw["date"])
    first = raw.groupby("customer_id")["day"].transform("min")
    raw["cohort"] = first.dt.strftime("%Y-%m")
    raw["months"] = (raw["day"].dt.year - first.dt.year) * 12 + raw["day"].dt.month - first.dt.month
    t = r.tables["cohorts"].set_index(["cohort", "months"])
    hand = raw.groupby(["cohort", "months"]).agg(active=("customer_id", "nunique"),
                                                 orders=("customer_id", "size"),
                                                 revenue=("dollar_value", "sum"))
    assert set(t.index) == set(hand.index)  # 3 cohorts (Jan-Mar 1997) × their months
    assert (t["active_customers"] == hand.loc[t.index, "active"]).all()
    assert (t["orders"] == hand.loc[t.index, "orders"]).all()
    assert np.allclose(t["revenue"], hand.loc[t.index, "revenue"])
    sizes = raw.groupby("cohort")["customer_id"].nunique()
    assert (r.tables["aov"].set_index("cohort")["customers"] == sizes).all()
    last = t.groupby(level=0).tail(1)
    per = raw.groupby("cohort")["dollar_value"].sum() / sizes
    assert np.allclose(last["cumulative_revenue_per_customer"].droplevel(1), per.loc[
        last.index.get_level_values(0)])
