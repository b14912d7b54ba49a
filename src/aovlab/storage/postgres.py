"""The canonical tables in PostgreSQL: written from a workspace, and read where they are.

:func:`export_postgres` copies a workspace's tables into a PostgreSQL schema (``aovlab``
unless the DSN's ``schema`` parameter names another) in one transaction: the tables appear
whole or not at all. :class:`PostgresCatalog` names such a schema — or any schema holding
tables or views with the canonical columns, such as a read replica's — for the PostgreSQL
engine, which runs the metric expressions inside the server: no row leaves it but results.

A DSN is a libpq URI (``postgresql://user:password@host:5432/shop?schema=aovlab``) or a
key/value string (``host=… dbname=… schema=…``); ``schema`` is read by aovlab and not
passed to libpq, everything else is (``sslmode``, ``options``, a socket folder as
``host``, a password from ``PGPASSWORD`` or ``~/.pgpass``).
"""

from __future__ import annotations

import io
import re
import threading
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .. import schema
from ..errors import WorkspaceError, first_line

DEFAULT_SCHEMA = "aovlab"
#: The schema version whose exports carry the derived customer facts.
_FACTS_VERSION = 5
#: The table that records which aovlab schema version wrote the tables (absent for tables
#: another pipeline wrote: they are read as the current version, their columns checked).
META_TABLE = "_aovlab_schema"
#: DuckDB column types (schema.tables) as PostgreSQL types.
PG_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision", "BIGINT": "bigint",
            "INTEGER": "integer", "DATE": "date", "TIMESTAMPTZ": "timestamptz"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
#: Rows sent per COPY chunk (Arrow batches written as CSV): bounded memory at any size.
_BATCH = 200_000


def split_dsn(dsn: str) -> tuple[str, str]:
    """``dsn`` without aovlab's ``schema`` parameter, and that schema (or the default)."""
    dsn = dsn.strip()
    if dsn.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(dsn)
        query = parse_qsl(parts.query, keep_blank_values=True)
        found = [v for k, v in query if k == "schema"]
        # quote, not quote_plus: libpq reads %20 in options=-c%20…, not +
        rest = urlencode([(k, v) for k, v in query if k != "schema"], quote_via=quote)
        conninfo, pg_schema = urlunsplit(parts._replace(query=rest)), (found or [None])[-1]
    else:
        words = dsn.split()
        found = [w.partition("=")[2] for w in words if w.startswith("schema=")]
        conninfo = " ".join(w for w in words if not w.startswith("schema="))
        pg_schema = (found or [None])[-1]
    pg_schema = pg_schema or DEFAULT_SCHEMA
    if not _IDENT.match(pg_schema):
        raise WorkspaceError(f"schema {pg_schema!r} is not a plain PostgreSQL name",
                             fix="use letters, digits and _ (e.g. ?schema=aovlab)")
    return conninfo, pg_schema


def shown_dsn(dsn: str) -> str:
    """``dsn`` with its password hidden, for messages and result metadata."""
    dsn = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", dsn)


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - a dependency of aovlab[postgres]
        raise WorkspaceError("PostgreSQL needs the psycopg driver",
                             fix="pip install 'aovlab[postgres]'") from exc
    return psycopg


def pg_connect(dsn: str):
    """A psycopg connection for ``dsn`` (its ``schema`` parameter removed), in UTC."""
    psycopg = _psycopg()
    conninfo, _ = split_dsn(dsn)
    try:
        con = psycopg.connect(conninfo, autocommit=True, connect_timeout=15)
    except psycopg.Error as exc:
        text = str(exc).strip()
        first = text.splitlines()[-1] if text else type(exc).__name__
        raise WorkspaceError(f"cannot connect to PostgreSQL at {shown_dsn(dsn)}: {first}",
                             fix="check host, port, database, user and password (or "
                                 "PGPASSWORD), and that the server accepts connections"
                             ) from exc
    con.execute("SET TIME ZONE 'UTC'")
    return con


class PostgresCatalog:
    """Canonical tables (or views) in a PostgreSQL schema, read by the PostgreSQL engine.

    ``native_engine`` tells :func:`aovlab.engines.connect` to run the metrics there: the
    embedded DuckDB engine cannot reach this server's rows without copying them."""

    native_engine = "postgres"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conninfo, self.pg_schema = split_dsn(dsn)
        self.description = f"{shown_dsn(self.conninfo)} (schema {self.pg_schema})"
        self._con = pg_connect(dsn)
        #: Held by an engine around each query: a psycopg connection runs one
        #: transaction at a time, and a dashboard asks from several threads.
        self.lock = threading.RLock()
        self.columns = self._columns()
        if not self.columns:
            self._con.close()
            raise WorkspaceError(
                f"PostgreSQL schema {self.pg_schema!r} at {shown_dsn(self.conninfo)} holds "
                "no canonical table", fix="write them with aovlab export -w shop.duckdb "
                "--postgres DSN, or name the schema that holds them (?schema=NAME)")
        self.version = self._version()
        for name, cols in self.columns.items():
            missing = schema.TABLES[name].missing_required(cols)
            if missing:
                self._con.close()
                raise WorkspaceError(
                    f"{self.pg_schema}.{name} lacks the column(s) {', '.join(missing)}",
                    fix=f"add every required column of {name} (docs/data-model.md), e.g. "
                        "as a view over your own table")

    def _columns(self) -> dict[str, dict[str, str]]:
        rows = self._con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s", (self.pg_schema,)).fetchall()
        out: dict[str, dict[str, str]] = {}
        for table, column, dtype in rows:
            if table in schema.TABLES:
                out.setdefault(table, {})[column] = dtype
        return {t: out[t] for t in schema.TABLES if t in out}

    def _version(self) -> int:
        if not self._con.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name = %s", (self.pg_schema, META_TABLE)).fetchone():
            # a pipeline's tables or views: their derived columns are not trusted
            self.written_by_aovlab = False
            return schema.SCHEMA_VERSION
        got = self._con.execute(
            f'SELECT max(schema_version) FROM "{self.pg_schema}"."{META_TABLE}"').fetchone()[0]
        v = int(got) if got is not None else schema.SCHEMA_VERSION
        if v != schema.SCHEMA_VERSION and v not in schema.UPGRADABLE:
            self._con.close()
            raise WorkspaceError(f"schema {self.pg_schema} was written by aovlab schema "
                                 f"version {v}; this aovlab reads {schema.SCHEMA_VERSION}",
                                 fix="export it again with this aovlab (--force)")
        self.written_by_aovlab = v >= _FACTS_VERSION
        return v

    def tables(self) -> tuple[str, ...]:
        return tuple(self.columns)

    @property
    def connection(self):
        """The catalog's psycopg connection (thread-safe: psycopg serialises its users)."""
        return self._con

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> PostgresCatalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ddl(pg_schema: str, table: schema.Table) -> str:
    cols = ", ".join(f'"{c.name}" {PG_TYPES[c.type]}{"" if c.nullable else " NOT NULL"}'
                     for c in table.columns)
    key = ", ".join(f'"{k}"' for k in table.key)
    return f'CREATE TABLE "{pg_schema}"."{table.name}" ({cols}, PRIMARY KEY ({key}))'


def export_postgres(source: object, dsn: str, *, force: bool = False,
                    progress=None) -> dict:
    """Write ``source``'s canonical tables (a workspace or any DuckDB catalog) into the
    PostgreSQL schema of ``dsn``; returns ``{"schema": …, "tables": {name: rows}}``.

    One transaction: the schema's tables appear whole or not at all, and readers see the
    old ones until the commit. A schema already holding canonical tables is replaced only
    with ``force``; tables that are not aovlab's are never touched. Rows stream as Arrow
    batches through ``COPY … FROM STDIN``, so memory stays bounded at any size."""
    import pyarrow.csv as pacsv

    psycopg = _psycopg()
    _, pg_schema = split_dsn(dsn)
    catalog = getattr(source, "catalog", source)
    out: dict = {"schema": pg_schema, "tables": {}}
    con = pg_connect(dsn)  # autocommit: transaction() below is then a real BEGIN…COMMIT
    try:
        with con.transaction():
            if not con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                               (pg_schema,)).fetchone():
                con.execute(f'CREATE SCHEMA "{pg_schema}"')  # needs CREATE on the database
            have = {r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (pg_schema,)).fetchall()}
            ours = sorted(have & (set(schema.TABLES) | {META_TABLE}))
            if ours and not force:
                raise WorkspaceError(
                    f"PostgreSQL schema {pg_schema!r} already holds {', '.join(ours)}",
                    fix="pass --force to replace them, or another schema (?schema=NAME)")
            for name in ours:  # not CASCADE: a user's view over a table makes this fail
                con.execute(f'DROP TABLE "{pg_schema}"."{name}"')
            con.execute(f'CREATE TABLE "{pg_schema}"."{META_TABLE}" '
                        "(schema_version integer NOT NULL, written_at timestamptz NOT NULL)")
            con.execute(f'INSERT INTO "{pg_schema}"."{META_TABLE}" VALUES (%s, now())',
                        (schema.SCHEMA_VERSION,))
            options = pacsv.WriteOptions(include_header=False, batch_size=_BATCH)
            with catalog.cursor() as cur:
                for name, table in schema.TABLES.items():
                    con.execute(_ddl(pg_schema, table))
                    cols = ", ".join(f'"{c}"' for c in table.column_names)
                    cur.execute(f"SELECT {', '.join(table.column_names)} FROM {name}")
                    # to_arrow_reader is fetch_record_batch's newer name (DuckDB 1.5)
                    reader = getattr(cur, "to_arrow_reader", cur.fetch_record_batch)(_BATCH)
                    rows = 0
                    with con.cursor().copy(f'COPY "{pg_schema}"."{name}" ({cols}) FROM '
                                           "STDIN (FORMAT csv)") as copy:
                        for batch in reader:
                            buf = io.BytesIO()
                            # strings are always quoted: "" is an empty string, an
                            # unquoted empty field is NULL — PostgreSQL's CSV rule too
                            pacsv.write_csv(batch, buf, options)
                            copy.write(buf.getvalue())
                            rows += batch.num_rows
                            if progress is not None:
                                progress(name, rows)
                    out["tables"][name] = rows
                    con.execute(f'ANALYZE "{pg_schema}"."{name}"')  # plans need counts
    except psycopg.Error as exc:
        raise WorkspaceError(f"writing to PostgreSQL at {shown_dsn(dsn)} failed: "
                             f"{first_line(exc)}",
                             fix=f"nothing was written; check that the user may create "
                                 f"tables in schema {pg_schema}, and that no view depends "
                                 "on the tables --force replaces") from exc
    finally:
        con.close()
    return out
