"""The synthetic store: deterministic, internally consistent, and importable idempotently."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import aovlab
from aovlab import Workspace, synthetic

N = 2_000


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("synthetic")
    return synthetic.write_orders(d, N, seed=7, chunk_orders=700)


def _read(path, kind: str):
    return pq.read_table(sorted((path / kind).glob("*.parquet"))).to_pandas()


def test_same_seed_same_data(store, tmp_path):
    again = synthetic.write_orders(tmp_path, N, seed=7, chunk_orders=700)
    a, b = _read(tmp_path, "orders"), _read(Path(store.path), "orders")
    assert a.equals(b)
    assert _read(tmp_path, "order_lines").equals(_read(Path(store.path), "order_lines"))
    assert (again.n_orders, again.n_lines, again.n_customers) == \
           (store.n_orders, store.n_lines, store.n_customers)
    other = synthetic.write_orders(tmp_path / "other", N, seed=8, chunk_orders=700)
    assert not _read(tmp_path / "other", "orders").equals(a)
    assert other.n_orders == N


def test_canonical_shape_and_distributions(store):
    o = _read(Path(store.path), "orders")
    assert len(o) == N and o.order_id.is_unique
    assert list(o.columns) == [c.name for c in aovlab.schema.ORDERS.columns
                               if c.name != "source" and not c.derived]
    assert set(o.currency) == {"EUR"}
    assert set(o.status) <= set(aovlab.schema.STATUSES)
    assert (o.status == "placed").mean() > 0.85
    assert 0.06 < o.customer_id.isna().mean() < 0.14
    assert o.customer_id.dropna().duplicated().any()  # repeat customers
    assert set(o.channel) == {"web", "app", "marketplace", "pos"}
    assert str(o.created_at.dt.tz) == "UTC"
    assert o.created_at.is_monotonic_increasing  # ids are chronological
    assert (o.created_at.max() - o.created_at.min()).days > 600
    assert (o[["discounts", "shipping", "tax", "returns"]] >= 0).all().all()
    free = o[o.channel.isin(["web", "app"]) & (o.gross_sales - o.discounts >= 49)]
    assert (free.shipping == 0).all()
    assert o.gross_sales.max() > 5 * o.gross_sales.median()  # heavy right tail


def test_totals_add_up(store):
    o = _read(Path(store.path), "orders")
    expect = o.gross_sales - o.discounts + o.shipping + o.tax
    assert (o.total - expect).abs().max() < 1e-9
    assert o.total.sum() == pytest.approx(expect.sum(), rel=1e-12)


def test_gross_is_sum_of_lines(store):
    con = duckdb.connect()
    diff = con.execute(f"""
        WITH l AS (
          SELECT order_id, sum(quantity * unit_price) AS gross, sum(quantity) AS units,
                 count(*) AS n, max(line_no) AS last_line
          FROM read_parquet('{store.path}/order_lines/*.parquet') GROUP BY order_id)
        SELECT count(*), count(l.order_id), max(abs(o.gross_sales - l.gross)),
               max(abs(o.units - l.units)), count(*) FILTER (WHERE l.n <> l.last_line)
        FROM read_parquet('{store.path}/orders/*.parquet') o
        LEFT JOIN l USING (order_id)""").fetchone()
    n, with_lines, gross_diff, units_diff, bad_line_no = diff
    assert n == N and with_lines == N
    assert gross_diff < 1e-6 and units_diff == 0 and bad_line_no == 0
    assert con.execute(f"SELECT count(*) FROM read_parquet('{store.path}/order_lines/*.parquet')"
                       ).fetchone()[0] == store.n_lines


def test_import_then_reimport_adds_nothing(store):
    ws = Workspace(":memory:")
    first = synthetic.import_synthetic(ws, store.path)
    assert first.orders_added == N == ws.count("orders")
    assert first.lines_added == store.n_lines == ws.count("order_lines")
    again = synthetic.import_synthetic(ws, store.path)
    assert again.orders_added == 0 and again.lines_added == 0
    assert again.tables["orders"].already_present == N
    assert ws.count("orders") == N
    k = aovlab.kpis(ws, by=["channel"]).table
    assert k.orders.sum() == ws.con.execute(
        "SELECT count(*) FROM orders WHERE status IN ('placed', 'refunded')").fetchone()[0]
    ws.close()


def test_orders_only(tmp_path):
    s = synthetic.write_orders(tmp_path, 300, seed=1, lines=False)
    assert s.n_lines == 0 and not list(tmp_path.glob("order_lines/*.parquet"))
    ws = Workspace(":memory:")
    assert synthetic.import_synthetic(ws, tmp_path).orders_added == 300
    assert ws.count("order_lines") == 0
    assert synthetic.read_manifest(tmp_path).n_orders == 300
