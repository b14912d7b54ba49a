"""Check canonical tables written by anyone — a workspace, a Parquet dataset from another
pipeline — against the schema's rules before any metric reads them.

The same declarations the importers enforce (:mod:`aovlab.schema`: required columns,
unique keys, each table's value rules, lines pointing at orders), counted over whole
tables instead of stopping at the first bad row: one row per check, with how many rows
break it, the first such row's key and value, the problem and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import schema
from ..errors import EngineError, first_line


@dataclass(frozen=True)
class SqlTarget:
    """Where the check's SQL runs: its dialect (``duckdb``, ``postgres``, ``spark``), how
    a canonical table is named there (a name, or a subquery of canonical shape), a
    function running a query for its first row, and the tables the catalog holds. Each
    engine's ``sql_target()`` yields one."""

    dialect: str
    ref: Callable[[str], str]
    first_row: Callable[[str], tuple | None]
    tables: tuple[str, ...]


def _key(t: schema.Table, text: str, alias: str = "") -> str:
    return ("concat_ws('/', " + ", ".join(f"CAST({alias}{k} AS {text})" for k in t.key)
            + ")")


def check_tables(source: object, engine: str = "duckdb") -> list[dict]:
    """Every check on every canonical table of ``source`` (a workspace or a catalog: a
    DuckDB file, a Parquet dataset, a PostgreSQL schema, Spark tables); a row per check,
    ``rows_failing`` 0 where it holds. The SQL runs on ``engine`` (by default the
    catalog's own: DuckDB, the PostgreSQL server, Spark), where the tables are."""
    from . import connect

    with connect(source, engine).sql_target() as target:
        return _checks(target)


def _checks(target: SqlTarget) -> list[dict]:
    text = "STRING" if target.dialect == "spark" else "VARCHAR"
    out: list[dict] = []

    def add(table: str, check: str, column: str | None, where: str, problem: str,
            fix: str, relation: str | None = None) -> None:
        rel = relation or f"{target.ref(table)} t"
        k = _key(schema.TABLES[table], text)
        # one row: the failing rows' count beside the first failing row (by key) — the
        # same statement in the three dialects, and a top-1 sort rather than a full one
        query = (f"SELECT count(*) OVER () AS n, k, v FROM (SELECT {k} AS k, "
                 f"CAST({column or 'NULL'} AS {text}) AS v FROM {rel} WHERE {where}) f "
                 "ORDER BY k LIMIT 1")
        try:
            row = target.first_row(query)
        except Exception as exc:  # the engine's own error: a column of the wrong type
            raise EngineError(
                f"the check {check!r} of {table}.{column} could not run: {first_line(exc)}",
                fix=f"give the {table} table's columns their canonical types (docs/data-model.md), "
                    "e.g. cast a text column to a number in the view") from exc
        n, example, value = row if row is not None else (0, None, None)
        out.append({"table": table, "check": check, "column": column,
                    "rows_failing": int(n), "example_key": example, "example_value": value,
                    "problem": problem if n else "", "fix": fix if n else ""})

    for name, t in schema.TABLES.items():
        if name not in target.tables:
            continue  # a catalog without the table reads it as empty: nothing to break
        for c in t.columns:
            if not c.nullable:
                add(name, "required", c.name, f"{c.name} IS NULL",
                    f"{name}.{c.name} is required but empty",
                    f"fill in {c.name}: every {name} row needs one")
        key = ", ".join(t.key)
        add(name, "unique key", t.key[-1], "true",
            f"{'/'.join(t.key)} appears more than once",
            "keep one row per key (the importers refuse duplicates; a pipeline should too)",
            relation=f"{target.ref(name)} t JOIN (SELECT {key} FROM {target.ref(name)} d "
                     f"GROUP BY {key} HAVING count(*) > 1) dup USING ({key})")
        for rule in t.rules:
            if isinstance(rule, schema.References):
                if rule.table not in target.tables:
                    continue
                on = " AND ".join([f"r.{rule.target} = l.{rule.column}",
                                   *(f"r.{c} = l.{c}" for c in rule.within)])
                add(name, f"references {rule.table}", rule.column,
                    f"NOT EXISTS (SELECT 1 FROM {target.ref(rule.table)} r WHERE {on})",
                    rule.problem, rule.fix, relation=f"{target.ref(name)} l")
                continue
            add(name, type(rule).__name__.lower(), rule.column,
                f"coalesce({rule.violation(rule.column, target.dialect)}, false)",
                rule.problem, rule.fix)
    return out
