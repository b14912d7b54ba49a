"""Canonical-shaped tables that already live in a Spark catalog (--table NAME=SPARK_TABLE):
read in place by Spark, with the workspace's numbers; columns and tables a pipeline left
out; refusals; aovlab check run as Spark SQL."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import aovlab
from aovlab.engines import check_tables
from aovlab.errors import EngineError, WorkspaceError
from aovlab.storage import SparkTables, export_parquet
from conftest import IN_CI
from fixtures import tiny_orders, workspace_with

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    if not IN_CI:
        pytest.importorskip("pyspark")
    from aovlab.engines.spark import spark_session

    return spark_session()


@pytest.fixture(scope="module")
def shop(spark, tmp_path_factory):
    """The tiny store as a workspace, its Parquet export, and as tables of database
    ``aovlab_t`` (kept in a temporary folder) of the Spark session's catalog."""
    d = tmp_path_factory.mktemp("sparktables")
    ws = workspace_with(tiny_orders())
    lines = pd.DataFrame({"order_id": ["o1", "o1", "o3", "o7"], "sku": ["A", "B", "A", "C"],
                          "quantity": [1, 1, 4, 3], "unit_price": [60.0, 40.0, 50.0, 100.0],
                          "category": ["x", "y", "x", "z"]})
    aovlab.import_frame(ws, lines.assign(created_at="2024-01-05 10:00"), kind="lines",
                        currency="EUR", source="lines")
    export_parquet(ws, d / "data")
    spark.sql(f"CREATE DATABASE IF NOT EXISTS aovlab_t LOCATION '{d / 'warehouse'}'")
    orders = spark.read.parquet(str(d / "data" / "orders")).drop("order_month")
    orders.write.mode("overwrite").saveAsTable("aovlab_t.shop_orders")
    # a pipeline's table without the optional cost, units and coupon columns
    orders.drop("cost", "units", "coupon").write.mode("overwrite").saveAsTable(
        "aovlab_t.lean_orders")
    # and one with order o1 twice
    orders.filter("order_id = 'o1'").union(orders).write.mode("overwrite").saveAsTable(
        "aovlab_t.dup_orders")
    return ws, d


def test_spark_tables_give_the_workspaces_numbers(shop):
    ws, d = shop
    cat = SparkTables({"orders": "aovlab_t.shop_orders",
                       "order_lines": f"parquet.`{d / 'data' / 'order_lines'}`"})
    for kw in ({"by": ["channel"], "period": "month"}, {"by": ["customer_type"]}):
        want = aovlab.kpis(ws, **kw)
        got = aovlab.kpis(cat, **kw)  # the default engine means Spark for these tables
        assert got.meta["engine"] == "spark"
        pd.testing.assert_frame_equal(got.table, want.table, check_dtype=False, rtol=1e-12)
    assert cat.tables() == ("orders", "order_lines")
    # traffic, products... are not named: empty, so no conversion columns appear
    assert "conversion_rate" not in aovlab.kpis(cat).table or \
        aovlab.kpis(cat).table.conversion_rate.isna().all()


def test_a_table_without_optional_columns_reads_them_as_null(shop):
    ws, _ = shop
    k = aovlab.kpis(SparkTables({"orders": "aovlab_t.lean_orders"})).table.iloc[0]
    w = aovlab.kpis(ws).table.iloc[0]
    assert (k.orders, k.revenue, k.aov) == (w.orders, w.revenue, w.aov)
    assert pd.isna(k.units_per_order) and pd.isna(k.margin_per_order)


def test_check_runs_as_spark_sql(shop):
    ok = check_tables(SparkTables({"orders": "aovlab_t.shop_orders"}))
    assert ok and not [r for r in ok if r["rows_failing"]]
    assert {r["table"] for r in ok} == {"orders"}
    bad = [r for r in check_tables(SparkTables({"orders": "aovlab_t.dup_orders"}))
           if r["rows_failing"]]
    # o1 is an order of both sources (the lines import made its own): each twice
    assert [(r["check"], r["rows_failing"], r["example_key"]) for r in bad] == [
        ("unique key", 4, "generic/o1")]


def test_the_same_checks_on_each_engine_agree(shop):
    ws, d = shop
    from aovlab.storage import ParquetCatalog

    with ParquetCatalog(d / "data") as cat:
        on_duckdb = check_tables(cat)
        on_spark = check_tables(cat, "spark")
    assert [(r["table"], r["check"], r["rows_failing"]) for r in on_duckdb] == [
        (r["table"], r["check"], r["rows_failing"]) for r in on_spark]


def test_refusals(shop):
    with pytest.raises(WorkspaceError, match="not a canonical table"):
        SparkTables({"orders": "a.b", "sales": "a.c"})
    with pytest.raises(WorkspaceError, match="no orders table"):
        SparkTables({"order_lines": "a.b"})
    with pytest.raises(WorkspaceError, match="not a Spark table name"):
        SparkTables({"orders": "a.b; DROP TABLE x"})
    with pytest.raises(WorkspaceError, match="not NAME=SPARK_TABLE"):
        SparkTables.parse(["orders"])
    with pytest.raises(EngineError, match="Spark cannot read aovlab_t.nope"):
        aovlab.kpis(SparkTables({"orders": "aovlab_t.nope"}))
    with pytest.raises(EngineError, match="postgres engine cannot read"):
        aovlab.kpis(SparkTables({"orders": "aovlab_t.shop_orders"}), engine="postgres")


def test_the_cli_reads_path_tables(shop, tmp_path):
    ws, d = shop
    want = aovlab.kpis(ws, by=["channel"]).table
    out = tmp_path / "k.csv"
    r = subprocess.run([sys.executable, "-m", "aovlab.cli",
                        "--table", f"orders=parquet.`{d / 'data' / 'orders'}`",
                        "kpis", "--by", "channel", "-f", "csv", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = pd.read_csv(out)
    assert got.aov.tolist() == pytest.approx(want.aov.tolist(), rel=1e-12)
    r = subprocess.run([sys.executable, "-m", "aovlab.cli", "--table", "orders=x.y",
                        "--catalog", f"parquet:{d / 'data'}", "kpis"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "both say where" in r.stderr
