"""The canonical tables as a Parquet dataset: written by aovlab export --parquet, read in
place by DuckDB (no workspace file) and by Spark (no copy), with the same numbers as the
workspace they came from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import aovlab
from aovlab.errors import WorkspaceError
from aovlab.storage import ParquetCatalog, export_parquet, open_catalog
from aovlab.storage.parquet import SCHEMA_FILE


@pytest.fixture(scope="module")
def uci(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("pq")
    with aovlab.Workspace(d / "ws.duckdb") as ws:
        aovlab.import_files(ws, aovlab.importers.bundled_online_retail(), "online_retail")
        export_parquet(ws, d / "data")
    return d / "ws.duckdb", d / "data"


def test_the_dataset_is_partitioned_by_month_and_described(uci):
    ws_path, data = uci
    info = json.loads((data / SCHEMA_FILE).read_text())
    with aovlab.Workspace(ws_path, read_only=True) as ws:
        months = {r[0] for r in ws.con.execute(
            "SELECT DISTINCT strftime(order_date, '%Y-%m') FROM orders").fetchall()}
        assert info["tables"]["orders"]["rows"] == ws.count("orders")
        assert info["tables"]["order_lines"]["rows"] == ws.count("order_lines")
    assert {p.name for p in (data / "orders").iterdir()} == {f"order_month={m}"
                                                             for m in months}
    assert info["schema_version"] == aovlab.schema.SCHEMA_VERSION
    assert info["tables"]["orders"]["columns"]["created_at"] == "TIMESTAMPTZ"
    assert not (data / "traffic").exists() and info["tables"]["traffic"]["rows"] == 0
    with ParquetCatalog(data) as cat, cat.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM traffic").fetchone()[0] == 0
        cols = [r[0] for r in cur.execute("DESCRIBE orders").fetchall()]
        assert cols == list(aovlab.schema.ORDERS.column_names)  # no partition column


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
def test_every_analysis_reads_the_dataset_as_the_workspace(uci, engine_name):
    ws_path, data = uci
    with aovlab.Workspace(ws_path, read_only=True) as ws, ParquetCatalog(data) as cat:
        for kw in ({"by": ["country"], "period": "month"}, {"by": ["customer_type"]}):
            want = aovlab.kpis(ws, **kw).table.reset_index(drop=True)
            got = aovlab.kpis(cat, engine=engine_name, **kw).table.reset_index(drop=True)
            pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-9)
        if engine_name == "duckdb":
            assert aovlab.threshold(cat).recommended == aovlab.threshold(ws).recommended
            a = aovlab.histogram(cat).table
            pd.testing.assert_frame_equal(a, aovlab.histogram(ws).table)


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
def test_an_experiment_reads_the_same_from_the_dataset(tmp_path, engine_name):
    from test_abtest import _experiment, _workspace

    a, o = _experiment(n=150, seed=30)
    ws = _workspace(a, o, str(tmp_path / "x.duckdb"))
    export_parquet(ws, tmp_path / "x")
    with ParquetCatalog(tmp_path / "x") as cat:
        got = aovlab.abtest(cat, engine=engine_name).table
    pd.testing.assert_frame_equal(got, aovlab.abtest(ws).table, check_dtype=False, rtol=1e-9)


def test_export_is_whole_or_nothing_and_never_replaces_foreign_folders(uci, tmp_path):
    ws_path, _ = uci
    with aovlab.Workspace(ws_path, read_only=True) as ws:
        out = tmp_path / "d"
        export_parquet(ws, out)
        with pytest.raises(WorkspaceError, match="already exists"):
            export_parquet(ws, out)
        export_parquet(ws, out, force=True)
        assert not (tmp_path / "d.partial").exists()
        foreign = tmp_path / "photos"
        foreign.mkdir()
        (foreign / "cat.jpg").write_text("meow")
        with pytest.raises(WorkspaceError, match="not an aovlab Parquet dataset"):
            export_parquet(ws, foreign, force=True)
        assert (foreign / "cat.jpg").exists()
        with pytest.raises(WorkspaceError, match="does not exist"):
            export_parquet(ws, tmp_path / "no" / "such")


def test_a_catalog_that_is_not_one_is_refused_clearly(tmp_path):
    with pytest.raises(WorkspaceError, match="does not exist"):
        open_catalog(f"parquet:{tmp_path / 'missing'}")
    (tmp_path / "bare").mkdir()
    with pytest.raises(WorkspaceError, match="no _aovlab_schema.json"):
        open_catalog(f"parquet:{tmp_path / 'bare'}")
    (tmp_path / "bare" / SCHEMA_FILE).write_text('{"schema_version": 99}')
    with pytest.raises(WorkspaceError, match="schema version 99"):
        ParquetCatalog(tmp_path / "bare")
    with pytest.raises(WorkspaceError, match="not one aovlab reads"):
        open_catalog("mysql://x")


def test_the_cli_exports_and_reads_a_catalog(uci, tmp_path):
    ws_path, _ = uci

    def run(*args, env=None):
        return subprocess.run([sys.executable, "-m", "aovlab.cli", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300,
                              env={"COLUMNS": "200", "PATH": "", **(env or {})})

    res = run("export", "-w", str(ws_path), "--parquet", "shop")
    assert res.returncode == 0, res.stderr
    via = run("--catalog", "parquet:shop", "kpis", "--by", "country", "-f", "csv")
    env = run("kpis", "--by", "country", "-f", "csv", env={"AOVLAB_CATALOG": "parquet:shop"})
    ws = run("kpis", "-w", str(ws_path), "--by", "country", "-f", "csv")
    assert via.returncode == 0, via.stderr

    def frame(text):
        return pd.read_csv(pd.io.common.StringIO(text))

    # sums over files may add in another order: equal to the last digits that mean anything
    # (DuckDB's threads may add a dataset's files in another order each run)
    for got in (via, env):
        pd.testing.assert_frame_equal(frame(got.stdout), frame(ws.stdout), rtol=1e-9)
    status = run("--catalog", "parquet:shop", "status")
    assert status.returncode != 0 and "reads a workspace file" in status.stderr
    again = run("export", "-w", str(ws_path), "--parquet", "shop")
    assert again.returncode != 0 and "--force" in again.stderr
