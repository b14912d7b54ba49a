"""Reading and checking one Shopify export: every column as text, then typed and checked."""

from __future__ import annotations

import duckdb

from ...errors import InputError, Location
from ..reading import (
    quote_ident,
    read_raw,
    require_columns,
    timestamp_columns,
    try_number,
)
from .rules import (
    CREATED,
    CREATED_NORM,
    EPS,
    EXPORT_FIX,
    FORMAT,
    LINE_FIX,
    LINE_NUMBERS,
    LINE_ROW,
    MONEY,
    MONEY_FIX,
    OFFSET,
    REQUIRED,
    TEXT,
    TIME_FIX,
    VALID_OFFSET,
    ExportFile,
)


def load(
    con: duckdb.DuckDBPyConnection,
    path: str,
    i: int,
    *,
    timezone: str | None,
    currency: str | None,
) -> ExportFile:
    """Read one export into ``raw_shopify_<i>``, check it, and type it as ``…_t``/``…_o``."""
    raw = f"raw_shopify_{i}"
    cols = _read(con, path, i)
    require_columns(cols, REQUIRED, path, FORMAT)
    have = set(cols)
    has_lines = any(c in have for c in (*LINE_NUMBERS.values(), "Lineitem name", "Lineitem sku"))
    if has_lines:
        require_columns(cols, ("Lineitem quantity", "Lineitem price"), path, FORMAT)
    if currency is None and "Currency" not in have:
        raise InputError(
            "the file has no Currency column", Location(path, None, "Currency"),
            fix="say which currency the amounts are in: --currency AUD on the command line, "
                "or import_files(..., currency='AUD')")

    def text(col: str) -> str:
        if col not in have:
            return "CAST(NULL AS VARCHAR)"
        return f"nullif(trim(CAST({quote_ident(col)} AS VARCHAR)), '')"

    numbers = {k: c for k, c in (MONEY | LINE_NUMBERS).items() if c in have}
    _check_values(con, raw, cols, numbers, timezone)
    created, order_date = timestamp_columns(con, raw, CREATED_NORM, "Created at",
                                            timezone or "UTC")
    typed = [f"{try_number(text(c))} AS {k}" for k, c in numbers.items()]
    typed += [f"CAST(NULL AS DOUBLE) AS {k}" for k in (MONEY | LINE_NUMBERS)
              if k not in numbers]
    typed += [f"{text(c)} AS {k}" for k, c in TEXT.items()]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {raw}_t AS
        SELECT _file, _row, {text('Name')} AS name, {', '.join(typed)},
               {created} AS created_at, {order_date} AS order_date,
               row_number() OVER (PARTITION BY {text('Name')} ORDER BY _row) AS _nth,
               min(_row) OVER (PARTITION BY {text('Name')}) AS _first
        FROM {raw}
        """
    )
    _check_structure(con, raw, has_lines=has_lines, need_currency=currency is None)

    # How the order's Total is made up: tax on top or included (module docstring).
    rest = "(total - subtotal)"
    ship, tax, duty = "coalesce(shipping, 0)", "coalesce(taxes, 0)", "coalesce(duties, 0)"
    exact = (f"CASE WHEN {tax} > 0 AND abs({rest} - {ship} - {tax} - {duty}) < {EPS} THEN 'top'"
             f" WHEN abs({rest} - {ship} - {duty}) < {EPS} THEN 'inc'"
             f" WHEN {tax} > 0 AND abs({rest} - {tax} - {duty}) < {EPS} THEN 'top'"
             f" WHEN abs({rest} - {duty}) < {EPS} THEN 'inc' END")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {raw}_o AS SELECT *, {exact} AS _exact "
                f"FROM {raw}_t WHERE _nth = 1")
    return ExportFile(path, raw, has_lines, "Email" in have)


def _check_values(con: duckdb.DuckDBPyConnection, raw: str, cols: list[str],
                  numbers: dict[str, str], timezone: str | None) -> None:
    """One pass over the file: the first unreadable number or time, by row then column."""
    checks: list[tuple[str, str, str]] = []  # (column, problem, SQL true when bad)
    for col in cols:
        cell = f"nullif(trim(CAST({quote_ident(col)} AS VARCHAR)), '')"
        if col in numbers.values():
            value = try_number(cell)
            checks.append((col, "number", f"({cell} IS NOT NULL AND NOT coalesce("
                                          f"isfinite({value}), false))"))
            checks.append((col, "negative", f"coalesce({value} < 0, false)"))
        elif col == "Created at":
            has_offset = f"regexp_matches({CREATED}, '{OFFSET}')"
            parsed = (f"CASE WHEN {has_offset} THEN CASE WHEN regexp_matches({CREATED}, "
                      f"'{VALID_OFFSET}') THEN TRY_CAST({CREATED_NORM} AS TIMESTAMPTZ) END "
                      f"ELSE TRY_CAST({CREATED} AS TIMESTAMP) END")
            checks.append((col, "time", f"({cell} IS NOT NULL AND {parsed} IS NULL)"))
            if timezone is None:
                checks.append((col, "offset", f"({cell} IS NOT NULL AND NOT {has_offset})"))
    flags = ", ".join(sql for _, _, sql in checks)
    cells = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR)" for c, _, _ in checks)
    bad = con.execute(
        f"SELECT _file, _row, [{cells}], [{flags}] FROM {raw} "
        f"WHERE {' OR '.join(sql for _, _, sql in checks)} ORDER BY _row LIMIT 1").fetchone()
    if not bad:
        return
    file, row, values, flagged = bad
    n = flagged.index(True)
    col, problem, value = checks[n][0], checks[n][1], values[n]
    where = Location(file, row, col, value)
    fix = next((LINE_FIX.format(c, "2" if k == "li_qty" else "24.95")
                for k, c in LINE_NUMBERS.items() if c == col), MONEY_FIX)
    if problem == "number":
        raise InputError(f"cannot read {value!r} as a number", where, fix=fix)
    if problem == "negative":
        raise InputError(f"{col} must not be negative", where, fix=fix)
    if problem == "time":
        raise InputError(f"cannot read {value!r} as a date and time", where, fix=TIME_FIX)
    raise InputError(
        "the time has no UTC offset, so the store's time zone is needed", where,
        fix="pass the store's time zone: --timezone Australia/Sydney on the command line, or "
            "import_files(..., timezone='Australia/Sydney')")


def _check_structure(con: duckdb.DuckDBPyConnection, raw: str, *, has_lines: bool,
                     need_currency: bool) -> None:
    """The first row that breaks Shopify's layout (one query; errors name the row)."""
    kinds = ["WHEN name IS NULL THEN 'name'",
             "WHEN _nth = 1 AND total IS NULL THEN 'Total'",
             "WHEN _nth = 1 AND subtotal IS NULL THEN 'Subtotal'",
             "WHEN _nth = 1 AND created_at IS NULL THEN 'Created at'",
             "WHEN _nth > 1 AND total IS NOT NULL THEN 'twice'"]
    if need_currency:
        kinds.append("WHEN _nth = 1 AND currency IS NULL THEN 'Currency'")
    if has_lines:
        kinds += [f"WHEN {LINE_ROW} AND li_qty IS NULL THEN 'Lineitem quantity'",
                  f"WHEN {LINE_ROW} AND li_price IS NULL THEN 'Lineitem price'"]
    bad = con.execute(
        f"SELECT _file, _row, name, _first, kind, coalesce(li_name, li_sku) FROM ("
        f" SELECT *, CASE {' '.join(kinds)} END AS kind FROM {raw}_t) "
        f"WHERE kind IS NOT NULL ORDER BY _row LIMIT 1").fetchone()
    if not bad:
        return
    file, row, name, first, kind, item = bad
    if kind == "name":
        raise InputError("the order number (Name) is empty", Location(file, row, "Name", ""),
                         fix="every row of a Shopify export starts with its order's Name "
                             "(#1001); fill it in or delete the row")
    if kind == "twice":
        raise InputError(
            f"order {name} has order-level values (Total) on two rows: {first} and {row}",
            Location(file, row, "Total", name),
            fix="the order appears twice (e.g. two exports pasted together); keep one copy, "
                "or import the exports as separate files")
    if kind == "Currency":
        raise InputError(f"Currency is empty on the first row of order {name}",
                         Location(file, row, "Currency", ""),
                         fix="fill in the currency, or pass --currency (currency='EUR') for "
                             "orders without one")
    if kind.startswith("Lineitem"):
        raise InputError(f"line item {item!r} of order {name} has no {kind.split()[1]}",
                         Location(file, row, kind, ""),
                         fix="fill in the line item's quantity and price, or export the orders "
                             "again")
    raise InputError(
        f"{kind} is empty on the first row of order {name}", Location(file, row, kind, ""),
        fix=f"Shopify writes {kind} on the first row of each order; export the orders again, "
            "or put the order's first row (the one with its totals) first")


def _read(con: duckdb.DuckDBPyConnection, path: str, i: int) -> list[str]:
    """Load ``path`` into ``raw_shopify_<i>``: every column text, data rows numbered from 1.

    Shopify writes comma-separated RFC 4180 CSV: the delimiter is fixed, not guessed.
    """
    try:
        return read_raw(con, path, f"shopify_{i}", csv_options={"delim": ","},
                        fix="export the orders again from Shopify admin; if the file was "
                            "edited, check that line for a missing or extra comma")
    except duckdb.Error as exc:  # anything read_raw does not translate itself
        raise InputError(f"cannot be read as CSV: {str(exc).splitlines()[0]}", Location(path),
                         fix=EXPORT_FIX) from exc
