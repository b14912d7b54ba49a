"""Every command driven with random options and values, as a careless or hostile user would.

Whatever is typed: no traceback, exit code 0 or 2 (1 would be an internal error: a bug),
and the workspace file unchanged unless the command was an import that succeeded.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fixtures import tiny_orders

from aovlab.cli import main

HOSTILE = ["", " ", "-1", "0", "1", "3", "1e308", "-1e308", "nan", "inf", "100000000",
           "abc", "[/red]", "[bold red]web", "'; DROP TABLE orders; --", "=cmd|' /C calc'!A0",
           "2024-01-01", "2024-13-45", "2262-04-12", "9999-12-31", "2024-01-01:2024-02-28",
           "2024-02-28:2024-01-01", ":", "channel", "country", "month", "week", "total",
           "net", "gross", "EUR", "USD", "placed", "cancelled", "country=France",
           "channel=web", "=", "x" * 300, "\u00e9\u00e8\u4e2d", "\x00", "--", "-w",
           "previous", "year", "quarter", "shop-b", "generic", "Shop B"]
COMMANDS = {
    "kpis": ["--by", "--period", "--definition", "--start", "--end", "--currency",
             "--status", "--where", "--trim", "--columns", "--engine", "--format", "--output",
             "--force", "--last", "--vs"],
    "histogram": ["--bins", "--fence", "--definition", "--start", "--end", "--currency",
                  "--status", "--where", "--engine", "--format", "--output", "--force"],
    "explain": ["--base", "--compare", "--by", "--definition", "--currency", "--status",
                "--where", "--top", "--engine", "--format", "--output", "--force", "--last",
                "--vs"],
    "status": [],
    "definitions": [],
    "import": ["--format", "--mapping", "--currency", "--timezone", "--json", "--lines",
               "--source"],
    "threshold": ["--current", "--no-detect", "--offer", "--fee", "--amount", "--rate",
                  "--margin", "--share", "--reach", "--overshoot", "--candidates", "--boots",
                  "--table", "--chart", "--definition", "--currency", "--where", "--format",
                  "--output", "--force"],
    "threshold-change": ["--change", "--days", "--threshold", "--previous", "--by",
                         "--treated", "--control", "--table", "--where", "--format",
                         "--output", "--force"],
    "price-test": ["--control", "--unit-cost", "--margin", "--table", "--format",
                   "--output", "--force"],
    "power": ["--lift", "--metric", "--alpha", "--power", "--ratio", "--where", "--format",
              "--output", "--force"],
    "abtest": ["--experiment", "--control", "--cap", "--window", "--pre-days", "--no-cuped",
               "--sequential", "--bayesian", "--absolute", "--segment", "--shares", "--level",
               "--table", "--where", "--format", "--output", "--force"],
    "export": ["--parquet", "--force"],
    "check": ["--all", "--format", "--output", "--force"],
    "bogus": [],
}
FLAGS = {"--force", "--all", "--json", "--lines", "--no-detect", "--no-cuped", "--sequential",
         "--bayesian", "--absolute"}


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fuzz")
    tiny_orders().to_csv(d / "orders.csv", index=False)
    (d / "bad.csv").write_text("order_id,created_at,total\no1,2024-01-01,5\no2\n")
    (d / "folder").mkdir()
    (d / "cwd").mkdir()
    import aovlab

    with aovlab.Workspace(d / "pristine.duckdb") as ws:
        aovlab.import_frame(ws, tiny_orders(), currency="EUR")
    return d


def _values(place: Path) -> st.SearchStrategy[str]:
    paths = [str(place / n) for n in ("orders.csv", "bad.csv", "folder", "missing.csv",
                                      "out.csv", "out.json", "ws.duckdb", "ws.duckdb.wal",
                                      "nofolder/x.csv")]
    return st.one_of(st.sampled_from(HOSTILE + paths),
                     st.text(max_size=12).filter(lambda s: "\x00" not in s),
                     st.floats(allow_nan=True).map(str), st.integers().map(str))


def _run(argv: list[str], cwd: Path | None = None) -> tuple[int, str]:
    """``aovlab ARGV`` in this process, in ``cwd`` (relative outputs and the default
    workspace land there, never in the repository)."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.argv, signal.getsignal(signal.SIGINT), os.getcwd()
    sys.argv = ["aovlab", *argv]
    code: object = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if exc.code is not None else 0
    finally:
        sys.argv = old[0]
        signal.signal(signal.SIGINT, old[1])
        os.chdir(old[2])
    return int(code) if isinstance(code, int) else 1, out.getvalue() + err.getvalue()


def _digest(path: Path) -> tuple:
    """What the workspace holds (not its bytes: a refused import commits and removes its
    recovery marker, and DuckDB rewrites blocks on checkpoint)."""
    import duckdb

    from aovlab import schema

    with duckdb.connect(str(path), read_only=True) as con:
        return tuple(con.execute(f"SELECT count(*), sum(hash(t)) FROM {name} t").fetchone()
                     for name in (*schema.TABLES, "imports", "meta"))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_command_line_ends_cleanly(place, data):
    ws = place / "ws.duckdb"
    for p in (ws, ws.with_name("ws.duckdb.wal"), place / "out.csv", place / "out.json",
              place / "missing.csv"):
        if p.is_dir():  # a Parquet dataset an export wrote there
            shutil.rmtree(p)
        p.unlink(missing_ok=True)
    shutil.copy(place / "pristine.duckdb", ws)
    command = data.draw(st.sampled_from(sorted(COMMANDS)))
    argv = [command]
    if command == "import":
        argv.append(data.draw(st.sampled_from([str(place / "orders.csv"),
                                               str(place / "bad.csv"), str(place / "folder"),
                                               str(place / "missing.csv")])))
    values = _values(place)
    for flag in data.draw(st.lists(st.sampled_from(COMMANDS[command] or ["--help"]),
                                   max_size=5)):
        argv.append(flag)
        if flag not in FLAGS and flag != "--help":
            argv.append(data.draw(values))
    if command != "definitions" and data.draw(st.booleans()):
        argv += ["-w", str(ws)]
    before = _digest(ws)
    code, text = _run(argv, cwd=place / "cwd")
    assert "Traceback" not in text, (argv, text)
    assert code in (0, 2), (argv, code, text)
    if not (command == "import" and code == 0):
        assert _digest(ws) == before, (argv, text)
    elif "-w" in argv:  # an import that succeeded holds every order of the file, once
        import duckdb

        with duckdb.connect(str(ws), read_only=True) as con:
            sources = {r[0]: r[1] for r in con.execute(
                "SELECT source, list(order_id ORDER BY order_id) FROM orders GROUP BY 1"
            ).fetchall()}
        assert any(sorted(tiny_orders().order_id) == ids for ids in sources.values()), (
            argv, sources)


def test_an_internal_error_is_one_line_a_log_and_exit_1(place, monkeypatch, tmp_path):
    import aovlab.analyses

    def broken(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(aovlab.analyses, "kpis", broken)
    monkeypatch.setenv("AOVLAB_LOG_DIR", str(tmp_path))
    code, text = _run(["kpis", "-w", str(place / "pristine.duckdb")], cwd=tmp_path)
    assert code == 1 and "Traceback" not in text
    assert "internal error (ZeroDivisionError: a bug)" in text and "please report" in text
    logs = list(tmp_path.glob("aovlab-error-*.log"))
    assert len(logs) == 1 and "ZeroDivisionError" in logs[0].read_text()
    with pytest.raises(ZeroDivisionError):  # --debug: the traceback itself
        _run(["--debug", "kpis", "-w", str(place / "pristine.duckdb")])


def test_explain_table_goes_to_the_output_file(place, tmp_path):
    out = tmp_path / "why.txt"
    code, text = _run(["explain", "-w", str(place / "pristine.duckdb"), "--base",
                       "2024-01-01:2024-01-31", "--compare", "2024-02-01:2024-02-29",
                       "-o", str(out)])
    assert code == 0, text
    assert "mix" in out.read_text() and "mix" not in text
