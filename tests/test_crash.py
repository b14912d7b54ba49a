"""All or nothing, log included: imports killed (-9), interrupted (Ctrl-C) or out of disk.

Each killed import runs in a child process that SIGKILLs itself at a chosen point of
:meth:`Workspace.run_import`; the parent reopens the workspace and checks that it holds
either the whole import with its log row, or exactly what it held before.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from aovlab import Workspace
from aovlab.errors import WorkspaceError
from aovlab.storage import recovery

ORDERS = "order_id,created_at,total\n" + "".join(
    f"o{i},2024-01-{1 + i % 28:02d} 10:00,{10 + i}.5\n" for i in range(2000))
MORE = "order_id,created_at,total\n" + "".join(
    f"p{i},2024-02-{1 + i % 28:02d} 10:00,{20 + i}.25\n" for i in range(3000))


def _state(path: Path) -> dict:
    with Workspace(path, read_only=True) as ws:
        return {"orders": ws.count("orders"), "imports": len(ws.imports()),
                "total": ws.con.execute("SELECT sum(total) FROM orders").fetchone()[0],
                "recovered": ws.recovered}


def _child(ws: Path, csv: Path, kill_at: str) -> subprocess.CompletedProcess:
    """Import ``csv`` into ``ws`` in a child that kills itself with SIGKILL at ``kill_at``."""
    code = textwrap.dedent(f"""
        import os, signal
        import aovlab
        from aovlab.storage import Workspace, recovery, workspace as wsmod

        def die(*a, **k):
            os.kill(os.getpid(), signal.SIGKILL)

        point = {kill_at!r}
        ws = Workspace({str(ws)!r})
        if point == "staging":      # reading the file, nothing merged
            orig_validate = wsmod.validate
            wsmod.validate = die
        elif point == "merge":      # orders inserted, log not yet written
            orig_log = Workspace._log
            Workspace._log = die
        elif point == "before-commit":  # log written, COMMIT not run
            orig = Workspace._log
            def log_then_die(self, con, summary):
                orig(self, con, summary)
                die()
            Workspace._log = log_then_die
        elif point == "after-commit":   # committed, marker not yet removed
            recovery.end = die
        aovlab.import_files(ws, {str(csv)!r}, "generic", currency="EUR")
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("kill_at,complete", [
    ("staging", False), ("merge", False), ("before-commit", False), ("after-commit", True)])
def test_kill_9_is_all_or_nothing_log_included(tmp_path, kill_at, complete):
    ws_path = tmp_path / "ws.duckdb"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(ORDERS)
    second.write_text(MORE)
    with Workspace(ws_path) as ws:
        import aovlab

        aovlab.import_files(ws, first, "generic", currency="EUR")
    before = _state(ws_path)
    done = _child(ws_path, second, kill_at)
    assert done.returncode == -signal.SIGKILL, done.stderr
    after = _state(ws_path)
    if complete:
        assert after["orders"] == before["orders"] + 3000
        assert after["imports"] == before["imports"] + 1
    else:
        assert (after["orders"], after["imports"], after["total"]) == (
            before["orders"], before["imports"], before["total"])
    # the workspace takes the same import again, whole
    with Workspace(ws_path) as ws:
        import aovlab

        s = aovlab.import_files(ws, second, "generic", currency="EUR")
        assert s.orders_added == (0 if complete else 3000)
        assert ws.count("orders") == 5000
    with duckdb.connect(str(ws_path), read_only=True) as con:
        assert recovery.pending(con) is None  # a writing opening removed the marker


def _fake_partial_replay(path: Path, csv: Path | None, *, keep_log: bool,
                         drop_rows: bool) -> None:
    """The state DuckDB's WAL replay can leave after a kill -9 mid-commit (see recovery.py):
    the marker, and the import's rows without its log row (or the reverse)."""
    import aovlab

    with Workspace(path) as ws:
        if csv is not None:
            aovlab.import_files(ws, csv, "generic", currency="EUR")
        con = ws.con
        before = recovery.counts(con)
        next_id = len(ws.imports()) + 1
        marker = recovery.Marker(next_id, "generic", ["second.csv"], before,
                                 recovery.next_rowids(con))
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [recovery.MARKER, marker.to_json()])
        con.execute("INSERT INTO orders SELECT source, 'x' || order_id, "
                    "* EXCLUDE (source, order_id) FROM orders LIMIT 2000")
        if keep_log:
            added = {"orders": {"added": 2000 if not drop_rows else 2001}}
            con.execute("INSERT INTO imports VALUES (?, now(), 'generic', '[]', ?)",
                        [next_id, json.dumps({"tables": added})])


def _replayed(tmp_path: Path, *, keep_log: bool, drop_rows: bool) -> Path:
    """A workspace holding ORDERS, then the partial replay ``_fake_partial_replay`` builds."""
    csv = tmp_path / "first.csv"
    csv.write_text(ORDERS)
    path = tmp_path / "ws.duckdb"
    _fake_partial_replay(path, csv, keep_log=keep_log, drop_rows=drop_rows)
    return path


def test_rows_replayed_without_their_log_row_are_removed(tmp_path):
    path = _replayed(tmp_path, keep_log=False, drop_rows=False)
    # a reading command repairs it too (once, with write access) before it reads
    state = _state(path)
    assert state["orders"] == 2000 and state["imports"] == 1
    assert "interrupted" in state["recovered"] and "second.csv" in state["recovered"]
    assert _state(path)["recovered"] is None  # repaired once, for good


def test_a_log_row_without_all_its_rows_is_undone(tmp_path):
    path = _replayed(tmp_path, keep_log=True, drop_rows=True)
    with Workspace(path) as ws:
        assert ws.recovered and ws.count("orders") == 2000 and len(ws.imports()) == 1


def test_a_completed_import_keeps_everything_when_only_the_marker_is_left(tmp_path):
    path = _replayed(tmp_path, keep_log=True, drop_rows=False)
    with Workspace(path) as ws:
        assert ws.recovered is None and ws.count("orders") == 4000 and len(ws.imports()) == 2


def test_rows_lost_from_before_the_import_are_reported_not_hidden(tmp_path):
    csv = tmp_path / "first.csv"
    csv.write_text(ORDERS)
    path = tmp_path / "ws.duckdb"
    with Workspace(path) as ws:
        import aovlab

        aovlab.import_files(ws, csv, "generic", currency="EUR")
        marker = recovery.Marker(2, "generic", ["b.csv"], recovery.counts(ws.con))
        ws.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                       [recovery.MARKER, marker.to_json()])
        ws.con.execute("DELETE FROM orders WHERE order_id = 'o1'")
    with pytest.raises(WorkspaceError, match="lost rows"):
        Workspace(path)


def _limited(code: str, limit_bytes: int) -> subprocess.CompletedProcess:
    """Run ``code`` with a file-size limit: writes past it fail as on a full disk (EFBIG)."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          preexec_fn=limit, timeout=300)


def test_disk_full_during_import_is_a_clean_message_and_changes_nothing(tmp_path):
    path, csv = tmp_path / "ws.duckdb", tmp_path / "big.csv"
    (tmp_path / "first.csv").write_text(ORDERS)
    with Workspace(path) as ws:
        import aovlab

        aovlab.import_files(ws, tmp_path / "first.csv", "generic", currency="EUR")
    before = _state(path)
    # 300k orders: far more than the space left; reading the CSV needs no new file space.
    csv.write_text("order_id,created_at,total\n" + "".join(
        f"big{i},2024-03-{1 + i % 28:02d} 10:00,{i % 997}.5\n" for i in range(300_000)))
    limit = path.stat().st_size + 64 * 1024
    done = _limited(f"from aovlab.cli import main; import sys; sys.argv = ['aovlab', 'import', "
                    f"{str(csv)!r}, '-w', {str(path)!r}, '--currency', 'EUR']; main()", limit)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "nothing was written" in done.stderr and "disk" in done.stderr
    assert _state(path) == before


def test_wal_that_cannot_be_created_is_a_clean_message(tmp_path):
    path = tmp_path / "ws.duckdb"
    (tmp_path / "first.csv").write_text(ORDERS)
    Workspace(path).close()
    (tmp_path / "ws.duckdb.wal").mkdir()  # the WAL's name is taken: DuckDB cannot create it
    done = subprocess.run([sys.executable, "-m", "aovlab.cli", "import",
                           str(tmp_path / "first.csv"), "-w", str(path), "--currency", "EUR"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "error:" in done.stderr
    (tmp_path / "ws.duckdb.wal").rmdir()
    assert _state(path)["orders"] == 0


@pytest.mark.parametrize("where", ["python", "duckdb"])
def test_ctrl_c_during_import_aborts_cleanly(tmp_path, where):
    """Ctrl-C while Python runs (KeyboardInterrupt) or inside a DuckDB query (interrupt)."""
    path = tmp_path / "ws.duckdb"
    (tmp_path / "first.csv").write_text(ORDERS)
    (tmp_path / "second.csv").write_text(MORE)
    with Workspace(path) as ws:
        import aovlab

        aovlab.import_files(ws, tmp_path / "first.csv", "generic", currency="EUR")
    before = _state(path)
    code = textwrap.dedent(f"""
        import os, signal, sys, threading
        from aovlab.cli import main
        from aovlab.storage import workspace as wsmod

        def press_ctrl_c():  # again and again, as a user does when nothing seems to happen
            import time
            while True:
                time.sleep(0.5)
                os.kill(os.getpid(), signal.SIGINT)

        def interrupted(con, staged):
            threading.Thread(target=press_ctrl_c, daemon=True).start()
            if {where!r} == "duckdb":  # a query that would run for minutes
                con.execute("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3")
            else:
                import time
                time.sleep(60)

        wsmod.validate = interrupted
        sys.argv = ["aovlab", "import", {str(tmp_path / "second.csv")!r}, "-w", {str(path)!r},
                    "--currency", "EUR"]
        main()
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert "aborted" in done.stderr and "nothing was written" in done.stderr
    assert _state(path) == before


def _wal_size(path: Path) -> int:
    wal = path.with_name(path.name + ".wal")
    try:
        return wal.stat().st_size
    except OSError:
        return 0


@pytest.mark.slow
def test_kill_9_of_a_multi_million_line_import_at_commit(tmp_path):
    """The reported case: 2.5M orders and 10M lines, killed while DuckDB writes the commit.

    The child is killed when the WAL starts growing past the marker (DuckDB is writing the
    import's transaction) and at several delays after; each outcome is all or nothing.
    """
    from aovlab.importers.synthetic import write_orders

    store = write_orders(tmp_path / "store", 2_500_000, seed=1)
    path = tmp_path / "ws.duckdb"
    outcomes = []
    for delay_ms in (0, 20, 50, 100, 200, 400):
        for p in (path, path.with_name(path.name + ".wal")):
            p.unlink(missing_ok=True)
        Workspace(path).close()
        proc = subprocess.Popen([sys.executable, "-c", (
            "from aovlab.storage import Workspace\n"
            "from aovlab.importers.synthetic import import_synthetic\n"
            f"import_synthetic(Workspace({str(path)!r}), {store.path!r})\n")])
        seen = None
        while proc.poll() is None:
            now = time.monotonic()
            if seen is None and _wal_size(path) > 5000:
                seen = now
            if seen is not None and now - seen >= delay_ms / 1000:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.0005)
        proc.wait()
        state = _state(path)
        whole = (state["orders"], state["imports"]) == (store.n_orders, 1)
        with Workspace(path, read_only=True) as ws:
            lines = ws.count("order_lines")
        assert whole and lines == store.n_lines or (
            (state["orders"], state["imports"], lines) == (0, 0, 0)), (delay_ms, state, lines)
        outcomes.append((delay_ms, whole, bool(state["recovered"])))
    print(outcomes)


def test_undo_after_a_rowid_gap_keeps_the_imports_before_it(tmp_path):
    """Deleted rows leave a rowid gap until a checkpoint: the undo must not reach back past
    the interrupted import into the one before it (rowids, not row counts)."""
    import aovlab

    path, first, second = tmp_path / "ws.duckdb", tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(ORDERS)
    second.write_text(MORE)
    with Workspace(path) as ws:
        aovlab.import_files(ws, first, "generic", currency="EUR")
    with Workspace(path) as ws:
        con = ws.con
        con.execute("PRAGMA disable_checkpoint_on_shutdown")  # nothing folds the gap away
        con.execute("INSERT INTO orders SELECT source, 'junk' || order_id, "
                    "* EXCLUDE (source, order_id) FROM orders LIMIT 1000")
        con.execute("DELETE FROM orders WHERE order_id LIKE 'junk%'")
        aovlab.import_files(ws, second, "generic", currency="EUR")
        assert con.execute("SELECT count(*), max(rowid) FROM orders").fetchone() == (5000, 5999)
        # then an import is cut off after DuckDB wrote its rows but not its log row
        marker = recovery.Marker(3, "generic", ["third.csv"], recovery.counts(con),
                                 recovery.next_rowids(con))
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [recovery.MARKER, marker.to_json()])
        con.execute("INSERT INTO orders SELECT source, 'x' || order_id, "
                    "* EXCLUDE (source, order_id) FROM orders LIMIT 700")
    with Workspace(path) as ws:
        assert ws.recovered
        assert ws.count("orders") == 5000 and len(ws.imports()) == 2
