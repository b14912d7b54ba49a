"""Sources: every row belongs to one namespace, and no row of one source joins another's.

Two stores numbering their orders alike (Shopify's #1001...) share a workspace under two
source names; a second store imported under the first one's name is refused whole.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import engine_for, shared_file

import aovlab
from aovlab.errors import InputError
from aovlab.storage import Workspace

# -- generated stores -------------------------------------------------------------------

_lines = st.lists(st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.integers(1, 3),
                            st.sampled_from([2.5, 10.0, 99.0])), min_size=1, max_size=3)
#: order id -> (day, customer, lines): ids from a small pool so that stores collide
_store = st.dictionaries(st.sampled_from([f"#{1001 + i}" for i in range(6)]),
                         st.tuples(st.sampled_from(["2024-03-01", "2024-03-02"]),
                                   st.sampled_from(["c1", "c2", None]), _lines),
                         min_size=1, max_size=5)


def _frame(store: dict) -> pd.DataFrame:
    rows = [{"order_id": oid, "created_at": day, "customer_id": cust, "product_id": p,
             "quantity": float(q), "unit_price": price, "line_type": "product"}
            for oid, (day, cust, lines) in store.items() for p, q, price in lines]
    return pd.DataFrame(rows)


def _stored_lines(ws: Workspace, source: str) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for oid, p, q, price in ws.con.execute(
            "SELECT order_id, product_id, quantity, unit_price FROM order_lines "
            "WHERE source = ?", [source]).fetchall():
        out.setdefault(oid, Counter())[(p, q, price)] += 1
    return out


def _expected(store: dict) -> dict[str, Counter]:
    return {oid: Counter((p, float(q), price) for p, q, price in lines)
            for oid, (_, _, lines) in store.items()}


def _import(ws: Workspace, store: dict, source: str | None):
    return aovlab.import_frame(ws, _frame(store), kind="lines", currency="EUR", source=source)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=_store, b=_store, b_first=st.booleans())
def test_two_stores_under_their_own_sources_each_keep_exactly_their_lines(a, b, b_first):
    ws = Workspace(":memory:")
    for store, name in ([(b, "b"), (a, "a")] if b_first else [(a, "a"), (b, "b")]):
        _import(ws, store, name)
    assert _stored_lines(ws, "a") == _expected(a)
    assert _stored_lines(ws, "b") == _expected(b)
    # and each order's amounts are its own store's: gross = Σ its own lines
    for src, store in (("a", a), ("b", b)):
        got = dict(ws.con.execute("SELECT order_id, gross_sales FROM orders WHERE source = ?",
                                  [src]).fetchall())
        assert got == pytest.approx({oid: sum(q * price for _, q, price in lines)
                                     for oid, (_, _, lines) in store.items()})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=_store, b=_store)
def test_a_second_store_under_the_same_source_is_refused_or_shares_nothing(a, b):
    """Same (default) source: where an order id of b is stored with other values or lines,
    the whole import is refused and the workspace is unchanged; otherwise every order keeps
    exactly the lines it came with."""
    ws = Workspace(":memory:")
    _import(ws, a, None)
    collides = any(oid in a and (a[oid][0], a[oid][1], Counter(a[oid][2]))
                   != (day, cust, Counter(lines)) for oid, (day, cust, lines) in b.items())
    if collides:
        with pytest.raises(InputError, match="already in the workspace with other"):
            _import(ws, b, None)
        assert _stored_lines(ws, "generic") == _expected(a)
        assert len(ws.imports()) == 1
    else:
        _import(ws, b, None)
        assert _stored_lines(ws, "generic") == _expected(b) | _expected(a)


# -- customers, products and traffic ----------------------------------------------------

def test_a_customer_id_in_two_sources_is_two_customers():
    """Customer c1 of store a and c1 of store b are two people: both first orders are new."""
    ws = Workspace(":memory:")
    for source, day in (("a", "2024-01-01"), ("b", "2024-02-01")):
        aovlab.import_frame(ws, pd.DataFrame({
            "order_id": ["1"], "customer_id": ["c1"], "created_at": [day], "total": [10.0]}),
            currency="EUR", source=source)
    k = aovlab.kpis(ws).table.iloc[0]
    assert (k.customers, k.new_orders, k.returning_orders) == (2, 2, 0)
    by = aovlab.kpis(ws, by=["source"]).table.set_index("source")
    assert by.loc["b", "new_orders"] == 1


def test_exactly_one_first_order_per_customer_ties_broken_by_order_id():
    """Two orders at the customer's first instant (CDNOW is stamped at midnight): one new,
    the one with the lower order id, on every engine path that reads the facts."""
    ws = Workspace(":memory:")
    aovlab.import_frame(ws, pd.DataFrame({
        "order_id": ["b", "a", "c"], "customer_id": ["c1", "c1", "c1"],
        "created_at": ["2024-01-01", "2024-01-01", "2024-01-05"],
        "total": [30.0, 10.0, 50.0]}), currency="EUR")
    k = aovlab.kpis(ws).table.iloc[0]
    assert (k.new_orders, k.new_aov, k.returning_orders) == (1, 10.0, 2)


def _products(ws: Workspace, source: str, name: str):
    def stage(ctx):
        ctx.emit("products", f"SELECT 'p.csv' AS _file, 1 AS _row, 'sku1' AS product_id, "
                             f"'{name}' AS name, 5.0 AS price")
    return ws.run_import("test", ["p.csv"], stage, source=source)


def test_products_and_traffic_are_per_source():
    ws = Workspace(":memory:")
    _products(ws, "a", "Tee")
    s = _products(ws, "b", "Mug")  # another store's sku1: its own row, nothing kept
    assert s.tables["products"].added == 1 and s.tables["products"].changed == 0
    assert ws.con.execute("SELECT source, name FROM products ORDER BY 1").fetchall() == [
        ("a", "Tee"), ("b", "Mug")]

    def traffic(sessions):
        def stage(ctx):
            ctx.emit("traffic", f"SELECT 'ga4.parquet' AS _file, 1 AS _row, "
                                f"DATE '2024-01-01' AS date, 'web' AS channel, "
                                f"'(not set)' AS country, '(not set)' AS device, "
                                f"{sessions} AS sessions, 10 AS visitors")
        return stage

    ws.run_import("ga4", ["x"], traffic(100), source="a")
    ws.run_import("ga4", ["x"], traffic(100), source="a")  # the same day again: nothing
    with pytest.raises(InputError, match="traffic row '2024-01-01/web/.*sessions: 100 there, "
                                         "40 here"):
        ws.run_import("ga4", ["x"], traffic(40), source="a")  # that day with other counts
    ws.run_import("ga4", ["x"], traffic(40), source="b")  # another property's same day
    assert ws.con.execute("SELECT sum(sessions), count(*) FROM traffic").fetchone() == (140, 2)


def test_lines_never_join_an_order_stored_without_them(tmp_path):
    """An order stored from an orders-only export, then the same order with lines: refused
    (they would join an order that was imported without them)."""
    ws = Workspace(":memory:")

    def orders(ctx):
        ctx.emit("orders", "SELECT 'o.csv' AS _file, 1 AS _row, '#1' AS order_id, "
                           "TIMESTAMPTZ '2024-01-01 10:00:00+00' AS created_at, "
                           "DATE '2024-01-01' AS order_date, 'EUR' AS currency, "
                           "10.0 AS gross_sales, 10.0 AS total, 'placed' AS status")

    def with_lines(ctx):
        orders(ctx)
        ctx.emit("order_lines", "SELECT 'l.csv' AS _file, 4 AS _row, '#1' AS order_id, "
                                "1 AS line_no, 'product' AS line_type, 1.0 AS quantity, "
                                "10.0 AS unit_price")

    ws.run_import("test", ["o.csv"], orders, source="shop")
    with pytest.raises(InputError, match="imported without the 1 line") as info:
        ws.run_import("test", ["l.csv"], with_lines, source="shop")
    assert "row 4" in str(info.value) and ws.count("order_lines") == 0


@pytest.mark.parametrize(("parts", "fmt"), [
    (("cdnow", "CDNOW_master.txt"), "cdnow"),
    (("online_retail", "online_retail.parquet"), "online_retail")])
def test_real_stores_have_one_new_order_per_customer(parts, fmt, engine_name):
    """CDNOW is stamped at midnight and UCI by the minute: 23,951 and 4,352 'new' orders for
    23,570 and 4,338 customers before ties were broken."""
    ws = Workspace(":memory:")
    aovlab.import_files(ws, shared_file(*parts), fmt)
    k = aovlab.kpis(ws, engine=engine_for(ws, engine_name)).table.iloc[0]
    assert k.new_orders == k.customers and k.customers > 4000
    assert k.new_orders + k.returning_orders + k.guest_orders == k.orders
