"""A catalog: where the canonical tables live, and how an engine reaches them.

Engines are given a catalog, never a workspace: today the tables live in a DuckDB file (a
workspace, or any file holding them); a Parquet dataset or Spark tables fit the same
contract. A catalog hands out a fresh cursor per call, so concurrent readers (a dashboard
serving several requests) never share one DuckDB connection between threads.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol

import duckdb

from .. import schema
from ..errors import WorkspaceError


class Catalog(Protocol):
    """The canonical tables of one store, wherever they are kept."""

    description: str

    def tables(self) -> tuple[str, ...]:
        """Names of the canonical tables present."""
        ...

    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A context manager yielding a DuckDB cursor that sees the tables by name."""
        ...

    def new_cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor the caller keeps (and closes)."""
        ...


class DuckDBCatalog:
    """Canonical tables in a DuckDB database, read through per-call cursors."""

    def __init__(self, con: duckdb.DuckDBPyConnection, description: str,
                 lock: threading.RLock | None = None) -> None:
        self._con = con
        self.description = description
        # Creating a cursor touches the parent connection; using it does not.
        self._lock = lock or threading.RLock()

    def tables(self) -> tuple[str, ...]:
        with self.cursor() as cur:
            have = {r[0] for r in cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
        return tuple(t for t in schema.TABLES if t in have)

    def lacks(self, name: str) -> frozenset[str]:
        """Columns of ``name`` filled in rather than stored: none in a workspace."""
        return frozenset()

    def new_cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for the caller to keep and close."""
        with self._lock:
            return self._con.cursor()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self.new_cursor()
        try:
            yield cur
        finally:
            cur.close()


#: A Spark table name: dotted parts, each an identifier or a `quoted` part (a path table
#: such as parquet.`/data/orders`); nothing else reaches Spark's SQL parser.
_SPARK_NAME = re.compile(r"^(?:[A-Za-z_]\w*|`[^`]+`)(?:\.(?:[A-Za-z_]\w*|`[^`]+`))*$")


class SparkTables:
    """Canonical-shaped tables in a Spark session's catalog (a metastore, Unity, Glue, or
    path tables such as ``parquet.`/lake/orders```), named per canonical table:
    ``SparkTables({"orders": "shop.orders", "order_lines": "shop.lines"})``.

    Only the Spark engine reads them (``native_engine``), in place; a table not named
    reads as empty, a nullable column a table lacks as NULL (or its default)."""

    native_engine = "spark"

    def __init__(self, tables: Mapping[str, str]) -> None:
        unknown = [k for k in tables if k not in schema.TABLES]
        if unknown:
            raise WorkspaceError(f"{', '.join(unknown)} is not a canonical table",
                                 fix=f"map one of {', '.join(schema.TABLES)}, e.g. "
                                     "--table orders=shop.orders")
        if "orders" not in tables:
            raise WorkspaceError("the Spark tables name no orders table",
                                 fix="add --table orders=DB.TABLE (every analysis reads it)")
        bad = [v for v in tables.values() if not _SPARK_NAME.match(v.strip())]
        if bad:
            raise WorkspaceError(f"{bad[0]!r} is not a Spark table name",
                                 fix="write db.table, catalog.db.table or a path table "
                                     "such as parquet.`/data/orders`")
        self.spark_tables = {k: v.strip() for k, v in tables.items()}
        self.description = "Spark tables " + ", ".join(
            f"{k}={v}" for k, v in self.spark_tables.items())

    @classmethod
    def parse(cls, pairs: Iterable[str]) -> SparkTables:
        """From ``--table`` options: ``orders=db.shop_orders`` each."""
        tables: dict[str, str] = {}
        for pair in pairs:
            name, sep, where = pair.partition("=")
            if not sep or not name.strip() or not where.strip():
                raise WorkspaceError(f"--table {pair!r} is not NAME=SPARK_TABLE",
                                     fix="write e.g. --table orders=shop.orders")
            if name.strip() in tables:
                raise WorkspaceError(f"--table names {name.strip()} twice",
                                     fix="map each canonical table once")
            tables[name.strip()] = where
        return cls(tables)

    def tables(self) -> tuple[str, ...]:
        return tuple(t for t in schema.TABLES if t in self.spark_tables)

    def close(self) -> None:
        """Nothing to release: the Spark session outlives the catalog."""

    def __enter__(self) -> SparkTables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
