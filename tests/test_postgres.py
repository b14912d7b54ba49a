"""PostgreSQL as a catalog and an engine: export --postgres, tables or views written by
another pipeline, aovlab check in the server, and the CLI. (The whole metric suite runs on
PostgreSQL too, through the ``engine_name`` fixture.)"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import aovlab
from aovlab.engines import check_tables, connect
from aovlab.errors import EngineError, WorkspaceError
from aovlab.storage import open_catalog
from aovlab.storage.postgres import PostgresCatalog, export_postgres, shown_dsn, split_dsn
from conftest import pg_server
from fixtures import tiny_orders, workspace_with


@pytest.fixture(scope="module")
def srv():
    return pg_server()


def _sql(srv, *statements: str) -> None:
    import psycopg

    with psycopg.connect(split_dsn(srv.dsn())[0], autocommit=True) as con:
        for s in statements:
            con.execute(s)


def test_dsn_parsing_keeps_schema_for_aovlab_and_hides_passwords():
    assert split_dsn("postgresql://u:pw@h:5/db?schema=shop&sslmode=require") == (
        "postgresql://u:pw@h:5/db?sslmode=require", "shop")
    assert split_dsn("host=h dbname=db schema=s2") == ("host=h dbname=db", "s2")
    assert split_dsn("postgresql://h/db")[1] == "aovlab"
    with pytest.raises(WorkspaceError, match="plain PostgreSQL name"):
        split_dsn("postgresql://h/db?schema=a;drop")
    assert shown_dsn("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert shown_dsn("host=h password=pw dbname=d") == "host=h password=*** dbname=d"
    assert shown_dsn("host=h password='p w' dbname=d") == "host=h password=*** dbname=d"
    assert split_dsn("postgresql://h/db?options=-c%20search_path%3Dx&schema=s") == (
        "postgresql://h/db?options=-c%20search_path%3Dx", "s")


def test_export_is_whole_refuses_to_overwrite_and_reads_back_the_same(srv):
    ws = workspace_with(tiny_orders())
    dsn = srv.dsn(schema="exp1")
    info = export_postgres(ws, dsn)
    assert info == {"schema": "exp1", "tables": {"orders": 9, "order_lines": 0,
                                                 "products": 0, "customers": 0,
                                                 "traffic": 0, "assignments": 0}}
    with pytest.raises(WorkspaceError, match="already holds"):
        export_postgres(ws, dsn)
    with PostgresCatalog(dsn) as cat:
        want = aovlab.kpis(ws, by=["channel"]).table
        got = aovlab.kpis(cat, by=["channel"])
        assert got.meta["engine"] == "postgres"
        pd.testing.assert_frame_equal(got.table, want, check_dtype=False, rtol=1e-12)
    # --force replaces the tables in one transaction
    more = tiny_orders()
    more["order_id"] = "x" + more.order_id
    import_ws = workspace_with(pd.concat([tiny_orders(), more]))
    export_postgres(import_ws, dsn, force=True)
    with PostgresCatalog(dsn) as cat:
        assert aovlab.kpis(cat).table.orders[0] == 2 * aovlab.kpis(ws).table.orders[0]


def test_a_failed_export_leaves_the_old_tables(srv, monkeypatch):
    ws = workspace_with(tiny_orders())
    dsn = srv.dsn(schema="exp2")
    export_postgres(ws, dsn)
    import aovlab.storage.postgres as pgmod

    def boom(table, rows):
        if table == "order_lines":
            raise KeyboardInterrupt  # Ctrl-C in the middle of the copy

    bigger = workspace_with(pd.concat([tiny_orders(), tiny_orders().assign(
        order_id=lambda d: "y" + d.order_id)]))
    aovlab.import_frame(bigger, pd.DataFrame({
        "order_id": ["o1"], "sku": ["A"], "quantity": [1], "unit_price": [5.0],
        "created_at": ["2024-01-05 10:00"]}), kind="lines", currency="EUR", source="frame2")
    monkeypatch.setattr(pgmod, "_BATCH", 1)
    with pytest.raises(KeyboardInterrupt):
        export_postgres(bigger, dsn, force=True, progress=boom)
    with PostgresCatalog(dsn) as cat:
        assert aovlab.kpis(cat).table.orders[0] == aovlab.kpis(ws).table.orders[0]


def test_a_pipelines_views_are_read_and_checked_in_the_server(srv):
    """Canonical-shaped views over a store's own tables: a missing nullable column reads
    as NULL (or its default), a missing table as empty, and aovlab check counts faults."""
    _sql(srv, "DROP SCHEMA IF EXISTS shopdb CASCADE", "CREATE SCHEMA shopdb",
         "CREATE TABLE shopdb.raw_orders (id text, buyer text, ts timestamptz, "
         "amount double precision, state text, cur text)",
         "INSERT INTO shopdb.raw_orders VALUES "
         "('1', 'a', '2024-03-01 10:00+00', 100, 'placed', 'EUR'),"
         "('2', 'a', '2024-03-05 10:00+00', 50, 'placed', 'EUR'),"
         "('3', NULL, '2024-03-06 10:00+00', 30, 'placed', 'EUR'),"
         "('3', 'b', '2024-03-07 10:00+00', 'NaN', 'paid', 'EURO')",
         "CREATE VIEW shopdb.orders AS SELECT 'shop' AS source, id AS order_id, "
         "buyer AS customer_id, ts AS created_at, CAST(ts AS date) AS order_date, "
         "cur AS currency, amount AS gross_sales, amount AS total, state AS status "
         "FROM shopdb.raw_orders")
    dsn = srv.dsn(schema="shopdb")
    kv = f"postgresql:host=127.0.0.1 port={srv.port} dbname=postgres user=aovlab schema=shopdb"
    with open_catalog(kv) as cat:
        assert cat.tables() == ("orders",)
        bad = {(r["table"], r["check"], r["column"]): r for r in check_tables(cat)
               if r["rows_failing"]}
        assert bad[("orders", "unique key", "order_id")]["rows_failing"] == 2
        assert bad[("orders", "unique key", "order_id")]["example_key"] == "shop/3"
        assert bad[("orders", "oneof", "status")]["example_value"] == "paid"
        assert bad[("orders", "oneof", "currency")]["example_value"] == "EURO"
        assert bad[("orders", "finite", "gross_sales")]["rows_failing"] == 1
        # and the NaN total; NaN is above any bound in PostgreSQL (and DuckDB) too
        assert set(bad) == {("orders", "unique key", "order_id"), ("orders", "oneof", "status"),
                            ("orders", "oneof", "currency"), ("orders", "pattern", "currency"),
                            *(("orders", c, m) for c in ("finite", "range")
                               for m in ("gross_sales", "total"))}
    _sql(srv, "DELETE FROM shopdb.raw_orders WHERE state = 'paid'")
    with PostgresCatalog(dsn) as cat:
        assert not [r for r in check_tables(cat) if r["rows_failing"]]
        assert connect(cat).lacks("orders") >= {"customer_key", "customer_seq"}
        k = aovlab.kpis(cat).table.iloc[0]
        assert (k.orders, k.revenue, k.aov) == (3, 180.0, 60.0)  # discounts default to 0
        assert (k.new_orders, k.returning_orders, k.guest_orders) == (1, 1, 1)
        assert pd.isna(k.units_per_order)  # no units column: NULL, not 0
        h = aovlab.histogram(cat).table
        assert int(h["orders"].sum()) == 3


def test_a_column_of_the_wrong_type_is_said_not_a_bug(srv):
    _sql(srv, "DROP SCHEMA IF EXISTS typo CASCADE", "CREATE SCHEMA typo",
         "CREATE VIEW typo.orders AS SELECT 'shop'::text AS source, '1'::text AS order_id, "
         "now() AS created_at, current_date AS order_date, 'EUR'::text AS currency, "
         "'abc'::text AS gross_sales, 10.0::float8 AS total, 'placed'::text AS status")
    with PostgresCatalog(srv.dsn(schema="typo")) as cat:
        with pytest.raises(EngineError, match='PostgreSQL refused the query.*"abc"'):
            aovlab.kpis(cat)
        with pytest.raises(EngineError, match="could not run.*abc") as err:
            check_tables(cat)
        assert "canonical types" in err.value.fix


def test_refusals_name_the_problem(srv):
    _sql(srv, "DROP SCHEMA IF EXISTS half CASCADE", "CREATE SCHEMA half",
         "CREATE TABLE half.orders (source text, order_id text)")
    with pytest.raises(WorkspaceError, match="half.orders lacks the column"):
        PostgresCatalog(srv.dsn(schema="half"))
    with pytest.raises(WorkspaceError, match="holds no canonical table"):
        PostgresCatalog(srv.dsn(schema="nothing_here"))
    ws = workspace_with(tiny_orders())
    export_postgres(ws, srv.dsn(schema="eng"))
    with PostgresCatalog(srv.dsn(schema="eng")) as cat, \
            pytest.raises(EngineError, match="spark engine cannot read"):
        aovlab.kpis(cat, engine="spark")
    with pytest.raises(EngineError, match="postgres engine cannot read"):
        aovlab.kpis(ws, engine="postgres")


def test_the_cli_exports_and_reads_postgres(srv, tmp_path):
    ws_path = tmp_path / "shop.duckdb"
    with aovlab.Workspace(ws_path) as ws:
        aovlab.import_frame(ws, tiny_orders(), kind="orders", currency="EUR")
        want = aovlab.kpis(ws, by=["channel"]).table

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "aovlab.cli", *args],
                              capture_output=True, text=True)

    dsn = srv.dsn(schema="cli")
    r = cli("export", "-w", str(ws_path), "--postgres", dsn)
    assert r.returncode == 0, r.stderr
    assert "orders" in r.stdout and "--catalog" in r.stderr
    r = cli("export", "-w", str(ws_path), "--postgres", dsn)
    assert r.returncode == 2 and "--force" in r.stderr and "Traceback" not in r.stderr
    r = cli("export", "-w", str(ws_path))
    assert r.returncode == 2 and "--parquet DIR or --postgres DSN" in r.stderr
    out = tmp_path / "k.csv"
    r = cli("--catalog", dsn, "kpis", "--by", "channel", "-f", "csv", "-o", str(out))
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(out)
    assert got.aov.tolist() == pytest.approx(want.aov.tolist(), rel=1e-12)
    r = cli("--catalog", dsn, "check")
    assert r.returncode == 0 and "checks pass" in r.stderr
    r = cli("--catalog", dsn.replace("aovlab@", "aovlab:secret@"), "check")
    assert r.returncode == 0 and "secret" not in r.stderr + r.stdout  # trust auth: any
    r = cli("--catalog", srv.dsn(schema="cli").replace("aovlab@", "aovlab:pw@")
            .replace(str(srv.port), "1"), "kpis")
    assert r.returncode == 2 and "cannot connect" in r.stderr
    assert "pw" not in r.stderr and "Traceback" not in r.stderr
