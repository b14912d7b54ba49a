"""The GA4 export's columns: which are read, their types, and SQL to read them safely."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ... import schema
from ...errors import InputError, Location
from ..reading import sql_str, try_number

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

NESTED = {"struct", "list", "map", "union", "array"}
_SAME = {  # source type ids that need no value check for a target
    "VARCHAR": {"varchar"},
    "BIGINT": {"bigint", "integer", "smallint", "tinyint", "ubigint", "uinteger",
               "usmallint", "utinyint"},
    "DOUBLE": {"double", "float", "bigint", "integer", "smallint", "tinyint", "decimal",
               "hugeint"},
    "DATE8": {"date"},
}


@dataclass(frozen=True)
class ColumnType:
    """A column type as plain Python (DuckDB's type objects are read once, under a guard)."""

    id: str
    text: str
    children: tuple[tuple[str, ColumnType], ...] = ()

    def __str__(self) -> str:
        return self.text

    @classmethod
    def of(cls, t: duckdb.typing.DuckDBPyType) -> ColumnType:
        kids = tuple((n, cls.of(c)) for n, c in t.children) if t.id in NESTED else ()
        return cls(t.id, str(t), kids)


def _child(typ: ColumnType, name: str):
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
    if typ.id in NESTED:
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


class Reader:
    """SQL expressions for one file, after checking its schema."""

    def __init__(self, file: str, types: dict[str, ColumnType]) -> None:
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


def typed_sql(src: tuple[str, object] | None, target: str, prefix: str = "") -> str:
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
    text = f"nullif(trim(CAST({expr} AS VARCHAR)), '')"
    return try_number(text, target) if target in ("DOUBLE", "BIGINT", "INTEGER") else \
        f"TRY_CAST({text} AS {target})"


def bad_sql(src: tuple[str, object] | None, target: str, prefix: str = "") -> str | None:
    """SQL that is true on a row whose value is present but does not convert."""
    if src is None or target == "VARCHAR" or src[1].id in _SAME[target]:
        return None
    expr = f"{prefix}{src[0]}"
    return (f"(nullif(trim(CAST({expr} AS VARCHAR)), '') IS NOT NULL "
            f"AND ({typed_sql(src, target, prefix)}) IS NULL)")


def norm_sql(expr: str) -> str:
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


