"""The embedded default engine: Ibis over the catalog's DuckDB database.

Expressions are built against one backend (its tables' schemas) and each ``execute`` runs
on a fresh cursor of the catalog, so one engine can serve several threads at once.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import duckdb
import ibis

from ..errors import EngineError
from ..storage.catalog import Catalog


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._schema_cursor = None
        self._backend = None
        self._tables: dict[str, object] = {}
        self._lock = threading.Lock()  # the schema cursor is one connection: one user at a time

    def table(self, name: str):
        with self._lock:
            return self._table(name)

    def _table(self, name: str):
        if name not in self._tables:
            if self._backend is None:
                # Only reads table schemas; kept for the expressions' lifetime.
                self._schema_cursor = self.catalog.new_cursor()
                self._backend = ibis.duckdb.from_connection(self._schema_cursor)
            self._tables[name] = self._backend.table(name)
        return self._tables[name]

    def lacks(self, name: str) -> frozenset[str]:
        """Columns of ``name`` the catalog fills in (NULL or a default) instead of storing:
        the metrics then compute what a derived column would have given them."""
        return self.catalog.lacks(name)

    def execute(self, expr):
        with self.catalog.cursor() as cur, _memory_said(cur):
            return ibis.duckdb.from_connection(cur).execute(expr)

    def execute_arrow(self, expr):
        """``expr``'s rows as an Arrow table: for results of millions of rows, whose
        conversion to pandas the caller does once, column by column, as it needs."""
        with self.catalog.cursor() as cur, _memory_said(cur):
            return ibis.duckdb.from_connection(cur).to_pyarrow(expr)

    @contextmanager
    def sql_target(self):
        """Where ``aovlab check`` runs: the catalog's DuckDB, its tables (or views) by name."""
        from .. import schema
        from .check import SqlTarget

        with self.catalog.cursor() as cur, _memory_said(cur):
            yield SqlTarget("duckdb", lambda name: name, lambda q: cur.execute(q).fetchone(),
                            tuple(schema.TABLES))

    def close(self) -> None:
        if self._schema_cursor is not None:
            self._schema_cursor.close()
            self._schema_cursor = self._backend = None
            self._tables.clear()


@contextmanager
def _memory_said(cur):
    """A query beyond DuckDB's memory limit (what cannot spill: a median over millions of
    orders under a tiny limit) becomes a message saying which limit and how to raise it."""
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        limit = cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        raise EngineError(
            f"the query needs more memory than DuckDB's limit of {limit}",
            fix="raise it with --memory-limit 8GB (or AOVLAB_MEMORY_LIMIT), or narrow the "
                "selection (dates, --where)") from exc
