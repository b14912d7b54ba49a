"""PostgreSQL through Ibis: the same metric expressions, run inside the store's server.

The catalog names a schema of canonical tables or views (:class:`PostgresCatalog`); each
expression compiles to one SQL query that the server runs, and only its result comes back.
Nothing is written: a read replica serves. A table the schema lacks reads as empty, a
nullable column it lacks as NULL (or its default), as a Parquet dataset's do.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import ibis

from .. import schema
from ..errors import EngineError, first_line
from ..storage.postgres import PG_TYPES
from .canonical import canonical, ibis_type


class PostgresEngine:
    name = "postgres"

    def __init__(self, catalog) -> None:
        if not hasattr(catalog, "pg_schema"):
            raise EngineError(f"the postgres engine reads a PostgreSQL catalog, not "
                              f"{catalog.description}",
                              fix="pass --catalog postgresql://… (or leave out --engine)")
        self.catalog = catalog
        # The catalog's connection: psycopg serialises its users, and an engine per
        # analysis call then opens no connection of its own.
        self.backend = ibis.postgres.from_connection(catalog.connection)
        self._lock = threading.Lock()
        self._tables: dict[str, object] = {}

    def table(self, name: str):
        with self._lock:
            if name not in self._tables:
                self._tables[name] = self._table(name)
            return self._tables[name]

    def _table(self, name: str):
        if name not in schema.TABLES:
            raise KeyError(name)
        table = schema.TABLES[name]
        if name not in self.catalog.columns:  # empty, of the canonical shape (a SELECT only)
            cols = ", ".join(f'CAST(NULL AS {PG_TYPES[c.type]}) AS "{c.name}"'
                             for c in table.columns)
            types = {c.name: ibis_type(c.type) for c in table.columns}
            return self.backend.sql(f"SELECT {cols} WHERE false", schema=ibis.schema(types))
        return canonical(self.backend.table(name, database=self.catalog.pg_schema), table)

    @contextmanager
    def sql_target(self):
        """Where ``aovlab check`` runs: in the server, each table as its canonical query."""
        from .check import SqlTarget

        def first_row(query: str):
            with self.catalog.lock:
                return self.catalog.connection.execute(query).fetchone()

        yield SqlTarget("postgres", lambda name: f"({self.backend.compile(self.table(name))})",
                        first_row, self.catalog.tables())

    def lacks(self, name: str) -> frozenset[str]:
        """Columns of ``name`` the schema's table or view does not have, and its derived
        columns unless aovlab's export wrote them (a view's are not trusted)."""
        have = self.catalog.columns.get(name, {})
        trusted = getattr(self.catalog, "written_by_aovlab", False)
        return frozenset(c.name for c in schema.TABLES[name].columns
                         if c.name not in have or (c.derived and not trusted))

    def execute(self, expr):
        with self.catalog.lock, _said():
            return self.backend.execute(expr)

    def execute_arrow(self, expr):
        """``expr``'s rows as an Arrow table (see the DuckDB engine)."""
        with self.catalog.lock, _said():
            return self.backend.to_pyarrow(expr)


@contextmanager
def _said():
    """A server error (no permission, a cast the data refuses, a statement timeout, an
    array beyond PostgreSQL's 1 GB: one group of ~67M orders) as a message, not a bug."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        raise EngineError(
            f"PostgreSQL refused the query: {first_line(exc)}",
            fix="check the user's permissions and the tables' types; a group of tens of "
                "millions of orders is too large for one array there: group by a period "
                "(--period month) or narrow the selection") from exc
