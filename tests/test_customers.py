"""The RFM summary from a workspace: the CDNOW sample imported as orders gives the published
calibration summary row by row, on every engine, and so the papers' parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import engine_for, shared_file
from tests.fixtures import cdnow_sample_orders, tiny_orders, workspace_with

import aovlab
from aovlab.analyses import rfm
from aovlab.errors import AovlabError, NoDataError
from aovlab.models import BetaGeo, GammaGamma


@pytest.fixture(scope="module")
def cdnow_ws():
    ws = aovlab.Workspace(":memory:")
    aovlab.import_frame(ws, cdnow_sample_orders(shared_file("cdnow", "CDNOW_sample.txt")),
                        currency="USD")
    return ws


def test_the_summary_is_the_published_one_on_every_engine(cdnow_ws, engine_name):
    r = rfm(cdnow_ws, cutoff="1997-09-30", definition="total",
            engine=engine_for(cdnow_ws, engine_name))
    t = r.table.assign(ID=lambda d: d["customer_id"].astype(int)).sort_values("ID")
    pub = pd.read_csv(shared_file("cdnow", "cdnow_customers_summary_with_transactions.csv")
                      ).rename(columns={"T": "published_T"})
    assert len(t) == len(pub) == 2357 and r.meta["repeat_customers"] == 946
    m = t.merge(pub, on="ID", validate="one_to_one")
    assert (m["frequency"] == m["x"]).all()  # same-day lines merged into one transaction
    assert np.abs(m["recency"].round(2) - m["t_x"]).max() == 0
    assert np.abs(m["T"].round(2) - m["published_T"]).max() == 0
    assert np.abs(m["monetary_value"] - m["zbar"]).max() <= 0.005 + 1e-9  # zbar is rounded
    # and the models fitted on it give the papers' parameters
    bg = BetaGeo().fit(t["frequency"], t["recency"], t["T"])
    assert {k: round(v, 3) for k, v in bg.params_.items()} == {
        "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    gg = GammaGamma().fit(t["frequency"], t["monetary_value"])
    assert (round(gg.params_["p"], 2), round(gg.params_["q"], 2)) == (6.25, 3.74)


def test_days_guests_cutoff_and_errors_by_hand():
    ws = workspace_with(tiny_orders())
    r = rfm(ws, unit="day")  # cut-off: the last counted order, 2024-02-10 (o8)
    t = r.table.set_index("customer_id")
    # counted orders, net = gross − discounts: c1 o1 (01-05, 90), o3 (01-20, 180); c2 o2
    # (01-06, 50), o6 (02-02, refunded, 80); c3 o7 (02-03, 270); c4 o8 (02-10, 60); o4 is
    # a guest's, o5 cancelled, o9 a test
    assert sorted(t.index) == ["c1", "c2", "c3", "c4"]
    assert t.loc["c1", ["frequency", "recency", "T"]].tolist() == [1, 15.0, 36.0]
    assert t.loc["c1", "monetary_value"] == 180.0 and t.loc["c1", "first_value"] == 90.0
    assert t.loc["c2", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        1, 27.0, 35.0, 80.0]
    assert t.loc["c3", ["frequency", "T", "first_value"]].tolist() == [0, 7.0, 270.0]
    assert t.loc["c4", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        0, 0.0, 0.0, 0.0]
    early = rfm(ws, cutoff="2024-01-31", unit="day").table.set_index("customer_id")
    assert sorted(early.index) == ["c1", "c2"] and early.loc["c2", "frequency"] == 0
    with pytest.raises(NoDataError, match="no customer"):
        rfm(ws, cutoff="2023-12-31")
    with pytest.raises(AovlabError, match="unit"):
        rfm(ws, unit="month")
