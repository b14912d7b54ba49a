"""aovlab check: canonical tables written by another pipeline, counted against the same
rules the importers enforce."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import aovlab
from aovlab.engines import check_tables
from aovlab.errors import WorkspaceError
from aovlab.storage import ParquetCatalog, export_parquet
from aovlab.storage.parquet import SCHEMA_FILE
from fixtures import tiny_orders, workspace_with


def _dataset(tmp_path, orders: pd.DataFrame, lines: pd.DataFrame | None = None):
    d = tmp_path / "pipeline"
    (d / "orders").mkdir(parents=True)
    orders.to_parquet(d / "orders" / "part-0.parquet")
    if lines is not None:
        (d / "order_lines").mkdir()
        lines.to_parquet(d / "order_lines" / "part-0.parquet")
    (d / SCHEMA_FILE).write_text(json.dumps({"schema_version": aovlab.schema.SCHEMA_VERSION}))
    return d


def _orders(n: int = 6) -> pd.DataFrame:
    t = pd.Timestamp("2024-05-01", tz="UTC")
    return pd.DataFrame({
        "source": "shop", "order_id": [f"o{i}" for i in range(n)],
        "customer_id": [f"c{i % 3}" for i in range(n)],
        "created_at": [t + pd.Timedelta(hours=i) for i in range(n)],
        "order_date": [(t + pd.Timedelta(hours=i)).date() for i in range(n)],
        "currency": "EUR", "gross_sales": 10.0 * (1 + pd.Series(range(n))),
        "total": 10.0 * (1 + pd.Series(range(n))), "status": "placed"})


def _failing(rows: list[dict]) -> dict[tuple[str, str, str], dict]:
    return {(r["table"], r["check"], r["column"]): r for r in rows if r["rows_failing"]}


def test_a_clean_workspace_and_its_export_pass_every_check(tmp_path):
    ws = workspace_with(tiny_orders())
    assert not _failing(check_tables(ws))
    export_parquet(ws, tmp_path / "d")
    with ParquetCatalog(tmp_path / "d") as cat:
        rows = check_tables(cat)
    assert not _failing(rows) and len(rows) > 50


def test_a_pipelines_faults_are_counted_with_an_example(tmp_path):
    o = _orders()
    o.loc[1, "order_id"] = "o0"                      # a duplicated key
    o.loc[2, "status"] = "paid"                      # not a canonical status
    o.loc[[3, 4], "currency"] = "AUS"                # not an ISO code (twice)
    o.loc[5, "total"] = -5.0                         # negative on a counted order
    lines = pd.DataFrame({"source": "shop", "order_id": ["o0", "o9"], "line_no": [1, 1],
                          "line_type": "product", "quantity": [1.0, 1.0],
                          "unit_price": [10.0, 10.0]})
    with ParquetCatalog(_dataset(tmp_path, o, lines)) as cat:
        bad = _failing(check_tables(cat))
    assert bad[("orders", "unique key", "order_id")]["rows_failing"] == 2
    assert bad[("orders", "unique key", "order_id")]["example_key"] == "shop/o0"
    status = bad[("orders", "oneof", "status")]
    assert status["rows_failing"] == 1 and status["example_value"] == "paid"
    assert "placed" in status["fix"]
    assert bad[("orders", "oneof", "currency")]["rows_failing"] == 2
    assert bad[("orders", "range", "total")]["example_key"] == "shop/o5"
    orphan = bad[("order_lines", "references orders", "order_id")]
    assert orphan["rows_failing"] == 1 and orphan["example_value"] == "o9"
    assert len(bad) == 5


def test_a_dataset_missing_a_required_column_is_refused_and_an_optional_one_is_null(
        tmp_path):
    o = _orders().drop(columns=["customer_id"])
    with ParquetCatalog(_dataset(tmp_path, o)) as cat:
        assert aovlab.kpis(cat).table["orders"].iloc[0] == 6
    with pytest.raises(WorkspaceError, match="lack the column.*currency"):
        ParquetCatalog(_dataset(tmp_path / "b", _orders().drop(columns=["currency"])))


def test_the_cli_exits_1_on_a_failing_check(tmp_path):
    o = _orders()
    o.loc[2, "status"] = "paid"
    d = _dataset(tmp_path, o)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "aovlab.cli", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300,
                              env={"COLUMNS": "200", "PATH": ""})

    res = run("--catalog", f"parquet:{d}", "check")
    assert res.returncode == 1 and "paid" in res.stdout and "1 of" in res.stderr
    csv = run("--catalog", f"parquet:{d}", "check", "-f", "csv", "--all")
    assert len(pd.read_csv(pd.io.common.StringIO(csv.stdout))) > 50
    aovlab.import_frame(aovlab.Workspace(tmp_path / "w.duckdb"), tiny_orders(), currency="EUR")
    ok = run("check", "-w", "w.duckdb")
    assert ok.returncode == 0 and "checks pass" in ok.stderr
