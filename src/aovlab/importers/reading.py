"""What every importer shares: reading a raw file with row numbers, checked casts, staging.

Importers work inside DuckDB (never row by row in Python) so that 100M lines import in
bounded memory. A raw file becomes a temporary table ``raw_<name>`` with every source
column as text plus ``_file`` and ``_row`` (1-based data row, header excluded); typed
columns are produced by :func:`checked_cast`, which names the first row it cannot read.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
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


_DELIMITERS = (",", ";", "\t", "|")
_CSV_FIX = ("export the file again; if it was edited, check that line for a missing or extra "
            "delimiter or an unclosed quote")


def csv_header(path: str | Path, delim: str | None = None) -> tuple[list[str], str]:
    """The header's column names and the delimiter, read the way DuckDB reads the rest.

    The dialect is fixed from the file's first lines rather than sniffed by DuckDB: on a
    ragged or truncated file DuckDB's sniffer guesses another layout (one column named
    ``a,b,c``) and the error then names a missing column instead of the bad line; it also
    takes the ``#`` of order numbers for a comment marker. A column name used twice is
    refused: which one to read would be a guess.
    """
    p = check_file(path)
    opener = gzip.open if p.name.lower().endswith(".gz") else open
    try:
        with opener(p, "rb") as fh:
            head = fh.read(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:  # zlib: a corrupt .gz
        raise InputError(f"cannot be read: {exc}", Location(str(p)), fix=_CSV_FIX) from exc
    text = head.decode("utf-8-sig", errors="replace")
    if "\x00" in text:
        raise InputError("is not a text (CSV) file", Location(str(p)),
                         fix="pass the CSV export itself (not a spreadsheet or an archive)")

    if delim is None:
        delim = _delimiter(text)
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delim), [])
    except csv.Error as exc:
        raise InputError(f"the header line cannot be read as CSV: {exc}", Location(str(p)),
                         fix=_CSV_FIX) from exc
    if any("\n" in name or "\r" in name for name in header):
        raise InputError("the header line has an unclosed quote", Location(str(p)),
                         fix=_CSV_FIX)
    names: list[str] = []
    for n, raw_name in enumerate(header, start=1):
        name = raw_name.strip() or f"column{n - 1}"  # DuckDB's name for it
        if name in names:
            raise InputError(
                f"column {name!r} appears twice in the header (columns {names.index(name) + 1} "
                f"and {n})", Location(str(p), None, name),
                fix="rename or delete one of them; aovlab would not know which to read")
        names.append(name)
    if not names:
        raise InputError("has no header line", Location(str(p)),
                         fix="the first line must name the columns")
    return names, delim


def _delimiter(text: str) -> str:
    """The one of , ; tab | that splits the header into most fields and the first 50 lines
    into as many; in a tie not the comma (decimal commas and "Name, Full" live in values)."""
    lines = text.splitlines(keepends=True)
    if len(text) >= (1 << 20) and len(lines) > 1:
        lines = lines[:-1]  # the sample may end mid-line
    sample = "".join(lines[:51])

    def score(d: str) -> tuple:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=d) if r]
        except csv.Error:
            return (False, 0, 0, 0)
        if not rows:
            return (False, 0, 0, 0)
        n = len(rows[0])
        return (n > 1, sum(len(r) == n for r in rows), n, d != ",")

    return max(_DELIMITERS, key=score)


def read_raw(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    name: str,
    *,
    kind: str | None = None,
    csv_options: dict[str, object] | None = None,
    fix: str = _CSV_FIX,
) -> list[str]:
    """Load ``path`` (CSV or Parquet) into temp table ``raw_<name>``; return its columns.

    CSV columns are read as text so that a bad value is reported by :func:`checked_cast`
    with its row, instead of DuckDB guessing a type or failing deep inside a query; a line
    with more or fewer fields than the header is refused, naming it (``fix`` says how to
    mend it).
    """
    p = check_file(path)
    kind = kind or ("parquet" if p.suffix.lower() in {".parquet", ".pq"} else "csv")
    src = sql_str(str(p))
    if kind == "parquet":
        reader = f"read_parquet({src})"
    else:
        given = dict(csv_options or {})
        header, delim = csv_header(p, given.pop("delim", None))  # type: ignore[arg-type]
        opts = {"header": True, "auto_detect": False, "delim": delim,
                "quote": "\"", "escape": "\"",  # RFC 4180: an unclosed quote is an error
                "comment": "", "skip": 0,
                "strict_mode": True, "null_padding": False,
                "columns": {n: "VARCHAR" for n in header}}
        opts.update(given)
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
        m = re.search(r"CSV Error on Line: (\d+).*?Expected Number of Columns: (\d+) "
                      r"Found: (\d+)", str(exc), re.S)
        if m:
            line, expected, found = m.groups()
            shown = re.search(r"Original Line: (.*)", str(exc))
            original = shown.group(1).strip() if shown else None
            raise InputError(
                f"line {line} has {found} fields where the header has {expected} (a "
                "truncated, damaged or ragged line)",
                Location(str(p), int(line) - 1, None, original), fix=fix) from exc
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


def try_number(text: str, target: str = "DOUBLE") -> str:
    """SQL: the number in text expression ``text``, NULL when it is not one.

    DuckDB alone would read '1_000' as 1000 (Python literal syntax); no export writes
    numbers so, and such a cell is more likely two values run together.
    """
    return f"CASE WHEN NOT contains({text}, '_') THEN TRY_CAST({text} AS {target}) END"


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
    text = f"nullif(trim(CAST({expr} AS VARCHAR)), '')"
    conv = try_expr or f"TRY_CAST({text} AS {target})"
    if target in _NUMBERS:
        # DuckDB reads '1_000' as 1000 (Python literal syntax); no export writes numbers so
        conv = f"CASE WHEN NOT contains({text}, '_') THEN {conv} END"
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


_NUMBERS = ("DOUBLE", "BIGINT", "INTEGER", "DECIMAL", "HUGEINT")
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
    fix: str = "write dates as YYYY-MM-DD HH:MM:SS (optionally with an offset such as -0400), "
               "or set date_format in the mapping",
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
        con, table, expr, column, "TIMESTAMPTZ", try_expr=created, fix=fix)
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
