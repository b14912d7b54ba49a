"""Rules a canonical table's rows must obey, declared as data.

Each table in :mod:`aovlab.schema.tables` lists its rules beside its columns; the storage
layer turns them into SQL and checks every import (and, later, any catalog) with one
generic routine, so no rule is hard-coded in the workspace. NOT NULL columns and the key
are checked too, from the column declarations.
"""

from __future__ import annotations

from dataclasses import dataclass


def sql_literal(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class OneOf:
    """The value is one of a fixed vocabulary."""

    column: str
    values: tuple[str, ...]
    problem: str
    fix: str

    def violation(self, col: str, dialect: str = "duckdb") -> str:
        """SQL that is true on a row breaking the rule (``col`` is the column expression),
        in ``dialect``: ``duckdb``, ``postgres`` or ``spark``."""
        return f"{col} NOT IN ({', '.join(sql_literal(v) for v in self.values)})"


@dataclass(frozen=True)
class Pattern:
    """The whole value matches a regular expression."""

    column: str
    regex: str
    problem: str
    fix: str

    def violation(self, col: str, dialect: str = "duckdb") -> str:
        if dialect == "duckdb":
            return f"NOT regexp_full_match({col}, {sql_literal(self.regex)})"
        whole = sql_literal(f"^(?:{self.regex})$")
        return f"NOT ({col} ~ {whole})" if dialect == "postgres" else f"NOT ({col} RLIKE {whole})"


@dataclass(frozen=True)
class Finite:
    """A number that can be summed: not NaN, not ±infinity."""

    column: str
    problem: str
    fix: str

    def violation(self, col: str, dialect: str = "duckdb") -> str:
        if dialect == "postgres":  # isfinite() there is for dates and times only
            return f"{col} IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8)"
        if dialect == "spark":
            return f"(isnan({col}) OR abs({col}) = double('infinity'))"
        return f"NOT isfinite({col})"


@dataclass(frozen=True)
class Range:
    """A number or a date within bounds, on every row or on the rows ``when`` selects.

    ``low`` and ``high`` are SQL literals (``0``, ``1e15``, ``DATE '1970-01-01'``); either
    may be None. ``when`` is a SQL condition on the same row (``status IN (...)``).
    """

    column: str
    low: str | None
    high: str | None
    problem: str
    fix: str
    when: str | None = None

    def violation(self, col: str, dialect: str = "duckdb") -> str:
        def lit(bound: str) -> str:  # Spark spells an instant's literal TIMESTAMP
            return bound.replace("TIMESTAMPTZ '", "TIMESTAMP '") if dialect == "spark" \
                else bound

        out = [f"{col} < {lit(self.low)}"] if self.low is not None else []
        out += [f"{col} > {lit(self.high)}"] if self.high is not None else []
        broken = "(" + " OR ".join(out) + ")"
        return f"coalesce(({self.when}) AND {broken}, false)" if self.when else \
            f"coalesce({broken}, false)"


@dataclass(frozen=True)
class References:
    """Every value names a row of another table (already stored, or in the same import)
    with the same values of the ``within`` columns (the source: no row refers across)."""

    column: str
    table: str
    target: str
    problem: str
    fix: str
    within: tuple[str, ...] = ("source",)


#: A row rule checked with :meth:`violation`; :class:`References` is checked across tables.
Rule = OneOf | Pattern | Finite | Range | References
