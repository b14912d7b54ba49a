"""GA4 BigQuery export: daily ``events_YYYYMMDD`` tables as Parquet (files or a folder).

One row of the export is one event, with nested ``event_params`` (key/value structs),
``items`` (a list of structs) and the ``ecommerce``, ``device``, ``geo`` and
``traffic_source`` structs. Everything happens in DuckDB, one file at a time, so an export
of any size goes through in bounded memory: per file, events are folded into one row per
session and day, and only ``purchase`` events are kept whole.

Rules (documented in docs/importers.md, section "ga4"):

* **Sessions** are distinct ``(user_pseudo_id, ga_session_id)`` pairs, counted on each
  ``event_date`` on which they have events (a session crossing midnight counts on both
  days, as GA4's own BigQuery recipes do). Events without ``user_pseudo_id`` or
  ``ga_session_id`` (consent-mode pings) cannot be put in a session: they are left out of
  ``traffic`` and counted in ``summary.skipped``.
* **Dates**: ``event_date`` is already the property's local date and is used as it is;
  ``timezone`` is only used for an event whose ``event_date`` is empty (its
  ``event_timestamp`` is then converted to that zone).
* **Channel / country / device** of a session: the first non-empty value among its events
  that day (by ``event_timestamp``). Channel comes from the ``traffic_source`` struct
  (``medium``, ``source``) — see :func:`channel_sql`; country is ``geo.country``; device is
  ``device.category``. Missing values are ``(not set)``. An order takes the dimensions of
  the session its purchase event belongs to, so orders and traffic line up.
* **Funnel**: sessions with at least one ``view_item``, ``add_to_cart``,
  ``begin_checkout`` or ``purchase`` event; a purchase event counts only when it has a
  transaction id (the skipped ones are skipped here too), so ``purchases`` matches the
  sessions the orders come from.
* **Orders**: one per ``ecommerce.transaction_id`` among ``purchase`` events. Repeated
  purchase events of one transaction (page reloads) keep the first by
  ``event_timestamp`` (then file and row); the others are counted as skipped. Purchases
  without a transaction id (NULL, empty or ``(not set)``) are skipped and counted.
  ``order_id`` = transaction id, ``customer_id`` = ``user_id`` when set, else
  ``user_pseudo_id``. Money is GA4's ``*_in_usd`` fields, currency USD:
  ``gross_sales`` = ``purchase_revenue_in_usd`` (GA4's "purchase revenue", which in this
  export excludes tax: it equals the items' revenue; NULL counts as 0 and is noted),
  ``tax`` = ``tax_value_in_usd``, ``shipping`` = ``shipping_value_in_usd`` (NULL → 0),
  ``total`` = revenue + shipping + tax, ``discounts`` = ``returns`` = 0, status
  ``placed``; zero-revenue purchases are kept. ``coupon`` is the purchase's ``coupon``
  event parameter.
* **Order lines**: the kept purchases' items, in their order; ``(not set)`` placeholder
  items (no id and no name) are dropped only when they carry no revenue (counted).
  ``quantity`` NULL means 1 (GA4's default); ``unit_price`` = ``price_in_usd``, else
  ``item_revenue_in_usd / quantity``, else 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from .. import schema
from ..errors import InputError, Location
from ..workspace import ImportSummary, ProgressFn
from .base import _first_line, check_file, check_timezone, sql_str

NOT_SET = schema.NOT_SET
FMT = "GA4 BigQuery export"
FIX_EXPORT = ("pass the daily events_YYYYMMDD tables of a GA4 BigQuery export as Parquet "
              "(bq extract --destination_format=PARQUET <dataset>.events_YYYYMMDD ...)")

SKIP_DUPLICATE = "duplicate purchase event (same transaction_id)"
SKIP_NO_TRANSACTION = "purchase event without transaction_id (NULL, empty or '(not set)')"
SKIP_PLACEHOLDER = "'(not set)' placeholder item without revenue"
SKIP_NO_SESSION = "event without user_pseudo_id or ga_session_id (left out of traffic)"

FUNNEL = ("view_item", "add_to_cart", "begin_checkout", "purchase")
FUNNEL_COLUMNS = ("view_item", "add_to_cart", "begin_checkout", "purchases")  # traffic table

#: medium (lower case) -> channel. ``(none)`` or source ``(direct)`` is direct; empty,
#: ``(not set)`` and ``(data deleted)`` are unknown; any other medium (incl. the sample's
#: obfuscated ``<Other>``) is ``other``.
CHANNELS: dict[str, tuple[str, ...]] = {
    "direct": ("(none)", "none", "direct"),
    "organic": ("organic",),
    "cpc": ("cpc", "ppc", "paidsearch", "paid_search", "paid search", "paid-search"),
    "referral": ("referral",),
    "email": ("email", "e-mail", "e_mail", "e mail", "newsletter"),
    "affiliate": ("affiliate", "affiliates"),
    "display": ("display", "cpm", "banner", "interstitial", "expandable"),
    "social": ("social", "social-network", "social-media", "sm", "social network",
               "social media", "organic_social", "paid_social"),
}
UNKNOWN_MEDIUMS = ("", "(not set)", "(data deleted)")


# -- the columns we read ---------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    path: tuple[str, ...]  # inside the event row (or inside a list element)
    target: str  # DuckDB type wanted; "DATE8" = GA4's YYYYMMDD text
    required: bool = True

    @property
    def label(self) -> str:
        return ".".join(self.path)


EVENT_FIELDS = {
    "event_date": Field(("event_date",), "DATE8"),
    "event_timestamp": Field(("event_timestamp",), "BIGINT"),
    "event_name": Field(("event_name",), "VARCHAR"),
    "user_pseudo_id": Field(("user_pseudo_id",), "VARCHAR"),
    "user_id": Field(("user_id",), "VARCHAR", required=False),
    "medium": Field(("traffic_source", "medium"), "VARCHAR"),
    "source": Field(("traffic_source", "source"), "VARCHAR"),
    "country": Field(("geo", "country"), "VARCHAR"),
    "device": Field(("device", "category"), "VARCHAR"),
    "transaction_id": Field(("ecommerce", "transaction_id"), "VARCHAR"),
    "revenue": Field(("ecommerce", "purchase_revenue_in_usd"), "DOUBLE"),
    "tax": Field(("ecommerce", "tax_value_in_usd"), "DOUBLE", required=False),
    "shipping": Field(("ecommerce", "shipping_value_in_usd"), "DOUBLE", required=False),
}
PARAM_FIELDS = {
    "key": Field(("key",), "VARCHAR"),
    "string_value": Field(("value", "string_value"), "VARCHAR"),
    "int_value": Field(("value", "int_value"), "BIGINT"),
}
ITEM_FIELDS = {
    "item_id": Field(("item_id",), "VARCHAR"),
    "item_name": Field(("item_name",), "VARCHAR", required=False),
    "item_category": Field(("item_category",), "VARCHAR", required=False),
    "price": Field(("price_in_usd",), "DOUBLE"),
    "quantity": Field(("quantity",), "DOUBLE"),
    "revenue": Field(("item_revenue_in_usd",), "DOUBLE", required=False),
}
GA4_MARKERS = ("event_date", "event_timestamp", "event_name", "user_pseudo_id", "event_params")

_NESTED = {"struct", "list", "map", "union", "array"}
_SAME = {  # source type ids that need no value check for a target
    "VARCHAR": {"varchar"},
    "BIGINT": {"bigint", "integer", "smallint", "tinyint", "ubigint", "uinteger",
               "usmallint", "utinyint"},
    "DOUBLE": {"double", "float", "bigint", "integer", "smallint", "tinyint", "decimal",
               "hugeint"},
    "DATE8": {"date"},
}


@dataclass(frozen=True)
class _Type:
    """A column type as plain Python (DuckDB's type objects are read once, under a guard)."""

    id: str
    text: str
    children: tuple[tuple[str, _Type], ...] = ()

    def __str__(self) -> str:
        return self.text

    @classmethod
    def of(cls, t: duckdb.typing.DuckDBPyType) -> _Type:
        kids = tuple((n, cls.of(c)) for n, c in t.children) if t.id in _NESTED else ()
        return cls(t.id, str(t), kids)


def _child(typ: _Type, name: str):
    if typ.id != "struct":
        return None
    for child_name, child in typ.children:
        if child_name == name:
            return child
    return None


def _resolve(typ, path: tuple[str, ...], file: str, prefix: str, required: bool):
    """The type at ``path`` inside ``typ``; None when an optional field is absent.

    Raises when a level on the way is not a struct, or a required field is missing.
    """
    done: list[str] = [prefix] if prefix else []
    for part in path:
        if typ.id != "struct":
            raise _type_error(file, ".".join(done), typ, "a struct")
        nxt = _child(typ, part)
        done.append(part)
        if nxt is None:
            if required:
                raise _missing(file, ".".join(done))
            return None
        typ = nxt
    if typ.id in _NESTED:
        raise _type_error(file, ".".join(done), typ, "a single value")
    return typ


def _missing(file: str, label: str) -> InputError:
    return InputError(
        f"missing column {label!r} expected in a {FMT}",
        Location(file, None, label),
        fix=FIX_EXPORT,
    )


def _type_error(file: str, label: str, typ, wanted: str) -> InputError:
    return InputError(
        f"column {label!r} has type {typ}, expected {wanted} as in a {FMT}",
        Location(file, None, label),
        fix=FIX_EXPORT,
    )


class _Reader:
    """SQL expressions for one file, after checking its schema."""

    def __init__(self, file: str, types: dict[str, _Type]) -> None:
        self.file = file
        self.types = types
        missing = [c for c in GA4_MARKERS if c not in types]
        if len(missing) >= 3:
            raise InputError(
                f"is not a {FMT}: missing the GA4 columns {', '.join(map(repr, missing))} "
                f"(it has {', '.join(list(types)[:6])}{', ...' if len(types) > 6 else ''})",
                Location(file, None, missing[0]),
                fix=FIX_EXPORT + ", or use --format generic for other order files",
            )
        self.sources: dict[str, tuple[str, object] | None] = {}
        for key, f in EVENT_FIELDS.items():
            self.sources[key] = self._top(f)
        self.params = self._list("event_params", PARAM_FIELDS, "a list of key/value structs")
        self.items = self._list("items", ITEM_FIELDS, "a list of item structs")

    def _top(self, f: Field):
        root = f.path[0]
        if root not in self.types:
            if f.required:
                raise _missing(self.file, root)
            return None
        typ = _resolve(self.types[root], f.path[1:], self.file, root, f.required)
        if typ is None:
            return None
        return ".".join(f'"{p}"' for p in f.path), typ

    def _list(self, col: str, fields: dict[str, Field], wanted: str):
        if col not in self.types:
            raise _missing(self.file, col)
        typ = self.types[col]
        if typ.id != "list" or typ.children[0][1].id != "struct":
            raise _type_error(self.file, col, typ, wanted)
        elem = typ.children[0][1]
        out: dict[str, tuple[str, object] | None] = {}
        for key, f in fields.items():
            sub = _resolve(elem, f.path, self.file, col, f.required)
            out[key] = None if sub is None else (".".join(f'"{p}"' for p in f.path), sub)
        return out


def _typed(src: tuple[str, object] | None, target: str, prefix: str = "") -> str:
    """SQL turning a source expression into ``target`` (NULL when it does not convert)."""
    if src is None:
        return "NULL"
    expr = f"{prefix}{src[0]}"
    if target == "DATE8":
        if src[1].id == "date":
            return expr
        text = f"trim(CAST({expr} AS VARCHAR))"
        return (f"CASE WHEN regexp_full_match({text}, '[0-9]{{8}}') "
                f"THEN CAST(try_strptime({text}, '%Y%m%d') AS DATE) "
                f"ELSE TRY_CAST({text} AS DATE) END")
    if src[1].id in _SAME[target] and target != "VARCHAR":
        return f"CAST({expr} AS {target})"
    if target == "VARCHAR":
        return f"CAST({expr} AS VARCHAR)"
    return f"TRY_CAST(nullif(trim(CAST({expr} AS VARCHAR)), '') AS {target})"


def _bad(src: tuple[str, object] | None, target: str, prefix: str = "") -> str | None:
    """SQL that is true on a row whose value is present but does not convert."""
    if src is None or target == "VARCHAR" or src[1].id in _SAME[target]:
        return None
    expr = f"{prefix}{src[0]}"
    return (f"(nullif(trim(CAST({expr} AS VARCHAR)), '') IS NOT NULL "
            f"AND ({_typed(src, target, prefix)}) IS NULL)")


def _norm(expr: str) -> str:
    return (f"coalesce(CASE WHEN trim({expr}) IN ('', '{NOT_SET}') THEN NULL "
            f"ELSE trim({expr}) END, '{NOT_SET}')")


def channel_sql(medium: str, source: str) -> str:
    """SQL for the channel of a ``traffic_source`` medium and source (see CHANNELS)."""
    m = f"lower(trim(coalesce({medium}, '')))"
    s = f"lower(trim(coalesce({source}, '')))"
    unknown = ", ".join(sql_str(v) for v in UNKNOWN_MEDIUMS)
    whens = [f"WHEN {m} IN ('(none)', 'none', 'direct') OR {s} = '(direct)' THEN 'direct'",
             f"WHEN {m} IN ({unknown}) THEN '{NOT_SET}'"]
    for channel, mediums in CHANNELS.items():
        if channel != "direct":
            whens.append(f"WHEN {m} IN ({', '.join(sql_str(v) for v in mediums)}) "
                         f"THEN '{channel}'")
    return "CASE " + " ".join(whens) + " ELSE 'other' END"


# -- reading one file ------------------------------------------------------------------------
def _describe(con: duckdb.DuckDBPyConnection, file: str) -> dict[str, _Type]:
    src = f"read_parquet({sql_str(file)})"
    try:
        rel = con.sql(f"SELECT * FROM {src} LIMIT 0")
        types = {name: _Type.of(t) for name, t in zip(rel.columns, rel.types, strict=True)}
    except (duckdb.Error, UnicodeDecodeError) as exc:  # damaged files can garble names
        raise InputError(
            f"cannot be read as Parquet: {_first_line(exc)}",
            Location(file),
            fix=FIX_EXPORT + "; CSV, JSON or Avro extracts are not supported",
        ) from exc
    return types


def _projection(r: _Reader, fidx: int, timezone: str) -> str:
    """SELECT list of one typed, flattened row per event."""
    s = r.sources
    ts = _typed(s["event_timestamp"], "BIGINT")
    date = _typed(s["event_date"], "DATE8")
    p = r.params

    def param(key: str, field: str, target: str) -> str:
        inner = _typed(p[field], target, "x.")
        return f"[{inner} FOR x IN event_params IF CAST(x.{p['key'][0]} AS VARCHAR) = '{key}'][1]"

    session = (f"coalesce(CAST({param('ga_session_id', 'int_value', 'BIGINT')} AS VARCHAR), "
               f"nullif(trim({param('ga_session_id', 'string_value', 'VARCHAR')}), ''))")
    it = r.items

    def item(key: str, target: str) -> str:
        return _typed(it[key], target, "i.")

    items = (
        "CASE WHEN event_name_ = 'purchase' THEN "
        f"[{{'item_id': {item('item_id', 'VARCHAR')}, 'item_name': {item('item_name', 'VARCHAR')}, "
        f"'item_category': {item('item_category', 'VARCHAR')}, 'price': {item('price', 'DOUBLE')}, "
        f"'quantity': {item('quantity', 'DOUBLE')}, 'revenue': {item('revenue', 'DOUBLE')}}} "
        "FOR i IN items] END"
    )
    uid = _typed(s["user_id"], "VARCHAR")
    return f"""
        {fidx} AS _fidx, CAST(file_row_number + 1 AS BIGINT) AS _row,
        coalesce({date}, CAST(timezone({sql_str(timezone)},
            timezone('UTC', make_timestamp({ts}))) AS DATE)) AS event_date,
        {ts} AS ts,
        {_typed(s['event_name'], 'VARCHAR')} AS event_name_,
        nullif(trim({_typed(s['user_pseudo_id'], 'VARCHAR')}), '') AS user_pseudo_id,
        nullif(trim({uid}), '') AS user_id,
        {session} AS session_id,
        {channel_sql(_typed(s['medium'], 'VARCHAR'), _typed(s['source'], 'VARCHAR'))} AS channel,
        {_norm(_typed(s['country'], 'VARCHAR'))} AS country,
        lower({_norm(_typed(s['device'], 'VARCHAR'))}) AS device,
        nullif(trim({_typed(s['transaction_id'], 'VARCHAR')}), '') AS transaction_id,
        {_typed(s['revenue'], 'DOUBLE')} AS revenue,
        {_typed(s['tax'], 'DOUBLE')} AS tax,
        {_typed(s['shipping'], 'DOUBLE')} AS shipping,
        nullif(trim({param('coupon', 'string_value', 'VARCHAR')}), '') AS coupon,
        {items} AS items_
    """


def _check_values(con: duckdb.DuckDBPyConnection, r: _Reader, src: str) -> None:
    """Raise on the first row holding a value the importer cannot read (one scan)."""
    s = r.sources
    ts = _typed(s["event_timestamp"], "BIGINT")
    checks: list[tuple[str, str, str, str, str]] = []  # column, bad-if, value, problem, fix

    def add(key: str, target: str, fix: str) -> None:
        bad = _bad(s[key], target)
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
        "event_name", f"nullif(trim({_typed(s['event_name'], 'VARCHAR')}), '') IS NULL",
        "NULL", "event_name is required on every event",
        "export the table again; GA4 names every event"))
    for key in ("revenue", "tax", "shipping"):
        add(key, "DOUBLE", "money fields must be plain decimal numbers")
    for key, f in PARAM_FIELDS.items():
        bad = _bad(r.params[key], f.target, "x.")
        if bad:
            checks.append((f"event_params.{f.label}",
                           f"len([1 FOR x IN event_params IF {bad}]) > 0",
                           f"CAST([x FOR x IN event_params IF {bad}][1] AS VARCHAR)",
                           f"cannot read an event parameter value as {_WORDS[f.target]}",
                           "event_params values must be typed as in the GA4 export schema"))
    for key, f in ITEM_FIELDS.items():
        bad = _bad(r.items[key], f.target, "i.")
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


_SESSIONS_DDL = """
CREATE TEMP TABLE raw_ga4_sessions (
  _fidx INTEGER, _row BIGINT, event_date DATE, user_pseudo_id VARCHAR, session_id VARCHAR,
  channel VARCHAR, channel_at STRUCT(t BIGINT, f INTEGER, r BIGINT),
  country VARCHAR, country_at STRUCT(t BIGINT, f INTEGER, r BIGINT),
  device VARCHAR, device_at STRUCT(t BIGINT, f INTEGER, r BIGINT),
  view_item BOOLEAN, add_to_cart BOOLEAN, begin_checkout BOOLEAN, purchase BOOLEAN,
  events BIGINT)
"""
_PURCHASES_DDL = """
CREATE TEMP TABLE raw_ga4_purchases (
  _fidx INTEGER, _row BIGINT, event_date DATE, ts BIGINT, user_pseudo_id VARCHAR,
  user_id VARCHAR, session_id VARCHAR, channel VARCHAR, country VARCHAR, device VARCHAR,
  transaction_id VARCHAR, revenue DOUBLE, tax DOUBLE, shipping DOUBLE, coupon VARCHAR,
  items STRUCT(item_id VARCHAR, item_name VARCHAR, item_category VARCHAR, price DOUBLE,
               quantity DOUBLE, revenue DOUBLE)[])
"""


def _read_file(con: duckdb.DuckDBPyConnection, file: str, fidx: int, timezone: str,
               summary: ImportSummary) -> None:
    types = _describe(con, file)
    r = _Reader(file, types)
    src = f"read_parquet({sql_str(file)}, file_row_number = true)"
    try:
        n = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        if n == 0:
            raise InputError("has no events (0 rows)", Location(file),
                             fix="export the day again; a GA4 daily table is never empty")
        _check_values(con, r, src)
        proj = _projection(r, fidx, timezone)
        name = _typed(r.sources["event_name"], "VARCHAR")
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
            f"cannot read the {FMT} data: {_first_line(exc)}",
            Location(file),
            fix=FIX_EXPORT,
        ) from exc
    summary.rows_read += n
    if no_session:
        summary.skipped[SKIP_NO_SESSION] = summary.skipped.get(SKIP_NO_SESSION, 0) + no_session


# -- staging ---------------------------------------------------------------------------------
def stage(
    con: duckdb.DuckDBPyConnection,
    summary: ImportSummary,
    progress: ProgressFn,
    *paths: str,
    timezone: str = "UTC",
) -> None:
    # Other options (a currency, say) are refused by aovlab.importers.import_files: GA4
    # money is always USD and dates come from event_date.
    if not paths:
        raise InputError("no GA4 export files given", Location("(none)"),
                         fix="pass one or more events_YYYYMMDD.parquet files")
    expanded: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(q for q in p.iterdir() if q.suffix.lower() == ".parquet")
            if not inside:
                raise InputError("folder holds no .parquet files", Location(str(p)),
                                 fix="pass the events_YYYYMMDD.parquet files, or their folder")
            expanded.extend(inside)
        else:
            expanded.append(p)
    files: list[str] = []
    for p in expanded:
        f = str(check_file(p, "GA4 export file"))
        if any(Path(f).resolve() == Path(g).resolve() for g in files):
            summary.notes.append(f"{f} was given twice; read once")
            continue
        files.append(f)
    timezone = check_timezone(con, timezone or "UTC", files[0])

    con.execute(_SESSIONS_DDL)
    con.execute(_PURCHASES_DDL)
    con.execute("CREATE TEMP TABLE raw_ga4_files (_fidx INTEGER, _file VARCHAR)")
    for fidx, file in enumerate(files):
        progress(f"reading {file}")
        con.execute("INSERT INTO raw_ga4_files VALUES (?, ?)", [fidx, file])
        _read_file(con, file, fidx, timezone, summary)

    progress("building sessions")
    _stage_traffic(con)
    progress("building orders")
    _stage_orders(con, summary)


def _stage_traffic(con: duckdb.DuckDBPyConnection) -> None:
    # Re-fold the per-file session rows: a session-day may (rarely) span files.
    dims = ", ".join(
        f"coalesce(arg_min({d}, {d}_at) FILTER (WHERE {d} IS NOT NULL), '{NOT_SET}') AS {d}"
        for d in ("channel", "country", "device")
    )
    funnel = ", ".join(f"bool_or({e}) AS {e}" for e in FUNNEL)
    con.execute(
        f"""
        CREATE TEMP TABLE raw_ga4_session_days AS
        SELECT event_date, user_pseudo_id, session_id, {dims}, {funnel},
               min({{'f': _fidx, 'r': _row}}) AS _first
        FROM raw_ga4_sessions GROUP BY event_date, user_pseudo_id, session_id
        """
    )
    counts = ", ".join(f"count(*) FILTER (WHERE {e}) AS {col}"
                       for e, col in zip(FUNNEL, FUNNEL_COLUMNS, strict=True))
    con.execute(
        f"""
        CREATE TEMP TABLE stage_traffic AS
        SELECT f._file, t._row, t.date, t.channel, t.country, t.device, t.sessions,
               t.visitors, t.view_item, t.add_to_cart, t.begin_checkout, t.purchases
        FROM (
            SELECT struct_extract(min(_first), 'f') AS _fidx,
                   struct_extract(min(_first), 'r') AS _row, event_date AS date,
                   channel, country, device, count(*) AS sessions,
                   count(*) FILTER (WHERE first_of_day) AS visitors, {counts}
            FROM (
                -- A visitor counts once a day, in the row of their first session, so that
                -- visitors add up across channels, countries and devices within a day.
                SELECT *, row_number() OVER (PARTITION BY event_date, user_pseudo_id
                                             ORDER BY _first) = 1 AS first_of_day
                FROM raw_ga4_session_days
            ) GROUP BY event_date, channel, country, device
        ) t JOIN raw_ga4_files f USING (_fidx)
        """
    )


def _stage_orders(con: duckdb.DuckDBPyConnection, summary: ImportSummary) -> None:
    no_id, dup = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE transaction_id IS NULL OR transaction_id = '{NOT_SET}'),
               count(*) FILTER (WHERE transaction_id IS NOT NULL
                                AND transaction_id <> '{NOT_SET}')
                 - count(DISTINCT transaction_id) FILTER (WHERE transaction_id <> '{NOT_SET}')
        FROM raw_ga4_purchases
        """
    ).fetchone()
    if no_id:
        summary.skipped[SKIP_NO_TRANSACTION] = no_id
    if dup:
        summary.skipped[SKIP_DUPLICATE] = dup
    con.execute(
        f"""
        CREATE TEMP TABLE raw_ga4_kept AS
        SELECT * EXCLUDE (_k, _coupon) REPLACE (_coupon AS coupon) FROM (
            SELECT *, row_number() OVER w AS _k,
                   first_value(coupon IGNORE NULLS) OVER (
                       w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS _coupon
            FROM raw_ga4_purchases
            WHERE transaction_id IS NOT NULL AND transaction_id <> '{NOT_SET}'
            WINDOW w AS (PARTITION BY transaction_id ORDER BY ts, _fidx, _row)
        ) WHERE _k = 1
        """
    )
    null_revenue = con.execute(
        "SELECT count(*) FROM raw_ga4_kept WHERE revenue IS NULL").fetchone()[0]
    if null_revenue:
        summary.notes.append(f"{null_revenue} purchases have no purchase_revenue_in_usd; "
                             "imported with revenue 0")
    placeholder = (f"coalesce(nullif(trim(it.item_id), ''), '{NOT_SET}') = '{NOT_SET}' AND "
                   f"coalesce(nullif(trim(it.item_name), ''), '{NOT_SET}') = '{NOT_SET}'")
    no_revenue = "coalesce(it.revenue, 0) = 0 AND coalesce(it.price, 0) = 0"
    con.execute(
        f"""
        CREATE TEMP TABLE raw_ga4_items AS
        SELECT _fidx, _row, transaction_id, idx, it,
               ({placeholder}) AND ({no_revenue}) AS _drop
        FROM (SELECT _fidx, _row, transaction_id, unnest(items) AS it,
                     unnest(generate_series(1, len(items))) AS idx
              FROM raw_ga4_kept WHERE len(items) > 0)
        """
    )
    dropped = con.execute("SELECT count(*) FROM raw_ga4_items WHERE _drop").fetchone()[0]
    if dropped:
        summary.skipped[SKIP_PLACEHOLDER] = dropped

    def text(expr: str) -> str:
        return f"CASE WHEN trim({expr}) IN ('', '{NOT_SET}') THEN NULL ELSE {expr} END"

    con.execute(
        f"""
        CREATE TEMP TABLE stage_order_lines AS
        SELECT f._file, i._row, i.transaction_id AS order_id,
               CAST(row_number() OVER (PARTITION BY i.transaction_id ORDER BY i.idx)
                    AS INTEGER) AS line_no,
               'product' AS line_type,
               {text('i.it.item_id')} AS product_id,
               {text('i.it.item_name')} AS name,
               {text('i.it.item_category')} AS category,
               coalesce(i.it.quantity, 1.0) AS quantity,
               coalesce(i.it.price, i.it.revenue / nullif(coalesce(i.it.quantity, 1.0), 0),
                        0.0) AS unit_price,
               CAST(NULL AS DOUBLE) AS unit_cost,
               0.0 AS line_discount
        FROM raw_ga4_items i JOIN raw_ga4_files f USING (_fidx)
        WHERE NOT i._drop
        """
    )
    con.execute(
        """
        CREATE TEMP TABLE stage_orders AS
        SELECT f._file, p._row, p.transaction_id AS order_id, 'ga4' AS source,
               coalesce(p.user_id, p.user_pseudo_id) AS customer_id,
               timezone('UTC', make_timestamp(p.ts)) AS created_at,
               p.event_date AS order_date,
               coalesce(s.channel, p.channel) AS channel,
               coalesce(s.country, p.country) AS country,
               coalesce(s.device, p.device) AS device,
               'USD' AS currency,
               coalesce(p.revenue, 0.0) AS gross_sales,
               0.0 AS discounts,
               coalesce(p.shipping, 0.0) AS shipping,
               coalesce(p.tax, 0.0) AS tax,
               0.0 AS returns,
               -- what the customer paid: GA4's purchase revenue excludes tax and shipping
               coalesce(p.revenue, 0.0) + coalesce(p.shipping, 0.0) + coalesce(p.tax, 0.0)
                   AS total,
               CAST(NULL AS DOUBLE) AS cost,
               l.units,
               'placed' AS status,
               p.coupon
        FROM raw_ga4_kept p
        JOIN raw_ga4_files f USING (_fidx)
        LEFT JOIN raw_ga4_session_days s
          ON s.event_date = p.event_date AND s.user_pseudo_id = p.user_pseudo_id
         AND s.session_id = p.session_id
        LEFT JOIN (SELECT order_id, sum(quantity) AS units FROM stage_order_lines
                   GROUP BY order_id) l ON l.order_id = p.transaction_id
        """
    )
