"""A catalog: where the canonical tables live, and how an engine reaches them.

Engines are given a catalog, never a workspace: today the tables live in a DuckDB file (a
workspace, or any file holding them); a Parquet dataset or Spark tables fit the same
contract. A catalog hands out a fresh cursor per call, so concurrent readers (a dashboard
serving several requests) never share one DuckDB connection between threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import duckdb

from .. import schema


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
