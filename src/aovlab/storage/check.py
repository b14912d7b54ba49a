"""Check canonical tables written by anyone — a workspace, a Parquet dataset from another
pipeline — against the schema's rules before any metric reads them.

The same declarations the importers enforce (:mod:`aovlab.schema`: required columns,
unique keys, each table's value rules, lines pointing at orders), counted over whole
tables instead of stopping at the first bad row: one row per check, with how many rows
break it, the first such row's key and value, the problem and the fix.
"""

from __future__ import annotations

from .. import schema


def _key(t: schema.Table, alias: str = "") -> str:
    return "concat_ws('/', " + ", ".join(f"CAST({alias}{k} AS VARCHAR)" for k in t.key) + ")"


def check_tables(source: object) -> list[dict]:
    """Every check on every canonical table of ``source`` (a workspace or a catalog); a
    row per check, ``rows_failing`` 0 where it holds."""
    catalog = getattr(source, "catalog", source)
    out: list[dict] = []
    with catalog.cursor() as cur:
        def add(table: str, check: str, column: str | None, where: str, problem: str,
                fix: str, relation: str | None = None) -> None:
            rel = relation or table
            k = _key(schema.TABLES[table])
            n, example, value = cur.execute(
                f"SELECT count(*), min(k), arg_min(v, k) FROM (SELECT {k} AS k, "
                f"CAST({column or 'NULL'} AS VARCHAR) AS v FROM {rel} WHERE {where})"
            ).fetchone()
            out.append({"table": table, "check": check, "column": column,
                        "rows_failing": int(n), "example_key": example, "example_value": value,
                        "problem": problem if n else "", "fix": fix if n else ""})

        for name, t in schema.TABLES.items():
            for c in t.columns:
                if not c.nullable:
                    add(name, "required", c.name, f"{c.name} IS NULL",
                        f"{name}.{c.name} is required but empty",
                        f"fill in {c.name}: every {name} row needs one")
            key = ", ".join(t.key)
            add(name, "unique key", t.key[-1],
                f"({key}) IN (SELECT ({key}) FROM {name} GROUP BY ALL HAVING count(*) > 1)",
                f"{'/'.join(t.key)} appears more than once",
                "keep one row per key (the importers refuse duplicates; a pipeline should "
                "too)")
            for rule in t.rules:
                if isinstance(rule, schema.References):
                    on = " AND ".join([f"r.{rule.target} = l.{rule.column}",
                                       *(f"r.{c} = l.{c}" for c in rule.within)])
                    add(name, f"references {rule.table}", rule.column,
                        f"NOT EXISTS (SELECT 1 FROM {rule.table} r WHERE {on})",
                        rule.problem, rule.fix, relation=f"{name} l")
                    continue
                add(name, type(rule).__name__.lower(), rule.column,
                    f"coalesce({rule.violation(rule.column)}, false)", rule.problem, rule.fix)
    return out
