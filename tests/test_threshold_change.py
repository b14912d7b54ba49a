"""aovlab.threshold_change: before/after a threshold change, with difference-in-differences
against a comparison group, checked against pandas on a seeded two-country store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import aovlab
from aovlab.errors import DefinitionError, NoDataError
from aovlab.stats.threshold_store import ThresholdStore
from fixtures import workspace_with

CHANGE = pd.Timestamp("2024-04-01")


def _store(effect: float, seed: int = 0, n: int = 24_000) -> pd.DataFrame:
    """UK and FR orders over 182 days; from 1 April the UK gets a £50 threshold (``effect``
    of the orders within £15 below pad up); both countries' order values rise 5% then."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, 182, n)
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D")
    uk = rng.random(n) < 0.5
    v = rng.lognormal(np.log(40), 0.5, n)
    after = when >= CHANGE
    padded, _ = ThresholdStore(50, effect, 15, 5).sample(n, seed + 1)
    base, _ = ThresholdStore(50, 0.0, 15, 5).sample(n, seed + 1)
    v = np.where(uk & after, padded, np.where(uk, base, v)) * np.where(after, 1.05, 1.0)
    return pd.DataFrame({"order_id": [f"o{i}" for i in range(n)],
                         "customer_id": [f"c{i}" for i in range(n)],
                         "created_at": when + pd.to_timedelta(rng.integers(0, 86_000, n),
                                                              unit="s"),
                         "gross_sales": np.round(v, 2), "country": np.where(uk, "UK", "FR"),
                         "status": "placed", "total": np.round(v, 2)})


def _pandas(df: pd.DataFrame, days: int) -> dict[str, float]:
    d = df.assign(date=df.created_at.dt.normalize())
    before = d[(d.date >= CHANGE - pd.Timedelta(days=days)) & (d.date < CHANGE)]
    after = d[(d.date >= CHANGE) & (d.date < CHANGE + pd.Timedelta(days=days))]
    aov = {(p, c): g.gross_sales.mean() for p, x in (("b", before), ("a", after))
           for c, g in x.groupby("country")}
    n = {(p, c): len(g) / days for p, x in (("b", before), ("a", after))
         for c, g in x.groupby("country")}
    return {"aov_did": (aov["a", "UK"] - aov["b", "UK"]) - (aov["a", "FR"] - aov["b", "FR"]),
            "aov_uk": aov["a", "UK"] - aov["b", "UK"],
            "opd_did": (n["a", "UK"] - n["b", "UK"]) - (n["a", "FR"] - n["b", "FR"])}


def test_difference_in_differences_against_pandas():
    df = _store(0.5, n=80_000)
    r = aovlab.threshold_change(workspace_with(df), change="2024-04-01", by="country",
                                treated="UK", threshold=50)
    assert r.meta["days"] == 91 and r.meta["comparison"]
    e = r.table.set_index("metric")
    want = _pandas(df, 91)
    assert e.loc["aov", "did"] == pytest.approx(want["aov_did"], rel=1e-9)
    assert e.loc["aov", "treated_change"] == pytest.approx(want["aov_uk"], rel=1e-9)
    assert e.loc["orders_per_day", "did"] == pytest.approx(want["opd_did"], abs=1e-9)
    # the threshold lifted the UK's AOV beyond noise, and more orders are over £50
    assert e.loc["aov", "did_ci_low"] > 0 and e.loc["aov", "did_p"] < 0.01
    assert e.loc["share_over_threshold", "did"] > 0.03
    # both countries rose 5%: the comparison took the season out
    assert e.loc["aov", "comparison_change_pct"] == pytest.approx(0.05, abs=0.02)
    assert e.loc["aov", "placebo_p"] > 0.01
    p = r.tables["periods"]
    assert set(p["group"]) == {"treated", "comparison"} and len(p) == 4
    assert p["orders"].sum() == len(df[(df.created_at >= CHANGE - pd.Timedelta(days=91))
                                        & (df.created_at < CHANGE + pd.Timedelta(days=91))])


def test_no_effect_is_not_beyond_noise():
    r = aovlab.threshold_change(workspace_with(_store(0.0, seed=4)), change="2024-04-01",
                                by="country", treated=["UK"], control=["FR"])
    e = r.table.set_index("metric")
    assert e.loc["aov", "did_ci_low"] < 0 < e.loc["aov", "did_ci_high"]


def test_without_a_comparison_group_it_says_so():
    df = _store(0.3)
    r = aovlab.threshold_change(workspace_with(df), change="2024-04-01", days=28,
                                filters={"country": "UK"})
    assert not r.meta["comparison"] and "did" not in r.table
    assert any("no comparison group" in n for n in r.notes)
    d = df[df.country == "UK"].assign(date=lambda x: x.created_at.dt.normalize())
    b = d[(d.date >= CHANGE - pd.Timedelta(days=28)) & (d.date < CHANGE)].gross_sales.mean()
    a = d[(d.date >= CHANGE) & (d.date < CHANGE + pd.Timedelta(days=28))].gross_sales.mean()
    assert r.table.set_index("metric").loc["aov", "treated_change"] == pytest.approx(a - b)


@pytest.mark.parametrize(("kw", "err", "match"), [
    ({"change": "2030-01-01"}, NoDataError, "not inside the data"),
    ({"change": "2024-04-01", "treated": "UK"}, DefinitionError, "need the dimension"),
    ({"change": "2024-04-01", "by": "country"}, DefinitionError, "which values"),
    ({"change": "2024-04-01", "by": "country", "treated": "UK", "control": "UK"},
     DefinitionError, "both treated and control"),
    ({"change": "2024-04-01", "by": "country", "treated": "DE"}, NoDataError,
     "no treated orders"),
    ({"change": "2024-04-01", "days": 0}, DefinitionError, "days 0"),
    ({"change": "nope"}, DefinitionError, "nope"),
])
def test_bad_settings(kw, err, match):
    ws = workspace_with(_store(0.1, n=2000))
    with pytest.raises(err, match=match):
        aovlab.threshold_change(ws, **kw)


def test_currencies_are_never_mixed_across_groups():
    from aovlab.errors import CurrencyMixError

    df = _store(0.2, n=4000)
    ws = workspace_with(df[df.country == "UK"], currency="GBP")
    aovlab.import_frame(ws, df[df.country == "FR"], kind="orders", currency="EUR",
                        source="fr")
    with pytest.raises(CurrencyMixError):
        aovlab.threshold_change(ws, change="2024-04-01", by="country", treated="UK")
    # in pounds only, France (in euros) leaves no comparison group: said, not summed
    with pytest.raises(NoDataError, match="no comparison orders"):
        aovlab.threshold_change(ws, change="2024-04-01", by="country", treated="UK",
                                currency="GBP")
    r = aovlab.threshold_change(ws, change="2024-04-01", currency="GBP")
    assert r.meta["currency"] == "GBP"
