"""aovlab.power_analysis: sample sizes and days from the store's own variance, checked by
hand on a store of one order per customer and on the GA4 sample's revenue per visitor."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import aovlab
from aovlab.errors import DefinitionError, NoDataError
from fixtures import workspace_with

Z = 1.959963984540054 + 0.8416212335729143


def _store(n: int = 3000) -> tuple[pd.DataFrame, np.ndarray]:
    v = np.round(np.random.default_rng(1).lognormal(np.log(40), 0.6, n), 2)
    return pd.DataFrame({"order_id": [f"o{i}" for i in range(n)],
                         "customer_id": [f"c{i}" for i in range(n)],
                         "created_at": pd.Timestamp("2024-01-01")
                         + pd.to_timedelta(np.arange(n) % 100, unit="D"),
                         "gross_sales": v, "total": v, "status": "placed"}), v


def test_aov_sample_size_by_hand():
    """One order per customer: AOV's variance per unit is the orders' sample variance."""
    df, v = _store()
    r = aovlab.power_analysis(workspace_with(df), lift=0.05)
    row = r.table.iloc[0]
    s2 = v.var(ddof=1)
    assert row["sd_per_unit"] == pytest.approx(math.sqrt(s2), rel=1e-9)
    n = math.ceil(Z * Z * s2 * 2 / (0.05 * v.mean()) ** 2)
    assert row["control_units"] == n and row["treatment_units"] == n
    assert row["units_per_day"] == pytest.approx(30.0)  # 3,000 customers over 100 days
    assert row["days"] == math.ceil(2 * n / 30.0)
    # the lift an 8-week test finds, put back in, needs 8 weeks of units
    found = row["lift_8w_pct"]
    back = aovlab.power_analysis(workspace_with(df), lift=float(found)).table.iloc[0]
    assert back["control_units"] == pytest.approx(30 * 56 / 2, rel=0.01)


def test_revenue_per_visitor_on_the_ga4_sample():
    from test_import_ga4 import _sample

    ws = aovlab.Workspace(":memory:")
    aovlab.import_files(ws, _sample(), "ga4")
    r = aovlab.power_analysis(ws, metric="all", lift=0.1)
    t = r.table.set_index("metric")
    rev, sq = ws.con.execute("SELECT sum(gross_sales - discounts), "
                             "sum((gross_sales - discounts) ^ 2) FROM orders WHERE status IN "
                             "('placed', 'refunded')").fetchone()
    visitors = ws.con.execute("SELECT sum(visitors) FROM traffic").fetchone()[0]
    mean = rev / visitors
    assert t.loc["revenue_per_visitor", "mean"] == pytest.approx(mean)
    assert t.loc["revenue_per_visitor", "sd_per_unit"] == pytest.approx(
        math.sqrt(sq / visitors - mean * mean))
    assert t.loc["revenue_per_visitor", "unit"] == "visitor"
    assert "aov" in t.index


def test_bad_settings_and_no_traffic():
    ws = workspace_with(_store(200)[0])
    with pytest.raises(NoDataError, match="no traffic"):
        aovlab.power_analysis(ws, metric="revenue_per_visitor")
    with pytest.raises(DefinitionError, match="lift 0"):
        aovlab.power_analysis(ws, lift=0)
    with pytest.raises(DefinitionError, match="metric 'cr'"):
        aovlab.power_analysis(ws, metric="cr")
    r = aovlab.power_analysis(ws, metric="all")
    assert list(r.table["metric"]) == ["aov"] and any("no traffic" in n for n in r.notes)
