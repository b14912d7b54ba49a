"""One metric suite, run on every engine, checked against hand values and a pandas reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from tests.conftest import engine_for
from tests.fixtures import reference_kpis, tiny_orders, workspace_with

from aovlab import (
    CurrencyMixError,
    DefinitionError,
    NoDataError,
    Workspace,
    histogram,
    import_frame,
    kpis,
)

COMPARED = ["orders", "revenue", "aov", "median", "trimmed_aov", "winsorized_aov", "p90",
            "min_value", "max_value", "units_per_order", "avg_unit_price", "customers",
            "purchase_frequency", "repeat_customer_rate", "avg_customer_spend", "new_orders",
            "returning_orders", "guest_orders", "discount_share", "shipping_share",
            "margin_per_order", "aov_ci_low", "aov_ci_high"]


@pytest.fixture(scope="module")
def tiny_ws():
    ws = workspace_with(tiny_orders())
    yield ws
    ws.close()


def test_hand_computed_values(tiny_ws, engine_name):
    k = kpis(tiny_ws, engine=engine_for(tiny_ws, engine_name)).table
    row = k.iloc[0]
    # placed + refunded: o1 90, o2 50, o3 180, o4 30, o6 80, o7 270, o8 60 (net)
    assert row.definition == "net"
    assert row.orders == 7
    assert row.revenue == pytest.approx(760.0)
    assert row.aov == pytest.approx(760 / 7)
    assert row["median"] == pytest.approx(80.0)
    assert row.units_per_order == pytest.approx(15 / 7)
    assert row.avg_unit_price == pytest.approx(760 / 15)
    # customers c1 (o1, o3), c2 (o2, o6), c3 (o7), c4 (o8); o4 is a guest
    assert row.customers == 4
    assert row.repeat_customer_rate == pytest.approx(0.5)
    assert row.purchase_frequency == pytest.approx(6 / 4)
    assert row.avg_customer_spend == pytest.approx(730 / 4)
    assert (row.new_orders, row.returning_orders, row.guest_orders) == (4, 2, 1)
    assert row.new_aov == pytest.approx((90 + 50 + 270 + 60) / 4)
    assert row.returning_aov == pytest.approx((180 + 80) / 2)
    assert row.guest_aov == pytest.approx(30.0)
    assert row.discount_share == pytest.approx(60 / 820)
    # margin = net − returns − cost over orders with cost: o1 50, o2 30, o3 100, o6 20,
    # o7 170, o8 35
    assert row.margin_per_order == pytest.approx(405 / 6)
    assert row.cost_coverage == pytest.approx(6 / 7)
    assert row.aov_ci_low < row.aov < row.aov_ci_high


@pytest.mark.parametrize("definition,expected", [
    ("gross", 820.0), ("net", 760.0), ("net_of_returns", 730.0), ("total", 785.0)])
def test_definitions(tiny_ws, definition, expected, engine_name):
    res = kpis(tiny_ws, definition=definition, engine=engine_for(tiny_ws, engine_name))
    k, k_meta = res.table, res.meta
    assert k.revenue.iloc[0] == pytest.approx(expected)
    assert k.definition.iloc[0] == definition
    assert k_meta["definition"] == definition


@pytest.mark.parametrize("by,period", [([], None), (["channel"], None), ([], "month"),
                                       (["channel", "customer_type"], "month")])
def test_matches_pandas_reference(tiny_ws, engine_name, by, period):
    got = kpis(tiny_ws, by=by, period=period, engine=engine_for(tiny_ws, engine_name)).table
    ref = reference_kpis(tiny_orders(), by, period=period)
    keys = (["period"] if period else []) + by
    if keys:
        got = got.sort_values(keys).reset_index(drop=True)
        ref = ref.sort_values(keys).reset_index(drop=True)
    for k in keys:
        assert list(map(str, got[k])) == list(map(str, ref[k]))
    for col in COMPARED:
        np.testing.assert_allclose(got[col].astype(float), ref[col].astype(float),
                                   rtol=1e-9, equal_nan=True, err_msg=col)


def test_period_over_period(tiny_ws, engine_name):
    k = kpis(tiny_ws, period="month", engine=engine_for(tiny_ws, engine_name)).table
    jan, feb = k.iloc[0], k.iloc[1]
    assert str(jan.period) == "2024-01-01" and str(feb.period) == "2024-02-01"
    assert math.isnan(jan.aov_pop_pct)
    assert feb.aov_pop_change == pytest.approx(feb.aov - jan.aov)
    assert feb.aov_pop_pct == pytest.approx(feb.aov / jan.aov - 1)
    assert feb.orders_pop_pct == pytest.approx(3 / 4 - 1)
    assert math.isnan(feb.aov_yoy_pct)  # no February 2023


def test_year_over_year(engine_name):
    df = tiny_orders()
    later = df.copy()
    later["order_id"] = later.order_id + "-2025"
    later["created_at"] = later.created_at.str.replace("2024", "2025")  # no 29 Feb inside
    later["gross_sales"] = later.gross_sales * 2
    later["total"] = later.gross_sales - later.discounts + later.shipping
    ws = workspace_with(pd.concat([df, later]))
    k = kpis(ws, period="month", engine=engine_for(ws, engine_name)).table
    jan25 = k[k.period.astype(str) == "2025-01-01"].iloc[0]
    jan24 = k[k.period.astype(str) == "2024-01-01"].iloc[0]
    assert jan25.revenue_yoy_pct == pytest.approx(jan25.revenue / jan24.revenue - 1)
    assert jan25.aov_yoy_change == pytest.approx(jan25.aov - jan24.aov)


def test_filters_and_statuses(tiny_ws, engine_name):
    eng = engine_for(tiny_ws, engine_name)
    web = kpis(tiny_ws, filters={"channel": "web"}, engine=eng).table
    assert web.orders.iloc[0] == 4  # o1 o2 o6 o8
    with_test = kpis(tiny_ws, statuses=["placed", "refunded", "test"], engine=eng).table
    assert with_test.orders.iloc[0] == 8
    dated = kpis(tiny_ws, start="2024-02-01", end="2024-02-28", engine=eng).table
    assert dated.orders.iloc[0] == 3


def test_errors(tiny_ws):
    with pytest.raises(DefinitionError, match="unknown dimension"):
        kpis(tiny_ws, by=["colour"])
    with pytest.raises(DefinitionError, match="period"):
        kpis(tiny_ws, period="fortnight")
    with pytest.raises(DefinitionError, match="definition"):
        kpis(tiny_ws, definition="gmv")
    with pytest.raises(NoDataError):
        kpis(tiny_ws, start="2030-01-01")
    with pytest.raises(DefinitionError, match="after"):
        kpis(tiny_ws, start="2024-03-01", end="2024-01-01")


def test_mixed_currencies_are_never_summed(engine_name):
    df = tiny_orders()
    df.loc[df.order_id == "o2", "currency"] = "USD"
    ws = workspace_with(df)
    eng = engine_for(ws, engine_name)
    with pytest.raises(CurrencyMixError):
        kpis(ws, engine=eng)
    by_cur = kpis(ws, by=["currency"], engine=eng).table
    assert set(by_cur.currency) == {"EUR", "USD"}
    assert kpis(ws, currency="usd", engine=eng).table.orders.iloc[0] == 1


def test_histogram_flags_outliers(engine_name):
    values = [10.0] * 40 + [20.0] * 40 + [30.0] * 19 + [5000.0]
    df = pd.DataFrame({"order_id": [f"h{i}" for i in range(100)],
                       "created_at": "2024-03-01 12:00", "gross_sales": values})
    ws = workspace_with(df)
    res = histogram(ws, bins=4, engine=engine_for(ws, engine_name))
    h = res.table
    assert h.orders.sum() == 100
    assert h.revenue.sum() == pytest.approx(sum(values))
    out = h[h.outlier]
    assert out.orders.tolist() == [1]
    assert res.outlier_revenue_share == pytest.approx(5000 / sum(values))
    assert res.fence == pytest.approx(20 + 3 * (20 - 10))  # Q1 10, Q3 20


def test_traffic_conversion_and_rpv(engine_name):
    import pyarrow as pa

    ws = workspace_with(tiny_orders())
    traffic = pa.table({
        "date": pa.array([pd.Timestamp("2024-01-05").date(), pd.Timestamp("2024-02-02").date()]),
        "channel": ["web", "web"], "country": ["(not set)"] * 2, "device": ["(not set)"] * 2,
        "sessions": pa.array([100, 50], pa.int64()), "visitors": pa.array([80, 40], pa.int64()),
        "view_item": pa.array([None, None], pa.int64()),
        "add_to_cart": pa.array([None, None], pa.int64()),
        "begin_checkout": pa.array([None, None], pa.int64()),
        "purchases": pa.array([None, None], pa.int64())})
    ws.con.register("t_in", traffic)
    ws.con.execute("INSERT INTO traffic SELECT 'ga4', * FROM t_in")
    k = kpis(ws, by=["channel"], engine=engine_for(ws, engine_name)).table
    web = k[k.channel == "web"].iloc[0]
    assert web.sessions == 150
    assert web.orders_per_session == pytest.approx(4 / 150)
    assert web.revenue_per_visitor == pytest.approx(280 / 120)
    # this traffic records sessions only: no funnel step, no session conversion rate
    assert math.isnan(web.view_item_sessions) and math.isnan(web.session_conversion_rate)
    # grouping by a dimension traffic does not have: no conversion columns
    assert "orders_per_session" not in kpis(ws, by=["customer_type"]).table.columns


def test_the_ga4_funnel_and_session_conversion_rate(engine_name):
    """GA4's session conversion rate on 2020-11-18 of the sample: 49 sessions with a
    purchase / 4,133 sessions = 1.19%, beside orders / sessions; each step's sessions."""
    from tests.conftest import shared_file

    import aovlab

    ws = Workspace(":memory:")
    aovlab.import_files(ws, shared_file("ga4_sample", "events_20201118.parquet"), "ga4")
    day = kpis(ws, period="day", engine=engine_for(ws, engine_name)).table.iloc[0]
    assert (day.sessions, day.purchase_sessions) == (4133, 49)
    assert round(day.session_conversion_rate * 100, 2) == 1.19
    assert day.orders_per_session == pytest.approx(day.orders / 4133)
    steps = [day.view_item_sessions, day.add_to_cart_sessions, day.begin_checkout_sessions,
             day.purchase_sessions]
    assert steps == sorted(steps, reverse=True) and steps[0] < 4133
    assert day.add_to_cart_rate == pytest.approx(steps[1] / steps[0])
    assert day.purchase_rate == pytest.approx(steps[3] / steps[2])


def test_category_is_each_orders_largest_product_category(engine_name):
    # order: (product, category, quantity, unit_price) lines
    lines = [
        ("A", "book", 2, 10.0), ("A", "toy", 1, 30.0),    # toy 30 > book 20 → toy, 50
        ("B", "book", 3, 20.0), ("B", "toy", 1, 5.0),     # book 60 > toy 5 → book, 65
        ("C", "book", 1, 15.0), ("C", "book", 1, 5.0),    # book, 20
        ("D", None, 1, 40.0),                             # no category → (not set), 40
    ]
    df = pd.DataFrame(lines, columns=["order_id", "category", "quantity", "unit_price"])
    df["product_id"] = df.order_id + df.index.astype(str)
    df["created_at"] = "2024-03-01 10:00"
    ws = Workspace(":memory:")
    import_frame(ws, df, kind="lines", currency="EUR")
    eng = engine_for(ws, engine_name)
    k = kpis(ws, by=["category"], engine=eng).table.set_index("category")
    assert k.orders.to_dict() == {"(not set)": 1, "book": 2, "toy": 1}
    assert k.revenue.to_dict() == pytest.approx({"(not set)": 40.0, "book": 85.0, "toy": 50.0})
    only = kpis(ws, filters={"category": "book"}, engine=eng).table
    assert (only.orders.iloc[0], only.revenue.iloc[0]) == (2, pytest.approx(85.0))
    # product: that of the order's largest line (A: A1's 30 beats A0's 20; B: B2's 60; C:
    # C4's 15 beats C5's 5), each order once, so the groups add up to the total
    p = kpis(ws, by=["product"], engine=eng).table.set_index("product")
    assert p.orders.to_dict() == {"A1": 1, "B2": 1, "C4": 1, "D6": 1}
    both = kpis(ws, by=["category", "product"], engine=eng).table
    assert both.orders.sum() == 4 and set(zip(both.category, both["product"], strict=True)) \
        == {("toy", "A1"), ("book", "B2"), ("book", "C4"), ("(not set)", "D6")}


def test_small_groups_get_no_interval_and_large_ones_a_t_interval(engine_name):
    """Below 5 independent units no interval; above, Student's t on n - 1, never below 0."""
    from scipy import stats as st

    import aovlab

    ws = aovlab.Workspace(":memory:")
    values = [10.0, 12.0, 200.0, 11.0, 9.0, 13.0]  # six customers, one order each
    frame = pd.DataFrame({"order_id": [f"o{i}" for i in range(6)],
                          "customer_id": [f"c{i}" for i in range(6)],
                          "created_at": ["2024-01-01 10:00"] * 4 + ["2024-01-02 10:00"] * 2,
                          "total": values})
    aovlab.import_frame(ws, frame, currency="EUR")
    eng = engine_for(ws, engine_name)
    day = aovlab.kpis(ws, period="day", engine=eng).table.set_index("period")
    assert day.aov_units.tolist() == [4, 2]
    assert day.aov_ci_low.isna().all() and day.aov_ci_high.isna().all()
    row = aovlab.kpis(ws, engine=eng).table.iloc[0]
    # one order per customer: the delta-method interval is the t interval of the mean
    mean, se = np.mean(values), np.std(values, ddof=1) / np.sqrt(6)
    half = st.t.ppf(0.975, 5) * se
    assert row.aov_units == 6
    assert row.aov_ci_high == pytest.approx(mean + half)
    assert row.aov_ci_low == pytest.approx(max(mean - half, 0.0)) and row.aov_ci_low == 0.0


@pytest.mark.parametrize("values", [
    [20.0] * 80 + [21.0 + i * 8 / 18 for i in range(19)] + [900.0],  # IQR 0, P90 > P10
    [20.0] * 95 + [900.0] * 5,  # P90 = P10 too: nothing to measure spread against
])
def test_outlier_fence_when_most_orders_share_one_value(values, engine_name):
    import aovlab

    ws = aovlab.Workspace(":memory:")
    frame = pd.DataFrame({"order_id": [f"o{i}" for i in range(len(values))],
                          "created_at": ["2024-01-01 10:00"] * len(values), "total": values})
    aovlab.import_frame(ws, frame, currency="EUR")
    h = aovlab.histogram(ws, engine=engine_for(ws, engine_name))
    v = np.array(values)
    q1, q3, p10, p90 = np.percentile(v, [25, 75, 10, 90])
    assert h.meta["q1"] == q1 == q3 == 20.0  # Tukey's fence would flag every order above 20
    spread = (p90 - p10) * 1.349 / 2.563
    expected = int((v > q3 + 3 * spread).sum()) if spread > 0 else 0
    assert h.outlier_orders == expected < int((v > 20).sum())
    assert h.notes


@pytest.mark.parametrize("values", [
    [20.0] * 80 + [10.0] * 10 + [50.0] * 10,  # ties at both cuts: keep 90, as SciPy
    [float(v) for v in range(1, 20)],  # n = 19: ⌊0.95⌋ = 0 orders cut, not 2
    [5.0, 7.0, 7.0, 7.0, 7.0, 7.0, 9.0, 1000.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0,
     7.0, 7.0, 7.0, 3.0, 2.0, 7.0],  # n = 22: one cut from each end
    [float(i * i) for i in range(1, 101)],  # 0.29 · 100 is 28.999… in binary: 28 cut
])
def test_trimmed_and_winsorized_aov_cut_floor_n_trim_orders_as_scipy(values, engine_name):
    """scipy.stats.trim_mean and mstats.winsorize cut ⌊n·trim⌋ orders from each end; the
    quantile range kept 99 of 100 orders here (ties at the cut) and cut small n too much."""
    from scipy import stats as st
    from scipy.stats import mstats

    ws = Workspace(":memory:")
    import_frame(ws, pd.DataFrame({"order_id": [f"o{i:03d}" for i in range(len(values))],
                                   "created_at": ["2024-01-01 10:00"] * len(values),
                                   "total": values}), currency="EUR")
    eng = engine_for(ws, engine_name)
    for trim in (0.05, 0.1, 0.25, 0.29):
        row = kpis(ws, definition="total", trim=trim, engine=eng).table.iloc[0]
        assert row.trimmed_aov == pytest.approx(st.trim_mean(values, trim), rel=1e-12)
        wins = np.asarray(mstats.winsorize(np.array(values), limits=(trim, trim))).mean()
        assert row.winsorized_aov == pytest.approx(wins, rel=1e-12)


def _monthly_store():
    """Orders on the 10th of every month from 2016-01 to 2017-03, one more each month, plus
    one on 2017-03-20: the data runs from 2016-01-10 to 2017-03-20, so January 2016 and
    March 2017 are partial."""
    rows, n = [], 0
    for m in range(15):
        y, mo = 2016 + m // 12, m % 12 + 1
        for i in range(m + 1):
            rows.append({"order_id": f"o{n}", "customer_id": f"c{n}",
                         "created_at": f"{y}-{mo:02d}-10 12:00", "total": 10.0 + m + i})
            n += 1
    rows.append({"order_id": f"o{n}", "customer_id": "c0", "created_at": "2017-03-20 12:00",
                 "total": 99.0})
    ws = Workspace(":memory:")
    import_frame(ws, pd.DataFrame(rows), currency="EUR")
    return ws


def test_period_comparisons_do_not_depend_on_the_date_filter(engine_name):
    """With --start 2017-01-01 January 2017 keeps its year-over-year and previous-month
    changes: the periods compared with are read whatever the filter."""
    ws = _monthly_store()
    eng = engine_for(ws, engine_name)
    whole = kpis(ws, period="month", engine=eng).table.set_index("period")
    cut = kpis(ws, period="month", start="2017-01-01", engine=eng).table.set_index("period")
    assert [str(p) for p in cut.index] == ["2017-01-01", "2017-02-01", "2017-03-01"]
    for col in ("aov_pop_pct", "aov_yoy_pct", "aov_yoy_change", "orders_yoy_pct",
                "revenue_pop_pct"):
        assert cut[col].tolist() == pytest.approx(whole[col].loc[cut.index].tolist())
    jan = cut.iloc[0]
    # January 2016: one order of 10; January 2017: 13 orders of 22..34 (AOV 28)
    assert jan.aov_yoy_change == pytest.approx(28.0 - 10.0)
    assert jan.orders_pop_pct == pytest.approx(13 / 12 - 1)


def test_partial_periods_are_flagged_and_their_changes_marked(engine_name):
    ws = _monthly_store()
    eng = engine_for(ws, engine_name)
    t = kpis(ws, period="month", engine=eng).table.set_index("period")
    assert t.partial.sum() == 2 and bool(t.partial.iloc[0]) and bool(t.partial.iloc[-1])
    assert bool(t.pop_partial.iloc[-1]) and bool(t.yoy_partial.iloc[-1])
    assert bool(t.pop_partial.iloc[1]) and not t.pop_partial.iloc[2]  # Feb 2016 vs Jan 2016
    assert bool(t.yoy_partial.iloc[12]) and not t.yoy_partial.iloc[13]  # vs Jan / Feb 2016
    # a start in mid-January cuts January 2017 too, and February's change compares with it
    cut = kpis(ws, period="month", start="2017-01-05", engine=eng)
    ct = cut.table
    assert ct.partial.tolist() == [True, False, True]
    assert ct.pop_partial.tolist() == [True, True, True]
    assert cut.meta["partial_periods"] == 2
    assert (cut.meta["data_first_date"], cut.meta["data_last_date"]) == (
        pd.Timestamp("2016-01-10").date(), pd.Timestamp("2017-03-20").date())


def test_last_month_is_the_datas_last_whole_month(engine_name):
    """--last month: relative to the data's last order (2017-03-20), not to today."""
    from aovlab import explain

    ws = _monthly_store()
    eng = engine_for(ws, engine_name)
    k = kpis(ws, last="month", engine=eng)
    row = k.table.iloc[0]
    assert len(k.table) == 1 and str(row.period) == "2017-02-01" and row.orders == 14
    assert (k.meta["start"], k.meta["end"]) == (pd.Timestamp("2017-02-01").date(),
                                                pd.Timestamp("2017-02-28").date())
    assert row.orders_pop_pct == pytest.approx(14 / 13 - 1)  # January 2017, outside the range
    assert row.orders_yoy_pct == pytest.approx(14 / 2 - 1)  # February 2016
    x = explain(ws, last="month", vs="year", engine=eng)
    assert (x.base, x.compare) == (
        (pd.Timestamp("2016-02-01").date(), pd.Timestamp("2016-02-29").date()),
        (pd.Timestamp("2017-02-01").date(), pd.Timestamp("2017-02-28").date()))
    q = kpis(ws, last="quarter", engine=eng).table.iloc[0]
    assert str(q.period) == "2016-10-01" and q.orders == 10 + 11 + 12
    with pytest.raises(DefinitionError, match="--last 'fortnight'"):
        kpis(ws, last="fortnight")
    with pytest.raises(DefinitionError, match="not both"):
        explain(ws, "2017-01-01:2017-01-31", "2017-02-01:2017-02-28", last="month")


def test_new_vs_returning_says_how_much_history_it_knows():
    """A 2-day export calls most buyers new: the result says the history is short."""
    ws = _monthly_store()
    note = kpis(ws, start="2016-03-01").notes
    assert len(note) == 1 and "starts on 2016-01-10 (51 day(s) before the selection)" in note[0]
    assert kpis(ws, start="2017-02-01").notes == []  # over a year of history before it
    ws2 = Workspace(":memory:")  # guests only: no customer types to qualify
    import_frame(ws2, pd.DataFrame({"order_id": ["a"], "created_at": ["2024-01-01"],
                                    "total": [5.0]}), currency="EUR")
    assert kpis(ws2).notes == []


def test_region_and_city_are_dimensions(engine_name):
    ws = Workspace(":memory:")
    import_frame(ws, pd.DataFrame({
        "order_id": ["a", "b", "c"], "created_at": ["2024-01-01"] * 3,
        "region": ["NSW", "NSW", None], "city": ["Sydney", "Newcastle", None],
        "total": [10.0, 20.0, 60.0]}), currency="AUD")
    eng = engine_for(ws, engine_name)
    by = kpis(ws, by=["region"], engine=eng).table.set_index("region")
    assert by.loc["NSW", "aov"] == 15.0 and by.loc["(not set)", "orders"] == 1
    city = kpis(ws, filters={"city": "Sydney"}, engine=eng).table.iloc[0]
    assert city.orders == 1 and city.aov == 10.0


def test_a_comparison_base_in_another_currency_gives_no_change(engine_name):
    """The look-back before --start is read per currency: a JPY year is never the base of
    a EUR year's change (without --start the mixed year is refused)."""
    ws = Workspace(":memory:")
    import_frame(ws, pd.DataFrame({"order_id": ["j1"], "created_at": ["2023-05-01"],
                                   "total": [5000.0]}), currency="JPY", source="jp")
    import_frame(ws, pd.DataFrame({"order_id": ["e1", "e2"],
                                   "created_at": ["2023-06-01", "2024-06-01"],
                                   "total": [50.0, 60.0]}), currency="EUR", source="eu")
    eng = engine_for(ws, engine_name)
    row = kpis(ws, period="year", start="2024-01-01", engine=eng).table.iloc[0]
    assert row.currency == "EUR" and math.isnan(row.aov_pop_pct)
    eur = kpis(ws, period="year", start="2024-01-01", currency="EUR", engine=eng).table
    assert eur.aov_pop_pct.iloc[0] == pytest.approx(60 / 50 - 1)


def test_partial_periods_and_last_follow_the_selected_store(engine_name):
    """Two stores whose exports end on different days: each store's own last day decides
    what is partial and which month is its last."""
    ws = Workspace(":memory:")
    for source, days in (("a", ["2024-02-01", "2024-03-01", "2024-03-31"]),
                         ("b", ["2024-02-01", "2024-03-01", "2024-04-30"])):
        import_frame(ws, pd.DataFrame({"order_id": [f"{source}{i}" for i in range(3)],
                                       "created_at": days, "total": [10.0, 20.0, 30.0]}),
                     currency="EUR", source=source)
    eng = engine_for(ws, engine_name)
    a = kpis(ws, period="month", filters={"source": "a"}, engine=eng).table
    assert a.partial.tolist() == [False, False]
    assert str(kpis(ws, last="month", filters={"source": "a"}, engine=eng)
               .table.period.iloc[0]) == "2024-03-01"
    assert str(kpis(ws, last="month", engine=eng).table.period.iloc[0]) == "2024-04-01"


def test_dates_outside_the_schemas_range_are_refused():
    ws = _monthly_store()
    for bad in ("1600-01-01", "0001-01-01", "2300-01-01"):
        with pytest.raises(DefinitionError, match="outside 1970..2199"):
            kpis(ws, period="month", start=bad)
