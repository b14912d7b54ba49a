"""Imports that were cut off (kill -9, power loss) are undone when the workspace next opens.

Why this exists: an import's rows and its ``imports`` log row are written in one DuckDB
transaction, yet a kill -9 while DuckDB writes that transaction's WAL can bring the rows
back on reopening without the log row (DuckDB 1.5 replays the row groups it had already
written optimistically; seen in 2 of 3 runs, and reproduced in ``tests/test_crash.py``).
So the workspace keeps its own marker, independent of how DuckDB orders its WAL:

1. before the import's transaction, ``meta.import_in_progress`` is committed, holding the
   import's id, and the row count and the next rowid of every canonical table;
2. the import's transaction adds rows and the log row;
3. a last commit removes the marker.

Canonical tables are append-only (imports only ever insert), so whatever an interrupted
import left sits at ``rowid >=`` the next rowid before it (rowids are not the row count: an
undo's DELETE leaves a gap until DuckDB checkpoints). On opening, a marker means step 2 or 3 was
interrupted: if the log row is there and every table holds exactly its rows, the import
completed and only the marker goes; otherwise the import's rows and log row are deleted,
which is the state before it began. Either way the outcome is all or nothing, log included.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass

import duckdb

from .. import schema
from ..errors import WorkspaceError
from . import facts

MARKER = "import_in_progress"


@dataclass(frozen=True)
class Marker:
    """What an import recorded before it began."""

    import_id: int
    format: str
    files: list[str]
    before: dict[str, int]  # canonical table -> rows before the import
    next_rowid: dict[str, int] | None = None  # canonical table -> max(rowid) + 1 before it

    def to_json(self) -> str:
        return json.dumps({"import_id": self.import_id, "format": self.format,
                           "files": self.files, "before": self.before,
                           "next_rowid": self.next_rowid})

    @classmethod
    def from_json(cls, text: str) -> Marker:
        d = json.loads(text)
        nxt = d.get("next_rowid")
        return cls(int(d["import_id"]), str(d["format"]), list(d["files"]),
                   {str(k): int(v) for k, v in d["before"].items()},
                   None if nxt is None else {str(k): int(v) for k, v in nxt.items()})

    def first_new_rowid(self, table: str) -> int:
        if self.next_rowid is not None:
            return self.next_rowid.get(table, 0)
        return self.before.get(table, 0)


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per canonical table (metadata reads in DuckDB: cheap at any size)."""
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in schema.TABLES}


def next_rowids(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """max(rowid) + 1 per canonical table (row-group metadata: cheap at any size)."""
    return {t: con.execute(f"SELECT coalesce(max(rowid) + 1, 0) FROM {t}").fetchone()[0]
            for t in schema.TABLES}


def begin(con: duckdb.DuckDBPyConnection, fmt: str, files: list[str]) -> Marker:
    """Commit the marker of the import about to run (outside any transaction)."""
    next_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0]
    marker = Marker(next_id, fmt, files, counts(con), next_rowids(con))
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [MARKER, marker.to_json()])
    return marker


def end(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the marker once the import committed or rolled back."""
    con.execute("DELETE FROM meta WHERE key = ?", [MARKER])


def pending(con: duckdb.DuckDBPyConnection, path: str = "the workspace") -> Marker | None:
    """The marker of an import that did not finish, if any."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", [MARKER]).fetchone()
    if row is None:
        return None
    try:
        return Marker.from_json(row[0])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WorkspaceError(f"{path} holds an unreadable import marker ({exc})",
                             fix="re-import your files into a new workspace") from exc


def completed(con: duckdb.DuckDBPyConnection, marker: Marker) -> bool:
    """Did the marked import commit whole: its log row, and exactly its rows in every table?"""
    row = con.execute("SELECT summary FROM imports WHERE import_id = ?",
                      [marker.import_id]).fetchone()
    if row is None:
        return False
    added = {t: int(c.get("added", 0)) for t, c in json.loads(row[0]).get("tables", {}).items()}
    now = counts(con)
    return all(now[t] == marker.before.get(t, 0) + added.get(t, 0) for t in schema.TABLES)


def undo(con: duckdb.DuckDBPyConnection, marker: Marker, path: str) -> None:
    """Delete what the interrupted import left, log row included, in one transaction."""
    now = counts(con)
    short = {t: (n, marker.before.get(t, 0)) for t, n in now.items()
             if n < marker.before.get(t, 0)}
    if short:
        # Fewer rows than before the import: not something an interrupted insert can do.
        shown = ", ".join(f"{t} has {n:,} rows, had {b:,}" for t, (n, b) in short.items())
        raise WorkspaceError(
            f"workspace {path} lost rows that were there before import {marker.import_id} "
            f"({shown}); it cannot be repaired automatically",
            fix="re-import your files into a new workspace (imports are idempotent)")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM imports WHERE import_id = ?", [marker.import_id])
        for t in schema.TABLES:
            if now[t] > marker.before.get(t, 0):
                con.execute(f"DELETE FROM {t} WHERE rowid >= ?", [marker.first_new_rowid(t)])
        # An import also moves stored orders' positions when it brings older ones: the
        # facts are computed again from what is left, so none keeps a half-done change.
        facts.refresh_all(con)
        end(con)
        con.execute("COMMIT")
    except BaseException:
        rollback_quietly(con)
        raise
    # Folds the deletions into the file; were this cut off, the next import's marker
    # records the real next rowids, so the gap left is harmless.
    con.execute("CHECKPOINT")


def rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK, unless the transaction is already gone (a COMMIT that failed, e.g. on a
    full disk, ends it; ROLLBACK would then raise over the real error)."""
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")


def untouched(con: duckdb.DuckDBPyConnection, marker: Marker) -> bool:
    """Was the marked import cut off before it wrote anything (Ctrl-C, a refused file)?"""
    logged = con.execute("SELECT count(*) FROM imports WHERE import_id = ?",
                         [marker.import_id]).fetchone()[0]
    now = counts(con)
    return not logged and all(now[t] == marker.before.get(t, 0) for t in now)


def needs_repair(con: duckdb.DuckDBPyConnection, path: str) -> bool:
    """Does an interrupted import have rows to undo? (Read-only: a marker alone is not.)"""
    marker = pending(con, path)
    return marker is not None and not completed(con, marker) and not untouched(con, marker)


def recover(con: duckdb.DuckDBPyConnection, path: str) -> str | None:
    """Finish or undo an interrupted import; a sentence saying what was done, or None."""
    try:
        return _recover(con, path)
    except WorkspaceError:
        raise
    except duckdb.Error as exc:
        raise WorkspaceError(
            f"workspace {path}: an interrupted import could not be undone: "
            f"{str(exc).splitlines()[0]}",
            fix="free disk space and make the file writable, then run the command again; if "
                "it persists, re-import your files into a new workspace") from exc


def _recover(con: duckdb.DuckDBPyConnection, path: str) -> str | None:
    marker = pending(con, path)
    if marker is None:
        return None
    files = ", ".join(marker.files)
    if completed(con, marker) or untouched(con, marker):
        end(con)
        return None
    undo(con, marker, path)
    return (f"the {marker.format} import of {files} (import {marker.import_id}) was "
            "interrupted before it finished; what it had written was removed, so the "
            "workspace is as it was before that import")
