"""A workspace: one DuckDB file holding the canonical tables.

Imports are atomic and idempotent. An importer stages rows through a
:class:`~aovlab.storage.staging.StagingContext`; :meth:`Workspace.run_import` validates them
against the schema's rules and inserts, inside one transaction, only the rows whose key is
not already present. Any error rolls the whole import back, so a failing file leaves the
workspace exactly as it was.

A DuckDB connection is not safe to share between threads: the workspace's own methods take
its lock, and readers (engines, the dashboard) get a cursor of their own per call from
:attr:`Workspace.catalog`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from .. import schema
from ..errors import InputError, Location, WorkspaceError, is_interrupt
from . import facts, memory, recovery
from .catalog import DuckDBCatalog
from .staging import (
    ImportSummary,
    ProgressFn,
    StagingContext,
    TableCounts,
    check_source,
    in_schema_order,
    no_progress,
    validate,
)

__all__ = ["ImportSummary", "TableCounts", "Workspace", "workspace_status"]

class Workspace:
    """A DuckDB file with the canonical tables (see :mod:`aovlab.schema`).

    >>> ws = Workspace(":memory:")
    >>> ws.count("orders")
    0
    """

    def __init__(self, path: str | Path = "aovlab.duckdb", *, read_only: bool = False,
                 memory_limit: str | None = None) -> None:
        self.path = str(path)
        memory.memory_limit_bytes(memory_limit)  # a bad value is refused before any opening
        self._memory_given = memory_limit
        self._lock = threading.RLock()
        #: What opening the workspace repaired (an interrupted import undone), or None.
        self.recovered: str | None = None
        if self.path != ":memory:":
            _check_path(Path(self.path))
        #: The workspace's own connection, for ad-hoc SQL in scripts and tests; aovlab's
        #: layers read through :attr:`catalog` (a cursor per call) instead.
        self.con = self._connect(read_only)
        if not read_only:
            # Never add aovlab's tables to a database that already holds something else.
            self._refuse_foreign()
            self._create()
        if not self._check_version(read_only):
            # An older schema this aovlab upgrades: once, with write access, then back.
            self.con.close()
            Workspace(self.path, memory_limit=self._memory_given).close()
            self.con = self._connect(read_only)
        if read_only:
            if recovery.needs_repair(self.con, self.path):
                # An interrupted import must be undone before anything is read: once, with
                # write access, then back to read-only.
                self.con.close()
                with Workspace(self.path, memory_limit=self._memory_given) as repairing:
                    self.recovered = repairing.recovered
                self.con = self._connect(read_only)
        else:
            self.recovered = recovery.recover(self.con, self.path)
        self.catalog = DuckDBCatalog(self.con, self.path, self._lock)

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as exc:
            raise _open_error(self.path, exc) from exc
        # DuckDB draws its own progress bar on stdout, pipes included; aovlab shows progress
        # itself, in a terminal only.
        con.execute("SET enable_progress_bar = false")
        #: DuckDB's memory limit in bytes (:mod:`.memory`: a share of the machine by default).
        self.memory_limit = memory.apply(con, self._memory_given, _stored_limit(con))
        return con

    def set_memory_limit(self, limit: str | None) -> None:
        """Store ``limit`` (``8GB``, ``30%``) as this workspace's memory limit, used by every
        later opening that is not given one (an argument, ``--memory-limit`` or
        ``AOVLAB_MEMORY_LIMIT``); ``None`` forgets it (the default share again)."""
        if limit is not None:
            memory.memory_limit_bytes(limit)  # refused here if it is not a limit
        with self._lock:
            if limit is None:
                self.con.execute(f"DELETE FROM meta WHERE key = '{_MEMORY_KEY}'")
            else:
                self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                 [_MEMORY_KEY, str(limit).strip()])
            self.memory_limit = memory.apply(self.con, self._memory_given, limit)

    @property
    def stored_memory_limit(self) -> str | None:
        """The memory limit stored with the workspace, if any."""
        with self._lock:
            return _stored_limit(self.con)

    # -- lifecycle -------------------------------------------------------------------------
    def _refuse_foreign(self) -> None:
        names = {r[0] for r in self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
        if names and "meta" not in names:
            self.con.close()
            shown = ", ".join(sorted(names)[:5])
            raise WorkspaceError(
                f"{self.path} is a DuckDB database but not an aovlab workspace "
                f"(it holds {shown}{', ...' if len(names) > 5 else ''}); nothing was changed",
                fix="pass a new path for the workspace, e.g. -w shop.duckdb")

    def _create(self) -> None:
        with self._lock:
            for table in schema.TABLES.values():
                self.con.execute(table.ddl())
            self.con.execute(schema.IMPORTS_DDL)
            self.con.execute(schema.META_DDL)
            self.con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                [str(schema.SCHEMA_VERSION)],
            )

    def _check_version(self, read_only: bool) -> bool:
        """True when the schema is this aovlab's; False when it is an older one to upgrade
        (on a read-only opening: a writable one upgrades it)."""
        try:
            row = self.con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except duckdb.CatalogException as exc:
            raise WorkspaceError(
                f"{self.path} is not an aovlab workspace (no meta table)",
                fix="point --workspace at a file created by 'aovlab import'",
            ) from exc
        old = int(row[0]) if row is not None and row[0].isdigit() else None
        if old in schema.UPGRADABLE:
            if read_only:
                return False
            # The newer schema adds tables, which _create has just made, and derived
            # columns, computed here from the rows: in one transaction, then recorded.
            with self._lock:
                self.con.execute("BEGIN TRANSACTION")
                try:
                    for table in schema.TABLES.values():
                        for c in table.columns:
                            if c.derived:
                                self.con.execute(f"ALTER TABLE {table.name} ADD COLUMN IF "
                                                 f"NOT EXISTS {c.name} {c.type}")
                    facts.refresh_all(self.con)
                    self.con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                                     [str(schema.SCHEMA_VERSION)])
                    self.con.execute("COMMIT")
                except BaseException:
                    self.con.execute("ROLLBACK")
                    raise
            return True
        if row is None or row[0] != str(schema.SCHEMA_VERSION):
            shown = "none" if row is None else repr(row[0])
            raise WorkspaceError(
                f"{self.path} has schema version {shown}; this aovlab needs "
                f"{schema.SCHEMA_VERSION}",
                fix="re-import your data into a new workspace (or use the aovlab version "
                    "that wrote it)",
            )
        return True

    def close(self) -> None:
        with self._lock:
            self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one thread's use, under the workspace lock."""
        with self._lock:
            cur = self.con.cursor()
            try:
                yield cur
            finally:
                cur.close()

    # -- reading ---------------------------------------------------------------------------
    def count(self, table: str) -> int:
        if table not in schema.TABLES:
            raise KeyError(table)
        with self._lock:
            return self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def table(self, name: str):  # -> pyarrow.Table
        """A canonical table as Arrow (small tables; use :mod:`aovlab.engines` for queries)."""
        if name not in schema.TABLES and name != "imports":
            raise KeyError(name)
        with self._lock:
            return self.con.execute(f"SELECT * FROM {name}").to_arrow_table()

    def imports(self) -> list[dict]:
        with self._lock:
            rows = self.con.execute(
                "SELECT import_id, imported_at, format, files, summary FROM imports ORDER BY 1"
            ).fetchall()
        return [
            {"import_id": r[0], "imported_at": r[1], "format": r[2], "files": r[3],
             "summary": json.loads(r[4])}
            for r in rows
        ]

    # -- writing ---------------------------------------------------------------------------
    def run_import(
        self,
        fmt: str,
        files: list[str],
        stage: Callable[[StagingContext], None],
        progress: ProgressFn = no_progress,
        source: str | None = None,
    ) -> ImportSummary:
        """Stage with ``stage(ctx)`` and merge, all in one transaction; roll back on any error.

        A marker committed before the transaction and removed after it lets the next opening
        undo an import that a kill or a power cut interrupted (:mod:`.recovery`). Ctrl-C
        raises :class:`KeyboardInterrupt`, a failed write (disk full) a
        :class:`WorkspaceError`; in both cases nothing was written.
        """
        summary = ImportSummary(format=fmt, files=files,
                                source=check_source(source) if source else "")
        with self._lock:
            con = self.con
            try:
                marker = recovery.begin(con, fmt, files)
            except duckdb.Error as exc:
                raise _write_error(self.path, exc) from exc
            summary.import_id = marker.import_id
            ctx = StagingContext(con, summary, progress)
            try:
                con.execute("BEGIN TRANSACTION")
                stage(ctx)
                progress("validating")
                validate(con, ctx.staged)
                progress("writing")
                self._merge_staged(con, ctx.staged, summary)
                self._log(con, summary)
                con.execute("COMMIT")
            except BaseException as exc:
                recovery.rollback_quietly(con)
                if is_interrupt(exc):
                    raise KeyboardInterrupt from exc
                if isinstance(exc, duckdb.IOException | duckdb.FatalException):
                    raise _write_error(self.path, exc) from exc
                raise
            finally:
                try:
                    ctx.close()
                    recovery.end(con)
                except duckdb.Error:
                    pass  # the next opening finds the marker and checks the import
        return summary

    def _merge_staged(self, con: duckdb.DuckDBPyConnection, staged: list[str],
                      summary: ImportSummary) -> None:
        """Insert the staged rows whose key is new, after refusing any that would cross.

        Everything is checked before anything is inserted, so the checks see the workspace
        as it was before this import.
        """
        names = in_schema_order(staged)
        counts = {name: _compare_lines(con) if name == "order_lines" else
                  _compare(con, schema.TABLES[name]) for name in names}
        for name in names:
            table = schema.TABLES[name]
            if table.merge == "refuse" and counts[name].changed:
                raise (_lines_collision(con, counts[name], summary) if name == "order_lines"
                       else _collision(con, table, counts[name], summary))
        if "orders" in names and "order_lines" in names:
            _refuse_lines_joining_stored_orders(con, summary)
        for name in names:
            table = schema.TABLES[name]
            cols = ", ".join(table.column_names)
            # An order's lines come as a whole: they are added with a new order (or one
            # stored without lines), never one by one beside lines already stored.
            on = ("t.source = s.source AND t.order_id = s.order_id" if name == "order_lines"
                  else _on(table))
            if name == "orders":  # with the customer facts (storage/facts.py)
                facts.insert_orders(con, f"NOT EXISTS (SELECT 1 FROM orders t WHERE {on})")
            else:
                con.execute(
                    f"INSERT INTO {name} ({cols}) SELECT {cols} FROM stage_{name} s "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {name} t WHERE {on})"
                )
            summary.tables[name] = c = counts[name]
            if c.changed:
                summary.notes.append(
                    f"{c.changed} {name} rows have a key already in the workspace "
                    "with different values; the workspace keeps its version"
                )

    def _log(self, con: duckdb.DuckDBPyConnection, summary: ImportSummary) -> None:
        con.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?)",
            [summary.import_id, datetime.now(UTC), summary.format, json.dumps(summary.files),
             json.dumps(summary.to_dict(), default=str)],
        )


_MEMORY_KEY = "memory_limit"


def _stored_limit(con: duckdb.DuckDBPyConnection) -> str | None:
    """The workspace's stored memory limit (None: none stored, or no meta table yet)."""
    try:
        row = con.execute(f"SELECT value FROM meta WHERE key = '{_MEMORY_KEY}'").fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None


def _on(table: schema.Table) -> str:
    return " AND ".join(f"t.{k} = s.{k}" for k in table.key)


def _same(table: schema.Table, c: str) -> str:
    """SQL: the stored (``t``) and staged (``s``) values of column ``c`` agree."""
    if table.column(c).type == "DOUBLE":
        # Money sums differ in the last bit with summation order; that is not a change.
        return (f"(t.{c} IS NOT DISTINCT FROM s.{c} OR coalesce(abs(t.{c} - s.{c}) <= "
                f"1e-9 * greatest(1, abs(t.{c})), false))")
    return f"t.{c} IS NOT DISTINCT FROM s.{c}"


def _stored_any(con: duckdb.DuckDBPyConnection, name: str, stage: str | None = None) -> bool:
    """Whether ``name`` holds any row of the import's source (every row of ``stage``, by
    default ``name``'s own, has it)."""
    return con.execute(
        f"SELECT 1 FROM {name} WHERE source = (SELECT any_value(source) FROM "
        f"{stage or 'stage_' + name}) LIMIT 1").fetchone() is not None


def _all_new(con: duckdb.DuckDBPyConnection, name: str) -> TableCounts:
    """The counts of a first import into a source: every staged row is new (no join with
    the stored rows, which took 130 s for 100M lines)."""
    staged = con.execute(f"SELECT count(*) FROM stage_{name}").fetchone()[0]
    return TableCounts(staged=staged, added=staged, already_present=0, changed=0)


def _compare(con: duckdb.DuckDBPyConnection, table: schema.Table) -> TableCounts:
    """How many staged rows of ``table`` are new, stored alike, or stored with other values."""
    if not _stored_any(con, table.name):
        return _all_new(con, table.name)
    same = " AND ".join(_same(table, c.name) for c in table.columns if not c.derived)
    k = table.key[-1]
    staged, present, identical = con.execute(
        f"SELECT count(*), count(t.{k}), count(*) FILTER (WHERE t.{k} IS NOT NULL AND {same}) "
        f"FROM stage_{table.name} s LEFT JOIN {table.name} t ON {_on(table)}").fetchone()
    return TableCounts(staged=staged, added=staged - present, already_present=identical,
                       changed=present - identical)


_FIX_SOURCE = (
    "if this file is another store or data set, import it under a source of its own "
    "(--source {suggest}); if it is a newer export of the same store, import it into a new "
    "workspace: aovlab never overwrites what it has imported")


def _suggested_source(files: list[str], taken: str) -> str:
    """A source name for the file that collided: its name as a slug, never ``taken``."""
    stem = Path(files[0]).name.split(".")[0] if files else "other"
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "other"
    return slug if slug != taken else f"{slug}-2"


def _collision(con: duckdb.DuckDBPyConnection, table: schema.Table, counts: TableCounts,
               summary: ImportSummary) -> InputError:
    """The error for staged rows whose key is stored with other values, naming the first."""
    cols = [c.name for c in table.columns if c.name not in table.key and not c.derived]
    flags = ", ".join(f"NOT ({_same(table, c)})" for c in cols)
    shown = ", ".join(f"s.{k}" for k in table.key if k != "source")
    row = con.execute(
        f"SELECT s._file, s._row, concat_ws('/', {shown}), {flags} "
        f"FROM stage_{table.name} s JOIN {table.name} t ON {_on(table)} "
        f"WHERE {' OR '.join(f'NOT ({_same(table, c)})' for c in cols)} "
        "ORDER BY 1, 2 LIMIT 1").fetchone()
    col = next(c for c, differs in zip(cols, row[3:], strict=True) if differs)
    here, there = con.execute(
        f"SELECT coalesce(CAST(s.{col} AS VARCHAR), '(empty)'), "
        f"coalesce(CAST(t.{col} AS VARCHAR), '(empty)') "
        f"FROM stage_{table.name} s JOIN {table.name} t ON {_on(table)} "
        "WHERE s._file = ? AND s._row = ? LIMIT 1", [row[0], row[1]]).fetchone()
    what = {"orders": "order", "order_lines": "order line"}.get(table.name, f"{table.name} row")
    return InputError(
        f"{what} {row[2]!r} of source {summary.source!r} is already in the workspace with "
        f"other values ({col}: {there} there, {here} here; {counts.changed:,} of this import's "
        f"{counts.staged:,} {table.name} rows collide like this); nothing was imported",
        Location(row[0], row[1], col, here),
        fix=_FIX_SOURCE.format(suggest=_suggested_source(summary.files, summary.source)))


#: An order's line, without its position: two exports of one order may list its lines in
#: another order (UCI Online Retail and Online Retail II, for the 9 days both cover).
_LINE_CONTENT = ("hash(line_type, product_id, name, category, round(quantity, 6), "
                 "round(unit_price, 6), round(unit_cost, 6), round(line_discount, 6))")


def _compare_lines(con: duckdb.DuckDBPyConnection) -> TableCounts:
    """Staged lines compared order by order with the stored ones, as a multiset of line
    contents (count and a sum of hashes): an order's lines are already present when the
    stored order has the same lines in any order, and differ when it has others."""
    if not _stored_any(con, "order_lines") and not _stored_any(con, "orders",
                                                               "stage_order_lines"):
        return _all_new(con, "order_lines")
    fingerprint = (f"count(*) AS n, sum(CAST({_LINE_CONTENT} AS HUGEINT)) AS h")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _line_orders AS "
        f"WITH s AS (SELECT source, order_id, {fingerprint}, min(_file) AS _file, "
        "  arg_min(_row, (_file, _row)) AS _row FROM stage_order_lines GROUP BY ALL), "
        f"t AS (SELECT source, order_id, {fingerprint} FROM order_lines "
        "  SEMI JOIN s USING (source, order_id) GROUP BY ALL) "
        "SELECT s.*, t.n AS stored_n, t.n = s.n AND t.h = s.h AS same "
        "FROM s LEFT JOIN t USING (source, order_id)")
    staged, present, identical = con.execute(
        "SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE stored_n IS NOT NULL), 0), "
        "coalesce(sum(n) FILTER (WHERE same), 0) FROM _line_orders").fetchone()
    return TableCounts(staged=int(staged), added=int(staged - present),
                       already_present=int(identical), changed=int(present - identical))


def _lines_collision(con: duckdb.DuckDBPyConnection, counts: TableCounts,
                     summary: ImportSummary) -> InputError:
    row = con.execute(
        "SELECT _file, _row, order_id, stored_n, n FROM _line_orders WHERE NOT same "
        "ORDER BY _file, _row LIMIT 1").fetchone()
    return InputError(
        f"order {row[2]!r} of source {summary.source!r} is already in the workspace with "
        f"other lines ({row[3]} there, {row[4]} here, not the same; {counts.changed:,} of this "
        f"import's {counts.staged:,} order lines collide like this); nothing was imported",
        Location(row[0], row[1], "order_id", row[2]),
        fix=_FIX_SOURCE.format(suggest=_suggested_source(summary.files, summary.source)))


def _refuse_lines_joining_stored_orders(con: duckdb.DuckDBPyConnection,
                                        summary: ImportSummary) -> None:
    """Refuse lines for an order that this import brings again but that is stored without
    lines: they would join an order that was imported without them."""
    if not _stored_any(con, "orders", "stage_order_lines"):
        return  # nothing stored of this source for lines to join
    row = con.execute(
        "SELECT l._file, l._row, l.order_id, l.n FROM _line_orders l "
        "WHERE l.stored_n IS NULL "
        "AND EXISTS (SELECT 1 FROM stage_orders s WHERE s.source = l.source "
        "  AND s.order_id = l.order_id) "
        "AND EXISTS (SELECT 1 FROM orders t WHERE t.source = l.source "
        "  AND t.order_id = l.order_id) "
        "ORDER BY 1, 2 LIMIT 1").fetchone()
    if row:
        raise InputError(
            f"order {row[2]!r} of source {summary.source!r} is already in the workspace, "
            f"imported without the {row[3]} line(s) this file brings; nothing was imported",
            Location(row[0], row[1], "order_id", row[2]),
            fix=_FIX_SOURCE.format(suggest=_suggested_source(summary.files, summary.source)))


def _open_error(path: str, exc: duckdb.Error) -> WorkspaceError:
    first = str(exc).splitlines()[0]
    if "lock" in first.lower():
        return WorkspaceError(
            f"workspace {path} is in use by another process: {first}",
            fix="wait for the other aovlab command (an import?) to finish, or close the "
                "program holding it, or pass another --workspace path")
    if isinstance(exc, duckdb.IOException):
        return WorkspaceError(f"cannot open workspace {path}: {first}",
                              fix="check that its folder is writable and the disk has space")
    return WorkspaceError(f"cannot open workspace {path}: {first}",
                          fix="pass the path of an aovlab workspace (a .duckdb file), or a "
                              "new path")


def _write_error(path: str, exc: duckdb.Error) -> WorkspaceError:
    return WorkspaceError(
        f"could not write workspace {path}: {str(exc).splitlines()[0]}; the import was "
        "aborted and nothing was written",
        fix="free disk space (or make the workspace's folder writable), then run the import "
            "again")


#: Bytes 8-11 of every DuckDB database file.
_DUCKDB_MAGIC = b"DUCK"


def _check_path(p: Path) -> None:
    """A workspace path is a DuckDB file or a new file in an existing folder."""
    if p.is_dir():
        raise WorkspaceError(f"workspace {p} is a folder",
                             fix="pass a file path, e.g. -w shop.duckdb")
    if not p.exists():
        if not p.parent.exists():
            raise WorkspaceError(f"the folder of workspace {p} does not exist",
                                 fix=f"create {p.parent} first, or pass another --workspace")
        return
    try:
        with open(p, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise WorkspaceError(f"workspace {p} cannot be read: {exc.strerror}",
                             fix="check the file's permissions") from exc
    if head[8:12] != _DUCKDB_MAGIC:
        raise WorkspaceError(
            f"{p} is not a DuckDB database (an aovlab workspace); nothing was changed",
            fix="the workspace is the .duckdb file aovlab writes, not an input file: pass "
                "e.g. -w shop.duckdb, and the data file as the argument of 'aovlab import'")


def workspace_status(ws: Workspace) -> dict:
    """Rows per table, orders by status and currency, and the import log, as frames."""
    import pandas as pd

    with ws.cursor() as cur:
        tables = pd.DataFrame(
            [{"table": t, "rows": cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]}
             for t in schema.TABLES])
        orders = cur.execute(
            "SELECT status, currency, count(*) AS orders, min(order_date) AS first_date, "
            "max(order_date) AS last_date, sum(gross_sales - discounts) AS net_sales "
            "FROM orders GROUP BY ALL ORDER BY status, currency").df()
        imports = cur.execute(
            "SELECT import_id, imported_at, format, files, "
            "CAST(json_extract(summary, '$.orders_added') AS BIGINT) AS orders_added, "
            "CAST(json_extract(summary, '$.lines_added') AS BIGINT) AS lines_added "
            "FROM imports ORDER BY import_id").df()
    return {"tables": tables, "orders": orders, "imports": imports}
