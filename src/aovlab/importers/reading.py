"""What every importer shares: reading a raw file with row numbers, checked casts, staging.

Importers work inside DuckDB (never row by row in Python) so that 100M lines import in
bounded memory. A raw file becomes a temporary table ``raw_<name>`` with every source
column as text plus ``_file`` and ``_row`` (1-based data row, header excluded); typed
columns are produced by :func:`checked_cast`, which names the first row it cannot read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import duckdb

from ..errors import InputError, Location

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def check_file(path: str | Path, what: str = "input file") -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} does not exist", Location(str(p)),
                         fix="check the path (relative paths start from the current folder)")
    if p.is_dir():
        raise InputError(f"{what} is a folder, not a file", Location(str(p)),
                         fix="pass the file inside it")
    if p.stat().st_size == 0:
        raise InputError(f"{what} is empty", Location(str(p)),
                         fix="export the data again; the file has no bytes")
    return p


def read_raw(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    name: str,
    *,
    kind: str | None = None,
    csv_options: dict[str, object] | None = None,
    all_text: bool = True,
) -> list[str]:
    """Load ``path`` (CSV or Parquet) into temp table ``raw_<name>``; return its columns.

    CSV columns are read as text so that a bad value is reported by :func:`checked_cast`
    with its row, instead of DuckDB guessing a type or failing deep inside a query.
    """
    p = check_file(path)
    kind = kind or ("parquet" if p.suffix.lower() in {".parquet", ".pq"} else "csv")
    src = sql_str(str(p))
    if kind == "parquet":
        reader = f"read_parquet({src})"
    else:
        opts = {"header": True, "all_varchar": all_text, "auto_detect": True,
                "quote": "\"", "escape": "\"",  # RFC 4180: an unclosed quote is an error
                # no comment character: the sniffer would otherwise take the '#' of order
                # numbers such as '#1001' for one and drop those rows silently
                "comment": "",
                "strict_mode": True, "null_padding": False}
        opts.update(csv_options or {})
        rendered = ", ".join(f"{k} = {_sql_value(v)}" for k, v in opts.items())
        reader = f"read_csv({src}, {rendered})"
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE raw_{name} AS "
            f"SELECT {sql_str(str(p))} AS _file, "
            f"CAST(row_number() OVER () AS BIGINT) AS _row, * FROM {reader}"
        )
    except (duckdb.InvalidInputException, duckdb.ConversionException,
            duckdb.IOException, duckdb.BinderException) as exc:
        raise InputError(
            f"cannot be read as {kind.upper()}: {first_line(exc)}",
            Location(str(p)),
            fix=f"check that the file is a well-formed {kind.upper()} export "
                "(same number of fields on every line, quotes closed, UTF-8)",
        ) from exc
    cols = [r[0] for r in con.execute(f"DESCRIBE raw_{name}").fetchall()]
    if con.execute(f"SELECT count(*) FROM raw_{name}").fetchone()[0] == 0:
        raise InputError("has a header but no data rows", Location(str(p)),
                         fix="export the data again with at least one row")
    return [c for c in cols if c not in ("_file", "_row")]


def _sql_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{sql_str(k)}: {sql_str(str(x))}" for k, x in v.items()) + "}"
    return sql_str(str(v))


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # DuckDB messages start with the exception class; the first two lines carry the facts.
    lines = [ln for ln in text.splitlines() if ln.strip()][:3]
    return " ".join(lines)


def require_columns(cols: Iterable[str], needed: Iterable[str], file: str, fmt: str) -> None:
    have = set(cols)
    missing = [c for c in needed if c not in have]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(repr(m) for m in missing)} expected in a {fmt} file",
            Location(file, None, missing[0]),
            fix=f"export with the standard {fmt} columns, or use --format generic with a "
                "mapping file",
        )


def checked_cast(
    con: duckdb.DuckDBPyConnection,
    table: str,
    expr: str,
    column: str,
    target: str,
    *,
    fix: str,
    try_expr: str | None = None,
) -> str:
    """Return a SQL expression casting ``expr`` to ``target``; raise on the first bad row.

    ``expr`` is evaluated on ``table``; a non-empty text that does not convert is an error
    naming the row, the source column and the value. ``try_expr`` overrides the conversion
    (e.g. ``strptime`` with a format); it must yield NULL where conversion fails.
    """
    conv = try_expr or f"TRY_CAST(nullif(trim(CAST({expr} AS VARCHAR)), '') AS {target})"
    if target == "DOUBLE" and try_expr is None:
        # 'nan', 'inf' and '1e400' cast to DOUBLE, but are not amounts anyone can sum
        conv = f"CASE WHEN isfinite({conv}) THEN {conv} END"
    bad = con.execute(
        f"SELECT _file, _row, CAST({expr} AS VARCHAR) FROM {table} "
        f"WHERE nullif(trim(CAST({expr} AS VARCHAR)), '') IS NOT NULL AND ({conv}) IS NULL "
        f"ORDER BY _row LIMIT 1"
    ).fetchone()
    if bad:
        raise InputError(
            f"cannot be read as {_TYPE_WORDS.get(target, target)}",
            Location(bad[0], bad[1], column, bad[2]),
            fix=fix,
        )
    return conv


_TYPE_WORDS = {
    "DOUBLE": "a number",
    "BIGINT": "a whole number",
    "INTEGER": "a whole number",
    "TIMESTAMPTZ": "a date and time",
    "TIMESTAMP": "a date and time",
    "DATE": "a date",
}


def nonnegative(con: duckdb.DuckDBPyConnection, table: str, expr: str, column: str,
                *, fix: str) -> None:
    """Raise on the first row where ``expr`` is negative."""
    bad = con.execute(
        f"SELECT _file, _row, CAST({expr} AS VARCHAR) FROM {table} WHERE ({expr}) < 0 "
        "ORDER BY _row LIMIT 1"
    ).fetchone()
    if bad:
        raise InputError(f"{column} must not be negative", Location(bad[0], bad[1], column, bad[2]),
                         fix=fix)


def check_timezone(con: duckdb.DuckDBPyConnection, tz: str, file: str) -> str:
    ok = con.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [tz]).fetchone()[0]
    if not ok:
        raise InputError(f"unknown time zone {tz!r}", Location(file, None, None, tz),
                         fix="use an IANA name such as Europe/London or America/New_York")
    return tz


_OFFSET = r"([+-][0-9]{2}:?[0-9]{2}|Z|UTC)$"
# A real UTC offset is within ±14:00; DuckDB would accept -9900.
_VALID_OFFSET = r"(([+-](0[0-9]|1[0-4]):?[0-5][0-9])|Z|UTC)$"


def timestamp_columns(
    con: duckdb.DuckDBPyConnection,
    table: str,
    expr: str,
    column: str,
    timezone: str,
    *,
    fmt: str | None = None,
) -> tuple[str, str]:
    """SQL for ``created_at`` (an instant) and ``order_date`` (the store's local date).

    Text with an offset (``2025-05-11 09:55:16 -0400``, ``...Z``) is an instant as written;
    text without one is local time in ``timezone``. ``fmt`` is a strptime format for
    unusual layouts. Raises :class:`InputError` on the first row that is not a timestamp.
    """
    # '2025-05-11 09:55:16 -0400' (Shopify) -> drop the space before the offset for DuckDB
    text = (f"regexp_replace(trim(CAST({expr} AS VARCHAR)), "
            f"' +([+-][0-9]{{2}}:?[0-9]{{2}})$', '\\1')")
    if fmt:
        local = f"try_strptime({text}, {sql_str(fmt)})"
        instant = (f"CASE WHEN regexp_matches({text}, '{_OFFSET}') THEN "
                   f"CAST(try_strptime({text}, {sql_str(fmt)}) AS TIMESTAMPTZ) END")
    else:
        local = f"TRY_CAST({text} AS TIMESTAMP)"
        instant = (f"CASE WHEN regexp_matches({text}, '{_VALID_OFFSET}') THEN "
                   f"TRY_CAST({text} AS TIMESTAMPTZ) END")
    created = (f"CASE WHEN regexp_matches({text}, '{_OFFSET}') THEN {instant} "
               f"ELSE timezone({sql_str(timezone)}, {local}) END")
    created = checked_cast(
        con, table, expr, column, "TIMESTAMPTZ", try_expr=created,
        fix="write dates as YYYY-MM-DD HH:MM:SS (optionally with an offset such as -0400), "
            "or set date_format in the mapping",
    )
    # Local calendar date: as written when an offset is given, else in the store's zone.
    local_date = (f"CASE WHEN regexp_matches({text}, '{_OFFSET}') "
                  f"THEN TRY_CAST(left({text}, 10) AS DATE) END")
    order_date = f"coalesce({local_date}, CAST(timezone({sql_str(timezone)}, {created}) AS DATE))"
    return created, order_date


def read_raw_many(
    con: duckdb.DuckDBPyConnection, paths: tuple[str, ...] | list[str], name: str, **kwargs
) -> list[str]:
    """:func:`read_raw` for several files into one ``raw_<name>`` (columns matched by name).

    Each file keeps its own ``_file`` and ``_row``, so errors still point at the right line.
    """
    if not paths:
        raise InputError("no input file given", Location("(none)"), fix="pass at least one file")
    if len(paths) == 1:
        return read_raw(con, paths[0], name, **kwargs)
    for i, p in enumerate(paths):
        read_raw(con, p, f"{name}_{i}", **kwargs)
    union = " UNION ALL BY NAME ".join(f"SELECT * FROM raw_{name}_{i}" for i in range(len(paths)))
    con.execute(f"CREATE OR REPLACE TEMP TABLE raw_{name} AS {union}")
    for i in range(len(paths)):
        con.execute(f"DROP TABLE raw_{name}_{i}")
    cols = [r[0] for r in con.execute(f"DESCRIBE raw_{name}").fetchall()]
    return [c for c in cols if c not in ("_file", "_row")]
