"""The staging context an importer writes through, and the generic check of staged rows.

An importer reads its files into temporary tables and hands each canonical table to
:meth:`StagingContext.emit` as a relation (a table name or a SELECT) holding ``_file``,
``_row`` and any subset of the canonical columns; ``emit`` fills the rest with their
declared defaults or NULL, casts every column to its declared type and writes
``stage_<table>``. The context remembers which temporary tables existed when it opened and
drops every one created since when it closes, whatever the importer named them.

:func:`validate` checks the staged rows against :mod:`aovlab.schema`: required columns,
unique keys and each table's declared rules; errors name the source file and row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import duckdb

from .. import schema
from ..errors import DefinitionError, InputError, Location

ProgressFn = Callable[[str], None]
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_source(source: str) -> str:
    """``source`` if it is a valid source name; a :class:`DefinitionError` if not."""
    if not isinstance(source, str) or not re.fullmatch(schema.SOURCE_PATTERN, source):
        raise DefinitionError(
            f"source {source!r} is not a short lower-case name",
            fix="pass --source as lower-case letters, digits, '.', '_' or '-', starting with a "
                "letter or digit, at most 64 characters (e.g. --source au-store)")
    return source


def no_progress(step: str) -> None:  # noqa: ARG001 - the default progress sink
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
    source: str = ""  # the namespace every row of this import was written under

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


def _temp_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}


class StagingContext:
    """One import's connection, summary and progress sink, and the tables it stages."""

    def __init__(self, con: duckdb.DuckDBPyConnection, summary: ImportSummary,
                 progress: ProgressFn = no_progress) -> None:
        self.con = con
        self.summary = summary
        self.progress = progress
        self.source = summary.source  # written on every row of every table
        self.staged: list[str] = []  # canonical table names, in emit order
        self._before = _temp_tables(con)

    def use_source(self, source: str) -> None:
        """Write this import's rows under ``source`` (checked: a short lower-case name)."""
        self.source = self.summary.source = check_source(source)

    def execute(self, sql: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
        return self.con.execute(sql, params) if params else self.con.execute(sql)

    def one(self, sql: str, params: list | None = None) -> tuple | None:
        """The first row of ``sql``."""
        return self.execute(sql, params).fetchone()

    def count(self, relation: str) -> int:
        return self.one(f"SELECT count(*) FROM {relation}")[0]

    def emit(self, table: str, relation: str) -> None:
        """Write ``relation`` as ``stage_<table>`` in the canonical projection."""
        t = schema.TABLES[table]
        if table in self.staged:
            raise RuntimeError(f"{table} emitted twice")  # an importer bug
        rel = relation if _NAME.fullmatch(relation) else f"({relation})"
        types = {r[0]: r[1] for r in self.execute(f"DESCRIBE SELECT * FROM {rel} AS s")
                 .fetchall()}
        have = set(types)
        for c in ("_file", "_row"):
            if c not in have:
                raise RuntimeError(f"{table}: relation lacks {c}")  # an importer bug
        cols, risky = [], []
        if not self.source:  # none given, none defaulted by an importer: the format's name
            self.use_source(self.summary.format)
        for c in t.columns:
            if c.derived:  # the workspace computes it at the merge, whatever a file says
                cols.append(f"CAST(NULL AS {c.type}) AS {c.name}")
            elif c.name == "source":
                # The import's namespace, whatever the relation says: an importer cannot
                # write into another source.
                cols.append(f"CAST({schema.sql_literal(self.source)} AS VARCHAR) AS source")
            elif c.name in have:
                if _may_fail(types[c.name], c.type):
                    # TRY_CAST and a flag, so that a value the canonical type cannot hold
                    # (1e20 sessions) is named with its row: a failing CAST would abort the
                    # import's transaction before anything could be asked.
                    cols.append(f"TRY_CAST(s.{c.name} AS {c.type}) AS {c.name}")
                    cols.append(f"(s.{c.name} IS NOT NULL AND TRY_CAST(s.{c.name} AS {c.type}) "
                                f"IS NULL) AS _bad_{c.name}")
                    risky.append(c)
                else:
                    cols.append(f"CAST(s.{c.name} AS {c.type}) AS {c.name}")
            elif c.default is not None or c.nullable:
                cols.append(f"CAST({c.default or 'NULL'} AS {c.type}) AS {c.name}")
            else:
                raise RuntimeError(f"{table}: relation lacks required column {c.name}")
        self.execute(f"CREATE TEMP TABLE stage_{table} AS SELECT s._file, s._row, "
                     f"{', '.join(cols)} FROM {rel} AS s")
        self.staged.append(table)
        if risky:
            self._cast_error(t, rel, risky)

    def _cast_error(self, t: schema.Table, rel: str, risky: list[schema.Column]) -> None:
        flags = ", ".join(f"_bad_{c.name}" for c in risky)
        bad = self.one(f"SELECT _file, _row, {flags} FROM stage_{t.name} "
                       f"WHERE {' OR '.join(f'_bad_{c.name}' for c in risky)} "
                       "ORDER BY 1, 2 LIMIT 1")
        if not bad:
            return
        col = next(c for c, flag in zip(risky, bad[2:], strict=True) if flag)
        value = self.one(f"SELECT CAST(s.{col.name} AS VARCHAR) FROM {rel} AS s "
                         "WHERE s._file = ? AND s._row = ? LIMIT 1", [bad[0], bad[1]])
        raise InputError(
            f"{t.name}.{col.name} cannot hold this value ({col.type})",
            Location(bad[0], bad[1], col.name, value[0] if value else None),
            fix=f"check the value: it is out of range or of the wrong kind for {col.name}")

    def close(self) -> None:
        """Drop every temporary table created since the context opened."""
        for name in sorted(_temp_tables(self.con) - self._before):
            self.con.execute(f'DROP TABLE IF EXISTS "{name}"')


_WHOLE = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


def _may_fail(source: str, target: str) -> bool:
    """Can casting ``source`` to ``target`` fail on some value? (Widening never does.)"""
    if source == target or target == "VARCHAR":
        return False
    if target in ("BIGINT", "DOUBLE") and source in _WHOLE:
        return False
    if target == "DOUBLE" and (source == "FLOAT" or source.startswith("DECIMAL")):
        return False
    # DATE -> TIMESTAMPTZ fails beyond year 294247 (an Arrow date can be), so it is checked
    return not (target == "TIMESTAMPTZ" and source in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE"))


def _first(con: duckdb.DuckDBPyConnection, stage: str, where: str, col: str) -> tuple | None:
    return con.execute(
        f"SELECT _file, _row, CAST({col} AS VARCHAR) FROM {stage} "
        f"WHERE {where} ORDER BY _file, _row LIMIT 1").fetchone()


def _check_required(con: duckdb.DuckDBPyConnection, table: schema.Table, stage: str) -> None:
    required = [c.name for c in table.columns if not c.nullable]
    flags = ", ".join(f"{c} IS NULL" for c in required)
    bad = con.execute(
        f"SELECT _file, _row, {flags} FROM {stage} "
        f"WHERE {' OR '.join(f'{c} IS NULL' for c in required)} "
        "ORDER BY _file, _row LIMIT 1").fetchone()
    if bad:
        col = next(c for c, flag in zip(required, bad[2:], strict=True) if flag)
        raise InputError(f"{table.name}.{col} is required but empty",
                         Location(bad[0], bad[1], col, None),
                         fix=f"fill in {col} on that row, or map another column to it")


def _check_key(con: duckdb.DuckDBPyConnection, table: schema.Table, stage: str) -> None:
    key = ", ".join(table.key)
    # A hash aggregate finds duplicated keys far faster than a window over the stage; the
    # earliest row among them is reported so the error is the same on every run.
    shown = ", ".join(f"s.{k}" for k in table.key)
    dup = con.execute(
        f"WITH d AS (SELECT {key} FROM {stage} GROUP BY ALL HAVING count(*) > 1) "
        f"SELECT s._file, s._row, concat_ws('/', {shown}) "
        f"FROM {stage} s SEMI JOIN d USING ({key}) ORDER BY 1, 2 LIMIT 1").fetchone()
    if dup:
        raise InputError(f"{'/'.join(table.key)} {dup[2]!r} appears more than once in the input",
                         Location(dup[0], dup[1], table.key[0], dup[2]),
                         fix="remove the duplicate rows, or give each its own id")


def _check_reference(con: duckdb.DuckDBPyConnection, rule: schema.References, stage: str,
                     staged: list[str]) -> None:
    within = "".join(f", {c}" for c in rule.within)
    known = f"SELECT {rule.target} AS k{within} FROM {rule.table}"
    if rule.table in staged:
        known += f" UNION ALL SELECT {rule.target}{within} FROM stage_{rule.table}"
    on = " AND ".join([f"r.k = l.{rule.column}", *(f"r.{c} = l.{c}" for c in rule.within)])
    orphan = con.execute(
        f"SELECT l._file, l._row, l.{rule.column} FROM {stage} l "
        f"ANTI JOIN ({known}) r ON {on} ORDER BY 1, 2 LIMIT 1").fetchone()
    if orphan:
        raise InputError(rule.problem, Location(orphan[0], orphan[1], rule.column, orphan[2]),
                         fix=rule.fix)


def in_schema_order(staged: list[str]) -> list[str]:
    return [t for t in schema.TABLES if t in staged]


def validate(con: duckdb.DuckDBPyConnection, staged: list[str]) -> None:
    """Check the staged tables against the schema's declarations; raise on the first fault.

    Tables are checked in schema order (orders first), whatever order they were staged in.
    """
    for name in in_schema_order(staged):
        table = schema.TABLES[name]
        stage = f"stage_{name}"
        # One scan counts every row rule (and the required columns); only a rule that some
        # row breaks is searched again for its first row. A scan per rule cost 30 passes
        # over 100M staged lines.
        rules = [r for r in table.rules if not isinstance(r, schema.References)]
        required = [c.name for c in table.columns if not c.nullable]
        flags = [f"bool_or({c} IS NULL)" for c in required] + [
            f"coalesce(bool_or({r.violation(r.column)}), false)" for r in rules]
        broken = con.execute(f"SELECT {', '.join(flags)} FROM {stage}").fetchone()
        if any(broken[:len(required)]):
            _check_required(con, table, stage)
        _check_key(con, table, stage)
        broken_rules = dict(zip(map(id, rules), broken[len(required):], strict=True))
        for rule in table.rules:  # in declaration order, as the first fault is said
            if isinstance(rule, schema.References):
                _check_reference(con, rule, stage, staged)
                continue
            if not broken_rules[id(rule)]:
                continue
            bad = _first(con, stage, rule.violation(rule.column), rule.column)
            if bad:
                raise InputError(rule.problem, Location(bad[0], bad[1], rule.column, bad[2]),
                                 fix=rule.fix)
