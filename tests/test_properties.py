"""Properties that must hold for any store (Hypothesis)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aovlab import Workspace, import_frame, kpis
from aovlab.analyses.explain import explain
from aovlab.stats import Moments, RatioMoments, mix_rate

money = st.floats(min_value=0, max_value=10_000, allow_nan=False).map(lambda x: round(x, 2))

order_rows = st.lists(
    st.tuples(
        st.sampled_from(["web", "app", "pos"]),
        st.integers(min_value=1, max_value=60),  # day of 2024
        money,
        st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"])),
        st.integers(min_value=1, max_value=5),
    ),
    min_size=2, max_size=40,
)


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(len(rows))],
        "channel": [r[0] for r in rows],
        "created_at": [(pd.Timestamp("2024-01-01") + pd.Timedelta(days=r[1] - 1)).isoformat()
                       for r in rows],
        "gross_sales": [r[2] for r in rows],
        "customer_id": [r[3] for r in rows],
        "units": [r[4] for r in rows],
    })


SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _truth(rows) -> pd.DataFrame:
    """The orders as plain pandas, with the customer type found by walking them in time
    order (order id on ties): nothing here calls aovlab."""
    d = frame(rows)
    d["value"] = d["gross_sales"]
    d["month"] = pd.to_datetime(d["created_at"]).dt.to_period("M").dt.start_time.dt.date
    walk = d.sort_values(["created_at", "order_id"])
    seen: set = set()
    kind = {}
    for idx, cust in zip(walk.index, walk.customer_id, strict=True):
        kind[idx] = "guest" if cust is None else ("returning" if cust in seen else "new")
        seen.add(cust)
    d["customer_type"] = pd.Series(kind)
    return d


@SETTINGS
@given(order_rows, st.sampled_from(["duckdb", "spark"]))
def test_kpis_agree_with_plain_pandas_for_any_store(rows, engine_name):
    ws = Workspace(":memory:")
    import_frame(ws, frame(rows), currency="EUR")
    eng = _engine(ws, engine_name)
    truth = _truth(rows)
    by = kpis(ws, by=["channel", "customer_type"], period="month", trim=0, definition="gross",
              engine=eng).table
    want = truth.groupby(["month", "channel", "customer_type"]).value.agg(
        ["size", "sum", "mean", "median"])
    got = by.set_index(["period", "channel", "customer_type"])[
        ["orders", "revenue", "aov", "median"]]
    assert sorted(got.index) == sorted(want.index)
    for key, row in want.iterrows():
        g = got.loc[key]
        assert g.orders == row["size"]
        assert g.revenue == pytest.approx(row["sum"], rel=1e-9, abs=1e-9)
        assert g.aov == pytest.approx(row["mean"], rel=1e-9, abs=1e-9)
        assert g["median"] == pytest.approx(row["median"], rel=1e-9, abs=1e-9)
    t = kpis(ws, definition="gross", engine=eng).table.iloc[0]
    counts = truth.customer_type.value_counts()
    assert (t.new_orders, t.returning_orders, t.guest_orders) == tuple(
        int(counts.get(k, 0)) for k in ("new", "returning", "guest"))
    assert t.customers == truth.customer_id.dropna().nunique()


def _engine(ws, name):
    if name == "spark":
        pytest.importorskip("pyspark")
    from tests.conftest import engine_for

    return engine_for(ws, name)


@SETTINGS
@given(order_rows)
def test_reimport_is_a_no_op(rows):
    ws = Workspace(":memory:")
    df = frame(rows)
    import_frame(ws, df, currency="EUR")
    again = import_frame(ws, df, currency="EUR")
    assert again.orders_added == 0
    assert again.tables["orders"].already_present == len(rows)
    assert ws.count("orders") == len(rows)


@SETTINGS
@given(order_rows, order_rows, st.sampled_from(["duckdb", "spark"]))
def test_decomposition_adds_up_to_the_change_pandas_computes(rows_a, rows_b, engine_name):
    """Each part of explain adds up to a change computed here with pandas, within 1e-9 of
    that change (floating-point precision, as the README says)."""
    a = frame(rows_a)
    b = frame(rows_b)
    b["order_id"] = "b" + b.order_id
    b["created_at"] = (pd.to_datetime(b.created_at) + pd.Timedelta(days=366)).map(
        lambda t: t.isoformat())
    ws = Workspace(":memory:")
    import_frame(ws, pd.concat([a, b]), currency="EUR")
    x = explain(ws, "2024-01-01:2024-12-31", "2025-01-01:2025-12-31", by="channel",
                definition="gross", engine=_engine(ws, engine_name))
    aov_a, aov_b = a.gross_sales.mean(), b.gross_sales.mean()
    change = aov_b - aov_a

    def tol(target: float) -> float:
        return 1e-9 * abs(target) + 1e-12 * max(aov_a, aov_b, 1.0)

    assert x.change == pytest.approx(change, abs=tol(change))
    assert abs(x.mix_effect + x.rate_effect - change) <= tol(change)
    f = x.factors.set_index(["identity", "component"]).effect
    assert abs(f.loc["aov"].sum() - change) <= tol(change)  # every order has units here
    upo = (a.units.sum() / len(a), b.units.sum() / len(b))
    assert x.factors.set_index("component").loc["units per order", ["base", "compare"]] \
        .tolist() == pytest.approx(list(upo))
    d_rev = b.gross_sales.sum() - a.gross_sales.sum()
    assert abs(f.loc["revenue"].sum() - d_rev) <= tol(d_rev) * max(len(a), len(b))


@given(st.lists(st.tuples(st.integers(0, 50), money, st.integers(0, 50), money),
                min_size=1, max_size=6))
def test_mix_rate_sums_to_change(segs):
    n_a = [s[0] for s in segs]
    n_b = [s[2] for s in segs]
    if sum(n_a) == 0 or sum(n_b) == 0:
        return
    r_a = [s[0] * s[1] for s in segs]
    r_b = [s[2] * s[3] for s in segs]
    parts = mix_rate(n_a, r_a, n_b, r_b)
    change = sum(r_b) / sum(n_b) - sum(r_a) / sum(n_a)
    assert sum(p.total_effect for p in parts) == pytest.approx(change, abs=1e-6)


@given(st.lists(money, min_size=2, max_size=30), st.lists(money, min_size=2, max_size=30))
def test_moments_merge_like_concatenation(xs, ys):
    def m(v):
        return Moments(len(v), sum(v), sum(x * x for x in v))

    merged = m(xs) + m(ys)
    whole = m(xs + ys)
    assert merged.n == whole.n
    assert merged.sum == pytest.approx(whole.sum)
    assert merged.sum_sq == pytest.approx(whole.sum_sq)
    assert merged.mean == pytest.approx(pd.Series(xs + ys).mean())
    assert merged.variance == pytest.approx(pd.Series(xs + ys).var(), rel=1e-6, abs=1e-6)


def test_ratio_delta_method_matches_iid_when_one_order_per_unit():
    xs = [10.0, 20.0, 35.0, 50.0, 80.0]
    r = RatioMoments(5, sum(xs), 5, sum(x * x for x in xs), 5, sum(xs))
    m = Moments(5, sum(xs), sum(x * x for x in xs))
    # with y = 1 for every unit the ratio is the mean and the delta method its usual SE
    assert r.ratio == pytest.approx(m.mean)
    assert r.se == pytest.approx(m.se)
