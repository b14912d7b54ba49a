"""Reading one GA4 daily file: schema check, value check, then fold into sessions."""

from __future__ import annotations

import duckdb

from ...errors import InputError, Location
from ...storage import ImportSummary
from ..reading import first_line, sql_str
from .fields import (
    EVENT_FIELDS,
    FIX_EXPORT,
    FMT,
    FUNNEL,
    ITEM_FIELDS,
    NOT_SET,
    PARAM_FIELDS,
    SKIP_NO_SESSION,
    ColumnType,
    Reader,
    bad_sql,
    channel_sql,
    norm_sql,
    typed_sql,
)


# -- reading one file ------------------------------------------------------------------------
def _describe(con: duckdb.DuckDBPyConnection, file: str) -> dict[str, ColumnType]:
    src = f"read_parquet({sql_str(file)})"
    try:
        rel = con.sql(f"SELECT * FROM {src} LIMIT 0")
        types = {name: ColumnType.of(t) for name, t in zip(rel.columns, rel.types, strict=True)}
    except (duckdb.Error, UnicodeDecodeError) as exc:  # damaged files can garble names
        raise InputError(
            f"cannot be read as Parquet: {first_line(exc)}",
            Location(file),
            fix=FIX_EXPORT + "; CSV, JSON or Avro extracts are not supported",
        ) from exc
    return types


def _projection(r: Reader, fidx: int, timezone: str) -> str:
    """SELECT list of one typed, flattened row per event."""
    s = r.sources
    ts = typed_sql(s["event_timestamp"], "BIGINT")
    date = typed_sql(s["event_date"], "DATE8")
    p = r.params

    def param(key: str, field: str, target: str) -> str:
        inner = typed_sql(p[field], target, "x.")
        return f"[{inner} FOR x IN event_params IF CAST(x.{p['key'][0]} AS VARCHAR) = '{key}'][1]"

    session = (f"coalesce(CAST({param('ga_session_id', 'int_value', 'BIGINT')} AS VARCHAR), "
               f"nullif(trim({param('ga_session_id', 'string_value', 'VARCHAR')}), ''))")
    it = r.items

    def item(key: str, target: str) -> str:
        return typed_sql(it[key], target, "i.")

    items = (
        "CASE WHEN event_name_ = 'purchase' THEN "
        f"[{{'item_id': {item('item_id', 'VARCHAR')}, 'item_name': {item('item_name', 'VARCHAR')}, "
        f"'item_category': {item('item_category', 'VARCHAR')}, 'price': {item('price', 'DOUBLE')}, "
        f"'quantity': {item('quantity', 'DOUBLE')}, 'revenue': {item('revenue', 'DOUBLE')}}} "
        "FOR i IN items] END"
    )
    uid = typed_sql(s["user_id"], "VARCHAR")
    return f"""
        {fidx} AS _fidx, CAST(file_row_number + 1 AS BIGINT) AS _row,
        coalesce({date}, CAST(timezone({sql_str(timezone)},
            timezone('UTC', make_timestamp({ts}))) AS DATE)) AS event_date,
        {ts} AS ts,
        {typed_sql(s['event_name'], 'VARCHAR')} AS event_name_,
        nullif(trim({typed_sql(s['user_pseudo_id'], 'VARCHAR')}), '') AS user_pseudo_id,
        nullif(trim({uid}), '') AS user_id,
        {session} AS session_id,
        {channel_sql(typed_sql(s['medium'], 'VARCHAR'),
                     typed_sql(s['source'], 'VARCHAR'))} AS channel,
        {norm_sql(typed_sql(s['country'], 'VARCHAR'))} AS country,
        lower({norm_sql(typed_sql(s['device'], 'VARCHAR'))}) AS device,
        nullif(trim({typed_sql(s['transaction_id'], 'VARCHAR')}), '') AS transaction_id,
        {typed_sql(s['revenue'], 'DOUBLE')} AS revenue,
        {typed_sql(s['tax'], 'DOUBLE')} AS tax,
        {typed_sql(s['shipping'], 'DOUBLE')} AS shipping,
        nullif(trim({param('coupon', 'string_value', 'VARCHAR')}), '') AS coupon,
        {items} AS items_
    """


def _check_values(con: duckdb.DuckDBPyConnection, r: Reader, src: str) -> None:
    """Raise on the first row holding a value the importer cannot read (one scan)."""
    s = r.sources
    ts = typed_sql(s["event_timestamp"], "BIGINT")
    checks: list[tuple[str, str, str, str, str]] = []  # column, bad-if, value, problem, fix

    def add(key: str, target: str, fix: str) -> None:
        bad = bad_sql(s[key], target)
        if bad:
            checks.append((EVENT_FIELDS[key].label, bad, f"CAST({s[key][0]} AS VARCHAR)",
                           f"cannot read the value as {_WORDS[target]}", fix))

    add("event_timestamp", "BIGINT",
        "event_timestamp must be microseconds since 1970-01-01 UTC, as GA4 exports it")
    checks.append((
        "event_timestamp", f"{ts} IS NULL", "NULL", "event_timestamp is required on every event",
        "export the table again; GA4 sets event_timestamp on every event"))
    checks.append((
        "event_timestamp", f"{ts} NOT BETWEEN 946684800000000 AND 4102444800000000",
        f"CAST({ts} AS VARCHAR)",
        "event_timestamp is not microseconds since 1970 between the years 2000 and 2100",
        "event_timestamp must be microseconds since 1970-01-01 UTC (not seconds or "
        "milliseconds), as GA4 exports it"))
    add("event_date", "DATE8", "event_date must be YYYYMMDD, as GA4 exports it")
    checks.append((
        "event_name", f"nullif(trim({typed_sql(s['event_name'], 'VARCHAR')}), '') IS NULL",
        "NULL", "event_name is required on every event",
        "export the table again; GA4 names every event"))
    for key in ("revenue", "tax", "shipping"):
        add(key, "DOUBLE", "money fields must be plain decimal numbers")
    for key, f in PARAM_FIELDS.items():
        bad = bad_sql(r.params[key], f.target, "x.")
        if bad:
            checks.append((f"event_params.{f.label}",
                           f"len([1 FOR x IN event_params IF {bad}]) > 0",
                           f"CAST([x FOR x IN event_params IF {bad}][1] AS VARCHAR)",
                           f"cannot read an event parameter value as {_WORDS[f.target]}",
                           "event_params values must be typed as in the GA4 export schema"))
    for key, f in ITEM_FIELDS.items():
        bad = bad_sql(r.items[key], f.target, "i.")
        if bad:
            checks.append((f"items.{f.label}",
                           f"len([1 FOR i IN items IF {bad}]) > 0",
                           f"CAST([i.{r.items[key][0]} FOR i IN items IF {bad}][1] AS VARCHAR)",
                           f"cannot read an item's {f.label} as {_WORDS[f.target]}",
                           "item prices and quantities must be plain numbers"))
    select = ", ".join(
        f"min(_row) FILTER (WHERE {bad}), arg_min({value}, _row) FILTER (WHERE {bad})"
        for _, bad, value, _, _ in checks
    )
    row = con.execute(
        f"SELECT {select} FROM (SELECT *, file_row_number + 1 AS _row FROM {src})"
    ).fetchone()
    found = [(row[2 * i], row[2 * i + 1], c) for i, c in enumerate(checks)
             if row[2 * i] is not None]
    if found:
        at, value, (column, _, _, problem, fix) = min(found, key=lambda x: x[0])
        raise InputError(problem, Location(r.file, at, column, value), fix=fix)


_WORDS = {"BIGINT": "a whole number", "DOUBLE": "a number",
          "DATE8": "a date (YYYYMMDD)", "VARCHAR": "text"}


SESSIONS_DDL = """
CREATE TEMP TABLE raw_ga4_sessions (
  _fidx INTEGER, _row BIGINT, event_date DATE, user_pseudo_id VARCHAR, session_id VARCHAR,
  channel VARCHAR, channel_at STRUCT(t BIGINT, f INTEGER, r BIGINT),
  country VARCHAR, country_at STRUCT(t BIGINT, f INTEGER, r BIGINT),
  device VARCHAR, device_at STRUCT(t BIGINT, f INTEGER, r BIGINT),
  view_item BOOLEAN, add_to_cart BOOLEAN, begin_checkout BOOLEAN, purchase BOOLEAN,
  events BIGINT)
"""
PURCHASES_DDL = """
CREATE TEMP TABLE raw_ga4_purchases (
  _fidx INTEGER, _row BIGINT, event_date DATE, ts BIGINT, user_pseudo_id VARCHAR,
  user_id VARCHAR, session_id VARCHAR, channel VARCHAR, country VARCHAR, device VARCHAR,
  transaction_id VARCHAR, revenue DOUBLE, tax DOUBLE, shipping DOUBLE, coupon VARCHAR,
  items STRUCT(item_id VARCHAR, item_name VARCHAR, item_category VARCHAR, price DOUBLE,
               quantity DOUBLE, revenue DOUBLE)[])
"""


def read_file(con: duckdb.DuckDBPyConnection, file: str, fidx: int, timezone: str,
               summary: ImportSummary) -> None:
    types = _describe(con, file)
    r = Reader(file, types)
    src = f"read_parquet({sql_str(file)}, file_row_number = true)"
    try:
        n = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        if n == 0:
            raise InputError("has no events (0 rows)", Location(file),
                             fix="export the day again; a GA4 daily table is never empty")
        _check_values(con, r, src)
        proj = _projection(r, fidx, timezone)
        name = typed_sql(r.sources["event_name"], "VARCHAR")
        events = f"(SELECT {proj} FROM {src})"
        purchases = f"(SELECT {proj} FROM {src} WHERE {name} = 'purchase')"
        at = "{'t': ts, 'f': _fidx, 'r': _row}"
        dims = ", ".join(
            f"arg_min({d}, {at}) FILTER (WHERE {d} <> '{NOT_SET}'), "
            f"min({at}) FILTER (WHERE {d} <> '{NOT_SET}')"
            for d in ("channel", "country", "device")
        )
        # A purchase counts in the funnel only when it can become an order.
        funnel = ", ".join(
            f"bool_or(event_name_ = '{e}'"
            + (f" AND coalesce(transaction_id, '{NOT_SET}') <> '{NOT_SET}')" if e == "purchase"
               else ")")
            for e in FUNNEL
        )
        con.execute(
            f"INSERT INTO raw_ga4_sessions SELECT {fidx}, min(_row), event_date, user_pseudo_id, "
            f"session_id, {dims}, {funnel}, count(*) FROM {events} "
            "WHERE user_pseudo_id IS NOT NULL AND session_id IS NOT NULL "
            "GROUP BY event_date, user_pseudo_id, session_id"
        )
        in_sessions = con.execute(
            "SELECT coalesce(sum(events), 0) FROM raw_ga4_sessions WHERE _fidx = ?", [fidx]
        ).fetchone()[0]
        no_session = n - in_sessions
        con.execute(
            "INSERT INTO raw_ga4_purchases SELECT _fidx, _row, event_date, ts, user_pseudo_id, "
            "user_id, session_id, channel, country, device, transaction_id, revenue, tax, "
            f"shipping, coupon, items_ FROM {purchases}"
        )
    except InputError:
        raise
    except duckdb.FatalException:
        raise
    except (duckdb.Error, UnicodeDecodeError) as exc:
        # A file whose schema looked right but whose data DuckDB cannot read (damaged
        # pages, values out of range for their type, ...).
        raise InputError(
            f"cannot read the {FMT} data: {first_line(exc)}",
            Location(file),
            fix=FIX_EXPORT,
        ) from exc
    summary.rows_read += n
    if no_session:
        summary.skipped[SKIP_NO_SESSION] = summary.skipped.get(SKIP_NO_SESSION, 0) + no_session


