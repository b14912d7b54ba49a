"""Properties that must hold for any store (Hypothesis)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aovlab import Workspace, import_frame, kpis
from aovlab.analyses.explain import check_additivity, explain
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


@SETTINGS
@given(order_rows)
def test_aov_times_orders_is_revenue_and_groups_add_up(rows):
    ws = Workspace(":memory:")
    import_frame(ws, frame(rows), currency="EUR")
    total = kpis(ws, trim=0).table
    by = kpis(ws, by=["channel", "customer_type"], period="month", trim=0).table
    assert (by.aov * by.orders).to_numpy() == pytest.approx(by.revenue.to_numpy(), abs=1e-6)
    assert by.orders.sum() == total.orders.iloc[0] == len(rows)
    assert by.revenue.sum() == pytest.approx(total.revenue.iloc[0], abs=1e-6)
    t = total.iloc[0]
    assert t.new_orders + t.returning_orders + t.guest_orders == len(rows)
    assert t.min_value <= t["median"] <= t.max_value


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
@given(order_rows, order_rows)
def test_decomposition_adds_up(rows_a, rows_b):
    a = frame(rows_a)
    b = frame(rows_b)
    b["order_id"] = "b" + b.order_id
    b["created_at"] = (pd.to_datetime(b.created_at) + pd.Timedelta(days=366)).map(
        lambda t: t.isoformat())
    ws = Workspace(":memory:")
    import_frame(ws, pd.concat([a, b]), currency="EUR")
    x = explain(ws, "2024-01-01:2024-12-31", "2025-01-01:2025-12-31", by="channel")
    assert check_additivity(x)


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
