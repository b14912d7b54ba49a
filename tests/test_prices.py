"""Price tests (aovlab.price_test and aovlab.stats.prices): hand-checked figures, SciPy's
Wilson interval, the elasticity's coverage on seeded constant-elasticity stores, the
profit-maximising price, the "higher AOV is not always better" warning and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

import aovlab
from aovlab.errors import DefinitionError, InputError
from aovlab.stats.prices import best_price, elasticity, wilson


def _arms(**extra) -> pd.DataFrame:
    return pd.DataFrame({"price": [20.0, 24.0], "visitors": [10_000, 10_000],
                         "orders": [400, 330], "units": [480, 380],
                         "revenue": [16_000.0, 14_520.0], **extra})


@pytest.mark.parametrize(("k", "n"), [(0, 50), (3, 50), (400, 10_000), (50, 50)])
def test_wilson_matches_scipy(k, n):
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_two_arms_hand_checked():
    r = aovlab.price_test(_arms(), unit_cost=8.0)
    a = r.table
    assert list(a["conversion"]) == [0.04, 0.033]
    assert list(a["aov"]) == [40.0, 44.0]
    assert a["revenue_per_visitor"].tolist() == [1.6, 1.452]
    # profit = units × (price − cost): 480 × 12 and 380 × 16, per 10,000 visitors
    assert a["profit_per_visitor"].tolist() == pytest.approx([0.576, 0.608])
    e = r.tables["elasticity"].iloc[0]
    dlp = math.log(24 / 20)
    assert e["elasticity"] == pytest.approx(math.log(0.038 / 0.048) / dlp)
    assert e["se"] == pytest.approx(math.sqrt(1 / 480 + 1 / 380) / dlp)
    # the conversion lift against the control and its p-value, by hand
    d = 0.033 - 0.04
    se = math.sqrt(0.04 * 0.96 / 1e4 + 0.033 * 0.967 / 1e4)
    assert a["conversion_p"].iloc[1] == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(
        abs(d) / se / math.sqrt(2)))), rel=1e-9)
    # AOV up 10%, revenue per visitor down 9.25%: the warning
    warn = [n for n in r.notes if "not always better" in n]
    assert len(warn) == 1 and "+10.0%" in warn[0] and "revenue per visitor -9." in warn[0]
    assert r.meta["best_tested"] == 24.0  # by profit per visitor


def test_no_warning_when_revenue_and_profit_rise_with_aov():
    r = aovlab.price_test(_arms(revenue=[16_000.0, 17_000.0]), unit_cost=8.0)
    assert not any("not always better" in n for n in r.notes)


def test_revenue_sq_gives_intervals():
    # one order per converting visitor, each of value 40 (control) or 44
    arms = _arms(revenue_sq=[400 * 40.0 ** 2, 330 * 44.0 ** 2])
    r = aovlab.price_test(arms)
    a = r.table
    var0 = (400 * 1600 / 1e4 - 1.6 ** 2) / 1e4
    var1 = (330 * 44 ** 2 / 1e4 - 1.452 ** 2) / 1e4
    z = (1.452 - 1.6) / math.sqrt(var0 + var1)
    assert a["revenue_per_visitor_p"].iloc[1] == pytest.approx(
        math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)
    assert a["aov_p"].iloc[1] < 1e-6  # every order of the arm is 44 against 40: no spread
    assert not any("no revenue_sq" in n for n in r.notes)
    assert any("no costs" in n for n in r.notes)


def test_elasticity_interval_covers_the_truth():
    """200 seeded stores with demand per visitor 0.05 (p / 20)^-1.5 at four prices: the 95%
    interval holds −1.5 in 90–99% of them."""
    rng = np.random.default_rng(0)
    prices = np.array([18.0, 20.0, 22.0, 24.0])
    visitors = np.full(4, 20_000.0)
    hits = 0
    for _ in range(200):
        units = rng.poisson(visitors * 0.05 * (prices / 20) ** -1.5)
        lo, hi = elasticity(prices, units, visitors).ci
        hits += lo <= -1.5 <= hi
    assert 180 <= hits <= 198


def test_best_price_is_the_profit_maximum():
    """With ε = −2 and a unit cost of 10 the profit q(p)(p − c) peaks at p = cε/(1 + ε) =
    20; inside a tested range of 15–25 it is found, outside it the edge is."""
    prices = np.array([15.0, 20.0, 25.0])
    visitors = np.full(3, 1e9)
    units = visitors * 0.05 * (prices / 20) ** -2.0
    e = elasticity(prices, units, visitors)
    assert e.value == pytest.approx(-2.0) and e.dispersion == 1.0
    assert best_price(e, 15, 25, 10.0)[0] == pytest.approx(20.0, abs=0.01)
    assert best_price(e, 22, 25, 10.0)[0] == 22.0
    r = aovlab.price_test(pd.DataFrame({"price": prices, "visitors": visitors,
                                        "orders": units, "units": units,
                                        "revenue": units * prices}), unit_cost=10.0)
    assert r.tables["elasticity"]["best_price"].iloc[0] == pytest.approx(20.0, abs=0.01)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(2, 50), order=st.permutations([0, 1, 2, 3]))
def test_elasticity_ignores_row_order_and_scales_with_traffic(k, order):
    p = np.array([10.0, 12.0, 14.0, 16.0])
    v = np.array([1000.0, 1200.0, 900.0, 1100.0])
    u = np.array([100.0, 90.0, 60.0, 55.0])
    e = elasticity(p, u, v)
    o = list(order)
    assert elasticity(p[o], u[o], v[o]).value == pytest.approx(e.value, rel=1e-9)
    big = elasticity(p, u * k, v * k)
    assert big.value == pytest.approx(e.value, rel=1e-9)
    # Poisson noise shrinks with √k; the dispersion scales with k, floored at 1
    assert big.se <= e.se * math.sqrt(big.dispersion / e.dispersion) / math.sqrt(k) * (
        1 + 1e-9)


def test_bad_arms_files_are_clear_errors(tmp_path):
    f = tmp_path / "arms.csv"
    _arms().drop(columns="units").to_csv(f, index=False)
    with pytest.raises(InputError, match=r"arms.csv.*column 'units'.*missing"):
        aovlab.price_test(f)
    _arms(visitors=[10_000, -5]).to_csv(f, index=False)
    with pytest.raises(InputError, match=r"row 2, column 'visitors', value '-5'"):
        aovlab.price_test(f)
    _arms(orders=[400, 20_000]).to_csv(f, index=False)
    with pytest.raises(InputError, match=r"(?s)row 2, column 'orders'.*cannot exceed"):
        aovlab.price_test(f)
    _arms(price=[20.0, 20.0]).to_csv(f, index=False)
    with pytest.raises(InputError, match="same price"):
        aovlab.price_test(f)
    _arms(price=["20", "abc"]).to_csv(f, index=False)
    with pytest.raises(InputError, match=r"row 2, column 'price', value 'abc'"):
        aovlab.price_test(f)
    with pytest.raises(InputError, match="does not exist"):
        aovlab.price_test(tmp_path / "nope.csv")
    with pytest.raises(DefinitionError, match="control price 21"):
        aovlab.price_test(_arms(), control=21)
    with pytest.raises(DefinitionError, match="margin 1.5"):
        aovlab.price_test(_arms(), margin=1.5)
    _arms().iloc[:1].to_csv(f, index=False)
    with pytest.raises(InputError, match="two or more"):
        aovlab.price_test(f)


def test_a_polars_frame_and_a_parquet_file(tmp_path):
    pl = pytest.importorskip("polars")
    a = aovlab.price_test(pl.from_pandas(_arms()), control=24).table
    assert a["control"].tolist() == [False, True]
    _arms().to_parquet(tmp_path / "a.parquet")
    b = aovlab.price_test(tmp_path / "a.parquet").table
    assert b["aov"].tolist() == [40.0, 44.0]


def test_orders_of_several_units_keep_the_coverage_with_units_sq():
    """Orders of 1–5 units (compound Poisson): with the orders' Σ units² the interval holds
    the true elasticity in 90–99% of 300 seeded stores; a note says when it is missing."""
    rng = np.random.default_rng(1)
    prices = np.array([18.0, 20.0, 22.0, 24.0])
    visitors = np.full(4, 20_000.0)
    hits = 0
    for _ in range(300):
        orders = rng.poisson(visitors * 0.02 * (prices / 20) ** -1.5)
        per = [rng.integers(1, 6, k) for k in orders]
        units = np.array([x.sum() for x in per], float)
        usq = np.array([(x.astype(float) ** 2).sum() for x in per])
        lo, hi = elasticity(prices, units, visitors, units_sq=usq).ci
        hits += lo <= -1.5 <= hi
    assert 270 <= hits <= 297
    r = aovlab.price_test(_arms(units=[1200, 950]))
    assert any("no units_sq" in n for n in r.notes)


def test_a_price_that_sold_nothing_is_named_and_not_picked():
    arms = pd.DataFrame({"price": [20.0, 25.0, 30.0], "visitors": [1000, 1000, 1000],
                         "orders": [50, 40, 0], "units": [50, 40, 0],
                         "revenue": [1000.0, 1000.0, 0.0]})
    r = aovlab.price_test(arms, unit_cost=5.0)
    assert any("no units sold at 30" in n for n in r.notes)
    assert r.tables["elasticity"]["best_price"].iloc[0] <= 25.0


def test_relative_lift_of_a_loss_that_shrinks_is_a_gain():
    # unit cost 30 above both prices: profit per visitor −0.48 → −0.228
    r = aovlab.price_test(_arms(), unit_cost=30.0)
    a = r.table
    assert a["profit_per_visitor"].tolist() == pytest.approx([-0.48, -0.228])
    assert a["profit_per_visitor_lift"].iloc[1] == pytest.approx((0.48 - 0.228) / 0.48)
    # a zero in the tested arm still has an interval
    z = aovlab.price_test(_arms(orders=[400, 0], units=[480, 0], revenue=[16_000.0, 0.0]))
    assert np.isfinite(z.table["conversion_lift_ci_low"].iloc[1])


def test_impossible_sums_of_squares_are_refused(tmp_path):
    f = tmp_path / "arms.csv"
    _arms(revenue_sq=[100.0, 330 * 44.0 ** 2]).to_csv(f, index=False)
    with pytest.raises(InputError, match=r"(?s)row 1, column 'revenue_sq'.*below"):
        aovlab.price_test(f)
