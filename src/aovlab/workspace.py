"""A workspace: one DuckDB file holding the canonical tables.

Imports are atomic and idempotent. An importer stages rows in temporary tables named
``stage_<table>``; :meth:`Workspace.merge_staged` validates them and inserts, inside one
transaction, only the rows whose key is not already present. Any error rolls the whole
import back, so a failing file leaves the workspace exactly as it was.

A DuckDB connection is not safe to share between threads, so every public method takes
the workspace lock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from . import schema
from .errors import InputError, Location, WorkspaceError

ProgressFn = Callable[[str], None]


def _no_progress(step: str) -> None:  # noqa: ARG001 - the default progress sink
    return None


@dataclass
class TableCounts:
    """What happened to one canonical table in one import."""

    staged: int = 0
    added: int = 0
    already_present: int = 0  # same key and same values: nothing to do
    changed: int = 0  # same key, different values: kept as it was (reported)


@dataclass
class ImportSummary:
    """What an import read, wrote and skipped, and why."""

    format: str
    files: list[str]
    rows_read: int = 0
    tables: dict[str, TableCounts] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> source rows
    notes: list[str] = field(default_factory=list)
    import_id: int | None = None

    @property
    def orders_added(self) -> int:
        return self.tables.get("orders", TableCounts()).added

    @property
    def lines_added(self) -> int:
        return self.tables.get("order_lines", TableCounts()).added

    def to_dict(self) -> dict:
        d = asdict(self)
        d["orders_added"] = self.orders_added
        d["lines_added"] = self.lines_added
        return d


class Workspace:
    """A DuckDB file with the canonical tables (see :mod:`aovlab.schema`).

    >>> ws = Workspace(":memory:")
    >>> ws.count("orders")
    0
    """

    def __init__(self, path: str | Path = "aovlab.duckdb", *, read_only: bool = False) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        try:
            self.con = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            raise WorkspaceError(
                f"cannot open workspace {self.path}: {exc}",
                fix="close other programs using it, or pass another --workspace path",
            ) from exc
        if not read_only:
            self._create()
        self._check_version()

    # -- lifecycle -------------------------------------------------------------------------
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

    def _check_version(self) -> None:
        try:
            row = self.con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except duckdb.CatalogException as exc:
            raise WorkspaceError(
                f"{self.path} is not an aovlab workspace (no meta table)",
                fix="point --workspace at a file created by 'aovlab import'",
            ) from exc
        if row is None or int(row[0]) != schema.SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.path} has schema version {row[0] if row else '?'}; "
                f"this aovlab needs {schema.SCHEMA_VERSION}",
                fix="re-import your data into a new workspace",
            )

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
        stage: Callable[[duckdb.DuckDBPyConnection, ImportSummary, ProgressFn], None],
        progress: ProgressFn = _no_progress,
    ) -> ImportSummary:
        """Stage with ``stage`` and merge, all in one transaction; roll back on any error."""
        summary = ImportSummary(format=fmt, files=files)
        with self._lock:
            con = self.con
            con.execute("BEGIN TRANSACTION")
            try:
                stage(con, summary, progress)
                progress("validating")
                self._validate_staged(con)
                progress("writing")
                self._merge_staged(con, summary)
                self._log(con, summary)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                for name in schema.TABLES:
                    con.execute(f"DROP TABLE IF EXISTS stage_{name}")
                for name in [r[0] for r in con.execute(
                        "SELECT table_name FROM duckdb_tables() WHERE temporary "
                        "AND table_name LIKE 'raw%'").fetchall()]:
                    con.execute(f'DROP TABLE IF EXISTS "{name}"')
        return summary

    @staticmethod
    def _staged_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
        names = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
        return [t for t in schema.TABLES if f"stage_{t}" in names]

    def _validate_staged(self, con: duckdb.DuckDBPyConnection) -> None:
        """Check what no importer may get wrong; errors point at the source row."""
        for name in self._staged_tables(con):
            table = schema.TABLES[name]
            stage = f"stage_{name}"
            cols = {r[0] for r in con.execute(f"DESCRIBE {stage}").fetchall()}
            missing = [c for c in table.column_names if c not in cols]
            if missing:  # an importer bug, not a user error
                raise RuntimeError(f"{stage} lacks canonical columns {missing}")

            def first_bad(where: str, col: str, stage: str = stage) -> tuple | None:
                return con.execute(
                    f"SELECT _file, _row, CAST({col} AS VARCHAR) FROM {stage} "
                    f"WHERE {where} ORDER BY _file, _row LIMIT 1"
                ).fetchone()

            required = [c.name for c in table.columns if not c.nullable]
            flags = ", ".join(f"{c} IS NULL" for c in required)
            bad = con.execute(
                f"SELECT _file, _row, {flags} FROM {stage} "
                f"WHERE {' OR '.join(f'{c} IS NULL' for c in required)} "
                "ORDER BY _file, _row LIMIT 1").fetchone()
            if bad:
                col = next(c for c, flag in zip(required, bad[2:], strict=True) if flag)
                raise InputError(
                    f"{table.name}.{col} is required but empty",
                    Location(bad[0], bad[1], col, None),
                    fix=f"fill in {col} on that row, or map another column to it",
                )
            key = ", ".join(table.key)
            # A hash aggregate finds duplicated keys far faster than a window over the stage;
            # the earliest row among them is reported so the error is the same on every run.
            shown = ", ".join(f"s.{k}" for k in table.key)
            dup = con.execute(
                f"WITH d AS (SELECT {key} FROM {stage} GROUP BY ALL HAVING count(*) > 1) "
                f"SELECT s._file, s._row, concat_ws('/', {shown}) "
                f"FROM {stage} s SEMI JOIN d USING ({key}) ORDER BY 1, 2 LIMIT 1"
            ).fetchone()
            if dup:
                raise InputError(
                    f"{'/'.join(table.key)} {dup[2]!r} appears more than once in the input",
                    Location(dup[0], dup[1], table.key[0], dup[2]),
                    fix="remove the duplicate rows, or give each its own id",
                )
            if name == "orders":
                vocab = ", ".join(f"'{s}'" for s in schema.STATUSES)
                bad = first_bad(f"status NOT IN ({vocab})", "status")
                if bad:
                    raise InputError(
                        "unknown order status",
                        Location(bad[0], bad[1], "status", bad[2]),
                        fix=f"use one of {', '.join(schema.STATUSES)} (map source values)",
                    )
                bad = first_bad("NOT regexp_full_match(currency, '[A-Z]{3}')", "currency")
                if bad:
                    raise InputError(
                        "currency is not a three-letter ISO 4217 code",
                        Location(bad[0], bad[1], "currency", bad[2]),
                        fix="write codes such as EUR, USD, GBP",
                    )
                for money in ("gross_sales", "discounts", "shipping", "tax", "returns", "total"):
                    bad = first_bad(f"NOT isfinite({money})", money)
                    if bad:
                        raise InputError(
                            f"{money} is not a finite number",
                            Location(bad[0], bad[1], money, bad[2]),
                            fix="write a plain decimal number",
                        )
            if name == "order_lines":
                vocab = ", ".join(f"'{s}'" for s in schema.LINE_TYPES)
                bad = first_bad(f"line_type NOT IN ({vocab})", "line_type")
                if bad:
                    raise InputError(
                        "unknown line type",
                        Location(bad[0], bad[1], "line_type", bad[2]),
                        fix=f"use one of {', '.join(schema.LINE_TYPES)}",
                    )
                known = "SELECT order_id FROM orders"
                if "orders" in self._staged_tables(con):
                    known += " UNION ALL SELECT order_id FROM stage_orders"
                orphan = con.execute(
                    "SELECT l._file, l._row, l.order_id FROM stage_order_lines l "
                    f"ANTI JOIN ({known}) k ON k.order_id = l.order_id ORDER BY 1, 2 LIMIT 1"
                ).fetchone()
                if orphan:
                    raise InputError(
                        "order line refers to an order that is neither in this import nor "
                        "in the workspace",
                        Location(orphan[0], orphan[1], "order_id", orphan[2]),
                        fix="import the orders file first, or together with the lines",
                    )

    def _merge_staged(self, con: duckdb.DuckDBPyConnection, summary: ImportSummary) -> None:
        for name in self._staged_tables(con):
            table = schema.TABLES[name]
            stage = f"stage_{name}"
            cols = ", ".join(table.column_names)
            on = " AND ".join(f"t.{k} = s.{k}" for k in table.key)
            # Money sums differ in the last bit with summation order; that is not a change.
            same = " AND ".join(
                f"(t.{c} IS NOT DISTINCT FROM s.{c} OR abs(t.{c} - s.{c}) <= "
                f"1e-9 * greatest(1, abs(t.{c})))" if table.column(c).type == "DOUBLE"
                else f"t.{c} IS NOT DISTINCT FROM s.{c}"
                for c in table.column_names
            )
            staged, present, identical = con.execute(
                f"SELECT count(*), count(t.{table.key[0]}), "
                f"count(*) FILTER (WHERE t.{table.key[0]} IS NOT NULL AND {same}) "
                f"FROM {stage} s LEFT JOIN {name} t ON {on}"
            ).fetchone()
            con.execute(
                f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {stage} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {name} t WHERE {on})"
            )
            summary.tables[name] = TableCounts(
                staged=staged, added=staged - present, already_present=identical,
                changed=present - identical,
            )
            if present - identical:
                summary.notes.append(
                    f"{present - identical} {name} rows have a key already in the workspace "
                    "with different values; the workspace keeps its version"
                )

    def _log(self, con: duckdb.DuckDBPyConnection, summary: ImportSummary) -> None:
        next_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0]
        summary.import_id = next_id
        con.execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?)",
            [next_id, datetime.now(UTC), summary.format, json.dumps(summary.files),
             json.dumps(summary.to_dict(), default=str)],
        )


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
