"""DuckDB's memory limit: half the machine by default, settable per workspace and per
command; imports spill under it, and a query beyond it is said, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import aovlab
from aovlab.errors import DefinitionError, EngineError
from aovlab.storage.memory import DEFAULT_SHARE, memory_limit_bytes, physical_memory


def _setting(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_limit_from_an_amount_a_share_the_environment_or_the_default(monkeypatch):
    monkeypatch.delenv("AOVLAB_MEMORY_LIMIT", raising=False)
    assert memory_limit_bytes() == int(physical_memory() * DEFAULT_SHARE)
    assert memory_limit_bytes("4GB") == 4_000_000_000
    assert memory_limit_bytes("2GiB") == 2 * 2 ** 30
    assert memory_limit_bytes("25%") == int(physical_memory() * 0.25)
    monkeypatch.setenv("AOVLAB_MEMORY_LIMIT", "512MB")
    assert memory_limit_bytes() == 512_000_000
    assert memory_limit_bytes("1GB") == 1_000_000_000  # the caller's wins
    for bad, match in (("lots", "not an amount"), ("150%", "share"), ("10MB", "below")):
        with pytest.raises(DefinitionError, match=match):
            memory_limit_bytes(bad)


def test_a_workspace_and_a_catalog_run_under_it(tmp_path, monkeypatch):
    monkeypatch.delenv("AOVLAB_MEMORY_LIMIT", raising=False)
    ws = aovlab.Workspace(tmp_path / "w.duckdb", memory_limit="1GiB")
    assert _setting(ws.con) == "1.0 GiB" and ws.memory_limit == 2 ** 30
    with aovlab.Workspace(tmp_path / "d.duckdb") as d:
        got = d.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        want = memory_limit_bytes() // 2 ** 20
        assert abs(float(got.split()[0]) * (1024 if "GiB" in got else 1) - want) < 0.1 * want


def test_an_import_spills_under_a_small_limit_and_a_query_beyond_it_is_said(tmp_path):
    n = 400_000
    ids = np.arange(n)
    df = pd.DataFrame({"order_id": ids.astype(str), "customer_id": (ids % 90_000).astype(str),
                       "created_at": pd.Timestamp("2024-01-01")
                       + pd.to_timedelta(ids % 365, unit="D"),
                       "gross_sales": np.round(np.random.default_rng(1).lognormal(3, 1, n), 2),
                       "status": "placed"})
    df["total"] = df["gross_sales"]
    ws = aovlab.Workspace(tmp_path / "w.duckdb", memory_limit="80MB")
    assert aovlab.import_frame(ws, df, currency="EUR").orders_added == n
    try:
        k = aovlab.kpis(ws).table
        assert k["orders"].iloc[0] == n  # it fitted after all: a right answer is fine too
    except EngineError as exc:
        assert "memory" in exc.message and "--memory-limit" in exc.fix


def test_the_cli_option_refuses_a_bad_limit(tmp_path):
    res = subprocess.run([sys.executable, "-m", "aovlab.cli", "--memory-limit", "lots",
                          "definitions"], cwd=tmp_path, capture_output=True, text=True,
                         env={"COLUMNS": "200", "PATH": ""}, timeout=120)
    assert res.returncode == 2 and "not an amount or a share" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_limit_stored_with_the_workspace_applies_until_a_command_gives_one(
        tmp_path, monkeypatch):
    monkeypatch.delenv("AOVLAB_MEMORY_LIMIT", raising=False)
    path = tmp_path / "w.duckdb"
    with aovlab.Workspace(path) as ws:
        assert ws.stored_memory_limit is None
        ws.set_memory_limit("1GiB")
        assert _setting(ws.con) == "1.0 GiB"  # at once
        with pytest.raises(DefinitionError, match="not an amount"):
            ws.set_memory_limit("lots")
    with aovlab.Workspace(path, read_only=True) as ws:  # every later opening
        assert ws.stored_memory_limit == "1GiB" and ws.memory_limit == 2 ** 30
    with aovlab.Workspace(path, read_only=True, memory_limit="2GiB") as ws:
        assert ws.memory_limit == 2 * 2 ** 30  # the caller's wins
    monkeypatch.setenv("AOVLAB_MEMORY_LIMIT", "512MiB")  # so does --memory-limit
    with aovlab.Workspace(path, read_only=True) as ws:
        assert ws.memory_limit == 512 * 2 ** 20
    monkeypatch.delenv("AOVLAB_MEMORY_LIMIT")
    with aovlab.Workspace(path) as ws:
        ws.set_memory_limit(None)
    with aovlab.Workspace(path, read_only=True) as ws:
        assert ws.stored_memory_limit is None and ws.memory_limit == memory_limit_bytes()


def test_the_cli_stores_lists_and_forgets_the_workspace_limit(tmp_path):
    aovlab.Workspace(tmp_path / "w.duckdb").close()

    def run(*args):
        return subprocess.run([sys.executable, "-m", "aovlab.cli", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120,
                              env={"COLUMNS": "200", "PATH": ""})

    res = run("config", "-w", "w.duckdb", "memory_limit", "2GiB")
    assert res.returncode == 0 and "2GiB" in res.stdout and "2.00 GiB" in res.stdout
    res = run("--memory-limit", "1GiB", "config", "-w", "w.duckdb")
    assert "2GiB" in res.stdout and "1.00 GiB" in res.stdout  # stored, and what applies
    for bad, said in ((["memory_limit", "lots"], "not an amount"),
                      (["colour", "red"], "not a workspace setting"),
                      (["memory_limit", "1GB", "--unset"], "not both")):
        res = run("config", "-w", "w.duckdb", *bad)
        assert res.returncode == 2 and said in res.stderr and "Traceback" not in res.stderr
    res = run("config", "-w", "w.duckdb", "memory_limit", "--unset")
    assert res.returncode == 0 and "(not set)" in res.stdout


def test_a_stored_limit_this_machine_cannot_take_gives_way_to_the_default(tmp_path,
                                                                         monkeypatch):
    monkeypatch.delenv("AOVLAB_MEMORY_LIMIT", raising=False)
    path = tmp_path / "w.duckdb"
    with aovlab.Workspace(path) as ws:  # a share valid on a big machine, tiny here
        ws.con.execute("INSERT OR REPLACE INTO meta VALUES ('memory_limit', '0.00001%')")
    with aovlab.Workspace(path) as ws:
        assert ws.memory_limit == memory_limit_bytes()
        ws.set_memory_limit(None)
